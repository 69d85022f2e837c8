"""The admin API (CONTRACT section 8) with two hosts on a Galera cluster: a logout on
one host is refused on the other within 5 s, a device that syncs through both hosts is
one device through either, and audit events written through both hosts are all listed."""
import time
import unittest
import uuid

import cluster as c
import harness as h

HOSTS = ("host1", "host2")


def admin(host, method, path, body=None):
    return c.request(host, method, path, body=body, token=h.admin_token())


class AdminAcrossHosts(unittest.TestCase):
    def test_logout_on_one_host_is_refused_on_the_other_within_5_s(self):
        name, pw = h.make_user("read-write")
        s = h.login(name, pw)
        self.assertEqual(c.request("host2", "GET", "/users", token=s["token"]).status, 403)  # valid, not admin
        since = time.time()
        r = c.request("host1", "POST", "/auth/logout", body={"refreshToken": s["refreshToken"]}, token=s["token"])
        self.assertEqual(r.status, 204, r)
        # Every worker of host2 may trust the token for up to 5 s; after that, none may.
        time.sleep(max(0.0, since + 5.0 - time.time()))
        for _ in range(8):
            h.assert_problem(self, c.request("host2", "GET", "/users", token=s["token"]), 401, "unauthorized")
        self.assertEqual(c.request("host2", "POST", "/auth/refresh", body={"refreshToken": s["refreshToken"]}).status,
                         401)

    def test_a_device_syncing_through_both_hosts_is_one_device_through_either(self):
        name, pw = h.make_user("read-write")
        tok = h.login(name, pw)["token"]
        cid = "both-" + uuid.uuid4().hex[:10]
        body = {"transmission_id": str(uuid.uuid4()), "client_id": cid,
                "records": [{"id": f"dev-{uuid.uuid4().hex}", "schemaType": "hostsdev", "schemaVersion": "1",
                             "data": {"k": 1}}]}
        self.assertEqual(c.request("host1", "POST", "/sync/push", body=body, token=tok).status, 200)
        pull = {"client_id": cid, "after_change_id": 0, "schema_types": ["hostsdev"]}
        self.assertEqual(c.request("host2", "POST", "/sync/pull", body=pull, token=tok).status, 200)
        body2 = dict(body, transmission_id=str(uuid.uuid4()),
                     records=[dict(body["records"][0], id=f"dev-{uuid.uuid4().hex}")])
        self.assertEqual(c.request("host2", "POST", "/sync/push", body=body2, token=tok).status, 200)
        self.assertEqual(c.request("host1", "POST", "/sync/pull", body=pull, token=tok).status, 200)

        def rows(host):
            r = admin(host, "GET", "/admin/devices?limit=500")
            assert r.status == 200, r
            return [d for d in r.json["devices"] if d["client_id"] == cid]

        for host in HOSTS:
            found = rows(host)
            self.assertEqual(len(found), 1, (host, found))
            self.assertEqual(found[0]["username"], name)
            self.assertGreaterEqual(found[0]["pushes"], 1)
        # Both hosts read the same row.
        self.assertTrue(h.wait_until(lambda: rows("host1") == rows("host2"), timeout=10))

    def test_audit_events_written_through_both_hosts_are_all_listed(self):
        names = []
        for k in range(6):
            host = HOSTS[k % 2]
            name = h.unique_name("aud")
            r = admin(host, "POST", "/users/create", {"username": name, "password": "password-123", "role": "read-only"})
            self.assertEqual(r.status, 201, r)
            names.append(name)
        for host in HOSTS:
            events = admin(host, "GET", "/admin/audit?action=user.create&actor=admin&limit=100").json["events"]
            mine = [e for e in events if e["target"] in names]
            self.assertEqual(sorted(e["target"] for e in mine), sorted(names), host)
            self.assertEqual(len({e["id"] for e in mine}), 6, host)
            ids = [e["id"] for e in events]
            self.assertEqual(ids, sorted(ids, reverse=True), host)


if __name__ == "__main__":
    unittest.main()
