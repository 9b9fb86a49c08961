"""The permission rule ``decide(CheckFacts, scope, mode)``: every branch, as a pure function.

The facts stand for what the read models found at one log position; each denial carries the
legacy platform's exact error (reference: "Error format") and names what would fix it.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.apps import Mode
from domain.decisions import (
    CLIENT_INACTIVE,
    INVALID_TOKEN,
    LIVE_CONSTRAINTS,
    NOT_APPROVED,
    NOT_SANDBOX_USER,
    SANDBOX_CONSTRAINTS,
    CheckFacts,
    Constraints,
    Reason,
    constraints_for,
    decide,
    missing_scope_message,
)

SCOPES = ("basic", "public_content", "follower_list", "comments", "relationships", "likes")

# A sandbox user's healthy token for basic and likes, on an app in sandbox mode.
SANDBOX_OK = CheckFacts(
    token_found=True,
    token_scopes=("basic", "likes"),
    user_is_sandbox_user=True,
)
# A healthy token for basic and likes on a live app approved for both (the user is no
# sandbox user).
LIVE_OK = CheckFacts(
    token_found=True,
    token_scopes=("basic", "likes"),
    app_switched_live=True,
    app_approved_scopes=("basic", "likes"),
)

LIKES_MESSAGE = (
    "This request requires scope=likes, but this access token is not authorized with this "
    "scope. The user must re-authorize your application with scope=likes to be granted this "
    "permissions."
)


# --- another user's data in sandbox mode -------------------------------------------------------


def test_sandbox_call_on_the_data_of_a_user_outside_the_sandbox_is_forbidden() -> None:
    denial = decide(replace(SANDBOX_OK, data_owner_is_sandbox_user=False), "likes").denial
    assert denial is not None
    assert (denial.reason, denial.error_type, denial.http_status, denial.message) == (
        Reason.DATA_OWNER_NOT_SANDBOX_USER,
        "OAuthForbiddenException",
        403,
        "The requested user is not a sandbox user of this client",
    )


def test_live_call_on_the_data_of_a_user_outside_any_sandbox_is_allowed() -> None:
    assert decide(replace(LIVE_OK, data_owner_is_sandbox_user=False), "likes").allowed


def test_the_token_users_own_sandbox_membership_is_checked_before_the_data_owners() -> None:
    facts = replace(SANDBOX_OK, user_is_sandbox_user=False, data_owner_is_sandbox_user=False)
    denial = decide(facts, "likes").denial
    assert denial is not None
    assert denial.reason is Reason.NOT_SANDBOX_USER


# --- the legacy messages and the constraints --------------------------------------------------


def test_missing_scope_message_is_the_legacy_text_for_likes() -> None:
    assert missing_scope_message("likes") == LIKES_MESSAGE


@pytest.mark.parametrize("scope", SCOPES)
def test_missing_scope_message_names_the_scope_twice(scope: str) -> None:
    message = missing_scope_message(scope)
    assert message.count(f"scope={scope}") == 2
    assert message == LIKES_MESSAGE.replace("scope=likes", f"scope={scope}")


def test_legacy_messages_are_verbatim() -> None:
    assert INVALID_TOKEN == "The access_token provided is invalid."
    assert NOT_APPROVED == "This client has not been approved to access this resource."
    assert NOT_SANDBOX_USER == "You are not a sandbox user of this client"
    assert CLIENT_INACTIVE == "The client used for authentication is no longer active."


def test_sandbox_constraints_are_500_requests_30_writes_and_20_media() -> None:
    assert constraints_for(Mode.SANDBOX) == Constraints(
        requests_per_hour=500,
        writes_per_hour=30,
        media_limit=20,
        data_limited_to_sandbox_users=True,
    )


def test_live_constraints_are_5000_requests_60_writes_and_no_media_limit() -> None:
    assert constraints_for(Mode.LIVE) == Constraints(
        requests_per_hour=5000,
        writes_per_hour=60,
        media_limit=None,
        data_limited_to_sandbox_users=False,
    )


# --- the app's mode from the facts ------------------------------------------------------------


def test_app_never_switched_live_is_in_sandbox() -> None:
    assert replace(LIVE_OK, app_switched_live=False).app_mode is Mode.SANDBOX


def test_app_switched_live_with_an_approval_is_live() -> None:
    assert LIVE_OK.app_mode is Mode.LIVE


def test_app_switched_live_without_approval_is_in_sandbox() -> None:
    assert replace(LIVE_OK, app_approved_scopes=()).app_mode is Mode.SANDBOX


def test_app_switched_live_without_approval_is_live_while_policy_allows_unreviewed_apps() -> None:
    facts = replace(LIVE_OK, app_approved_scopes=(), unreviewed_live_allowed=True)
    assert facts.app_mode is Mode.LIVE


def test_approved_app_not_switched_live_is_in_sandbox() -> None:
    facts = replace(SANDBOX_OK, app_approved_scopes=("basic",), unreviewed_live_allowed=True)
    assert facts.app_mode is Mode.SANDBOX


# --- allowed ----------------------------------------------------------------------------------


def test_sandbox_user_is_allowed_a_scope_of_the_token_in_sandbox() -> None:
    decision = decide(SANDBOX_OK, "likes")
    assert decision.allowed
    assert decision.denial is None
    assert decision.scope == "likes"


def test_sandbox_decision_carries_sandbox_mode_and_constraints() -> None:
    decision = decide(SANDBOX_OK, "basic")
    assert decision.mode is Mode.SANDBOX
    assert decision.constraints == SANDBOX_CONSTRAINTS


def test_sandbox_allows_a_scope_the_app_was_never_approved_for() -> None:
    assert decide(replace(SANDBOX_OK, app_approved_scopes=()), "likes").allowed


def test_live_app_is_allowed_an_approved_scope_of_the_token() -> None:
    decision = decide(LIVE_OK, "likes")
    assert decision.allowed
    assert decision.mode is Mode.LIVE
    assert decision.constraints == LIVE_CONSTRAINTS


def test_live_mode_does_not_need_the_user_to_be_a_sandbox_user() -> None:
    assert decide(replace(LIVE_OK, user_is_sandbox_user=False), "basic").allowed


def test_unreviewed_live_app_may_use_any_scope_while_policy_allows_it() -> None:
    facts = replace(LIVE_OK, app_approved_scopes=(), unreviewed_live_allowed=True)
    decision = decide(facts, "likes")
    assert decision.allowed
    assert decision.mode is Mode.LIVE


def test_omitted_mode_is_the_apps_mode() -> None:
    assert decide(SANDBOX_OK, "basic").mode is Mode.SANDBOX
    assert decide(LIVE_OK, "basic").mode is Mode.LIVE


def test_explicit_live_mode_applies_live_rules_to_a_sandbox_app() -> None:
    facts = replace(SANDBOX_OK, app_approved_scopes=("basic",))
    decision = decide(facts, "basic", Mode.LIVE)
    assert decision.allowed
    assert decision.mode is Mode.LIVE
    assert decision.constraints == LIVE_CONSTRAINTS


def test_explicit_sandbox_mode_applies_sandbox_rules_to_a_live_app() -> None:
    decision = decide(LIVE_OK, "basic", Mode.SANDBOX)
    assert decision.mode is Mode.SANDBOX
    assert decision.constraints == SANDBOX_CONSTRAINTS
    assert decision.denial is not None
    assert decision.denial.reason is Reason.NOT_SANDBOX_USER


# --- each denial, with its legacy error ---------------------------------------------------------


def test_unknown_token_is_an_invalid_access_token() -> None:
    denial = decide(CheckFacts(token_found=False), "basic").denial
    assert denial is not None
    assert (denial.reason, denial.error_type, denial.http_status, denial.message) == (
        Reason.TOKEN_UNKNOWN,
        "OAuthAccessTokenException",
        400,
        "The access_token provided is invalid.",
    )
    assert "authorize" in denial.fix


def test_revoked_token_is_an_invalid_access_token() -> None:
    denial = decide(replace(SANDBOX_OK, token_revoked=True), "basic").denial
    assert denial is not None
    assert (denial.reason, denial.error_type, denial.http_status, denial.message) == (
        Reason.TOKEN_REVOKED,
        "OAuthAccessTokenException",
        400,
        "The access_token provided is invalid.",
    )
    assert "authorize the app again" in denial.fix


def test_expired_token_is_an_invalid_access_token() -> None:
    denial = decide(replace(SANDBOX_OK, token_expired=True), "basic").denial
    assert denial is not None
    assert (denial.reason, denial.error_type, denial.http_status, denial.message) == (
        Reason.TOKEN_EXPIRED,
        "OAuthAccessTokenException",
        400,
        "The access_token provided is invalid.",
    )
    assert "authorize the app again" in denial.fix


def test_disabled_app_is_no_longer_active() -> None:
    denial = decide(replace(LIVE_OK, app_disabled=True), "basic").denial
    assert denial is not None
    assert (denial.reason, denial.error_type, denial.http_status, denial.message) == (
        Reason.APP_DISABLED,
        "OAuthException",
        400,
        "The client used for authentication is no longer active.",
    )
    assert "re-enable" in denial.fix


def test_scope_not_in_token_needs_reauthorization_with_that_scope() -> None:
    denial = decide(replace(SANDBOX_OK, token_scopes=("basic",)), "likes").denial
    assert denial is not None
    assert (denial.reason, denial.error_type, denial.http_status, denial.message) == (
        Reason.SCOPE_NOT_IN_TOKEN,
        "OAuthPermissionsException",
        400,
        LIKES_MESSAGE,
    )
    assert "scope=likes" in denial.fix


def test_withdrawn_grant_makes_the_token_invalid() -> None:
    denial = decide(replace(SANDBOX_OK, grant_withdrawn=True), "likes").denial
    assert denial is not None
    assert (denial.reason, denial.error_type, denial.http_status, denial.message) == (
        Reason.GRANT_WITHDRAWN,
        "OAuthAccessTokenException",
        400,
        "The access_token provided is invalid.",
    )
    assert "deauthorized" in denial.fix
    assert "scope=likes" in denial.fix


def test_retired_scope_is_not_approved_for_any_app() -> None:
    denial = decide(replace(LIVE_OK, scope_retired=True), "likes").denial
    assert denial is not None
    assert (denial.reason, denial.error_type, denial.http_status, denial.message) == (
        Reason.SCOPE_RETIRED,
        "OAuthPermissionsException",
        400,
        "This client has not been approved to access this resource.",
    )
    assert "retired likes" in denial.fix


def test_sandbox_app_refuses_a_user_who_is_not_a_sandbox_user() -> None:
    denial = decide(replace(SANDBOX_OK, user_is_sandbox_user=False), "basic").denial
    assert denial is not None
    assert (denial.reason, denial.error_type, denial.http_status, denial.message) == (
        Reason.NOT_SANDBOX_USER,
        "OAuthForbiddenException",
        403,
        "You are not a sandbox user of this client",
    )
    assert "invite" in denial.fix


def test_live_app_is_refused_a_scope_it_was_not_approved_for() -> None:
    denial = decide(replace(LIVE_OK, app_approved_scopes=("basic",)), "likes").denial
    assert denial is not None
    assert (denial.reason, denial.error_type, denial.http_status, denial.message) == (
        Reason.NOT_APPROVED,
        "OAuthPermissionsException",
        400,
        "This client has not been approved to access this resource.",
    )
    assert "approved for likes" in denial.fix


def test_explicit_live_mode_refuses_an_unapproved_sandbox_app() -> None:
    decision = decide(SANDBOX_OK, "basic", Mode.LIVE)
    assert decision.denial is not None
    assert decision.denial.reason is Reason.NOT_APPROVED
    assert decision.mode is Mode.LIVE


def test_unreviewed_live_policy_does_not_widen_an_approved_apps_scopes() -> None:
    facts = replace(LIVE_OK, app_approved_scopes=("basic",), unreviewed_live_allowed=True)
    denial = decide(facts, "likes").denial
    assert denial is not None
    assert denial.reason is Reason.NOT_APPROVED


def test_unreviewed_live_app_follows_sandbox_rules_once_policy_ends() -> None:
    facts = replace(LIVE_OK, app_approved_scopes=(), unreviewed_live_allowed=False)
    decision = decide(facts, "likes")
    assert decision.mode is Mode.SANDBOX
    assert decision.denial is not None
    assert decision.denial.reason is Reason.NOT_SANDBOX_USER


# --- the first failing link wins ----------------------------------------------------------------


ALL_WRONG = CheckFacts(
    token_found=True,
    token_revoked=True,
    token_expired=True,
    token_scopes=(),
    app_disabled=True,
    app_switched_live=True,
    app_approved_scopes=("basic",),
    grant_withdrawn=True,
    scope_retired=True,
    user_is_sandbox_user=False,
)


@pytest.mark.parametrize(
    ("fixed", "reason"),
    [
        ({}, Reason.TOKEN_REVOKED),
        ({"token_revoked": False}, Reason.TOKEN_EXPIRED),
        ({"token_revoked": False, "token_expired": False}, Reason.APP_DISABLED),
        (
            {"token_revoked": False, "token_expired": False, "app_disabled": False},
            Reason.GRANT_WITHDRAWN,
        ),
        (
            {
                "token_revoked": False,
                "token_expired": False,
                "app_disabled": False,
                "grant_withdrawn": False,
            },
            Reason.SCOPE_RETIRED,
        ),
        (
            {
                "token_revoked": False,
                "token_expired": False,
                "app_disabled": False,
                "grant_withdrawn": False,
                "scope_retired": False,
            },
            Reason.SCOPE_NOT_IN_TOKEN,
        ),
        (
            {
                "token_revoked": False,
                "token_expired": False,
                "app_disabled": False,
                "grant_withdrawn": False,
                "scope_retired": False,
                "token_scopes": ("likes",),
            },
            Reason.NOT_APPROVED,
        ),
    ],
)
def test_denial_names_the_first_failing_link_of_the_chain(
    fixed: dict[str, object], reason: Reason
) -> None:
    denial = decide(replace(ALL_WRONG, **fixed), "likes").denial  # type: ignore[arg-type]
    assert denial is not None
    assert denial.reason is reason


facts_strategy = st.builds(
    CheckFacts,
    token_found=st.booleans(),
    token_revoked=st.booleans(),
    token_expired=st.booleans(),
    token_scopes=st.lists(st.sampled_from(SCOPES), unique=True).map(tuple),
    app_disabled=st.booleans(),
    app_switched_live=st.booleans(),
    app_approved_scopes=st.lists(st.sampled_from(SCOPES), unique=True).map(tuple),
    unreviewed_live_allowed=st.booleans(),
    grant_withdrawn=st.booleans(),
    scope_retired=st.booleans(),
    user_is_sandbox_user=st.booleans(),
)
modes = st.one_of(st.none(), st.sampled_from(Mode))


@given(facts=facts_strategy, scope=st.sampled_from(SCOPES), mode=modes)
def test_a_decision_is_allowed_exactly_when_it_has_no_denial(
    facts: CheckFacts, scope: str, mode: Mode | None
) -> None:
    decision = decide(facts, scope, mode)
    assert decision.allowed is (decision.denial is None)


@given(facts=facts_strategy, scope=st.sampled_from(SCOPES), mode=modes)
def test_a_decisions_constraints_are_those_of_its_mode(
    facts: CheckFacts, scope: str, mode: Mode | None
) -> None:
    decision = decide(facts, scope, mode)
    assert decision.mode is (mode or facts.app_mode)
    assert decision.constraints == constraints_for(decision.mode)


@given(facts=facts_strategy, scope=st.sampled_from(SCOPES), mode=modes)
def test_a_token_never_issued_is_invalid_whatever_else_holds(
    facts: CheckFacts, scope: str, mode: Mode | None
) -> None:
    denial = decide(replace(facts, token_found=False), scope, mode).denial
    assert denial is not None
    assert denial.reason is Reason.TOKEN_UNKNOWN


@given(facts=facts_strategy, scope=st.sampled_from(SCOPES), mode=modes)
def test_a_scope_missing_from_the_token_is_never_allowed(
    facts: CheckFacts, scope: str, mode: Mode | None
) -> None:
    without = tuple(s for s in facts.token_scopes if s != scope)
    assert not decide(replace(facts, token_scopes=without), scope, mode).allowed


@given(facts=facts_strategy, scope=st.sampled_from(SCOPES), mode=modes)
def test_every_denial_is_one_of_the_legacy_errors(
    facts: CheckFacts, scope: str, mode: Mode | None
) -> None:
    denial = decide(facts, scope, mode).denial
    legacy = {
        ("OAuthAccessTokenException", 400, INVALID_TOKEN),
        ("OAuthException", 400, CLIENT_INACTIVE),
        ("OAuthPermissionsException", 400, missing_scope_message(scope)),
        ("OAuthPermissionsException", 400, NOT_APPROVED),
        ("OAuthForbiddenException", 403, NOT_SANDBOX_USER),
    }
    if denial is not None:
        assert (denial.error_type, denial.http_status, denial.message) in legacy
        assert denial.fix
