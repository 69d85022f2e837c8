"""Contract section 3 through nginx: user administration."""
import base64
import json
import re
import threading
import time
import unittest

import harness as h

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def create(body, token=None, path="/users/create"):
    return h.request("POST", path, body, token=token or h.admin_token())


def delete(username, token=None, path="/users/"):
    return h.request("DELETE", path + username, token=token or h.admin_token())


def list_users(token=None):
    r = h.request("GET", "/users", token=token or h.admin_token())
    assert r.status == 200, r
    return r.json


def user_names():
    return [u["username"] for u in list_users()]



def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def utc_to_unix(s):
    return time.mktime(time.strptime(s.split(".")[0].rstrip("Z"), "%Y-%m-%dT%H:%M:%S")) - time.timezone


class Base(unittest.TestCase):
    def assert_validation(self, reply, fields):
        p = h.assert_problem(self, reply, 400, "validation")
        self.assertEqual({e["field"] for e in p["errors"]}, set(fields), p)
        return p

    def assert_user(self, body, username, role):
        self.assertEqual(set(body), {"username", "role", "createdAt"})
        self.assertEqual(body["username"], username)
        self.assertEqual(body["role"], role)
        self.assertRegex(body["createdAt"], RFC3339)
        self.assertLess(abs(utc_to_unix(body["createdAt"]) - time.time()), 300)

    def assert_message(self, reply, message):
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.header("content-type"), "application/json")
        self.assertEqual(reply.json, {"message": message})

    def wait_refused(self, token, since, limit=5.0):
        h.wait_refused(self, token, since, limit)


class Create(Base):
    def test_create_201_shape(self):
        for role in ("read-only", "read-write", "admin"):
            name = h.unique_name()
            r = create({"username": name, "password": "password-123", "role": role})
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.header("content-type"), "application/json")
            self.assert_user(r.json, name, role)
            # The new user can log in with that password and gets that role.
            self.assertEqual(jwt_claims(h.login(name, "password-123")["token"])["role"], role)
            if role == "admin":
                delete(name)

    def test_alias_post_users(self):
        name = h.unique_name()
        r = create({"username": name, "password": "password-123", "role": "read-write"}, path="/users")
        self.assertEqual(r.status, 201, r)
        self.assert_user(r.json, name, "read-write")
        self.assertIn(name, user_names())

    def test_created_user_is_listed(self):
        name, _ = h.make_user("read-only")
        entry = [u for u in list_users() if u["username"] == name]
        self.assertEqual(len(entry), 1)
        self.assert_user(entry[0], name, "read-only")

    def test_username_rules(self):
        uid = h.unique_name("")
        taken = set(user_names())
        one_char = next(c for c in "QZXJKVWqzxjkvw0123456789" if c not in taken)
        good = [one_char, "A.b_c@d-e" + uid, "0123" + uid, "user" + uid + "@example.org", "-._@" + uid]
        for name in good:
            r = create({"username": name, "password": "password-123", "role": "read-only"})
            self.assertEqual(r.status, 201, (name, r))
            self.assertEqual(r.json["username"], name)
        bad = ["", "x" * 65, "has space", "slash/name", "colon:name", "quote'name", "ümlaut", "tab\tname",
               "semi;colon", "plus+sign", "percent%", "new\nline"]
        for name in bad:
            r = create({"username": name, "password": "password-123", "role": "read-only"})
            self.assert_validation(r, ["username"])
        names = user_names()
        for name in bad:
            self.assertNotIn(name, names)

    def test_username_length_64_vs_65(self):
        base = h.unique_name("len")
        ok = (base * 10)[:64]
        self.assertEqual(create({"username": ok, "password": "password-123", "role": "read-only"}).status, 201)
        too_long = (base * 10)[:65]
        self.assert_validation(create({"username": too_long, "password": "password-123", "role": "read-only"}),
                               ["username"])

    def test_password_length_in_bytes(self):
        def attempt(pw):
            return create({"username": h.unique_name(), "password": pw, "role": "read-only"})
        self.assert_validation(attempt("1234567"), ["password"])        # 7 bytes
        self.assert_validation(attempt(""), ["password"])
        self.assertEqual(attempt("12345678").status, 201)               # 8 bytes
        self.assertEqual(attempt("p" * 1024).status, 201)               # 1024 bytes
        self.assert_validation(attempt("p" * 1025), ["password"])       # 1025 bytes
        # Bytes, not characters: four two-byte characters are 8 bytes; three are 6.
        self.assertEqual(attempt("\u00e4" * 4).status, 201)
        self.assert_validation(attempt("\u00e4" * 3), ["password"])
        # 1024 characters of two bytes each are 2048 bytes: too long.
        self.assert_validation(attempt("\u00e4" * 1024), ["password"])

    def test_long_password_works_for_login(self):
        name, pw = h.make_user("read-only", password="\u00e4" * 8 + "p" * 1000)  # 1016 bytes
        self.assertTrue(h.login(name, pw)["token"])

    def test_role_rules(self):
        for role in ("superuser", "Admin", "READ-ONLY", "read_only", "", "readonly"):
            r = create({"username": h.unique_name(), "password": "password-123", "role": role})
            self.assert_validation(r, ["role"])
        r = create({"username": h.unique_name(), "password": "password-123", "role": 2})
        self.assert_validation(r, ["role"])

    def test_missing_and_mistyped_fields(self):
        self.assert_validation(create({}), ["username", "password", "role"])
        self.assert_validation(create({"username": h.unique_name()}), ["password", "role"])
        self.assert_validation(create({"username": 1, "password": 12345678, "role": None}),
                               ["username", "password", "role"])
        r = h.request("POST", "/users/create", raw=b'{"username":', token=h.admin_token(),
                      headers={"Content-Type": "application/json"})
        self.assert_validation(r, ["body"])
        r = h.request("POST", "/users/create", raw=b"[]", token=h.admin_token(),
                      headers={"Content-Type": "application/json"})
        self.assert_validation(r, ["body"])

    def test_unknown_fields_are_ignored(self):
        name = h.unique_name()
        r = create({"username": name, "password": "password-123", "role": "read-only", "email": "x@y",
                    "extra": {"nested": [1, 2]}})
        self.assertEqual(r.status, 201, r)
        self.assert_user(r.json, name, "read-only")

    def test_duplicate_is_409(self):
        name, _ = h.make_user("read-only")
        r = create({"username": name, "password": "other-password", "role": "admin"})
        h.assert_problem(self, r, 409, "conflict")
        # The original is unchanged.
        entry = [u for u in list_users() if u["username"] == name]
        self.assertEqual(entry[0]["role"], "read-only")
        # The alias reports the same conflict.
        h.assert_problem(self, create({"username": name, "password": "other-password", "role": "admin"},
                                      path="/users"), 409, "conflict")

    def test_concurrent_creates_of_one_name(self):
        token = h.admin_token()
        for _ in range(5):
            name = h.unique_name("race")
            barrier = threading.Barrier(2)
            statuses = []
            lock = threading.Lock()

            def worker():
                conn = h.connection()
                conn.connect()  # handshake before the barrier, so the requests truly overlap
                barrier.wait()
                r = h.request("POST", "/users/create",
                              {"username": name, "password": "password-123", "role": "read-only"},
                              token=token, conn=conn)
                conn.close()
                with lock:
                    statuses.append((r.status, r.header("content-type")))

            threads = [threading.Thread(target=worker) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            self.assertEqual(sorted(s for s, _ in statuses), [201, 409], statuses)
            self.assertEqual([ct for s, ct in statuses if s == 409], ["application/problem+json"])
            self.assertEqual(user_names().count(name), 1)

    def test_usernames_are_case_sensitive(self):
        base = h.unique_name("case")
        upper, lower = "B" + base, "b" + base
        self.assertEqual(create({"username": upper, "password": "password-upper", "role": "read-only"}).status, 201)
        self.assertEqual(create({"username": lower, "password": "password-lower", "role": "read-write"}).status, 201)
        users = {u["username"]: u["role"] for u in list_users()}
        self.assertEqual(users[upper], "read-only")
        self.assertEqual(users[lower], "read-write")
        # Each logs in with its own password and gets its own role.
        self.assertEqual(jwt_claims(h.login(upper, "password-upper")["token"])["role"], "read-only")
        self.assertEqual(jwt_claims(h.login(lower, "password-lower")["token"])["role"], "read-write")
        # Deleting one leaves the other.
        self.assert_message(delete(lower), "User deleted successfully")
        names = user_names()
        self.assertIn(upper, names)
        self.assertNotIn(lower, names)


class List(Base):
    def test_list_shape_and_order(self):
        for prefix in ("zz", "AA", "mm", "aa", "_u", "0n"):
            h.make_user("read-only", name=prefix + h.unique_name(""))
        r = h.request("GET", "/users", token=h.admin_token())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "application/json")
        users = r.json
        self.assertIsInstance(users, list)
        for u in users:
            self.assertEqual(set(u), {"username", "role", "createdAt"}, u)
            self.assertIn(u["role"], ("read-only", "read-write", "admin"))
            self.assertRegex(u["createdAt"], RFC3339)
        names = [u["username"] for u in users]
        # Ordered by username, bytewise (case-sensitive names sort upper case first).
        self.assertEqual(names, sorted(names, key=lambda n: n.encode()))
        self.assertEqual(len(names), len(set(names)))
        self.assertIn("admin", names)
        self.assertNotIn(b"password", r.body.lower())


class Delete(Base):
    def test_delete(self):
        name, _ = h.make_user("read-write")
        self.assert_message(delete(name), "User deleted successfully")
        self.assertNotIn(name, user_names())
        h.assert_problem(self, delete(name), 404, "not-found")

    def test_delete_alias(self):
        name, _ = h.make_user("read-only")
        self.assert_message(delete(name, path="/users/delete/"), "User deleted successfully")
        self.assertNotIn(name, user_names())

    def test_delete_decodes_the_path(self):
        # Percent-encoded characters in the path are decoded before lookup.
        name = h.unique_name("x") + "@example.org"
        h.make_user("read-only", name=name)
        self.assert_message(delete(name.replace("@", "%40")), "User deleted successfully")
        self.assertNotIn(name, user_names())

    def test_delete_unknown_is_404(self):
        h.assert_problem(self, delete(h.unique_name("ghost")), 404, "not-found")
        h.assert_problem(self, delete(h.unique_name("ghost"), path="/users/delete/"), 404, "not-found")
        h.assert_problem(self, delete("bad%20name"), 404, "not-found")

    def test_delete_self_is_409(self):
        name, pw = h.make_user("admin")
        token = h.login(name, pw)["token"]
        h.assert_problem(self, delete(name, token=token), 409, "conflict")
        h.assert_problem(self, delete(name, token=token, path="/users/delete/"), 409, "conflict")
        self.assertIn(name, user_names())
        self.assert_message(delete(name), "User deleted successfully")

    def test_delete_last_admin_is_409(self):
        # With the suite's admin it is impossible to be an admin caller deleting the only
        # admin but oneself, so the database is arranged behind the server's back:
        # caller C keeps an admin token (roles in tokens are trusted until they expire
        # or are revoked) while B is made the only admin row. The suite's own admin is
        # only demoted in the database, and restored in any case.
        b_name, _ = h.make_user("admin")
        c_name, c_pw = h.make_user("admin")
        c_token = h.login(c_name, c_pw)["token"]
        other_admins = [row[0] for row in h.sql("SELECT username FROM users WHERE role = 'admin'")
                        if row[0] != b_name]
        self.assertIn("admin", other_admins)
        try:
            for name in other_admins:
                h.sql(f"UPDATE users SET role = 'read-write' WHERE username = '{name}'")
            h.assert_problem(self, delete(b_name, token=c_token), 409, "conflict")
            h.assert_problem(self, delete(b_name, token=c_token, path="/users/delete/"), 409, "conflict")
            self.assertEqual(h.sql(f"SELECT role FROM users WHERE username = '{b_name}'"), [["admin"]])
        finally:
            for name in other_admins:
                h.sql(f"UPDATE users SET role = 'admin' WHERE username = '{name}'")
        # With a second admin present, an admin can be deleted.
        self.assert_message(delete(b_name, token=c_token), "User deleted successfully")
        self.assert_message(delete(c_name), "User deleted successfully")

    def test_deleted_users_tokens_stop_working(self):
        name, pw = h.make_user("read-only")
        pair = h.login(name, pw)
        self.assertEqual(h.probe(pair["token"]).status, 403)
        deleted = time.time()
        self.assert_message(delete(name), "User deleted successfully")
        r = h.request("POST", "/auth/refresh", {"refreshToken": pair["refreshToken"]})
        h.assert_problem(self, r, 401, "unauthorized")
        self.wait_refused(pair["token"], deleted)

    def test_recreated_user_does_not_revive_old_tokens(self):
        name, pw = h.make_user("read-only")
        pair = h.login(name, pw)
        deleted = time.time()
        self.assert_message(delete(name), "User deleted successfully")
        h.make_user("read-only", password=pw, name=name)
        self.assertEqual(h.request("POST", "/auth/refresh", {"refreshToken": pair["refreshToken"]}).status, 401)
        self.wait_refused(pair["token"], deleted)


class ResetPassword(Base):
    def test_reset_password(self):
        name, pw = h.make_user("read-only")
        pair = h.login(name, pw)
        self.assertEqual(h.probe(pair["token"]).status, 403)
        reset = time.time()
        r = h.request("POST", "/users/reset-password", {"username": name, "newPassword": "brand-new-pass"},
                      token=h.admin_token())
        self.assert_message(r, "Password reset successfully")
        # The old refresh token is refused at once; the access token within 5 seconds.
        r = h.request("POST", "/auth/refresh", {"refreshToken": pair["refreshToken"]})
        h.assert_problem(self, r, 401, "unauthorized")
        self.wait_refused(pair["token"], reset)
        # The new password works.
        fresh = h.login(name, "brand-new-pass")
        self.assertEqual(h.probe(fresh["token"]).status, 403)

    def test_new_login_after_reset_is_accepted_by_every_worker(self):
        # Each worker caches a user's token version for a moment; a cache filled before
        # the reset must not refuse a token issued after it.
        name, pw = h.make_user("read-only")
        old = h.login(name, pw)["token"]
        for _ in range(9):  # reach every worker, so each caches the old version
            self.assertEqual(h.probe(old).status, 403)
        r = h.request("POST", "/users/reset-password", {"username": name, "newPassword": "brand-new-pass"},
                      token=h.admin_token())
        self.assert_message(r, "Password reset successfully")
        fresh = h.login(name, "brand-new-pass")["token"]
        statuses = [h.probe(fresh).status for _ in range(9)]
        self.assertEqual(statuses, [403] * 9)

    def test_reset_unknown_user_is_404(self):
        r = h.request("POST", "/users/reset-password",
                      {"username": h.unique_name("ghost"), "newPassword": "brand-new-pass"}, token=h.admin_token())
        h.assert_problem(self, r, 404, "not-found")
        # A name no user can have is no user either: 404, not a validation error.
        r = h.request("POST", "/users/reset-password", {"username": "no such user", "newPassword": "brand-new-pass"},
                      token=h.admin_token())
        h.assert_problem(self, r, 404, "not-found")

    def test_reset_validation(self):
        name, _ = h.make_user("read-only")
        cases = [
            ({}, ["username", "newPassword"]),
            ({"username": name}, ["newPassword"]),
            ({"newPassword": "brand-new-pass"}, ["username"]),
            ({"username": name, "newPassword": "short"}, ["newPassword"]),
            ({"username": name, "newPassword": "p" * 1025}, ["newPassword"]),
            ({"username": name, "newPassword": 12345678}, ["newPassword"]),
            ({"username": name, "password": "brand-new-pass"}, ["newPassword"]),
        ]
        for body, fields in cases:
            r = h.request("POST", "/users/reset-password", body, token=h.admin_token())
            self.assert_validation(r, fields)


class ChangePassword(Base):
    def assert_changed(self, reply):
        """200 with the contract's message and a new session for the caller."""
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.header("content-type"), "application/json")
        body = reply.json
        self.assertEqual(set(body), {"message", "token", "refreshToken", "expiresAt"}, body)
        self.assertEqual(body["message"], "Password changed successfully")
        self.assertIsInstance(body["expiresAt"], int)
        self.assertGreater(body["expiresAt"], time.time())
        return body

    def test_change_with_current_password(self):
        name, pw = h.make_user("read-only")
        pair = h.login(name, pw)
        other = h.login(name, pw)  # another device of the same user
        changed = time.time()
        r = h.request("POST", "/users/change-password", {"currentPassword": pw, "newPassword": "changed-pass-1"},
                      token=pair["token"])
        fresh = self.assert_changed(r)
        # Changing a password revokes the user's tokens, the caller's old ones and
        # every other session's; only the pair in the answer works.
        for old in (pair, other):
            r = h.request("POST", "/auth/refresh", {"refreshToken": old["refreshToken"]})
            h.assert_problem(self, r, 401, "unauthorized")
            self.wait_refused(old["token"], changed)
        self.assertEqual(h.probe(fresh["token"]).status, 403)  # valid, not an admin
        claims = json.loads(base64.urlsafe_b64decode(fresh["token"].split(".")[1] + "=="))
        self.assertEqual((claims["sub"], claims["role"]), (name, "read-only"))
        r = h.request("POST", "/auth/refresh", {"refreshToken": fresh["refreshToken"]})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(h.login(name, "changed-pass-1")["token"])

    def test_change_with_old_password_alias(self):
        name, pw = h.make_user("read-write")
        token = h.login(name, pw)["token"]
        r = h.request("POST", "/users/change-password", {"oldPassword": pw, "newPassword": "changed-pass-2"},
                      token=token)
        self.assert_changed(r)
        self.assertTrue(h.login(name, "changed-pass-2")["token"])

    def test_wrong_current_passwords_are_rate_limited_like_logins(self):
        name, pw = h.make_user("read-only")
        pair = h.login(name, pw)
        # The limit is login_max_failures_user (10 in the test stack) per username,
        # counted in the database: failures through any worker add up.
        statuses = [h.request("POST", "/users/change-password",
                              {"currentPassword": "wrong-password", "newPassword": "changed-pass-6"},
                              token=pair["token"]).status for _ in range(10)]
        self.assertEqual(statuses, [401] * 10)
        r = h.request("POST", "/users/change-password", {"currentPassword": pw, "newPassword": "changed-pass-6"},
                      token=pair["token"])
        h.assert_problem(self, r, 429, "rate-limited")
        self.assertTrue(r.header("retry-after").isdigit(), r)
        self.assertTrue(0 < int(r.header("retry-after")) <= 900, r)
        # One budget with logins: guessing here blocks guessing there, too.
        h.assert_problem(self, h.request("POST", "/auth/login", {"username": name, "password": pw}), 429,
                         "rate-limited")
        # Nothing changed while blocked: the session and the old password stay.
        self.assertEqual(h.probe(pair["token"]).status, 403)
        h.sql(f"DELETE FROM login_failures WHERE subject = '{name}'")
        self.assertTrue(h.login(name, pw)["token"])

    def test_wrong_current_password_is_401(self):
        name, pw = h.make_user("read-only")
        pair = h.login(name, pw)
        for field in ("currentPassword", "oldPassword"):
            r = h.request("POST", "/users/change-password", {field: "not-my-password", "newPassword": "changed-pass-3"},
                          token=pair["token"])
            h.assert_problem(self, r, 401, "unauthorized")
        # Nothing changed: the old password and the tokens still work.
        self.assertEqual(h.probe(pair["token"]).status, 403)
        self.assertEqual(h.request("POST", "/auth/refresh", {"refreshToken": pair["refreshToken"]}).status, 200)
        self.assertTrue(h.login(name, pw)["token"])

    def test_change_validation(self):
        name, pw = h.make_user("read-only")
        token = h.login(name, pw)["token"]
        cases = [
            ({}, ["currentPassword", "newPassword"]),
            ({"newPassword": "changed-pass-4"}, ["currentPassword"]),
            ({"currentPassword": pw}, ["newPassword"]),
            ({"currentPassword": pw, "newPassword": "1234567"}, ["newPassword"]),
            ({"currentPassword": pw, "newPassword": "p" * 1025}, ["newPassword"]),
            ({"currentPassword": 5, "newPassword": "changed-pass-4"}, ["currentPassword"]),
        ]
        for body, fields in cases:
            r = h.request("POST", "/users/change-password", body, token=token)
            self.assert_validation(r, fields)
        self.assertTrue(h.login(name, pw)["token"])  # still the old password

    def test_change_needs_a_token(self):
        r = h.request("POST", "/users/change-password", {"currentPassword": "x" * 8, "newPassword": "y" * 8})
        h.assert_problem(self, r, 401, "unauthorized")
        self.assertEqual(r.header("www-authenticate"), "Bearer")

    def test_changes_only_the_callers_password(self):
        a_name, a_pw = h.make_user("read-only")
        b_name, b_pw = h.make_user("read-only")
        token = h.login(a_name, a_pw)["token"]
        r = h.request("POST", "/users/change-password",
                      {"currentPassword": a_pw, "newPassword": "changed-pass-5", "username": b_name}, token=token)
        self.assert_changed(r)
        self.assertTrue(h.login(b_name, b_pw)["token"])
        self.assertTrue(h.login(a_name, "changed-pass-5")["token"])


if __name__ == "__main__":
    unittest.main()
