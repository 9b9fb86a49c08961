"""Signed-out sessions, over SQLite and PostgreSQL: recorded by keyed digest, seen by every
process, kept through a read-model rebuild, and forgotten once their cookies have expired."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from domain.credentials import SecretHasher
from infrastructure.ended_sessions import TABLE, EndedSessions
from infrastructure.read_model.database import Database
from infrastructure.read_model.projector import rebuild
from infrastructure.read_model.schema import READ_MODEL_TABLES
from tests.conftest import TEST_SECRET_KEY

if TYPE_CHECKING:
    from infrastructure.runtime import Runtime

NOW = 1_800_000_000
HOUR = 3600


@contextmanager
def other_process(ledger_env: dict[str, str]) -> Iterator[EndedSessions]:
    """The ended sessions as another service process on the same store opens them."""
    db = Database.from_env(ledger_env)
    try:
        ended = EndedSessions(db, SecretHasher(TEST_SECRET_KEY))
        ended.create_table()
        yield ended
    finally:
        db.close()


def test_a_session_never_signed_out_has_not_ended(runtime: Runtime) -> None:
    runtime.ended_sessions.end("nonce-a", NOW + HOUR, NOW)

    assert not runtime.ended_sessions.has_ended("nonce-b")


def test_a_session_ended_by_one_process_has_ended_for_another(
    runtime: Runtime, ledger_env: dict[str, str]
) -> None:
    with other_process(ledger_env) as elsewhere:
        elsewhere.end("nonce-a", NOW + HOUR, NOW)

    assert runtime.ended_sessions.has_ended("nonce-a")


def test_ending_a_session_twice_keeps_it_ended(runtime: Runtime) -> None:
    runtime.ended_sessions.end("nonce-a", NOW + HOUR, NOW)

    runtime.ended_sessions.end("nonce-a", NOW + HOUR, NOW + 60)

    assert runtime.ended_sessions.has_ended("nonce-a")


def test_a_record_is_forgotten_once_its_cookie_has_expired(runtime: Runtime) -> None:
    runtime.ended_sessions.end("nonce-a", NOW + HOUR, NOW)

    runtime.ended_sessions.end("nonce-b", NOW + 2 * HOUR, NOW + HOUR)

    assert not runtime.ended_sessions.has_ended("nonce-a")
    assert runtime.ended_sessions.has_ended("nonce-b")
    assert len(runtime.db.query(f"SELECT * FROM {TABLE}")) == 1  # noqa: S608


def test_records_are_keyed_by_a_keyed_digest_never_the_nonce(runtime: Runtime) -> None:
    runtime.ended_sessions.end("nonce-a", NOW + HOUR, NOW)

    [row] = runtime.db.query(f"SELECT * FROM {TABLE}")  # noqa: S608

    assert row[0] == runtime.ledger.hasher.digest("oauth-session:nonce-a")
    assert "nonce-a" not in " ".join(str(value) for value in row)


def test_rebuilding_the_read_models_keeps_the_ended_sessions(runtime: Runtime) -> None:
    runtime.ended_sessions.end("nonce-a", NOW + HOUR, NOW)

    rebuild(runtime.projector)

    assert TABLE not in READ_MODEL_TABLES
    assert runtime.ended_sessions.has_ended("nonce-a")
