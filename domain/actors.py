"""Who causes an event: every event records the principal and the role it acted in."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from domain.errors import NotPermittedError
from domain.identity import same_username, user_id


class Role(StrEnum):
    """The capacities in which a principal acts on the ledger."""

    PLATFORM = "platform"
    REVIEWER = "reviewer"
    DEVELOPER = "developer"
    USER = "user"
    CLIENT = "client"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """A principal (a username, an app's client_id, an API key's name) acting in a role."""

    principal: str
    role: Role

    @classmethod
    def platform(cls, principal: str = "platform") -> Actor:
        return cls(principal, Role.PLATFORM)

    @classmethod
    def reviewer(cls, principal: str) -> Actor:
        return cls(principal, Role.REVIEWER)

    @classmethod
    def user(cls, username: str) -> Actor:
        return cls(username, Role.USER)

    @classmethod
    def developer(cls, username: str) -> Actor:
        return cls(username, Role.DEVELOPER)

    @classmethod
    def client(cls, client_id: str) -> Actor:
        return cls(client_id, Role.CLIENT)

    def require(self, *roles: Role, action: str) -> None:
        """Refuses the action unless this actor holds one of the roles."""
        if self.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise NotPermittedError(
                f"{self.principal!r} acting as {self.role.value} may not {action} "
                f"(allowed: {allowed})"
            )

    def is_username(self, username: str, *roles: Role) -> bool:
        """Whether this actor is the user of that username (compared canonically,
        ``domain.identity.canonical_username``) acting in one of the roles."""
        return self.role in roles and same_username(self.principal, username)

    def is_user(self, user: UUID) -> bool:
        """Whether this actor is that platform user (by id), acting for herself."""
        return self.role is Role.USER and user_id(self.principal) == user
