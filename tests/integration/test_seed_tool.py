"""The log generator is a development tool: the installed `ledger` cannot seed a real log."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from api.cli import app as ledger_cli
from tools.seed import seed


def test_the_installed_ledger_command_has_no_seed() -> None:
    result = CliRunner().invoke(ledger_cli, ["seed", "--events", "10"])

    assert result.exit_code == 2
    assert "No such command 'seed'" in result.output


def test_seed_tool_refuses_a_production_ledger_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "ledger.sqlite"
    monkeypatch.delenv("LEDGER_DATABASE_URL", raising=False)
    monkeypatch.setenv("LEDGER_SQLITE_PATH", str(store))
    monkeypatch.setenv("LEDGER_ENVIRONMENT", "production")
    monkeypatch.setenv("LEDGER_SECRET_KEY", "s" * 64)
    tool = typer.Typer()
    tool.command()(seed)

    result = CliRunner().invoke(tool, ["--events", "10"])

    assert result.exit_code == 2
    assert "refusing to seed a 'production' ledger" in result.output
    assert not store.exists()


def test_seed_tool_seeds_a_development_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEDGER_DATABASE_URL", raising=False)
    monkeypatch.setenv("LEDGER_SQLITE_PATH", str(tmp_path / "ledger.sqlite"))
    monkeypatch.setenv("LEDGER_ENVIRONMENT", "development")
    tool = typer.Typer()
    tool.command()(seed)

    result = CliRunner().invoke(tool, ["--events", "200", "--sample-tokens", "0"])

    assert result.exit_code == 0, result.output
    assert "appended" in result.output
