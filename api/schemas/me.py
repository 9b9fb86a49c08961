"""The signed-in platform user's own profile, sandbox apps, authorizations and tokens."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import REASON_MAX, RequestBody
from api.schemas.decisions import AS_OF_HELP, AccessToken, AsOf, Position


class SandboxAppOut(BaseModel):
    client_id: str
    name: str


class MeOut(BaseModel):
    user_id: str
    username: str
    full_name: str
    profile_picture: str
    sandbox_apps: list[SandboxAppOut] = Field(
        description="The apps the user is an accepted sandbox user of (apps she owns aside)."
    )


class ReasonQuery(RequestBody):
    """Why, for a removal whose request has no body (a query parameter, recorded on the
    event)."""

    reason: str = Field(default="", max_length=REASON_MAX)


class MyAuthorizationsQuery(RequestBody):
    as_of: AsOf = Field(default=None, description=AS_OF_HELP)
    min_position: Position = Field(
        default=None, description="Wait until the read models reach this log position first."
    )


class RevokeMyTokenIn(RequestBody):
    """The token goes in the body, never in the URL (which servers and proxies log)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "fb2e77d.47a0479900504cb3ab4a1f626d174d2d",
                    "reason": "I no longer use this app",
                },
            ]
        }
    )

    access_token: AccessToken
    reason: str = Field(default="", max_length=REASON_MAX)
