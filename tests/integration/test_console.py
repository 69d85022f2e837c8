"""The web console's static files through nginx (CONTRACT §8): GET / is the page
without a token, assets under /console/<hash>/ are cached for a year, and every
console response carries the security headers. The browser tests (tests/browser)
drive the page itself."""
import re
import unittest

from harness import request, admin_token

CSP_PARTS = ["default-src 'self'", "img-src 'self' blob:", "frame-ancestors 'none'", "object-src 'none'",
             "base-uri 'none'"]


class ConsoleStaticTest(unittest.TestCase):
    def assert_console_headers(self, r):
        csp = r.header("content-security-policy")
        self.assertIsNotNone(csp, r.headers)
        for part in CSP_PARTS:
            self.assertIn(part, csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertNotIn("unsafe-eval", csp)
        self.assertEqual(r.header("x-content-type-options"), "nosniff")
        self.assertEqual(r.header("referrer-policy"), "no-referrer")

    def page(self):
        r = request("GET", "/")
        self.assertEqual(r.status, 200, r)
        return r

    def assets(self, html):
        return re.findall(r'(?:src|href)="(/console/[^"]+)"', html)

    def test_root_is_the_page_without_a_token(self):
        r = self.page()
        self.assertTrue(r.header("content-type").startswith("text/html"), r.headers)
        self.assert_console_headers(r)
        self.assertEqual(r.header("cache-control"), "no-cache")
        html = r.body.decode()
        self.assertIn('<script type="module"', html)
        self.assertNotIn("@ASSET_VERSION@", html)
        # No inline script or style: the CSP would refuse them.
        self.assertNotRegex(html, r"<script(?![^>]*\bsrc=)[^>]*>")
        self.assertNotIn("<style", html)
        self.assertNotIn("style=", html)
        self.assertEqual(request("HEAD", "/").status, 200)

    def test_assets_are_versioned_and_cached_for_a_year(self):
        assets = self.assets(self.page().body.decode())
        self.assertTrue(any(a.endswith("/app.js") for a in assets), assets)
        for path in assets:
            self.assertRegex(path, r"^/console/[0-9a-f]{16}/")
            r = request("GET", path)
            self.assertEqual(r.status, 200, (path, r))
            self.assertIn("immutable", r.header("cache-control"))
            self.assertIn("max-age=31536000", r.header("cache-control"))
            self.assert_console_headers(r)
        js = request("GET", [a for a in assets if a.endswith("/app.js")][0])
        self.assertEqual(js.header("content-type"), "application/javascript")

    def test_modules_import_relative_to_the_versioned_path(self):
        app = [a for a in self.assets(self.page().body.decode()) if a.endswith("/app.js")][0]
        base = app.rsplit("/", 1)[0]
        body = request("GET", app).body.decode()
        for mod in re.findall(r'from "\./([^"]+)"', body):
            self.assertEqual(request("GET", base + "/" + mod).status, 200, mod)

    def test_no_html_sink_in_the_console_sources(self):
        # Untrusted text only ever as text: no innerHTML/outerHTML/insertAdjacentHTML/document.write/eval.
        app = [a for a in self.assets(self.page().body.decode()) if a.endswith("/app.js")][0]
        base = app.rsplit("/", 1)[0]
        seen, todo = set(), ["app.js"]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            src = request("GET", base + "/" + name).body.decode()
            for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
                self.assertFalse(sink in src, f"{sink} in {name}")
            folder = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
            for mod in re.findall(r'from "\.\./([^"]+)"', src):
                todo.append(mod)
            for mod in re.findall(r'from "\./([^"]+)"', src):
                todo.append(folder + mod)
        self.assertGreaterEqual(len(seen), 10, seen)

    def test_unknown_asset_is_a_problem_404(self):
        r = request("GET", "/console/0123456789abcdef/nothing.js")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.header("content-type"), "application/problem+json")
        r = request("GET", "/console/0123456789abcdef/../../etc/passwd")
        self.assertIn(r.status, (400, 404))

    def test_other_methods_on_root_reach_the_workers(self):
        # Only GET/HEAD / are the page; a PUT to an attachment id nginx normalizes to /
        # is still judged by the worker on its raw URI (400, not nginx's static 405).
        r = request("POST", "/")
        self.assertEqual(r.status, 404, r)
        self.assertTrue(r.json["detail"].startswith("No route matches"), r)
        for method in ("GET", "PUT"):
            r = request(method, "/attachments/%2E%2E", token=admin_token())
            self.assertEqual(r.status, 400, r)
            self.assertEqual(r.header("content-type"), "application/problem+json")
        self.assertEqual(request("GET", "/?from=bookmark").status, 200)

    def test_api_routes_are_untouched(self):
        r = request("GET", "/health")
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header("content-security-policy"))
        self.assertEqual(request("GET", "/users").status, 401)
