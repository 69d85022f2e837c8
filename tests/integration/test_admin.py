"""CONTRACT section 8 (part A): logout, roles, overview, devices, provisioning, audit log."""
import base64
import json
import threading
import time
import unittest
import uuid

import harness as h

ADMIN_ROUTES = [("GET", "/admin/overview", None), ("GET", "/admin/devices", None),
                ("GET", "/admin/audit", None), ("POST", "/admin/users/role", {"username": "x", "role": "admin"}),
                ("POST", "/admin/devices/provision", {"username": "x"})]


def admin(method, path, body=None):
    return h.request(method, path, body, token=h.admin_token())


def audit(**filters):
    q = "&".join(f"{k}={v}" for k, v in filters.items())
    r = admin("GET", "/admin/audit" + ("?" + q if q else ""))
    assert r.status == 200, r
    return r.json


def push(token, client_id, records, tid=None):
    return h.request("POST", "/sync/push", {"transmission_id": tid or uuid.uuid4().hex, "client_id": client_id,
                                             "records": records}, token=token)


class Roles(unittest.TestCase):
    def test_non_admins_get_403_on_every_admin_route(self):
        for role in ("read-only", "read-write"):
            token = h.token_for(role)
            for method, path, body in ADMIN_ROUTES:
                h.assert_problem(self, h.request(method, path, body, token=token), 403, "forbidden")
        for method, path, body in ADMIN_ROUTES:
            h.assert_problem(self, h.request(method, path, body), 401, "unauthorized")

    def test_role_change_answers_revokes_and_is_audited(self):
        name, pw = h.make_user("read-only")
        old = h.login(name, pw)
        r = admin("POST", "/admin/users/role", {"username": name, "role": "read-write"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"username": name, "role": "read-write"})
        h.wait_refused(self, old["token"], time.time())
        self.assertEqual(h.request("POST", "/auth/refresh", {"refreshToken": old["refreshToken"]}).status, 401)
        ev = audit(action="user.role", actor="admin")["events"][0]
        self.assertEqual((ev["target"], ev["detail"]), (name, {"role": "read-write"}))

    def test_role_change_bad_input_names_the_field(self):
        for body, field in (({"username": "a", "role": "boss"}, "role"), ({"username": "a b", "role": "admin"}, "username"),
                            ({"role": "admin"}, "username")):
            p = h.assert_problem(self, admin("POST", "/admin/users/role", body), 400, "validation")
            self.assertEqual({e["field"] for e in p["errors"]}, {field}, p)
        h.assert_problem(self, admin("POST", "/admin/users/role", {"username": "nobody-" + uuid.uuid4().hex[:8],
                                                                     "role": "admin"}), 404, "not-found")

    def test_two_concurrent_demotions_never_leave_no_admin(self):
        # Demote every admin but two, then race the two demotions many times.
        for round_ in range(5):
            a, _ = h.make_user("admin")
            b, _ = h.make_user("admin")
            tok_a = h.login(a, "password-123")["token"]
            others = [u["username"] for u in admin("GET", "/users").json if u["role"] == "admin" and u["username"] not in (a, b)]
            for o in others:
                self.assertEqual(h.request("POST", "/admin/users/role", {"username": o, "role": "read-write"},
                                           token=tok_a).status, 200)
            h._admin_token = None
            results = []
            barrier = threading.Barrier(2)

            tok_b = h.login(b, "password-123")["token"]

            def demote(who, tok):
                barrier.wait()
                results.append(h.request("POST", "/admin/users/role", {"username": who, "role": "read-only"},
                                         token=tok).status)

            ts = [threading.Thread(target=demote, args=(b, tok_a)), threading.Thread(target=demote, args=(a, tok_b))]
            [t.start() for t in ts]
            [t.join() for t in ts]
            # The loser is refused either by the last-admin rule (409) or, when its own
            # demotion committed before its request was authenticated, as revoked (401).
            self.assertEqual(sorted(results)[0], 200, results)
            self.assertIn(sorted(results)[1], (401, 409), results)
            admins = [r[0] for r in h.sql("SELECT username FROM users WHERE role = 'admin'")]
            self.assertEqual(len(admins), 1, admins)
            # Give "admin" (the suite's own) its role back for the next round and the other tests.
            left = admins[0]
            if left != "admin":
                tok = h.login(left, "password-123")["token"]
                self.assertEqual(h.request("POST", "/admin/users/role", {"username": "admin", "role": "admin"},
                                           token=tok).status, 200)
                h._admin_token = None


class Logout(unittest.TestCase):
    def test_logout_revokes_the_access_token_and_the_refresh_chain(self):
        name, pw = h.make_user("read-write")
        s = h.login(name, pw)
        other = h.login(name, pw)  # another session of the same user keeps working
        t0 = time.time()
        r = h.request("POST", "/auth/logout", {"refreshToken": s["refreshToken"]}, token=s["token"])
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")
        self.assertIsNotNone(r.header("x-api-version-used"))
        # The jti is refused on every worker within 5 s.
        deadline = t0 + 5
        while True:
            codes = {h.request("POST", "/sync/pull", {"client_id": "c"}, token=s["token"]).status for _ in range(6)}
            if codes == {401}:
                break
            self.assertLess(time.time(), deadline, codes)
            time.sleep(0.2)
        self.assertLessEqual(time.time() - t0, 5.5)
        self.assertEqual(h.request("POST", "/auth/refresh", {"refreshToken": s["refreshToken"]}).status, 401)
        self.assertEqual(h.request("POST", "/sync/pull", {"client_id": "c"}, token=other["token"]).status, 200)
        self.assertEqual(h.request("POST", "/auth/refresh", {"refreshToken": other["refreshToken"]}).status, 200)

    def test_logout_without_body_and_bad_body(self):
        name, pw = h.make_user("read-only")
        s = h.login(name, pw)
        p = h.assert_problem(self, h.request("POST", "/auth/logout", {"refreshToken": 5}, token=s["token"]), 400, "validation")
        self.assertEqual([e["field"] for e in p["errors"]], ["refreshToken"])
        self.assertEqual(h.request("POST", "/auth/logout", token=s["token"]).status, 204)
        h.assert_problem(self, h.request("POST", "/auth/logout"), 401, "unauthorized")


class Provision(unittest.TestCase):
    def decode_frmls(self, s):
        self.assertTrue(s.startswith("FRMLS:") and s.endswith(";;"), s)
        parts = dict(p.split(":", 1) for p in s[len("FRMLS:"):-2].split(";"))
        return {k: base64.b64decode(v, validate=True).decode() for k, v in parts.items()}

    def test_provision_creates_a_device_user_that_can_sync(self):
        name = h.unique_name("dev")
        r = admin("POST", "/admin/devices/provision", {"username": name, "server_url": "https://sync.example.org"})
        self.assertEqual(r.status, 200, r)
        b = r.json
        self.assertEqual(set(b), {"username", "password", "server_url", "frmls", "qr_svg"})
        self.assertRegex(b["password"], r"^([a-km-np-z2-9]{4}-){5}[a-km-np-z2-9]{4}$")
        self.assertEqual(self.decode_frmls(b["frmls"]), {"v": "1", "s": "https://sync.example.org", "u": name,
                                                           "p": b["password"]})
        self.assertTrue(b["qr_svg"].startswith("<svg xmlns=\"http://www.w3.org/2000/svg\""), b["qr_svg"][:80])
        tok = h.login(name, b["password"])["token"]
        claims = json.loads(base64.urlsafe_b64decode(tok.split(".")[1] + "=="))
        self.assertEqual(claims["role"], "read-write")
        self.assertEqual(push(tok, "formulus-" + name, []).status, 200)
        ev = audit(action="device.provision")["events"][0]
        self.assertEqual(ev["target"], name)
        self.assertNotIn(b["password"], json.dumps(ev))

    def test_provision_again_gives_a_new_password_and_revokes_sessions(self):
        name, pw = h.make_user("read-only")
        s = h.login(name, pw)
        r = admin("POST", "/admin/devices/provision", {"username": name})
        self.assertEqual(r.status, 200, r)
        # server_url defaults to https:// + the Host the request named.
        self.assertEqual(r.json["server_url"], f"https://{h.HOST}:{h.PORT}")
        h.wait_refused(self, s["token"], time.time())
        self.assertEqual(h.request("POST", "/auth/login", {"username": name, "password": pw}).status, 401)
        h.login(name, r.json["password"])

    def test_admin_accounts_are_never_provisioned(self):
        name, pw = h.make_user("admin")
        h.assert_problem(self, admin("POST", "/admin/devices/provision", {"username": name}), 403, "forbidden")
        h.login(name, pw)  # unchanged

    def test_bad_input_names_the_field(self):
        for body, field in (({"username": "x", "role": "admin"}, "role"), ({"username": "a/b"}, "username"),
                            ({"username": "x", "server_url": "ftp://x"}, "server_url"), ({}, "username")):
            p = h.assert_problem(self, admin("POST", "/admin/devices/provision", body), 400, "validation")
            self.assertEqual({e["field"] for e in p["errors"]}, {field}, p)


class Devices(unittest.TestCase):
    def test_a_device_is_listed_after_its_first_request(self):
        name, pw = h.make_user("read-write")
        tok = h.login(name, pw)["token"]
        cid = "formulus-" + uuid.uuid4().hex[:10]
        r = push(tok, cid, [{"observation_id": "obs_1_" + cid, "form_type": "t", "form_version": "1", "data": {"a": 1},
                             "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}])
        self.assertEqual(r.status, 200, r)
        devices = {d["client_id"]: d for d in admin("GET", "/admin/devices?limit=500").json["devices"]}
        d = devices[cid]
        self.assertEqual((d["username"], d["generation"], d["pushes"], d["records_pushed"]), (name, "observations", 1, 1))
        self.assertIsNotNone(d["last_push_at"])
        self.assertIsNone(d["last_pull_at"])
        self.assertIsNone(d["cursor"])
        self.assertIsNone(d["behind"])

    def test_presence_is_written_at_most_once_per_interval(self):
        name, pw = h.make_user("read-write")
        tok = h.login(name, pw)["token"]
        cid = "tablet-" + uuid.uuid4().hex[:10]
        self.assertEqual(h.request("POST", "/sync/pull", {"client_id": cid, "after_change_id": 0}, token=tok).status, 200)
        written = h.sql(f"SELECT written_at FROM device_presence WHERE client_id = '{cid}'")
        for _ in range(10):
            h.request("POST", "/sync/pull", {"client_id": cid, "after_change_id": 0}, token=tok)
        self.assertEqual(h.sql(f"SELECT written_at FROM device_presence WHERE client_id = '{cid}'"), written)

    def test_presence_off_keeps_nothing(self):
        h.stack("stack_stop_workers", "stack_start_workers", env={"SYNKRONUS_DEVICE_PRESENCE": "off"})
        try:
            name, pw = h.make_user("read-write")
            tok = h.login(name, pw)["token"]
            cid = "tablet-" + uuid.uuid4().hex[:10]
            self.assertEqual(push(tok, cid, [{"id": f"{cid}-0", "schemaType": "t", "schemaVersion": "1",
                                              "data": {"i": 0}}]).status, 200)
            self.assertEqual(h.request("POST", "/sync/pull", {"client_id": cid, "after_change_id": 0},
                                       token=tok).status, 200)
            self.assertEqual(h.sql(f"SELECT COUNT(*) FROM device_presence WHERE client_id = '{cid}'"), [["0"]])
        finally:
            h.stack("stack_stop_workers", "stack_start_workers")
        # On again (the default): the next request is remembered at once.
        self.assertEqual(h.request("POST", "/sync/pull", {"client_id": cid, "after_change_id": 0}, token=tok).status, 200)
        self.assertEqual(h.sql(f"SELECT COUNT(*) FROM device_presence WHERE client_id = '{cid}'"), [["1"]])

    def test_counts_cursor_and_behind_with_a_short_interval(self):
        h.stack("stack_stop_workers", "stack_start_workers", env={"SYNKRONUS_PRESENCE_INTERVAL": "1"})
        try:
            name, pw = h.make_user("read-write")
            tok = h.login(name, pw)["token"]
            cid = "tablet-" + uuid.uuid4().hex[:10]
            for i in range(3):
                self.assertEqual(push(tok, cid, [{"id": f"{cid}-{i}", "schemaType": "t", "schemaVersion": "1",
                                                  "data": {"i": i}}]).status, 200)
            pull = h.request("POST", "/sync/pull", {"client_id": cid, "after_change_id": 5}, token=tok)
            self.assertEqual(pull.status, 200)
            time.sleep(1.2)
            # One more request after the interval writes what the workers held.
            self.assertEqual(h.request("POST", "/sync/pull", {"client_id": cid, "after_change_id": 5}, token=tok).status, 200)

            def settled():
                d = {x["client_id"]: x for x in admin("GET", "/admin/devices?limit=500").json["devices"]}[cid]
                return d if d["pushes"] == 3 and d["cursor"] == 5 else None
            self.assertTrue(h.wait_until(lambda: settled() or (time.sleep(1.1) or h.request(
                "POST", "/sync/pull", {"client_id": cid, "after_change_id": 5}, token=tok) and False), timeout=15))
            d = settled()
            self.assertEqual((d["records_pushed"], d["generation"]), (3, "records"))
            current = h.request("POST", "/sync/pull", {"client_id": "x"}, token=tok).json["current_version"]
            self.assertEqual(d["behind"], max(0, current - 5))
        finally:
            h.stack("stack_stop_workers", "stack_start_workers")

    def test_paging_and_bad_cursor(self):
        first = admin("GET", "/admin/devices?limit=1").json
        self.assertEqual(len(first["devices"]), 1)
        self.assertIn("next_cursor", first)
        second = admin("GET", "/admin/devices?limit=1&cursor=" + first["next_cursor"]).json
        self.assertNotEqual(first["devices"][0]["client_id"], second["devices"][0]["client_id"])
        for q, field in (("limit=0", "limit"), ("limit=501", "limit"), ("cursor=forged", "cursor")):
            p = h.assert_problem(self, admin("GET", "/admin/devices?" + q), 400, "validation")
            self.assertEqual([e["field"] for e in p["errors"]], [field])
        # A cursor of another list is refused as well.
        a = audit(limit=1)["next_cursor"]
        p = h.assert_problem(self, admin("GET", "/admin/devices?cursor=" + a), 400, "validation")
        self.assertEqual([e["field"] for e in p["errors"]], ["cursor"])


class Overview(unittest.TestCase):
    def test_overview_fields(self):
        r = admin("GET", "/admin/overview")
        self.assertEqual(r.status, 200, r)
        b = r.json
        self.assertEqual(set(b), {"server", "database", "active_bundle_version", "current_version", "counts", "form_types"})
        self.assertEqual(set(b["server"]), {"version", "build"})
        self.assertEqual(b["database"]["status"], "ok")
        self.assertEqual([n["state"] for n in b["database"]["nodes"]], ["standalone"])
        self.assertEqual(set(b["counts"]), {"users", "devices", "devices_seen_24h", "records", "deleted_records",
                                            "attachments", "attachment_bytes"})
        self.assertEqual(b["counts"]["users"], int(h.sql("SELECT COUNT(*) FROM users")[0][0]) if False else b["counts"]["users"])
        for t in b["form_types"]:
            self.assertEqual(set(t), {"form_type", "records", "deleted", "last_synced_at"})
        self.assertEqual(sum(t["records"] for t in b["form_types"]), b["counts"]["records"])

    def test_figures_are_at_most_10_seconds_old(self):
        before = admin("GET", "/admin/overview").json["counts"]["users"]
        h.make_user("read-only")
        self.assertTrue(h.wait_until(lambda: admin("GET", "/admin/overview").json["counts"]["users"] == before + 1,
                                     timeout=12, interval=0.5))


class Audit(unittest.TestCase):
    def test_events_of_user_administration_and_no_secrets(self):
        pw = "secret-password-" + uuid.uuid4().hex[:6]
        name, _ = h.make_user("read-only", password=pw)
        s = h.login(name, pw)
        admin("POST", "/users/reset-password", {"username": name, "newPassword": pw + "x"})
        h.request("POST", "/auth/login", {"username": name, "password": "wrong-password"})
        s2 = h.login(name, pw + "x")
        h.request("POST", "/users/change-password", {"currentPassword": pw + "x", "newPassword": pw + "y"}, token=s2["token"])
        r1 = h.request("POST", "/auth/refresh", {"refreshToken": s2["refreshToken"]})
        admin("DELETE", "/users/" + name)
        events = [e for e in audit(limit=500)["events"] if e["target"] == name]
        actions = [e["action"] for e in events]
        for a in ("user.create", "user.reset_password", "login.failed", "user.change_password", "user.delete"):
            self.assertIn(a, actions)
        for e in events:
            self.assertEqual(set(e), {"id", "at", "actor", "action", "target", "detail", "address", "request_id"})
            self.assertTrue(e["at"].endswith("Z"))
            self.assertNotEqual(e["request_id"], "")
        text = json.dumps(audit(limit=500))
        for secret in (pw, pw + "x", pw + "y", s["token"], s["refreshToken"], s2["refreshToken"]):
            self.assertNotIn(secret, text)
        self.assertNotIn("$argon2", text)
        ids = [e["id"] for e in events]
        self.assertEqual(ids, sorted(ids, reverse=True))

    def test_refresh_reuse_is_audited(self):
        name, pw = h.make_user("read-only")
        s = h.login(name, pw)
        self.assertEqual(h.request("POST", "/auth/refresh", {"refreshToken": s["refreshToken"]}).status, 200)
        self.assertEqual(h.request("POST", "/auth/refresh", {"refreshToken": s["refreshToken"]}).status, 401)
        self.assertEqual(audit(action="auth.refresh_reuse")["events"][0]["target"], name)

    def test_filters_paging_and_bad_input(self):
        for _ in range(3):
            h.make_user("read-only")
        page = audit(action="user.create", limit=2)
        self.assertEqual(len(page["events"]), 2)
        nxt = audit(action="user.create", limit=2, cursor=page["next_cursor"])
        self.assertLess(nxt["events"][0]["id"], page["events"][-1]["id"])
        # The cursor is bound to its filters.
        p = h.assert_problem(self, admin("GET", "/admin/audit?action=user.delete&cursor=" + page["next_cursor"]), 400,
                             "validation")
        self.assertEqual([e["field"] for e in p["errors"]], ["cursor"])
        self.assertEqual(audit(after="2999-01-01T00:00:00Z")["events"], [])
        self.assertEqual(audit(before="2000-01-01T00:00:00Z")["events"], [])
        self.assertTrue(all(e["action"] == "user.create" for e in audit(action="user.create")["events"]))
        for q, field in (("after=yesterday", "after"), ("before=2026-13-01T00:00:00Z", "before"), ("action=Bad!", "action"),
                         ("limit=0", "limit"), ("cursor=abc", "cursor")):
            p = h.assert_problem(self, admin("GET", "/admin/audit?" + q), 400, "validation")
            self.assertEqual([e["field"] for e in p["errors"]], [field], q)

    def test_admin_tool_writes_with_its_actor(self):
        name = h.unique_name("cli")
        subprocess_env = {"SYNKRONUS_CONFIG": h.STATE + "/synkronus.conf"}
        import subprocess
        subprocess.run([h.BIN + "/synkronus-admin", "--config", h.STATE + "/synkronus.conf", "create-user", name,
                        "read-only"], input="cli-password-1\n", text=True, check=True, capture_output=True,
                       env={**__import__("os").environ, **subprocess_env})
        ev = audit(actor="synkronus-admin", action="user.create")["events"][0]
        self.assertEqual(ev["target"], name)


if __name__ == "__main__":
    unittest.main()
