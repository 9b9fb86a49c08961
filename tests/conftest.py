"""Fixtures shared by every suite: the PostgreSQL server, the store env, the clock, the ledger.

Domain-specific fixtures belong in tests/integration/conftest.py.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from infrastructure.persistence import postgres_env, sqlite_env
from tests.faults.figures import pytest_terminal_summary  # noqa: F401 - the figures' summary
from tests.support.clock import Clock
from tests.support.postgres import throwaway_postgres

if TYPE_CHECKING:
    from application.ledger import Ledger
    from infrastructure.runtime import Runtime

TEST_SECRET_KEY = b"k" * 32


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a PostgreSQL server for the whole session.

    LEDGER_TEST_DATABASE_URL uses an existing server; otherwise a throwaway one is
    started from the installed binaries and removed at the end.
    """
    existing = os.environ.get("LEDGER_TEST_DATABASE_URL")
    if existing:
        yield existing
        return

    with throwaway_postgres() as server:
        yield server.url


@pytest.fixture
def postgres_schema(postgres_url: str) -> Iterator[str]:
    """A fresh, empty schema for one test on the session server, dropped afterwards."""
    import psycopg
    from psycopg import sql

    name = f"t_{uuid.uuid4().hex}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    yield name
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        # A connection a test forgot to close must not hang the whole run.
        conn.execute("SET lock_timeout = '10s'")
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def ledger_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The eventsourcing env for one test, once per store, built as production builds it."""
    if request.param == "sqlite":
        env = sqlite_env(tmp_path / "ledger.sqlite")
    else:
        url = request.getfixturevalue("postgres_url")
        schema = request.getfixturevalue("postgres_schema")
        env = postgres_env(url, schema=schema)
    return env


@pytest.fixture
def clock() -> Clock:
    """Starts at 2026-01-01T00:00:00Z; tests move it with clock.advance(seconds)."""
    return Clock()


@pytest.fixture
def ledger(ledger_env: dict[str, str], clock: Clock) -> Iterator[Ledger]:
    """The application on a fresh store, closed after the test."""
    from application.ledger import Ledger

    app = Ledger(env=ledger_env, secret_key=TEST_SECRET_KEY, clock=clock)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def runtime(ledger_env: dict[str, str], clock: Clock) -> Iterator[Runtime]:
    """The ledger with its read models on a fresh store. No projector thread runs: tests
    project deterministically with ``runtime.projector.catch_up()`` (or ``acknowledge``)."""
    from infrastructure.runtime import open_runtime_on

    rt = open_runtime_on(ledger_env, secret_key=TEST_SECRET_KEY, clock=clock, run_projector=False)
    try:
        yield rt
    finally:
        rt.close()
