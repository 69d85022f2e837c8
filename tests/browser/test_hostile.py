"""Hostile values render as text: pushed as record data, form types, client ids,
record and attachment ids and bundle file names, and tried as usernames at sign-in
(they reach the audit log). No script runs and the browser logs no CSP violation."""
import json
import os
import tempfile
import uuid

from browser import ConsoleCase, wait, By, route_missing
from harness import request, admin_token
from test_app_bundle import make_zip, bundle_files, push
from test_attachments import put
from test_pages import push_records

SCRIPT = "<script>window.__pwned='script'</script>"
IMG = "<img src=x onerror=\"window.__pwned='img'\">"
JS_URL = "javascript:window.__pwned='url'"
RTL = "\u202eevil\u202c مرحبا بالعالم"
LONG = "W" * 5000
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned=\'svg\'">'
       b'<script>window.__pwned="svg2"</script></svg>')


class HostileValuesTest(ConsoleCase):
    def assert_safe(self, *needles):
        self.wait_idle()
        text = self.text()
        for n in needles:
            self.assertIn(n, text)
        self.assert_no_script_ran()
        self.assert_no_csp_violation()
        # Nothing from the data became an element: no element has an inline handler.
        self.assertEqual(self.drv.execute_script(
            "return [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length"), 0)
        self.assertEqual(self.drv.execute_script(
            "return [...document.querySelectorAll('a[href]')].filter(a => a.protocol === 'javascript:').length"), 0)

    def test_hostile_values_are_text_everywhere(self):
        tag = uuid.uuid4().hex[:6]
        svg_id = uuid.uuid4().hex + ".svg"
        self.assertEqual(put(svg_id, SVG, "image/svg+xml").status, 200)
        form = SCRIPT + tag
        client = IMG + tag
        rid = JS_URL + tag
        push_records([
            {"observation_id": rid, "form_type": form, "form_version": "1",
             "data": {SCRIPT: IMG, "link": JS_URL, "rtl": RTL, "long": LONG, "photo": svg_id,
                      "nested": {IMG: [SCRIPT, {"k": JS_URL}]}}},
        ], client)
        # Bundle file names (entries under app/ may hold any characters but / and \).
        files = bundle_files("hostile-" + tag)
        files["app/" + IMG + ".html"] = SCRIPT
        files["app/" + JS_URL + ".js"] = "x"
        files["app/" + RTL + ".txt"] = "x"
        r = push(make_zip(files))
        self.assertEqual(r.status, 200, r)
        version = r.json["manifest"]["version"]
        request("POST", "/app-bundle/switch/" + version, token=admin_token())

        # Hostile usernames tried at sign-in reach the audit log.
        for name in (SCRIPT, IMG, JS_URL, RTL):
            self.open()
            self.fill("Username", name)
            self.fill("Password", "wrong-password-x")
            self.button("Sign in").click()
            wait(lambda: [e for e in self.drv.find_elements(By.CSS_SELECTOR, "[role=alert]") if e.is_displayed()],
                 what="the sign-in error")
            self.assert_no_script_ran()
        self.sign_in()

        self.go("App bundle")
        self.assert_safe(IMG + ".html", JS_URL + ".js")

        if not route_missing("/admin/records"):
            self.go("Records")
            self.fill("Form type", form)
            self.button("Filter").click()
            self.wait_idle()
            self.assert_safe(form, client, rid)
            self.link(rid).click()
            self.wait_text("History")
            self.assert_safe(SCRIPT, IMG, JS_URL, RTL, LONG[:100], client)
            # The SVG attachment is offered for download only, never rendered here.
            wait(lambda: self.button("Download " + svg_id), what="the SVG's download button")
            self.assertEqual(self.drv.find_elements(By.CSS_SELECTOR, "img.preview"), [])
            self.screenshot("record-hostile")
        if not route_missing("/admin/devices"):
            self.go("Devices")
            self.assert_safe(client)
        if not route_missing("/admin/attachments"):
            self.go("Attachments")
            self.assert_safe(svg_id)
            self.assertIsNone(self._preview_button(svg_id))
        if not route_missing("/admin/overview"):
            self.go("Overview")
            self.wait_idle()
            self.assert_no_script_ran()
            self.assert_no_csp_violation()
        if not route_missing("/admin/audit"):
            self.go("Audit log")
            self.fill("Action", "login.failed")
            self.button("Filter").click()
            self.assert_safe(SCRIPT, IMG, JS_URL)

    def _preview_button(self, att_id):
        for b in self.drv.find_elements(By.CSS_SELECTOR, "button"):
            if b.accessible_name == "Preview " + att_id:
                return b
        return None
