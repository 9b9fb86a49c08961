"""The platform's scope policy over both stores: closing and reopening applications, retiring
scopes, and letting unreviewed apps go live then moving them back to sandbox (June 2016)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from application.ledger import Ledger
from application.results import ClientRegistered
from domain.actors import Actor
from domain.apps import Mode
from domain.errors import (
    InvalidInputError,
    InvalidScopeError,
    LedgerError,
    NotPermittedError,
    NotReviewedError,
    NotSandboxUserError,
    PolicyUnchangedError,
    ScopeApplicationsClosedError,
    ScopeRetiredError,
)
from domain.scopes import ScopePolicy
from tests.support.ledger_setup import (
    PLATFORM,
    REVIEWER,
    approve_app,
    approved_live_app,
    authorize,
    decide_review,
    register_app,
    register_user,
    submit_review,
)

OWNER = "dev_dana"
DEVELOPER = Actor.developer(OWNER)


@pytest.fixture
def app(ledger: Ledger) -> ClientRegistered:
    """An unreviewed app of OWNER in sandbox mode; alice is a registered platform user."""
    registered = register_app(ledger, OWNER)
    register_user(ledger, "alice")
    return registered


def mode(ledger: Ledger, client_id: str) -> Mode:
    return ledger.app(client_id).effective_mode(ledger.catalogue().unreviewed_live_allowed)


def unreviewed_live(ledger: Ledger, client_id: str) -> None:
    """The platform lets unreviewed apps go live (as before November 2015); the app does."""
    ledger.allow_unreviewed_live(PLATFORM, "before the review process")
    ledger.go_live(client_id, DEVELOPER)


def move_unreviewed_to_sandbox(ledger: Ledger) -> None:
    ledger.move_unreviewed_apps_to_sandbox(PLATFORM, "June 2016: review required to stay live")


# --- closing and reopening applications --------------------------------------------------------


def test_closing_applications_refuses_reviews_for_the_scope(
    ledger: Ledger, app: ClientRegistered
) -> None:
    ledger.close_scope_applications("basic", PLATFORM, "no new apps")

    with pytest.raises(ScopeApplicationsClosedError) as refused:
        submit_review(ledger, app.client_id, OWNER, ["basic"])

    assert "no longer accepted" in refused.value.message


def test_closing_applications_keeps_existing_approvals(ledger: Ledger) -> None:
    live = approved_live_app(ledger, ["basic"])
    register_user(ledger, "alice")

    ledger.close_scope_applications("basic", PLATFORM, "late 2017")

    assert "basic" in ledger.app(live.client_id).approved_scopes
    assert authorize(ledger, live.client_id, "alice", "basic").mode == "live"


def test_reopened_scope_can_be_reviewed_for(ledger: Ledger, app: ClientRegistered) -> None:
    ledger.reopen_scope_applications("public_content", PLATFORM, "partners programme")

    review_id = submit_review(ledger, app.client_id, OWNER, ["public_content"])
    decide_review(ledger, review_id, approve=["public_content"])

    assert "public_content" in ledger.app(app.client_id).approved_scopes


def test_applications_reopened_then_closed_again_are_refused(
    ledger: Ledger, app: ClientRegistered
) -> None:
    ledger.reopen_scope_applications("likes", PLATFORM, "trial")
    ledger.close_scope_applications("likes", PLATFORM, "trial over")

    with pytest.raises(ScopeApplicationsClosedError):
        submit_review(ledger, app.client_id, OWNER, ["likes"])


# --- retiring scopes ---------------------------------------------------------------------------


def test_retired_scope_is_refused_at_review_submission(
    ledger: Ledger, app: ClientRegistered
) -> None:
    ledger.retire_scope("likes", PLATFORM, "April 2018")

    with pytest.raises(ScopeRetiredError) as refused:
        submit_review(ledger, app.client_id, OWNER, ["likes"])

    assert refused.value.message == "The likes permission has been retired by the platform"


def test_retired_scope_is_refused_at_authorization_in_sandbox(
    ledger: Ledger, app: ClientRegistered
) -> None:
    ledger.retire_scope("likes", PLATFORM, "April 2018")

    with pytest.raises(ScopeRetiredError):
        authorize(ledger, app.client_id, OWNER, "basic likes")


def test_retired_scope_is_refused_at_authorization_for_an_app_approved_for_it(
    ledger: Ledger,
) -> None:
    live = approved_live_app(ledger, ["follower_list"])
    register_user(ledger, "alice")

    ledger.retire_scope("follower_list", PLATFORM, "April 2018")

    with pytest.raises(ScopeRetiredError):
        authorize(ledger, live.client_id, "alice", "follower_list")


def test_retiring_a_scope_leaves_the_other_scopes_authorizable(ledger: Ledger) -> None:
    live = approved_live_app(ledger, ["public_content", "follower_list"])
    register_user(ledger, "alice")

    ledger.retire_scope("follower_list", PLATFORM, "April 2018")

    assert authorize(ledger, live.client_id, "alice", "basic public_content").scopes == (
        "basic",
        "public_content",
    )


def test_retired_scope_is_recorded_closed_and_retired(ledger: Ledger) -> None:
    ledger.reopen_scope_applications("likes", PLATFORM, "trial")

    ledger.retire_scope("likes", PLATFORM, "April 2018")

    assert ledger.catalogue().policy("likes") == ScopePolicy(
        "to like and unlike media on a user's behalf", applications_open=False, retired=True
    )


# --- unreviewed apps live, then back to sandbox (June 2016) ------------------------------------


def test_unreviewed_app_can_go_live_while_the_platform_allows_it(
    ledger: Ledger, app: ClientRegistered
) -> None:
    unreviewed_live(ledger, app.client_id)

    assert mode(ledger, app.client_id) is Mode.LIVE


def test_moving_unreviewed_apps_to_sandbox_puts_an_unreviewed_live_app_back_in_sandbox(
    ledger: Ledger, app: ClientRegistered
) -> None:
    unreviewed_live(ledger, app.client_id)

    move_unreviewed_to_sandbox(ledger)

    assert mode(ledger, app.client_id) is Mode.SANDBOX


def test_moving_unreviewed_apps_to_sandbox_keeps_an_approved_live_app_live(
    ledger: Ledger, app: ClientRegistered
) -> None:
    unreviewed_live(ledger, app.client_id)
    approved = approved_live_app(ledger, ["basic"])

    move_unreviewed_to_sandbox(ledger)

    assert mode(ledger, approved.client_id) is Mode.LIVE


def test_unreviewed_app_moved_back_to_sandbox_authorizes_only_sandbox_users(
    ledger: Ledger, app: ClientRegistered
) -> None:
    unreviewed_live(ledger, app.client_id)
    assert authorize(ledger, app.client_id, "alice", "basic").mode == "live"

    move_unreviewed_to_sandbox(ledger)

    with pytest.raises(NotSandboxUserError):
        authorize(ledger, app.client_id, "alice", "basic")


def test_after_the_move_an_unreviewed_app_cannot_go_live_without_review(
    ledger: Ledger, app: ClientRegistered
) -> None:
    ledger.allow_unreviewed_live(PLATFORM, "before the review process")
    move_unreviewed_to_sandbox(ledger)

    with pytest.raises(NotReviewedError):
        ledger.go_live(app.client_id, DEVELOPER)


def test_app_moved_back_to_sandbox_is_told_it_needs_a_review_to_go_live(
    ledger: Ledger, app: ClientRegistered
) -> None:
    unreviewed_live(ledger, app.client_id)
    move_unreviewed_to_sandbox(ledger)

    with pytest.raises(NotReviewedError):
        ledger.go_live(app.client_id, DEVELOPER)


def test_app_moved_back_to_sandbox_stays_there_when_unreviewed_apps_are_allowed_again(
    ledger: Ledger, app: ClientRegistered
) -> None:
    unreviewed_live(ledger, app.client_id)
    move_unreviewed_to_sandbox(ledger)

    ledger.allow_unreviewed_live(PLATFORM, "a new open beta")

    assert mode(ledger, app.client_id) is Mode.SANDBOX


# --- refusals write nothing --------------------------------------------------------------------


@pytest.fixture
def policy_world(ledger: Ledger) -> None:
    """The seeded catalogue with likes retired; unreviewed apps held in sandbox."""
    ledger.retire_scope("likes", PLATFORM, "April 2018")


Attempt = Callable[[Ledger], object]
DEVELOPER_ACTOR = Actor.developer("dev_dana")

POLICY_REFUSALS: dict[str, tuple[type[LedgerError], Attempt]] = {
    "close-closed-applications": (
        PolicyUnchangedError,
        lambda ledger: ledger.close_scope_applications("comments", PLATFORM, "x"),
    ),
    "reopen-open-applications": (
        PolicyUnchangedError,
        lambda ledger: ledger.reopen_scope_applications("basic", PLATFORM, "x"),
    ),
    "reopen-a-retired-scope": (
        ScopeRetiredError,
        lambda ledger: ledger.reopen_scope_applications("likes", PLATFORM, "x"),
    ),
    "close-a-retired-scope": (
        ScopeRetiredError,
        lambda ledger: ledger.close_scope_applications("likes", PLATFORM, "x"),
    ),
    "retire-a-retired-scope": (
        PolicyUnchangedError,
        lambda ledger: ledger.retire_scope("likes", PLATFORM, "again"),
    ),
    "retire-without-reason": (
        InvalidInputError,
        lambda ledger: ledger.retire_scope("comments", PLATFORM, " "),
    ),
    "retire-an-unknown-scope": (
        InvalidScopeError,
        lambda ledger: ledger.retire_scope("selfies", PLATFORM, "x"),
    ),
    "close-an-unknown-scope": (
        InvalidScopeError,
        lambda ledger: ledger.close_scope_applications("selfies", PLATFORM, "x"),
    ),
    "move-unreviewed-apps-when-already-held": (
        PolicyUnchangedError,
        lambda ledger: ledger.move_unreviewed_apps_to_sandbox(PLATFORM, "x"),
    ),
    "close-applications-by-a-developer": (
        NotPermittedError,
        lambda ledger: ledger.close_scope_applications("basic", DEVELOPER_ACTOR, "x"),
    ),
    "reopen-applications-by-a-reviewer": (
        NotPermittedError,
        lambda ledger: ledger.reopen_scope_applications("comments", REVIEWER, "x"),
    ),
    "retire-by-a-reviewer": (
        NotPermittedError,
        lambda ledger: ledger.retire_scope("comments", REVIEWER, "x"),
    ),
    "allow-unreviewed-live-by-a-developer": (
        NotPermittedError,
        lambda ledger: ledger.allow_unreviewed_live(DEVELOPER_ACTOR, "x"),
    ),
    "introduce-an-existing-scope": (
        PolicyUnchangedError,
        lambda ledger: ledger.introduce_scope(
            "basic", "again", applications_open=True, actor=PLATFORM, reason="x"
        ),
    ),
}


@pytest.mark.parametrize(
    ("error", "attempt"), [pytest.param(*r, id=name) for name, r in POLICY_REFUSALS.items()]
)
@pytest.mark.usefixtures("policy_world")
def test_refused_policy_command_writes_nothing(
    ledger: Ledger, error: type[LedgerError], attempt: Attempt
) -> None:
    before = ledger.position()

    with pytest.raises(error):
        attempt(ledger)

    assert ledger.position() == before


def test_allowing_unreviewed_live_twice_is_refused_and_writes_nothing(ledger: Ledger) -> None:
    ledger.allow_unreviewed_live(PLATFORM, "before the review process")
    before = ledger.position()

    with pytest.raises(PolicyUnchangedError):
        ledger.allow_unreviewed_live(PLATFORM, "again")

    assert ledger.position() == before


# --- reload ------------------------------------------------------------------------------------


def test_scope_policy_survives_reload_in_a_second_ledger(
    ledger: Ledger, ledger_env: dict[str, str], app: ClientRegistered
) -> None:
    ledger.reopen_scope_applications("public_content", PLATFORM, "partners programme")
    ledger.close_scope_applications("basic", PLATFORM, "late 2017")
    ledger.retire_scope("likes", PLATFORM, "April 2018")
    unreviewed_live(ledger, app.client_id)
    expected = ledger.catalogue()

    second = Ledger(env=ledger_env, secret_key=b"k" * 32)
    try:
        found = second.catalogue()
        found_mode = second.app(app.client_id).effective_mode(found.unreviewed_live_allowed)
        position = second.position()
    finally:
        second.close()
    assert found.scopes == expected.scopes
    assert found.policy("public_content").applications_open is True
    assert found.policy("basic").applications_open is False
    assert found.policy("likes").retired is True
    assert (found.unreviewed_live_allowed, found_mode) == (True, Mode.LIVE)
    assert position == ledger.position()


def test_approval_survives_a_scope_policy_replay(
    ledger: Ledger, ledger_env: dict[str, str], app: ClientRegistered
) -> None:
    # Approved while applications were open; closing them later must not undo it on replay.
    approve_app(ledger, app.client_id, OWNER, ["comments"])
    ledger.close_scope_applications("comments", PLATFORM, "late 2017")

    second = Ledger(env=ledger_env, secret_key=b"k" * 32)
    try:
        found = second.app(app.client_id)
    finally:
        second.close()
    assert "comments" in found.approved_scopes
