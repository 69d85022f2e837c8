"""Signing in and out of the console in a real browser (CONTRACT §8)."""
import time

from browser import ConsoleCase, needs, wait, By
from harness import make_user, request, assert_problem, wait_refused, admin_token

NAV = ["Overview", "Devices", "Records", "Attachments", "App bundle", "Users", "Audit log", "Export"]


class SessionTest(ConsoleCase):
    def test_sign_in_by_accessible_names_and_navigation_landmark(self):
        self.open()
        self.screenshot("sign-in")
        self.sign_in()
        nav = self.drv.find_element(By.CSS_SELECTOR, "nav")
        self.assertEqual(nav.aria_role, "navigation")
        for name in NAV:
            self.nav_link(name)
        self.button("Sign out")
        # Every control on the page has an accessible name.
        for el in self.drv.find_elements(By.CSS_SELECTOR, "button, input, select, a"):
            if el.is_displayed():
                self.assertNotEqual(el.accessible_name.strip(), "", el.get_attribute("outerHTML")[:200])
        self.assert_no_csp_violation()

    def test_no_token_in_local_storage_or_cookies(self):
        self.sign_in()
        self.go("Users")
        tokens = self.access_tokens_sent()
        self.assertTrue(tokens, "the console sent no bearer token")
        self.assertEqual(self.drv.execute_script("return window.localStorage.length"), 0)
        self.assertEqual(self.drv.execute_script("return document.cookie"), "")
        self.assertEqual(self.drv.get_cookies(), [])
        # At most the refresh token in sessionStorage; the access token is in memory only.
        session = self.drv.execute_script(
            "const o = {}; for (let i = 0; i < sessionStorage.length; i++) { const k = sessionStorage.key(i); o[k] = sessionStorage.getItem(k); } return o;")
        self.assertLessEqual(len(session), 1, session)
        for value in session.values():
            for t in tokens:
                self.assertNotIn(t, value)
        # A reload in the same tab keeps the session through the refresh token.
        self.drv.refresh()
        self.button("Sign out")
        self.assertEqual(self.drv.execute_script("return window.localStorage.length"), 0)

    def test_wrong_password_shows_the_servers_detail(self):
        self.sign_in("admin", "not-the-password", expect_ok=False)
        alert = wait(lambda: [e for e in self.drv.find_elements(By.CSS_SELECTOR, "[role=alert]") if e.is_displayed()],
                     what="an error")[0]
        r = request("POST", "/auth/login", {"username": "nobody-at-all", "password": "not-the-password"})
        self.assertEqual(alert.text.strip(), r.json["detail"])

    def test_sign_out_makes_the_old_access_token_fail_within_5_s(self):
        needs(self, "/auth/logout")
        self.sign_in()
        self.go("Users")
        token = self.access_tokens_sent()[-1]
        self.assertEqual(request("GET", "/users", token=token).status, 200)
        since = time.time()
        self.button("Sign out").click()
        self.button("Sign in")
        wait_refused(self, token, since, 5.0)
        self.assertEqual(self.drv.execute_script("return sessionStorage.length"), 0)

    def test_non_admins_see_the_console_is_for_administrators(self):
        for role in ("read-only", "read-write"):
            with self.subTest(role=role):
                name, pw = make_user(role)
                self.sign_in(name, pw)
                self.wait_text("This console is for administrators")
                self.assertEqual([e for e in self.drv.find_elements(By.CSS_SELECTOR, "nav a") if e.is_displayed()], [])
                if role == "read-only":
                    self.screenshot("not-admin")
                token = self.access_tokens_sent()
                from harness import login
                token = login(name, pw)["token"]
                for path in ("/users", "/admin/overview", "/admin/devices", "/admin/records", "/admin/attachments",
                             "/admin/audit"):
                    r = request("GET", path, token=token)
                    if r.status == 404 and r.json["detail"].startswith("No route"):
                        continue  # not on this build yet
                    assert_problem(self, r, 403, "forbidden")
                self.button("Sign out").click()
                self.button("Sign in")
        self.assert_no_csp_violation()

    def test_expired_session_asks_to_sign_in_and_carries_on(self):
        # A second admin whose sessions an API call ends (a password reset revokes
        # them, CONTRACT §2): the console's next request is refused, its refresh too.
        name, pw = make_user("admin")
        self.sign_in(name, pw)
        self.go("Users")
        self.drv.get(self.drv.current_url.split("#")[0] + "#/records?form_type=after-expiry")
        self.wait_idle()
        r = request("POST", "/users/reset-password", {"username": name, "newPassword": "second-password-1"},
                    token=admin_token())
        self.assertEqual(r.status, 200, r)
        time.sleep(5.5)  # access tokens stop working within 5 s
        self.nav_link("Users").click()
        self.wait_text("Your session has expired")
        self.fill("Username", name)
        self.fill("Password", "second-password-1")
        self.button("Sign in").click()
        wait(lambda: self.drv.find_element(By.TAG_NAME, "h1").text == "Users", what="back on Users")
        self.assertIn("#/users", self.drv.current_url)
        self.assert_no_csp_violation()
