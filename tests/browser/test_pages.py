"""Each page of the console with data, each action done in the browser and its
effect checked through the API afterwards (not only on the page). Screenshots of
every page at 1280x800 and 390x844 go to build/console-screenshots/."""
import hashlib
import io
import json
import os
import tempfile
import time
import uuid
import zipfile

from browser import ConsoleCase, needs, wait, By, downloads_to, downloaded, route_missing
from harness import request, admin_token, make_user, login, unique_name
from test_app_bundle import make_zip, bundle_files, SURVEY_SCHEMA
from test_attachments import put

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a73"
    "0000001649444154789c63f8cfc0f09f8181e13f030303c3ff00001ffe05fc1b3ed1a4"
    "0000000049454e44ae426082")


def push_records(records, client_id=None, token=None):
    r = request("POST", "/sync/push", {"transmission_id": uuid.uuid4().hex, "client_id": client_id or "tablet-" + uuid.uuid4().hex[:6],
                                       "records": records}, token=token or admin_token())
    assert r.status == 200 and not r.json["failed_records"], r
    return r.json


def observation(oid, form, data, **extra):
    o = {"observation_id": oid, "form_type": form, "form_version": "1", "data": data,
         "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:05:00Z",
         "geolocation": {"latitude": -1.2921, "longitude": 36.8219, "accuracy": 8.5, "altitude": None,
                         "altitude_accuracy": None}}
    o.update(extra)
    return o


class UsersPageTest(ConsoleCase):
    def test_create_search_reset_delete(self):
        self.sign_in()
        self.go("Users")
        name = unique_name("web")
        self.drv.find_element(By.XPATH, "//summary[normalize-space()='Create a user']").click()
        self.fill("New username", name)
        self.fill("New user's password", "first-password-1")
        self.textbox("New user's role").send_keys("read-only")
        self.button("Create user").click()
        self.wait_text(f"User {name} created as read-only.")
        users = {u["username"]: u["role"] for u in request("GET", "/users", token=admin_token()).json}
        self.assertEqual(users.get(name), "read-only")
        login(name, "first-password-1")

        self.fill("Search users", name)
        rows = wait(lambda: self.drv.find_elements(By.CSS_SELECTOR, "tbody tr"), what="rows")
        self.assertEqual(len(rows), 1)
        self.screenshot("users")

        self.button("Reset password of " + name).click()
        self.fill("New password", "second-password-2")
        self.button("Set password").click()
        self.wait_text(f"Password of {name} reset")
        self.assertEqual(request("POST", "/auth/login", {"username": name, "password": "first-password-1"}).status, 401)
        login(name, "second-password-2")

        self.button("Delete " + name).click()
        self.named("dialog button", "Delete").click()
        self.wait_text(f"User {name} deleted.")
        self.assertNotIn(name, [u["username"] for u in request("GET", "/users", token=admin_token()).json])
        self.assert_no_csp_violation()

    def test_server_validation_detail_is_shown(self):
        self.sign_in()
        self.go("Users")
        self.drv.find_element(By.XPATH, "//summary[normalize-space()='Create a user']").click()
        self.fill("New username", "admin")  # exists: 409 from the server
        self.fill("New user's password", "whatever-123")
        self.button("Create user").click()
        detail = request("POST", "/users/create", {"username": "admin", "password": "whatever-123", "role": "read-only"},
                         token=admin_token()).json["detail"]
        self.wait_text(detail)

    def test_change_role(self):
        needs(self, "/admin/users/role")
        name, _ = make_user("read-only")
        self.sign_in()
        self.go("Users")
        self.fill("Search users", name)
        self.textbox("Role of " + name).send_keys("read-write")
        self.button("Change role of " + name).click()
        self.named("dialog button", "Change role").click()
        self.wait_text(f"{name} is now read-write.")
        roles = {u["username"]: u["role"] for u in request("GET", "/users", token=admin_token()).json}
        self.assertEqual(roles[name], "read-write")

    def test_change_own_password(self):
        name, pw = make_user("admin")
        self.sign_in(name, pw)
        self.go("Users")
        self.fill("Current password", "wrong-password-0")
        self.fill("New password", "changed-password-3")
        self.button("Change password").click()
        self.wait_text("current password")  # the server's 401 detail, and still signed in
        self.button("Sign out")
        self.fill("Current password", pw)
        self.fill("New password", "changed-password-3")
        self.button("Change password").click()
        self.wait_text("Your password has been changed")
        login(name, "changed-password-3")
        # Still signed in with the new pair the server answered.
        self.go("Users")
        self.button("Sign out")


class BundlePageTest(ConsoleCase):
    def upload(self, files, name="bundle.zip"):
        path = os.path.join(tempfile.mkdtemp(), name)
        with open(path, "wb") as f:
            f.write(make_zip(files))
        self.textbox("Bundle ZIP").send_keys(path)
        self.button("Upload bundle").click()

    def versions(self):
        return request("GET", "/app-bundle/versions", token=admin_token()).json["versions"]

    def test_upload_compare_activate_download(self):
        self.sign_in()
        self.go("App bundle")
        before = len(self.versions())
        tag = uuid.uuid4().hex[:8]
        self.upload(bundle_files("v1-" + tag))
        self.wait_text("Pushed version")
        self.assertEqual(len(self.versions()), before + 1)
        v1 = self.versions()[0].split()[0]

        # A bad bundle: the server's validation message is shown.
        self.upload({"app/index.html": "x", "forms/survey/schema.json": "{not json"}, "bad.zip")
        wait(lambda: [e for e in self.drv.find_elements(By.CSS_SELECTOR, "[role=alert]") if e.is_displayed()],
             what="the validation error")
        self.assertIn("forms/survey", self.text())
        self.assertEqual(len(self.versions()), before + 1)

        schema2 = {"type": "object", "properties": {**SURVEY_SCHEMA["properties"], "village": {"type": "string"},
                                                    "age": {"type": "number"}}}
        files2 = bundle_files("v2-" + tag, survey=schema2)
        files2["forms/household/schema.json"] = json.dumps({"type": "object", "properties": {"members": {"type": "integer"}}})
        files2["forms/household/ui.json"] = json.dumps({"type": "VerticalLayout"})
        self.upload(files2)
        self.wait_text("Pushed version")
        v2 = self.versions()[0].split()[0]
        self.assertNotEqual(v1, v2)

        # Changes between the two, forms and fields, as the API reports them.
        self.textbox("From version").send_keys(v1)
        self.textbox("To version").send_keys(v2)
        self.button("Compare").click()
        self.wait_text("Forms added")
        text = self.text()
        self.assertIn("household", text)
        self.assertIn("village added", text)
        self.assertIn("age changed type", text)
        self.screenshot("app-bundle")

        # Activate v2 (and back: the rollback), confirmed; checked through the API.
        for target in (v2, v1):
            if f"{target} *" in self.versions():
                continue
            self.button("Activate version " + target).click()
            self.named("dialog button", "Activate").click()
            wait(lambda: f"{target} *" in self.versions(), what=f"{target} active")
            self.wait_text(f"Switched to app bundle version {target}")

        # Download one file and the whole bundle through the page.
        folder = tempfile.mkdtemp()
        downloads_to(self.drv, folder)
        self.wait_idle()
        self.button("Download the whole bundle").click()
        got = downloaded(folder)
        zip_bytes = open(got, "rb").read()
        r = request("GET", "/app-bundle/download-zip", token=admin_token())
        self.assertEqual(hashlib.sha256(zip_bytes).hexdigest(), hashlib.sha256(r.body).hexdigest())
        self.assert_no_csp_violation()


class RecordsPageTest(ConsoleCase):
    def test_records_filter_record_tree_photo_history(self):
        needs(self, "/admin/records")
        form = "birds-" + uuid.uuid4().hex[:6]
        photo = uuid.uuid4().hex + ".png"
        self.assertEqual(put(photo, PNG, "image/png").status, 200)
        oid = "obs_" + uuid.uuid4().hex[:10]
        client = "formulus-" + uuid.uuid4().hex[:6]
        push_records([observation(oid, form, {"species": "heron", "count": 2, "photo": photo,
                                              "site": {"name": "lake", "depth": [1, 2]}})], client)
        push_records([observation(oid, form, {"species": "egret", "count": 3, "photo": photo,
                                              "site": {"name": "lake", "depth": [1, 2]}})], client)
        self.sign_in()
        self.go("Records")
        self.fill("Form type", form)
        self.button("Filter").click()
        self.link(oid).click()
        self.wait_text("History")
        self.wait_idle()
        text = self.text()
        for s in ("egret", "depth", "lake", "36.8219", client):
            self.assertIn(s, text)
        # History: the earlier version, who and what changed field by field.
        self.assertIn("heron", text)
        self.assertIn("species changed", text)
        # The photo is previewed from a blob: URL fetched with the token.
        img = wait(lambda: [i for i in self.drv.find_elements(By.CSS_SELECTOR, "img.preview")
                            if self.drv.execute_script("return arguments[0].complete && arguments[0].naturalWidth", i)],
                   what="the photo preview")[0]
        self.assertTrue(img.get_attribute("src").startswith("blob:"))
        self.screenshot("record")
        self.go("Records")
        self.screenshot("records")
        self.assert_no_csp_violation()


class AdminPagesTest(ConsoleCase):
    def test_overview_with_data(self):
        needs(self, "/admin/overview")
        form = "overview-" + uuid.uuid4().hex[:6]
        push_records([observation("obs_" + uuid.uuid4().hex[:8], form, {"a": 1})])
        # The figures may be up to 10 s old (CONTRACT §8): wait until the API lists the new
        # form type, then the page, loaded afterwards, must show it.
        wait(lambda: any(f["form_type"] == form
                         for f in request("GET", "/admin/overview", token=admin_token()).json["form_types"]),
             timeout=15, what="the overview to list the form type")
        self.sign_in()
        self.go("Overview")
        self.wait_text(form)
        self.screenshot("overview")
        self.assert_no_csp_violation()

    def test_devices_and_provisioning(self):
        needs(self, "/admin/devices", "/admin/devices/provision")
        name = unique_name("phone")
        self.sign_in()
        self.go("Devices")
        self.drv.find_element(By.XPATH, "//summary[normalize-space()='Provision a device']").click()
        self.fill("User", name)
        self.button("Provision device").click()
        self.wait_text("shown only this once")
        qr = self.named("img", "QR code that configures the app for " + name)
        self.assertTrue(qr.get_attribute("src").startswith("blob:"))
        password = self.drv.find_element(By.CSS_SELECTOR, "dialog code.secret").text
        self.screenshot("provision")
        self.named("dialog button", "Close").click()
        token = login(name, password)["token"]
        client = "formulus-" + uuid.uuid4().hex[:6]
        push_records([observation("obs_" + uuid.uuid4().hex[:8], "devices-test", {"x": 1})], client, token)
        self.go("Overview")
        self.go("Devices")
        self.wait_text(client)
        self.screenshot("devices")
        devices = request("GET", "/admin/devices", token=admin_token()).json["devices"]
        self.assertIn(client, [d["client_id"] for d in devices])
        self.assert_no_csp_violation()

    def test_attachments_filter_preview_delete(self):
        needs(self, "/admin/attachments")
        lonely = uuid.uuid4().hex + ".png"
        self.assertEqual(put(lonely, PNG, "image/png").status, 200)
        self.sign_in()
        self.go("Attachments")
        self.named("input", "Only unreferenced attachments").click()
        self.wait_idle()
        self.wait_text(lonely)
        self.button("Preview " + lonely).click()
        wait(lambda: self.drv.execute_script(
            "const i = document.querySelector('dialog img.preview'); return i && i.complete && i.naturalWidth"), what="preview")
        self.named("dialog button", "Close").click()
        self.screenshot("attachments")
        self.button("Delete " + lonely).click()
        self.named("dialog button", "Delete").click()
        self.wait_text(f"Attachment {lonely} deleted.")
        self.assertEqual(request("GET", "/attachments/" + lonely, token=admin_token()).status, 404)
        self.assert_no_csp_violation()

    def test_audit_log_filter(self):
        needs(self, "/admin/audit")
        name, _ = make_user("read-only")
        self.sign_in()
        self.go("Audit log")
        self.fill("Action", "user.create")
        self.button("Filter").click()
        self.wait_idle()
        self.wait_text(name)
        self.screenshot("audit-log")
        events = request("GET", "/admin/audit?action=user.create", token=admin_token()).json["events"]
        self.assertTrue(any(name in json.dumps(e) for e in events))
        self.assert_no_csp_violation()

    def test_export_parquet_of_one_form_type_through_a_link(self):
        needs(self, "/dataexport/links")
        form = "export-" + uuid.uuid4().hex[:6]
        push_records([observation("obs_" + uuid.uuid4().hex[:8], form, {"n": 1})])
        if not route_missing("/admin/overview"):
            # The page lists the overview's form types, whose figures may be up to 10 s
            # old (services/admin_service.h): an earlier test's sign-in may have just
            # computed them. Wait until the overview names the new form type.
            wait(lambda: form in [t["form_type"] for t in
                                  request("GET", "/admin/overview", token=admin_token()).json["form_types"]],
                 timeout=20, what="the overview to list the new form type")
        folder = tempfile.mkdtemp()
        self.sign_in()
        downloads_to(self.drv, folder)
        self.go("Export")
        self.screenshot("export")
        self.named("input", "Parquet").click()
        if route_missing("/admin/overview"):  # no list of form types: typed instead
            self.fill("Form types, comma-separated", form)
        else:
            wait(lambda: [e for e in self.drv.find_elements(By.CSS_SELECTOR, "input[name=form_type]")
                          if e.get_attribute("value") == form], timeout=20, what="the form type checkbox")[0].click()
        self.button("Export").click()
        path = downloaded(folder, 60)
        names = zipfile.ZipFile(io.BytesIO(open(path, "rb").read())).namelist()
        self.assertEqual(names, [form + ".parquet"])
        self.assert_no_csp_violation()
