"""The request gate honours a client's "Enforce signed requests" setting, as the platform did."""

from __future__ import annotations

import httpx
import pytest

from domain.signatures import signature
from tests.support.http_api import Api, World

pytest_plugins = ["tests.support.http_api_fixtures"]

PATH = "/v1/users/self"


@pytest.fixture
def gateway(api: Api) -> str:
    return api.key("gateway")


@pytest.fixture
def enforcing(api: Api, world: World) -> World:
    api.write(
        api.patch(
            f"/v1/apps/{world.app.client_id}/security",
            {"enforce_signed_requests": True},
            key=world.developer_key,
        )
    )
    return world


def gate(api: Api, world: World, gateway: str, params: dict[str, str] | None) -> httpx.Response:
    body: dict[str, object] = {
        "access_token": world.token.access_token,
        "method": "GET",
        "path": PATH,
    }
    if params is not None:
        body["params"] = params
    return api.post("/v1/decisions/gate", body, key=gateway)


def signed(world: World, **params: str) -> dict[str, str]:
    call = {"access_token": world.token.access_token, **params}
    return {**params, "sig": signature(PATH, call, world.app.client_secret)}


def test_call_of_an_enforcing_client_without_sig_is_refused(
    api: Api, enforcing: World, gateway: str
) -> None:
    response = gate(api, enforcing, gateway, None)
    assert response.status_code == 403
    assert response.json() == {
        "meta": {
            "error_type": "OAuthForbiddenException",
            "code": 403,
            "error_message": "Invalid signed-request: Missing required parameter 'sig'",
        }
    }


def test_call_with_a_wrong_sig_is_refused(api: Api, enforcing: World, gateway: str) -> None:
    response = gate(api, enforcing, gateway, {"count": "5", "sig": "0" * 64})
    assert response.status_code == 403
    assert response.json()["meta"]["error_message"] == (
        "Invalid signed-request: Signature does not match"
    )


def test_correctly_signed_call_is_decided(api: Api, enforcing: World, gateway: str) -> None:
    response = gate(api, enforcing, gateway, signed(enforcing, count="5"))
    assert response.status_code == 200
    assert response.json()["allowed"] is True


def test_signature_covers_every_parameter(api: Api, enforcing: World, gateway: str) -> None:
    tampered = {**signed(enforcing, count="5"), "count": "500"}
    assert gate(api, enforcing, gateway, tampered).status_code == 403


def test_client_not_enforcing_signed_requests_is_not_checked(
    api: Api, world: World, gateway: str
) -> None:
    response = gate(api, world, gateway, {"sig": "whatever"})
    assert response.status_code == 200
