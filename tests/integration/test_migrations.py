"""Migrations: recorded once each, and a second run applies nothing."""
import os
import subprocess
import unittest
import uuid

import harness as h


def admin(*args):
    return subprocess.run([os.path.join(h.BIN, "synkronus-admin"), "--config",
                           os.path.join(h.STATE, "synkronus.conf"), *args],
                          capture_output=True, text=True)


class Migrations(unittest.TestCase):
    def test_every_file_is_recorded_once(self):
        files = sorted(f for f in os.listdir(os.path.join(h.REPO, "sql")) if f.endswith(".sql"))
        rows = h.sql("SELECT name FROM schema_migrations ORDER BY version")
        self.assertEqual([r[0] for r in rows], files)

    def test_running_again_changes_nothing(self):
        before = h.sql("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version")
        tables = h.sql("SHOW TABLES")
        r = admin("migrate")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("0 migration(s) applied", r.stdout)
        self.assertEqual(h.sql("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version"), before)
        self.assertEqual(h.sql("SHOW TABLES"), tables)
        # The service still answers after a migrate run against the live database.
        self.assertEqual(h.request("GET", "/health").status, 200)

    def test_migrations_of_a_newer_release_are_refused_by_name(self):
        # A downgrade: the database was migrated by a release that knows more files.
        before = h.sql("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version")
        newest = sorted(f for f in os.listdir(os.path.join(h.REPO, "sql")) if f.endswith(".sql"))[-1]
        h.sql("INSERT INTO schema_migrations VALUES (9998, '9998_from_a_newer_release.sql', REPEAT('0', 64), UTC_TIMESTAMP()),"
              " (9999, '9999_also_newer.sql', REPEAT('0', 64), UTC_TIMESTAMP())")
        try:
            r = admin("migrate")
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertIn("does not know: 9998_from_a_newer_release.sql, 9999_also_newer.sql", r.stderr)
            self.assertIn("the newest it knows is " + newest, r.stderr)
            self.assertIn("downgrade", r.stderr)
            self.assertNotIn("applied", r.stdout)
        finally:
            h.sql("DELETE FROM schema_migrations WHERE version IN (9998, 9999)")
        self.assertEqual(h.sql("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version"), before)
        r = admin("migrate")
        self.assertEqual(r.returncode, 0, r.stderr)



class ReferenceBackfill(unittest.TestCase):
    """Migration 007 finds the attachment references of the records stored before it,
    in bounded batches, and can be run again after an interruption."""

    def test_upgrade_backfills_references_of_live_records(self):
        # The lease's own migration (010) runs before any other, in every release that
        # has it; the rest stops before 007.
        with h.ScratchDatabase("up", lambda f: h.migration_number(f) < 7 or f == "010_job_leases.sql") as scratch:
            db = scratch.name
            scratch.migrate()  # the schema before 007
            # 1,203 records (three batches and a bit): every third names a photo, every
            # seventh is a tombstone (names nothing), one names two and a plain word.
            rows, expected = [], set()
            for i in range(1203):
                rid = "rec-%05d" % i
                photo = "%s.jpg" % uuid.UUID(int=i)
                data = '{"photo":"%s","n":%d}' % (photo, i) if i % 3 == 0 else '{"n":%d}' % i
                if i == 1:
                    data = '{"a":["x-1.png",{"b":"y-2.m4a"}],"c":"yes"}'
                deleted = 1 if i % 7 == 0 else 0
                if not deleted:
                    if i % 3 == 0:
                        expected.add((photo, rid))
                    if i == 1:
                        expected |= {("x-1.png", rid), ("y-2.m4a", rid)}
                rows.append("('%s','t','1','%s','%s',%d,%d,UTC_TIMESTAMP(3),'u','c')" % (rid, data, "0" * 64, deleted, i + 1))
            for k in range(0, len(rows), 200):
                h.sql("USE %s; INSERT INTO sync_records (id, schema_type, schema_version, data, hash, deleted, "
                      "change_id, last_modified, last_modified_by, origin_client_id) VALUES %s"
                      % (db, ",".join(rows[k:k + 200])))

            scratch.add_all()
            self.assertIn("007_history_and_references.sql", scratch.migrate())
            got = {tuple(r) for r in h.sql("SELECT attachment_id, record_id FROM %s.attachment_refs" % db)}
            self.assertEqual(got, expected)

            # Cut short before it was recorded: the next run applies 007 again, in full.
            h.sql("DELETE FROM %s.schema_migrations WHERE version = 7; DELETE FROM %s.attachment_refs "
                  "WHERE record_id > 'rec-00600'" % (db, db))
            self.assertIn("007_history_and_references.sql", scratch.migrate())
            got = {tuple(r) for r in h.sql("SELECT attachment_id, record_id FROM %s.attachment_refs" % db)}
            self.assertEqual(got, expected)


if __name__ == "__main__":
    unittest.main()
