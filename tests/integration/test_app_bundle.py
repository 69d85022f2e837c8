"""Contract section 4 through nginx: app bundle push, versions, switch, manifest,
downloads served by nginx (X-Accel-Redirect) with ETags, Range and preview,
changes, retention, concurrency and restarts.

The tests share one stack and may run in any order; each one states what it
needs (an active version, a newest version) instead of assuming a fresh database
or an earlier test."""
import hashlib
import io
import json
import os
import re
import signal
import socket
import ssl
import threading
import time
import unittest
import urllib.parse
import uuid
import warnings
import zipfile

import harness as h

BUNDLES = os.path.join(h.STATE, "bundles")
TMP = os.path.join(BUNDLES, "tmp")
VERSIONS = os.path.join(BUNDLES, "versions")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")

# Every bundle here has this form with the core field core_id, so pushes never
# trip the core-field guard unless a test means to.
SURVEY_SCHEMA = {"type": "object", "properties": {
    "core_id": {"type": "string"}, "name": {"type": "string"}, "age": {"type": "integer"}}}


# ---- building bundles ----

def make_zip(files, compression=zipfile.ZIP_DEFLATED):
    """files: {name: bytes|str} or a list of (name, bytes) pairs (duplicates allowed)."""
    buf = io.BytesIO()
    items = files.items() if isinstance(files, dict) else files
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(buf, "w", compression) as z:
            for name, content in items:
                if isinstance(name, zipfile.ZipInfo):
                    z.writestr(name, content)
                else:
                    z.writestr(name, content.encode() if isinstance(content, str) else content)
    return buf.getvalue()


def bundle_files(tag, extra=None, survey=SURVEY_SCHEMA):
    """A valid bundle whose every file says which push it came from."""
    files = {
        "app/index.html": f"<!doctype html><title>{tag}</title>",
        "app/js/main.js": f"console.log({json.dumps(tag)});",
        "app/css/site.css": f"/* {tag} */ body {{}}",
        "forms/survey/schema.json": json.dumps(survey),
        "forms/survey/ui.json": json.dumps({"type": "VerticalLayout", "tag": tag}),
        "renderers/stars/renderer.jsx": f"export default () => {json.dumps(tag)};",
    }
    files.update(extra or {})
    return files


def multipart(data, field="bundle", filename="bundle.zip", extra_fields=None):
    boundary = "----synk" + uuid.uuid4().hex
    out = b""
    for name, value in (extra_fields or {}).items():
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").encode() + value + b"\r\n"
    out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            "Content-Type: application/zip\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return out, "multipart/form-data; boundary=" + boundary


def push(zip_bytes, token=None, **kw):
    body, ctype = multipart(zip_bytes, **kw)
    return h.request("POST", "/app-bundle/push", token=token or h.admin_token(), raw=body,
                     headers={"Content-Type": ctype})


def push_ok(files):
    r = push(make_zip(files))
    assert r.status == 200, r
    return r.json["manifest"]


def get(path, token=None, headers=None, conn=None):
    return h.request("GET", path, token=token or h.admin_token(), headers=headers, conn=conn)


def versions():
    r = get("/app-bundle/versions")
    assert r.status == 200, r
    return r.json["versions"]


def active_version():
    for v in versions():
        if v.endswith(" *"):
            return v[:-2]
    return None


def switch(version, token=None):
    return h.request("POST", "/app-bundle/switch/" + version, token=token or h.admin_token())


def download_url(path, preview=False, encode_slashes=False):
    quoted = urllib.parse.quote(path, safe="" if encode_slashes else "/")
    return "/app-bundle/download/" + quoted + ("?preview=true" if preview else "")


def sha(b):
    return hashlib.sha256(b).hexdigest()


def manifest_hash(files, version):
    ordered = sorted(files, key=lambda f: f["path"].encode())
    return sha("".join(f["path"] + f["hash"] + str(f["size"]) for f in ordered).encode() + version.encode())


def dir_listing(path):
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


class Base(unittest.TestCase):
    def assert_etag(self, reply, hexhash):
        self.assertEqual(reply.header("etag"), '"' + hexhash + '"', reply)

    def assert_not_modified(self, reply, hexhash):
        self.assertEqual(reply.status, 304, reply)
        self.assertEqual(reply.body, b"")
        self.assert_etag(reply, hexhash)
        self.assertEqual(reply.header("x-api-version-used"), "1.0.0")

    def ensure_active(self):
        """An active version with the standard layout; returns its manifest."""
        if active_version() is None:
            push_ok(bundle_files("initial"))
        r = get("/app-bundle/manifest")
        self.assertEqual(r.status, 200, r)
        return r.json


class PushAndManifest(Base):
    def test_empty_store_then_first_push_activates_and_later_pushes_do_not(self):
        # No active version (as on a fresh install): the manifest is empty but valid.
        h.sql("UPDATE bundle_state SET active_version = NULL WHERE id = 1")
        # A change made behind the server's back is seen once each worker's cached
        # heads age out (bundle_cache_ms), as a change made on another host would be.
        self.assertTrue(h.wait_until(
            lambda: all(get("/app-bundle/manifest").json["version"] == "" for _ in range(9)), timeout=5))
        r = get("/app-bundle/manifest")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "application/json")
        m = r.json
        self.assertEqual(m["files"], [])
        self.assertEqual(m["version"], "")
        self.assertRegex(m["generatedAt"], RFC3339)
        self.assertEqual(m["hash"], manifest_hash([], ""))
        self.assert_etag(r, m["hash"])
        self.assert_not_modified(get("/app-bundle/manifest", headers={"If-None-Match": '"%s"' % m["hash"]}), m["hash"])
        self.assertEqual(get(download_url("app/index.html")).status, 404)
        self.assertEqual(get("/app-bundle/download-zip").status, 404)

        first = push(make_zip(bundle_files("first")))
        self.assertEqual(first.status, 200, first)
        self.assertEqual(first.header("content-type"), "application/json")
        self.assertEqual(first.json["message"], "App bundle successfully pushed")
        v1 = first.json["manifest"]["version"]
        self.assertRegex(v1, r"^\d{4,}$")
        self.assertEqual(versions()[0], v1 + " *")

        second = push(make_zip(bundle_files("second")))
        self.assertEqual(second.status, 200, second)
        v2 = second.json["manifest"]["version"]
        self.assertEqual(int(v2), int(v1) + 1)
        self.assertEqual(versions()[:2], [v2, v1 + " *"])
        self.assertEqual(get("/app-bundle/manifest").json["version"], v1)

    def test_manifest_is_complete_and_hashed_per_contract(self):
        files = bundle_files("manifest", {
            "app/img/logo.png": b"\x89PNG\r\n\x1a\n" + os.urandom(300),
            "app/Zeta.txt": "capital letters sort first",
            "app/data/empty.json": "",
            "app/a b/c%d.txt": "odd characters",
            "__MACOSX/app/._index.html": "finder litter",
            "app/.DS_Store": "finder litter",
        })
        m = push_ok(files)
        kept = {n: (c.encode() if isinstance(c, str) else c) for n, c in files.items()
                if not n.startswith("__MACOSX/") and not n.endswith(".DS_Store")}
        self.assertEqual([f["path"] for f in m["files"]], sorted(kept, key=lambda p: p.encode()))
        for f in m["files"]:
            self.assertEqual(set(f), {"path", "size", "hash", "mimeType", "modTime"})
            self.assertEqual(f["size"], len(kept[f["path"]]))
            self.assertEqual(f["hash"], sha(kept[f["path"]]))
            self.assertEqual(f["modTime"], m["generatedAt"])
        mimes = {f["path"]: f["mimeType"] for f in m["files"]}
        self.assertEqual(mimes["app/index.html"], "text/html")
        self.assertEqual(mimes["app/js/main.js"], "application/javascript")
        self.assertEqual(mimes["app/img/logo.png"], "image/png")
        self.assertEqual(mimes["forms/survey/schema.json"], "application/json")
        self.assertRegex(m["generatedAt"], RFC3339)
        self.assertEqual(m["hash"], manifest_hash(m["files"], m["version"]))
        # Served as pushed once active, byte for byte, with the manifest hash as ETag.
        self.assertEqual(switch(m["version"]).status, 200)
        r = get("/app-bundle/manifest")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json, m)
        self.assert_etag(r, m["hash"])
        self.assertEqual(get("/app-bundle/manifest").body, r.body)

    def test_manifest_if_none_match_forms(self):
        m = self.ensure_active()
        tag = '"%s"' % m["hash"]
        for inm in (tag, "W/" + tag, '"nope", ' + tag, 'W/"nope",W/' + tag, "*"):
            self.assert_not_modified(get("/app-bundle/manifest", headers={"If-None-Match": inm}), m["hash"])
        # Strong also for clients that accept gzip (nginx would weaken a compressed one).
        r = get("/app-bundle/manifest", headers={"Accept-Encoding": "gzip"})
        self.assert_etag(r, m["hash"])
        for inm in ('"nope"', '"%s"' % m["hash"][:-1], "W/\"\""):
            r = get("/app-bundle/manifest", headers={"If-None-Match": inm})
            self.assertEqual(r.status, 200, (inm, r))
            self.assertEqual(r.json["hash"], m["hash"])


class Downloads(Base):
    def test_every_manifest_file_downloads_with_its_hash_as_etag(self):
        extra = {"app/deep/er/nest.js": "nested", "app/sp ace.txt": "space", "app/100%.txt": "percent",
                 "app/q?.txt": "question", "app/h#.txt": "hash", "app/\u00e9t\u00e9.txt": "utf-8 name"}
        m = push_ok(bundle_files("dl", extra))
        self.assertEqual(switch(m["version"]).status, 200)
        conn = h.connection()
        try:
            for f in m["files"]:
                for encode_slashes in (False, True):
                    r = get(download_url(f["path"], encode_slashes=encode_slashes), conn=conn,
                            headers={"Accept-Encoding": "gzip"})
                    self.assertEqual(r.status, 200, (f["path"], r))
                    self.assertEqual(sha(r.body), f["hash"], f["path"])
                    self.assert_etag(r, f["hash"])
                    self.assertEqual(r.header("content-type"), f["mimeType"], f["path"])
                    self.assertEqual(int(r.header("content-length")), f["size"])
                    self.assertEqual(r.header("x-api-version-used"), "1.0.0")
                    self.assertIsNone(r.header("x-is-preview"))
                    self.assertIsNone(r.header("last-modified"))
                    self.assertIsNone(r.header("content-encoding"))
        finally:
            conn.close()

    def test_if_none_match_range_and_if_range(self):
        big = os.urandom(300_000)
        m = push_ok(bundle_files("range", {"app/big.bin": big}))
        self.assertEqual(switch(m["version"]).status, 200)
        url = download_url("app/big.bin")
        tag = '"%s"' % sha(big)
        for inm in (tag, "W/" + tag, '"x", ' + tag, "*"):
            self.assert_not_modified(get(url, headers={"If-None-Match": inm}), sha(big))
        self.assertEqual(get(url, headers={"If-None-Match": '"x"'}).status, 200)
        # The file's mtime is no validator: a switch back serves an older file.
        r = get(url, headers={"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, big)

        r = get(url, headers={"Range": "bytes=1000-1999"})
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.body, big[1000:2000])
        self.assertEqual(r.header("content-range"), "bytes 1000-1999/%d" % len(big))
        self.assert_etag(r, sha(big))
        r = get(url, headers={"Range": "bytes=-100"})
        self.assertEqual((r.status, r.body), (206, big[-100:]))
        r = get(url, headers={"Range": "bytes=299000-"})
        self.assertEqual((r.status, r.body), (206, big[299000:]))
        # Resuming with If-Range: the same version gives the range, another one all of it.
        r = get(url, headers={"Range": "bytes=10-19", "If-Range": tag})
        self.assertEqual((r.status, r.body), (206, big[10:20]))
        r = get(url, headers={"Range": "bytes=10-19", "If-Range": '"%s"' % ("0" * 64)})
        self.assertEqual((r.status, r.body), (200, big))
        r = get(url, headers={"Range": "bytes=10-19", "If-Range": "Fri, 01 Jan 2100 00:00:00 GMT"})
        self.assertEqual((r.status, r.body), (200, big))
        r = get(url, headers={"Range": "bytes=400000-"})
        self.assertEqual(r.status, 416, r)

    def test_unknown_files_are_404(self):
        self.ensure_active()
        for path in ("app/nope.html", "app", "app/js", "forms/survey", "APP/index.html", "app/index.html.bak"):
            r = get(download_url(path))
            h.assert_problem(self, r, 404, "not-found")

    def test_preview_serves_the_newest_version(self):
        active = self.ensure_active()
        newest = push_ok(bundle_files("preview-" + uuid.uuid4().hex, {"app/only-in-preview.txt": "new"}))
        self.assertNotEqual(active_version(), newest["version"])
        index = {f["path"]: f for f in newest["files"]}["app/index.html"]
        r = get(download_url("app/index.html", preview=True))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("x-is-preview"), "true")
        self.assertEqual(sha(r.body), index["hash"])
        self.assert_etag(r, index["hash"])
        r = get(download_url("app/index.html"))
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header("x-is-preview"))
        self.assertEqual(sha(r.body), {f["path"]: f for f in active["files"]}["app/index.html"]["hash"])
        self.assertEqual(get(download_url("app/only-in-preview.txt", preview=True)).body, b"new")
        self.assertEqual(get(download_url("app/only-in-preview.txt")).status, 404)
        r = get(download_url("app/index.html", preview=True), headers={"If-None-Match": '"%s"' % index["hash"]})
        self.assert_not_modified(r, index["hash"])
        self.assertEqual(r.header("x-is-preview"), "true")

    def test_traversal_never_leaves_the_version(self):
        m = self.ensure_active()
        secret = b"SECRET-" + uuid.uuid4().hex.encode()
        planted = [os.path.join(BUNDLES, "secret.txt"), os.path.join(VERSIONS, "secret.txt"),
                   os.path.join(BUNDLES, "tmp", "secret.txt")]
        for p in planted:
            with open(p, "wb") as f:
                f.write(secret)
        try:
            attempts = [
                "../secret.txt", "../../secret.txt", "..%2Fsecret.txt", "..%2F..%2Fsecret.txt",
                "%2e%2e/secret.txt", "%2E%2E%2Fsecret.txt", "app/..%2F..%2Fsecret.txt",
                "%252e%252e%252fsecret.txt", "%252e%252e/secret.txt", "..%252fsecret.txt",
                "/etc/passwd", "//etc/passwd", "%2Fetc%2Fpasswd", "%2F..%2F..%2F..%2Fetc%2Fpasswd",
                "..\\secret.txt", "..%5Csecret.txt", "app%5C..%5C..%5Csecret.txt",
                "app/./index.html", "app//index.html", "./app/index.html", "app/index.html%00",
                "app/index.html%00.txt", "%00", ".", "..", "%2e", "app/%2e%2e/%2e%2e/secret.txt",
                "app/js/../../../secret.txt", "..;/secret.txt", "%c0%ae%c0%ae/secret.txt",
                "../" + m["version"] + ".zip", "..%2F" + m["version"] + ".zip",
            ]
            # Paths of plain segments are looked up in the manifest (and not found);
            # every other path is refused before any lookup, by the worker (validation)
            # or, for a NUL or a path nginx cannot normalize, by nginx (bad-request).
            looked_up = {"%252e%252e%252fsecret.txt", "%252e%252e/secret.txt", "..%252fsecret.txt",
                         "..;/secret.txt", "%c0%ae%c0%ae/secret.txt"}
            refused_by_nginx = {"%2F..%2F..%2F..%2Fetc%2Fpasswd", "app/index.html%00", "app/index.html%00.txt", "%00"}
            conn = h.connection()
            try:
                for a in attempts:
                    for q in ("", "?preview=true"):
                        r = get("/app-bundle/download/" + a + q, conn=conn)
                        if a in looked_up:
                            h.assert_problem(self, r, 404, "not-found")
                        elif a in refused_by_nginx:
                            h.assert_problem(self, r, 400, "bad-request")
                        else:
                            h.assert_problem(self, r, 400, "validation")
                        self.assertNotIn(secret, r.body, a)
                        self.assertNotIn(b"root:", r.body, a)
                        self.assertNotIn(b"PK\x03\x04", r.body, a)
            finally:
                conn.close()
        finally:
            for p in planted:
                os.unlink(p)


class Roles(Base):
    def test_read_only_reads_but_cannot_push_or_switch(self):
        m = self.ensure_active()
        ro = h.token_for("read-only")
        rw = h.token_for("read-write")
        for tok in (ro, rw):
            self.assertEqual(get("/app-bundle/versions", token=tok).status, 200)
            self.assertEqual(get("/app-bundle/manifest", token=tok).status, 200)
            self.assertEqual(get(download_url("app/index.html"), token=tok).status, 200)
            self.assertEqual(get("/app-bundle/download-zip", token=tok).status, 200)
            self.assertIn(get("/app-bundle/changes", token=tok).status, (200, 404))
            before = versions()
            h.assert_problem(self, push(make_zip(bundle_files("ro")), token=tok), 403, "forbidden")
            h.assert_problem(self, switch(m["version"], token=tok), 403, "forbidden")
            self.assertEqual(versions(), before)

    def test_unauthenticated_is_401(self):
        self.ensure_active()
        body, ctype = multipart(make_zip(bundle_files("anon")))
        calls = [("GET", "/app-bundle/versions", None, {}), ("GET", "/app-bundle/manifest", None, {}),
                 ("GET", download_url("app/index.html"), None, {}), ("GET", "/app-bundle/download-zip", None, {}),
                 ("GET", "/app-bundle/changes", None, {}), ("POST", "/app-bundle/switch/1", None, {}),
                 ("POST", "/app-bundle/push", body, {"Content-Type": ctype})]
        for method, path, raw, headers in calls:
            for tok in (None, "not.a.token"):
                r = h.request(method, path, raw=raw, headers=headers, token=tok)
                p = h.assert_problem(self, r, 401, "unauthorized")
                self.assertEqual(r.header("www-authenticate"), "Bearer", path)
                self.assertNotIn(b"<!doctype", r.body.lower())
                del p


class InvalidPushes(Base):
    def assert_nothing_left(self, before_versions, before_dirs):
        self.assertEqual(versions(), before_versions)
        self.assertEqual(dir_listing(VERSIONS), before_dirs)
        self.assertEqual(dir_listing(TMP), [])

    def test_invalid_bundles_are_400_naming_the_entry_and_leave_nothing(self):
        self.ensure_active()
        good = bundle_files("bad")
        symlink = zipfile.ZipInfo("app/link")
        symlink.create_system = 3
        symlink.external_attr = 0o120777 << 16
        cases = [
            ("app/index.html", {k: v for k, v in good.items() if k != "app/index.html"}),
            ("../evil.txt", dict(good, **{"../evil.txt": "x"})),
            ("app/../../evil.txt", dict(good, **{"app/../../evil.txt": "x"})),
            ("/app/abs.txt", dict(good, **{"/app/abs.txt": "x"})),
            ("app\\win.txt", dict(good, **{"app\\win.txt": "x"})),
            ("app/link", list(good.items()) + [(symlink, "/etc/passwd")]),
            ("app/dup.txt", list(good.items()) + [("app/dup.txt", "1"), ("app/dup.txt", "2")]),
            ("other/file.txt", dict(good, **{"other/file.txt": "x"})),
            ("forms/survey/extra.json", dict(good, **{"forms/survey/extra.json": "{}"})),
            ("forms/lonely/ui.json", dict(good, **{"forms/lonely/schema.json": "{}"})),
            ("forms/broken/schema.json", dict(good, **{"forms/broken/schema.json": "{not json",
                                                       "forms/broken/ui.json": "{}"})),
            ("forms/arr/schema.json", dict(good, **{"forms/arr/schema.json": "[]", "forms/arr/ui.json": "{}"})),
            ("forms/r/schema.json", dict(good, **{"forms/r/schema.json": json.dumps(
                {"properties": {"x": {"type": "string", "x-renderer": "no-such-renderer"}}}),
                "forms/r/ui.json": "{}"})),
            ("renderers/stars/other.js", dict(good, **{"renderers/stars/other.js": "x"})),
            ("app/bomb.bin", dict(good, **{"app/bomb.bin": b"\0" * (20 << 20)})),
            ("app/" + "n" * 260, dict(good, **{"app/" + "n" * 260: "x"})),
        ]
        for entry, files in cases:
            before_v, before_d = versions(), dir_listing(VERSIONS)
            r = push(make_zip(files))
            p = h.assert_problem(self, r, 400, "validation")
            self.assertIn(entry, p["detail"], (entry, p))
            self.assert_nothing_left(before_v, before_d)

        whole = make_zip(good)
        for label, data in (("not a zip", b"this is not a zip file at all"), ("empty", b""),
                            ("truncated", whole[: len(whole) // 2]), ("corrupt", whole[:30] + b"\xff" * 40 + whole[70:])):
            before_v, before_d = versions(), dir_listing(VERSIONS)
            r = push(data)
            h.assert_problem(self, r, 400, "validation")
            self.assert_nothing_left(before_v, before_d)

    def test_malformed_uploads_are_400(self):
        self.ensure_active()
        before_v, before_d = versions(), dir_listing(VERSIONS)
        data = make_zip(bundle_files("form"))
        admin = h.admin_token()
        # Not multipart at all.
        r = h.request("POST", "/app-bundle/push", raw=data, token=admin, headers={"Content-Type": "application/zip"})
        h.assert_problem(self, r, 400, "validation")
        r = h.request("POST", "/app-bundle/push", raw=data, token=admin,
                      headers={"Content-Type": "multipart/form-data"})
        h.assert_problem(self, r, 400, "validation")
        # The file under another field name.
        p = h.assert_problem(self, push(data, field="file"), 400, "validation")
        self.assertEqual([e["field"] for e in p["errors"]], ["bundle"])
        # Cut off before the closing boundary.
        body, ctype = multipart(data)
        r = h.request("POST", "/app-bundle/push", raw=body[:-40], token=admin, headers={"Content-Type": ctype})
        h.assert_problem(self, r, 400, "validation")
        # An empty body.
        r = h.request("POST", "/app-bundle/push", raw=b"", token=admin, headers={"Content-Type": ctype})
        h.assert_problem(self, r, 400, "validation")
        self.assert_nothing_left(before_v, before_d)
        # Other fields next to the file are ignored.
        r = push(data, extra_fields={"comment": b"hello", "note": b"--not a boundary"})
        self.assertEqual(r.status, 200, r)

    def test_too_large_is_413_before_the_body_is_read(self):
        # Declared over the 100 MiB limit: nginx answers 413 at once, as problem+json.
        raw = socket.create_connection((h.HOST, h.PORT), timeout=20)
        ctx = ssl.create_default_context(cafile=h.CACERT)
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        try:
            s.sendall(("POST /app-bundle/push HTTP/1.1\r\nHost: localhost\r\n"
                       "Authorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                       "Content-Length: %d\r\n\r\n" % (h.admin_token(), 101 * 1024 * 1024)).encode())
            s.sendall(b"--x\r\n")
            reply = b""
            while b"\r\n\r\n" not in reply or len(reply) < reply.index(b"\r\n\r\n") + 20:
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
        finally:
            s.close()
        head = reply.split(b"\r\n\r\n")[0].decode().lower()
        self.assertTrue(head.startswith("http/1.1 413"), head)
        self.assertIn("content-type: application/problem+json", head)
        self.assertIn(b"payload-too-large", reply)
        self.assertEqual(dir_listing(TMP), [])


class CoreFields(Base):
    def test_changing_a_core_field_is_409_naming_it(self):
        m = self.ensure_active()
        self.assertEqual(switch(m["version"]).status, 200)
        before_v, before_d = versions(), dir_listing(VERSIONS)
        changed = json.loads(json.dumps(SURVEY_SCHEMA))
        changed["properties"]["core_id"] = {"type": "integer"}
        changed["properties"]["name"] = {"type": "integer"}  # not core: allowed
        r = push(make_zip(bundle_files("core", survey=changed)))
        p = h.assert_problem(self, r, 409, "conflict")
        self.assertIn("survey.core_id", p["detail"])
        self.assertNotIn("survey.name", p["detail"])
        self.assertEqual([e["field"] for e in p["errors"]], ["survey.core_id"])
        self.assertEqual(versions(), before_v)
        self.assertEqual(dir_listing(VERSIONS), before_d)
        self.assertEqual(dir_listing(TMP), [])
        # Dropping a core field is a change too; x-core marks one as well.
        dropped = json.loads(json.dumps(SURVEY_SCHEMA))
        del dropped["properties"]["core_id"]
        p = h.assert_problem(self, push(make_zip(bundle_files("core", survey=dropped))), 409, "conflict")
        self.assertIn("survey.core_id", p["detail"])
        # Unchanged core fields (keys reordered, spacing changed) pass; so do new forms.
        reordered = {"properties": {"age": {"type": "integer"}, "name": {"type": "string"},
                                    "core_id": {"type": "string"}}, "type": "object"}
        ok = push(make_zip(bundle_files("core-ok", survey=reordered, extra={
            "forms/other/schema.json": json.dumps({"properties": {"id": {"type": "string", "x-core": True}}}),
            "forms/other/ui.json": "{}"})))
        self.assertEqual(ok.status, 200, ok)


class SwitchAndVersions(Base):
    def test_switch_validates_and_accepts_both_spellings(self):
        self.ensure_active()
        names = [v.rstrip(" *") for v in versions()]
        target = names[-1]
        for spelling in (target, str(int(target)), "00" + target):
            r = switch(spelling)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json, {"message": "Switched to app bundle version " + target})
            self.assertEqual(active_version(), target)
        for bad in ("abc", "1a", "-1", "1.0", "%20", "0x10"):
            h.assert_problem(self, switch(bad), 400, "validation")
        for missing in ("99999", "0", "123456789012345678901234567890"):
            h.assert_problem(self, switch(missing), 404, "not-found")
        self.assertEqual(active_version(), target)
        r = h.request("GET", "/app-bundle/switch/" + target, token=h.admin_token())
        h.assert_problem(self, r, 405, "bad-request")

    def test_every_worker_sees_a_switch_at_once(self):
        # Workers may cache the active version (bundle_cache_ms), but a switch made
        # through one worker must be seen by every worker of the host immediately.
        self.ensure_active()
        names = [v.rstrip(" *") for v in versions()]
        if len(names) < 2:
            push_ok(bundle_files("second"))
            names = [v.rstrip(" *") for v in versions()]
        a, b = names[0], names[1]
        for round_ in range(4):
            for target in (a, b):
                # Warm every worker's cache with the current version first.
                for _ in range(12):
                    get("/app-bundle/manifest")
                r = switch(target)
                self.assertEqual(r.status, 200, r)
                for i in range(12):
                    m = get("/app-bundle/manifest")
                    self.assertEqual(m.json["version"], target, f"round {round_}, read {i} after the switch")

    def test_versions_are_newest_first_with_one_active(self):
        self.ensure_active()
        vs = versions()
        nums = [int(v.rstrip(" *")) for v in vs]
        self.assertEqual(nums, sorted(nums, reverse=True))
        self.assertEqual(len([v for v in vs if v.endswith(" *")]), 1)
        for v in vs:
            self.assertRegex(v, r"^\d{4,}( \*)?$")

    def test_concurrent_pushes_get_distinct_versions(self):
        self.ensure_active()
        results = []
        lock = threading.Lock()

        def one(i):
            r = push(make_zip(bundle_files("concurrent-%d" % i)))
            with lock:
                results.append(r)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual([r.status for r in results], [200] * 8, results)
        got = [r.json["manifest"]["version"] for r in results]
        self.assertEqual(len(set(got)), 8, got)
        nums = sorted(int(v) for v in got)
        self.assertEqual(nums, list(range(nums[0], nums[0] + 8)))
        self.assertEqual(dir_listing(TMP), [])


class Retention(Base):
    def test_newest_five_are_kept_and_the_active_one_always(self):
        self.ensure_active()
        oldest_kept = versions()[-1].rstrip(" *")
        self.assertEqual(switch(oldest_kept).status, 200)
        pushed = [push_ok(bundle_files("retention-%d" % i))["version"] for i in range(7)]
        vs = versions()
        self.assertEqual(vs[:5], pushed[-5:][::-1])
        self.assertEqual(vs[5:], [oldest_kept + " *"])
        # Files of retired versions stay for a grace period (downloads in flight), then go.
        retired = [int(r[0]) for r in h.sql("SELECT version FROM bundle_retired")]
        self.assertIn(int(pushed[0]), retired)
        self.assertTrue(os.path.isdir(os.path.join(VERSIONS, pushed[0])))
        h.sql("UPDATE bundle_retired SET retired_at = retired_at - 3600")
        newest = push_ok(bundle_files("retention-last"))["version"]
        kept = [v.rstrip(" *") for v in versions()]
        self.assertEqual(kept, [newest] + pushed[-4:][::-1] + [oldest_kept])
        in_grace = ["%04d" % int(r[0]) for r in h.sql("SELECT version FROM bundle_retired")]
        self.assertEqual(in_grace, [pushed[-5]])  # retired by the last push, files still there
        on_disk = dir_listing(VERSIONS)
        self.assertEqual(on_disk, sorted([v for v in kept + in_grace] + [v + ".zip" for v in kept + in_grace]))
        # The active version still serves.
        self.assertEqual(get(download_url("app/index.html")).status, 200)
        for v in pushed[:2]:
            h.assert_problem(self, switch(v), 404, "not-found")


class Changes(Base):
    def test_changes_between_versions(self):
        self.ensure_active()
        base = bundle_files("chg-a", {
            "forms/keep/schema.json": json.dumps({"properties": {"a": {"type": "string"}}}),
            "forms/keep/ui.json": json.dumps({"x": 1}),
            "forms/gone/schema.json": json.dumps({"properties": {}}),
            "forms/gone/ui.json": "{}",
        })
        a = push_ok(base)["version"]
        nxt = dict(base)
        del nxt["forms/gone/schema.json"], nxt["forms/gone/ui.json"]
        nxt["forms/keep/schema.json"] = json.dumps({"properties": {"a": {"type": "integer"}, "b": {"type": ["string", "null"]}}})
        nxt["forms/keep/ui.json"] = json.dumps({"x": 2})
        nxt["forms/new/schema.json"] = "{}"
        nxt["forms/new/ui.json"] = "{}"
        b = push_ok(nxt)["version"]
        r = get("/app-bundle/changes?current=%s&target=%s" % (b, a))
        self.assertEqual(r.status, 200, r)
        c = r.json
        self.assertEqual(c["compare_version_a"], b)
        self.assertEqual(c["compare_version_b"], a)
        self.assertTrue(c["form_changes"])
        self.assertTrue(c["ui_changes"])
        self.assertEqual(c["new_forms"], [{"form": "new"}])
        self.assertEqual(c["removed_forms"], [{"form": "gone"}])
        self.assertEqual(len(c["modified_forms"]), 1, c)
        mf = c["modified_forms"][0]
        self.assertEqual(mf["form"], "keep")
        self.assertTrue(mf["schema_changed"])
        self.assertTrue(mf["ui_changed"])
        self.assertFalse(mf["core_changed"])
        self.assertEqual(mf["added_fields"], [{"field": "a", "type": "integer"}, {"field": "b", "type": "string|null"}])
        self.assertEqual(mf["removed_fields"], [{"field": "a", "type": "string"}])
        # Defaults: current = the active version, target = the one stored before it.
        self.assertEqual(switch(b).status, 200)
        r = get("/app-bundle/changes")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["compare_version_a"], r.json["compare_version_b"]), (b, a))
        self.assertEqual(get("/app-bundle/changes?current=&target=").json, r.json)
        self.assertEqual(get("/app-bundle/changes?current=" + str(int(b))).json, r.json)
        same = get("/app-bundle/changes?current=%s&target=%s" % (b, b)).json
        self.assertEqual((same["new_forms"], same["removed_forms"], same["modified_forms"]), ([], [], []))
        self.assertFalse(same["form_changes"] or same["ui_changes"])
        for q in ("current=abc", "target=1x", "current=-1"):
            h.assert_problem(self, get("/app-bundle/changes?" + q), 400, "validation")
        for q in ("current=99999", "target=99999", "current=%s&target=88888" % b):
            h.assert_problem(self, get("/app-bundle/changes?" + q), 404, "not-found")
        oldest = versions()[-1].rstrip(" *")
        h.assert_problem(self, get("/app-bundle/changes?current=" + oldest), 404, "not-found")


class DownloadZip(Base):
    def test_download_zip_etag_304_range_preview(self):
        data = make_zip(bundle_files("zip-" + uuid.uuid4().hex, {"app/blob.bin": os.urandom(200_000)}))
        r = push(data)
        self.assertEqual(r.status, 200, r)
        version = r.json["manifest"]["version"]
        self.assertEqual(switch(version).status, 200)
        r = get("/app-bundle/download-zip")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, data)
        self.assertEqual(r.header("content-type"), "application/zip")
        self.assertEqual(int(r.header("content-length")), len(data))
        self.assert_etag(r, sha(data))
        self.assertIsNone(r.header("x-is-preview"))
        for inm in ('"%s"' % sha(data), 'W/"%s"' % sha(data), "*"):
            self.assert_not_modified(get("/app-bundle/download-zip", headers={"If-None-Match": inm}), sha(data))
        r = get("/app-bundle/download-zip", headers={"Range": "bytes=100-"})
        self.assertEqual((r.status, r.body), (206, data[100:]))
        self.assertEqual(r.header("content-range"), "bytes 100-%d/%d" % (len(data) - 1, len(data)))
        newer = make_zip(bundle_files("zip-preview-" + uuid.uuid4().hex))
        self.assertEqual(push(newer).status, 200)
        r = get("/app-bundle/download-zip?preview=true")
        self.assertEqual((r.status, r.body, r.header("x-is-preview")), (200, newer, "true"))
        self.assert_etag(r, sha(newer))
        self.assertEqual(get("/app-bundle/download-zip").body, data)


class SwitchUnderLoad(Base):
    def test_downloads_during_switches_see_whole_files_of_one_version(self):
        def files_for(tag):
            body = (tag * (300_000 // len(tag) + 1)).encode()[:300_000]
            return bundle_files(tag, {"app/big.bin": body})

        tags = ["ALPHA-" + uuid.uuid4().hex[:6], "BRAVO-" + uuid.uuid4().hex[:6]]
        expected = {}  # path -> {content: tag}
        names = []
        for tag in tags:
            files = files_for(tag)
            r = push(make_zip(files, zipfile.ZIP_STORED))  # repetitive content: no 200-fold deflate
            self.assertEqual(r.status, 200, r)
            names.append(r.json["manifest"]["version"])
            for path in ("app/index.html", "app/big.bin"):
                c = files[path]
                expected.setdefault(path, {})[c.encode() if isinstance(c, str) else c] = tag
        self.assertEqual(switch(names[0]).status, 200)
        token = h.token_for("read-only")
        stop = threading.Event()
        lock = threading.Lock()
        seen = {"ok": 0, "tags": set(), "errors": []}

        def loop(path):
            conn = h.connection(timeout=30)
            while not stop.is_set():
                try:
                    r = get(download_url(path), token=token, conn=conn)
                    m = get("/app-bundle/manifest", token=token, conn=conn)
                except Exception as e:
                    with lock:
                        seen["errors"].append(repr(e))
                    conn.close()
                    conn = h.connection(timeout=30)
                    continue
                with lock:
                    tag = expected[path].get(r.body)
                    if r.status != 200 or tag is None or r.header("etag") != '"%s"' % sha(r.body):
                        seen["errors"].append((path, r.status, len(r.body), r.body[:60]))
                    elif m.status != 200 or m.json["version"] not in names or \
                            m.header("etag") != '"%s"' % m.json["hash"]:
                        seen["errors"].append(("manifest", m.status, m.body[:100]))
                    else:
                        seen["ok"] += 1
                        seen["tags"].add(tag)
            conn.close()

        threads = [threading.Thread(target=loop, args=(p,)) for p in ("app/index.html", "app/big.bin") * 3]
        for t in threads:
            t.start()
        try:
            for i in range(40):
                r = switch(names[i % 2 == 0 and 1 or 0])
                self.assertEqual(r.status, 200, r)
                time.sleep(0.03)
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        self.assertEqual(seen["errors"], [])
        self.assertGreater(seen["ok"], 40)
        self.assertEqual(seen["tags"], set(tags))


class BytesBypassWorkers(Base):
    """The file bytes are sent by nginx from disk, never through a worker. The byte
    count is the proof (nginx buffers FastCGI output, so a worker that sent the file
    could finish before a slow client does); the stopped workers show that serving
    the body needs none of them."""

    def test_large_download_with_all_workers_stopped(self):
        big = os.urandom(8 << 20)
        m = push_ok(bundle_files("bypass", {"app/video.bin": big}))
        self.assertEqual(switch(m["version"]).status, 200)
        url = download_url("app/video.bin")

        # 1. The workers together write a few KiB for an 8 MiB download.
        self.assertEqual(get(url).status, 200)  # warm the worker caches
        before = h.worker_bytes_written()
        r = get(url)
        after = h.worker_bytes_written()
        self.assertEqual(r.body, big)
        self.assertLess(after - before, 64 * 1024)

        # 2. Once the worker has answered, the body completes with every worker stopped.
        # A small receive window (set before connecting, so it is the one negotiated)
        # keeps most of the 8 MiB from being on its way before the workers stop.
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        raw.settimeout(30)
        raw.connect((h.HOST, h.PORT))
        s = ssl.create_default_context(cafile=h.CACERT).wrap_socket(raw, server_hostname="localhost")
        pids = h.wait_for_workers()
        try:
            s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n"
                       "Connection: close\r\n\r\n" % (url, h.admin_token())).encode())
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                self.assertTrue(chunk)
                data += chunk
            head, body = data.split(b"\r\n\r\n", 1)
            self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
            for pid in pids:
                os.kill(pid, signal.SIGSTOP)
            received_before_stop = len(body)
            while len(body) < len(big):
                chunk = s.recv(65536)
                if not chunk:
                    break
                body += chunk
            self.assertEqual(sha(body), sha(big))
            self.assertLess(received_before_stop, len(big) // 2)
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
            s.close()
        self.assertEqual(get("/app-bundle/manifest").status, 200)


class Restart(Base):
    def test_restart_keeps_active_version_manifest_and_etags(self):
        m = self.ensure_active()
        before_versions = versions()
        man = get("/app-bundle/manifest")
        idx = get(download_url("app/index.html"))
        zipr = get("/app-bundle/download-zip")
        h.stack("stack_stop_workers", "stack_start_workers")
        self.assertTrue(h.wait_until(lambda: get("/app-bundle/versions").status == 200))
        self.assertEqual(versions(), before_versions)
        man2 = get("/app-bundle/manifest")
        self.assertEqual((man2.status, man2.body, man2.header("etag")), (200, man.body, man.header("etag")))
        self.assert_not_modified(get("/app-bundle/manifest", headers={"If-None-Match": man.header("etag")}), m["hash"])
        idx2 = get(download_url("app/index.html"))
        self.assertEqual((idx2.body, idx2.header("etag")), (idx.body, idx.header("etag")))
        zip2 = get("/app-bundle/download-zip")
        self.assertEqual((zip2.body, zip2.header("etag")), (zipr.body, zipr.header("etag")))


if __name__ == "__main__":
    unittest.main()
