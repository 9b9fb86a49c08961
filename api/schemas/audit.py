"""Bodies of the audit trail: change-feed and history pages."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class AuditSubjectsOut(BaseModel):
    """The ids the event concerns (hex; an app's id is its client_id)."""

    app_id: str | None = None
    user_id: str | None = None
    token_id: str | None = None
    review_id: str | None = None
    grant_id: str | None = None


class AuditEventOut(BaseModel):
    position: int = Field(description="The event's log position.")
    cursor: str = Field(description="Resume after this event with ?after=<cursor>.")
    time: str = Field(description="When the event happened (ISO 8601, UTC).")
    event_type: str = Field(examples=["App.Registered"])
    aggregate_id: str
    version: int
    actor: str
    role: str
    reason: str
    subjects: AuditSubjectsOut
    data: dict[str, Any] = Field(
        description="The event's fields, without credential "
        "material (digests, nonces, password hashes)."
    )
    leaf_hash: str = Field(
        description="hex SHA-256 Merkle leaf hash of the stored event "
        "(hash_leaf(event_leaf(...)), RFC 9162 §2.1.1)."
    )


class AuditPageOut(BaseModel):
    events: list[AuditEventOut]
    cursor: str = Field(
        description="Ask with ?after=<cursor> for the next page; the same "
        "cursor as given when caught up."
    )
    caught_up: bool = Field(description="No event after the cursor matched (yet).")
    position: int = Field(description="How far the read models had projected the log.")
