"""Property-based fuzzing of the whole HTTP API from its own OpenAPI document (schemathesis).

Every documented operation is called with generated requests, valid and invalid, on a store that
holds a few real objects (users, an app with a sandbox user, an open review, a token, an
authorization code), so that path parameters, query parameters and body fields sometimes name
them. Whatever the request, the answer must not be a 5xx and must be what the document promises:
a documented status code, the documented content type and a body matching the documented schema.

The fuzz runs as an admin, as a gateway and with no key at all (401 and 403 answers), on SQLite;
a shorter pass runs as an admin on PostgreSQL. Generation is derandomized with a fixed seed, so a
run is repeatable; ``LEDGER_FUZZ_EXAMPLES`` asks for more examples per operation locally.

The tests after the fuzz pin what it found.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from domain.api_keys import KeyRole
from infrastructure.settings import Settings, build_settings
from tests.support import ledger_setup
from tests.support.http_api import REDIRECT_URI, Api, World

pytest_plugins = ["tests.support.http_api_fixtures"]

SEED = 20260101
EXAMPLES = int(os.environ.get("LEDGER_FUZZ_EXAMPLES", "10"))  # per operation and phase
# Reads that demand a log position written but not yet projected give up after this long (503);
# a position beyond the log's end is refused at once (422).
READ_WAIT_SECONDS = 0.05


def no_server_error_but_a_late_read(ctx: Any, response: Any, case: Any) -> bool | None:
    """``not_a_server_error``, except the documented 503 of a read that demanded a log position
    the read models did not reach in time, or that found too many reads already waiting."""
    if response.status_code == 503:
        body = response.json()
        error = body.get("error") if isinstance(body, dict) else None
        code = error.get("code") if isinstance(error, dict) else error
        if code in ("projection_timeout", "reads_busy", "temporarily_unavailable"):
            return None
    return not_a_server_error(ctx, response, case)


CHECKS = [
    no_server_error_but_a_late_read,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class Seeded:
    """The real objects in the store, by the name of the parameter or field that names them."""

    api: Api
    headers: dict[str, str]
    known: dict[str, list[str]] = field(default_factory=dict)


@pytest.fixture(
    params=[
        pytest.param(("sqlite", "admin"), id="sqlite-admin"),
        pytest.param(("sqlite", "gateway"), id="sqlite-gateway"),
        pytest.param(("sqlite", "anonymous"), id="sqlite-anonymous"),
        pytest.param(("postgres", "admin"), id="postgres-admin", marks=pytest.mark.postgres),
    ]
)
def target(request: pytest.FixtureRequest) -> tuple[str, str]:
    """The store, and who calls: the admin reaches every operation; a gateway key and no key
    at all fuzz the 403 and 401 answers."""
    store_and_caller: tuple[str, str] = request.param
    return store_and_caller


@pytest.fixture
def fuzz_settings(
    target: tuple[str, str], request: pytest.FixtureRequest, tmp_path: Path
) -> Settings:
    if target[0] == "sqlite":
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
def fuzzed_app(fuzz_settings: Settings) -> FastAPI:
    app = create_app(fuzz_settings)
    app.state.read_wait_timeout = READ_WAIT_SECONDS
    app.state.audit_wait_limit = READ_WAIT_SECONDS  # the audit feed's long polls, likewise
    return app


@pytest.fixture
def fuzzed_schema(fuzzed_app: FastAPI) -> Any:
    """The document the app serves. Loading it starts the app: schemathesis runs its lifespan
    (and its pytest plugin ends it when the test ends)."""
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"deterministic": True},
            # Schema examples cannot be combined with the extra strategy that picks real objects
            # (``@schema.given``); the coverage and fuzzing phases run.
            "phases": {"examples": {"enabled": False}},
        }
    )
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app, config=config)


@pytest.fixture
def seeded(fuzzed_schema: Any, fuzzed_app: FastAPI, target: tuple[str, str]) -> Iterator[Seeded]:
    """A small world, made through the API: two users, an app in sandbox with alice as its
    sandbox user, an open review of it, a token of alice's, an unused authorization code, and
    a spare API key."""
    # The lifespan already runs (schemathesis started it): this client is not entered, so it
    # does not start a second one.
    client = TestClient(fuzzed_app, raise_server_exceptions=False)
    api = Api(fuzzed_app, client)
    api.admin = api.bootstrap_key(KeyRole.ADMIN, name="fuzz admin")
    developer_key = api.developer("dev_dana")
    app = api.register_app(developer_key)
    api.user("alice")
    api.sandbox_user(app.client_id, developer_key, "alice")
    review = api.ok(
        api.post(
            f"/v1/apps/{app.client_id}/reviews",
            {
                "use_case": "own_content",
                "permissions": {"basic": "We show users their own photos to print"},
                "screencast_url": "https://client.example/screencast.mp4",
            },
            key=developer_key,
        ),
        201,
    )
    token = api.token(app, "alice", "basic likes")
    code = ledger_setup.authorize(api.ledger, app.client_id, "alice", "basic").code
    _, spare_key_id = api.key_with_id("auditor")
    keys = {"admin": api.admin, "gateway": api.key("gateway"), "anonymous": None}
    yield Seeded(
        api=api,
        headers=api.auth(keys[target[1]]),
        known={
            "client_id": [app.client_id],
            "client_secret": [app.client_secret],
            "redirect_uri": [REDIRECT_URI],
            "code": [code or ""],
            "username": ["alice", "dev_dana"],
            "owner": ["dev_dana"],
            "review_id": [review["review_id"]],
            "token_id": [token.token_id.hex],
            "key_id": [spare_key_id],
            "scope": ["basic", "likes"],
            "access_token": [token.access_token],
            "token": [token.access_token],
        },
    )
    client.close()


schema = schemathesis.pytest.from_fixture("fuzzed_schema")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32 names each operation's subtest through ``Node._nodeid``, which
    pytest 9.2 no longer has (it is ``_id`` now): give it the attribute it reads."""
    request.node._nodeid = request.node.nodeid


def _use_real_objects(case: Any, known: dict[str, list[str]], data: st.DataObject) -> None:
    """Sometimes replace a generated value by the name of a real object."""
    for container in (case.path_parameters, case.query, case.body):
        if not isinstance(container, dict):
            continue
        for name in sorted(container):
            if name in known and data.draw(st.booleans(), label=f"real {name}"):
                container[name] = data.draw(st.sampled_from(known[name]), label=name)


@schema.parametrize()
@schema.given(data=st.data())
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(
    case: Any, data: st.DataObject, seeded: Seeded
) -> None:
    _use_real_objects(case, seeded.known, data)
    response = case.call_and_validate(headers=seeded.headers, checks=CHECKS)
    if response.status_code == 503:
        # A late read is let through only while the projector works: the read models still
        # reach every write (or this raises ProjectionTimeoutError).
        seeded.api.synced()


# --- what the fuzzer found -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/users", {"username": "bob", "full_name": "Bob\x00"}),
        ("/v1/catalogue/scopes", {"name": "stories", "description": "stories\x00"}),
        ("/v1/lookups/user-authorizations", {"username": "alice\x00"}),
        ("/v1/decisions/check", {"access_token": "x", "scope": "basic\x00"}),
    ],
    ids=["user", "scope", "lookup", "check"],
)
def test_text_with_a_nul_character_is_refused_and_changes_nothing(
    api: Api, world: World, path: str, body: dict[str, Any]
) -> None:
    before = api.ledger.position()

    response = api.post(path, body)

    assert response.status_code == 422, response.text
    assert "NUL" in response.json()["error"]["message"]
    assert api.ledger.position() == before


def test_a_reason_with_a_nul_character_is_refused_and_the_read_models_keep_up(
    api: Api, world: World
) -> None:
    response = api.post(f"/v1/apps/{world.app.client_id}/disable", {"reason": "gone\x00"})

    assert response.status_code == 422, response.text
    api.write(api.post(f"/v1/apps/{world.app.client_id}/disable", {"reason": "gone"}))
    assert api.check(world.token.access_token, "basic")["reason"] == "app_disabled"


def test_a_decision_waits_for_a_future_position_only_as_long_as_reads_are_configured_to(
    api: Api, world: World
) -> None:
    runner = api.runtime.runner
    assert runner is not None
    runner.stop()  # the next write stays in flight: written, not projected
    api.runtime.runner = None
    written = api.user("carol")["position"]
    api.app.state.read_wait_timeout = 0.1
    started = time.monotonic()

    response = api.post(
        "/v1/decisions/check",
        {"access_token": world.token.access_token, "scope": "basic", "min_position": written},
    )

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "projection_timeout"
    assert time.monotonic() - started < 2.0
