"""The permission lifecycle walked over HTTP, from an empty ledger to a withdrawn permission.

Each step is a call a real operator, developer, reviewer or gateway makes; the gateway's check
after each step shows what the step changed.
"""

from __future__ import annotations

from tests.support.http_api import Api

pytest_plugins = ["tests.support.http_api_fixtures"]


def test_permission_lifecycle_from_registration_to_withdrawal(api: Api) -> None:
    gateway = api.key("gateway")
    reviewer = api.key("reviewer", principal="rita")

    # A developer and a user register; the developer registers an app (in sandbox).
    developer = api.developer("dev_dana")
    api.user("alice")
    app = api.register_app(developer)
    details = api.ok(api.get(f"/v1/apps/{app.client_id}", key=developer))
    assert (details["mode"], details["effective_mode"]) == ("sandbox", "sandbox")
    assert details["owner"] == "dev_dana"

    # Alice is invited and accepts (the admin on her behalf); she authorizes the app.
    api.write(
        api.post(f"/v1/apps/{app.client_id}/sandbox-users", {"username": "alice"}, key=developer),
        201,
    )
    api.write(api.post(f"/v1/apps/{app.client_id}/sandbox-users/alice/accept"))
    token = api.token(app, "alice", "basic likes").access_token

    sandbox_check = api.check(token, "likes", key=gateway)
    assert sandbox_check["allowed"] is True
    assert sandbox_check["mode"] == "sandbox"
    assert sandbox_check["constraints"]["requests_per_hour"] == 500

    # Review: basic and likes asked for, a reviewer approves both; the app goes live.
    api.post("/v1/catalogue/scopes/likes/reopen-applications", {"reason": "test"})
    review = api.ok(
        api.post(
            f"/v1/apps/{app.client_id}/reviews",
            {
                "use_case": "brands_and_advertisers",
                "permissions": {"basic": "profile", "likes": "like photos to print"},
                "screencast_url": "https://client.example/screencast.mp4",
            },
            key=developer,
        ),
        201,
    )
    for scope in ("basic", "likes"):
        api.write(
            api.post(
                f"/v1/reviews/{review['review_id']}/decisions",
                {"scope": scope, "approve": True, "reason": "shown"},
                key=reviewer,
            )
        )
    assert api.ok(api.get(f"/v1/reviews/{review['review_id']}"))["completed"] is True
    live_at = api.write(api.post(f"/v1/apps/{app.client_id}/go-live", key=developer))

    live_check = api.check(token, "likes", key=gateway, min_position=live_at)
    assert (live_check["allowed"], live_check["mode"]) == (True, "live")
    assert live_check["constraints"]["requests_per_hour"] == 5000

    # The platform withdraws the likes approval: acknowledged, so the very next check denies.
    api.write(
        api.post(
            f"/v1/apps/{app.client_id}/approvals/withdraw",
            {"scope": "likes", "reason": "likes switched off"},
        )
    )
    withdrawn = api.check(token, "likes", key=gateway)
    assert withdrawn["allowed"] is False
    assert withdrawn["reason"] == "not_approved"
    assert withdrawn["message"] == "This client has not been approved to access this resource."
    assert api.check(token, "basic", key=gateway)["allowed"] is True

    # Alice's authorization is withdrawn (deauthorized): every scope of the token is denied.
    api.write(
        api.post(
            f"/v1/users/alice/authorizations/{app.client_id}/deauthorize", {"reason": "user asked"}
        )
    )
    gone = api.check(token, "basic", key=gateway)
    assert (gone["allowed"], gone["reason"]) == (False, "grant_withdrawn")

    # The history is still there: as of the go-live position, likes was allowed.
    past = api.check(token, "likes", key=gateway, as_of=live_at)
    assert past["allowed"] is True
    assert past["position"] == live_at


def test_disabled_app_tokens_are_denied_until_it_is_enabled(api: Api) -> None:
    gateway = api.key("gateway")
    developer = api.developer("dev_dana")
    api.user("alice")
    app = api.register_app(developer)
    api.sandbox_user(app.client_id, developer, "alice")
    token = api.token(app, "alice").access_token

    api.write(api.post(f"/v1/apps/{app.client_id}/disable", {"reason": "abuse"}))
    assert api.check(token, "basic", key=gateway)["reason"] == "app_disabled"

    enabled_at = api.write(api.post(f"/v1/apps/{app.client_id}/enable", {"reason": "fixed"}))
    assert api.check(token, "basic", key=gateway, min_position=enabled_at)["allowed"] is True
