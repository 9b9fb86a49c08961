"""The `ledger audit` commands: changes (and --follow), history, export to a file."""

from __future__ import annotations

import csv
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from application.ledger import Ledger
from infrastructure.persistence import open_ledger
from infrastructure.settings import build_settings
from tests.support.ledger_setup import register_app, register_user


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ledger]:
    """A SQLite ledger the CLI opens through the LEDGER_* settings, with an app and a user."""
    monkeypatch.setenv("LEDGER_SQLITE_PATH", str(tmp_path / "cli.sqlite"))
    monkeypatch.delenv("LEDGER_DATABASE_URL", raising=False)
    monkeypatch.setenv("LEDGER_ENVIRONMENT", "development")
    ledger = open_ledger(build_settings())
    register_app(ledger, "dev_owner")
    register_user(ledger, "alice")
    try:
        yield ledger
    finally:
        ledger.close()


def _events(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_changes_prints_every_event_and_the_cursor_to_resume_from(ledger: Ledger) -> None:
    result = CliRunner().invoke(cli, ["audit", "changes", "--limit", "1000"])

    assert result.exit_code == 0, result.output
    events = _events(result.stdout)
    assert [e["position"] for e in events] == list(range(1, ledger.position() + 1))
    assert f"cursor: {events[-1]['cursor']}" in result.stderr


def test_changes_after_the_last_cursor_prints_nothing_and_the_same_cursor(
    ledger: Ledger,
) -> None:
    first = CliRunner().invoke(cli, ["audit", "changes", "--limit", "1000"])
    cursor = _events(first.stdout)[-1]["cursor"]

    again = CliRunner().invoke(cli, ["audit", "changes", "--after", str(cursor)])

    assert again.stdout == ""
    assert f"cursor: {cursor}" in again.stderr


def test_changes_follow_prints_an_event_written_while_it_waits(ledger: Ledger) -> None:
    first = CliRunner().invoke(cli, ["audit", "changes", "--limit", "1000"])
    cursor = str(_events(first.stdout)[-1]["cursor"])
    writer = threading.Timer(0.5, lambda: register_user(ledger, "bob"))
    writer.start()
    started = time.monotonic()

    result = CliRunner().invoke(
        cli, ["audit", "changes", "--after", cursor, "--follow", "--stop-after", "1"]
    )

    writer.join()
    assert result.exit_code == 0, result.output
    assert [e["event_type"] for e in _events(result.stdout)] == ["User.Registered"]
    assert time.monotonic() - started < 20


def test_changes_refuses_a_cursor_it_did_not_hand_out(ledger: Ledger) -> None:
    result = CliRunner().invoke(cli, ["audit", "changes", "--after", "garbage"])

    assert result.exit_code == 2
    assert "cursor" in result.stderr


def test_history_prints_a_users_events_with_actor_and_role(ledger: Ledger) -> None:
    result = CliRunner().invoke(cli, ["audit", "history", "user", "alice"])

    events = _events(result.stdout)
    assert [e["event_type"] for e in events] == ["User.Registered"]
    assert (events[0]["actor"], events[0]["role"]) == ("alice", "user")


def test_export_writes_a_csv_file_with_a_header_and_one_row_per_event(
    ledger: Ledger, tmp_path: Path
) -> None:
    target = tmp_path / "audit.csv"

    result = CliRunner().invoke(
        cli, ["audit", "export", "--format", "csv", "--output", str(target)]
    )

    assert result.exit_code == 0, result.output
    with target.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert [int(r["position"]) for r in rows] == list(range(1, ledger.position() + 1))


def test_export_resumes_after_a_cursor(ledger: Ledger) -> None:
    whole = _events(CliRunner().invoke(cli, ["audit", "export"]).stdout)

    resumed = CliRunner().invoke(
        cli, ["audit", "export", "--format", "ocsf", "--after", str(whole[2]["cursor"])]
    )

    assert [r["metadata"]["sequence"] for r in _events(resumed.stdout)] == [
        e["position"] for e in whole[3:]
    ]


def test_export_refuses_an_unknown_format(ledger: Ledger) -> None:
    result = CliRunner().invoke(cli, ["audit", "export", "--format", "xml"])

    assert result.exit_code == 2
    assert "jsonl, csv, ocsf" in result.stderr
