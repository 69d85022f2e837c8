"""Issue 15 on the cluster: presence and audit writes never make a push rerun.

The argument (services/presence.h): a push's write-set and locks are on its own
tables (transmissions, counter, records, conflicts, record counts, history,
attachment references); a presence write is one device_presence row, an audit
event one new audit_log row in an admin transaction. They share no row, so Galera
can neither fail a push at certification nor brute-force abort it because of them.

The check: pushes one at a time through host1 (so no push can ever conflict with
another push), while presence writes run flat out through both hosts
(presence_interval = 0: every pull writes its device's row, fresh devices and the
pusher's own device, whose row both hosts update) and an admin changes a user's role
back and forth through both hosts (an audit event each). Every rerun of a push is
logged ("push reran", log_level = debug), so any rerun would be one caused by a
presence or audit write: there must be none. The control shows the count is live:
a second pusher through host2 makes pushes collide on the change counter and rerun.
"""
import os
import threading
import time
import unittest
import uuid

import cluster as c
import harness as h

SECONDS = float(os.environ.get("PRESENCE_RERUN_SECONDS", "15"))
WORKER_ENV = "SYNKRONUS_LOG_LEVEL=debug SYNKRONUS_PRESENCE_INTERVAL=0"


def log_path(n):
    return os.path.join(c.CLUSTER, f"host{n}", "logs", "workers.log")


def log_sizes():
    return {n: os.path.getsize(log_path(n)) for n in (1, 2)}


def log_lines_since(sizes, needle):
    """The lines holding `needle` that the hosts' worker logs gained since `sizes`."""
    found = []
    for n, size in sizes.items():
        with open(log_path(n), "rb") as f:
            f.seek(size)
            found += [line.decode(errors="replace") for line in f if needle.encode() in line]
    return found


class Loop(threading.Thread):
    """Calls `step(conn)` until stopped, on one kept-alive connection to `host`."""

    def __init__(self, host, step):
        super().__init__(daemon=True)
        self.host, self.step, self.stop, self.done, self.errors = host, step, threading.Event(), 0, []

    def run(self):
        conn = c.connector(self.host)()
        while not self.stop.is_set():
            try:
                self.step(conn)
                self.done += 1
            except Exception as e:  # noqa: BLE001 - reported by the test
                self.errors.append(repr(e))
                conn.close()
                conn = c.connector(self.host)()
        conn.close()


def pusher(host, token, cid, ids):
    """A loop pushing `ids` through `host` flat out, every push answered 200."""
    def step(conn):
        # Updates the same records every time (after the first push inserts them):
        # each push writes history, attachment references and record counts too.
        body = {"transmission_id": str(uuid.uuid4()), "client_id": cid,
                "records": [{"id": i, "schemaType": "p4rerun", "schemaVersion": "1",
                             "data": {"n": time.time(), "photo": f"{uuid.uuid4()}.jpg"}} for i in ids]}
        r = h.request("POST", "/sync/push", body=body, token=token, conn=conn)
        assert r.status == 200, r
    return Loop(host, step)


def debug_workers():
    """Restarts both hosts' workers logging every rerun (and writing presence on every request)."""
    for n in (1, 2):
        c.do(f"host_do {n} 'stack_stop_workers; {WORKER_ENV} stack_start_workers'")


def default_workers():
    for n in (1, 2):
        c.do(f"host_do {n} 'stack_stop_workers; stack_start_workers'")


class PresenceAndAuditNeverRerunPushes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        debug_workers()

    @classmethod
    def tearDownClass(cls):
        default_workers()

    def test_no_push_reruns_under_presence_and_audit_writes_from_both_hosts(self):
        pusher_name, pw = h.make_user("read-write")
        push_token = h.login(pusher_name, pw)["token"]
        admin = h.admin_token()
        cid = "p4-pusher-" + uuid.uuid4().hex[:8]
        prefix = "p4-dev-" + uuid.uuid4().hex[:6] + "-"

        def presence_step(conn):
            # Every other pull is the pusher's own device: its row is written through
            # both hosts and by host1's pushes; the others are new devices (inserts).
            presence_step.k += 1
            dev = cid if presence_step.k % 2 else prefix + str(presence_step.k)
            body = {"client_id": dev, "after_change_id": 0, "schema_types": ["p4none"]}
            r = h.request("POST", "/sync/pull", body=body, token=push_token, conn=conn)
            assert r.status == 200, r
        presence_step.k = 0

        def role_steps(target):
            # One user per host, so the role changes of the two hosts do not collide.
            def step(conn):
                step.k += 1
                role = ("read-only", "read-write")[step.k % 2]
                r = h.request("POST", "/admin/users/role", body={"username": target, "role": role}, token=admin,
                              conn=conn)
                assert r.status == 200, r
            step.k = 0
            return step

        events_before = int(c.sql("SELECT COUNT(*) FROM audit_log WHERE action = 'user.role'")[0][0])
        ids = [f"p4-{uuid.uuid4().hex}" for _ in range(10)]
        sizes = log_sizes()
        writers = [Loop(host, step) for host in ("host1", "host2")
                   for step in (presence_step, role_steps(h.make_user("read-write")[0]))]
        writers.append(Loop("host2", presence_step))
        push = pusher("host1", push_token, cid, ids)
        for t in writers + [push]:
            t.start()
        time.sleep(SECONDS)
        for t in [push] + writers:
            t.stop.set()
        for t in [push] + writers:
            t.join(60)
        for t in [push] + writers:
            self.assertEqual(t.errors, [], t.host)

        reruns = log_lines_since(sizes, "push reran")
        self.assertEqual(len(reruns), 0, f"pushes reran beside presence and audit writes only: {reruns[:3]}")
        # The writes really ran beside the pushes, and were written, on both hosts.
        self.assertGreaterEqual(push.done, 20)
        devices = int(c.sql(f"SELECT COUNT(*) FROM device_presence WHERE client_id LIKE '{prefix}%'")[0][0])
        self.assertGreaterEqual(devices, 50)
        events = int(c.sql("SELECT COUNT(*) FROM audit_log WHERE action = 'user.role'")[0][0]) - events_before
        self.assertGreaterEqual(events, 20)
        pushes = int(c.sql(f"SELECT pushes FROM device_presence WHERE client_id = '{cid}'")[0][0])
        self.assertGreaterEqual(pushes, 1)
        print(f"\n    {push.done} pushes, 0 reruns; beside them {devices} new devices, "
              f"{events} role changes with their audit events, "
              f"{len(log_lines_since(sizes, 'presence write reran'))} presence reruns", end=" ")

        # Control: a second pusher through host2 collides with the first on the change
        # counter, and those reruns are seen by the same count.
        sizes = log_sizes()
        other_name, other_pw = h.make_user("read-write")
        other = pusher("host2", h.login(other_name, other_pw)["token"], "p4-other-" + uuid.uuid4().hex[:8],
                            [f"p4-{uuid.uuid4().hex}" for _ in range(10)])
        push = pusher("host1", push_token, cid, ids)
        push.start(), other.start()
        self.assertTrue(h.wait_until(lambda: log_lines_since(sizes, "push reran"), timeout=30, interval=0.5),
                        "two pushers on two hosts never collided: is the rerun count live?")
        push.stop.set(), other.stop.set()
        push.join(60), other.join(60)
        self.assertEqual(push.errors + other.errors, [])


if __name__ == "__main__":
    unittest.main()
