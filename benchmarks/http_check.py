"""HTTP benchmark: the ledger's permission check over HTTP against a bare FastAPI lookup.

Both servers run as real uvicorn processes on 127.0.0.1, on the same PostgreSQL server, with the
same uvicorn settings and worker count, and are driven by the same load generator:

* the ledger: ``ledger serve --host 127.0.0.1 --port P --workers N`` with LEDGER_DATABASE_URL
  pointing at the server, answering ``POST /v1/decisions/check`` with
  ``{"access_token": ..., "scope": "basic"}`` in the body and a gateway API key as
  ``Authorization: Bearer <key>``, for a sandbox user's token (seeded through the ledger's own
  commands: a developer, an app, a sandbox user, authorize + exchange_code, a gateway key);
* the baseline: ``benchmarks/baseline_app.py`` under ``uvicorn --factory`` with the same host,
  worker count and uvicorn defaults, answering ``POST /lookup`` with ``{"id": N}``: one ``SELECT``
  by primary key through a psycopg pool of the ledger's pool size (LEDGER_POSTGRES_POOL_SIZE).

The load generator is Debian's ``wrk`` (installed with apt-get when missing and run as root; a
POST with a JSON body from a small Lua script, ``--latency``), or, when wrk cannot be had (or with
``--generator httpx``), an asyncio + httpx generator with the same connections, threads (one
process each) and duration. Rounds alternate (ledger, baseline, then baseline, ledger, ...); the
server not being measured is paused (SIGSTOP) so that its idle work, e.g. the ledger's projector
polling the event store, does not load the machine during the other's round. The medians over the
rounds of requests/s and of the p50/p99 latencies are reported, with the ratio
ledger_rps / baseline_rps (target >= 0.7).

Before measuring, the ledger's answer must be a real allowed decision (200, ``allowed: true``)
and the baseline must answer the row; both are checked again after measuring, and a round with
socket errors or non-2xx answers is reported as such.

The server: LEDGER_DATABASE_URL if set (a fresh schema is created there and dropped at the end),
otherwise a throwaway PostgreSQL started from the installed binaries (a fresh database in it)
and removed at the end. Both uvicorn servers are stopped on exit, Ctrl-C and SIGTERM included.

Usage (from the repository root):

    .venv/bin/python benchmarks/http_check.py --quick      # 2 rounds x 3 s
    .venv/bin/python benchmarks/http_check.py              # 3 rounds x 10 s
    .venv/bin/python benchmarks/http_check.py --workers 2 --connections 64
    .venv/bin/python benchmarks/http_check.py --generator httpx

Progress goes to stderr; results go to stdout, whose last line is one JSON object:
{"ratio": ..., "ledger_rps": ..., "baseline_rps": ..., "ledger_p99_ms": ..., "baseline_p99_ms": ...}
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Run as a script (`python benchmarks/http_check.py`): make the project importable even without
# the editable install (the httpx generator's worker processes import this file the same way).
_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import httpx  # noqa: E402

from benchmarks.baseline_app import CREATE_TABLE, TABLE, seed_rows  # noqa: E402
from benchmarks.common import (  # noqa: E402
    free_port,
    percentile,
    stderr_log,
    stop_cleanly_on_signals,
)
from benchmarks.postgres import (  # noqa: E402
    add_pg_setting_option,
    database,
    fresh_schemas,
    pg_settings,
)
from domain.actors import Actor  # noqa: E402
from domain.api_keys import KeyRole  # noqa: E402
from infrastructure.runtime import open_runtime  # noqa: E402
from infrastructure.settings import Settings, SettingsError, build_settings  # noqa: E402

log = stderr_log("http_check")

TARGET_RATIO = 0.7

SECRET_KEY = "http_check benchmark key - not a secret at all, 0123456789"
DEVELOPER = "bench_dev"
SANDBOX_USER = "bench_sandbox_user"
REDIRECT_URI = "https://bench.example.com/oauth/callback"
SCOPE = "basic"
CHECK_PATH = "/v1/decisions/check"
LOOKUP_PATH = "/lookup"
BASELINE_ROWS = 1_000
BASELINE_ID = 42
HOST = "127.0.0.1"
READY_TIMEOUT_S = 60.0
WRK_TIMEOUT = "10s"  # a slower answer counts as a timeout in wrk (and is left out of latencies)

DEFAULTS: dict[str, Any] = {"rounds": 3, "seconds": 10.0, "warmup": 3.0}
QUICK: dict[str, Any] = {"rounds": 2, "seconds": 3.0, "warmup": 1.0}


# --- database -------------------------------------------------------------------------------


# --- seeding --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    access_token: str = field(repr=False)
    api_key: str = field(repr=False)
    client_id: str
    position: int


def seed_ledger(url: str, schema: str, pool_size: int) -> Seeded:
    """Through the ledger's own commands: a developer, an app, a sandbox user who authorizes the
    app (code flow, exchanged for a token) and a gateway API key; the read models caught up."""
    settings = build_settings(
        database_url=url,
        postgres_schema=schema,
        secret_key=SECRET_KEY,
        postgres_pool_size=pool_size,
    )
    runtime = open_runtime(settings, run_projector=False)
    try:
        ledger = runtime.ledger
        developer = Actor.developer(DEVELOPER)
        platform = Actor.platform("benchmark:http_check")
        ledger.register_user(DEVELOPER, "Benchmark Developer", None, platform)
        ledger.register_user(SANDBOX_USER, "Benchmark Sandbox User", None, platform)
        app = ledger.register_app(
            owner=DEVELOPER,
            name="HTTP check benchmark app",
            description="An app whose token the gateway checks",
            website="https://bench.example.com/",
            redirect_uris=[REDIRECT_URI],
            actor=developer,
        )
        ledger.invite_sandbox_user(app.client_id, SANDBOX_USER, developer)
        ledger.accept_sandbox_invitation(app.client_id, SANDBOX_USER, Actor.user(SANDBOX_USER))
        authorized = ledger.authorize(
            client_id=app.client_id, username=SANDBOX_USER, redirect_uri=REDIRECT_URI, scope=SCOPE
        )
        if authorized.code is None:
            raise RuntimeError(f"authorize answered no code: {authorized!r}")
        issued = ledger.exchange_code(
            client_id=app.client_id,
            client_secret=app.client_secret,
            redirect_uri=REDIRECT_URI,
            code=authorized.code,
        )
        key = ledger.create_api_key(
            name="http_check gateway", role=KeyRole.GATEWAY, principal=None, actor=platform
        )
        runtime.projector.catch_up()
        position = runtime.read_model.position()
        decision = runtime.read_model.check(issued.access_token, SCOPE)
        if not decision.allowed:
            raise RuntimeError(f"the seeded token is not allowed in-process: {decision!r}")
        return Seeded(issued.access_token, key.key, app.client_id, position)
    finally:
        runtime.close()


def seed_baseline(url: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        conn.execute(CREATE_TABLE)
        with conn.cursor() as cur:
            insert = f"INSERT INTO {TABLE} VALUES (%s, %s, %s, %s, %s)"  # noqa: S608 - a constant
            cur.executemany(insert, seed_rows(BASELINE_ROWS))
        conn.execute(f"ANALYZE {TABLE}")


# --- servers --------------------------------------------------------------------------------


class Server:
    """A uvicorn server in its own process group (so its workers go with it), logging to a file.

    ``pause``/``resume`` stop and continue the whole group (SIGSTOP/SIGCONT)."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], port: int, log_dir: Path
    ) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.port = port
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.paused = False

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        log(f"{self.name}: started pid {self.proc.pid} on port {self.port} (log {self.log_path})")

    def wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        with httpx.Client(timeout=2.0) as client:
            while True:
                self._require_running()
                try:
                    if client.get(self.base_url + path).status_code < 500:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{self.name} not ready after {READY_TIMEOUT_S:g} s\n{self.log_tail()}"
                    )
                time.sleep(0.1)

    def _require_running(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with code {self.proc.returncode}\n{self.log_tail()}"
            )

    def _signal(self, signum: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signum)

    def pause(self) -> None:
        self._signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        self._signal(signal.SIGCONT)
        self.paused = False
        self._require_running()

    def stop(self) -> None:
        if self.proc is None:
            return
        self._signal(signal.SIGCONT)  # a stopped process would not act on SIGTERM
        self._signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            log(f"{self.name}: no exit 15 s after SIGTERM, killing its process group")
            self._signal(signal.SIGKILL)
            self.proc.wait(timeout=15)
        # Workers of a multi-worker server may outlive their supervisor: end the whole group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        log(f"{self.name}: stopped (exit {self.proc.returncode})")
        self.proc = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:]) or "(log is empty)"


def ledger_command(port: int, workers: int) -> list[str]:
    """`ledger serve`: the console script beside this Python, else the same entry point."""
    args = ["serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    script = Path(sys.executable).parent / "ledger"
    if script.exists():
        return [str(script), *args]
    shim = "import sys; from api.cli import main; sys.argv[0] = 'ledger'; main()"
    return [sys.executable, "-c", shim, *args]


def baseline_command(port: int, workers: int) -> list[str]:
    """The same uvicorn settings `ledger serve` passes (factory, host, port, workers)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "benchmarks.baseline_app:create_app",
        "--factory",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


# --- requests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    body: str
    headers: dict[str, str]


def verify_ledger(target: Target, position: int) -> dict[str, Any]:
    response = httpx.post(target.url, content=target.body, headers=target.headers, timeout=10)
    if response.status_code != 200:
        raise RuntimeError(f"ledger check answered {response.status_code}: {response.text}")
    answer: dict[str, Any] = response.json()
    if answer.get("allowed") is not True or answer.get("scope") != SCOPE:
        raise RuntimeError(f"ledger check is not an allowed decision: {answer}")
    if int(answer.get("position", -1)) < position:
        raise RuntimeError(
            f"ledger check answered at position {answer.get('position')}, "
            f"before the seeded position {position}"
        )
    return answer


def verify_baseline(target: Target) -> dict[str, Any]:
    response = httpx.post(target.url, content=target.body, headers=target.headers, timeout=10)
    if response.status_code != 200:
        raise RuntimeError(f"baseline answered {response.status_code}: {response.text}")
    answer: dict[str, Any] = response.json()
    expected = dict(
        zip(("id", "name", "scope", "allowed", "position"), seed_rows(BASELINE_ID)[-1], strict=True)
    )
    if answer != expected:
        raise RuntimeError(f"baseline answered {answer}, expected {expected}")
    return answer


# --- load generators ------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors and timeouts
    non_2xx: int


def _lua_long_string(text: str) -> str:
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    eq = "=" * level
    return f"[{eq}[{text}]{eq}]"


def wrk_script(target: Target) -> str:
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_long_string(target.body)}"]
    # The spaces matter: "[[[" would open a long string.
    lines += [
        f"wrk.headers[ {_lua_long_string(k)} ] = {_lua_long_string(v)}"
        for k, v in target.headers.items()
    ]
    return "\n".join(lines) + "\n"


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def parse_wrk(output: str) -> RoundResult:
    def find(pattern: str) -> re.Match[str] | None:
        return re.search(pattern, output, re.MULTILINE)

    rps = find(r"^Requests/sec:\s+([\d.]+)")
    total = find(r"^\s*(\d+) requests in ")
    p50 = find(r"^\s*50%\s+([\d.]+)(us|ms|s|m|h)\s*$")
    p99 = find(r"^\s*99%\s+([\d.]+)(us|ms|s|m|h)\s*$")
    if not (rps and total and p50 and p99):
        raise RuntimeError(f"could not parse wrk's output:\n{output}")
    socket_errors = find(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
    non_2xx = find(r"Non-2xx or 3xx responses: (\d+)")
    return RoundResult(
        rps=float(rps.group(1)),
        p50_ms=_ms(*p50.groups()),
        p99_ms=_ms(*p99.groups()),
        requests=int(total.group(1)),
        errors=sum(int(g) for g in socket_errors.groups()) if socket_errors else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
    )


class Wrk:
    name = "wrk"

    def __init__(self, binary: str, connections: int, threads: int, work_dir: Path) -> None:
        self.binary = binary
        self.connections = connections
        self.threads = threads
        self.work_dir = work_dir
        self.scripts: dict[str, Path] = {}

    def describe(self) -> str:
        version = subprocess.run(
            [self.binary, "-v"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.splitlines()
        return (
            f"{version[0].split(' Copyright')[0] if version else self.binary}, "
            f"{self.threads} threads, {self.connections} connections, --latency"
        )

    def run(self, target: Target, seconds: float) -> RoundResult:
        script = self.scripts.get(target.name)
        if script is None:
            script = self.work_dir / f"{target.name}.lua"
            fd = os.open(script, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # holds a key
            with os.fdopen(fd, "w") as out:
                out.write(wrk_script(target))
            self.scripts[target.name] = script
        duration = max(1, round(seconds))
        argv = [
            self.binary,
            "-t",
            str(self.threads),
            "-c",
            str(self.connections),
            "-d",
            f"{duration}s",
            "--timeout",
            WRK_TIMEOUT,
            "--latency",
            "-s",
            str(script),
            target.url,
        ]
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            check=False,
            timeout=duration + 60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed (exit {done.returncode}): {done.stderr or done.stdout}")
        return parse_wrk(done.stdout)


def _httpx_worker(
    url: str, body: str, headers: dict[str, str], connections: int, seconds: float
) -> tuple[list[float], int, int, float]:
    """One generator process: `connections` keep-alive connections, each sending requests back
    to back for `seconds`; answers (latencies in ms, errors, non-2xx, elapsed seconds)."""

    async def drive() -> tuple[list[float], int, int, float]:
        latencies: list[float] = []
        errors = non_2xx = 0
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        content = body.encode()
        async with httpx.AsyncClient(limits=limits, timeout=10.0) as client:
            start = time.perf_counter()
            deadline = start + seconds

            async def connection() -> None:
                nonlocal errors, non_2xx
                while True:
                    t0 = time.perf_counter()
                    if t0 >= deadline:
                        return
                    try:
                        response = await client.post(url, content=content, headers=headers)
                    except httpx.HTTPError:
                        errors += 1
                        continue
                    latencies.append((time.perf_counter() - t0) * 1000)
                    if not 200 <= response.status_code < 400:
                        non_2xx += 1

            await asyncio.gather(*(connection() for _ in range(connections)))
            elapsed = time.perf_counter() - start
        return latencies, errors, non_2xx, elapsed

    return asyncio.run(drive())


class HttpxGenerator:
    """asyncio + httpx: `threads` processes (like wrk's threads), the connections split among
    them, each sending requests back to back. Much slower per request than wrk, so on a small
    machine it can be the bottleneck; both targets get the same one."""

    name = "httpx"

    def __init__(self, connections: int, threads: int) -> None:
        self.connections = connections
        self.threads = max(1, min(threads, connections))
        self.pool = ProcessPoolExecutor(max_workers=self.threads)

    def describe(self) -> str:
        return (
            f"asyncio + httpx {httpx.__version__}, {self.threads} processes, "
            f"{self.connections} connections"
        )

    def run(self, target: Target, seconds: float) -> RoundResult:
        shares = [self.connections // self.threads] * self.threads
        for i in range(self.connections % self.threads):
            shares[i] += 1
        futures = [
            self.pool.submit(_httpx_worker, target.url, target.body, target.headers, n, seconds)
            for n in shares
        ]
        latencies: list[float] = []
        errors = non_2xx = 0
        elapsed = 0.0
        for future in futures:
            lat, err, bad, took = future.result()
            latencies += lat
            errors += err
            non_2xx += bad
            elapsed = max(elapsed, took)
        return RoundResult(
            len(latencies) / elapsed,
            percentile(latencies, 50),
            percentile(latencies, 99),
            len(latencies),
            errors,
            non_2xx,
        )

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


def find_wrk(may_install: bool) -> str | None:
    found = shutil.which("wrk")
    if found or not may_install:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        log("wrk is not installed and cannot be installed here (not root, or no apt-get)")
        return None
    log("wrk is not installed: apt-get install -y wrk")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for attempt in ("install", "update-then-install"):
        if attempt == "update-then-install":
            subprocess.run(
                ["apt-get", "update", "-qq"],
                env=env,
                capture_output=True,
                check=False,
                timeout=600,
            )
        done = subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if done.returncode == 0 and shutil.which("wrk"):
            return shutil.which("wrk")
    log(f"apt-get could not install wrk: {(done.stderr or done.stdout).strip()[-500:]}")
    return None


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Series:
    rounds: list[RoundResult] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return float(statistics.median(getattr(r, attr) for r in self.rounds))

    @property
    def problems(self) -> int:
        return sum(r.errors + r.non_2xx for r in self.rounds)


def run_round(
    generator: Wrk | HttpxGenerator,
    target: Target,
    server: Server,
    others: Sequence[Server],
    seconds: float,
) -> RoundResult:
    """Drive one target with the other server(s) paused."""
    for other in others:
        other.pause()
    server.resume()
    try:
        return generator.run(target, seconds)
    finally:
        for other in others:
            other.resume()


def describe_round(r: RoundResult) -> str:
    text = f"{r.rps:9.1f} req/s  p50 {r.p50_ms:7.2f} ms  p99 {r.p99_ms:7.2f} ms"
    if r.errors or r.non_2xx:
        text += f"  ({r.errors} socket errors, {r.non_2xx} non-2xx)"
    return text


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="The ledger's POST /v1/decisions/check over HTTP against a bare FastAPI "
        "endpoint doing one primary-key SELECT, same PostgreSQL, same uvicorn settings.",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help=f"alternating rounds (default {DEFAULTS['rounds']}; --quick {QUICK['rounds']})",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        help=f"seconds per target per round (default "
        f"{DEFAULTS['seconds']:g}; --quick {QUICK['seconds']:g})",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        help=f"unmeasured seconds per target first "
        f"(default {DEFAULTS['warmup']:g}; --quick {QUICK['warmup']:g})",
    )
    parser.add_argument(
        "--quick", action="store_true", help="short smoke run (explicit options still win)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="uvicorn worker processes of each server (default 1)"
    )
    parser.add_argument("--connections", type=int, default=32, help="open connections (default 32)")
    parser.add_argument(
        "--threads",
        type=int,
        default=2,
        help="load generator threads (wrk) or processes (httpx) (default 2)",
    )
    parser.add_argument(
        "--pool-size",
        type=int,
        help="PostgreSQL pool size of both servers "
        "(default: the ledger's LEDGER_POSTGRES_POOL_SIZE setting)",
    )
    parser.add_argument(
        "--generator",
        choices=("auto", "wrk", "httpx"),
        default="auto",
        help="auto: wrk (apt-get installs it when missing, as root), else httpx",
    )
    add_pg_setting_option(parser)
    args = parser.parse_args(argv)
    preset = QUICK if args.quick else DEFAULTS
    for key, value in preset.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.rounds < 1 or args.seconds < 1 or args.warmup < 0:
        parser.error("--rounds must be at least 1, --seconds at least 1, --warmup >= 0")
    if args.workers < 1 or args.connections < 1 or args.threads < 1:
        parser.error("--workers, --connections and --threads must be at least 1")
    if args.threads > args.connections:
        parser.error("--threads must not exceed --connections")
    if args.pool_size is not None and args.pool_size < 1:
        parser.error("--pool-size must be at least 1")
    args.pg_settings = pg_settings(parser, args)
    return args


def server_env(extra: dict[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LEDGER_HOST", "LEDGER_PORT", "LEDGER_WORKERS", "HOST", "PORT")
    }
    env.update(extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH")) if p)
    return env


def ledger_pool_size() -> int:
    """The ledger's LEDGER_POSTGRES_POOL_SIZE (its default when the settings do not build)."""
    try:
        return build_settings().postgres_pool_size
    except SettingsError as exc:
        default = int(Settings.model_fields["postgres_pool_size"].default)
        log(f"LEDGER_* settings do not build ({exc}); pool size {default}")
        return default


_STORE_KEYS = ("DBNAME", "HOST", "PORT", "USER", "PASSWORD", "SCHEMA", "POOL_SIZE")


def pin_store_env(schema: str, pool_size: int) -> None:
    """eventsourcing also reads os.environ, where LEDGER_POSTGRES_* keys win over the env the
    ledger builds from its settings: none may send the seeding (here) or the server elsewhere."""
    for key in _STORE_KEYS:
        for var in (f"POSTGRES_{key}", f"LEDGER_POSTGRES_{key}"):
            if var in os.environ and var not in (
                "LEDGER_POSTGRES_SCHEMA",
                "LEDGER_POSTGRES_POOL_SIZE",
            ):
                log(f"ignoring {var} from the environment")
                del os.environ[var]
    os.environ["LEDGER_POSTGRES_SCHEMA"] = schema
    os.environ["LEDGER_POSTGRES_POOL_SIZE"] = str(pool_size)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop_cleanly_on_signals(signal.SIGTERM, signal.SIGHUP)
    pool_size = args.pool_size or ledger_pool_size()
    schema = f"http_check_{time.strftime('%Y%m%d%H%M%S')}_{uuid.uuid4().hex[:8]}"
    load_before = os.getloadavg()

    with contextlib.ExitStack() as stack:
        work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="http_check-")))
        if args.generator == "httpx":
            wrk = None
        else:
            wrk = find_wrk(may_install=True)
            if wrk is None and args.generator == "wrk":
                raise SystemExit("wrk is not available (and could not be installed)")
        generator: Wrk | HttpxGenerator
        if wrk is not None:
            generator = Wrk(wrk, args.connections, args.threads, work_dir)
        else:
            if args.generator == "auto":
                log("wrk cannot be had: using the asyncio + httpx generator for both targets")
            generator = HttpxGenerator(args.connections, args.threads)
            stack.callback(generator.close)

        url, where = stack.enter_context(database(log, args.pg_settings, dbname="http_check"))
        stack.enter_context(fresh_schemas(url, schema, log=log))

        pin_store_env(schema, pool_size)
        t0 = time.perf_counter()
        seeded = seed_ledger(url, schema, pool_size)
        seed_baseline(url, schema)
        log(
            f"seeded the ledger (log position {seeded.position}) and {BASELINE_ROWS} baseline "
            f"rows in schema {schema} in {time.perf_counter() - t0:.1f} s"
        )

        ledger_port, baseline_port = free_port(), free_port()
        ledger = Server(
            "ledger",
            ledger_command(ledger_port, args.workers),
            server_env(
                {
                    "LEDGER_DATABASE_URL": url,
                    "LEDGER_POSTGRES_SCHEMA": schema,
                    "LEDGER_SECRET_KEY": SECRET_KEY,
                    "LEDGER_POSTGRES_POOL_SIZE": str(pool_size),
                }
            ),
            ledger_port,
            work_dir,
        )
        baseline = Server(
            "baseline",
            baseline_command(baseline_port, args.workers),
            server_env(
                {
                    "HTTP_CHECK_BASELINE_URL": url,
                    "HTTP_CHECK_BASELINE_SCHEMA": schema,
                    "HTTP_CHECK_BASELINE_POOL_SIZE": str(pool_size),
                }
            ),
            baseline_port,
            work_dir,
        )
        for server in (ledger, baseline):
            stack.callback(server.stop)
            server.start()
        ledger.wait_ready("/health")
        baseline.wait_ready("/openapi.json")

        ledger_target = Target(
            "ledger",
            ledger.base_url + CHECK_PATH,
            json.dumps({"access_token": seeded.access_token, "scope": SCOPE}),
            {"Content-Type": "application/json", "Authorization": f"Bearer {seeded.api_key}"},
        )
        baseline_target = Target(
            "baseline",
            baseline.base_url + LOOKUP_PATH,
            json.dumps({"id": BASELINE_ID}),
            {"Content-Type": "application/json"},
        )
        decision = verify_ledger(ledger_target, seeded.position)
        row = verify_baseline(baseline_target)
        log(
            f"verified: ledger check allowed={decision['allowed']} mode={decision['mode']} "
            f"position={decision['position']}; baseline row {row}"
        )

        log(f"load generator: {generator.describe()}")
        pairs = {
            "ledger": (ledger_target, ledger, [baseline]),
            "baseline": (baseline_target, baseline, [ledger]),
        }
        if args.warmup:
            for name, (target, server, others) in pairs.items():
                warm = run_round(generator, target, server, others, max(1.0, args.warmup))
                log(f"warm-up {name:8}: {describe_round(warm)}")
                if warm.non_2xx:
                    raise RuntimeError(
                        f"{name}: {warm.non_2xx} non-2xx answers in the warm-up "
                        "(the load generator's request is not the verified one)"
                    )

        series = {"ledger": Series(), "baseline": Series()}
        for r in range(args.rounds):
            order = ("ledger", "baseline") if r % 2 == 0 else ("baseline", "ledger")
            for name in order:
                target, server, others = pairs[name]
                series[name].rounds.append(
                    run_round(generator, target, server, others, args.seconds)
                )
            ratio_now = series["ledger"].rounds[-1].rps / series["baseline"].rounds[-1].rps
            log(
                f"round {r + 1}/{args.rounds}: ledger {describe_round(series['ledger'].rounds[-1])}"
                f" | baseline {describe_round(series['baseline'].rounds[-1])} | ratio "
                f"{ratio_now:.3f}"
            )

        verify_ledger(ledger_target, seeded.position)
        verify_baseline(baseline_target)
        log("verified again after measuring: ledger still allowed, baseline row unchanged")
        generator_text = generator.describe()
    # Servers, schema and throwaway PostgreSQL are gone here.

    led, base = series["ledger"], series["baseline"]
    ledger_rps, baseline_rps = led.median("rps"), base.median("rps")
    ratio = ledger_rps / baseline_rps
    per_round = [a.rps / b.rps for a, b in zip(led.rounds, base.rounds, strict=True)]

    def rounds_text(s: Series, attr: str, fmt: str) -> str:
        return ", ".join(format(getattr(r, attr), fmt) for r in s.rounds)

    out = [
        "http check benchmark",
        f"  server:                {where}",
        f"  schema:                {schema} (dropped at the end)",
        f"  machine:               {os.cpu_count()} CPUs, load average {load_before[0]:.2f} "
        "before the run",
        f"  uvicorn:               {args.workers} worker(s) each, {HOST}, uvicorn defaults "
        "(as `ledger serve` runs it)",
        f"  pool size:             {pool_size} (LEDGER_POSTGRES_POOL_SIZE: the ledger's "
        "read-model and event-store pools; the baseline's one pool as the read-model pool, "
        f"max {max(pool_size, 2)})",
        f"  load generator:        {generator_text}",
        f"  rounds:                {args.rounds} x {args.seconds:g} s per target, alternating, "
        f"after {args.warmup:g} s warm-up each; the idle server paused",
        f"  ledger:                POST {CHECK_PATH} (gateway key, sandbox user's token, "
        f"scope {SCOPE!r}: allowed)",
        f"  baseline:              POST {LOOKUP_PATH} (bare FastAPI, one SELECT by primary key)",
        f"  ledger req/s rounds:   {rounds_text(led, 'rps', '.1f')}",
        f"  baseline req/s rounds: {rounds_text(base, 'rps', '.1f')}",
        f"  per-round ratios:      {', '.join(f'{x:.3f}' for x in per_round)}",
        f"  ledger:                {ledger_rps:.1f} req/s, p50 {led.median('p50_ms'):.2f} ms, "
        f"p99 {led.median('p99_ms'):.2f} ms (medians of rounds)",
        f"  baseline:              {baseline_rps:.1f} req/s, p50 {base.median('p50_ms'):.2f} ms, "
        f"p99 {base.median('p99_ms'):.2f} ms (medians of rounds)",
        f"  ratio:                 {ratio:.3f} (ledger_rps / baseline_rps; target >= "
        f"{TARGET_RATIO}: {'met' if ratio >= TARGET_RATIO else 'NOT met'})",
    ]
    if led.problems or base.problems:
        out.append(
            f"  WARNING:               socket errors or non-2xx answers during the rounds: "
            f"ledger {led.problems}, baseline {base.problems}"
        )
    out.append(
        f"  load average after:    {os.getloadavg()[0]:.2f} (other work on the machine "
        "slows both targets, not necessarily alike)"
    )
    print("\n".join(out))
    print(
        json.dumps(
            {
                "ratio": round(ratio, 4),
                "ledger_rps": round(ledger_rps, 1),
                "baseline_rps": round(baseline_rps, 1),
                "ledger_p99_ms": round(led.median("p99_ms"), 3),
                "baseline_p99_ms": round(base.median("p99_ms"), 3),
            }
        ),
        flush=True,
    )
    return 1 if led.problems or base.problems else 0


if __name__ == "__main__":
    sys.exit(main())
