"""Read-your-writes over HTTP: write positions, and reads that wait for a position."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest

from tests.support.http_api import Api

pytest_plugins = ["tests.support.http_api_fixtures"]


@pytest.fixture
def paused(api: Api) -> Api:
    """The projector stopped: the read models move only when the test projects."""
    runner = api.runtime.runner
    assert runner is not None
    runner.stop()
    api.runtime.runner = None
    return api


def test_write_answers_its_position_in_body_and_header(api: Api) -> None:
    response = api.post("/v1/users", {"username": "alice", "full_name": "Alice"})

    assert response.json()["position"] == api.ledger.position()
    assert response.headers["X-Ledger-Position"] == str(api.ledger.position())


def test_read_with_min_position_waits_until_the_read_models_reach_it(paused: Api) -> None:
    api = paused
    position = api.write(api.post("/v1/users", {"username": "alice", "full_name": "Alice"}), 201)
    assert api.runtime.read_model.position() < position
    answers: dict[str, Any] = {}

    def read() -> None:
        answers["response"] = api.get("/v1/users/alice", params={"min_position": position})

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.3)
    waited = reader.is_alive()
    api.runtime.projector.catch_up()
    reader.join(5)

    assert waited
    assert answers["response"].status_code == 200


def test_min_position_header_is_honoured(paused: Api) -> None:
    api = paused
    position = api.write(api.post("/v1/users", {"username": "alice", "full_name": "Alice"}), 201)
    api.app.state.read_wait_timeout = 0.1

    response = api.get("/v1/users/alice", headers={"X-Ledger-Min-Position": str(position)})

    assert response.status_code == 503


def test_read_the_read_models_do_not_reach_in_time_is_503_with_retry_after(paused: Api) -> None:
    api = paused
    written = api.write(api.post("/v1/users", {"username": "alice", "full_name": "Alice"}), 201)
    api.app.state.read_wait_timeout = 0.1

    response = api.get("/v1/catalogue", params={"min_position": written})

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["error"]["code"] == "projection_timeout"


def test_reached_min_position_answers_at_once(api: Api) -> None:
    position = api.write(api.post("/v1/users", {"username": "alice", "full_name": "Alice"}), 201)

    response = api.get("/v1/users/alice", params={"min_position": position})

    assert response.status_code == 200


def test_negative_min_position_is_unprocessable(api: Api) -> None:
    response = api.get("/v1/catalogue", params={"min_position": -1})

    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("query.min_position:")


def test_taking_away_is_acknowledged_even_without_a_running_projector(paused: Api) -> None:
    api = paused
    developer = api.developer("dev_dana")
    app = api.register_app(developer)

    position = api.write(api.post(f"/v1/apps/{app.client_id}/disable", {"reason": "abuse"}))

    assert api.runtime.read_model.position() >= position


def test_unknown_route_is_404_in_the_error_body(api: Api) -> None:
    response = api.get("/v1/nothing-here")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not Found"}}


# --- positions the log has not reached ------------------------------------------------------


def test_min_position_beyond_the_end_of_the_log_is_refused_at_once_naming_the_end(api: Api) -> None:
    api.ok(api.get("/v1/catalogue"))  # the app's first request costs a second of warming up
    end = api.ledger.position()
    started = time.monotonic()

    response = api.get("/v1/catalogue", params={"min_position": end + 10**9})

    assert time.monotonic() - started < 1.0  # reads may wait 5 s for a position in the log
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "position_beyond_log"
    assert f"end of the log (position {end} now)" in error["message"]


def test_as_of_beyond_the_end_of_the_log_is_refused_at_once(api: Api) -> None:
    api.user("alice")
    api.ok(api.get("/v1/lookups/user-authorizations", params={"username": "alice"}))
    end = api.ledger.position()
    started = time.monotonic()

    response = api.get(
        "/v1/lookups/user-authorizations", params={"username": "alice", "as_of": end + 1}
    )

    assert time.monotonic() - started < 1.0
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "position_beyond_log"


def test_as_of_above_the_largest_log_position_is_refused_by_validation(api: Api) -> None:
    response = api.post(
        "/v1/decisions/check", {"access_token": "x", "scope": "basic", "as_of": 2**63}
    )

    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("as_of:")


FLOOD = 80


def test_a_flood_of_waiting_reads_is_turned_away_at_once_and_health_still_answers(
    paused: Api,
) -> None:
    """Reads waiting for a write in flight (the projector is behind) hold a thread each: past
    the process's bound they are answered 503 at once, and the threads left answer the rest."""
    api = paused
    written = api.write(api.post("/v1/users", {"username": "alice", "full_name": "Alice"}), 201)
    api.app.state.read_wait_timeout = 3.0

    async def flood() -> tuple[float, int, list[httpx.Response]]:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger") as client:
            reads = [
                asyncio.create_task(
                    client.get(
                        "/v1/users/alice",
                        params={"min_position": written},
                        headers=api.auth(api.admin),
                    )
                )
                for _ in range(FLOOD)
            ]
            await asyncio.sleep(0.5)
            started = time.monotonic()
            health = await client.get("/health")
            took = time.monotonic() - started
            await asyncio.to_thread(api.runtime.projector.catch_up)
            return took, health.status_code, list(await asyncio.gather(*reads))

    took, health_status, answers = asyncio.run(flood())

    assert health_status == 200
    assert took < 1.0, f"/health took {took:.2f} s behind {FLOOD} waiting reads"
    waited = [a for a in answers if a.status_code == 200]
    turned_away = [a for a in answers if a.status_code == 503]
    assert len(waited) >= api.runtime.read_model.max_waiting  # some came after the projector
    assert len(turned_away) == FLOOD - len(waited) > 0
    assert {a.json()["error"]["code"] for a in turned_away} == {"reads_busy"}
    assert {a.headers["Retry-After"] for a in turned_away} == {"1"}
