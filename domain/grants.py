"""Grants: the scopes a user has authorized an app for, and the codes exchanged under it.

One grant per (user, app), by a deterministic id. Re-authorizing with more scopes adds to it
(the seed: "direct the user to the authorization URL with that additional scope"); deauthorizing
clears it, and a later authorization starts afresh.

Every code exchange writes to the grant (``TokenIssued``, with the code's digest), so the grant
is where a code's single use is kept (RFC 6749 §4.1.2): a second exchange finds the digest here,
and two concurrent exchanges of one code, or an exchange and a deauthorization, collide on the
grant's version instead of both succeeding.
"""

from __future__ import annotations

from copy import deepcopy
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor, Role
from domain.errors import CodeNotFoundError, GrantNotFoundError, NotPermittedError
from domain.identity import grant_id

# How long a grant remembers a redeemed code: far longer than a code lives (``CODE_LIFETIME``),
# so a replay within a code's life is always caught; an older one fails as expired anyway.
REPLAY_MEMORY = timedelta(hours=24)

_IMMUTABLE = frozenset({str, int, bool, type(None), UUID, datetime})


class RedeemedCodes:
    """Digests of the codes redeemed under a grant, with the token each issued and when.

    Kept in the order the exchanges happened, so forgetting the ones older than the replay memory
    only looks at the oldest. Keys and values are immutable, so a deep copy (which the aggregate
    cache makes of a grant for every command) is a copy of the mapping, whatever its size."""

    __slots__ = ("_entries",)

    def __init__(self, entries: dict[str, tuple[UUID, datetime]] | None = None) -> None:
        self._entries: dict[str, tuple[UUID, datetime]] = dict(entries or {})

    def token_for(self, code_digest: str) -> UUID | None:
        """The token a redeemed code issued, or None if the grant remembers no such code."""
        found = self._entries.get(code_digest)
        return found[0] if found is not None else None

    def add(self, code_digest: str, token_id: UUID, at: datetime, memory: timedelta) -> None:
        """Remembers a redemption; forgets those older than ``memory`` before ``at``."""
        entries = self._entries
        entries[code_digest] = (token_id, at)
        cutoff = at - memory
        while entries:
            oldest = next(iter(entries))
            if entries[oldest][1] >= cutoff:
                break
            del entries[oldest]

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, code_digest: object) -> bool:
        return code_digest in self._entries

    def __deepcopy__(self, memo: dict[int, Any]) -> RedeemedCodes:
        return RedeemedCodes(self._entries)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RedeemedCodes) and self._entries == other._entries

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RedeemedCodes({len(self._entries)} codes)"


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
        self.redeemed_codes = RedeemedCodes()

    def __deepcopy__(self, memo: dict[int, Any]) -> Grant:
        """The copy the aggregate cache makes for every command that loads the grant (each code
        exchange): ids, times and numbers are immutable and shared, only the rest is copied."""
        copied = object.__new__(type(self))
        memo[id(self)] = copied
        copied.__dict__.update(
            (name, value if type(value) in _IMMUTABLE else deepcopy(value, memo))
            for name, value in self.__dict__.items()
        )
        return copied

    @property
    def active(self) -> bool:
        return bool(self.scopes)

    def adds(self, scopes: tuple[str, ...] | list[str]) -> bool:
        """Whether a consent to ``scopes`` would add any to the grant."""
        return any(s not in self.scopes for s in scopes)

    def grant(self, scopes: tuple[str, ...], mode: str, actor: Actor) -> None:
        """Records a consent: ``scopes`` are those added, ``requested`` all that were asked.

        The event is written even when it adds nothing, for a consent that issues a token at once
        (the implicit flow), so that a concurrent deauthorization conflicts with it instead of
        silently winning. A code needs no such write: it carries the grant's deauthorization
        count, and its exchange writes to the grant."""
        added = list(dict.fromkeys(s for s in scopes if s not in self.scopes))
        self._scopes_granted(added, list(scopes), mode, actor.principal, actor.role.value)

    @event("ScopesGranted")
    def _scopes_granted(
        self, scopes: list[str], requested: list[str], mode: str, actor: str, role: str
    ) -> None:
        self.scopes.extend(scopes)

    def token_for_code(self, code_digest: str) -> UUID | None:
        """The token an earlier exchange of this code issued (a replay), or None."""
        return self.redeemed_codes.token_for(code_digest)

    def record_token(
        self, token_id: UUID, code_digest: str, issued_at: datetime, actor: Actor
    ) -> None:
        """A code was exchanged under this grant: remembered so that it is used once, and
        written so that a concurrent deauthorization and the exchange cannot both succeed."""
        if code_digest in self.redeemed_codes:
            raise CodeNotFoundError()
        self._token_issued(token_id, code_digest, issued_at, actor.principal, actor.role.value)

    @event("TokenIssued")
    def _token_issued(
        self, token_id: UUID, code_digest: str, issued_at: datetime, actor: str, role: str
    ) -> None:
        # The exchange's own time, never the clock: a replay forgets exactly what it forgot.
        self.redeemed_codes.add(code_digest, token_id, issued_at, REPLAY_MEMORY)

    def record_replay(self, code_digest: str, actor: Actor) -> None:
        """A redeemed code was presented again (RFC 6749 §4.1.2); its token is revoked with it."""
        token_id = self.redeemed_codes.token_for(code_digest)
        if token_id is None:
            raise CodeNotFoundError()
        self._code_replayed(token_id, code_digest, actor.principal, actor.role.value)

    @event("CodeReplayed")
    def _code_replayed(self, token_id: UUID, code_digest: str, actor: str, role: str) -> None:
        pass

    def deauthorize(self, actor: Actor, reason: str) -> None:
        """The user (or the platform) withdraws every scope; the app's tokens stop working."""
        if not actor.is_user(self.user_id) and actor.role is not Role.PLATFORM:
            raise NotPermittedError("Only the user or the platform may deauthorize an app")
        if not self.active:
            raise GrantNotFoundError()
        self._deauthorized(actor.principal, actor.role.value, reason)

    @event("Deauthorized")
    def _deauthorized(self, actor: str, role: str, reason: str) -> None:
        self.scopes = []
        self.deauthorizations += 1
