"""Sandbox limits: 10 sandbox users per app (its owner included), 5 sandbox apps per user."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.actors import Actor
from domain.apps import App
from domain.errors import SandboxLimitError
from domain.identity import user_id
from tests.unit.builders import OWNER, PLATFORM, app, user


def invite(count: int, to_app: App) -> list[str]:
    """Invites ``count`` users to the app; answers their usernames."""
    usernames = [f"tester{i}" for i in range(count)]
    for name in usernames:
        to_app.invite_sandbox_user(user_id(name), name, OWNER)
    return usernames


def test_sandbox_user_limit_counts_the_owner() -> None:
    registered = app()
    invite(9, registered)
    assert len(registered.sandbox_users) == 10
    with pytest.raises(SandboxLimitError, match="at most 10 sandbox users"):
        registered.invite_sandbox_user(user_id("one_too_many"), "one_too_many", OWNER)


def test_ninth_invitation_is_accepted() -> None:
    registered = app()
    invite(8, registered)
    registered.invite_sandbox_user(user_id("ninth"), "ninth", OWNER)
    assert user_id("ninth") in registered.sandbox_users


def test_pending_invitations_count_towards_the_app_limit() -> None:
    registered = app()
    for name in invite(9, registered)[:4]:
        registered.accept_sandbox_invitation(user_id(name), Actor.user(name))
    with pytest.raises(SandboxLimitError):
        registered.invite_sandbox_user(user_id("late"), "late", OWNER)


def test_platform_is_held_to_the_app_limit_too() -> None:
    registered = app()
    invite(9, registered)
    with pytest.raises(SandboxLimitError):
        registered.invite_sandbox_user(user_id("late"), "late", PLATFORM)


def test_removing_a_sandbox_user_frees_a_place() -> None:
    registered = app()
    first = invite(9, registered)[0]
    registered.remove_sandbox_user(user_id(first), OWNER, reason="")
    registered.invite_sandbox_user(user_id("late"), "late", OWNER)
    assert user_id("late") in registered.sandbox_users


def test_refused_invitation_over_the_limit_records_nothing() -> None:
    registered = app()
    invite(9, registered)
    registered.collect_events()
    with pytest.raises(SandboxLimitError):
        registered.invite_sandbox_user(user_id("late"), "late", OWNER)
    assert registered.collect_events() == []


def test_user_can_be_a_sandbox_user_of_at_most_five_apps() -> None:
    bob = user("bob")
    for _ in range(5):
        bob.join_sandbox(uuid4(), Actor.user("bob"))
    with pytest.raises(SandboxLimitError, match="5 apps"):
        bob.join_sandbox(uuid4(), Actor.user("bob"))
    assert len(bob.sandbox_apps) == 5


def test_fifth_sandbox_app_is_accepted() -> None:
    bob = user("bob")
    for _ in range(4):
        bob.join_sandbox(uuid4(), Actor.user("bob"))
    fifth = uuid4()
    bob.join_sandbox(fifth, Actor.user("bob"))
    assert fifth in bob.sandbox_apps


def test_joining_the_same_app_again_does_not_count_twice() -> None:
    bob = user("bob")
    apps = [uuid4() for _ in range(5)]
    for app_id in apps:
        bob.join_sandbox(app_id, Actor.user("bob"))
    bob.collect_events()
    bob.join_sandbox(apps[0], Actor.user("bob"))
    assert (len(bob.sandbox_apps), bob.collect_events()) == (5, [])


def test_leaving_a_sandbox_frees_a_place_for_another_app() -> None:
    bob = user("bob")
    apps = [uuid4() for _ in range(5)]
    for app_id in apps:
        bob.join_sandbox(app_id, Actor.user("bob"))
    bob.leave_sandbox(apps[0], Actor.user("bob"), reason="")
    sixth = uuid4()
    bob.join_sandbox(sixth, Actor.user("bob"))
    assert sixth in bob.sandbox_apps
