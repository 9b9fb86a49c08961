"""Access tokens after issue: who may revoke them, expiry by the platform, durability."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from application.ledger import Ledger
from application.results import TokenIssued
from domain.actors import Actor
from domain.errors import (
    InvalidInputError,
    NotPermittedError,
    TokenNotFoundError,
    TokenStateError,
)
from tests.conftest import TEST_SECRET_KEY
from tests.support.ledger_setup import (
    PLATFORM,
    REVIEWER,
    SandboxSetup,
    issue_token,
    refused,
    register_app,
    register_user,
    sandbox_app_with_user,
)

if TYPE_CHECKING:
    from tests.support.clock import Clock


@pytest.fixture
def sandbox(ledger: Ledger) -> SandboxSetup:
    return sandbox_app_with_user(ledger)


@pytest.fixture
def token(ledger: Ledger, sandbox: SandboxSetup) -> TokenIssued:
    """An active token of alice's, issued to the sandbox app through the code flow."""
    return issue_token(ledger, sandbox.app, "alice", "basic likes")


def revoked_by(ledger: Ledger, actor: Actor, token: TokenIssued) -> bool:
    ledger.revoke_token(actor, access_token=token.access_token, reason="test")
    return ledger.token_by_id(token.token_id).revoked


def test_token_is_revoked_by_its_user(ledger: Ledger, token: TokenIssued) -> None:
    assert revoked_by(ledger, Actor.user("alice"), token)


def test_token_is_revoked_by_the_apps_owner(
    ledger: Ledger, sandbox: SandboxSetup, token: TokenIssued
) -> None:
    assert revoked_by(ledger, Actor.developer(sandbox.owner), token)


def test_token_is_revoked_by_the_platform(ledger: Ledger, token: TokenIssued) -> None:
    assert revoked_by(ledger, PLATFORM, token)


def test_token_is_revoked_by_the_client_it_was_issued_to(
    ledger: Ledger, sandbox: SandboxSetup, token: TokenIssued
) -> None:
    assert revoked_by(ledger, Actor.client(sandbox.app.client_id), token)


def test_revoked_token_is_no_longer_active(ledger: Ledger, token: TokenIssued) -> None:
    ledger.revoke_token(Actor.user("alice"), access_token=token.access_token)

    assert not ledger.token(token.access_token).active


@pytest.fixture
def stranger_actors(ledger: Ledger, sandbox: SandboxSetup) -> dict[str, Actor]:
    register_user(ledger, "mallory")
    other = register_app(ledger, "dev_other", name="Other")
    return {
        "another-user": Actor.user("mallory"),
        "another-developer": Actor.developer("dev_other"),
        "another-client": Actor.client(other.client_id),
        "reviewer": REVIEWER,
        "user-acting-as-client": Actor.client("alice"),
    }


@pytest.mark.parametrize(
    "who",
    ["another-user", "another-developer", "another-client", "reviewer", "user-acting-as-client"],
)
def test_token_revocation_by_anyone_else_is_not_permitted(
    ledger: Ledger, token: TokenIssued, stranger_actors: dict[str, Actor], who: str
) -> None:
    with refused(ledger, NotPermittedError):
        ledger.revoke_token(stranger_actors[who], access_token=token.access_token)

    assert ledger.token_by_id(token.token_id).active


def test_revoking_a_token_twice_is_refused(ledger: Ledger, token: TokenIssued) -> None:
    ledger.revoke_token(Actor.user("alice"), access_token=token.access_token)

    with refused(ledger, TokenStateError, "The token has already been revoked or expired"):
        ledger.revoke_token(Actor.user("alice"), access_token=token.access_token)


def test_token_is_revoked_by_its_id(ledger: Ledger, token: TokenIssued) -> None:
    ledger.revoke_token(PLATFORM, token_id=token.token_id, reason="abuse report")

    assert ledger.token_by_id(token.token_id).revoked


def test_token_is_revoked_by_its_id_as_text(ledger: Ledger, token: TokenIssued) -> None:
    ledger.revoke_token(PLATFORM, token_id=str(token.token_id), reason="abuse report")

    assert ledger.token_by_id(token.token_id).revoked


@pytest.mark.parametrize("token_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_revoking_an_unknown_token_id_is_refused(
    ledger: Ledger, token: TokenIssued, token_id: str
) -> None:
    with refused(ledger, TokenNotFoundError, "The access_token provided is invalid."):
        ledger.revoke_token(PLATFORM, token_id=token_id)


def test_revoking_an_unknown_access_token_is_refused(ledger: Ledger, token: TokenIssued) -> None:
    with refused(ledger, TokenNotFoundError, "The access_token provided is invalid."):
        ledger.revoke_token(Actor.user("alice"), access_token=token.access_token + "x")


def test_revoking_without_naming_a_token_is_refused(ledger: Ledger, token: TokenIssued) -> None:
    with refused(ledger, InvalidInputError):
        ledger.revoke_token(PLATFORM)


def test_token_is_expired_by_the_platform(ledger: Ledger, token: TokenIssued) -> None:
    ledger.expire_token(token.token_id, PLATFORM, "2020: basic ended")

    stored = ledger.token_by_id(token.token_id)
    assert (stored.expired, stored.revoked, stored.active) == (True, False, False)


def test_token_expiry_by_anyone_but_the_platform_is_not_permitted(
    ledger: Ledger, token: TokenIssued
) -> None:
    with refused(ledger, NotPermittedError):
        ledger.expire_token(token.token_id, Actor.user("alice"), "I want it gone")


def test_expired_token_cannot_be_revoked(ledger: Ledger, token: TokenIssued) -> None:
    ledger.expire_token(token.token_id, PLATFORM, "2020: basic ended")

    with refused(ledger, TokenStateError):
        ledger.revoke_token(Actor.user("alice"), access_token=token.access_token)


def test_token_has_no_expiry_of_its_own(ledger: Ledger, token: TokenIssued, clock: Clock) -> None:
    clock.advance(5 * 365 * 24 * 3600)

    assert ledger.token(token.access_token).active


def test_revoked_token_is_revoked_after_reopening_the_store(
    ledger: Ledger, ledger_env: dict[str, str], clock: Clock, token: TokenIssued
) -> None:
    ledger.revoke_token(Actor.user("alice"), access_token=token.access_token)

    reopened = Ledger(env=ledger_env, secret_key=TEST_SECRET_KEY, clock=clock)
    try:
        stored = reopened.token(token.access_token)
    finally:
        reopened.close()
    assert (stored.id, stored.revoked, stored.active) == (token.token_id, True, False)


def test_revoking_one_token_leaves_the_users_other_tokens_active(
    ledger: Ledger, sandbox: SandboxSetup, token: TokenIssued
) -> None:
    other = issue_token(ledger, sandbox.app, "alice")

    ledger.revoke_token(Actor.user("alice"), access_token=token.access_token)

    assert ledger.token_by_id(other.token_id).active
