"""Access tokens: random, shown once, stored as a keyed digest (the id derives from it).

Tokens have no expiry of their own (as on the legacy platform); they stop working when revoked by
the user, the app's owner or the platform, when the platform expires them, or through cascades
(app disabled, grant withdrawn, scope retired) that readers apply from the rest of the log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor, Role
from domain.errors import NotPermittedError, TokenStateError
from domain.identity import token_id

if TYPE_CHECKING:
    from domain.apps import App


class AccessToken(Aggregate):
    """One issued access token."""

    @staticmethod
    def create_id(digest: str, **_: Any) -> UUID:
        return token_id(digest)

    @classmethod
    def issue(
        cls,
        digest: str,
        app_id: UUID,
        user_id: UUID,
        scopes: tuple[str, ...] | list[str],
        mode: str,
        flow: str,
        code_digest: str | None,
        actor: Actor,
    ) -> AccessToken:
        """``code_digest``: the keyed digest of the code exchanged for it (code flow only)."""
        return cls(
            digest=digest,
            app_id=app_id,
            user_id=user_id,
            scopes=list(scopes),
            mode=mode,
            flow=flow,
            code_digest=code_digest,
            actor=actor.principal,
            role=actor.role.value,
        )

    @event("Issued")
    def __init__(
        self,
        digest: str,
        app_id: UUID,
        user_id: UUID,
        scopes: list[str],
        mode: str,
        flow: str,
        code_digest: str | None,
        actor: str,
        role: str,
    ) -> None:
        self.app_id = app_id
        self.user_id = user_id
        self.scopes = list(scopes)
        self.mode = mode
        self.flow = flow
        self.code_digest = code_digest
        self.revoked = False
        self.expired = False

    @property
    def active(self) -> bool:
        return not (self.revoked or self.expired)

    def revoke(self, actor: Actor, reason: str, app: App | None = None) -> None:
        """Revocable by its user, its app (the client, or the app's owner: give ``app``), the
        platform (and the ledger itself when a code is replayed). Who the actor is is decided
        here, from the actor."""
        if not self._may_revoke(actor, app):
            raise NotPermittedError(
                "Only the token's user, the app's owner or the platform may revoke it"
            )
        if not self.active:
            raise TokenStateError("The token has already been revoked or expired")
        self._revoked(actor.principal, actor.role.value, reason)

    def _may_revoke(self, actor: Actor, app: App | None) -> bool:
        if actor.role in (Role.PLATFORM, Role.SYSTEM) or actor.is_user(self.user_id):
            return True
        if actor.role is Role.CLIENT:
            return actor.principal == self.app_id.hex
        return app is not None and app.id == self.app_id and app.is_owned_by(actor)

    @event("Revoked")
    def _revoked(self, actor: str, role: str, reason: str) -> None:
        self.revoked = True

    def expire(self, actor: Actor, reason: str) -> None:
        actor.require(Role.PLATFORM, Role.SYSTEM, action="expire a token")
        if not self.active:
            raise TokenStateError("The token has already been revoked or expired")
        self._expired(actor.principal, actor.role.value, reason)

    @event("Expired")
    def _expired(self, actor: str, role: str, reason: str) -> None:
        self.expired = True
