"""The sign-in throttle's records, over SQLite and PostgreSQL: counted as the policy counts,
keyed by a keyed digest, shared by every process, kept through a read-model rebuild, and never
losing a failure to a concurrent one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

from domain.credentials import SecretHasher
from domain.sign_in_attempts import FAILURE_WINDOW, SignInAttempts
from infrastructure.read_model.database import Database
from infrastructure.read_model.projector import rebuild
from infrastructure.read_model.schema import READ_MODEL_TABLES
from infrastructure.sign_in_throttle import TABLE, SignInThrottle
from tests.conftest import TEST_SECRET_KEY

if TYPE_CHECKING:
    from infrastructure.runtime import Runtime
    from tests.support.clock import Clock

MINUTE = 60.0
PROCESSES = 4
THREADS = 24


@contextmanager
def other_process(ledger_env: dict[str, str]) -> Iterator[SignInThrottle]:
    """The throttle as another service process on the same store opens it."""
    db = Database.from_env(ledger_env)
    try:
        throttle = SignInThrottle(db, SecretHasher(TEST_SECRET_KEY))
        throttle.create_table()
        yield throttle
    finally:
        db.close()


def stored_rows(runtime: Runtime) -> list[tuple[object, ...]]:
    return [tuple(row) for row in runtime.db.query(f"SELECT * FROM {TABLE}")]  # noqa: S608


def test_a_username_without_failures_has_no_record(runtime: Runtime) -> None:
    assert runtime.sign_in_throttle.attempts("alice") is None


def test_failures_count_from_the_first_and_remember_the_last(
    runtime: Runtime, clock: Clock
) -> None:
    throttle = runtime.sign_in_throttle
    first = clock()
    throttle.record_failure("alice", clock())
    clock.advance(MINUTE)
    throttle.record_failure("alice", clock())
    clock.advance(MINUTE)

    left = throttle.record_failure("alice", clock())

    assert left == SignInAttempts(3, first, clock())
    assert throttle.attempts("alice") == left


def test_the_username_is_counted_without_regard_to_case(runtime: Runtime, clock: Clock) -> None:
    runtime.sign_in_throttle.record_failure("Alice", clock())
    runtime.sign_in_throttle.record_failure("ALICE", clock())

    found = runtime.sign_in_throttle.attempts("alice")

    assert found is not None
    assert found.failures == 2


def test_the_store_counts_across_the_window_as_the_policy_does(
    runtime: Runtime, clock: Clock
) -> None:
    """The upsert's CASE is ``SignInAttempts.after_failure`` in SQL: they must agree, the
    window's very end included."""
    start = clock()
    moments = [start + timedelta(minutes=m) for m in (0, 5, 14)]
    moments += [start + FAILURE_WINDOW, start + FAILURE_WINDOW + timedelta(minutes=1)]
    moments += [start + 2 * FAILURE_WINDOW + timedelta(microseconds=999_999)]
    expected = SignInAttempts.first(moments[0])
    runtime.sign_in_throttle.record_failure("alice", moments[0])
    for moment in moments[1:]:
        expected = expected.after_failure(moment)

        stored = runtime.sign_in_throttle.record_failure("alice", moment)

        assert stored == expected, moment


def test_a_failure_reported_late_does_not_move_the_last_failure_back(
    runtime: Runtime, clock: Clock
) -> None:
    earlier = clock()
    clock.advance(MINUTE)
    runtime.sign_in_throttle.record_failure("alice", clock())

    stored = runtime.sign_in_throttle.record_failure("alice", earlier)

    assert stored.last_failure_at == clock()


def test_clearing_forgets_the_usernames_failures(runtime: Runtime, clock: Clock) -> None:
    runtime.sign_in_throttle.record_failure("alice", clock())

    runtime.sign_in_throttle.clear("Alice")

    assert runtime.sign_in_throttle.attempts("alice") is None


def test_clearing_one_username_keeps_anothers_failures(runtime: Runtime, clock: Clock) -> None:
    runtime.sign_in_throttle.record_failure("alice", clock())
    runtime.sign_in_throttle.record_failure("bob", clock())

    runtime.sign_in_throttle.clear("alice")

    assert runtime.sign_in_throttle.attempts("bob") == SignInAttempts.first(clock())


def test_rows_are_keyed_by_a_keyed_digest_never_the_username(
    runtime: Runtime, clock: Clock
) -> None:
    typed = "Hunter2-typed-into-the-username-field"
    runtime.sign_in_throttle.record_failure(typed, clock())

    [row] = stored_rows(runtime)

    assert row[0] == runtime.ledger.hasher.digest("sign-in:" + typed.casefold())
    assert row[0] != SecretHasher(b"another-server-key").digest("sign-in:" + typed.casefold())
    assert not any(typed.casefold() in str(value).casefold() for value in row)


def test_a_failure_recorded_by_one_process_is_seen_by_another(
    runtime: Runtime, clock: Clock, ledger_env: dict[str, str]
) -> None:
    with other_process(ledger_env) as elsewhere:
        elsewhere.record_failure("alice", clock())

    assert runtime.sign_in_throttle.attempts("alice") == SignInAttempts.first(clock())


def test_rebuilding_the_read_models_keeps_the_failures(runtime: Runtime, clock: Clock) -> None:
    runtime.sign_in_throttle.record_failure("alice", clock())

    rebuild(runtime.projector)

    assert TABLE not in READ_MODEL_TABLES
    assert runtime.sign_in_throttle.attempts("alice") == SignInAttempts.first(clock())


def test_concurrent_failures_from_several_processes_all_count(
    runtime: Runtime, clock: Clock, ledger_env: dict[str, str]
) -> None:
    """Threads of several "processes" (each its own connections) fail at once: N failures
    count N, none lost to a read-modify-write race."""
    now = clock()
    start = threading.Barrier(THREADS)
    with (other_process(ledger_env) as a, other_process(ledger_env) as b,
          other_process(ledger_env) as c):
        throttles = [runtime.sign_in_throttle, a, b, c]

        def fail(i: int) -> None:
            start.wait(timeout=30)
            throttles[i % PROCESSES].record_failure("alice", now)

        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(fail, range(THREADS)))

    found = runtime.sign_in_throttle.attempts("alice")
    assert found is not None
    assert found.failures == THREADS
