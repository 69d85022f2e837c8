"""Contract section 2 through nginx: login, refresh, bearer tokens, roles, revocation.

Failed logins are counted per client address too (100 per 15 minutes by default) and
every test comes from 127.0.0.1, so this module keeps its failed logins to about 25.
nginx's coarse limit on /auth/login (10/s, burst 50) is respected by pacing the
bursts of successful logins."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import statistics
import time
import unittest

import harness as h


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_parts(token):
    head, payload, _ = token.split(".")
    return json.loads(b64url_decode(head)), json.loads(b64url_decode(payload))


def secret():
    with open(os.path.join(h.STATE, "jwt-secret"), "rb") as f:
        return f.read().strip()


def craft(header, payload, key=None, alg=hashlib.sha256):
    """A JWT with the given header and claims, HMAC-signed with the server's secret."""
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode())
    sig = hmac.new(key if key is not None else secret(), signing_input.encode(), alg).digest()
    return signing_input + "." + b64url(sig)


def login_reply(username, password):
    return h.request("POST", "/auth/login", {"username": username, "password": password})


def refresh_reply(refresh_token):
    return h.request("POST", "/auth/refresh", {"refreshToken": refresh_token})



def admin_cli(*args):
    subprocess.run([os.path.join(h.BIN, "synkronus-admin"), "--config",
                    os.path.join(h.STATE, "synkronus.conf"), *args],
                   check=True, capture_output=True, text=True)


class Base(unittest.TestCase):
    def assert_unauthorized(self, reply):
        h.assert_problem(self, reply, 401, "unauthorized")
        self.assertEqual(reply.header("www-authenticate"), "Bearer", reply)

    def assert_token_pair(self, body, username, role):
        self.assertEqual(set(body), {"token", "refreshToken", "expiresAt"})
        self.assertIsInstance(body["expiresAt"], int)
        header, claims = jwt_parts(body["token"])
        self.assertEqual(header["alg"], "HS256")
        self.assertEqual(claims["exp"], body["expiresAt"])
        self.assertEqual(claims["sub"], username)
        self.assertEqual(claims["username"], username)
        self.assertEqual(claims["role"], role)
        self.assertEqual(claims["typ"], "access")
        self.assertIsInstance(claims["iat"], int)
        now = time.time()
        self.assertLess(abs(claims["iat"] - now), 60)
        self.assertLess(abs(body["expiresAt"] - (now + 3600)), 60)  # default lifetime 1 hour
        # Opaque, at least 256 bits, and clearly not a JWT.
        rt = body["refreshToken"]
        self.assertIsInstance(rt, str)
        self.assertGreaterEqual(len(rt), 43)
        self.assertNotIn(".", rt)

    def wait_refused(self, token, since, limit=5.0):
        h.wait_refused(self, token, since, limit)


class Login(Base):
    def test_login_shape(self):
        name, pw = h.make_user("read-write")
        r = login_reply(name, pw)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertEqual(r.header("x-api-version-used"), "1.0.0")
        self.assert_token_pair(r.json, name, "read-write")
        self.assertEqual(h.probe(r.json["token"]).status, 403)  # a valid read-write token

    def test_admin_login_token_works(self):
        body = h.login("admin", h.ADMIN_PASSWORD)
        self.assert_token_pair(body, "admin", "admin")
        self.assertEqual(h.probe(body["token"]).status, 200)

    def test_each_login_gets_distinct_tokens(self):
        name, pw = h.make_user("read-only")
        a, b = h.login(name, pw), h.login(name, pw)
        self.assertNotEqual(a["refreshToken"], b["refreshToken"])

    def test_tokens_of_one_second_differ_by_a_logged_jti(self):
        name, pw = h.make_user("read-only")
        # A login and a refresh in the same second: same sub, role, ver, iat and exp.
        while True:
            login = h.login(name, pw)
            r = refresh_reply(login["refreshToken"])
            self.assertEqual(r.status, 200, r)
            (_, a), (_, b) = jwt_parts(login["token"]), jwt_parts(r.json["token"])
            if a["iat"] == b["iat"]:
                break
        self.assertNotEqual(login["token"], r.json["token"])
        self.assertRegex(a["jti"], "^[0-9a-f]{32}$")
        self.assertNotEqual(a["jti"], b["jti"])
        # The issuance is logged with its jti, so a token in a log line names it.
        with open(os.path.join(h.STATE, "logs", "workers.log")) as f:
            log = f.read()
        for jti in (a["jti"], b["jti"]):
            self.assertIn(f"access token {jti} issued to '{name}'", log)

    def test_validation_errors_name_fields(self):
        cases = [
            ({}, {"username", "password"}),
            ({"username": "someone"}, {"password"}),
            ({"password": "something"}, {"username"}),
            ({"username": 5, "password": "something"}, {"username"}),
            ({"username": "someone", "password": ["x"]}, {"password"}),
            ({"username": None, "password": None}, {"username", "password"}),
            ({"username": "", "password": "something"}, {"username"}),
        ]
        for body, fields in cases:
            r = h.request("POST", "/auth/login", body)
            p = h.assert_problem(self, r, 400, "validation")
            self.assertEqual({e["field"] for e in p["errors"]}, fields, body)
            for e in p["errors"]:
                self.assertTrue(e["message"], e)

    def test_malformed_bodies_are_400(self):
        for raw in (b"", b"{", b"not json", b"[]", b'"admin"', b'{"username":"admin","password":"x",}'):
            r = h.request("POST", "/auth/login", raw=raw, headers={"Content-Type": "application/json"})
            p = h.assert_problem(self, r, 400, "validation")
            self.assertEqual([e["field"] for e in p["errors"]], ["body"], raw)

    def test_unknown_user_and_wrong_password_look_the_same(self):
        name, _ = h.make_user("read-only")
        unknown = login_reply(h.unique_name("ghost"), "some-password")
        wrong = login_reply(name, "not-the-password")
        self.assert_unauthorized(unknown)
        self.assert_unauthorized(wrong)
        self.assertEqual(unknown.body, wrong.body)
        self.assertEqual(unknown.header("content-type"), wrong.header("content-type"))

    def test_unknown_user_costs_the_same_time(self):
        # A login for an unknown user must run the same password hash as a wrong password
        # (else response times reveal which names exist). Without the dummy hash an
        # unknown user answers several times faster.
        name, _ = h.make_user("read-only")

        def timed(user, password):
            t = time.perf_counter()
            r = login_reply(user, password)
            self.assertEqual(r.status, 401, r)
            return time.perf_counter() - t
        # Alternated, so a change in the machine's other load lands on both sides.
        wrong, unknown = [], []
        for _ in range(7):
            wrong.append(timed(name, "wrong-password"))
            unknown.append(timed(h.unique_name("ghost"), "wrong-password"))
        self.assertGreater(statistics.median(unknown), 0.5 * statistics.median(wrong), (unknown, wrong))

    def test_failed_logins_are_rate_limited_per_username(self):
        name, pw = h.make_user("read-only")
        statuses = [login_reply(name, "wrong-password").status for _ in range(10)]
        self.assertEqual(statuses, [401] * 10)
        r = login_reply(name, "wrong-password")
        p = h.assert_problem(self, r, 429, "rate-limited")
        retry = r.header("retry-after")
        self.assertIsNotNone(retry, r)
        self.assertTrue(retry.isdigit(), retry)
        self.assertTrue(0 < int(retry) <= 900, retry)
        self.assertIn("detail", p)
        # While blocked, even the right password is refused: the limit guards the name.
        h.assert_problem(self, login_reply(name, pw), 429, "rate-limited")
        # Other users from the same address are not affected.
        other, other_pw = h.make_user("read-only")
        self.assertEqual(login_reply(other, other_pw).status, 200)

    def test_successful_logins_are_not_throttled(self):
        name, pw = h.make_user("read-only")
        time.sleep(3)  # let nginx's coarse per-address bucket drain
        statuses = [login_reply(name, pw).status for _ in range(30)]
        self.assertEqual(statuses, [200] * 30)
        time.sleep(3)


class Refresh(Base):
    def test_refresh_returns_a_new_pair(self):
        name, pw = h.make_user("read-write")
        first = h.login(name, pw)
        time.sleep(1.1)  # a new iat, so the new access token differs
        r = refresh_reply(first["refreshToken"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "application/json")
        second = r.json
        self.assert_token_pair(second, name, "read-write")
        self.assertNotEqual(second["refreshToken"], first["refreshToken"])
        self.assertNotEqual(second["token"], first["token"])
        self.assertGreaterEqual(second["expiresAt"], first["expiresAt"])
        self.assertEqual(h.probe(second["token"]).status, 403)
        # The new refresh token is good for one more round.
        third = refresh_reply(second["refreshToken"])
        self.assertEqual(third.status, 200, third)

    def test_reused_refresh_token_revokes_the_chain(self):
        name, pw = h.make_user("read-only")
        first = h.login(name, pw)
        other_login = h.login(name, pw)  # a second, independent login of the same user
        second = refresh_reply(first["refreshToken"]).json
        # The retired token comes back (a stolen copy): refused...
        self.assert_unauthorized(refresh_reply(first["refreshToken"]))
        # ...and the whole chain ends: the newer token stops working too.
        self.assert_unauthorized(refresh_reply(second["refreshToken"]))
        # The other login's chain is a different family and keeps working.
        r = refresh_reply(other_login["refreshToken"])
        self.assertEqual(r.status, 200, r)

    def test_refresh_token_is_single_use(self):
        name, pw = h.make_user("read-only")
        first = h.login(name, pw)
        self.assertEqual(refresh_reply(first["refreshToken"]).status, 200)
        self.assert_unauthorized(refresh_reply(first["refreshToken"]))

    def test_refresh_validation(self):
        for body in ({}, {"refreshToken": None}, {"refreshToken": 12}, {"refreshToken": ""},
                     {"token": "x"}):
            p = h.assert_problem(self, h.request("POST", "/auth/refresh", body), 400, "validation")
            self.assertEqual([e["field"] for e in p["errors"]], ["refreshToken"], body)
        r = h.request("POST", "/auth/refresh", raw=b"{oops", headers={"Content-Type": "application/json"})
        h.assert_problem(self, r, 400, "validation")

    def test_unknown_refresh_token_is_401(self):
        self.assert_unauthorized(refresh_reply(b64url(os.urandom(32))))
        self.assert_unauthorized(refresh_reply("x"))

    def test_access_token_is_not_a_refresh_token(self):
        name, pw = h.make_user("read-only")
        pair = h.login(name, pw)
        self.assert_unauthorized(refresh_reply(pair["token"]))
        # And the pair is still intact afterwards.
        self.assertEqual(refresh_reply(pair["refreshToken"]).status, 200)

    def test_refresh_token_is_not_a_bearer_token(self):
        name, pw = h.make_user("admin")
        pair = h.login(name, pw)
        self.assert_unauthorized(h.probe(pair["refreshToken"]))
        self.assertEqual(h.probe(pair["token"]).status, 200)
        h.request("DELETE", "/users/" + name, token=h.admin_token())

    def test_refresh_reads_the_role_afresh(self):
        name, pw = h.make_user("read-only")
        pair = h.login(name, pw)
        # Change the role behind the server's back (no revocation), so only a fresh
        # read of the database can show it.
        h.sql(f"UPDATE users SET role = 'read-write' WHERE username = '{name}'")
        r = refresh_reply(pair["refreshToken"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(jwt_parts(r.json["token"])[1]["role"], "read-write")

    def test_role_change_revokes_tokens(self):
        name, pw = h.make_user("read-only")
        pair = h.login(name, pw)
        self.assertEqual(h.probe(pair["token"]).status, 403)
        changed = time.time()
        admin_cli("set-role", name, "admin")
        self.assert_unauthorized(refresh_reply(pair["refreshToken"]))
        self.wait_refused(pair["token"], changed)
        # A new login carries the new role and gets admin access.
        fresh = h.login(name, pw)
        self.assertEqual(jwt_parts(fresh["token"])[1]["role"], "admin")
        self.assertEqual(h.probe(fresh["token"]).status, 200)
        h.request("DELETE", "/users/" + name, token=h.admin_token())


class BearerTokens(Base):
    @classmethod
    def setUpClass(cls):
        cls.name, pw = h.make_user("read-only")
        cls.token = h.login(cls.name, pw)["token"]
        cls.header, cls.claims = jwt_parts(cls.token)

    def test_control_a_crafted_token_with_the_real_secret_is_accepted(self):
        # Proves the crafting below is right, so each rejection is for its one defect.
        claims = dict(self.claims, iat=int(time.time()), exp=int(time.time()) + 600)
        self.assertEqual(h.probe(craft({"alg": "HS256", "typ": "JWT"}, claims)).status, 403)

    def test_missing_header(self):
        self.assert_unauthorized(h.probe(None))

    def test_malformed_headers(self):
        for value in ("Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer ", "Bearer not-a-jwt", "Bearer a.b.c",
                      "Token " + self.token, self.token, "Bearer " + self.token + "x",
                      "Bearer " + self.token[:-3]):
            r = h.request("GET", "/users", headers={"Authorization": value})
            self.assert_unauthorized(r)

    def test_forged_signature(self):
        claims = dict(self.claims, exp=int(time.time()) + 600)
        self.assert_unauthorized(h.probe(craft({"alg": "HS256", "typ": "JWT"}, claims, key=b"x" * 64)))

    def test_tampered_role(self):
        head, payload, sig = self.token.split(".")
        claims = dict(self.claims, role="admin")
        forged = head + "." + b64url(json.dumps(claims).encode()) + "." + sig
        self.assert_unauthorized(h.probe(forged))

    def test_expired(self):
        now = int(time.time())
        claims = dict(self.claims, iat=now - 7200, exp=now - 3600)
        self.assert_unauthorized(h.probe(craft({"alg": "HS256", "typ": "JWT"}, claims)))
        claims = dict(self.claims, iat=now - 120, exp=now - 1)
        self.assert_unauthorized(h.probe(craft({"alg": "HS256", "typ": "JWT"}, claims)))

    def test_missing_exp(self):
        claims = {k: v for k, v in self.claims.items() if k != "exp"}
        self.assert_unauthorized(h.probe(craft({"alg": "HS256", "typ": "JWT"}, claims)))

    def test_alg_none(self):
        claims = dict(self.claims, exp=int(time.time()) + 600)
        unsigned = b64url(b'{"alg":"none","typ":"JWT"}') + "." + b64url(json.dumps(claims).encode()) + "."
        self.assert_unauthorized(h.probe(unsigned))
        self.assert_unauthorized(h.probe(craft({"alg": "none", "typ": "JWT"}, claims)))

    def test_other_algorithms(self):
        claims = dict(self.claims, exp=int(time.time()) + 600)
        self.assert_unauthorized(h.probe(craft({"alg": "HS512", "typ": "JWT"}, claims, alg=hashlib.sha512)))
        self.assert_unauthorized(h.probe(craft({"alg": "HS384", "typ": "JWT"}, claims, alg=hashlib.sha384)))

    def test_wrong_token_type(self):
        claims = dict(self.claims, typ="refresh", exp=int(time.time()) + 600)
        self.assert_unauthorized(h.probe(craft({"alg": "HS256", "typ": "JWT"}, claims)))

    def test_token_of_unknown_user(self):
        claims = dict(self.claims, sub="nobody-" + h.unique_name(), exp=int(time.time()) + 600)
        claims["username"] = claims["sub"]
        self.assert_unauthorized(h.probe(craft({"alg": "HS256", "typ": "JWT"}, claims)))

    def test_401_body_never_leaks_internals(self):
        r = h.probe("a.b.c")
        p = r.json
        for needle in ("/", "SQL", "rapidjson", "exception"):
            self.assertNotIn(needle, p["detail"])


class Roles(Base):
    def test_read_only_and_read_write_get_403_on_admin_routes(self):
        victim, _ = h.make_user("read-only")
        for role in ("read-only", "read-write"):
            token = h.token_for(role)
            calls = [
                ("GET", "/users", None),
                ("POST", "/users/create", {"username": h.unique_name(), "password": "password-123",
                                           "role": "admin"}),
                ("POST", "/users", {"username": h.unique_name(), "password": "password-123", "role": "admin"}),
                ("DELETE", "/users/" + victim, None),
                ("DELETE", "/users/delete/" + victim, None),
                ("POST", "/users/reset-password", {"username": victim, "newPassword": "password-456"}),
            ]
            for method, path, body in calls:
                r = h.request(method, path, body, token=token)
                h.assert_problem(self, r, 403, "forbidden")
                self.assertEqual(r.header("x-api-version-used"), "1.0.0")
        # Nothing happened to the victim.
        names = [u["username"] for u in h.request("GET", "/users", token=h.admin_token()).json]
        self.assertIn(victim, names)

    def test_every_role_may_change_its_own_password(self):
        for role in ("read-only", "read-write", "admin"):
            name, pw = h.make_user(role)
            token = h.login(name, pw)["token"]
            r = h.request("POST", "/users/change-password",
                          {"currentPassword": pw, "newPassword": "another-password"}, token=token)
            self.assertEqual(r.status, 200, (role, r))
            if role == "admin":
                h.request("DELETE", "/users/" + name, token=h.admin_token())


if __name__ == "__main__":
    unittest.main()
