"""The projector's life: crashes, restarts, rivals, leadership, rebuilds and acknowledgements.

Whatever happens to a projector (an exception in the middle of a batch, a process killed with
SIGKILL, a second projector racing it, a leader stopping), the read models must end as a clean
rebuild of the same log leaves them: every event applied exactly once, none skipped. The
checksum of the read models is the judge, and the log's positions in ``rm_log`` are counted.

PostgreSQL tests run processes and runners on one fresh schema, as several service processes
would share a database.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from application.ledger import Ledger
from domain.actors import Actor
from domain.apps import Mode
from domain.decisions import Reason
from infrastructure.persistence import postgres_env, sqlite_env
from infrastructure.read_model import writer
from infrastructure.read_model.checksum import checksum
from infrastructure.read_model.database import Database, PostgresDatabase
from infrastructure.read_model.projector import (
    Projector,
    ProjectorRunner,
    leadership_key,
    rebuild,
)
from infrastructure.read_model.schema import reset_tables
from infrastructure.read_model.writer import ProjectionConflictError
from infrastructure.runtime import Runtime, open_runtime_on
from tests.conftest import TEST_SECRET_KEY
from tests.support.aggregate_facts import LONG_HISTORY, PRELUDE, History
from tests.support.clock import Clock

ROOT = Path(__file__).resolve().parents[2]
ENV_KEYS = (
    "PERSISTENCE_MODULE",
    "SQLITE_DBNAME",
    "AGGREGATE_CACHE_MAXSIZE",
    "POSTGRES_DBNAME",
    "POSTGRES_HOST",
    "POSTGRES_PORT",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_SCHEMA",
    "POSTGRES_POOL_SIZE",
    "CREATE_TABLE",
)
TAKEOVER_SECONDS = 5.0


@pytest.fixture(autouse=True)
def _no_store_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """As the ledger_env fixture does: os.environ must not redirect a test's store."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
        monkeypatch.delenv(f"LEDGER_{key}", raising=False)


@pytest.fixture
def pg_env(postgres_url: str, postgres_schema: str) -> dict[str, str]:
    return postgres_env(postgres_url, schema=postgres_schema)


@pytest.fixture
def opened() -> Iterator[Callable[..., Runtime]]:
    """Opens runtimes ("processes") on one store, and closes every one after the test."""
    runtimes: list[Runtime] = []

    def open_(
        env: dict[str, str], *, run_projector: bool = False, clock: Clock | None = None
    ) -> Runtime:
        runtime = open_runtime_on(
            env, secret_key=TEST_SECRET_KEY, clock=clock or Clock(), run_projector=run_projector
        )
        runtimes.append(runtime)
        return runtime

    yield open_
    for runtime in reversed(runtimes):
        runtime.close()


# --- helpers --------------------------------------------------------------------------------


def write_history(
    ledger: Ledger,
    commands: list[tuple[Any, ...]] = LONG_HISTORY,
    on_project: Callable[[], Any] | None = None,
) -> History:
    history = History(ledger, Clock(), on_project=on_project).run(commands)
    assert history.tokens
    return history


def logged_positions(db: Database) -> list[int]:
    return [int(row[0]) for row in db.query("SELECT position FROM rm_log ORDER BY position")]


def stored_positions(ledger: Ledger) -> list[int]:
    return [n.id for n in ledger.recorder.select_notifications(start=1, limit=1_000_000)]


def rebuilt_checksum(runtime: Runtime) -> str:
    """The digest of the read models as a clean rebuild of the same log leaves them."""
    ledger = runtime.ledger
    rebuild(Projector(ledger.recorder, ledger.mapper, runtime.db))
    return checksum(runtime.db)


def assert_exactly_once(runtime: Runtime) -> None:
    """Every stored event is in ``rm_log`` once, and the models equal a clean rebuild's."""
    positions = stored_positions(runtime.ledger)
    assert logged_positions(runtime.db) == positions
    assert runtime.read_model.position() == positions[-1] == runtime.ledger.position()
    live = checksum(runtime.db)
    assert rebuilt_checksum(runtime) == live


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Polls until the condition holds; answers the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"{what} did not happen within {timeout} s")
        time.sleep(0.005)
    return time.monotonic() - started


class Crash(Exception):
    """A fault injected into a projector."""


class CrashingMapper:
    """The ledger's mapper, failing once it has been asked for ``fail_after`` events."""

    def __init__(self, mapper: Any, fail_after: int) -> None:
        self.mapper = mapper
        self.left = fail_after

    def to_domain_event(self, notification: Any) -> Any:
        if self.left == 0:
            raise Crash(f"crashed before projecting position {notification.id}")
        self.left -= 1
        return self.mapper.to_domain_event(notification)


# --- crashes --------------------------------------------------------------------------------


@pytest.mark.parametrize("fail_after", [1, 38])
def test_a_projector_that_crashed_mid_batch_is_resumed_with_every_event_applied_once(
    runtime: Runtime, fail_after: int
) -> None:
    ledger = runtime.ledger
    write_history(ledger)
    positions = stored_positions(ledger)
    crashing = Projector(
        ledger.recorder, CrashingMapper(ledger.mapper, fail_after), runtime.db, batch_size=10
    )

    with pytest.raises(Crash):
        crashing.catch_up()

    # Only whole batches before the failing one were applied.
    whole_batches = fail_after // 10 * 10
    assert logged_positions(runtime.db) == positions[:whole_batches]
    assert runtime.read_model.position() == (positions[whole_batches - 1] if whole_batches else 0)

    Projector(ledger.recorder, ledger.mapper, runtime.db, batch_size=7).catch_up()
    assert_exactly_once(runtime)


def test_a_write_that_fails_after_some_rows_leaves_none_of_its_batch(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fault strikes inside the transaction, after the closes of older intervals and some
    inserts were executed: the whole batch, rows and tracking position, must roll back."""
    ledger = runtime.ledger
    write_history(ledger)
    positions = stored_positions(ledger)
    calls = {"intervals": 0}
    real_executemany = writer.executemany  # type: ignore[attr-defined]

    def failing_executemany(db: Database, cur: Any, statement: str, rows: Any) -> None:
        real_executemany(db, cur, statement, rows)
        if statement.startswith("INSERT INTO rm_intervals") and rows:
            calls["intervals"] += 1
            if calls["intervals"] == 4:
                raise Crash("the database went away after inserting intervals")

    monkeypatch.setattr(writer, "executemany", failing_executemany)
    projector = Projector(ledger.recorder, ledger.mapper, runtime.db, batch_size=10)
    with pytest.raises(Crash):
        projector.catch_up()
    reached = runtime.read_model.position()
    assert 0 < reached < ledger.position()
    assert logged_positions(runtime.db) == [p for p in positions if p <= reached]

    monkeypatch.setattr(writer, "executemany", real_executemany)
    projector.catch_up()  # the same projector, after the fault: it must not trust its memory
    assert_exactly_once(runtime)


# --- rivals ---------------------------------------------------------------------------------


def test_a_projector_left_behind_by_a_rival_is_refused_instead_of_applying_twice(
    runtime: Runtime,
) -> None:
    ledger = runtime.ledger
    history = write_history(ledger, PRELUDE)
    behind = Projector(ledger.recorder, ledger.mapper, runtime.db, batch_size=4)
    behind.catch_up()  # it remembers where it left the models
    history.run([("authorize", 0, 0, ["basic"], True), ("revoke", 0, "platform")])
    Projector(ledger.recorder, ledger.mapper, runtime.db, batch_size=4).catch_up()
    rival_reached = runtime.read_model.position()
    history.run([("authorize", 0, 2, ["likes"], True), ("deauthorize", 0, 2)])

    with pytest.raises(ProjectionConflictError):
        behind.catch_up()  # from where it remembers: the rival's events again
    assert logged_positions(runtime.db)[-1] == rival_reached

    assert behind.catch_up() == ledger.position() - rival_reached
    assert_exactly_once(runtime)


def catch_up_despite_rivals(
    projector: Projector, target: int, start: threading.Barrier, outcomes: list[BaseException | str]
) -> None:
    """Projects up to ``target``, retrying when the rival got a batch in first."""
    deadline = time.monotonic() + 30
    try:
        start.wait()
        while projector.position() < target:
            if time.monotonic() > deadline:
                raise TimeoutError("the projector made no progress")
            try:
                projector.catch_up()
            except ProjectionConflictError:
                outcomes.append("conflict")  # carry on from where the rival left the models
    except BaseException as exc:
        outcomes.append(exc)


def test_two_projectors_racing_from_threads_apply_every_event_once(
    runtime: Runtime, ledger_env: dict[str, str]
) -> None:
    """A projector that does not hold the leadership lock (a second one, by mistake or in a
    rebuild) may lose a race, but never applies a batch twice."""
    ledger = runtime.ledger
    history = write_history(ledger)
    # Something projected already, so both rivals start from a tracked position.
    Projector(ledger.recorder, ledger.mapper, runtime.db, batch_size=5).catch_up()
    history.run(
        [("authorize", 0, 0, ["basic"], True)] * 30
        + [("revoke", i, "platform") for i in range(0, 40, 3)]
    )
    target = ledger.position()

    databases = [Database.from_env(ledger_env) for _ in range(2)]
    try:
        rivals = [
            Projector(ledger.recorder, ledger.mapper, db, batch_size=size)
            for db, size in zip(databases, (1, 2), strict=True)
        ]
        outcomes: list[BaseException | str] = []
        start = threading.Barrier(2, timeout=10)
        threads = [
            threading.Thread(target=catch_up_despite_rivals, args=(p, target, start, outcomes))
            for p in rivals
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert [o for o in outcomes if o != "conflict"] == []
    finally:
        for db in databases:
            db.close()
    assert_exactly_once(runtime)


@pytest.mark.postgres
def test_two_projectors_racing_on_empty_read_models_one_is_refused_with_a_conflict(
    pg_env: dict[str, str], opened: Callable[..., Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = opened(pg_env)
    ledger = runtime.ledger
    write_history(ledger, PRELUDE)
    # Both projectors read the tracking position before either writes: the interleaving that
    # the row lock is there to make harmless. (Where the lock works, the second reader blocks
    # until the first commits: the first then stops waiting for it after a while.)
    both_read = threading.Barrier(2, timeout=3)
    first_reads = itertools.count()
    real_read_position = writer.read_position

    def read_position_then_wait(db: Database, cur: Any, *, lock: bool = False) -> int:
        position = real_read_position(db, cur, lock=lock)
        if lock and next(first_reads) < 2:
            with contextlib.suppress(threading.BrokenBarrierError):
                both_read.wait()
        return position

    monkeypatch.setattr(writer, "read_position", read_position_then_wait)
    databases = [Database.from_env(pg_env) for _ in range(2)]
    outcomes: list[BaseException | None] = []

    def project(projector: Projector) -> None:
        try:
            projector.catch_up()
            outcomes.append(None)
        except BaseException as exc:
            outcomes.append(exc)

    try:
        rivals = [Projector(ledger.recorder, ledger.mapper, db, batch_size=5) for db in databases]
        threads = [threading.Thread(target=project, args=(p,)) for p in rivals]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        for db in databases:
            db.close()
    failures = [type(o) for o in outcomes if o is not None]
    assert failures == [ProjectionConflictError], outcomes


# --- rebuild and checksum -------------------------------------------------------------------


def test_a_rebuild_gives_the_checksum_of_the_models_projected_live(runtime: Runtime) -> None:
    ledger = runtime.ledger
    projector = Projector(ledger.recorder, ledger.mapper, runtime.db, batch_size=4)
    write_history(ledger, on_project=projector.catch_up)
    projector.catch_up()
    live = checksum(runtime.db)

    assert rebuild(runtime.projector) == ledger.position()
    assert checksum(runtime.db) == live
    # The digest covers the rows: one more event changes it.
    ledger.register_user("eve", "Eve", None, Actor.user("eve"))
    runtime.projector.catch_up()
    assert checksum(runtime.db) != live


def test_a_revocation_once_acknowledged_stays_denied_while_the_models_are_rebuilt(
    runtime: Runtime,
) -> None:
    ledger = runtime.ledger
    history = write_history(ledger, [*PRELUDE, *[("authorize", 0, 0, ["basic"], True)] * 5])
    token = history.tokens[0]
    assert runtime.acknowledge(ledger.position())
    assert runtime.read_model.check(token.access_token, "basic").allowed
    revoked = ledger.revoke_token(
        Actor.user(token.username), access_token=token.access_token, reason="stolen"
    ).position
    runtime.acknowledge(revoked)
    assert not runtime.read_model.check(token.access_token, "basic").allowed

    # Another process keeps checking the token while an operator rebuilds the read models.
    answers: list[tuple[int, bool] | str] = []
    rebuilding = threading.Event()
    rebuilding.set()

    def check_from_another_process() -> None:
        while rebuilding.is_set():
            try:
                decision = runtime.read_model.check(token.access_token, "basic")
                answers.append((decision.position, decision.allowed))
            except Exception as exc:  # a check that fails outright is no better
                answers.append(repr(exc))

    checker = threading.Thread(target=check_from_another_process)
    checker.start()
    try:
        rebuild(
            Projector(ledger.recorder, ledger.mapper, runtime.db, batch_size=5),
            lambda _applied: time.sleep(0.05),
        )
    finally:
        rebuilding.clear()
        checker.join(10)
    allowed = sorted({a for a in answers if isinstance(a, tuple) and a[1]})
    failed = sorted({a for a in answers if isinstance(a, str)})
    assert answers
    assert allowed == [], f"the revoked token was allowed again at positions {allowed}"
    assert failed == []


REBUILD_SECONDS = 10.0


def idle_service_with_a_token(
    env: dict[str, str], opened: Callable[..., Runtime]
) -> tuple[Runtime, Any]:
    """A service process whose projector has projected every event and waits for more."""
    service = opened(env, run_projector=True)
    history = write_history(service.ledger, [*PRELUDE, ("authorize", 0, 0, ["basic"], True)])
    service.read_model.wait_for(service.ledger.position(), timeout=REBUILD_SECONDS)
    time.sleep(0.3)  # idle: no write follows
    return service, history.tokens[0]


def rebuild_as_the_cli_does(env: dict[str, str], opened: Callable[..., Runtime]) -> int:
    """``ledger projections rebuild`` from another process; fails the test if it hangs."""
    operator = opened(env)
    answers: list[int | BaseException] = []

    def run() -> None:
        try:
            answers.append(
                rebuild(operator.projector, lambda _applied: None, timeout=3 * REBUILD_SECONDS)
            )
        except BaseException as exc:  # reported below
            answers.append(exc)

    rebuilding = threading.Thread(target=run, daemon=True)
    rebuilding.start()
    rebuilding.join(REBUILD_SECONDS)
    assert not rebuilding.is_alive(), f"the rebuild did not return within {REBUILD_SECONDS} s"
    assert isinstance(answers[0], int), answers[0]
    return answers[0]


@pytest.mark.postgres
def test_a_rebuild_while_the_leading_service_is_idle_returns_and_reads_of_now_are_served(
    pg_env: dict[str, str], opened: Callable[..., Runtime]
) -> None:
    service, token = idle_service_with_a_token(pg_env, opened)
    assert service.runner is not None
    assert service.runner.is_leader.is_set()
    end = service.ledger.position()

    assert rebuild_as_the_cli_does(pg_env, opened) == end

    decision = service.read_model.check(token.access_token, "basic", timeout=1.0)
    assert decision.allowed
    assert decision.position == end
    assert service.ledger.position() == end  # served without any new write


@pytest.mark.postgres
def test_a_rebuild_following_a_leader_that_goes_takes_over_and_finishes(
    pg_env: dict[str, str], opened: Callable[..., Runtime]
) -> None:
    writer_process = opened(pg_env)
    write_history(writer_process.ledger, [*PRELUDE, ("authorize", 0, 0, ["basic"], True)])
    writer_process.projector.catch_up()
    end = writer_process.ledger.position()
    # A leader that holds the lock but projects nothing, until its connection goes.
    db = writer_process.db
    assert isinstance(db, PostgresDatabase)
    leader = db.connect(autocommit=True)
    assert leader.execute("SELECT pg_try_advisory_lock(%s)", (leadership_key(db),)).fetchone()[0]
    threading.Timer(0.5, leader.close).start()

    assert rebuild_as_the_cli_does(pg_env, opened) == end

    assert writer_process.read_model.position() == end
    assert logged_positions(writer_process.db) == stored_positions(writer_process.ledger)


def test_a_rebuild_on_sqlite_while_the_service_is_idle_returns_and_reads_of_now_are_served(
    tmp_path: Path, opened: Callable[..., Runtime]
) -> None:
    env = sqlite_env(tmp_path / "ledger.sqlite")
    service, token = idle_service_with_a_token(env, opened)
    end = service.ledger.position()

    assert rebuild_as_the_cli_does(env, opened) == end

    decision = service.read_model.check(token.access_token, "basic", timeout=1.0)
    assert decision.allowed
    assert decision.position == end


def test_read_models_reset_under_an_idle_service_are_projected_again_without_a_write(
    ledger_env: dict[str, str], opened: Callable[..., Runtime]
) -> None:
    """A rebuild that stopped right after emptying the read models (killed, say) must not
    leave reads of "now" refused until the next write."""
    env = ledger_env
    service, token = idle_service_with_a_token(env, opened)
    end = service.ledger.position()

    reset_tables(opened(env).db)

    decision = service.read_model.check(token.access_token, "basic", timeout=REBUILD_SECONDS)
    assert decision.allowed
    assert decision.position == end
    assert logged_positions(service.db) == stored_positions(service.ledger)


def run_cli(*args: str, sqlite_path: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_") and k not in ENV_KEYS}
    env["LEDGER_SQLITE_PATH"] = str(sqlite_path)
    done = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [str(ROOT / ".venv" / "bin" / "ledger"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_cli_rebuild_and_checksum_agree_on_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    runtime = open_runtime_on(
        sqlite_env(path), secret_key=TEST_SECRET_KEY, clock=Clock(), run_projector=False
    )
    try:
        projector = Projector(
            runtime.ledger.recorder, runtime.ledger.mapper, runtime.db, batch_size=3
        )
        write_history(runtime.ledger, on_project=projector.catch_up)
        projector.catch_up()
        expected = checksum(runtime.db)
        end = runtime.ledger.position()
    finally:
        runtime.close()

    before = run_cli("projections", "checksum", sqlite_path=path).split()
    rebuilt = run_cli("projections", "rebuild", sqlite_path=path).strip().splitlines()
    after = run_cli("projections", "checksum", sqlite_path=path).split()

    assert before == [expected, "position", str(end)]
    assert rebuilt[-2:] == [f"rebuilt read models from {end} events", expected]
    assert after == before


# --- leadership on PostgreSQL ---------------------------------------------------------------


def runner_on(env: dict[str, str], opened: Callable[..., Runtime]) -> ProjectorRunner:
    """A service process's projector runner: its own ledger, database and lock connection."""
    runtime = opened(env)
    runner = ProjectorRunner(runtime.projector, standby_interval=0.1)
    runtime.runner = runner  # closed (stopped) with its runtime
    return runner.start()


@pytest.mark.postgres
def test_one_runner_leads_at_a_time_and_the_other_takes_over_when_it_stops(
    pg_env: dict[str, str], opened: Callable[..., Runtime]
) -> None:
    writer_process = opened(pg_env)
    first = runner_on(pg_env, opened)
    wait_until(first.is_leader.is_set, TAKEOVER_SECONDS, "the first runner leading")
    second = runner_on(pg_env, opened)

    both: list[float] = []
    history = History(writer_process.ledger, Clock())
    for round_ in range(40):  # writes while both run; the leader projects them
        history.run(PRELUDE if round_ == 0 else [("authorize", 0, round_ % 4, [], True)])
        if first.is_leader.is_set() and second.is_leader.is_set():
            both.append(time.monotonic())
        time.sleep(0.01)
    assert both == []
    assert first.is_leader.is_set()
    assert not second.is_leader.is_set()
    writer_process.read_model.wait_for(writer_process.ledger.position())

    first.stop()
    assert not first.is_leader.is_set()
    took = wait_until(second.is_leader.is_set, TAKEOVER_SECONDS, "the second runner leading")
    assert took < TAKEOVER_SECONDS

    token = history.tokens[-1]
    revoked = writer_process.ledger.revoke_token(
        Actor.user(token.username), access_token=token.access_token, reason="done"
    ).position
    assert writer_process.read_model.wait_for(revoked) >= revoked
    decision = writer_process.read_model.check(token.access_token, "basic")
    assert decision.denial is not None
    assert decision.denial.reason is Reason.TOKEN_REVOKED
    assert first.error is None
    assert second.error is None


class SlowUnlockConnection:
    """The runner's lock connection, whose thread is preempted right after it releases the
    lock (as any thread may be), until ``after_unlock`` returns."""

    def __init__(self, conn: Any, after_unlock: Callable[[], None]) -> None:
        self.conn = conn
        self.after_unlock = after_unlock

    def __enter__(self) -> SlowUnlockConnection:
        self.conn.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self.conn.__exit__(*exc)

    @property
    def closed(self) -> bool:
        return bool(self.conn.closed)

    def execute(self, query: Any, params: Any = None) -> Any:
        result = self.conn.execute(query, params)
        if isinstance(query, str) and "pg_advisory_unlock" in query:
            self.after_unlock()
        return result

    def __getattr__(self, name: str) -> Any:  # notifies() and the rest: the real connection's
        return getattr(self.conn, name)


@pytest.mark.postgres
def test_a_stopping_leader_stops_saying_it_leads_before_another_can_lead(
    pg_env: dict[str, str], opened: Callable[..., Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    first_process = opened(pg_env)
    db = first_process.db
    first = ProjectorRunner(first_process.projector, standby_interval=0.1)
    second = runner_on(pg_env, opened)
    wait_until(second.is_leader.is_set, TAKEOVER_SECONDS, "the second runner leading")
    second.stop()

    both_leading = threading.Event()

    def after_unlock() -> None:
        deadline = time.monotonic() + TAKEOVER_SECONDS
        while time.monotonic() < deadline and not standby.is_leader.is_set():
            time.sleep(0.005)
        if first.is_leader.is_set() and standby.is_leader.is_set():
            both_leading.set()

    real_connect = db.connect  # type: ignore[attr-defined]
    monkeypatch.setattr(
        db, "connect", lambda **kw: SlowUnlockConnection(real_connect(**kw), after_unlock)
    )
    first.start()
    wait_until(first.is_leader.is_set, TAKEOVER_SECONDS, "the first runner leading")
    standby = runner_on(pg_env, opened)
    time.sleep(0.3)
    assert not standby.is_leader.is_set()

    first.stop()
    wait_until(standby.is_leader.is_set, TAKEOVER_SECONDS, "the standby leading")
    assert not both_leading.is_set(), "two runners said they led at once"


CHILD = r"""
import sys, time
from infrastructure.persistence import postgres_env
from infrastructure.runtime import open_runtime_on

runtime = open_runtime_on(postgres_env(sys.argv[1], schema=sys.argv[2]),
                          secret_key=b"k" * 32, run_projector=True)
while not runtime.runner.is_leader.is_set():
    time.sleep(0.01)
print("leader", flush=True)
while True:
    time.sleep(1)
"""


def start_child_projector(postgres_url: str, schema: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_") and k not in ENV_KEYS}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.Popen(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", CHILD, postgres_url, schema],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_line(process: subprocess.Popen[str], expected: str, timeout: float) -> None:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if selector.select(timeout=0.1):
                line = process.stdout.readline()
                if line.strip() == expected:
                    return
                if not line:
                    break
        stderr = process.stderr.read() if process.poll() is not None and process.stderr else ""
        pytest.fail(f"the child never printed {expected!r}: {stderr[-2000:]}")
    finally:
        selector.close()


@pytest.mark.postgres
def test_a_killed_leader_process_is_replaced_within_seconds_with_no_gap(
    postgres_url: str,
    postgres_schema: str,
    pg_env: dict[str, str],
    opened: Callable[..., Runtime],
) -> None:
    this_process = opened(pg_env)  # creates the tables before the child starts
    child = start_child_projector(postgres_url, postgres_schema)
    try:
        wait_for_line(child, "leader", timeout=30)
        runner = runner_on(pg_env, opened)
        time.sleep(0.3)
        assert not runner.is_leader.is_set(), "the child holds the lock"

        killed: list[float] = []
        took_over: list[float] = []

        def watch_for_takeover() -> None:
            runner.is_leader.wait(30)
            took_over.append(time.monotonic())

        def kill_the_leader_on_the_second_project() -> None:
            if this_process.read_model.position() == 0:
                this_process.read_model.wait_for(this_process.ledger.position())  # child's
            elif not killed:
                os.kill(child.pid, signal.SIGKILL)  # in the middle of the writes
                killed.append(time.monotonic())
                threading.Thread(target=watch_for_takeover, daemon=True).start()

        # Writes go on in this process while the child projects, dies, and is replaced.
        write_history(this_process.ledger, on_project=kill_the_leader_on_the_second_project)
        assert killed, "the history never asked to project"
        child.wait(10)
        wait_until(runner.is_leader.is_set, TAKEOVER_SECONDS, "this process's runner leading")
        wait_until(lambda: bool(took_over), 1, "the watcher noticing")
        assert took_over[0] - killed[0] < TAKEOVER_SECONDS

        end = this_process.ledger.position()
        assert this_process.read_model.wait_for(end, timeout=10) == end
        runner.stop()
        assert_exactly_once(this_process)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()


# --- acknowledgements -----------------------------------------------------------------------


@pytest.mark.postgres
def test_after_acknowledge_returns_every_process_denies_the_revoked_token(
    pg_env: dict[str, str], opened: Callable[..., Runtime]
) -> None:
    """Revoke in one process, acknowledge, and the very next check anywhere is denied."""
    leader = opened(pg_env, run_projector=True)
    wait_until(
        lambda: leader.runner is not None and leader.runner.is_leader.is_set(),
        TAKEOVER_SECONDS,
        "the runner leading",
    )
    other = opened(pg_env, run_projector=True)  # another service process, standing by
    history = write_history(other.ledger, PRELUDE)
    app, owner = history.apps[0]
    pairs = ((other, leader), (leader, other))

    for trial in range(200):
        writes, reads = pairs[trial % 2]
        username = ("ann", "cat")[trial // 2 % 2]
        authorized = writes.ledger.authorize(
            client_id=app.client_id,
            username=username,
            redirect_uri="https://client.example/callback",
            scope="basic",
            response_type="token",
        )
        assert authorized.access_token is not None
        writes.acknowledge(authorized.position)
        assert reads.read_model.check(authorized.access_token, "basic").allowed, trial

        revoked = writes.ledger.revoke_token(
            Actor.developer(owner), access_token=authorized.access_token, reason="trial"
        ).position
        writes.acknowledge(revoked)
        for process in (reads, writes):
            decision = process.read_model.check(authorized.access_token, "basic")
            assert not decision.allowed, f"trial {trial}: allowed after acknowledge"
            assert decision.denial is not None
            assert decision.denial.reason is Reason.TOKEN_REVOKED
            assert decision.mode is Mode.SANDBOX
    assert leader.runner is not None
    assert leader.runner.error is None
