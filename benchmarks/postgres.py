"""The PostgreSQL every benchmark runs on: LEDGER_DATABASE_URL, or a throwaway server it starts
(with extra postgresql.conf lines from ``--pg-setting``), with fresh schemas for the run, dropped
afterwards."""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Callable, Iterator

from infrastructure.persistence import ensure_postgres_schema
from tools.postgres_server import PostgresUnavailableError, ThrowawayPostgres

__all__ = [
    "PostgresUnavailableError",
    "add_pg_setting_option",
    "database",
    "fresh_schemas",
    "pg_settings",
]

Log = Callable[[str], None]


@contextlib.contextmanager
def database(
    log: Log, pg_settings: dict[str, str] | None = None, *, dbname: str | None = None
) -> Iterator[tuple[str, str]]:
    """A PostgreSQL URL and a description of where it came from, for the block; on a throwaway
    server, in a fresh database ``dbname`` if one is named."""
    url = os.environ.get("LEDGER_DATABASE_URL")
    if url:
        if pg_settings:
            log("--pg-setting is ignored: LEDGER_DATABASE_URL names an existing server")
        yield url, "LEDGER_DATABASE_URL (existing server)"
        return
    log("LEDGER_DATABASE_URL not set: starting a throwaway PostgreSQL")
    server = ThrowawayPostgres(settings=pg_settings or None)
    server.start()
    try:
        url = server.create_database(dbname) if dbname else server.url
        log(
            f"throwaway PostgreSQL on {server.host}:{server.port}"
            + (f", database {dbname}" if dbname else "")
        )
        extra = ", ".join(f"{k}={v}" for k, v in (pg_settings or {}).items()) or "default settings"
        fresh = ", fresh database" if dbname else ""
        yield url, f"ThrowawayPostgres on port {server.port}{fresh} ({extra})"
    finally:
        server.stop()
        log("throwaway PostgreSQL stopped")


@contextlib.contextmanager
def fresh_schemas(url: str, *names: str, log: Log) -> Iterator[None]:
    """Creates the schemas for the block and drops them afterwards."""
    import psycopg
    from psycopg import sql

    created: list[str] = []
    try:
        for name in names:
            ensure_postgres_schema(url, name)
            created.append(name)
        yield
    finally:
        if created:
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute("SET lock_timeout = '10s'")
                    for name in created:
                        conn.execute(
                            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
                        )
            except Exception as exc:
                log(f"could not drop schemas {', '.join(created)}: {exc}")


def add_pg_setting_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pg-setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra postgresql.conf line for the throwaway server (repeatable), "
        "e.g. fsync=off; ignored with LEDGER_DATABASE_URL",
    )


def pg_settings(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, str]:
    """The ``--pg-setting`` lines as a dict (a malformed one is a usage error)."""
    settings: dict[str, str] = {}
    for item in args.pg_setting:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            parser.error(f"--pg-setting takes KEY=VALUE, got {item!r}")
        settings[key.strip()] = value.strip()
    return settings
