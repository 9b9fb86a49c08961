"""Authorization codes (RFC 6749 §4.1.2): signed, self-contained, short lived, bound to client
and redirect URI. Single use is the grant's (tests/unit/test_grants.py)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from application.credentials import new_secret
from domain.codes import CODE_LIFETIME, CodeClaims
from domain.credentials import SecretHasher
from domain.errors import CodeNotFoundError, CodeRedirectMismatchError
from domain.identity import user_id
from domain.users import UserInfo
from tests.unit.builders import NOW, REDIRECT_URI

APP_ID = uuid4()
HASHER = SecretHasher(b"k" * 32)
BOB = UserInfo(user_id("bob").hex, "bob", "Bob Example", "https://pics.example/bob.jpg")
CODE_NOT_FOUND = "Matching code was not found or was already used."


def claims(app_id: UUID = APP_ID, deauthorizations: int = 0) -> CodeClaims:
    return CodeClaims.issue(
        app_id,
        BOB,
        REDIRECT_URI,
        ("basic", "likes"),
        "sandbox",
        NOW,
        CODE_LIFETIME,
        deauthorizations,
        nonce=new_secret(),
    )


def code(issued: CodeClaims | None = None) -> str:
    return (issued or claims()).encode(HASHER)


def payload_of(a_code: str) -> dict[str, object]:
    payload = a_code.partition(".")[0]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=="))
    return decoded


def signed(body: dict[str, object]) -> str:
    """A code whose payload is ``body``, properly signed (as if the server had issued it)."""
    raw = json.dumps(body).encode()
    payload = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return f"{payload}.{HASHER.sign(payload)}"


# --- the format --------------------------------------------------------------------------------


def test_code_lifetime_is_at_most_ten_minutes() -> None:
    assert timedelta(0) < CODE_LIFETIME <= timedelta(minutes=10)


def test_code_decodes_to_the_claims_it_was_issued_with() -> None:
    issued = claims()
    assert CodeClaims.decode(code(issued), HASHER) == issued


def test_issued_code_expires_after_its_lifetime() -> None:
    assert CodeClaims.decode(code(), HASHER).expires_at == NOW + CODE_LIFETIME


def test_code_carries_the_user_as_the_legacy_token_response_shows_them() -> None:
    decoded = CodeClaims.decode(code(), HASHER)
    assert (decoded.user, decoded.user_id) == (BOB, user_id("bob"))


def test_code_is_a_url_safe_payload_and_signature() -> None:
    payload, mac = code().split(".")
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert set(payload) <= alphabet
    assert set(mac) <= alphabet
    assert len(mac) == 43  # 256 bits


def test_every_code_has_a_nonce_of_256_bits() -> None:
    nonce = str(payload_of(code())["nonce"])
    assert len(base64.urlsafe_b64decode(nonce + "=")) * 8 >= 256


def test_codes_of_the_same_consent_differ() -> None:
    assert len({code() for _ in range(50)}) == 50


def test_code_remembers_the_grants_deauthorization_count() -> None:
    assert CodeClaims.decode(code(claims(deauthorizations=3)), HASHER).grant_deauthorizations == 3


# --- tampering ---------------------------------------------------------------------------------


def test_code_with_changed_scopes_is_refused() -> None:
    body = payload_of(code())
    body["scopes"] = ["basic", "likes", "comments"]
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    forged = f"{payload}.{code().partition('.')[2]}"
    with pytest.raises(CodeNotFoundError) as refused:
        CodeClaims.decode(forged, HASHER)
    assert refused.value.message == CODE_NOT_FOUND


def test_code_with_a_changed_signature_is_refused() -> None:
    payload, _, mac = code().partition(".")
    flipped = ("A" if mac[0] != "A" else "B") + mac[1:]
    with pytest.raises(CodeNotFoundError):
        CodeClaims.decode(f"{payload}.{flipped}", HASHER)


def test_code_signed_under_another_server_key_is_refused() -> None:
    with pytest.raises(CodeNotFoundError):
        CodeClaims.decode(claims().encode(SecretHasher(b"o" * 32)), HASHER)


@pytest.mark.parametrize(
    "malformed",
    ["", "no-dot", ".", "payload.", ".signature", "a.b.c", "é.é", None],
    ids=["empty", "no-dot", "dot", "no-mac", "no-payload", "three-parts", "non-ascii", "none"],
)
def test_malformed_code_is_refused(malformed: str | None) -> None:
    with pytest.raises(CodeNotFoundError):
        CodeClaims.decode(malformed, HASHER)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"app": "not-hex"},
        [1, 2, 3],
        "a string",
    ],
    ids=["empty-object", "bad-fields", "array", "string"],
)
def test_signed_payload_that_is_not_a_code_is_refused(body: object) -> None:
    raw = json.dumps(body).encode()
    payload = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    with pytest.raises(CodeNotFoundError):
        CodeClaims.decode(f"{payload}.{HASHER.sign(payload)}", HASHER)


def test_signed_code_without_a_time_zone_is_refused() -> None:
    body = payload_of(code())
    body["expires_at"] = (NOW + CODE_LIFETIME).replace(tzinfo=None).isoformat()
    with pytest.raises(CodeNotFoundError):
        CodeClaims.decode(signed(body), HASHER)


# --- expiry and binding ------------------------------------------------------------------------


def test_code_is_redeemable_just_before_it_expires() -> None:
    claims().check_redeemable(APP_ID, REDIRECT_URI, NOW + CODE_LIFETIME - timedelta(microseconds=1))


def test_code_is_not_redeemable_at_its_expiry_time() -> None:
    with pytest.raises(CodeNotFoundError):
        claims().check_redeemable(APP_ID, REDIRECT_URI, NOW + CODE_LIFETIME)


def test_code_is_not_redeemable_after_it_expired() -> None:
    with pytest.raises(CodeNotFoundError):
        claims().check_redeemable(APP_ID, REDIRECT_URI, NOW + timedelta(hours=1))


def test_code_is_not_redeemable_by_another_app() -> None:
    with pytest.raises(CodeNotFoundError) as refused:
        claims().check_redeemable(uuid4(), REDIRECT_URI, NOW)
    assert refused.value.message == CODE_NOT_FOUND


def test_another_apps_redirect_mismatch_is_reported_as_an_unknown_code() -> None:
    with pytest.raises(CodeNotFoundError):
        claims().check_redeemable(uuid4(), "https://evil.example/cb", NOW)


def test_redirect_uri_other_than_the_original_is_refused_with_the_legacy_message() -> None:
    with pytest.raises(CodeRedirectMismatchError) as refused:
        claims().check_redeemable(APP_ID, "https://photos.example/other", NOW)
    assert refused.value.message == "Redirect URI doesn't match original redirect URI"


def test_redirect_uri_must_be_identical_not_merely_matching() -> None:
    with pytest.raises(CodeRedirectMismatchError):
        claims().check_redeemable(APP_ID, REDIRECT_URI + "?extra=1", NOW)


def test_binding_survives_the_round_trip_through_the_code() -> None:
    decoded = CodeClaims.decode(code(replace(claims(), redirect_uri="myapp://cb?x=1")), HASHER)
    with pytest.raises(CodeRedirectMismatchError):
        decoded.check_redeemable(APP_ID, REDIRECT_URI, NOW)
    decoded.check_redeemable(APP_ID, "myapp://cb?x=1", NOW)
