"""Every endpoint, and every caller that may not use it: 401 or 403, and nothing written.

The endpoints and the roles allowed on each are read from the app's own OpenAPI document (the
security requirement lists the key roles), so an endpoint added later is covered without
touching this file. Each forbidden call is made with real ids and a valid body, so it would
have changed the ledger had it been let through.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from domain.api_keys import KeyRole
from tests.support.http_api import (
    Api,
    World,
)

pytest_plugins = ["tests.support.http_api_fixtures"]

KEY_SCHEMES = ("ApiKeyBearer", "ApiKeyHeader")
CLIENT_SCHEME = "ClientBasic"
USER_SCHEMES = ("UserBasic", "UserSession")  # a platform user's password or session
# Endpoints anyone may call. The OAuth authorization endpoints (another module's) are public
# by protocol: a browser reaches them, not a key holder.
PUBLIC = {("GET", "/health")}
PUBLIC_PREFIXES = ("/oauth/",)
RFC_TAG = "token endpoints"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
# Body fields that must name something real for the call to have an effect if let through
# (the examples' other values already work, or create something new).
BODY_VALUES = ("access_token", "client_id")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any]

    @property
    def security(self) -> list[dict[str, list[str]]]:
        return list(self.spec.get("security", []))

    @property
    def key_roles(self) -> set[str] | None:
        """The key roles allowed, or None when no API key is accepted at all."""
        for requirement in self.security:
            for scheme in KEY_SCHEMES:
                if scheme in requirement:
                    return set(requirement[scheme])
        return None

    @property
    def accepts_client_credentials(self) -> bool:
        return any(CLIENT_SCHEME in requirement for requirement in self.security)

    @property
    def accepts_user_credentials(self) -> bool:
        return any(s in r for r in self.security for s in USER_SCHEMES)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def operations(spec: dict[str, Any]) -> list[Operation]:
    return [
        Operation(method.upper(), path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]


class Caller:
    """Makes one operation's request, with real ids and a valid body, as a given caller."""

    def __init__(self, api: Api, values: dict[str, str]) -> None:
        self.api = api
        self.values = values
        self.spec = api.client.get("/openapi.json").json()

    def url(self, op: Operation) -> str:
        path = op.path
        for name, value in self.values.items():
            path = path.replace("{" + name + "}", value)
        assert "{" not in path, f"no test value for a parameter of {op}"
        return path

    def params(self, op: Operation) -> dict[str, str]:
        return {
            p["name"]: self.values[p["name"]]
            for p in op.spec.get("parameters", [])
            if p["in"] == "query" and p.get("required")
        }

    def body(self, op: Operation) -> tuple[str | None, Any]:
        content = op.spec.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            ref = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
            schema = self.spec["components"]["schemas"][ref]
            assert schema.get("examples"), f"{op}: its request body has no example"
            example = dict(schema["examples"][0])
            real = {k: self.values[k] for k in BODY_VALUES if k in example}
            return "json", {**example, **real}
        if "application/x-www-form-urlencoded" in content:
            return "form", {"token": self.values["access_token"]}
        return None, None

    def call(self, op: Operation, headers: dict[str, str]) -> httpx.Response:
        kind, body = self.body(op)
        kwargs: dict[str, Any] = {"headers": headers, "params": self.params(op)}
        if kind == "json":
            kwargs["json"] = body
        elif kind == "form":
            kwargs["data"] = body
        response: httpx.Response = self.api.client.request(op.method, self.url(op), **kwargs)
        return response


@pytest.fixture
def values(api: Api, world: World) -> dict[str, str]:
    """Real ids of a populated ledger: an app with an open review, a sandbox user, a token."""
    review = api.ok(
        api.post(
            f"/v1/apps/{world.app.client_id}/reviews",
            {
                "use_case": "own_content",
                "permissions": {"basic": "profile"},
                "screencast_url": "https://client.example/screencast.mp4",
            },
            key=world.developer_key,
        ),
        201,
    )
    victim = api.ok(api.post("/v1/api-keys", {"name": "victim", "role": "gateway"}), 201)
    return {
        "client_id": world.app.client_id,
        "username": "alice",
        "review_id": review["review_id"],
        "token_id": world.token.token_id.hex,
        "access_token": world.token.access_token,
        "scope": "likes",
        "key_id": victim["key_id"],
        "position": "1",  # the audit's proofs
        "old_size": "1",
        "new_size": "1",
        "kind": "user",  # an audit history: /v1/audit/history/{kind}/{subject}
        "subject": "alice",
    }


def test_every_endpoint_is_key_protected_client_or_user_authenticated_or_known_public(
    api: Api,
) -> None:
    spec = api.client.get("/openapi.json").json()
    unprotected = [
        str(op)
        for op in operations(spec)
        if op.key_roles is None
        and not op.accepts_client_credentials
        and not op.accepts_user_credentials
        and (op.method, op.path) not in PUBLIC
        and not op.path.startswith(PUBLIC_PREFIXES)
    ]
    assert unprotected == []
    roles = {role for op in operations(spec) for role in (op.key_roles or ())}
    assert roles <= {r.value for r in KeyRole}


def test_every_forbidden_caller_is_refused_and_writes_nothing(
    api: Api, world: World, values: dict[str, str]
) -> None:
    caller = Caller(api, values)
    keys = {
        role: api.key(role, principal="dev_dana" if role == "developer" else None)
        for role in KeyRole
    }
    revoked, revoked_id = api.key_with_id("admin")
    api.write(api.post(f"/v1/api-keys/{revoked_id}/revoke", {"reason": "leaked"}))
    api.synced()

    failures: list[str] = []
    checked = 0
    for op in operations(caller.spec):
        allowed = op.key_roles
        if allowed is None:
            continue
        attempts: list[tuple[str, dict[str, str], int]] = [
            ("no key", {}, 401),
            ("unknown key", {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"}, 401),
            ("revoked key", {"Authorization": f"Bearer {revoked}"}, 401),
        ]
        for role in KeyRole:
            if role.value not in allowed:
                attempts.append(
                    (f"{role.value} key", {"Authorization": f"Bearer {keys[role]}"}, 403)
                )
                attempts.append((f"{role.value} key in X-API-Key", {"X-API-Key": keys[role]}, 403))
        for who, headers, expected in attempts:
            if op.accepts_client_credentials and who == "no key":
                expected = 401  # then the client must authenticate, and did not
            before = api.ledger.position()
            response = caller.call(op, headers)
            checked += 1
            if response.status_code != expected:
                failures.append(f"{op} as {who}: {response.status_code} {response.text[:200]}")
            if api.ledger.position() != before:
                failures.append(f"{op} as {who}: wrote to the ledger")
    assert failures == []
    assert checked > 100


def test_a_developer_key_cannot_touch_another_developers_app(
    api: Api, world: World, values: dict[str, str]
) -> None:
    caller = Caller(api, values)
    stranger = api.developer("dev_eve")
    failures = []
    for op in operations(caller.spec):
        if "developer" not in (op.key_roles or ()) or "{" not in op.path:
            continue
        before = api.ledger.position()
        response = caller.call(op, {"Authorization": f"Bearer {stranger}"})
        if response.status_code != 403:
            failures.append(f"{op}: {response.status_code} {response.text[:200]}")
        if api.ledger.position() != before:
            failures.append(f"{op}: wrote to the ledger")
    assert failures == []


def test_rfc_token_endpoints_refuse_a_wrong_client_secret_and_write_nothing(
    api: Api, world: World, values: dict[str, str]
) -> None:
    """RFC 7009 / 7662 endpoints (the legacy OAuth token endpoint answers the legacy way and
    is tested with it)."""
    caller = Caller(api, values)
    for op in operations(caller.spec):
        if not op.accepts_client_credentials or RFC_TAG not in op.spec.get("tags", ()):
            continue
        before = api.ledger.position()
        response = api.client.request(
            op.method,
            caller.url(op),
            data={
                "token": values["access_token"],
                "client_id": world.app.client_id,
                "client_secret": "not-the-secret",
            },
        )
        assert response.status_code == 401, f"{op}: {response.text}"
        assert response.json()["error"] == "invalid_client"
        assert api.ledger.position() == before
