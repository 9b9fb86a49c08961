"""The read models answer every check as the aggregates do, at every position of the log.

A history of ledger commands is drawn (or fixed), the read models are projected, and then for
every log position P, every token the history obtained and every scope, the read models' facts
and decision (``ReadModel.check(access_token, scope, as_of=P)``, the client's path: by the
token's keyed digest) must equal ``decide`` over the facts that the aggregates replayed up to P
give (``tests.support.aggregate_facts``, which knows nothing of intervals or SQL).

The property runs on SQLite (a fresh file per example); a long fixed history runs on both stores.
How the log is cut into batches must not matter either: projecting in small chunks, at arbitrary
points of the history, gives exactly the read models that one rebuild gives.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.actors import Actor
from domain.apps import Mode
from domain.decisions import CheckFacts, Decision, Reason, decide
from infrastructure.persistence import sqlite_env
from infrastructure.read_model.checksum import checksum
from infrastructure.read_model.projector import Projector, rebuild
from infrastructure.runtime import Runtime, open_runtime_on
from tests.conftest import TEST_SECRET_KEY
from tests.support.aggregate_facts import (
    LONG_HISTORY,
    PRELUDE,
    REVIEW_REQUESTS,
    SCOPES,
    AggregateFacts,
    History,
    IssuedToken,
)
from tests.support.clock import Clock

ENV_KEYS = ("PERSISTENCE_MODULE", "SQLITE_DBNAME", "AGGREGATE_CACHE_MAXSIZE")
# A well-formed token that was never issued: unknown at every position.
NEVER_ISSUED = "never-issued-" + "x" * 40


@pytest.fixture(autouse=True, scope="module")
def _no_store_settings_from_the_environment() -> Iterator[None]:
    """As the ledger_env fixture does: os.environ must not redirect a test's store."""
    with pytest.MonkeyPatch.context() as mp:
        for key in ENV_KEYS:
            mp.delenv(key, raising=False)
            mp.delenv(f"LEDGER_{key}", raising=False)
        yield


# --- the histories --------------------------------------------------------------------------

index = st.integers(min_value=0, max_value=7)
user = st.integers(min_value=0, max_value=3)
# Mostly scopes that some app is approved for (or whose applications the prelude reopened).
scope_list = st.lists(
    st.sampled_from(("basic", "basic", "public_content", "likes", "comments", "follower_list")),
    max_size=2,
    unique=True,
)

OTHER_COMMANDS = st.one_of(
    st.tuples(st.just("register_app"), user),
    st.tuples(st.just("join"), index, user),
    st.tuples(st.just("invite"), index, user),
    st.tuples(st.just("remove_sandbox_user"), index, user, st.booleans()),
    st.tuples(
        st.just("review"),
        index,
        st.sampled_from(REVIEW_REQUESTS),
        st.lists(st.booleans(), min_size=2, max_size=2),
    ),
    st.tuples(st.just("decide"), index, st.sampled_from(SCOPES), st.booleans()),
    st.tuples(st.just("go_live"), index),
    st.tuples(st.just("return_to_sandbox"), index),
    st.tuples(st.just("disable"), index),
    st.tuples(st.just("enable"), index),
    st.tuples(st.just("withdraw"), index, st.sampled_from((None, *SCOPES))),
    st.tuples(
        st.just("policy"),
        st.sampled_from(("retire", "reopen", "close", "allow_live", "to_sandbox")),
        st.sampled_from(SCOPES),
    ),
    st.tuples(st.just("security"), index, st.booleans()),
    st.tuples(st.just("tick"), st.sampled_from((1, 601))),
    st.tuples(st.just("project")),
)
# Every user may authorize app 0 (in sandbox) and app 1 (live) to begin with.
DRAWN_PRELUDE = [*PRELUDE, ("join", 0, 1), ("join", 0, 3), ("policy", "reopen", "comments")]
# Tokens are made more often than anything else, then ended or revived; the rest changes what
# the tokens' checks depend on.
MAKING_TOKENS = st.one_of(
    st.tuples(st.just("authorize"), index, user, scope_list, st.just(True)),
    st.tuples(st.just("obtain"), index, user, scope_list),
    st.tuples(st.just("authorize"), index, user, scope_list, st.booleans()),
    st.tuples(st.just("exchange"), index),
)
ENDING_TOKENS = st.one_of(
    st.tuples(st.just("revoke"), index, st.sampled_from(("user", "owner", "client", "platform"))),
    st.tuples(st.just("expire"), index),
    st.tuples(st.just("deauthorize"), index, user, st.booleans()),
    st.tuples(st.just("accept"), index, user),
)
HISTORIES = st.lists(
    st.one_of(
        MAKING_TOKENS,
        MAKING_TOKENS,
        MAKING_TOKENS,
        ENDING_TOKENS,
        ENDING_TOKENS,
        OTHER_COMMANDS,
        OTHER_COMMANDS,
    ),
    min_size=20,
    max_size=40,
).map(lambda drawn: DRAWN_PRELUDE + drawn)
BATCH_SIZES = st.sampled_from((1, 2, 3, 5, 500))


# --- the comparison -------------------------------------------------------------------------


def comparable(facts: CheckFacts, scope: str) -> CheckFacts:
    """The facts a decision on ``scope`` rests on (all of them, now that each is token-wide or
    about the scope itself)."""
    return facts


def outcome(decision: Decision) -> tuple[bool, Mode, Reason | None]:
    return decision.allowed, decision.mode, decision.denial.reason if decision.denial else None


def describe(runtime: Runtime, position: int, token: IssuedToken | None, scope: str) -> str:
    events = runtime.ledger.recorder.select_notifications(start=position, limit=1, stop=position)
    event = events[0].topic.rsplit(":", 1)[-1] if events else "no event"
    who = f"{token.username}'s token for {token.client_id[:8]}" if token else "a stranger"
    return f"at position {position} ({event}), {who}, scope {scope}"


def assert_read_models_match_aggregates(
    runtime: Runtime, tokens: list[IssuedToken], *, thorough: bool = True
) -> set[tuple[bool, Mode, Reason | None]]:
    """Checks every (position, token, scope); answers the outcomes seen, to show coverage.

    Besides the decision, the facts themselves are compared. Unless ``thorough``, which costs
    three round trips a check (too slow on PostgreSQL), only decisions are compared, and a
    token not issued yet only at every tenth position."""
    ledger, read_model = runtime.ledger, runtime.read_model
    end = ledger.position()
    assert read_model.position() == end, "the read models have not caught up with the log"
    replay = AggregateFacts(ledger)
    seen: set[tuple[bool, Mode, Reason | None]] = set()
    candidates: list[IssuedToken | None] = [*tokens, None]
    for position in range(end + 1):
        replay.advance_to(position)
        for token in candidates:
            access_token = token.access_token if token else NEVER_ISSUED
            issued = token is not None and replay.token(token.token_id) is not None
            if not (thorough or issued or position % 10 == 0):
                continue
            for scope in SCOPES:
                expected = (
                    replay.facts(token.token_id, scope) if token else CheckFacts(token_found=False)
                )
                if thorough:
                    found = read_model.token_facts(access_token, scope, position).facts
                    assert comparable(found, scope) == comparable(expected, scope), describe(
                        runtime, position, token, scope
                    )
                decision = read_model.check(access_token, scope, as_of=position)
                assert decision.position == position
                assert outcome(decision) == outcome(decide(expected, scope)), describe(
                    runtime, position, token, scope
                )
                seen.add(outcome(decision))
    assert replay.events_applied > 0
    return seen


def open_sqlite_runtime(folder: str, clock: Clock) -> Runtime:
    return open_runtime_on(
        sqlite_env(Path(folder) / "ledger.sqlite"),
        secret_key=TEST_SECRET_KEY,
        clock=clock,
        run_projector=False,
    )


def run_and_project(
    runtime: Runtime, clock: Clock, commands: list[tuple[Any, ...]], batch_size: int
) -> History:
    """Runs the history, projecting whenever it says so with a projector of that batch size,
    and once more at the end."""
    ledger = runtime.ledger
    projector = Projector(ledger.recorder, ledger.mapper, runtime.db, batch_size=batch_size)
    history = History(ledger, clock, on_project=projector.catch_up).run(commands)
    projector.catch_up()
    return history


PROPERTY_SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# --- the tests ------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(commands=HISTORIES, batch_size=BATCH_SIZES)
def test_every_check_at_every_position_agrees_with_the_aggregates(
    commands: list[tuple[Any, ...]], batch_size: int
) -> None:
    clock = Clock()
    with tempfile.TemporaryDirectory() as folder:
        runtime = open_sqlite_runtime(folder, clock)
        try:
            history = run_and_project(runtime, clock, commands, batch_size)
            assert history.tokens, "the prelude issues tokens"
            assert_read_models_match_aggregates(runtime, history.tokens)
        finally:
            runtime.close()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commands=HISTORIES, batch_size=st.sampled_from((1, 2, 3, 4, 7)))
def test_projecting_in_small_chunks_gives_the_read_models_a_rebuild_gives(
    commands: list[tuple[Any, ...]], batch_size: int
) -> None:
    """Intervals opened and closed within one batch are settled in memory, those of earlier
    batches by UPDATEs: either way the rows must be the same."""
    clock = Clock()
    with tempfile.TemporaryDirectory() as folder:
        runtime = open_sqlite_runtime(folder, clock)
        try:
            run_and_project(runtime, clock, commands, batch_size)
            chunked = checksum(runtime.db)
            ledger = runtime.ledger
            rebuild(Projector(ledger.recorder, ledger.mapper, runtime.db))
            assert checksum(runtime.db) == chunked
        finally:
            runtime.close()


def test_a_long_history_checks_as_the_aggregates_say_at_every_position(
    runtime: Runtime, clock: Clock
) -> None:
    history = History(runtime.ledger, clock, on_project=runtime.projector.catch_up)
    history.run(LONG_HISTORY)
    runtime.projector.catch_up()
    assert history.refused >= 5
    assert len(history.tokens) >= 10

    on_sqlite = runtime.db.dialect == "sqlite"
    seen = assert_read_models_match_aggregates(runtime, history.tokens, thorough=on_sqlite)

    # The history is long for a reason: every way a check can end is compared at least once.
    reasons = {reason for _, _, reason in seen}
    # Whose data a call names is the gate's question, not a check's.
    checked = set(Reason) - {Reason.DATA_OWNER_NOT_SANDBOX_USER}
    assert reasons == {*checked, None}, f"not exercised: {checked - reasons}"
    allowed_modes = {mode for allowed, mode, _ in seen if allowed}
    assert allowed_modes == {Mode.SANDBOX, Mode.LIVE}


def test_a_long_history_projected_three_events_at_a_time_checks_the_same(
    tmp_path: Path,
) -> None:
    clock = Clock()
    runtime = open_sqlite_runtime(str(tmp_path), clock)
    try:
        history = run_and_project(runtime, clock, LONG_HISTORY, batch_size=3)
        assert_read_models_match_aggregates(runtime, history.tokens)
        chunked = checksum(runtime.db)
        rebuild(runtime.projector)
        assert checksum(runtime.db) == chunked
    finally:
        runtime.close()


def test_the_aggregate_reader_sees_a_revocation_from_its_position_on(
    runtime: Runtime, clock: Clock
) -> None:
    """The second reader is itself checked: it must not see the future, nor miss the past."""
    history = History(runtime.ledger, clock).run(PRELUDE)
    token = history.tokens[0]
    revoked_at = runtime.ledger.revoke_token(
        Actor.user(token.username), access_token=token.access_token, reason="done"
    ).position

    replay = AggregateFacts(runtime.ledger)
    replay.advance_to(revoked_at - 1)
    assert replay.facts(token.token_id, "basic").token_revoked is False
    replay.advance_to(revoked_at)
    assert replay.facts(token.token_id, "basic").token_revoked is True
    denial = decide(replay.facts(token.token_id, "basic"), "basic").denial
    assert denial is not None
    assert denial.reason is Reason.TOKEN_REVOKED
