"""Writes a batch of projected changes and its tracking position in one transaction.

Before writing, the tracking row is read (locked, on PostgreSQL) and must still be where this
projector left it: should a second projector ever run, the loser's transaction is refused and
nothing is applied twice.
"""

from __future__ import annotations

from infrastructure.read_model.audit_index import FILL_SUBJECTS
from infrastructure.read_model.database import Cursor, Database, executemany
from infrastructure.read_model.projection import Batch

TRACKING_NAME = "ledger"


class ProjectionConflictError(RuntimeError):
    """Raised when another projector advanced the tracking position first."""


def read_position(db: Database, cur: Cursor, *, lock: bool = False) -> int:
    suffix = " FOR UPDATE" if lock and db.dialect == "postgres" else ""
    cur.execute(
        db.sql("SELECT position FROM rm_tracking WHERE name = :name" + suffix),
        {"name": TRACKING_NAME},
    )
    row = cur.fetchone()
    return int(row[0]) if row else 0


def write_batch(db: Database, batch: Batch, expected_position: int) -> None:
    with db.write_transaction() as cur:
        if read_position(db, cur, lock=True) != expected_position:
            raise ProjectionConflictError("the read models were advanced by another projector")
        _apply_updates(db, cur, batch)
        for table, rows in (
            ("rm_log", batch.log),
            ("rm_users", batch.users),
            ("rm_apps", batch.apps),
            ("rm_grants", batch.grants),
            ("rm_tokens", list(batch.tokens.values())),
            ("rm_intervals", batch.intervals),
            ("rm_audit", batch.audit),
        ):
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                executemany(db, cur, f"INSERT INTO {table} VALUES ({marks})", rows)
        if batch.audit:
            for statement in FILL_SUBJECTS:
                cur.execute(db.sql(statement), {"first": batch.first_position})
        params = {"name": TRACKING_NAME, "position": batch.last_position}
        cur.execute(
            db.sql("UPDATE rm_tracking SET position = :position WHERE name = :name"), params
        )
        cur.execute(
            db.sql(
                "INSERT INTO rm_high_water (name, position) VALUES (:name, :position) "
                "ON CONFLICT (name) DO UPDATE SET position = excluded.position "
                "WHERE excluded.position > rm_high_water.position"
            ),
            params,
        )


_CLOSE = (
    "UPDATE rm_intervals SET to_pos = :pos WHERE kind = :kind AND subject = :subject "
    "AND object = :object AND to_pos IS NULL"
)
_CLOSE_ALL = (
    "UPDATE rm_intervals SET to_pos = :pos WHERE kind = :kind AND subject = :subject "
    "AND to_pos IS NULL"
)
_END_TOKEN = (
    "UPDATE rm_tokens SET ended_pos = :pos, end_kind = :kind WHERE token_id = :subject "
    "AND ended_pos IS NULL"
)


def _apply_updates(db: Database, cur: Cursor, batch: Batch) -> None:
    """Runs the closes of older rows in event order, grouping runs of one statement."""
    statements = {"close": _CLOSE, "close_all": _CLOSE_ALL, "end_token": _END_TOKEN}
    run: list[dict[str, object]] = []
    run_kind = ""
    for update in batch.updates:
        op = update[0]
        if op == "close":
            params = {
                "pos": update[1],
                "kind": update[2],
                "subject": update[3],
                "object": update[4],
            }
        else:
            params = {"pos": update[1], "kind": update[2], "subject": update[3]}
        if op != run_kind and run:
            executemany(db, cur, statements[run_kind], run)
            run = []
        run_kind = op
        run.append(params)
    if run:
        executemany(db, cur, statements[run_kind], run)
