"""A realistic event log of about N events, made by the ledger's own commands (for benchmarks,
demos and load tests).

The history it tells: developers register apps; the platform lets unreviewed apps go live, then
sends them back to sandbox; applications for most scopes are reopened, apps are reviewed for use
cases and reviewers approve or reject each permission; owners invite sandbox users who accept (or
not); users register, authorize apps (mostly the code flow with a code exchange, some implicit),
and later revoke tokens or deauthorize apps; the platform disables and re-enables apps, expires
tokens, withdraws approvals, introduces a scope, closes applications again and retires a scope.
Users and apps keep arriving as the log grows, a few apps get most authorizations, and users come
back to apps they already use.

Every event comes from a real ``Ledger`` command (``authorize``, ``exchange_code``,
``decide_review``, ...): the same validation, the same aggregates, the same events. Only the
loading and saving differ, through :class:`BatchedLedger`: aggregates stay in memory between
commands, and the events of many commands are written with one ``ledger.save(...)`` call, in the
order the commands made them. A million events take a few minutes.

The history is deterministic for a seed: the same commands, on the same users and apps, in the
same order, give the same sequence of event types, aggregates and versions. Ids of apps and
reviews, secrets and tokens, and timestamps are random or real, as in production.
"""

from __future__ import annotations

import functools
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.ledger import Ledger
from domain.actors import Actor
from domain.apps import App, Mode
from domain.decisions import CheckFacts, decide
from domain.errors import LedgerError
from domain.grants import Grant
from domain.identity import grant_id, user_id
from domain.scopes import BASIC, ScopeCatalogue
from domain.tokens import AccessToken
from domain.users import User

A = TypeVar("A", bound=Aggregate)

DEFAULT_BATCH_EVENTS = 5_000
DEFAULT_SAMPLE_TOKENS = 100

# Tokens are many: they are let go after each write (and read back from the store if a revocation
# needs one). Every other aggregate (users, apps, grants, reviews, the catalogue and indexes) stays
# in memory for the whole run. (Authorization codes are not aggregates: they are signed, and the
# grant records their exchange.)
_TRANSIENT = (AccessToken,)


# --- batched loading and saving ------------------------------------------------------------------


class BatchedLedger(Ledger):
    """The ledger's commands, with aggregates kept in memory and events written in batches.

    Commands run unchanged (``authorize``, ``exchange_code``, ...): ``_get`` and ``_read`` answer
    from memory (falling back to the store), ``_save`` collects the aggregates' new events in
    command order, and :meth:`flush` writes them all with one ``save`` call. Answers carry the
    position an event will have once flushed (exact while nothing else writes to the store
    meanwhile).

    One writer only: while events wait in memory, another writer would not see them. When a
    command is refused half-way (one aggregate changed, then another refused), the aggregates it
    changed are read back from the store once the events already collected are written, as the
    ledger would have discarded its copies. Shares the wrapped ledger's store and connections,
    and never closes them.
    """

    name = Ledger.name

    def __init__(self, ledger: Ledger) -> None:
        # Not Application.__init__: the same recorder, mapper, repository and pool as ``ledger``.
        self.__dict__.update(ledger.__dict__)
        self._base = ledger.position()
        # On a fresh store every aggregate is one this object made, and all but tokens stay in
        # memory: a miss then means "does not exist" without asking the store.
        self._complete = self._base == 0
        self._kept: dict[UUID, Aggregate] = {}
        self._transient: dict[UUID, Aggregate] = {}
        self._pending: list[Any] = []
        self._touched: list[Aggregate] | None = None  # loaded by the running command
        self.written = 0
        self.made = 0  # events collected (written or waiting)
        self.event_counts: Counter[str] = Counter()

    # Application.__del__ closes the store: this object shares the wrapped ledger's.
    def __del__(self) -> None:
        pass

    def close(self) -> None:
        """Nothing to release: the wrapped ledger owns the store (call :meth:`flush` first)."""

    # --- the two seams of the command handlers ----------------------------------------------

    def _get(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        found = self._kept.get(aggregate_id) or self._transient.get(aggregate_id)
        if found is None:
            if self._complete and not issubclass(kind, _TRANSIENT):
                return None
            found = Ledger._get(self, aggregate_id, Aggregate)
            if found is None:
                return None
            self._remember(found)
        if self._touched is not None:
            self._touched.append(found)
        return found if isinstance(found, kind) else None

    def _read(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        # Commands only read these: the object in memory serves, as for ``_get``.
        return self._get(aggregate_id, kind)

    def _save(self, *aggregates: Aggregate | None) -> int:
        for aggregate in aggregates:
            if aggregate is None:
                continue
            self._remember(aggregate)
            for event in aggregate.collect_events():
                self._pending.append(event)
                self.event_counts[type(event).__qualname__] += 1
                self.made += 1
        return self._base + len(self._pending)

    def position(self) -> int:
        """The position of the last event made, written or not."""
        return self._base + len(self._pending)

    # --- memory -----------------------------------------------------------------------------

    def _remember(self, aggregate: Aggregate) -> None:
        if isinstance(aggregate, _TRANSIENT):
            self._transient[aggregate.id] = aggregate
        else:
            self._kept[aggregate.id] = aggregate

    def _run_command(self, command: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self._touched is not None:  # a command run by a command
            return command(self, *args, **kwargs)
        self._touched = []
        try:
            return command(self, *args, **kwargs)
        except BaseException:
            self._roll_back(self._touched)
            raise
        finally:
            self._touched = None

    def _roll_back(self, touched: list[Aggregate]) -> None:
        """Forgets the changes a refused command left on the aggregates it loaded."""
        changed = {id(a): a for a in touched if a.pending_events}
        if not changed:
            return
        for aggregate in changed.values():
            self._kept.pop(aggregate.id, None)
            self._transient.pop(aggregate.id, None)
        self.flush()
        for aggregate in changed.values():
            fresh = Ledger._get(self, aggregate.id, Aggregate)
            if fresh is not None:
                self._remember(fresh)

    def peek(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """An aggregate as the commands see it, without counting as a command's load."""
        return self._get(aggregate_id, kind)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> int:
        """Writes every collected event in one transaction; answers the last position."""
        if self._pending:
            events, self._pending = self._pending, []
            recordings = self.save(*events)
            self.written += len(events)
            self._base = max(r.notification.id for r in recordings)
            self._transient.clear()
        return self._base


def _command_boundary(command: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command)
    def run(self: BatchedLedger, *args: Any, **kwargs: Any) -> Any:
        return self._run_command(command, *args, **kwargs)

    return run


# Every command of the ledger (the methods its ``@command`` decorator wrapped) runs inside a
# boundary, so that a refusal can be rolled back.
for _name in dir(Ledger):
    _attribute = getattr(Ledger, _name)
    if not _name.startswith("_") and callable(_attribute) and hasattr(_attribute, "__wrapped__"):
        setattr(BatchedLedger, _name, _command_boundary(_attribute))


# --- what a run answers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleToken:
    """A token the log issued, and what a check of ``scope`` answers at the end of the log."""

    access_token: str = field(repr=False)
    token_id: str
    client_id: str
    username: str
    scope: str
    allowed: bool
    reason: str | None = None  # the denial's reason when not allowed


@dataclass(frozen=True)
class GeneratedApp:
    client_id: str
    client_secret: str = field(repr=False)
    owner: str
    redirect_uri: str
    mode: str  # effective mode at the end of the log
    approved_scopes: tuple[str, ...]
    disabled: bool
    implicit_disabled: bool
    sandbox_users: tuple[str, ...]


@dataclass
class GeneratedLog:
    requested: int
    seed: int
    events: int  # written by this run
    first_position: int
    last_position: int
    seconds: float
    event_counts: dict[str, int]
    commands: dict[str, int]
    refused: dict[str, int]
    tokens: list[SampleToken]  # allowed at the end of the log
    denied_tokens: list[SampleToken]
    apps: list[GeneratedApp]
    usernames: list[str]

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


# --- the history ----------------------------------------------------------------------------------

PLATFORM = Actor.platform("platform_ops")
REVIEWERS = tuple(Actor.reviewer(f"reviewer_{n}") for n in ("ana", "ben", "chen", "dee"))
USE_CASE_SCOPES = {
    "own_content": ("basic",),
    "broadcasters_and_publishers": ("basic", "public_content", "comments"),
    "brands_and_advertisers": (
        "basic",
        "public_content",
        "comments",
        "relationships",
        "likes",
        "follower_list",
    ),
}
NEW_SCOPE = "media_insights"
RETIRED_SCOPE = "relationships"

FIRST = (
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Ema",
    "Femi",
    "Gus",
    "Hana",
    "Ivo",
    "Jun",
    "Kai",
    "Lea",
    "Mo",
    "Nia",
    "Oli",
    "Pia",
    "Raj",
    "Sol",
    "Tea",
    "Uma",
    "Vic",
    "Wen",
    "Xu",
    "Yas",
    "Zoe",
)
LAST = (
    "Abe",
    "Bauer",
    "Costa",
    "Diaz",
    "Eze",
    "Fox",
    "Gray",
    "Haas",
    "Ito",
    "Jain",
    "Kim",
    "Lund",
    "Mori",
    "Novak",
    "Ortiz",
    "Park",
    "Quinn",
    "Rossi",
    "Sato",
    "Tan",
    "Ueda",
    "Vega",
)
APP_WORDS = (
    "Photo",
    "Snap",
    "Print",
    "Frame",
    "Story",
    "Feed",
    "Brand",
    "Pixel",
    "Gallery",
    "Insight",
    "Moment",
    "Lens",
    "Album",
    "Post",
    "Trend",
    "Social",
)
APP_KINDS = ("Printer", "Scheduler", "Analytics", "Widget", "Backup", "Studio", "Wall", "Finder")
REVOKE_REASONS = (
    "user signed out everywhere",
    "lost phone",
    "no longer uses the app",
    "suspicious activity",
    "app uninstalled",
    "",
)
REJECT_REASONS = (
    "not shown in the screencast",
    "use case does not need it",
    "privacy policy does not cover it",
)


@dataclass
class _App:
    index: int
    client_id: str
    app_id: UUID
    secret: str
    owner: str
    redirect_uri: str
    needs_details: bool
    seeks_review: bool  # hobby apps (widgets, personal sites) stay in sandbox
    reviews: int = 0


@dataclass
class _Candidate:
    access_token: str
    token_id: UUID
    user: int
    app: int
    scopes: tuple[str, ...]
    epoch: int


# Progress (fraction of the requested events) at which the platform's history happens, and the
# rare actions each log gets at least once, whatever its size.
POLICY_TIMELINE: tuple[tuple[float, str], ...] = (
    (0.0, "allow_unreviewed_live"),
    (0.0, "reopen:public_content"),
    (0.0, "reopen:comments"),
    (0.02, "first_reviews"),
    (0.12, "move_unreviewed_to_sandbox"),
    (0.2, "reopen:likes"),
    (0.2, "reopen:relationships"),
    (0.22, "reopen:follower_list"),
    (0.45, "introduce_scope"),
    (0.7, "close:relationships"),
    (0.7, "close:likes"),
    (0.72, "close:follower_list"),
    (0.85, "retire"),
)
ONCE_AT: tuple[tuple[float, str], ...] = (
    (0.25, "security"),
    (0.3, "revoke"),
    (0.35, "rotate_secret"),
    (0.4, "deauthorize"),
    (0.45, "remove_sandbox_user"),
    (0.5, "disable"),
    (0.55, "expire"),
    (0.6, "enable"),
    (0.65, "withdraw_approval"),
    (0.75, "replay"),
    (0.8, "return_to_sandbox"),
)


class LogGenerator:
    """Runs a realistic history of ledger commands until about ``events`` events exist."""

    def __init__(
        self,
        ledger: Ledger,
        events: int,
        *,
        seed: int = 0,
        batch_events: int = DEFAULT_BATCH_EVENTS,
        sample_tokens: int = DEFAULT_SAMPLE_TOKENS,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        if events < 1:
            raise ValueError("events must be at least 1")
        self.ledger = ledger
        self.target = events
        self.seed = seed
        self.batch_events = max(1, batch_events)
        self.sample_size = max(0, sample_tokens)
        self.progress = progress
        self.rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
        # Token sampling has its own stream, so the sample size does not change the history.
        self.sample_rng = random.Random(seed ^ 0x5EED)  # noqa: S311
        self.commands: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()

        # Scale: a user per ~25 events, an app per ~1,000, a developer per ~2,000.
        self.n_users = max(6, events // 25)
        self.n_apps = max(3, events // 1_000)
        self.n_developers = max(2, events // 2_000)

        self.usernames: list[str] = []
        self.user_index: dict[UUID, int] = {}
        self.user_apps: list[list[int]] = []  # apps each user has authorized
        self.developers: list[str] = []
        self.apps: list[_App] = []
        self.grants: list[tuple[int, int]] = []
        self.grant_epoch: dict[tuple[int, int], int] = {}
        self.tokens: list[tuple[UUID, int, int]] = []  # active tokens (id, user, app), recent
        self.invitations: list[tuple[int, int]] = []  # pending (app, user)
        self.decisions: list[tuple[UUID, int, str]] = []  # pending (review, app, scope)
        self.to_go_live: list[int] = []
        self.disabled: list[int] = []
        self.candidates: list[_Candidate] = []
        self.issued = 0
        self._live: list[int] = []
        self._live_set: set[int] = set()
        self._sandbox: list[int] = []
        self.apps_owned: Counter[str] = Counter()
        self._dirty = True
        self._timeline = [*POLICY_TIMELINE, *ONCE_AT]
        self._timeline.sort(key=lambda item: item[0])
        self.prefix = ""

    # --- running ----------------------------------------------------------------------------

    def run(self) -> GeneratedLog:
        start = time.perf_counter()
        self.uow = BatchedLedger(self.ledger)
        first = self.uow._base + 1
        if self.uow._base:
            self.prefix = f"g{self.uow._base}_"  # a store with history: names of our own
        reported = 0
        while self.made < self.target:
            self._tick()
            if self.uow.pending >= self.batch_events:
                self.uow.flush()
                if self.progress is not None:
                    self.progress(self.made - reported)
                    reported = self.made
        self.uow.flush()
        if self.progress is not None and self.made > reported:
            self.progress(self.made - reported)
        tokens, denied = self._sample()
        return GeneratedLog(
            requested=self.target,
            seed=self.seed,
            events=self.made,
            first_position=first,
            last_position=self.uow._base,
            seconds=time.perf_counter() - start,
            event_counts=dict(sorted(self.uow.event_counts.items())),
            commands=dict(sorted(self.commands.items())),
            refused=dict(sorted(self.refused.items())),
            tokens=tokens,
            denied_tokens=denied,
            apps=[self._describe(app) for app in self.apps],
            usernames=list(self.usernames),
        )

    @property
    def made(self) -> int:
        """Events made by this run so far (written or waiting)."""
        return self.uow.made

    def _do(self, label: str, command: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Runs one ledger command; a refusal is counted (it writes nothing) and answers None."""
        self.commands[label] += 1
        try:
            return command(*args, **kwargs)
        except LedgerError:
            self.refused[label] += 1
            return None

    def _tick(self) -> None:
        progress = self.made / self.target
        if self._timeline and self._timeline[0][0] <= progress:
            _, what = self._timeline.pop(0)
            self._milestone(what)
            return
        if len(self.usernames) < self.n_users * min(1.0, 0.1 + 1.1 * progress):
            self._register_user()
            return
        if len(self.apps) < max(2.0, self.n_apps * min(1.0, 0.2 + progress)):
            self._register_app()
            return
        action = self.rng.choices(self._ACTIONS, self._weights())[0]
        getattr(self, f"_{action}")()

    _ACTIONS = (
        "authorize",
        "implicit",
        "revoke",
        "expire",
        "deauthorize",
        "invite",
        "accept",
        "remove_sandbox_user",
        "submit_review",
        "decide",
        "go_live",
        "rotate_secret",
        "security",
        "disable",
        "enable",
        "withdraw_approval",
        "replay",
        "return_to_sandbox",
    )

    def _weights(self) -> list[float]:
        return [
            60.0,
            5.0,
            8.0 if self.tokens else 0.0,
            0.4 if self.tokens else 0.0,
            2.5 if self.grants else 0.0,
            2.5,
            3.0 if self.invitations else 0.0,
            0.2,
            1.5,
            6.0 if self.decisions else 0.0,
            3.0 if self.to_go_live else 0.0,
            0.1,
            0.1,
            0.02,
            0.02 if self.disabled else 0.0,
            0.03,
            0.05,
            0.03,
        ]

    def _milestone(self, what: str) -> None:
        """One step of the platform's history (skipped where the catalogue already reflects it:
        a store with history), or a rare action every log has."""
        ops = self.uow
        catalogue = self._catalogue()
        policy = catalogue.scopes.get(what.partition(":")[2])
        if what == "allow_unreviewed_live":
            if not catalogue.unreviewed_live_allowed:
                self._do(
                    "allow_unreviewed_live",
                    ops.allow_unreviewed_live,
                    PLATFORM,
                    "Apps may go live without review, as before the review process",
                )
        elif what == "move_unreviewed_to_sandbox":
            if catalogue.unreviewed_live_allowed:
                self._do(
                    "move_unreviewed_apps_to_sandbox",
                    ops.move_unreviewed_apps_to_sandbox,
                    PLATFORM,
                    "June 2016: every app without an approved review is in sandbox",
                )
        elif what.startswith("reopen:"):
            if policy and not policy.retired and not policy.applications_open:
                self._do(
                    "reopen_scope_applications",
                    ops.reopen_scope_applications,
                    what.split(":")[1],
                    PLATFORM,
                    "The review process accepts applications",
                )
        elif what.startswith("close:"):
            if policy and not policy.retired and policy.applications_open:
                self._do(
                    "close_scope_applications",
                    ops.close_scope_applications,
                    what.split(":")[1],
                    PLATFORM,
                    "Late 2017: applications are closed",
                )
        elif what == "introduce_scope":
            if NEW_SCOPE not in catalogue.scopes:
                self._do(
                    "introduce_scope",
                    ops.introduce_scope,
                    NEW_SCOPE,
                    "to read insights on a business account's media",
                    applications_open=False,
                    actor=PLATFORM,
                    reason="New API for businesses",
                )
        elif what == "first_reviews":
            for a in (0, 1):  # the first two apps seek review early: every log has reviews
                self._submit_review(a)
        elif what == "retire":
            if not catalogue.scopes[RETIRED_SCOPE].retired:
                self._do(
                    "retire_scope",
                    ops.retire_scope,
                    RETIRED_SCOPE,
                    PLATFORM,
                    "April 2018: the scope is switched off for every app",
                )
        else:
            before = self.made
            for _ in range(10):  # each log has one at least, if at all possible
                getattr(self, f"_{what}")()
                if self.made > before:
                    break
        self._dirty = True

    # --- people and apps --------------------------------------------------------------------

    def _full_name(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    def _register_user(self, developer: bool = False) -> int | None:
        i = len(self.usernames)
        name = f"{self.prefix}{'dev' if developer else 'user'}_{i:06d}"
        picture = None if self.rng.random() < 0.2 else f"https://pics.example/{name}.jpg"
        if (
            self._do(
                "register_user",
                self.uow.register_user,
                name,
                self._full_name(),
                picture,
                Actor.user(name),
            )
            is None
        ):
            return None
        self.usernames.append(name)
        self.user_index[user_id(name)] = i
        self.user_apps.append([])
        return i

    def _register_app(self) -> None:
        rng = self.rng
        mine = [d for d in self.developers if self.apps_owned[d] < 3]
        if len(self.developers) < self.n_developers or not mine or rng.random() < 0.3:
            index = self._register_user(developer=True)
            if index is None:
                return
            owner = self.usernames[index]
            self.developers.append(owner)
        else:
            owner = rng.choice(mine)
        title = f"{rng.choice(APP_WORDS)} {rng.choice(APP_KINDS)}"
        slug = f"{title.lower().replace(' ', '-')}-{len(self.apps)}"
        redirect = f"https://{slug}.example/oauth/callback"
        uris = [redirect] + ([f"{slug}://oauth"] if rng.random() < 0.3 else [])
        detailed = rng.random() < 0.8
        seeks_review = rng.random() < 0.6
        if len(self.apps) < 2:  # even a small log has reviews, one after a details update
            detailed, seeks_review = len(self.apps) == 0, True
        registered = self._do(
            "register_app",
            self.uow.register_app,
            owner=owner,
            name=title,
            description=f"{title}: does things with your photos",
            website=f"https://{slug}.example",
            redirect_uris=uris,
            actor=Actor.developer(owner),
            company_name=f"{title} Ltd" if detailed else None,
            contact_email=f"{owner}@{slug}.example" if detailed else None,
            privacy_policy_url=f"https://{slug}.example/privacy" if detailed else None,
        )
        if registered is None:
            return
        app = _App(
            len(self.apps),
            registered.client_id,
            UUID(hex=registered.client_id),
            registered.client_secret,
            owner,
            redirect,
            not detailed,
            seeks_review,
        )
        self.apps.append(app)
        self.apps_owned[owner] += 1
        if self._catalogue().unreviewed_live_allowed and rng.random() < 0.5:
            self._do("go_live", self.uow.go_live, app.client_id, Actor.developer(owner))
        self._dirty = True

    # --- lookups of the state the commands left -------------------------------------------------

    def _catalogue(self) -> ScopeCatalogue:
        """The catalogue as commands see it (the seed's until a command first saves it)."""
        return self.uow.catalogue()

    def _app(self, i: int) -> App:
        found = self.uow.peek(self.apps[i].app_id, App)
        assert found is not None  # noqa: S101 - made by this run
        return found

    def _user(self, i: int) -> User:
        found = self.uow.peek(user_id(self.usernames[i]), User)
        assert found is not None  # noqa: S101 - made by this run
        return found

    def _refresh(self) -> None:
        """Which apps are live (anyone may authorize) and which in sandbox, now."""
        if not self._dirty:
            return
        allowed = self._catalogue().unreviewed_live_allowed
        self._live, self._sandbox = [], []
        for app in self.apps:
            state = self._app(app.index)
            if state.disabled:
                continue
            if state.effective_mode(allowed) is Mode.LIVE:
                self._live.append(app.index)
            else:
                self._sandbox.append(app.index)
        self._live_set = set(self._live)
        self._dirty = False

    def _popular(self, indexes: Sequence[int]) -> int:
        """A few apps get most authorizations: the earliest ones."""
        return indexes[int(len(indexes) * self.rng.random() ** 2.5)]

    # --- OAuth ------------------------------------------------------------------------------

    def _choose_authorization(self, implicit: bool) -> tuple[int, int, tuple[str, ...]] | None:
        """An app, a user and scopes that the ledger will accept: any user of a live app (mostly
        one they already use) for its approved scopes, or a sandbox user for any scope."""
        rng = self.rng
        self._refresh()
        catalogue = self._catalogue()
        usable = [s for s, policy in catalogue.scopes.items() if not policy.retired]
        if self._live and rng.random() < 0.8:
            u = rng.randrange(len(self.usernames))
            a = -1
            if self.user_apps[u] and rng.random() < 0.6:
                previous = rng.choice(self.user_apps[u])
                if previous in self._live_set:
                    a = previous
            if a < 0:
                a = self._popular(self._live)
            state = self._app(a)
            allowed = [
                s for s in usable if state.live_permits(s, catalogue.unreviewed_live_allowed)
            ]
        else:
            if not self._sandbox:
                return None
            a = self._popular(self._sandbox)
            state = self._app(a)
            members = [
                self.user_index[uid]
                for uid in state.sandbox_users
                if state.is_sandbox_user(uid) and uid in self.user_index
            ]
            if not members:
                return None
            u = rng.choice(members)
            allowed = usable
        if not allowed or (implicit and state.implicit_disabled):
            return None
        if BASIC in allowed and rng.random() < 0.65:
            return a, u, (BASIC,)
        extra = rng.sample(allowed, k=min(len(allowed), rng.choice((1, 1, 2, 3))))
        scopes = sorted(set(extra) | ({BASIC} if BASIC in allowed else set()))
        return a, u, tuple(scopes)

    def _authorize(self, implicit: bool = False) -> None:
        chosen = self._choose_authorization(implicit)
        if chosen is None:
            return
        a, u, scopes = chosen
        app = self.apps[a]
        username = self.usernames[u]
        param = None if scopes == (BASIC,) and self.rng.random() < 0.5 else " ".join(scopes)
        authorized = self._do(
            "authorize_implicit" if implicit else "authorize",
            self.uow.authorize,
            client_id=app.client_id,
            username=username,
            redirect_uri=app.redirect_uri,
            scope=param,
            response_type="token" if implicit else "code",
        )
        if authorized is None:
            return
        key = (u, a)
        if key not in self.grant_epoch:
            self.grant_epoch[key] = 0
            self.grants.append(key)
            self.user_apps[u].append(a)
        if implicit:
            assert authorized.access_token  # noqa: S101 - the implicit flow answers a token
            assert authorized.token_id  # noqa: S101
            self._issued(authorized.access_token, authorized.token_id, u, a, authorized.scopes)
            return
        if self.rng.random() < 0.03:
            return  # the user never came back from the redirect
        issued = self._do(
            "exchange_code",
            self.uow.exchange_code,
            client_id=app.client_id,
            client_secret=app.secret,
            redirect_uri=app.redirect_uri,
            code=authorized.code,
        )
        if issued is None:
            return
        self._issued(issued.access_token, issued.token_id, u, a, issued.scopes)
        if self._replay_next:
            self._replay_next = False
            # The code is redeemed again (a leaked redirect): refused, and the token revoked.
            self._do(
                "exchange_code_replayed",
                self.uow.exchange_code,
                client_id=app.client_id,
                client_secret=app.secret,
                redirect_uri=app.redirect_uri,
                code=authorized.code,
            )
            self.tokens.pop()

    _replay_next = False

    def _implicit(self) -> None:
        self._authorize(implicit=True)

    def _replay(self) -> None:
        self._replay_next = True
        for _ in range(10):
            self._authorize()  # replays the code once its token is issued
            if not self._replay_next:
                break
        self._replay_next = False

    def _issued(
        self, access_token: str, token: UUID, u: int, a: int, scopes: tuple[str, ...]
    ) -> None:
        self.tokens.append((token, u, a))
        if len(self.tokens) > 50_000:
            del self.tokens[:10_000]  # old tokens are rarely revoked by hand
        if self.sample_size:
            candidate = _Candidate(
                access_token, token, u, a, tuple(scopes), self.grant_epoch[(u, a)]
            )
            room = 5 * self.sample_size
            self.issued += 1
            if len(self.candidates) < room:
                self.candidates.append(candidate)
            else:
                slot = self.sample_rng.randrange(self.issued)
                if slot < room:
                    self.candidates[slot] = candidate

    def _take_token(self) -> tuple[UUID, int, int] | None:
        if not self.tokens:
            return None
        i = self.rng.randrange(len(self.tokens))
        self.tokens[i], self.tokens[-1] = self.tokens[-1], self.tokens[i]
        return self.tokens.pop()

    def _revoke(self) -> None:
        taken = self._take_token()
        if taken is None:
            return
        token, u, a = taken
        app = self.apps[a]
        who = self.rng.random()
        if who < 0.5:
            actor = Actor.user(self.usernames[u])
        elif who < 0.7:
            actor = Actor.client(app.client_id)
        elif who < 0.85:
            actor = Actor.developer(app.owner)
        else:
            actor = PLATFORM
        self._do(
            "revoke_token",
            self.uow.revoke_token,
            actor,
            token_id=token,
            reason=self.rng.choice(REVOKE_REASONS),
        )

    def _expire(self) -> None:
        taken = self._take_token()
        if taken is not None:
            self._do(
                "expire_token",
                self.uow.expire_token,
                taken[0],
                PLATFORM,
                "expired by the platform's sweep of unused tokens",
            )

    def _deauthorize(self) -> None:
        if not self.grants:
            return
        u, a = self.grants[self.rng.randrange(len(self.grants))]
        state = self.uow.peek(grant_id(user_id(self.usernames[u]), self.apps[a].app_id), Grant)
        if state is None or not state.active:
            return
        username = self.usernames[u]
        actor = Actor.user(username) if self.rng.random() < 0.9 else PLATFORM
        if (
            self._do(
                "deauthorize",
                self.uow.deauthorize,
                self.apps[a].client_id,
                username,
                actor,
                "removed from the user's authorized apps",
            )
            is not None
        ):
            self.grant_epoch[(u, a)] += 1

    # --- sandbox users ----------------------------------------------------------------------

    def _invite(self) -> None:
        rng = self.rng
        if not self.apps:
            return
        a = rng.randrange(len(self.apps))
        state = self._app(a)
        if len(state.sandbox_users) >= 10 or state.disabled:
            return
        u = rng.randrange(len(self.usernames))
        uid = user_id(self.usernames[u])
        if uid in state.sandbox_users or len(self._user(u).sandbox_apps) >= 5:
            return
        app = self.apps[a]
        if (
            self._do(
                "invite_sandbox_user",
                self.uow.invite_sandbox_user,
                app.client_id,
                self.usernames[u],
                Actor.developer(app.owner),
            )
            is not None
        ):
            self.invitations.append((a, u))

    def _accept(self) -> None:
        if not self.invitations:
            return
        a, u = self.invitations.pop(self.rng.randrange(len(self.invitations)))
        app = self.apps[a]
        username = self.usernames[u]
        if self.rng.random() < 0.1 or len(self._user(u).sandbox_apps) >= 5:
            # Never accepted: the owner withdraws the invitation.
            self._do(
                "remove_sandbox_user",
                self.uow.remove_sandbox_user,
                app.client_id,
                username,
                Actor.developer(app.owner),
                "invitation not accepted",
            )
            return
        self._do(
            "accept_sandbox_invitation",
            self.uow.accept_sandbox_invitation,
            app.client_id,
            username,
            Actor.user(username),
        )

    def _remove_sandbox_user(self) -> None:
        for _ in range(10):
            a = self.rng.randrange(len(self.apps))
            state = self._app(a)
            members = [
                uid
                for uid in state.sandbox_users
                if state.is_sandbox_user(uid) and uid != state.owner_id and uid in self.user_index
            ]
            if members:
                username = self.usernames[self.user_index[self.rng.choice(members)]]
                leaving = self.rng.random() < 0.5
                actor = Actor.user(username) if leaving else Actor.developer(self.apps[a].owner)
                self._do(
                    "remove_sandbox_user",
                    self.uow.remove_sandbox_user,
                    self.apps[a].client_id,
                    username,
                    actor,
                    "left the beta" if leaving else "beta test finished",
                )
                return

    # --- reviews ----------------------------------------------------------------------------

    def _submit_review(self, a: int | None = None) -> None:
        rng = self.rng
        if not self.apps:
            return
        if a is None:
            a = rng.randrange(len(self.apps))
        elif a >= len(self.apps):
            return
        app = self.apps[a]
        state = self._app(a)
        if (
            not app.seeks_review
            or state.open_review_id is not None
            or state.disabled
            or app.reviews >= 3
        ):
            return
        if state.approved_scopes and rng.random() < 0.7:
            return  # most approved apps are content with what they have
        catalogue = self._catalogue()
        case = rng.choices(tuple(USE_CASE_SCOPES), (5, 3, 2))[0]
        open_ = [
            s
            for s in USE_CASE_SCOPES[case]
            if catalogue.scopes[s].applications_open and not catalogue.scopes[s].retired
        ]
        if not open_:
            return
        wanted = [s for s in open_ if s == BASIC or rng.random() < 0.5] or [open_[0]]
        owner = Actor.developer(app.owner)
        if app.needs_details:
            slug = app.redirect_uri.split("/")[2]
            if (
                self._do(
                    "update_app_details",
                    self.uow.update_app_details,
                    app.client_id,
                    owner,
                    company_name=f"{state.name} Inc",
                    contact_email=f"team@{slug}",
                    privacy_policy_url=f"https://{slug}/privacy",
                )
                is None
            ):
                return
            app.needs_details = False
        created = self._do(
            "submit_review",
            self.uow.submit_review,
            app.client_id,
            use_case=case,
            permissions={s: f"{state.name} uses {s} to show users their photos" for s in wanted},
            screencast_url=f"https://{app.redirect_uri.split('/')[2]}/screencast.mp4",
            actor=owner,
        )
        if created is not None:
            app.reviews += 1
            self.decisions.extend((created.id, a, s) for s in wanted)

    def _decide(self) -> None:
        if not self.decisions:
            return
        # Reviewers work roughly first come, first served.
        i = self.rng.randrange(min(5, len(self.decisions)))
        review, a, scope = self.decisions.pop(i)
        approve = self.rng.random() < (0.9 if scope == BASIC else 0.7)
        reason = "fits the use case" if approve else self.rng.choice(REJECT_REASONS)
        reviewer = self.rng.choice(REVIEWERS)
        decided = self._do(
            "decide_review",
            self.uow.decide_review,
            review,
            scope,
            approve=approve,
            reason=reason,
            actor=reviewer,
        )
        if decided is None and approve:
            # Not approvable any more (the scope was retired meanwhile): rejected instead.
            approve = False
            decided = self._do(
                "decide_review",
                self.uow.decide_review,
                review,
                scope,
                approve=False,
                reason="the permission was retired",
                actor=reviewer,
            )
        if decided is None:
            return
        if approve:
            state = self._app(a)
            if state.mode is Mode.SANDBOX and a not in self.to_go_live:
                self.to_go_live.append(a)
            self._dirty = True

    def _go_live(self) -> None:
        if not self.to_go_live:
            return
        a = self.to_go_live.pop(0)
        state = self._app(a)
        live = state.effective_mode(self._catalogue().unreviewed_live_allowed) is Mode.LIVE
        if live or state.disabled or not state.is_approved:
            return
        self._do(
            "go_live", self.uow.go_live, self.apps[a].client_id, Actor.developer(self.apps[a].owner)
        )
        self._dirty = True

    # --- owners' and the platform's rare actions --------------------------------------------

    def _rotate_secret(self) -> None:
        app = self.apps[self.rng.randrange(len(self.apps))]
        rotated = self._do(
            "rotate_client_secret",
            self.uow.rotate_client_secret,
            app.client_id,
            Actor.developer(app.owner),
        )
        if rotated is not None:
            app.secret = rotated.client_secret

    def _security(self) -> None:
        app = self.apps[self.rng.randrange(len(self.apps))]
        state = self._app(app.index)
        changes = (
            {"disable_implicit": True}
            if not state.implicit_disabled
            else {"enforce_signed_requests": not state.signed_requests_enforced}
        )
        self._do(
            "change_app_security",
            self.uow.change_app_security,
            app.client_id,
            Actor.developer(app.owner),
            **changes,
        )

    def _disable(self) -> None:
        self._refresh()
        pool = self._live or self._sandbox
        if not pool:
            return
        a = self.rng.choice(pool)  # any app, popular or not
        if (
            self._do(
                "disable_app",
                self.uow.disable_app,
                self.apps[a].client_id,
                PLATFORM,
                "violates the platform policy",
            )
            is not None
        ):
            self.disabled.append(a)
            self._dirty = True

    def _enable(self) -> None:
        if not self.disabled:
            return
        a = self.disabled.pop(self.rng.randrange(len(self.disabled)))
        self._do(
            "enable_app", self.uow.enable_app, self.apps[a].client_id, PLATFORM, "appeal accepted"
        )
        self._dirty = True

    def _withdraw_approval(self) -> None:
        self._refresh()
        for a in self._live:
            state = self._app(a)
            extra = [s for s in state.approved_scopes if s != BASIC]
            if extra:
                self._do(
                    "withdraw_approval",
                    self.uow.withdraw_approval,
                    self.apps[a].client_id,
                    self.rng.choice(extra),
                    PLATFORM,
                    "the app no longer uses the permission as described",
                )
                self._dirty = True
                return

    def _return_to_sandbox(self) -> None:
        self._refresh()
        if not self._live:
            return
        a = self.rng.choice(self._live)
        if (
            self._do(
                "return_to_sandbox",
                self.uow.return_to_sandbox,
                self.apps[a].client_id,
                Actor.developer(self.apps[a].owner),
            )
            is not None
        ):
            self.to_go_live.append(a)  # back live after the owner's maintenance
            self._dirty = True

    # --- the end ----------------------------------------------------------------------------

    def _sample(self) -> tuple[list[SampleToken], list[SampleToken]]:
        """The sampled tokens, with what a check answers at the end of the log (the domain's
        rule on the aggregates' final state)."""
        catalogue = self._catalogue()
        allowed: list[SampleToken] = []
        denied: list[SampleToken] = []
        for c in self.candidates:
            token = self.uow.peek(c.token_id, AccessToken)
            app = self._app(c.app)
            uid = user_id(self.usernames[c.user])
            grant = self.uow.peek(grant_id(uid, app.id), Grant)
            if token is None or grant is None:
                continue
            held_since_issue = self.grant_epoch[(c.user, c.app)] == c.epoch
            answers = []
            for scope in c.scopes:
                facts = CheckFacts(
                    token_found=True,
                    token_revoked=token.revoked,
                    token_expired=token.expired,
                    token_scopes=tuple(token.scopes),
                    app_disabled=app.disabled,
                    app_switched_live=app.mode is Mode.LIVE,
                    app_approved_scopes=tuple(sorted(app.approved_scopes)),
                    unreviewed_live_allowed=catalogue.unreviewed_live_allowed,
                    grant_withdrawn=not held_since_issue,
                    scope_retired=catalogue.scopes[scope].retired,
                    user_is_sandbox_user=app.is_sandbox_user(uid),
                )
                answers.append(decide(facts, scope))
            decision = next((d for d in answers if d.allowed), answers[0])
            sample = SampleToken(
                c.access_token,
                c.token_id.hex,
                app.client_id,
                self.usernames[c.user],
                decision.scope,
                decision.allowed,
                decision.denial.reason.value if decision.denial else None,
            )
            (allowed if decision.allowed else denied).append(sample)
        return allowed[: self.sample_size], denied[: self.sample_size]

    def _describe(self, app: _App) -> GeneratedApp:
        state = self._app(app.index)
        members = tuple(
            self.usernames[self.user_index[uid]]
            for uid in state.sandbox_users
            if state.is_sandbox_user(uid) and uid in self.user_index
        )
        return GeneratedApp(
            app.client_id,
            app.secret,
            app.owner,
            app.redirect_uri,
            state.effective_mode(self._catalogue().unreviewed_live_allowed).value,
            tuple(state.approved_scopes),
            state.disabled,
            state.implicit_disabled,
            members,
        )


def generate_log(
    ledger: Ledger,
    events: int,
    *,
    seed: int = 0,
    batch_events: int = DEFAULT_BATCH_EVENTS,
    sample_tokens: int = DEFAULT_SAMPLE_TOKENS,
    progress: Callable[[int], None] | None = None,
) -> GeneratedLog:
    """Appends a realistic history of about ``events`` events to the ledger's log.

    It stops at the first command that reaches ``events`` (so it overshoots by at most the few
    events of one command). ``progress`` is called with the events written since its last call.
    Answers what was written, with up to ``sample_tokens`` plaintext tokens that a check allows
    at the end of the log (and as many that it denies, with why).
    """
    return LogGenerator(
        ledger,
        events,
        seed=seed,
        batch_events=batch_events,
        sample_tokens=sample_tokens,
        progress=progress,
    ).run()
