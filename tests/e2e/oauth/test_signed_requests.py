"""Signed requests end to end: a legacy API route guarded by ``SignedRequestDep``, through the
real ASGI app over SQLite and PostgreSQL, with the reference's test vector and with a client's
own secret."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from api import oauth
from api.oauth.legacy_errors import LegacyApiErrorRoute
from api.oauth.signed_requests import SignedRequestDep, verify_request_signature
from domain.actors import Actor
from domain.errors import InvalidSignatureError, MissingSignatureError
from domain.tokens import AccessToken
from infrastructure.runtime import open_runtime
from infrastructure.settings import Settings
from tests.support.oauth_flow import (
    USER,
    World,
    authorize,
    authorize_query,
    redirect_params,
    seed_world,
    token_request,
)

# The reference's test vector.
VECTOR_SECRET = "6dc1787668c64c939929c17683d7cb74"
VECTOR_TOKEN = "fb2e77d.47a0479900504cb3ab4a1f626d174d2d"
VECTOR_SIG = "cbf5a1f41db44412506cb6563a3218b50f45a710c7a8a65a3e9b18315bb338bf"


def legacy_api() -> APIRouter:
    """Stand-ins for legacy API endpoints a gateway would guard with the dependency."""
    router = APIRouter(route_class=LegacyApiErrorRoute)

    @router.get("/v1/users/self")
    def users_self(client_id: SignedRequestDep) -> dict[str, str]:
        return {"client_id": client_id}

    @router.post("/v1/media/{media_id}/likes")
    def like(media_id: str, client_id: SignedRequestDep) -> dict[str, str]:
        return {"client_id": client_id, "media_id": media_id}

    return router


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    """The OAuth endpoints and the stand-in API on their own (the management API's own
    ``/v1/users/{username}`` would otherwise answer ``/v1/users/self`` first)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = open_runtime(settings)
        app.state.runtime, app.state.ledger = runtime, runtime.ledger
        try:
            yield
        finally:
            runtime.close()

    app = FastAPI(lifespan=lifespan)
    app.state.settings = settings
    app.include_router(oauth.router)
    app.include_router(legacy_api())
    return app


@pytest.fixture
def world(ledger: Any) -> World:
    world = seed_world(ledger)
    ledger.change_app_security(
        world.client_id, Actor.developer("olivia"), enforce_signed_requests=True
    )
    return world


@pytest.fixture
def access_token(client: TestClient, world: World) -> str:
    response = authorize(client, authorize_query(world.client_id))
    code = redirect_params(response.headers["location"])["code"]
    return str(token_request(client, world, code).json()["access_token"])


def sign(endpoint: str, params: dict[str, str], secret: str) -> str:
    """Signed as a client would, independently of the server's code."""
    message = endpoint + "".join(f"|{k}={params[k]}" for k in sorted(params))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def assert_legacy_api_error(response: Any, status: int, error_type: str, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {
        "meta": {"error_type": error_type, "code": status, "error_message": message}
    }


# --- the reference's test vector --------------------------------------------------------------


@pytest.fixture
def vector_client(ledger: Any, world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """The app holds the vector's secret and one of its tokens is the vector's token.

    A client secret here is derived from a random nonce under the server key, so no app can be
    registered with the vector's secret: only that lookup is replaced. The token is issued as
    the ledger issues tokens (its keyed digest), with the vector's value."""
    app = ledger.app(world.client_id)
    user = ledger.user(USER)
    token = AccessToken.issue(
        ledger.hasher.digest(VECTOR_TOKEN),
        app.id,
        user.id,
        ("basic",),
        "sandbox",
        "code",
        None,
        Actor.client(world.client_id),
    )
    ledger.save(token)
    real = ledger.client_signing_secret
    monkeypatch.setattr(
        ledger,
        "client_signing_secret",
        lambda client_id: VECTOR_SECRET if client_id == world.client_id else real(client_id),
    )
    return world


def test_reference_test_vector_is_accepted(client: TestClient, vector_client: World) -> None:
    response = client.get(
        "/v1/users/self", params={"access_token": VECTOR_TOKEN, "sig": VECTOR_SIG}
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"client_id": vector_client.client_id}


def test_reference_test_vector_with_uppercase_hex_is_accepted(
    client: TestClient, vector_client: World
) -> None:
    response = client.get(
        "/v1/users/self", params={"access_token": VECTOR_TOKEN, "sig": VECTOR_SIG.upper()}
    )

    assert response.status_code == 200


def test_reference_call_with_another_signature_is_forbidden(
    client: TestClient, vector_client: World
) -> None:
    response = client.get("/v1/users/self", params={"access_token": VECTOR_TOKEN, "sig": "0" * 64})

    assert_legacy_api_error(
        response, 403, "OAuthForbiddenException", "Invalid signed-request: Signature does not match"
    )


def test_reference_call_with_an_added_parameter_no_longer_matches(
    client: TestClient, vector_client: World
) -> None:
    response = client.get(
        "/v1/users/self", params={"access_token": VECTOR_TOKEN, "count": "5", "sig": VECTOR_SIG}
    )

    assert_legacy_api_error(
        response, 403, "OAuthForbiddenException", "Invalid signed-request: Signature does not match"
    )


def test_reference_call_without_sig_is_forbidden(client: TestClient, vector_client: World) -> None:
    response = client.get("/v1/users/self", params={"access_token": VECTOR_TOKEN})

    assert_legacy_api_error(
        response,
        403,
        "OAuthForbiddenException",
        "Invalid signed-request: Missing required parameter 'sig'",
    )


# --- a client's own secret --------------------------------------------------------------------


def test_call_signed_with_the_client_secret_is_accepted(
    client: TestClient, world: World, access_token: str
) -> None:
    sig = sign("/users/self", {"access_token": access_token}, world.client_secret)

    response = client.get("/v1/users/self", params={"access_token": access_token, "sig": sig})

    assert response.status_code == 200, response.text


def test_form_parameters_of_a_post_are_signed_too(
    client: TestClient, world: World, access_token: str
) -> None:
    params = {"access_token": access_token, "client_id": world.client_id}
    sig = sign("/media/657988443280050001_25025320/likes", params, world.client_secret)

    signed = client.post("/v1/media/657988443280050001_25025320/likes", data={**params, "sig": sig})
    unsigned_form = client.post(
        "/v1/media/657988443280050001_25025320/likes",
        data={"access_token": access_token, "sig": sig},
    )

    assert signed.status_code == 200, signed.text
    assert unsigned_form.status_code == 403


def test_signature_with_a_rotated_secret_no_longer_matches(
    client: TestClient, ledger: Any, world: World, access_token: str
) -> None:
    sig = sign("/users/self", {"access_token": access_token}, world.client_secret)
    ledger.rotate_client_secret(world.client_id, Actor.developer("olivia"))

    response = client.get("/v1/users/self", params={"access_token": access_token, "sig": sig})

    assert_legacy_api_error(
        response, 403, "OAuthForbiddenException", "Invalid signed-request: Signature does not match"
    )


def test_client_that_does_not_enforce_signed_requests_is_not_checked(
    client: TestClient, ledger: Any, world: World, access_token: str
) -> None:
    ledger.change_app_security(
        world.client_id, Actor.developer("olivia"), enforce_signed_requests=False
    )

    response = client.get("/v1/users/self", params={"access_token": access_token})

    assert response.status_code == 200


def test_call_naming_no_client_is_a_parameter_error(client: TestClient, world: World) -> None:
    response = client.get("/v1/users/self")

    assert_legacy_api_error(
        response, 400, "OAuthParameterException", "Missing client_id or access_token URL parameter."
    )


def test_call_naming_an_unknown_client_is_a_parameter_error(
    client: TestClient, world: World
) -> None:
    response = client.get("/v1/users/self", params={"client_id": "nope"})

    assert_legacy_api_error(
        response,
        400,
        "OAuthParameterException",
        "The client_id provided is invalid and does not match a valid application.",
    )


def test_call_with_an_unknown_token_is_an_access_token_error(
    client: TestClient, world: World
) -> None:
    response = client.get("/v1/users/self", params={"access_token": "forged", "sig": "0" * 64})

    assert_legacy_api_error(
        response, 400, "OAuthAccessTokenException", "The access_token provided is invalid."
    )


# --- the helper the gate decision endpoint calls ----------------------------------------------


def test_helper_verifies_the_parts_of_a_call_for_the_gate(
    ledger: Any, world: World, access_token: str
) -> None:
    params = {"access_token": access_token}
    sig = sign("/users/self", params, world.client_secret)

    verify_request_signature(ledger, world.client_id, "/v1/users/self", {**params, "sig": sig})
    with pytest.raises(InvalidSignatureError):
        verify_request_signature(
            ledger, world.client_id, "/v1/users/self", {**params, "sig": sig[::-1]}
        )
    with pytest.raises(MissingSignatureError):
        verify_request_signature(ledger, world.client_id, "/v1/users/self", params)
