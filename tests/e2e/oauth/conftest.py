"""Fixtures of the OAuth suites: the real ASGI app on a fresh store, once per store (SQLite and
PostgreSQL), a client that does not follow redirects, and the usual world (an app, its owner and
an accepted sandbox user). A module overrides what it needs otherwise, such as ``world``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from infrastructure.settings import Settings
from tests.support.oauth_flow import BACKENDS, World, seed_world, settings_for


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Settings:
    return settings_for(request, backend, tmp_path)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        yield client


@pytest.fixture
def ledger(app: FastAPI, client: TestClient) -> Any:
    """The app's ledger (this overrides the suite-wide ``ledger`` fixture: here the ledger is
    the one the service opened, once the client has started it)."""
    return app.state.ledger


@pytest.fixture
def world(ledger: Any) -> World:
    return seed_world(ledger)
