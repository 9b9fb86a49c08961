"""Concurrent writers on PostgreSQL: no update is lost, nothing unique is created twice.

Each thread has its own ``Ledger`` (its own connection pool and aggregate cache), as separate
server processes would, all on one fresh schema. Conflicting writes must surface as the event
store's optimistic-concurrency conflicts, be retried on fresh state, and either succeed or be
refused; the log must then hold exactly the events of the commands that succeeded.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest

from application.ledger import Ledger
from domain.actors import Actor
from domain.errors import (
    CodeNotFoundError,
    ConcurrencyConflictError,
    GrantNotFoundError,
    LedgerError,
    TokenStateError,
    UsernameTakenError,
)
from domain.grants import Grant
from domain.identity import grant_id, user_id
from tests.conftest import TEST_SECRET_KEY
from tests.support.ledger_setup import (
    PLATFORM,
    REDIRECT_URI,
    SandboxSetup,
    authorize,
    exchange,
    register_user,
    sandbox_app_with_user,
    stored_notifications,
)

if TYPE_CHECKING:
    from tests.support.clock import Clock

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("ledger_env", ["postgres"], indirect=True),
]

THREADS = 8
ROUNDS = 3
POOL = 8  # tokens every thread races to revoke


@contextmanager
def ledgers(env: dict[str, str], clock: Clock, count: int) -> Iterator[list[Ledger]]:
    """``count`` independent applications on the same store (the tables exist already)."""
    apps: list[Ledger] = []
    try:
        for _ in range(count):
            apps.append(Ledger(env=env, secret_key=TEST_SECRET_KEY, clock=clock))
        yield apps
    finally:
        for app in apps:
            app.close()


def run_together(work: list[Callable[[], None]]) -> None:
    """Starts every callable at the same moment on its own thread; re-raises the first error."""
    barrier = threading.Barrier(len(work))

    def start(fn: Callable[[], None]) -> None:
        barrier.wait(timeout=30)
        fn()

    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        for future in [pool.submit(start, fn) for fn in work]:
            future.result(timeout=120)


@dataclass(frozen=True)
class Outcome:
    """One command a thread ran: what it was, and either its log position or its refusal."""

    kind: str  # "authorize", "revoke" or "deauthorize"
    position: int | None
    scopes: tuple[str, ...] = ()
    token_id: UUID | None = None
    error: type[LedgerError] | None = None

    @property
    def succeeded(self) -> bool:
        return self.position is not None


# Events a successful command writes (the grant exists and every scope requested is new to it).
EVENTS_PER_COMMAND = {"authorize": 2, "revoke": 1, "deauthorize": 1}
EXPECTED_REFUSALS = (TokenStateError, GrantNotFoundError, ConcurrencyConflictError)


def attempt(outcomes: list[Outcome], kind: str, fn: Callable[[], Any], **facts: Any) -> Any:
    try:
        result = fn()
    except EXPECTED_REFUSALS as exc:
        outcomes.append(Outcome(kind, None, error=type(exc), **facts))
        return None
    outcomes.append(Outcome(kind, result.position, **facts))
    return result


@pytest.fixture
def sandbox(ledger: Ledger) -> SandboxSetup:
    """The sandbox app with alice, who has authorized basic (so her grant exists)."""
    setup = sandbox_app_with_user(ledger)
    authorize(ledger, setup.app.client_id, "alice", scope="basic")
    return setup


def thread_scope(thread: int, round_: int) -> str:
    return f"t{thread}_r{round_}"


def test_concurrent_grants_revocations_and_deauthorizations_lose_no_update(
    ledger: Ledger, ledger_env: dict[str, str], clock: Clock, sandbox: SandboxSetup
) -> None:
    client_id = sandbox.app.client_id
    # Every authorization asks for a scope of its own, so each one must add to the grant.
    for thread in range(THREADS):
        for round_ in range(ROUNDS):
            ledger.introduce_scope(
                thread_scope(thread, round_),
                "a scope for one thread's authorization",
                applications_open=False,
                actor=PLATFORM,
                reason="test",
            )
    pool: list[UUID] = []
    for _ in range(POOL):
        token_id = authorize(ledger, client_id, "alice", response_type="token").token_id
        assert token_id is not None
        pool.append(token_id)
    start = ledger.position()
    outcomes: list[Outcome] = []

    def worker(thread: int, app: Ledger) -> Callable[[], None]:
        """Each round: grant a new scope, revoke a few pool tokens, sometimes deauthorize."""

        def grant(scope: str) -> Any:
            return app.authorize(
                client_id=client_id,
                username="alice",
                redirect_uri=REDIRECT_URI,
                scope=scope,
                response_type="token",
            )

        def run() -> None:
            for round_ in range(ROUNDS):
                scope = thread_scope(thread, round_)
                attempt(outcomes, "authorize", partial(grant, scope), scopes=(scope,))
                for k in range(thread + round_, thread + round_ + POOL // ROUNDS + 1):
                    token = pool[k % POOL]
                    revoke = partial(app.revoke_token, PLATFORM, token_id=token)
                    attempt(outcomes, "revoke", revoke, token_id=token)
                if (thread + round_) % 3 == 0:
                    deauthorize = partial(app.deauthorize, client_id, "alice", Actor.user("alice"))
                    attempt(outcomes, "deauthorize", deauthorize)

        return run

    with ledgers(ledger_env, clock, THREADS) as apps:
        run_together([worker(t, app) for t, app in enumerate(apps)])

    succeeded = sorted((o for o in outcomes if o.succeeded), key=lambda o: o.position or 0)
    deauthorized_at = max(
        (o.position or 0 for o in succeeded if o.kind == "deauthorize"), default=0
    )
    expected_scopes = {
        s
        for o in succeeded
        if o.kind == "authorize" and (o.position or 0) > deauthorized_at
        for s in o.scopes
    }
    if deauthorized_at == 0:
        expected_scopes.add("basic")  # alice's authorization before the race

    with ledgers(ledger_env, clock, 1) as (fresh,):
        grant = fresh._get(grant_id(user_id("alice"), UUID(hex=client_id)), Grant)
        revoked = {t for t in pool if fresh.token_by_id(t).revoked}
        events = Counter(
            n.topic.rsplit(".", 1)[-1] for n in stored_notifications(fresh) if n.id > start
        )
        written = sum(1 for n in stored_notifications(fresh) if n.id > start)

    assert grant is not None
    assert len(grant.scopes) == len(set(grant.scopes))
    assert set(grant.scopes) == expected_scopes
    revokes = Counter(o.token_id for o in succeeded if o.kind == "revoke")
    assert revokes == Counter(pool)  # each pool token revoked exactly once...
    assert revoked == set(pool)  # ...and the store says so
    assert events["Revoked"] == POOL
    assert written == sum(EVENTS_PER_COMMAND[o.kind] for o in succeeded)
    assert any(o.kind == "deauthorize" for o in succeeded)  # the race did include withdrawal


def test_concurrent_registrations_of_one_username_make_one_user(
    ledger: Ledger, ledger_env: dict[str, str], clock: Clock
) -> None:
    names = [("alice", "Alice"), ("bob", "bob"), ("carol", "CAROL"), ("dan", "dan"), ("eve", "Eve")]
    outcomes: list[tuple[str, str]] = []

    def register(app: Ledger, username: str) -> Callable[[], None]:
        def run() -> None:
            try:
                register_user(app, username)
            except (UsernameTakenError, ConcurrencyConflictError) as exc:
                outcomes.append((username.casefold(), type(exc).__name__))
            else:
                outcomes.append((username.casefold(), "registered"))

        return run

    with ledgers(ledger_env, clock, 2) as (first, second):
        for one, other in names:
            run_together([register(first, one), register(second, other)])

    registered = Counter(
        n.originator_id for n in stored_notifications(ledger) if n.topic.endswith("User.Registered")
    )
    assert registered == Counter({user_id(one): 1 for one, _ in names})
    for one, _ in names:
        results = sorted(result for name, result in outcomes if name == one)
        assert results[1] == "registered"
        assert results[0] in ("ConcurrencyConflictError", "UsernameTakenError")


# --- interleavings forced deterministically ---------------------------------------------------


def save_after(app: Ledger, interloper: Callable[[], Any]) -> None:
    """Makes ``app``'s next save run just after ``interloper`` (another process's command):
    the command has read its state, the other commits, then the command writes."""
    save = app._save

    def interleaved(*aggregates: Any) -> int:
        app._save = save  # type: ignore[method-assign]
        interloper()
        return save(*aggregates)

    app._save = interleaved  # type: ignore[method-assign]


def test_registration_committed_first_makes_the_other_one_taken(
    ledger: Ledger, ledger_env: dict[str, str], clock: Clock
) -> None:
    with ledgers(ledger_env, clock, 1) as (other,):
        save_after(other, lambda: register_user(ledger, "alice"))
        with pytest.raises(UsernameTakenError):
            register_user(other, "ALICE")

    registered = [n for n in stored_notifications(ledger) if n.topic.endswith("User.Registered")]
    assert [n.originator_id for n in registered] == [user_id("alice")]
    assert ledger.user("alice").username == "alice"


def test_authorization_racing_a_deauthorization_keeps_its_scopes_in_the_grant(
    ledger: Ledger, ledger_env: dict[str, str], clock: Clock, sandbox: SandboxSetup
) -> None:
    client_id = sandbox.app.client_id
    deauthorized: list[int] = []
    with ledgers(ledger_env, clock, 1) as (other,):
        save_after(
            other,
            lambda: deauthorized.append(
                ledger.deauthorize(client_id, "alice", Actor.user("alice")).position
            ),
        )
        result = authorize(other, client_id, "alice", scope="basic", response_type="token")

    assert result.position > deauthorized[0]  # the consent comes after the withdrawal...
    grant = ledger._get(grant_id(user_id("alice"), UUID(hex=client_id)), Grant)
    assert grant is not None
    assert grant.scopes == ["basic"]  # ...so the grant must hold what it consented to


def test_code_exchange_racing_a_deauthorization_issues_no_token(
    ledger: Ledger, ledger_env: dict[str, str], clock: Clock, sandbox: SandboxSetup
) -> None:
    client_id = sandbox.app.client_id
    code = authorize(ledger, client_id, "alice", scope="basic").code
    with ledgers(ledger_env, clock, 1) as (other,):
        save_after(other, lambda: ledger.deauthorize(client_id, "alice", Actor.user("alice")))
        with pytest.raises(LedgerError):
            exchange(other, sandbox.app, code)


def test_two_exchanges_of_one_code_racing_issue_one_token_and_revoke_it(
    ledger: Ledger, ledger_env: dict[str, str], clock: Clock, sandbox: SandboxSetup
) -> None:
    """Both read the grant before either writes: they collide on its version, and the one
    re-run sees the other's exchange, so it is a replay (RFC 6749 §4.1.2)."""
    code = authorize(ledger, sandbox.app.client_id, "alice", scope="basic").code
    start = ledger.position()
    first: list[Any] = []
    with ledgers(ledger_env, clock, 1) as (other,):
        save_after(other, lambda: first.append(exchange(ledger, sandbox.app, code)))
        with pytest.raises(CodeNotFoundError):
            exchange(other, sandbox.app, code)

    [issued] = first
    events = [n.topic.rsplit(":", 1)[-1] for n in stored_notifications(ledger) if n.id > start]
    assert events == [
        "AccessToken.Issued",
        "Grant.TokenIssued",
        "Grant.CodeReplayed",
        "AccessToken.Revoked",
    ]
    assert ledger.token_by_id(issued.token_id).revoked


def test_many_exchanges_of_one_code_at_once_leave_at_most_one_token_and_it_revoked(
    ledger: Ledger, ledger_env: dict[str, str], clock: Clock, sandbox: SandboxSetup
) -> None:
    code = authorize(ledger, sandbox.app.client_id, "alice", scope="basic").code
    start = ledger.position()
    outcomes: list[str] = []

    def redeem(app: Ledger) -> Callable[[], None]:
        def run() -> None:
            try:
                exchange(app, sandbox.app, code)
            except (CodeNotFoundError, ConcurrencyConflictError) as exc:
                outcomes.append(type(exc).__name__)
            else:
                outcomes.append("issued")

        return run

    with ledgers(ledger_env, clock, 4) as apps:
        run_together([redeem(app) for app in apps])

    with ledgers(ledger_env, clock, 1) as (fresh,):
        events = Counter(
            n.topic.rsplit(".", 1)[-1] for n in stored_notifications(fresh) if n.id > start
        )
    assert outcomes.count("issued") == 1
    assert events["Issued"] == events["TokenIssued"] == 1
    assert events["Revoked"] == 1  # the first replay revoked it; later ones find it revoked
