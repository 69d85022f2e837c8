"""synkronus-admin's operator commands (CONTRACT section 8): devices, audit, provision.
Each is checked against what the HTTP admin routes show, so the tool and the routes
cannot drift apart."""
import base64
import os
import subprocess
import time
import unittest
import uuid

import harness as h

ADMIN = os.path.join(h.BIN, "synkronus-admin")


def tool(*args, check=True):
    r = subprocess.run([ADMIN, "--config", h.STATE + "/synkronus.conf", *args], text=True, capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=60)
    if check:
        assert r.returncode == 0, (args, r.returncode, r.stdout, r.stderr)
    return r


def admin(method, path, body=None):
    return h.request(method, path, body, token=h.admin_token())


def decode_frmls(s):
    assert s.startswith("FRMLS:") and s.endswith(";;"), s
    out = {}
    for part in s[len("FRMLS:"):-2].split(";"):
        k, v = part.split(":", 1)
        out[k] = base64.b64decode(v, validate=True).decode()
    return out


def provisioned(stdout):
    lines = dict(line.split(":", 1) for line in stdout.splitlines() if line.split(":", 1)[0] in
                 ("server", "password", "frmls"))
    return {k: v.strip().split("  ")[0] for k, v in lines.items()}


class Devices(unittest.TestCase):
    def test_devices_lists_what_get_admin_devices_shows(self):
        name, pw = h.make_user("read-write")
        tok = h.login(name, pw)["token"]
        cid = "formulus-" + uuid.uuid4().hex[:10]
        r = h.request("POST", "/sync/push", {"transmission_id": uuid.uuid4().hex, "client_id": cid, "records": [
            {"observation_id": "obs_1_" + cid, "form_type": "t", "form_version": "1", "data": {"a": 1},
             "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}]}, token=tok)
        self.assertEqual(r.status, 200, r)
        http = {d["client_id"]: d for d in admin("GET", "/admin/devices?limit=500").json["devices"]}[cid]
        rows = [line.split("\t") for line in tool("devices").stdout.splitlines()]
        mine = [row for row in rows if row[0] == cid]
        self.assertEqual(len(mine), 1, rows)
        row = mine[0]
        self.assertEqual(len(row), 11, row)
        dash = lambda v: "-" if v is None else str(v)
        self.assertEqual(row, [cid, name, http["generation"], http["first_seen"], http["last_seen"],
                               dash(http["last_push_at"]), dash(http["last_pull_at"]), dash(http["cursor"]),
                               dash(http["behind"]), str(http["pushes"]), str(http["records_pushed"])])
        # Most recently seen first, as the route orders them.
        self.assertEqual(rows[0][0], admin("GET", "/admin/devices?limit=1").json["devices"][0]["client_id"])


class Audit(unittest.TestCase):
    def test_audit_prints_the_log_newest_first_with_filters(self):
        names = [h.unique_name("aud") for _ in range(3)]
        for n in names:
            h.make_user("read-only", name=n)
        out = tool("audit", "--actor", "admin", "--action", "user.create", "--limit", "3").stdout
        rows = [line.split("\t") for line in out.splitlines()]
        self.assertEqual(len(rows), 3, out)
        self.assertEqual([r[4] for r in rows], list(reversed(names)))
        self.assertEqual({(r[2], r[3]) for r in rows}, {("admin", "user.create")})
        ids = [int(r[0]) for r in rows]
        self.assertEqual(ids, sorted(ids, reverse=True))
        # The same events, fields and order as GET /admin/audit.
        http = admin("GET", "/admin/audit?actor=admin&action=user.create&limit=3").json["events"]
        self.assertEqual(ids, [e["id"] for e in http])
        self.assertEqual([r[1] for r in rows], [e["at"] for e in http])
        # --after/--before bound the time; more than one page (500) is followed.
        first_at = http[-1]["at"]
        after = tool("audit", "--action", "user.create", "--after", first_at, "--limit", "1000").stdout
        self.assertNotIn("\t" + names[0] + "\t", after)
        before = tool("audit", "--action", "user.create", "--before", "1970-01-02T00:00:00Z").stdout
        self.assertEqual(before, "")
        self.assertEqual(len(tool("audit", "--limit", "1").stdout.splitlines()), 1)

    def test_audit_refuses_bad_filters(self):
        for args in (["--after", "yesterday"], ["--before", "2026-13-01T00:00:00Z"], ["--action", "no such"],
                     ["--limit", "0"], ["--limit", "x"], ["--limit"], ["--colour", "red"]):
            r = tool("audit", *args, check=False)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertEqual(r.stdout, "", args)


class Provision(unittest.TestCase):
    def test_provision_creates_a_device_user_prints_frmls_and_qr_and_audits(self):
        name = h.unique_name("tooldev")
        r = tool("provision", name, "--role", "read-only", "--server-url", "https://sync.example.org")
        p = provisioned(r.stdout)
        self.assertRegex(p["password"], r"^([a-km-np-z2-9]{4}-){5}[a-km-np-z2-9]{4}$")
        self.assertEqual(decode_frmls(p["frmls"]), {"v": "1", "s": "https://sync.example.org", "u": name,
                                                     "p": p["password"]})
        # The QR code as terminal text: half blocks, every line the same width.
        qr = [line for line in r.stdout.splitlines() if set(line) & set("▀▄█")]
        self.assertGreater(len(qr), 10, r.stdout)
        self.assertEqual(len({len(line) for line in qr}), 1, r.stdout)
        self.assertGreaterEqual(len(qr[0]), 2 * len(qr) - 2)
        tok = h.login(name, p["password"])["token"]
        self.assertEqual(h.probe(tok).status, 403)  # a device user, not an admin
        ev = admin("GET", "/admin/audit?actor=synkronus-admin&action=device.provision").json["events"][0]
        self.assertEqual(ev["target"], name)
        self.assertNotIn(p["password"], str(ev))

    def test_provision_again_resets_the_password_and_revokes_sessions(self):
        name, pw = h.make_user("read-write")
        s = h.login(name, pw)
        p = provisioned(tool("provision", name).stdout)
        self.assertTrue(p["server"].startswith("https://"), p)  # https:// + this host's name by default
        h.wait_refused(self, s["token"], time.time())
        self.assertEqual(h.request("POST", "/auth/login", {"username": name, "password": pw}).status, 401)
        h.login(name, p["password"])

    def test_provision_refuses_admins_and_bad_input(self):
        name, pw = h.make_user("admin")
        before = admin("GET", "/admin/audit?action=device.provision&limit=1").json["events"]
        r = tool("provision", name, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("admin account", r.stderr)
        self.assertNotIn("password", r.stdout)
        h.login(name, pw)  # unchanged
        self.assertEqual(admin("GET", "/admin/audit?action=device.provision&limit=1").json["events"], before)
        for args in (["x", "--role", "admin"], ["a/b"], ["x", "--server-url", "ftp://x"], ["x", "--role"]):
            r = tool("provision", *args, check=False)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertEqual(r.stdout, "", args)


if __name__ == "__main__":
    unittest.main()
