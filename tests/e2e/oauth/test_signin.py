"""Signing in to the OAuth pages, over SQLite and PostgreSQL: the password form and its CSRF
token, the session cookie's flags and integrity, the SSO header, and the operator's
``ledger users set-password`` command."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.oauth.sessions import COOKIE_NAME, SESSION_LIFETIME, Session, SessionCodec
from domain.actors import Actor
from infrastructure.ended_sessions import TABLE as ENDED_SESSIONS
from infrastructure.passwords import hash_password
from infrastructure.settings import Settings
from tests.support.ledger_setup import REDIRECT_URI
from tests.support.oauth_flow import (
    APP_NAME,
    PASSWORD,
    USER,
    World,
    authorize,
    authorize_query,
    consent_page,
    form_with,
    forms_in,
    redirect_params,
    seed_world,
    settings_for,
    sign_in,
    signin_fields,
    token_request,
)

SSO_HEADER = "X-Remote-User"


def signin_page(client: TestClient, world: World) -> Any:
    return client.get(f"/oauth/authorize?{authorize_query(world.client_id)}")


def set_cookie_header(response: Any) -> str:
    headers = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    assert len(headers) == 1, headers
    return str(headers[0])


# --- the form ---------------------------------------------------------------------------------


def test_signed_out_visitor_gets_a_csrf_protected_password_form_naming_the_app(
    client: TestClient, world: World
) -> None:
    page = signin_page(client, world)

    assert page.status_code == 200
    form = form_with(page.text, "password")
    assert form.method == "post"
    assert form.action == "/oauth/signin"
    assert len(form.fields["csrf_token"]) == 64
    assert form.fields["next"] == f"/oauth/authorize?{authorize_query(world.client_id)}"
    assert f"<strong>{APP_NAME}</strong>" in page.text


def test_right_password_signs_in_and_returns_to_the_authorization_request(
    client: TestClient, world: World
) -> None:
    response = sign_in(client, authorize_query(world.client_id))

    assert response.status_code == 303
    assert response.headers["location"] == f"/oauth/authorize?{authorize_query(world.client_id)}"
    page = client.get(response.headers["location"])
    assert f'<strong id="username">{USER}</strong>' in page.text


def test_username_is_matched_without_regard_to_case(client: TestClient, world: World) -> None:
    response = sign_in(client, authorize_query(world.client_id), username="ALICE")

    page = client.get(response.headers["location"])
    assert f'<strong id="username">{USER}</strong>' in page.text


@pytest.mark.parametrize(
    ("username", "password"),
    [(USER, "wrong password"), ("nobody", PASSWORD), (USER, ""), ("", PASSWORD)],
)
def test_wrong_credentials_show_the_form_again_with_one_message_for_all(
    client: TestClient, world: World, username: str, password: str
) -> None:
    response = sign_in(client, authorize_query(world.client_id), username, password)

    assert response.status_code == 200
    assert "The username or password is incorrect." in response.text
    assert "location" not in response.headers
    again = signin_page(client, world)
    assert 'name="password"' in again.text  # still signed out


def test_user_without_a_password_cannot_sign_in(
    client: TestClient, ledger: Any, world: World
) -> None:
    ledger.register_user("nopass", "No Password", None, Actor.user("nopass"))

    response = sign_in(client, authorize_query(world.client_id), "nopass", PASSWORD)

    assert "The username or password is incorrect." in response.text


def test_sign_in_without_the_csrf_token_is_refused(client: TestClient, world: World) -> None:
    action, fields = signin_fields(signin_page(client, world).text, USER, PASSWORD)
    del fields["csrf_token"]

    response = client.post(action, data=fields)

    assert response.status_code == 403
    assert response.json()["error_type"] == "OAuthForbiddenException"
    assert "set-cookie" not in response.headers


def test_sign_in_posted_from_a_browser_without_the_session_is_refused(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """Login CSRF: another site's form carries a token of its own session, not the victim's."""
    action, fields = signin_fields(signin_page(client, world).text, USER, PASSWORD)
    victim = TestClient(app, follow_redirects=False)

    response = victim.post(action, data=fields)

    assert response.status_code == 403


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/oauth/authorize",
        "/oauth/signout",
        "/health",
        "",
        "/oauth/authorize#frag",
    ],
)
def test_sign_in_returns_only_to_the_authorization_endpoint(
    client: TestClient, world: World, next_url: str
) -> None:
    action, fields = signin_fields(signin_page(client, world).text, USER, PASSWORD)
    fields["next"] = next_url

    response = client.post(action, data=fields)

    assert response.status_code == 400
    assert response.json()["error_message"] == (
        "After sign-in, only the authorization page can be returned to"
    )


def test_csrf_token_shown_before_sign_in_is_useless_after_it(
    client: TestClient, world: World
) -> None:
    query = authorize_query(world.client_id)
    before = form_with(signin_page(client, world).text, "password").fields["csrf_token"]
    client.get(sign_in(client, query).headers["location"])
    fields = {
        "client_id": world.client_id,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "decision": "allow",
        "csrf_token": before,
    }

    response = client.post("/oauth/authorize", data=fields)

    assert response.status_code == 403


# --- the session cookie -----------------------------------------------------------------------


def test_session_cookie_is_httponly_samesite_lax_scoped_and_not_secure_over_http(
    client: TestClient, world: World
) -> None:
    response = sign_in(client, authorize_query(world.client_id))

    cookie = set_cookie_header(response).lower()
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/oauth" in cookie
    assert "secure" not in cookie.replace("samesite", "")


@pytest.fixture
def production_client(settings: Settings) -> Iterator[TestClient]:
    """The service configured for production, reached over plain http (as behind a proxy that
    ends TLS)."""
    production = settings.model_copy(
        update={"environment": "production", "secret_key": SecretStr("p" * 32)}
    )
    with TestClient(
        create_app(production), raise_server_exceptions=False, follow_redirects=False
    ) as client:
        yield client


def test_outside_development_the_first_session_cookie_is_secure_even_over_http(
    production_client: TestClient,
) -> None:
    world = seed_world(production_client.app.state.ledger)  # type: ignore[attr-defined]

    page = signin_page(production_client, world)

    assert page.status_code == 200
    assert "; secure" in set_cookie_header(page).lower()


def test_outside_development_the_signed_in_session_cookie_is_secure_even_over_http(
    production_client: TestClient,
) -> None:
    world = seed_world(production_client.app.state.ledger)  # type: ignore[attr-defined]
    page = signin_page(production_client, world)
    action, fields = signin_fields(page.text, USER, PASSWORD)
    production_client.cookies.clear()

    response = production_client.post(
        action, data=fields, headers={"Cookie": f"{COOKIE_NAME}={page.cookies[COOKIE_NAME]}"}
    )

    assert response.status_code == 303
    assert "; secure" in set_cookie_header(response).lower()


def test_session_cookie_is_secure_over_https(
    app: FastAPI, client: TestClient, world: World
) -> None:
    browser = TestClient(app, base_url="https://testserver", follow_redirects=False)

    response = sign_in(browser, authorize_query(world.client_id))

    cookie = set_cookie_header(response).lower()
    assert "; secure" in cookie
    assert "httponly" in cookie


def _payload(cookie_value: str) -> dict[str, Any]:
    payload = cookie_value.split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_session_cookie_carries_no_password_or_hash(client: TestClient, world: World) -> None:
    response = sign_in(client, authorize_query(world.client_id))

    data = _payload(response.cookies[COOKIE_NAME])
    assert data["u"] == USER
    assert PASSWORD not in json.dumps(data)
    assert "argon2" not in json.dumps(data)


def test_tampered_session_cookie_counts_as_signed_out(client: TestClient, world: World) -> None:
    value = sign_in(client, authorize_query(world.client_id)).cookies[COOKIE_NAME]
    data = {**_payload(value), "u": "olivia"}
    payload = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    forged = f"{payload}.{value.split('.')[1]}"
    client.cookies.clear()

    page = client.get(
        f"/oauth/authorize?{authorize_query(world.client_id)}",
        headers={"Cookie": f"{COOKIE_NAME}={forged}"},
    )

    assert 'name="password"' in page.text


def test_cookie_signed_with_another_key_counts_as_signed_out(
    client: TestClient, world: World
) -> None:
    forged = SessionCodec(b"attacker's key, not the server's!").dumps(
        Session("n", USER, int(time.time()), None)
    )

    page = client.get(
        f"/oauth/authorize?{authorize_query(world.client_id)}",
        headers={"Cookie": f"{COOKIE_NAME}={forged}"},
    )

    assert 'name="password"' in page.text


def test_setting_a_new_password_ends_the_sessions_signed_in_with_the_old_one(
    client: TestClient, ledger: Any, world: World
) -> None:
    client.get(sign_in(client, authorize_query(world.client_id)).headers["location"])

    ledger.set_user_password(USER, hash_password("a brand new password"), Actor.user(USER))
    page = signin_page(client, world)

    assert 'name="password"' in page.text


def test_sign_out_ends_the_session(client: TestClient, world: World) -> None:
    page = consent_page(client, authorize_query(world.client_id))
    form = next(f for f in forms_in(page.text) if f.action.endswith("/signout"))

    response = client.post(form.action, data=form.fields)

    assert response.status_code == 303
    assert 'name="password"' in signin_page(client, world).text


def signed_out_copy(client: TestClient, world: World) -> str:
    """A session cookie copied from a signed-in browser, which then signs out."""
    page = consent_page(client, authorize_query(world.client_id))
    copied = client.cookies[COOKIE_NAME]
    assert client.get("/v1/me", headers={"Cookie": f"{COOKIE_NAME}={copied}"}).status_code == 200
    form = next(f for f in forms_in(page.text) if f.action.endswith("/signout"))
    assert client.post(form.action, data=form.fields).status_code == 303
    client.cookies.clear()
    return copied


def test_a_copy_of_the_session_cookie_does_not_sign_in_after_sign_out(
    client: TestClient, world: World
) -> None:
    copied = signed_out_copy(client, world)

    page = client.get(
        f"/oauth/authorize?{authorize_query(world.client_id)}",
        headers={"Cookie": f"{COOKIE_NAME}={copied}"},
    )

    assert page.status_code == 200
    assert 'name="password"' in page.text


def test_me_refuses_a_copy_of_the_session_cookie_after_sign_out(
    client: TestClient, world: World
) -> None:
    copied = signed_out_copy(client, world)

    response = client.get("/v1/me", headers={"Cookie": f"{COOKIE_NAME}={copied}"})

    assert response.status_code == 401


def test_signing_out_through_one_process_ends_the_session_in_another(
    settings: Settings, client: TestClient, world: World
) -> None:
    copied = signed_out_copy(client, world)

    with TestClient(create_app(settings), follow_redirects=False) as elsewhere:
        page = elsewhere.get(
            f"/oauth/authorize?{authorize_query(world.client_id)}",
            headers={"Cookie": f"{COOKIE_NAME}={copied}"},
        )

    assert 'name="password"' in page.text


def test_signing_out_stores_neither_the_cookie_nor_its_nonce(
    app: FastAPI, client: TestClient, world: World
) -> None:
    copied = signed_out_copy(client, world)
    nonce = _payload(copied)["n"]

    rows = app.state.runtime.db.query(f"SELECT * FROM {ENDED_SESSIONS}")  # noqa: S608

    assert len(rows) == 1
    stored = " ".join(str(value) for value in rows[0])
    assert nonce not in stored
    assert copied.split(".")[1] not in stored


def test_session_codec_refuses_expired_forged_and_malformed_cookies() -> None:
    codec = SessionCodec(b"k" * 32)
    session = Session("nonce", USER, 1_000_000, "mark")
    value = codec.dumps(session)

    assert codec.loads(value, now=1_000_000 + 60) == session
    assert codec.loads(value, now=1_000_000 + SESSION_LIFETIME) is None
    assert codec.loads(value, now=1_000_000 - 60) is None  # from the future
    assert SessionCodec(b"j" * 32).loads(value, now=1_000_060) is None
    for bad in ("", "abc", "a.b", value + "x", "é.é", value.replace(".", "..")):
        assert codec.loads(bad, now=1_000_060) is None


# --- behind an SSO proxy ----------------------------------------------------------------------


@pytest.fixture
def sso_client(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[Any]:
    settings = settings_for(request, backend, tmp_path, trusted_user_header=SSO_HEADER)
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        yield client, seed_world(app.state.ledger)


def test_sso_user_goes_straight_to_consent_without_a_password_form(sso_client: Any) -> None:
    client, world = sso_client
    client.headers[SSO_HEADER] = USER

    page = client.get(f"/oauth/authorize?{authorize_query(world.client_id)}")

    assert page.status_code == 200
    assert 'name="password"' not in page.text
    assert 'id="signout"' not in page.text
    assert f'<strong id="username">{USER}</strong>' in page.text


def test_sso_user_completes_the_code_flow(sso_client: Any) -> None:
    client, world = sso_client
    client.headers[SSO_HEADER] = USER
    page = client.get(f"/oauth/authorize?{authorize_query(world.client_id)}")
    form = form_with(page.text, "decision")

    response = client.post(form.action, data={**form.fields, "decision": "allow"})
    token = token_request(client, world, redirect_params(response.headers["location"])["code"])

    assert token.json()["user"]["username"] == USER


def test_without_the_sso_header_nobody_is_signed_in_and_no_form_is_offered(
    sso_client: Any,
) -> None:
    client, world = sso_client

    response = client.get(f"/oauth/authorize?{authorize_query(world.client_id)}")

    assert response.status_code == 403
    assert response.json()["error_message"] == (
        "You are not signed in: open this page through your organisation's single sign-on"
    )


def test_password_sign_in_is_refused_behind_sso(sso_client: Any) -> None:
    client, _ = sso_client

    response = client.post("/oauth/signin", data={"username": USER, "password": PASSWORD})

    assert response.status_code == 403
    assert response.json()["error_message"] == (
        "Password sign-in is turned off: sign in through the single sign-on"
    )


def test_consent_form_of_one_sso_user_cannot_be_posted_for_another(sso_client: Any) -> None:
    client, world = sso_client
    client.headers[SSO_HEADER] = USER
    page = client.get(f"/oauth/authorize?{authorize_query(world.client_id)}")
    form = form_with(page.text, "decision")

    client.headers[SSO_HEADER] = "olivia"
    response = client.post(form.action, data={**form.fields, "decision": "allow"})

    assert response.status_code == 403


# --- the operator's command -------------------------------------------------------------------


def test_cli_sets_a_password_typed_twice_that_then_signs_in(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        world = seed_world(app.state.ledger)
        env = {"LEDGER_ENVIRONMENT": "development"}
        if settings.database_url:
            env |= {
                "LEDGER_DATABASE_URL": settings.database_url,
                "LEDGER_POSTGRES_SCHEMA": settings.postgres_schema or "",
            }
        else:
            env["LEDGER_SQLITE_PATH"] = str(settings.sqlite_path)
        for key, value in env.items():
            monkeypatch.setenv(key, value)

        result = CliRunner().invoke(
            cli, ["users", "set-password", USER], input="typed at the prompt\ntyped at the prompt\n"
        )

        assert result.exit_code == 0, result.output
        assert "typed at the prompt" not in result.output  # hidden
        assert "Password set for alice." in result.output
        old = sign_in(client, authorize_query(world.client_id), USER, PASSWORD)
        new = sign_in(client, authorize_query(world.client_id), USER, "typed at the prompt")
        assert old.status_code == 200  # refused: the form again
        assert new.status_code == 303


def test_cli_refuses_a_password_too_short(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LEDGER_SQLITE_PATH", str(tmp_path / "ledger.sqlite"))

    result = CliRunner().invoke(cli, ["users", "set-password", USER], input="short\nshort\n")

    assert result.exit_code == 2
    assert "a password is 8 to 1024 characters" in result.output


def test_cli_names_an_unknown_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LEDGER_SQLITE_PATH", str(tmp_path / "ledger.sqlite"))

    result = CliRunner().invoke(
        cli, ["users", "set-password", "ghost"], input="long enough\nlong enough\n"
    )

    assert result.exit_code == 1
    assert "No platform user 'ghost' is registered" in result.output


def test_the_code_flow_after_signing_in_through_the_form(client: TestClient, world: World) -> None:
    response = authorize(client, authorize_query(world.client_id))

    token = token_request(client, world, redirect_params(response.headers["location"])["code"])

    assert token.status_code == 200
