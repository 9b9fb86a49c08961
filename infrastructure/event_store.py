"""The ledger's PostgreSQL event recorder: the library's, plus one batched read.

``select_events_after`` answers ``application.repository.ReadsEventsAfter``: the new events of every
aggregate a command names, and the log's last position, in one statement (one round trip, one
snapshot) instead of one query per aggregate and another for the position.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Composed, Identifier
from psycopg_pool import PoolTimeout, TooManyRequests

# Where postgres_env points eventsourcing's APPLICATION_RECORDER_TOPIC.
RECORDER_TOPIC = "infrastructure.event_store:LedgerPostgresRecorder"

F = TypeVar("F", bound=Callable[..., Any])

# Pause before the one retry of a statement whose connection broke under it.
RETRY_WAIT = 0.05


def _pool_gave_up(error: BaseException) -> bool:
    """Whether the pool already waited its whole timeout for a connection (or refused to queue):
    the database is unreachable, and trying again would only make the caller wait longer."""
    return isinstance(error.__cause__, (PoolTimeout, TooManyRequests))


def once_more_if_connection_broke(method: F) -> F:
    """Runs a recorder method again, once, when its connection broke under it.

    The library retries ten times with a fresh wait for a connection each time, so while the
    database is down a request hung for ten pool timeouts. Pooled connections are checked before
    they are handed out (pre-ping), so a broken one here died mid-statement: one retry on a fresh
    connection is enough, and none once the pool has given up waiting. A retried insert whose
    first commit did land fails as a conflict, and the command's re-run recognises its own write
    (``application/service.py``)."""

    @functools.wraps(method)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except (InterfaceError, OperationalError) as error:
            if _pool_gave_up(error):
                raise
        time.sleep(RETRY_WAIT)
        return method(*args, **kwargs)

    return cast(F, bounded)


def _unretried(method: Any) -> Any:
    """The library's method without its own retry decorator."""
    return method.__wrapped__


class LedgerPostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pool = self.datastore.pool
        # libpq's own connect timeout, so that a connection attempt to an unreachable host does
        # not hold a pool worker for minutes; and a failed reconnection is given up as soon as
        # a request would have given up waiting for it, so that after the outage the next
        # request connects at once instead of after a backoff grown long during the outage.
        connect_kwargs = pool.kwargs
        if not isinstance(connect_kwargs, dict):  # the library passes a plain dict
            raise TypeError("the event store's pool must be built with a dict of kwargs")
        connect_kwargs["connect_timeout"] = max(1, math.ceil(pool.timeout))
        pool.reconnect_timeout = pool.timeout
        table = SQL("{}.{}").format(
            Identifier(self.datastore.schema), Identifier(self.events_table_name)
        )
        # One branch per aggregate, each a range scan of the (originator_id, originator_version)
        # primary key with scalar parameters; one more row carries the log's position.
        self._branch = SQL(
            "(SELECT originator_id, originator_version, topic, state, NULL::bigint AS position"
            " FROM {table} WHERE originator_id = %s AND originator_version > %s)"
        ).format(table=table)
        self._position_row = SQL(
            "SELECT NULL, NULL, NULL, NULL, max(notification_id) FROM {table}"
        ).format(table=table)
        self._statements: dict[int, Composed] = {}  # by number of aggregates

    def _select_events_after_statement(self, count: int) -> Composed:
        statement = self._statements.get(count)
        if statement is None:
            statement = SQL(" UNION ALL ").join([*[self._branch] * count, self._position_row])
            self._statements[count] = statement
        return statement

    insert_events = once_more_if_connection_broke(
        _unretried(PostgresApplicationRecorder.insert_events)
    )
    select_events = once_more_if_connection_broke(
        _unretried(PostgresApplicationRecorder.select_events)
    )
    select_notifications = once_more_if_connection_broke(
        _unretried(PostgresApplicationRecorder.select_notifications)
    )
    max_notification_id = once_more_if_connection_broke(
        _unretried(PostgresApplicationRecorder.max_notification_id)
    )

    @once_more_if_connection_broke
    def select_events_after(
        self, versions: Sequence[tuple[UUID, int]]
    ) -> tuple[Sequence[StoredEvent], int]:
        as_text = self.datastore.originator_id_type == "text"
        params: list[Any] = []
        for aggregate_id, version in versions:
            params += (str(aggregate_id) if as_text else aggregate_id, version)
        statement = self._select_events_after_statement(len(versions))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params, prepare=True)
            rows = curs.fetchall()
        position = 0
        events = []
        for row in rows:
            if row["originator_id"] is None:  # the log's position row
                position = row["position"] or 0
                continue
            events.append(
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
            )
        # UNION ALL promises no order: each aggregate's events in version order, as documented.
        events.sort(key=lambda e: (e.originator_id, e.originator_version))
        return events, position
