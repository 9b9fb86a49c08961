"""The health endpoint through the real ASGI app, on the embedded SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from infrastructure.settings import build_settings


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    settings = build_settings(
        environment="development",
        database_url=None,
        sqlite_path=tmp_path / "var" / "ledger.sqlite",
    )
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:  # runs the lifespan
        yield client


def test_health_answers_ok_with_sqlite_backend_and_log_position(
    app: FastAPI, client: TestClient
) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["backend"] == "sqlite"
    assert body["position"] == (app.state.ledger.recorder.max_notification_id() or 0)


def test_health_creates_the_sqlite_file_where_configured(
    tmp_path: Path, client: TestClient
) -> None:
    client.get("/health")

    assert (tmp_path / "var" / "ledger.sqlite").is_file()


def test_openapi_lists_health(client: TestClient) -> None:
    response = client.get("/openapi.json")

    assert response.status_code == 200
    assert "/health" in response.json()["paths"]


def test_unexpected_error_is_a_500_with_request_id_and_no_internals(
    app: FastAPI, client: TestClient
) -> None:
    def explode() -> None:
        raise RuntimeError("secret internal detail")

    app.add_api_route("/explode", explode)

    response = client.get("/explode")

    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error"
    assert "secret internal detail" not in response.text
    assert error["request_id"] == response.headers["X-Request-ID"]
