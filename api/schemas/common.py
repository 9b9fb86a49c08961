"""Bodies shared by many endpoints."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

REASON_MAX = 2000


class RequestBody(BaseModel):
    """A request body: unknown fields are refused (a misspelt field is not silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class Written(BaseModel):
    position: int = Field(description="Log position of the last event the write stored.")


class ReasonIn(RequestBody):
    """Why: recorded on the event (required by the commands that take something away)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "policy review"}]})

    reason: str = Field(default="", max_length=REASON_MAX)
