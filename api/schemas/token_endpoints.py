"""Bodies of the RFC 7009 revocation and RFC 7662 introspection endpoints."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RevocationOut(BaseModel):
    """RFC 7009 §2.2: the client ignores the body; ``position`` is there when a token was
    revoked by this request."""

    position: int | None = None


class IntrospectionOut(BaseModel):
    """RFC 7662 §2.2. Only ``active`` when the token is not active."""

    model_config = ConfigDict(extra="allow")

    active: bool
    scope: str | None = Field(
        default=None, description="The token's scopes that would be allowed now, space separated."
    )
    client_id: str | None = None
    username: str | None = None
    sub: str | None = Field(default=None, description="The user's id.")
    iat: int | None = Field(
        default=None, description="When the token was issued (seconds since the epoch)."
    )
    token_type: str | None = None
    mode: str | None = Field(default=None, description="The app's mode: sandbox or live.")
