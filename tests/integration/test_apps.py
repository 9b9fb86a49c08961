"""Apps over both stores: registration, client credentials, security settings, platform status.

Every test runs once on SQLite and once on PostgreSQL (the ``ledger`` fixture).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from application.ledger import Ledger
from application.results import ClientRegistered
from domain.actors import Actor
from domain.apps import Mode
from domain.errors import (
    AppDisabledError,
    AppNotFoundError,
    AppStateError,
    ImplicitFlowDisabledError,
    InvalidClientSecretError,
    InvalidInputError,
    InvalidUseCaseError,
    LedgerError,
    MissingClientIdError,
    NotPermittedError,
    NotReviewedError,
    NotSandboxUserError,
    UserNotFoundError,
)
from tests.support.ledger_setup import (
    PLATFORM,
    REDIRECT_URI,
    authorize,
    refused,
    register_app,
    register_developer_and_app,
    register_user,
    stored_notifications,
)

OWNER = "dev_dana"
DEVELOPER = Actor.developer(OWNER)


@pytest.fixture
def app(ledger: Ledger) -> ClientRegistered:
    """A freshly registered app of OWNER (sandbox mode, review details filled in)."""
    return register_developer_and_app(ledger, OWNER)


# --- registration and client credentials -------------------------------------------------------


def test_register_app_answers_a_client_id_naming_the_new_app(
    ledger: Ledger, app: ClientRegistered
) -> None:
    found = ledger.app(app.client_id)

    assert found.name == "Printer"
    assert found.owner_username == OWNER
    assert found.redirect_uris == [REDIRECT_URI]
    assert app.position == ledger.position()


def test_register_app_answers_a_secret_that_authenticates_the_client(
    ledger: Ledger, app: ClientRegistered
) -> None:
    assert ledger.verify_client(app.client_id, app.client_secret).client_id == app.client_id


def test_register_app_answer_keeps_the_secret_out_of_its_repr(app: ClientRegistered) -> None:
    assert app.client_id in repr(app)
    assert app.client_secret not in repr(app)


def test_app_as_the_ledger_reads_it_back_does_not_carry_the_secret(
    ledger: Ledger, app: ClientRegistered
) -> None:
    found = ledger.app(app.client_id)

    assert found.secret_digest  # authentication has what it needs...
    assert app.client_secret not in [str(v) for v in vars(found).values()]  # ...but no secret


def test_new_app_starts_in_sandbox_mode(ledger: Ledger, app: ClientRegistered) -> None:
    found = ledger.app(app.client_id)

    assert found.effective_mode(ledger.catalogue().unreviewed_live_allowed) is Mode.SANDBOX


def test_client_secret_never_appears_in_any_stored_event(
    ledger: Ledger, app: ClientRegistered
) -> None:
    # More events than one log section, so the reading crosses sections.
    for n in range(12):
        register_app(ledger, OWNER, name=f"Printer {n}", register_owner=False)

    notifications = list(stored_notifications(ledger, section_size=10))

    assert [n.id for n in notifications] == list(range(1, ledger.position() + 1))
    assert any(b"Printer" in n.state for n in notifications)  # the states are readable
    assert not [n.id for n in notifications if app.client_secret.encode() in n.state]


def test_rotated_client_secret_never_appears_in_any_stored_event(
    ledger: Ledger, app: ClientRegistered
) -> None:
    rotated = ledger.rotate_client_secret(app.client_id, DEVELOPER)

    notifications = list(stored_notifications(ledger))

    assert notifications[-1].topic.endswith("App.SecretRotated")
    assert not [n.id for n in notifications if rotated.client_secret.encode() in n.state]


def test_rotating_the_secret_refuses_the_old_one(ledger: Ledger, app: ClientRegistered) -> None:
    ledger.rotate_client_secret(app.client_id, DEVELOPER)

    with pytest.raises(InvalidClientSecretError) as refused:
        ledger.verify_client(app.client_id, app.client_secret)

    assert refused.value.message == "Invalid Client Secret"


def test_rotating_the_secret_accepts_the_new_one(ledger: Ledger, app: ClientRegistered) -> None:
    rotated = ledger.rotate_client_secret(app.client_id, DEVELOPER)

    assert rotated.client_secret != app.client_secret
    assert ledger.verify_client(app.client_id, rotated.client_secret).client_id == app.client_id


@pytest.mark.parametrize(
    "client_id",
    [
        pytest.param("0123456789abcdef0123456789abcdef", id="well-formed-but-unregistered"),
        pytest.param("not-a-client-id", id="malformed"),
    ],
)
def test_verify_client_refuses_an_unknown_client_id(
    ledger: Ledger, app: ClientRegistered, client_id: str
) -> None:
    with pytest.raises(AppNotFoundError) as refused:
        ledger.verify_client(client_id, app.client_secret)

    assert refused.value.message == "Invalid Client ID"


@pytest.mark.parametrize("client_id", [None, ""], ids=["absent", "empty"])
def test_verify_client_without_a_client_id_asks_for_one(
    ledger: Ledger, app: ClientRegistered, client_id: str | None
) -> None:
    with pytest.raises(MissingClientIdError) as refused:
        ledger.verify_client(client_id, app.client_secret)

    assert refused.value.message == "You must provide a client_id"


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"], ids=["absent", "empty", "wrong"])
def test_verify_client_refuses_a_missing_or_wrong_secret(
    ledger: Ledger, app: ClientRegistered, secret: str | None
) -> None:
    with pytest.raises(InvalidClientSecretError) as refused:
        ledger.verify_client(app.client_id, secret)

    assert refused.value.message == "Invalid Client Secret"


# --- security settings -------------------------------------------------------------------------


def test_disabling_implicit_oauth_is_recorded(ledger: Ledger, app: ClientRegistered) -> None:
    ledger.change_app_security(app.client_id, DEVELOPER, disable_implicit=True)

    found = ledger.app(app.client_id)
    last = list(stored_notifications(ledger))[-1]
    assert (found.implicit_disabled, found.signed_requests_enforced) == (True, False)
    assert last.topic.endswith("App.SecuritySettingsChanged")
    assert b'"actor":"dev_dana"' in last.state


def test_enforcing_signed_requests_is_recorded(ledger: Ledger, app: ClientRegistered) -> None:
    ledger.change_app_security(app.client_id, DEVELOPER, enforce_signed_requests=True)

    found = ledger.app(app.client_id)
    assert (found.implicit_disabled, found.signed_requests_enforced) == (False, True)


def test_disabled_implicit_oauth_refuses_an_implicit_authorization(
    ledger: Ledger, app: ClientRegistered
) -> None:
    ledger.change_app_security(app.client_id, DEVELOPER, disable_implicit=True)

    with pytest.raises(ImplicitFlowDisabledError) as refused:
        authorize(ledger, app.client_id, OWNER, "basic", response_type="token")

    assert refused.value.message == "Implicit authentication is disabled"


# --- platform status ---------------------------------------------------------------------------


def test_platform_disables_an_app(ledger: Ledger, app: ClientRegistered) -> None:
    ledger.disable_app(app.client_id, PLATFORM, "spam reports")

    assert ledger.app(app.client_id).disabled is True


def test_disabled_app_cannot_authorize(ledger: Ledger, app: ClientRegistered) -> None:
    ledger.disable_app(app.client_id, PLATFORM, "spam reports")

    with pytest.raises(AppDisabledError) as refused:
        authorize(ledger, app.client_id, OWNER, "basic")

    assert refused.value.message == "The client used for authentication is no longer active."


def test_re_enabled_app_can_authorize_again(ledger: Ledger, app: ClientRegistered) -> None:
    ledger.disable_app(app.client_id, PLATFORM, "spam reports")
    ledger.enable_app(app.client_id, PLATFORM, "appeal upheld")

    answer = authorize(ledger, app.client_id, OWNER, "basic")

    assert answer.code
    assert answer.scopes == ("basic",)


# --- refusals write nothing --------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """An active app of OWNER, a disabled app of another developer, and a stranger."""

    app: ClientRegistered
    disabled: ClientRegistered
    stranger: str = "mallory"


@pytest.fixture
def world(ledger: Ledger, app: ClientRegistered) -> World:
    disabled = register_app(ledger, "dev_dora", name="Spammy")
    ledger.disable_app(disabled.client_id, PLATFORM, "spam reports")
    register_user(ledger, "mallory")
    ledger.catalogue()  # seeded, so that only the refused command could write
    return World(app, disabled)


Attempt = Callable[[Ledger, World], object]


def _register(owner: str, actor: Actor, **overrides: object) -> Attempt:
    fields: dict[str, object] = {
        "owner": owner,
        "name": "Another",
        "description": "another app",
        "website": "https://another.example",
        "redirect_uris": ["https://another.example/cb"],
        "actor": actor,
    }
    fields.update(overrides)
    return lambda ledger, _: ledger.register_app(**fields)  # type: ignore[arg-type]


APP_REFUSALS: dict[str, tuple[type[LedgerError], Attempt]] = {
    "register-in-another-developers-name": (
        NotPermittedError,
        _register(OWNER, Actor.developer("mallory")),
    ),
    "register-for-an-unknown-owner": (
        UserNotFoundError,
        _register("nobody", Actor.developer("nobody")),
    ),
    "register-without-redirect-uri": (
        InvalidInputError,
        _register(OWNER, DEVELOPER, redirect_uris=[]),
    ),
    "register-with-fragment-in-redirect-uri": (
        InvalidInputError,
        _register(OWNER, DEVELOPER, redirect_uris=["https://a.example/#x"]),
    ),
    "register-with-relative-website": (
        InvalidInputError,
        _register(OWNER, DEVELOPER, website="/home"),
    ),
    "register-with-blank-name": (InvalidInputError, _register(OWNER, DEVELOPER, name="  ")),
    "register-with-bad-contact-email": (
        InvalidInputError,
        _register(OWNER, DEVELOPER, contact_email="not-an-address"),
    ),
    "rotate-secret-by-a-stranger": (
        NotPermittedError,
        lambda ledger, w: ledger.rotate_client_secret(w.app.client_id, Actor.developer(w.stranger)),
    ),
    "rotate-secret-of-unknown-app": (
        AppNotFoundError,
        lambda ledger, w: ledger.rotate_client_secret("0" * 32, DEVELOPER),
    ),
    "update-details-to-the-same-values": (
        InvalidInputError,
        lambda ledger, w: ledger.update_app_details(w.app.client_id, DEVELOPER, name="Printer"),
    ),
    "update-details-by-a-stranger": (
        NotPermittedError,
        lambda ledger, w: ledger.update_app_details(
            w.app.client_id, Actor.developer(w.stranger), name="Hijacked"
        ),
    ),
    "security-settings-to-current-values": (
        InvalidInputError,
        lambda ledger, w: ledger.change_app_security(
            w.app.client_id, DEVELOPER, disable_implicit=False
        ),
    ),
    "security-settings-by-a-stranger": (
        NotPermittedError,
        lambda ledger, w: ledger.change_app_security(
            w.app.client_id, Actor.developer(w.stranger), disable_implicit=True
        ),
    ),
    "go-live-without-approval": (
        NotReviewedError,
        lambda ledger, w: ledger.go_live(w.app.client_id, DEVELOPER),
    ),
    "go-live-by-a-stranger": (
        NotPermittedError,
        lambda ledger, w: ledger.go_live(w.app.client_id, Actor.developer(w.stranger)),
    ),
    "return-to-sandbox-while-in-sandbox": (
        AppStateError,
        lambda ledger, w: ledger.return_to_sandbox(w.app.client_id, DEVELOPER),
    ),
    "go-live-while-disabled": (
        AppDisabledError,
        lambda ledger, w: ledger.go_live(w.disabled.client_id, Actor.developer("dev_dora")),
    ),
    "owner-disables-own-app": (
        NotPermittedError,
        lambda ledger, w: ledger.disable_app(w.app.client_id, DEVELOPER, "tired of it"),
    ),
    "disable-without-reason": (
        InvalidInputError,
        lambda ledger, w: ledger.disable_app(w.app.client_id, PLATFORM, " "),
    ),
    "disable-a-disabled-app": (
        AppStateError,
        lambda ledger, w: ledger.disable_app(w.disabled.client_id, PLATFORM, "again"),
    ),
    "enable-an-active-app": (
        AppStateError,
        lambda ledger, w: ledger.enable_app(w.app.client_id, PLATFORM, "why not"),
    ),
    "authorize-a-disabled-app": (
        AppDisabledError,
        lambda ledger, w: authorize(ledger, w.disabled.client_id, "dev_dora"),
    ),
    "authorize-by-a-non-sandbox-user": (
        NotSandboxUserError,
        lambda ledger, w: authorize(ledger, w.app.client_id, w.stranger),
    ),
}


@pytest.mark.parametrize(
    ("error", "attempt"), [pytest.param(*r, id=name) for name, r in APP_REFUSALS.items()]
)
def test_refused_app_command_writes_nothing(
    ledger: Ledger, world: World, error: type[LedgerError], attempt: Attempt
) -> None:
    with refused(ledger, error):
        attempt(ledger, world)


FRESH_LEDGER_REFUSALS: dict[str, tuple[type[LedgerError], Attempt]] = {
    "go-live-without-approval": (
        NotReviewedError,
        lambda ledger, w: ledger.go_live(w.app.client_id, DEVELOPER),
    ),
    "authorize-by-a-non-sandbox-user": (
        NotSandboxUserError,
        lambda ledger, w: authorize(ledger, w.app.client_id, w.stranger),
    ),
    "submit-review-for-a-widget-install": (
        InvalidUseCaseError,
        lambda ledger, w: ledger.submit_review(
            w.app.client_id,
            use_case="widget_install",
            permissions={"basic": "a widget"},
            screencast_url="https://videos.example/s.mp4",
            actor=DEVELOPER,
        ),
    ),
}


@pytest.mark.parametrize(
    ("error", "attempt"), [pytest.param(*r, id=name) for name, r in FRESH_LEDGER_REFUSALS.items()]
)
def test_refused_command_on_a_ledger_never_used_before_writes_nothing(
    ledger: Ledger, app: ClientRegistered, error: type[LedgerError], attempt: Attempt
) -> None:
    register_user(ledger, "mallory")
    with refused(ledger, error):
        attempt(ledger, World(app, app))


# --- reload ------------------------------------------------------------------------------------


def test_app_survives_reload_in_a_second_ledger(
    ledger: Ledger, ledger_env: dict[str, str], app: ClientRegistered
) -> None:
    rotated = ledger.rotate_client_secret(app.client_id, DEVELOPER)
    ledger.update_app_details(app.client_id, DEVELOPER, name="Printer Pro")
    ledger.change_app_security(
        app.client_id, DEVELOPER, disable_implicit=True, enforce_signed_requests=True
    )
    ledger.disable_app(app.client_id, PLATFORM, "spam reports")

    second = Ledger(env=ledger_env, secret_key=b"k" * 32)
    try:
        found = second.verify_client(app.client_id, rotated.client_secret)
        with pytest.raises(InvalidClientSecretError):
            second.verify_client(app.client_id, app.client_secret)
        with pytest.raises(AppDisabledError):
            authorize(second, app.client_id, OWNER)
        assert second.position() == ledger.position()
    finally:
        second.close()
    assert (found.name, found.owner_username) == ("Printer Pro", OWNER)
    assert (found.implicit_disabled, found.signed_requests_enforced) == (True, True)
    assert found.disabled is True


def test_registering_an_app_named_with_a_direction_override_is_refused(ledger: Ledger) -> None:
    register_user(ledger, OWNER)
    with refused(
        ledger,
        InvalidInputError,
        "name must not contain invisible, control or text-direction characters "
        "(found U+202E RIGHT-TO-LEFT OVERRIDE)",
    ):
        ledger.register_app(
            owner=OWNER,
            name="Photo\u202eRetnirp",
            description="Prints",
            website="https://p.example",
            redirect_uris=[REDIRECT_URI],
            actor=DEVELOPER,
        )


def test_renaming_an_app_with_a_zero_width_space_is_refused(ledger: Ledger) -> None:
    app = register_app(ledger, OWNER)
    with refused(ledger, InvalidInputError):
        ledger.update_app_details(app.client_id, DEVELOPER, name="Prin\u200bter")
    assert ledger.app(app.client_id).name == "Printer"
