"""Apps: registration, management by their owner, sandbox users, mode, status, approvals."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.actors import Actor
from domain.apps import Mode, SandboxStatus
from domain.errors import (
    AppDisabledError,
    ApprovalNotFoundError,
    AppStateError,
    InvalidInputError,
    NotPermittedError,
    NotReviewedError,
    ReviewAlreadyOpenError,
    SandboxInvitationError,
)
from domain.identity import user_id
from tests.unit.builders import (
    OWNER,
    PLATFORM,
    REVIEWER,
    STRANGER,
    app,
    approved_app,
    collected,
    event_names,
)

BOB = user_id("bob")

NOT_MANAGERS = [
    pytest.param(STRANGER, id="another-developer"),
    pytest.param(Actor.user("bob"), id="user"),
    pytest.param(REVIEWER, id="reviewer"),
]


# --- registration -------------------------------------------------------------------------------


def test_new_app_starts_in_sandbox_mode() -> None:
    assert app().mode is Mode.SANDBOX


def test_new_app_has_its_owner_as_an_accepted_sandbox_user() -> None:
    registered = app()
    assert registered.sandbox_users == {user_id("alice"): SandboxStatus.ACCEPTED}
    assert registered.is_sandbox_user(user_id("alice"))


def test_new_app_holds_no_approval() -> None:
    registered = app()
    assert (registered.approved_scopes, registered.is_approved) == ([], False)


def test_new_app_is_enabled() -> None:
    app().require_active()


def test_client_id_is_the_apps_id_in_hex() -> None:
    registered = app()
    assert registered.client_id == registered.id.hex


def test_registration_records_one_registered_event() -> None:
    assert event_names(app(collect=False)) == ["Registered"]


def test_registration_keeps_the_redirect_uris() -> None:
    registered = app(redirect_uris=["https://a.example/cb", "photoprinter://oauth/done"])
    assert registered.redirect_uris == ["https://a.example/cb", "photoprinter://oauth/done"]


def test_registration_needs_a_redirect_uri() -> None:
    with pytest.raises(InvalidInputError, match="At least one redirect URI"):
        app(redirect_uris=[])


@pytest.mark.parametrize("uri", ["/callback", "callback", "https:///callback"])
def test_redirect_uri_must_be_absolute(uri: str) -> None:
    with pytest.raises(InvalidInputError, match="absolute"):
        app(redirect_uris=[uri])


def test_redirect_uri_must_not_have_a_fragment() -> None:
    with pytest.raises(InvalidInputError, match="fragment"):
        app(redirect_uris=["https://a.example/cb#done"])


def test_duplicate_redirect_uris_are_registered_once() -> None:
    registered = app(redirect_uris=["https://a.example/cb", "https://a.example/cb"])
    assert registered.redirect_uris == ["https://a.example/cb"]


def test_at_most_twenty_redirect_uris_are_registered() -> None:
    with pytest.raises(InvalidInputError, match="At most 20"):
        app(redirect_uris=[f"https://a.example/cb{i}" for i in range(21)])


@pytest.mark.parametrize("website", ["ftp://photos.example", "photos.example", "javascript:x"])
def test_website_must_be_an_http_or_https_url(website: str) -> None:
    with pytest.raises(InvalidInputError, match="website"):
        app(website=website)


def test_registration_needs_a_name() -> None:
    with pytest.raises(InvalidInputError, match="name is required"):
        app(name="  ")


SPOOFING = [
    pytest.param("\u202e", id="right-to-left-override"),
    pytest.param("\u202a", id="left-to-right-embedding"),
    pytest.param("\u2066", id="left-to-right-isolate"),
    pytest.param("\u2069", id="pop-directional-isolate"),
    pytest.param("\u200f", id="right-to-left-mark"),
    pytest.param("\u200b", id="zero-width-space"),
    pytest.param("\u200d", id="zero-width-joiner"),
    pytest.param("\ufeff", id="byte-order-mark"),
    pytest.param("\u00ad", id="soft-hyphen"),
    pytest.param("\n", id="newline"),
    pytest.param("\x1b", id="escape"),
    pytest.param("\u2028", id="line-separator"),
]


@pytest.mark.parametrize("char", SPOOFING)
def test_registration_refuses_a_name_with_an_invisible_or_direction_character(char: str) -> None:
    with pytest.raises(InvalidInputError, match=f"name must not contain .*U\\+{ord(char):04X}"):
        app(name=f"Photo{char}Printer")


@pytest.mark.parametrize("char", SPOOFING)
def test_details_update_refuses_a_name_with_an_invisible_or_direction_character(
    char: str,
) -> None:
    registered = app()
    with pytest.raises(InvalidInputError, match="name must not contain"):
        registered.update_details(OWNER, name=f"Photo{char}Printer")
    assert registered.name == "Photo Printer"


def test_registration_refuses_a_description_with_a_direction_override() -> None:
    with pytest.raises(InvalidInputError, match="description must not contain"):
        app(description="Prints \u202egnp.exe")


def test_registration_refuses_a_company_name_with_a_zero_width_space() -> None:
    with pytest.raises(InvalidInputError, match="company_name must not contain"):
        app(company_name="Photo\u200bPrinter Ltd")


def test_a_description_may_span_lines() -> None:
    assert app(description="Prints photos.\nAlso frames them.").description == (
        "Prints photos.\nAlso frames them."
    )


def test_a_name_in_another_script_is_accepted() -> None:
    assert app(name="\u0641\u0648\u062a\u0648 Printer \u5199\u771f").name == (
        "\u0641\u0648\u062a\u0648 Printer \u5199\u771f"
    )


def test_a_recorded_name_with_a_direction_override_still_replays() -> None:
    # An event written before the rule: replaying it must not re-run the rule.
    registered = app(collect=False)
    registered._details_updated({"name": "Photo\u202eRetnirp"}, "alice", "developer")
    replayed = None
    for recorded in registered.collect_events():
        replayed = recorded.mutate(replayed)
    assert replayed is not None
    assert replayed.name == "Photo\u202eRetnirp"


def test_review_details_are_optional_at_registration() -> None:
    registered = app(company_name=None, contact_email=None, privacy_policy_url=None)
    assert (
        registered.company_name,
        registered.contact_email,
        registered.privacy_policy_url,
    ) == ("", "", "")


@pytest.mark.parametrize(
    "actor",
    [pytest.param(REVIEWER, id="reviewer"), pytest.param(Actor.client("0" * 32), id="client")],
)
def test_apps_are_registered_by_developers(actor: Actor) -> None:
    with pytest.raises(NotPermittedError):
        app(actor=actor)


# --- details, secret, security ------------------------------------------------------------------


def test_owner_updates_the_apps_details() -> None:
    registered = app()
    registered.update_details(OWNER, name="Photo Printer 2")
    assert registered.name == "Photo Printer 2"
    [updated] = collected(registered)
    assert updated.changes == {"name": "Photo Printer 2"}


def test_updating_details_to_their_current_values_is_refused() -> None:
    registered = app()
    with pytest.raises(InvalidInputError, match="No detail to change"):
        registered.update_details(OWNER, name=registered.name)


@pytest.mark.parametrize("actor", NOT_MANAGERS)
def test_only_the_owner_or_platform_updates_details(actor: Actor) -> None:
    registered = app()
    with pytest.raises(NotPermittedError):
        registered.update_details(actor, name="Stolen")
    assert registered.name == "Photo Printer"


def test_platform_may_update_an_apps_details() -> None:
    registered = app()
    registered.update_details(PLATFORM, description="Moderated")
    assert registered.description == "Moderated"


def test_rotating_the_secret_replaces_its_digest_and_nonce() -> None:
    registered = app()
    registered.rotate_secret("1" * 64, "nonce-1", OWNER)
    assert (registered.secret_digest, registered.secret_nonce) == ("1" * 64, "nonce-1")


@pytest.mark.parametrize("actor", NOT_MANAGERS)
def test_only_the_owner_or_platform_rotates_the_secret(actor: Actor) -> None:
    registered = app()
    with pytest.raises(NotPermittedError):
        registered.rotate_secret("1" * 64, "nonce-1", actor)
    assert (registered.secret_digest, registered.secret_nonce) == ("0" * 64, "nonce-0")


def test_owner_disables_implicit_oauth() -> None:
    registered = app()
    registered.change_security(OWNER, disable_implicit=True)
    assert (registered.implicit_disabled, registered.signed_requests_enforced) == (True, False)


def test_owner_enforces_signed_requests() -> None:
    registered = app()
    registered.change_security(OWNER, enforce_signed_requests=True)
    assert (registered.implicit_disabled, registered.signed_requests_enforced) == (False, True)


def test_security_settings_already_in_place_are_refused() -> None:
    with pytest.raises(InvalidInputError):
        app().change_security(OWNER, disable_implicit=False)


@pytest.mark.parametrize("actor", NOT_MANAGERS)
def test_only_the_owner_or_platform_changes_security_settings(actor: Actor) -> None:
    registered = app()
    with pytest.raises(NotPermittedError):
        registered.change_security(actor, disable_implicit=True)
    assert not registered.implicit_disabled


# --- sandbox users ------------------------------------------------------------------------------


def test_invited_user_is_not_a_sandbox_user_until_they_accept() -> None:
    registered = app()
    registered.invite_sandbox_user(BOB, "bob", OWNER)
    assert registered.sandbox_users[BOB] is SandboxStatus.INVITED
    assert not registered.is_sandbox_user(BOB)


def test_accepting_an_invitation_makes_a_sandbox_user() -> None:
    registered = app()
    registered.invite_sandbox_user(BOB, "bob", OWNER)
    registered.accept_sandbox_invitation(BOB, Actor.user("bob"))
    assert registered.is_sandbox_user(BOB)


def test_accepting_requires_a_pending_invitation() -> None:
    registered = app()
    with pytest.raises(SandboxInvitationError, match="no pending sandbox invitation"):
        registered.accept_sandbox_invitation(BOB, Actor.user("bob"))
    assert not registered.is_sandbox_user(BOB)


def test_accepting_an_invitation_twice_is_refused() -> None:
    registered = app()
    registered.invite_sandbox_user(BOB, "bob", OWNER)
    registered.accept_sandbox_invitation(BOB, Actor.user("bob"))
    with pytest.raises(SandboxInvitationError):
        registered.accept_sandbox_invitation(BOB, Actor.user("bob"))


def test_inviting_a_user_twice_is_refused() -> None:
    registered = app()
    registered.invite_sandbox_user(BOB, "bob", OWNER)
    with pytest.raises(SandboxInvitationError, match="already invited"):
        registered.invite_sandbox_user(BOB, "bob", OWNER)


def test_owner_cannot_be_invited() -> None:
    with pytest.raises(SandboxInvitationError, match="already accepted"):
        app().invite_sandbox_user(user_id("alice"), "alice", OWNER)


@pytest.mark.parametrize("actor", NOT_MANAGERS)
def test_only_the_owner_or_platform_invites_sandbox_users(actor: Actor) -> None:
    registered = app()
    with pytest.raises(NotPermittedError):
        registered.invite_sandbox_user(BOB, "bob", actor)
    assert BOB not in registered.sandbox_users


def test_owner_removes_a_sandbox_user() -> None:
    registered = app()
    registered.invite_sandbox_user(BOB, "bob", OWNER)
    registered.accept_sandbox_invitation(BOB, Actor.user("bob"))
    registered.remove_sandbox_user(BOB, OWNER, reason="project over")
    assert BOB not in registered.sandbox_users


def test_owner_withdraws_a_pending_invitation() -> None:
    registered = app()
    registered.invite_sandbox_user(BOB, "bob", OWNER)
    registered.remove_sandbox_user(BOB, OWNER, reason="")
    with pytest.raises(SandboxInvitationError):
        registered.accept_sandbox_invitation(BOB, Actor.user("bob"))


def test_sandbox_user_may_leave_of_their_own_accord() -> None:
    registered = app()
    registered.invite_sandbox_user(BOB, "bob", OWNER)
    registered.accept_sandbox_invitation(BOB, Actor.user("bob"))
    registered.remove_sandbox_user(BOB, Actor.user("bob"), reason="")
    assert not registered.is_sandbox_user(BOB)


@pytest.mark.parametrize("actor", NOT_MANAGERS)
def test_only_the_owner_or_platform_removes_another_sandbox_user(actor: Actor) -> None:
    registered = app()
    carol = user_id("carol")
    registered.invite_sandbox_user(carol, "carol", OWNER)
    with pytest.raises(NotPermittedError):
        registered.remove_sandbox_user(carol, actor, reason="")
    assert carol in registered.sandbox_users


@pytest.mark.parametrize("actor", [OWNER, PLATFORM], ids=["owner", "platform"])
def test_owner_cannot_be_removed_from_the_sandbox(actor: Actor) -> None:
    registered = app()
    with pytest.raises(SandboxInvitationError, match="owner"):
        registered.remove_sandbox_user(user_id("alice"), actor, reason="")
    assert registered.is_sandbox_user(user_id("alice"))


def test_removing_someone_who_is_not_a_sandbox_user_is_refused() -> None:
    with pytest.raises(SandboxInvitationError, match="not a sandbox user"):
        app().remove_sandbox_user(BOB, OWNER, reason="")


# --- mode ---------------------------------------------------------------------------------------


def test_going_live_needs_an_approved_review() -> None:
    registered = app()
    with pytest.raises(NotReviewedError):
        registered.go_live(OWNER, unreviewed_live_allowed=False)
    assert registered.mode is Mode.SANDBOX


def test_approved_app_goes_live() -> None:
    approved = approved_app()
    approved.go_live(OWNER, unreviewed_live_allowed=False)
    assert approved.mode is Mode.LIVE


def test_unreviewed_app_goes_live_while_policy_allows_it() -> None:
    registered = app()
    registered.go_live(OWNER, unreviewed_live_allowed=True)
    assert registered.mode is Mode.LIVE


def test_going_live_twice_is_refused() -> None:
    approved = approved_app()
    approved.go_live(OWNER, unreviewed_live_allowed=False)
    with pytest.raises(AppStateError, match="already in live mode"):
        approved.go_live(OWNER, unreviewed_live_allowed=False)


def test_disabled_app_cannot_go_live() -> None:
    approved = approved_app()
    approved.disable(PLATFORM, reason="abuse")
    with pytest.raises(AppDisabledError):
        approved.go_live(OWNER, unreviewed_live_allowed=False)


@pytest.mark.parametrize("actor", NOT_MANAGERS)
def test_only_the_owner_or_platform_switches_an_app_live(actor: Actor) -> None:
    approved = approved_app()
    with pytest.raises(NotPermittedError):
        approved.go_live(actor, unreviewed_live_allowed=False)
    assert approved.mode is Mode.SANDBOX


def test_live_app_returns_to_sandbox() -> None:
    approved = approved_app()
    approved.go_live(OWNER, unreviewed_live_allowed=False)
    approved.return_to_sandbox(OWNER)
    assert approved.mode is Mode.SANDBOX


def test_returning_a_sandbox_app_to_sandbox_is_refused() -> None:
    with pytest.raises(AppStateError, match="already in sandbox mode"):
        app().return_to_sandbox(OWNER)


def test_live_approved_app_is_effectively_live() -> None:
    approved = approved_app()
    approved.go_live(OWNER, unreviewed_live_allowed=False)
    assert approved.effective_mode(unreviewed_live_allowed=False) is Mode.LIVE


def test_unreviewed_live_app_falls_back_to_sandbox_when_policy_disallows_it() -> None:
    registered = app()
    registered.go_live(OWNER, unreviewed_live_allowed=True)
    assert registered.effective_mode(unreviewed_live_allowed=False) is Mode.SANDBOX


def test_unreviewed_live_app_is_effectively_live_while_policy_allows_it() -> None:
    registered = app()
    registered.go_live(OWNER, unreviewed_live_allowed=True)
    assert registered.effective_mode(unreviewed_live_allowed=True) is Mode.LIVE


def test_approved_app_in_sandbox_mode_is_effectively_in_sandbox() -> None:
    assert approved_app().effective_mode(unreviewed_live_allowed=True) is Mode.SANDBOX


def test_live_app_whose_approval_is_withdrawn_falls_back_to_sandbox() -> None:
    approved = approved_app("comments")
    approved.go_live(OWNER, unreviewed_live_allowed=False)
    approved.withdraw_approval(None, PLATFORM, reason="April 2018")
    assert approved.effective_mode(unreviewed_live_allowed=False) is Mode.SANDBOX


# --- status -------------------------------------------------------------------------------------


def test_platform_disables_an_app() -> None:
    registered = app()
    registered.disable(PLATFORM, reason="abuse")
    with pytest.raises(AppDisabledError, match="no longer active"):
        registered.require_active()


@pytest.mark.parametrize(
    "actor", [OWNER, REVIEWER, Actor.user("bob")], ids=["owner", "reviewer", "user"]
)
def test_only_the_platform_disables_an_app(actor: Actor) -> None:
    registered = app()
    with pytest.raises(NotPermittedError):
        registered.disable(actor, reason="abuse")
    assert not registered.disabled


def test_disabling_an_app_needs_a_reason() -> None:
    with pytest.raises(InvalidInputError, match="reason"):
        app().disable(PLATFORM, reason="")


def test_disabling_a_disabled_app_is_refused() -> None:
    registered = app()
    registered.disable(PLATFORM, reason="abuse")
    with pytest.raises(AppStateError):
        registered.disable(PLATFORM, reason="again")


def test_platform_enables_a_disabled_app() -> None:
    registered = app()
    registered.disable(PLATFORM, reason="abuse")
    registered.enable(PLATFORM, reason="appeal upheld")
    registered.require_active()


@pytest.mark.parametrize(
    "actor", [OWNER, REVIEWER, Actor.user("bob")], ids=["owner", "reviewer", "user"]
)
def test_only_the_platform_enables_an_app(actor: Actor) -> None:
    registered = app()
    registered.disable(PLATFORM, reason="abuse")
    with pytest.raises(NotPermittedError):
        registered.enable(actor, reason="please")
    assert registered.disabled


def test_enabling_an_enabled_app_is_refused() -> None:
    with pytest.raises(AppStateError, match="not disabled"):
        app().enable(PLATFORM, reason="why not")


# --- reviews and approvals ----------------------------------------------------------------------


def test_an_app_has_one_open_review_at_a_time() -> None:
    registered = app()
    registered.open_review(uuid4(), OWNER)
    with pytest.raises(ReviewAlreadyOpenError):
        registered.open_review(uuid4(), OWNER)


def test_closing_its_open_review_lets_the_app_submit_another() -> None:
    registered = app()
    first = uuid4()
    registered.open_review(first, OWNER)
    registered.close_review(first, REVIEWER)
    registered.open_review(uuid4(), OWNER)


def test_closing_a_review_that_is_not_open_changes_nothing() -> None:
    registered = app()
    open_id = uuid4()
    registered.open_review(open_id, OWNER)
    registered.collect_events()
    registered.close_review(uuid4(), REVIEWER)
    assert (registered.open_review_id, registered.collect_events()) == (open_id, [])


@pytest.mark.parametrize("actor", NOT_MANAGERS)
def test_only_the_owner_or_platform_submits_the_app_for_review(actor: Actor) -> None:
    with pytest.raises(NotPermittedError):
        app().open_review(uuid4(), actor)


def test_first_approval_brings_basic() -> None:
    registered = app()
    registered.approve_permission("comments", uuid4(), REVIEWER)
    assert sorted(registered.approved_scopes) == ["basic", "comments"]


def test_later_approval_adds_only_the_new_scope() -> None:
    approved = approved_app("comments")
    approved.approve_permission("public_content", uuid4(), REVIEWER)
    [event] = collected(approved)
    assert event.scopes == ["public_content"]


def test_approving_a_held_scope_again_records_nothing() -> None:
    approved = approved_app("comments")
    approved.approve_permission("comments", uuid4(), REVIEWER)
    assert approved.collect_events() == []


def test_approving_basic_records_it_once() -> None:
    registered = app()
    registered.approve_permission("basic", uuid4(), REVIEWER)
    [event] = collected(registered)
    assert (event.scopes, registered.approved_scopes) == (["basic"], ["basic"])


def test_live_app_is_permitted_only_the_scopes_it_was_approved_for() -> None:
    approved = approved_app("comments")
    assert approved.live_permits("comments", unreviewed_live_allowed=True)
    assert not approved.live_permits("likes", unreviewed_live_allowed=True)


def test_unapproved_live_app_is_permitted_every_scope_while_policy_allows_it() -> None:
    assert app().live_permits("likes", unreviewed_live_allowed=True)


def test_unapproved_app_is_permitted_nothing_live_when_policy_disallows_it() -> None:
    assert not app().live_permits("basic", unreviewed_live_allowed=False)


def test_withdrawing_one_scope_keeps_the_others() -> None:
    approved = approved_app("comments", "public_content")
    approved.withdraw_approval("comments", PLATFORM, reason="April 2018")
    assert sorted(approved.approved_scopes) == ["basic", "public_content"]
    assert approved.is_approved


def test_withdrawing_the_whole_approval_removes_every_scope() -> None:
    approved = approved_app("comments", "public_content")
    approved.withdraw_approval(None, PLATFORM, reason="policy breach")
    assert (approved.approved_scopes, approved.is_approved) == ([], False)


def test_withdrawing_basic_withdraws_the_whole_approval() -> None:
    approved = approved_app("comments")
    approved.withdraw_approval("basic", PLATFORM, reason="2020")
    assert approved.approved_scopes == []


def test_withdrawal_records_the_scopes_withdrawn_and_why() -> None:
    approved = approved_app("comments")
    approved.withdraw_approval("comments", PLATFORM, reason="April 2018")
    [withdrawn] = collected(approved)
    assert (withdrawn.scopes, withdrawn.reason) == (["comments"], "April 2018")


def test_withdrawing_an_approval_not_held_is_refused() -> None:
    with pytest.raises(ApprovalNotFoundError, match="likes"):
        approved_app("comments").withdraw_approval("likes", PLATFORM, reason="x")


def test_withdrawing_from_an_unapproved_app_is_refused() -> None:
    with pytest.raises(ApprovalNotFoundError):
        app().withdraw_approval(None, PLATFORM, reason="x")


def test_withdrawing_an_approval_needs_a_reason() -> None:
    with pytest.raises(InvalidInputError, match="reason"):
        approved_app("comments").withdraw_approval("comments", PLATFORM, reason=" ")


@pytest.mark.parametrize("actor", [OWNER, REVIEWER], ids=["owner", "reviewer"])
def test_only_the_platform_withdraws_an_approval(actor: Actor) -> None:
    approved = approved_app("comments")
    with pytest.raises(NotPermittedError):
        approved.withdraw_approval("comments", actor, reason="x")
    assert "comments" in approved.approved_scopes


def test_owned_by_recognises_the_owner_in_any_role_but_client() -> None:
    registered = app()
    assert registered.is_owned_by(OWNER)
    assert registered.is_owned_by(Actor.user("alice"))
    assert not registered.is_owned_by(Actor.client("alice"))
    assert not registered.is_owned_by(STRANGER)
