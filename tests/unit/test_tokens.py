"""Access tokens: no expiry of their own; revoked by their user, the app's owner or the platform."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.actors import Actor, Role
from domain.errors import NotPermittedError, TokenStateError
from domain.identity import token_id, user_id
from domain.tokens import AccessToken
from tests.unit.builders import OWNER, PLATFORM, REVIEWER, STRANGER, collected, event_names

APP_ID = uuid4()
BOB = Actor.user("bob")
LEDGER = Actor("ledger", Role.SYSTEM)
DIGEST = "t" * 64


def issue(collect: bool = True) -> AccessToken:
    token = AccessToken.issue(
        DIGEST,
        APP_ID,
        user_id("bob"),
        ("basic", "likes"),
        "live",
        "code",
        uuid4(),
        Actor.client(APP_ID.hex),
    )
    if collect:
        token.collect_events()
    return token


def test_token_id_derives_from_its_digest() -> None:
    assert issue().id == token_id(DIGEST)


def test_issued_token_is_active_with_its_scopes() -> None:
    token = issue()
    assert (token.active, token.scopes, token.mode, token.flow) == (
        True,
        ["basic", "likes"],
        "live",
        "code",
    )


def test_issuing_records_one_issued_event() -> None:
    assert event_names(issue(collect=False)) == ["Issued"]


def test_issued_event_does_not_carry_the_plaintext_token() -> None:
    token = AccessToken.issue(
        DIGEST, APP_ID, user_id("bob"), ("basic",), "live", "implicit", None, BOB
    )
    [issued] = collected(token)
    assert issued.digest == DIGEST
    assert not hasattr(issued, "access_token")


def test_user_revokes_their_token() -> None:
    token = issue()
    token.revoke(BOB, "lost my phone", is_user=True, is_app_owner=False)
    assert (token.revoked, token.active) == (True, False)


def test_app_owner_revokes_a_token() -> None:
    token = issue()
    token.revoke(OWNER, "", is_user=False, is_app_owner=True)
    assert not token.active


@pytest.mark.parametrize("actor", [PLATFORM, LEDGER], ids=["platform", "ledger"])
def test_platform_revokes_any_token(actor: Actor) -> None:
    token = issue()
    token.revoke(actor, "abuse", is_user=False, is_app_owner=False)
    assert not token.active


@pytest.mark.parametrize(
    "actor",
    [STRANGER, REVIEWER, Actor.user("mallory"), Actor.client(uuid4().hex)],
    ids=["another-developer", "reviewer", "another-user", "another-client"],
)
def test_others_may_not_revoke_a_token(actor: Actor) -> None:
    token = issue()
    with pytest.raises(NotPermittedError):
        token.revoke(actor, "", is_user=False, is_app_owner=False)
    assert token.active


def test_revocation_records_who_and_why() -> None:
    token = issue()
    token.revoke(BOB, "lost my phone", is_user=True, is_app_owner=False)
    [revoked] = collected(token)
    assert (type(revoked).__name__, revoked.actor, revoked.reason) == (
        "Revoked",
        "bob",
        "lost my phone",
    )


def test_revoking_a_token_twice_is_refused() -> None:
    token = issue()
    token.revoke(BOB, "", is_user=True, is_app_owner=False)
    token.collect_events()
    with pytest.raises(TokenStateError):
        token.revoke(BOB, "", is_user=True, is_app_owner=False)
    assert token.collect_events() == []


def test_platform_expires_a_token() -> None:
    token = issue()
    token.expire(PLATFORM, "policy: tokens older than a year")
    assert (token.expired, token.revoked, token.active) == (True, False, False)


@pytest.mark.parametrize("actor", [BOB, OWNER, REVIEWER], ids=["user", "app-owner", "reviewer"])
def test_only_the_platform_expires_a_token(actor: Actor) -> None:
    token = issue()
    with pytest.raises(NotPermittedError):
        token.expire(actor, "")
    assert token.active


def test_expiring_an_expired_token_is_refused() -> None:
    token = issue()
    token.expire(PLATFORM, "")
    with pytest.raises(TokenStateError):
        token.expire(PLATFORM, "")


def test_revoking_an_expired_token_is_refused() -> None:
    token = issue()
    token.expire(PLATFORM, "")
    with pytest.raises(TokenStateError):
        token.revoke(BOB, "", is_user=True, is_app_owner=False)


def test_expiring_a_revoked_token_is_refused() -> None:
    token = issue()
    token.revoke(BOB, "", is_user=True, is_app_owner=False)
    with pytest.raises(TokenStateError):
        token.expire(PLATFORM, "")
