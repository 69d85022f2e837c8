"""Contract sections 1 and 6 through nginx: service endpoints, routing errors,
x-api-version, the HTTP->HTTPS redirect and errors nginx makes itself."""
import http.client
import os
import re
import time
import unittest

import harness as h

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
API_VERSION = "1.0.0"


def rfc3339_to_unix(s):
    return time.mktime(time.strptime(s.split(".")[0].rstrip("Z"), "%Y-%m-%dT%H:%M:%S")) - time.timezone


class ServiceEndpoints(unittest.TestCase):
    def assert_json(self, r, status=200):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.header("content-type"), "application/json", r)
        self.assertEqual(r.header("x-api-version-used"), API_VERSION, r)
        return r.json

    def test_health(self):
        r = h.request("GET", "/health")
        body = self.assert_json(r)
        self.assertEqual(body["status"], "ok")
        self.assertRegex(body["timestamp"], RFC3339)
        self.assertLess(abs(rfc3339_to_unix(body["timestamp"]) - time.time()), 120)
        self.assertIsInstance(body["version"], str)
        self.assertTrue(body["version"])

    def test_version(self):
        body = self.assert_json(h.request("GET", "/version"))
        self.assertEqual(set(body), {"server", "database", "system", "build"})
        self.assertIsInstance(body["server"]["version"], str)
        db = body["database"]
        self.assertEqual(db["type"], "mariadb")
        self.assertRegex(db["version"], r"^\d+\.\d+\.\d+$")  # short: no "-MariaDB-..." banner
        self.assertEqual(db["database_name"], "synkronus")
        sysinfo = body["system"]
        self.assertEqual(sysinfo["os"], "linux")
        self.assertEqual(sysinfo["architecture"], os.uname().machine)
        self.assertIsInstance(sysinfo["cpus"], int)
        self.assertGreaterEqual(sysinfo["cpus"], 1)
        for key in ("commit", "build_time", "compiler"):
            self.assertIsInstance(body["build"][key], str)

    def test_version_reports_the_real_database_version(self):
        actual = h.sql("SELECT VERSION()")[0][0]
        body = h.request("GET", "/version").json
        self.assertTrue(actual.startswith(body["database"]["version"]), (actual, body))

    def test_openapi_document(self):
        r = h.request("GET", "/openapi.yaml")
        self.assertEqual(r.status, 200, r)
        self.assertIn("yaml", r.header("content-type"))
        text = r.body.decode()
        self.assertRegex(text, r"(?m)^openapi: ['\"]?3\.")
        self.assertRegex(text, r"(?m)^paths:")
        with open(os.path.join(h.REPO, "handlers/openapi.yaml"), "rb") as f:
            self.assertEqual(r.body, f.read())  # served verbatim

    def test_public_endpoints_need_no_token(self):
        for path in ("/health", "/version", "/openapi.yaml"):
            self.assertEqual(h.request("GET", path).status, 200, path)

    def test_protected_endpoint_needs_a_token(self):
        r = h.request("GET", "/users")
        h.assert_problem(self, r, 401, "unauthorized")
        self.assertEqual(r.header("www-authenticate"), "Bearer")
        self.assertEqual(r.header("x-api-version-used"), API_VERSION)


class RoutingErrors(unittest.TestCase):
    def test_unknown_route_is_404_problem(self):
        for method, path in (("GET", "/nope"), ("GET", "/users/create/extra/deep"), ("POST", "/healthz"),
                             ("GET", "/auth")):
            r = h.request(method, path)
            p = h.assert_problem(self, r, 404, "not-found")
            self.assertEqual(r.header("x-api-version-used"), API_VERSION)
            self.assertEqual(p["title"], "Not Found")

    def test_unknown_route_without_token_is_still_404(self):
        # Routing comes first: an unknown path is not masked as 401.
        h.assert_problem(self, h.request("GET", "/definitely/not/here"), 404, "not-found")

    def test_wrong_method_is_405_with_allow(self):
        r = h.request("DELETE", "/health")
        self.assertEqual(r.status, 405, r)
        self.assertEqual(r.header("content-type"), "application/problem+json")
        self.assertEqual(r.json["status"], 405)
        self.assertEqual(r.header("allow"), "GET, HEAD")
        self.assertEqual(r.header("x-api-version-used"), API_VERSION)

        r = h.request("PUT", "/users", {"x": 1})
        self.assertEqual(r.status, 405, r)
        self.assertEqual(sorted(m.strip() for m in r.header("allow").split(",")), ["GET", "HEAD", "POST"])

        r = h.request("GET", "/auth/login")
        self.assertEqual(r.status, 405, r)
        self.assertEqual(r.header("allow"), "POST")

        r = h.request("POST", "/users/someone")
        self.assertEqual(r.status, 405, r)
        self.assertEqual(r.header("allow"), "DELETE")


class ApiVersionHeader(unittest.TestCase):
    def test_absent_header_is_served(self):
        r = h.request("GET", "/health")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("x-api-version-used"), API_VERSION)

    def test_major_1_is_served(self):
        for v in ("1.0.0", "1.0.1", "1.7.12"):
            r = h.request("GET", "/health", headers={"x-api-version": v})
            self.assertEqual(r.status, 200, (v, r))
            self.assertEqual(r.header("x-api-version-used"), API_VERSION)
        r = h.request("GET", "/users", token=h.admin_token(), headers={"x-api-version": "1.0.0"})
        self.assertEqual(r.status, 200, r)

    def test_malformed_version_is_400(self):
        for v in ("1", "1.0", "v1.0.0", "1.0.0-beta", "latest", "1.0.0.0", "1.a.0"):
            r = h.request("GET", "/health", headers={"x-api-version": v})
            h.assert_problem(self, r, 400, "bad-request")
            self.assertEqual(r.header("x-api-version-used"), API_VERSION, v)

    def test_other_major_is_406(self):
        for v in ("2.0.0", "0.9.9", "3.1.4"):
            r = h.request("GET", "/health", headers={"x-api-version": v})
            h.assert_problem(self, r, 406, "unsupported-api-version")
            self.assertEqual(r.header("x-api-version-used"), API_VERSION, v)

    def test_version_applies_to_every_route(self):
        r = h.request("POST", "/auth/login", {"username": "admin", "password": h.ADMIN_PASSWORD},
                      headers={"x-api-version": "2.0.0"})
        h.assert_problem(self, r, 406, "unsupported-api-version")
        r = h.request("GET", "/users", token=h.admin_token(), headers={"x-api-version": "nope"})
        h.assert_problem(self, r, 400, "bad-request")

    def test_header_on_success_and_error_responses(self):
        replies = [
            h.request("GET", "/health"),
            h.request("GET", "/version"),
            h.request("GET", "/users", token=h.admin_token()),
            h.request("GET", "/users"),                                  # 401
            h.request("GET", "/nowhere"),                                # 404
            h.request("PATCH", "/health"),                               # 405
            h.request("POST", "/auth/login", raw=b"{", headers={"Content-Type": "application/json"}),  # 400
        ]
        for r in replies:
            self.assertEqual(r.header("x-api-version-used"), API_VERSION, r)


class Nginx(unittest.TestCase):
    def test_http_redirects_to_https(self):
        c = http.client.HTTPConnection("127.0.0.1", int(os.environ["HTTP_PORT"]), timeout=10)
        try:
            c.request("GET", "/health?probe=1")
            r = c.getresponse()
            r.read()
            self.assertIn(r.status, (301, 308))
            location = r.getheader("Location")
            self.assertEqual(location, f"https://127.0.0.1:{h.PORT}/health?probe=1")
        finally:
            c.close()

    def test_nginx_413_is_problem_json(self):
        # Over the 64 KiB limit of JSON endpoints: nginx refuses it before any worker sees it.
        big = b'{"username":"x","password":"' + b"a" * (70 * 1024) + b'"}'
        r = h.request("POST", "/auth/login", raw=big, headers={"Content-Type": "application/json"})
        p = h.assert_problem(self, r, 413, "payload-too-large")
        self.assertEqual(p["status"], 413)
        self.assertEqual(r.header("x-api-version-used"), API_VERSION)

        r = h.request("POST", "/users/create", raw=big, token=h.admin_token(),
                      headers={"Content-Type": "application/json"})
        h.assert_problem(self, r, 413, "payload-too-large")

    def test_nginx_400_is_problem_json(self):
        # A NUL in the path: nginx refuses the request line itself, no worker sees it.
        r = h.request("GET", "/health%00")
        h.assert_problem(self, r, 400, "bad-request")
        self.assertEqual(r.header("x-api-version-used"), API_VERSION)

    def test_body_just_under_the_limit_reaches_the_worker(self):
        # 60 KiB of padding in an unknown field: accepted by nginx and the worker, which
        # then reports the missing field.
        body = b'{"pad":"' + b"p" * (60 * 1024) + b'"}'
        r = h.request("POST", "/auth/refresh", raw=body, headers={"Content-Type": "application/json"})
        p = h.assert_problem(self, r, 400, "validation")
        self.assertEqual([e["field"] for e in p["errors"]], ["refreshToken"])

    def test_request_id_header(self):
        a = h.request("GET", "/health").header("x-request-id")
        b = h.request("GET", "/health").header("x-request-id")
        self.assertTrue(a and b)
        self.assertNotEqual(a, b)


if __name__ == "__main__":
    unittest.main()
