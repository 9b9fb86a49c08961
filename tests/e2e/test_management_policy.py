"""The scope catalogue and platform policy over HTTP."""

from __future__ import annotations

from tests.support.http_api import (
    Api,
    World,
)

pytest_plugins = ["tests.support.http_api_fixtures"]


def scopes(api: Api) -> dict[str, dict[str, object]]:
    return {s["name"]: s for s in api.ok(api.get("/v1/catalogue"))["scopes"]}


def test_catalogue_reads_as_the_seed_without_writing(api: Api) -> None:
    before = api.ledger.position()

    catalogue = api.ok(api.get("/v1/catalogue", key=api.key("auditor")))

    names = [s["name"] for s in catalogue["scopes"]]
    assert names == [
        "basic",
        "public_content",
        "follower_list",
        "comments",
        "relationships",
        "likes",
    ]
    assert catalogue["unreviewed_live_allowed"] is False
    assert api.ledger.position() == before + 2  # the auditor key's events only


def test_close_and_reopen_applications(api: Api) -> None:
    api.write(api.post("/v1/catalogue/scopes/likes/reopen-applications", {"reason": "2015"}))
    assert scopes(api)["likes"]["applications_open"] is True

    api.write(api.post("/v1/catalogue/scopes/likes/close-applications", {"reason": "2017"}))
    assert scopes(api)["likes"]["applications_open"] is False


def test_closing_closed_applications_is_a_conflict(api: Api) -> None:
    response = api.post("/v1/catalogue/scopes/likes/close-applications", {"reason": "again"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "policy_unchanged"


def test_unknown_scope_is_unprocessable(api: Api) -> None:
    response = api.post("/v1/catalogue/scopes/stories/retire", {"reason": "x"})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_scope"


def test_introduced_scope_is_listed(api: Api) -> None:
    api.write(
        api.post(
            "/v1/catalogue/scopes",
            {
                "name": "stories",
                "description": "to read stories",
                "applications_open": True,
                "reason": "new product",
            },
        ),
        201,
    )

    assert scopes(api)["stories"] == {
        "name": "stories",
        "description": "to read stories",
        "applications_open": True,
        "retired": False,
    }


def test_retired_scope_is_denied_as_soon_as_retirement_is_answered(api: Api, world: World) -> None:
    gateway = api.key("gateway")

    api.write(api.post("/v1/catalogue/scopes/likes/retire", {"reason": "April 2018"}))

    denied = api.check(world.token.access_token, "likes", key=gateway)
    assert (denied["allowed"], denied["reason"]) == (False, "scope_retired")
    assert scopes(api)["likes"]["retired"] is True


def test_unreviewed_live_apps_are_moved_back_to_sandbox(api: Api) -> None:
    developer = api.developer("dev_dana")
    app = api.register_app(developer)
    api.write(api.post("/v1/catalogue/allow-unreviewed-live", {"reason": "before 2015"}))
    api.write(api.post(f"/v1/apps/{app.client_id}/go-live", key=developer))
    assert api.ok(api.get(f"/v1/apps/{app.client_id}"))["effective_mode"] == "live"

    position = api.write(
        api.post("/v1/catalogue/move-unreviewed-apps-to-sandbox", {"reason": "June 2016"})
    )

    assert api.runtime.read_model.position() >= position
    body = api.ok(api.get(f"/v1/apps/{app.client_id}"))
    assert (body["mode"], body["effective_mode"]) == ("sandbox", "sandbox")
