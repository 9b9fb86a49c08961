"""Bodies shared by many endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

REASON_MAX = 2000
NUL = "\x00"


def contains_nul(value: Any) -> bool:
    """Whether a field's text (or any text in its list or mapping) has a NUL character."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, list | tuple):
        return any(contains_nul(item) for item in value)
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    return False


class RequestBody(BaseModel):
    """A request body: unknown fields are refused (a misspelt field is not silently ignored),
    and so is text with a NUL character. No field needs one, and PostgreSQL can neither store
    nor compare it: recorded in an event, it would stop the read models' projection for good."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        if contains_nul(value):
            raise ValueError("must not contain the NUL character (\\u0000)")
        return value


class WrittenOut(BaseModel):
    position: int = Field(description="Log position of the last event the write stored.")


class ReasonIn(RequestBody):
    """Why: recorded on the event (required by the commands that take something away)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "policy review"}]})

    reason: str = Field(default="", max_length=REASON_MAX)
