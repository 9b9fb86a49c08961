"""Commands of review and platform policy: submissions, decisions, withdrawals, the catalogue."""

from __future__ import annotations

from uuid import UUID

from domain.actors import Actor
from domain.apps import Mode
from domain.results import Created, Written
from domain.reviews import Review
from domain.service import LedgerService, command


class ReviewCommands(LedgerService):
    @command
    def submit_review(
        self,
        client_id: str,
        *,
        use_case: str,
        permissions: dict[str, str],
        screencast_url: str,
        actor: Actor,
    ) -> Created:
        """Submits the app for review; refused with the seed's guidance when it cannot succeed."""
        app = self.app(client_id)
        catalogue = self.catalogue()
        review = Review.submit(app, catalogue, use_case, permissions, screencast_url, actor)
        app.open_review(review.id, actor)
        return Created(self._save(catalogue, review, app), review.id)

    @command
    def decide_review(
        self, review_id: UUID | str, scope: str, *, approve: bool, reason: str, actor: Actor
    ) -> Written:
        """A reviewer's decision on one permission; an approval is the app's at once."""
        review = self.review(review_id)
        app = self._app_by_id(review.app_id)
        if approve:
            self.catalogue().require_not_retired([scope])
        review.decide(scope, approve, reason, actor)
        if approve:
            app.approve_permission(scope, review.id, actor, reason)
        if review.completed:
            app.close_review(review.id, actor)
        return Written(self._save(review, app))

    @command
    def withdraw_approval(
        self, client_id: str, scope: str | None, actor: Actor, reason: str
    ) -> Written:
        app = self.app(client_id)
        app.withdraw_approval(scope, actor, reason, self.catalogue().unreviewed_live_allowed)
        return Written(self._save(app))

    # --- platform policy ----------------------------------------------------------------------

    @command
    def introduce_scope(
        self, name: str, description: str, *, applications_open: bool, actor: Actor, reason: str
    ) -> Written:
        catalogue = self.catalogue()
        catalogue.introduce_scope(name, description, applications_open, actor, reason)
        return Written(self._save(catalogue))

    @command
    def close_scope_applications(self, scope: str, actor: Actor, reason: str) -> Written:
        catalogue = self.catalogue()
        catalogue.close_applications(scope, actor, reason)
        return Written(self._save(catalogue))

    @command
    def reopen_scope_applications(self, scope: str, actor: Actor, reason: str) -> Written:
        catalogue = self.catalogue()
        catalogue.reopen_applications(scope, actor, reason)
        return Written(self._save(catalogue))

    @command
    def retire_scope(self, scope: str, actor: Actor, reason: str) -> Written:
        catalogue = self.catalogue()
        catalogue.retire(scope, actor, reason)
        return Written(self._save(catalogue))

    @command
    def allow_unreviewed_live(self, actor: Actor, reason: str) -> Written:
        catalogue = self.catalogue()
        catalogue.allow_unreviewed_live(actor, reason)
        return Written(self._save(catalogue))

    @command
    def move_unreviewed_apps_to_sandbox(self, actor: Actor, reason: str) -> Written:
        """One policy event, and on each app that went live unreviewed and still has no
        approval, its move back to sandbox with the same reason (June 2016)."""
        catalogue = self.catalogue()
        catalogue.move_unreviewed_apps_to_sandbox(actor, reason)
        index = self._unreviewed_live_apps()
        moved = [self._app_by_id(app_id) for app_id in index.app_ids]
        for app in moved:
            if app.mode is Mode.LIVE and not app.is_approved:
                app.return_to_sandbox(actor, reason)
        index.clear(actor, reason)
        return Written(self._save(catalogue, index, *moved))
