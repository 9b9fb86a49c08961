"""Apps (OAuth clients): registration, credentials, security settings, sandbox users, mode.

Every app starts in sandbox mode. It may go live only once a review has approved at least one
permission (or while the platform lets unreviewed apps go live, as before the review process).
An approved app holds ``basic`` by default plus each permission a reviewer approved, until the
platform withdraws an approval.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor, Role
from domain.errors import (
    AppDisabledError,
    ApprovalNotFoundError,
    AppStateError,
    InvalidInputError,
    NotPermittedError,
    NotReviewedError,
    ReviewAlreadyOpenError,
    SandboxInvitationError,
    SandboxLimitError,
)
from domain.scopes import BASIC
from domain.validation import (
    optional_display_text,
    optional_email,
    optional_url,
    require_absolute_url,
    require_display_text,
    require_text,
)

MAX_SANDBOX_USERS_PER_APP = 10  # the owner included
MAX_REDIRECT_URIS = 20


class Mode(StrEnum):
    SANDBOX = "sandbox"
    LIVE = "live"


class SandboxStatus(StrEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"


def validate_redirect_uris(uris: list[str]) -> list[str]:
    if not uris:
        raise InvalidInputError("At least one redirect URI is required")
    if len(uris) > MAX_REDIRECT_URIS:
        raise InvalidInputError(f"At most {MAX_REDIRECT_URIS} redirect URIs can be registered")
    checked = [require_absolute_url(u, "redirect_uri", web_only=False) for u in uris]
    return list(dict.fromkeys(checked))


def effective_mode(switched_live: bool, approved: bool, unreviewed_live_allowed: bool) -> Mode:
    """The mode an app really runs in: live only if its owner switched it live and it is
    approved, or unreviewed while the platform allows that (before the review process, and
    until June 2016 moved every unreviewed app back to sandbox)."""
    if switched_live and (approved or unreviewed_live_allowed):
        return Mode.LIVE
    return Mode.SANDBOX


def live_mode_permits(
    approved_scopes: list[str] | tuple[str, ...], scope: str, unreviewed_live_allowed: bool
) -> bool:
    """In live mode an app may use what it was approved for (``basic`` comes with the first
    approval). While the platform lets unreviewed apps be live (before the review process), an
    app with no approval may use every scope."""
    if approved_scopes:
        return scope in approved_scopes
    return unreviewed_live_allowed


class App(Aggregate):
    """A third-party app registered by a developer. Its id's hex is its client_id."""

    @classmethod
    def register(
        cls,
        *,
        owner_id: UUID,
        owner_username: str,
        name: str,
        description: str,
        website: str,
        redirect_uris: list[str],
        secret_digest: str,
        secret_nonce: str,
        actor: Actor,
        company_name: str | None = None,
        contact_email: str | None = None,
        privacy_policy_url: str | None = None,
    ) -> App:
        if actor.role not in (Role.DEVELOPER, Role.PLATFORM, Role.USER):
            raise NotPermittedError("Apps are registered by developers")
        return cls(
            owner_id=owner_id,
            owner_username=owner_username,
            name=require_display_text(name, "name", 100),
            description=require_display_text(description, "description", multiline=True),
            website=require_absolute_url(website, "website"),
            company_name=optional_display_text(company_name, "company_name", 200),
            contact_email=optional_email(contact_email, "contact_email"),
            privacy_policy_url=optional_url(privacy_policy_url, "privacy_policy_url"),
            redirect_uris=validate_redirect_uris(redirect_uris),
            secret_digest=secret_digest,
            secret_nonce=secret_nonce,
            actor=actor.principal,
            role=actor.role.value,
        )

    @event("Registered")
    def __init__(
        self,
        owner_id: UUID,
        owner_username: str,
        name: str,
        description: str,
        website: str,
        company_name: str,
        contact_email: str,
        privacy_policy_url: str,
        redirect_uris: list[str],
        secret_digest: str,
        secret_nonce: str,
        actor: str,
        role: str,
    ) -> None:
        self.owner_id = owner_id
        self.owner_username = owner_username
        self.name = name
        self.description = description
        self.website = website
        self.company_name = company_name
        self.contact_email = contact_email
        self.privacy_policy_url = privacy_policy_url
        self.redirect_uris = list(redirect_uris)
        self.secret_digest = secret_digest
        self.secret_nonce = secret_nonce
        self.implicit_disabled = False
        self.signed_requests_enforced = False
        self.mode = Mode.SANDBOX
        self.disabled = False
        self.sandbox_users: dict[UUID, SandboxStatus] = {owner_id: SandboxStatus.ACCEPTED}
        self.approved_scopes: list[str] = []
        self.open_review_id: UUID | None = None

    # --- queries ------------------------------------------------------------------------------

    @property
    def client_id(self) -> str:
        return self.id.hex

    @property
    def is_approved(self) -> bool:
        """Approved once any review approved any permission, and not all withdrawn since."""
        return bool(self.approved_scopes)

    def effective_mode(self, unreviewed_live_allowed: bool) -> Mode:
        """Live only if switched live and approved, or unreviewed while the platform allows
        that (before the review process)."""
        return effective_mode(self.mode is Mode.LIVE, self.is_approved, unreviewed_live_allowed)

    def is_sandbox_user(self, user: UUID) -> bool:
        return self.sandbox_users.get(user) is SandboxStatus.ACCEPTED

    def require_active(self) -> None:
        if self.disabled:
            raise AppDisabledError()

    def require_manager(self, actor: Actor, action: str) -> None:
        """The owner manages an app; the platform may too."""
        if actor.role in (Role.PLATFORM, Role.SYSTEM):
            return
        if not self.is_owned_by(actor):
            raise NotPermittedError(f"Only the app's owner or the platform may {action}")

    def is_owned_by(self, actor: Actor) -> bool:
        """The owner acts as a developer (or as the user they are); usernames are compared
        canonically (``domain.identity.canonical_username``)."""
        return actor.is_username(self.owner_username, Role.DEVELOPER, Role.USER)

    # --- details and credentials ------------------------------------------------------------

    def update_details(
        self,
        actor: Actor,
        *,
        name: str | None = None,
        description: str | None = None,
        website: str | None = None,
        company_name: str | None = None,
        contact_email: str | None = None,
        privacy_policy_url: str | None = None,
        redirect_uris: list[str] | None = None,
    ) -> None:
        self.require_manager(actor, "change its details")
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = require_display_text(name, "name", 100)
        if description is not None:
            changes["description"] = require_display_text(
                description, "description", multiline=True
            )
        if website is not None:
            changes["website"] = require_absolute_url(website, "website")
        if company_name is not None:
            changes["company_name"] = optional_display_text(company_name, "company_name", 200)
        if contact_email is not None:
            changes["contact_email"] = optional_email(contact_email, "contact_email")
        if privacy_policy_url is not None:
            changes["privacy_policy_url"] = optional_url(privacy_policy_url, "privacy_policy_url")
        if redirect_uris is not None:
            changes["redirect_uris"] = validate_redirect_uris(redirect_uris)
        changes = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if not changes:
            raise InvalidInputError("No detail to change was given")
        self._details_updated(changes, actor.principal, actor.role.value)

    @event("DetailsUpdated")
    def _details_updated(self, changes: dict[str, Any], actor: str, role: str) -> None:
        for key, value in changes.items():
            setattr(self, key, list(value) if key == "redirect_uris" else value)

    def rotate_secret(self, secret_digest: str, secret_nonce: str, actor: Actor) -> None:
        """A new client secret; the old one stops working at once."""
        self.require_manager(actor, "rotate its client secret")
        self._secret_rotated(secret_digest, secret_nonce, actor.principal, actor.role.value)

    @event("SecretRotated")
    def _secret_rotated(self, secret_digest: str, secret_nonce: str, actor: str, role: str) -> None:
        self.secret_digest = secret_digest
        self.secret_nonce = secret_nonce

    def change_security(
        self,
        actor: Actor,
        *,
        disable_implicit: bool | None = None,
        enforce_signed_requests: bool | None = None,
    ) -> None:
        self.require_manager(actor, "change its security settings")
        implicit = self.implicit_disabled if disable_implicit is None else disable_implicit
        signed = (
            self.signed_requests_enforced
            if enforce_signed_requests is None
            else enforce_signed_requests
        )
        if (implicit, signed) == (self.implicit_disabled, self.signed_requests_enforced):
            raise InvalidInputError("The security settings already have these values")
        self._security_changed(implicit, signed, actor.principal, actor.role.value)

    @event("SecuritySettingsChanged")
    def _security_changed(
        self, disable_implicit: bool, enforce_signed_requests: bool, actor: str, role: str
    ) -> None:
        self.implicit_disabled = disable_implicit
        self.signed_requests_enforced = enforce_signed_requests

    # --- sandbox users ------------------------------------------------------------------------

    def invite_sandbox_user(self, user: UUID, username: str, actor: Actor) -> None:
        self.require_manager(actor, "invite sandbox users")
        if user in self.sandbox_users:
            raise SandboxInvitationError(
                f"{username} is already {self.sandbox_users[user].value} as a sandbox user"
            )
        if len(self.sandbox_users) >= MAX_SANDBOX_USERS_PER_APP:
            raise SandboxLimitError(
                f"An app can have at most {MAX_SANDBOX_USERS_PER_APP} sandbox users, its owner "
                "included (invitations count until withdrawn)"
            )
        self._sandbox_user_invited(user, username, actor.principal, actor.role.value)

    @event("SandboxUserInvited")
    def _sandbox_user_invited(self, user_id: UUID, username: str, actor: str, role: str) -> None:
        self.sandbox_users[user_id] = SandboxStatus.INVITED

    def accept_sandbox_invitation(self, user: UUID, actor: Actor) -> None:
        if self.sandbox_users.get(user) is not SandboxStatus.INVITED:
            raise SandboxInvitationError("There is no pending sandbox invitation for this user")
        self._sandbox_invitation_accepted(user, actor.principal, actor.role.value)

    @event("SandboxInvitationAccepted")
    def _sandbox_invitation_accepted(self, user_id: UUID, actor: str, role: str) -> None:
        self.sandbox_users[user_id] = SandboxStatus.ACCEPTED

    def remove_sandbox_user(self, user: UUID, actor: Actor, reason: str) -> None:
        """The owner (or platform) removes a user or withdraws an invitation; a user may leave
        (or decline), acting as herself."""
        if not actor.is_user(user):
            self.require_manager(actor, "remove sandbox users")
        if user == self.owner_id:
            raise SandboxInvitationError("The app's owner is always one of its sandbox users")
        if user not in self.sandbox_users:
            raise SandboxInvitationError("This user is not a sandbox user of the app")
        self._sandbox_user_removed(user, actor.principal, actor.role.value, reason)

    @event("SandboxUserRemoved")
    def _sandbox_user_removed(self, user_id: UUID, actor: str, role: str, reason: str) -> None:
        del self.sandbox_users[user_id]

    # --- mode and status ----------------------------------------------------------------------

    def go_live(self, actor: Actor, unreviewed_live_allowed: bool) -> None:
        self.require_manager(actor, "switch it to live mode")
        self.require_active()
        if self.effective_mode(unreviewed_live_allowed) is Mode.LIVE:
            raise AppStateError("The app is already in live mode")
        if not self.is_approved and not unreviewed_live_allowed:
            raise NotReviewedError()
        self._mode_changed(Mode.LIVE.value, actor.principal, actor.role.value, "")

    def return_to_sandbox(self, actor: Actor, reason: str = "") -> None:
        self.require_manager(actor, "switch it to sandbox mode")
        if self.mode is Mode.SANDBOX:
            raise AppStateError("The app is already in sandbox mode")
        self._mode_changed(Mode.SANDBOX.value, actor.principal, actor.role.value, reason)

    @event("ModeChanged")
    def _mode_changed(self, mode: str, actor: str, role: str, reason: str) -> None:
        self.mode = Mode(mode)

    def disable(self, actor: Actor, reason: str) -> None:
        actor.require(Role.PLATFORM, action="disable an app")
        if self.disabled:
            raise AppStateError("The app is already disabled")
        self._disabled(actor.principal, actor.role.value, require_text(reason, "reason"))

    @event("Disabled")
    def _disabled(self, actor: str, role: str, reason: str) -> None:
        self.disabled = True

    def enable(self, actor: Actor, reason: str) -> None:
        actor.require(Role.PLATFORM, action="enable an app")
        if not self.disabled:
            raise AppStateError("The app is not disabled")
        self._enabled(actor.principal, actor.role.value, require_text(reason, "reason"))

    @event("Enabled")
    def _enabled(self, actor: str, role: str, reason: str) -> None:
        self.disabled = False

    # --- reviews and approvals ----------------------------------------------------------------

    def open_review(self, review_id: UUID, actor: Actor) -> None:
        self.require_manager(actor, "submit it for review")
        if self.open_review_id is not None:
            raise ReviewAlreadyOpenError()
        self._review_opened(review_id, actor.principal, actor.role.value)

    @event("ReviewOpened")
    def _review_opened(self, review_id: UUID, actor: str, role: str) -> None:
        self.open_review_id = review_id

    def close_review(self, review_id: UUID, actor: Actor) -> None:
        if self.open_review_id == review_id:
            self._review_closed(review_id, actor.principal, actor.role.value)

    @event("ReviewClosed")
    def _review_closed(self, review_id: UUID, actor: str, role: str) -> None:
        self.open_review_id = None

    def approve_permission(
        self, scope: str, review_id: UUID, actor: Actor, reason: str = ""
    ) -> None:
        """Records a reviewer's approval (with the reviewer's reason, so the evidence of a
        decision carries it); the first one brings ``basic`` with it."""
        scopes = [s for s in dict.fromkeys((BASIC, scope)) if s not in self.approved_scopes]
        if scopes:
            self._permission_approved(
                scope, scopes, review_id, actor.principal, actor.role.value, reason
            )

    @event("PermissionApproved")
    def _permission_approved(
        self,
        scope: str,
        scopes: list[str],
        review_id: UUID,
        actor: str,
        role: str,
        reason: str,
    ) -> None:
        self.approved_scopes.extend(scopes)

    def withdraw_approval(
        self, scope: str | None, actor: Actor, reason: str, unreviewed_live_allowed: bool = False
    ) -> None:
        """The platform withdraws one approved permission, or (scope None, or ``basic``) the
        whole approval; an app left with no approval is back in sandbox mode."""
        actor.require(Role.PLATFORM, action="withdraw an app's approval")
        reason = require_text(reason, "reason")
        if scope is None or scope == BASIC:
            if not self.approved_scopes:
                raise ApprovalNotFoundError("The app holds no approval to withdraw")
            withdrawn = list(self.approved_scopes)
        elif scope in self.approved_scopes:
            withdrawn = [scope]
        else:
            raise ApprovalNotFoundError(f"The app is not approved for {scope}")
        self._approval_withdrawn(withdrawn, actor.principal, actor.role.value, reason)
        if self.mode is Mode.LIVE and not self.approved_scopes and not unreviewed_live_allowed:
            self._mode_changed(Mode.SANDBOX.value, actor.principal, actor.role.value, reason)

    @event("ApprovalWithdrawn")
    def _approval_withdrawn(self, scopes: list[str], actor: str, role: str, reason: str) -> None:
        self.approved_scopes = [s for s in self.approved_scopes if s not in scopes]

    def live_permits(self, scope: str, unreviewed_live_allowed: bool) -> bool:
        return live_mode_permits(self.approved_scopes, scope, unreviewed_live_allowed)
