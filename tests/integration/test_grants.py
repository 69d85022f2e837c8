"""Grants (issue 18): downloads and 304s of bundle files and attachments that nginx
serves on worker answers it keeps (nginx/synkronus-locations.conf, core/grant.h).

What must hold: a repeated download or 304 needs no worker; every answer is the one
a worker gives (status, bytes, ETag, Content-Type, headers); changes on this host
show at once (a switch, a deletion); a revocation shows within
revocation_cache_seconds (2 s here) as before; a change nginx cannot be told of (made
in the database, as another host would) within grant_seconds + 1 s (2 s here)."""
import hashlib
import os
import shutil
import signal
import subprocess
import time
import unittest
import uuid

import harness as h
import test_app_bundle as tb
from test_attachments import put, new_id

# grant_seconds is 1 (the default): an answer lasts 1 to 2 s. Every "no worker"
# check below runs within a second of the request that made the answer.
KEPT_AT_LEAST = 1.0
KEPT_AT_MOST = 2.0


def sha(b):
    return hashlib.sha256(b).hexdigest()


class StoppedWorkers:
    """Every worker stopped (SIGSTOP) inside the block: a request that needs one hangs."""

    def __enter__(self):
        self.pids = h.wait_for_workers()
        for pid in self.pids:
            os.kill(pid, signal.SIGSTOP)
        return self

    def __exit__(self, *exc):
        for pid in self.pids:
            os.kill(pid, signal.SIGCONT)


def quick(method, path, token, headers=None):
    """A request that fails (socket timeout) rather than wait for a stopped worker."""
    c = h.connection(timeout=3)
    return h.request(method, path, token=token, headers=headers, conn=c)


def within_kept(test, attempt):
    """h.within_window over the time a kept answer surely lasts, less 0.2 s for the
    request's way to nginx; before another try every answer the last one made has
    expired."""
    return h.within_window(test, attempt, KEPT_AT_LEAST - 0.2, pause=KEPT_AT_MOST + 0.1)


def quick_within(w, method, path, token, headers=None):
    """quick(), sent only within the window w (h.TooLate before sending otherwise)."""
    w.check()
    return quick(method, path, token, headers)


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.token = h.token_for("read-only")


class NoWorkerForRepeats(Base):
    def test_bundle_file_download_and_304_served_with_every_worker_stopped(self):
        body = os.urandom(4096)
        m = tb.push_ok(tb.bundle_files("grant", {"app/assets/logo.png": body}))
        self.assertEqual(tb.switch(m["version"]).status, 200)
        url = tb.download_url("app/assets/logo.png")
        etag = '"%s"' % sha(body)

        def attempt(w):
            first = h.request("GET", url, token=self.token)
            first304 = h.request("GET", url, token=self.token, headers={"If-None-Match": etag})
            with StoppedWorkers():
                return first, first304, quick_within(w, "GET", url, self.token), \
                    quick_within(w, "GET", url, self.token, headers={"If-None-Match": etag})
        first, first304, again, again304 = within_kept(self, attempt)
        for r in (first, again):
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.body, body)
            self.assertEqual(r.header("etag"), etag)
            self.assertEqual(r.header("content-type"), "image/png")
            self.assertEqual(r.header("cache-control"), "no-cache")
            self.assertEqual(r.header("x-api-version-used"), "1.0.0")
            self.assertIsNone(r.header("last-modified"))
        # The 304 nginx keeps is the worker's: same headers, no body, no type or length,
        # and each its own request id.
        for r in (first304, again304):
            self.assertEqual(r.status, 304, r)
            self.assertEqual(r.body, b"")
            self.assertEqual(r.header("etag"), etag)
            self.assertEqual(r.header("cache-control"), "no-cache")
            self.assertEqual(r.header("x-api-version-used"), "1.0.0")
            self.assertIsNone(r.header("content-type"))
            self.assertIsNone(r.header("content-length"))
        self.assertTrue(first304.header("x-request-id"))
        self.assertNotEqual(first304.header("x-request-id"), again304.header("x-request-id"))

    def test_attachment_download_and_304_served_with_every_worker_stopped(self):
        data = os.urandom(4000)
        att = new_id("bin")
        self.assertEqual(put(att, data, ctype="audio/mpeg").status, 200)
        etag = '"%s"' % sha(data)

        def attempt(w):
            h.request("GET", "/attachments/" + att, token=self.token)
            h.request("GET", "/attachments/" + att, token=self.token, headers={"If-None-Match": etag})
            with StoppedWorkers():
                return quick_within(w, "GET", "/attachments/" + att, self.token), \
                    quick_within(w, "GET", "/attachments/" + att, self.token, headers={"If-None-Match": etag})
        r, r304 = within_kept(self, attempt)
        self.assertEqual((r.status, r.body, r.header("etag")), (200, data, etag))
        # The stored type (not the id's extension), given to nginx as a suffix.
        self.assertEqual(r.header("content-type"), "audio/mpeg")
        self.assertEqual((r304.status, r304.header("etag")), (304, etag))

    def test_range_requests_on_a_kept_answer(self):
        data = os.urandom(5000)
        att = new_id("png")
        self.assertEqual(put(att, data, ctype="image/png").status, 200)

        def attempt(w):
            h.request("GET", "/attachments/" + att, token=self.token)
            with StoppedWorkers():
                return quick_within(w, "GET", "/attachments/" + att, self.token, headers={"Range": "bytes=100-199"})
        r = within_kept(self, attempt)
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.body, data[100:200])
        self.assertEqual(r.header("content-type"), "image/png")


class AnswersAsAWorkerGives(Base):
    def test_attachment_types_with_and_without_a_suffix(self):
        # image/jpeg by a suffix; octet-stream by default; a type no extension names
        # stays with a worker, which sends it after X-Accel-Redirect.
        for ctype in ("image/jpeg", "application/octet-stream", "audio/x-unheard-of", "text/plain"):
            data = os.urandom(300)
            att = new_id("dat")
            self.assertEqual(put(att, data, ctype=ctype).status, 200)
            for _ in range(2):  # the answer made, then the answer kept
                r = h.request("GET", "/attachments/" + att, token=self.token)
                self.assertEqual((r.status, r.body, r.header("content-type")), (200, data, ctype), ctype)

    def test_bad_and_missing_tokens_and_unknown_files_are_the_workers_answers(self):
        r = h.request("GET", tb.download_url("app/index.html"))
        h.assert_problem(self, r, 401, "unauthorized")
        r = h.request("GET", tb.download_url("app/index.html"), token="not-a-token")
        h.assert_problem(self, r, 401, "unauthorized")
        for _ in range(2):
            h.assert_problem(self, h.request("GET", "/attachments/" + new_id(), token=self.token), 404, "not-found")
            h.assert_problem(self, h.request("GET", tb.download_url("app/none.js"), token=self.token), 404,
                             "not-found")
        # A version header the server does not speak is refused, kept answer or not.
        r = h.request("GET", tb.download_url("app/index.html"), token=self.token, headers={"x-api-version": "9.0.0"})
        h.assert_problem(self, r, 406, "unsupported-api-version")

    def test_the_pool_down_is_still_a_502_problem(self):
        # A token nginx has never seen: its grant needs a worker, and none answers.
        token = h.token_for("read-only")
        h.stack("stack_stop_workers")
        try:
            r = h.request("GET", tb.download_url("app/index.html"), token=token)
            h.assert_problem(self, r, 502, "unavailable")
        finally:
            h.stack("stack_start_workers")
            h.wait_for_workers()


class ChangesOnThisHostShowAtOnce(Base):
    def test_a_switch(self):
        old, new = os.urandom(2000), os.urandom(2000)
        m1 = tb.push_ok(tb.bundle_files("g1", {"app/assets/x.bin": old}))
        self.assertEqual(tb.switch(m1["version"]).status, 200)
        url = tb.download_url("app/assets/x.bin")
        old_tag = '"%s"' % sha(old)
        self.assertEqual(h.request("GET", url, token=self.token).body, old)
        self.assertEqual(h.request("GET", url, token=self.token, headers={"If-None-Match": old_tag}).status, 304)
        m2 = tb.push_ok(tb.bundle_files("g2", {"app/assets/x.bin": new}))
        self.assertEqual(tb.switch(m2["version"]).status, 200)
        r = h.request("GET", url, token=self.token)
        self.assertEqual((r.status, r.body, r.header("etag")), (200, new, '"%s"' % sha(new)))
        r = h.request("GET", url, token=self.token, headers={"If-None-Match": old_tag})
        self.assertEqual((r.status, r.body), (200, new))

    def test_a_deletion_and_a_new_upload_under_the_same_id(self):
        data = os.urandom(3000)
        att = new_id("jpg")
        self.assertEqual(put(att, data).status, 200)
        tag = '"%s"' % sha(data)
        self.assertEqual(h.request("GET", "/attachments/" + att, token=self.token).body, data)
        self.assertEqual(h.request("GET", "/attachments/" + att, token=self.token,
                                   headers={"If-None-Match": tag}).status, 304)
        self.assertEqual(h.request("DELETE", "/attachments/" + att, token=h.admin_token()).status, 200)
        h.assert_problem(self, h.request("GET", "/attachments/" + att, token=self.token), 404, "not-found")
        h.assert_problem(self, h.request("GET", "/attachments/" + att, token=self.token,
                                         headers={"If-None-Match": tag}), 404, "not-found")
        other = os.urandom(3000)
        self.assertEqual(put(att, other).status, 200)
        self.assertEqual(h.request("GET", "/attachments/" + att, token=self.token).body, other)


class Bounds(Base):
    def test_a_revocation_shows_within_revocation_cache_seconds(self):
        name, pw = h.make_user("read-only")
        tokens = h.login(name, pw)
        att = new_id("jpg")
        self.assertEqual(put(att, b"abc").status, 200)
        url = "/attachments/" + att
        self.assertEqual(h.request("GET", url, token=tokens["token"]).status, 200)  # granted and kept
        r = h.request("POST", "/auth/logout", {"refreshToken": tokens["refreshToken"]}, token=tokens["token"])
        self.assertEqual(r.status, 204, r)
        since = time.time()
        while True:
            r = h.request("GET", url, token=tokens["token"])
            if r.status == 401:
                break
            self.assertEqual(r.status, 200, r)
            self.assertLess(time.time() - since, 2.0 + 0.3, "a revoked token still downloads")
            time.sleep(0.05)

    def test_a_deletion_nginx_is_not_told_of_shows_within_two_seconds(self):
        # As on another host: the row goes in the database, no worker of this host knows.
        data = os.urandom(1000)
        att = new_id("jpg")
        self.assertEqual(put(att, data).status, 200)
        # Only the row's flag: restored below, so the totals other tests check stay exact.
        def deleted(flag):
            h.sql("UPDATE attachments SET deleted = %d WHERE attachment_id = '%s'" % (flag, att))

        def attempt(w):
            self.assertEqual(h.request("GET", "/attachments/" + att, token=self.token).status, 200)
            deleted(1)
            try:
                w.check()
            except h.TooLate:
                deleted(0)
                raise
            return time.time(), h.request("GET", "/attachments/" + att, token=self.token)
        try:
            since, still = within_kept(self, attempt)
            self.assertEqual(still.status, 200, "the kept answer was not used")
            while h.request("GET", "/attachments/" + att, token=self.token).status == 200:
                self.assertLess(time.time() - since, KEPT_AT_MOST + 0.3, "a deleted attachment still downloads")
                time.sleep(0.05)
        finally:
            deleted(0)


def manifest(token, headers=None, query=""):
    return h.request("GET", "/app-bundle/manifest" + query, token=token, headers=headers)


class KeptManifest(Base):
    """GET /app-bundle/manifest: the worker's whole answer (200 or 304) kept by nginx per
    generation target, method, URI, validator and API version, behind the token grant."""

    def active(self, tag):
        m = tb.push_ok(tb.bundle_files(tag))
        self.assertEqual(tb.switch(m["version"]).status, 200)
        return m

    def test_manifest_and_its_304_served_with_every_worker_stopped(self):
        m = self.active("kept-manifest")
        tag = '"%s"' % m["hash"]

        def attempt(w):
            first = manifest(self.token, {"Accept-Encoding": "gzip"})
            first304 = manifest(self.token, {"If-None-Match": tag})
            with StoppedWorkers():
                return first, first304, \
                    quick_within(w, "GET", "/app-bundle/manifest", self.token, headers={"Accept-Encoding": "gzip"}), \
                    quick_within(w, "GET", "/app-bundle/manifest", self.token, headers={"If-None-Match": tag})
        first, first304, again, again304 = within_kept(self, attempt)
        for r in (first, again):
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json, m)
            self.assertEqual(r.header("etag"), tag)  # strong: not gzipped
            self.assertIsNone(r.header("content-encoding"))
            self.assertEqual(r.header("content-type"), "application/json")
            self.assertEqual(r.header("cache-control"), "no-cache")
            self.assertEqual(r.header("x-api-version-used"), "1.0.0")
        self.assertEqual(again.body, first.body)
        for r in (first304, again304):
            self.assertEqual(r.status, 304, r)
            self.assertEqual(r.body, b"")
            self.assertEqual(r.header("etag"), tag)
            self.assertEqual(r.header("x-api-version-used"), "1.0.0")
        # Each answer its own request id, not the one of the request that made it.
        for a, b in ((first, again), (first304, again304)):
            self.assertTrue(a.header("x-request-id"))
            self.assertTrue(b.header("x-request-id"))
            self.assertNotEqual(a.header("x-request-id"), b.header("x-request-id"))
            self.assertEqual(len(h.request("GET", "/health").header("x-request-id")), len(b.header("x-request-id")))

    def test_head_then_get_gets_the_full_body(self):
        m = self.active("kept-head")
        query = "?n=" + uuid.uuid4().hex  # a URI no earlier request has made an answer for
        head = h.request("HEAD", "/app-bundle/manifest" + query, token=self.token)
        self.assertEqual((head.status, head.body), (200, b""))
        for _ in range(2):
            r = manifest(self.token, query=query)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json, m)
        head = h.request("HEAD", "/app-bundle/manifest" + query, token=self.token)
        self.assertEqual((head.status, head.body, head.header("etag")), (200, b"", '"%s"' % m["hash"]))
        self.assertEqual(manifest(self.token, query=query).json, m)

    def test_bad_and_missing_tokens_and_bad_versions_are_the_workers_answers(self):
        self.active("kept-tokens")
        self.assertEqual(manifest(self.token).status, 200)  # kept now, for any granted token
        for _ in range(2):
            h.assert_problem(self, manifest(None), 401, "unauthorized")
            h.assert_problem(self, manifest("not-a-token"), 401, "unauthorized")
            h.assert_problem(self, manifest(self.token, {"x-api-version": "9.0.0"}), 406, "unsupported-api-version")
            h.assert_problem(self, manifest(self.token, {"x-api-version": "1.x"}), 400, "bad-request")
            r = manifest(self.token, {"x-api-version": "1.4.0"})
            self.assertEqual((r.status, r.header("x-api-version-used")), (200, "1.0.0"))
        # Even with every worker stopped, a bad token gets no kept manifest: its request
        # waits for a worker (and fails here on the socket timeout).
        with StoppedWorkers():
            with self.assertRaises(OSError):
                quick("GET", "/app-bundle/manifest", "not-a-token")

    def test_the_pool_down_is_still_a_502_problem(self):
        token = h.token_for("read-only")
        h.stack("stack_stop_workers")
        try:
            h.assert_problem(self, manifest(token), 502, "unavailable")
        finally:
            h.stack("stack_start_workers")
            h.wait_for_workers()

    def test_a_switch_on_this_host_shows_at_once(self):
        m1 = self.active("kept-s1")
        m2 = tb.push_ok(tb.bundle_files("kept-s2"))
        old_tag = '"%s"' % m1["hash"]
        self.assertEqual(manifest(self.token).json, m1)
        self.assertEqual(manifest(self.token, {"If-None-Match": old_tag}).status, 304)
        self.assertEqual(tb.switch(m2["version"]).status, 200)
        r = manifest(self.token)
        self.assertEqual((r.status, r.json, r.header("etag")), (200, m2, '"%s"' % m2["hash"]))
        r = manifest(self.token, {"If-None-Match": old_tag})
        self.assertEqual((r.status, r.json), (200, m2))

    def test_grant_seconds_0_keeps_nothing(self):
        h.stack("stack_stop_workers", "stack_start_workers", env={"SYNKRONUS_GRANT_SECONDS": "0"})
        try:
            h.wait_for_workers()
            m1 = self.active("kept-off1")
            m2 = tb.push_ok(tb.bundle_files("kept-off2"))
            self.assertEqual(manifest(self.token).json, m1)
            self.assertEqual(manifest(self.token, {"If-None-Match": '"%s"' % m1["hash"]}).status, 304)
            # Nothing kept: a switch nginx is not told of shows at once.
            h.sql("UPDATE bundle_state SET active_version = %d WHERE id = 1" % int(m2["version"]))
            self.assertEqual(manifest(self.token).json, m2)
            self.assertEqual(manifest(self.token, {"If-None-Match": '"%s"' % m1["hash"]}).json, m2)
        finally:
            h.stack("stack_stop_workers", "stack_start_workers")
            h.wait_for_workers()

    def test_a_repair_by_synkronus_admin_shows_at_once(self):
        # check --repair deactivates the active version whose files are gone: a change on
        # this host made by another process than the workers.
        m = self.active("kept-repair")
        d = os.path.join(tb.VERSIONS, m["version"])
        aside = os.path.join(h.STATE, "aside-" + m["version"])

        def attempt(w):
            os.makedirs(aside)
            try:
                self.assertEqual(manifest(self.token).json, m)  # kept now
                shutil.move(d, os.path.join(aside, "dir"))
                shutil.move(d + ".zip", os.path.join(aside, "zip"))
                c = subprocess.run([os.path.join(h.BIN, "synkronus-admin"), "--config",
                                    os.path.join(h.STATE, "synkronus.conf"), "check", "--repair"],
                                   capture_output=True, text=True, timeout=60)
                self.assertIn("deactivated", c.stdout, c)
                w.check()
                return manifest(self.token)
            finally:
                if os.path.isdir(os.path.join(aside, "dir")):
                    shutil.move(os.path.join(aside, "dir"), d)
                    shutil.move(os.path.join(aside, "zip"), d + ".zip")
                shutil.rmtree(aside)
                self.assertEqual(tb.switch(m["version"]).status, 200)
        r = within_kept(self, attempt)
        self.assertEqual((r.status, r.json["files"], r.json["version"]), (200, [], ""))

    def test_a_switch_nginx_is_not_told_of_shows_within_two_seconds(self):
        # As on another host: the active version set in the database, no worker told.
        # The workers' own cache of the active version lasts 10 s here: an answer nginx
        # keeps must be read afresh, or that cache would add to its bound.
        h.stack("stack_stop_workers", "stack_start_workers", env={"SYNKRONUS_BUNDLE_CACHE_MS": "10000"})
        h.wait_for_workers()
        m1 = self.active("kept-d1")
        m2 = tb.push_ok(tb.bundle_files("kept-d2"))
        old_tag = '"%s"' % m1["hash"]

        def attempt(w):
            self.assertEqual(manifest(self.token).json, m1)
            self.assertEqual(manifest(self.token, {"If-None-Match": old_tag}).status, 304)
            h.sql("UPDATE bundle_state SET active_version = %d WHERE id = 1" % int(m2["version"]))
            since = time.time()
            try:
                with StoppedWorkers():  # the kept answers, no worker asked
                    self.assertEqual(quick_within(w, "GET", "/app-bundle/manifest", self.token).json, m1)
                    self.assertEqual(quick_within(w, "GET", "/app-bundle/manifest", self.token,
                                             headers={"If-None-Match": old_tag}).status, 304)
            except h.TooLate:
                self.assertEqual(tb.switch(m1["version"]).status, 200)
                raise
            return since
        try:
            since = within_kept(self, attempt)
            while True:
                r = manifest(self.token)
                r304 = manifest(self.token, {"If-None-Match": old_tag})
                if r.json == m2 and r304.status == 200:
                    break
                self.assertLess(time.time() - since, KEPT_AT_MOST + 0.3, "the switch does not show")
                time.sleep(0.05)
            self.assertEqual(r304.json, m2)
        finally:
            self.assertEqual(tb.switch(m1["version"]).status, 200)
            h.stack("stack_stop_workers", "stack_start_workers")
            h.wait_for_workers()


if __name__ == "__main__":
    unittest.main()
