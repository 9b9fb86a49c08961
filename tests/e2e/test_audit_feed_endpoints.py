"""The audit trail over HTTP: /v1/audit/changes, /history and /export, for auditors and admins."""

from __future__ import annotations

import csv
import io
import json
import threading
import time

import pytest

from domain.api_keys import KeyRole
from tests.support.http_api import Api, World

pytest_plugins = ["tests.support.http_api_fixtures"]


def _log_length(api: Api) -> int:
    api.synced()
    return api.ledger.position()


def _every_page(api: Api, key: str, limit: int) -> list[int]:
    positions: list[int] = []
    cursor = ""
    while True:
        body = api.ok(api.get("/v1/audit/changes", key, params={"after": cursor, "limit": limit}))
        if body["caught_up"]:
            assert body["cursor"] == cursor
            return positions
        positions += [e["position"] for e in body["events"]]
        cursor = body["cursor"]


def test_an_auditor_pages_through_every_event_once_in_order(api: Api, world: World) -> None:
    auditor = api.key(KeyRole.AUDITOR)
    total = _log_length(api)

    assert _every_page(api, auditor, 4) == list(range(1, total + 1))


def test_a_caught_up_feed_answers_the_cursor_it_was_given(api: Api, world: World) -> None:
    _log_length(api)
    cursor = api.ok(api.get("/v1/audit/changes", params={"limit": 1000}))["cursor"]

    body = api.ok(api.get("/v1/audit/changes", params={"after": cursor}))

    assert body["events"] == []
    assert body["cursor"] == cursor


@pytest.mark.parametrize("role", [KeyRole.GATEWAY, KeyRole.DEVELOPER, KeyRole.REVIEWER])
@pytest.mark.parametrize(
    "path", ["/v1/audit/changes", "/v1/audit/export", "/v1/audit/history/actor/ops"]
)
def test_only_auditors_and_admins_read_the_audit_trail(
    api: Api, world: World, role: KeyRole, path: str
) -> None:
    key = api.key(role, "dev_dana" if role is KeyRole.DEVELOPER else None)

    response = api.get(path, key)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "api_key_role"


def test_filters_combine_app_and_event_type(api: Api, world: World) -> None:
    _log_length(api)

    body = api.ok(
        api.get(
            "/v1/audit/changes",
            params={
                "app": world.app.client_id,
                "event_type": ["AccessToken.Issued", "App.Registered"],
            },
        )
    )

    assert [e["event_type"] for e in body["events"]] == ["App.Registered", "AccessToken.Issued"]
    assert {e["subjects"]["app_id"] for e in body["events"]} == {world.app.client_id}


def test_an_unknown_cursor_is_refused_with_a_clear_error(api: Api) -> None:
    response = api.get("/v1/audit/changes", params={"after": "not-a-cursor"})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_cursor"


def test_a_page_over_the_maximum_is_refused(api: Api) -> None:
    assert api.get("/v1/audit/changes", params={"limit": 1001}).status_code == 422


def test_long_poll_answers_a_new_event_before_its_timeout(api: Api, world: World) -> None:
    _log_length(api)
    cursor = api.ok(api.get("/v1/audit/changes", params={"limit": 1000}))["cursor"]
    timer = threading.Timer(0.3, lambda: api.user("bob"))
    timer.start()
    started = time.monotonic()

    body = api.ok(api.get("/v1/audit/changes", params={"after": cursor, "wait": 10}))

    timer.join()
    assert [e["event_type"] for e in body["events"]] == ["User.Registered"]
    assert time.monotonic() - started < 5


def test_history_of_a_user_shows_actor_role_and_reason(api: Api, world: World) -> None:
    _log_length(api)

    events = api.ok(api.get("/v1/audit/history/user/alice"))["events"]

    assert events[0]["event_type"] == "User.Registered"
    assert (events[0]["actor"], events[0]["role"]) == ("ops", "platform")
    assert all({"actor", "role", "reason"} <= set(e) for e in events)


def test_a_jsonl_export_streams_one_row_per_event(api: Api, world: World) -> None:
    auditor = api.key(KeyRole.AUDITOR)
    total = _log_length(api)

    response = api.get("/v1/audit/export", auditor, params={"format": "jsonl"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert [r["position"] for r in rows] == list(range(1, total + 1))


def test_a_csv_export_has_a_header_row_then_one_row_per_event(api: Api, world: World) -> None:
    total = _log_length(api)

    response = api.get("/v1/audit/export", params={"format": "csv"})

    assert response.text.splitlines()[0].startswith("position,cursor,time,event_type")
    assert len(list(csv.DictReader(io.StringIO(response.text)))) == total


def test_an_ocsf_export_has_the_required_class_attributes(api: Api, world: World) -> None:
    total = _log_length(api)

    rows = [
        json.loads(line)
        for line in api.get("/v1/audit/export", params={"format": "ocsf"}).text.splitlines()
    ]

    assert len(rows) == total
    for row in rows:
        assert row["type_uid"] == row["class_uid"] * 100 + row["activity_id"]
        assert row["metadata"]["product"]["name"] == "token-ledger"


def test_an_export_resumes_from_a_cursor(api: Api, world: World) -> None:
    _log_length(api)
    rows = api.get("/v1/audit/export").text.splitlines()

    resumed = api.get(
        "/v1/audit/export", params={"after": json.loads(rows[4])["cursor"]}
    ).text.splitlines()

    assert resumed == rows[5:]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "ocsf"])
def test_no_exported_row_holds_a_secret_token_or_code(api: Api, world: World, fmt: str) -> None:
    _log_length(api)

    text = api.get("/v1/audit/export", params={"format": fmt}).text

    assert world.app.client_secret not in text
    assert world.token.access_token not in text
    assert "secret_digest" not in text
