"""Issue 18: small requests without a database round trip or a stat() each, within
stated bounds.

- Attachment metadata (hash, size, type) is kept per worker for attachment_cache_ms
  (2000 by default): a download or a 304 of a known attachment runs no query; a
  deletion through any worker of the host is seen by every worker at once; a
  deletion the host did not make (another host, simulated by SQL) is seen within the
  bound.
- Bundle files are checked once per version, file and bundle_cache_ms (1000) per
  worker: a new version is served right after its activation, a failed check is
  made again on the next request, and damage from outside is answered within the
  bound.
- Uploads: a 200 still means the file and the row are there.

The tests share the stack; ids are unique per test."""
import os
import subprocess
import threading
import time
import unittest
import uuid

import harness as h
import test_app_bundle as tb
import test_attachments as ta

ATTACHMENT_CACHE_S = 2.0  # attachment_cache_ms, the default
BUNDLE_CACHE_S = 1.0  # bundle_cache_ms, the default
GRANT_KEPT_S = 2.0  # grant_seconds (1, the default) + 1: how long nginx may use a kept answer
# Enough requests that every worker of the pool has served some (nginx hands the
# connections out to whichever worker accepts first).
ROUND = 8 * h.expected_workers()


def spread(fn, n=ROUND):
    """Runs fn n times from 4 connections at once, so the requests reach every worker."""
    errors = []

    def run():
        for _ in range(n // 4):
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def com_select():
    return int(h.sql("SHOW GLOBAL STATUS LIKE 'Com_select'")[0][1])


class AttachmentMetadataCache(unittest.TestCase):
    def upload(self, data=None):
        att = ta.new_id("bin")
        data = data if data is not None else os.urandom(4096)
        r = ta.put(att, data, ctype="application/octet-stream")
        self.assertEqual(r.status, 200, r)
        return att, data

    def test_a_known_attachment_is_served_without_a_query(self):
        att, data = self.upload()
        etag = '"%s"' % ta.sha(data)
        spread(lambda: self.assertEqual(ta.get(att).status, 200))  # every worker reads the row
        # Within the bound, downloads and 304s of it are answered from the workers'
        # caches. The token's user is re-read at most once per worker per
        # revocation_cache_seconds (2), and this counter query counts itself.
        before = com_select()
        t0 = time.monotonic()
        for _ in range(10):
            r = ta.get(att)
            self.assertEqual((r.status, r.body), (200, data))
            self.assertEqual(ta.get(att, headers={"If-None-Match": etag}).status, 304)
        elapsed = time.monotonic() - t0
        selects = com_select() - before
        if elapsed < ATTACHMENT_CACHE_S - 0.2:
            self.assertLessEqual(selects, 1 + h.expected_workers(), f"{selects} SELECTs for 20 requests")

    def test_a_deletion_through_any_worker_is_seen_by_every_worker_at_once(self):
        att, data = self.upload()
        spread(lambda: self.assertEqual(ta.get(att).status, 200))
        r = h.request("DELETE", "/attachments/" + att, token=h.admin_token())
        self.assertEqual(r.status, 200, r)
        for i in range(ROUND):
            h.assert_problem(self, ta.get(att), 404, "not-found")
            self.assertEqual(ta.get(att, headers={"If-None-Match": '"%s"' % ta.sha(data)}).status, 404, f"read {i}")

    def test_a_deletion_by_another_host_is_seen_within_the_bound(self):
        # Every worker's entry is made within the window and lasts ATTACHMENT_CACHE_S: a
        # GET sent within it (less a margin) must be served from a cache. A try too late
        # for that is made again on a new attachment.
        def attempt(w):
            att, _ = self.upload()
            spread(lambda: self.assertEqual(ta.get(att).status, 200))
            # Another host deletes it: this host's workers are not told.
            h.sql("UPDATE attachments SET deleted = 1 WHERE attachment_id = '%s'" % att)
            t0 = time.monotonic()
            w.check()
            return att, t0
        att, t0 = h.within_window(self, attempt, ATTACHMENT_CACHE_S - 0.3)
        # Just after, it is still served from a cache (the cache exists) ...
        self.assertEqual(ta.get(att).status, 200)
        # ... and from the bound on by no worker.
        time.sleep(max(0.0, ATTACHMENT_CACHE_S - (time.monotonic() - t0)) + 0.05)
        spread(lambda: h.assert_problem(self, ta.get(att), 404, "not-found"))

    def test_a_new_upload_is_found_at_once(self):
        # Absence is never cached: a 404 before the upload does not hide it after.
        att = ta.new_id("bin")
        for _ in range(ROUND):
            self.assertEqual(ta.get(att).status, 404)
        data = os.urandom(100)
        self.assertEqual(ta.put(att, data, ctype="application/octet-stream").status, 200)
        for _ in range(ROUND):
            r = ta.get(att)
            self.assertEqual((r.status, r.body), (200, data))

    def test_a_retry_of_a_finished_upload_and_a_conflict_are_answered_from_what_is_cached(self):
        att, data = self.upload()
        for _ in range(ROUND):
            self.assertEqual(ta.get(att).status, 200)
        for _ in range(h.expected_workers() * 2):
            self.assertEqual(ta.put(att, data, ctype="application/octet-stream").status, 200)
            h.assert_problem(self, ta.put(att, os.urandom(50), ctype="application/octet-stream"), 409, "conflict")
        self.assertEqual(ta.get(att).body, data)

    def test_concurrent_small_uploads_are_each_durable_when_answered(self):
        # Every 200 names a file on disk with its bytes and a committed row.
        done, errors = [], []

        def client():
            conn = h.connection()
            for _ in range(10):
                att, data = ta.new_id("bin"), os.urandom(4096)
                r = ta.put(att, data, ctype="application/octet-stream", conn=conn)
                (done if r.status == 200 else errors).append((att, data, r.status))

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(done), 40)
        for att, data, _ in done:
            digest = ta.sha(data)
            with open(os.path.join(ta.FILES, digest[:2], digest), "rb") as f:
                self.assertEqual(f.read(), data)
            self.assertEqual(h.sql("SELECT sha256, size FROM attachments WHERE attachment_id = '%s' AND deleted = 0"
                                   % att), [[digest, "4096"]])


    def test_bytes_of_an_upload_that_lost_a_race_are_retired_not_left_behind(self):
        # Two uploads of one new id with other bytes at once: one is stored, the other
        # is answered 409; the loser's file (made durable before the lock) is retired,
        # so retention removes it: no file on disk is named by nobody for good.
        losers = []
        for _ in range(6):
            att = ta.new_id("bin")
            blobs = [os.urandom(2000), os.urandom(2000)]
            replies = [None, None]

            def up(i):
                replies[i] = ta.put(att, blobs[i], ctype="application/octet-stream", conn=h.connection())

            threads = [threading.Thread(target=up, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            statuses = sorted(r.status for r in replies)
            self.assertEqual(statuses, [200, 409], replies)
            stored = h.sql("SELECT sha256 FROM attachments WHERE attachment_id = '%s'" % att)[0][0]
            losers += [ta.sha(b) for b in blobs if ta.sha(b) != stored]
        for digest in losers:
            on_disk = os.path.exists(os.path.join(ta.FILES, digest[:2], digest))
            retired = h.sql("SELECT COUNT(*) FROM attachment_files_retired WHERE sha256 = '%s'" % digest)
            self.assertTrue(not on_disk or retired == [["1"]], f"{digest}: on disk and not retired")


def questions():
    return int(h.sql("SHOW GLOBAL STATUS LIKE 'Questions'")[0][1])


class SmallUploads(unittest.TestCase):
    """What an upload costs the database (issue 18): one CALL of attachment_put
    (sql/013: START TRANSACTION, the UPDATE of the change counter and the totals, the
    row's INSERT) and COMMIT, two round trips; no SELECT before the lock, no retention
    query after every upload, no retired-file DELETE when the name is new. Each of
    those removed statements, put back, fails the count below; so do the three
    statements the CALL stands for, sent one by one (Questions counts the statements
    clients send, not those a procedure runs)."""

    def count_statements(self, n):
        conn = h.connection()
        blobs = [(ta.new_id("bin"), os.urandom(512)) for _ in range(n)]
        before = questions()
        t0 = time.monotonic()
        for att, data in blobs:
            self.assertEqual(ta.put(att, data, ctype="application/octet-stream", conn=conn).status, 200)
        elapsed = time.monotonic() - t0
        spent = questions() - before
        workers = h.expected_workers()
        # Besides those of the uploads: retention, at most once a second per worker; the
        # token's user, re-read at most once per revocation_cache_seconds (2) per
        # worker; the two statements of the counting client itself.
        slack = workers * (int(elapsed) + 1) + workers * (int(elapsed / 2) + 1) + 2
        for att, data in blobs:
            self.assertEqual(h.sql("SELECT sha256, size, deleted FROM attachments WHERE attachment_id = '%s'" % att),
                             [[ta.sha(data), "512", "0"]])
        return spent, slack, elapsed

    def test_an_upload_of_a_new_id_is_two_statements(self):
        n = 40
        spent, slack, elapsed = self.count_statements(n)
        self.assertLessEqual(spent, 2 * n + slack, f"{spent} statements for {n} uploads in {elapsed:.2f} s")

    def test_without_the_procedure_uploads_run_its_statements_one_by_one(self):
        # A database restored from a dump made without --routines has no attachment_put:
        # each worker finds out on its first upload (which still succeeds), warns once
        # and from then on sends START TRANSACTION, UPDATE, INSERT, COMMIT as before.
        totals = h.sql("SELECT attachments, bytes FROM attachment_totals WHERE id = 1")[0]
        counter = int(h.sql("SELECT last_change_id FROM sync_counter WHERE id = 1")[0][0])
        h.sql("DROP PROCEDURE attachment_put")
        try:
            ids = []

            def up():
                att = ta.new_id("bin")
                self.assertEqual(ta.put(att, os.urandom(512), ctype="application/octet-stream").status, 200)
                ids.append(att)
            spread(up, n=4 * h.expected_workers())  # every worker has found it missing
            n = 20
            spent, slack, elapsed = self.count_statements(n)
            self.assertGreaterEqual(spent, 4 * n, f"{spent} statements for {n} uploads in {elapsed:.2f} s")
            self.assertLessEqual(spent, 4 * n + slack, f"{spent} statements for {n} uploads in {elapsed:.2f} s")
            # Each upload raised the counter once and counted in the totals (no other
            # writer runs meanwhile: the tests share the stack one at a time).
            uploads = len(ids) + n
            self.assertEqual(int(h.sql("SELECT last_change_id FROM sync_counter WHERE id = 1")[0][0]),
                             counter + uploads)
            self.assertEqual(h.sql("SELECT attachments, bytes FROM attachment_totals WHERE id = 1")[0],
                             [str(int(totals[0]) + uploads), str(int(totals[1]) + 512 * uploads)])
        finally:
            with open(os.path.join(h.REPO, "sql", "013_attachment_put.sql")) as f:
                subprocess.run(["mariadb", "--no-defaults", "-uroot",
                                "--socket=" + os.path.join(h.STATE, "mysql-run/mysqld.sock"), "synkronus"],
                               stdin=f, check=True)
            h.kill_every_worker()  # they use the procedure again
        # Each new worker's connection and statements made before the count.
        spread(lambda: self.assertEqual(ta.put(ta.new_id("bin"), os.urandom(10)).status, 200),
               n=4 * h.expected_workers())
        spent, slack, elapsed = self.count_statements(10)
        self.assertLessEqual(spent, 2 * 10 + slack, f"{spent} statements for 10 uploads in {elapsed:.2f} s")

    def test_a_stale_retired_row_never_removes_bytes_uploaded_anew(self):
        # An upload whose file name is new skips the retired-file DELETE: a retired row
        # for those bytes can only have outlived its file, and retention, which removes
        # nothing a live row names, forgets it. An upload whose name was there (retired
        # by a deletion) still forgets the pending removal at once.
        data, att = os.urandom(3000), ta.new_id("bin")
        digest = ta.sha(data)
        path = os.path.join(ta.FILES, digest[:2], digest)
        h.sql("INSERT INTO attachment_files_retired (sha256, retired_at) VALUES ('%s', UNIX_TIMESTAMP() - 3600)"
              % digest)
        self.assertEqual(ta.put(att, data, ctype="application/octet-stream").status, 200)
        time.sleep(ta.RETENTION_INTERVAL_S + 0.1)
        spread(lambda: self.assertEqual(ta.put(ta.new_id("bin"), os.urandom(10)).status, 200), n=4 * h.expected_workers())
        self.assertTrue(os.path.isfile(path))
        self.assertEqual(ta.get(att).body, data)
        self.assertEqual(h.sql("SELECT COUNT(*) FROM attachment_files_retired WHERE sha256 = '%s'" % digest), [["0"]])
        # Deleted (retired, the file stays for the grace period), then uploaded again
        # under another id: the name is there, the pending removal is forgotten.
        self.assertEqual(h.request("DELETE", "/attachments/" + att, token=h.admin_token()).status, 200)
        self.assertEqual(h.sql("SELECT COUNT(*) FROM attachment_files_retired WHERE sha256 = '%s'" % digest), [["1"]])
        again = ta.new_id("bin")
        self.assertEqual(ta.put(again, data, ctype="application/octet-stream").status, 200)
        self.assertEqual(h.sql("SELECT COUNT(*) FROM attachment_files_retired WHERE sha256 = '%s'" % digest), [["0"]])
        self.assertEqual(ta.get(again).body, data)

    def test_a_conflict_leaves_no_file_behind(self):
        # The bytes of a 409 were made durable before the lock; the name this upload
        # made is removed at once under the lock, not left for retention.
        att, data = ta.new_id("bin"), os.urandom(1000)
        self.assertEqual(ta.put(att, data, ctype="application/octet-stream").status, 200)
        for _ in range(2 * h.expected_workers()):
            other = os.urandom(1000)
            h.assert_problem(self, ta.put(att, other, ctype="application/octet-stream"), 409, "conflict")
            digest = ta.sha(other)
            self.assertFalse(os.path.exists(os.path.join(ta.FILES, digest[:2], digest)))
            self.assertEqual(h.sql("SELECT COUNT(*) FROM attachment_files_retired WHERE sha256 = '%s'" % digest),
                             [["0"]])
        self.assertEqual(ta.get(att).body, data)
        self.assertEqual(h.sql("SELECT deleted FROM attachments WHERE attachment_id = '%s'" % att), [["0"]])


class BundleFileChecks(tb.Base):
    def activate(self, tag):
        files = tb.bundle_files(tag)
        m = tb.push_ok(files)
        self.assertEqual(tb.switch(m["version"]).status, 200)
        return m["version"], files

    def test_a_new_version_is_served_right_after_activation(self):
        a, fa = self.activate("small-a-" + uuid.uuid4().hex[:6])
        # Every worker has checked a's files.
        spread(lambda: self.assertEqual(tb.get(tb.download_url("app/index.html")).body.decode(), fa["app/index.html"]))
        b, fb = self.activate("small-b-" + uuid.uuid4().hex[:6])
        for i in range(ROUND):
            r = tb.get(tb.download_url("app/index.html"))
            self.assertEqual((r.status, r.body.decode()), (200, fb["app/index.html"]), f"read {i} after activating {b}")
            self.assertEqual(tb.get("/app-bundle/manifest").json["version"], b)

    def test_files_are_checked_once_per_version_and_bound_and_a_failed_check_again(self):
        v, files = self.activate("small-c-" + uuid.uuid4().hex[:6])
        path = os.path.join(tb.VERSIONS, v, "app", "js", "main.js")
        aside = path + ".aside"
        try:
            # Never checked yet, and missing: the worker says so (503).
            os.rename(path, aside)
            h.assert_problem(self, tb.get(tb.download_url("app/js/main.js")), 503, "unavailable")
            # The failed check is not remembered: back in place, it is served at once.
            os.rename(aside, path)
            spread(lambda: self.assertEqual(tb.get(tb.download_url("app/js/main.js")).body.decode(),
                                            files["app/js/main.js"]))
            # Checked once per bound: removed now, a worker that checked it hands it to
            # nginx (no stat() per request), whose open fails: its own 404 problem ...
            os.rename(path, aside)
            statuses = [tb.get(tb.download_url("app/js/main.js")).status for _ in range(ROUND)]
            self.assertIn(404, statuses, "a checked file was stat()ed again within bundle_cache_ms")
            self.assertEqual(set(statuses) - {404, 503}, set(), statuses)
            # ... and after bundle_cache_ms every worker has checked again, and nginx
            # has dropped the answers it kept (grants: at most grant_seconds + 1 s): 503.
            time.sleep(max(BUNDLE_CACHE_S, GRANT_KEPT_S) + 0.1)
            spread(lambda: h.assert_problem(self, tb.get(tb.download_url("app/js/main.js")), 503, "unavailable"))
        finally:
            if os.path.exists(aside):
                os.rename(aside, path)
        self.assertEqual(tb.get(tb.download_url("app/js/main.js")).status, 200)


if __name__ == "__main__":
    unittest.main()
