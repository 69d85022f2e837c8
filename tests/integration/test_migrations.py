"""Migrations: recorded once each, and a second run applies nothing."""
import os
import subprocess
import unittest

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


if __name__ == "__main__":
    unittest.main()
