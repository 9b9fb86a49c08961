"""Actors: who causes each event, in which role; every event of every aggregate records them."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest
from eventsourcing.domain import Aggregate

import domain
from domain.actors import Actor, Role
from domain.api_keys import ApiKey, ApiKeyIndex, KeyRole
from domain.errors import NotPermittedError
from domain.grants import Grant
from domain.identity import user_id
from domain.scopes import ScopeCatalogue
from domain.tokens import AccessToken
from domain.unreviewed_apps import UnreviewedLiveApps
from domain.users import User
from tests.unit.builders import NOW, OWNER, PLATFORM, REVIEWER, app, collected, submit

# --- actors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "role"),
    [
        (Actor.platform(), Role.PLATFORM),
        (Actor.reviewer("rita"), Role.REVIEWER),
        (Actor.user("bob"), Role.USER),
        (Actor.developer("alice"), Role.DEVELOPER),
        (Actor.client("0" * 32), Role.CLIENT),
    ],
)
def test_each_factory_acts_in_its_role(actor: Actor, role: Role) -> None:
    assert actor.role is role


def test_platform_actor_is_named_platform_by_default() -> None:
    assert Actor.platform().principal == "platform"


def test_actor_in_an_allowed_role_may_act() -> None:
    Actor.reviewer("rita").require(Role.REVIEWER, Role.PLATFORM, action="decide a review")


def test_actor_in_another_role_is_refused_with_who_what_and_which_roles() -> None:
    with pytest.raises(NotPermittedError) as refused:
        Actor.user("bob").require(Role.REVIEWER, Role.PLATFORM, action="decide a review")
    message = refused.value.message
    for part in ("'bob'", "user", "decide a review", "reviewer, platform"):
        assert part in message


# --- every event records its actor and role -----------------------------------------------------


def all_aggregate_classes() -> set[type[Aggregate]]:
    """Every aggregate the domain defines (its modules imported, so none is missed)."""
    for module in pkgutil.iter_modules(domain.__path__):
        importlib.import_module(f"domain.{module.name}")
    found: set[type[Aggregate]] = set()
    pending = list(Aggregate.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("domain."):
            found.add(cls)
    return found


def declared_event_classes(cls: type[Aggregate]) -> set[type[Aggregate.Event]]:
    """The events an aggregate class declares (the library's unused default ``Created`` aside)."""
    events = {
        value
        for name, value in vars(cls).items()
        if isinstance(value, type) and issubclass(value, Aggregate.Event) and name != "Event"
    }
    creators = {e for e in events if issubclass(e, Aggregate.Created)}
    if len(creators) > 1:
        events.discard(vars(cls)["Created"])
    return events


ACTORS = {
    "platform": PLATFORM,
    "owner": OWNER,
    "reviewer": REVIEWER,
    "user": Actor.user("bob"),
    "client": Actor.client("c" * 32),
    "ledger": Actor("ledger", Role.SYSTEM),
}


def run_every_command() -> list[Any]:
    """Drives each aggregate through every command that writes an event; answers the events."""
    platform, owner, reviewer = ACTORS["platform"], ACTORS["owner"], ACTORS["reviewer"]
    bob, client, ledger = ACTORS["user"], ACTORS["client"], ACTORS["ledger"]
    events: list[Any] = []

    catalogue = ScopeCatalogue.seed(platform)
    catalogue.introduce_scope("stories", "to read stories", False, platform, "Nov 2015")
    catalogue.reopen_applications("public_content", platform, "review open")
    catalogue.reopen_applications("stories", platform, "")
    catalogue.close_applications("stories", platform, "late 2017")
    catalogue.allow_unreviewed_live(platform, "before reviews")
    catalogue.move_unreviewed_apps_to_sandbox(platform, "June 2016")
    catalogue.retire("likes", platform, "April 2018")

    registered = app(collect=False)
    bob_id = user_id("bob")
    registered.update_details(owner, name="Photo Printer 2")
    registered.rotate_secret("1" * 64, "nonce-1", owner)
    registered.change_security(owner, disable_implicit=True)
    registered.invite_sandbox_user(bob_id, "bob", owner)
    registered.accept_sandbox_invitation(bob_id, bob)
    registered.remove_sandbox_user(bob_id, owner, "done")

    review = submit(
        registered,
        catalogue,
        "broadcasters_and_publishers",
        {"basic": "own media", "public_content": "licensing"},
    )
    registered.open_review(review.id, owner)
    review.decide("basic", True, "fine", reviewer)
    registered.approve_permission("public_content", review.id, reviewer)
    review.decide("public_content", False, "not shown", reviewer)
    registered.close_review(review.id, reviewer)
    registered.go_live(owner, unreviewed_live_allowed=False)
    registered.withdraw_approval("public_content", platform, "April 2018")
    registered.disable(platform, "abuse")
    registered.enable(platform, "appeal upheld")

    user = User.register("bob", "Bob Example", None, bob)
    user.set_password_hash("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", bob)
    user.join_sandbox(registered.id, bob)
    user.leave_sandbox(registered.id, bob, "done")

    grant = Grant.start(bob_id, registered.id, bob)
    grant.grant(("basic",), "sandbox", bob)
    grant.deauthorize(bob, reason="no longer used")

    code_digest = "c" * 64
    token = AccessToken.issue(
        "t" * 64, registered.id, bob_id, ("basic",), "sandbox", "code", code_digest, client
    )
    grant.record_token(token.id, code_digest, NOW, client)
    grant.record_replay(code_digest, ledger)
    token.revoke(ledger, "code replayed")
    other = AccessToken.issue(
        "u" * 64, registered.id, bob_id, ("basic",), "sandbox", "implicit", None, bob
    )
    other.expire(platform, "policy")

    unreviewed = UnreviewedLiveApps.start(ledger)
    unreviewed.add(registered.id, owner)
    unreviewed.clear(platform, "June 2016")

    key = ApiKey.create("k" * 64, "edge", KeyRole.GATEWAY, None, platform)
    key.revoke(platform, "rotated")
    keys = ApiKeyIndex.start(platform)
    keys.add(key.id, platform)

    for aggregate in (
        catalogue,
        registered,
        review,
        user,
        grant,
        token,
        other,
        unreviewed,
        key,
        keys,
    ):
        events.extend(collected(aggregate))
    return events


def test_the_command_run_raises_every_event_every_aggregate_declares() -> None:
    raised = {type(e) for e in run_every_command()}
    declared = set().union(*(declared_event_classes(c) for c in all_aggregate_classes()))
    missing = sorted(e.__qualname__ for e in declared - raised)
    assert missing == []


def test_every_event_records_the_principal_and_role_that_caused_it() -> None:
    acting = {(a.principal, a.role.value) for a in ACTORS.values()}
    for event in run_every_command():
        recorded = (getattr(event, "actor", None), getattr(event, "role", None))
        assert recorded in acting, f"{type(event).__qualname__} records {recorded}"


def test_events_record_the_actor_passed_to_the_command() -> None:
    registered = app()
    registered.disable(Actor.platform("ops-oncall"), "abuse")
    [disabled] = collected(registered)
    assert (disabled.actor, disabled.role) == ("ops-oncall", "platform")


def test_the_tests_aggregate_discovery_finds_the_domains_aggregates() -> None:
    names = {c.__name__ for c in all_aggregate_classes()}
    assert {
        "ScopeCatalogue",
        "App",
        "User",
        "Review",
        "Grant",
        "AccessToken",
    } <= names
