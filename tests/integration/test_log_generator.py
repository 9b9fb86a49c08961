"""The log generator: about N events of a realistic history, in command order, deterministic for a
seed, on both stores; the tokens it hands out check as it says once the log is projected."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from application.ledger import Ledger
from domain.identity import grant_id
from infrastructure.persistence import sqlite_env
from infrastructure.runtime import Runtime
from tests.conftest import TEST_SECRET_KEY
from tools.log_generator import BatchedLedger, generate_log

N = 1_500

# Every part of the history shows up even in a small log.
EXPECTED_EVENTS = (
    "User.Registered",
    "App.Registered",
    "App.DetailsUpdated",
    "App.SandboxUserInvited",
    "App.SandboxInvitationAccepted",
    "App.ModeChanged",
    "App.Disabled",
    "App.Enabled",
    "Review.Submitted",
    "Review.PermissionApproved",
    "Review.Completed",
    "App.PermissionApproved",
    "Grant.Created",
    "Grant.ScopesGranted",
    "Grant.Deauthorized",
    "Grant.TokenIssued",
    "Grant.CodeReplayed",
    "AccessToken.Issued",
    "AccessToken.Revoked",
    "AccessToken.Expired",
    "ScopeCatalogue.ApplicationsReopened",
    "ScopeCatalogue.ApplicationsClosed",
    "ScopeCatalogue.UnreviewedLiveAllowed",
    "ScopeCatalogue.UnreviewedAppsMovedToSandbox",
    "ScopeCatalogue.ScopeIntroduced",
    "ScopeCatalogue.ScopeRetired",
)


def decoded(ledger: Ledger) -> Iterator[tuple[int, Any]]:
    """(position, domain event) of every stored event, in log order."""
    start = 1
    while True:
        page = ledger.recorder.select_notifications(start=start, limit=500)
        for notification in page:
            yield notification.id, ledger.mapper.to_domain_event(notification)
        if len(page) < 500:
            return
        start = page[-1].id + 1


def shape(ledger: Ledger) -> list[tuple[str, int, int]]:
    """The log without what is random or real by design (ids, secrets, times): each event's type,
    which aggregate (numbered by first appearance) and its version."""
    numbers: dict[UUID, int] = {}
    return [
        (
            type(e).__qualname__,
            numbers.setdefault(e.originator_id, len(numbers)),
            e.originator_version,
        )
        for _, e in decoded(ledger)
    ]


def test_writes_about_the_requested_number_of_events(runtime: Runtime) -> None:
    result = generate_log(runtime.ledger, N, seed=7, sample_tokens=10)

    assert N <= result.events <= N + 10  # it stops within the command that reaches N
    assert result.first_position == 1
    assert result.last_position == runtime.ledger.position() == result.events
    assert sum(result.event_counts.values()) == result.events
    missing = [kind for kind in EXPECTED_EVENTS if not result.event_counts.get(kind)]
    assert not missing, f"not in the log: {missing}"
    # Refusals write nothing and should be rare: only the deliberate code replays.
    assert set(result.refused) <= {"exchange_code_replayed"}


def test_events_are_stored_in_the_order_the_commands_made_them(runtime: Runtime) -> None:
    generate_log(runtime.ledger, N, seed=11, sample_tokens=0)

    users: set[UUID] = set()
    apps: set[UUID] = set()
    granted: set[tuple[UUID, str]] = set()
    invited: set[tuple[UUID, UUID]] = set()
    reviews: set[UUID] = set()
    open_for_review: set[str] = {"basic"}
    positions = []
    for position, e in decoded(runtime.ledger):
        positions.append(position)
        kind = type(e).__qualname__
        if kind == "User.Registered":
            users.add(e.originator_id)
        elif kind == "App.Registered":
            assert e.owner_id in users
            apps.add(e.originator_id)
        elif kind == "ScopeCatalogue.ApplicationsReopened":
            open_for_review.add(e.scope)
        elif kind == "App.SandboxUserInvited":
            invited.add((e.originator_id, e.user_id))
        elif kind == "App.SandboxInvitationAccepted":
            assert (e.originator_id, e.user_id) in invited
        elif kind == "Review.Submitted":
            assert e.app_id in apps
            assert set(e.permissions) <= open_for_review
            reviews.add(e.originator_id)
        elif kind == "App.PermissionApproved":
            assert e.review_id in reviews
        elif kind == "Grant.ScopesGranted":
            granted.update((e.originator_id, scope) for scope in e.scopes)
        elif kind == "AccessToken.Issued":
            assert e.app_id in apps
            assert e.user_id in users
            grant = grant_id(e.user_id, e.app_id)
            assert all((grant, scope) in granted for scope in e.scopes)
    assert positions == list(range(1, len(positions) + 1))


def test_the_same_seed_makes_the_same_history(ledger: Ledger, tmp_path: Path) -> None:
    first = generate_log(ledger, N, seed=5, sample_tokens=5)
    # Again, on a fresh SQLite file: the history depends on the seed, not on the store.
    other = Ledger(sqlite_env(tmp_path / "again.sqlite"), secret_key=TEST_SECRET_KEY)
    third = Ledger(sqlite_env(tmp_path / "another.sqlite"), secret_key=TEST_SECRET_KEY)
    try:
        again = generate_log(other, N, seed=5, sample_tokens=50, batch_events=97)
        different = generate_log(third, N, seed=6, sample_tokens=5)

        assert again.event_counts == first.event_counts
        assert again.commands == first.commands
        assert shape(other) == shape(ledger)
        assert shape(third) != shape(ledger)
        assert different.event_counts != first.event_counts
    finally:
        other.close()
        third.close()


def test_tokens_check_as_reported_once_projected(runtime: Runtime) -> None:
    result = generate_log(runtime.ledger, N, seed=3, sample_tokens=25)
    runtime.projector.catch_up()

    assert len(result.tokens) == 25
    assert result.denied_tokens, "a realistic log revokes and deauthorizes some tokens"
    for token in result.tokens:
        assert token.allowed
        decision = runtime.read_model.check(token.access_token, token.scope)
        assert decision.allowed, (token, decision.denial)
    for token in result.denied_tokens:
        decision = runtime.read_model.check(token.access_token, token.scope)
        assert not decision.allowed
        assert decision.denial is not None
        assert decision.denial.reason.value == token.reason
    # The apps it reports can be used for more writes.
    live = [app for app in result.apps if app.mode == "live" and not app.disabled]
    assert live
    issued = runtime.ledger.exchange_code(
        client_id=live[0].client_id,
        client_secret=live[0].client_secret,
        redirect_uri=live[0].redirect_uri,
        code=runtime.ledger.authorize(
            client_id=live[0].client_id,
            username=result.usernames[0],
            redirect_uri=live[0].redirect_uri,
            scope="basic",
        ).code,
    )
    runtime.acknowledge(issued.position)
    assert runtime.read_model.check(issued.access_token, "basic").allowed


def test_appends_to_a_store_that_has_history(ledger: Ledger) -> None:
    first = generate_log(ledger, 400, seed=1, sample_tokens=0)
    second = generate_log(ledger, 400, seed=1, sample_tokens=0)

    assert second.first_position == first.last_position + 1
    assert ledger.position() == first.events + second.events
    assert set(second.refused) <= {"exchange_code_replayed"}
    assert not set(first.usernames) & set(second.usernames)


def test_a_refused_command_leaves_no_half_change_behind(ledger: Ledger) -> None:
    """Accepting a sandbox invitation changes the app, then the user refuses (a user may be a
    sandbox user of 5 apps): the app's unsaved change must not leak into later commands."""
    from domain.actors import Actor
    from domain.errors import SandboxLimitError

    batched = BatchedLedger(ledger)
    batched.register_user("owner", "Owner", None, Actor.user("owner"))
    batched.register_user("busy", "Busy", None, Actor.user("busy"))
    apps = [
        batched.register_app(
            owner="owner",
            name=f"App {i}",
            description="d",
            website="https://a.example",
            redirect_uris=["https://a.example/cb"],
            actor=Actor.developer("owner"),
        ).client_id
        for i in range(6)
    ]
    for client_id in apps:
        batched.invite_sandbox_user(client_id, "busy", Actor.developer("owner"))
    for client_id in apps[:5]:
        batched.accept_sandbox_invitation(client_id, "busy", Actor.user("busy"))
    with pytest.raises(SandboxLimitError):
        batched.accept_sandbox_invitation(apps[5], "busy", Actor.user("busy"))
    batched.flush()

    app = batched.app(apps[5])
    busy = batched.user("busy")
    assert not app.is_sandbox_user(busy.id)
    assert ledger.app(apps[5]).sandbox_users == app.sandbox_users
    assert ledger.position() == batched.position()
