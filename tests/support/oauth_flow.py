"""Driving the OAuth pages as a browser would: settings per store, a seeded world, form posts.

Shared by the OAuth end-to-end tests (TestClient, a real uvicorn server, and Chromium).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from application.results import ClientRegistered
from domain.actors import Actor
from infrastructure.passwords import hash_password
from infrastructure.settings import Settings, build_settings
from tests.support.ledger_setup import REDIRECT_URI, add_sandbox_user, register_app, register_user

OWNER = "olivia"
USER = "alice"
OUTSIDER = "mallory"
PASSWORD = "correct horse battery staple"
APP_NAME = "Printer"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def settings_for(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, **overrides: Any
) -> Settings:
    """Settings of a fresh store: a SQLite file, or a new schema on the session's server."""
    if backend == "postgres":
        return build_settings(
            environment="development",
            database_url=request.getfixturevalue("postgres_url"),
            postgres_schema=request.getfixturevalue("postgres_schema"),
            **overrides,
        )
    return build_settings(
        environment="development",
        database_url=None,
        sqlite_path=tmp_path / "var" / "ledger.sqlite",
        **overrides,
    )


@cache
def password_hash() -> str:
    """One argon2id hash for every test user (hashing is deliberately slow)."""
    return hash_password(PASSWORD)


@dataclass
class World:
    """An app in sandbox mode owned by olivia; alice is its sandbox user; mallory is not."""

    app: ClientRegistered

    @property
    def client_id(self) -> str:
        return self.app.client_id

    @property
    def client_secret(self) -> str:
        return self.app.client_secret


def seed_world(ledger: Any, *, redirect_uris: tuple[str, ...] = (REDIRECT_URI,)) -> World:
    app = register_app(ledger, OWNER, name=APP_NAME, redirect_uris=redirect_uris)
    register_user(ledger, USER, full_name="Alice Liddell")
    register_user(ledger, OUTSIDER)
    add_sandbox_user(ledger, app.client_id, OWNER, USER)
    for username in (OWNER, USER, OUTSIDER):
        ledger.set_user_password(username, password_hash(), Actor.platform("ops"))
    return World(app)


def authorize_query(
    client_id: str | None,
    *,
    redirect_uri: str | None = REDIRECT_URI,
    response_type: str | None = "code",
    scope: str | None = None,
    state: str | None = "xyz",
) -> str:
    params = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": response_type,
        "scope": scope,
        "state": state,
    }
    return urlencode({k: v for k, v in params.items() if v is not None})


# --- reading pages ------------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms and a.get("name"):
            self.forms[-1].buttons[a.get("value", "")] = a["name"]


def forms_in(page: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(page)
    return parser.forms


def form_with(page: str, field_name: str) -> Form:
    """The page's form that has the named field (or button)."""
    for form in forms_in(page):
        if field_name in form.fields or field_name in form.buttons.values():
            return form
    raise AssertionError(f"no form with {field_name!r} in the page:\n{page[:2000]}")


def signin_fields(page: str, username: str, password: str) -> tuple[str, dict[str, str]]:
    form = form_with(page, "password")
    return form.action, {**form.fields, "username": username, "password": password}


def consent_fields(page: str, decision: str) -> tuple[str, dict[str, str]]:
    form = form_with(page, "decision")
    return form.action, {**form.fields, "decision": decision}


def redirect_params(location: str) -> dict[str, str]:
    """Query (or, for the implicit flow, fragment) parameters of a redirect."""
    parts = urlsplit(location)
    source = parts.fragment or parts.query
    return {k: v[0] for k, v in parse_qs(source, keep_blank_values=True).items()}


# --- a real server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_server(app: Any) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 in a background thread; yields its base URL."""
    import uvicorn

    port = free_port()
    # log_config=None: uvicorn's loggers (the access log included) propagate to the root
    # logger, where a test's caplog sees every line the server logs.
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="info",
        access_log=True,
        lifespan="on",
        log_config=None,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


# --- the flow, through any httpx-style client (TestClient or httpx.Client) ----------------------


def sign_in(browser: Any, query: str, username: str = USER, password: str = PASSWORD) -> Any:
    """Opens the authorization page, signed out, and posts the sign-in form on it."""
    page = browser.get(f"/oauth/authorize?{query}")
    assert page.status_code == 200, page.text
    action, fields = signin_fields(page.text, username, password)
    return browser.post(action, data=fields, follow_redirects=False)


def consent_page(browser: Any, query: str, username: str = USER) -> Any:
    """The consent page, after signing in as the user."""
    signed_in = sign_in(browser, query, username)
    assert signed_in.status_code == 303, signed_in.text
    return browser.get(signed_in.headers["location"])


def decide(browser: Any, page: Any, decision: str) -> Any:
    """Clicks Allow (``allow``) or Cancel (``deny``) on a consent page; answers the redirect."""
    action, fields = consent_fields(page.text, decision)
    return browser.post(action, data=fields, follow_redirects=False)


def authorize(browser: Any, query: str, decision: str = "allow", username: str = USER) -> Any:
    """Sign-in, consent and decision: the response redirecting back to the client."""
    page = consent_page(browser, query, username)
    assert page.status_code == 200, page.text
    return decide(browser, page, decision)


def token_request(
    browser: Any,
    world: World,
    code: str | None,
    *,
    redirect_uri: str | None = REDIRECT_URI,
    **overrides: str | None,
) -> Any:
    fields = {
        "client_id": world.client_id,
        "client_secret": world.client_secret,
        "grant_type": "authorization_code",
        "redirect_uri": redirect_uri,
        "code": code,
        **overrides,
    }
    return browser.post(
        "/oauth/access_token", data={k: v for k, v in fields.items() if v is not None}
    )
