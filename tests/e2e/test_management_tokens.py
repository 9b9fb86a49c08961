"""Tokens by id over HTTP: revocation by the platform or the app's owner, expiry."""

from __future__ import annotations

from uuid import uuid4

from tests.support.http_api import (
    Api,
    World,
)

pytest_plugins = ["tests.support.http_api_fixtures"]


def test_revoked_token_is_denied_as_soon_as_the_revocation_is_answered(
    api: Api, world: World
) -> None:
    gateway = api.key("gateway")
    assert api.check(world.token.access_token, "basic", key=gateway)["allowed"] is True

    position = api.write(
        api.post(f"/v1/tokens/{world.token.token_id.hex}/revoke", {"reason": "compromised"})
    )

    assert api.runtime.read_model.position() >= position
    denied = api.check(world.token.access_token, "basic", key=gateway)
    assert (denied["allowed"], denied["reason"]) == (False, "token_revoked")


def test_apps_owner_revokes_its_apps_token(api: Api, world: World) -> None:
    response = api.post(
        f"/v1/tokens/{world.token.token_id.hex}/revoke", {"reason": "x"}, key=world.developer_key
    )

    api.write(response)
    assert api.ledger.token_by_id(world.token.token_id).revoked is True


def test_another_developer_cannot_revoke_the_token(api: Api, world: World) -> None:
    stranger = api.developer("dev_eve")
    before = api.ledger.position()

    response = api.post(
        f"/v1/tokens/{world.token.token_id.hex}/revoke", {"reason": "x"}, key=stranger
    )

    assert response.status_code == 403
    assert api.ledger.position() == before


def test_revoking_a_revoked_token_is_a_conflict(api: Api, world: World) -> None:
    url = f"/v1/tokens/{world.token.token_id.hex}/revoke"
    api.write(api.post(url, {"reason": "x"}))

    response = api.post(url, {"reason": "again"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "token_state"


def test_unknown_token_id_is_404(api: Api) -> None:
    for token_id in (uuid4().hex, "not-an-id"):
        response = api.post(f"/v1/tokens/{token_id}/revoke", {"reason": "x"})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "token_not_found"


def test_expired_token_is_denied_as_soon_as_the_expiry_is_answered(api: Api, world: World) -> None:
    gateway = api.key("gateway")

    api.write(api.post(f"/v1/tokens/{world.token.token_id.hex}/expire", {"reason": "policy"}))

    denied = api.check(world.token.access_token, "basic", key=gateway)
    assert (denied["allowed"], denied["reason"]) == (False, "token_expired")


def test_deauthorizing_an_app_the_user_never_authorized_is_404(api: Api, world: World) -> None:
    api.user("bob")

    response = api.post(
        f"/v1/users/bob/authorizations/{world.app.client_id}/deauthorize", {"reason": "x"}
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "grant_not_found"
