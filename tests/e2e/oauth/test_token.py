"""The token endpoint through the real ASGI app, over SQLite and PostgreSQL: the legacy success
body, client authentication (form and HTTP Basic), and every legacy error with its exact
message."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from domain.actors import Actor
from tests.support.ledger_setup import PLATFORM, REDIRECT_URI, register_app
from tests.support.oauth_flow import (
    USER,
    World,
    authorize,
    authorize_query,
    redirect_params,
    seed_world,
    token_request,
)

OTHER_REDIRECT = "https://client.example/other"


@pytest.fixture
def world(ledger: Any) -> World:
    return seed_world(ledger, redirect_uris=(REDIRECT_URI, OTHER_REDIRECT))


@pytest.fixture
def code(client: TestClient, world: World) -> str:
    """A fresh code alice's consent gave the app (for REDIRECT_URI)."""
    response = authorize(client, authorize_query(world.client_id))
    return redirect_params(response.headers["location"])["code"]


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def assert_legacy_error(
    response: Any, message: str, status: int = 400, error_type: str = "OAuthException"
) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"error_type": error_type, "code": status, "error_message": message}
    assert response.headers["cache-control"] == "no-store"


# --- success ----------------------------------------------------------------------------------


def test_code_is_exchanged_for_a_token_and_the_user_in_the_legacy_body(
    client: TestClient, ledger: Any, world: World, code: str
) -> None:
    response = token_request(client, world, code)

    assert response.status_code == 200
    body = response.json()
    alice = ledger.user(USER)
    assert body == {
        "access_token": body["access_token"],
        "user": {
            "id": alice.id.hex,
            "username": "alice",
            "full_name": "Alice Liddell",
            "profile_picture": "https://pics.example/alice.jpg",
        },
    }
    assert len(body["access_token"]) >= 43
    assert ledger.token(body["access_token"]).active


def test_token_response_is_never_cached(client: TestClient, world: World, code: str) -> None:
    response = token_request(client, world, code)

    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


def test_issued_token_passes_permission_checks_at_once(
    client: TestClient, app: FastAPI, world: World, code: str
) -> None:
    token = token_request(client, world, code).json()["access_token"]

    assert app.state.runtime.read_model.check(token, "basic").allowed


def test_client_may_authenticate_with_http_basic(
    client: TestClient, world: World, code: str
) -> None:
    response = client.post(
        "/oauth/access_token",
        data={"grant_type": "authorization_code", "redirect_uri": REDIRECT_URI, "code": code},
        headers=basic(world.client_id, world.client_secret),
    )

    assert response.status_code == 200, response.text
    assert response.json()["user"]["username"] == USER


def test_token_path_with_trailing_slash_is_served_too(
    client: TestClient, world: World, code: str
) -> None:
    fields = {
        "client_id": world.client_id,
        "client_secret": world.client_secret,
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT_URI,
        "code": code,
    }

    response = client.post("/oauth/access_token/", data=fields)

    assert response.status_code == 200


# --- client authentication --------------------------------------------------------------------


def test_missing_client_id(client: TestClient, world: World, code: str) -> None:
    response = token_request(client, world, code, client_id=None)

    assert_legacy_error(response, "You must provide a client_id")


def test_unknown_client_id(client: TestClient, world: World, code: str) -> None:
    response = token_request(client, world, code, client_id="f" * 32)

    assert_legacy_error(response, "Invalid Client ID")


@pytest.mark.parametrize("secret", ["wrong", "", None])
def test_wrong_or_missing_client_secret(
    client: TestClient, world: World, code: str, secret: str | None
) -> None:
    response = token_request(client, world, code, client_secret=secret)

    assert_legacy_error(response, "Invalid Client Secret")


def test_wrong_secret_in_http_basic(client: TestClient, world: World, code: str) -> None:
    response = client.post(
        "/oauth/access_token",
        data={"grant_type": "authorization_code", "redirect_uri": REDIRECT_URI, "code": code},
        headers=basic(world.client_id, "wrong"),
    )

    assert_legacy_error(response, "Invalid Client Secret")


def test_two_client_authentication_methods_at_once_are_refused(
    client: TestClient, world: World, code: str
) -> None:
    response = client.post(
        "/oauth/access_token",
        data={
            "client_secret": world.client_secret,
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT_URI,
            "code": code,
        },
        headers=basic(world.client_id, world.client_secret),
    )

    assert_legacy_error(
        response,
        "Authenticate the client one way: HTTP Basic or client_secret in the form, not both",
    )


def test_malformed_http_basic_is_refused_as_a_failed_client_authentication(
    client: TestClient, world: World, code: str
) -> None:
    response = client.post(
        "/oauth/access_token", data={"code": code}, headers={"Authorization": "Basic not base64!"}
    )

    assert_legacy_error(response, "Malformed HTTP Basic credentials", status=401)


def test_disabled_client_gets_no_token(
    client: TestClient, ledger: Any, world: World, code: str
) -> None:
    ledger.disable_app(world.client_id, PLATFORM, "abuse")

    response = token_request(client, world, code)

    assert_legacy_error(response, "The client used for authentication is no longer active.")


# --- the grant --------------------------------------------------------------------------------


@pytest.mark.parametrize("grant_type", ["password", "client_credentials", "", None])
def test_grant_type_other_than_authorization_code_is_refused(
    client: TestClient, world: World, code: str, grant_type: str | None
) -> None:
    response = token_request(client, world, code, grant_type=grant_type)

    assert_legacy_error(response, "Invalid grant_type: only authorization_code is supported")


@pytest.mark.parametrize("bad_code", ["not-a-code", "", None])
def test_unknown_or_missing_code(client: TestClient, world: World, bad_code: str | None) -> None:
    response = token_request(client, world, bad_code)

    assert_legacy_error(response, "Matching code was not found or was already used.")


def test_reused_code_is_refused_and_the_first_token_revoked(
    client: TestClient, ledger: Any, app: FastAPI, world: World, code: str
) -> None:
    first = token_request(client, world, code).json()["access_token"]

    again = token_request(client, world, code)

    assert_legacy_error(again, "Matching code was not found or was already used.")
    assert not ledger.token(first).active
    assert not app.state.runtime.read_model.check(first, "basic").allowed  # already projected


def test_redirect_uri_other_than_the_authorization_requests_is_refused(
    client: TestClient, world: World, code: str
) -> None:
    response = token_request(client, world, code, redirect_uri=OTHER_REDIRECT)

    assert_legacy_error(response, "Redirect URI doesn't match original redirect URI")


def test_missing_redirect_uri_is_refused(client: TestClient, world: World, code: str) -> None:
    response = token_request(client, world, code, redirect_uri=None)

    assert_legacy_error(response, "Redirect URI doesn't match original redirect URI")


def test_code_issued_to_another_client_is_not_found(
    client: TestClient, ledger: Any, world: World, code: str
) -> None:
    other = World(register_app(ledger, "oscar", name="Other"))

    response = token_request(client, other, code)

    assert_legacy_error(response, "Matching code was not found or was already used.")


def test_json_body_is_refused(client: TestClient, world: World, code: str) -> None:
    response = client.post(
        "/oauth/access_token",
        json={
            "client_id": world.client_id,
            "client_secret": world.client_secret,
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT_URI,
            "code": code,
        },
    )

    assert_legacy_error(response, "Send the parameters as application/x-www-form-urlencoded")


def test_parameter_sent_twice_is_refused(client: TestClient, world: World, code: str) -> None:
    body = (
        f"client_id={world.client_id}&client_secret={world.client_secret}"
        f"&grant_type=authorization_code&code={code}&code={code}"
    )

    response = client.post(
        "/oauth/access_token",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert_legacy_error(response, "The parameter code is included more than once")


def test_code_of_a_deauthorized_grant_gets_no_token(
    client: TestClient, ledger: Any, world: World, code: str
) -> None:
    ledger.deauthorize(world.client_id, USER, Actor.user(USER), "changed my mind")

    response = token_request(client, world, code)

    assert_legacy_error(response, "Matching code was not found or was already used.")
