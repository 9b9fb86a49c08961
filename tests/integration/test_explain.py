"""``ReadModel.explain``: the decision and the events it rests on, in log order.

Each evidence item names one event (type, aggregate, version, position, time, actor, role,
reason); a denial also names the failed link: the event that took the permission away.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from domain.actors import Actor
from domain.decisions import Reason
from domain.identity import SCOPE_CATALOGUE_ID, grant_id, user_id
from infrastructure.read_model.projection import micros
from infrastructure.read_model.queries import Evidence, Explanation
from tests.support.decision_setup import (
    PLATFORM,
    TokenSetup,
    live_token,
    project,
    sandbox_token,
    token_for,
    unreviewed_live_token,
)

if TYPE_CHECKING:
    from infrastructure.runtime import Runtime


def explain(
    runtime: Runtime, token: TokenSetup, scope: str = "likes", **kwargs: object
) -> Explanation:
    return runtime.read_model.explain(token.access_token, scope, **kwargs)  # type: ignore[arg-type]


def types(explanation: Explanation) -> list[str]:
    return [e.event_type for e in explanation.evidence]


def item(explanation: Explanation, event_type: str) -> Evidence:
    found = [e for e in explanation.evidence if e.event_type == event_type]
    assert len(found) == 1, f"{event_type} in {types(explanation)}"
    return found[0]


def failed(explanation: Explanation) -> Evidence:
    assert not explanation.decision.allowed
    assert explanation.failed_link is not None
    return explanation.failed_link


def grant_hex(token: TokenSetup) -> str:
    return grant_id(user_id(token.username), UUID(hex=token.client_id)).hex


# --- what an allowance rests on -------------------------------------------------------------------


def test_evidence_is_in_log_position_order(runtime: Runtime) -> None:
    explanation = explain(runtime, live_token(runtime, "basic likes"))
    positions = [e.position for e in explanation.evidence]
    assert positions == sorted(positions)
    assert len(positions) >= 5


def test_sandbox_allowance_rests_on_policy_registration_acceptance_grant_and_issue(
    runtime: Runtime,
) -> None:
    explanation = explain(runtime, sandbox_token(runtime, "basic likes"))
    assert explanation.decision.allowed
    assert {
        "ScopeCatalogue.Created",
        "App.Registered",
        "App.SandboxInvitationAccepted",
        "Grant.ScopesGranted",
        "AccessToken.Issued",
    } <= set(types(explanation))


def test_sandbox_allowance_evidence_follows_the_causal_chain(runtime: Runtime) -> None:
    explanation = explain(runtime, sandbox_token(runtime, "basic likes"))
    chain = [
        t
        for t in types(explanation)
        if t
        in {
            "App.Registered",
            "App.SandboxInvitationAccepted",
            "Grant.ScopesGranted",
            "AccessToken.Issued",
        }
    ]
    assert chain == [
        "App.Registered",
        "App.SandboxInvitationAccepted",
        "Grant.ScopesGranted",
        "AccessToken.Issued",
    ]


def test_live_allowance_rests_on_the_review_approval_and_going_live(runtime: Runtime) -> None:
    explanation = explain(runtime, live_token(runtime, "basic likes"))
    assert explanation.decision.allowed
    assert {
        "ScopeCatalogue.Created",
        "App.Registered",
        "App.PermissionApproved",
        "App.ModeChanged",
        "Grant.ScopesGranted",
        "AccessToken.Issued",
    } <= set(types(explanation))
    assert "App.SandboxInvitationAccepted" not in types(explanation)


def test_review_approval_evidence_names_the_reviewer(runtime: Runtime) -> None:
    approval = item(explain(runtime, live_token(runtime, "basic likes")), "App.PermissionApproved")
    assert (approval.actor, approval.role) == ("reviewer", "reviewer")


def test_scope_policy_evidence_is_the_catalogue_event_defining_the_scope(
    runtime: Runtime,
) -> None:
    policy = item(explain(runtime, sandbox_token(runtime, "basic likes")), "ScopeCatalogue.Created")
    assert policy.link == "scope_policy"
    assert policy.aggregate_id == SCOPE_CATALOGUE_ID.hex


def test_token_issue_evidence_carries_every_field(runtime: Runtime) -> None:
    started = micros(datetime.now(UTC))
    token = sandbox_token(runtime, "basic likes")
    finished = micros(datetime.now(UTC))
    issued = item(explain(runtime, token), "AccessToken.Issued")
    assert issued.link == "token_issued"
    assert issued.aggregate_id == token.token_id.hex
    assert issued.version == 1
    assert issued.position == token.position
    assert started <= issued.at <= finished
    assert (issued.actor, issued.role, issued.reason) == (token.client_id, "client", "")


def test_grant_evidence_is_the_users_consent(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic likes")
    granted = item(explain(runtime, token), "Grant.ScopesGranted")
    assert granted.aggregate_id == grant_hex(token)
    assert (granted.actor, granted.role) == ("alice", "user")
    assert granted.position < token.position


def test_sandbox_acceptance_evidence_is_the_users_own_acceptance(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic likes")
    accepted = item(explain(runtime, token), "App.SandboxInvitationAccepted")
    assert accepted.aggregate_id == token.client_id
    assert (accepted.actor, accepted.role) == ("alice", "user")


def test_app_registration_evidence_names_the_developer(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic likes")
    registered = item(explain(runtime, token), "App.Registered")
    assert (registered.aggregate_id, registered.version) == (token.client_id, 1)
    assert (registered.actor, registered.role) == (token.app.owner, "developer")


def test_explanations_decision_is_the_checks_decision(runtime: Runtime) -> None:
    token = live_token(runtime, "basic likes")
    explanation = explain(runtime, token, "comments")
    assert explanation.decision == runtime.read_model.check(token.access_token, "comments")


def test_allowance_has_no_failed_link(runtime: Runtime) -> None:
    assert explain(runtime, sandbox_token(runtime, "basic likes")).failed_link is None


def test_unknown_token_is_explained_by_the_scope_policy_alone(runtime: Runtime) -> None:
    sandbox_token(runtime, "basic likes")
    explanation = runtime.read_model.explain("no-such-token", "likes")
    assert explanation.decision.denial is not None
    assert explanation.decision.denial.reason is Reason.TOKEN_UNKNOWN
    assert types(explanation) == ["ScopeCatalogue.Created"]
    assert explanation.failed_link is None


# --- what a denial's failed link is ---------------------------------------------------------


def test_failed_link_of_a_revoked_token_is_the_revocation_with_its_reason(
    runtime: Runtime,
) -> None:
    token = sandbox_token(runtime, "basic likes")
    revoked = runtime.ledger.revoke_token(
        Actor.user("alice"), access_token=token.access_token, reason="lost my phone"
    )
    project(runtime)
    link = failed(explain(runtime, token))
    assert (link.event_type, link.position, link.aggregate_id) == (
        "AccessToken.Revoked",
        revoked.position,
        token.token_id.hex,
    )
    assert (link.actor, link.role, link.reason) == ("alice", "user", "lost my phone")
    assert link.version == 2


def test_failed_link_of_an_expired_token_is_the_expiry(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic likes")
    runtime.ledger.expire_token(token.token_id, PLATFORM, "platform token expiry")
    project(runtime)
    link = failed(explain(runtime, token))
    assert (link.event_type, link.actor, link.role, link.reason) == (
        "AccessToken.Expired",
        "ops",
        "platform",
        "platform token expiry",
    )


def test_failed_link_of_a_deauthorized_token_is_the_deauthorization(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic likes")
    runtime.ledger.deauthorize(token.client_id, "alice", Actor.user("alice"), "no longer use it")
    project(runtime)
    link = failed(explain(runtime, token))
    assert (link.event_type, link.aggregate_id) == ("Grant.Deauthorized", grant_hex(token))
    assert (link.actor, link.role, link.reason) == ("alice", "user", "no longer use it")


def test_failed_link_of_a_deauthorized_token_is_the_deauthorization_that_ended_it(
    runtime: Runtime,
) -> None:
    token = sandbox_token(runtime, "basic likes")
    ended = runtime.ledger.deauthorize(
        token.client_id, "alice", Actor.user("alice"), "lost my phone"
    )
    token_for(runtime, token.app, "alice", "basic likes")
    runtime.ledger.deauthorize(token.client_id, "alice", Actor.user("alice"), "trying another app")
    project(runtime)
    link = failed(explain(runtime, token))
    assert (link.event_type, link.position, link.reason) == (
        "Grant.Deauthorized",
        ended.position,
        "lost my phone",
    )


def test_failed_link_of_a_disabled_apps_token_is_the_disabling(runtime: Runtime) -> None:
    token = live_token(runtime, "basic likes")
    runtime.ledger.disable_app(token.client_id, PLATFORM, "spam")
    project(runtime)
    link = failed(explain(runtime, token))
    assert (link.event_type, link.aggregate_id) == ("App.Disabled", token.client_id)
    assert (link.actor, link.role, link.reason) == ("ops", "platform", "spam")


def test_failed_link_of_a_withdrawn_approval_is_the_withdrawal(runtime: Runtime) -> None:
    token = live_token(runtime, "basic likes")
    runtime.ledger.withdraw_approval(token.client_id, "likes", PLATFORM, "April 2018")
    project(runtime)
    link = failed(explain(runtime, token))
    assert (link.event_type, link.aggregate_id) == ("App.ApprovalWithdrawn", token.client_id)
    assert (link.actor, link.role, link.reason) == ("ops", "platform", "April 2018")


def test_failed_link_of_a_retired_scope_is_the_retirement(runtime: Runtime) -> None:
    token = live_token(runtime, "basic likes")
    runtime.ledger.retire_scope("likes", PLATFORM, "April 2018: likes switched off")
    project(runtime)
    link = failed(explain(runtime, token))
    assert (link.event_type, link.aggregate_id) == (
        "ScopeCatalogue.ScopeRetired",
        SCOPE_CATALOGUE_ID.hex,
    )
    assert link.reason == "April 2018: likes switched off"


def test_failed_link_of_a_removed_sandbox_user_is_the_removal(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic likes")
    runtime.ledger.remove_sandbox_user(
        token.client_id, "alice", Actor.developer(token.app.owner), "testing is over"
    )
    project(runtime)
    link = failed(explain(runtime, token))
    assert (link.event_type, link.aggregate_id) == ("App.SandboxUserRemoved", token.client_id)
    assert (link.actor, link.reason) == (token.app.owner, "testing is over")


def test_failed_link_of_a_scope_not_in_the_token_is_the_tokens_issue(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    link = failed(explain(runtime, token, "likes"))
    assert (link.event_type, link.position) == ("AccessToken.Issued", token.position)


def test_failed_link_is_part_of_the_evidence(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic likes")
    runtime.ledger.revoke_token(
        Actor.user("alice"), access_token=token.access_token, reason="lost my phone"
    )
    project(runtime)
    explanation = explain(runtime, token)
    assert failed(explanation) in explanation.evidence


def test_explanation_as_of_before_a_revocation_leaves_the_revocation_out(
    runtime: Runtime,
) -> None:
    token = sandbox_token(runtime, "basic likes")
    revoked = runtime.ledger.revoke_token(
        Actor.user("alice"), access_token=token.access_token, reason="lost my phone"
    )
    project(runtime)
    explanation = explain(runtime, token, as_of=revoked.position - 1)
    assert explanation.decision.allowed
    assert explanation.failed_link is None
    assert all(e.position < revoked.position for e in explanation.evidence)
    assert "AccessToken.Revoked" not in types(explanation)


def test_failed_link_after_unreviewed_apps_move_to_sandbox_is_the_policy_change(
    runtime: Runtime,
) -> None:
    token = unreviewed_live_token(runtime, "basic likes")
    moved = runtime.ledger.move_unreviewed_apps_to_sandbox(PLATFORM, "June 2016")
    project(runtime)
    link = failed(explain(runtime, token))
    assert link.position <= moved.position
    assert link.reason == "June 2016"
