"""Headless Chromium for the browser tests: Debian's ``chromium`` and ``chromium-driver``,
driven by Selenium with those executables (never a browser download).

Without them the browser tests skip, saying what to install, unless
``COURSE_REQUIRE_BROWSER=1`` (set by ``.ci/run``), where they fail instead. The browser gets a
proxy that leads nowhere, so nothing outside this machine can load (loopback still can:
JupyterLab), and :func:`requested_urls` lists what a page asked for.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "build" / "browser"
INSTALL = ("sudo apt-get install chromium chromium-driver (Debian/Ubuntu; .ci/run does it), "
           "and `make venv` for selenium")


def _executable(name: str) -> str | None:
    return shutil.which(name) or next(
        (p for p in (f"/usr/bin/{name}", f"/usr/lib/chromium/{name}") if os.access(p, os.X_OK)),
        None)


def require_browser() -> tuple[str, str]:
    """The paths of chromium and chromedriver; skip (or fail in CI) when one is missing."""
    browser, driver = _executable("chromium"), _executable("chromedriver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        browser = None
    if browser and driver:
        return browser, driver
    message = f"headless Chromium is needed for this test: {INSTALL}"
    if os.environ.get("COURSE_REQUIRE_BROWSER", "") not in ("", "0"):
        pytest.fail(message)
    pytest.skip(message)


@contextlib.contextmanager
def chromium(*, offline: bool = False, size: tuple[int, int] = (1280, 1600)) -> Iterator:
    """A headless Chromium WebDriver; ``offline``: DevTools' network emulation cuts every
    network request too (pages from the file system still load)."""
    browser, driver_path = require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={size[0]},{size[1]}", "--proxy-server=127.0.0.1:9",
                "--no-first-run", "--disable-background-networking"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        if offline:
            driver.execute_cdp_cmd("Network.enable", {})
            driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
                "offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
        yield driver
    finally:
        driver.quit()


def requested_urls(driver) -> list[str]:
    """Every URL the browser requested since the last call (from its performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def screenshot(driver, name: str) -> Path:
    """Save a screenshot into build/browser/ for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    driver.save_screenshot(str(path))
    return path
