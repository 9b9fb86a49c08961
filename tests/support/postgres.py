"""What to do when PostgreSQL cannot be had: skip locally, fail in CI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import pytest

from tools.postgres_server import PostgresUnavailableError, ThrowawayPostgres

_TRUE = {"1", "true", "yes", "on"}


def postgres_required() -> bool:
    """In CI (CI=true) or with LEDGER_REQUIRE_POSTGRES=1 a missing server is a failure."""
    return (
        os.environ.get("CI", "").strip().lower() in _TRUE
        or os.environ.get("LEDGER_REQUIRE_POSTGRES", "").strip().lower() in _TRUE
    )


def postgres_unavailable(reason: str) -> NoReturn:
    """Fail (CI) or skip (a laptop without PostgreSQL) with the reason in plain sight."""
    message = f"PostgreSQL unavailable: {reason}"
    if postgres_required():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@contextmanager
def throwaway_postgres(**options: Any) -> Iterator[ThrowawayPostgres]:
    """A running ThrowawayPostgres for the block, or a skip/failure saying why not."""
    server = ThrowawayPostgres(**options)
    reason: str | None = None
    try:
        server.start()
    except PostgresUnavailableError as exc:
        reason = str(exc)
    if reason is not None:  # outside the except: no chained traceback in the report
        postgres_unavailable(reason)
    try:
        yield server
    finally:
        server.stop()
