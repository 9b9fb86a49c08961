"""The audit trail in the running ledger (SQLite and PostgreSQL): the projector keeps the log's
Merkle tree level, a rebuild leaves it and its checkpoints alone, checkpoints are signed with the
configured key (on demand and on a schedule), and ``ledger audit verify`` finds an event edited
behind the ledger's back."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from domain.errors import CheckpointSigningDisabledError
from infrastructure.audit import checkpoints as cp
from infrastructure.audit.trail import AuditConfig
from infrastructure.read_model.projector import ProjectorRunner, rebuild
from infrastructure.runtime import Runtime, open_runtime_on
from tests.conftest import TEST_SECRET_KEY
from tests.support.clock import Clock
from tests.support.ledger_setup import register_user

ORIGIN = "ledger.test/log"
SIGNER_TEXT, VERIFIER_TEXT = cp.generate_key("test-2026", bytes(range(32)))
OLD_SIGNER_TEXT, OLD_VERIFIER_TEXT = cp.generate_key("test-2025", bytes(range(1, 33)))
CONFIG = AuditConfig(ORIGIN, cp.parse_signer_key(SIGNER_TEXT), (), interval=3600)


def open_audited(env: dict[str, str], clock: Clock, config: AuditConfig = CONFIG) -> Runtime:
    return open_runtime_on(
        env, secret_key=TEST_SECRET_KEY, clock=clock, run_projector=False, audit=config
    )


@pytest.fixture
def audited(ledger_env: dict[str, str], clock: Clock) -> Iterator[Runtime]:
    """A runtime whose trail signs with the test key (no projector thread)."""
    runtime = open_audited(ledger_env, clock)
    try:
        yield runtime
    finally:
        runtime.close()


def write_users(runtime: Runtime, *names: str) -> None:
    for name in names:
        register_user(runtime.ledger, name)


def tree_size(runtime: Runtime) -> int:
    return runtime.audit.verify().tree_size


def test_projector_extends_the_tree_with_every_event_it_projects(audited: Runtime) -> None:
    write_users(audited, "ann", "bob", "cyd")
    audited.projector.catch_up()

    report = audited.audit.verify()
    assert (report.intact, report.intact_through, report.uncovered_events) == (
        True,
        audited.ledger.position(),
        0,
    )
    assert report.tree_size == audited.ledger.position()


def test_events_not_projected_yet_are_reported_uncovered_not_judged(audited: Runtime) -> None:
    write_users(audited, "ann")
    audited.projector.catch_up()
    covered = audited.ledger.position()
    write_users(audited, "bob")

    report = audited.audit.verify()
    assert (report.intact, report.intact_through) == (True, covered)
    assert report.uncovered_events == audited.ledger.position() - covered


def test_tree_behind_the_log_is_extended_from_where_it_is(audited: Runtime) -> None:
    trail = audited.projector.audit
    audited.projector.audit = None  # as if the tree came later than the read models
    write_users(audited, "ann", "bob")
    audited.projector.catch_up()
    audited.projector.audit = trail
    write_users(audited, "cyd")

    audited.projector.catch_up()

    report = audited.audit.verify()
    assert (report.intact, report.tree_size) == (True, audited.ledger.position())


def test_rebuild_keeps_the_tree_and_its_checkpoints(audited: Runtime) -> None:
    write_users(audited, "ann", "bob")
    audited.projector.catch_up()
    signed = audited.audit.checkpoint()

    rebuild(audited.projector)

    assert audited.audit.checkpoints() == [signed]
    report = audited.audit.verify()
    assert (report.intact, report.tree_size, report.checkpoints_verified) == (
        True,
        audited.ledger.position(),
        1,
    )
    assert report.signed_through == audited.ledger.position()


def test_checkpoint_is_signed_and_verifies_with_the_verifier_key(audited: Runtime) -> None:
    write_users(audited, "ann", "bob")
    audited.projector.catch_up()

    stored = audited.audit.checkpoint()

    verified = cp.verify_checkpoint(stored.note, [cp.parse_verifier_key(VERIFIER_TEXT)], ORIGIN)
    assert verified.signed_by == ("test-2026",)
    assert (verified.checkpoint.size, verified.checkpoint.root_hash) == (
        audited.ledger.position(),
        stored.root_hash,
    )


def test_checkpoint_covers_events_the_projector_has_not_reached(audited: Runtime) -> None:
    write_users(audited, "ann", "bob")

    stored = audited.audit.checkpoint()

    assert stored.size == audited.ledger.position()


def test_checkpoint_without_a_signer_key_is_refused(
    ledger_env: dict[str, str], clock: Clock
) -> None:
    runtime = open_audited(ledger_env, clock, AuditConfig(ORIGIN))
    try:
        write_users(runtime, "ann")
        with pytest.raises(CheckpointSigningDisabledError):
            runtime.audit.checkpoint()
        assert runtime.audit.checkpoints() == []
    finally:
        runtime.close()


def test_checkpoint_is_due_once_the_tree_grew_and_the_interval_passed(
    audited: Runtime, clock: Clock
) -> None:
    write_users(audited, "ann")
    audited.projector.catch_up()
    first = audited.audit.checkpoint_if_due()  # none yet: due at once
    write_users(audited, "bob")
    audited.projector.catch_up()
    too_soon = audited.audit.checkpoint_if_due()
    clock.advance(3600)
    second = audited.audit.checkpoint_if_due()
    unchanged = audited.audit.checkpoint_if_due()

    assert first is not None
    assert second is not None
    assert (too_soon, unchanged) == (None, None)
    assert [c.size for c in audited.audit.checkpoints()] == [first.size, second.size]
    assert second.size == audited.ledger.position() > first.size


def test_running_projector_extends_the_tree_and_signs_a_checkpoint(audited: Runtime) -> None:
    write_users(audited, "ann", "bob")
    runner = ProjectorRunner(audited.projector).start()
    try:
        deadline = time.monotonic() + 10
        while not audited.audit.checkpoints() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        runner.stop()

    assert [c.size for c in audited.audit.checkpoints()] == [audited.ledger.position()]


def test_checkpoints_of_a_retired_key_still_verify_after_rotation(
    ledger_env: dict[str, str], clock: Clock
) -> None:
    old = AuditConfig(ORIGIN, cp.parse_signer_key(OLD_SIGNER_TEXT))
    runtime = open_audited(ledger_env, clock, old)
    try:
        write_users(runtime, "ann")
        runtime.audit.checkpoint()
    finally:
        runtime.close()
    rotated = AuditConfig(
        ORIGIN, cp.parse_signer_key(SIGNER_TEXT), (cp.parse_verifier_key(OLD_VERIFIER_TEXT),)
    )
    runtime = open_audited(ledger_env, clock, rotated)
    try:
        write_users(runtime, "bob")
        runtime.audit.checkpoint()
        report = runtime.audit.verify()
    finally:
        runtime.close()

    assert (report.intact, report.checkpoints_verified) == (True, 2)


# --- `ledger audit verify` and `ledger audit checkpoint` -------------------------------------


@pytest.fixture
def cli_env(ledger_env: dict[str, str], request: pytest.FixtureRequest) -> dict[str, str]:
    """LEDGER_* settings naming the test's store (development: its derived signer key)."""
    env = {"LEDGER_ENVIRONMENT": "development", "LEDGER_CHECKPOINT_ORIGIN": ORIGIN}
    if ledger_env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        env["LEDGER_SQLITE_PATH"] = ledger_env["SQLITE_DBNAME"]
    else:
        env["LEDGER_DATABASE_URL"] = request.getfixturevalue("postgres_url")
        env["LEDGER_POSTGRES_SCHEMA"] = ledger_env["POSTGRES_SCHEMA"]
    return env


def update_state(
    runtime: Runtime, ledger_env: dict[str, str], position: int, request: pytest.FixtureRequest
) -> None:
    """Edit a stored event's state with SQL, behind the ledger's back."""
    table = runtime.ledger.recorder.events_table_name  # type: ignore[attr-defined]
    forged = b'{"forged": true}'
    conn: Any
    if ledger_env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        conn = sqlite3.connect(ledger_env["SQLITE_DBNAME"])
        conn.execute(f'UPDATE "{table}" SET state = ? WHERE rowid = ?', (forged, position))  # noqa: S608
    else:
        import psycopg

        conn = psycopg.connect(request.getfixturevalue("postgres_url"))
        name = f'"{ledger_env["POSTGRES_SCHEMA"]}"."{table}"'
        conn.execute(
            f"UPDATE {name} SET state = %s WHERE notification_id = %s",  # noqa: S608
            (forged, position),
        )
    conn.commit()
    conn.close()


def run_cli(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}


def test_audit_verify_command_reports_an_untouched_log_intact(
    audited: Runtime, cli_env: dict[str, str]
) -> None:
    write_users(audited, "ann", "bob", "cyd")
    audited.projector.catch_up()
    assert run_cli(cli_env, "audit", "checkpoint")[0] == 0

    code, report = run_cli(cli_env, "audit", "verify")

    assert code == 0
    assert (report["finding"], report["intact_through"], report["checkpoints_verified"]) == (
        "intact",
        audited.ledger.position(),
        1,
    )


def test_audit_verify_command_reports_an_event_edited_in_sql_as_altered_there(
    audited: Runtime,
    cli_env: dict[str, str],
    ledger_env: dict[str, str],
    request: pytest.FixtureRequest,
) -> None:
    write_users(audited, "ann", "bob", "cyd")
    audited.projector.catch_up()
    assert run_cli(cli_env, "audit", "checkpoint")[0] == 0
    update_state(audited, ledger_env, 3, request)

    code, report = run_cli(cli_env, "audit", "verify")

    assert code == 1
    assert (report["finding"], report["first_bad_position"], report["intact_through"]) == (
        "altered",
        3,
        2,
    )


def test_audit_keygen_command_prints_a_signer_key_and_its_verifier_key() -> None:
    result = CliRunner().invoke(cli, ["audit", "keygen", "--name", "ops-2026"])

    signer_line, verifier_line = result.stdout.splitlines()
    signer = cp.parse_signer_key(signer_line.removeprefix("LEDGER_CHECKPOINT_SIGNER_KEY="))
    assert str(signer.verifier()) == verifier_line.removeprefix("verifier key: ")
    assert signer.name == "ops-2026"
