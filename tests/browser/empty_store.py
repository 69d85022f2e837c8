"""Every page on a store with nothing in it: run first, on a fresh stack of its own
(make test-browser), so 'empty' really is empty. Screenshots *-empty-*.png."""
from browser import ConsoleCase, needs, By, route_missing
from harness import request, admin_token

# page: (the text of its empty state, the admin route it needs)
PAGES = {
    "Overview": ("No records yet", "/admin/overview"),
    "Devices": ("No device has synced yet", "/admin/devices"),
    "Records": ("No records match", "/admin/records"),
    "Attachments": ("No attachments have been uploaded", "/admin/attachments"),
    "App bundle": ("No app bundle has been pushed yet", None),
    "Users": (None, None),                      # the admin is always there
    "Audit log": (None, "/admin/audit"),        # the sign-in itself is audited
    "Export": ("No form types yet", "/admin/overview"),
}


class EmptyStoreTest(ConsoleCase):
    def test_every_page_shows_its_empty_state(self):
        self.assertEqual(request("GET", "/app-bundle/versions", token=admin_token()).json["versions"], [])
        self.sign_in()
        for page, (empty, route) in PAGES.items():
            with self.subTest(page=page):
                if route and route_missing(route):
                    print(f"\n  {page}: not checked, {route} is not served by this build", end="")
                    continue
                self.go(page)
                if empty:
                    self.wait_text(empty)
                self.assertEqual([e.text for e in self.drv.find_elements(By.CSS_SELECTOR, ".error") if e.is_displayed()], [])
                self.screenshot(page.lower().replace(" ", "-") + "-empty")
        self.assert_no_csp_violation()
