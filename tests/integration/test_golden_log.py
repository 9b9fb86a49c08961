"""Stored events stay readable: the committed golden log replays on today's code, on both stores.

``tests/golden/golden_log.jsonl`` holds stored events of every event type, in the stored form
(written once by ``tests/golden/make_golden_log.py``, never by these tests). Each test writes
those rows into an empty store with the recorder's raw insert, so what is read is yesterday's
bytes, not what today's domain would write. A moved module, a renamed event class or a renamed
event parameter fails here, before it fails on a production log (map an old topic with
``eventsourcing.utils.register_topic``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.utils import resolve_topic

from domain.actors import Actor
from domain.errors import TokenStateError
from infrastructure.read_model.checksum import checksum
from infrastructure.runtime import Runtime, open_runtime_on
from tests.golden.golden_log import (
    GOLDEN_SECRET_KEY,
    event_classes,
    insert_rows,
    read_expected,
    read_rows,
    summary,
)
from tests.support.clock import Clock

ROWS = read_rows()
EXPECTED = read_expected()


@pytest.fixture
def golden(ledger_env: dict[str, str]) -> Iterator[Runtime]:
    """The ledger and its read models on a store holding the golden rows, and nothing else; its
    clock an hour past the golden log's last command."""
    clock = Clock(datetime.fromisoformat(EXPECTED["clock"]) + timedelta(hours=1))
    runtime = open_runtime_on(
        ledger_env, secret_key=GOLDEN_SECRET_KEY, clock=clock, run_projector=False
    )
    try:
        ids = insert_rows(runtime.ledger.recorder, ROWS)
        assert ids == [row.notification_id for row in ROWS], "the rows moved in the log"
        yield runtime
    finally:
        runtime.close()


def _events(runtime: Runtime) -> list[Any]:
    notifications = runtime.ledger.recorder.select_notifications(start=1, limit=len(ROWS) + 1)
    return [runtime.ledger.mapper.to_domain_event(n) for n in notifications]


def test_the_golden_rows_keep_their_log_positions_in_an_empty_store(golden: Runtime) -> None:
    assert golden.ledger.position() == ROWS[-1].notification_id == EXPECTED["events"]


def test_every_golden_event_decodes_to_an_event_of_its_aggregate(golden: Runtime) -> None:
    events = _events(golden)

    assert [(e.originator_id, e.originator_version) for e in events] == [
        (row.originator_id, row.originator_version) for row in ROWS
    ]
    known = set(event_classes())
    assert [type(e).__qualname__ for e in events if type(e) not in known] == []


def test_every_golden_aggregate_replays_to_its_expected_state(golden: Runtime) -> None:
    replayed = {
        key: summary(golden.ledger.repository.get(UUID(key))) for key in EXPECTED["aggregates"]
    }

    assert replayed == EXPECTED["aggregates"]
    assert {str(row.originator_id) for row in ROWS} == set(EXPECTED["aggregates"])


def test_projecting_the_golden_log_gives_its_recorded_read_models(golden: Runtime) -> None:
    golden.projector.catch_up()

    assert checksum(golden.db) == EXPECTED["read_model_checksum"]


def test_a_token_of_the_golden_log_can_be_revoked_on_top_of_it(golden: Runtime) -> None:
    token_id = UUID(EXPECTED["names"]["token_active"])

    written = golden.ledger.revoke_token(
        Actor.platform("ops"), token_id=token_id, reason="revoked after the golden log"
    )

    assert written.position == EXPECTED["events"] + 1
    assert golden.ledger.token_by_id(token_id).revoked
    with pytest.raises(TokenStateError):
        golden.ledger.revoke_token(Actor.platform("ops"), token_id=token_id, reason="again")


def test_an_app_of_the_golden_log_issues_a_token_to_its_sandbox_user(golden: Runtime) -> None:
    """Bob deauthorized the app in the golden log: a new consent and a code exchange, with the
    client secret derived from the stored nonce, work on the replayed grant."""
    client_id = EXPECTED["names"]["app_printer"]
    ledger = golden.ledger
    code = ledger.authorize(
        client_id=client_id,
        username="bob",
        redirect_uri="https://printer.example/callback",
        scope="basic",
    ).code

    issued = ledger.exchange_code(
        client_id=client_id,
        client_secret=ledger.client_signing_secret(client_id),
        redirect_uri="https://printer.example/callback",
        code=code,
    )

    assert issued.scopes == ("basic",)
    assert issued.user.username == "bob"
    assert ledger.token_by_id(issued.token_id).active


def test_every_event_class_in_the_code_has_a_row_in_the_golden_log() -> None:
    """A new event type needs golden rows (``python -m tests.golden.make_golden_log``, which
    appends a chapter): until then nothing proves that its stored form stays readable."""
    stored = {resolve_topic(row.topic) for row in ROWS}

    missing = [f"{c.__module__}:{c.__qualname__}" for c in event_classes() if c not in stored]

    assert missing == []
