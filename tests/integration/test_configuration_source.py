"""The settings are the one source of the store's configuration: the process environment's
``LEDGER_<KEY>`` variables, which the eventsourcing library would otherwise read for an
application named Ledger, redirect nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from application.ledger import Ledger
from infrastructure.persistence import postgres_env, sqlite_env
from tests.conftest import TEST_SECRET_KEY
from tests.support.clock import Clock
from tests.support.ledger_setup import register_user


def _username_read_back(env: dict[str, str], clock: Clock) -> str:
    reader = Ledger(env=env, secret_key=TEST_SECRET_KEY, clock=clock)
    try:
        return reader.user("alice").username
    finally:
        reader.close()


def test_a_stray_ledger_sqlite_dbname_in_the_environment_changes_nothing(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = sqlite_env(tmp_path / "configured.sqlite")
    stray = tmp_path / "stray.sqlite"
    monkeypatch.setenv("LEDGER_SQLITE_DBNAME", str(stray))

    writer = Ledger(env=env, secret_key=TEST_SECRET_KEY, clock=clock)
    try:
        register_user(writer, "alice")
    finally:
        writer.close()
    monkeypatch.delenv("LEDGER_SQLITE_DBNAME")

    assert _username_read_back(env, clock) == "alice"
    assert not stray.exists()


@pytest.fixture
def stray_schema(postgres_url: str) -> Iterator[str]:
    """A second, empty schema that a stray LEDGER_POSTGRES_SCHEMA could point at."""
    import psycopg
    from psycopg import sql

    name = f"stray_{uuid.uuid4().hex}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    yield name
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '10s'")
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


def _tables_in(postgres_url: str, schema: str) -> list[str]:
    import psycopg

    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,),
        ).fetchall()
    return [row[0] for row in rows]


@pytest.mark.postgres
def test_a_stray_ledger_postgres_schema_in_the_environment_changes_nothing(
    postgres_url: str,
    postgres_schema: str,
    stray_schema: str,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = postgres_env(postgres_url, schema=postgres_schema)
    monkeypatch.setenv("LEDGER_POSTGRES_SCHEMA", stray_schema)

    writer = Ledger(env=env, secret_key=TEST_SECRET_KEY, clock=clock)
    try:
        register_user(writer, "alice")
    finally:
        writer.close()
    monkeypatch.delenv("LEDGER_POSTGRES_SCHEMA")

    assert _username_read_back(env, clock) == "alice"
    assert _tables_in(postgres_url, stray_schema) == []
