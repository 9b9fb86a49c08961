"""The scope catalogue: the seed's scopes and the platform's policy changes over the years."""

from __future__ import annotations

import pytest

from domain.actors import Actor
from domain.errors import (
    InvalidInputError,
    InvalidScopeError,
    NotPermittedError,
    PolicyUnchangedError,
    ScopeApplicationsClosedError,
    ScopeRetiredError,
)
from domain.identity import SCOPE_CATALOGUE_ID
from domain.scopes import ScopeCatalogue
from tests.unit.builders import PLATFORM, catalogue, collected, event_names

CLOSED_IN_SEED = ("public_content", "follower_list", "comments", "relationships", "likes")

# Verbatim from the seed document's list of scopes.
SEED_DESCRIPTIONS = {
    "basic": "to read a user's profile info and media",
    "public_content": "to read any public profile info and media on a user's behalf",
    "follower_list": "to read the list of followers and followed-by users",
    "comments": "to post and delete comments on a user's behalf",
    "relationships": "to follow and unfollow accounts on a user's behalf",
    "likes": "to like and unlike media on a user's behalf",
}

NOT_PLATFORM = [
    pytest.param(Actor.reviewer("rita"), id="reviewer"),
    pytest.param(Actor.developer("alice"), id="developer"),
    pytest.param(Actor.user("bob"), id="user"),
    pytest.param(Actor.client("0" * 32), id="client"),
]


# --- the seed -----------------------------------------------------------------------------------


def test_seed_catalogue_holds_the_seeds_six_scopes() -> None:
    assert catalogue().names == frozenset(SEED_DESCRIPTIONS)


def test_seed_catalogue_has_basic_open_for_review() -> None:
    assert catalogue().policy("basic").applications_open


@pytest.mark.parametrize("scope", CLOSED_IN_SEED)
def test_seed_catalogue_no_longer_accepts_applications_for_extended_scopes(scope: str) -> None:
    assert not catalogue().policy(scope).applications_open


def test_seed_catalogue_has_no_retired_scope() -> None:
    cat = catalogue()
    assert not any(cat.policy(scope).retired for scope in cat.names)


def test_seed_catalogue_describes_each_scope_as_the_seed_does() -> None:
    cat = catalogue()
    assert {scope: cat.policy(scope).description for scope in cat.names} == SEED_DESCRIPTIONS


def test_seed_catalogue_holds_unreviewed_apps_in_sandbox() -> None:
    assert not catalogue().unreviewed_live_allowed


def test_catalogue_has_one_fixed_id() -> None:
    assert ScopeCatalogue.seed(PLATFORM).id == SCOPE_CATALOGUE_ID


def test_seeding_records_one_created_event() -> None:
    assert event_names(ScopeCatalogue.seed(PLATFORM)) == ["Created"]


def test_policy_of_an_unknown_scope_is_refused() -> None:
    with pytest.raises(InvalidScopeError, match="stories"):
        catalogue().policy("stories")


def test_catalogue_parses_scope_parameters_against_its_own_scopes() -> None:
    assert catalogue().parse("likes comments") == ("comments", "likes")


# --- closing and reopening applications ---------------------------------------------------------


def test_platform_closes_applications_for_an_open_scope() -> None:
    cat = catalogue()
    cat.close_applications("basic", PLATFORM, reason="late 2017")
    assert not cat.policy("basic").applications_open


def test_closing_applications_records_scope_and_reason() -> None:
    cat = catalogue()
    cat.close_applications("basic", PLATFORM, reason="late 2017")
    [closed] = collected(cat)
    assert type(closed).__name__ == "ApplicationsClosed"
    assert (closed.scope, closed.reason) == ("basic", "late 2017")


def test_closing_applications_keeps_the_scope_usable() -> None:
    cat = catalogue()
    cat.close_applications("basic", PLATFORM, reason="late 2017")
    cat.require_not_retired(["basic"])


@pytest.mark.parametrize("actor", NOT_PLATFORM)
def test_only_the_platform_closes_applications(actor: Actor) -> None:
    cat = catalogue()
    with pytest.raises(NotPermittedError):
        cat.close_applications("basic", actor, reason="")
    assert cat.policy("basic").applications_open
    assert cat.collect_events() == []


def test_closing_closed_applications_is_a_policy_no_op() -> None:
    with pytest.raises(PolicyUnchangedError):
        catalogue().close_applications("likes", PLATFORM, reason="")


def test_platform_reopens_applications_for_a_closed_scope() -> None:
    cat = catalogue()
    cat.reopen_applications("likes", PLATFORM, reason="")
    assert cat.policy("likes").applications_open
    assert event_names(cat) == ["ApplicationsReopened"]


@pytest.mark.parametrize("actor", NOT_PLATFORM)
def test_only_the_platform_reopens_applications(actor: Actor) -> None:
    cat = catalogue()
    with pytest.raises(NotPermittedError):
        cat.reopen_applications("likes", actor, reason="")
    assert not cat.policy("likes").applications_open


def test_reopening_open_applications_is_a_policy_no_op() -> None:
    with pytest.raises(PolicyUnchangedError):
        catalogue().reopen_applications("basic", PLATFORM, reason="")


def test_review_is_refused_for_a_scope_whose_applications_are_closed() -> None:
    with pytest.raises(ScopeApplicationsClosedError, match="no longer accepted"):
        catalogue().require_open_for_review("likes")


def test_review_is_accepted_for_an_open_scope() -> None:
    catalogue().require_open_for_review("basic")


# --- retirement ---------------------------------------------------------------------------------


def test_platform_retires_a_scope() -> None:
    cat = catalogue()
    cat.retire("likes", PLATFORM, reason="April 2018")
    assert cat.policy("likes").retired


def test_retiring_a_scope_records_scope_and_reason() -> None:
    cat = catalogue()
    cat.retire("likes", PLATFORM, reason="April 2018")
    [retired] = collected(cat)
    assert type(retired).__name__ == "ScopeRetired"
    assert (retired.scope, retired.reason) == ("likes", "April 2018")


def test_retiring_an_open_scope_closes_its_applications() -> None:
    cat = catalogue()
    cat.retire("basic", PLATFORM, reason="2020")
    assert not cat.policy("basic").applications_open


@pytest.mark.parametrize("actor", NOT_PLATFORM)
def test_only_the_platform_retires_a_scope(actor: Actor) -> None:
    cat = catalogue()
    with pytest.raises(NotPermittedError):
        cat.retire("likes", actor, reason="April 2018")
    assert not cat.policy("likes").retired


def test_retiring_a_scope_needs_a_reason() -> None:
    cat = catalogue()
    with pytest.raises(InvalidInputError, match="reason"):
        cat.retire("likes", PLATFORM, reason="  ")
    assert not cat.policy("likes").retired


def test_retiring_a_retired_scope_is_a_policy_no_op() -> None:
    cat = catalogue()
    cat.retire("likes", PLATFORM, reason="April 2018")
    with pytest.raises(PolicyUnchangedError):
        cat.retire("likes", PLATFORM, reason="again")


def test_retirement_is_final() -> None:
    cat = catalogue()
    cat.retire("likes", PLATFORM, reason="April 2018")
    with pytest.raises(ScopeRetiredError):
        cat.reopen_applications("likes", PLATFORM, reason="")
    assert not cat.policy("likes").applications_open


def test_closing_applications_of_a_retired_scope_is_refused() -> None:
    cat = catalogue()
    cat.retire("basic", PLATFORM, reason="2020")
    with pytest.raises(ScopeRetiredError):
        cat.close_applications("basic", PLATFORM, reason="")


def test_a_retired_scope_cannot_be_used() -> None:
    cat = catalogue()
    cat.retire("likes", PLATFORM, reason="April 2018")
    with pytest.raises(ScopeRetiredError, match="likes"):
        cat.require_not_retired(["basic", "likes"])


def test_review_is_refused_for_a_retired_scope() -> None:
    cat = catalogue()
    cat.retire("basic", PLATFORM, reason="2020")
    with pytest.raises(ScopeRetiredError):
        cat.require_open_for_review("basic")


# --- unreviewed apps ----------------------------------------------------------------------------


def test_platform_allows_unreviewed_apps_to_go_live() -> None:
    cat = catalogue()
    cat.allow_unreviewed_live(PLATFORM, reason="before November 2015")
    assert cat.unreviewed_live_allowed


def test_allowing_unreviewed_live_twice_is_a_policy_no_op() -> None:
    cat = catalogue()
    cat.allow_unreviewed_live(PLATFORM, reason="")
    with pytest.raises(PolicyUnchangedError):
        cat.allow_unreviewed_live(PLATFORM, reason="")


@pytest.mark.parametrize("actor", NOT_PLATFORM)
def test_only_the_platform_allows_unreviewed_apps_to_go_live(actor: Actor) -> None:
    cat = catalogue()
    with pytest.raises(NotPermittedError):
        cat.allow_unreviewed_live(actor, reason="")
    assert not cat.unreviewed_live_allowed


def test_platform_moves_unreviewed_apps_back_to_sandbox() -> None:
    cat = catalogue()
    cat.allow_unreviewed_live(PLATFORM, reason="")
    cat.collect_events()
    cat.move_unreviewed_apps_to_sandbox(PLATFORM, reason="June 2016")
    assert not cat.unreviewed_live_allowed
    assert event_names(cat) == ["UnreviewedAppsMovedToSandbox"]


def test_moving_unreviewed_apps_to_sandbox_requires_them_to_be_allowed_live() -> None:
    cat = catalogue()
    with pytest.raises(PolicyUnchangedError):
        cat.move_unreviewed_apps_to_sandbox(PLATFORM, reason="June 2016")
    assert cat.collect_events() == []


@pytest.mark.parametrize("actor", NOT_PLATFORM)
def test_only_the_platform_moves_unreviewed_apps_to_sandbox(actor: Actor) -> None:
    cat = catalogue()
    cat.allow_unreviewed_live(PLATFORM, reason="")
    with pytest.raises(NotPermittedError):
        cat.move_unreviewed_apps_to_sandbox(actor, reason="June 2016")
    assert cat.unreviewed_live_allowed


# --- introducing scopes -------------------------------------------------------------------------


def test_platform_introduces_a_scope() -> None:
    cat = catalogue()
    cat.introduce_scope("stories", "to read a user's stories", True, PLATFORM, reason="")
    policy = cat.policy("stories")
    assert (policy.description, policy.applications_open, policy.retired) == (
        "to read a user's stories",
        True,
        False,
    )


def test_introduced_scope_may_start_closed() -> None:
    cat = catalogue()
    cat.introduce_scope("stories", "to read a user's stories", False, PLATFORM, reason="")
    assert not cat.policy("stories").applications_open


def test_introduced_scope_is_accepted_in_a_scope_parameter() -> None:
    cat = catalogue()
    cat.introduce_scope("stories", "to read a user's stories", True, PLATFORM, reason="")
    assert cat.parse("basic stories") == ("basic", "stories")


def test_introducing_a_scope_records_it() -> None:
    cat = catalogue()
    cat.introduce_scope("stories", "to read a user's stories", True, PLATFORM, reason="Nov 2015")
    [introduced] = collected(cat)
    assert type(introduced).__name__ == "ScopeIntroduced"
    assert (introduced.scope, introduced.applications_open, introduced.reason) == (
        "stories",
        True,
        "Nov 2015",
    )


def test_introducing_an_existing_scope_is_a_policy_no_op() -> None:
    with pytest.raises(PolicyUnchangedError):
        catalogue().introduce_scope("likes", "to like media", True, PLATFORM, reason="")


def test_introducing_a_retired_scope_again_is_refused() -> None:
    cat = catalogue()
    cat.retire("likes", PLATFORM, reason="April 2018")
    with pytest.raises(PolicyUnchangedError):
        cat.introduce_scope("likes", "to like media", True, PLATFORM, reason="")
    assert cat.policy("likes").retired


@pytest.mark.parametrize("name", ["", "Stories", "new stories", "stories-read", "_"])
def test_introduced_scope_name_is_lower_case_letters_digits_and_underscores(name: str) -> None:
    with pytest.raises(InvalidInputError):
        catalogue().introduce_scope(name, "a description", True, PLATFORM, reason="")


@pytest.mark.parametrize("name", ["café", "stories²"])
def test_introduced_scope_name_must_be_ascii(name: str) -> None:
    with pytest.raises(InvalidInputError):
        catalogue().introduce_scope(name, "a description", True, PLATFORM, reason="")


def test_introduced_scope_needs_a_description() -> None:
    with pytest.raises(InvalidInputError, match="description"):
        catalogue().introduce_scope("stories", "  ", True, PLATFORM, reason="")


@pytest.mark.parametrize("actor", NOT_PLATFORM)
def test_only_the_platform_introduces_a_scope(actor: Actor) -> None:
    cat = catalogue()
    with pytest.raises(NotPermittedError):
        cat.introduce_scope("stories", "to read a user's stories", True, actor, reason="")
    assert "stories" not in cat.names
