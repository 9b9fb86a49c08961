"""Authorization codes (RFC 6749 §4.1.2): single use, short lived, bound to client and redirect."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from domain.actors import Actor, Role
from domain.codes import CODE_LIFETIME, AuthorizationCode
from domain.errors import CodeNotFoundError, CodeRedirectMismatchError
from domain.identity import code_id, user_id
from tests.unit.builders import NOW, REDIRECT_URI, collected, event_names

APP_ID = uuid4()
CLIENT = Actor.client(APP_ID.hex)
DIGEST = "c" * 64


def issue(app_id: UUID = APP_ID, collect: bool = True) -> AuthorizationCode:
    code = AuthorizationCode.issue(
        DIGEST,
        app_id,
        user_id("bob"),
        REDIRECT_URI,
        ("basic", "likes"),
        "sandbox",
        NOW,
        CODE_LIFETIME,
        Actor.user("bob"),
    )
    if collect:
        code.collect_events()
    return code


def test_code_lifetime_is_at_most_ten_minutes() -> None:
    assert timedelta(0) < CODE_LIFETIME <= timedelta(minutes=10)


def test_code_id_derives_from_its_digest() -> None:
    assert issue().id == code_id(DIGEST)


def test_issued_code_expires_after_its_lifetime() -> None:
    assert issue().expires_at == NOW + CODE_LIFETIME


def test_issued_code_keeps_its_scopes_mode_and_redirect_uri() -> None:
    code = issue()
    assert (code.scopes, code.mode, code.redirect_uri) == (
        ["basic", "likes"],
        "sandbox",
        REDIRECT_URI,
    )


def test_issuing_records_one_issued_event() -> None:
    assert event_names(issue(collect=False)) == ["Issued"]


def test_code_is_redeemable_just_before_it_expires() -> None:
    issue().check_redeemable(APP_ID, REDIRECT_URI, NOW + CODE_LIFETIME - timedelta(microseconds=1))


def test_code_is_not_redeemable_at_its_expiry_time() -> None:
    with pytest.raises(CodeNotFoundError):
        issue().check_redeemable(APP_ID, REDIRECT_URI, NOW + CODE_LIFETIME)


def test_code_is_not_redeemable_after_it_expired() -> None:
    with pytest.raises(CodeNotFoundError):
        issue().check_redeemable(APP_ID, REDIRECT_URI, NOW + timedelta(hours=1))


def test_code_is_not_redeemable_by_another_app() -> None:
    with pytest.raises(CodeNotFoundError) as refused:
        issue().check_redeemable(uuid4(), REDIRECT_URI, NOW)
    assert refused.value.message == "Matching code was not found or was already used."


def test_another_apps_redirect_mismatch_is_reported_as_an_unknown_code() -> None:
    with pytest.raises(CodeNotFoundError):
        issue().check_redeemable(uuid4(), "https://evil.example/cb", NOW)


def test_redirect_uri_other_than_the_original_is_refused_with_the_legacy_message() -> None:
    with pytest.raises(CodeRedirectMismatchError) as refused:
        issue().check_redeemable(APP_ID, "https://photos.example/other", NOW)
    assert refused.value.message == "Redirect URI doesn't match original redirect URI"


def test_redirect_uri_must_be_identical_not_merely_matching() -> None:
    with pytest.raises(CodeRedirectMismatchError):
        issue().check_redeemable(APP_ID, REDIRECT_URI + "?extra=1", NOW)


def test_redeeming_links_the_code_to_its_token() -> None:
    code = issue()
    token_id = uuid4()
    code.redeem(token_id, CLIENT)
    assert (code.redeemed, code.token_id) == (True, token_id)


def test_redeeming_a_code_twice_is_refused() -> None:
    code = issue()
    first = uuid4()
    code.redeem(first, CLIENT)
    with pytest.raises(CodeNotFoundError, match="already used"):
        code.redeem(uuid4(), CLIENT)
    assert code.token_id == first


def test_replay_is_recorded_with_the_token_the_code_issued() -> None:
    code = issue()
    token_id = uuid4()
    code.redeem(token_id, CLIENT)
    code.collect_events()
    code.record_replay(Actor("ledger", Role.SYSTEM))
    [replayed] = collected(code)
    assert (type(replayed).__name__, replayed.token_id) == ("ReplayDetected", token_id)
