"""Apps over HTTP: registration, details, secret, security settings, mode and status."""

from __future__ import annotations

from tests.support.http_api import (
    Api,
    app_body,
)

pytest_plugins = ["tests.support.http_api_fixtures"]


def test_developer_registers_an_app_in_its_own_name(api: Api) -> None:
    developer = api.developer("dev_dana")

    response = api.post("/v1/apps", app_body(), key=developer)

    api.write(response, 201)
    body = response.json()
    assert response.headers["Cache-Control"] == "no-store"
    app = api.ledger.verify_client(body["client_id"], body["client_secret"])
    assert app.owner_username == "dev_dana"


def test_developer_cannot_register_an_app_for_someone_else(api: Api) -> None:
    developer = api.developer("dev_dana")
    api.user("dev_eve")
    before = api.ledger.position()

    response = api.post("/v1/apps", app_body(owner="dev_eve"), key=developer)

    assert response.status_code == 403
    assert api.ledger.position() == before


def test_admin_registers_an_app_for_a_named_owner(api: Api) -> None:
    api.user("dev_dana")

    body = api.ok(api.post("/v1/apps", app_body(owner="dev_dana")), 201)

    assert api.ok(api.get(f"/v1/apps/{body['client_id']}"))["owner"] == "dev_dana"


def test_invalid_redirect_uri_is_unprocessable(api: Api) -> None:
    developer = api.developer("dev_dana")

    response = api.post("/v1/apps", app_body(redirect_uris=["not a url"]), key=developer)

    assert response.status_code == 422
    assert "redirect_uri" in response.json()["error"]["message"]


def test_app_details_never_show_the_secret(api: Api) -> None:
    developer = api.developer("dev_dana")
    app = api.register_app(developer)

    response = api.get(f"/v1/apps/{app.client_id}", key=developer)

    body = api.ok(response)
    assert app.client_secret not in response.text
    assert api.ledger.app(app.client_id).secret_digest not in response.text
    assert body["sandbox_users"] == [
        {
            "user_id": api.ledger.user("dev_dana").id.hex,
            "username": "dev_dana",
            "status": "accepted",
        },
    ]


def test_developer_cannot_read_another_developers_app(api: Api) -> None:
    app = api.register_app(api.developer("dev_dana"))
    stranger = api.developer("dev_eve")

    response = api.get(f"/v1/apps/{app.client_id}", key=stranger)

    assert response.status_code == 403


def test_unknown_app_is_404(api: Api) -> None:
    response = api.get("/v1/apps/0123456789abcdef0123456789abcdef")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "app_not_found"


def test_details_change(api: Api) -> None:
    developer = api.developer("dev_dana")
    app = api.register_app(developer)

    api.write(
        api.patch(
            f"/v1/apps/{app.client_id}",
            {"name": "Printer Pro", "redirect_uris": ["https://p.example/cb"]},
            key=developer,
        )
    )

    body = api.ok(api.get(f"/v1/apps/{app.client_id}"))
    assert (body["name"], body["redirect_uris"]) == ("Printer Pro", ["https://p.example/cb"])


def test_details_change_without_a_change_is_refused(api: Api) -> None:
    developer = api.developer("dev_dana")
    app = api.register_app(developer)

    response = api.patch(f"/v1/apps/{app.client_id}", {}, key=developer)

    assert response.status_code == 422


def test_rotated_secret_replaces_the_old_one_at_once(api: Api) -> None:
    developer = api.developer("dev_dana")
    app = api.register_app(developer)

    response = api.post(f"/v1/apps/{app.client_id}/client-secret", key=developer)

    api.write(response)
    new_secret = response.json()["client_secret"]
    assert new_secret != app.client_secret
    assert api.ledger.verify_client(app.client_id, new_secret)
    assert (
        api.client.post(
            "/oauth/revoke",
            data={
                "token": "x",
                "client_id": app.client_id,
                "client_secret": app.client_secret,
            },
        ).status_code
        == 401
    )


def test_security_settings_change(api: Api) -> None:
    developer = api.developer("dev_dana")
    app = api.register_app(developer)

    api.write(
        api.patch(
            f"/v1/apps/{app.client_id}/security",
            {"disable_implicit": True, "enforce_signed_requests": True},
            key=developer,
        )
    )

    body = api.ok(api.get(f"/v1/apps/{app.client_id}"))
    assert (body["implicit_disabled"], body["signed_requests_enforced"]) == (True, True)


def test_going_live_without_an_approved_review_is_a_conflict(api: Api) -> None:
    developer = api.developer("dev_dana")
    app = api.register_app(developer)

    response = api.post(f"/v1/apps/{app.client_id}/go-live", key=developer)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_reviewed"


def test_return_to_sandbox_is_acknowledged_by_the_read_models(api: Api) -> None:
    developer = api.developer("dev_dana")
    app = api.register_app(developer)
    api.approve_and_go_live(app.client_id, developer)

    position = api.write(api.post(f"/v1/apps/{app.client_id}/return-to-sandbox", key=developer))

    assert api.runtime.read_model.position() >= position
    assert api.ok(api.get(f"/v1/apps/{app.client_id}"))["effective_mode"] == "sandbox"


def test_disable_is_acknowledged_and_needs_a_reason(api: Api) -> None:
    app = api.register_app(api.developer("dev_dana"))

    refused = api.post(f"/v1/apps/{app.client_id}/disable", {})
    position = api.write(api.post(f"/v1/apps/{app.client_id}/disable", {"reason": "abuse"}))

    assert refused.status_code == 422
    assert api.runtime.read_model.position() >= position
    assert api.ok(api.get(f"/v1/apps/{app.client_id}"))["disabled"] is True


def test_developer_cannot_disable_its_own_app(api: Api) -> None:
    developer = api.developer("dev_dana")
    app = api.register_app(developer)

    response = api.post(f"/v1/apps/{app.client_id}/disable", {"reason": "x"}, key=developer)

    assert response.status_code == 403


def test_enabling_an_enabled_app_is_a_conflict(api: Api) -> None:
    app = api.register_app(api.developer("dev_dana"))

    response = api.post(f"/v1/apps/{app.client_id}/enable", {"reason": "x"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "app_state"


def test_whole_approval_is_withdrawn_when_no_scope_is_named(api: Api) -> None:
    developer = api.developer("dev_dana")
    app = api.register_app(developer)
    api.approve_and_go_live(app.client_id, developer)

    position = api.write(
        api.post(f"/v1/apps/{app.client_id}/approvals/withdraw", {"reason": "policy"})
    )

    assert api.runtime.read_model.position() >= position
    body = api.ok(api.get(f"/v1/apps/{app.client_id}"))
    assert (body["approved_scopes"], body["effective_mode"]) == ([], "sandbox")


def test_withdrawing_an_approval_the_app_lacks_is_404(api: Api) -> None:
    app = api.register_app(api.developer("dev_dana"))

    response = api.post(
        f"/v1/apps/{app.client_id}/approvals/withdraw", {"scope": "likes", "reason": "policy"}
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "approval_not_found"


def test_going_live_while_disabled_is_a_conflict(api: Api) -> None:
    developer = api.developer("dev_dana")
    app = api.register_app(developer)
    api.write(api.post(f"/v1/apps/{app.client_id}/disable", {"reason": "abuse"}))

    response = api.post(f"/v1/apps/{app.client_id}/go-live", key=developer)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "app_disabled"
