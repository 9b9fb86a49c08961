"""Rows of a real event store (SQLite and PostgreSQL, written by the ledger) edited, deleted,
inserted and swapped with SQL behind the application's back: the audit names the first
changed position and what happened to it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from infrastructure.audit import checkpoints as cp
from infrastructure.audit.merkle_store import MerkleStore
from infrastructure.audit.verify import AuditReport, Finding, audit_store, iter_stored_events
from tests.support.ledger_setup import register_user

if TYPE_CHECKING:
    from application.ledger import Ledger

ORIGIN = "ledger.test/log"
SIGNER_TEXT, VERIFIER_TEXT = cp.generate_key(ORIGIN)
VERIFIERS = [cp.parse_verifier_key(VERIFIER_TEXT)]


@dataclass
class Log:
    """The raw event table behind a ledger, and the audit tree built over it."""

    conn: Any
    table: str
    schema: str | None
    store: MerkleStore
    sqlite: bool

    @property
    def name(self) -> str:
        return f'"{self.schema}"."{self.table}"' if self.schema else f'"{self.table}"'

    @property
    def position(self) -> str:
        return "rowid" if self.sqlite else "notification_id"

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> None:
        statement = statement.replace("{t}", self.name).replace("{pos}", self.position)
        if self.sqlite:
            statement = statement.replace("%s", "?")
        self.conn.cursor().execute(statement, params)
        self.conn.commit()

    def audit(self) -> AuditReport:
        events = iter_stored_events(self.conn, self.table, schema=self.schema)
        return audit_store(self.store, events, VERIFIERS, origin=ORIGIN)

    def positions(self) -> list[int]:
        return [e.position for e in iter_stored_events(self.conn, self.table, schema=self.schema)]


@pytest.fixture
def log(
    ledger: Ledger, ledger_env: dict[str, str], request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Log]:
    for i in range(5):
        register_user(ledger, f"user_{i}")
    table = ledger.recorder.events_table_name  # type: ignore[attr-defined]
    if ledger_env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        conn: Any = sqlite3.connect(ledger_env["SQLITE_DBNAME"])
        schema = None
    else:
        import psycopg

        conn = psycopg.connect(request.getfixturevalue("postgres_url"))
        schema = ledger_env["POSTGRES_SCHEMA"]
    tree_conn = sqlite3.connect(tmp_path / "audit.sqlite")
    store = MerkleStore(tree_conn)
    store.create_tables()
    the_log = Log(conn, table, schema, store, conn.__class__ is sqlite3.Connection)
    store.append(
        (e.position, e.leaf_hash()) for e in iter_stored_events(conn, table, schema=schema)
    )
    store.sign_and_store(ORIGIN, [cp.parse_signer_key(SIGNER_TEXT)], datetime.now(UTC))
    conn.commit()
    try:
        yield the_log
    finally:
        conn.close()
        tree_conn.close()


def test_untouched_store_is_intact_through_its_last_position(log: Log) -> None:
    report = log.audit()
    assert (report.finding, report.intact_through) == (Finding.INTACT, log.positions()[-1])
    assert report.tree_size >= 5


def test_edited_state_is_reported_as_altered(log: Log) -> None:
    log.execute("UPDATE {t} SET state = %s WHERE {pos} = %s", (b'{"forged": true}', 3))
    report = log.audit()
    assert (report.finding, report.first_bad_position, report.intact_through) == (
        Finding.ALTERED,
        3,
        2,
    )


def test_edited_topic_is_reported_as_altered(log: Log) -> None:
    log.execute("UPDATE {t} SET topic = %s WHERE {pos} = %s", ("domain.users:User.Deleted", 4))
    assert (log.audit().finding, log.audit().first_bad_position) == (Finding.ALTERED, 4)


def test_deleted_row_is_reported_as_removed(log: Log) -> None:
    log.execute("DELETE FROM {t} WHERE {pos} = %s", (3,))
    report = log.audit()
    assert (report.finding, report.first_bad_position) == (Finding.REMOVED, 3)


def test_deleted_last_row_is_reported_as_removed(log: Log) -> None:
    last = log.positions()[-1]
    log.execute("DELETE FROM {t} WHERE {pos} = %s", (last,))
    report = log.audit()
    assert (report.finding, report.first_bad_position) == (Finding.REMOVED, last)


def test_row_inserted_with_later_positions_renumbered_is_reported_as_inserted(log: Log) -> None:
    log.execute("UPDATE {t} SET {pos} = {pos} + 100000 WHERE {pos} >= %s", (3,))
    log.execute("UPDATE {t} SET {pos} = {pos} - 99999 WHERE {pos} >= %s", (100000,))
    log.execute(
        "INSERT INTO {t} (originator_id, originator_version, topic, state, {pos}) "
        "VALUES (%s, %s, %s, %s, %s)",
        (
            "00000000-0000-4000-8000-000000000001",
            1,
            "domain.users:User.Registered",
            b'{"username": "mallory"}',
            3,
        ),
    )
    report = log.audit()
    assert (report.finding, report.first_bad_position) == (Finding.INSERTED, 3)


def test_swapped_rows_are_reported_as_reordered(log: Log) -> None:
    log.execute("UPDATE {t} SET {pos} = %s WHERE {pos} = %s", (-1, 2))
    log.execute("UPDATE {t} SET {pos} = %s WHERE {pos} = %s", (2, 5))
    log.execute("UPDATE {t} SET {pos} = %s WHERE {pos} = %s", (5, -1))
    report = log.audit()
    assert (report.finding, report.first_bad_position) == (Finding.REORDERED, 2)


def test_row_and_tree_both_rewritten_are_caught_by_the_signed_checkpoint(
    log: Log, tmp_path: Path
) -> None:
    log.execute("UPDATE {t} SET state = %s WHERE {pos} = %s", (b'{"forged": true}', 3))
    # The forger rebuilds the tree over the altered log but cannot re-sign the checkpoint.
    forged_conn = sqlite3.connect(tmp_path / "forged.sqlite")
    forged = MerkleStore(forged_conn)
    forged.create_tables()
    forged.append(
        (e.position, e.leaf_hash())
        for e in iter_stored_events(log.conn, log.table, schema=log.schema)
    )
    for c in log.store.checkpoints():
        forged.add_checkpoint(c.size, c.root_hash, datetime.now(UTC), c.note)
    log.store = forged
    try:
        report = log.audit()
    finally:
        forged_conn.close()
    assert report.finding is Finding.TREE_ALTERED


def test_inclusion_proof_for_a_stored_event_verifies_stand_alone(log: Log) -> None:
    from infrastructure.audit.proof_verifier import inclusion_bundle, verify_bundle

    (checkpoint,) = log.store.checkpoints()
    row = list(iter_stored_events(log.conn, log.table, schema=log.schema))[3]
    index = log.store.index_of(row.position)
    assert index is not None
    bundle = inclusion_bundle(
        checkpoint.note,
        index,
        log.store.inclusion_proof(index, checkpoint.size),
        event=row.bundle_event(),
    )
    assert verify_bundle(bundle, VERIFIERS, ORIGIN).startswith(f"leaf {index} is in")


def test_consistency_proof_between_stored_checkpoints_verifies_after_new_events(
    log: Log, ledger: Ledger
) -> None:
    from infrastructure.audit.proof_verifier import consistency_bundle, verify_bundle
    from infrastructure.audit.verify import extend_tree

    register_user(ledger, "late_user")
    new_size = extend_tree(
        log.store,
        iter_stored_events(
            log.conn, log.table, schema=log.schema, after=log.store.last_position() or 0
        ),
    )
    log.store.sign_and_store(ORIGIN, [cp.parse_signer_key(SIGNER_TEXT)], datetime.now(UTC))
    old, new = log.store.checkpoints()
    assert new.size == new_size > old.size
    bundle = consistency_bundle(old.note, new.note, log.store.consistency_proof(old.size, new.size))
    assert verify_bundle(bundle, VERIFIERS, ORIGIN).startswith(f"tree size {old.size} is a prefix")
    assert log.audit().intact
