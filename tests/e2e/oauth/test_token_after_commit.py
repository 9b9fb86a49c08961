"""Once the token endpoint's exchange is in the log, the client gets its token whatever happens
after: a client told of an error would exchange the code again, and a second exchange is a
replay that revokes the token (RFC 6749 §4.1.2)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from domain.errors import StoreUnavailableError
from tests.support.oauth_flow import (
    World,
    authorize,
    authorize_query,
    redirect_params,
    token_request,
)


@pytest.fixture
def code(client: TestClient, world: World) -> str:
    response = authorize(client, authorize_query(world.client_id))
    return redirect_params(response.headers["location"])["code"]


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(psycopg.OperationalError("connection refused"), id="database-unreachable"),
        pytest.param(StoreUnavailableError(), id="store-unavailable"),
        pytest.param(RuntimeError("unexpected"), id="unexpected"),
    ],
)
def test_an_exchange_whose_read_model_wait_fails_still_answers_its_token(
    client: TestClient,
    app: FastAPI,
    ledger: Any,
    world: World,
    code: str,
    monkeypatch: pytest.MonkeyPatch,
    failure: Exception,
) -> None:
    def fail(*args: Any, **kwargs: Any) -> int:
        raise failure

    monkeypatch.setattr(app.state.runtime, "acknowledge", fail)

    response = token_request(client, world, code)

    assert response.status_code == 200, response.text
    assert ledger.token(response.json()["access_token"]).active
