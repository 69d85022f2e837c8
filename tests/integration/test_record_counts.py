"""The record counts of GET /admin/overview (issue 15): kept by every push in its own
transaction (record_counts, sql/011_record_counts.sql), they equal a fresh GROUP BY
over sync_records after pushes of every kind: inserts, updates, tombstones, revivals,
form type changes, conflicts, an id pushed twice, replayed and concurrent pushes, and
a migration run while pushes go on. The same for the live attachments' count and bytes
(attachment_totals, sql/012_attachment_totals.sql) after uploads and deletions of
every kind. The MariaDB SIGKILL case is in test_faults."""
import os
import random
import subprocess
import threading
import unittest
import uuid

import harness as h
import test_attachments as ta
import test_sync as ts


def group_by(db="synkronus"):
    """{(form_type, deleted): records} counted afresh from sync_records."""
    rows = h.sql(f"SELECT schema_type, deleted, COUNT(*) FROM {db}.sync_records GROUP BY schema_type, deleted")
    return {(t, int(d)): int(n) for t, d, n in rows}


def kept(db="synkronus"):
    """{(form_type, deleted): records} as record_counts holds them (rows at 0 left out)."""
    rows = h.sql(f"SELECT form_type, deleted, records FROM {db}.record_counts WHERE records <> 0")
    return {(t, int(d)): int(n) for t, d, n in rows}


def assert_counts_exact(testcase):
    testcase.assertEqual(kept(), group_by())


def attachment_totals(db="synkronus"):
    """(count, bytes) as attachment_totals holds them."""
    rows = h.sql(f"SELECT attachments, bytes FROM {db}.attachment_totals WHERE id = 1")
    return tuple(int(v) for v in rows[0]) if rows else None


def attachments_scanned(db="synkronus"):
    """(count, bytes) of the live attachments, counted afresh."""
    n, b = h.sql(f"SELECT COUNT(*), COALESCE(SUM(size), 0) FROM {db}.attachments WHERE deleted = 0")[0]
    return int(n), int(b)


def assert_attachment_totals_exact(testcase):
    testcase.assertEqual(attachment_totals(), attachments_scanned())


def run_clients(client, n):
    """Runs client(0) .. client(n - 1) in threads at once and waits for all of them."""
    threads = [threading.Thread(target=client, args=(k,)) for k in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(300)


def admin(method, path, body=None):
    return h.request(method, path, body, token=h.admin_token())


def fresh_overview(testcase):
    h.sql("DELETE FROM overview_cache")  # figures may be 10 s old: ask for them afresh
    r = admin("GET", "/admin/overview")
    testcase.assertEqual(r.status, 200, r)
    return r.json


class Counts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.token = h.token_for("read-write")

    def push_ok(self, records, tid=None):
        r = ts.push(self.token, records, tid=tid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["failed_records"], [])
        return r

    def test_every_kind_of_push_keeps_the_counts_exact(self):
        a, b = ts.utype("CountA"), ts.utype("CountB")
        ids = [ts.uid("c") for _ in range(6)]
        self.push_ok([ts.rec(i, a, {"n": k}) for k, i in enumerate(ids)])  # inserts
        assert_counts_exact(self)
        self.assertEqual(kept().get((a, 0)), 6)
        self.push_ok([ts.rec(ids[0], a, {"n": 100}), ts.rec(ids[1], a, {"n": 1}, deleted=True)])  # update, tombstone
        self.push_ok([ts.rec(ids[2], b, {"n": 2})])  # the record moves to another form type
        # A conflict: the client had seen another version; the push still wins.
        r = self.push_ok([ts.rec(ids[3], a, {"n": 3}, hash="0" * 64, deleted=True)])
        self.assertEqual([w["code"] for w in r.json["warnings"]], ["CONFLICT"])
        # One id twice in one push (the last wins), and a no-op (the stored state again).
        twice = ts.uid("c")
        self.push_ok([ts.rec(twice, a, {"n": 1}), ts.rec(twice, b, {"n": 1}, deleted=True),
                      ts.rec(ids[4], a, {"n": 4})])
        # A replayed push (same transmission_id, same body) applies nothing.
        tid = str(uuid.uuid4())
        body = [ts.rec(ts.uid("c"), b, {"n": 9})]
        first = self.push_ok(body, tid=tid)
        again = self.push_ok(body, tid=tid)
        self.assertEqual(again.body, first.body)
        # A revival: the tombstone comes back to life.
        self.push_ok([ts.rec(ids[1], a, {"n": 1})])
        self.assertEqual({k: v for k, v in kept().items() if k[0] in (a, b)},
                         {(a, 0): 4, (a, 1): 1, (b, 0): 2, (b, 1): 1})
        assert_counts_exact(self)

        # The overview shows them, and each form type's latest synced_at.
        o = fresh_overview(self)
        mine = {t["form_type"]: t for t in o["form_types"] if t["form_type"] in (a, b)}
        self.assertEqual({k: (v["records"], v["deleted"]) for k, v in mine.items()}, {a: (5, 1), b: (3, 1)})
        for t in (a, b):
            latest = h.sql("SELECT DATE_FORMAT(MAX(last_modified), '%Y-%m-%dT%H:%i:%s.%fZ') FROM sync_records "
                           f"WHERE schema_type = '{t}'")[0][0]
            self.assertEqual(mine[t]["last_synced_at"], latest, t)
        every = group_by()
        self.assertEqual(o["counts"]["records"], sum(every.values()))
        self.assertEqual(o["counts"]["deleted_records"], sum(n for (t, d), n in every.items() if d))

    def test_a_form_type_whose_records_all_moved_is_not_shown(self):
        a, b = ts.utype("Gone"), ts.utype("Moved")
        rid = ts.uid("g")
        self.push_ok([ts.rec(rid, a)])
        self.push_ok([ts.rec(rid, b)])
        names = [t["form_type"] for t in fresh_overview(self)["form_types"]]
        self.assertIn(b, names)
        self.assertNotIn(a, names)
        assert_counts_exact(self)

    def test_concurrent_pushes_with_replays_keep_the_counts_exact(self):
        types = [ts.utype("Conc") for _ in range(3)]
        pool = [ts.uid("p") for _ in range(40)]  # shared by every client: pushes overlap
        errors = []

        def client(n):
            rnd = random.Random(n)
            conn = h.connection()
            for k in range(25):
                recs = [ts.rec(i, rnd.choice(types), {"v": rnd.randrange(3)}, deleted=rnd.random() < 0.3,
                               **({"hash": "f" * 64} if rnd.random() < 0.2 else {}))
                        for i in rnd.sample(pool, rnd.randrange(1, 8))]
                body = ts.push_body(recs, client_id=f"count-{n}")
                for _ in range(2 if k % 5 == 0 else 1):  # every fifth push is sent twice
                    try:
                        r = h.request("POST", "/sync/push", body, token=self.token, conn=conn)
                    except Exception as e:  # noqa: BLE001
                        errors.append(repr(e))
                        conn = h.connection()
                        continue
                    if r.status != 200:
                        errors.append(r)

        run_clients(client, 6)
        self.assertEqual(errors, [])
        self.assertEqual(sum(n for (t, d), n in kept().items() if t in types), len(pool))
        assert_counts_exact(self)


class AttachmentTotals(unittest.TestCase):
    def put_status(self, att, data, status):
        r = ta.put(att, data)
        self.assertEqual(r.status, status, r)

    def test_every_kind_of_upload_and_deletion_keeps_the_totals_exact(self):
        before = attachment_totals()
        a, b, c = ta.new_id(), ta.new_id(), ta.new_id()
        self.put_status(a, b"a" * 1000, 200)
        self.put_status(b, b"b" * 300, 200)
        self.put_status(c, b"a" * 1000, 200)  # the same bytes under another id count again
        self.assertEqual(attachment_totals(), (before[0] + 3, before[1] + 2300))
        self.put_status(a, b"a" * 1000, 200)  # the same upload again changes nothing
        self.put_status(b, b"x" * 5, 409)  # other bytes for a live id: refused, nothing changes
        self.assertEqual(attachment_totals(), (before[0] + 3, before[1] + 2300))
        self.assertEqual(h.request("DELETE", "/attachments/" + a, token=h.admin_token()).status, 200)
        self.assertEqual(h.request("DELETE", "/attachments/" + a, token=h.admin_token()).status, 404)
        self.assertEqual(attachment_totals(), (before[0] + 2, before[1] + 1300))
        self.put_status(a, b"n" * 70, 200)  # a deleted id uploaded again, with new bytes
        self.assertEqual(attachment_totals(), (before[0] + 3, before[1] + 1370))
        assert_attachment_totals_exact(self)
        o = fresh_overview(self)
        self.assertEqual((o["counts"]["attachments"], o["counts"]["attachment_bytes"]), attachments_scanned())

    def test_concurrent_uploads_and_deletions_keep_the_totals_exact(self):
        pool = [ta.new_id() for _ in range(12)]  # shared by every client: they overlap
        errors = []

        def client(n):
            rnd = random.Random(n)
            for _ in range(20):
                att = rnd.choice(pool)
                try:
                    if rnd.random() < 0.4:
                        r = h.request("DELETE", "/attachments/" + att, token=h.admin_token())
                        ok = (200, 404)
                    else:  # bytes chosen per id and round, so some uploads conflict
                        r = ta.put(att, bytes([65 + rnd.randrange(3)]) * (100 + pool.index(att)))
                        ok = (200, 409)
                except Exception as e:  # noqa: BLE001
                    errors.append(repr(e))
                    continue
                if r.status not in ok:
                    errors.append(r)

        run_clients(client, 6)
        self.assertEqual(errors, [])
        assert_attachment_totals_exact(self)


class LiveMigration(unittest.TestCase):
    """Migrations 011 and 012, and `synkronus-admin records recount`, run against the
    live database while clients push, upload and delete: they wait for the count and
    none is lost or counted twice."""

    @classmethod
    def setUpClass(cls):
        cls.token = h.token_for("read-write")

    def test_recount_while_pushing_is_exact(self):
        said = self.run_while_pushing(["migrate"], "011_record_counts.sql",
                                      "DELETE FROM schema_migrations WHERE version IN (11, 12)")
        self.assertIn("012_attachment_totals.sql", said)

    def test_admin_recount_while_pushing_is_exact(self):
        # After a rolling upgrade, hosts still on the old version pushed without counting.
        self.run_while_pushing(["records", "recount"], "record counts rebuilt from", "DO 0")

    def run_while_pushing(self, command, said, forget):
        t = ts.utype("LiveMig")
        stop = threading.Event()
        errors, answered = [], []

        def client(n):
            rnd = random.Random(100 + n)
            ids = [ts.uid("lm") for _ in range(10)]
            while not stop.is_set():
                recs = [ts.rec(i, t, {"v": rnd.randrange(5)}, deleted=rnd.random() < 0.3)
                        for i in rnd.sample(ids, 4)]
                r = ts.push(self.token, recs, client_id=f"livemig-{n}")
                if r.status != 200:
                    errors.append(r)
                    return
                answered.append(1)

        def uploader(n):
            rnd = random.Random(200 + n)
            ids = [ta.new_id() for _ in range(6)]
            while not stop.is_set():
                att = rnd.choice(ids)
                if rnd.random() < 0.4:
                    r, ok = h.request("DELETE", "/attachments/" + att, token=h.admin_token()), (200, 404)
                else:
                    r, ok = ta.put(att, b"u" * (50 + ids.index(att))), (200,)
                if r.status not in ok:
                    errors.append(r)
                    return
                answered.append(1)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(3)]
        threads += [threading.Thread(target=uploader, args=(n,)) for n in range(2)]
        for th in threads:
            th.start()
        try:
            h.wait_until(lambda: len(answered) >= 8, timeout=30, interval=0.05)
            # The counts are wrong (as if pushes and uploads had gone uncounted); for
            # migrate, 011 and 012 are not recorded either, so the run applies them
            # again, on a live store.
            h.sql(forget + "; UPDATE record_counts SET records = records + 7"
                  "; UPDATE attachment_totals SET attachments = attachments + 3, bytes = bytes - 11")
            r = subprocess.run([os.path.join(h.BIN, "synkronus-admin"), "--config",
                                os.path.join(h.STATE, "synkronus.conf"), *command],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(said, r.stdout)
            done = len(answered)
            h.wait_until(lambda: len(answered) >= done + 8, timeout=30, interval=0.05)
        finally:
            stop.set()
            for th in threads:
                th.join(120)
        self.assertEqual(errors, [])
        assert_counts_exact(self)
        assert_attachment_totals_exact(self)
        return r.stdout


class FreshMigration(unittest.TestCase):
    """Migrations 011 and 012 on a database of records and attachments stored by an
    earlier release."""

    def test_fills_the_counts_from_the_stored_records(self):
        with h.ScratchDatabase("rc", lambda f: h.migration_number(f) < 11) as scratch:
            db = scratch.name
            scratch.migrate()  # the schema before 011
            rows = ["('r%04d','%s','1','{}','%s',%d,%d,UTC_TIMESTAMP(3),'u','c')"
                    % (i, "type-%d" % (i % 3), "0" * 64, int(i % 7 == 0), i + 1) for i in range(500)]
            h.sql("USE %s; INSERT INTO sync_records (id, schema_type, schema_version, data, hash, deleted, "
                  "change_id, last_modified, last_modified_by, origin_client_id) VALUES %s" % (db, ",".join(rows)))
            atts = ["('a%03d.jpg','%s',%d,'image/jpeg',%d,%d,UTC_TIMESTAMP(3),'u')"
                    % (i, "%064x" % i, 10 * i, int(i % 4 == 0), 1000 + i) for i in range(40)]
            h.sql("USE %s; INSERT INTO attachments (attachment_id, sha256, size, content_type, deleted, version, "
                  "changed_at, changed_by) VALUES %s" % (db, ",".join(atts)))
            scratch.add_all()
            said = scratch.migrate()
            self.assertIn("011_record_counts.sql", said)
            self.assertIn("012_attachment_totals.sql", said)
            live = [i for i in range(40) if i % 4]
            self.assertEqual(attachment_totals(db), (len(live), sum(10 * i for i in live)))
            expected = {("type-%d" % m, d): 0 for m in range(3) for d in (0, 1)}
            for i in range(500):
                expected[("type-%d" % (i % 3), int(i % 7 == 0))] += 1
            self.assertEqual(kept(db), expected)
            self.assertEqual(kept(db), group_by(db))


if __name__ == "__main__":
    unittest.main()
