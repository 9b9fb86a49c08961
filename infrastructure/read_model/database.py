"""One small gateway over the two databases the read models live in, beside the event store.

SQL is written once with ``:name`` parameters; for PostgreSQL they become ``%(name)s``. SQLite
gets one connection per thread (the file is shared with the event store, in WAL mode);
PostgreSQL a connection pool whose connections search the event store's schema first.
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

_NAMED = re.compile(r"(?<!:):(\w+)")

# Seconds a read waits for a PostgreSQL connection when the env names no POSTGRES_CONNECT_TIMEOUT.
DEFAULT_TIMEOUT = 3.0


class Cursor(Protocol):
    def execute(self, sql: str, params: Any = ...) -> Any: ...
    def executemany(self, sql: str, params: Any) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Database:
    """Connections and dialect of the read-model database."""

    dialect: str

    def sql(self, statement: str) -> str:
        return statement

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    @contextmanager
    def write_transaction(self) -> Iterator[Cursor]:
        """A transaction that will write (SQLite takes its write lock up front)."""
        with self.transaction() as cur:
            yield cur

    def query(self, statement: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        with self.transaction() as cur:
            cur.execute(self.sql(statement), params or {})
            return list(cur.fetchall())

    def read_one(self, statement: str, params: Mapping[str, Any] | Sequence[Any]) -> Any:
        """One row of one statement (already converted by ``sql``), outside any explicit
        transaction: a single statement sees one snapshot, and skipping BEGIN/COMMIT saves two
        round trips on the hot path."""
        raise NotImplementedError

    def close(self) -> None:
        """Releases connections."""

    @staticmethod
    def from_env(env: Mapping[str, str]) -> Database:
        """The read-model database beside the event store the eventsourcing env describes."""
        module = env.get("PERSISTENCE_MODULE", "")
        if module.endswith("sqlite"):
            return SQLiteDatabase(env["SQLITE_DBNAME"])
        if module.endswith("postgres"):
            return PostgresDatabase(
                conninfo=_postgres_conninfo(env),
                schema=env.get("POSTGRES_SCHEMA") or "public",
                pool_size=int(env.get("POSTGRES_POOL_SIZE", "5")),
                timeout=float(env.get("POSTGRES_CONNECT_TIMEOUT") or DEFAULT_TIMEOUT),
            )
        raise ValueError(f"No read-model database for persistence module {module!r}")


def _postgres_conninfo(env: Mapping[str, str]) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(
        dbname=env["POSTGRES_DBNAME"],
        host=env.get("POSTGRES_HOST", "localhost"),
        port=env.get("POSTGRES_PORT", "5432"),
        user=env.get("POSTGRES_USER", ""),
        password=env.get("POSTGRES_PASSWORD", ""),
    )


class SQLiteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        conn = self._connection()
        cur = conn.cursor()
        cur.execute("BEGIN IMMEDIATE" if getattr(self._local, "writing", False) else "BEGIN")
        try:
            yield cur
        except BaseException:
            conn.rollback()
            raise
        else:
            conn.commit()
        finally:
            cur.close()

    def read_one(self, statement: str, params: Mapping[str, Any] | Sequence[Any]) -> Any:
        return self._connection().execute(statement, params).fetchone()

    @contextmanager
    def write_transaction(self) -> Iterator[Cursor]:
        self._local.writing = True
        try:
            with self.transaction() as cur:
                yield cur
        finally:
            self._local.writing = False

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


class PostgresDatabase(Database):
    dialect = "postgres"

    def __init__(
        self, conninfo: str, schema: str, pool_size: int = 5, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        from psycopg_pool import ConnectionPool

        self.conninfo = conninfo
        self.schema = schema
        self.timeout = timeout
        self._converted: dict[str, str] = {}
        self.pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=max(pool_size, 2),
            # Autocommit: single reads need no BEGIN/COMMIT; writes open explicit transactions.
            kwargs={
                "options": f"-c search_path={schema}",
                "autocommit": True,
                "connect_timeout": max(1, math.ceil(timeout)),
            },
            open=True,
            # While the database is down a read waits this long, then fails (answered 503)...
            timeout=timeout,
            # ...and a connection is checked before it is handed out, so that after a restart
            # no read gets one the server has closed.
            check=ConnectionPool.check_connection,
            # A failed reconnection is given up soon, so that the next read tries afresh
            # instead of waiting for a backoff grown long during the outage.
            reconnect_timeout=timeout,
        )

    def sql(self, statement: str) -> str:
        converted = self._converted.get(statement)
        if converted is None:
            converted = _NAMED.sub(r"%(\1)s", statement.replace("%", "%%")).replace("?", "%s")
            self._converted[statement] = converted
        return converted

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield cur

    write_transaction = transaction

    def read_one(self, statement: str, params: Mapping[str, Any] | Sequence[Any]) -> Any:
        with self.pool.connection() as conn:
            return conn.execute(statement, params).fetchone()

    def connect(self, **kwargs: Any) -> Any:
        """A dedicated connection (for the projector's leadership lock)."""
        import psycopg

        kwargs.setdefault("connect_timeout", max(1, math.ceil(self.timeout)))
        return psycopg.connect(self.conninfo, options=f"-c search_path={self.schema}", **kwargs)

    def close(self) -> None:
        self.pool.close()


def executemany(db: Database, cur: Cursor, statement: str, rows: Sequence[Any]) -> None:
    if rows:
        cur.executemany(db.sql(statement), rows)
