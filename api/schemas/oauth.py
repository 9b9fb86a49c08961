"""The legacy token endpoint's answer."""

from __future__ import annotations

from pydantic import BaseModel


class LegacyUserOut(BaseModel):
    id: str
    username: str
    full_name: str
    profile_picture: str


class AccessTokenOut(BaseModel):
    """The legacy body: no ``token_type`` (legacy clients send the token as a parameter)."""

    access_token: str
    user: LegacyUserOut
