"""What the ledger's commands answer: always the log position they reached, plus what was made.

Secrets (client secrets, codes, access tokens) are shown here once and kept out of ``repr`` so a
logged result never carries one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from domain.api_keys import KeyRole
from domain.apps import App, Mode
from domain.users import UserInfo


@dataclass(frozen=True)
class Written:
    """A command's events are stored; ``position`` is the log position of the last one."""

    position: int


@dataclass(frozen=True)
class Created(Written):
    id: UUID


@dataclass(frozen=True)
class ClientRegistered(Written):
    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class SecretRotated(Written):
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class Authorized(Written):
    """The user's consent: a code (code flow) or a token (implicit flow) for the redirect."""

    redirect_uri: str
    scopes: tuple[str, ...]
    mode: str
    code: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    token_id: UUID | None = None


@dataclass(frozen=True)
class TokenIssued(Written):
    token_id: UUID
    scopes: tuple[str, ...]
    user: UserInfo
    access_token: str = field(repr=False)


@dataclass(frozen=True)
class ApiKeyCreated(Created):
    """The new key's id and, shown only here, the key itself."""

    name: str
    key_role: KeyRole
    principal: str
    key: str = field(repr=False)


@dataclass(frozen=True)
class CheckedAuthorizationRequest:
    """An authorization request every user-independent check accepted: the app, its registered
    redirect URI, the scopes asked (with the catalogue's descriptions) and the app's mode."""

    app: App
    redirect_uri: str
    response_type: str
    scopes: tuple[str, ...]
    scope_descriptions: tuple[tuple[str, str], ...]
    mode: Mode
    unreviewed_live_allowed: bool
