"""The worker pool and the database link under failure: a worker killed with SIGKILL
under load, and the database stopped and started again."""
import os
import signal
import threading
import time
import unittest

import harness as h


def get(path, token=None, conn=None):
    return h.request("GET", path, token=token, conn=conn)


# Longer than nginx's fastcgi_read_timeout (60 s): a request is judged by the answer
# the server gives it, never by the client's patience, so a slow answer under a
# sanitizer build on a loaded machine is not counted as a lost one (and a request
# nginx gives up on is its 504, a failure).
CLIENT_TIMEOUT = 75


# What the load asks for: an authenticated request with a database query whose answer
# (one device at most, well under 1 KB) the worker writes in one piece when it finishes.
# A larger answer (GET /users grows with every user the suite made: 11 KB under the
# sanitizer run) goes out in libfcgi's 8 KB pieces, and a kill between two of them
# reaches the client as a 200 that nginx began passing on and then cut, never as the
# 502 the killed request is owed.
LOAD_PATH = "/admin/devices?limit=1"


class Load:
    """Threads sending LOAD_PATH until stopped; records every outcome."""

    def __init__(self, threads=6):
        self.token = h.admin_token()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.failures = []  # (status or exception text, content type, body, seconds taken)
        self.slowest = 0.0
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]

    def run(self):
        conn = h.connection(timeout=CLIENT_TIMEOUT)
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                r = get(LOAD_PATH, token=self.token, conn=conn)
                outcome = (r.status, r.header("content-type"), r.body[:200])
            except Exception as e:  # a dropped connection counts as a failure
                outcome = (repr(e), None, b"")
                conn.close()
                conn = h.connection(timeout=CLIENT_TIMEOUT)
            took = time.monotonic() - t0
            with self.lock:
                self.slowest = max(self.slowest, took)
                if outcome[0] == 200:
                    self.ok += 1
                else:
                    self.failures.append(outcome + (round(took, 2),))
        conn.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(CLIENT_TIMEOUT + 15)
        if self.slowest > 5:  # not a failure by itself; shown for whoever reads the log
            print(f"\n    the slowest request under load took {self.slowest:.1f} s", flush=True)


class Resilience(unittest.TestCase):
    """One class, so the database outage (test_z) runs after the pool tests."""

    def test_a_sigkill_under_load_loses_at_most_the_inflight_request(self):
        before = h.wait_for_workers()
        self.assertGreaterEqual(len(before), 2, before)
        victim = before[0]
        with Load() as load:
            # Conditions, not pauses: a slow (sanitizer) build serves fewer per second.
            h.wait_until(lambda: load.ok > 20, timeout=20, interval=0.05)
            ok_before_kill = load.ok
            os.kill(victim, signal.SIGKILL)
            h.wait_until(lambda: load.ok > ok_before_kill + 20 and victim not in h.worker_pids(), timeout=20)
        self.assertGreater(ok_before_kill, 20, "the load did not run")
        self.assertGreater(load.ok, ok_before_kill + 20, "requests stopped succeeding after the kill")
        # Only the request the killed worker was serving may fail, and nginx answers it
        # with its own problem+json 502.
        self.assertLessEqual(len(load.failures), 2, load.failures)
        for status, ctype, _, _ in load.failures:
            self.assertEqual(status, 502, load.failures)
            self.assertEqual(ctype, "application/problem+json", load.failures)

        # The supervisor replaces the dead worker.
        def replaced():
            now = h.worker_pids()
            return len(now) == len(before) and victim not in now
        self.assertTrue(h.wait_until(replaced, timeout=10), (before, h.worker_pids()))
        after = h.worker_pids()
        self.assertEqual(len(set(after) - set(before)), 1, (before, after))
        # Every worker serves again.
        token = h.admin_token()
        statuses = [get("/users", token=token).status for _ in range(3 * len(after))]
        self.assertEqual(statuses, [200] * len(statuses))

    def test_b_killing_every_worker_once_recovers(self):
        h.kill_every_worker()
        self.assertTrue(h.wait_until(lambda: get("/health").status == 200, timeout=10))
        self.assertEqual(get("/users", token=h.admin_token()).status, 200)

    def test_z_database_stopped_gives_503_and_recovers_by_itself(self):
        token = h.admin_token()
        self.assertEqual(get("/health").status, 200)
        self.assertEqual(get("/users", token=token).status, 200)
        try:
            h.stack("stack_stop_db")
            # Several requests, so every worker (each with its own connection) is hit.
            for _ in range(6):
                r = get("/health")
                self.assertEqual(r.status, 503, r)
                self.assertEqual(r.header("content-type"), "application/json")
                body = r.json
                self.assertEqual(body["status"], "error")
                self.assertIn("error", body)
                self.assertRegex(body["timestamp"], r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
            for _ in range(6):
                r = get("/users", token=token)
                p = h.assert_problem(self, r, 503, "unavailable")
                self.assertIsNotNone(r.header("retry-after"), r)
                self.assertEqual(r.header("x-api-version-used"), "1.0.0")
                for leak in ("/", "SQL", "mysql", "errno", "sock"):
                    self.assertNotIn(leak, p["detail"])
            r = h.request("POST", "/auth/login", {"username": "admin", "password": h.ADMIN_PASSWORD})
            h.assert_problem(self, r, 503, "unavailable")
            # Endpoints that need no database keep working.
            self.assertEqual(get("/openapi.yaml").status, 200)
        finally:
            h.stack("stack_start_db")

        def healthy():
            return get("/health").status == 200 and get("/users", token=token).status == 200
        self.assertTrue(h.wait_until(healthy, timeout=30, interval=0.3), "the service did not recover")
        # Every worker has reconnected: no request fails any more.
        statuses = [get("/users", token=token).status for _ in range(12)]
        self.assertEqual(statuses, [200] * 12)
        self.assertEqual(get("/health").json["status"], "ok")
        self.assertEqual(h.request("POST", "/auth/login",
                                   {"username": "admin", "password": h.ADMIN_PASSWORD}).status, 200)


if __name__ == "__main__":
    unittest.main()
