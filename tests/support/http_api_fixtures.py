"""Fixtures of the end-to-end API tests: the real app on a fresh store (SQLite, and PostgreSQL
in a fresh schema), started with an admin key, and a small populated world.

Loaded by test modules with ``pytest_plugins = ["tests.support.http_api_fixtures"]`` (not imported,
so pytest rewrites its assertions).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from domain.api_keys import KeyRole
from infrastructure.settings import Settings, build_settings
from tests.support.http_api import Api, World


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def api_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a fresh store: a SQLite file, or a fresh schema on the test server."""
    if request.param == "sqlite":
        return build_settings(
            environment="development",
            database_url=None,
            sqlite_path=tmp_path / "var" / "ledger.sqlite",
        )
    url = request.getfixturevalue("postgres_url")
    schema = request.getfixturevalue("postgres_schema")
    return build_settings(
        environment="development",
        database_url=url,
        postgres_schema=schema,
        sqlite_path=tmp_path / "unused.sqlite",
    )


@pytest.fixture
def api_app(api_settings: Settings) -> FastAPI:
    app = create_app(api_settings)
    app.state.read_wait_timeout = 5.0
    return app


@pytest.fixture
def api(api_app: FastAPI) -> Iterator[Api]:
    """The app started (lifespan run) on a fresh store, with an admin key."""
    with TestClient(api_app, raise_server_exceptions=False) as client:
        api = Api(api_app, client)
        api.admin = api.bootstrap_key(KeyRole.ADMIN, name="ops")
        yield api


@pytest.fixture
def world(api: Api) -> World:
    """An app in sandbox (owner dev_dana), alice an accepted sandbox user, and a token of
    alice's for basic and likes."""
    developer_key = api.developer("dev_dana")
    app = api.register_app(developer_key)
    api.user("alice")
    api.sandbox_user(app.client_id, developer_key, "alice")
    token = api.token(app, "alice", "basic likes")
    return World(app, developer_key, token)
