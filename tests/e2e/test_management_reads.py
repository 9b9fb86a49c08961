"""Read-your-writes over HTTP: write positions, and reads that wait for a position."""

from __future__ import annotations

import threading
import time
from typing import Any

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
    position = api.write(api.post("/v1/users", {"username": "alice", "full_name": "Alice"}),
                         201)
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
    position = api.write(api.post("/v1/users", {"username": "alice", "full_name": "Alice"}),
                         201)
    api.app.state.read_wait_timeout = 0.1

    response = api.get("/v1/users/alice", headers={"X-Ledger-Min-Position": str(position)})

    assert response.status_code == 503


def test_read_the_read_models_do_not_reach_in_time_is_503_with_retry_after(paused: Api) -> None:
    api = paused
    api.app.state.read_wait_timeout = 0.1

    response = api.get("/v1/catalogue", params={"min_position": api.ledger.position() + 100})

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["error"]["code"] == "projection_timeout"


def test_reached_min_position_answers_at_once(api: Api) -> None:
    position = api.write(api.post("/v1/users", {"username": "alice", "full_name": "Alice"}),
                         201)

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
