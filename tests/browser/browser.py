"""Shared helpers of the browser tests: Debian's chromium, headless, driven by
chromium-driver through python3-selenium (nothing is downloaded), against the
stack that tests/integration/run.sh started. Elements are found by their
accessible names, as an admin (or a screen reader) meets them."""
import base64
import json
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import BASE_URL, REPO, request, admin_token, ADMIN_PASSWORD  # noqa: E402,F401

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

SHOTS = os.path.join(REPO, "build", "console-screenshots")
DESKTOP = (1280, 800)
PHONE = (390, 844)
# The real binary: /usr/bin/chromium is a shell wrapper that adds flags of its own.
CHROMIUM = "/usr/lib/chromium/chromium" if os.path.exists("/usr/lib/chromium/chromium") else "/usr/bin/chromium"


def new_driver():
    profile = tempfile.mkdtemp(prefix="console-browser-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 "--user-data-dir=" + profile, "--window-size=%d,%d" % DESKTOP, "--lang=en-US"):
        opts.add_argument(flag)
    # The stack's certificate is self-signed for 127.0.0.1.
    opts.set_capability("acceptInsecureCerts", True)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    drv.set_page_load_timeout(30)
    drv._profile_dir = profile
    return drv


def downloads_to(drv, folder):
    """Lets chromium save downloads (headless refuses them by default) into folder."""
    os.makedirs(folder, exist_ok=True)
    drv.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": folder})


def downloaded(folder, timeout=30.0):
    """The first finished download in folder (its path)."""
    def done():
        names = [n for n in os.listdir(folder) if not n.endswith(".crdownload")]
        partial = [n for n in os.listdir(folder) if n.endswith(".crdownload")]
        return os.path.join(folder, names[0]) if names and not partial else None
    return wait(done, timeout, "a finished download")


def quit_driver(drv):
    try:
        drv.quit()
    finally:
        shutil.rmtree(drv._profile_dir, ignore_errors=True)


def wait(fn, timeout=15.0, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            v = fn()
            if v:
                return v
        except (StaleElementReferenceException, LookupError) as e:
            last = e
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}" + (f" ({last})" if last else ""))


class ConsoleCase(unittest.TestCase):
    """A test with its own browser; self.drv is the WebDriver."""

    def setUp(self):
        self.drv = new_driver()
        self.addCleanup(quit_driver, self.drv)
        self.console_log = []

    # --- finding things as a user does ---------------------------------------------------
    def named(self, css, name, timeout=15.0):
        """The visible element matching `css` whose accessible name is `name`."""
        def find():
            for el in self.drv.find_elements(By.CSS_SELECTOR, css):
                if el.is_displayed() and el.accessible_name.strip() == name:
                    return el
            return None
        return wait(find, timeout, f"{css} named {name!r}")

    def button(self, name, timeout=15.0):
        return self.named("button", name, timeout)

    def textbox(self, name, timeout=15.0):
        return self.named("input, select, textarea", name, timeout)

    def link(self, name, timeout=15.0):
        return self.named("a", name, timeout)

    def nav_link(self, name):
        return self.named("nav[aria-label='Console'] a", name)

    def text(self):
        return self.drv.find_element(By.TAG_NAME, "body").text

    def wait_text(self, needle, timeout=15.0):
        return wait(lambda: needle in self.text(), timeout, f"text {needle!r}")

    def wait_idle(self, timeout=15.0):
        """Until no loading indicator is shown."""
        wait(lambda: not [e for e in self.drv.find_elements(By.CSS_SELECTOR, ".loading") if e.is_displayed()],
             timeout, "loading to finish")

    def fill(self, name, value):
        el = self.textbox(name)
        el.clear()
        el.send_keys(value)
        return el

    # --- sessions --------------------------------------------------------------------------
    def open(self, route=""):
        self.drv.get(BASE_URL + "/" + (("#/" + route) if route else ""))

    def sign_in(self, username="admin", password=None, expect_ok=True):
        self.open()
        self.fill("Username", username)
        self.fill("Password", password if password is not None else ADMIN_PASSWORD)
        self.button("Sign in").click()
        if expect_ok:
            self.button("Sign out")

    def go(self, page):
        """Follows a navigation link and waits for the page to finish loading."""
        self.nav_link(page).click()
        wait(lambda: self.drv.find_element(By.TAG_NAME, "h1").text.strip() != "", what="page heading")
        self.wait_idle()

    def access_tokens_sent(self):
        """Bearer tokens the page sent, read from chromium's network log."""
        tokens = []
        for entry in self.drv.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                auth = msg["params"]["request"]["headers"].get("Authorization", "")
                if auth.startswith("Bearer "):
                    tokens.append(auth[7:])
        return tokens

    # --- what must not happen ----------------------------------------------------------------
    def browser_log(self):
        self.console_log += self.drv.get_log("browser")
        return self.console_log

    def assert_no_csp_violation(self):
        bad = [e["message"] for e in self.browser_log()
               if "Content Security Policy" in e["message"] or "Refused to" in e["message"]]
        self.assertEqual(bad, [], "CSP violations in the browser log")

    def assert_no_script_ran(self):
        try:
            alert = self.drv.switch_to.alert
            self.fail("an alert opened: " + alert.text)
        except NoAlertPresentException:
            pass
        self.assertIsNone(self.drv.execute_script("return window.__pwned === undefined ? null : window.__pwned"))

    def screenshot(self, name):
        """The page at 1280x800 and 390x844, under build/console-screenshots/."""
        os.makedirs(SHOTS, exist_ok=True)
        for w, hgt in (DESKTOP, PHONE):
            # The viewport itself at that size (a window's size would include its frame).
            self.drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                     {"width": w, "height": hgt, "deviceScaleFactor": 1, "mobile": w < 600})
            time.sleep(0.3)
            self.drv.save_screenshot(os.path.join(SHOTS, f"{name}-{w}x{hgt}.png"))
            # Nothing sticks out sideways at a phone's width: tables scroll inside their box.
            if (w, hgt) == PHONE:
                width = self.drv.execute_script("return document.documentElement.scrollWidth")
                inner = self.drv.execute_script("return window.innerWidth")
                self.assertLessEqual(width, inner + 1, f"{name}: the page is wider than the phone")
        self.drv.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def route_missing(path):
    """True when the server has no such route (404 "No route matches ...")."""
    # Probed with GET: a known POST route answers 405, an unknown path 404 (and a
    # probe must not log anyone out).
    r = request("GET", path, token=admin_token())
    return r.status == 404 and r.json.get("detail", "").startswith("No route matches")


def needs(testcase, *routes):
    """Skips the test when a route of CONTRACT §8/§9 it drives is not on this build yet
    (the admin API lands on other branches; the report says which were skipped)."""
    for path in routes:
        if route_missing(path):
            testcase.skipTest(f"{path} is not served by this build")


def b64(s):
    return base64.b64encode(s.encode()).decode()
