"""Every page on a store with nothing in it: run first, on a fresh stack of its own
(make test-browser), so 'empty' really is empty. Screenshots *-empty-*.png."""
from browser import ConsoleCase, needs, By
from harness import request, admin_token

PAGES = {
    "Overview": None,
    "Devices": "No device has synced yet",
    "Records": "No records match",
    "Attachments": "No attachments have been uploaded",
    "App bundle": "No app bundle has been pushed yet",
    "Users": None,            # the admin is always there
    "Audit log": None,        # the sign-in itself is audited
    "Export": "No form types yet",
}


class EmptyStoreTest(ConsoleCase):
    def test_every_page_shows_its_empty_state(self):
        self.assertEqual(request("GET", "/app-bundle/versions", token=admin_token()).json["versions"], [])
        self.sign_in()
        for page, empty in PAGES.items():
            with self.subTest(page=page):
                self.go(page)
                if empty:
                    self.wait_text(empty)
                self.assertEqual([e.text for e in self.drv.find_elements(By.CSS_SELECTOR, ".error") if e.is_displayed()], [])
                self.screenshot(page.lower().replace(" ", "-") + "-empty")
        self.assert_no_csp_violation()

    def test_overview_counts_zero(self):
        needs(self, "/admin/overview")
        self.sign_in()
        self.go("Overview")
        self.wait_text("No records yet")
