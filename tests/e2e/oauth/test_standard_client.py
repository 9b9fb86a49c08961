"""A standard OAuth 2.0 client library (authlib) completes the authorization-code flow against
the app served by a real uvicorn server on 127.0.0.1, over SQLite and PostgreSQL; and no secret
of the flow appears in any line the server (its access log included) or the client logs."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from infrastructure.settings import Settings
from tests.support.ledger_setup import REDIRECT_URI
from tests.support.oauth_flow import (
    PASSWORD,
    USER,
    World,
    consent_fields,
    redirect_params,
    running_server,
    seed_world,
    signin_fields,
)

with warnings.catch_warnings():  # authlib nudges towards the httpx2 fork; httpx is what we use
    import authlib.deprecate  # its import turns its own warnings "always" on: first, then off

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client


@pytest.fixture
def server(settings: Settings, caplog: pytest.LogCaptureFixture) -> Iterator[tuple[str, World]]:
    """The server's base URL and the seeded world; every log record is captured from here on."""
    caplog.set_level(logging.DEBUG)
    app: FastAPI = create_app(settings)
    with running_server(app) as base_url:
        yield base_url, seed_world(app.state.ledger)


def consent_in_browser(base_url: str, authorization_url: str) -> str:
    """The user's side: open the URL, sign in and allow, by plain form posts; answers the
    redirect back to the client (not followed: the client's host is not here)."""
    with httpx.Client(base_url=base_url, follow_redirects=False, trust_env=False) as browser:
        page = browser.get(authorization_url)
        assert page.status_code == 200, page.text
        action, fields = signin_fields(page.text, USER, PASSWORD)
        signed_in = browser.post(action, data=fields)
        assert signed_in.status_code == 303, signed_in.text
        consent = browser.get(signed_in.headers["location"])
        action, fields = consent_fields(consent.text, "allow")
        redirect = browser.post(action, data=fields)
        assert redirect.status_code == 303, redirect.text
        return str(redirect.headers["location"])


def test_authlib_client_completes_the_authorization_code_flow(
    server: tuple[str, World], caplog: pytest.LogCaptureFixture
) -> None:
    base_url, world = server
    client = OAuth2Client(
        client_id=world.client_id,
        client_secret=world.client_secret,
        redirect_uri=REDIRECT_URI,
        scope="basic",
        trust_env=False,
    )
    authorization_url, state = client.create_authorization_url(f"{base_url}/oauth/authorize")

    callback = consent_in_browser(base_url, authorization_url)
    token = client.fetch_token(f"{base_url}/oauth/access_token", authorization_response=callback)

    assert redirect_params(callback)["state"] == state
    assert len(token["access_token"]) >= 43
    assert token["user"]["username"] == USER
    assert token["user"]["full_name"] == "Alice Liddell"
    client.close()


def test_no_secret_of_the_flow_is_logged(
    server: tuple[str, World], caplog: pytest.LogCaptureFixture
) -> None:
    base_url, world = server
    client = OAuth2Client(
        client_id=world.client_id,
        client_secret=world.client_secret,
        redirect_uri=REDIRECT_URI,
        trust_env=False,
    )
    authorization_url, _ = client.create_authorization_url(f"{base_url}/oauth/authorize")
    callback = consent_in_browser(base_url, authorization_url)
    token: dict[str, Any] = client.fetch_token(
        f"{base_url}/oauth/access_token", authorization_response=callback
    )
    client.close()

    # httpcore's DEBUG trace is the test's own HTTP client dumping the responses it received
    # (the redirect's Location included): the browser's business, not a log of this service.
    logged = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("httpcore")
    )
    assert '"POST /oauth/access_token HTTP/1.1" 200' in logged  # the access log was captured
    assert '"POST /oauth/authorize HTTP/1.1" 303' in logged
    secrets = {
        "code": redirect_params(callback)["code"],
        "access token": token["access_token"],
        "client secret": world.client_secret,
        "password": PASSWORD,
    }
    leaked = [name for name, secret in secrets.items() if secret in logged]
    assert leaked == []
