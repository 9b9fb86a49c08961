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
from psycopg.sql import SQL, Identifier

# Where postgres_env points eventsourcing's APPLICATION_RECORDER_TOPIC.
RECORDER_TOPIC = "infrastructure.event_store:LedgerPostgresRecorder"


class LedgerPostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Each (id, version) pair is looked up through the (originator_id, originator_version)
        # primary key: OFFSET 0 keeps the planner from flattening the LATERAL subquery into a
        # hash join, which the prepared statement's generic plan does by scanning the whole
        # table. The last row carries the log's position, with NULLs elsewhere, and sorts last.
        self.select_events_after_statement = SQL(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state,"
            " NULL::bigint AS position"
            " FROM unnest(%s::{id_type}[], %s::integer[]) AS w(originator_id, after)"
            " CROSS JOIN LATERAL (SELECT * FROM {schema}.{table} AS t"
            "  WHERE t.originator_id = w.originator_id AND t.originator_version > w.after"
            "  OFFSET 0) AS e"
            " UNION ALL SELECT NULL, NULL, NULL, NULL, max(notification_id) FROM {schema}.{table}"
            " ORDER BY originator_id, originator_version"
        ).format(
            id_type=SQL(self.datastore.originator_id_type),
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events_after(
        self, versions: Sequence[tuple[UUID, int]]
    ) -> tuple[Sequence[StoredEvent], int]:
        as_text = self.datastore.originator_id_type == "text"
        ids = [str(aggregate_id) if as_text else aggregate_id for aggregate_id, _ in versions]
        after = [version for _, version in versions]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_events_after_statement, (ids, after), prepare=True)
            rows = curs.fetchall()
        position = rows[-1]["position"] or 0
        return [
            StoredEvent(
                originator_id=row["originator_id"],
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
            for row in rows[:-1]
        ], position
