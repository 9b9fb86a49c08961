"""Grants: the scopes a user has authorized an app for, accumulated until deauthorized."""

from __future__ import annotations

import copy
from datetime import timedelta
from uuid import uuid4

import pytest

from domain.actors import Actor, Role
from domain.errors import CodeNotFoundError, GrantNotFoundError, NotPermittedError
from domain.grants import REPLAY_MEMORY, Grant
from domain.identity import grant_id, user_id
from tests.unit.builders import NOW, OWNER, PLATFORM, REVIEWER, collected, event_names

BOB = Actor.user("bob")
APP_ID = uuid4()
CLIENT = Actor.client(APP_ID.hex)
LEDGER = Actor("ledger", Role.SYSTEM)


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
    grant.deauthorize(BOB, reason="no longer used")
    assert (grant.scopes, grant.active) == ([], False)


def test_deauthorization_records_who_and_why() -> None:
    grant = new_grant()
    grant.grant(("basic",), "sandbox", BOB)
    grant.collect_events()
    grant.deauthorize(BOB, reason="no longer used")
    [deauthorized] = collected(grant)
    assert (type(deauthorized).__name__, deauthorized.reason) == ("Deauthorized", "no longer used")


def test_platform_deauthorizes_an_app_for_a_user() -> None:
    grant = new_grant()
    grant.grant(("basic",), "sandbox", BOB)
    grant.deauthorize(PLATFORM, reason="account compromised")
    assert not grant.active


def test_user_deauthorizes_whatever_the_case_of_their_username() -> None:
    grant = new_grant()
    grant.grant(("basic",), "sandbox", BOB)
    grant.deauthorize(Actor.user("BoB"), reason="")
    assert grant.scopes == []


@pytest.mark.parametrize(
    "actor",
    [OWNER, REVIEWER, Actor.user("mallory"), Actor.client(APP_ID.hex)],
    ids=["app-owner", "reviewer", "another-user", "client"],
)
def test_only_the_user_or_platform_deauthorizes(actor: Actor) -> None:
    grant = new_grant()
    grant.grant(("basic",), "sandbox", BOB)
    with pytest.raises(NotPermittedError):
        grant.deauthorize(actor, reason="")
    assert grant.scopes == ["basic"]


def test_deauthorizing_an_inactive_grant_is_refused() -> None:
    with pytest.raises(GrantNotFoundError):
        new_grant().deauthorize(BOB, reason="")


def test_authorizing_after_deauthorization_starts_afresh() -> None:
    grant = new_grant()
    grant.grant(("basic", "likes"), "sandbox", BOB)
    grant.deauthorize(BOB, reason="")
    grant.grant(("basic",), "sandbox", BOB)
    assert grant.scopes == ["basic"]


def test_starting_a_grant_records_one_created_event() -> None:
    assert event_names(Grant.start(user_id("bob"), APP_ID, BOB)) == ["Created"]


def test_consent_to_held_scopes_adds_nothing() -> None:
    grant = new_grant()
    grant.grant(("basic", "likes"), "sandbox", BOB)
    assert (grant.adds(("likes",)), grant.adds(("basic", "likes")), grant.adds(("comments",))) == (
        False,
        False,
        True,
    )


def test_deauthorized_grant_adds_every_scope_again() -> None:
    grant = new_grant()
    grant.grant(("basic",), "sandbox", BOB)
    grant.deauthorize(BOB, reason="")
    assert grant.adds(("basic",))


# --- codes exchanged under the grant (RFC 6749 §4.1.2: single use) ------------------------------


def test_exchanged_code_is_remembered_with_its_token() -> None:
    grant = new_grant()
    token_id = uuid4()
    grant.record_token(token_id, "c" * 64, NOW, CLIENT)
    [issued] = collected(grant)
    assert (type(issued).__name__, issued.token_id, issued.code_digest, issued.issued_at) == (
        "TokenIssued",
        token_id,
        "c" * 64,
        NOW,
    )
    assert grant.token_for_code("c" * 64) == token_id


def test_a_code_never_exchanged_names_no_token() -> None:
    assert new_grant().token_for_code("c" * 64) is None


def test_recording_an_exchanged_code_again_is_refused() -> None:
    grant = new_grant()
    first = uuid4()
    grant.record_token(first, "c" * 64, NOW, CLIENT)
    with pytest.raises(CodeNotFoundError, match="already used"):
        grant.record_token(uuid4(), "c" * 64, NOW, CLIENT)
    assert grant.token_for_code("c" * 64) == first


def test_replay_is_recorded_with_the_token_the_code_issued() -> None:
    grant = new_grant()
    token_id = uuid4()
    grant.record_token(token_id, "c" * 64, NOW, CLIENT)
    grant.collect_events()
    grant.record_replay("c" * 64, LEDGER)
    [replayed] = collected(grant)
    assert (type(replayed).__name__, replayed.token_id, replayed.actor) == (
        "CodeReplayed",
        token_id,
        "ledger",
    )


def test_replay_of_a_code_never_exchanged_is_refused() -> None:
    with pytest.raises(CodeNotFoundError):
        new_grant().record_replay("c" * 64, LEDGER)


def test_a_deauthorization_does_not_forget_exchanged_codes() -> None:
    grant = new_grant()
    grant.grant(("basic",), "sandbox", BOB)
    token_id = uuid4()
    grant.record_token(token_id, "c" * 64, NOW, CLIENT)
    grant.deauthorize(BOB, reason="")
    assert grant.token_for_code("c" * 64) == token_id


def test_codes_are_remembered_for_the_whole_replay_memory() -> None:
    grant = new_grant()
    grant.record_token(uuid4(), "a" * 64, NOW, CLIENT)
    grant.record_token(uuid4(), "b" * 64, NOW + REPLAY_MEMORY, CLIENT)
    assert grant.token_for_code("a" * 64) is not None


def test_codes_older_than_the_replay_memory_are_forgotten_by_a_later_exchange() -> None:
    grant = new_grant()
    grant.record_token(uuid4(), "a" * 64, NOW, CLIENT)
    grant.record_token(uuid4(), "b" * 64, NOW + timedelta(hours=1), CLIENT)
    grant.record_token(uuid4(), "c" * 64, NOW + REPLAY_MEMORY + timedelta(minutes=1), CLIENT)
    assert [grant.token_for_code(d * 64) is not None for d in "abc"] == [False, True, True]
    assert len(grant.redeemed_codes) == 2


def test_the_replay_memory_outlives_a_code_by_far() -> None:
    from domain.codes import CODE_LIFETIME

    assert REPLAY_MEMORY >= 10 * CODE_LIFETIME


def test_a_copy_of_a_grant_does_not_share_its_exchanged_codes() -> None:
    grant = new_grant()
    grant.record_token(uuid4(), "a" * 64, NOW, CLIENT)
    copied = copy.deepcopy(grant)
    copied.record_token(uuid4(), "b" * 64, NOW, CLIENT)
    assert (grant.token_for_code("b" * 64), copied.redeemed_codes == grant.redeemed_codes) == (
        None,
        False,
    )
