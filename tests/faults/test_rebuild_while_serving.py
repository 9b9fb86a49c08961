"""`ledger projections rebuild` run by an operator while two service processes serve the store:
once while they are idle, once while they take writes and reads.

The rebuild finishes within seconds, checks of "now" answer during and after it, no request is
answered with a server error, and the read models end up equal to what a rebuild from the log
makes with no service running.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from infrastructure.read_model.checksum import checksum
from infrastructure.runtime import open_runtime
from infrastructure.settings import Settings
from tests.faults.harness import (
    Load,
    Outcome,
    Seeded,
    Service,
    counts_by_status,
    fresh_schema,
    live_and_rebuilt_checksums,
    seed,
    service_env,
    services,
    settings_on,
    timed,
    wait_until_projected,
)

pytestmark = [pytest.mark.postgres, pytest.mark.faults, pytest.mark.xdist_group("faults")]

REBUILD_LIMIT = 30.0  # seconds, the command's start included; the log holds a few hundred events
WORKERS = 4


@dataclass
class RebuildRun:
    exit_code: int | None  # None: still running when given up on
    seconds: float
    output: str
    reads_after: dict[str, str] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)
    checksum_before: str = ""
    live_checksum: str = ""
    rebuilt_checksum: str = ""


def run_rebuild(settings: Settings) -> tuple[int | None, float, str]:
    """The operator's command, in a process of its own, given up on after REBUILD_LIMIT."""
    ledger = Path(sys.executable).with_name("ledger")
    started = time.monotonic()
    try:
        done = subprocess.run(  # noqa: S603 - our own command, fixed arguments
            [str(ledger), "projections", "rebuild"],
            env=service_env(settings),
            capture_output=True,
            text=True,
            timeout=REBUILD_LIMIT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or b"") + (exc.stderr or b"")
        text = output.decode(errors="replace") if isinstance(output, bytes) else str(output)
        return None, time.monotonic() - started, text
    return done.returncode, time.monotonic() - started, done.stdout + done.stderr


def register(service: Service, world: Seeded, username: str) -> Outcome:
    with service.client() as client:
        return timed(
            "write",
            service.name,
            lambda: client.post(
                "/v1/users",
                headers={"Authorization": f"Bearer {world.admin_key}"},
                json={
                    "username": username,
                    "full_name": "Some One",
                    "profile_picture": f"https://pics.example/{username}.jpg",
                },
            ),
            written=lambda _: username,
        )


def check_now(service: Service, world: Seeded) -> Outcome:
    """A gateway's check of "now", answered from the read models."""
    with service.client() as client:
        return timed(
            "check",
            service.name,
            lambda: client.post(
                "/v1/decisions/check",
                headers={"Authorization": f"Bearer {world.admin_key}"},
                json={"access_token": world.token, "scope": "basic"},
            ),
        )


def decided_now(service: Service, world: Seeded) -> str:
    """What a check of "now" answers: "200 allowed", "200 denied", "503", ..."""
    with service.client() as client:
        try:
            answer = client.post(
                "/v1/decisions/check",
                headers={"Authorization": f"Bearer {world.admin_key}"},
                json={"access_token": world.token, "scope": "basic"},
            )
        except httpx.HTTPError as exc:
            return type(exc).__name__
    if answer.status_code != 200:
        return str(answer.status_code)
    return "200 allowed" if answer.json()["allowed"] else "200 denied"


def current_checksum(settings: Settings) -> str:
    runtime = open_runtime(settings, run_projector=False)
    try:
        return checksum(runtime.db)
    finally:
        runtime.close()


@pytest.fixture(scope="module")
def idle_rebuild(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RebuildRun]:
    logs = tmp_path_factory.mktemp("rebuild-idle")
    with fresh_schema(postgres_url) as schema:
        settings = settings_on(postgres_url, schema)
        world = seed(settings, users=1)
        with services(settings, logs) as pair:
            for i in range(10):
                assert register(pair[i % 2], world, f"idle{i}").status == 201
            wait_until_projected(postgres_url, schema)
            before = current_checksum(settings)
            run = RebuildRun(*run_rebuild(settings), checksum_before=before)
            for service in pair:
                run.reads_after[service.name] = decided_now(service, world)
            run.live_checksum = current_checksum(settings)
        yield run


@pytest.fixture(scope="module")
def busy_rebuild(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RebuildRun]:
    logs = tmp_path_factory.mktemp("rebuild-busy")
    with fresh_schema(postgres_url) as schema:
        settings = settings_on(postgres_url, schema)
        world = seed(settings, users=1)
        with services(settings, logs) as pair:
            for i in range(10):
                assert register(pair[i % 2], world, f"busy{i}").status == 201

            def step(worker: int, n: int) -> Outcome:
                time.sleep(0.02)
                service = pair[worker % 2]
                if n % 2:
                    return check_now(service, world)
                return register(service, world, f"load{worker}_{n}")

            load = Load(step, threads=WORKERS, max_steps=300, max_seconds=REBUILD_LIMIT + 10)
            load.start()
            try:
                time.sleep(1.0)
                rebuilt = run_rebuild(settings)
                time.sleep(1.0)
            finally:
                outcomes = load.stop()
            run = RebuildRun(*rebuilt, outcomes=outcomes)
            for service in pair:
                run.reads_after[service.name] = decided_now(service, world)
            wait_until_projected(postgres_url, schema)
        run.live_checksum, run.rebuilt_checksum = live_and_rebuilt_checksums(settings)
        yield run


def test_a_rebuild_against_idle_services_finishes_within_seconds(
    idle_rebuild: RebuildRun, figure: Callable[[str, Any], None]
) -> None:
    figure(
        "rebuild against idle services: exit code, seconds",
        f"{idle_rebuild.exit_code}, {idle_rebuild.seconds:.2f}",
    )

    assert idle_rebuild.exit_code == 0, idle_rebuild.output


def test_checks_of_now_answer_after_a_rebuild_against_idle_services(
    idle_rebuild: RebuildRun,
) -> None:
    assert set(idle_rebuild.reads_after.values()) == {"200 allowed"}


def test_a_rebuild_against_idle_services_leaves_the_read_models_as_they_were(
    idle_rebuild: RebuildRun,
) -> None:
    assert idle_rebuild.live_checksum == idle_rebuild.checksum_before


def test_a_rebuild_against_busy_services_finishes_within_seconds(
    busy_rebuild: RebuildRun, figure: Callable[[str, Any], None]
) -> None:
    figure(
        "rebuild against busy services: exit code, seconds; answers meanwhile",
        f"{busy_rebuild.exit_code}, {busy_rebuild.seconds:.2f}; "
        f"{counts_by_status(busy_rebuild.outcomes)}",
    )

    assert busy_rebuild.exit_code == 0, busy_rebuild.output


def test_busy_services_answer_no_server_error_during_a_rebuild(busy_rebuild: RebuildRun) -> None:
    failed = [o for o in busy_rebuild.outcomes if o.status is None or o.status >= 500]

    assert busy_rebuild.outcomes
    assert counts_by_status(failed) == {}


def test_checks_of_now_answer_after_a_rebuild_against_busy_services(
    busy_rebuild: RebuildRun,
) -> None:
    assert set(busy_rebuild.reads_after.values()) == {"200 allowed"}


def test_a_rebuild_against_busy_services_ends_equal_to_a_fresh_rebuild(
    busy_rebuild: RebuildRun,
) -> None:
    assert busy_rebuild.live_checksum == busy_rebuild.rebuilt_checksum
