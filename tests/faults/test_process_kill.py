"""A service process killed with SIGKILL while users authorize apps through both processes.

Two `ledger serve` processes share one PostgreSQL schema. Signed-in users run the whole OAuth
flow (consent, code, token) against both; one process is killed without warning, and its users
carry on against the other, as a load balancer would send them. Killed once is the standby (the
process not projecting), once the projector's leader. Afterwards no token a client received is
unknown to the ledger, the read models hold every event of the log exactly once, and they equal
what a rebuild from the log makes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.faults.harness import (
    FlowError,
    Load,
    Outcome,
    Seeded,
    Service,
    authorization,
    counts_by_status,
    fresh_schema,
    introspect,
    leader_backend,
    live_and_rebuilt_checksums,
    log_and_projection,
    seed,
    services,
    settings_on,
    sign_in,
    wait_until_projected,
)

pytestmark = [pytest.mark.postgres, pytest.mark.faults, pytest.mark.xdist_group("faults")]

WORKERS = 6
ACKNOWLEDGED_BEFORE_KILL = 12  # authorizations acknowledged before the kill, at least
ACKNOWLEDGED_AFTER_KILL = 12
PHASE_SECONDS = 12.0  # the most each phase of the load may take
TAKEOVER_LIMIT = 3.0  # seconds: a standby polls for the lock every 0.5 s
CATCH_UP_LIMIT = 5.0


@dataclass
class User:
    """One browser: a user signed in on one service, moved to the other if that one dies."""

    username: str
    service: Service
    browser: httpx.Client | None = None


@dataclass
class KillRun:
    killed: str
    outcomes: list[Outcome]
    killed_at: float
    acknowledged: list[tuple[float, str]] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    takeover_seconds: float | None = None
    catch_up_seconds: float | None = None
    events: list[int] = field(default_factory=list)
    projected: list[int] = field(default_factory=list)
    live_checksum: str = ""
    rebuilt_checksum: str = ""

    @property
    def acknowledged_after_kill(self) -> int:
        return sum(1 for at, _ in self.acknowledged if at > self.killed_at)


def authorizing(
    world: Seeded, users: list[User], survivor: Service
) -> Callable[[int, int], Outcome | None]:
    """A load step: one authorization of the worker's user (signed in first if need be)."""

    def step(worker: int, _: int) -> Outcome | None:
        user = users[worker]
        started = time.monotonic()
        try:
            if user.browser is None:
                user.browser = user.service.client()
                sign_in(user.browser, world, user.username)
            token = authorization(user.browser, world)
        except FlowError as exc:
            return Outcome(exc.step, user.service.name, started, time.monotonic(), exc.status)
        except httpx.HTTPError as exc:
            outcome = Outcome(
                "authorization",
                user.service.name,
                started,
                time.monotonic(),
                None,
                type(exc).__name__,
            )
            if user.service is not survivor and user.service.process.poll() is not None:
                user.browser = None  # the process is gone: the balancer sends her elsewhere
                user.service = survivor
            return outcome
        return Outcome(
            "authorization", user.service.name, started, time.monotonic(), 200, written=token
        )

    return step


def wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def acknowledged_count(load: Load, after: float = 0.0) -> int:
    return sum(1 for o in list(load.outcomes) if o.written and o.ended > after)


def watch_takeover(
    url: str, schema: str, old_leader: int, run: KillRun, done: threading.Event
) -> None:
    """Measures from the kill until another backend holds the projector lock, then until the
    read models reach the end the log had at that moment."""
    deadline = run.killed_at + 20
    while time.monotonic() < deadline and not done.is_set():
        pid = leader_backend(url, schema)
        if pid is not None and pid != old_leader:
            run.takeover_seconds = time.monotonic() - run.killed_at
            break
        time.sleep(0.02)
    else:
        return
    events, _, _ = log_and_projection(url, schema)
    target = events[-1] if events else 0
    while time.monotonic() < deadline:
        _, _, tracking = log_and_projection(url, schema)
        if tracking >= target:
            run.catch_up_seconds = time.monotonic() - run.killed_at
            return
        time.sleep(0.02)


@pytest.fixture(scope="module", params=["standby", "leader"])
def kill_run(
    request: pytest.FixtureRequest, postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KillRun]:
    """The whole scenario, once per process killed; the tests read what it saw."""
    killed = str(request.param)
    logs: Path = tmp_path_factory.mktemp(f"kill-{killed}")
    with fresh_schema(postgres_url) as schema:
        settings = settings_on(postgres_url, schema)
        world = seed(settings)
        with services(settings, logs) as (leader, standby):
            old_leader = leader_backend(postgres_url, schema)
            assert old_leader is not None
            victim, survivor = (leader, standby) if killed == "leader" else (standby, leader)
            # Most users on the victim, some on the survivor.
            users = [
                User(name, victim if i % 3 else survivor)
                for i, name in enumerate(world.users[:WORKERS])
            ]
            load = Load(
                authorizing(world, users, survivor), threads=WORKERS, max_seconds=3 * PHASE_SECONDS
            ).start()
            try:
                wait_for(
                    lambda: acknowledged_count(load) >= ACKNOWLEDGED_BEFORE_KILL, PHASE_SECONDS
                )
                run = KillRun(killed, [], killed_at=time.monotonic())
                victim.kill()
                done = threading.Event()
                watcher = threading.Thread(
                    target=watch_takeover,
                    args=(postgres_url, schema, old_leader, run, done),
                    daemon=True,
                )
                if killed == "leader":
                    watcher.start()
                wait_for(
                    lambda: acknowledged_count(load, run.killed_at) >= ACKNOWLEDGED_AFTER_KILL,
                    PHASE_SECONDS,
                )
            finally:
                run_outcomes = load.stop()
                for user in users:
                    if user.browser is not None:
                        user.browser.close()
            if killed == "leader":
                watcher.join(timeout=25)
            done.set()
            run.outcomes = run_outcomes
            run.acknowledged = [(o.ended, o.written) for o in run_outcomes if o.written]
            with survivor.client() as client:
                run.lost = [
                    token for _, token in run.acknowledged if not introspect(client, world, token)
                ]
            wait_until_projected(postgres_url, schema)
            run.events, run.projected, _ = log_and_projection(postgres_url, schema)
        run.live_checksum, run.rebuilt_checksum = live_and_rebuilt_checksums(settings)
        yield run


def test_no_acknowledged_authorization_is_lost_when_a_service_is_killed(
    kill_run: KillRun, figure: Callable[[str, Any], None]
) -> None:
    figure(
        f"SIGKILL of the {kill_run.killed} during authorizations: tokens acknowledged / lost",
        f"{len(kill_run.acknowledged)} / {len(kill_run.lost)} "
        f"(answers: {counts_by_status(kill_run.outcomes)})",
    )

    assert kill_run.lost == []


def test_the_other_service_keeps_authorizing_after_the_kill(kill_run: KillRun) -> None:
    assert kill_run.acknowledged_after_kill >= ACKNOWLEDGED_AFTER_KILL


def test_no_authorization_is_answered_with_a_server_error_around_the_kill(
    kill_run: KillRun,
) -> None:
    errors = [o for o in kill_run.outcomes if o.status is not None and o.status >= 500]

    assert errors == []


def test_the_read_models_hold_every_event_of_the_log_once_after_the_kill(
    kill_run: KillRun,
) -> None:
    assert kill_run.projected == kill_run.events


def test_the_read_models_after_the_kill_equal_a_fresh_rebuild(kill_run: KillRun) -> None:
    assert kill_run.live_checksum == kill_run.rebuilt_checksum


def test_a_standby_takes_the_projection_over_within_seconds_of_the_leaders_kill(
    kill_run: KillRun, figure: Callable[[str, Any], None]
) -> None:
    if kill_run.killed != "leader":
        pytest.skip("only the leader's kill hands the projection over")
    figure(
        "SIGKILL of the projector's leader: takeover / caught up (s after the kill)",
        f"{_seconds(kill_run.takeover_seconds)} / {_seconds(kill_run.catch_up_seconds)}",
    )

    assert kill_run.takeover_seconds is not None
    assert kill_run.takeover_seconds <= TAKEOVER_LIMIT
    assert kill_run.catch_up_seconds is not None
    assert kill_run.catch_up_seconds <= CATCH_UP_LIMIT


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f}"
