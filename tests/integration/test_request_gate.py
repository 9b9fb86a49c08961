"""``ReadModel.gate``: may this token make this legacy API call? Every scope the endpoint needs
(reference: "Which scope each legacy endpoint needs") must be allowed; a denial is the legacy
error for the first scope that is not."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from domain.actors import Actor
from domain.apps import Mode
from domain.decisions import Decision, Reason
from domain.errors import InvalidInputError
from domain.identity import user_id
from tests.support.decision_setup import (
    approve_scopes,
    project,
    sandbox_token,
)

if TYPE_CHECKING:
    from infrastructure.runtime import Runtime

OTHER_USER = user_id("somebody_else").hex


def scope_message(scope: str) -> str:
    return (
        f"This request requires scope={scope}, but this access token is not authorized with "
        f"this scope. The user must re-authorize your application with scope={scope} to be "
        "granted this permissions."
    )


def missing(decision: Decision) -> tuple[str, str, int, str]:
    """The scope refused, and the legacy error_type, status and message for it."""
    assert not decision.allowed
    assert decision.denial is not None
    assert decision.denial.reason is Reason.SCOPE_NOT_IN_TOKEN
    return (
        decision.scope,
        decision.denial.error_type,
        decision.denial.http_status,
        decision.denial.message,
    )


def refused_for(scope: str) -> tuple[str, str, int, str]:
    return scope, "OAuthPermissionsException", 400, scope_message(scope)


# --- users ----------------------------------------------------------------------------------------


def test_own_profile_is_allowed_with_basic(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    decision = runtime.read_model.gate(token.access_token, "GET", "/users/self")
    assert decision.allowed
    assert decision.scope == "basic"


def test_own_profile_is_refused_to_a_token_without_basic(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "likes")
    decision = runtime.read_model.gate(token.access_token, "GET", "/users/self")
    assert missing(decision) == refused_for("basic")


def test_another_users_profile_is_refused_without_public_content(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    decision = runtime.read_model.gate(token.access_token, "GET", f"/users/{OTHER_USER}")
    assert missing(decision) == refused_for("public_content")


def test_another_sandbox_users_profile_is_allowed_with_public_content(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic public_content")
    owner = user_id(token.app.owner).hex  # the app's owner: a sandbox user by ownership
    decision = runtime.read_model.gate(token.access_token, "GET", f"/users/{owner}")
    assert decision.allowed
    assert decision.scope == "public_content"


def test_own_profile_by_id_needs_only_basic(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    decision = runtime.read_model.gate(token.access_token, "GET", f"/users/{token.user_id}")
    assert decision.allowed
    assert decision.scope == "basic"


def test_own_recent_media_by_id_needs_only_basic(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    decision = runtime.read_model.gate(
        token.access_token, "GET", f"/users/{token.user_id}/media/recent"
    )
    assert decision.allowed


def test_follower_list_endpoint_is_allowed_to_a_sandbox_token_with_follower_list(
    runtime: Runtime,
) -> None:
    token = sandbox_token(runtime, "basic follower_list")
    decision = runtime.read_model.gate(token.access_token, "GET", "/users/self/follows")
    assert decision.allowed
    assert decision.scope == "follower_list"


# --- media --------------------------------------------------------------------------------------


def test_liking_media_with_likes_and_public_content_is_allowed(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic likes public_content")
    decision = runtime.read_model.gate(token.access_token, "POST", "/media/1/likes")
    assert decision.allowed


def test_liking_someone_elses_media_is_refused_without_public_content(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic likes")
    decision = runtime.read_model.gate(
        token.access_token, "POST", "/media/1/likes", resource_owner=OTHER_USER
    )
    assert missing(decision) == refused_for("public_content")


def test_liking_media_of_an_unknown_owner_is_refused_without_public_content(
    runtime: Runtime,
) -> None:
    token = sandbox_token(runtime, "basic likes")
    decision = runtime.read_model.gate(token.access_token, "POST", "/media/1/likes")
    assert missing(decision) == refused_for("public_content")


def test_liking_own_media_needs_only_likes(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic likes")
    decision = runtime.read_model.gate(
        token.access_token, "POST", "/media/1/likes", resource_owner=token.user_id
    )
    assert decision.allowed
    assert decision.scope == "likes"


def test_liking_without_either_scope_is_refused_for_likes_first(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    decision = runtime.read_model.gate(token.access_token, "POST", "/media/1/likes")
    assert missing(decision) == refused_for("likes")


def test_unliking_someone_elses_media_is_refused_without_public_content(
    runtime: Runtime,
) -> None:
    token = sandbox_token(runtime, "basic likes")
    decision = runtime.read_model.gate(
        token.access_token, "DELETE", "/media/1/likes", resource_owner=OTHER_USER
    )
    assert missing(decision) == refused_for("public_content")


def test_tag_media_is_refused_without_public_content(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    decision = runtime.read_model.gate(token.access_token, "GET", "/tags/x/media/recent")
    assert missing(decision) == refused_for("public_content")


def test_tag_media_is_allowed_with_public_content(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "public_content")
    decision = runtime.read_model.gate(token.access_token, "GET", "/tags/x/media/recent")
    assert decision.allowed


def test_unknown_endpoint_is_invalid_input(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    with pytest.raises(InvalidInputError, match="Unknown legacy endpoint"):
        runtime.read_model.gate(token.access_token, "GET", "/feed")


def test_v1_prefixed_path_and_query_string_are_gated_like_the_bare_path(
    runtime: Runtime,
) -> None:
    token = sandbox_token(runtime, "basic")
    decision = runtime.read_model.gate(token.access_token, "GET", "/v1/users/self?access_token=x")
    assert decision.allowed
    assert decision.scope == "basic"


# --- the rest of the chain applies too ------------------------------------------------------------


def test_gate_refuses_a_revoked_token_as_invalid(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    runtime.ledger.revoke_token(
        Actor.user("alice"), access_token=token.access_token, reason="lost my phone"
    )
    project(runtime)
    decision = runtime.read_model.gate(token.access_token, "GET", "/users/self")
    assert decision.denial is not None
    assert (decision.denial.reason, decision.denial.error_type, decision.denial.message) == (
        Reason.TOKEN_REVOKED,
        "OAuthAccessTokenException",
        "The access_token provided is invalid.",
    )


def test_gate_refuses_an_unknown_token_as_invalid(runtime: Runtime) -> None:
    sandbox_token(runtime, "basic")
    decision = runtime.read_model.gate("no-such-token", "GET", "/users/self")
    assert decision.denial is not None
    assert decision.denial.reason is Reason.TOKEN_UNKNOWN


def test_gate_refuses_an_endpoint_the_live_approval_does_not_cover(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic public_content")
    approve_scopes(runtime, token.app, ["basic"])
    runtime.ledger.go_live(token.client_id, Actor.developer(token.app.owner))
    project(runtime)
    decision = runtime.read_model.gate(token.access_token, "GET", "/tags/x/media/recent")
    assert decision.mode is Mode.LIVE
    assert decision.denial is not None
    assert (
        decision.denial.reason,
        decision.denial.error_type,
        decision.denial.http_status,
        decision.denial.message,
    ) == (
        Reason.NOT_APPROVED,
        "OAuthPermissionsException",
        400,
        "This client has not been approved to access this resource.",
    )


def test_gate_as_of_before_a_revocation_is_allowed(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    revoked = runtime.ledger.revoke_token(
        Actor.user("alice"), access_token=token.access_token, reason="lost my phone"
    )
    project(runtime)
    decision = runtime.read_model.gate(
        token.access_token, "GET", "/users/self", as_of=revoked.position - 1
    )
    assert decision.allowed
    assert decision.position == revoked.position - 1


# --- sandbox apps see only their sandbox users' data ----------------------------------------------


def data_owner_refusal(decision: Decision) -> tuple[Reason, str, int, str]:
    assert not decision.allowed
    assert decision.denial is not None
    return (
        decision.denial.reason,
        decision.denial.error_type,
        decision.denial.http_status,
        decision.denial.message,
    )


DATA_OWNER_REFUSED = (
    Reason.DATA_OWNER_NOT_SANDBOX_USER,
    "OAuthForbiddenException",
    403,
    "The requested user is not a sandbox user of this client",
)


def test_sandbox_app_liking_media_of_a_user_outside_its_sandbox_is_forbidden(
    runtime: Runtime,
) -> None:
    token = sandbox_token(runtime, "basic likes public_content")
    decision = runtime.read_model.gate(
        token.access_token, "POST", "/media/1/likes", resource_owner=OTHER_USER
    )
    assert data_owner_refusal(decision) == DATA_OWNER_REFUSED


def test_sandbox_app_reading_a_profile_outside_its_sandbox_is_forbidden(
    runtime: Runtime,
) -> None:
    token = sandbox_token(runtime, "basic public_content")
    decision = runtime.read_model.gate(
        token.access_token, "GET", f"/users/{OTHER_USER}/media/recent"
    )
    assert data_owner_refusal(decision) == DATA_OWNER_REFUSED


def test_sandbox_app_liking_media_of_another_sandbox_user_is_allowed(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic likes public_content")
    decision = runtime.read_model.gate(
        token.access_token, "POST", "/media/1/likes", resource_owner=user_id(token.app.owner).hex
    )
    assert decision.allowed


def test_sandbox_app_is_forbidden_a_users_data_once_they_leave_its_sandbox(
    runtime: Runtime,
) -> None:
    first = sandbox_token(runtime, "basic public_content")
    second = sandbox_token(runtime, "basic public_content", user="bob", app=first.app)
    runtime.ledger.remove_sandbox_user(first.client_id, "bob", Actor.user("bob"), "leaving")
    project(runtime)
    decision = runtime.read_model.gate(first.access_token, "GET", f"/users/{second.user_id}")
    assert data_owner_refusal(decision) == DATA_OWNER_REFUSED


def test_missing_scope_is_refused_before_whose_data_it_is(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic likes")
    decision = runtime.read_model.gate(
        token.access_token, "POST", "/media/1/likes", resource_owner=OTHER_USER
    )
    assert missing(decision) == refused_for("public_content")


def test_live_app_may_use_the_data_of_any_user(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic likes public_content")
    approve_scopes(runtime, token.app, ["likes", "public_content"])
    runtime.ledger.go_live(token.client_id, Actor.developer(token.app.owner))
    project(runtime)
    decision = runtime.read_model.gate(
        token.access_token, "POST", "/media/1/likes", resource_owner=OTHER_USER
    )
    assert (decision.mode, decision.allowed) == (Mode.LIVE, True)
