"""The ledger's PostgreSQL event recorder: the library's, plus one batched read.

``select_events_after`` answers ``domain.catch_up.ReadsEventsAfter``: the new events of every
aggregate a command names, and the log's last position, in one statement (one round trip, one
snapshot) instead of one query per aggregate and another for the position.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Composed, Identifier

# Where postgres_env points eventsourcing's APPLICATION_RECORDER_TOPIC.
RECORDER_TOPIC = "infrastructure.event_store:LedgerPostgresRecorder"


class LedgerPostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
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
