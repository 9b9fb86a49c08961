"""Commands on apps: registration, details, credentials, security, sandbox users, mode, status."""

from __future__ import annotations

from application.credentials import new_secret
from application.results import ClientRegistered, SecretRotated, Written
from application.service import LedgerService, command
from domain.actors import Actor, Role
from domain.apps import App
from domain.errors import NotPermittedError
from domain.identity import same_username


class AppQueries(LedgerService):
    """What an app's readers need beyond the app itself."""

    def client_signing_secret(self, client_id: str) -> str:
        """The current client secret, recomputed to verify signed requests."""
        return self.hasher.derive(self.app(client_id).secret_nonce)


class AppCommands(LedgerService):
    """Registration, details, secrets, security, sandbox users, mode and suspension."""

    @command
    def register_app(
        self,
        *,
        owner: str,
        name: str,
        description: str,
        website: str,
        redirect_uris: list[str],
        actor: Actor,
        company_name: str | None = None,
        contact_email: str | None = None,
        privacy_policy_url: str | None = None,
    ) -> ClientRegistered:
        """Registers an app owned by a platform user; the secret is shown only in the answer."""
        if actor.role is not Role.PLATFORM and not same_username(actor.principal, owner):
            raise NotPermittedError("Developers register apps in their own name")
        owner_user = self.user(owner)
        secret, digest, nonce = self._new_client_secret()
        app = App.register(
            owner_id=owner_user.id,
            owner_username=owner_user.username,
            name=name,
            description=description,
            website=website,
            redirect_uris=redirect_uris,
            secret_digest=digest,
            secret_nonce=nonce,
            actor=actor,
            company_name=company_name,
            contact_email=contact_email,
            privacy_policy_url=privacy_policy_url,
        )
        return ClientRegistered(self._save(app), app.client_id, secret)

    def _new_client_secret(self) -> tuple[str, str, str]:
        """A client secret, its digest (to authenticate) and its nonce (to sign with)."""
        nonce = new_secret()
        secret = self.hasher.derive(nonce)
        return secret, self.hasher.digest(secret), nonce

    @command
    def update_app_details(
        self,
        client_id: str,
        actor: Actor,
        *,
        name: str | None = None,
        description: str | None = None,
        website: str | None = None,
        company_name: str | None = None,
        contact_email: str | None = None,
        privacy_policy_url: str | None = None,
        redirect_uris: list[str] | None = None,
    ) -> Written:
        app = self.app(client_id)
        app.update_details(
            actor,
            name=name,
            description=description,
            website=website,
            company_name=company_name,
            contact_email=contact_email,
            privacy_policy_url=privacy_policy_url,
            redirect_uris=redirect_uris,
        )
        return Written(self._save(app))

    @command
    def rotate_client_secret(self, client_id: str, actor: Actor) -> SecretRotated:
        app = self.app(client_id)
        secret, digest, nonce = self._new_client_secret()
        app.rotate_secret(digest, nonce, actor)
        return SecretRotated(self._save(app), secret)

    @command
    def change_app_security(
        self,
        client_id: str,
        actor: Actor,
        *,
        disable_implicit: bool | None = None,
        enforce_signed_requests: bool | None = None,
    ) -> Written:
        app = self.app(client_id)
        app.change_security(
            actor,
            disable_implicit=disable_implicit,
            enforce_signed_requests=enforce_signed_requests,
        )
        return Written(self._save(app))

    @command
    def invite_sandbox_user(self, client_id: str, username: str, actor: Actor) -> Written:
        app = self.app(client_id)
        user = self.user(username)
        app.invite_sandbox_user(user.id, user.username, actor)
        return Written(self._save(app))

    @command
    def accept_sandbox_invitation(self, client_id: str, username: str, actor: Actor) -> Written:
        """The invited user accepts; the app's and the user's limits are saved together."""
        if actor.role is not Role.PLATFORM and not same_username(actor.principal, username):
            raise NotPermittedError("Only the invited user may accept a sandbox invitation")
        app = self.app(client_id)
        user = self.user(username)
        app.accept_sandbox_invitation(user.id, actor)
        user.join_sandbox(app.id, actor)
        return Written(self._save(app, user))

    @command
    def remove_sandbox_user(
        self, client_id: str, username: str, actor: Actor, reason: str = ""
    ) -> Written:
        app = self.app(client_id)
        user = self.user(username)
        app.remove_sandbox_user(user.id, actor, reason)
        user.leave_sandbox(app.id, actor, reason)
        return Written(self._save(app, user))

    @command
    def go_live(self, client_id: str, actor: Actor) -> Written:
        app = self.app(client_id)
        catalogue = self.catalogue()
        app.go_live(actor, catalogue.unreviewed_live_allowed)
        index = None
        if not app.is_approved:  # live unreviewed: remembered for a later move to sandbox
            index = self._unreviewed_live_apps()
            index.add(app.id, actor)
        return Written(self._save(catalogue, app, index))

    @command
    def return_to_sandbox(self, client_id: str, actor: Actor) -> Written:
        app = self.app(client_id)
        app.return_to_sandbox(actor)
        return Written(self._save(app))

    @command
    def disable_app(self, client_id: str, actor: Actor, reason: str) -> Written:
        app = self.app(client_id)
        app.disable(actor, reason)
        return Written(self._save(app))

    @command
    def enable_app(self, client_id: str, actor: Actor, reason: str) -> Written:
        app = self.app(client_id)
        app.enable(actor, reason)
        return Written(self._save(app))
