"""Platform users: registration, unique usernames, lookups of users that do not exist."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from domain.actors import Actor
from domain.errors import (
    InvalidInputError,
    NotPermittedError,
    UsernameTakenError,
    UserNotFoundError,
)
from tests.support.ledger_setup import (
    REDIRECT_URI,
    refused,
    register_app,
    register_user,
)

if TYPE_CHECKING:
    from application.ledger import Ledger


def test_registered_user_is_stored_with_profile(ledger: Ledger) -> None:
    created = register_user(
        ledger, "alice", full_name="Alice Liddell", profile_picture="https://pics.example/a.jpg"
    )

    user = ledger.user("alice")
    assert (user.id, user.username, user.full_name, user.profile_picture) == (
        created.id,
        "alice",
        "Alice Liddell",
        "https://pics.example/a.jpg",
    )
    assert created.position == ledger.position()


def test_user_without_profile_picture_has_an_empty_one(ledger: Ledger) -> None:
    ledger.register_user("bob", "Bob", None, Actor.user("bob"))

    assert ledger.user("bob").profile_picture == ""


def test_duplicate_username_is_refused(ledger: Ledger) -> None:
    register_user(ledger, "alice")

    with refused(ledger, UsernameTakenError, "The username 'alice' is already taken"):
        register_user(ledger, "alice", full_name="Another Alice")


def test_username_differing_only_in_case_is_taken(ledger: Ledger) -> None:
    register_user(ledger, "alice")

    with refused(ledger, UsernameTakenError):
        register_user(ledger, "ALICE")


def test_username_lookup_ignores_case(ledger: Ledger) -> None:
    created = register_user(ledger, "Alice")

    assert ledger.user("aLiCe").id == created.id


@pytest.mark.parametrize(
    "username",
    ["", "has space", "dash-ed", "x" * 31, "émile", "semi;colon", "alice\n"],
    ids=["empty", "space", "dash", "too-long", "non-ascii", "semicolon", "trailing-newline"],
)
def test_invalid_username_is_refused(ledger: Ledger, username: str) -> None:
    with refused(
        ledger,
        InvalidInputError,
        "A username is 1 to 30 letters, digits, periods or underscores",
    ):
        ledger.register_user(username, "Someone", None, Actor.platform())


def test_longest_valid_username_with_period_and_underscore_is_accepted(ledger: Ledger) -> None:
    username = "a.b_c" + "x" * 25

    register_user(ledger, username)

    assert ledger.user(username).username == username


def test_registering_in_someone_elses_name_is_not_permitted(ledger: Ledger) -> None:
    with refused(ledger, NotPermittedError):
        ledger.register_user("alice", "Alice", None, Actor.user("mallory"))


def test_looking_up_an_unknown_username_raises_user_not_found(ledger: Ledger) -> None:
    with pytest.raises(UserNotFoundError, match="No platform user 'nobody' is registered"):
        ledger.user("nobody")


def test_looking_up_an_empty_username_raises_user_not_found(ledger: Ledger) -> None:
    with pytest.raises(UserNotFoundError):
        ledger.user("")


def test_registering_an_app_for_an_unknown_owner_is_refused(ledger: Ledger) -> None:
    with refused(ledger, UserNotFoundError):
        register_app(ledger, "ghost", register_owner=False)


def test_inviting_an_unknown_user_to_the_sandbox_is_refused(ledger: Ledger) -> None:
    app = register_app(ledger, "dev_owner")

    with refused(ledger, UserNotFoundError):
        ledger.invite_sandbox_user(app.client_id, "ghost", Actor.developer("dev_owner"))


def test_authorizing_as_an_unknown_user_is_refused(ledger: Ledger) -> None:
    app = register_app(ledger, "dev_owner")

    with refused(ledger, UserNotFoundError):
        ledger.authorize(
            client_id=app.client_id, username="ghost", redirect_uri=REDIRECT_URI, scope=None
        )


# --- one canonical form: ASCII letters ignore case, nothing else folds ----------------------------


def test_a_name_with_the_kelvin_sign_does_not_find_the_user_spelt_with_k(ledger: Ledger) -> None:
    register_user(ledger, "kelvin")
    with pytest.raises(UserNotFoundError):
        ledger.user("\u212aelvin")


@pytest.mark.parametrize("username", [".", "..", "...."])
def test_a_username_of_periods_only_is_refused(ledger: Ledger, username: str) -> None:
    with refused(ledger, InvalidInputError, "A username must not be made of periods only"):
        ledger.register_user(username, "Someone", None, Actor.platform())


def test_developer_key_in_another_case_reads_its_developers_app(ledger: Ledger) -> None:
    register_user(ledger, "dan")
    key = ledger.create_api_key(
        name="dan laptop", role="developer", principal="Dan", actor=Actor.platform()
    )
    app = ledger.register_app(
        owner="Dan",
        name="Printer",
        description="Prints",
        website="https://p.example",
        redirect_uris=[REDIRECT_URI],
        actor=ledger.api_key(key.id).actor,
    )
    assert ledger.app_seen_by(ledger.api_key(key.id), app.client_id).owner_username == "dan"


def test_developer_key_in_another_case_reads_its_developers_user(ledger: Ledger) -> None:
    register_user(ledger, "dan")
    key = ledger.create_api_key(
        name="dan laptop", role="developer", principal="DAN", actor=Actor.platform()
    )
    assert ledger.user_seen_by(ledger.api_key(key.id), "dan").username == "dan"


def test_user_accepts_an_invitation_signed_in_with_another_case(ledger: Ledger) -> None:
    app = register_app(ledger, "dev_dana")
    register_user(ledger, "bob")
    ledger.invite_sandbox_user(app.client_id, "bob", Actor.developer("dev_dana"))
    ledger.accept_sandbox_invitation(app.client_id, "bob", Actor.user("Bob"))
    assert ledger.app(app.client_id).is_sandbox_user(ledger.user("bob").id)


def test_sandbox_user_leaves_signed_in_with_another_case(ledger: Ledger) -> None:
    app = register_app(ledger, "dev_dana")
    register_user(ledger, "bob")
    ledger.invite_sandbox_user(app.client_id, "bob", Actor.developer("dev_dana"))
    ledger.accept_sandbox_invitation(app.client_id, "bob", Actor.user("bob"))
    ledger.remove_sandbox_user(app.client_id, "BOB", Actor.user("Bob"), "done testing")
    assert not ledger.app(app.client_id).is_sandbox_user(ledger.user("bob").id)
