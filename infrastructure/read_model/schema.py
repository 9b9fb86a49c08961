"""Tables of the temporal read models.

Every fact that a decision rests on is an interval of log positions ``[from_pos, to_pos)`` in
``rm_intervals`` (``to_pos`` NULL while it holds), so "what held at position P" is one indexed
lookup whatever the length of history. ``rm_log`` keeps each event's time, type, aggregate and
actor: it turns a moment into a position and an interval's ends into evidence.
Times are microseconds since the epoch (UTC) in both databases.
"""

from __future__ import annotations

from collections.abc import Sequence

from infrastructure.read_model import audit_index
from infrastructure.read_model.database import Cursor, Database

TABLES = (
    """CREATE TABLE IF NOT EXISTS rm_tracking (
        name TEXT PRIMARY KEY,
        position BIGINT NOT NULL
    )""",
    # Seeded, so the writer's row lock guards the very first batch too.
    "INSERT INTO rm_tracking (name, position) VALUES ('ledger', 0) ON CONFLICT (name) DO NOTHING",
    # The furthest position ever projected. A rebuild does not drop it: until the rebuilt models
    # reach it again, reads of "now" wait rather than answer from a shorter history (a revoked
    # token must not work again while the models are rebuilt).
    """CREATE TABLE IF NOT EXISTS rm_high_water (
        name TEXT PRIMARY KEY,
        position BIGINT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS rm_log (
        position BIGINT PRIMARY KEY,
        at BIGINT NOT NULL,
        event_type TEXT NOT NULL,
        aggregate_id TEXT NOT NULL,
        version BIGINT NOT NULL,
        actor TEXT NOT NULL,
        role TEXT NOT NULL,
        reason TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS rm_log_at ON rm_log (at, position)",
    """CREATE TABLE IF NOT EXISTS rm_users (
        user_id TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        full_name TEXT NOT NULL,
        profile_picture TEXT NOT NULL,
        registered_pos BIGINT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS rm_users_username ON rm_users (username)",
    """CREATE TABLE IF NOT EXISTS rm_apps (
        app_id TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        owner_id TEXT NOT NULL,
        name TEXT NOT NULL,
        registered_pos BIGINT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS rm_grants (
        grant_id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        app_id TEXT NOT NULL,
        created_pos BIGINT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS rm_grants_user ON rm_grants (user_id)",
    """CREATE TABLE IF NOT EXISTS rm_tokens (
        token_id TEXT PRIMARY KEY,
        digest TEXT NOT NULL UNIQUE,
        app_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        grant_id TEXT NOT NULL,
        scopes TEXT NOT NULL,
        flow TEXT NOT NULL,
        issued_pos BIGINT NOT NULL,
        ended_pos BIGINT,
        end_kind TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS rm_tokens_app ON rm_tokens (app_id, issued_pos)",
    """CREATE TABLE IF NOT EXISTS rm_intervals (
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        object TEXT NOT NULL,
        from_pos BIGINT NOT NULL,
        to_pos BIGINT,
        PRIMARY KEY (kind, subject, object, from_pos)
    )""",
    *audit_index.TABLES,
)

READ_MODEL_TABLES = (
    "rm_log",
    "rm_users",
    "rm_apps",
    "rm_grants",
    "rm_tokens",
    "rm_intervals",
    audit_index.AUDIT_TABLE,
)
LOCK_ORDER = (
    "rm_tracking",
    "rm_high_water",
    "rm_tokens",
    "rm_users",
    "rm_grants",
    "rm_intervals",
    "rm_apps",
    "rm_log",
    audit_index.AUDIT_TABLE,
)


def create_tables(db: Database) -> None:
    with db.write_transaction() as cur:
        serialise_creators(db, cur)
        if _projected_without_audit_index(db, cur):
            # Read models projected by a version without the audit index: project them all
            # again, as a rebuild does (reads of "now" wait for the high-water mark meanwhile),
            # so the index holds every event, not only those after the upgrade.
            older = [t for t in READ_MODEL_TABLES if t != audit_index.AUDIT_TABLE]
            if db.dialect == "postgres":  # as reset_tables does, in the readers' order
                locks = [t for t in LOCK_ORDER if t != audit_index.AUDIT_TABLE]
                cur.execute(f"LOCK TABLE {', '.join(locks)} IN ACCESS EXCLUSIVE MODE")
            _drop(db, cur, older)
        _create(db, cur)


def _projected_without_audit_index(db: Database, cur: Cursor) -> bool:
    if db.dialect == "postgres":
        cur.execute(
            "SELECT to_regclass('rm_audit') IS NULL, to_regclass('rm_tracking') IS NOT NULL"
        )
    else:
        cur.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'rm_audit'), "
            "EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'rm_tracking')"
        )
    missing, tracked = cur.fetchone()
    if not (missing and tracked):
        return False
    cur.execute("SELECT COALESCE(MAX(position), 0) FROM rm_tracking")
    return int(cur.fetchone()[0]) > 0


def serialise_creators(db: Database, cur: Cursor) -> None:
    """Makes concurrent creators of tables (several service processes starting at once) wait
    for each other until the transaction ends: PostgreSQL's CREATE TABLE IF NOT EXISTS races."""
    if db.dialect == "postgres":
        cur.execute("SELECT pg_advisory_xact_lock(7291004)")


def _create(db: Database, cur: Cursor) -> None:
    serialise_creators(db, cur)
    for statement in TABLES:
        cur.execute(statement)


def reset_tables(db: Database) -> None:
    """For a rebuild: empties the read models and their tracking position in one transaction,
    so readers see either the old models or new empty ones, never missing tables."""
    with db.write_transaction() as cur:
        if db.dialect == "postgres":
            # All locks at once, in the order readers' statements take them (tracking first),
            # so a reader waits for the reset instead of deadlocking with it.
            cur.execute(f"LOCK TABLE {', '.join(LOCK_ORDER)} IN ACCESS EXCLUSIVE MODE")
        _drop(db, cur, READ_MODEL_TABLES)
        _create(db, cur)


def _drop(db: Database, cur: Cursor, tables: Sequence[str]) -> None:
    """Drops the read models and their tracking position (the high-water mark stays)."""
    for table in (*tables, "rm_tracking"):
        cur.execute(f"DROP TABLE IF EXISTS {table}")
