"""Exports of the audit trail: JSON Lines, CSV and OCSF JSON Lines, streamed row by row.

Each format turns an iterator of ``AuditEvent`` into an iterator of text chunks (one per row,
the CSV header first), so an export of any size runs in constant memory and can be resumed
from any row's cursor. Every row carries the event's position, time, type, aggregate, version,
actor, role, reason, public data (no credential material, see ``audit_index.DROPPED_FIELDS``)
and its Merkle leaf hash.

OCSF (schema 1.8.0, https://schema.ocsf.io/1.8.0): users' events are Account Change (3001);
grants and access tokens, which give a user's app scopes or take them away, User Access
Management (3005) with the scopes as privileges; every other aggregate (apps, reviews, the
scope catalogue, API keys) Entity Management (3004). API Activity (6003) is not used: it
requires the request's source endpoint, which the ledger does not record. What OCSF has no
attribute for (position, cursor, leaf hash, role, the event's data) is under ``unmapped``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from infrastructure.audit.feed import AuditEvent

FORMATS = ("jsonl", "csv", "ocsf")
MEDIA_TYPES = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "ocsf": "application/x-ndjson",
}

CSV_COLUMNS = (
    "position",
    "cursor",
    "time",
    "event_type",
    "aggregate_id",
    "version",
    "actor",
    "role",
    "reason",
    "app_id",
    "user_id",
    "token_id",
    "review_id",
    "grant_id",
    "data",
    "leaf_hash",
)

OCSF_VERSION = "1.8.0"
PRODUCT = {"name": "token-ledger", "vendor_name": "Token ledger"}


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def jsonl(events: Iterable[AuditEvent]) -> Iterator[str]:
    for event in events:
        yield _json(event.as_json()) + "\n"


def csv_rows(events: Iterable[AuditEvent]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield take()
    for event in events:
        row = event.as_json()
        row.update(row.pop("subjects"))
        row["data"] = _json(row["data"])
        writer.writerow([row[c] if row[c] is not None else "" for c in CSV_COLUMNS])
        yield take()


# --- OCSF -------------------------------------------------------------------------------------

ACCOUNT_CHANGE = (3001, "Account Change")
USER_ACCESS = (3005, "User Access Management")
ENTITY_MANAGEMENT = (3004, "Entity Management")
IAM_CATEGORY = (3, "Identity & Access Management")

SEVERITY_INFORMATIONAL = 1
SEVERITY_MEDIUM = 3

# (class, activity_id, activity_name) by event type; what is not listed goes by aggregate.
_ACTIVITIES: dict[str, tuple[tuple[int, str], int, str]] = {
    "User.Registered": (ACCOUNT_CHANGE, 1, "Create"),
    "User.PasswordSet": (ACCOUNT_CHANGE, 3, "Password Change"),
    "User.JoinedSandbox": (USER_ACCESS, 1, "Assign Privileges"),
    "User.LeftSandbox": (USER_ACCESS, 2, "Revoke Privileges"),
    "Grant.ScopesGranted": (USER_ACCESS, 1, "Assign Privileges"),
    "Grant.Deauthorized": (USER_ACCESS, 2, "Revoke Privileges"),
    "AccessToken.Issued": (USER_ACCESS, 1, "Assign Privileges"),
    "AccessToken.Revoked": (USER_ACCESS, 2, "Revoke Privileges"),
    "AccessToken.Expired": (USER_ACCESS, 2, "Revoke Privileges"),
}
_ENTITY_ACTIVITIES = {
    "Registered": (1, "Create"),
    "Created": (1, "Create"),
    "Submitted": (1, "Create"),
    "Enabled": (8, "Enable"),
    "Disabled": (9, "Disable"),
    "Revoked": (11, "Deactivate"),
}
_SEVERITY = {"Grant.CodeReplayed": SEVERITY_MEDIUM}


def _classify(event: AuditEvent) -> tuple[tuple[int, str], int, str]:
    known = _ACTIVITIES.get(event.event_type)
    if known is not None:
        return known
    aggregate, _, happened = event.event_type.partition(".")
    if aggregate in ("User",):
        return ACCOUNT_CHANGE, 99, "Other"
    if aggregate in ("Grant", "AccessToken"):
        return USER_ACCESS, 99, "Other"
    activity, name = _ENTITY_ACTIVITIES.get(happened, (3, "Update"))
    return ENTITY_MANAGEMENT, activity, name


def _privileges(event: AuditEvent) -> list[str]:
    if event.event_type.startswith("User.") and event.app_id:
        return [f"sandbox_user:{event.app_id}"]
    scopes = event.data.get("scopes")
    return [str(s) for s in scopes] if isinstance(scopes, list) else []


def ocsf_event(event: AuditEvent) -> dict[str, Any]:
    """One event as an OCSF 1.8.0 event of its class."""
    (class_uid, class_name), activity_id, activity_name = _classify(event)
    row: dict[str, Any] = {
        "category_uid": IAM_CATEGORY[0],
        "category_name": IAM_CATEGORY[1],
        "class_uid": class_uid,
        "class_name": class_name,
        "activity_id": activity_id,
        "activity_name": activity_name,
        "type_uid": class_uid * 100 + activity_id,
        "type_name": f"{class_name}: {activity_name}",
        "severity_id": _SEVERITY.get(event.event_type, SEVERITY_INFORMATIONAL),
        "time": int(event.at.timestamp() * 1000),
        "message": event.reason or event.event_type,
        "metadata": {
            "version": OCSF_VERSION,
            "product": PRODUCT,
            "uid": str(event.position),
            "sequence": event.position,
            "event_code": event.event_type,
        },
        "actor": {"user": {"name": event.actor or "unknown"}},
        "unmapped": {
            "position": event.position,
            "cursor": event.cursor,
            "event_type": event.event_type,
            "aggregate_id": event.aggregate_id,
            "version": event.version,
            "role": event.role,
            "reason": event.reason,
            "subjects": event.subjects,
            "data": event.data,
            "leaf_hash": event.leaf_hash,
        },
    }
    if class_uid in (ACCOUNT_CHANGE[0], USER_ACCESS[0]):
        user: dict[str, Any] = {"uid": event.user_id or event.aggregate_id}
        if isinstance(event.data.get("username"), str):
            user["name"] = event.data["username"]
        row["user"] = user
    if class_uid == USER_ACCESS[0]:
        row["privileges"] = _privileges(event)
    if class_uid == ENTITY_MANAGEMENT[0]:
        entity: dict[str, Any] = {
            "uid": event.aggregate_id,
            "type": event.event_type.partition(".")[0],
        }
        if isinstance(event.data.get("name"), str):
            entity["name"] = event.data["name"]
        row["entity"] = entity
    return row


def ocsf(events: Iterable[AuditEvent]) -> Iterator[str]:
    for event in events:
        yield _json(ocsf_event(event)) + "\n"


WRITERS: dict[str, Callable[[Iterable[AuditEvent]], Iterator[str]]] = {
    "jsonl": jsonl,
    "csv": csv_rows,
    "ocsf": ocsf,
}
