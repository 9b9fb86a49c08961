"""Turn `Settings` into an `eventsourcing` environment and open the `Ledger` on it.

The domain's application takes a plain env dict, so this is the only place that
knows how a database URL maps onto the library's POSTGRES_* / SQLITE_* keys.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from infrastructure.event_store import RECORDER_TOPIC
from infrastructure.settings import DEFAULT_DATABASE_TIMEOUT, Settings, secret_key_bytes

if TYPE_CHECKING:
    from application.ledger import Ledger

# Bounded LRU of aggregates. Safe with several processes on one database because
# eventsourcing fast-forwards a cached aggregate from the store on every get().
AGGREGATE_CACHE_MAXSIZE = "1000"

POSTGRES_SCHEMES = ("postgresql", "postgres")


def sqlite_env(path: Path) -> dict[str, str]:
    """Environment for the embedded SQLite store; creates the file's folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        "AGGREGATE_CACHE_MAXSIZE": AGGREGATE_CACHE_MAXSIZE,
    }


def postgres_env(
    url: str,
    *,
    schema: str | None = None,
    pool_size: int = 5,
    timeout: int = DEFAULT_DATABASE_TIMEOUT,
) -> dict[str, str]:
    """Environment for PostgreSQL from a `postgresql://user:pass@host:port/db` URL.

    Query parameters are refused rather than silently ignored, because the library
    cannot pass them on; libpq's PG* variables (PGSSLMODE, ...) still apply.

    ``timeout`` bounds how long a request waits for a connection (the library's
    POSTGRES_CONNECT_TIMEOUT is the pool's wait), so that while the database is down requests
    fail fast instead of queueing for the whole outage; pre-ping checks a pooled connection
    before it is handed out, so that after a restart no request gets a dead one.
    """
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        raise ValueError(f"database URL must start with postgresql://, got {parts.scheme!r}://")
    query = parse_qs(parts.query)
    host = parts.hostname or (query.pop("host", [""])[0])
    if query:
        raise ValueError(
            f"unsupported database URL parameters: {', '.join(sorted(query))} "
            "(set libpq's PG* environment variables instead, e.g. PGSSLMODE)"
        )
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise ValueError("database URL names no database (postgresql://user@host:5432/DBNAME)")
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": host or "localhost",
        "POSTGRES_PORT": str(parts.port or 5432),
        # libpq's default user is the OS user; eventsourcing insists on one.
        "POSTGRES_USER": unquote(parts.username) if parts.username else getpass.getuser(),
        "POSTGRES_PASSWORD": unquote(parts.password) if parts.password else "",
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_CONNECT_TIMEOUT": str(timeout),
        "POSTGRES_PRE_PING": "y",
        "CREATE_TABLE": "y",
        "AGGREGATE_CACHE_MAXSIZE": AGGREGATE_CACHE_MAXSIZE,
        # The library's recorder plus a batched read for commands' catch-up
        # (application/repository.py).
        "APPLICATION_RECORDER_TOPIC": RECORDER_TOPIC,
    }
    if schema:
        env["POSTGRES_SCHEMA"] = schema
    return env


def eventsourcing_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing environment selected by the settings (URL → PostgreSQL)."""
    if settings.database_url:
        return postgres_env(
            settings.database_url,
            schema=settings.postgres_schema,
            pool_size=settings.postgres_pool_size,
            timeout=settings.database_timeout,
        )
    return sqlite_env(settings.sqlite_path)


def ensure_postgres_schema(url: str, schema: str) -> None:
    """Create the configured schema if missing: eventsourcing creates tables, not schemas."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


def open_ledger(settings: Settings, clock: Callable[[], datetime] | None = None) -> Ledger:
    """Open the ledger application on the configured store (caller closes it)."""
    from application.ledger import Ledger  # lazy: api and tools import this module early

    if settings.database_url and settings.postgres_schema:
        ensure_postgres_schema(settings.database_url, settings.postgres_schema)
    return Ledger(
        eventsourcing_env(settings),
        secret_key=secret_key_bytes(settings),
        clock=clock,
    )
