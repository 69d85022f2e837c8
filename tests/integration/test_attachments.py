"""Contract section 7, attachments, through nginx and MariaDB: upload (streamed
multipart), download and HEAD served by nginx from disk, 304, delete, the delta
manifest and its never-skipping cursor, retention, bad input that leaves the store
as it was, and synkronus-admin's attachment commands.

The tests share one stack and may run in any order; ids are unique per test."""
import hashlib
import os
import random
import socket
import ssl
import subprocess
import threading
import time
import unittest
import uuid

import harness as h

STORE = os.path.join(h.STATE, "attachments")
FILES = os.path.join(STORE, "files")
TMP = os.path.join(STORE, "tmp")
MAX_BYTES = 64 * 1024 * 1024  # attachment_max_bytes, the default
RETENTION_INTERVAL_S = 1.0  # services::AttachmentStore::kRetentionIntervalMs


def sha(b):
    return hashlib.sha256(b).hexdigest()


def new_id(ext="jpg"):
    return "%s.%s" % (uuid.uuid4(), ext)


def multipart(parts):
    """parts: list of (field, filename or None, content type or None, bytes)."""
    boundary = "----synk" + uuid.uuid4().hex
    out = b""
    for field, filename, ctype, data in parts:
        disp = 'form-data; name="%s"' % field + ('; filename="%s"' % filename if filename else "")
        out += ("--%s\r\nContent-Disposition: %s\r\n" % (boundary, disp)).encode()
        if ctype:
            out += ("Content-Type: %s\r\n" % ctype).encode()
        out += b"\r\n" + data + b"\r\n"
    out += ("--%s--\r\n" % boundary).encode()
    return out, "multipart/form-data; boundary=" + boundary


def put(att_id, data, ctype="image/jpeg", token=None, parts=None, conn=None):
    body, content_type = multipart(parts if parts is not None else [("file", "photo", ctype, data)])
    return h.request("PUT", "/attachments/" + att_id, raw=body, token=token or rw_token(),
                     headers={"Content-Type": content_type}, conn=conn)


def get(att_id, method="GET", headers=None, token=None):
    return h.request(method, "/attachments/" + att_id, token=token or rw_token(), headers=headers)


def manifest(since, token=None, headers=None, conn=None):
    r = h.request("POST", "/attachments/manifest", {"client_id": "formulus-test", "since_version": since},
                  token=token or rw_token(), headers=headers, conn=conn)
    assert r.status == 200, r
    return r.json


_tokens = {}


def rw_token():
    if "rw" not in _tokens:
        _tokens["rw"] = h.token_for("read-write")
    return _tokens["rw"]


def store_state():
    """What a refused request must leave as it was: the files, the temporary
    uploads, the attachment rows and the change counter."""
    files = []
    for d in (FILES, TMP):
        for root, _, names in os.walk(d):
            files += [os.path.join(root, n) for n in names]
    rows = h.sql("SELECT attachment_id, sha256, deleted, version FROM attachments ORDER BY attachment_id")
    counter = h.sql("SELECT last_change_id FROM sync_counter")
    return sorted(files), rows, counter


def admin_cli(*args):
    script = ". %s; stack_admin %s" % (os.path.join(h.REPO, "packaging/devstack.sh"), " ".join(args))
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=os.environ.copy())


class UploadAndDownload(unittest.TestCase):
    def test_upload_then_download_head_304_and_range(self):
        att, data = new_id(), os.urandom(100_000)
        r = put(att, data)
        self.assertEqual((r.status, r.json), (200, {"status": "success"}), r)
        self.assertEqual(r.header("x-api-version-used"), "1.0.0")
        self.assertTrue(os.path.isfile(os.path.join(FILES, sha(data)[:2], sha(data))))

        ro = h.token_for("read-only")
        g = get(att, token=ro)
        self.assertEqual(g.status, 200, g)
        self.assertEqual(g.body, data)
        self.assertEqual(g.header("etag"), '"%s"' % sha(data))
        self.assertEqual(g.header("content-type"), "image/jpeg")
        self.assertEqual(g.header("content-length"), str(len(data)))
        self.assertEqual(g.header("x-api-version-used"), "1.0.0")
        self.assertIsNone(g.header("last-modified"))

        hd = get(att, method="HEAD", token=ro)
        self.assertEqual(hd.status, 200, hd)
        self.assertEqual(hd.body, b"")
        for name in ("etag", "content-type", "content-length"):
            self.assertEqual(hd.header(name), g.header(name), name)

        for inm in ('"%s"' % sha(data), 'W/"%s"' % sha(data), '"x", "%s"' % sha(data), "*"):
            nm = get(att, headers={"If-None-Match": inm}, token=ro)
            self.assertEqual(nm.status, 304, (inm, nm))
            self.assertEqual(nm.body, b"")
            self.assertEqual(nm.header("etag"), '"%s"' % sha(data))
        self.assertEqual(get(att, headers={"If-None-Match": '"nope"'}).status, 200)

        part = get(att, headers={"Range": "bytes=1000-1999"})
        self.assertEqual(part.status, 206, part)
        self.assertEqual(part.body, data[1000:2000])
        self.assertEqual(part.header("content-range"), "bytes 1000-1999/%d" % len(data))

    def test_same_bytes_again_is_200_other_bytes_409(self):
        att, data = new_id(), os.urandom(5000)
        self.assertEqual(put(att, data).status, 200)
        version = int(h.sql("SELECT version FROM attachments WHERE attachment_id = '%s'" % att)[0][0])
        again = put(att, data)
        self.assertEqual((again.status, again.json), (200, {"status": "success"}))
        # A retried upload is no new change: clients do not download it again.
        self.assertEqual(int(h.sql("SELECT version FROM attachments WHERE attachment_id = '%s'" % att)[0][0]), version)
        before = store_state()
        other = put(att, os.urandom(5000))
        h.assert_problem(self, other, 409, "conflict")
        self.assertEqual(store_state(), before)
        self.assertEqual(get(att).body, data)

    def test_unknown_id_is_404(self):
        before = store_state()
        for method in ("GET", "HEAD"):
            r = get(new_id(), method=method)
            self.assertEqual(r.status, 404, r)
        h.assert_problem(self, get(new_id()), 404, "not-found")
        self.assertEqual(store_state(), before)

    def test_content_type_rules(self):
        cases = [
            (new_id("jpg"), "image/png", "image/png"),                      # the part's type wins
            (new_id("png"), "application/octet-stream", "image/png"),       # no real type: by extension
            (new_id("png"), None, "image/png"),
            (new_id("bin"), None, "application/octet-stream"),
            (new_id("pdf"), "not a type", "application/pdf"),
            (new_id("jpg"), "Image/JPEG; charset=binary", "image/jpeg"),
            (str(uuid.uuid4()), None, "application/octet-stream"),
        ]
        for att, part_type, expected in cases:
            self.assertEqual(put(att, b"bytes of " + att.encode(), ctype=part_type).status, 200)
            r = get(att)
            self.assertEqual(r.header("content-type"), expected, (att, part_type))
            ops = [o for o in manifest(0)["operations"] if o["attachment_id"] == att]
            self.assertEqual(ops[0]["content_type"], expected)

    def test_roles(self):
        att = new_id()
        ro = h.token_for("read-only")
        h.assert_problem(self, put(att, b"x", token=ro), 403, "forbidden")
        r = h.request("PUT", "/attachments/" + att, raw=b"x")
        h.assert_problem(self, r, 401, "unauthorized")
        self.assertEqual(put(att, b"x").status, 200)
        h.assert_problem(self, h.request("DELETE", "/attachments/" + att, token=rw_token()), 403, "forbidden")
        h.assert_problem(self, h.request("GET", "/attachments/" + att), 401, "unauthorized")
        r = h.request("POST", "/attachments/manifest", {"client_id": "c", "since_version": 0})
        h.assert_problem(self, r, 401, "unauthorized")


class Manifest(unittest.TestCase):
    def test_operations_in_version_order_with_absolute_urls(self):
        start = manifest(0)["current_version"]
        a, b = new_id(), new_id("png")
        da, db = os.urandom(1000), os.urandom(2500)
        self.assertEqual(put(a, da).status, 200)
        self.assertEqual(put(b, db, ctype="image/png").status, 200)
        m = manifest(start)
        self.assertEqual(set(m), {"current_version", "operations", "total_download_size", "operation_count"})
        ops = [o for o in m["operations"] if o["attachment_id"] in (a, b)]
        self.assertEqual([o["attachment_id"] for o in ops], [a, b])
        versions = [o["version"] for o in m["operations"]]
        self.assertEqual(versions, sorted(versions))
        self.assertTrue(all(v > start for v in versions))
        self.assertGreaterEqual(m["current_version"], versions[-1])
        self.assertEqual(ops[0], {"operation": "download", "attachment_id": a, "size": 1000, "content_type": "image/jpeg",
                                  "version": ops[0]["version"],
                                  "download_url": "https://%s:%d/attachments/%s" % (h.HOST, h.PORT, a)})
        downloads = [o for o in m["operations"] if o["operation"] == "download"]
        self.assertEqual(m["total_download_size"], sum(o["size"] for o in downloads))
        self.assertEqual(m["operation_count"], {"download": len(downloads),
                                                "delete": len(m["operations"]) - len(downloads)})
        # The URL the device called, not one of the server's own names.
        m2 = manifest(start, headers={"Host": "sync.example.org:8443"})
        url = [o for o in m2["operations"] if o["attachment_id"] == a][0]["download_url"]
        self.assertEqual(url, "https://sync.example.org:8443/attachments/" + a)
        # The url works as given (from a device that reaches this host).
        r = h.request("GET", "/attachments/" + a, token=rw_token())
        self.assertEqual(r.body, da)
        # From the current version on, only later changes.
        later = manifest(m["current_version"])
        self.assertTrue(all(o["version"] > m["current_version"] for o in later["operations"]))

    def test_current_version_is_the_shared_change_counter(self):
        # A record push and an upload take their versions from one counter.
        rec = "rec-" + uuid.uuid4().hex
        push = h.request("POST", "/sync/push", {
            "transmission_id": str(uuid.uuid4()), "client_id": "c1",
            "records": [{"id": rec, "schemaType": "t", "schemaVersion": "1", "data": {}}]}, token=rw_token())
        self.assertEqual(push.status, 200, push)
        change_id = int(h.sql("SELECT change_id FROM sync_records WHERE id = '%s'" % rec)[0][0])
        att = new_id()
        self.assertEqual(put(att, b"after the record").status, 200)
        m = manifest(change_id - 1)
        ops = [o for o in m["operations"] if o["attachment_id"] == att]
        self.assertGreater(ops[0]["version"], change_id)
        self.assertNotIn(change_id, [o["version"] for o in m["operations"]])  # the record's, not an attachment's
        self.assertGreaterEqual(m["current_version"], ops[0]["version"])

    def test_bad_manifest_requests(self):
        for body, field in [({"client_id": "c"}, "since_version"), ({"client_id": "c", "since_version": -1}, "since_version"),
                            ({"client_id": "c", "since_version": "5"}, "since_version"),
                            ({"client_id": "c", "since_version": 1.5}, "since_version"),
                            ({"since_version": 0}, "client_id"), ({"client_id": "", "since_version": 0}, "client_id")]:
            r = h.request("POST", "/attachments/manifest", body, token=rw_token())
            p = h.assert_problem(self, r, 400, "validation")
            self.assertEqual([e["field"] for e in p["errors"]], [field], body)


class Delete(unittest.TestCase):
    def test_delete_lists_a_delete_and_404s_downloads(self):
        att, data = new_id(), os.urandom(3000)
        self.assertEqual(put(att, data).status, 200)
        before = manifest(0)["current_version"]
        r = h.request("DELETE", "/attachments/" + att, token=h.admin_token())
        self.assertEqual((r.status, r.json), (200, {"status": "success"}), r)
        h.assert_problem(self, get(att), 404, "not-found")
        m = manifest(before)
        ops = [o for o in m["operations"] if o["attachment_id"] == att]
        self.assertEqual(ops, [{"operation": "delete", "attachment_id": att, "version": ops[0]["version"]}])
        self.assertGreater(ops[0]["version"], before)
        # Only the latest change of an attachment is listed, also from an old cursor.
        self.assertEqual([o["operation"] for o in manifest(0)["operations"] if o["attachment_id"] == att], ["delete"])
        h.assert_problem(self, h.request("DELETE", "/attachments/" + att, token=h.admin_token()), 404, "not-found")
        h.assert_problem(self, h.request("DELETE", "/attachments/" + new_id(), token=h.admin_token()), 404,
                         "not-found")
        # The id may be used again, with any bytes.
        self.assertEqual(put(att, b"new life").status, 200)
        self.assertEqual(get(att).body, b"new life")

    def test_file_removed_after_the_grace_period_unless_still_named(self):
        shared = os.urandom(4000)
        a, b, c = new_id(), new_id(), new_id()
        only = os.urandom(4000)
        for att, data in ((a, shared), (b, shared), (c, only)):
            self.assertEqual(put(att, data).status, 200)
        admin = h.admin_token()
        for att in (a, c):
            self.assertEqual(h.request("DELETE", "/attachments/" + att, token=admin).status, 200)
        path_shared = os.path.join(FILES, sha(shared)[:2], sha(shared))
        path_only = os.path.join(FILES, sha(only)[:2], sha(only))
        # In the grace period: a download authorized just before is still served.
        self.assertTrue(os.path.isfile(path_only))
        h.sql("UPDATE attachment_files_retired SET retired_at = retired_at - 3600")
        # Retention runs after a change, at most once a second per worker (issue 18).
        time.sleep(RETENTION_INTERVAL_S + 0.1)
        self.assertEqual(put(new_id(), os.urandom(10)).status, 200)
        self.assertFalse(os.path.exists(path_only))
        self.assertTrue(os.path.isfile(path_shared))  # b still names these bytes
        self.assertEqual(get(b).body, shared)
        self.assertEqual(h.sql("SELECT COUNT(*) FROM attachment_files_retired WHERE sha256 = '%s'" % sha(only)), [["0"]])


class BadInput(unittest.TestCase):
    def assert_unchanged(self, before, what):
        self.assertEqual(store_state(), before, what)

    def test_bad_ids(self):
        cases = {
            "a%2Fb.jpg": 400,            # a slash inside the id
            "%2E%2E": 400,
            ".hidden": 400,
            "a%01b": 400,
            "a%7Fb": 400,
            "a%20b": 400,
            "x" * 256: 400,
            "%C3%A9.jpg": 400,
            "a/b.jpg": 404,             # two path segments: no such route
        }
        for att, status in cases.items():
            before = store_state()
            r = put(att, b"data")
            if status == 400:
                p = h.assert_problem(self, r, 400, "validation")
                self.assertEqual([e["field"] for e in p["errors"]], ["attachment_id"], att)
            else:
                h.assert_problem(self, r, 404, "not-found")
            self.assert_unchanged(before, att)
            h.assert_problem(self, get(att), status, "validation" if status == 400 else "not-found")
        self.assertEqual(put("x" * 255, b"longest id").status, 200)

    def test_bad_bodies(self):
        att = new_id()
        cases = [
            ("no file field", [("photo", "p", "image/jpeg", b"data")], 400),
            ("a second file part", [("file", "p", "image/jpeg", b"one"), ("file", "q", "image/jpeg", b"two")], 400),
            ("another part", [("file", "p", "image/jpeg", b"one"), ("note", None, None, b"hi")], 400),
            ("another part first", [("note", None, None, b"hi"), ("file", "p", "image/jpeg", b"one")], 400),
            ("no parts", [], 400),
        ]
        for what, parts, status in cases:
            before = store_state()
            r = put(att, None, parts=parts)
            p = h.assert_problem(self, r, status, "validation")
            self.assertEqual([e["field"] for e in p["errors"]], ["file"], what)
            self.assert_unchanged(before, what)
        before = store_state()
        r = h.request("PUT", "/attachments/" + att, raw=b"just bytes", token=rw_token(),
                      headers={"Content-Type": "image/jpeg"})
        h.assert_problem(self, r, 400, "validation")
        self.assert_unchanged(before, "not multipart")
        # A body whose closing boundary never comes.
        body, ctype = multipart([("file", "p", "image/jpeg", os.urandom(200_000))])
        r = h.request("PUT", "/attachments/" + att, raw=body[:150_000], token=rw_token(),
                      headers={"Content-Type": ctype})
        h.assert_problem(self, r, 400, "validation")
        self.assert_unchanged(before, "truncated multipart")
        self.assertEqual(get(att).status, 404)

    def raw_put(self, att, body, ctype, content_length, send, close_after=True):
        raw = socket.create_connection((h.HOST, h.PORT), timeout=30)
        s = ssl.create_default_context(cafile=h.CACERT).wrap_socket(raw, server_hostname="localhost")
        try:
            s.sendall(("PUT /attachments/%s HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n"
                       "Content-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                       % (att, rw_token(), ctype, content_length)).encode())
            s.sendall(body[:send])
            if close_after:
                return b""
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return data
                data += chunk
        finally:
            s.close()

    def test_cut_off_and_lying_content_length(self):
        att = new_id()
        body, ctype = multipart([("file", "p", "image/jpeg", os.urandom(2_000_000))])
        before = store_state()
        # The client goes away halfway: nginx never hands the worker half a body.
        self.raw_put(att, body, ctype, len(body), len(body) // 2)
        time.sleep(0.5)
        self.assert_unchanged(before, "cut off halfway")
        # Content-Length promises more than comes (then the client gives up).
        self.raw_put(att, body, ctype, len(body) + 1000, len(body))
        time.sleep(0.5)
        self.assert_unchanged(before, "content-length too large")
        # Content-Length promises less: the body ends before its closing boundary.
        reply = self.raw_put(att, body, ctype, len(body) - 1000, len(body), close_after=False)
        self.assertTrue(reply.startswith(b"HTTP/1.1 400"), reply[:200])
        self.assertIn(b"application/problem+json", reply)
        self.assert_unchanged(before, "content-length too small")
        self.assertEqual(get(att).status, 404)

    def test_over_the_limit_is_413(self):
        att = new_id()
        before = store_state()
        # One byte over: the worker counts the file's bytes as they arrive.
        r = put(att, b"\0" * (MAX_BYTES + 1))
        h.assert_problem(self, r, 413, "payload-too-large")
        self.assert_unchanged(before, "one byte over")
        # Far over: refused by its Content-Length before any byte is read.
        r = self.raw_put(att, b"", "multipart/form-data; boundary=x", 200 * 1024 * 1024, 0, close_after=False)
        self.assertTrue(r.startswith(b"HTTP/1.1 413"), r[:200])
        self.assert_unchanged(before, "far over")
        # Exactly the limit is fine.
        self.assertEqual(put(att, b"\1" * MAX_BYTES).status, 200)


class Streaming(unittest.TestCase):
    def test_50_mib_upload_keeps_worker_memory_small_and_bytes_bypass_workers(self):
        # Fresh workers, so their peak RSS is this test's.
        h.stack("stack_stop_workers", "stack_start_workers")
        self.assertTrue(h.wait_until(lambda: h.request("GET", "/health").status == 200))
        data = os.urandom(50 << 20)
        att = new_id("bin")
        r = put(att, data, ctype="application/octet-stream")
        self.assertEqual(r.status, 200, r)
        peak = h.worker_peak_rss()
        print("worker peak RSS after a 50 MiB upload: %.1f MiB" % (peak / 1048576))
        if not h.SANITIZED:
            self.assertLess(peak, 24 << 20)
        self.assertEqual(len(os.listdir(TMP)), 0)

        # The download's bytes are sent by nginx: the workers together write a few KiB.
        self.assertEqual(get(att, headers={"Range": "bytes=0-0"}).status, 206)  # warm up
        before = h.worker_bytes_written()
        g = get(att)
        after = h.worker_bytes_written()
        self.assertEqual(sha(g.body), sha(data))
        self.assertLess(after - before, 64 * 1024)


class WorkerKilled(unittest.TestCase):
    """Issue 18: an upload is received into a file with no name (O_TMPFILE in tmp/),
    linked to its content-hash name only once its bytes are durable. A worker killed
    while receiving leaves nothing behind: no entry in tmp/ (no sweep needed), no
    file, no row; the client's retry stores it."""

    def test_killed_mid_upload_leaves_nothing_and_the_retry_stores_it(self):
        data = os.urandom(48 << 20)  # the worker spends a while writing and hashing it
        att = new_id("bin")
        outcome = {}

        def uploader():
            try:
                outcome["reply"] = put(att, data, ctype="application/octet-stream")
            except Exception as e:  # the connection cut
                outcome["reply"] = e

        th = threading.Thread(target=uploader, daemon=True)
        th.start()
        # An O_TMPFILE file reads as "<dir>/#<inode> (deleted)": it has no name.
        victim, seen = h.worker_with_open_file(lambda t: t.startswith(TMP + "/#") and t.endswith("(deleted)"),
                                               going=th.is_alive)
        self.assertIsNotNone(victim, "never saw a worker writing the upload into an unnamed file in tmp/")
        self.assertEqual(os.listdir(TMP), [], "the upload in progress has a name in tmp/")
        os.kill(victim, 9)
        th.join(60)
        reply = outcome.get("reply")
        if not isinstance(reply, Exception):
            h.assert_problem(self, reply, 502, "unavailable")
        self.assertEqual(os.listdir(TMP), [], (seen, "the killed upload left a file in tmp/"))
        self.assertFalse(os.path.exists(os.path.join(FILES, sha(data)[:2], sha(data))))
        self.assertEqual(h.sql(f"SELECT COUNT(*) FROM attachments WHERE attachment_id = '{att}'"), [["0"]])
        h.wait_for_workers()
        r = put(att, data, ctype="application/octet-stream")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(get(att).body, data)
        self.assertEqual(os.listdir(TMP), [])


class Concurrency(unittest.TestCase):
    """Uploads and deletions commit while manifest pullers follow their cursor.
    Every puller must see every change exactly once and end at the true state: a
    version taken outside the counter lock lets a puller's cursor pass a change
    that commits later, which this test catches (see db/attachment_repository.cpp)."""

    def test_pullers_miss_nothing_and_see_each_change_once(self):
        admin = h.admin_token()
        tokens = [h.token_for("read-write") for _ in range(4)]
        start = manifest(0)["current_version"]
        stop = threading.Event()
        lock = threading.Lock()
        uploaded, deleted, errors = [], [], []

        def uploader(token, n):
            conn = h.connection()
            for i in range(n):
                att = new_id()
                r = put(att, os.urandom(random.randint(1, 3000)), token=token, conn=conn)
                with lock:
                    (uploaded.append(att) if r.status == 200 else errors.append(("put", r.status, r.body[:200])))
                if i % 3 == 2:
                    with lock:
                        victim = uploaded[random.randrange(len(uploaded))] if uploaded else None
                        if victim in deleted:
                            victim = None
                        if victim:
                            deleted.append(victim)
                    if victim:
                        d = h.request("DELETE", "/attachments/" + victim, token=admin, conn=conn)
                        if d.status != 200:
                            with lock:
                                errors.append(("delete", d.status, d.body[:200]))
            conn.close()

        pullers = []

        def puller():
            seen = {}        # id -> latest operation
            pairs = set()    # (id, version): each change once
            cursor = start
            conn = h.connection()
            done = False
            while not done:
                done = stop.is_set()  # one more pull after the writers finished
                m = manifest(cursor, token=tokens[0], conn=conn)
                last = cursor
                for op in m["operations"]:
                    if op["version"] <= last:
                        errors.append(("order", cursor, op))
                    last = op["version"]
                    key = (op["attachment_id"], op["version"])
                    if key in pairs:
                        errors.append(("twice", key))
                    pairs.add(key)
                    seen[op["attachment_id"]] = op["operation"]
                if m["current_version"] < cursor:
                    errors.append(("cursor went back", cursor, m["current_version"]))
                cursor = m["current_version"]
            conn.close()
            with lock:
                pullers.append(seen)

        threads = [threading.Thread(target=uploader, args=(t, 24)) for t in tokens]
        readers = [threading.Thread(target=puller) for _ in range(3)]
        for t in readers + threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        for t in readers:
            t.join()
        self.assertEqual(errors, [])
        expected = {a: ("delete" if a in deleted else "download") for a in uploaded}
        self.assertEqual(len(uploaded), 96)
        self.assertGreater(len(deleted), 10)
        self.assertEqual(len(pullers), 3)
        for seen in pullers:
            mine = {a: op for a, op in seen.items() if a in expected}
            self.assertEqual(mine, expected)


class AdminTool(unittest.TestCase):
    def test_list_marks_unreferenced_delete_and_check(self):
        referenced, loose = new_id(), new_id()
        self.assertEqual(put(referenced, b"in a record").status, 200)
        self.assertEqual(put(loose, b"uploaded, no record yet").status, 200)
        push = h.request("POST", "/sync/push", {
            "transmission_id": str(uuid.uuid4()), "client_id": "c1",
            "records": [{"id": "obs-" + uuid.uuid4().hex, "schemaType": "survey", "schemaVersion": "1",
                         "data": {"photo": referenced, "note": "x"}}]}, token=rw_token())
        self.assertEqual(push.status, 200, push)

        out = admin_cli("attachments", "list")
        self.assertEqual(out.returncode, 0, out.stderr)
        rows = {line.split("\t")[0]: line.split("\t") for line in out.stdout.splitlines()}
        self.assertEqual(rows[referenced][1:4], [str(len(b"in a record")), "image/jpeg", sha(b"in a record")])
        self.assertEqual(len(rows[referenced]), 4)
        self.assertEqual(rows[loose][4:], ["unreferenced"])

        out = admin_cli("attachments", "check")
        self.assertEqual(out.returncode, 0, out.stderr)

        data = os.urandom(1000)
        victim = new_id()
        self.assertEqual(put(victim, data).status, 200)
        path = os.path.join(FILES, sha(data)[:2], sha(data))
        with open(path, "r+b") as f:
            f.write(b"X")
        try:
            out = admin_cli("attachments", "check")
            self.assertEqual(out.returncode, 1)
            self.assertIn(victim, out.stderr)
            self.assertIn("SHA-256", out.stderr)
        finally:
            with open(path, "r+b") as f:
                f.write(data[:1])

        out = admin_cli("attachments", "delete", loose)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(get(loose).status, 404)
        self.assertEqual([o["operation"] for o in manifest(0)["operations"] if o["attachment_id"] == loose], ["delete"])
        out = admin_cli("attachments", "delete", loose)
        self.assertEqual(out.returncode, 1)
        self.assertIn("no attachment", out.stderr)


if __name__ == "__main__":
    unittest.main()
