"""Grants: the scopes a user has authorized an app for.

One grant per (user, app), by a deterministic id. Re-authorizing with more scopes adds to it
(the seed: "direct the user to the authorization URL with that additional scope"); deauthorizing
clears it, and a later authorization starts afresh.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor, Role
from domain.errors import GrantNotFoundError, NotPermittedError
from domain.identity import grant_id


class Grant(Aggregate):
    """What one user has authorized one app to do."""

    @staticmethod
    def create_id(user_id: UUID, app_id: UUID, **_: Any) -> UUID:
        return grant_id(user_id, app_id)

    @classmethod
    def start(cls, user_id: UUID, app_id: UUID, actor: Actor) -> Grant:
        return cls(user_id=user_id, app_id=app_id, actor=actor.principal, role=actor.role.value)

    @event("Created")
    def __init__(self, user_id: UUID, app_id: UUID, actor: str, role: str) -> None:
        self.user_id = user_id
        self.app_id = app_id
        self.scopes: list[str] = []
        self.deauthorizations = 0  # a code remembers this, so a deauthorization kills it

    @property
    def active(self) -> bool:
        return bool(self.scopes)

    def grant(self, scopes: tuple[str, ...], mode: str, actor: Actor) -> None:
        """Records a consent: ``scopes`` are those added, ``requested`` all that were asked.

        Every consent writes an event, even one that adds nothing, so that a concurrent
        deauthorization conflicts with it instead of silently winning."""
        added = list(dict.fromkeys(s for s in scopes if s not in self.scopes))
        self._scopes_granted(added, list(scopes), mode, actor.principal, actor.role.value)

    @event("ScopesGranted")
    def _scopes_granted(
        self, scopes: list[str], requested: list[str], mode: str, actor: str, role: str
    ) -> None:
        self.scopes.extend(scopes)

    def record_token(self, token_id: UUID, actor: Actor) -> None:
        """A code was exchanged under this grant; written so a concurrent deauthorization and
        the exchange cannot both succeed."""
        self._token_issued(token_id, actor.principal, actor.role.value)

    @event("TokenIssued")
    def _token_issued(self, token_id: UUID, actor: str, role: str) -> None:
        pass

    def deauthorize(self, actor: Actor, is_user: bool, reason: str) -> None:
        """The user (or the platform) withdraws every scope; the app's tokens stop working."""
        if not is_user and actor.role is not Role.PLATFORM:
            raise NotPermittedError("Only the user or the platform may deauthorize an app")
        if not self.active:
            raise GrantNotFoundError()
        self._deauthorized(actor.principal, actor.role.value, reason)

    @event("Deauthorized")
    def _deauthorized(self, actor: str, role: str, reason: str) -> None:
        self.scopes = []
        self.deauthorizations += 1
