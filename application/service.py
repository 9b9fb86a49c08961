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
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError
from eventsourcing.utils import Environment, EnvType

from application.repository import PrefetchingRepository
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
    WriteNotAcknowledgedError,
)
from domain.grants import REPLAY_MEMORY
from domain.identity import SCOPE_CATALOGUE_ID, app_id_from_client_id, user_id
from domain.reviews import Review
from domain.scopes import ScopeCatalogue
from domain.unreviewed_apps import UNREVIEWED_LIVE_APPS_ID, UnreviewedLiveApps
from domain.users import User, UserInfo

MAX_ATTEMPTS = 8

F = TypeVar("F", bound=Callable[..., Any])
A = TypeVar("A", bound=Aggregate)


def command(fn: F) -> F:
    """Re-runs a command on fresh state when a concurrent writer got there first."""

    @functools.wraps(fn)
    def retrying(service: LedgerService, *args: Any, **kwargs: Any) -> Any:
        for attempt in range(MAX_ATTEMPTS):
            try:
                return fn(service, *args, **kwargs)
            except IntegrityError:
                # Jittered backoff, so that writers racing on one aggregate spread out.
                time.sleep(random.uniform(0, 0.002) * (attempt + 1))  # noqa: S311
            finally:
                service.repository.forget()  # a re-run (or the next command) reads afresh
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
        if not timedelta(0) < code_lifetime <= REPLAY_MEMORY:
            # A grant forgets redeemed codes after REPLAY_MEMORY: a code must be dead by then.
            raise ValueError(f"a code's lifetime must be positive and at most {REPLAY_MEMORY}")
        self.code_lifetime = code_lifetime

    repository: PrefetchingRepository

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Only the env the ledger is given, never ``os.environ``.

        The library would merge the process environment, and prefer ``LEDGER_<KEY>`` there
        (the application is named Ledger): a stray ``LEDGER_POSTGRES_SCHEMA`` or
        ``LEDGER_SQLITE_DBNAME`` would put the event store apart from the read models, which
        are opened from the same env. The settings are the one source of configuration."""
        merged = dict(type(self).env)
        if type(self).is_snapshotting_enabled or type(self).snapshotting_intervals:
            merged["IS_SNAPSHOTTING_ENABLED"] = "y"
        merged.update(env or {})
        return Environment(name, merged)

    def construct_repository(self) -> PrefetchingRepository:
        """The library's repository, as the env configures it, able to ``prefetch``."""
        base = super().construct_repository()
        repository = PrefetchingRepository(
            event_store=base.event_store,
            snapshot_store=base.snapshot_store,
            fastforward=base.fastforward,
            fastforward_skipping=base.fastforward_skipping,
            deepcopy_from_cache=base.deepcopy_from_cache,
        )
        repository.cache = base.cache
        return repository

    # --- saving -------------------------------------------------------------------------------

    @staticmethod
    def _if_new(aggregate: A) -> A | None:
        """``aggregate`` if it has events to write (a seed made by a read-only load), else None:
        what a read-only load answered from the store must never be saved."""
        return aggregate if aggregate.pending_events else None

    def _save(self, *aggregates: Aggregate | None) -> int:
        """Stores all pending events of the aggregates atomically; answers the last position.

        A connection failure while saving leaves the outcome unknown: the commit may have
        landed before the failure. It is raised as ``WriteNotAcknowledgedError``, so that a
        command able to recognise its own write can look (``exchange_code``)."""
        try:
            recordings = self.save(*aggregates)
        except (OperationalError, InterfaceError) as error:
            raise WriteNotAcknowledgedError() from error
        if not recordings:
            return self.recorder.max_notification_id() or 0
        return max(r.notification.id for r in recordings)

    # --- loading ------------------------------------------------------------------------------

    def _prefetch(self, *aggregate_ids: UUID | None) -> int | None:
        """Brings what the command is about to load up to date in one read of the store, where
        the store can (``application/repository.py``); answers the log position that read saw."""
        return self.repository.prefetch(i for i in aggregate_ids if i is not None)

    def _get(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """An aggregate the command may change: its own copy of the cached one."""
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, kind) else None

    def _read(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """An aggregate the command only reads: the cached one itself, brought up to date but
        not copied (a copy of a large aggregate costs more than the rest of a command).

        Never change, or pass to ``_save``, what this answers: every later command would see
        the change. Like any aggregate a command does not write, it may be newer by the time
        the command saves; only the aggregates a command writes are checked for conflicts."""
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id, deepcopy_from_cache=False)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, kind) else None

    def _load(self, aggregate_id: UUID, kind: type[A], read_only: bool) -> A | None:
        return self._read(aggregate_id, kind) if read_only else self._get(aggregate_id, kind)

    def catalogue(self, *, read_only: bool = False) -> ScopeCatalogue:
        """The scope catalogue; before any is stored, the seed's, unsaved.

        Commands that consult it save it with their own events, so the seed is written by the
        first command that succeeds and never by one that is refused. Two processes seeding at
        once collide on its fixed id, and the loser's command is re-run. (A seed is a new object
        even when ``read_only``, so it may be saved; a stored catalogue then may not.)"""
        catalogue = self._load(SCOPE_CATALOGUE_ID, ScopeCatalogue, read_only)
        return catalogue or ScopeCatalogue.seed(Actor("ledger", Role.SYSTEM))

    def app(self, client_id: str | None, *, read_only: bool = False) -> App:
        if not client_id:
            raise MissingClientIdError()
        aggregate_id = app_id_from_client_id(client_id)
        app = self._load(aggregate_id, App, read_only) if aggregate_id else None
        if app is None:
            raise AppNotFoundError(client_id)
        return app

    def verify_client(
        self, client_id: str | None, client_secret: str | None, *, read_only: bool = False
    ) -> App:
        """The app, if the secret is its current one (compared in constant time)."""
        app = self.app(client_id, read_only=read_only)
        if not client_secret or not self.hasher.matches(client_secret, app.secret_digest):
            raise InvalidClientSecretError()
        return app

    def _unreviewed_live_apps(self) -> UnreviewedLiveApps:
        found = self._get(UNREVIEWED_LIVE_APPS_ID, UnreviewedLiveApps)
        return found or UnreviewedLiveApps.start(Actor("ledger", Role.SYSTEM))

    def _app_by_id(self, app_id: UUID) -> App:
        return self.app(app_id.hex)

    def user(self, username: str, *, read_only: bool = False) -> User:
        user = self._load(user_id(username), User, read_only) if username else None
        if user is None:
            raise UserNotFoundError(username)
        return user

    def _registered_user(self, username: str) -> User:
        """The user, for what registration fixed for good (``User.REGISTRATION_FACTS``: id,
        username, full name, picture), which no later event changes.

        So any copy this process holds answers them, and is used without reading the store for
        newer events (users are never removed); anything else about a user needs ``user()``."""
        cache = self.repository.cache
        if cache is not None and username:
            try:
                cached = cache.get(user_id(username))
            except KeyError:
                pass
            else:
                if isinstance(cached, User):
                    return cached
        return self.user(username, read_only=True)

    def user_by_id(self, user: UUID) -> User:
        found = self._get(user, User)
        if found is None:
            raise UserNotFoundError(str(user))
        return found

    def user_info(self, user: User) -> UserInfo:
        """The user as the legacy token response shows it (and as a code carries it)."""
        return UserInfo(user.id.hex, user.username, user.full_name, user.profile_picture)

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
