"""A person in headless Chromium signs in, reads the consent page and clicks Authorize (or
Cancel); the client's callback receives what the legacy platform sent. The app is served by a
real uvicorn server on 127.0.0.1; the client's callback is a page on the same server, so the
browser never leaves this machine.

Set LEDGER_CONSENT_SCREENSHOT to a path to keep a screenshot of the consent page there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from api.app import create_app
from infrastructure.settings import build_settings
from tests.support.oauth_flow import (
    APP_NAME,
    PASSWORD,
    USER,
    World,
    authorize_query,
    redirect_params,
    running_server,
    seed_world,
)

CALLBACK_PATH = "/client/callback"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, World]]:
    """The server and an app whose registered redirect URI is a page of this same server."""
    settings = build_settings(
        environment="development", database_url=None, sqlite_path=tmp_path / "var" / "ledger.sqlite"
    )
    app: FastAPI = create_app(settings)

    @app.get(CALLBACK_PATH, include_in_schema=False)
    def callback() -> HTMLResponse:  # the client app's page, as far as the browser knows
        return HTMLResponse("<!doctype html><title>Client</title><p>Back at the client.</p>")

    with running_server(app) as base_url:
        yield base_url, seed_world(app.state.ledger, redirect_uris=(base_url + CALLBACK_PATH,))


def wait_for_callback(browser: Any, base_url: str) -> str:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 15).until(lambda b: urlsplit(b.current_url).path == CALLBACK_PATH)
    return str(browser.current_url)


def sign_in(browser: Any, url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    browser.find_element(By.ID, "username").send_keys(USER)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "signin").click()
    WebDriverWait(browser, 15).until(
        expected_conditions.presence_of_element_located((By.ID, "allow"))
    )


def test_user_signs_in_and_allows_and_the_code_exchanges_for_a_token(
    browser: Any, served: tuple[str, World], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    base_url, world = served
    redirect_uri = base_url + CALLBACK_PATH
    query = authorize_query(
        world.client_id, redirect_uri=redirect_uri, scope="basic comments", state="browser-state"
    )

    sign_in(browser, f"{base_url}/oauth/authorize?{query}")
    assert browser.find_element(By.ID, "app-name").text == APP_NAME
    assert browser.find_element(By.ID, "app-mode").text.lower() == "sandbox"
    scopes = browser.find_element(By.ID, "scopes").text
    assert "basic" in scopes
    assert "to post and delete comments on a user's behalf" in scopes
    screenshot = tmp_path / "consent.png"
    assert browser.save_screenshot(str(screenshot))
    if os.environ.get("LEDGER_CONSENT_SCREENSHOT"):
        shutil.copyfile(screenshot, os.environ["LEDGER_CONSENT_SCREENSHOT"])
    browser.find_element(By.ID, "allow").click()
    callback = wait_for_callback(browser, base_url)

    params = redirect_params(callback)
    assert params["state"] == "browser-state"
    token = httpx.post(
        f"{base_url}/oauth/access_token",
        trust_env=False,
        data={
            "client_id": world.client_id,
            "client_secret": world.client_secret,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            "code": params["code"],
        },
    )
    assert token.status_code == 200, token.text
    assert token.json()["user"]["username"] == USER


def test_user_who_cancels_is_sent_back_with_access_denied(
    browser: Any, served: tuple[str, World]
) -> None:
    from selenium.webdriver.common.by import By

    base_url, world = served
    query = authorize_query(world.client_id, redirect_uri=base_url + CALLBACK_PATH, state="s")

    sign_in(browser, f"{base_url}/oauth/authorize?{query}")
    browser.find_element(By.ID, "deny").click()
    callback = wait_for_callback(browser, base_url)

    assert redirect_params(callback) == {
        "error": "access_denied",
        "error_reason": "user_denied",
        "error_description": "The user denied your request",
        "state": "s",
    }
