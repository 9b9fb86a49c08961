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
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import project_aggregate
from eventsourcing.domain import Aggregate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.ledger import Ledger
from infrastructure.persistence import sqlite_env
from tests.conftest import TEST_SECRET_KEY
from tests.support.aggregate_facts import SCOPES, History
from tests.support.clock import Clock
from tests.support.ledger_setup import stored_notifications

USERS = ("ann", "bob", "cat", "Dan")  # Dan: usernames are matched without regard to case
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
    history = History(ledger, clock, users=USERS, vary_redirects=True)
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
            History(ledger, clock, users=USERS, vary_redirects=True).run(commands)
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
