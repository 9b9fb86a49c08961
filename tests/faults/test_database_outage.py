"""PostgreSQL restarted as after a crash, then stopped for a few seconds, under load from two
service processes.

The module has a PostgreSQL server of its own (the tests stop it). Two `ledger serve` processes
take writes (users registered) and gateway checks throughout. While the database is away a
request is answered at once with 503 and ``Retry-After`` (the services wait at most
``LEDGER_DATABASE_TIMEOUT`` seconds for it), never with a 500 and never left hanging; once it is
back the same processes answer again, and every write they acknowledged is still there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.faults.harness import (
    DATABASE_TIMEOUT,
    Load,
    Outcome,
    Seeded,
    Service,
    authorization,
    counts_by_status,
    fresh_schema,
    seed,
    services,
    settings_on,
    sign_in,
    timed,
    unknown_users,
)
from tests.support.postgres import throwaway_postgres
from tools.postgres_server import ThrowawayPostgres

pytestmark = [pytest.mark.postgres, pytest.mark.faults, pytest.mark.xdist_group("faults")]

WORKERS = 4
PAUSE = 0.05  # between one worker's requests: a steady, light load
BEFORE = 1.5  # seconds of load before each fault
OUTAGE_SECONDS = 4.0
# seconds: the longest a 503 may take. A request meets the timeout at most twice: its read, and
# the look a write cut off mid-commit takes to learn whether it landed (docs/operations.md).
ANSWER_LIMIT = 2 * DATABASE_TIMEOUT + 1.0
RECOVERY_LIMIT = 5.0  # seconds after PostgreSQL is back, for both services to answer again


@dataclass
class OutageRun:
    outcomes: list[Outcome]
    restart_began: float
    restarted: float
    halt_began: float
    resumed_at: float
    recovery_after_restart: dict[str, float | None] = field(default_factory=dict)
    recovery_after_outage: dict[str, float | None] = field(default_factory=dict)
    acknowledged: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    refused_yet_written: list[str] = field(default_factory=list)

    def between(self, start: float, end: float) -> list[Outcome]:
        return [o for o in self.outcomes if start <= o.started < end]

    @property
    def during_outage(self) -> list[Outcome]:
        """Every request in flight while PostgreSQL was going or gone."""
        return [
            o for o in self.outcomes if o.started < self.resumed_at and o.ended > self.halt_began
        ]

    def waited_in_outage(self, outcome: Outcome) -> float:
        """How long the request waited while PostgreSQL was going or gone."""
        return min(outcome.ended, self.resumed_at) - max(outcome.started, self.halt_began)

    @property
    def around_restart(self) -> list[Outcome]:
        return self.between(self.restart_began, self.halt_began)


def mixed_load(
    world: Seeded, token: str, pair: list[Service]
) -> Callable[[int, int], Outcome | None]:
    """Even steps register a user (an acknowledged write is its 201), odd steps check a token;
    each worker talks to one service."""
    clients = [service.client() for service in pair]
    admin = {"Authorization": f"Bearer {world.admin_key}"}

    def step(worker: int, n: int) -> Outcome:
        time.sleep(PAUSE)
        service, client = pair[worker % 2], clients[worker % 2]
        if n % 2 == 0:
            username = f"w{worker}_{n}"
            return timed(
                "write",
                service.name,
                lambda: client.post(
                    "/v1/users",
                    headers=admin,
                    json={
                        "username": username,
                        "full_name": "Load User",
                        "profile_picture": f"https://pics.example/{username}.jpg",
                    },
                ),
                written=lambda _: username,
            )
        return timed(
            "check",
            service.name,
            lambda: client.post(
                "/v1/decisions/check", headers=admin, json={"access_token": token, "scope": "basic"}
            ),
        )

    return step


def first_success_after(
    outcomes: list[Outcome], service: str, moment: float, kind: str = "write"
) -> float | None:
    ends = [
        o.ended
        for o in outcomes
        if o.service == service
        and o.kind == kind
        and o.started >= moment
        and o.status is not None
        and 200 <= o.status < 300
    ]
    return min(ends) - moment if ends else None


def wait_for_recovery(load: Load, pair: list[Service], moment: float, limit: float) -> None:
    deadline = moment + limit + 1
    while time.monotonic() < deadline:
        if all(first_success_after(list(load.outcomes), s.name, moment) is not None for s in pair):
            return
        time.sleep(0.05)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayPostgres]:
    with throwaway_postgres() as server:
        yield server


@pytest.fixture(scope="module")
def outage_run(
    database: ThrowawayPostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OutageRun]:
    """The whole scenario: load, a restart, load, an outage, load; the tests read what it saw."""
    logs: Path = tmp_path_factory.mktemp("outage")
    with fresh_schema(database.url) as schema:
        settings = settings_on(database.url, schema)
        world = seed(settings, users=1)
        with services(settings, logs) as pair:
            with pair[0].client() as browser:
                sign_in(browser, world, world.users[0])
                token = authorization(browser, world)
            load = Load(
                mixed_load(world, token, pair), threads=WORKERS, max_steps=2000, max_seconds=60
            ).start()
            try:
                time.sleep(BEFORE)
                restart_began = time.monotonic()
                database.restart()
                restarted = time.monotonic()
                wait_for_recovery(load, pair, restarted, RECOVERY_LIMIT)
                time.sleep(BEFORE)
                halt_began = time.monotonic()
                database.halt()
                time.sleep(OUTAGE_SECONDS)
                resumed_at = time.monotonic()
                database.resume()
                resumed = time.monotonic()
                wait_for_recovery(load, pair, resumed, RECOVERY_LIMIT)
                time.sleep(BEFORE)
            finally:
                outcomes = load.stop()
            run = OutageRun(outcomes, restart_began, restarted, halt_began, resumed_at)
            for service in pair:
                run.recovery_after_restart[service.name] = first_success_after(
                    outcomes, service.name, restarted
                )
                run.recovery_after_outage[service.name] = first_success_after(
                    outcomes, service.name, resumed
                )
            run.acknowledged = [o.written for o in outcomes if o.written]
        run.lost = unknown_users(settings, run.acknowledged)
        refused = [o.subject for o in outcomes if o.kind == "write" and o.subject and not o.written]
        missing = set(unknown_users(settings, refused))
        run.refused_yet_written = [name for name in refused if name not in missing]
        yield run


def test_no_request_is_answered_500_while_postgresql_restarts_or_is_away(
    outage_run: OutageRun, figure: Callable[[str, Any], None]
) -> None:
    figure(
        "PostgreSQL restart: answers by status (requests started during it and until the outage)",
        counts_by_status(outage_run.around_restart),
    )
    server_errors = [
        o
        for o in outage_run.outcomes
        if o.status is not None and o.status >= 500 and o.status != 503
    ]

    assert counts_by_status(server_errors) == {}


def test_every_request_during_an_outage_is_answered_503_within_seconds(
    outage_run: OutageRun, figure: Callable[[str, Any], None]
) -> None:
    during = outage_run.during_outage
    figure(
        f"PostgreSQL stopped for {OUTAGE_SECONDS:.0f} s: answers by status",
        counts_by_status(during),
    )
    waits = [outage_run.waited_in_outage(o) for o in during]
    figure(
        "PostgreSQL stopped: longest wait for an answer during it (s)",
        f"{max(waits, default=0):.2f}",
    )
    slow_or_wrong = [
        o
        for o, waited in zip(during, waits, strict=True)
        if not (
            o.status is not None and (o.status == 503 or o.status < 300) and waited <= ANSWER_LIMIT
        )
    ]

    assert during
    assert counts_by_status(slow_or_wrong) == {}


def test_a_503_during_an_outage_says_when_to_retry(outage_run: OutageRun) -> None:
    unavailable = [o for o in outage_run.during_outage if o.status == 503]

    assert unavailable
    assert all(o.retry_after and o.retry_after.isdigit() for o in unavailable)


def test_the_services_answer_again_soon_after_postgresql_restarts(
    outage_run: OutageRun, figure: Callable[[str, Any], None]
) -> None:
    figure(
        "PostgreSQL restart: recovery (s until each service's first acknowledged write)",
        _seconds(outage_run.recovery_after_restart),
    )

    assert all(
        s is not None and s <= RECOVERY_LIMIT for s in outage_run.recovery_after_restart.values()
    )


def test_the_services_answer_again_soon_after_an_outage_without_being_restarted(
    outage_run: OutageRun, figure: Callable[[str, Any], None]
) -> None:
    figure(
        "PostgreSQL outage: recovery (s after it is back, until each service's first "
        "acknowledged write)",
        _seconds(outage_run.recovery_after_outage),
    )

    assert all(
        s is not None and s <= RECOVERY_LIMIT for s in outage_run.recovery_after_outage.values()
    )


def test_no_acknowledged_write_is_lost_across_restarts_and_outages(
    outage_run: OutageRun, figure: Callable[[str, Any], None]
) -> None:
    figure(
        "PostgreSQL restart and outage: writes acknowledged / lost",
        f"{len(outage_run.acknowledged)} / {len(outage_run.lost)}",
    )
    figure(
        "PostgreSQL restart and outage: writes not acknowledged (error or no answer) "
        "that the ledger holds nonetheless",
        len(outage_run.refused_yet_written),
    )

    assert outage_run.acknowledged
    assert outage_run.lost == []


def _seconds(by_service: dict[str, float | None]) -> str:
    return ", ".join(
        f"{name} {'never' if s is None else f'{s:.2f}'}" for name, s in by_service.items()
    )
