"""PostgreSQL going away and coming back, through the real ASGI app on a server of its own.

While the database is down every request is answered at once (within the configured
``LEDGER_DATABASE_TIMEOUT``, plus a margin) with 503 and ``Retry-After``, never left hanging and
never 500; ``/health`` says the store is unreachable. Once the server is back, the same app
(not restarted) answers again: no request gets a pooled connection the server closed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from domain.api_keys import KeyRole
from infrastructure.settings import build_settings
from tests.support.http_api import Api, World
from tests.support.postgres import throwaway_postgres
from tools.postgres_server import ThrowawayPostgres

pytestmark = pytest.mark.postgres

DATABASE_TIMEOUT = 1  # seconds: LEDGER_DATABASE_TIMEOUT of the app under test
ANSWER_LIMIT = DATABASE_TIMEOUT + 2.0  # seconds: the longest a 503 may take
RECOVERY_LIMIT = 10.0  # seconds after the restart by which requests must succeed again


@pytest.fixture(scope="module")
def server() -> Iterator[ThrowawayPostgres]:
    """A server of this module's own: the tests stop it, so never the session's."""
    with throwaway_postgres(settings={"fsync": "off"}) as server:
        yield server


@pytest.fixture
def api(server: ThrowawayPostgres, tmp_path: Path) -> Iterator[Api]:
    """The app on a fresh database of the stoppable server, with an admin key."""
    url = server.create_database(f"outage_{uuid.uuid4().hex}")
    settings = build_settings(
        environment="development",
        database_url=url,
        database_timeout=DATABASE_TIMEOUT,
        sqlite_path=tmp_path / "unused.sqlite",
    )
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(app, client)
        api.admin = api.bootstrap_key(KeyRole.ADMIN, name="ops")
        yield api


@pytest.fixture
def world(api: Api) -> World:
    developer_key = api.developer("dev_dana")
    app = api.register_app(developer_key)
    api.user("alice")
    api.sandbox_user(app.client_id, developer_key, "alice")
    return World(app, developer_key, api.token(app, "alice", "basic likes"))


@pytest.fixture
def outage(server: ThrowawayPostgres) -> Iterator[ThrowawayPostgres]:
    """PostgreSQL stopped for the test's first part; started again when the test says so (or
    at its end)."""
    server.halt()
    try:
        yield server
    finally:
        if not (server._datadir / "postmaster.pid").exists():
            server.resume()


def timed(request: Callable[[], httpx.Response], limit: float) -> tuple[httpx.Response, float]:
    """The answer and how long it took; fails, rather than hangs, when none comes in time."""
    pool = ThreadPoolExecutor(max_workers=1)
    started = time.monotonic()
    future = pool.submit(request)
    try:
        response = future.result(timeout=limit + 5)
    except FutureTimeout:
        pytest.fail(f"no answer within {limit + 5:g} s: the request hangs")
    finally:
        pool.shutdown(wait=False)
    return response, time.monotonic() - started


def check(api: Api, world: World) -> httpx.Response:
    return api.post(
        "/v1/decisions/check", {"access_token": world.token.access_token, "scope": "likes"}
    )


def register_user(api: Api) -> httpx.Response:
    return api.post("/v1/users", {"username": f"u{uuid.uuid4().hex[:12]}", "full_name": "U"})


def test_a_check_answers_503_with_retry_after_within_the_timeout_while_postgresql_is_down(
    api: Api, world: World, outage: ThrowawayPostgres
) -> None:
    response, seconds = timed(lambda: check(api, world), ANSWER_LIMIT)

    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "store_unavailable"
    assert int(response.headers["Retry-After"]) >= 1
    assert seconds < ANSWER_LIMIT


def test_a_command_answers_503_with_retry_after_within_the_timeout_while_postgresql_is_down(
    api: Api, world: World, outage: ThrowawayPostgres
) -> None:
    response, seconds = timed(lambda: register_user(api), ANSWER_LIMIT)

    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "store_unavailable"
    assert int(response.headers["Retry-After"]) >= 1
    assert seconds < ANSWER_LIMIT


def test_health_says_the_store_is_unreachable_while_postgresql_is_down(
    api: Api, outage: ThrowawayPostgres
) -> None:
    response, seconds = timed(lambda: api.client.get("/health"), ANSWER_LIMIT)

    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "store_unavailable"
    assert "cannot be reached" in error["message"]
    assert seconds < ANSWER_LIMIT


def test_requests_succeed_again_once_postgresql_is_back_without_restarting_the_app(
    api: Api, world: World, outage: ThrowawayPostgres
) -> None:
    during = [timed(lambda: check(api, world), ANSWER_LIMIT)[0].status_code for _ in range(3)]
    outage.resume()
    restarted = time.monotonic()

    answers: list[int] = []
    while time.monotonic() - restarted < RECOVERY_LIMIT:
        answers.append(timed(lambda: check(api, world), ANSWER_LIMIT)[0].status_code)
        if answers[-1] == 200:
            break
    after = [
        timed(request, ANSWER_LIMIT)[0].status_code
        for request in (
            lambda: check(api, world),
            lambda: register_user(api),
            lambda: api.client.get("/health"),
        )
        for _ in range(5)
    ]

    assert during == [503, 503, 503]
    assert answers[-1] == 200, f"still failing {RECOVERY_LIMIT:g} s after the restart: {answers}"
    assert set(answers) <= {200, 503}, answers  # never 500 on a stale connection
    assert after == [200] * 5 + [201] * 5 + [200] * 5
