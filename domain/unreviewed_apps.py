"""The apps that went live without a review, while the platform allowed that.

The June 2016 policy change moved every one of them back to sandbox mode. Keeping them in one
index aggregate lets that one platform command find them all and record, on each app, the mode
change and its reason; an app added concurrently collides on the index and is not missed.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor
from domain.identity import LEDGER_NAMESPACE

UNREVIEWED_LIVE_APPS_ID = uuid5(LEDGER_NAMESPACE, "unreviewed-live-apps")


class UnreviewedLiveApps(Aggregate):
    @staticmethod
    def create_id(**_: Any) -> UUID:
        return UNREVIEWED_LIVE_APPS_ID

    @classmethod
    def start(cls, actor: Actor) -> UnreviewedLiveApps:
        return cls(actor=actor.principal, role=actor.role.value)

    @event("Created")
    def __init__(self, actor: str, role: str) -> None:
        self.app_ids: list[UUID] = []

    def add(self, app_id: UUID, actor: Actor) -> None:
        if app_id not in self.app_ids:
            self._added(app_id, actor.principal, actor.role.value)

    @event("AppAdded")
    def _added(self, app_id: UUID, actor: str, role: str) -> None:
        self.app_ids.append(app_id)

    def clear(self, actor: Actor, reason: str) -> None:
        if self.app_ids:
            self._cleared(actor.principal, actor.role.value, reason)

    @event("Cleared")
    def _cleared(self, actor: str, role: str, reason: str) -> None:
        self.app_ids = []
