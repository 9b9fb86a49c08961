"""Review commands: submissions, reviewers' decisions, withdrawals of approvals."""

from __future__ import annotations

from uuid import UUID

from application.results import Created, Written
from application.service import LedgerService, command
from domain.actors import Actor
from domain.reviews import Review


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
