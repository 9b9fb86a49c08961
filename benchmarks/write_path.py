"""Write-path benchmark: full OAuth authorizations against plain eventsourcing saves.

Measures, in one process and on one PostgreSQL server:

(a) authorizations per second: ``Ledger.authorize`` (code flow) followed by
    ``Ledger.exchange_code``, cycling over many users of live apps, so each iteration
    issues a new code and a new token (the user's grant exists after the first time);
(b) raw saves per second: a one-event ``eventsourcing`` aggregate created and saved by a
    plain ``eventsourcing.application.Application`` with the same env shape (same
    persistence module, pool size and aggregate cache), in its own schema.

The two are run in alternating rounds (A B, B A, A B, ...) so that drift on the machine
hits both alike; the medians of the rounds are reported, with their ratio
(authorizations_per_s / raw_saves_per_s; the target is >= 0.4). Then N more
authorizations are run to check peak memory (RSS of this process; the server runs in
other processes and is not counted).

The server: LEDGER_DATABASE_URL if set (two fresh schemas are created there and dropped
at the end), otherwise a throwaway PostgreSQL started from the installed binaries and
removed at the end.

Usage (from the repository root):

    .venv/bin/python benchmarks/write_path.py --quick
    .venv/bin/python benchmarks/write_path.py   # 5 rounds x 5 s, then 100000 authorizations
    .venv/bin/python benchmarks/write_path.py --memory-authorizations 0

Progress goes to stderr; results go to stdout, whose last line is one JSON object:
{"authorizations_per_s": ..., "raw_saves_per_s": ..., "ratio": ..., "peak_rss_mb": ...}
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

# Run as a script (`python benchmarks/write_path.py`): make the project importable even
# without the editable install.
_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from eventsourcing.application import Application  # noqa: E402
from eventsourcing.domain import Aggregate  # noqa: E402

from application.ledger import Ledger  # noqa: E402
from benchmarks.common import (  # noqa: E402
    peak_rss_mb,
    rss_mb,
    run_for,
    stderr_log,
    stop_cleanly_on_signals,
)
from benchmarks.postgres import (  # noqa: E402
    PostgresUnavailableError,
    add_pg_setting_option,
    database,
    fresh_schemas,
    pg_settings,
)
from domain.actors import Actor  # noqa: E402
from infrastructure.persistence import postgres_env  # noqa: E402

if TYPE_CHECKING:
    from uuid import UUID

log = stderr_log("write_path")

TARGET_RATIO = 0.4
MEMORY_LIMIT_MB = 300.0

SECRET_KEY = b"write-path benchmark key, not a secret at all"
DEVELOPER = "bench_dev"
REVIEWER = "bench_reviewer"
REDIRECT_URI = "https://bench.example.com/oauth/callback"
RAW_APP_NAME = "Application"  # the plain Application's env prefix is APPLICATION_

DEFAULTS = {"seconds": 5.0, "rounds": 5, "users": 200, "apps": 1, "memory_authorizations": 100_000}
QUICK = {"seconds": 1.0, "rounds": 2, "users": 20, "apps": 1, "memory_authorizations": 2_000}


# --- the plain eventsourcing baseline ------------------------------------------------------


class Thing(Aggregate):
    """The smallest useful aggregate: created with one attribute, one event."""

    def __init__(self, n: int) -> None:
        self.n = n


# --- memory ---------------------------------------------------------------------------------


# --- database -------------------------------------------------------------------------------


def app_env(url: str, schema: str, app_name: str) -> dict[str, str]:
    """The env production builds for PostgreSQL, isolated from stray variables.

    eventsourcing also reads os.environ, and NAME_-prefixed keys (LEDGER_POSTGRES_SCHEMA,
    ...) win over the env passed in; none of those may redirect the benchmark's store.
    """
    env = postgres_env(url, schema=schema)
    for key in env:
        for var in (key, f"{app_name.upper()}_{key}"):
            if var in os.environ:
                log(f"ignoring {var} from the environment")
                del os.environ[var]
    return env


_ES_KEY = re.compile(
    r"^(?:LEDGER_|APPLICATION_)?(?:AGGREGATE_CACHE_\w+|DEEPCOPY_FROM_AGGREGATE_CACHE|POSTGRES_\w+"
    r"|IS_SNAPSHOTTING_ENABLED|COMPRESSOR_TOPIC|CIPHER_\w+|TRANSCODER_TOPIC|MAPPER_TOPIC)$"
)


def env_overrides() -> list[str]:
    """eventsourcing settings still coming from os.environ (after `app_env`): shown with the
    results, since they change what is measured (e.g. LEDGER_AGGREGATE_CACHE_FASTFORWARD=n)."""
    return sorted(f"{k}={v}" for k, v in os.environ.items() if _ES_KEY.match(k))


# --- setup ----------------------------------------------------------------------------------


@dataclass
class LiveApp:
    client_id: str
    client_secret: str


def set_up_ledger(ledger: Ledger, users: int, apps: int) -> tuple[list[str], list[LiveApp]]:
    """A developer, `users` users and `apps` reviewed, approved, live apps."""
    platform = Actor.platform()
    developer = Actor.developer(DEVELOPER)
    ledger.register_user(DEVELOPER, "Benchmark Developer", None, platform)
    usernames = [f"bench_user_{i:05d}" for i in range(users)]
    for name in usernames:
        ledger.register_user(name, f"User {name}", None, Actor.user(name))
    live: list[LiveApp] = []
    for i in range(apps):
        registered = ledger.register_app(
            owner=DEVELOPER,
            name=f"Benchmark app {i}",
            description="An app that shows users their own photos",
            website="https://bench.example.com/",
            redirect_uris=[REDIRECT_URI],
            actor=developer,
            company_name="Benchmarks Ltd",
            contact_email="bench@example.com",
            privacy_policy_url="https://bench.example.com/privacy",
        )
        review = ledger.submit_review(
            registered.client_id,
            use_case="own_content",
            permissions={"basic": "Shows the signed-in user their own profile and photos"},
            screencast_url="https://bench.example.com/screencast.mp4",
            actor=developer,
        )
        ledger.decide_review(
            review.id,
            "basic",
            approve=True,
            reason="Fits the own_content use case",
            actor=Actor.reviewer(REVIEWER),
        )
        ledger.go_live(registered.client_id, developer)
        live.append(LiveApp(registered.client_id, registered.client_secret))
    return usernames, live


# --- the two operations ---------------------------------------------------------------------


@dataclass
class Authorizer:
    """One full authorization per call, cycling over (user, app) pairs."""

    ledger: Ledger
    usernames: list[str]
    apps: list[LiveApp]
    i: int = 0
    authorize_s: float = 0.0
    exchange_s: float = 0.0
    calls: int = 0

    def __call__(self) -> None:
        i = self.i
        self.i = i + 1
        app = self.apps[i % len(self.apps)]
        username = self.usernames[(i // len(self.apps)) % len(self.usernames)]
        t0 = time.perf_counter()
        authorized = self.ledger.authorize(
            client_id=app.client_id, username=username, redirect_uri=REDIRECT_URI, scope="basic"
        )
        t1 = time.perf_counter()
        issued = self.ledger.exchange_code(
            client_id=app.client_id,
            client_secret=app.client_secret,
            redirect_uri=REDIRECT_URI,
            code=authorized.code,
        )
        t2 = time.perf_counter()
        self.authorize_s += t1 - t0
        self.exchange_s += t2 - t1
        self.calls += 1
        if not issued.access_token or authorized.mode != "live":
            raise RuntimeError(f"unexpected authorization result: {authorized!r} {issued!r}")


@dataclass
class RawSaver:
    app: Application[UUID]
    n: int = 0

    def __call__(self) -> None:
        self.n += 1
        recordings = self.app.save(Thing(self.n))
        if len(recordings) != 1:
            raise RuntimeError(f"expected one recording, got {len(recordings)}")


@dataclass
class Rates:
    auth: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)


def measure_rounds(authorizer: Authorizer, saver: RawSaver, rounds: int, seconds: float) -> Rates:
    """Alternating rounds, ABBA order, each operation for `seconds` per round."""
    rates = Rates()
    for r in range(rounds):
        order = ("auth", "raw") if r % 2 == 0 else ("raw", "auth")
        for which in order:
            if which == "auth":
                n, elapsed = run_for(seconds, lambda _i: authorizer())
                rates.auth.append(n / elapsed)
            else:
                n, elapsed = run_for(seconds, lambda _i: saver())
                rates.raw.append(n / elapsed)
        log(
            f"round {r + 1}/{rounds}: authorizations/s {rates.auth[-1]:8.1f}   "
            f"raw saves/s {rates.raw[-1]:8.1f}   ratio {rates.auth[-1] / rates.raw[-1]:.3f}"
        )
    return rates


@dataclass
class MemoryCheck:
    authorizations: int
    seconds: float
    rss_before_mb: float
    rss_after_mb: float
    sampled_peak_mb: float
    first_window_rate: float  # authorizations/s over the first sampling window
    last_window_rate: float  # ... and over the last one (a slowdown shows the store's growth)


def memory_check(authorizer: Authorizer, count: int) -> MemoryCheck:
    """`count` more authorizations, sampling RSS and the rate as they go."""
    before = rss_mb()
    sampled_peak = before
    every = max(1, min(5_000, count // 20))
    start = last = time.perf_counter()
    last_done = 0
    window_rates: list[float] = []
    for done in range(1, count + 1):
        authorizer()
        if done % every == 0 or done == count:
            now = time.perf_counter()
            window_rates.append((done - last_done) / (now - last))
            last, last_done = now, done
            current = rss_mb()
            sampled_peak = max(sampled_peak, current)
            if done % (every * 4) == 0 or done == count:
                log(
                    f"memory check: {done}/{count} authorizations, RSS {current:.1f} MB, "
                    f"{window_rates[-1]:.0f}/s now, {done / (now - start):.0f}/s overall"
                )
    return MemoryCheck(
        count,
        time.perf_counter() - start,
        before,
        rss_mb(),
        sampled_peak,
        window_rates[0],
        window_rates[-1],
    )


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Full authorizations (authorize + exchange_code) against plain "
        "eventsourcing saves, on the same PostgreSQL server, plus a memory check.",
    )
    for option, kind, text in (
        ("seconds", float, "seconds per operation per round"),
        ("rounds", int, "alternating rounds"),
        ("users", int, "users to cycle over"),
        ("apps", int, "live apps to cycle over"),
    ):
        parser.add_argument(f"--{option}", type=kind, help=f"{text} (default {DEFAULTS[option]})")
    parser.add_argument(
        "--memory-authorizations",
        type=int,
        metavar="N",
        help=f"authorizations for the memory check after the rounds; 0 skips it "
        f"(default {DEFAULTS['memory_authorizations']})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="short smoke run: "
        + ", ".join(f"{k}={v}" for k, v in QUICK.items())
        + " (explicit options still win)",
    )
    add_pg_setting_option(parser)
    args = parser.parse_args(argv)
    preset = QUICK if args.quick else DEFAULTS
    for key, value in preset.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.seconds <= 0 or args.rounds < 1 or args.users < 1 or args.apps < 1:
        parser.error("--seconds must be > 0; --rounds, --users and --apps at least 1")
    if args.memory_authorizations < 0:
        parser.error("--memory-authorizations must be >= 0")
    args.pg_settings = pg_settings(parser, args)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop_cleanly_on_signals()
    run_id = f"{time.strftime('%Y%m%d%H%M%S')}_{uuid.uuid4().hex[:8]}"
    ledger_schema = f"bench_{run_id}_ledger"
    raw_schema = f"bench_{run_id}_raw"

    with (
        database(log, args.pg_settings) as (url, where),
        fresh_schemas(url, ledger_schema, raw_schema, log=log),
    ):
        ledger = Ledger(app_env(url, ledger_schema, Ledger.name), secret_key=SECRET_KEY)
        raw = Application[uuid.UUID](env=app_env(url, raw_schema, RAW_APP_NAME))
        try:
            t0 = time.perf_counter()
            usernames, apps = set_up_ledger(ledger, args.users, args.apps)
            log(
                f"setup: {len(usernames)} users, {len(apps)} live app(s) in "
                f"{time.perf_counter() - t0:.1f} s"
            )
            authorizer = Authorizer(ledger, usernames, apps)
            saver = RawSaver(raw)
            # Warm-up: every (user, app) grant exists, caches and pools are warm.
            t0 = time.perf_counter()
            for _ in range(len(usernames) * len(apps)):
                authorizer()
            for _ in range(len(usernames) * len(apps)):
                saver()
            log(f"warm-up: {authorizer.calls} authorizations in {time.perf_counter() - t0:.1f} s")
            authorizer.authorize_s = authorizer.exchange_s = 0.0
            authorizer.calls = 0

            rates = measure_rounds(authorizer, saver, args.rounds, args.seconds)
            # Latencies of the rate rounds only (the memory check runs on a larger store).
            round_latency = (authorizer.calls, authorizer.authorize_s, authorizer.exchange_s)
            memory = (
                memory_check(authorizer, args.memory_authorizations)
                if args.memory_authorizations
                else None
            )
        finally:
            ledger.close()
            raw.close()

    auth_rate = statistics.median(rates.auth)
    raw_rate = statistics.median(rates.raw)
    ratio = auth_rate / raw_rate
    peak = max(peak_rss_mb(), memory.sampled_peak_mb if memory else 0.0)
    per_round = [a / r for a, r in zip(rates.auth, rates.raw, strict=True)]

    out = [
        "write path benchmark",
        f"  server:                  {where}",
        f"  schemas:                 {ledger_schema}, {raw_schema} (dropped at the end)",
        f"  rounds:                  {args.rounds} x {args.seconds:g} s per operation, alternating",
        f"  users x apps:            {len(usernames)} x {len(apps)}",
        f"  env overrides:           {', '.join(env_overrides()) or 'none'}",
        f"  authorizations/s rounds: {', '.join(f'{x:.1f}' for x in rates.auth)}",
        f"  raw saves/s rounds:      {', '.join(f'{x:.1f}' for x in rates.raw)}",
        f"  per-round ratios:        {', '.join(f'{x:.3f}' for x in per_round)}",
        f"  authorizations_per_s:    {auth_rate:.1f} (median; authorize + exchange_code)",
        f"  raw_saves_per_s:         {raw_rate:.1f} (median; one-event aggregate, plain "
        "Application)",
        f"  ratio:                   {ratio:.3f} (target >= {TARGET_RATIO}: "
        f"{'met' if ratio >= TARGET_RATIO else 'NOT met'})",
    ]
    calls, authorize_s, exchange_s = round_latency
    if calls:
        out.append(
            f"  mean latency (rounds):   authorize {1000 * authorize_s / calls:.2f} ms"
            f", exchange_code {1000 * exchange_s / calls:.2f} ms"
            f", raw save {1000 / raw_rate:.2f} ms (1 / median rate)"
        )
    if memory:
        growth_kib = 1024 * (memory.rss_after_mb - memory.rss_before_mb) / memory.authorizations
        out += [
            f"  memory check:            {memory.authorizations} authorizations in "
            f"{memory.seconds:.1f} s ({memory.authorizations / memory.seconds:.0f}/s; "
            f"{memory.first_window_rate:.0f}/s at the start, "
            f"{memory.last_window_rate:.0f}/s at the end)",
            f"  RSS before/after:        {memory.rss_before_mb:.1f} MB -> "
            f"{memory.rss_after_mb:.1f} MB ({growth_kib:.2f} KiB/authorization)",
            f"  peak_rss_mb:             {peak:.1f} (limit {MEMORY_LIMIT_MB:g}: "
            f"{'met' if peak <= MEMORY_LIMIT_MB else 'NOT met'})",
        ]
    else:
        out.append(
            f"  peak_rss_mb:             {peak:.1f} (memory check skipped: peak of the rate rounds)"
        )
    print("\n".join(out))
    print(
        json.dumps(
            {
                "authorizations_per_s": round(auth_rate, 2),
                "raw_saves_per_s": round(raw_rate, 2),
                "ratio": round(ratio, 4),
                "peak_rss_mb": round(peak, 1),
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except PostgresUnavailableError as exc:
        print(f"write_path: no PostgreSQL to benchmark on: {exc}", file=sys.stderr)
        sys.exit(2)
