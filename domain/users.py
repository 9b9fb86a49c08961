"""Platform users: the people who authorize apps, and whose sandbox memberships are limited.

A user is a sandbox user of at most 5 apps. The count is kept on the user, so accepting an
invitation writes to the app and the user in one transaction and neither limit can be raced past.
Owning an app does not count: a developer is a sandbox user of each app they own by ownership.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor, Role
from domain.errors import InvalidInputError, NotPermittedError, SandboxLimitError
from domain.identity import same_username, user_id
from domain.validation import optional_url, require_text

MAX_SANDBOX_APPS_PER_USER = 5
_USERNAME = re.compile(r"[A-Za-z0-9._]{1,30}")


def validate_username(username: str) -> str:
    """Usernames as the legacy platform allowed them: ASCII letters, digits, periods and
    underscores, at most 30 characters, and not periods alone (``.`` and ``..`` name path
    segments, not people). Case is kept for display; users are told apart by the canonical form
    (``domain.identity.canonical_username``)."""
    if not isinstance(username, str) or not _USERNAME.fullmatch(username):
        raise InvalidInputError("A username is 1 to 30 letters, digits, periods or underscores")
    if not username.strip("."):
        raise InvalidInputError("A username must not be made of periods only")
    return username


class User(Aggregate):
    """A registered platform user."""

    # Set by ``Registered`` and by no later event: a command that needs only these may read a
    # cached user without bringing it up to date (``LedgerService._registered_user``). An event
    # that changed one would have to end that.
    REGISTRATION_FACTS = ("id", "username", "full_name", "profile_picture")

    @staticmethod
    def create_id(username: str, **_: Any) -> UUID:
        return user_id(username)

    @classmethod
    def register(
        cls, username: str, full_name: str, profile_picture: str | None, actor: Actor
    ) -> User:
        if actor.role not in (Role.PLATFORM, Role.SYSTEM) and not same_username(
            actor.principal, username
        ):
            raise NotPermittedError("Users register themselves, or the platform registers them")
        return cls(
            username=validate_username(username),
            full_name=require_text(full_name, "full_name", 200),
            profile_picture=optional_url(profile_picture, "profile_picture"),
            actor=actor.principal,
            role=actor.role.value,
        )

    @event("Registered")
    def __init__(
        self, username: str, full_name: str, profile_picture: str, actor: str, role: str
    ) -> None:
        self.username = username
        self.full_name = full_name
        self.profile_picture = profile_picture
        self.sandbox_apps: list[UUID] = []
        self.password_hash = ""

    def set_password_hash(self, password_hash: str, actor: Actor) -> None:
        """Stores a memory-hard hash (argon2id) of the user's sign-in password; the password
        itself never reaches the domain."""
        if actor.role not in (Role.PLATFORM, Role.SYSTEM) and not same_username(
            actor.principal, self.username
        ):
            raise NotPermittedError("Only the user or the platform may set a user's password")
        if not password_hash.startswith("$argon2id$"):
            raise InvalidInputError("A password is stored only as an argon2id hash")
        self._password_set(password_hash, actor.principal, actor.role.value)

    @event("PasswordSet")
    def _password_set(self, password_hash: str, actor: str, role: str) -> None:
        self.password_hash = password_hash

    def join_sandbox(self, app_id: UUID, actor: Actor) -> None:
        if app_id in self.sandbox_apps:
            return
        if len(self.sandbox_apps) >= MAX_SANDBOX_APPS_PER_USER:
            raise SandboxLimitError(
                f"{self.username} is already a sandbox user of "
                f"{MAX_SANDBOX_APPS_PER_USER} apps, the most a user can be"
            )
        self._joined_sandbox(app_id, actor.principal, actor.role.value)

    @event("JoinedSandbox")
    def _joined_sandbox(self, app_id: UUID, actor: str, role: str) -> None:
        self.sandbox_apps.append(app_id)

    def leave_sandbox(self, app_id: UUID, actor: Actor, reason: str) -> None:
        if app_id in self.sandbox_apps:
            self._left_sandbox(app_id, actor.principal, actor.role.value, reason)

    @event("LeftSandbox")
    def _left_sandbox(self, app_id: UUID, actor: str, role: str, reason: str) -> None:
        self.sandbox_apps.remove(app_id)


@dataclass(frozen=True)
class UserInfo:
    """The user as the legacy token response shows it."""

    id: str
    username: str
    full_name: str
    profile_picture: str
