"""The application service's foundation: loading aggregates, saving them, retrying conflicts.

Commands run as: load what they touch, let the aggregates decide (raising a domain error before
anything is written), save every changed aggregate in one transaction, answer the log position.
The event store's optimistic concurrency turns a concurrent write into an ``IntegrityError``; the
command is then re-run on fresh state, and only after repeated conflicts is the caller told.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.actors import Actor, Role
from domain.apps import App
from domain.codes import CODE_LIFETIME
from domain.credentials import SecretHasher
from domain.errors import (
    AppNotFoundError,
    ConcurrencyConflictError,
    InvalidClientSecretError,
    MissingClientIdError,
    ReviewNotFoundError,
    UserNotFoundError,
)
from domain.identity import SCOPE_CATALOGUE_ID, app_id_from_client_id, user_id
from domain.reviews import Review
from domain.scopes import ScopeCatalogue
from domain.unreviewed_apps import UNREVIEWED_LIVE_APPS_ID, UnreviewedLiveApps
from domain.users import User

MAX_ATTEMPTS = 8

F = TypeVar("F", bound=Callable[..., Any])
A = TypeVar("A", bound=Aggregate)


def command(fn: F) -> F:
    """Re-runs a command on fresh state when a concurrent writer got there first."""

    @functools.wraps(fn)
    def retrying(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(MAX_ATTEMPTS):
            try:
                return fn(*args, **kwargs)
            except IntegrityError:
                # Jittered backoff, so that writers racing on one aggregate spread out.
                time.sleep(random.uniform(0, 0.002) * (attempt + 1))  # noqa: S311
        raise ConcurrencyConflictError()

    return cast(F, retrying)


def utc_now() -> datetime:
    return datetime.now(UTC)


class LedgerService(Application[UUID]):
    """Shared machinery of the ledger's command handlers."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        secret_key: bytes,
        clock: Callable[[], datetime] | None = None,
        code_lifetime: timedelta = CODE_LIFETIME,
    ) -> None:
        super().__init__(env=dict(env) if env is not None else None)
        self.hasher = SecretHasher(secret_key)
        self.clock: Callable[[], datetime] = clock or utc_now
        self.code_lifetime = code_lifetime

    # --- saving -------------------------------------------------------------------------------

    def _save(self, *aggregates: Aggregate | None) -> int:
        """Stores all pending events of the aggregates atomically; answers the last position."""
        recordings = self.save(*aggregates)
        if not recordings:
            return self.recorder.max_notification_id() or 0
        return max(r.notification.id for r in recordings)

    # --- loading ------------------------------------------------------------------------------

    def _get(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, kind) else None

    def catalogue(self) -> ScopeCatalogue:
        """The scope catalogue; before any is stored, the seed's, unsaved.

        Commands that consult it save it with their own events, so the seed is written by the
        first command that succeeds and never by one that is refused. Two processes seeding at
        once collide on its fixed id, and the loser's command is re-run."""
        catalogue = self._get(SCOPE_CATALOGUE_ID, ScopeCatalogue)
        return catalogue or ScopeCatalogue.seed(Actor("ledger", Role.SYSTEM))

    def app(self, client_id: str | None) -> App:
        if not client_id:
            raise MissingClientIdError()
        aggregate_id = app_id_from_client_id(client_id)
        app = self._get(aggregate_id, App) if aggregate_id else None
        if app is None:
            raise AppNotFoundError(client_id)
        return app

    def verify_client(self, client_id: str | None, client_secret: str | None) -> App:
        """The app, if the secret is its current one (compared in constant time)."""
        app = self.app(client_id)
        if not client_secret or not self.hasher.matches(client_secret, app.secret_digest):
            raise InvalidClientSecretError()
        return app

    def _unreviewed_live_apps(self) -> UnreviewedLiveApps:
        found = self._get(UNREVIEWED_LIVE_APPS_ID, UnreviewedLiveApps)
        return found or UnreviewedLiveApps.start(Actor("ledger", Role.SYSTEM))

    def _app_by_id(self, app_id: UUID) -> App:
        return self.app(app_id.hex)

    def user(self, username: str) -> User:
        user = self._get(user_id(username), User) if username else None
        if user is None:
            raise UserNotFoundError(username)
        return user

    def user_by_id(self, user: UUID) -> User:
        found = self._get(user, User)
        if found is None:
            raise UserNotFoundError(str(user))
        return found

    def review(self, review_id: UUID | str) -> Review:
        try:
            rid = review_id if isinstance(review_id, UUID) else UUID(str(review_id))
        except ValueError:
            raise ReviewNotFoundError(str(review_id)) from None
        review = self._get(rid, Review)
        if review is None:
            raise ReviewNotFoundError(str(review_id))
        return review

    def position(self) -> int:
        """The log position of the latest event stored."""
        return self.recorder.max_notification_id() or 0
