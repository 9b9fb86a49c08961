"""The platform's scope policy commands: scopes introduced, applications closed and reopened,
scopes retired, and the pre-review era's unreviewed live apps (allowed, then moved to sandbox)."""

from __future__ import annotations

from application.results import Written
from application.service import LedgerService, command
from domain.actors import Actor
from domain.apps import Mode


class ScopePolicyCommands(LedgerService):
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
