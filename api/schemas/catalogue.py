"""The scope catalogue and the platform's policy."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import REASON_MAX, RequestBody


class ScopeOut(BaseModel):
    name: str
    description: str
    applications_open: bool
    retired: bool


class CatalogueOut(BaseModel):
    scopes: list[ScopeOut]
    unreviewed_live_allowed: bool


class ScopeIntroduction(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "stories",
                    "description": "to read a user's stories",
                    "applications_open": False,
                    "reason": "new product",
                }
            ]
        }
    )

    name: str = Field(max_length=100)
    description: str = Field(max_length=2000)
    applications_open: bool = False
    reason: str = Field(default="", max_length=REASON_MAX)
