"""The sign-in throttle's records, over SQLite and PostgreSQL: counted as the policy counts,
keyed by a keyed digest, shared by every process, kept through a read-model rebuild, and never
letting a burst of concurrent attempts, from any number of processes, past the limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from application.sign_in import sign_in
from domain.credentials import SecretHasher
from domain.errors import SignInThrottledError
from domain.sign_in_attempts import FAILURE_WINDOW, LOCKOUT, MAX_FAILURES, SignInAttempts
from infrastructure import passwords
from infrastructure.passwords import ARGON2, hash_password
from infrastructure.read_model.database import Database
from infrastructure.read_model.projector import rebuild
from infrastructure.read_model.schema import READ_MODEL_TABLES
from infrastructure.sign_in_throttle import TABLE, SignInThrottle
from tests.conftest import TEST_SECRET_KEY
from tests.support.ledger_setup import PLATFORM, register_user

if TYPE_CHECKING:
    from infrastructure.runtime import Runtime
    from tests.support.clock import Clock

MINUTE = 60.0
PROCESSES = 4
THREADS = 24
PASSWORD = "alice-correct-horse"
WRONG = "alice-wrong-horse"
REFUSED = "throttled"


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
    throttle.count_attempt("alice", clock())
    clock.advance(MINUTE)
    throttle.count_attempt("alice", clock())
    clock.advance(MINUTE)

    left = throttle.count_attempt("alice", clock())

    assert left == SignInAttempts(3, first, clock())
    assert throttle.attempts("alice") == left


def test_the_username_is_counted_without_regard_to_case(runtime: Runtime, clock: Clock) -> None:
    runtime.sign_in_throttle.count_attempt("Alice", clock())
    runtime.sign_in_throttle.count_attempt("ALICE", clock())

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
    runtime.sign_in_throttle.count_attempt("alice", moments[0])
    for moment in moments[1:]:
        expected = expected.after_failure(moment)

        stored = runtime.sign_in_throttle.count_attempt("alice", moment)

        assert stored == expected, moment


def test_a_failure_reported_late_does_not_move_the_last_failure_back(
    runtime: Runtime, clock: Clock
) -> None:
    earlier = clock()
    clock.advance(MINUTE)
    runtime.sign_in_throttle.count_attempt("alice", clock())

    stored = runtime.sign_in_throttle.count_attempt("alice", earlier)

    assert stored.last_failure_at == clock()


def test_clearing_forgets_the_usernames_failures(runtime: Runtime, clock: Clock) -> None:
    runtime.sign_in_throttle.count_attempt("alice", clock())

    runtime.sign_in_throttle.clear("Alice")

    assert runtime.sign_in_throttle.attempts("alice") is None


def test_clearing_one_username_keeps_anothers_failures(runtime: Runtime, clock: Clock) -> None:
    runtime.sign_in_throttle.count_attempt("alice", clock())
    runtime.sign_in_throttle.count_attempt("bob", clock())

    runtime.sign_in_throttle.clear("alice")

    assert runtime.sign_in_throttle.attempts("bob") == SignInAttempts.first(clock())


def test_rows_are_keyed_by_a_keyed_digest_never_the_username(
    runtime: Runtime, clock: Clock
) -> None:
    typed = "Hunter2-typed-into-the-username-field"
    runtime.sign_in_throttle.count_attempt(typed, clock())

    [row] = stored_rows(runtime)

    assert row[0] == runtime.ledger.hasher.digest("sign-in:" + typed.casefold())
    assert row[0] != SecretHasher(b"another-server-key").digest("sign-in:" + typed.casefold())
    assert not any(typed.casefold() in str(value).casefold() for value in row)


def test_a_failure_recorded_by_one_process_is_seen_by_another(
    runtime: Runtime, clock: Clock, ledger_env: dict[str, str]
) -> None:
    with other_process(ledger_env) as elsewhere:
        elsewhere.count_attempt("alice", clock())

    assert runtime.sign_in_throttle.attempts("alice") == SignInAttempts.first(clock())


def test_rebuilding_the_read_models_keeps_the_failures(runtime: Runtime, clock: Clock) -> None:
    runtime.sign_in_throttle.count_attempt("alice", clock())

    rebuild(runtime.projector)

    assert TABLE not in READ_MODEL_TABLES
    assert runtime.sign_in_throttle.attempts("alice") == SignInAttempts.first(clock())


def test_concurrent_attempts_from_several_processes_let_no_more_than_the_limit_through(
    runtime: Runtime, clock: Clock, ledger_env: dict[str, str]
) -> None:
    """Threads of several "processes" (each its own connections) try at once: exactly the
    limit is counted and let through, every other attempt is refused."""
    now = clock()
    start = threading.Barrier(THREADS)
    with (
        other_process(ledger_env) as a,
        other_process(ledger_env) as b,
        other_process(ledger_env) as c,
    ):
        throttles = [runtime.sign_in_throttle, a, b, c]

        def attempt(i: int) -> str:
            start.wait(timeout=30)
            try:
                throttles[i % PROCESSES].count_attempt("alice", now)
            except SignInThrottledError:
                return REFUSED
            return "let through"

        with ThreadPoolExecutor(THREADS) as pool:
            outcomes = list(pool.map(attempt, range(THREADS)))

    assert outcomes.count("let through") == MAX_FAILURES
    assert outcomes.count(REFUSED) == THREADS - MAX_FAILURES
    assert runtime.sign_in_throttle.attempts("alice") == SignInAttempts(MAX_FAILURES, now, now)


def test_an_attempt_on_a_locked_username_is_refused_and_not_counted(
    runtime: Runtime, clock: Clock
) -> None:
    for _ in range(MAX_FAILURES):
        runtime.sign_in_throttle.count_attempt("alice", clock())
    clock.advance(MINUTE)

    with pytest.raises(SignInThrottledError) as refused:
        runtime.sign_in_throttle.count_attempt("alice", clock())

    assert refused.value.retry_after == LOCKOUT.total_seconds() - MINUTE
    assert runtime.sign_in_throttle.attempts("alice") == SignInAttempts(
        MAX_FAILURES, clock() - timedelta(seconds=MINUTE), clock() - timedelta(seconds=MINUTE)
    )


def test_the_store_ends_a_lock_when_the_policy_does(runtime: Runtime, clock: Clock) -> None:
    """The upsert's lock condition is ``SignInAttempts.is_locked`` in SQL, to the microsecond."""
    last = clock()
    for _ in range(MAX_FAILURES):
        runtime.sign_in_throttle.count_attempt("alice", last)
    with pytest.raises(SignInThrottledError):
        runtime.sign_in_throttle.count_attempt("alice", last + LOCKOUT - timedelta(microseconds=1))

    counted = runtime.sign_in_throttle.count_attempt("alice", last + LOCKOUT)

    assert counted == SignInAttempts.first(last + LOCKOUT)


# --- guessing a password through several processes at once -------------------------------------


class HeldChecks:
    """``verify_password`` holding every check of a wrong password until released, so that a
    whole burst of guesses is in flight before any answer could raise a count."""

    def __init__(self, verify: Callable[[str, str], bool]) -> None:
        self._verify = verify
        self._lock = threading.Lock()
        self.checked: list[str] = []
        self.released = threading.Event()

    def __call__(self, password_hash: str, password: str) -> bool:
        with self._lock:
            self.checked.append(password)
        if password != PASSWORD:
            self.released.wait(timeout=30)
        return self._verify(password_hash, password)


@pytest.fixture
def held_checks(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> HeldChecks:
    """Alice has a password; every password check is counted, and a wrong one held."""
    register_user(runtime.ledger, "alice")
    runtime.ledger.set_user_password("alice", hash_password(PASSWORD), PLATFORM)
    held = HeldChecks(passwords.verify_password)
    monkeypatch.setattr(passwords, "verify_password", held)
    return held


def guess(runtime: Runtime, throttle: SignInThrottle, password: str) -> str:
    try:
        user = sign_in(runtime.ledger, throttle, ARGON2, "alice", password)
    except SignInThrottledError:
        return REFUSED
    return "wrong password" if user is None else "signed in"


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the burst did not settle"
        time.sleep(0.01)


def burst_of_wrong_guesses(
    runtime: Runtime,
    ledger_env: dict[str, str],
    held: HeldChecks,
    then: Callable[[list[SignInThrottle]], str] | None = None,
) -> tuple[list[str], str | None]:
    """THREADS wrong passwords for alice at once, spread over several processes; once every one
    is either refused or being checked, ``then`` guesses too, and the held checks go on."""
    with other_process(ledger_env) as a, other_process(ledger_env) as b:
        throttles = [runtime.sign_in_throttle, a, b]
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [
                pool.submit(guess, runtime, throttles[i % len(throttles)], WRONG)
                for i in range(THREADS)
            ]
            try:
                wait_until(lambda: len(held.checked) + sum(f.done() for f in futures) >= THREADS)
                last = None if then is None else then(throttles)
            finally:
                held.released.set()
            return [f.result() for f in futures], last


def test_a_burst_of_wrong_passwords_from_several_processes_gets_no_more_than_the_limit_checked(
    runtime: Runtime, ledger_env: dict[str, str], held_checks: HeldChecks
) -> None:
    outcomes, _ = burst_of_wrong_guesses(runtime, ledger_env, held_checks)

    assert len(held_checks.checked) == MAX_FAILURES
    assert outcomes.count("wrong password") == MAX_FAILURES
    assert outcomes.count(REFUSED) == THREADS - MAX_FAILURES


def test_the_right_password_after_a_burst_of_wrong_ones_is_refused(
    runtime: Runtime, ledger_env: dict[str, str], held_checks: HeldChecks
) -> None:
    _, last = burst_of_wrong_guesses(
        runtime,
        ledger_env,
        held_checks,
        then=lambda throttles: guess(runtime, throttles[-1], PASSWORD),
    )

    assert last == REFUSED
    assert PASSWORD not in held_checks.checked
