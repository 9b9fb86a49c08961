"""Driving the JSON API end to end: the real ASGI app on a fresh store (SQLite or PostgreSQL),
API keys per role, and helpers that set the world up through HTTP.

The fixtures are in ``tests.support.http_api_fixtures``; a test module loads them with
``pytest_plugins = ["tests.support.http_api_fixtures"]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.positions import POSITION_HEADER
from application.ledger import Ledger
from application.results import ClientRegistered, TokenIssued
from domain.actors import Actor
from domain.api_keys import KeyRole
from infrastructure.runtime import Runtime
from tests.support import ledger_setup

BOOTSTRAP = Actor.platform("bootstrap")
REDIRECT_URI = ledger_setup.REDIRECT_URI
SCREENCAST_URL = "https://client.example/screencast.mp4"


def app_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Printer",
        "description": "Prints your photos",
        "website": "https://client.example",
        "redirect_uris": [REDIRECT_URI],
        "company_name": "Printer Ltd",
        "contact_email": "dev@client.example",
        "privacy_policy_url": "https://client.example/privacy",
    }
    body.update(overrides)
    return body


@dataclass
class Api:
    """The running app, its client, and a key per role."""

    app: FastAPI
    client: TestClient
    admin: str = ""

    @property
    def ledger(self) -> Ledger:
        ledger: Ledger = self.app.state.ledger
        return ledger

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    # --- keys ---------------------------------------------------------------------------------

    def bootstrap_key(
        self, role: KeyRole | str, principal: str | None = None, name: str | None = None
    ) -> str:
        """A key made directly on the ledger, as the CLI makes the first admin key."""
        role = KeyRole(role)
        return self.ledger.create_api_key(
            name=name or f"{role.value} key", role=role, principal=principal, actor=BOOTSTRAP
        ).key

    def key(self, role: KeyRole | str, principal: str | None = None) -> str:
        """A key created through the API by the admin."""
        return self.key_with_id(role, principal)[0]

    def key_with_id(self, role: KeyRole | str, principal: str | None = None) -> tuple[str, str]:
        response = self.post(
            "/v1/api-keys", {"name": f"{role} key", "role": str(role), "principal": principal}
        )
        assert response.status_code == 201, response.text
        return response.json()["key"], response.json()["key_id"]

    # --- requests -----------------------------------------------------------------------------

    @staticmethod
    def auth(key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"} if key else {}

    def get(self, url: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {**self.auth(key or self.admin), **kwargs.pop("headers", {})}
        response: httpx.Response = self.client.get(url, headers=headers, **kwargs)
        return response

    def post(
        self, url: str, body: Any = None, key: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {**self.auth(key or self.admin), **kwargs.pop("headers", {})}
        response: httpx.Response = self.client.post(
            url, json=body if body is not None else {}, headers=headers, **kwargs
        )
        return response

    def patch(self, url: str, body: Any, key: str | None = None) -> httpx.Response:
        response: httpx.Response = self.client.patch(
            url, json=body, headers=self.auth(key or self.admin)
        )
        return response

    def put(self, url: str, body: Any, key: str | None = None) -> httpx.Response:
        response: httpx.Response = self.client.put(
            url, json=body, headers=self.auth(key or self.admin)
        )
        return response

    def ok(self, response: httpx.Response, status: int = 200) -> dict[str, Any]:
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        return body

    def ok_list(self, url: str, key: str | None = None) -> list[dict[str, Any]]:
        response = self.get(url, key=key)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found

    def write(self, response: httpx.Response, status: int = 200) -> int:
        """A write's answer: the status, and the same position in body and header."""
        body = self.ok(response, status)
        assert response.headers[POSITION_HEADER] == str(body["position"])
        position: int = body["position"]
        return position

    def synced(self) -> int:
        """Waits until the read models have every write, however it was made."""
        return self.runtime.read_model.wait_for(self.ledger.position())

    # --- the world, set up through HTTP ------------------------------------------------------

    def user(self, username: str) -> dict[str, Any]:
        return self.ok(
            self.post(
                "/v1/users",
                {
                    "username": username,
                    "full_name": username.replace("_", " ").title(),
                    "profile_picture": f"https://pics.example/{username}.jpg",
                },
            ),
            201,
        )

    def developer(self, username: str) -> str:
        """Registers the developer's user and answers a developer key for them."""
        self.user(username)
        return self.key("developer", principal=username)

    def register_app(self, developer_key: str, **overrides: Any) -> ClientRegistered:
        body = self.ok(self.post("/v1/apps", app_body(**overrides), key=developer_key), 201)
        return ClientRegistered(body["position"], body["client_id"], body["client_secret"])

    def sandbox_user(self, client_id: str, developer_key: str, username: str) -> None:
        self.ok(
            self.post(
                f"/v1/apps/{client_id}/sandbox-users", {"username": username}, key=developer_key
            ),
            201,
        )
        self.ok(self.post(f"/v1/apps/{client_id}/sandbox-users/{username}/accept"))

    def approve_and_go_live(
        self,
        client_id: str,
        developer_key: str,
        scopes: tuple[str, ...] = ("basic",),
        reviewer_key: str | None = None,
    ) -> str:
        for scope in scopes:
            if scope != "basic":
                self.post(
                    f"/v1/catalogue/scopes/{scope}/reopen-applications", {"reason": "test setup"}
                )
        use_case = "own_content" if scopes == ("basic",) else "brands_and_advertisers"
        review = self.ok(
            self.post(
                f"/v1/apps/{client_id}/reviews",
                {
                    "use_case": use_case,
                    "permissions": {s: f"We use {s} to print photos" for s in scopes},
                    "screencast_url": SCREENCAST_URL,
                },
                key=developer_key,
            ),
            201,
        )
        for scope in scopes:
            self.ok(
                self.post(
                    f"/v1/reviews/{review['review_id']}/decisions",
                    {"scope": scope, "approve": True, "reason": "fits"},
                    key=reviewer_key,
                )
            )
        self.ok(self.post(f"/v1/apps/{client_id}/go-live", key=developer_key))
        review_id: str = review["review_id"]
        return review_id

    def token(self, app: ClientRegistered, username: str, scope: str | None = None) -> TokenIssued:
        """A token through the code flow (the OAuth endpoints are another module's; the flow
        is the ledger's), projected before it is answered."""
        issued = ledger_setup.issue_token(self.ledger, app, username, scope)
        self.synced()
        return issued

    def check(
        self, token: str, scope: str, key: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        return self.ok(
            self.post(
                "/v1/decisions/check", {"access_token": token, "scope": scope, **fields}, key=key
            )
        )


@dataclass(frozen=True)
class World:
    """One app in sandbox (owner dev_dana) with alice as an accepted sandbox user and a token of
    alice's for basic and likes."""

    app: ClientRegistered
    developer_key: str
    token: TokenIssued
