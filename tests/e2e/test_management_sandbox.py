"""Sandbox users over HTTP: invitation, acceptance, removal."""

from __future__ import annotations

from tests.support.http_api import (
    Api,
    World,
)

pytest_plugins = ["tests.support.http_api_fixtures"]


def sandbox_users(api: Api, client_id: str) -> dict[str | None, str]:
    body = api.ok(api.get(f"/v1/apps/{client_id}"))
    return {u["username"]: u["status"] for u in body["sandbox_users"]}


def test_invited_user_is_pending_until_accepted(api: Api) -> None:
    developer = api.developer("dev_dana")
    app = api.register_app(developer)
    api.user("alice")

    api.write(
        api.post(f"/v1/apps/{app.client_id}/sandbox-users", {"username": "alice"}, key=developer),
        201,
    )

    assert sandbox_users(api, app.client_id)["alice"] == "invited"


def test_admin_accepts_on_the_users_behalf_and_is_recorded(api: Api) -> None:
    developer = api.developer("dev_dana")
    app = api.register_app(developer)
    api.user("alice")
    api.post(f"/v1/apps/{app.client_id}/sandbox-users", {"username": "alice"}, key=developer)

    api.write(api.post(f"/v1/apps/{app.client_id}/sandbox-users/alice/accept"))

    assert sandbox_users(api, app.client_id)["alice"] == "accepted"
    api.synced()
    rows = api.runtime.db.query(
        "SELECT actor, role FROM rm_log WHERE event_type = 'App.SandboxInvitationAccepted'"
    )
    assert [tuple(r) for r in rows] == [("ops", "platform")]


def test_invited_developer_accepts_with_its_own_key(api: Api) -> None:
    owner = api.developer("dev_dana")
    app = api.register_app(owner)
    invited = api.developer("dev_eve")
    api.post(f"/v1/apps/{app.client_id}/sandbox-users", {"username": "dev_eve"}, key=owner)

    api.write(api.post(f"/v1/apps/{app.client_id}/sandbox-users/dev_eve/accept", key=invited))

    assert sandbox_users(api, app.client_id)["dev_eve"] == "accepted"


def test_owner_cannot_accept_for_the_invited_user(api: Api) -> None:
    owner = api.developer("dev_dana")
    app = api.register_app(owner)
    api.user("alice")
    api.post(f"/v1/apps/{app.client_id}/sandbox-users", {"username": "alice"}, key=owner)

    response = api.post(f"/v1/apps/{app.client_id}/sandbox-users/alice/accept", key=owner)

    assert response.status_code == 403


def test_inviting_twice_is_a_conflict(api: Api) -> None:
    owner = api.developer("dev_dana")
    app = api.register_app(owner)
    api.user("alice")
    api.post(f"/v1/apps/{app.client_id}/sandbox-users", {"username": "alice"}, key=owner)

    response = api.post(f"/v1/apps/{app.client_id}/sandbox-users", {"username": "alice"}, key=owner)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "sandbox_invitation"


def test_inviting_an_unknown_user_is_404(api: Api) -> None:
    owner = api.developer("dev_dana")
    app = api.register_app(owner)

    response = api.post(f"/v1/apps/{app.client_id}/sandbox-users", {"username": "ghost"}, key=owner)

    assert response.status_code == 404


def test_removed_sandbox_user_is_denied_as_soon_as_the_removal_is_answered(
    api: Api, world: World
) -> None:
    gateway = api.key("gateway")

    api.write(
        api.post(
            f"/v1/apps/{world.app.client_id}/sandbox-users/alice/remove",
            {"reason": "test over"},
            key=world.developer_key,
        )
    )

    denied = api.check(world.token.access_token, "basic", key=gateway)
    assert (denied["allowed"], denied["reason"]) == (False, "not_sandbox_user")
    assert "alice" not in sandbox_users(api, world.app.client_id)


def test_the_owner_cannot_be_removed(api: Api) -> None:
    owner = api.developer("dev_dana")
    app = api.register_app(owner)

    response = api.post(
        f"/v1/apps/{app.client_id}/sandbox-users/dev_dana/remove", {"reason": "x"}, key=owner
    )

    assert response.status_code == 409
