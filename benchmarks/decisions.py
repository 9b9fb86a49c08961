"""Decisions benchmark: permission checks, as-of checks, rebuilds, projection lag and
revoke-then-check, each against a baseline measured in the same run on the same server.

On one PostgreSQL server, with realistic logs made by ``tools.log_generator`` (the
ledger's own commands) in fresh schemas:

(a) checks/s: ``runtime.read_model.check(token, scope)`` in this process, against SELECTs of one
    ``rm_tokens`` row by primary key through the same read-model connection pool, as one
    autocommit statement like a check's (``Database.read_one``); alternating rounds, medians;
    target ratio >= 0.5;
(b) as-of checks (``check(..., as_of=position)``, positions spread over each token's life) on a
    log of --big-events (1,000,000) against the same kind of checks on a log of --small-events
    (10,000); ratio of the cost of one check, big / small; target <= 1.5;
(c) rebuild: events/s of ``rebuild(projector)`` over the big log, against merely reading and
    decoding the same events with eventsourcing (``recorder.select_notifications`` pages of the
    projector's batch size + ``mapper.to_domain_event``), read before and after the rebuild;
    target ratio >= 0.2;
(d) projection lag: a ``ProjectorRunner`` runs here while writer processes commit a paced
    300 writes/s (authorize, exchange_code, revoke_token of the previous token); for every write,
    the time from its commit (stamped by the writer as the command returns) until a check answers
    at or after its position (a watcher thread polls the read models' tracking position every
    0.5 ms and records when it moves); afterwards every exchange and revocation is checked, as of
    its own position, and must answer as the write says (allowed, then denied); p99 after a 1 s
    warm-up; target <= 100 ms;
(e) revoke-then-check: a child process with its own Runtime (and its own, standing-by projector
    runner) on the same schema; per trial the child checks a live token (must be allowed), this
    process revokes it (``runtime.ledger.revoke_token``) and waits for ``runtime.acknowledge``,
    then the child checks again: every "allowed" now is a violation; target 0.

Checks and as-of checks run with no projector thread in the process (the read models are
caught up and idle); (d) and (e) run with one, as every service process does.

The server: LEDGER_DATABASE_URL if set (fresh schemas are created there and dropped at the end),
otherwise a throwaway PostgreSQL started from the installed binaries and removed at the end.

Usage (from the repository root):

    .venv/bin/python benchmarks/decisions.py --quick
    .venv/bin/python benchmarks/decisions.py                  # 1,000,000-event log, 10,000 trials
    .venv/bin/python benchmarks/decisions.py --big-events 200000 --trials 2000

Progress goes to stderr; results go to stdout, whose last line is one JSON object:
{"check_ratio": ..., "as_of_ratio": ..., "rebuild_ratio": ..., "lag_p99_ms": ...,
 "revocation_violations": ..., ...raw rates}
"""

from __future__ import annotations

import argparse
import bisect
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Run as a script (`python benchmarks/decisions.py`): make the project importable even
# without the editable install (spawned child processes import this file the same way).
_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from benchmarks.common import (  # noqa: E402
    peak_rss_mb,
    percentile,
    run_for,
    stderr_log,
    stop_cleanly_on_signals,
)
from benchmarks.postgres import database, fresh_schemas  # noqa: E402
from domain.actors import Actor  # noqa: E402
from domain.errors import LedgerError, ProjectionTimeoutError  # noqa: E402
from infrastructure.persistence import postgres_env  # noqa: E402
from infrastructure.read_model.projector import rebuild  # noqa: E402
from infrastructure.runtime import Runtime, open_runtime_on  # noqa: E402
from tools.log_generator import (  # noqa: E402
    BatchedLedger,
    GeneratedApp,
    GeneratedLog,
    SampleToken,
    generate_log,
)

log = stderr_log("decisions")

TARGETS = {
    "check_ratio": 0.5,
    "as_of_ratio": 1.5,
    "rebuild_ratio": 0.2,
    "lag_p99_ms": 100.0,
    "revocation_violations": 0,
}

SECRET_KEY = b"decisions benchmark key, not a secret at all"
APP_NAME = "Ledger"
SEED = 20_160_601

DEFAULTS: dict[str, Any] = {
    "big_events": 1_000_000,
    "small_events": 10_000,
    "rounds": 5,
    "seconds": 3.0,
    "check_tokens": 1_000,
    "lag_seconds": 30.0,
    "lag_rate": 300.0,
    "writers": 3,
    "trials": 10_000,
}
QUICK: dict[str, Any] = {
    "big_events": 50_000,
    "small_events": 10_000,
    "rounds": 2,
    "seconds": 1.0,
    "check_tokens": 200,
    "lag_seconds": 5.0,
    "lag_rate": 300.0,
    "writers": 3,
    "trials": 300,
}
LAG_WARMUP_S = 1.0
LAG_POLL_S = 0.0005  # how often the lag watcher reads the read models' position


# --- database -------------------------------------------------------------------------------


def vacuum_analyze(url: str, *schemas: str) -> None:
    """Settles freshly loaded tables (visibility maps, statistics) as autovacuum would, so that
    it does not run in the middle of a measurement."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        for schema in schemas:
            tables = conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
            ).fetchall()
            for (table,) in tables:
                conn.execute(
                    sql.SQL("VACUUM (ANALYZE) {}.{}").format(
                        sql.Identifier(schema), sql.Identifier(table)
                    )
                )


def store_env(url: str, schema: str) -> dict[str, str]:
    """The env production builds for PostgreSQL, isolated from stray variables.

    eventsourcing also reads os.environ, and LEDGER_-prefixed keys win over the env passed
    in; none of those may redirect the benchmark's store (child processes inherit os.environ).
    """
    env = postgres_env(url, schema=schema)
    for key in env:
        for var in (key, f"{APP_NAME.upper()}_{key}"):
            if var in os.environ:
                log(f"ignoring {var} from the environment")
                del os.environ[var]
    return env


# --- timing helpers -------------------------------------------------------------------------


def alternate(
    rounds: int,
    seconds: float,
    a: Callable[[int], None],
    b: Callable[[int], None],
    label: tuple[str, str],
) -> tuple[list[float], list[float]]:
    """Rates (calls/s) of a and b over alternating rounds, ABBA order."""
    rates_a: list[float] = []
    rates_b: list[float] = []
    for r in range(rounds):
        for which in "ab" if r % 2 == 0 else "ba":
            n, elapsed = run_for(seconds, a if which == "a" else b)
            (rates_a if which == "a" else rates_b).append(n / elapsed)
        log(
            f"round {r + 1}/{rounds}: {label[0]} {rates_a[-1]:9.1f}/s   "
            f"{label[1]} {rates_b[-1]:9.1f}/s   ratio {rates_a[-1] / rates_b[-1]:.3f}"
        )
    return rates_a, rates_b


# --- (a) checks against primary-key selects -------------------------------------------------


def mixed_tokens(log_: GeneratedLog, count: int) -> list[SampleToken]:
    """About 4 allowed tokens to 1 denied (revoked, deauthorized, ...), shuffled."""
    denied = log_.denied_tokens[: count // 5]
    tokens = [*log_.tokens[: count - len(denied)], *denied]
    random.Random(SEED).shuffle(tokens)
    return tokens


def measure_checks(
    runtime: Runtime, tokens: Sequence[SampleToken], rounds: int, seconds: float
) -> tuple[list[float], list[float]]:
    db = runtime.db
    rm = runtime.read_model
    token_ids = [t.token_id for t in tokens]
    select = db.sql("SELECT * FROM rm_tokens WHERE token_id = :token_id")

    def check(i: int) -> None:
        token = tokens[i % len(tokens)]
        rm.check(token.access_token, token.scope)

    def pk_select(i: int) -> None:
        # The same single-statement, autocommit read a check of "now" makes: the fastest a
        # one-row read goes through this pool, so the baseline is not slowed by BEGIN/COMMIT.
        if db.read_one(select, {"token_id": token_ids[i % len(token_ids)]}) is None:
            raise RuntimeError("a sampled token is missing from rm_tokens")

    for i in range(min(len(tokens), 200)):  # warm-up: pool, plans, caches
        check(i)
        pk_select(i)
    return alternate(rounds, seconds, check, pk_select, ("checks", "pk selects"))


# --- (b) as-of checks on a big and a small log ----------------------------------------------


@dataclass
class AsOfChecks:
    runtime: Runtime
    checks: list[tuple[str, str, int]]  # (token, scope, as-of position)
    allowed: int = 0

    def __call__(self, i: int) -> None:
        token, scope, position = self.checks[i % len(self.checks)]
        if self.runtime.read_model.check(token, scope, as_of=position).allowed:
            self.allowed += 1


def as_of_checks(runtime: Runtime, log_: GeneratedLog, count: int, seed: int) -> AsOfChecks:
    """``count`` checks of sampled tokens (allowed and denied at the end of the log), each at a
    position drawn uniformly between the token's issue and the end of the log."""
    rng = random.Random(seed)
    tokens = [*log_.tokens, *log_.denied_tokens]
    rng.shuffle(tokens)
    end = log_.last_position
    checks = []
    for t in tokens:
        rows = runtime.db.query(
            "SELECT issued_pos FROM rm_tokens WHERE token_id = :token_id", {"token_id": t.token_id}
        )
        if rows:
            checks.append((t.access_token, t.scope, rng.randint(int(rows[0][0]), end)))
    if not checks:
        raise RuntimeError("no sampled token to check as of a position")
    return AsOfChecks(runtime, (checks * (count // len(checks) + 1))[: max(count, len(checks))])


# --- (c) rebuild against read + decode ------------------------------------------------------


def read_and_decode(runtime: Runtime) -> tuple[int, float]:
    """Reads every event in pages of the projector's batch size and decodes it."""
    recorder = runtime.ledger.recorder
    mapper = runtime.ledger.mapper
    batch = runtime.projector.batch_size
    start = time.perf_counter()
    position = 0
    count = 0
    while True:
        page = recorder.select_notifications(start=position + 1, limit=batch)
        if not page:
            return count, time.perf_counter() - start
        for notification in page:
            mapper.to_domain_event(notification)
        count += len(page)
        position = page[-1].id


def measure_rebuild(runtime: Runtime) -> dict[str, float]:
    n1, s1 = read_and_decode(runtime)
    log(f"read + decode: {n1} events in {s1:.1f} s ({n1 / s1:.0f}/s)")
    start = time.perf_counter()
    total = runtime.ledger.position()
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        before, done = done, done + n
        if before * 10 // max(total, 1) != done * 10 // max(total, 1):
            log(f"rebuild: {done}/{total} events, {done / (time.perf_counter() - start):.0f}/s")

    applied = rebuild(runtime.projector, progress)
    rebuild_s = time.perf_counter() - start
    log(f"rebuild: {applied} events in {rebuild_s:.1f} s ({applied / rebuild_s:.0f}/s)")
    n2, s2 = read_and_decode(runtime)
    log(f"read + decode: {n2} events in {s2:.1f} s ({n2 / s2:.0f}/s)")
    read_rate = statistics.mean([n1 / s1, n2 / s2])
    return {
        "rebuild_events_per_s": applied / rebuild_s,
        "read_decode_events_per_s": read_rate,
        "rebuild_seconds": rebuild_s,
        "rebuild_events": applied,
    }


# --- (d) projection lag under paced writes --------------------------------------------------


@dataclass(frozen=True)
class LivePair:
    client_id: str
    client_secret: str
    redirect_uri: str


def live_pairs(apps: Sequence[GeneratedApp]) -> list[LivePair]:
    """Apps any user may authorize for basic at the end of the log."""
    return [
        LivePair(a.client_id, a.client_secret, a.redirect_uri)
        for a in apps
        if a.mode == "live" and not a.disabled and "basic" in a.approved_scopes
    ]


def _writer(
    env: dict[str, str],
    secret_key: bytes,
    pairs: list[LivePair],
    usernames: list[str],
    rate: float,
    seconds: float,
    start_at: float,
    seed: int,
    out: Any,
) -> None:
    """A writer process: authorize, exchange, revoke the previous token, each at its slot of a
    paced schedule; every commit is reported as (kind, position, commit time, token, allowed)."""
    from application.ledger import Ledger

    stop_cleanly_on_signals()
    ledger = Ledger(env, secret_key=secret_key)
    rng = random.Random(seed)
    interval = 1.0 / rate
    writes = errors = 0
    previous: tuple[str, str] | None = None

    def slot() -> bool:
        nonlocal writes
        target = start_at + writes * interval
        now = time.monotonic()
        if target - start_at >= seconds:
            return False
        if target > now:
            time.sleep(target - now)
        writes += 1
        return True

    try:
        while True:
            pair = pairs[int(len(pairs) * rng.random() ** 2)]
            username = rng.choice(usernames)
            try:
                if not slot():
                    break
                authorized = ledger.authorize(
                    client_id=pair.client_id,
                    username=username,
                    redirect_uri=pair.redirect_uri,
                    scope="basic",
                )
                out.put(("authorize", authorized.position, time.monotonic(), None, None))
                if not slot():
                    break
                issued = ledger.exchange_code(
                    client_id=pair.client_id,
                    client_secret=pair.client_secret,
                    redirect_uri=pair.redirect_uri,
                    code=authorized.code,
                )
                out.put(("exchange", issued.position, time.monotonic(), issued.access_token, True))
                if previous is not None:
                    if not slot():
                        break
                    revoked = ledger.revoke_token(
                        Actor.user(previous[1]), access_token=previous[0], reason="signed out"
                    )
                    out.put(("revoke", revoked.position, time.monotonic(), previous[0], False))
                previous = (issued.access_token, username)
            except LedgerError:
                errors += 1
    finally:
        out.put(("done", writes, time.monotonic() - start_at, errors))
        ledger.close()


@dataclass
class LagResult:
    latencies_ms: list[float] = field(default_factory=list)
    writes: int = 0
    seconds: float = 0.0
    errors: int = 0
    mismatches: int = 0
    checked: int = 0


class PositionWatcher(threading.Thread):
    """Polls the read models' position and records when it moves: from then on, a check in any
    process answers at that position (or later)."""

    def __init__(self, runtime: Runtime, poll: float) -> None:
        super().__init__(name="position-watcher", daemon=True)
        self.rm = runtime.read_model
        self.poll = poll
        self.stopping = threading.Event()
        self.times: list[float] = []
        self.positions: list[int] = []

    def run(self) -> None:
        last = -1
        while not self.stopping.is_set():
            position = self.rm.position()
            seen = time.monotonic()
            if position > last:
                self.times.append(seen)
                self.positions.append(position)
                last = position
            time.sleep(self.poll)

    def first_seen(self, position: int) -> float | None:
        i = bisect.bisect_left(self.positions, position)
        return self.times[i] if i < len(self.times) else None


def measure_lag(
    runtime: Runtime,
    env: dict[str, str],
    log_: GeneratedLog,
    rate: float,
    seconds: float,
    writers: int,
) -> LagResult:
    pairs = live_pairs(log_.apps)
    if not pairs:
        raise RuntimeError("the generated log has no live app to authorize")
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    start_at = time.monotonic() + 3.0  # time for the writers to start and connect
    procs = [
        ctx.Process(
            target=_writer,
            name=f"writer-{w}",
            args=(
                env,
                SECRET_KEY,
                pairs,
                log_.usernames,
                rate / writers,
                seconds,
                start_at,
                SEED + w,
                out,
            ),
            daemon=True,
        )
        for w in range(writers)
    ]
    result = LagResult()
    rm = runtime.read_model
    watcher = PositionWatcher(runtime, LAG_POLL_S)
    commits: list[tuple[int, float]] = []
    checks: list[tuple[int, str, bool]] = []
    try:
        watcher.start()
        for proc in procs:
            proc.start()
        done = 0
        while done < writers:
            item = out.get(timeout=seconds + 60)
            if item[0] == "done":
                done += 1
                result.writes += item[1]
                result.seconds = max(result.seconds, item[2])
                result.errors += item[3]
                continue
            _, position, committed, token, allowed = item
            commits.append((position, committed))
            if token is not None:
                checks.append((position, token, allowed))
        last = max((p for p, _ in commits), default=0)
        stuck = time.monotonic() + 60
        while watcher.first_seen(last) is None:
            if time.monotonic() > stuck:
                error = runtime.runner.error if runtime.runner else None
                raise RuntimeError(
                    f"the read models did not reach position {last} in 60 s "
                    f"(projector error: {error!r})"
                )
            time.sleep(0.01)
    finally:
        watcher.stopping.set()
        watcher.join(timeout=5)
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)
    # Each exchange and revocation, checked as of its own position (the writer revoked each token
    # a cycle later), once the paced writing is over so that it takes no CPU from it.
    for position, token, allowed in checks:
        result.checked += 1
        if rm.check(token, "basic", as_of=position).allowed != allowed:
            result.mismatches += 1
    for position, committed in commits:
        seen = watcher.first_seen(position)
        if seen is not None and committed - start_at >= LAG_WARMUP_S:
            # The writer stamps its commit as the command returns: a projector that was quicker
            # than that stamp counts as no lag at all.
            result.latencies_ms.append(max(0.0, 1000 * (seen - committed)))
    return result


# --- (e) revoke, acknowledge, check from another process ------------------------------------


def _checker(env: dict[str, str], secret_key: bytes, conn: Any) -> None:
    """A child process with its own Runtime: answers whether a check allows (token, scope)."""
    stop_cleanly_on_signals()
    runtime = open_runtime_on(env, secret_key=secret_key, run_projector=True)
    try:
        conn.send("ready")
        while True:
            message = conn.recv()
            if message is None:
                return
            token, scope = message
            conn.send(runtime.read_model.check(token, scope).allowed)
    finally:
        runtime.close()


def issue_tokens(runtime: Runtime, log_: GeneratedLog, count: int) -> list[tuple[str, str]]:
    """``count`` fresh tokens (token, username) of live apps, written in batches by the
    ledger's commands, and acknowledged."""
    pairs = live_pairs(log_.apps)
    rng = random.Random(SEED)
    batched = BatchedLedger(runtime.ledger)
    tokens: list[tuple[str, str]] = []
    while len(tokens) < count:
        pair = rng.choice(pairs)
        username = rng.choice(log_.usernames)
        code = batched.authorize(
            client_id=pair.client_id,
            username=username,
            redirect_uri=pair.redirect_uri,
            scope="basic",
        ).code
        issued = batched.exchange_code(
            client_id=pair.client_id,
            client_secret=pair.client_secret,
            redirect_uri=pair.redirect_uri,
            code=code,
        )
        tokens.append((issued.access_token, username))
        if batched.pending >= 5_000:
            batched.flush()
    position = batched.flush()
    runtime.acknowledge(position, timeout=120)
    return tokens


@dataclass
class RevocationResult:
    trials: int = 0
    violations: int = 0
    denied_before: int = 0
    ack_timeouts: int = 0
    ack_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0


def measure_revocations(
    runtime: Runtime, env: dict[str, str], tokens: list[tuple[str, str]]
) -> RevocationResult:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_checker, name="checker", args=(env, SECRET_KEY, child), daemon=True)
    result = RevocationResult()
    proc.start()
    try:
        if not parent.poll(60) or parent.recv() != "ready":
            raise RuntimeError("the checker process did not start")
        start = time.perf_counter()
        for i, (token, username) in enumerate(tokens):
            parent.send((token, "basic"))
            if not parent.recv():
                result.denied_before += 1
            written = runtime.ledger.revoke_token(
                Actor.user(username), access_token=token, reason="revoke-then-check trial"
            )
            t0 = time.perf_counter()
            try:
                runtime.acknowledge(written.position)
            except ProjectionTimeoutError:
                result.ack_timeouts += 1
            result.ack_ms.append(1000 * (time.perf_counter() - t0))
            parent.send((token, "basic"))
            if parent.recv():
                result.violations += 1
            result.trials += 1
            if (i + 1) % max(1, len(tokens) // 10) == 0:
                log(
                    f"revoke-then-check: {i + 1}/{len(tokens)} trials, "
                    f"{result.violations} violations"
                )
        result.seconds = time.perf_counter() - start
        parent.send(None)
    finally:
        proc.join(timeout=15)
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=5)
    return result


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Permission checks, as-of checks, rebuilds, projection lag and "
        "revoke-then-check against baselines on the same PostgreSQL server."
    )
    parser.add_argument(
        "--big-events",
        type=int,
        metavar="N",
        help=f"events in the big log (default {DEFAULTS['big_events']:,})",
    )
    parser.add_argument(
        "--small-events",
        type=int,
        metavar="N",
        help=f"events in the small log (default {DEFAULTS['small_events']:,})",
    )
    parser.add_argument(
        "--rounds", type=int, help=f"alternating rounds (default {DEFAULTS['rounds']})"
    )
    parser.add_argument(
        "--seconds", type=float, help=f"per measurement per round (default {DEFAULTS['seconds']})"
    )
    parser.add_argument(
        "--check-tokens",
        type=int,
        metavar="N",
        help=f"sampled tokens to check (default {DEFAULTS['check_tokens']})",
    )
    parser.add_argument(
        "--lag-seconds",
        type=float,
        help=f"paced writing for the lag test (default {DEFAULTS['lag_seconds']})",
    )
    parser.add_argument(
        "--lag-rate",
        type=float,
        help=f"writes/s for the lag test (default {DEFAULTS['lag_rate']:g})",
    )
    parser.add_argument(
        "--writers",
        type=int,
        help=f"writer processes sharing the rate (default {DEFAULTS['writers']})",
    )
    parser.add_argument(
        "--trials", type=int, help=f"revoke-then-check trials (default {DEFAULTS['trials']:,})"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="short smoke run: "
        + ", ".join(f"{k}={v}" for k, v in QUICK.items())
        + " (explicit options still win)",
    )
    args = parser.parse_args(argv)
    preset = QUICK if args.quick else DEFAULTS
    for key, value in preset.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if (
        min(
            args.big_events,
            args.small_events,
            args.rounds,
            args.check_tokens,
            args.writers,
            args.trials,
        )
        < 1
        or min(args.seconds, args.lag_seconds, args.lag_rate) <= 0
    ):
        parser.error("every count must be at least 1 and every duration and rate above 0")
    return args


def generate(runtime: Runtime, events: int, sample: int, label: str) -> GeneratedLog:
    done = 0
    reported = time.perf_counter()

    def progress(n: int) -> None:
        nonlocal done, reported
        done += n
        if time.perf_counter() - reported >= 15:
            log(
                f"{label} log: {done:,}/{events:,} events "
                f"({done / (time.perf_counter() - start):.0f}/s)"
            )
            reported = time.perf_counter()

    start = time.perf_counter()
    made = generate_log(runtime.ledger, events, seed=SEED, sample_tokens=sample, progress=progress)
    log(
        f"{label} log: {made.events:,} events in {made.seconds:.1f} s "
        f"({made.events_per_s:.0f}/s), {len(made.tokens)} allowed and "
        f"{len(made.denied_tokens)} denied sample tokens"
    )
    return made


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop_cleanly_on_signals()
    run_id = f"{time.strftime('%Y%m%d%H%M%S')}_{uuid.uuid4().hex[:8]}"
    big_schema, small_schema = f"bench_{run_id}_big", f"bench_{run_id}_small"
    out: dict[str, Any] = {}
    report: list[str] = []
    sample = max(args.check_tokens, 100)
    load_start = os.getloadavg()[0]

    with database(log) as (url, where), fresh_schemas(url, big_schema, small_schema, log=log):
        big_env, small_env = store_env(url, big_schema), store_env(url, small_schema)
        big = open_runtime_on(big_env, secret_key=SECRET_KEY, run_projector=False)
        small = open_runtime_on(small_env, secret_key=SECRET_KEY, run_projector=False)
        try:
            big_log = generate(big, args.big_events, sample, "big")
            # (c) the rebuild is also the first projection of the big log.
            rebuilt = measure_rebuild(big)
            small_log = generate(small, args.small_events, sample, "small")
            small.projector.catch_up()
            vacuum_analyze(url, big_schema, small_schema)

            # (a)
            tokens = mixed_tokens(big_log, args.check_tokens)
            log(f"checks against primary-key selects, {len(tokens)} tokens of the big log")
            checks, selects = measure_checks(big, tokens, args.rounds, args.seconds)

            # (b)
            log("as-of checks, big log against small log")
            big_checks = as_of_checks(big, big_log, args.check_tokens, SEED)
            small_checks = as_of_checks(small, small_log, args.check_tokens, SEED)
            for i in range(min(len(big_checks.checks), 200)):
                big_checks(i)
                small_checks(i)
            as_of_big, as_of_small = alternate(
                args.rounds, args.seconds, big_checks, small_checks, ("as-of big", "as-of small")
            )
        finally:
            small.close()
            big.close()

        # (d) and (e): with a projector runner, as in every service process.
        runtime = open_runtime_on(big_env, secret_key=SECRET_KEY, run_projector=True)
        try:
            assert runtime.runner is not None
            if not runtime.runner.is_leader.wait(30):
                raise RuntimeError("the projector runner did not become the leader")
            log(
                f"projection lag: {args.lag_rate:g} writes/s for {args.lag_seconds:g} s from "
                f"{args.writers} writer process(es)"
            )
            lag = measure_lag(
                runtime, big_env, big_log, args.lag_rate, args.lag_seconds, args.writers
            )
            log(
                f"lag: {lag.writes} writes in {lag.seconds:.1f} s "
                f"({lag.writes / max(lag.seconds, 1e-9):.0f}/s), "
                f"p50 {percentile(lag.latencies_ms, 50):.1f} ms, "
                f"p99 {percentile(lag.latencies_ms, 99):.1f} ms"
            )
            log(f"revoke-then-check: issuing {args.trials} tokens")
            trial_tokens = issue_tokens(runtime, big_log, args.trials)
            revocations = measure_revocations(runtime, big_env, trial_tokens)
        finally:
            runtime.close()

    check_rate, select_rate = statistics.median(checks), statistics.median(selects)
    big_us = 1e6 / statistics.median(as_of_big)
    small_us = 1e6 / statistics.median(as_of_small)
    lag_p99 = percentile(lag.latencies_ms, 99)
    out = {
        "check_ratio": round(check_rate / select_rate, 4),
        "as_of_ratio": round(big_us / small_us, 4),
        "rebuild_ratio": round(
            rebuilt["rebuild_events_per_s"] / rebuilt["read_decode_events_per_s"], 4
        ),
        "lag_p99_ms": round(lag_p99, 2),
        "revocation_violations": revocations.violations,
        "checks_per_s": round(check_rate, 1),
        "pk_selects_per_s": round(select_rate, 1),
        "as_of_check_us_big": round(big_us, 1),
        "as_of_check_us_small": round(small_us, 1),
        "rebuild_events_per_s": round(rebuilt["rebuild_events_per_s"], 1),
        "read_decode_events_per_s": round(rebuilt["read_decode_events_per_s"], 1),
        "lag_p50_ms": round(percentile(lag.latencies_ms, 50), 2),
        "lag_max_ms": round(max(lag.latencies_ms, default=0.0), 2),
        "lag_writes_per_s": round(lag.writes / max(lag.seconds, 1e-9), 1),
        "lag_writes": lag.writes,
        "lag_check_mismatches": lag.mismatches,
        "lag_write_errors": lag.errors,
        "revocation_trials": revocations.trials,
        "revocation_denied_before": revocations.denied_before,
        "revocation_ack_timeouts": revocations.ack_timeouts,
        "ack_p50_ms": round(percentile(revocations.ack_ms, 50), 2),
        "ack_p99_ms": round(percentile(revocations.ack_ms, 99), 2),
        "big_events": big_log.events,
        "small_events": small_log.events,
        "generate_events_per_s": round(big_log.events_per_s, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "load_avg_1m_start": round(load_start, 2),
        "load_avg_1m_end": round(os.getloadavg()[0], 2),
    }

    def verdict(key: str) -> str:
        target, value = TARGETS[key], out[key]
        met = value >= target if key in ("check_ratio", "rebuild_ratio") else value <= target
        return "met" if met else "NOT met"

    report += [
        "decisions benchmark",
        f"  server:                 {where}",
        f"  logs:                   {big_log.events:,} events (generated at "
        f"{big_log.events_per_s:.0f}/s) and {small_log.events:,} events, seed {SEED}",
        f"  checks/s rounds:        {', '.join(f'{x:.0f}' for x in checks)}",
        f"  pk selects/s rounds:    {', '.join(f'{x:.0f}' for x in selects)}",
        f"  check_ratio:            {out['check_ratio']:.3f} (checks {check_rate:.0f}/s / "
        f"selects {select_rate:.0f}/s; target >= {TARGETS['check_ratio']}: "
        f"{verdict('check_ratio')})",
        f"  as-of check, big log:   {big_us:.0f} us  (rounds "
        f"{', '.join(f'{1e6 / x:.0f}' for x in as_of_big)})",
        f"  as-of check, small log: {small_us:.0f} us  (rounds "
        f"{', '.join(f'{1e6 / x:.0f}' for x in as_of_small)})",
        f"  as_of_ratio:            {out['as_of_ratio']:.3f} (target <= {TARGETS['as_of_ratio']}: "
        f"{verdict('as_of_ratio')})",
        f"  rebuild:                {rebuilt['rebuild_events_per_s']:.0f} events/s "
        f"({rebuilt['rebuild_events']:,} events in {rebuilt['rebuild_seconds']:.1f} s); "
        f"read + decode {rebuilt['read_decode_events_per_s']:.0f} events/s",
        f"  rebuild_ratio:          {out['rebuild_ratio']:.3f} (target >= "
        f"{TARGETS['rebuild_ratio']}: {verdict('rebuild_ratio')})",
        f"  lag:                    {lag.writes} writes at {out['lag_writes_per_s']:.0f}/s "
        f"(asked {args.lag_rate:g}/s), {len(lag.latencies_ms)} measured after warm-up; "
        f"p50 {out['lag_p50_ms']:.1f} ms, p99 {lag_p99:.1f} ms, max {out['lag_max_ms']:.1f} ms; "
        f"{lag.checked} checks, {lag.mismatches} answered wrong; {lag.errors} write errors",
        f"  lag_p99_ms:             {lag_p99:.1f} (target <= {TARGETS['lag_p99_ms']:g}: "
        f"{verdict('lag_p99_ms')})",
        f"  revoke-then-check:      {revocations.trials} trials in {revocations.seconds:.1f} s; "
        f"allowed before revocation {revocations.trials - revocations.denied_before}; "
        f"acknowledge p50 {out['ack_p50_ms']:.1f} ms, p99 {out['ack_p99_ms']:.1f} ms, "
        f"{revocations.ack_timeouts} timeouts",
        f"  revocation_violations:  {revocations.violations} (target 0: "
        f"{verdict('revocation_violations')})",
        f"  peak_rss_mb:            {out['peak_rss_mb']:.1f}",
        f"  machine load (1 min):   {load_start:.2f} at the start, "
        f"{out['load_avg_1m_end']:.2f} at the end ({os.cpu_count()} cores)",
    ]
    print("\n".join(report))
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
