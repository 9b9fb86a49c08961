"""The authorization request (RFC 6749 §4.1.1, §4.2.1) under the legacy platform's rules.

Scopes, redirect URI matching, response types, the implicit flow, sandbox and live mode, grants
that accumulate, deauthorization. Every refusal must leave the log as it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from domain.actors import Actor
from domain.errors import (
    AppDisabledError,
    AppNotFoundError,
    GrantNotFoundError,
    ImplicitFlowDisabledError,
    InvalidInputError,
    InvalidScopeError,
    NotApprovedError,
    NotPermittedError,
    NotSandboxUserError,
    RedirectUriMismatchError,
    ScopeRetiredError,
    UnsupportedResponseTypeError,
)
from domain.grants import Grant
from domain.identity import grant_id
from tests.support.ledger_setup import (
    PLATFORM,
    REDIRECT_URI,
    SandboxSetup,
    approve_and_go_live,
    authorize,
    refused,
    register_app,
    register_user,
    sandbox_app_with_user,
    stored_notifications,
)

if TYPE_CHECKING:
    from application.ledger import Ledger

NOT_APPROVED = "This client has not been approved to access this resource."


@pytest.fixture
def sandbox(ledger: Ledger) -> SandboxSetup:
    """An app in sandbox mode with alice an accepted sandbox user."""
    return sandbox_app_with_user(ledger)


@pytest.fixture
def live(ledger: Ledger, sandbox: SandboxSetup) -> SandboxSetup:
    """The sandbox app, reviewed and approved for public_content (basic comes with it), live;
    carol is a registered user who is not one of its sandbox users."""
    approve_and_go_live(ledger, sandbox.app.client_id, sandbox.owner, ["public_content"])
    register_user(ledger, "carol")
    return sandbox


def grant_scopes(ledger: Ledger, setup: SandboxSetup, username: str) -> list[str]:
    user = ledger.user(username)
    app = ledger.app(setup.app.client_id)
    grant = ledger._get(grant_id(user.id, app.id), Grant)
    return [] if grant is None else list(grant.scopes)


# --- the scope parameter -----------------------------------------------------------------------


def test_omitted_scope_means_basic(ledger: Ledger, sandbox: SandboxSetup) -> None:
    result = authorize(ledger, sandbox.app.client_id, "alice", scope=None)

    assert result.scopes == ("basic",)


def test_space_separated_scopes_are_all_granted(ledger: Ledger, sandbox: SandboxSetup) -> None:
    result = authorize(ledger, sandbox.app.client_id, "alice", scope="likes comments")

    assert result.scopes == ("comments", "likes")


def test_empty_scope_parameter_is_invalid(ledger: Ledger, sandbox: SandboxSetup) -> None:
    with refused(ledger, InvalidScopeError) as excinfo:
        authorize(ledger, sandbox.app.client_id, "alice", scope="")

    assert "scope=" in str(excinfo.value)


def test_unknown_scope_is_refused_and_named(ledger: Ledger, sandbox: SandboxSetup) -> None:
    with refused(ledger, InvalidScopeError) as excinfo:
        authorize(ledger, sandbox.app.client_id, "alice", scope="basic photos_upload")

    assert str(excinfo.value).startswith("Invalid scope: photos_upload.")


def test_retired_scope_is_refused(ledger: Ledger, sandbox: SandboxSetup) -> None:
    ledger.retire_scope("likes", PLATFORM, "April 2018: switched off for everyone")

    with refused(
        ledger, ScopeRetiredError, "The likes permission has been retired by the platform"
    ):
        authorize(ledger, sandbox.app.client_id, "alice", scope="basic likes")


def test_refused_first_authorization_does_not_seed_the_catalogue(ledger: Ledger) -> None:
    """The catalogue is stored with the first command that succeeds, never by a refusal."""
    app = register_app(ledger, "dev_owner")

    with refused(ledger, InvalidScopeError):
        authorize(ledger, app.client_id, "dev_owner", scope="")


# --- the client and the redirect URI -----------------------------------------------------------


def test_unknown_client_id_is_refused(ledger: Ledger, sandbox: SandboxSetup) -> None:
    with refused(ledger, AppNotFoundError, "Invalid Client ID"):
        authorize(ledger, "0" * 32, "alice")


def test_missing_redirect_uri_is_refused(ledger: Ledger, sandbox: SandboxSetup) -> None:
    with refused(ledger, InvalidInputError):
        ledger.authorize(
            client_id=sandbox.app.client_id, username="alice", redirect_uri=None, scope=None
        )


@pytest.mark.parametrize(
    "requested",
    [
        "https://client.example/callback//",
        "https://client.example/",
        "https://client.example/other",
        "http://client.example/callback",
        "https://evil.example/callback",
        "https://client.example/callback#fragment",
    ],
    ids=[
        "two-trailing-slashes",
        "site-root",
        "other-path",
        "other-scheme",
        "other-host",
        "fragment",
    ],
)
def test_redirect_uri_not_matching_a_registered_one_is_refused(
    ledger: Ledger, sandbox: SandboxSetup, requested: str
) -> None:
    with refused(
        ledger, RedirectUriMismatchError, "Redirect URI does not match registered redirect URI"
    ):
        authorize(ledger, sandbox.app.client_id, "alice", redirect_uri=requested)


def test_redirect_uri_may_add_one_trailing_slash(ledger: Ledger, sandbox: SandboxSetup) -> None:
    requested = REDIRECT_URI + "/?type=mobile"

    result = authorize(ledger, sandbox.app.client_id, "alice", redirect_uri=requested)

    assert result.redirect_uri == requested


def test_redirect_uri_may_add_query_parameters(ledger: Ledger, sandbox: SandboxSetup) -> None:
    requested = REDIRECT_URI + "?utm=mail&x=1"

    result = authorize(ledger, sandbox.app.client_id, "alice", redirect_uri=requested)

    assert result.redirect_uri == requested


def test_redirect_uri_scheme_and_host_compare_case_insensitively(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    result = authorize(
        ledger, sandbox.app.client_id, "alice", redirect_uri="HTTPS://Client.Example/callback"
    )

    assert result.code


@pytest.fixture
def app_with_query_uri(ledger: Ledger) -> str:
    """An app whose registered redirect URI carries a query (the legacy docs' example)."""
    app = register_app(ledger, "dev_query", redirect_uris=["http://your-redirect-uri?this=that"])
    return app.client_id


def test_registered_query_followed_by_more_parameters_matches(
    ledger: Ledger, app_with_query_uri: str
) -> None:
    requested = "http://your-redirect-uri?this=that&another=true"

    result = authorize(ledger, app_with_query_uri, "dev_query", redirect_uri=requested)

    assert result.redirect_uri == requested


def test_registered_query_out_of_order_does_not_match(
    ledger: Ledger, app_with_query_uri: str
) -> None:
    with refused(
        ledger, RedirectUriMismatchError, "Redirect URI does not match registered redirect URI"
    ):
        authorize(
            ledger,
            app_with_query_uri,
            "dev_query",
            redirect_uri="http://your-redirect-uri?another=true&this=that",
        )


def test_registered_query_missing_from_request_does_not_match(
    ledger: Ledger, app_with_query_uri: str
) -> None:
    with refused(ledger, RedirectUriMismatchError):
        authorize(ledger, app_with_query_uri, "dev_query", redirect_uri="http://your-redirect-uri")


# --- response types and the implicit flow ------------------------------------------------------


@pytest.mark.parametrize("response_type", ["id_token", "", "CODE", "code token"])
def test_response_type_other_than_code_or_token_is_refused(
    ledger: Ledger, sandbox: SandboxSetup, response_type: str
) -> None:
    with refused(
        ledger, UnsupportedResponseTypeError, 'Only response type "code" and "token" is allowed'
    ):
        authorize(ledger, sandbox.app.client_id, "alice", response_type=response_type)


def test_code_flow_answers_a_code_and_no_token(ledger: Ledger, sandbox: SandboxSetup) -> None:
    result = authorize(ledger, sandbox.app.client_id, "alice")

    assert result.code
    assert (result.access_token, result.token_id) == (None, None)


def test_implicit_flow_answers_an_active_token_for_the_scopes(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    result = authorize(
        ledger, sandbox.app.client_id, "alice", scope="basic comments", response_type="token"
    )

    assert result.code is None
    assert result.access_token
    token = ledger.token(result.access_token)
    assert token.id == result.token_id
    assert (token.active, token.flow, token.scopes) == (True, "implicit", ["basic", "comments"])


def test_implicit_flow_is_refused_when_the_client_disabled_it(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    ledger.change_app_security(
        sandbox.app.client_id, Actor.developer(sandbox.owner), disable_implicit=True
    )

    with refused(ledger, ImplicitFlowDisabledError, "Implicit authentication is disabled"):
        authorize(ledger, sandbox.app.client_id, "alice", response_type="token")


def test_code_flow_still_works_when_implicit_is_disabled(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    ledger.change_app_security(
        sandbox.app.client_id, Actor.developer(sandbox.owner), disable_implicit=True
    )

    assert authorize(ledger, sandbox.app.client_id, "alice").code


# --- sandbox mode ------------------------------------------------------------------------------


def test_user_who_is_not_a_sandbox_user_is_refused(ledger: Ledger, sandbox: SandboxSetup) -> None:
    register_user(ledger, "bob")

    with refused(ledger, NotSandboxUserError, "You are not a sandbox user of this client"):
        authorize(ledger, sandbox.app.client_id, "bob")


def test_invited_user_who_has_not_accepted_is_refused(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    register_user(ledger, "bob")
    ledger.invite_sandbox_user(sandbox.app.client_id, "bob", Actor.developer(sandbox.owner))

    with refused(ledger, NotSandboxUserError, "You are not a sandbox user of this client"):
        authorize(ledger, sandbox.app.client_id, "bob")


def test_removed_sandbox_user_is_refused(ledger: Ledger, sandbox: SandboxSetup) -> None:
    ledger.remove_sandbox_user(
        sandbox.app.client_id, "alice", Actor.developer(sandbox.owner), "project over"
    )

    with refused(ledger, NotSandboxUserError):
        authorize(ledger, sandbox.app.client_id, "alice")


def test_owner_is_a_sandbox_user_of_their_own_app(ledger: Ledger, sandbox: SandboxSetup) -> None:
    result = authorize(ledger, sandbox.app.client_id, sandbox.owner)

    assert result.mode == "sandbox"


def test_accepted_sandbox_user_may_request_scopes_closed_to_applications(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    result = authorize(
        ledger, sandbox.app.client_id, "alice", scope="likes relationships follower_list"
    )

    assert (result.mode, result.scopes) == (
        "sandbox",
        ("follower_list", "likes", "relationships"),
    )


# --- live mode ---------------------------------------------------------------------------------


def test_live_app_lets_any_user_authorize_an_approved_scope(
    ledger: Ledger, live: SandboxSetup
) -> None:
    result = authorize(ledger, live.app.client_id, "carol", scope="public_content")

    assert (result.mode, result.scopes) == ("live", ("public_content",))


def test_live_app_has_basic_once_approved_for_another_scope(
    ledger: Ledger, live: SandboxSetup
) -> None:
    result = authorize(ledger, live.app.client_id, "carol", scope=None)

    assert (result.mode, result.scopes) == ("live", ("basic",))


def test_live_app_is_refused_a_scope_it_was_not_approved_for(
    ledger: Ledger, live: SandboxSetup
) -> None:
    with refused(ledger, NotApprovedError, NOT_APPROVED):
        authorize(ledger, live.app.client_id, "carol", scope="basic likes")


def test_live_app_is_refused_unapproved_scopes_even_for_its_sandbox_users(
    ledger: Ledger, live: SandboxSetup
) -> None:
    with refused(ledger, NotApprovedError, NOT_APPROVED):
        authorize(ledger, live.app.client_id, "alice", scope="likes")


def test_live_app_is_refused_a_scope_whose_approval_was_withdrawn(
    ledger: Ledger, live: SandboxSetup
) -> None:
    ledger.withdraw_approval(
        live.app.client_id, "public_content", PLATFORM, "April 2018: most reads switched off"
    )

    with refused(ledger, NotApprovedError, NOT_APPROVED):
        authorize(ledger, live.app.client_id, "carol", scope="public_content")


def test_app_whose_whole_approval_was_withdrawn_is_back_to_sandbox_rules(
    ledger: Ledger, live: SandboxSetup
) -> None:
    ledger.withdraw_approval(live.app.client_id, None, PLATFORM, "approval withdrawn")

    with refused(ledger, NotSandboxUserError, "You are not a sandbox user of this client"):
        authorize(ledger, live.app.client_id, "carol")


# --- grants ------------------------------------------------------------------------------------


def test_authorizing_records_the_scopes_in_the_users_grant(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    authorize(ledger, sandbox.app.client_id, "alice", scope="basic comments")

    assert grant_scopes(ledger, sandbox, "alice") == ["basic", "comments"]


def test_reauthorizing_with_more_scopes_adds_to_the_grant(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    authorize(ledger, sandbox.app.client_id, "alice", scope="basic")

    authorize(ledger, sandbox.app.client_id, "alice", scope="likes comments")

    assert grant_scopes(ledger, sandbox, "alice") == ["basic", "comments", "likes"]


def test_reauthorizing_with_held_scopes_leaves_the_grant_unchanged(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    authorize(ledger, sandbox.app.client_id, "alice", scope="basic likes")

    authorize(ledger, sandbox.app.client_id, "alice", scope="likes")

    assert grant_scopes(ledger, sandbox, "alice") == ["basic", "likes"]


def test_deauthorizing_clears_the_grant(ledger: Ledger, sandbox: SandboxSetup) -> None:
    authorize(ledger, sandbox.app.client_id, "alice", scope="basic likes")

    ledger.deauthorize(sandbox.app.client_id, "alice", Actor.user("alice"), "no longer used")

    assert grant_scopes(ledger, sandbox, "alice") == []


def test_authorizing_after_deauthorizing_starts_a_fresh_grant(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    authorize(ledger, sandbox.app.client_id, "alice", scope="basic likes")
    ledger.deauthorize(sandbox.app.client_id, "alice", Actor.user("alice"))

    authorize(ledger, sandbox.app.client_id, "alice", scope="comments")

    assert grant_scopes(ledger, sandbox, "alice") == ["comments"]


def test_platform_may_deauthorize_on_a_users_behalf(ledger: Ledger, sandbox: SandboxSetup) -> None:
    authorize(ledger, sandbox.app.client_id, "alice")

    ledger.deauthorize(sandbox.app.client_id, "alice", PLATFORM, "account compromised")

    assert grant_scopes(ledger, sandbox, "alice") == []


def test_deauthorizing_for_another_user_is_not_permitted(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    authorize(ledger, sandbox.app.client_id, "alice")

    with refused(ledger, NotPermittedError):
        ledger.deauthorize(sandbox.app.client_id, "alice", Actor.developer(sandbox.owner))


def test_deauthorizing_an_app_never_authorized_is_refused(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    with refused(ledger, GrantNotFoundError, "The user has not authorized this app"):
        ledger.deauthorize(sandbox.app.client_id, "alice", Actor.user("alice"))


def test_deauthorizing_twice_is_refused(ledger: Ledger, sandbox: SandboxSetup) -> None:
    authorize(ledger, sandbox.app.client_id, "alice")
    ledger.deauthorize(sandbox.app.client_id, "alice", Actor.user("alice"))

    with refused(ledger, GrantNotFoundError):
        ledger.deauthorize(sandbox.app.client_id, "alice", Actor.user("alice"))


def test_authorizing_on_another_users_behalf_is_not_permitted(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    with refused(ledger, NotPermittedError):
        ledger.authorize(
            client_id=sandbox.app.client_id,
            username="alice",
            redirect_uri=REDIRECT_URI,
            scope=None,
            actor=Actor.user(sandbox.owner),
        )


# --- the app's status --------------------------------------------------------------------------


def test_disabled_app_is_refused(ledger: Ledger, sandbox: SandboxSetup) -> None:
    ledger.disable_app(sandbox.app.client_id, PLATFORM, "spam")

    with refused(
        ledger, AppDisabledError, "The client used for authentication is no longer active."
    ):
        authorize(ledger, sandbox.app.client_id, "alice")


def test_re_enabled_app_may_be_authorized_again(ledger: Ledger, sandbox: SandboxSetup) -> None:
    ledger.disable_app(sandbox.app.client_id, PLATFORM, "spam")
    ledger.enable_app(sandbox.app.client_id, PLATFORM, "appeal upheld")

    assert authorize(ledger, sandbox.app.client_id, "alice").code


def test_sandbox_user_of_one_app_is_not_one_of_another(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    other = register_app(ledger, "dev_other", name="Other")

    with refused(ledger, NotSandboxUserError):
        authorize(ledger, other.client_id, "alice")


# --- what a consent writes ---------------------------------------------------------------------


def topics_after(ledger: Ledger, position: int) -> list[str]:
    return [n.topic.rsplit(":", 1)[-1] for n in stored_notifications(ledger) if n.id > position]


def test_first_consent_in_the_code_flow_writes_the_grant_only(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    authorize(ledger, sandbox.app.client_id, sandbox.owner, scope="basic")  # stores the seed
    before = ledger.position()

    result = authorize(ledger, sandbox.app.client_id, "alice", scope="basic comments")

    assert topics_after(ledger, before) == ["Grant.Created", "Grant.ScopesGranted"]
    assert result.position == ledger.position()


def test_first_consent_of_a_ledger_stores_the_seed_catalogue_with_the_grant(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    before = ledger.position()

    authorize(ledger, sandbox.app.client_id, "alice", scope="basic")

    assert topics_after(ledger, before) == [
        "ScopeCatalogue.Created",
        "Grant.Created",
        "Grant.ScopesGranted",
    ]


def test_consent_adding_scopes_in_the_code_flow_writes_what_it_adds(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    authorize(ledger, sandbox.app.client_id, "alice", scope="basic")
    before = ledger.position()

    result = authorize(ledger, sandbox.app.client_id, "alice", scope="basic likes")

    assert topics_after(ledger, before) == ["Grant.ScopesGranted"]
    assert result.position == ledger.position() == before + 1


def test_consent_to_held_scopes_in_the_code_flow_writes_nothing(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    authorize(ledger, sandbox.app.client_id, "alice", scope="basic likes")
    before = ledger.position()

    result = authorize(ledger, sandbox.app.client_id, "alice", scope="likes")

    assert result.code
    assert ledger.position() == before
    assert result.position == before  # the log position the answer rests on


def test_consent_to_held_scopes_in_the_implicit_flow_writes_the_consent_and_the_token(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    """The token is issued under the grant, so a concurrent deauthorization must conflict."""
    authorize(ledger, sandbox.app.client_id, "alice", scope="basic")
    before = ledger.position()

    authorize(ledger, sandbox.app.client_id, "alice", scope="basic", response_type="token")

    assert topics_after(ledger, before) == ["Grant.ScopesGranted", "AccessToken.Issued"]


def test_code_is_never_stored(ledger: Ledger, sandbox: SandboxSetup) -> None:
    code = authorize(ledger, sandbox.app.client_id, "alice", scope="basic").code
    assert code is not None

    stored = b"".join(n.state for n in stored_notifications(ledger))
    assert b"alice" in stored  # the scan reads readable state, so it can fail
    assert code.encode() not in stored
    assert code.partition(".")[2].encode() not in stored
