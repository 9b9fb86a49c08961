"""Access tokens: no expiry of their own; revoked by their user, the app's owner or the platform."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.actors import Actor, Role
from domain.errors import NotPermittedError, TokenStateError
from domain.identity import token_id, user_id
from domain.tokens import AccessToken
from tests.unit.builders import (
    OWNER,
    PLATFORM,
    REVIEWER,
    STRANGER,
    app,
    collected,
    event_names,
)

OWNED_APP = app()  # the tokens' app, owned by alice (OWNER)
APP_ID = OWNED_APP.id
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
    token.revoke(BOB, "lost my phone")
    assert (token.revoked, token.active) == (True, False)


def test_app_owner_revokes_a_token() -> None:
    token = issue()
    token.revoke(OWNER, "", OWNED_APP)
    assert not token.active


def test_app_owner_revokes_a_token_whatever_the_case_of_their_username() -> None:
    token = issue()
    token.revoke(Actor.developer("ALICE"), "", OWNED_APP)
    assert not token.active


def test_user_revokes_their_token_whatever_the_case_of_their_username() -> None:
    token = issue()
    token.revoke(Actor.user("Bob"), "")
    assert not token.active


def test_the_owner_of_another_app_may_not_revoke_a_token() -> None:
    token = issue()
    with pytest.raises(NotPermittedError):
        token.revoke(OWNER, "", app())  # alice's app, but not the token's
    assert token.active


def test_the_client_the_token_was_issued_to_revokes_it() -> None:
    token = issue()
    token.revoke(Actor.client(APP_ID.hex), "revoked by the client")
    assert not token.active


@pytest.mark.parametrize("actor", [PLATFORM, LEDGER], ids=["platform", "ledger"])
def test_platform_revokes_any_token(actor: Actor) -> None:
    token = issue()
    token.revoke(actor, "abuse")
    assert not token.active


@pytest.mark.parametrize(
    "actor",
    [STRANGER, REVIEWER, Actor.user("mallory"), Actor.client(uuid4().hex)],
    ids=["another-developer", "reviewer", "another-user", "another-client"],
)
def test_others_may_not_revoke_a_token(actor: Actor) -> None:
    token = issue()
    with pytest.raises(NotPermittedError):
        token.revoke(actor, "")
    assert token.active


def test_revocation_records_who_and_why() -> None:
    token = issue()
    token.revoke(BOB, "lost my phone")
    [revoked] = collected(token)
    assert (type(revoked).__name__, revoked.actor, revoked.reason) == (
        "Revoked",
        "bob",
        "lost my phone",
    )


def test_revoking_a_token_twice_is_refused() -> None:
    token = issue()
    token.revoke(BOB, "")
    token.collect_events()
    with pytest.raises(TokenStateError):
        token.revoke(BOB, "")
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
        token.revoke(BOB, "")


def test_expiring_a_revoked_token_is_refused() -> None:
    token = issue()
    token.revoke(BOB, "")
    with pytest.raises(TokenStateError):
        token.expire(PLATFORM, "")
