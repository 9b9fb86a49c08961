"""Token revocation (RFC 7009) and introspection (RFC 7662) over HTTP."""

from __future__ import annotations

import base64
from urllib.parse import quote_plus

from tests.support.http_api import (
    Api,
    World,
)

pytest_plugins = ["tests.support.http_api_fixtures"]


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def credentials(world: World) -> dict[str, str]:
    return {"client_id": world.app.client_id, "client_secret": world.app.client_secret}


# --- revocation --------------------------------------------------------------------------------


def test_client_revokes_its_token_and_checks_deny_at_once(api: Api, world: World) -> None:
    gateway = api.key("gateway")

    response = api.client.post(
        "/oauth/revoke", data={"token": world.token.access_token, **credentials(world)}
    )

    assert response.status_code == 200
    assert response.headers["X-Ledger-Position"] == str(response.json()["position"])
    denied = api.check(world.token.access_token, "basic", key=gateway)
    assert (denied["allowed"], denied["reason"]) == (False, "token_revoked")


def test_client_authenticates_with_http_basic(api: Api, world: World) -> None:
    response = api.client.post(
        "/oauth/revoke",
        data={"token": world.token.access_token},
        headers=basic(world.app.client_id, world.app.client_secret),
    )

    assert response.status_code == 200
    assert api.ledger.token_by_id(world.token.token_id).revoked is True


def test_unknown_token_is_answered_200_and_nothing_is_written(api: Api, world: World) -> None:
    before = api.ledger.position()

    response = api.client.post("/oauth/revoke", data={"token": "unknown", **credentials(world)})

    assert (response.status_code, response.json()) == (200, {})
    assert api.ledger.position() == before


def test_already_revoked_token_is_answered_200(api: Api, world: World) -> None:
    form = {"token": world.token.access_token, **credentials(world)}
    api.client.post("/oauth/revoke", data=form)

    response = api.client.post("/oauth/revoke", data=form)

    assert (response.status_code, response.json()) == (200, {})


def test_token_of_another_client_is_refused(api: Api, world: World) -> None:
    other = api.register_app(api.developer("dev_eve"))
    before = api.ledger.position()

    response = api.client.post(
        "/oauth/revoke",
        data={
            "token": world.token.access_token,
            "client_id": other.client_id,
            "client_secret": other.client_secret,
        },
    )

    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert api.ledger.position() == before


def test_token_of_another_client_is_refused_in_words_for_a_client(api: Api, world: World) -> None:
    other = api.register_app(api.developer("dev_eve"))

    response = api.client.post(
        "/oauth/revoke",
        data={
            "token": world.token.access_token,
            "client_id": other.client_id,
            "client_secret": other.client_secret,
        },
    )

    description = response.json()["error_description"]
    assert "not issued to this client" in description
    assert "user" not in description


def test_wrong_client_secret_is_401_invalid_client_with_a_basic_challenge(
    api: Api, world: World
) -> None:
    response = api.client.post(
        "/oauth/revoke",
        data={"token": world.token.access_token},
        headers=basic(world.app.client_id, "wrong"),
    )

    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Invalid Client Secret",
    }
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert api.ledger.token_by_id(world.token.token_id).revoked is False


def test_missing_token_parameter_is_invalid_request(api: Api, world: World) -> None:
    response = api.client.post("/oauth/revoke", data=credentials(world))

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_json_body_is_invalid_request(api: Api, world: World) -> None:
    response = api.client.post(
        "/oauth/revoke", json={"token": world.token.access_token, **credentials(world)}
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_repeated_parameter_is_invalid_request(api: Api, world: World) -> None:
    body = "&".join(
        [
            f"token={world.token.access_token}",
            "token=other",
            f"client_id={world.app.client_id}",
            f"client_secret={quote_plus(world.app.client_secret)}",
        ]
    )

    response = api.client.post(
        "/oauth/revoke", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )

    assert response.status_code == 400
    assert "more than once" in response.json()["error_description"]


def test_two_client_authentication_methods_are_refused(api: Api, world: World) -> None:
    response = api.client.post(
        "/oauth/revoke",
        data={"token": world.token.access_token, **credentials(world)},
        headers=basic(world.app.client_id, world.app.client_secret),
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


# --- introspection -----------------------------------------------------------------------------


def test_gateway_introspects_an_active_token(api: Api, world: World) -> None:
    gateway = api.key("gateway")

    response = api.client.post(
        "/oauth/introspect", data={"token": world.token.access_token}, headers=api.auth(gateway)
    )

    body = api.ok(response)
    user = api.ledger.user("alice")
    assert body["active"] is True
    assert body["scope"] == "basic likes"
    assert (body["client_id"], body["username"], body["sub"]) == (
        world.app.client_id,
        "alice",
        user.id.hex,
    )
    assert body["mode"] == "sandbox"
    assert isinstance(body["iat"], int)
    assert body["iat"] > 1_500_000_000
    assert response.headers["Cache-Control"] == "no-store"


def test_revoked_token_is_only_inactive(api: Api, world: World) -> None:
    api.write(api.post(f"/v1/tokens/{world.token.token_id.hex}/revoke", {"reason": "x"}))

    response = api.client.post(
        "/oauth/introspect", data={"token": world.token.access_token}, headers=api.auth(api.admin)
    )

    assert api.ok(response) == {"active": False}


def test_unknown_token_is_inactive(api: Api) -> None:
    response = api.client.post(
        "/oauth/introspect", data={"token": "nope"}, headers={"X-API-Key": api.admin}
    )

    assert api.ok(response) == {"active": False}


def test_retired_scope_is_left_out_of_an_active_tokens_scope(api: Api, world: World) -> None:
    api.write(api.post("/v1/catalogue/scopes/likes/retire", {"reason": "April 2018"}))

    body = api.ok(
        api.client.post(
            "/oauth/introspect",
            data={"token": world.token.access_token},
            headers=api.auth(api.admin),
        )
    )

    assert (body["active"], body["scope"]) == (True, "basic")


def test_client_introspects_its_own_token(api: Api, world: World) -> None:
    response = api.client.post(
        "/oauth/introspect", data={"token": world.token.access_token, **credentials(world)}
    )

    assert api.ok(response)["active"] is True


def test_another_clients_token_is_inactive_to_a_client(api: Api, world: World) -> None:
    other = api.register_app(api.developer("dev_eve"))

    response = api.client.post(
        "/oauth/introspect",
        data={"token": world.token.access_token},
        headers=basic(other.client_id, other.client_secret),
    )

    assert api.ok(response) == {"active": False}


def test_auditor_key_may_not_introspect(api: Api, world: World) -> None:
    response = api.client.post(
        "/oauth/introspect",
        data={"token": world.token.access_token},
        headers=api.auth(api.key("auditor")),
    )

    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


def test_introspection_without_credentials_is_401(api: Api, world: World) -> None:
    response = api.client.post("/oauth/introspect", data={"token": world.token.access_token})

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_unknown_api_key_is_401_invalid_token(api: Api, world: World) -> None:
    response = api.client.post(
        "/oauth/introspect", data={"token": world.token.access_token}, headers=api.auth("not-a-key")
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_oversized_form_is_413_invalid_request(api: Api, world: World) -> None:
    response = api.client.post("/oauth/revoke", data={"token": "x" * 20_000, **credentials(world)})

    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"
