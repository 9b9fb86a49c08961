"""Error bodies, as the OpenAPI document shows them (``api.errors`` writes them)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FieldErrorOut(BaseModel):
    field: str = Field(description="The bad field, dotted (``body`` for the body as a whole).")
    message: str
    type: str


class ErrorDetailOut(BaseModel):
    code: str = Field(description="Stable machine code of the error.")
    message: str
    request_id: str | None = Field(default=None, description="Only on an unexpected error.")
    details: list[FieldErrorOut] | None = Field(
        default=None, description="Only on invalid input: each bad field."
    )


class ErrorOut(BaseModel):
    """The ledger's error body."""

    error: ErrorDetailOut


class Rfc6749ErrorOut(BaseModel):
    """The RFC 6749 §5.2 error body of the token revocation and introspection endpoints."""

    error: str = Field(
        description="invalid_request, invalid_client, unauthorized_client, "
        "invalid_token, insufficient_scope or temporarily_unavailable."
    )
    error_description: str


class LegacyErrorOut(BaseModel):
    """The legacy platform's error body of its OAuth endpoints."""

    error_type: str
    code: int = Field(description="The HTTP status.")
    error_message: str


class LegacyApiErrorOut(BaseModel):
    """The legacy platform's error body of its API calls."""

    meta: LegacyErrorOut
