"""Commands of API keys (create, revoke, authenticate) and the reads a key holder may make."""

from __future__ import annotations

from uuid import UUID

from application.credentials import new_secret
from application.results import ApiKeyCreated, Written
from application.service import LedgerService, command
from domain.actors import Actor
from domain.api_keys import ApiKey, ApiKeyIndex, KeyRole, api_key_id
from domain.apps import App
from domain.errors import ApiKeyNotFoundError, InvalidApiKeyError
from domain.reviews import Review
from domain.users import User


class KeyQueries(LedgerService):
    """API keys as read: one, all, the key a request presents, and what its holder may see."""

    def api_key(self, key_id: UUID | str) -> ApiKey:
        try:
            kid = key_id if isinstance(key_id, UUID) else UUID(str(key_id))
        except ValueError:
            raise ApiKeyNotFoundError(str(key_id)) from None
        key = self._get(kid, ApiKey)
        if key is None:
            raise ApiKeyNotFoundError(str(key_id))
        return key

    def api_keys(self) -> list[ApiKey]:
        """Every key ever created, oldest first (revoked ones too)."""
        index = self._get(ApiKeyIndex.create_id(), ApiKeyIndex)
        return [self.api_key(kid) for kid in index.key_ids] if index else []

    def authenticate_api_key(self, presented: str | None) -> ApiKey:
        """The active key a request presents: one read by the digest-derived id, brought up to
        date from the store on every call (so a revocation stops the key on the very next
        request, in every process), not copied since it is only read. Writes nothing."""
        if not presented:
            raise InvalidApiKeyError()
        key = self._read(api_key_id(self.hasher.digest(presented)), ApiKey)
        if key is None or not key.active:
            raise InvalidApiKeyError("The API key is unknown or has been revoked")
        return key

    # --- what a key holder may read -----------------------------------------------------------

    def app_seen_by(self, key: ApiKey, client_id: str) -> App:
        app = self.app(client_id)
        key.require_may_see(app.owner_username)
        return app

    def user_seen_by(self, key: ApiKey, username: str) -> User:
        key.require_may_see(username)
        return self.user(username)

    def review_seen_by(self, key: ApiKey, review_id: UUID | str) -> Review:
        review = self.review(review_id)
        key.require_may_see(self._app_by_id(review.app_id).owner_username)
        return review


class KeyCommands(KeyQueries):
    """Creating and revoking API keys."""

    @command
    def create_api_key(
        self, *, name: str, role: KeyRole | str, principal: str | None, actor: Actor
    ) -> ApiKeyCreated:
        """A new random key; a developer key must name a registered user."""
        secret = new_secret()
        key = ApiKey.create(self.hasher.digest(secret), name, role, principal, actor)
        if key.key_role is KeyRole.DEVELOPER:
            self.user(key.principal)
        index = self._get(ApiKeyIndex.create_id(), ApiKeyIndex) or ApiKeyIndex.start(actor)
        index.add(key.id, actor)
        position = self._save(key, index)
        return ApiKeyCreated(position, key.id, key.name, key.key_role, key.principal, secret)

    @command
    def revoke_api_key(self, key_id: UUID | str, actor: Actor, reason: str = "") -> Written:
        key = self.api_key(key_id)
        key.revoke(actor, reason)
        return Written(self._save(key))
