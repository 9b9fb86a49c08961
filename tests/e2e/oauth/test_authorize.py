"""The authorization endpoint through the real ASGI app, over SQLite and PostgreSQL: request
checks with the legacy error bodies, redirect URI rules, consent, state, denial, implicit flow
and CSRF."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from domain.actors import Actor
from tests.support.ledger_setup import (
    PLATFORM,
    REDIRECT_URI,
    add_sandbox_user,
    approve_and_go_live,
    register_app,
)
from tests.support.oauth_flow import (
    APP_NAME,
    OUTSIDER,
    USER,
    World,
    authorize,
    authorize_query,
    consent_fields,
    consent_page,
    decide,
    forms_in,
    password_hash,
    redirect_params,
    seed_world,
    sign_in,
)

LEGACY_REDIRECT = "http://your-redirect-uri?this=that"


@pytest.fixture
def world(ledger: Any) -> World:
    return seed_world(ledger, redirect_uris=(REDIRECT_URI, LEGACY_REDIRECT))


def assert_legacy_error(response: Any, status: int, error_type: str, message: str) -> None:
    """The legacy OAuth error body, exactly, and never a redirect."""
    assert response.status_code == status, response.text
    assert response.json() == {"error_type": error_type, "code": status, "error_message": message}
    assert "location" not in response.headers
    assert response.headers["cache-control"] == "no-store"


# --- the client and the redirect URI, checked first and never redirected ----------------------


def test_missing_client_id_is_answered_with_the_legacy_error(client: TestClient) -> None:
    response = client.get(f"/oauth/authorize?{authorize_query(None)}")

    assert_legacy_error(response, 400, "OAuthException", "You must provide a client_id")


def test_unknown_client_id_is_answered_with_the_legacy_error(
    client: TestClient, world: World
) -> None:
    response = client.get(f"/oauth/authorize?{authorize_query('0' * 32)}")

    assert_legacy_error(response, 400, "OAuthException", "Invalid Client ID")


def test_missing_redirect_uri_is_refused_without_redirecting(
    client: TestClient, world: World
) -> None:
    response = client.get(f"/oauth/authorize?{authorize_query(world.client_id, redirect_uri=None)}")

    assert_legacy_error(response, 400, "OAuthException", "redirect_uri is required")


@pytest.mark.parametrize(
    "requested",
    [
        "https://evil.example/callback",  # another host
        "http://client.example/callback",  # another scheme
        "https://client.example/callback//",  # two trailing slashes added
        "https://client.example/",  # the site's root
        "https://client.example/callback/more",  # longer path
        "https://client.example/Callback",  # path case
        "https://client.example/callback#fragment",  # a fragment (RFC 6749 §3.1.2)
        "http://your-redirect-uri?another=true&this=that",  # registered query not first
        "http://your-redirect-uri",  # registered query missing
        "http://your-redirect-uri?this=thatother",  # registered query's value extended
    ],
)
def test_redirect_uri_not_matching_a_registered_one_is_refused_without_redirecting(
    client: TestClient, world: World, requested: str
) -> None:
    query = authorize_query(world.client_id, redirect_uri=requested)

    response = client.get(f"/oauth/authorize?{query}")

    assert_legacy_error(
        response, 400, "OAuthException", "Redirect URI does not match registered redirect URI"
    )


def test_bad_redirect_uri_is_refused_before_a_bad_response_type(
    client: TestClient, world: World
) -> None:
    query = authorize_query(
        world.client_id, redirect_uri="https://evil.example/", response_type="id_token"
    )

    response = client.get(f"/oauth/authorize?{query}")

    assert response.json()["error_message"] == (
        "Redirect URI does not match registered redirect URI"
    )


@pytest.mark.parametrize(
    ("requested", "expected_query"),
    [
        (REDIRECT_URI, "code="),
        (REDIRECT_URI + "?extra=1", "extra=1&code="),  # the request may add parameters
        (LEGACY_REDIRECT, "this=that&code="),
        (LEGACY_REDIRECT + "&another=true", "this=that&another=true&code="),
    ],
)
def test_matching_redirect_uri_gets_the_code_after_its_own_query(
    client: TestClient, world: World, requested: str, expected_query: str
) -> None:
    response = authorize(client, authorize_query(world.client_id, redirect_uri=requested))

    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(requested.split("?")[0] + "?" + expected_query)
    assert redirect_params(location)["code"]


def test_authorize_path_with_trailing_slash_is_served_too(client: TestClient, world: World) -> None:
    response = client.get(f"/oauth/authorize/?{authorize_query(world.client_id)}")

    assert response.status_code == 200
    assert 'name="password"' in response.text


def test_repeated_parameter_is_refused(client: TestClient, world: World) -> None:
    query = authorize_query(world.client_id) + "&state=other"

    response = client.get(f"/oauth/authorize?{query}")

    assert_legacy_error(
        response, 400, "OAuthException", "The parameter state is included more than once"
    )


# --- the rest of the request, checked before anyone signs in ---------------------------------


@pytest.mark.parametrize("response_type", ["id_token", "code token", "", None])
def test_response_type_other_than_code_or_token_is_refused(
    client: TestClient, world: World, response_type: str | None
) -> None:
    query = authorize_query(world.client_id, response_type=response_type)

    response = client.get(f"/oauth/authorize?{query}")

    assert_legacy_error(
        response, 400, "OAuthException", 'Only response type "code" and "token" is allowed'
    )


def test_implicit_request_to_a_client_that_disabled_it_is_forbidden(
    client: TestClient, ledger: Any, world: World
) -> None:
    ledger.change_app_security(world.client_id, Actor.developer("olivia"), disable_implicit=True)
    query = authorize_query(world.client_id, response_type="token")

    response = client.get(f"/oauth/authorize?{query}")

    assert_legacy_error(
        response, 403, "OAuthForbiddenException", "Implicit authentication is disabled"
    )


def test_disabled_client_is_refused(client: TestClient, ledger: Any, world: World) -> None:
    ledger.disable_app(world.client_id, PLATFORM, "abuse")

    response = client.get(f"/oauth/authorize?{authorize_query(world.client_id)}")

    assert_legacy_error(
        response, 400, "OAuthException", "The client used for authentication is no longer active."
    )


def test_empty_scope_parameter_is_invalid(client: TestClient, world: World) -> None:
    response = client.get(f"/oauth/authorize?{authorize_query(world.client_id)}&scope=")

    assert_legacy_error(
        response,
        400,
        "OAuthException",
        "The scope parameter is empty (scope=): omit it, or give a non-empty, space-separated "
        "list of scopes",
    )


def test_unknown_scope_is_invalid(client: TestClient, world: World) -> None:
    query = authorize_query(world.client_id, scope="basic photos")

    response = client.get(f"/oauth/authorize?{query}")

    assert_legacy_error(
        response,
        400,
        "OAuthException",
        "Invalid scope: photos. Known scopes: basic, comments, follower_list, likes, "
        "public_content, relationships",
    )


def test_retired_scope_is_refused(client: TestClient, ledger: Any, world: World) -> None:
    ledger.retire_scope("likes", PLATFORM, "April 2018")
    query = authorize_query(world.client_id, scope="likes")

    response = client.get(f"/oauth/authorize?{query}")

    assert_legacy_error(
        response, 400, "OAuthException", "The likes permission has been retired by the platform"
    )


# --- checks that need the user ----------------------------------------------------------------


def test_user_who_is_not_a_sandbox_user_is_forbidden_after_signing_in(
    client: TestClient, world: World
) -> None:
    response = consent_page(client, authorize_query(world.client_id), username=OUTSIDER)

    assert_legacy_error(
        response, 403, "OAuthForbiddenException", "You are not a sandbox user of this client"
    )


def test_live_client_asking_for_a_scope_it_was_not_approved_for_is_refused(
    client: TestClient, ledger: Any, world: World
) -> None:
    approve_and_go_live(ledger, world.client_id, "olivia", ["basic"])
    query = authorize_query(world.client_id, scope="basic likes")

    response = consent_page(client, query, username=OUTSIDER)

    assert_legacy_error(
        response,
        400,
        "OAuthPermissionsException",
        "This client has not been approved to access this resource.",
    )


# --- the consent page -------------------------------------------------------------------------


def test_consent_page_names_the_app_each_scope_with_its_description_and_sandbox_mode(
    client: TestClient, world: World
) -> None:
    query = authorize_query(world.client_id, scope="basic comments")

    page = consent_page(client, query)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'<span id="app-name">{APP_NAME}</span>' in page.text
    assert "<strong>basic</strong>to read a user&#x27;s profile info and media" in page.text
    assert "<strong>comments</strong>to post and delete comments on a user&#x27;s behalf" in (
        page.text
    )
    assert 'id="app-mode">sandbox<' in page.text
    assert f'<strong id="username">{USER}</strong>' in page.text


def test_consent_page_without_scope_asks_for_basic_only(client: TestClient, world: World) -> None:
    page = consent_page(client, authorize_query(world.client_id))

    assert "<strong>basic</strong>" in page.text
    assert "<strong>likes</strong>" not in page.text


def test_consent_page_shows_live_mode_for_an_approved_live_app(
    client: TestClient, ledger: Any, world: World
) -> None:
    approve_and_go_live(ledger, world.client_id, "olivia", ["basic"])

    page = consent_page(client, authorize_query(world.client_id), username=OUTSIDER)

    assert page.status_code == 200
    assert 'id="app-mode">live<' in page.text


def test_consent_page_cannot_be_framed_or_cached(client: TestClient, world: World) -> None:
    page = consent_page(client, authorize_query(world.client_id))

    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_app_name_and_state_are_escaped_in_the_page(client: TestClient, ledger: Any) -> None:
    world = World(register_app(ledger, "eve", name='<script>alert("x")</script>'))
    ledger.set_user_password("eve", password_hash(), PLATFORM)
    state = '"><script>alert(1)</script>'

    page = consent_page(client, authorize_query(world.client_id, state=state), username="eve")

    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page.text


# --- the decision -----------------------------------------------------------------------------


def test_allow_redirects_with_a_code_and_the_state(client: TestClient, world: World) -> None:
    response = authorize(client, authorize_query(world.client_id, state="s-123"))

    assert response.status_code == 303
    assert response.headers["cache-control"] == "no-store"
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?code=")
    params = redirect_params(location)
    assert params["state"] == "s-123"
    assert len(params["code"]) >= 43  # 256 bits


def test_state_comes_back_unchanged_whatever_its_characters(
    client: TestClient, world: World
) -> None:
    state = "a b+c&d=e/é%20?"

    response = authorize(client, authorize_query(world.client_id, state=state))

    assert redirect_params(response.headers["location"])["state"] == state


def test_without_state_no_state_is_returned(client: TestClient, world: World) -> None:
    response = authorize(client, authorize_query(world.client_id, state=None))

    assert "state" not in redirect_params(response.headers["location"])


def test_deny_redirects_with_the_legacy_access_denied_error_and_the_state(
    client: TestClient, ledger: Any, world: World
) -> None:
    page = consent_page(client, authorize_query(world.client_id, state="s-9"))
    before = ledger.position()

    response = decide(client, page, "deny")

    assert response.status_code == 303
    assert response.headers["location"] == (
        REDIRECT_URI + "?error=access_denied&error_reason=user_denied"
        "&error_description=The+user+denied+your+request&state=s-9"
    )
    assert ledger.position() == before  # nothing was granted


def test_implicit_flow_returns_a_working_token_in_the_fragment(
    client: TestClient, app: FastAPI, world: World
) -> None:
    query = authorize_query(world.client_id, response_type="token", state="imp")

    response = authorize(client, query)

    location = urlsplit(response.headers["location"])
    assert (location.query, location.path) == ("", "/callback")
    params = redirect_params(response.headers["location"])
    assert params["state"] == "imp"
    assert set(params) == {"access_token", "state"}
    decision = app.state.runtime.read_model.check(params["access_token"], "basic")
    assert decision.allowed  # usable at once: the answer waited for the read models


def test_implicit_flow_denial_goes_back_in_the_fragment(client: TestClient, world: World) -> None:
    page = consent_page(client, authorize_query(world.client_id, response_type="token"))

    response = decide(client, page, "deny")

    location = urlsplit(response.headers["location"])
    assert location.fragment.startswith("error=access_denied&error_reason=user_denied")


def test_consent_form_without_the_csrf_token_is_refused(
    client: TestClient, ledger: Any, world: World
) -> None:
    page = consent_page(client, authorize_query(world.client_id))
    action, fields = consent_fields(page.text, "allow")
    del fields["csrf_token"]
    before = ledger.position()

    response = client.post(action, data=fields)

    assert response.status_code == 403
    assert response.json()["error_type"] == "OAuthForbiddenException"
    assert "location" not in response.headers
    assert ledger.position() == before  # no code was issued


def test_consent_form_posted_from_another_session_is_refused(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """A forged form carries the attacker's own token; the victim's session does not match."""
    attacker = TestClient(app, follow_redirects=False)  # the app is already running
    attacker_page = consent_page(attacker, authorize_query(world.client_id))
    action, forged = consent_fields(attacker_page.text, "allow")
    consent_page(client, authorize_query(world.client_id))  # the victim is signed in

    response = client.post(action, data=forged)

    assert response.status_code == 403
    assert response.json()["error_type"] == "OAuthForbiddenException"


def test_consent_form_with_a_tampered_redirect_uri_is_refused_not_redirected(
    client: TestClient, world: World
) -> None:
    page = consent_page(client, authorize_query(world.client_id))
    action, fields = consent_fields(page.text, "deny")
    fields["redirect_uri"] = "https://evil.example/steal"

    response = client.post(action, data=fields)

    assert_legacy_error(
        response, 400, "OAuthException", "Redirect URI does not match registered redirect URI"
    )


def test_consent_form_rechecks_the_sandbox_membership_on_allow(
    client: TestClient, ledger: Any, world: World
) -> None:
    page = consent_page(client, authorize_query(world.client_id))
    ledger.remove_sandbox_user(world.client_id, USER, Actor.developer("olivia"))

    response = decide(client, page, "allow")

    assert_legacy_error(
        response, 403, "OAuthForbiddenException", "You are not a sandbox user of this client"
    )


def test_consent_form_posted_while_signed_out_is_refused(client: TestClient, world: World) -> None:
    page = client.get(f"/oauth/authorize?{authorize_query(world.client_id)}")
    fields = {
        **forms_in(page.text)[0].fields,  # the sign-in form's valid token
        "client_id": world.client_id,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "decision": "allow",
    }

    response = client.post("/oauth/authorize", data=fields)

    assert response.status_code == 403
    assert "location" not in response.headers


def test_signing_in_as_another_user_from_the_consent_page(
    client: TestClient, ledger: Any, world: World
) -> None:
    add_sandbox_user(ledger, world.client_id, "olivia", OUTSIDER)
    query = authorize_query(world.client_id)
    page = consent_page(client, query)
    signout = next(f for f in forms_in(page.text) if f.action.endswith("/signout"))

    signed_out = client.post(signout.action, data=signout.fields)
    again = sign_in(client, query, username=OUTSIDER)
    page = client.get(again.headers["location"])

    assert signed_out.status_code == 303
    assert f'<strong id="username">{OUTSIDER}</strong>' in page.text


def test_authorization_request_url_in_next_is_kept_through_sign_in(
    client: TestClient, world: World
) -> None:
    query = authorize_query(world.client_id, scope="basic comments", state="keep me")

    response = sign_in(client, query)

    assert response.status_code == 303
    assert response.headers["location"] == f"/oauth/authorize?{query}"


def test_consent_page_shows_a_recorded_direction_override_as_a_replacement_character() -> None:
    # A name recorded before such characters were refused (registration refuses them now).
    from api.oauth.pages import consent_page as render_consent_page

    page = render_consent_page(
        action="/oauth/authorize",
        csrf_token="t",
        app_name="Photo\u202eRetnirp",
        app_description="Prints\u2066 photos",
        website="https://p.example",
        redirect_host="p.example",
        mode="sandbox",
        scopes=[],
        username="bob",
        request_fields={},
        signout_action=None,
        signout_next="/",
    )
    assert "\u202e" not in page
    assert "\u2066" not in page
    assert "Photo\ufffdRetnirp" in page
