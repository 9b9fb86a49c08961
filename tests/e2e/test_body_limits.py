"""Request bodies are capped per route class before anything reads them: a body over the cap is
413 in the route's own error body, whether it declares its length or streams in chunks, and is
not read beyond the cap; a body within the cap is served as before."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.body_limit import BODY_LIMITS, BodyStyle, body_limit_for
from tests.support.http_api import Api, World

pytest_plugins = ["tests.support.http_api_fixtures"]

V1_CAP = body_limit_for("/v1/users").max_bytes
OAUTH_CAP = body_limit_for("/oauth/access_token").max_bytes
CHUNK = 4096


def padded_json(body: dict[str, Any], size: int) -> bytes:
    """The JSON body, padded with insignificant whitespace to exactly ``size`` bytes."""
    raw = json.dumps(body).encode()
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


def chunks(data: bytes) -> Iterator[bytes]:
    """The body as a stream, so it is sent chunked, without Content-Length."""
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


def user_body(username: str, size: int) -> bytes:
    return padded_json({"username": username, "full_name": "Big Body"}, size)


def post_raw(api: Api, path: str, content: Any, headers: dict[str, str]) -> httpx.Response:
    response: httpx.Response = api.client.post(path, content=content, headers=headers)
    return response


def json_headers(api: Api) -> dict[str, str]:
    return {**api.auth(api.admin), "Content-Type": "application/json"}


# --- the management API: JSON, the ledger's error body -----------------------------------------


def test_json_body_over_the_cap_is_413_with_the_ledger_error(api: Api) -> None:
    before = api.ledger.position()

    response = post_raw(api, "/v1/users", user_body("too_big", V1_CAP + 1), json_headers(api))

    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "request_too_large"
    assert str(V1_CAP) in response.json()["error"]["message"]
    assert api.ledger.position() == before


def test_chunked_json_body_over_the_cap_is_413_with_the_ledger_error(api: Api) -> None:
    before = api.ledger.position()

    response = post_raw(
        api, "/v1/users", chunks(user_body("too_big", V1_CAP + 1)), json_headers(api)
    )

    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "request_too_large"
    assert api.ledger.position() == before


def test_json_body_at_the_cap_is_served(api: Api) -> None:
    response = post_raw(api, "/v1/users", user_body("just_fits", V1_CAP), json_headers(api))

    assert response.status_code == 201, response.text


def test_chunked_json_body_at_the_cap_is_served(api: Api) -> None:
    response = post_raw(api, "/v1/users", chunks(user_body("just_fits", V1_CAP)), json_headers(api))

    assert response.status_code == 201, response.text


def test_unauthenticated_body_over_the_cap_is_413_not_401(api: Api) -> None:
    response = post_raw(
        api, "/v1/apps", b"{}" + b" " * V1_CAP, {"Content-Type": "application/json"}
    )

    assert response.status_code == 413, response.text


def test_cap_applies_whatever_the_content_type(api: Api) -> None:
    response = post_raw(
        api,
        "/v1/users",
        b"x" * (V1_CAP + 1),
        {**api.auth(api.admin), "Content-Type": "application/octet-stream"},
    )

    assert response.status_code == 413, response.text


# --- the OAuth endpoints: their own error bodies -----------------------------------------------


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def form_of(size: int, **fields: str) -> bytes:
    """A urlencoded form of exactly ``size`` bytes (the token parameter padded)."""
    head = "&".join(f"{k}={v}" for k, v in fields.items()).encode()
    return head + b"&token=" + b"t" * (size - len(head) - len(b"&token="))


def test_revoke_body_over_the_cap_is_413_in_the_rfc6749_body(api: Api, world: World) -> None:
    response = post_raw(
        api,
        "/oauth/revoke",
        form_of(
            OAUTH_CAP + 1, client_id=world.app.client_id, client_secret=world.app.client_secret
        ),
        FORM,
    )

    assert response.status_code == 413, response.text
    assert response.json()["error"] == "invalid_request"
    assert response.headers["Cache-Control"] == "no-store"


def test_chunked_introspect_body_over_the_cap_is_413_in_the_rfc6749_body(api: Api) -> None:
    response = post_raw(api, "/oauth/introspect", chunks(form_of(OAUTH_CAP + 1)), FORM)

    assert response.status_code == 413, response.text
    assert response.json()["error"] == "invalid_request"


def test_revoke_body_at_the_cap_is_served(api: Api, world: World) -> None:
    response = post_raw(
        api,
        "/oauth/revoke",
        form_of(OAUTH_CAP, client_id=world.app.client_id, client_secret=world.app.client_secret),
        FORM,
    )

    assert (response.status_code, response.json()) == (200, {})  # RFC 7009 §2.2: unknown token


def test_token_endpoint_body_over_the_cap_is_413_in_the_legacy_body(api: Api) -> None:
    response = post_raw(api, "/oauth/access_token", form_of(OAUTH_CAP + 1), FORM)

    assert response.status_code == 413, response.text
    body = response.json()
    assert (body["error_type"], body["code"]) == ("OAuthException", 413)
    assert str(OAUTH_CAP) in body["error_message"]


def test_chunked_sign_in_body_over_the_cap_is_413_in_the_legacy_body(api: Api) -> None:
    response = post_raw(api, "/oauth/signin", chunks(form_of(OAUTH_CAP + 1)), FORM)

    assert response.status_code == 413, response.text
    assert response.json()["error_type"] == "OAuthException"


# --- nothing beyond the cap is read ---------------------------------------------------------


class LargeBody:
    """An ASGI receive streaming a 1 MiB body of whitespace, counting what was taken from it."""

    size = 1024 * 1024

    def __init__(self) -> None:
        self.taken = 0
        self.calls = 0

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        if self.taken >= self.size:
            return {"type": "http.disconnect"}
        self.taken += CHUNK
        return {"type": "http.request", "body": b" " * CHUNK, "more_body": self.taken < self.size}


def call_app(
    api: Api, path: str, headers: list[tuple[bytes, bytes]], receive: LargeBody
) -> list[dict[str, Any]]:
    """The running app called directly over ASGI (in its own event loop); its messages."""
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
        "state": {},
    }
    portal = api.client.portal
    assert portal is not None
    portal.call(api.app, scope, receive, send)
    return sent


def test_declared_oversized_body_is_refused_without_reading_any_of_it(api: Api) -> None:
    receive = LargeBody()

    sent = call_app(
        api,
        "/v1/apps",
        [(b"content-type", b"application/json"), (b"content-length", b"52428800")],
        receive,
    )

    assert sent[0]["status"] == 413
    assert receive.calls == 0


def test_streamed_oversized_body_is_read_no_further_than_the_cap(api: Api) -> None:
    receive = LargeBody()

    sent = call_app(api, "/v1/apps", [(b"content-type", b"application/json")], receive)

    assert sent[0]["status"] == 413
    assert [m["type"] for m in sent].count("http.response.start") == 1
    assert receive.taken <= V1_CAP + CHUNK


@pytest.mark.parametrize("limit", BODY_LIMITS, ids=[limit.prefix for limit in BODY_LIMITS])
def test_each_route_class_answers_413_in_its_own_protocol(api: Api, limit: Any) -> None:
    path = limit.prefix if not limit.prefix.endswith("/") else limit.prefix + "anything"

    response = post_raw(api, path, b"x" * (limit.max_bytes + 1), {})

    assert response.status_code == 413, response.text
    body = response.json()
    if limit.style is BodyStyle.RFC6749:
        assert body["error"] == "invalid_request"
    elif limit.style is BodyStyle.LEGACY_OAUTH:
        assert body["code"] == 413
    else:
        assert body["error"]["code"] == "request_too_large"
