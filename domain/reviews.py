"""App reviews: submission for a use case, and a reviewer's decision on each permission.

Submission rules are checked here once: a valid use case, permissions within its set, none whose
applications are closed, a description per permission, a screencast, and the app's company name,
contact email and privacy policy URL. Each permission is then approved or rejected with a reason;
the review completes when none is pending.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor, Role
from domain.errors import InvalidInputError, ReviewDecisionError, ReviewRefusedError
from domain.use_cases import require_permissions_fit, use_case
from domain.validation import require_absolute_url, require_text

if TYPE_CHECKING:
    from domain.apps import App
    from domain.scopes import ScopeCatalogue


class PermissionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Review(Aggregate):
    """One submission of an app for review."""

    @classmethod
    def submit(
        cls,
        app: App,
        catalogue: ScopeCatalogue,
        use_case_name: str,
        permissions: dict[str, str],
        screencast_url: str,
        actor: Actor,
    ) -> Review:
        # Whose app it is comes first: another developer learns nothing about it (not even
        # which details it lacks) from a refusal.
        app.require_manager(actor, "submit it for review")
        case = use_case(use_case_name)
        if not permissions:
            raise InvalidInputError("A review must ask for at least one permission")
        unknown = sorted(set(permissions) - catalogue.names)
        if unknown:
            raise InvalidInputError(f"Unknown permissions: {', '.join(unknown)}")
        require_permissions_fit(case, list(permissions))
        for scope in sorted(permissions):
            catalogue.require_open_for_review(scope)
        described = {
            scope: require_text(text, f"the description of how {scope} is used")
            for scope, text in sorted(permissions.items())
        }
        missing = [
            label
            for label, value in (
                ("company name", app.company_name),
                ("contact email", app.contact_email),
                ("privacy policy URL", app.privacy_policy_url),
            )
            if not value
        ]
        if missing:
            raise ReviewRefusedError(
                f"Submitting a review requires the app's {', '.join(missing)}; "
                "add them to the app's details first"
            )
        return cls(
            app_id=app.id,
            use_case=case.name,
            permissions=described,
            screencast_url=require_absolute_url(screencast_url, "screencast_url"),
            actor=actor.principal,
            role=actor.role.value,
        )

    @event("Submitted")
    def __init__(
        self,
        app_id: UUID,
        use_case: str,
        permissions: dict[str, str],
        screencast_url: str,
        actor: str,
        role: str,
    ) -> None:
        self.app_id = app_id
        self.use_case = use_case
        self.permissions = dict(permissions)
        self.screencast_url = screencast_url
        self.decisions: dict[str, PermissionStatus] = {
            s: PermissionStatus.PENDING for s in permissions
        }
        self.completed = False

    @property
    def pending(self) -> list[str]:
        return [s for s, d in self.decisions.items() if d is PermissionStatus.PENDING]

    @property
    def approved(self) -> list[str]:
        return [s for s, d in self.decisions.items() if d is PermissionStatus.APPROVED]

    def decide(self, scope: str, approve: bool, reason: str, actor: Actor) -> None:
        actor.require(Role.REVIEWER, Role.PLATFORM, action="decide a review")
        if self.completed:
            raise ReviewDecisionError("This review has been completed")
        if scope not in self.decisions:
            raise ReviewDecisionError(f"This review did not ask for {scope}")
        if self.decisions[scope] is not PermissionStatus.PENDING:
            raise ReviewDecisionError(f"{scope} has already been {self.decisions[scope].value}")
        reason = require_text(reason, "reason")
        if approve:
            self._approved(scope, actor.principal, actor.role.value, reason)
        else:
            self._rejected(scope, actor.principal, actor.role.value, reason)
        if not self.pending:
            self._completed(self.approved, actor.principal, actor.role.value)

    @event("PermissionApproved")
    def _approved(self, scope: str, actor: str, role: str, reason: str) -> None:
        self.decisions[scope] = PermissionStatus.APPROVED

    @event("PermissionRejected")
    def _rejected(self, scope: str, actor: str, role: str, reason: str) -> None:
        self.decisions[scope] = PermissionStatus.REJECTED

    @event("Completed")
    def _completed(self, approved: list[str], actor: str, role: str) -> None:
        self.completed = True
