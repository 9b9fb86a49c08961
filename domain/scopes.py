"""The scope catalogue: which permissions exist, and the platform's policy for each over the years.

The catalogue is one aggregate, so its whole policy history (applications closed in late 2017,
scopes switched off in April 2018, unreviewed apps sent back to sandbox in June 2016) is one
ordered stream. Cascades such as retirement take effect through this one event, not an event per
app or token: readers combine it with the rest of the log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor, Role
from domain.errors import (
    InvalidInputError,
    InvalidScopeError,
    NotPermittedError,
    PolicyUnchangedError,
    ScopeApplicationsClosedError,
    ScopeRetiredError,
)
from domain.identity import SCOPE_CATALOGUE_ID

BASIC = "basic"

# The seed's catalogue: (name, description, applications open?)
SEED_SCOPES: tuple[tuple[str, str, bool], ...] = (
    ("basic", "to read a user's profile info and media", True),
    ("public_content", "to read any public profile info and media on a user's behalf", False),
    ("follower_list", "to read the list of followers and followed-by users", False),
    ("comments", "to post and delete comments on a user's behalf", False),
    ("relationships", "to follow and unfollow accounts on a user's behalf", False),
    ("likes", "to like and unlike media on a user's behalf", False),
)


def parse_scope_param(value: str | None, known: frozenset[str] | set[str]) -> tuple[str, ...]:
    """Parses an OAuth ``scope`` parameter as the legacy platform did (RFC 6749 §3.3).

    Separated by spaces (a URL's ``+`` or ``%20`` arrives here decoded as a space; any other
    white space is part of a name, so it is refused as unknown); omitted means
    ``basic``; present but empty is invalid; unknown names are listed in the error.
    """
    if value is None:
        return (BASIC,)
    names = [name for name in value.split(" ") if name]
    if not names:
        raise InvalidScopeError(
            "The scope parameter is empty (scope=): omit it, or give a non-empty, "
            "space-separated list of scopes"
        )
    unknown = sorted({n for n in names if n not in known})
    if unknown:
        raise InvalidScopeError(
            f"Invalid scope: {', '.join(unknown)}. Known scopes: {', '.join(sorted(known))}"
        )
    return tuple(sorted(set(names)))


@dataclass
class ScopePolicy:
    """One scope's state in the catalogue."""

    description: str
    applications_open: bool
    retired: bool = False


def _require_platform(actor: Actor, action: str) -> None:
    if actor.role is not Role.PLATFORM and actor.role is not Role.SYSTEM:
        raise NotPermittedError(f"Only the platform may {action}")


class ScopeCatalogue(Aggregate):
    """The platform's scopes and the policy that governs them."""

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return SCOPE_CATALOGUE_ID

    @classmethod
    def seed(cls, actor: Actor) -> ScopeCatalogue:
        """The catalogue as the seed document describes it (basic open, the rest closed)."""
        return cls(
            scopes=[list(s) for s in SEED_SCOPES],
            unreviewed_live_allowed=False,
            actor=actor.principal,
            role=actor.role.value,
        )

    @event("Created")
    def __init__(
        self, scopes: list[list[Any]], unreviewed_live_allowed: bool, actor: str, role: str
    ) -> None:
        self.scopes: dict[str, ScopePolicy] = {
            name: ScopePolicy(description, bool(open_)) for name, description, open_ in scopes
        }
        self.unreviewed_live_allowed = unreviewed_live_allowed

    # --- queries ------------------------------------------------------------------------------

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.scopes)

    def parse(self, value: str | None) -> tuple[str, ...]:
        return parse_scope_param(value, self.names)

    def policy(self, scope: str) -> ScopePolicy:
        try:
            return self.scopes[scope]
        except KeyError:
            raise InvalidScopeError(f"Invalid scope: {scope}") from None

    def require_not_retired(self, scopes: tuple[str, ...] | list[str]) -> None:
        for scope in scopes:
            if self.policy(scope).retired:
                raise ScopeRetiredError(scope)

    def require_open_for_review(self, scope: str) -> None:
        policy = self.policy(scope)
        if policy.retired:
            raise ScopeRetiredError(scope)
        if not policy.applications_open:
            raise ScopeApplicationsClosedError(scope)

    # --- platform commands --------------------------------------------------------------------

    def introduce_scope(
        self, name: str, description: str, applications_open: bool, actor: Actor, reason: str
    ) -> None:
        """Adds a scope (as public_content and follower_list were in November 2015)."""
        _require_platform(actor, "introduce a scope")
        if not re.fullmatch(r"[a-z0-9_]*[a-z0-9][a-z0-9_]*", name):
            raise InvalidInputError("A scope name is lower-case letters, digits and underscores")
        if not description.strip():
            raise InvalidInputError("A scope needs a description")
        if name in self.scopes:
            raise PolicyUnchangedError(f"The scope {name} already exists")
        self._introduced(
            name, description, applications_open, actor.principal, actor.role.value, reason
        )

    @event("ScopeIntroduced")
    def _introduced(
        self,
        scope: str,
        description: str,
        applications_open: bool,
        actor: str,
        role: str,
        reason: str,
    ) -> None:
        self.scopes[scope] = ScopePolicy(description, applications_open)

    def close_applications(self, scope: str, actor: Actor, reason: str) -> None:
        """Stops accepting reviews for a scope; apps already approved keep it (late 2017)."""
        _require_platform(actor, "close applications for a scope")
        policy = self.policy(scope)
        if policy.retired:
            raise ScopeRetiredError(scope)
        if not policy.applications_open:
            raise PolicyUnchangedError(f"Applications for {scope} are already closed")
        self._applications_closed(scope, actor.principal, actor.role.value, reason)

    @event("ApplicationsClosed")
    def _applications_closed(self, scope: str, actor: str, role: str, reason: str) -> None:
        self.scopes[scope].applications_open = False

    def reopen_applications(self, scope: str, actor: Actor, reason: str) -> None:
        _require_platform(actor, "reopen applications for a scope")
        policy = self.policy(scope)
        if policy.retired:
            raise ScopeRetiredError(scope)
        if policy.applications_open:
            raise PolicyUnchangedError(f"Applications for {scope} are already open")
        self._applications_reopened(scope, actor.principal, actor.role.value, reason)

    @event("ApplicationsReopened")
    def _applications_reopened(self, scope: str, actor: str, role: str, reason: str) -> None:
        self.scopes[scope].applications_open = True

    def retire(self, scope: str, actor: Actor, reason: str) -> None:
        """Switches a scope off for everyone at once: every approval and grant of it stops
        counting (April 2018). Retirement is final."""
        _require_platform(actor, "retire a scope")
        if self.policy(scope).retired:
            raise PolicyUnchangedError(f"The scope {scope} is already retired")
        if not reason.strip():
            raise InvalidInputError("Retiring a scope needs a reason")
        self._retired(scope, actor.principal, actor.role.value, reason)

    @event("ScopeRetired")
    def _retired(self, scope: str, actor: str, role: str, reason: str) -> None:
        policy = self.scopes[scope]
        policy.retired = True
        policy.applications_open = False

    def allow_unreviewed_live(self, actor: Actor, reason: str) -> None:
        """Lets apps go live without an approved review, as before the review process."""
        _require_platform(actor, "allow unreviewed apps to go live")
        if self.unreviewed_live_allowed:
            raise PolicyUnchangedError("Unreviewed apps may already go live")
        self._unreviewed_live_allowed(actor.principal, actor.role.value, reason)

    @event("UnreviewedLiveAllowed")
    def _unreviewed_live_allowed(self, actor: str, role: str, reason: str) -> None:
        self.unreviewed_live_allowed = True

    def move_unreviewed_apps_to_sandbox(self, actor: Actor, reason: str) -> None:
        """Every app without an approved review is back in sandbox mode (June 2016).

        One event: an app's effective mode is read from its own state and this policy, so no
        event per app is written and none can be missed."""
        _require_platform(actor, "move unreviewed apps to sandbox")
        if not self.unreviewed_live_allowed:
            raise PolicyUnchangedError("Unreviewed apps are already held in sandbox mode")
        self._unreviewed_moved_to_sandbox(actor.principal, actor.role.value, reason)

    @event("UnreviewedAppsMovedToSandbox")
    def _unreviewed_moved_to_sandbox(self, actor: str, role: str, reason: str) -> None:
        self.unreviewed_live_allowed = False
