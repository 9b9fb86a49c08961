"""Reviews over HTTP: submission by the owner, decisions by a reviewer."""

from __future__ import annotations

from tests.support.http_api import (
    SCREENCAST_URL,
    Api,
)

pytest_plugins = ["tests.support.http_api_fixtures"]


def submit(api: Api, client_id: str, key: str, **overrides: object) -> object:
    body = {
        "use_case": "own_content",
        "permissions": {"basic": "show the user's photos"},
        "screencast_url": SCREENCAST_URL,
        **overrides,
    }
    return api.post(f"/v1/apps/{client_id}/reviews", body, key=key)


def test_submitted_review_is_pending_for_each_permission(api: Api) -> None:
    developer = api.developer("dev_dana")
    app = api.register_app(developer)

    response = submit(api, app.client_id, developer)

    api.write(response, 201)  # type: ignore[arg-type]
    review_id = response.json()["review_id"]  # type: ignore[attr-defined]
    body = api.ok(api.get(f"/v1/reviews/{review_id}", key=developer))
    assert body["client_id"] == app.client_id
    assert (body["decisions"], body["completed"]) == ({"basic": "pending"}, False)
    assert api.ok(api.get(f"/v1/apps/{app.client_id}"))["open_review_id"] == review_id


def test_reviewer_approval_completes_the_review_and_approves_the_app(api: Api) -> None:
    developer = api.developer("dev_dana")
    reviewer = api.key("reviewer", principal="rita")
    app = api.register_app(developer)
    review_id = submit(api, app.client_id, developer).json()["review_id"]  # type: ignore

    api.write(
        api.post(
            f"/v1/reviews/{review_id}/decisions",
            {"scope": "basic", "approve": True, "reason": "shown"},
            key=reviewer,
        )
    )

    assert api.ok(api.get(f"/v1/reviews/{review_id}", key=reviewer))["completed"] is True
    assert api.ok(api.get(f"/v1/apps/{app.client_id}"))["approved_scopes"] == ["basic"]


def test_invalid_use_case_is_refused_with_the_seeds_guidance(api: Api) -> None:
    developer = api.developer("dev_dana")
    app = api.register_app(developer)

    response = submit(api, app.client_id, developer, use_case="widget_install")

    assert response.status_code == 422  # type: ignore[attr-defined]
    error = response.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "invalid_use_case"
    assert "Your client can remain in sandbox mode" in error["message"]


def test_review_for_a_closed_scope_is_a_conflict(api: Api) -> None:
    developer = api.developer("dev_dana")
    app = api.register_app(developer)

    response = submit(
        api,
        app.client_id,
        developer,
        use_case="brands_and_advertisers",
        permissions={"likes": "like photos"},
    )

    assert response.status_code == 409  # type: ignore[attr-defined]
    assert response.json()["error"]["code"] == "scope_applications_closed"  # type: ignore


def test_second_review_while_one_is_open_is_a_conflict(api: Api) -> None:
    developer = api.developer("dev_dana")
    app = api.register_app(developer)
    submit(api, app.client_id, developer)

    response = submit(api, app.client_id, developer)

    assert response.status_code == 409  # type: ignore[attr-defined]
    assert response.json()["error"]["code"] == "review_already_open"  # type: ignore


def test_deciding_a_permission_twice_is_a_conflict(api: Api) -> None:
    developer = api.developer("dev_dana")
    app = api.register_app(developer)
    review_id = submit(api, app.client_id, developer).json()["review_id"]  # type: ignore
    decision = {"scope": "basic", "approve": False, "reason": "not shown"}
    api.write(api.post(f"/v1/reviews/{review_id}/decisions", decision))

    response = api.post(f"/v1/reviews/{review_id}/decisions", decision)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "review_decision"


def test_unknown_review_is_404(api: Api) -> None:
    response = api.get("/v1/reviews/not-a-review")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "review_not_found"


def test_developer_cannot_read_another_developers_review(api: Api) -> None:
    developer = api.developer("dev_dana")
    app = api.register_app(developer)
    review_id = submit(api, app.client_id, developer).json()["review_id"]  # type: ignore
    stranger = api.developer("dev_eve")

    assert api.get(f"/v1/reviews/{review_id}", key=stranger).status_code == 403
