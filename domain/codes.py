"""Authorization codes (RFC 6749 §4.1.2): single use, short lived, bound to client and redirect.

The code's id is derived from the keyed digest of the code, so the code itself is never stored.
A second redemption is refused, and the token the first one issued is revoked (§4.1.2: "the
authorization server ... SHOULD revoke (when possible) all tokens previously issued").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor
from domain.errors import CodeNotFoundError, CodeRedirectMismatchError
from domain.identity import code_id

CODE_LIFETIME = timedelta(minutes=10)  # RFC 6749 §4.1.2 recommends at most 10 minutes


class AuthorizationCode(Aggregate):
    """A code the user's consent produced, waiting to be exchanged for a token."""

    @staticmethod
    def create_id(digest: str, **_: Any) -> UUID:
        return code_id(digest)

    @classmethod
    def issue(
        cls,
        digest: str,
        app_id: UUID,
        user_id: UUID,
        redirect_uri: str,
        scopes: tuple[str, ...],
        mode: str,
        now: datetime,
        lifetime: timedelta,
        actor: Actor,
        grant_deauthorizations: int = 0,
    ) -> AuthorizationCode:
        return cls(
            digest=digest,
            app_id=app_id,
            user_id=user_id,
            redirect_uri=redirect_uri,
            scopes=list(scopes),
            mode=mode,
            expires_at=now + lifetime,
            grant_deauthorizations=grant_deauthorizations,
            actor=actor.principal,
            role=actor.role.value,
        )

    @event("Issued")
    def __init__(
        self,
        digest: str,
        app_id: UUID,
        user_id: UUID,
        redirect_uri: str,
        scopes: list[str],
        mode: str,
        expires_at: datetime,
        grant_deauthorizations: int,
        actor: str,
        role: str,
    ) -> None:
        self.app_id = app_id
        self.user_id = user_id
        self.redirect_uri = redirect_uri
        self.scopes = list(scopes)
        self.mode = mode
        self.expires_at = expires_at
        self.grant_deauthorizations = grant_deauthorizations
        self.token_id: UUID | None = None

    @property
    def redeemed(self) -> bool:
        return self.token_id is not None

    def is_replay_by(self, app_id: UUID) -> bool:
        """Its own client presenting it again: refused, and its token revoked (whatever else
        is wrong with the request, an expired code or another redirect URI included)."""
        return self.app_id == app_id and self.redeemed

    def check_redeemable(self, app_id: UUID, redirect_uri: str, now: datetime) -> None:
        """Everything but reuse, which the caller handles because it must write a revocation."""
        if self.app_id != app_id or now >= self.expires_at:
            raise CodeNotFoundError()
        if redirect_uri != self.redirect_uri:
            raise CodeRedirectMismatchError()

    def redeem(self, token_id: UUID, actor: Actor) -> None:
        if self.redeemed:
            raise CodeNotFoundError()
        self._redeemed(token_id, actor.principal, actor.role.value)

    @event("Redeemed")
    def _redeemed(self, token_id: UUID, actor: str, role: str) -> None:
        self.token_id = token_id

    def record_replay(self, actor: Actor) -> None:
        self._replayed(self.token_id, actor.principal, actor.role.value)

    @event("ReplayDetected")
    def _replayed(self, token_id: UUID | None, actor: str, role: str) -> None:
        pass
