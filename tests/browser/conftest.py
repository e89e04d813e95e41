"""Browser tests: Debian's chromium, headless, driven by Selenium through chromium-driver (no
browser can be downloaded here; scripts/install-test-tools.sh installs both). One real platform per
module, as in tests/e2e."""
import os
import shutil
from pathlib import Path

import eventlet.debug
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import Select, WebDriverWait

from services.common.config import ROOT
from tests.e2e.conftest import appoint, platform, person  # noqa: F401  (the same fixtures)

# Selenium Manager must not try to fetch a browser or driver: this machine reaches no such host.
os.environ.setdefault("SE_OFFLINE", "true")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOTS = Path(os.environ.get("ALLIES_SCREENSHOTS") or Path(ROOT) / ".local" / "screenshots")
AXE = Path(os.environ.get("ALLIES_HOME") or Path(ROOT) / ".local") / "axe" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = (1280, 900)
PHONE = (360, 780)


class Browser:
    """One person's browser. `javascript=False` is Tor Browser at its Safest level."""

    def __init__(self, base, javascript=True):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         f"--window-size={DESKTOP[0]},{DESKTOP[1]}", "--lang=en-US"):
            options.add_argument(argument)
        if not javascript:
            options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
        # Under eventlet (tests run as nameko's do), starting chromedriver's process can trip the
        # hub's "second simultaneous read" check on a pipe fd that a finished process's stale
        # listener still names (seen once in a full run). The check is off only while it starts.
        eventlet.debug.hub_prevent_multiple_readers(False)
        try:
            self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        finally:
            eventlet.debug.hub_prevent_multiple_readers(True)
        self.driver.set_page_load_timeout(30)
        self.base = base
        self.javascript = javascript

    def open(self, path):
        self.driver.get(self.base + path)
        return self

    @property
    def path(self):
        return self.driver.current_url[len(self.base):]

    @property
    def html(self):
        return self.driver.page_source

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def type(self, field_id, text):
        element = self.find(f"#{field_id}")
        element.clear()
        element.send_keys(text)
        return self

    def tick(self, field_id):
        element = self.find(f"#{field_id}")
        if not element.is_selected():
            element.click()
        return self

    def pick(self, field_id, *values):
        select = Select(self.find(f"#{field_id}"))
        if select.is_multiple:
            select.deselect_all()
        for value in values:
            select.select_by_value(value)
        return self

    def press(self, label):
        """Click the button (or link) whose text is `label`, as a person would."""
        for element in self.all("button, a.button"):
            if element.text.strip() == label:
                return self.click(element)
        raise AssertionError(f"no button {label!r} on {self.path}")

    def submit(self, form_action):
        return self.click(self.find(f'form[action="{form_action}"] button[type=submit]'))

    def click(self, element):
        """Click, then wait for the next page (a click returns before the browser navigates)."""
        page = self.find("html")
        element.click()

        def left(_):
            try:
                page.is_enabled()
                return False
            except WebDriverException:  # stale, or (chromedriver) "does not belong to the document"
                return True

        WebDriverWait(self.driver, 30).until(left)
        return self

    def screenshot(self, name, size=DESKTOP):
        """The page at a width, whole: a phone's 360 px or a laptop's."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        width, height = size
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
        full = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": min(int(full["height"]) + 1, 4000), "deviceScaleFactor": 1,
            "mobile": width < 600})
        path = SCREENSHOTS / f"{name}-{'phone' if width < 600 else 'desktop'}.png"
        self.driver.save_screenshot(str(path))
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return path

    def axe(self):
        """axe-core's violations on the open page (served into it from the local copy; no CDN)."""
        assert self.javascript, "axe runs in a browser with JavaScript"
        self.driver.execute_script(AXE.read_text())
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations), e => done(String(e)));")
        assert isinstance(result, list), result
        return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                 "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result]

    def quit(self):
        self.driver.quit()


@pytest.fixture
def browser(platform):
    """`browser(javascript=False)`: a new browser on the platform, closed by the test."""
    opened = []

    def launch(javascript=True):
        opened.append(Browser(platform.url, javascript))
        return opened[-1]

    yield launch
    for each in opened:
        each.quit()
