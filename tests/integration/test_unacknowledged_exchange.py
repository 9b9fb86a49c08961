"""A code exchange whose commit landed although the store did not say so (the connection broke
after the commit, or the store's retry of a landed insert met the write itself) answers its
token: the exchange's re-run recognises its own write, and takes it for no replay."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from eventsourcing.persistence import IntegrityError, OperationalError

from tests.support.ledger_setup import (
    SandboxSetup,
    authorize,
    exchange,
    sandbox_app_with_user,
    stored_notifications,
)

if TYPE_CHECKING:
    from application.ledger import Ledger


@pytest.fixture
def sandbox(ledger: Ledger) -> SandboxSetup:
    return sandbox_app_with_user(ledger)


@pytest.fixture
def code(ledger: Ledger, sandbox: SandboxSetup) -> str:
    result = authorize(ledger, sandbox.app.client_id, "alice", scope="basic comments")
    assert result.code is not None
    return result.code


def commit_then_fail_once(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, error: Callable[[], Exception]
) -> None:
    """The ledger's store commits its next write, then raises ``error`` as if the
    acknowledgement had been lost; the real store underneath, the writes after it untouched."""
    recorder = ledger.recorder
    insert = recorder.insert_events
    failed: list[bool] = []

    def insert_then_fail(*args: Any, **kwargs: Any) -> Any:
        result = insert(*args, **kwargs)
        if not failed:
            failed.append(True)
            raise error()
        return result

    monkeypatch.setattr(recorder, "insert_events", insert_then_fail)


def replays_recorded(ledger: Ledger) -> list[str]:
    return [n.topic for n in stored_notifications(ledger) if n.topic.endswith("CodeReplayed")]


@pytest.mark.parametrize(
    "lost_acknowledgement",
    [
        pytest.param(lambda: IntegrityError("duplicate key"), id="retried-insert-conflicts"),
        pytest.param(
            lambda: OperationalError("server closed the connection"),
            id="connection-broke-after-commit",
        ),
    ],
)
def test_an_exchange_whose_commit_was_not_acknowledged_answers_its_active_token(
    ledger: Ledger,
    sandbox: SandboxSetup,
    code: str,
    monkeypatch: pytest.MonkeyPatch,
    lost_acknowledgement: Callable[[], Exception],
) -> None:
    commit_then_fail_once(ledger, monkeypatch, lost_acknowledgement)

    issued = exchange(ledger, sandbox.app, code)

    token = ledger.token(issued.access_token)
    assert token.id == issued.token_id
    assert token.active
    assert issued.position >= ledger.position() > 0
    assert replays_recorded(ledger) == []


def test_an_exchange_whose_commit_was_not_acknowledged_writes_one_token(
    ledger: Ledger, sandbox: SandboxSetup, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    commit_then_fail_once(ledger, monkeypatch, lambda: IntegrityError("duplicate key"))

    exchange(ledger, sandbox.app, code)

    issued = [n.topic for n in stored_notifications(ledger) if n.topic.endswith("Token.Issued")]
    assert len(issued) == 1
