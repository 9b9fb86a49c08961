"""The test tooling's PostgreSQL: a real server, and a private schema for every test."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from tests.support.postgres import throwaway_postgres

pytestmark = pytest.mark.postgres


def _table_visible(url: str, schema: str, table: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL", (f'"{schema}"."{table}"',)
        ).fetchone()
        assert row is not None
        return bool(row[0])


def test_throwaway_server_accepts_a_connection_and_is_removed_on_exit() -> None:
    with throwaway_postgres() as server:
        with psycopg.connect(server.url) as conn:
            row = conn.execute("SELECT current_user, inet_server_port()").fetchone()
        data_folder = server.socket_dir.parent

    assert row == ("postgres", server.port)
    assert not data_folder.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.url, connect_timeout=2)


def test_throwaway_server_creates_databases() -> None:
    with throwaway_postgres() as server:
        url = server.create_database("ledger_extra")
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT current_database()").fetchone()

    assert row == ("ledger_extra",)


def test_table_in_one_test_schema_is_invisible_from_another(
    postgres_url: str, postgres_schema: str
) -> None:
    other = f"t_{uuid.uuid4().hex}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(other)))
        conn.execute(
            sql.SQL("CREATE TABLE {}.probe (id int)").format(sql.Identifier(postgres_schema))
        )
    try:
        assert _table_visible(postgres_url, postgres_schema, "probe")
        assert not _table_visible(postgres_url, other, "probe")
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(other)))


@pytest.mark.parametrize("ledger_env", ["postgres"], indirect=True)
def test_postgres_ledger_env_points_at_a_fresh_empty_schema(
    postgres_url: str, ledger_env: dict[str, str]
) -> None:
    schema = ledger_env["POSTGRES_SCHEMA"]
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchone()

    assert schema.startswith("t_")
    assert row == (0,)
