"""API keys."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import RequestBody, WrittenOut
from domain.api_keys import KeyRole


class ApiKeyCreation(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "edge gateway", "role": "gateway"},
            ]
        }
    )

    name: str = Field(max_length=100)
    role: KeyRole
    principal: str | None = Field(
        default=None,
        max_length=100,
        description="Who the key acts "
        "as; a developer key names its developer's username. "
        "Defaults to the name.",
    )


class ApiKeyCreatedOut(WrittenOut):
    key_id: str
    name: str
    role: KeyRole
    principal: str
    key: str = Field(description="Shown only in this answer; only its keyed digest is kept.")


class ApiKeyOut(BaseModel):
    key_id: str
    name: str
    role: KeyRole
    principal: str
    revoked: bool
    created_by: str
