"""Permission decisions for gateways over HTTP: check, explain, gate and lookups."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.decisions import missing_scope_message
from domain.identity import user_id
from tests.support.http_api import (
    Api,
    World,
)

pytest_plugins = ["tests.support.http_api_fixtures"]


@pytest.fixture
def gateway(api: Api) -> str:
    return api.key("gateway")


def post(api: Api, url: str, key: str, **body: object) -> dict[str, object]:
    return api.ok(api.post(url, body, key=key))


# --- check -------------------------------------------------------------------------------------


def test_allowed_check_answers_the_decision_with_its_constraints(
    api: Api, world: World, gateway: str
) -> None:
    response = api.post(
        "/v1/decisions/check",
        {"access_token": world.token.access_token, "scope": "likes"},
        key=gateway,
    )

    body = api.ok(response)
    assert body == {
        "allowed": True,
        "mode": "sandbox",
        "scope": "likes",
        "position": body["position"],
        "reason": None,
        "error_type": None,
        "http_status": None,
        "message": None,
        "fix": None,
        "constraints": {
            "requests_per_hour": 500,
            "writes_per_hour": 30,
            "media_limit": 20,
            "data_limited_to_sandbox_users": True,
        },
    }
    assert response.headers["X-Ledger-Position"] == str(body["position"])


def test_scope_not_in_the_token_is_denied_with_the_legacy_message_and_a_fix(
    api: Api, world: World, gateway: str
) -> None:
    body = api.check(world.token.access_token, "comments", key=gateway)

    assert body["allowed"] is False
    assert body["reason"] == "scope_not_in_token"
    assert body["error_type"] == "OAuthPermissionsException"
    assert body["http_status"] == 400
    assert body["message"] == missing_scope_message("comments")
    assert body["fix"] == "the user must re-authorize with scope=comments"


def test_unknown_token_is_denied_as_invalid(api: Api, gateway: str) -> None:
    body = api.check("not-a-token", "basic", key=gateway)

    assert (body["reason"], body["message"]) == (
        "token_unknown",
        "The access_token provided is invalid.",
    )


def test_mode_can_be_asked_for_explicitly(api: Api, world: World, gateway: str) -> None:
    body = api.check(world.token.access_token, "basic", key=gateway, mode="live")

    assert (body["allowed"], body["mode"], body["reason"]) == (False, "live", "not_approved")
    assert body["constraints"]["requests_per_hour"] == 5000


def test_as_of_a_position_answers_for_that_moment(api: Api, world: World, gateway: str) -> None:
    before = api.synced()
    api.write(api.post(f"/v1/tokens/{world.token.token_id.hex}/revoke", {"reason": "x"}))

    then = api.check(world.token.access_token, "basic", key=gateway, as_of=before)
    now = api.check(world.token.access_token, "basic", key=gateway)

    assert (then["allowed"], then["position"]) == (True, before)
    assert (now["allowed"], now["reason"]) == (False, "token_revoked")


def test_as_of_a_moment_answers_for_that_moment(api: Api, world: World, gateway: str) -> None:
    long_ago = api.check(
        world.token.access_token, "basic", key=gateway, as_of="2015-11-17T00:00:00Z"
    )
    just_now = api.check(
        world.token.access_token, "basic", key=gateway, as_of=datetime.now(UTC).isoformat()
    )

    assert (long_ago["allowed"], long_ago["reason"]) == (False, "token_unknown")
    assert just_now["allowed"] is True


def test_as_of_that_is_neither_position_nor_moment_is_unprocessable(
    api: Api, world: World, gateway: str
) -> None:
    response = api.post(
        "/v1/decisions/check",
        {"access_token": world.token.access_token, "scope": "basic", "as_of": "yesterday"},
        key=gateway,
    )

    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("as_of:")


def test_negative_as_of_is_unprocessable(api: Api, world: World, gateway: str) -> None:
    response = api.post(
        "/v1/decisions/check",
        {"access_token": world.token.access_token, "scope": "basic", "as_of": -1},
        key=gateway,
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_as_of"


def test_tokens_are_never_taken_from_the_url(api: Api, world: World, gateway: str) -> None:
    response = api.get(
        "/v1/decisions/check",
        key=gateway,
        params={"access_token": world.token.access_token, "scope": "basic"},
    )

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_missing_access_token_is_unprocessable(api: Api, gateway: str) -> None:
    response = api.post("/v1/decisions/check", {"scope": "basic"}, key=gateway)

    assert response.status_code == 422
    assert response.json()["error"]["message"] == "access_token: Field required"


# --- explain -----------------------------------------------------------------------------------


def test_explanation_names_the_event_that_ended_the_permission(api: Api, world: World) -> None:
    auditor = api.key("auditor")
    revoked_at = api.write(
        api.post(f"/v1/tokens/{world.token.token_id.hex}/revoke", {"reason": "compromised"})
    )

    body = post(
        api, "/v1/decisions/explain", auditor, access_token=world.token.access_token, scope="basic"
    )

    assert (body["allowed"], body["reason"]) == (False, "token_revoked")
    failed = body["failed_link"]
    assert isinstance(failed, dict)
    assert (failed["event_type"], failed["position"], failed["actor"], failed["reason"]) == (
        "AccessToken.Revoked",
        revoked_at,
        "ops",
        "compromised",
    )
    evidence = body["evidence"]
    assert isinstance(evidence, list)
    links = {e["link"] for e in evidence}
    assert {"token_issued", "token_ended", "app_registered", "user_registered"} <= links


def test_allowed_explanation_has_evidence_and_no_failed_link(
    api: Api, world: World, gateway: str
) -> None:
    body = post(
        api, "/v1/decisions/explain", gateway, access_token=world.token.access_token, scope="basic"
    )

    assert body["allowed"] is True
    assert body["failed_link"] is None
    evidence = body["evidence"]
    assert isinstance(evidence, list)
    assert evidence
    assert all(datetime.fromisoformat(e["at"]).year >= 2020 for e in evidence)


# --- gate --------------------------------------------------------------------------------------


def test_allowed_gate_answers_200_with_the_decision(api: Api, world: World, gateway: str) -> None:
    body = post(
        api,
        "/v1/decisions/gate",
        gateway,
        access_token=world.token.access_token,
        method="GET",
        path="/v1/users/self",
    )

    assert (body["allowed"], body["scope"]) == (True, "basic")


def test_denied_gate_answers_the_legacy_status_and_body(
    api: Api, world: World, gateway: str
) -> None:
    response = api.post(
        "/v1/decisions/gate",
        {
            "access_token": world.token.access_token,
            "method": "GET",
            "path": "/users/search",
        },
        key=gateway,
    )

    assert response.status_code == 400
    assert response.json() == {
        "meta": {
            "error_type": "OAuthPermissionsException",
            "code": 400,
            "error_message": missing_scope_message("public_content"),
        }
    }
    assert response.headers["X-Ledger-Denial-Reason"] == "scope_not_in_token"


def test_gate_for_a_removed_sandbox_user_is_the_legacy_403(
    api: Api, world: World, gateway: str
) -> None:
    api.write(
        api.post(
            f"/v1/apps/{world.app.client_id}/sandbox-users/alice/remove",
            {"reason": "done"},
            key=world.developer_key,
        )
    )

    response = api.post(
        "/v1/decisions/gate",
        {
            "access_token": world.token.access_token,
            "method": "GET",
            "path": "/users/self",
        },
        key=gateway,
    )

    assert response.status_code == 403
    assert response.json() == {
        "meta": {
            "error_type": "OAuthForbiddenException",
            "code": 403,
            "error_message": "You are not a sandbox user of this client",
        }
    }


def test_gate_for_another_users_data_outside_the_sandbox_is_the_legacy_403(
    api: Api, world: World, gateway: str
) -> None:
    token = api.token(world.app, "alice", "basic public_content")
    outsider = user_id("somebody_else").hex

    response = api.post(
        "/v1/decisions/gate",
        {
            "access_token": token.access_token,
            "method": "GET",
            "path": f"/v1/users/{outsider}",
        },
        key=gateway,
    )

    assert response.status_code == 403
    assert response.json() == {
        "meta": {
            "error_type": "OAuthForbiddenException",
            "code": 403,
            "error_message": "The requested user is not a sandbox user of this client",
        }
    }
    assert response.headers["X-Ledger-Denial-Reason"] == "data_owner_not_sandbox_user"


def test_gate_for_an_unknown_legacy_endpoint_is_unprocessable(
    api: Api, world: World, gateway: str
) -> None:
    response = api.post(
        "/v1/decisions/gate",
        {
            "access_token": world.token.access_token,
            "method": "GET",
            "path": "/nope",
        },
        key=gateway,
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


# --- lookups -----------------------------------------------------------------------------------


def test_token_holders_by_get_and_by_post(api: Api, world: World, gateway: str) -> None:
    query = {"client_id": world.app.client_id, "scope": "likes"}

    by_get = api.ok(api.get("/v1/lookups/token-holders", key=gateway, params=query))
    by_post = api.ok(api.post("/v1/lookups/token-holders", query, key=gateway))

    expected = [
        {
            "token_id": world.token.token_id.hex,
            "user_id": api.ledger.user("alice").id.hex,
            "username": "alice",
        }
    ]
    assert by_get["holders"] == by_post["holders"] == expected
    assert world.token.access_token not in str(by_get)


def test_token_holders_as_of_before_a_revocation(api: Api, world: World, gateway: str) -> None:
    before = api.synced()
    api.write(api.post(f"/v1/tokens/{world.token.token_id.hex}/revoke", {"reason": "x"}))
    query = {"client_id": world.app.client_id, "scope": "basic"}

    now = api.ok(api.get("/v1/lookups/token-holders", key=gateway, params=query))
    then = api.ok(
        api.get("/v1/lookups/token-holders", key=gateway, params={**query, "as_of": before})
    )

    assert now["holders"] == []
    assert [h["username"] for h in then["holders"]] == ["alice"]
    assert then["position"] == before


def test_user_authorizations(api: Api, world: World) -> None:
    auditor = api.key("auditor")

    body = api.ok(
        api.get("/v1/lookups/user-authorizations", key=auditor, params={"username": "alice"})
    )

    assert body["authorizations"] == [
        {"client_id": world.app.client_id, "scopes": ["basic", "likes"]}
    ]


def test_user_authorizations_find_the_user_whatever_the_case_asked(
    api: Api, world: World, gateway: str
) -> None:
    body = api.ok(
        api.get("/v1/lookups/user-authorizations", key=gateway, params={"username": "Alice"})
    )

    assert body["authorizations"] == [
        {"client_id": world.app.client_id, "scopes": ["basic", "likes"]}
    ]


def test_user_authorizations_of_an_unknown_user_is_404(api: Api, gateway: str) -> None:
    response = api.post("/v1/lookups/user-authorizations", {"username": "ghost"}, key=gateway)

    assert response.status_code == 404


def test_auditor_explains_but_does_not_check(api: Api, world: World) -> None:
    auditor = api.key("auditor")
    body = {"access_token": world.token.access_token, "scope": "basic"}

    assert api.post("/v1/decisions/explain", body, key=auditor).status_code == 200
    assert api.post("/v1/decisions/check", body, key=auditor).status_code == 403
