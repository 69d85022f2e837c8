"""nginx keeps FastCGI connections to the workers for GET and for attachment
uploads (PUT; issue 18): they are reused from request to request, other methods
still get a connection each, a mixed load of both through the same workers answers
everything, and workers that die while nginx holds connections to them cost no GET
or upload a 502 (nginx sends a request that meets a dead cached connection again
on a new one). A 304 over HTTP/1.1 keeps
its connection like any GET; over HTTP/2 (where nginx drops it) it is answered just
the same."""
import os
import subprocess
import threading
import unittest
import uuid

import harness as h
import test_attachments as ta

SOCK = os.path.join(h.STATE, "fcgi.sock")


def held_connections():
    """Inodes of the connections the workers hold on the FastCGI socket (ss -x: the
    accepted side carries the socket's path as its local address)."""
    out = subprocess.run(["ss", "-xH", "state", "connected"], capture_output=True, text=True, check=True).stdout
    inodes = set()
    for line in out.splitlines():
        cols = line.split()
        # u_str ESTAB recvq sendq local_path local_inode peer peer_inode (state given: no state column)
        if SOCK in cols:
            at = cols.index(SOCK)
            if at + 1 < len(cols):
                inodes.add(cols[at + 1])
    return inodes


def push(token, n=1):
    body = {"transmission_id": str(uuid.uuid4()), "client_id": "keepalive-test",
            "records": [{"id": str(uuid.uuid4()), "schemaType": "keepalive", "schemaVersion": "1",
                         "data": {"i": i}} for i in range(n)]}
    return h.request("POST", "/sync/push", body, token=token)


def load_on_connections(jobs):
    """Runs each job (kind, count, request) in a thread of its own: `count` calls of
    request(conn, i) on one HTTPS connection (a new one after a dropped connection).
    request answers (what, status). Returns the `what` of every 200 by kind, and the
    failures: (kind, status) for each other status or dropped connection."""
    done, failures = {}, []
    lock = threading.Lock()

    def run(kind, count, request):
        conn = h.connection(timeout=30)
        for i in range(count):
            try:
                what, status = request(conn, i)
            except Exception as e:  # noqa: BLE001 - a dropped connection is a failure
                what, status = None, repr(e)
                conn.close()
                conn = h.connection(timeout=30)
            with lock:
                if status == 200:
                    done.setdefault(kind, []).append(what)
                else:
                    failures.append((kind, status))
        conn.close()

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return done, failures


class KeptConnections(unittest.TestCase):
    def test_gets_reuse_the_same_fastcgi_connection(self):
        token = h.admin_token()
        conn = h.connection()
        for _ in range(5):
            self.assertEqual(h.request("GET", "/users", token=token, conn=conn).status, 200)
        first = held_connections()
        self.assertTrue(first, "no FastCGI connection is kept after GETs")
        for _ in range(30):
            self.assertEqual(h.request("GET", "/users", token=token, conn=conn).status, 200)
        second = held_connections()
        # One HTTPS connection, one request at a time: nginx reuses what it kept.
        self.assertTrue(first & second, (first, second))
        self.assertLessEqual(len(second), 4, second)
        conn.close()

    def test_other_methods_get_a_connection_each(self):
        token = h.admin_token()
        # nginx closes a connection it does not keep once the answer is in, and the
        # worker drops it then: pushes leave no connection behind.
        before = held_connections()
        for _ in range(10):
            self.assertEqual(push(token).status, 200)
        self.assertTrue(h.wait_until(lambda: not (held_connections() - before), timeout=5),
                        (before, held_connections()))

    def test_mixed_load_through_kept_and_single_connections_answers_everything(self):
        token = h.admin_token()

        def get(conn, i):
            return None, h.request("HEAD" if i % 5 == 4 else "GET", "/users", token=token, conn=conn).status

        def pushes(conn, i):
            return None, push(token, 20).status

        done, failures = load_on_connections([("get", 60, get)] * 6 + [("push", 15, pushes)] * 3)
        self.assertEqual(failures, [])
        self.assertEqual({kind: len(v) for kind, v in done.items()}, {"get": 360, "push": 45})

    def test_workers_killed_under_kept_connections_cost_no_get_an_error(self):
        token = h.admin_token()
        conn = h.connection()
        for _ in range(10):
            self.assertEqual(h.request("GET", "/users", token=token, conn=conn).status, 200)
        self.assertTrue(held_connections())
        h.kill_every_worker()
        statuses = [h.request("GET", "/users", token=token, conn=conn).status for _ in range(20)]
        self.assertEqual(statuses, [200] * 20)
        conn.close()

    def test_attachment_uploads_reuse_a_kept_connection(self):
        # With every worker killed first, no connection is held; through the upstream
        # that closes each connection, the worker has closed an upload's connection by
        # the time its answer arrives, so none is ever held after one. Kept, the
        # connection an upload came back on is held for the next, which nginx sends
        # on it: one connection (two if nginx first tried one it had cached before
        # the kill) for 20 uploads.
        token = ta.rw_token()
        h.kill_every_worker()
        self.assertEqual(held_connections(), set())
        conn = h.connection()
        seen = set()
        for _ in range(20):
            r = ta.put(ta.new_id("bin"), os.urandom(4096), ctype="application/octet-stream", token=token, conn=conn)
            self.assertEqual(r.status, 200, r.body)
            seen |= held_connections()
        conn.close()
        self.assertTrue(1 <= len(seen) <= 2, f"{len(seen)} FastCGI connections held for 20 uploads: {seen}")
        # The manifest (a POST under the same location) still gets a connection of its
        # own, which nginx closes after the answer: none is left behind.
        before = held_connections()
        for _ in range(5):
            ta.manifest(0, token=token)
        self.assertTrue(h.wait_until(lambda: not (held_connections() - before), timeout=5),
                        (before, held_connections()))

    def test_concurrent_uploads_on_kept_connections_lose_none_when_workers_die(self):
        # Uploads from more clients than workers: a worker that begins a request closes
        # the other connections it holds, on which nginx may already have sent an
        # upload (core/fcgi_server.cpp, step 2); nginx must send it again on another.
        # Between two such loads every worker is killed while nginx holds connections
        # to it. No upload may fail (no 502), and every one answered 200 is stored
        # with its bytes: it downloads as sent, and the manifest lists it once.
        token = ta.rw_token()
        sent, failures = {}, []

        def upload(conn, i):
            att, data = ta.new_id("bin"), os.urandom(4096 + i % 7)
            return (att, data), ta.put(att, data, ctype="application/octet-stream", token=token, conn=conn).status

        def load():
            done, failed = load_on_connections([("upload", 15, upload)] * 8)
            sent.update(done.get("upload", []))
            failures.extend(failed)

        since = ta.manifest(0, token=token)["current_version"]
        load()
        self.assertTrue(held_connections())
        h.kill_every_worker()
        load()
        self.assertEqual(failures, [])
        self.assertEqual(len(sent), 240)
        for att, data in sent.items():
            r = ta.get(att, token=token)
            self.assertEqual((r.status, ta.sha(r.body)), (200, ta.sha(data)), att)
        listed = [o["attachment_id"] for o in ta.manifest(since, token=token)["operations"]]
        self.assertEqual(sorted(a for a in listed if a in sent), sorted(sent))

    def test_a_304_over_http1_leaves_the_connection_open_for_the_next_get(self):
        # Socket inodes only grow: a connection made during the test has an inode
        # above every one held before it. GETs of 200 and 304 alternate on one
        # HTTPS connection; a worker that closed the connection after each 304 (as
        # until 0.5.0) makes nginx open a new one for the next request, once the few
        # it had cached before the test are used up: about one new inode per 304.
        # (The 200 is a GET answered by the worker itself: a file download is sent by
        # X-Accel-Redirect, whose connection nginx never keeps.)
        att = ta.new_id("bin")
        data = os.urandom(4096)
        self.assertEqual(ta.put(att, data, ctype="application/octet-stream").status, 200)
        etag = '"%s"' % ta.sha(data)
        token, admin = ta.rw_token(), h.admin_token()
        conn = h.connection()
        self.assertEqual(h.request("GET", "/users", token=admin, conn=conn).status, 200)
        floor = max((int(i) for i in held_connections()), default=0)
        seen = set()
        for _ in range(30):
            r = h.request("GET", "/attachments/" + att, token=token, conn=conn, headers={"If-None-Match": etag})
            self.assertEqual((r.status, r.body), (304, b""))
            self.assertEqual(h.request("GET", "/users", token=admin, conn=conn).status, 200)
            seen |= {int(i) for i in held_connections() if int(i) > floor}
        conn.close()
        self.assertLessEqual(len(seen), 1, f"{len(seen)} new FastCGI connections for 30 304s")

    def test_304s_over_http2_are_answered_on_one_client_connection(self):
        att = ta.new_id("bin")
        data = os.urandom(4096)
        self.assertEqual(ta.put(att, data, ctype="application/octet-stream").status, 200)
        url = f"https://{h.HOST}:{h.PORT}/attachments/{att}"
        out = subprocess.run(
            ["curl", "-sS", "--http2", "--cacert", h.CACERT, "-o", "/dev/null", "-w", "%{http_version} %{http_code}\n",
             "-H", "Authorization: Bearer " + ta.rw_token(), "-H", 'If-None-Match: "%s"' % ta.sha(data)] + [url] * 20,
            capture_output=True, text=True, timeout=60)
        self.assertEqual(out.stdout.split("\n")[:-1], ["2 304"] * 20, out.stderr)


if __name__ == "__main__":
    unittest.main()
