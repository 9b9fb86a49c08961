"""Sandbox users over both stores: invitations, acceptance, removal and the two limits.

The legacy platform: at most 10 sandbox users per app, its owner included (so 9 invitations); an
invited user must accept; a user can be a sandbox user of at most 5 apps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from application.ledger import Ledger
from application.results import ClientRegistered
from domain.actors import Actor
from domain.apps import SandboxStatus
from domain.errors import (
    AppNotFoundError,
    LedgerError,
    NotPermittedError,
    NotSandboxUserError,
    SandboxInvitationError,
    SandboxLimitError,
    UserNotFoundError,
)
from tests.support.ledger_setup import (
    PLATFORM,
    add_sandbox_user,
    authorize,
    refused,
    register_app,
    register_user,
)

OWNER = "dev_dana"
DEVELOPER = Actor.developer(OWNER)


@pytest.fixture
def app(ledger: Ledger) -> ClientRegistered:
    """An app of OWNER, and three more registered users: alice, bob and carol."""
    registered = register_app(ledger, OWNER)
    for username in ("alice", "bob", "carol"):
        register_user(ledger, username)
    return registered


def invite(ledger: Ledger, app: ClientRegistered, username: str) -> None:
    ledger.invite_sandbox_user(app.client_id, username, DEVELOPER)


def accept(ledger: Ledger, app: ClientRegistered, username: str) -> None:
    ledger.accept_sandbox_invitation(app.client_id, username, Actor.user(username))


def other_apps(ledger: Ledger, count: int) -> list[ClientRegistered]:
    """Apps of other developers (dev_0, dev_1, ...)."""
    return [register_app(ledger, f"dev_{n}", name=f"App {n}") for n in range(count)]


def join(ledger: Ledger, app: ClientRegistered, username: str) -> None:
    """The app's owner (dev_N) invites the user, who accepts."""
    owner = ledger.app(app.client_id).owner_username
    add_sandbox_user(ledger, app.client_id, owner, username)


# --- invite, accept, remove --------------------------------------------------------------------


def test_owner_is_the_first_sandbox_user_of_a_new_app(
    ledger: Ledger, app: ClientRegistered
) -> None:
    found = ledger.app(app.client_id)

    assert found.sandbox_users == {ledger.user(OWNER).id: SandboxStatus.ACCEPTED}


def test_invited_user_is_not_a_sandbox_user_until_they_accept(
    ledger: Ledger, app: ClientRegistered
) -> None:
    invite(ledger, app, "alice")

    found = ledger.app(app.client_id)
    alice = ledger.user("alice")
    assert found.sandbox_users[alice.id] is SandboxStatus.INVITED
    assert not found.is_sandbox_user(alice.id)
    assert alice.sandbox_apps == []


def test_accepted_invitation_makes_the_user_a_sandbox_user(
    ledger: Ledger, app: ClientRegistered
) -> None:
    invite(ledger, app, "alice")
    accept(ledger, app, "alice")

    found = ledger.app(app.client_id)
    alice = ledger.user("alice")
    assert found.is_sandbox_user(alice.id)
    assert alice.sandbox_apps == [found.id]


def test_accepted_sandbox_user_can_authorize_the_sandbox_app(
    ledger: Ledger, app: ClientRegistered
) -> None:
    add_sandbox_user(ledger, app.client_id, OWNER, "alice")

    answer = authorize(ledger, app.client_id, "alice", "basic likes")

    assert (answer.mode, answer.scopes) == ("sandbox", ("basic", "likes"))


def test_invited_user_who_has_not_accepted_cannot_authorize_the_sandbox_app(
    ledger: Ledger, app: ClientRegistered
) -> None:
    invite(ledger, app, "alice")

    with pytest.raises(NotSandboxUserError) as refused:
        authorize(ledger, app.client_id, "alice", "basic")

    assert refused.value.message == "You are not a sandbox user of this client"


def test_removed_sandbox_user_is_no_longer_a_sandbox_user(
    ledger: Ledger, app: ClientRegistered
) -> None:
    add_sandbox_user(ledger, app.client_id, OWNER, "alice")

    ledger.remove_sandbox_user(app.client_id, "alice", DEVELOPER, "testing is over")

    alice = ledger.user("alice")
    assert alice.id not in ledger.app(app.client_id).sandbox_users
    assert alice.sandbox_apps == []
    with pytest.raises(NotSandboxUserError):
        authorize(ledger, app.client_id, "alice", "basic")


def test_withdrawn_invitation_can_no_longer_be_accepted(
    ledger: Ledger, app: ClientRegistered
) -> None:
    invite(ledger, app, "alice")
    ledger.remove_sandbox_user(app.client_id, "alice", DEVELOPER, "invited by mistake")

    with pytest.raises(SandboxInvitationError):
        accept(ledger, app, "alice")


def test_sandbox_user_may_leave_an_app_themselves(ledger: Ledger, app: ClientRegistered) -> None:
    add_sandbox_user(ledger, app.client_id, OWNER, "alice")

    ledger.remove_sandbox_user(app.client_id, "alice", Actor.user("alice"), "no longer testing")

    assert not ledger.app(app.client_id).is_sandbox_user(ledger.user("alice").id)


# --- 10 users per app, the owner included ------------------------------------------------------


def test_sandbox_user_limit_counts_the_owner(ledger: Ledger, app: ClientRegistered) -> None:
    invitees = [f"tester_{n}" for n in range(10)]
    for username in invitees:
        register_user(ledger, username)
    for username in invitees[:9]:
        invite(ledger, app, username)
    before = ledger.position()

    with pytest.raises(SandboxLimitError):
        invite(ledger, app, invitees[9])

    assert len(ledger.app(app.client_id).sandbox_users) == 10
    assert ledger.position() == before


def test_withdrawing_an_invitation_makes_room_for_another(
    ledger: Ledger, app: ClientRegistered
) -> None:
    invitees = [f"tester_{n}" for n in range(10)]
    for username in invitees:
        register_user(ledger, username)
    for username in invitees[:9]:
        invite(ledger, app, username)

    ledger.remove_sandbox_user(app.client_id, invitees[0], DEVELOPER, "making room")
    invite(ledger, app, invitees[9])

    assert ledger.app(app.client_id).sandbox_users[ledger.user(invitees[9]).id] is (
        SandboxStatus.INVITED
    )


# --- 5 apps per user ---------------------------------------------------------------------------


@pytest.fixture
def alice_in_five_apps(ledger: Ledger, app: ClientRegistered) -> list[ClientRegistered]:
    """alice is an accepted sandbox user of five apps; a sixth (the last) has invited her."""
    apps = other_apps(ledger, 6)
    for each in apps[:5]:
        join(ledger, each, "alice")
    sixth = apps[5]
    ledger.invite_sandbox_user(sixth.client_id, "alice", Actor.developer("dev_5"))
    return apps


def test_user_can_be_a_sandbox_user_of_at_most_five_apps(
    ledger: Ledger, alice_in_five_apps: list[ClientRegistered]
) -> None:
    with pytest.raises(SandboxLimitError):
        accept(ledger, alice_in_five_apps[5], "alice")

    assert len(ledger.user("alice").sandbox_apps) == 5


def test_refused_sixth_acceptance_leaves_that_invitation_pending(
    ledger: Ledger, alice_in_five_apps: list[ClientRegistered]
) -> None:
    sixth = alice_in_five_apps[5]
    with pytest.raises(SandboxLimitError):
        accept(ledger, sixth, "alice")

    found = ledger.app(sixth.client_id)
    assert found.sandbox_users[ledger.user("alice").id] is SandboxStatus.INVITED
    assert not found.is_sandbox_user(ledger.user("alice").id)


def test_refused_sixth_acceptance_writes_nothing(
    ledger: Ledger, alice_in_five_apps: list[ClientRegistered]
) -> None:
    with refused(ledger, SandboxLimitError):
        accept(ledger, alice_in_five_apps[5], "alice")


def test_removing_an_accepted_user_frees_one_of_their_five_slots(
    ledger: Ledger, alice_in_five_apps: list[ClientRegistered]
) -> None:
    first, sixth = alice_in_five_apps[0], alice_in_five_apps[5]
    ledger.remove_sandbox_user(first.client_id, "alice", Actor.developer("dev_0"), "done")

    accept(ledger, sixth, "alice")

    alice = ledger.user("alice")
    assert ledger.app(sixth.client_id).is_sandbox_user(alice.id)
    assert len(alice.sandbox_apps) == 5
    assert ledger.app(first.client_id).id not in alice.sandbox_apps


# --- who may accept ----------------------------------------------------------------------------


def test_only_the_invited_user_may_accept_their_invitation(
    ledger: Ledger, app: ClientRegistered
) -> None:
    invite(ledger, app, "alice")

    with pytest.raises(NotPermittedError):
        ledger.accept_sandbox_invitation(app.client_id, "alice", Actor.user("bob"))

    assert not ledger.app(app.client_id).is_sandbox_user(ledger.user("alice").id)


def test_user_without_an_invitation_cannot_accept(ledger: Ledger, app: ClientRegistered) -> None:
    invite(ledger, app, "alice")

    with pytest.raises(SandboxInvitationError):
        accept(ledger, app, "bob")

    assert ledger.user("bob").id not in ledger.app(app.client_id).sandbox_users


# --- refusals write nothing --------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """OWNER's app, with alice invited and bob accepted; carol is a registered stranger."""

    app: ClientRegistered


@pytest.fixture
def world(ledger: Ledger, app: ClientRegistered) -> World:
    invite(ledger, app, "alice")
    add_sandbox_user(ledger, app.client_id, OWNER, "bob")
    return World(app)


Attempt = Callable[[Ledger, World], object]

SANDBOX_REFUSALS: dict[str, tuple[type[LedgerError], Attempt]] = {
    "invite-by-a-stranger": (
        NotPermittedError,
        lambda ledger, w: ledger.invite_sandbox_user(
            w.app.client_id, "carol", Actor.developer("carol")
        ),
    ),
    "invite-an-invited-user": (
        SandboxInvitationError,
        lambda ledger, w: invite(ledger, w.app, "alice"),
    ),
    "invite-an-accepted-user": (
        SandboxInvitationError,
        lambda ledger, w: invite(ledger, w.app, "bob"),
    ),
    "invite-the-owner": (SandboxInvitationError, lambda ledger, w: invite(ledger, w.app, OWNER)),
    "invite-an-unknown-user": (
        UserNotFoundError,
        lambda ledger, w: invite(ledger, w.app, "nobody"),
    ),
    "invite-to-an-unknown-app": (
        AppNotFoundError,
        lambda ledger, w: ledger.invite_sandbox_user("0" * 32, "carol", DEVELOPER),
    ),
    "accept-on-someone-elses-behalf": (
        NotPermittedError,
        lambda ledger, w: ledger.accept_sandbox_invitation(
            w.app.client_id, "alice", Actor.user("carol")
        ),
    ),
    "accept-without-an-invitation": (
        SandboxInvitationError,
        lambda ledger, w: accept(ledger, w.app, "carol"),
    ),
    "accept-twice": (SandboxInvitationError, lambda ledger, w: accept(ledger, w.app, "bob")),
    "remove-the-owner": (
        SandboxInvitationError,
        lambda ledger, w: ledger.remove_sandbox_user(w.app.client_id, OWNER, PLATFORM, "x"),
    ),
    "remove-a-non-member": (
        SandboxInvitationError,
        lambda ledger, w: ledger.remove_sandbox_user(w.app.client_id, "carol", DEVELOPER, "x"),
    ),
    "remove-by-a-stranger": (
        NotPermittedError,
        lambda ledger, w: ledger.remove_sandbox_user(
            w.app.client_id, "bob", Actor.developer("carol"), "x"
        ),
    ),
    "remove-another-user-by-a-member": (
        NotPermittedError,
        lambda ledger, w: ledger.remove_sandbox_user(
            w.app.client_id, "alice", Actor.user("bob"), "x"
        ),
    ),
}


@pytest.mark.parametrize(
    ("error", "attempt"), [pytest.param(*r, id=name) for name, r in SANDBOX_REFUSALS.items()]
)
def test_refused_sandbox_command_writes_nothing(
    ledger: Ledger, world: World, error: type[LedgerError], attempt: Attempt
) -> None:
    with refused(ledger, error):
        attempt(ledger, world)


# --- reload ------------------------------------------------------------------------------------


def test_sandbox_memberships_survive_reload_in_a_second_ledger(
    ledger: Ledger, ledger_env: dict[str, str], app: ClientRegistered
) -> None:
    invite(ledger, app, "alice")
    add_sandbox_user(ledger, app.client_id, OWNER, "bob")
    add_sandbox_user(ledger, app.client_id, OWNER, "carol")
    ledger.remove_sandbox_user(app.client_id, "carol", DEVELOPER, "done")
    expected = ledger.app(app.client_id).sandbox_users

    second = Ledger(env=ledger_env, secret_key=b"k" * 32)
    try:
        found = second.app(app.client_id)
        bob, carol = second.user("bob"), second.user("carol")
    finally:
        second.close()
    assert found.sandbox_users == expected
    assert found.sandbox_users[bob.id] is SandboxStatus.ACCEPTED
    assert (bob.sandbox_apps, carol.sandbox_apps) == ([found.id], [])
