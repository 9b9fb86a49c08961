"""Redeeming an authorization code for an access token (RFC 6749 §4.1.3), legacy style."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import pytest

from domain.actors import Actor
from domain.errors import (
    AppDisabledError,
    AppNotFoundError,
    CodeNotFoundError,
    CodeRedirectMismatchError,
    InvalidClientSecretError,
    MissingClientIdError,
    UnsupportedGrantTypeError,
)
from tests.support.ledger_setup import (
    PLATFORM,
    REDIRECT_URI,
    SandboxSetup,
    authorize,
    exchange,
    refused,
    register_app,
    sandbox_app_with_user,
    stored_notifications,
)

if TYPE_CHECKING:
    from application.ledger import Ledger
    from tests.support.clock import Clock

CODE_NOT_FOUND = "Matching code was not found or was already used."


@pytest.fixture
def sandbox(ledger: Ledger) -> SandboxSetup:
    """An app in sandbox mode with alice an accepted sandbox user."""
    return sandbox_app_with_user(ledger)


@pytest.fixture
def code(ledger: Ledger, sandbox: SandboxSetup) -> str:
    """A fresh code from alice's consent to the app for basic and comments."""
    result = authorize(ledger, sandbox.app.client_id, "alice", scope="basic comments")
    assert result.code is not None
    return result.code


def test_exchange_answers_a_token_and_the_legacy_user_object(
    ledger: Ledger, sandbox: SandboxSetup, code: str
) -> None:
    issued = exchange(ledger, sandbox.app, code)

    alice = ledger.user("alice")
    assert issued.access_token
    assert issued.user.__dict__ == {
        "id": alice.id.hex,
        "username": "alice",
        "full_name": "Alice",
        "profile_picture": "https://pics.example/alice.jpg",
    }


def test_exchanged_token_is_active_with_the_codes_scopes(
    ledger: Ledger, sandbox: SandboxSetup, code: str
) -> None:
    issued = exchange(ledger, sandbox.app, code)

    token = ledger.token(issued.access_token)
    assert token.id == issued.token_id
    assert (token.active, token.flow, token.scopes) == (True, "code", ["basic", "comments"])
    assert issued.scopes == ("basic", "comments")


def test_token_and_code_are_stored_only_as_digests(
    ledger: Ledger, sandbox: SandboxSetup, code: str
) -> None:
    issued = exchange(ledger, sandbox.app, code)

    stored = b"".join(n.state for n in stored_notifications(ledger))
    assert REDIRECT_URI.encode() in stored  # the scan reads readable state, so it can fail
    assert code.encode() not in stored
    assert issued.access_token.encode() not in stored
    assert sandbox.app.client_secret.encode() not in stored
    assert ledger.token(issued.access_token).id == issued.token_id  # found by its digest


def test_wrong_client_secret_is_refused(ledger: Ledger, sandbox: SandboxSetup, code: str) -> None:
    with refused(ledger, InvalidClientSecretError, "Invalid Client Secret"):
        ledger.exchange_code(
            client_id=sandbox.app.client_id,
            client_secret="not-the-secret",
            redirect_uri=REDIRECT_URI,
            code=code,
        )


def test_missing_client_secret_is_refused(ledger: Ledger, sandbox: SandboxSetup, code: str) -> None:
    with refused(ledger, InvalidClientSecretError, "Invalid Client Secret"):
        ledger.exchange_code(
            client_id=sandbox.app.client_id,
            client_secret=None,
            redirect_uri=REDIRECT_URI,
            code=code,
        )


def test_rotated_away_client_secret_is_refused(
    ledger: Ledger, sandbox: SandboxSetup, code: str
) -> None:
    ledger.rotate_client_secret(sandbox.app.client_id, Actor.developer(sandbox.owner))

    with refused(ledger, InvalidClientSecretError):
        exchange(ledger, sandbox.app, code)


@pytest.mark.parametrize("client_id", ["0" * 32, "not-a-client-id"], ids=["unknown", "malformed"])
def test_unknown_client_id_is_refused(
    ledger: Ledger, sandbox: SandboxSetup, code: str, client_id: str
) -> None:
    with refused(ledger, AppNotFoundError, "Invalid Client ID"):
        ledger.exchange_code(
            client_id=client_id,
            client_secret=sandbox.app.client_secret,
            redirect_uri=REDIRECT_URI,
            code=code,
        )


@pytest.mark.parametrize("client_id", [None, ""], ids=["none", "empty"])
def test_missing_client_id_is_refused(
    ledger: Ledger, sandbox: SandboxSetup, code: str, client_id: str | None
) -> None:
    with refused(ledger, MissingClientIdError, "You must provide a client_id"):
        ledger.exchange_code(
            client_id=client_id,
            client_secret=sandbox.app.client_secret,
            redirect_uri=REDIRECT_URI,
            code=code,
        )


@pytest.mark.parametrize("grant_type", ["password", "client_credentials", "", None])
def test_grant_type_other_than_authorization_code_is_refused(
    ledger: Ledger, sandbox: SandboxSetup, code: str, grant_type: str | None
) -> None:
    with refused(ledger, UnsupportedGrantTypeError):
        ledger.exchange_code(
            client_id=sandbox.app.client_id,
            client_secret=sandbox.app.client_secret,
            redirect_uri=REDIRECT_URI,
            code=code,
            grant_type=grant_type,
        )


@pytest.mark.parametrize(
    "redirect_uri",
    [REDIRECT_URI + "?extra=1", "https://client.example/callback/", "", None],
    ids=["added-query", "trailing-slash", "empty", "none"],
)
def test_redirect_uri_other_than_the_one_authorized_is_refused(
    ledger: Ledger, sandbox: SandboxSetup, code: str, redirect_uri: str | None
) -> None:
    with refused(
        ledger, CodeRedirectMismatchError, "Redirect URI doesn't match original redirect URI"
    ):
        ledger.exchange_code(
            client_id=sandbox.app.client_id,
            client_secret=sandbox.app.client_secret,
            redirect_uri=redirect_uri,
            code=code,
        )


def test_redirect_uri_with_query_used_to_authorize_is_required_verbatim(
    ledger: Ledger, sandbox: SandboxSetup
) -> None:
    used = REDIRECT_URI + "?state_hint=1"
    result = authorize(ledger, sandbox.app.client_id, "alice", redirect_uri=used)

    issued = exchange(ledger, sandbox.app, result.code, redirect_uri=used)

    assert issued.access_token


@pytest.mark.parametrize("unknown", ["made-up-code", "", None], ids=["made-up", "empty", "none"])
def test_unknown_code_is_refused(
    ledger: Ledger, sandbox: SandboxSetup, code: str, unknown: str | None
) -> None:
    with refused(ledger, CodeNotFoundError, CODE_NOT_FOUND):
        exchange(ledger, sandbox.app, unknown)


def test_code_issued_to_another_client_is_refused(
    ledger: Ledger, sandbox: SandboxSetup, code: str
) -> None:
    other = register_app(ledger, "dev_other", name="Other")  # same redirect URI

    with refused(ledger, CodeNotFoundError, CODE_NOT_FOUND):
        exchange(ledger, other, code)


def test_code_is_accepted_until_just_before_ten_minutes(
    ledger: Ledger, sandbox: SandboxSetup, code: str, clock: Clock
) -> None:
    clock.advance(10 * 60 - 1)

    assert exchange(ledger, sandbox.app, code).access_token


def test_code_older_than_ten_minutes_is_refused(
    ledger: Ledger, sandbox: SandboxSetup, code: str, clock: Clock
) -> None:
    clock.advance(10 * 60 + 1)

    with refused(ledger, CodeNotFoundError, CODE_NOT_FOUND):
        exchange(ledger, sandbox.app, code)


def test_reused_code_is_refused(ledger: Ledger, sandbox: SandboxSetup, code: str) -> None:
    exchange(ledger, sandbox.app, code)

    with pytest.raises(CodeNotFoundError, match=CODE_NOT_FOUND):
        exchange(ledger, sandbox.app, code)


def test_reused_code_revokes_the_token_its_first_exchange_issued(
    ledger: Ledger, sandbox: SandboxSetup, code: str
) -> None:
    first = exchange(ledger, sandbox.app, code)

    with pytest.raises(CodeNotFoundError):
        exchange(ledger, sandbox.app, code)

    token = ledger.token_by_id(first.token_id)
    assert (token.revoked, token.active) == (True, False)


def test_token_from_another_code_survives_a_reuse(
    ledger: Ledger, sandbox: SandboxSetup, code: str
) -> None:
    exchange(ledger, sandbox.app, code)
    other = exchange(ledger, sandbox.app, authorize(ledger, sandbox.app.client_id, "alice").code)

    with pytest.raises(CodeNotFoundError):
        exchange(ledger, sandbox.app, code)

    assert ledger.token_by_id(other.token_id).active


def test_code_whose_grant_was_deauthorized_before_exchange_is_refused(
    ledger: Ledger, sandbox: SandboxSetup, code: str
) -> None:
    ledger.deauthorize(sandbox.app.client_id, "alice", Actor.user("alice"))

    with refused(ledger, CodeNotFoundError, CODE_NOT_FOUND):
        exchange(ledger, sandbox.app, code)


def test_code_issued_before_a_deauthorization_stays_refused_after_reauthorizing(
    ledger: Ledger, sandbox: SandboxSetup, code: str
) -> None:
    ledger.deauthorize(sandbox.app.client_id, "alice", Actor.user("alice"))
    authorize(ledger, sandbox.app.client_id, "alice", scope="basic comments")

    with refused(ledger, CodeNotFoundError, CODE_NOT_FOUND):
        exchange(ledger, sandbox.app, code)


def test_code_of_a_disabled_app_is_refused(
    ledger: Ledger, sandbox: SandboxSetup, code: str
) -> None:
    ledger.disable_app(sandbox.app.client_id, PLATFORM, "spam")

    with refused(ledger, AppDisabledError):
        exchange(ledger, sandbox.app, code)


def test_code_reused_after_it_expired_still_revokes_the_first_token(
    ledger: Ledger, sandbox: SandboxSetup, code: str, clock: Clock
) -> None:
    first = exchange(ledger, sandbox.app, code)
    clock.advance(10 * 60 + 1)

    with pytest.raises(CodeNotFoundError, match=CODE_NOT_FOUND):
        exchange(ledger, sandbox.app, code)

    assert ledger.token_by_id(first.token_id).revoked


# --- what the log keeps of a code ----------------------------------------------------------------


def events_after(ledger: Ledger, position: int) -> list[Any]:
    """The domain events stored after ``position``, in log order."""
    return [
        ledger.mapper.to_domain_event(n) for n in stored_notifications(ledger) if n.id > position
    ]


def names(events: list[Any]) -> list[str]:
    return [type(e).__qualname__ for e in events]


def test_exchange_writes_the_token_and_its_record_in_the_grant_in_one_save(
    ledger: Ledger, sandbox: SandboxSetup, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = ledger.position()
    saves: list[int] = []
    save = ledger.save
    monkeypatch.setattr(ledger, "save", lambda *a, **k: saves.append(1) or save(*a, **k))

    issued = exchange(ledger, sandbox.app, code)

    events = events_after(ledger, before)
    assert names(events) == ["AccessToken.Issued", "Grant.TokenIssued"]
    assert len(saves) == 1
    token, recorded = events
    digest = ledger.hasher.digest(code)
    assert (token.code_digest, recorded.code_digest, recorded.token_id) == (
        digest,
        digest,
        issued.token_id,
    )
    assert issued.position == ledger.position()


def test_replayed_code_is_recorded_on_the_grant_and_its_token_revoked_by_the_ledger(
    ledger: Ledger, sandbox: SandboxSetup, code: str
) -> None:
    first = exchange(ledger, sandbox.app, code)
    before = ledger.position()

    with pytest.raises(CodeNotFoundError):
        exchange(ledger, sandbox.app, code)

    replayed, revoked = events_after(ledger, before)
    assert (type(replayed).__qualname__, replayed.token_id) == (
        "Grant.CodeReplayed",
        first.token_id,
    )
    assert (type(revoked).__qualname__, revoked.originator_id) == (
        "AccessToken.Revoked",
        first.token_id,
    )
    assert (revoked.actor, revoked.role) == ("ledger", "system")
    assert "RFC 6749 section 4.1.2" in revoked.reason


def test_third_exchange_of_a_code_is_refused_again(
    ledger: Ledger, sandbox: SandboxSetup, code: str
) -> None:
    first = exchange(ledger, sandbox.app, code)
    with pytest.raises(CodeNotFoundError):
        exchange(ledger, sandbox.app, code)

    with pytest.raises(CodeNotFoundError, match=CODE_NOT_FOUND):
        exchange(ledger, sandbox.app, code)

    assert ledger.token_by_id(first.token_id).revoked


def test_replay_by_another_client_is_refused_and_revokes_nothing(
    ledger: Ledger, sandbox: SandboxSetup, code: str
) -> None:
    first = exchange(ledger, sandbox.app, code)
    other = register_app(ledger, "dev_other", name="Other")

    with refused(ledger, CodeNotFoundError, CODE_NOT_FOUND):
        exchange(ledger, other, code)

    assert ledger.token_by_id(first.token_id).active


def tampered(code: str, **changes: Any) -> str:
    """The code with its payload changed and its signature kept."""
    payload, _, mac = code.partition(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body.update(changes)
    raw = json.dumps(body, separators=(",", ":")).encode()
    return f"{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}.{mac}"


@pytest.mark.parametrize(
    "changes",
    [
        {"scopes": ["basic", "comments", "likes"]},
        {"expires_at": "2099-01-01T00:00:00+00:00"},
        {"deauthorizations": 1},
        {"redirect_uri": "https://evil.example/cb"},
    ],
    ids=["scopes", "expiry", "deauthorizations", "redirect-uri"],
)
def test_code_with_a_tampered_payload_is_refused(
    ledger: Ledger, sandbox: SandboxSetup, code: str, changes: dict[str, Any]
) -> None:
    with refused(ledger, CodeNotFoundError, CODE_NOT_FOUND):
        exchange(ledger, sandbox.app, tampered(code, **changes))


def test_code_with_another_signature_is_refused(
    ledger: Ledger, sandbox: SandboxSetup, code: str
) -> None:
    payload, _, mac = code.partition(".")
    with refused(ledger, CodeNotFoundError, CODE_NOT_FOUND):
        exchange(ledger, sandbox.app, f"{payload}.{mac[::-1]}")


def test_code_exchanged_after_more_consents_still_works(
    ledger: Ledger, sandbox: SandboxSetup, code: str
) -> None:
    """A later consent (even one adding scopes) does not invalidate an earlier code."""
    authorize(ledger, sandbox.app.client_id, "alice", scope="likes")

    issued = exchange(ledger, sandbox.app, code)

    assert issued.scopes == ("basic", "comments")


def test_code_whose_scope_was_retired_since_the_consent_is_refused(
    ledger: Ledger, sandbox: SandboxSetup, code: str
) -> None:
    from domain.errors import ScopeRetiredError

    ledger.retire_scope("comments", PLATFORM, "April 2018")

    with refused(ledger, ScopeRetiredError):
        exchange(ledger, sandbox.app, code)
