"""The audit index: one row per event, with the subjects it concerns, for the change feed,
history queries and exports.

The projector writes a row for every event in the same transaction as the other read models,
so a page of the feed (any filter) is one indexed query and a rebuild rebuilds the index. The
row carries the event's public data as JSON (so a filtered page needs no read of the event store
by scattered positions) and the event's Merkle leaf hash, ``hash_leaf(event_leaf(...))`` of
``domain.merkle``, so an auditor can match every exported row to the tree.

Public data is every field of the event except who/why (their own columns) and the credential
material listed in ``DROPPED_FIELDS``. Events hold only digests of secrets, never a secret, but
even the digests are dropped: a token or code digest is the key the ledger looks credentials up
by, a secret digest and nonce verify a client secret, a password hash can be attacked offline.
The token, grant, app and user ids identify what those digests would.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

from domain.identity import grant_id
from domain.merkle import event_leaf, hash_leaf

AUDIT_TABLE = "rm_audit"

DROPPED_FIELDS = frozenset(
    {"digest", "secret_digest", "secret_nonce", "password_hash", "code_digest"}
)
"""Credential material never shown in the feed or an export (see the module's docstring)."""

_OWN_COLUMNS = frozenset(
    {"originator_id", "originator_version", "timestamp", "actor", "role", "reason"}
)

SUBJECT_COLUMNS = ("app_id", "user_id", "token_id", "review_id", "grant_id")

COLUMNS = (
    "position",
    "at",
    "event_type",
    "aggregate_id",
    "version",
    "actor",
    "role",
    "reason",
    *SUBJECT_COLUMNS,
    "leaf_hash",
    "data",
)

TABLES = (
    f"""CREATE TABLE IF NOT EXISTS {AUDIT_TABLE} (
        position BIGINT PRIMARY KEY,
        at BIGINT NOT NULL,
        event_type TEXT NOT NULL,
        aggregate_id TEXT NOT NULL,
        version BIGINT NOT NULL,
        actor TEXT NOT NULL,
        role TEXT NOT NULL,
        reason TEXT NOT NULL,
        app_id TEXT,
        user_id TEXT,
        token_id TEXT,
        review_id TEXT,
        grant_id TEXT,
        leaf_hash TEXT NOT NULL,
        data TEXT NOT NULL
    )""",
    *(
        f"CREATE INDEX IF NOT EXISTS {AUDIT_TABLE}_{column} ON {AUDIT_TABLE} ({column}, position)"
        for column in ("at", "event_type", "actor")
    ),
    # Most events concern few of the subjects: partial indexes stay small and cheap to write
    # (an equality filter on the column implies the index's condition, in both databases).
    *(
        f"CREATE INDEX IF NOT EXISTS {AUDIT_TABLE}_{column} ON {AUDIT_TABLE} ({column}, position)"
        f" WHERE {column} IS NOT NULL"
        for column in SUBJECT_COLUMNS
    ),
)

# The aggregate whose id an event's own subject column holds, by the event type's prefix.
_OWN_SUBJECT = {
    "App": "app_id",
    "User": "user_id",
    "AccessToken": "token_id",
    "Review": "review_id",
    "Grant": "grant_id",
}
# Event fields naming a subject (the app's owner is a user the event concerns).
_FIELD_SUBJECT = {
    "app_id": "app_id",
    "user_id": "user_id",
    "owner_id": "user_id",
    "token_id": "token_id",
    "review_id": "review_id",
}

# Events whose subjects are not all in the event: filled, in the batch's transaction, from the
# index row of the event that created the aggregate (a grant's user and app, a token's app, user
# and grant, a review's app).
FILL_SUBJECTS = tuple(
    f"UPDATE {AUDIT_TABLE} SET {target} = (SELECT f.{target} FROM {AUDIT_TABLE} f "
    f"WHERE f.{key} = {AUDIT_TABLE}.{key} AND f.event_type = '{origin}') "
    f"WHERE position >= :first AND {key} IS NOT NULL AND {target} IS NULL "
    f"AND event_type <> '{origin}'"
    for key, origin, targets in (
        ("grant_id", "Grant.Created", ("app_id", "user_id")),
        ("token_id", "AccessToken.Issued", ("app_id", "user_id", "grant_id")),
        ("review_id", "Review.Submitted", ("app_id",)),
    )
    for target in targets
)


_SCALARS = (str, int, float, bool, type(None))


def plain(value: Any) -> Any:
    """An event field as JSON: ids as hex (as ``client_id`` spells an app), times ISO 8601."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def public_data(event: Any) -> dict[str, Any]:
    """The event's fields an auditor sees: all but who/why and credential material."""
    return {
        name: plain(value)
        for name, value in sorted(vars(event).items())
        if name not in _OWN_COLUMNS and name not in DROPPED_FIELDS and not name.startswith("_")
    }


def leaf_hash(stored: Any, position: int) -> str:
    """The event's Merkle leaf hash (hex), over its stored form exactly as persisted."""
    originator = stored.originator_id
    if not isinstance(originator, UUID):
        originator = UUID(str(originator))
    return hash_leaf(
        event_leaf(
            position, originator, stored.originator_version, stored.topic, bytes(stored.state)
        )
    ).hex()


def audit_row(
    event: Any,
    position: int,
    name: str,
    agg: str,
    at: int,
    who: tuple[str, str, str],
    stored: Any,
    grant: str | None = None,
) -> tuple[Any, ...]:
    """The index row of one event (``who``: actor, role, reason as the read models store them;
    ``grant``: a token's grant id when the caller has it already)."""
    subjects: dict[str, str | None] = dict.fromkeys(SUBJECT_COLUMNS)
    own = _OWN_SUBJECT.get(name.partition(".")[0])
    if own is not None:
        subjects[own] = agg
    for field, column in _FIELD_SUBJECT.items():
        value = getattr(event, field, None)
        if isinstance(value, UUID) and subjects[column] is None:
            subjects[column] = value.hex
    if name == "AccessToken.Issued":
        subjects["grant_id"] = grant or grant_id(event.user_id, event.app_id).hex
    data = json.dumps(public_data(event), separators=(",", ":"), default=str)  # keys sorted
    return (
        position,
        at,
        name,
        agg,
        event.originator_version,
        *who,
        *(subjects[c] for c in SUBJECT_COLUMNS),
        leaf_hash(stored, position) if stored is not None else "",
        data,
    )
