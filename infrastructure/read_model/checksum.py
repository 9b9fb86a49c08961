"""A digest of the read models, so a rebuild can be compared with the live models."""

from __future__ import annotations

import hashlib

from infrastructure.read_model.database import Database

ORDERED = {
    "rm_tracking": "name",
    "rm_log": "position",
    "rm_users": "user_id",
    "rm_apps": "app_id",
    "rm_grants": "grant_id",
    "rm_tokens": "token_id",
    "rm_intervals": "kind, subject, object, from_pos",
    "rm_audit": "position",
}


def checksum(db: Database) -> str:
    """SHA-256 over every row of every read-model table, in primary-key order."""
    digest = hashlib.sha256()
    with db.transaction() as cur:
        for table, order in ORDERED.items():
            digest.update(f"\x1e{table}\x1e".encode())
            cur.execute(f"SELECT * FROM {table} ORDER BY {order}")
            for row in cur.fetchall():
                digest.update(repr(tuple(_plain(v) for v in row)).encode())
    return digest.hexdigest()


def _plain(value: object) -> object:
    return int(value) if isinstance(value, bool) else value
