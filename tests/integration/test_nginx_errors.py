"""What nginx answers itself (issue 11, section 3): every status nginx makes without
a worker is problem+json with x-api-version-used; HEAD works wherever GET does,
also for the files nginx sends after X-Accel-Redirect; HTTP/2 on the TLS port."""
import json
import os
import shutil
import socket
import ssl
import subprocess
import unittest

import harness as h
from test_app_bundle import bundle_files, download_url, make_zip, push_ok, sha

API_VERSION = "1.0.0"
PROBLEM = "https://synkronus.org/docs/errors/"


class Raw:
    """A reply read off the wire, for requests http.client refuses to send."""

    def __init__(self, data):
        head, _, self.body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()

    def header(self, name):
        return self.headers.get(name)

    @property
    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Raw {self.status} {self.headers} {self.body[:300]!r}>"


def raw_request(data, tls=True, port=None):
    """Sends bytes as they are and reads the reply until nginx closes the connection."""
    s = socket.create_connection((h.HOST, port or h.PORT), timeout=20)
    if tls:
        s = ssl.create_default_context(cafile=h.CACERT).wrap_socket(s, server_hostname="localhost")
    try:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        return Raw(out)
    finally:
        s.close()


class Base(unittest.TestCase):
    def assert_nginx_problem(self, reply, status, slug, body_status=None):
        self.assertEqual(reply.status, status, reply)
        self.assertEqual(reply.header("content-type"), "application/problem+json", reply)
        self.assertEqual(reply.header("x-api-version-used"), API_VERSION, reply)
        p = reply.json
        self.assertEqual(p["type"], PROBLEM + slug, p)
        self.assertEqual(p["status"], body_status or status, p)
        self.assertTrue(p["title"] and p["detail"], p)
        return p

    def newest(self, tag):
        """Pushes a bundle (the newest version, served with ?preview=true); returns its files."""
        files = bundle_files(tag)
        manifest = push_ok(files)
        return manifest["version"], files


class RequestsNginxRefuses(Base):
    def test_nul_and_dot_dot_above_the_root_are_400(self):
        for target in (b"/health%00", b"/../../etc/passwd", b"/app-bundle/download/../../../x"):
            r = raw_request(b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            with self.subTest(target=target):
                self.assert_nginx_problem(r, 400, "bad-request")

    def test_headers_too_large_are_400(self):
        r = raw_request(b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 20000 +
                        b"\r\nConnection: close\r\n\r\n")
        p = self.assert_nginx_problem(r, 400, "bad-request")
        self.assertIn("headers are too large", p["detail"])

    def test_uri_too_long_is_414(self):
        r = raw_request(b"GET /health?" + b"q" * 20000 + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        self.assert_nginx_problem(r, 414, "bad-request")

    def test_plain_http_to_the_tls_port_is_400(self):
        r = raw_request(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", tls=False)
        p = self.assert_nginx_problem(r, 400, "bad-request")
        self.assertIn("plain HTTP", p["detail"])

    def test_trace_is_405(self):
        r = h.request("TRACE", "/health")
        self.assert_nginx_problem(r, 405, "bad-request")

    def test_unknown_transfer_coding_is_501(self):
        r = raw_request(b"POST /auth/login HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n"
                        b"Connection: close\r\n\r\n")
        self.assert_nginx_problem(r, 501, "not-implemented")

    def test_http_version_2_in_a_text_request_line_is_505(self):
        r = raw_request(b"GET /health HTTP/2.0\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        self.assert_nginx_problem(r, 505, "bad-request")

    def test_internal_locations_are_404_from_outside(self):
        for path in ("/_synkronus_bundle/0001/app/index.html", "/_synkronus_error/404", "/_synkronus_error/500"):
            with self.subTest(path=path):
                self.assert_nginx_problem(h.request("GET", path), 404, "not-found")

    def test_head_of_an_nginx_error_has_no_body(self):
        r = h.request("HEAD", "/_synkronus_error/404")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.header("content-type"), "application/problem+json")
        self.assertEqual(r.header("x-api-version-used"), API_VERSION)
        self.assertEqual(r.body, b"")


class Files(Base):
    def test_file_missing_from_the_store_is_503_naming_the_version(self):
        # The worker looks before it hands the file to nginx (X-Accel-Redirect): a file
        # the database names but the store lacks is the store and the database
        # disagreeing (issue 11), not a 404 that says the file does not exist.
        version, files = self.newest("missing-file")
        on_disk = os.path.join(h.STATE, "bundles", "versions", version, "app", "js", "main.js")
        kept = on_disk + ".kept"
        shutil.move(on_disk, kept)
        try:
            r = h.request("GET", download_url("app/js/main.js", preview=True), token=h.admin_token())
            p = h.assert_problem(self, r, 503, "unavailable")
            self.assertIn(f"app bundle version {version} are missing", p["detail"])
            # The version's other files are still served.
            r = h.request("GET", download_url("app/index.html", preview=True), token=h.admin_token())
            self.assertEqual(r.status, 200, r)
        finally:
            shutil.move(kept, on_disk)

    def test_unsatisfiable_range_is_416(self):
        self.newest("range")
        r = h.request("GET", download_url("app/index.html", preview=True), token=h.admin_token(),
                      headers={"Range": "bytes=100000-"})
        self.assert_nginx_problem(r, 416, "bad-request")

    def test_failed_if_match_is_412(self):
        _, files = self.newest("if-match")
        for cond in ('"' + "0" * 64 + '"', '"' + sha(files["app/js/main.js"].encode()) + '"', "W/\"x\""):
            with self.subTest(cond=cond):
                # The other file's hash: a precondition that does not hold for this one.
                r = h.request("GET", download_url("app/index.html", preview=True), token=h.admin_token(),
                              headers={"If-Match": cond})
                self.assert_nginx_problem(r, 412, "bad-request")


class Head(Base):
    def assert_head_like_get(self, path, token=None):
        g = h.request("GET", path, token=token or h.admin_token())
        r = h.request("HEAD", path, token=token or h.admin_token())
        self.assertEqual(r.status, g.status, (path, r))
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("content-type"), g.header("content-type"), path)
        self.assertEqual(r.header("content-length"), str(len(g.body)), path)
        self.assertEqual(r.header("etag"), g.header("etag"), path)
        self.assertEqual(r.header("x-api-version-used"), API_VERSION, path)
        return r

    def test_head_of_bundle_files_and_zip(self):
        _, files = self.newest("head")
        for name, content in files.items():
            with self.subTest(name=name):
                r = self.assert_head_like_get(download_url(name, preview=True))
                self.assertEqual(r.status, 200)
                self.assertEqual(r.header("etag"), '"' + sha(content.encode()) + '"')
                self.assertEqual(r.header("content-length"), str(len(content.encode())))
        r = self.assert_head_like_get("/app-bundle/download-zip?preview=true")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-type"), "application/zip")
        self.assertGreater(int(r.header("content-length")), 0)

    def test_head_of_api_routes(self):
        self.newest("head-api")
        for path in ("/app-bundle/manifest", "/app-bundle/versions", "/health", "/version", "/openapi.yaml",
                     "/users"):
            with self.subTest(path=path):
                self.assertEqual(self.assert_head_like_get(path).status, 200)
        self.assertIsNotNone(h.request("HEAD", "/app-bundle/manifest", token=h.admin_token()).header("etag"))

    def test_head_keeps_conditional_answers_and_errors(self):
        _, files = self.newest("head-304")
        tag = '"' + sha(files["app/index.html"].encode()) + '"'
        r = h.request("HEAD", download_url("app/index.html", preview=True), token=h.admin_token(),
                      headers={"If-None-Match": tag})
        self.assertEqual(r.status, 304, r)
        self.assertEqual(r.header("etag"), tag)
        r = h.request("HEAD", download_url("app/nope.js", preview=True), token=h.admin_token())
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.header("content-type"), "application/problem+json")
        self.assertEqual(r.body, b"")
        r = h.request("HEAD", "/app-bundle/manifest")
        self.assertEqual(r.status, 401, r)
        # HEAD goes only where GET does.
        r = h.request("HEAD", "/auth/login")
        self.assertEqual(r.status, 405, r)
        self.assertEqual(r.header("allow"), "POST")
        r = h.request("POST", "/health")
        self.assertEqual(r.header("allow"), "GET, HEAD")


class Http2(Base):
    def curl(self, *args):
        out = subprocess.run(["curl", "-sS", "--http2", "--cacert", h.CACERT, "-o", "/dev/stdout",
                              "-w", "\n%{http_version} %{http_code}", *args],
                             capture_output=True, check=True, timeout=30).stdout
        body, _, tail = out.rpartition(b"\n")
        version, code = tail.decode().split()
        return version, int(code), body

    def test_alpn_offers_h2_and_api_and_downloads_work_over_it(self):
        version, code, body = self.curl(h.BASE_URL + "/auth/login", "-H", "Content-Type: application/json",
                                        "-d", json.dumps({"username": "admin", "password": h.ADMIN_PASSWORD}))
        self.assertEqual((version, code), ("2", 200), body)
        token = json.loads(body)["token"]
        _, files = self.newest("h2")
        version, code, body = self.curl(h.BASE_URL + download_url("app/js/main.js", preview=True),
                                        "-H", "Authorization: Bearer " + token)
        self.assertEqual((version, code), ("2", 200))
        self.assertEqual(body, files["app/js/main.js"].encode())
        version, code, body = self.curl(h.BASE_URL + "/nowhere")
        self.assertEqual((version, code), ("2", 404))
        self.assertEqual(json.loads(body)["type"], PROBLEM + "not-found")


if __name__ == "__main__":
    unittest.main()
