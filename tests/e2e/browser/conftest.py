"""Headless Chromium for the browser tests (Debian's ``chromium`` and ``chromium-driver``).

Missing browser: the tests are skipped with the reason in plain sight, except in CI (CI=true),
where they fail. Nothing is downloaded: the driver and the browser are the installed ones, and
the browser is started with its background networking, updates and sync switched off, in a
fresh profile.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

_TRUE = {"1", "true", "yes", "on"}


def _unavailable(reason: str) -> NoReturn:
    message = f"headless Chromium unavailable: {reason} (apt-get install chromium chromium-driver)"
    if os.environ.get("CI", "").strip().lower() in _TRUE:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        _unavailable("no chromium" if chromium is None else "no chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("the selenium package is not installed")
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must never fetch anything

    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=720,900",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=str(driver_path)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
