"""HTTP Basic credentials that cannot be read (not ASCII, not base64, not UTF-8, no colon) are the
caller's failed authentication on every endpoint that accepts Basic: a 401 in the endpoint's
own error body with a Basic challenge, never a 500, and nothing written."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.support.http_api import Api

pytest_plugins = ["tests.support.http_api_fixtures"]

MESSAGE = "Malformed HTTP Basic credentials"

# The Authorization header's raw bytes, as a client sent them.
MALFORMED: dict[str, bytes] = {
    "non_ascii_utf8": "Basic été".encode(),
    "non_ascii_latin1": b"Basic \xe9t\xe9",
    "bad_base64": b"Basic not base64!",
    "not_utf8": b"Basic " + base64.b64encode(b"\xff\xfe:secret"),
    "no_colon": b"Basic " + base64.b64encode(b"client-without-secret"),
}
CASES = pytest.mark.parametrize("header", list(MALFORMED.values()), ids=list(MALFORMED))


def post_form(api: Api, path: str, header: bytes) -> httpx.Response:
    response: httpx.Response = api.client.post(
        path, data={"token": "some-token"}, headers={"Authorization": header}
    )
    return response


@CASES
def test_malformed_basic_on_me_is_401_with_the_users_challenge(api: Api, header: bytes) -> None:
    response = api.client.get("/v1/me", headers={"Authorization": header})

    assert response.status_code == 401, response.text
    assert response.json()["error"]["message"] == MESSAGE
    assert response.headers["WWW-Authenticate"] == 'Basic realm="ledger users"'


@CASES
def test_malformed_basic_on_revoke_is_401_invalid_client(api: Api, header: bytes) -> None:
    before = api.ledger.position()

    response = post_form(api, "/oauth/revoke", header)

    assert response.status_code == 401, response.text
    assert response.json() == {"error": "invalid_client", "error_description": MESSAGE}
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert api.ledger.position() == before


@CASES
def test_malformed_basic_on_introspect_is_401_invalid_client(api: Api, header: bytes) -> None:
    response = post_form(api, "/oauth/introspect", header)

    assert response.status_code == 401, response.text
    assert response.json() == {"error": "invalid_client", "error_description": MESSAGE}
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


@CASES
def test_malformed_basic_on_access_token_is_401_in_the_legacy_body(api: Api, header: bytes) -> None:
    response = post_form(api, "/oauth/access_token", header)

    assert response.status_code == 401, response.text
    assert response.json() == {
        "error_type": "OAuthException",
        "code": 401,
        "error_message": MESSAGE,
    }
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert response.headers["Cache-Control"] == "no-store"
