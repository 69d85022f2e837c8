"""What is per host today must hold with two hosts on two nodes: replays, page
tokens, login throttling, token revocation and the active bundle version cross hosts;
bundle files written by one host are served by the other from the shared directory;
two hosts migrating one fresh database at once apply each migration once."""
import json
import os
import re
import subprocess
import time
import unittest
import uuid

import cluster as c
import harness as h
import test_app_bundle as bundles


def push_body(n=3, tid=None):
    return {"transmission_id": tid or str(uuid.uuid4()), "client_id": "hosts-" + uuid.uuid4().hex[:6],
            "records": [{"id": f"hx-{uuid.uuid4().hex}", "schemaType": "hosts", "schemaVersion": "1",
                         "data": {"k": k}} for k in range(n)]}


class AcrossHosts(unittest.TestCase):
    def test_replay_on_the_other_host(self):
        token = h.token_for("read-write")
        body = push_body()
        first = c.request("host1", "POST", "/sync/push", body=body, token=token)
        self.assertEqual(first.status, 200, first)
        again = c.request("host2", "POST", "/sync/push", body=body, token=token)
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.body, first.body)
        self.assertEqual(again.header("x-idempotent-replay"), "true")
        changed = dict(body, records=body["records"][:1])
        self.assertEqual(c.request("host2", "POST", "/sync/push", body=changed, token=token).status, 409)

    def test_page_token_from_one_host_continues_on_the_other(self):
        token = h.token_for("read-write")
        body = push_body(5)
        self.assertEqual(c.request("host1", "POST", "/sync/push", body=body, token=token).status, 200)
        pull = {"client_id": "hosts-pull", "after_change_id": 0, "schema_types": ["hosts"]}
        first = c.request("host1", "POST", "/sync/pull?limit=2", body=pull, token=token)
        self.assertEqual(first.status, 200, first)
        self.assertTrue(first.json["has_more"])
        rest = c.request("host2", "POST", "/sync/pull?page_token=" + first.json["next_page_token"],
                         body=pull, token=token)
        self.assertEqual(rest.status, 200, rest)
        self.assertEqual(rest.json["records"][0]["change_id"], first.json["records"][-1]["change_id"] + 1)

    def test_login_failures_count_across_hosts(self):
        name, pw = h.make_user()
        wrong = {"username": name, "password": "wrong-password"}
        for k in range(10):  # login_max_failures_user, split between the hosts
            r = c.request(f"host{k % 2 + 1}", "POST", "/auth/login", body=wrong)
            self.assertEqual(r.status, 401, r)
        for host in ("host1", "host2"):
            r = c.request(host, "POST", "/auth/login", body={"username": name, "password": pw})
            h.assert_problem(self, r, 429, "rate-limited")

    def test_revocation_reaches_the_other_host_within_5_s(self):
        name, pw = h.make_user("admin")
        token = h.login(name, pw)["token"]
        self.assertEqual(c.request("host2", "GET", "/users", token=token).status, 200)
        r = c.request("host1", "POST", "/users/reset-password",
                      body={"username": name, "newPassword": "another-password-1"}, token=h.admin_token())
        self.assertEqual(r.status, 200, r)
        # Every worker of host2 may trust the old token version for revocation_cache_seconds;
        # 5 s after the change, none may.
        time.sleep(5.0)
        for _ in range(8):
            h.assert_problem(self, c.request("host2", "GET", "/users", token=token), 401, "unauthorized")

    def test_bundle_pushed_and_switched_on_one_host_is_served_by_the_other(self):
        token = h.admin_token()
        tag = uuid.uuid4().hex
        files = bundles.bundle_files(tag)
        body, ctype = bundles.multipart(bundles.make_zip(files))
        r = c.request("host1", "POST", "/app-bundle/push", raw=body, token=token, headers={"Content-Type": ctype})
        self.assertEqual(r.status, 200, r)
        version = r.json["manifest"]["version"]
        # The files are in the shared directory: host2 serves what host1 wrote.
        got = c.request("host2", "GET", bundles.download_url("app/index.html", preview=True), token=token)
        self.assertEqual(got.status, 200, got)
        self.assertEqual(got.body, files["app/index.html"].encode())
        self.assertEqual(c.request("host2", "GET", "/app-bundle/manifest", token=token).status, 200)
        s = c.request("host1", "POST", "/app-bundle/switch/" + version, token=token)
        self.assertEqual(s.status, 200, s)
        since = time.time()
        while c.request("host2", "GET", "/app-bundle/manifest", token=token).json["version"] != version:
            self.assertLess(time.time() - since, 1.25, "host2 still serves the old active version")
            time.sleep(0.05)
        got = c.request("host2", "GET", bundles.download_url("app/js/main.js"), token=token)
        self.assertEqual(got.body, files["app/js/main.js"].encode())


class NodeState(unittest.TestCase):
    """A node that is not Synced (here desynced by hand, as a donor is) is not used, and a
    host with no usable node answers /health with 503 so a balancer takes it out."""

    def set_desync(self, nodes, on):
        for n in nodes:
            c.node_sql(n, f"SET GLOBAL wsrep_desync = {'ON' if on else 'OFF'}", db="mysql")
        want = "Donor/Desynced" if on else "Synced"
        self.assertTrue(h.wait_until(lambda: all(c.status(n, "wsrep_local_state_comment") == want for n in nodes),
                                     timeout=30), f"nodes {nodes} not {want}")

    def test_desynced_nodes_are_skipped_and_none_usable_is_503(self):
        token = h.token_for("read-write")
        try:
            self.set_desync([1], True)  # host1's first node
            time.sleep(2.2)  # every worker rechecks its node within 2 s
            self.assertEqual(c.request("host1", "GET", "/health").status, 200)
            r = c.request("host1", "POST", "/sync/push", body=push_body(), token=token)
            self.assertEqual(r.status, 200, r)
            self.set_desync([2, 3], True)
            time.sleep(2.2)
            for host in ("host1", "host2"):
                r = c.request(host, "GET", "/health")
                self.assertEqual(r.status, 503, r)
                self.assertEqual(r.json["status"], "error")
                r = c.request(host, "POST", "/sync/push", body=push_body(), token=token)
                h.assert_problem(self, r, 503, "unavailable")
                self.assertIsNotNone(r.header("retry-after"), r)
        finally:
            self.set_desync([1, 2, 3], False)
        for host in ("host1", "host2"):
            self.assertTrue(h.wait_until(lambda: c.request(host, "GET", "/health").status == 200, timeout=10))
            r = c.request(host, "POST", "/sync/push", body=push_body(), token=token)
            self.assertEqual(r.status, 200, r)


class MigrationsOnce(unittest.TestCase):
    """Two hosts start together on two nodes against a fresh database: GET_LOCK is local
    to a node, so only the lease row keeps them from applying a migration twice."""

    def config_for(self, host, db):
        conf = os.path.join(c.CLUSTER, f"host{host}/synkronus.conf")
        text = open(conf).read().replace("db_name = synkronus", f"db_name = {db}")
        path = os.path.join(c.CLUSTER, f"migrate-{db}-host{host}.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_two_hosts_migrate_at_once(self):
        files = sorted(f for f in os.listdir(os.path.join(h.REPO, "sql")) if f.endswith(".sql"))
        for round_ in range(3):
            db = f"synk_migrate_{uuid.uuid4().hex[:8]}"
            c.node_sql(1, f"CREATE DATABASE {db} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin; "
                          f"GRANT ALL ON {db}.* TO 'synkronus'@'127.0.0.1'", db="mysql")
            admin = os.path.join(h.REPO, "build/synkronus-admin")
            procs = [subprocess.Popen([admin, "--config", self.config_for(k, db), "migrate"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in (1, 2)]
            outs = [p.communicate(timeout=300) for p in procs]
            for p, (out, err) in zip(procs, outs):
                self.assertEqual(p.returncode, 0, f"round {round_}: {out} {err}")
            applied = sorted(re.search(r"(\d+) migration\(s\) applied", out).group(1) for out, _ in outs)
            self.assertEqual(applied, ["0", str(len(files))], outs)
            rows = c.sql(f"SELECT name FROM {db}.schema_migrations ORDER BY version")
            self.assertEqual([r[0] for r in rows], files)
            c.node_sql(1, f"DROP DATABASE {db}", db="mysql")


if __name__ == "__main__":
    unittest.main()
