"""Platform users: registration and usernames."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.actors import Actor
from domain.errors import InvalidInputError, NotPermittedError
from domain.identity import canonical_username, user_id
from domain.users import User, validate_username
from tests.unit.builders import PLATFORM, event_names


def register(
    username: str,
    actor: Actor | None = None,
    *,
    full_name: str = "Bob Example",
    profile_picture: str | None = None,
) -> User:
    return User.register(username, full_name, profile_picture, actor or Actor.user(username))


def test_user_registers_themselves() -> None:
    bob = register("bob")
    assert (bob.username, bob.full_name, bob.profile_picture, bob.sandbox_apps) == (
        "bob",
        "Bob Example",
        "",
        [],
    )


def test_registration_records_one_registered_event() -> None:
    assert event_names(register("bob")) == ["Registered"]


def test_platform_registers_a_user() -> None:
    assert register("bob", PLATFORM).username == "bob"


def test_someone_else_cannot_register_a_user() -> None:
    with pytest.raises(NotPermittedError):
        register("bob", Actor.user("mallory"))


def test_user_id_derives_from_the_username() -> None:
    assert register("bob").id == user_id("bob")


def test_usernames_differing_only_in_case_share_one_id() -> None:
    assert register("Bob").id == register("bob").id


@pytest.mark.parametrize(
    "username", ["b", "bob", "bob.smith", "bob_smith", "Bob99", "_", "._", "a" * 30]
)
def test_username_of_letters_digits_periods_and_underscores_is_accepted(username: str) -> None:
    assert validate_username(username) == username


@pytest.mark.parametrize(
    "username",
    ["", "a" * 31, "bob smith", "bob-smith", "bob@example", "bøb", "bob!", " bob", "bob "],
)
def test_username_outside_the_rules_is_refused(username: str) -> None:
    with pytest.raises(InvalidInputError, match="1 to 30 letters, digits, periods or underscores"):
        validate_username(username)


@pytest.mark.parametrize("username", [".", "..", "..."])
def test_username_made_of_periods_only_is_refused(username: str) -> None:
    with pytest.raises(InvalidInputError, match="periods only"):
        validate_username(username)


@pytest.mark.parametrize(
    "username",
    ["\u212aelvin", "\uff42ob", "bo\u0130"],
    ids=["kelvin-sign", "fullwidth", "dotted-i"],
)
def test_username_with_a_letter_that_folds_to_ascii_is_refused(username: str) -> None:
    with pytest.raises(InvalidInputError, match="letters, digits, periods or underscores"):
        validate_username(username)


@pytest.mark.parametrize("lookalike", ["\u212abob", "\u212aBOB"], ids=["kelvin", "kelvin-upper"])
def test_a_name_that_only_folds_to_a_username_names_another_id(lookalike: str) -> None:
    # NFKC or casefold would turn the Kelvin sign into k, and so into the user kbob.
    assert user_id(lookalike) != user_id("kbob")


def test_canonical_username_lowers_ascii_letters_only() -> None:
    assert canonical_username("Dan.Smith_99") == "dan.smith_99"
    assert canonical_username("\u212a\u0130") == "\u212a\u0130"


def test_a_user_sets_their_password_whatever_the_case_they_sign_in_with() -> None:
    registered = User.register("bob", "Bob", None, PLATFORM)
    registered.set_password_hash("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", Actor.user("BOB"))
    assert registered.password_hash.startswith("$argon2id$")


def test_username_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        validate_username("bob\n")


def test_registration_refuses_an_invalid_username() -> None:
    with pytest.raises(InvalidInputError):
        register("bob smith", PLATFORM)


def test_registration_needs_a_full_name() -> None:
    with pytest.raises(InvalidInputError, match="full_name"):
        register("bob", full_name="  ")


def test_profile_picture_must_be_a_web_url() -> None:
    with pytest.raises(InvalidInputError, match="profile_picture"):
        register("bob", profile_picture="file:///etc/passwd")


def test_profile_picture_is_kept() -> None:
    bob = register("bob", profile_picture="https://cdn.example/bob.jpg")
    assert bob.profile_picture == "https://cdn.example/bob.jpg"


def test_joining_a_sandbox_records_the_app() -> None:
    bob = register("bob")
    app_id = uuid4()
    bob.join_sandbox(app_id, Actor.user("bob"))
    assert bob.sandbox_apps == [app_id]


def test_leaving_a_sandbox_forgets_the_app() -> None:
    bob = register("bob")
    app_id = uuid4()
    bob.join_sandbox(app_id, Actor.user("bob"))
    bob.leave_sandbox(app_id, Actor.user("bob"), reason="done testing")
    assert bob.sandbox_apps == []


def test_leaving_a_sandbox_the_user_is_not_in_records_nothing() -> None:
    bob = register("bob")
    bob.collect_events()
    bob.leave_sandbox(uuid4(), Actor.user("bob"), reason="")
    assert bob.collect_events() == []


ARGON2_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"


def test_user_sets_their_password_hash() -> None:
    bob = register("bob")
    bob.set_password_hash(ARGON2_HASH, Actor.user("bob"))
    assert bob.password_hash == ARGON2_HASH


def test_new_user_has_no_password() -> None:
    assert register("bob").password_hash == ""


@pytest.mark.parametrize(
    "stored", ["hunter2", "$argon2i$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", "$2b$12$abcdefghijk"]
)
def test_password_is_stored_only_as_an_argon2id_hash(stored: str) -> None:
    bob = register("bob")
    with pytest.raises(InvalidInputError, match="argon2id"):
        bob.set_password_hash(stored, Actor.user("bob"))
    assert bob.password_hash == ""


def test_platform_sets_a_users_password_hash() -> None:
    bob = register("bob")
    bob.set_password_hash(ARGON2_HASH, PLATFORM)
    assert bob.password_hash == ARGON2_HASH


@pytest.mark.parametrize(
    "actor",
    [Actor.user("mallory"), Actor.developer("alice"), Actor.reviewer("rita")],
    ids=["another-user", "developer", "reviewer"],
)
def test_only_the_user_or_platform_sets_a_password_hash(actor: Actor) -> None:
    bob = register("bob")
    with pytest.raises(NotPermittedError):
        bob.set_password_hash(ARGON2_HASH, actor)
    assert bob.password_hash == ""


def test_no_event_after_registration_changes_the_registration_facts() -> None:
    """Commands read these from a cached user without bringing it up to date."""
    user = register("bob", profile_picture="https://pics.example/bob.jpg")
    facts = {name: getattr(user, name) for name in User.REGISTRATION_FACTS}
    app_id = uuid4()
    user.set_password_hash("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", Actor.user("bob"))
    user.join_sandbox(app_id, Actor.user("bob"))
    user.leave_sandbox(app_id, Actor.user("bob"), "done")
    declared = {
        name
        for name, value in vars(User).items()
        if isinstance(value, type) and issubclass(value, User.Event)
    }
    raised = {type(e).__name__ for e in user.collect_events()}

    assert declared <= raised | {"Event", "Created"}  # every User event was applied above
    assert {name: getattr(user, name) for name in User.REGISTRATION_FACTS} == facts
