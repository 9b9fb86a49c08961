"""Platform users' commands and queries: registration, passwords, the profile a client sees.

Password hashing (argon2id) happens at the edge; the ledger records only the hash.
"""

from __future__ import annotations

from application.results import Created, Written
from application.service import LedgerService, command
from domain.actors import Actor
from domain.errors import UsernameTakenError
from domain.identity import user_id
from domain.users import User


class UserCommands(LedgerService):
    @command
    def register_user(
        self, username: str, full_name: str, profile_picture: str | None, actor: Actor
    ) -> Created:
        if self._get(user_id(username), User) is not None:
            raise UsernameTakenError(username)
        user = User.register(username, full_name, profile_picture, actor)
        return Created(self._save(user), user.id)

    @command
    def set_user_password(self, username: str, password_hash: str, actor: Actor) -> Written:
        user = self.user(username)
        user.set_password_hash(password_hash, actor)
        return Written(self._save(user))
