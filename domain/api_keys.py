"""API keys: how operators, reviewers, developers, gateways and auditors reach the ledger's API.

A key is a random 256-bit secret shown once; the ledger keeps only its keyed digest, and the key's
aggregate id derives from that digest, so authenticating a request is one primary-key read (which
also sees a revocation at once). Each key has a role; what each role may do is the table below,
and the domain ``Actor`` a key acts as is derived from its role here, once.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor, Role
from domain.errors import ApiKeyRoleError, ApiKeyStateError, InvalidInputError, NotPermittedError
from domain.identity import LEDGER_NAMESPACE, same_username
from domain.users import validate_username
from domain.validation import require_text

API_KEY_INDEX_ID = uuid5(LEDGER_NAMESPACE, "api-key-index")


def api_key_id(digest: str) -> UUID:
    """One key per secret: the id is derived from the secret's keyed digest."""
    return uuid5(LEDGER_NAMESPACE, f"api-key:{digest}")


class KeyRole(StrEnum):
    """What a key is for."""

    ADMIN = "admin"  # the platform: every management command
    REVIEWER = "reviewer"  # decides reviews, reads
    DEVELOPER = "developer"  # manages the apps its principal (a username) registered
    GATEWAY = "gateway"  # permission decisions and token introspection
    AUDITOR = "auditor"  # read-only history: explanations, lookups, reads


class Capability(StrEnum):
    """A family of API endpoints, each open to a fixed set of key roles."""

    ADMINISTER = "administer"  # users, platform policy, app status, withdrawals, keys
    MANAGE_APPS = "manage_apps"  # an app's details, credentials, sandbox users, reviews, mode
    REVIEW = "review"  # reviewers' decisions
    READ = "read"  # apps, users, reviews, the catalogue
    DECIDE = "decide"  # check and gate
    EXPLAIN = "explain"  # explanations and lookups, as of any moment
    INTROSPECT = "introspect"  # RFC 7662 token introspection
    AUDIT = "audit"  # the audit trail (changes, histories, exports) and its evidence (proofs)


ROLES_BY_CAPABILITY: dict[Capability, frozenset[KeyRole]] = {
    Capability.ADMINISTER: frozenset({KeyRole.ADMIN}),
    Capability.MANAGE_APPS: frozenset({KeyRole.ADMIN, KeyRole.DEVELOPER}),
    Capability.REVIEW: frozenset({KeyRole.ADMIN, KeyRole.REVIEWER}),
    Capability.READ: frozenset(
        {KeyRole.ADMIN, KeyRole.REVIEWER, KeyRole.DEVELOPER, KeyRole.AUDITOR}
    ),
    Capability.DECIDE: frozenset({KeyRole.ADMIN, KeyRole.GATEWAY}),
    Capability.EXPLAIN: frozenset({KeyRole.ADMIN, KeyRole.GATEWAY, KeyRole.AUDITOR}),
    Capability.INTROSPECT: frozenset({KeyRole.ADMIN, KeyRole.GATEWAY}),
    Capability.AUDIT: frozenset({KeyRole.ADMIN, KeyRole.AUDITOR}),
}

# The domain role a key acts in when it writes; gateways and auditors never write.
_ACTOR_ROLE: dict[KeyRole, Role] = {
    KeyRole.ADMIN: Role.PLATFORM,
    KeyRole.REVIEWER: Role.REVIEWER,
    KeyRole.DEVELOPER: Role.DEVELOPER,
}


def roles_allowed(capability: Capability) -> tuple[KeyRole, ...]:
    """The roles that may use a capability, in a stable order (for documentation)."""
    allowed = ROLES_BY_CAPABILITY[capability]
    return tuple(role for role in KeyRole if role in allowed)


def parse_key_role(value: str) -> KeyRole:
    try:
        return KeyRole(value)
    except ValueError:
        raise InvalidInputError(
            f"Unknown API key role {value!r}; roles: {', '.join(r.value for r in KeyRole)}"
        ) from None


class ApiKey(Aggregate):
    """One API key. Its events record the key's own role as ``key_role``: ``role`` is, as in
    every event of the ledger, the role of the actor who caused the event."""

    @staticmethod
    def create_id(digest: str, **_: Any) -> UUID:
        return api_key_id(digest)

    @classmethod
    def create(
        cls, digest: str, name: str, key_role: KeyRole | str, principal: str | None, actor: Actor
    ) -> ApiKey:
        """Only the platform creates keys. A developer key names the developer's username;
        other keys act under their principal, by default the key's name."""
        actor.require(Role.PLATFORM, Role.SYSTEM, action="create an API key")
        name = require_text(name, "name", 100)
        role = key_role if isinstance(key_role, KeyRole) else parse_key_role(key_role)
        principal = (principal or "").strip()
        if role is KeyRole.DEVELOPER:
            if not principal:
                raise InvalidInputError(
                    "A developer key needs its developer's username as principal"
                )
            principal = validate_username(principal)
        principal = require_text(principal or name, "principal", 100)
        return cls(
            digest=digest,
            name=name,
            key_role=role.value,
            principal=principal,
            actor=actor.principal,
            role=actor.role.value,
        )

    @event("Created")
    def __init__(
        self, digest: str, name: str, key_role: str, principal: str, actor: str, role: str
    ) -> None:
        self.name = name
        self.key_role = KeyRole(key_role)
        self.principal = principal
        self.revoked = False
        self.created_by = actor

    @property
    def active(self) -> bool:
        return not self.revoked

    def revoke(self, actor: Actor, reason: str) -> None:
        actor.require(Role.PLATFORM, Role.SYSTEM, action="revoke an API key")
        if self.revoked:
            raise ApiKeyStateError("The API key has already been revoked")
        self._revoked(actor.principal, actor.role.value, reason)

    @event("Revoked")
    def _revoked(self, actor: str, role: str, reason: str) -> None:
        self.revoked = True

    # --- what the key may do ------------------------------------------------------------------

    def may(self, capability: Capability) -> bool:
        return self.key_role in ROLES_BY_CAPABILITY[capability]

    def require(self, capability: Capability) -> None:
        """Refuses (403) a key whose role may not use the capability."""
        if not self.may(capability):
            allowed = ", ".join(r.value for r in roles_allowed(capability))
            raise ApiKeyRoleError(
                f"An API key with role {self.key_role.value} may not {capability.value} "
                f"(allowed roles: {allowed})"
            )

    @property
    def actor(self) -> Actor:
        """Who the key acts as in the events it causes."""
        role = _ACTOR_ROLE.get(self.key_role)
        if role is None:
            raise NotPermittedError(
                f"An API key with role {self.key_role.value} is read-only and cannot change "
                "the ledger"
            )
        return Actor(self.principal, role)

    def require_may_see(self, owner_username: str | None) -> None:
        """Developer keys see only their own apps and reviews (and their own user); the other
        reading roles see everything."""
        if self.key_role is KeyRole.DEVELOPER and (
            owner_username is None or not same_username(owner_username, self.principal)
        ):
            raise NotPermittedError(
                "A developer key may only read the apps its developer registered"
            )


class ApiKeyIndex(Aggregate):
    """Every key ever created, so keys can be listed without scanning the log. Adding to the
    index in the key's own transaction makes a concurrent creation a storage conflict that the
    command retries."""

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return API_KEY_INDEX_ID

    @classmethod
    def start(cls, actor: Actor) -> ApiKeyIndex:
        return cls(actor=actor.principal, role=actor.role.value)

    @event("Created")
    def __init__(self, actor: str, role: str) -> None:
        self.key_ids: list[UUID] = []

    def add(self, key_id: UUID, actor: Actor) -> None:
        if key_id not in self.key_ids:
            self._added(key_id, actor.principal, actor.role.value)

    @event("KeyAdded")
    def _added(self, key_id: UUID, actor: str, role: str) -> None:
        self.key_ids.append(key_id)
