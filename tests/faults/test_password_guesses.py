"""A burst of concurrent password guesses for one username, through both service processes.

The sign-in throttle allows 5 wrong passwords per username in 15 minutes, whichever process
checks them: of a burst of simultaneous guesses at most 5 have their password checked (401), the
others are refused unchecked (429), and afterwards the right password is refused too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from domain.sign_in_attempts import MAX_FAILURES
from tests.faults.harness import (
    Outcome,
    counts_by_status,
    fresh_schema,
    seed,
    services,
    settings_on,
    timed,
)
from tests.support.oauth_flow import PASSWORD

pytestmark = [pytest.mark.postgres, pytest.mark.faults, pytest.mark.xdist_group("faults")]

GUESSES = 12  # sent at once, half to each process
# Each checked password costs an argon2id verification (64 MiB): a dozen at once on a busy
# 2-core machine take a while, so the guesses wait longer than the suite's other requests.
GUESS_TIMEOUT = 60.0


@dataclass
class Burst:
    username: str
    outcomes: list[Outcome]
    right_password: Outcome

    def answered(self, status: int) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


@pytest.fixture(scope="module")
def burst(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Burst]:
    logs = tmp_path_factory.mktemp("guesses")
    with fresh_schema(postgres_url) as schema:
        settings = settings_on(postgres_url, schema)
        world = seed(settings, users=1)
        username = world.users[0]
        with services(settings, logs) as pair:
            clients = [service.client(timeout=GUESS_TIMEOUT) for service in pair]
            start = threading.Barrier(GUESSES)
            outcomes: list[Outcome] = []
            lock = threading.Lock()

            def guess(i: int) -> None:
                client, name = clients[i % 2], pair[i % 2].name
                start.wait(timeout=30)
                outcome = timed(
                    "guess",
                    name,
                    lambda: client.get("/v1/me", auth=(username, f"wrong guess {i:03d}")),
                )
                with lock:
                    outcomes.append(outcome)

            threads = [
                threading.Thread(target=guess, args=(i,), daemon=True) for i in range(GUESSES)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            right = timed(
                "right password",
                pair[0].name,
                lambda: clients[0].get("/v1/me", auth=(username, PASSWORD)),
            )
            for client in clients:
                client.close()
        yield Burst(username, outcomes, right)


def test_a_burst_of_wrong_guesses_across_processes_checks_at_most_five_passwords(
    burst: Burst, figure: Callable[[str, Any], None]
) -> None:
    figure(
        f"{GUESSES} concurrent wrong passwords through two processes: answers by status "
        f"(401 = checked, 429 = refused unchecked)",
        counts_by_status(burst.outcomes),
    )

    assert len(burst.outcomes) == GUESSES
    assert burst.answered(401) <= MAX_FAILURES
    assert burst.answered(401) + burst.answered(429) == GUESSES


def test_the_right_password_after_a_burst_of_wrong_guesses_is_refused(burst: Burst) -> None:
    assert burst.right_password.status == 429


def test_a_burst_of_guesses_gets_no_server_error(burst: Burst) -> None:
    failed = [o for o in burst.outcomes if o.status is None or o.status >= 500]

    assert counts_by_status(failed) == {}
