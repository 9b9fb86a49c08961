"""Replaying the log rebuilds identical aggregates (a property test over random histories).

Hypothesis draws a history of ledger commands: users and apps, sandbox invitations, reviews and
their decisions, authorizations in both flows, code exchanges (reuse included), revocations,
expiries, deauthorizations, platform policy changes and the clock moving on. Refused commands are
part of a realistic history and are ignored; any other exception fails the test. Afterwards every
aggregate a fresh ``Ledger`` loads from the store must equal the one obtained by replaying that
aggregate's events as read from the notification log.

The property runs on SQLite only (a fresh file per example, fast); one fixed history also runs on
PostgreSQL.
"""

from __future__ import annotations

import copy
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import project_aggregate
from eventsourcing.domain import Aggregate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.actors import Actor
from domain.errors import LedgerError
from domain.ledger import Ledger
from domain.results import ClientRegistered
from infrastructure.persistence import sqlite_env
from tests.conftest import TEST_SECRET_KEY
from tests.support.clock import Clock
from tests.support.ledger_setup import (
    PLATFORM,
    REDIRECT_URI,
    REVIEWER,
    stored_notifications,
)

USERS = ("ann", "bob", "cat", "Dan")
SCOPES = ("basic", "public_content", "follower_list", "comments", "relationships", "likes")
# (use case, permissions): mostly submissions that can succeed, some the rules refuse.
REVIEW_REQUESTS = (
    ("own_content", ("basic",)),
    ("brands_and_advertisers", ("basic", "public_content")),
    ("broadcasters_and_publishers", ("comments",)),
    ("own_content", ("likes",)),
    ("widget_install", ("basic",)),
)
ENV_KEYS = ("PERSISTENCE_MODULE", "SQLITE_DBNAME", "AGGREGATE_CACHE_MAXSIZE")


@pytest.fixture(autouse=True, scope="module")
def _no_store_settings_from_the_environment() -> Iterator[None]:
    """As the ledger_env fixture does: os.environ must not redirect a test's store."""
    with pytest.MonkeyPatch.context() as mp:
        for key in ENV_KEYS:
            mp.delenv(key, raising=False)
            mp.delenv(f"LEDGER_{key}", raising=False)
        yield


# --- the history --------------------------------------------------------------------------------

index = st.integers(min_value=0, max_value=7)
scope_list = st.lists(st.sampled_from(SCOPES), max_size=3, unique=True)

COMMANDS = st.one_of(
    st.tuples(st.just("register_user"), index),
    st.tuples(st.just("register_app"), index),
    st.tuples(st.just("invite"), index, index),
    st.tuples(st.just("accept"), index, index),
    st.tuples(st.just("remove_sandbox_user"), index, index),
    st.tuples(st.just("authorize"), index, index, scope_list, st.booleans()),
    st.tuples(st.just("exchange"), index, st.booleans()),
    st.tuples(st.just("revoke"), index, st.sampled_from(("user", "owner", "client", "platform"))),
    st.tuples(st.just("expire"), index),
    st.tuples(st.just("deauthorize"), index, index),
    st.tuples(st.just("submit_review"), index, st.sampled_from(REVIEW_REQUESTS)),
    st.tuples(st.just("decide"), index, st.sampled_from(SCOPES[:4]), st.booleans()),
    st.tuples(st.just("go_live"), index),
    st.tuples(st.just("return_to_sandbox"), index),
    st.tuples(st.just("withdraw"), index, st.sampled_from((None, *SCOPES))),
    st.tuples(
        st.just("policy"),
        st.sampled_from(("retire", "close", "reopen", "reopen", "allow_live", "to_sandbox")),
        st.sampled_from(SCOPES),
    ),
    st.tuples(st.just("disable"), index),
    st.tuples(st.just("enable"), index),
    st.tuples(st.just("security"), index, st.booleans()),
    st.tuples(st.just("tick"), st.sampled_from((1, 60, 601))),
)
# Every history starts with its users, two apps and a sandbox user who consented, so the drawn
# commands have things to act on; the OAuth commands are drawn more often than the rest.
PRELUDE: list[tuple[Any, ...]] = [
    *[("register_user", i) for i in range(len(USERS))],
    ("register_app", 0),
    ("register_app", 1),
    ("invite", 0, 1),
    ("accept", 0, 1),
    ("authorize", 0, 1, ["basic", "likes"], False),
]
OAUTH_COMMANDS = st.one_of(
    st.tuples(st.just("authorize"), index, index, scope_list, st.booleans()),
    st.tuples(st.just("exchange"), index, st.booleans()),
    st.tuples(st.just("revoke"), index, st.sampled_from(("user", "owner", "client", "platform"))),
    st.tuples(st.just("deauthorize"), index, index),
    st.tuples(st.just("accept"), index, index),
)
HISTORIES = st.lists(st.one_of(COMMANDS, OAUTH_COMMANDS), min_size=10, max_size=40).map(
    lambda drawn: PRELUDE + drawn
)


@dataclass
class History:
    """Runs drawn commands against a ledger, remembering what they made for later commands."""

    ledger: Ledger
    clock: Clock
    apps: list[tuple[ClientRegistered, str]] = field(default_factory=list)
    codes: list[tuple[ClientRegistered, str, str]] = field(default_factory=list)
    tokens: list[tuple[ClientRegistered, str, UUID, str]] = field(default_factory=list)
    reviews: list[UUID] = field(default_factory=list)
    refused: int = 0

    def run(self, commands: list[tuple[Any, ...]]) -> None:
        for command in commands:
            try:
                getattr(self, f"do_{command[0]}")(*command[1:])
            except LedgerError:
                self.refused += 1

    @staticmethod
    def user(i: int) -> str:
        return USERS[i % len(USERS)]

    def app(self, i: int) -> tuple[ClientRegistered, str]:
        if not self.apps:
            raise LedgerError("no app registered yet")
        return self.apps[i % len(self.apps)]

    def do_register_user(self, i: int) -> None:
        name = self.user(i)
        self.ledger.register_user(name, name.title(), None, Actor.user(name))

    def do_register_app(self, i: int) -> None:
        owner = self.user(i)
        app = self.ledger.register_app(
            owner=owner,
            name=f"App {len(self.apps)}",
            description="prints photos",
            website="https://client.example",
            redirect_uris=[REDIRECT_URI, "myapp://cb?x=1"],
            actor=Actor.developer(owner),
            company_name="Co",
            contact_email="dev@client.example",
            privacy_policy_url="https://client.example/privacy",
        )
        self.apps.append((app, owner))

    def do_invite(self, a: int, u: int) -> None:
        app, owner = self.app(a)
        self.ledger.invite_sandbox_user(app.client_id, self.user(u), Actor.developer(owner))

    def do_accept(self, a: int, u: int) -> None:
        app, _ = self.app(a)
        name = self.user(u)
        self.ledger.accept_sandbox_invitation(app.client_id, name, Actor.user(name))

    def do_remove_sandbox_user(self, a: int, u: int) -> None:
        app, owner = self.app(a)
        self.ledger.remove_sandbox_user(app.client_id, self.user(u), Actor.developer(owner), "done")

    def do_authorize(self, a: int, u: int, scopes: list[str], implicit: bool) -> None:
        app, _ = self.app(a)
        name = self.user(u)
        redirect = REDIRECT_URI if a % 2 else "myapp://cb?x=1&state=s"
        result = self.ledger.authorize(
            client_id=app.client_id,
            username=name,
            redirect_uri=redirect,
            scope=" ".join(scopes) if scopes else None,
            response_type="token" if implicit else "code",
        )
        if result.access_token and result.token_id:
            self.tokens.append((app, name, result.token_id, result.access_token))
        if result.code:
            self.codes.append((app, result.code, redirect))

    def do_exchange(self, c: int, right_redirect: bool) -> None:
        if not self.codes:
            raise LedgerError("no code issued yet")
        app, code, redirect = self.codes[c % len(self.codes)]
        issued = self.ledger.exchange_code(
            client_id=app.client_id,
            client_secret=app.client_secret,
            redirect_uri=redirect if right_redirect else REDIRECT_URI + "/x",
            code=code,
        )
        self.tokens.append((app, issued.user.username, issued.token_id, issued.access_token))

    def do_revoke(self, t: int, who: str) -> None:
        if not self.tokens:
            raise LedgerError("no token issued yet")
        app, username, token_id, access_token = self.tokens[t % len(self.tokens)]
        owner = next(o for a, o in self.apps if a.client_id == app.client_id)
        actor = {
            "user": Actor.user(username),
            "owner": Actor.developer(owner),
            "client": Actor.client(app.client_id),
            "platform": PLATFORM,
        }[who]
        if who == "platform":
            self.ledger.revoke_token(actor, token_id=token_id, reason="abuse")
        else:
            self.ledger.revoke_token(actor, access_token=access_token, reason="done")

    def do_expire(self, t: int) -> None:
        if not self.tokens:
            raise LedgerError("no token issued yet")
        self.ledger.expire_token(self.tokens[t % len(self.tokens)][2], PLATFORM, "policy")

    def do_deauthorize(self, a: int, u: int) -> None:
        app, _ = self.app(a)
        name = self.user(u)
        self.ledger.deauthorize(app.client_id, name, Actor.user(name), "no longer used")

    def do_submit_review(self, a: int, request: tuple[str, tuple[str, ...]]) -> None:
        app, owner = self.app(a)
        use_case, scopes = request
        created = self.ledger.submit_review(
            app.client_id,
            use_case=use_case,
            permissions={s: f"uses {s}" for s in scopes},
            screencast_url="https://client.example/cast.mp4",
            actor=Actor.developer(owner),
        )
        self.reviews.append(created.id)

    def do_decide(self, r: int, scope: str, approve: bool) -> None:
        if not self.reviews:
            raise LedgerError("no review submitted yet")
        self.ledger.decide_review(
            self.reviews[r % len(self.reviews)],
            scope,
            approve=approve,
            reason="r",
            actor=REVIEWER,
        )

    def do_go_live(self, a: int) -> None:
        app, owner = self.app(a)
        self.ledger.go_live(app.client_id, Actor.developer(owner))

    def do_return_to_sandbox(self, a: int) -> None:
        app, owner = self.app(a)
        self.ledger.return_to_sandbox(app.client_id, Actor.developer(owner))

    def do_withdraw(self, a: int, scope: str | None) -> None:
        app, _ = self.app(a)
        self.ledger.withdraw_approval(app.client_id, scope, PLATFORM, "policy change")

    def do_policy(self, kind: str, scope: str) -> None:
        ledger, why = self.ledger, "policy change"
        if kind == "retire":
            ledger.retire_scope(scope, PLATFORM, why)
        elif kind == "close":
            ledger.close_scope_applications(scope, PLATFORM, why)
        elif kind == "reopen":
            ledger.reopen_scope_applications(scope, PLATFORM, why)
        elif kind == "allow_live":
            ledger.allow_unreviewed_live(PLATFORM, why)
        else:
            ledger.move_unreviewed_apps_to_sandbox(PLATFORM, why)

    def do_disable(self, a: int) -> None:
        self.ledger.disable_app(self.app(a)[0].client_id, PLATFORM, "spam")

    def do_enable(self, a: int) -> None:
        self.ledger.enable_app(self.app(a)[0].client_id, PLATFORM, "appeal")

    def do_security(self, a: int, disable_implicit: bool) -> None:
        app, owner = self.app(a)
        self.ledger.change_app_security(
            app.client_id, Actor.developer(owner), disable_implicit=disable_implicit
        )

    def do_tick(self, seconds: int) -> None:
        self.clock.advance(seconds)


# A fixed history touching every kind of command, for the PostgreSQL run.
FIXED_HISTORY: list[tuple[Any, ...]] = [
    *PRELUDE,
    ("register_user", 4),  # ann again: refused
    ("invite", 0, 2),
    ("authorize", 0, 1, ["likes", "comments"], False),
    ("authorize", 1, 1, [], False),
    ("authorize", 0, 1, ["basic"], True),
    ("authorize", 0, 2, [], False),
    ("exchange", 0, True),
    ("exchange", 0, True),
    ("exchange", 1, False),
    ("exchange", 2, True),
    ("revoke", 0, "user"),
    ("revoke", 2, "owner"),
    ("revoke", 2, "client"),
    ("authorize", 0, 1, ["comments"], True),
    ("expire", 3),
    ("revoke", 3, "platform"),
    ("policy", "reopen", "public_content"),
    ("submit_review", 1, ("brands_and_advertisers", ("basic", "public_content"))),
    ("decide", 0, "public_content", True),
    ("decide", 0, "basic", False),
    ("go_live", 1),
    ("authorize", 1, 2, ["public_content"], True),
    ("withdraw", 1, "public_content"),
    ("deauthorize", 0, 1),
    ("deauthorize", 0, 1),
    ("remove_sandbox_user", 0, 1),
    ("policy", "retire", "likes"),
    ("policy", "allow_live", "basic"),
    ("policy", "to_sandbox", "basic"),
    ("policy", "close", "public_content"),
    ("security", 0, True),
    ("authorize", 0, 0, [], True),
    ("disable", 1),
    ("enable", 1),
    ("return_to_sandbox", 1),
    ("tick", 601),
    ("exchange", 3, True),
]


# --- the check ----------------------------------------------------------------------------------


def state(aggregate: Aggregate) -> dict[str, Any]:
    """An aggregate's attributes; the aggregates of this domain cache nothing privately."""
    return dict(vars(aggregate))


def replayed_from_the_log(ledger: Ledger) -> dict[UUID, Aggregate]:
    """Each aggregate rebuilt from its events as the notification log orders them."""
    events: dict[UUID, list[Any]] = defaultdict(list)
    for notification in stored_notifications(ledger):
        event = ledger.mapper.to_domain_event(notification)
        events[event.originator_id].append(event)
    replayed: dict[UUID, Aggregate] = {}
    for aggregate_id, stream in events.items():
        aggregate = project_aggregate(None, stream)
        assert aggregate is not None
        replayed[aggregate_id] = aggregate
    return replayed


def assert_replay_rebuilds_the_stored_aggregates(env: dict[str, str], clock: Clock) -> None:
    fresh = Ledger(env=env, secret_key=TEST_SECRET_KEY, clock=clock)
    try:
        replayed = replayed_from_the_log(fresh)
        assert replayed, "the history wrote nothing to compare"
        for aggregate_id, from_log in replayed.items():
            loaded: Aggregate = fresh.repository.get(aggregate_id)
            assert type(loaded) is type(from_log)
            assert state(loaded) == state(from_log), f"{type(loaded).__name__} {aggregate_id}"
    finally:
        fresh.close()


def run_history(env: dict[str, str], clock: Clock, commands: list[tuple[Any, ...]]) -> History:
    ledger = Ledger(env=env, secret_key=TEST_SECRET_KEY, clock=clock)
    history = History(ledger, clock)
    try:
        history.run(commands)
    finally:
        ledger.close()
    return history


# --- the tests ----------------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(commands=HISTORIES)
def test_replaying_the_log_rebuilds_the_aggregates_a_fresh_ledger_loads(
    commands: list[tuple[Any, ...]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        env = sqlite_env(Path(folder) / "ledger.sqlite")
        clock = Clock()
        run_history(env, clock, commands)
        assert_replay_rebuilds_the_stored_aggregates(env, clock)


@PROPERTY_SETTINGS
@given(commands=HISTORIES)
def test_aggregates_left_by_commands_equal_their_replay(
    commands: list[tuple[Any, ...]],
) -> None:
    """What the commands held in memory when they saved is exactly what the log replays to:
    no event body depends on anything but its event."""
    with tempfile.TemporaryDirectory() as folder:
        env = sqlite_env(Path(folder) / "ledger.sqlite")
        clock = Clock()
        ledger = Ledger(env=env, secret_key=TEST_SECRET_KEY, clock=clock)
        live: dict[UUID, Aggregate] = {}
        save = ledger.save

        def remembering_save(*objs: Any, **kwargs: Any) -> Any:
            recordings = save(*objs, **kwargs)
            for obj in objs:
                if isinstance(obj, Aggregate):
                    live[obj.id] = copy.deepcopy(obj)
            return recordings

        ledger.save = remembering_save  # type: ignore[method-assign]
        try:
            History(ledger, clock).run(commands)
            replayed = replayed_from_the_log(ledger)
        finally:
            ledger.close()

        assert set(live) == set(replayed)
        for aggregate_id, from_log in replayed.items():
            assert state(live[aggregate_id]) == state(from_log)


@pytest.mark.parametrize("ledger_env", ["sqlite", "postgres"], indirect=True)
def test_replaying_a_fixed_history_rebuilds_the_aggregates(
    ledger_env: dict[str, str], clock: Clock
) -> None:
    history = run_history(ledger_env, clock, FIXED_HISTORY)

    assert 0 < history.refused < len(FIXED_HISTORY)  # the history exercises both outcomes
    assert_replay_rebuilds_the_stored_aggregates(ledger_env, clock)
