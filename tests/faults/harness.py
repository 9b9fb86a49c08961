"""What the fault tests drive: real service processes (`ledger serve`, uvicorn) on one
PostgreSQL database, a PostgreSQL server that can be stopped and started again, the seeded world,
the OAuth flow over plain HTTP, and the figures the suite reports.

Every process and server started here is bounded in time and stopped by the fixture that made
it, whatever the test did to it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from domain.actors import Actor
from domain.api_keys import KeyRole
from infrastructure.read_model.checksum import checksum
from infrastructure.read_model.database import PostgresDatabase
from infrastructure.read_model.projector import leadership_key, rebuild
from infrastructure.runtime import open_runtime
from infrastructure.settings import Settings, build_settings
from tests.support.ledger_setup import (
    REDIRECT_URI,
    add_sandbox_user,
    issue_token,
    register_app,
    register_user,
)
from tests.support.oauth_flow import (
    PASSWORD,
    authorize_query,
    consent_fields,
    free_port,
    password_hash,
    redirect_params,
    signin_fields,
)

SECRET_KEY = "fault-suite-secret-key-" + "k" * 32
# The longest a request may take to be answered while the database is away (fix: 503 within a
# configurable few seconds); the services are told DATABASE_TIMEOUT.
DATABASE_TIMEOUT = 2
START_TIMEOUT = 40.0  # a cold interpreter importing FastAPI on a busy 2-core machine
CLIENT_TIMEOUT = 10.0  # no request of the suite waits longer than this for its answer
OWNER = "olivia"


# --- PostgreSQL -------------------------------------------------------------------------------


def leader_backend(url: str, schema: str) -> int | None:
    """The database backend pid holding the schema's projector lock, or None."""
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid::bigint = 0 AND objid::bigint = %s AND objsubid = 1",
            (leadership_key_for(schema),),
        ).fetchone()
    return None if row is None else int(row[0])


def leadership_key_for(schema: str) -> int:
    """The projectors' lock key of the schema (leadership_key reads only the schema)."""
    db = PostgresDatabase.__new__(PostgresDatabase)
    db.schema = schema
    return leadership_key(db)


def log_and_projection(url: str, schema: str) -> tuple[list[int], list[int], int]:
    """The event ids in the log, the positions in the read models' log, and their tracking
    position."""
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
        table = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "AND table_name LIKE %s",
            (schema, "%events"),
        ).fetchone()[0]
        events = [
            r[0]
            for r in conn.execute(
                sql.SQL("SELECT notification_id FROM {} ORDER BY notification_id").format(
                    sql.Identifier(table)
                )
            ).fetchall()
        ]
        projected = [
            r[0] for r in conn.execute("SELECT position FROM rm_log ORDER BY position").fetchall()
        ]
        tracking = conn.execute("SELECT coalesce(max(position), 0) FROM rm_tracking").fetchone()
    return events, projected, int(tracking[0])


def wait_until_projected(url: str, schema: str, timeout: float = 15.0) -> float:
    """Waits until the read models have every event of the log; answers the seconds it took."""
    started = time.monotonic()
    while True:
        events, _, tracking = log_and_projection(url, schema)
        if tracking >= (events[-1] if events else 0):
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"read models at {tracking}, log at {events[-1]}")
        time.sleep(0.05)


def live_and_rebuilt_checksums(settings: Settings) -> tuple[str, str]:
    """The live read models' digest, then the digest of a rebuild from the log (run by the
    operator's command code, with no service running)."""
    runtime = open_runtime(settings, run_projector=False)
    try:
        live = checksum(runtime.db)
        rebuild(runtime.projector, timeout=30)
        return live, checksum(runtime.db)
    finally:
        runtime.close()


# --- the world --------------------------------------------------------------------------------


@dataclass
class Seeded:
    client_id: str
    client_secret: str
    users: list[str]
    admin_key: str
    token: str  # the first user's access token for basic


def settings_on(url: str, schema: str) -> Settings:
    return build_settings(
        environment="production", database_url=url, postgres_schema=schema, secret_key=SECRET_KEY
    )


def seed(settings: Settings, users: int = 6) -> Seeded:
    """An app in sandbox owned by olivia, ``users`` sandbox users with a password, an admin key
    and a token of the first user's; written before the services start, as an operator's
    setup would be."""
    runtime = open_runtime(settings, run_projector=False)
    try:
        ledger = runtime.ledger
        app = register_app(ledger, OWNER)
        names = [f"user{i}" for i in range(users)]
        for name in names:
            register_user(ledger, name)
            add_sandbox_user(ledger, app.client_id, OWNER, name)
            ledger.set_user_password(name, password_hash(), Actor.platform("ops"))
        admin = ledger.create_api_key(
            name="fault admin",
            role=KeyRole.ADMIN,
            principal=None,
            actor=Actor.platform("bootstrap"),
        ).key
        token = issue_token(ledger, app, names[0], "basic").access_token
        return Seeded(app.client_id, app.client_secret, names, admin, token)
    finally:
        runtime.close()


# --- service processes ------------------------------------------------------------------------


def service_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(
        {
            "LEDGER_DATABASE_URL": settings.database_url or "",
            "LEDGER_POSTGRES_SCHEMA": settings.postgres_schema or "",
            "LEDGER_SECRET_KEY": SECRET_KEY,
            # Outside development the session cookie is always Secure, and this suite's client
            # speaks plain http on the loopback (no TLS-terminating proxy in front): an explicit
            # secret key keeps every other production setting.
            "LEDGER_ENVIRONMENT": "development",
            "LEDGER_DATABASE_TIMEOUT": str(DATABASE_TIMEOUT),
            "LEDGER_HOST": "127.0.0.1",
            **extra,
        }
    )
    return env


class Service:
    """One `ledger serve` process on a free loopback port."""

    def __init__(self, name: str, settings: Settings, logs: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = logs / f"{name}.log"
        ledger = Path(sys.executable).with_name("ledger")
        self._out = self.log.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [str(ledger), "serve", "--port", str(self.port)],
            env=service_env(settings),
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited: {self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health", timeout=2, trust_env=False).status_code == 200:
                    return
            time.sleep(0.1)
        raise AssertionError(f"{self.name} not healthy after {timeout}s: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye to the database."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._out.close()

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    def client(self, timeout: float = CLIENT_TIMEOUT, **kwargs: Any) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, timeout=timeout, trust_env=False, follow_redirects=False, **kwargs
        )


@contextmanager
def services(settings: Settings, logs: Path, count: int = 2) -> Iterator[list[Service]]:
    """``count`` service processes on one database, started one after the other (the first is
    the projector's leader), all stopped at the end."""
    started: list[Service] = []
    try:
        for i in range(count):
            service = Service(f"service-{'ab'[i] if i < 2 else i}", settings, logs)
            started.append(service)
            service.wait_healthy()
            if i == 0:
                wait_for_leader(settings)
        yield started
    finally:
        for service in started:
            service.stop()


def wait_for_leader(settings: Settings, timeout: float = 15.0) -> int:
    assert settings.database_url
    assert settings.postgres_schema
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = leader_backend(settings.database_url, settings.postgres_schema)
        if pid is not None:
            return pid
        time.sleep(0.05)
    raise AssertionError("no projector took the lead")


# --- the OAuth flow over HTTP -----------------------------------------------------------------


class FlowError(Exception):
    """A step of the flow was not answered as a working service answers it."""

    def __init__(self, step: str, status: int | None, text: str = "") -> None:
        super().__init__(f"{step}: {status} {text[:200]}")
        self.step = step
        self.status = status


def sign_in(browser: httpx.Client, world: Seeded, username: str) -> None:
    page = browser.get(f"/oauth/authorize?{authorize_query(world.client_id)}")
    if page.status_code != 200:
        raise FlowError("authorize page", page.status_code, page.text)
    action, fields = signin_fields(page.text, username, PASSWORD)
    signed_in = browser.post(action, data=fields)
    if signed_in.status_code != 303:
        raise FlowError("sign-in", signed_in.status_code, signed_in.text)


def authorization(browser: httpx.Client, world: Seeded) -> str:
    """One authorization of a signed-in user: consent, code, token. Answers the access token
    (a write acknowledged by the service's 200)."""
    consent = browser.get(f"/oauth/authorize?{authorize_query(world.client_id)}")
    if consent.status_code != 200:
        raise FlowError("consent page", consent.status_code, consent.text)
    action, fields = consent_fields(consent.text, "allow")
    redirect = browser.post(action, data=fields)
    if redirect.status_code != 303:
        raise FlowError("decision", redirect.status_code, redirect.text)
    code = redirect_params(redirect.headers["location"]).get("code")
    token = browser.post(
        "/oauth/access_token",
        data={
            "client_id": world.client_id,
            "client_secret": world.client_secret,
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT_URI,
            "code": code,
        },
    )
    if token.status_code != 200:
        raise FlowError("token", token.status_code, token.text)
    access_token: str = token.json()["access_token"]
    return access_token


def introspect(client: httpx.Client, world: Seeded, token: str) -> bool:
    answer = client.post(
        "/oauth/introspect",
        data={"token": token},
        headers={"Authorization": f"Bearer {world.admin_key}"},
    )
    assert answer.status_code == 200, answer.text
    active: bool = answer.json()["active"]
    return active


# --- load ---------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One request of a load: when it started and ended (monotonic seconds), and its answer."""

    kind: str
    service: str
    started: float
    ended: float
    status: int | None  # None: no answer (connection refused, reset, or timed out)
    error: str = ""
    retry_after: str | None = None
    written: str | None = None  # what an acknowledged write made
    subject: str | None = None  # what the request tried to make, whatever the answer

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass
class Load:
    """Worker threads calling ``step`` until stopped (bounded in count and time)."""

    step: Callable[[int, int], Outcome | None]
    threads: int
    max_steps: int = 400
    max_seconds: float = 60.0
    outcomes: list[Outcome] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Load:
        for i in range(self.threads):
            worker = threading.Thread(target=self._run, args=(i,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def _run(self, worker: int) -> None:
        deadline = time.monotonic() + self.max_seconds
        for n in range(self.max_steps):
            if self.stopping.is_set() or time.monotonic() > deadline:
                return
            outcome = self.step(worker, n)
            if outcome is not None:
                with self._lock:
                    self.outcomes.append(outcome)

    def stop(self) -> list[Outcome]:
        self.stopping.set()
        for worker in self._workers:
            worker.join(timeout=CLIENT_TIMEOUT * 3 + 5)
        with self._lock:
            return list(self.outcomes)


def timed(
    kind: str,
    service: str,
    call: Callable[[], httpx.Response],
    written: Callable[[httpx.Response | None], str | None] = lambda r: None,
) -> Outcome:
    started = time.monotonic()
    try:
        response = call()
    except httpx.HTTPError as exc:
        return Outcome(
            kind,
            service,
            started,
            time.monotonic(),
            None,
            type(exc).__name__,
            subject=written(None),
        )
    return Outcome(
        kind,
        service,
        started,
        time.monotonic(),
        response.status_code,
        retry_after=response.headers.get("Retry-After"),
        written=written(response) if 200 <= response.status_code < 300 else None,
        subject=written(response),
    )


def counts_by_status(outcomes: list[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        key = str(outcome.status) if outcome.status is not None else f"no answer ({outcome.error})"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """A new schema on the server for one scenario, dropped afterwards (its services are gone
    by then)."""
    name = f"f_{uuid.uuid4().hex}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '10s'")
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


def unknown_users(settings: Settings, usernames: list[str]) -> list[str]:
    """The usernames the ledger's log does not know (read by a process of its own)."""
    from domain.errors import UserNotFoundError
    from infrastructure.persistence import open_ledger

    ledger = open_ledger(settings)
    missing = []
    try:
        for name in usernames:
            try:
                ledger.user(name, read_only=True)
            except UserNotFoundError:
                missing.append(name)
    finally:
        ledger.close()
    return missing
