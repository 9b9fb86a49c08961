"""The audit trail over both stores: the change feed's cursor paging, filters and long poll,
histories, and exports (JSON Lines, CSV, OCSF) that stream, resume and never show a secret."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from application.results import ClientRegistered, TokenIssued
from domain.actors import Actor
from domain.errors import InvalidCursorError, InvalidInputError
from domain.identity import app_id_from_client_id, grant_id, user_id
from domain.merkle import event_leaf, hash_leaf
from infrastructure.audit.exports import WRITERS, ocsf_event
from infrastructure.audit.feed import AuditFeed, AuditFilter, decode_cursor, encode_cursor
from infrastructure.read_model.checksum import checksum
from infrastructure.read_model.projector import rebuild
from tests.support.ledger_setup import (
    PLATFORM,
    approve_and_go_live,
    authorize,
    exchange,
    register_app,
    register_user,
)

if TYPE_CHECKING:
    from infrastructure.runtime import Runtime
    from tests.support.clock import Clock


@dataclass
class History:
    """A small ledger history with every kind of subject, and the secrets it handed out."""

    app: ClientRegistered
    token: TokenIssued
    code: str
    review_id: str
    secrets: list[str]


def _history(runtime: Runtime, clock: Clock) -> History:
    ledger = runtime.ledger
    app = register_app(ledger, "dev_owner")
    register_user(ledger, "alice")
    ledger.set_user_password("alice", "$argon2id$v=19$not-a-real-hash", Actor.user("alice"))
    approve_and_go_live(ledger, app.client_id, "dev_owner", ("basic",))
    code = authorize(ledger, app.client_id, "alice", "basic").code
    assert code is not None
    token = exchange(ledger, app, code)
    ledger.revoke_token(PLATFORM, token_id=token.token_id, reason="leaked in a log")
    runtime.projector.catch_up()
    review_id = next(
        e
        for e in AuditFeed(runtime.read_model).page(0, limit=1000).events
        if e.event_type == "Review.Submitted"
    ).aggregate_id
    return History(app, token, code, review_id, [app.client_secret, token.access_token, code])


@pytest.fixture
def history(runtime: Runtime, clock: Clock) -> History:
    return _history(runtime, clock)


@pytest.fixture
def feed(runtime: Runtime) -> AuditFeed:
    return AuditFeed(runtime.read_model)


def _all_pages(feed: AuditFeed, limit: int, filters: AuditFilter | None = None) -> list[int]:
    positions: list[int] = []
    cursor = encode_cursor(0)
    while True:
        page = feed.page(decode_cursor(cursor), filters, limit)
        if page.caught_up:
            return positions
        positions += [e.position for e in page.events]
        cursor = page.cursor


def test_cursor_paging_covers_every_event_exactly_once_in_log_order(
    runtime: Runtime, history: History, feed: AuditFeed
) -> None:
    log = [n.id for n in runtime.ledger.recorder.select_notifications(start=1, limit=10_000)]

    assert _all_pages(feed, 3) == log
    assert len(log) > 3 * 3  # several pages


def test_a_caught_up_feed_answers_the_same_cursor(history: History, feed: AuditFeed) -> None:
    last = feed.page(0, limit=1000).cursor

    page = feed.page(decode_cursor(last), limit=100)

    assert page.events == []
    assert page.cursor == last


def test_a_cursor_not_handed_out_is_refused(feed: AuditFeed) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor("p:12")


def test_a_page_larger_than_the_maximum_is_refused(feed: AuditFeed) -> None:
    with pytest.raises(InvalidInputError, match="limit"):
        feed.page(0, limit=1001)


def test_each_event_carries_its_merkle_leaf_hash(
    runtime: Runtime, history: History, feed: AuditFeed
) -> None:
    stored = runtime.ledger.recorder.select_notifications(start=1, limit=10_000)
    expected = {
        n.id: hash_leaf(
            event_leaf(n.id, n.originator_id, n.originator_version, n.topic, n.state)
        ).hex()
        for n in stored
    }

    assert {e.position: e.leaf_hash for e in feed.page(0, limit=1000).events} == expected


def test_filter_by_app_answers_the_apps_events_and_its_grants_and_tokens(
    history: History, feed: AuditFeed
) -> None:
    types = {
        e.event_type for e in feed.page(0, AuditFilter(app=history.app.client_id), 1000).events
    }

    assert {
        "App.Registered",
        "App.ModeChanged",
        "Review.Submitted",
        "Grant.Created",
        "AccessToken.Issued",
        "AccessToken.Revoked",
    } <= types
    assert "User.Registered" not in types


def test_filter_by_username_answers_the_users_events(history: History, feed: AuditFeed) -> None:
    events = feed.page(0, AuditFilter(user="alice"), 1000).events

    assert {
        "User.Registered",
        "User.PasswordSet",
        "Grant.ScopesGranted",
        "AccessToken.Revoked",
    } <= {e.event_type for e in events}
    assert all(e.user_id == events[0].user_id for e in events)


def test_filter_by_token_answers_its_issue_and_revocation(
    history: History, feed: AuditFeed
) -> None:
    events = feed.page(0, AuditFilter(token=str(history.token.token_id)), 1000).events

    assert [e.event_type for e in events] == [
        "AccessToken.Issued",
        "Grant.TokenIssued",
        "AccessToken.Revoked",
    ]
    assert events[-1].reason == "leaked in a log"


def test_filter_by_review_answers_the_review_and_the_apps_approval(
    history: History, feed: AuditFeed
) -> None:
    types = [e.event_type for e in feed.page(0, AuditFilter(review=history.review_id), 1000).events]

    assert types[0] == "Review.Submitted"
    assert {"Review.PermissionApproved", "App.PermissionApproved"} <= set(types)


def test_filter_by_grant_answers_the_grants_and_its_tokens_events(
    history: History, feed: AuditFeed
) -> None:
    app_id = app_id_from_client_id(history.app.client_id)
    assert app_id is not None
    grant = grant_id(user_id("alice"), app_id).hex
    types = [e.event_type for e in feed.page(0, AuditFilter(grant=grant), 1000).events]

    assert types[0] == "Grant.Created"
    assert {"Grant.ScopesGranted", "AccessToken.Issued", "AccessToken.Revoked"} <= set(types)


def test_filter_by_actor_answers_only_that_actors_events(history: History, feed: AuditFeed) -> None:
    events = feed.page(0, AuditFilter(actor="reviewer"), 1000).events

    assert events
    assert {e.actor for e in events} == {"reviewer"}
    assert {e.role for e in events} == {"reviewer"}


def test_filter_by_event_type_answers_only_those_types(history: History, feed: AuditFeed) -> None:
    events = feed.page(
        0, AuditFilter(event_types=("User.Registered", "App.Registered")), 1000
    ).events

    assert sorted(e.event_type for e in events) == [
        "App.Registered",
        "User.Registered",
        "User.Registered",
    ]


def test_filter_by_time_range_answers_the_events_between(
    history: History, feed: AuditFeed, clock: Clock
) -> None:
    everything = feed.page(0, limit=1000).events
    middle = everything[len(everything) // 2].at

    since = feed.page(0, AuditFilter(since=middle), 1000).events
    before = feed.page(0, AuditFilter(until=middle), 1000).events

    assert since
    assert all(e.at >= middle for e in since)
    assert before
    assert all(e.at < middle for e in before)
    assert before + since == everything


def test_long_poll_wakes_on_a_new_event_before_the_timeout(
    runtime: Runtime, history: History, feed: AuditFeed
) -> None:
    cursor = feed.page(0, limit=1000).cursor

    def write_later() -> None:
        time.sleep(0.3)
        register_user(runtime.ledger, "bob")
        runtime.projector.catch_up()

    writer = threading.Thread(target=write_later)
    writer.start()
    started = time.monotonic()
    page = feed.wait_page(decode_cursor(cursor), limit=100, wait=10)
    waited = time.monotonic() - started
    writer.join()

    assert [e.event_type for e in page.events] == ["User.Registered"]
    assert waited < 5


def test_long_poll_answers_the_same_cursor_when_nothing_comes(
    history: History, feed: AuditFeed
) -> None:
    cursor = feed.page(0, limit=1000).cursor

    page = feed.wait_page(decode_cursor(cursor), limit=100, wait=0.2)

    assert page.cursor == cursor
    assert page.caught_up


def test_history_of_a_token_answers_its_events_with_actor_role_and_reason(
    history: History, feed: AuditFeed
) -> None:
    events = feed.history("token", history.token.token_id.hex).events

    revoked = events[-1]
    assert (revoked.event_type, revoked.actor, revoked.role, revoked.reason) == (
        "AccessToken.Revoked",
        "ops",
        "platform",
        "leaked in a log",
    )


def test_history_of_an_unknown_kind_is_refused(feed: AuditFeed) -> None:
    with pytest.raises(InvalidInputError, match="kinds"):
        feed.history("scope", "basic")


def test_history_pages_resume_from_their_cursor(history: History, feed: AuditFeed) -> None:
    whole = [e.position for e in feed.history("app", history.app.client_id, 0, 1000).events]

    first = feed.history("app", history.app.client_id, 0, 2)
    rest = feed.history("app", history.app.client_id, decode_cursor(first.cursor), 1000)

    assert [e.position for e in first.events + rest.events] == whole


def _export(feed: AuditFeed, fmt: str, after: int = 0) -> str:
    return "".join(WRITERS[fmt](feed.iterate(after, page_size=7)))


@pytest.mark.parametrize("fmt", ["jsonl", "ocsf"])
def test_a_json_lines_export_has_one_row_per_event_of_the_log(
    runtime: Runtime, history: History, feed: AuditFeed, fmt: str
) -> None:
    rows = [json.loads(line) for line in _export(feed, fmt).splitlines()]

    assert len(rows) == runtime.ledger.recorder.max_notification_id()


def test_a_csv_export_has_a_header_and_one_row_per_event(
    runtime: Runtime, history: History, feed: AuditFeed
) -> None:
    rows = list(csv.DictReader(io.StringIO(_export(feed, "csv"))))

    assert len(rows) == runtime.ledger.recorder.max_notification_id()
    assert rows[0]["position"] == "1"
    assert {"event_type", "actor", "role", "reason", "data", "leaf_hash"} <= set(rows[0])


def test_an_export_resumes_after_a_rows_cursor(history: History, feed: AuditFeed) -> None:
    rows = [json.loads(line) for line in _export(feed, "jsonl").splitlines()]

    resumed = [
        json.loads(line)
        for line in _export(feed, "jsonl", decode_cursor(rows[9]["cursor"])).splitlines()
    ]

    assert resumed == rows[10:]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "ocsf"])
def test_no_export_shows_a_secret_or_a_credential_digest(
    history: History, feed: AuditFeed, fmt: str
) -> None:
    text = _export(feed, fmt)

    for secret in history.secrets:
        assert secret not in text
    for field in ("secret_digest", "secret_nonce", "password_hash", "code_digest", '"digest"'):
        assert field not in text
    assert "argon2id" not in text


def test_every_ocsf_row_validates_against_the_published_schema_of_its_class(
    history: History, feed: AuditFeed
) -> None:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    ocsf_schemas = pytest.importorskip("ocsf_json_schema")
    published = ocsf_schemas.OcsfJsonSchemaEmbedded(ocsf_schemas.get_ocsf_schema("1.8.0"))
    validators = {}
    rows = [ocsf_event(e) for e in feed.iterate()]

    for row in rows:
        uid = row["class_uid"]
        if uid not in validators:
            name = published.lookup_class_name_from_uid(uid)
            validators[uid] = jsonschema_rs.validator_for(published.get_class_schema(name))
        errors = [str(e) for e in validators[uid].iter_errors(row)]
        assert errors == [], (row["metadata"]["event_code"], errors)
    assert set(validators) == {3001, 3004, 3005}


def test_a_rebuild_restores_the_audit_index_and_its_checksum(
    runtime: Runtime, history: History, feed: AuditFeed
) -> None:
    before = (checksum(runtime.db), feed.page(0, limit=1000).events)

    rebuild(runtime.projector)

    assert (checksum(runtime.db), feed.page(0, limit=1000).events) == before


def test_the_checksum_covers_the_audit_index(runtime: Runtime, history: History) -> None:
    before = checksum(runtime.db)
    with runtime.db.write_transaction() as cur:
        cur.execute("UPDATE rm_audit SET reason = 'tampered' WHERE position = 1")

    assert checksum(runtime.db) != before


def test_read_models_projected_before_the_audit_index_are_projected_again_with_it(
    runtime: Runtime, history: History, feed: AuditFeed
) -> None:
    from infrastructure.read_model.projector import Projector

    expected = feed.page(0, limit=1000).events
    with runtime.db.write_transaction() as cur:  # as a version without the index left them
        cur.execute("DROP TABLE rm_audit")

    projector = Projector(runtime.ledger.recorder, runtime.ledger.mapper, runtime.db)
    projector.catch_up()

    assert feed.page(0, limit=1000).events == expected
