"""Grants: the scopes a user has authorized an app for, accumulated until deauthorized."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.actors import Actor
from domain.errors import GrantNotFoundError, NotPermittedError
from domain.grants import Grant
from domain.identity import grant_id, user_id
from tests.unit.builders import OWNER, PLATFORM, REVIEWER, collected, event_names

BOB = Actor.user("bob")
APP_ID = uuid4()


def new_grant() -> Grant:
    grant = Grant.start(user_id("bob"), APP_ID, BOB)
    grant.collect_events()
    return grant


def test_one_grant_per_user_and_app() -> None:
    assert new_grant().id == grant_id(user_id("bob"), APP_ID)


def test_new_grant_holds_no_scope() -> None:
    grant = new_grant()
    assert (grant.scopes, grant.active) == ([], False)


def test_granting_scopes_makes_the_grant_active() -> None:
    grant = new_grant()
    grant.grant(("basic",), "sandbox", BOB)
    assert (grant.scopes, grant.active) == (["basic"], True)


def test_granting_more_scopes_accumulates() -> None:
    grant = new_grant()
    grant.grant(("basic",), "sandbox", BOB)
    grant.grant(("comments", "likes"), "sandbox", BOB)
    assert sorted(grant.scopes) == ["basic", "comments", "likes"]


def test_granting_records_only_the_scopes_added_and_the_mode() -> None:
    grant = new_grant()
    grant.grant(("basic",), "sandbox", BOB)
    grant.collect_events()
    grant.grant(("basic", "likes"), "live", BOB)
    [granted] = collected(grant)
    assert (granted.scopes, granted.mode) == (["likes"], "live")


def test_granting_held_scopes_again_records_the_consent_but_adds_nothing() -> None:
    grant = new_grant()
    grant.grant(("basic", "likes"), "sandbox", BOB)
    grant.collect_events()
    grant.grant(("likes", "basic"), "sandbox", BOB)
    [consent] = grant.collect_events()
    assert (consent.scopes, consent.requested) == ([], ["likes", "basic"])
    assert grant.scopes == ["basic", "likes"]


def test_user_deauthorizes_the_app() -> None:
    grant = new_grant()
    grant.grant(("basic", "likes"), "sandbox", BOB)
    grant.deauthorize(BOB, is_user=True, reason="no longer used")
    assert (grant.scopes, grant.active) == ([], False)


def test_deauthorization_records_who_and_why() -> None:
    grant = new_grant()
    grant.grant(("basic",), "sandbox", BOB)
    grant.collect_events()
    grant.deauthorize(BOB, is_user=True, reason="no longer used")
    [deauthorized] = collected(grant)
    assert (type(deauthorized).__name__, deauthorized.reason) == ("Deauthorized", "no longer used")


def test_platform_deauthorizes_an_app_for_a_user() -> None:
    grant = new_grant()
    grant.grant(("basic",), "sandbox", BOB)
    grant.deauthorize(PLATFORM, is_user=False, reason="account compromised")
    assert not grant.active


@pytest.mark.parametrize(
    "actor",
    [OWNER, REVIEWER, Actor.user("mallory"), Actor.client(APP_ID.hex)],
    ids=["app-owner", "reviewer", "another-user", "client"],
)
def test_only_the_user_or_platform_deauthorizes(actor: Actor) -> None:
    grant = new_grant()
    grant.grant(("basic",), "sandbox", BOB)
    with pytest.raises(NotPermittedError):
        grant.deauthorize(actor, is_user=False, reason="")
    assert grant.scopes == ["basic"]


def test_deauthorizing_an_inactive_grant_is_refused() -> None:
    with pytest.raises(GrantNotFoundError):
        new_grant().deauthorize(BOB, is_user=True, reason="")


def test_authorizing_after_deauthorization_starts_afresh() -> None:
    grant = new_grant()
    grant.grant(("basic", "likes"), "sandbox", BOB)
    grant.deauthorize(BOB, is_user=True, reason="")
    grant.grant(("basic",), "sandbox", BOB)
    assert grant.scopes == ["basic"]


def test_starting_a_grant_records_one_created_event() -> None:
    assert event_names(Grant.start(user_id("bob"), APP_ID, BOB)) == ["Created"]
