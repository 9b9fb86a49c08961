"""A platform user acting for herself over HTTP (``/v1/me``): her password (HTTP Basic) or the
OAuth pages' session cookie, never an API key; every write recorded as her, in the role user."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.oauth.sessions import COOKIE_NAME, Session, SessionCodec
from api.positions import POSITION_HEADER
from domain.api_keys import KeyRole
from infrastructure.settings import Settings
from tests.support.http_api import Api, World

pytest_plugins = ["tests.support.http_api_fixtures"]

PASSWORDS = {"alice": "alice-correct-horse", "bob": "bob-battery-staple"}
CHALLENGE = 'Basic realm="ledger users"'


def basic(username: str, password: str) -> dict[str, str]:
    pair = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {pair}"}


def as_user(username: str) -> dict[str, str]:
    return basic(username, PASSWORDS[username])


def set_password(api: Api, username: str) -> None:
    api.write(api.put(f"/v1/users/{username}/password", {"password": PASSWORDS[username]}))


def session_cookie(api: Api, username: str) -> dict[str, str]:
    """The cookie the OAuth sign-in page would have set for the user."""
    codec = SessionCodec.for_settings(api.app.state.settings)
    user = api.ledger.user(username)
    session = Session.fresh(user.username, codec.password_mark(user.password_hash))
    return {"Cookie": f"{COOKIE_NAME}={codec.dumps(session)}"}


def call(
    api: Api, method: str, url: str, headers: dict[str, str] | None = None, **kwargs: Any
) -> httpx.Response:
    """A request with only the given credentials (no admin key)."""
    response: httpx.Response = api.client.request(method, url, headers=headers or {}, **kwargs)
    return response


def sandbox_status(api: Api, client_id: str, username: str) -> str | None:
    app = api.ok(api.get(f"/v1/apps/{client_id}"))
    return {u["username"]: u["status"] for u in app["sandbox_users"]}.get(username)


def logged(api: Api, event_type: str) -> list[tuple[str, str]]:
    """(actor, role) of each event of the type, in log order."""
    api.synced()
    rows = api.runtime.db.query(
        "SELECT actor, role FROM rm_log WHERE event_type = :t ORDER BY position", {"t": event_type}
    )
    return [(r[0], r[1]) for r in rows]


def invite(api: Api, world: World, username: str) -> None:
    api.ok(
        api.post(
            f"/v1/apps/{world.app.client_id}/sandbox-users",
            {"username": username},
            key=world.developer_key,
        ),
        201,
    )


@pytest.fixture
def alice(api: Api, world: World) -> World:
    """The world (alice an accepted sandbox user with a token), alice with a password."""
    set_password(api, "alice")
    return world


@pytest.fixture
def bob(api: Api, alice: World) -> World:
    """bob, with a password and a token of his own for the same app."""
    api.user("bob")
    set_password(api, "bob")
    api.sandbox_user(alice.app.client_id, alice.developer_key, "bob")
    return alice


# --- authentication -------------------------------------------------------------------------


def test_profile_shows_the_user_and_her_sandbox_apps(api: Api, alice: World) -> None:
    response = call(api, "GET", "/v1/me", as_user("alice"))

    body = api.ok(response)
    assert body["username"] == "alice"
    assert body["full_name"] == "Alice"
    assert body["sandbox_apps"] == [{"client_id": alice.app.client_id, "name": "Printer"}]
    assert response.headers["Cache-Control"] == "no-store"


def test_the_username_is_matched_without_case_and_answered_as_registered(
    api: Api, alice: World
) -> None:
    body = api.ok(call(api, "GET", "/v1/me", basic("ALICE", PASSWORDS["alice"])))

    assert body["username"] == "alice"


def test_a_username_spelt_with_the_kelvin_sign_does_not_sign_in_as_its_k_lookalike(
    api: Api, alice: World
) -> None:
    api.user("kelly")
    api.write(api.put("/v1/users/kelly/password", {"password": "kelly-correct-horse"}))
    assert api.ok(call(api, "GET", "/v1/me", basic("kelly", "kelly-correct-horse")))

    response = call(api, "GET", "/v1/me", basic("\u212aelly", "kelly-correct-horse"))

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == CHALLENGE


def test_the_oauth_session_cookie_authenticates_the_user(api: Api, alice: World) -> None:
    body = api.ok(call(api, "GET", "/v1/me", session_cookie(api, "alice")))

    assert body["username"] == "alice"


def test_a_session_signed_in_before_a_password_change_is_refused(api: Api, alice: World) -> None:
    cookie = session_cookie(api, "alice")
    api.write(api.put("/v1/users/alice/password", {"password": "a-new-password"}))

    response = call(api, "GET", "/v1/me", cookie)

    assert response.status_code == 401


def test_a_tampered_session_cookie_is_refused(api: Api, alice: World) -> None:
    value = session_cookie(api, "alice")["Cookie"]
    tampered = value[:-2] + ("AA" if not value.endswith("AA") else "BB")

    response = call(api, "GET", "/v1/me", {"Cookie": tampered})

    assert response.status_code == 401


def test_no_credentials_are_asked_for_with_a_basic_challenge(api: Api, alice: World) -> None:
    response = call(api, "GET", "/v1/me")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == CHALLENGE
    assert response.json()["error"]["code"] == "unauthorized"


def test_an_api_key_is_not_a_platform_users_credential(api: Api, alice: World) -> None:
    developer = api.key("developer", principal="alice")

    response = call(api, "GET", "/v1/me", api.auth(developer))

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == CHALLENGE


def test_a_wrong_password_is_401_and_writes_nothing(api: Api, alice: World) -> None:
    api.user("bob")
    invite(api, alice, "bob")
    set_password(api, "bob")
    before = api.ledger.position()

    response = call(
        api,
        "POST",
        f"/v1/me/sandbox-invitations/{alice.app.client_id}/accept",
        basic("bob", "not-bobs-password"),
    )

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == CHALLENGE
    assert api.ledger.position() == before
    assert sandbox_status(api, alice.app.client_id, "bob") == "invited"


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(api: Api, alice: World) -> None:
    wrong = call(api, "GET", "/v1/me", basic("alice", "not-alices-password"))
    unknown = call(api, "GET", "/v1/me", basic("nobody", "not-alices-password"))

    assert (unknown.status_code, unknown.json(), unknown.headers["WWW-Authenticate"]) == (
        wrong.status_code,
        wrong.json(),
        wrong.headers["WWW-Authenticate"],
    )


def test_a_user_without_a_password_cannot_sign_in(api: Api, alice: World) -> None:
    api.user("bob")

    response = call(api, "GET", "/v1/me", basic("bob", "any-password-at-all"))

    assert response.status_code == 401


def test_malformed_basic_credentials_are_401(api: Api, alice: World) -> None:
    response = call(api, "GET", "/v1/me", {"Authorization": "Basic not-base64!"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == CHALLENGE


def test_a_cross_site_browser_request_is_refused_and_writes_nothing(api: Api, alice: World) -> None:
    before = api.ledger.position()

    response = call(
        api,
        "DELETE",
        f"/v1/me/authorizations/{alice.app.client_id}",
        {**as_user("alice"), "Sec-Fetch-Site": "cross-site"},
    )

    assert response.status_code == 403
    assert api.ledger.position() == before


# --- sandbox invitations and apps -----------------------------------------------------------


def test_user_accepts_her_own_invitation_recorded_as_user(api: Api, alice: World) -> None:
    api.user("bob")
    set_password(api, "bob")
    invite(api, alice, "bob")

    api.write(
        call(
            api, "POST", f"/v1/me/sandbox-invitations/{alice.app.client_id}/accept", as_user("bob")
        )
    )

    assert sandbox_status(api, alice.app.client_id, "bob") == "accepted"
    assert logged(api, "App.SandboxInvitationAccepted")[-1] == ("bob", "user")
    assert logged(api, "User.JoinedSandbox")[-1] == ("bob", "user")


def test_user_cannot_accept_another_users_invitation(api: Api, alice: World) -> None:
    api.user("bob")
    other = api.developer("dev_eve")
    other_app = api.register_app(other)
    api.ok(
        api.post(f"/v1/apps/{other_app.client_id}/sandbox-users", {"username": "bob"}, key=other),
        201,
    )
    before = api.ledger.position()

    response = call(
        api, "POST", f"/v1/me/sandbox-invitations/{other_app.client_id}/accept", as_user("alice")
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "sandbox_invitation"
    assert sandbox_status(api, other_app.client_id, "bob") == "invited"
    assert sandbox_status(api, other_app.client_id, "alice") is None
    assert api.ledger.position() == before


def test_user_leaves_a_sandbox_app_and_her_token_stops_at_once(api: Api, alice: World) -> None:
    position = api.write(
        call(
            api,
            "DELETE",
            f"/v1/me/sandbox-apps/{alice.app.client_id}",
            as_user("alice"),
            params={"reason": "done testing"},
        )
    )

    decision = api.check(alice.token.access_token, "basic")
    assert decision["allowed"] is False
    assert decision["reason"] == "not_sandbox_user"
    assert api.ok(call(api, "GET", "/v1/me", as_user("alice")))["sandbox_apps"] == []
    assert api.runtime.read_model.position() >= position
    assert logged(api, "App.SandboxUserRemoved") == [("alice", "user")]


def test_user_declines_an_invitation_by_leaving(api: Api, alice: World) -> None:
    api.user("bob")
    set_password(api, "bob")
    invite(api, alice, "bob")

    api.write(call(api, "DELETE", f"/v1/me/sandbox-apps/{alice.app.client_id}", as_user("bob")))

    assert sandbox_status(api, alice.app.client_id, "bob") is None


def test_leaving_an_app_the_user_is_not_in_is_409_and_leaves_others_in(
    api: Api, bob: World
) -> None:
    other = api.developer("dev_eve")
    other_app = api.register_app(other)
    api.sandbox_user(other_app.client_id, other, "bob")
    before = api.ledger.position()

    response = call(api, "DELETE", f"/v1/me/sandbox-apps/{other_app.client_id}", as_user("alice"))

    assert response.status_code == 409
    assert sandbox_status(api, other_app.client_id, "bob") == "accepted"
    assert api.ledger.position() == before


# --- authorizations -------------------------------------------------------------------------


def test_authorizations_list_the_users_apps_and_scopes(api: Api, bob: World) -> None:
    api.token(bob.app, "bob", "basic")

    body = api.ok(call(api, "GET", "/v1/me/authorizations", as_user("alice")))

    assert body["username"] == "alice"
    assert body["authorizations"] == [
        {"client_id": bob.app.client_id, "scopes": ["basic", "likes"]},
    ]


def test_authorizations_as_of_before_deauthorization_show_the_app(api: Api, alice: World) -> None:
    deauthorized = api.write(
        call(api, "DELETE", f"/v1/me/authorizations/{alice.app.client_id}", as_user("alice"))
    )

    now = api.ok(call(api, "GET", "/v1/me/authorizations", as_user("alice")))
    before = api.ok(
        call(
            api,
            "GET",
            "/v1/me/authorizations",
            as_user("alice"),
            params={"as_of": deauthorized - 1},
        )
    )

    assert now["authorizations"] == []
    assert before["position"] == deauthorized - 1
    assert before["authorizations"] == [
        {"client_id": alice.app.client_id, "scopes": ["basic", "likes"]},
    ]


def test_authorizations_wait_for_min_position_or_answer_503(api: Api, alice: World) -> None:
    runner = api.runtime.runner
    assert runner is not None
    runner.stop()  # the next write stays in flight: written, not projected
    api.runtime.runner = None
    written = api.user("carol")["position"]
    api.app.state.read_wait_timeout = 0.05

    response = call(
        api, "GET", "/v1/me/authorizations", as_user("alice"), params={"min_position": written}
    )

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "projection_timeout"


def test_user_deauthorizes_an_app_and_its_token_stops_at_once(api: Api, alice: World) -> None:
    response = call(
        api,
        "DELETE",
        f"/v1/me/authorizations/{alice.app.client_id}",
        as_user("alice"),
        params={"reason": "I no longer print photos"},
    )

    api.write(response)
    decision = api.check(alice.token.access_token, "basic")
    assert decision["allowed"] is False
    assert decision["reason"] == "grant_withdrawn"
    assert logged(api, "Grant.Deauthorized") == [("alice", "user")]


def test_user_cannot_deauthorize_another_users_grant(api: Api, bob: World) -> None:
    other = api.developer("dev_eve")
    other_app = api.register_app(other)
    api.sandbox_user(other_app.client_id, other, "bob")
    bobs = api.token(other_app, "bob", "basic")
    before = api.ledger.position()

    response = call(api, "DELETE", f"/v1/me/authorizations/{other_app.client_id}", as_user("alice"))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "grant_not_found"
    assert api.check(bobs.access_token, "basic")["allowed"] is True
    assert api.ledger.position() == before


def test_deauthorizing_twice_is_404(api: Api, alice: World) -> None:
    url = f"/v1/me/authorizations/{alice.app.client_id}"
    api.write(call(api, "DELETE", url, as_user("alice")))

    response = call(api, "DELETE", url, as_user("alice"))

    assert response.status_code == 404


# --- tokens ---------------------------------------------------------------------------------


def test_user_revokes_her_token_and_it_stops_at_once(api: Api, alice: World) -> None:
    response = call(
        api,
        "POST",
        "/v1/me/tokens/revoke",
        as_user("alice"),
        json={"access_token": alice.token.access_token, "reason": "lost my phone"},
    )

    position = api.write(response)
    assert response.headers[POSITION_HEADER] == str(position)
    decision = api.check(alice.token.access_token, "basic")
    assert decision["allowed"] is False
    assert decision["reason"] == "token_revoked"
    assert logged(api, "AccessToken.Revoked") == [("alice", "user")]


def test_user_cannot_revoke_another_users_token(api: Api, bob: World) -> None:
    bobs = api.token(bob.app, "bob", "basic")
    before = api.ledger.position()

    response = call(
        api,
        "POST",
        "/v1/me/tokens/revoke",
        as_user("alice"),
        json={"access_token": bobs.access_token},
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_permitted"
    assert api.check(bobs.access_token, "basic")["allowed"] is True
    assert api.ledger.position() == before


def test_revoking_an_unknown_token_is_404(api: Api, alice: World) -> None:
    response = call(
        api, "POST", "/v1/me/tokens/revoke", as_user("alice"), json={"access_token": "not-a-token"}
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "token_not_found"


def test_revoking_twice_is_409(api: Api, alice: World) -> None:
    body = {"access_token": alice.token.access_token}
    api.write(call(api, "POST", "/v1/me/tokens/revoke", as_user("alice"), json=body))

    response = call(api, "POST", "/v1/me/tokens/revoke", as_user("alice"), json=body)

    assert response.status_code == 409


def test_the_token_to_revoke_is_named_only_in_the_body(api: Api, alice: World) -> None:
    spec = api.client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/me/tokens/revoke"]["post"]

    response = call(
        api,
        "POST",
        "/v1/me/tokens/revoke",
        as_user("alice"),
        params={"access_token": alice.token.access_token},
        json={},
    )

    assert operation.get("parameters", []) == []
    assert response.status_code == 422
    assert api.check(alice.token.access_token, "basic")["allowed"] is True


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/v1/me/sandbox-apps/{client_id}"),
        ("DELETE", "/v1/me/authorizations/{client_id}"),
        ("POST", "/v1/me/tokens/revoke"),
    ],
)
def test_a_write_that_takes_away_is_answered_once_the_read_models_have_it(
    api: Api, alice: World, method: str, path: str
) -> None:
    runner = api.runtime.runner
    assert runner is not None
    runner.stop()  # the read models now move only when something projects
    api.runtime.runner = None
    json = {"access_token": alice.token.access_token} if method == "POST" else None

    position = api.write(
        call(api, method, path.format(client_id=alice.app.client_id), as_user("alice"), json=json)
    )

    assert api.runtime.read_model.position() >= position


def test_every_me_operation_asks_for_a_users_password_or_session(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()

    securities = [
        op["security"]
        for path, item in spec["paths"].items()
        if path.startswith("/v1/me")
        for op in item.values()
    ]

    assert len(securities) == 6
    assert all(s == [{"UserBasic": []}, {"UserSession": []}] for s in securities)


def test_every_me_operation_refuses_every_api_key_and_writes_nothing(
    api: Api, alice: World
) -> None:
    """An API key of any role, even one named after the user, is not her credential."""
    spec = api.client.get("/openapi.json").json()
    keys = {
        role.value: api.key(role, principal="alice" if role is KeyRole.DEVELOPER else None)
        for role in KeyRole
    }
    keys["no key"] = ""
    body = {"access_token": alice.token.access_token}
    failures = []
    for path, item in spec["paths"].items():
        if not path.startswith("/v1/me"):
            continue
        url = path.replace("{client_id}", alice.app.client_id)
        for method, op in item.items():
            for who, key in keys.items():
                before = api.ledger.position()
                json = body if "requestBody" in op else None
                response = call(api, method.upper(), url, api.auth(key), json=json)
                if response.status_code != 401 or api.ledger.position() != before:
                    failures.append(f"{method} {path} as {who}: {response.status_code}")
    assert failures == []


# --- behind an SSO proxy --------------------------------------------------------------------


@pytest.fixture
def sso_api(api_settings: Settings) -> Iterator[Api]:
    """The app behind an SSO proxy that names the user in ``X-Remote-User``."""
    settings = api_settings.model_copy(update={"trusted_user_header": "X-Remote-User"})
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(app, client)
        api.admin = api.bootstrap_key(KeyRole.ADMIN, name="ops")
        api.user("alice")
        set_password(api, "alice")
        yield api


def test_password_sign_in_is_off_behind_an_sso_proxy(sso_api: Api) -> None:
    response = call(sso_api, "GET", "/v1/me", as_user("alice"))

    assert response.status_code == 401


def test_the_sso_proxys_user_header_is_not_a_credential_here(sso_api: Api) -> None:
    response = call(sso_api, "GET", "/v1/me", {"X-Remote-User": "alice"})

    assert response.status_code == 401
