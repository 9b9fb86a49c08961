"""``ReadModel.check``: may this access token use this scope, now, in the app's mode?

Each denial is answered with the legacy platform's exact error (reference: "Error format"), a
reason code and what would fix it. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from domain.actors import Actor
from domain.apps import Mode
from domain.decisions import LIVE_CONSTRAINTS, SANDBOX_CONSTRAINTS, Decision, Reason
from domain.errors import ScopeRetiredError
from tests.support.decision_setup import (
    PLATFORM,
    approve_scopes,
    live_app,
    live_token,
    project,
    sandbox_app,
    sandbox_token,
    token_for,
    unreviewed_live_token,
)

if TYPE_CHECKING:
    from infrastructure.runtime import Runtime

ALL_SCOPES = "basic public_content follower_list comments relationships likes"

INVALID_TOKEN = ("OAuthAccessTokenException", 400, "The access_token provided is invalid.")
CLIENT_INACTIVE = ("OAuthException", 400, "The client used for authentication is no longer active.")
NOT_APPROVED = (
    "OAuthPermissionsException",
    400,
    "This client has not been approved to access this resource.",
)
NOT_SANDBOX_USER = ("OAuthForbiddenException", 403, "You are not a sandbox user of this client")
LIKES_NOT_IN_TOKEN = (
    "OAuthPermissionsException",
    400,
    "This request requires scope=likes, but this access token is not authorized with this "
    "scope. The user must re-authorize your application with scope=likes to be granted this "
    "permissions.",
)


def refusal(decision: Decision) -> tuple[Reason, str, int, str]:
    """What a client would be told: reason code, error_type, HTTP status, message."""
    assert not decision.allowed
    assert decision.denial is not None
    d = decision.denial
    return d.reason, d.error_type, d.http_status, d.message


# --- allowed ----------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ALL_SCOPES.split())
def test_accepted_sandbox_user_is_allowed_each_scope_of_the_token(
    runtime: Runtime, scope: str
) -> None:
    token = sandbox_token(runtime, ALL_SCOPES)
    decision = runtime.read_model.check(token.access_token, scope)
    assert decision.allowed
    assert decision.denial is None
    assert decision.scope == scope


def test_app_owner_is_allowed_as_a_sandbox_user_by_ownership(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic likes", user="dev_owner", owner="dev_owner")
    assert runtime.read_model.check(token.access_token, "likes").allowed


def test_sandbox_check_carries_sandbox_limits(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic likes")
    decision = runtime.read_model.check(token.access_token, "likes")
    assert decision.mode is Mode.SANDBOX
    assert decision.constraints == SANDBOX_CONSTRAINTS
    assert (
        decision.constraints.requests_per_hour,
        decision.constraints.writes_per_hour,
        decision.constraints.media_limit,
    ) == (500, 30, 20)
    assert decision.constraints.data_limited_to_sandbox_users


def test_live_check_carries_live_limits(runtime: Runtime) -> None:
    token = live_token(runtime, "basic likes")
    decision = runtime.read_model.check(token.access_token, "likes")
    assert decision.allowed
    assert decision.mode is Mode.LIVE
    assert decision.constraints == LIVE_CONSTRAINTS
    assert (
        decision.constraints.requests_per_hour,
        decision.constraints.writes_per_hour,
        decision.constraints.media_limit,
    ) == (5000, 60, None)
    assert not decision.constraints.data_limited_to_sandbox_users


def test_check_answers_at_the_position_the_read_models_reached(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    decision = runtime.read_model.check(token.access_token, "basic")
    assert decision.position == runtime.ledger.position() == runtime.read_model.position()


def test_omitted_mode_follows_the_app_going_live(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    assert runtime.read_model.check(token.access_token, "basic").mode is Mode.SANDBOX
    approve_scopes(runtime, token.app, ["basic"])
    runtime.ledger.go_live(token.client_id, Actor.developer(token.app.owner))
    project(runtime)
    decision = runtime.read_model.check(token.access_token, "basic")
    assert decision.allowed
    assert decision.mode is Mode.LIVE
    assert decision.constraints == LIVE_CONSTRAINTS


def test_omitted_mode_follows_the_app_returning_to_sandbox(runtime: Runtime) -> None:
    token = live_token(runtime, "basic", owner="dev_live", user="dev_live")
    runtime.ledger.return_to_sandbox(token.client_id, Actor.developer("dev_live"))
    project(runtime)
    decision = runtime.read_model.check(token.access_token, "basic")
    assert decision.allowed  # the owner is a sandbox user of their app
    assert decision.mode is Mode.SANDBOX


def test_explicit_live_mode_on_an_unapproved_sandbox_app_is_not_approved(
    runtime: Runtime,
) -> None:
    token = sandbox_token(runtime, "basic")
    decision = runtime.read_model.check(token.access_token, "basic", mode=Mode.LIVE)
    assert decision.mode is Mode.LIVE
    assert refusal(decision) == (Reason.NOT_APPROVED, *NOT_APPROVED)


def test_explicit_live_mode_on_an_approved_sandbox_app_allows_with_live_limits(
    runtime: Runtime,
) -> None:
    token = sandbox_token(runtime, "basic")
    approve_scopes(runtime, token.app, ["basic"])
    project(runtime)
    decision = runtime.read_model.check(token.access_token, "basic", mode=Mode.LIVE)
    assert decision.allowed
    assert decision.mode is Mode.LIVE
    assert decision.constraints == LIVE_CONSTRAINTS


def test_approved_app_not_yet_switched_live_is_checked_in_sandbox(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    approve_scopes(runtime, token.app, ["basic"])
    project(runtime)
    assert runtime.read_model.check(token.access_token, "basic").mode is Mode.SANDBOX


def test_explicit_sandbox_mode_on_a_live_app_refuses_a_user_who_is_not_a_sandbox_user(
    runtime: Runtime,
) -> None:
    token = live_token(runtime, "basic")
    decision = runtime.read_model.check(token.access_token, "basic", mode=Mode.SANDBOX)
    assert decision.mode is Mode.SANDBOX
    assert refusal(decision) == (Reason.NOT_SANDBOX_USER, *NOT_SANDBOX_USER)


# --- denials ------------------------------------------------------------------------------------


def test_unknown_token_is_refused_as_invalid(runtime: Runtime) -> None:
    sandbox_token(runtime, "basic")
    decision = runtime.read_model.check("no-such-token", "basic")
    assert refusal(decision) == (Reason.TOKEN_UNKNOWN, *INVALID_TOKEN)
    assert decision.denial is not None
    assert "authorize" in decision.denial.fix


def test_revoked_token_is_refused_as_invalid(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    runtime.ledger.revoke_token(
        Actor.user("alice"), access_token=token.access_token, reason="lost my phone"
    )
    project(runtime)
    decision = runtime.read_model.check(token.access_token, "basic")
    assert refusal(decision) == (Reason.TOKEN_REVOKED, *INVALID_TOKEN)
    assert decision.denial is not None
    assert "authorize the app again" in decision.denial.fix


def test_token_expired_by_the_platform_is_refused_as_invalid(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    runtime.ledger.expire_token(token.token_id, PLATFORM, "platform token expiry")
    project(runtime)
    decision = runtime.read_model.check(token.access_token, "basic")
    assert refusal(decision) == (Reason.TOKEN_EXPIRED, *INVALID_TOKEN)


def test_disabled_apps_token_is_refused_as_client_no_longer_active(runtime: Runtime) -> None:
    token = live_token(runtime, "basic")
    runtime.ledger.disable_app(token.client_id, PLATFORM, "spam")
    project(runtime)
    decision = runtime.read_model.check(token.access_token, "basic")
    assert refusal(decision) == (Reason.APP_DISABLED, *CLIENT_INACTIVE)
    assert decision.denial is not None
    assert "re-enable" in decision.denial.fix


def test_scope_not_in_token_is_refused_with_the_legacy_scope_message(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    decision = runtime.read_model.check(token.access_token, "likes")
    assert refusal(decision) == (Reason.SCOPE_NOT_IN_TOKEN, *LIKES_NOT_IN_TOKEN)
    assert decision.denial is not None
    assert "scope=likes" in decision.denial.fix


def test_scope_added_to_the_grant_later_is_not_in_an_earlier_token(runtime: Runtime) -> None:
    first = sandbox_token(runtime, "basic")
    token_for(runtime, first.app, "alice", "basic likes")
    decision = runtime.read_model.check(first.access_token, "likes")
    assert refusal(decision) == (Reason.SCOPE_NOT_IN_TOKEN, *LIKES_NOT_IN_TOKEN)


def test_deauthorized_users_token_is_refused_as_invalid(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic likes")
    runtime.ledger.deauthorize(token.client_id, "alice", Actor.user("alice"), "no longer use it")
    project(runtime)
    decision = runtime.read_model.check(token.access_token, "likes")
    assert refusal(decision) == (Reason.GRANT_WITHDRAWN, *INVALID_TOKEN)
    assert decision.denial is not None
    assert "scope=likes" in decision.denial.fix


def test_reauthorization_does_not_revive_a_deauthorized_token(runtime: Runtime) -> None:
    old = sandbox_token(runtime, "basic likes")
    runtime.ledger.deauthorize(old.client_id, "alice", Actor.user("alice"), "no longer use it")
    token_for(runtime, old.app, "alice", "basic likes")
    decision = runtime.read_model.check(old.access_token, "likes")
    assert refusal(decision) == (Reason.GRANT_WITHDRAWN, *INVALID_TOKEN)


def test_token_from_a_reauthorization_after_deauthorization_is_allowed(
    runtime: Runtime,
) -> None:
    old = sandbox_token(runtime, "basic likes")
    runtime.ledger.deauthorize(old.client_id, "alice", Actor.user("alice"), "no longer use it")
    new = token_for(runtime, old.app, "alice", "basic likes")
    assert runtime.read_model.check(new.access_token, "likes").allowed


def test_deauthorized_token_is_invalid_even_for_a_scope_it_never_held(
    runtime: Runtime,
) -> None:
    token = sandbox_token(runtime, "basic")
    runtime.ledger.deauthorize(token.client_id, "alice", Actor.user("alice"), "no longer use it")
    project(runtime)
    decision = runtime.read_model.check(token.access_token, "public_content")
    assert refusal(decision) == (Reason.GRANT_WITHDRAWN, *INVALID_TOKEN)


def test_retired_scope_is_refused_as_not_approved(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic likes")
    runtime.ledger.retire_scope("likes", PLATFORM, "April 2018: likes switched off")
    project(runtime)
    decision = runtime.read_model.check(token.access_token, "likes")
    assert refusal(decision) == (Reason.SCOPE_RETIRED, *NOT_APPROVED)
    assert decision.denial is not None
    assert "retired likes" in decision.denial.fix


def test_retiring_a_scope_leaves_the_tokens_other_scopes_allowed(runtime: Runtime) -> None:
    token = live_token(runtime, "basic likes")
    runtime.ledger.retire_scope("likes", PLATFORM, "April 2018: likes switched off")
    project(runtime)
    assert runtime.read_model.check(token.access_token, "basic").allowed


def test_retired_scope_missing_from_the_token_is_refused_as_retired(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    runtime.ledger.retire_scope("likes", PLATFORM, "April 2018: likes switched off")
    project(runtime)
    with pytest.raises(ScopeRetiredError):  # the fix a scope-not-in-token denial gives
        token_for(runtime, token.app, "alice", "basic likes")
    decision = runtime.read_model.check(token.access_token, "likes")
    assert refusal(decision) == (Reason.SCOPE_RETIRED, *NOT_APPROVED)


def test_removed_sandbox_user_is_refused_as_not_a_sandbox_user(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    runtime.ledger.remove_sandbox_user(
        token.client_id, "alice", Actor.developer(token.app.owner), "testing is over"
    )
    project(runtime)
    decision = runtime.read_model.check(token.access_token, "basic")
    assert refusal(decision) == (Reason.NOT_SANDBOX_USER, *NOT_SANDBOX_USER)
    assert decision.denial is not None
    assert "invite" in decision.denial.fix


def test_sandbox_user_who_left_is_refused_as_not_a_sandbox_user(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    runtime.ledger.remove_sandbox_user(token.client_id, "alice", Actor.user("alice"), "leaving")
    project(runtime)
    decision = runtime.read_model.check(token.access_token, "basic")
    assert refusal(decision) == (Reason.NOT_SANDBOX_USER, *NOT_SANDBOX_USER)


def test_sandbox_token_for_a_scope_the_live_approval_lacks_is_not_approved(
    runtime: Runtime,
) -> None:
    token = sandbox_token(runtime, "basic likes")
    approve_scopes(runtime, token.app, ["basic"])
    runtime.ledger.go_live(token.client_id, Actor.developer(token.app.owner))
    project(runtime)
    decision = runtime.read_model.check(token.access_token, "likes")
    assert decision.mode is Mode.LIVE
    assert refusal(decision) == (Reason.NOT_APPROVED, *NOT_APPROVED)
    assert decision.denial is not None
    assert "approved for likes" in decision.denial.fix


def test_withdrawn_approval_is_refused_as_not_approved(runtime: Runtime) -> None:
    token = live_token(runtime, "basic likes")
    runtime.ledger.withdraw_approval(token.client_id, "likes", PLATFORM, "April 2018")
    project(runtime)
    decision = runtime.read_model.check(token.access_token, "likes")
    assert refusal(decision) == (Reason.NOT_APPROVED, *NOT_APPROVED)


def test_withdrawing_one_approval_leaves_the_other_approved_scopes_allowed(
    runtime: Runtime,
) -> None:
    token = live_token(runtime, "basic likes")
    runtime.ledger.withdraw_approval(token.client_id, "likes", PLATFORM, "April 2018")
    project(runtime)
    decision = runtime.read_model.check(token.access_token, "basic")
    assert decision.allowed
    assert decision.mode is Mode.LIVE


def test_withdrawing_the_whole_approval_puts_the_app_back_under_sandbox_rules(
    runtime: Runtime,
) -> None:
    """An app is live only while approved (domain.apps.App.effective_mode)."""
    token = live_token(runtime, "basic likes")
    runtime.ledger.withdraw_approval(token.client_id, None, PLATFORM, "policy violation")
    project(runtime)
    decision = runtime.read_model.check(token.access_token, "basic")
    assert decision.mode is Mode.SANDBOX
    assert refusal(decision) == (Reason.NOT_SANDBOX_USER, *NOT_SANDBOX_USER)


def test_basic_is_allowed_to_an_app_approved_only_for_another_scope(runtime: Runtime) -> None:
    app = live_app(runtime, approved=["likes"])
    token = token_for(runtime, app, "bob", "basic likes")
    decision = runtime.read_model.check(token.access_token, "basic")
    assert decision.allowed
    assert decision.mode is Mode.LIVE


def test_live_app_is_not_approved_for_basic_before_any_review(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    decision = runtime.read_model.check(token.access_token, "basic", mode=Mode.LIVE)
    assert refusal(decision) == (Reason.NOT_APPROVED, *NOT_APPROVED)


def test_unreviewed_live_app_may_use_any_scope_while_the_policy_allows_it(
    runtime: Runtime,
) -> None:
    token = unreviewed_live_token(runtime, "basic likes")
    decision = runtime.read_model.check(token.access_token, "likes")
    assert decision.allowed
    assert decision.mode is Mode.LIVE


def test_moving_unreviewed_apps_to_sandbox_refuses_users_who_are_not_sandbox_users(
    runtime: Runtime,
) -> None:
    token = unreviewed_live_token(runtime, "basic likes")
    runtime.ledger.move_unreviewed_apps_to_sandbox(PLATFORM, "June 2016")
    project(runtime)
    decision = runtime.read_model.check(token.access_token, "likes")
    assert decision.mode is Mode.SANDBOX
    assert refusal(decision) == (Reason.NOT_SANDBOX_USER, *NOT_SANDBOX_USER)


def test_moving_unreviewed_apps_to_sandbox_keeps_sandbox_users_allowed(
    runtime: Runtime,
) -> None:
    runtime.ledger.allow_unreviewed_live(PLATFORM, "before the review process")
    app = sandbox_app(runtime, "dev_early")
    runtime.ledger.go_live(app.client_id, Actor.developer("dev_early"))
    token = token_for(runtime, app, "dev_early", "basic likes")
    runtime.ledger.move_unreviewed_apps_to_sandbox(PLATFORM, "June 2016")
    project(runtime)
    decision = runtime.read_model.check(token.access_token, "likes")
    assert decision.allowed
    assert decision.mode is Mode.SANDBOX


def test_moving_unreviewed_apps_to_sandbox_leaves_approved_live_apps_live(
    runtime: Runtime,
) -> None:
    token = live_token(runtime, "basic likes")
    runtime.ledger.allow_unreviewed_live(PLATFORM, "before the review process")
    runtime.ledger.move_unreviewed_apps_to_sandbox(PLATFORM, "June 2016")
    project(runtime)
    decision = runtime.read_model.check(token.access_token, "likes")
    assert decision.allowed
    assert decision.mode is Mode.LIVE
