"""Checks as of a log position or a moment, and reads that wait for the projector.

Event times come from the event-sourcing library's own clock (wall time), not the ledger's
``clock`` fixture, so moments here are captured with ``datetime.now(timezone.utc)`` between
writes, with a short sleep on either side so that no event shares the captured microsecond.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest

from domain.actors import Actor
from domain.apps import Mode
from domain.decisions import Reason
from domain.errors import InvalidAsOfError, ProjectionTimeoutError
from infrastructure.read_model.projector import rebuild
from tests.support.decision_setup import (
    PLATFORM,
    TokenSetup,
    approve_scopes,
    live_app,
    project,
    sandbox_token,
    token_for,
)

if TYPE_CHECKING:
    from infrastructure.runtime import Runtime

GAP = 0.005  # seconds between an event and a captured moment


def moment() -> datetime:
    """Now, strictly between the last event written and the next one."""
    time.sleep(GAP)
    now = datetime.now(UTC)
    time.sleep(GAP)
    return now


def revoke(runtime: Runtime, token: TokenSetup) -> int:
    return runtime.ledger.revoke_token(
        Actor.user(token.username), access_token=token.access_token, reason="lost my phone"
    ).position


def reason_of(
    runtime: Runtime, token: TokenSetup, scope: str = "basic", **kwargs: object
) -> Reason | None:
    denial = runtime.read_model.check(token.access_token, scope, **kwargs).denial  # type: ignore[arg-type]
    return denial.reason if denial else None


# --- by log position ----------------------------------------------------------------------------


def test_check_as_of_the_position_before_a_revocation_is_allowed(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    revoked_at = revoke(runtime, token)
    project(runtime)
    assert runtime.read_model.check(token.access_token, "basic", as_of=revoked_at - 1).allowed


def test_check_as_of_the_revocations_position_is_denied(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    revoked_at = revoke(runtime, token)
    project(runtime)
    assert reason_of(runtime, token, as_of=revoked_at) is Reason.TOKEN_REVOKED


def test_check_as_of_the_tokens_issue_is_allowed(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    revoke(runtime, token)
    project(runtime)
    assert runtime.read_model.check(token.access_token, "basic", as_of=token.position).allowed


def test_check_as_of_before_the_token_was_issued_is_an_unknown_token(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    assert reason_of(runtime, token, as_of=token.position - 1) is Reason.TOKEN_UNKNOWN


def test_check_as_of_a_position_answers_at_that_position(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    revoke(runtime, token)
    project(runtime)
    decision = runtime.read_model.check(token.access_token, "basic", as_of=token.position)
    assert decision.position == token.position


def test_check_as_of_a_position_before_going_live_answers_in_sandbox_mode(
    runtime: Runtime,
) -> None:
    token = sandbox_token(runtime, "basic")
    approve_scopes(runtime, token.app, ["basic"])
    went_live = runtime.ledger.go_live(token.client_id, Actor.developer(token.app.owner))
    project(runtime)
    before = runtime.read_model.check(token.access_token, "basic", as_of=went_live.position - 1)
    after = runtime.read_model.check(token.access_token, "basic", as_of=went_live.position)
    assert (before.mode, after.mode) == (Mode.SANDBOX, Mode.LIVE)


def test_check_as_of_a_position_before_a_deauthorization_is_allowed(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    deauthorized = runtime.ledger.deauthorize(
        token.client_id, "alice", Actor.user("alice"), "no longer"
    )
    project(runtime)
    assert runtime.read_model.check(
        token.access_token, "basic", as_of=deauthorized.position - 1
    ).allowed
    assert reason_of(runtime, token, as_of=deauthorized.position) is Reason.GRANT_WITHDRAWN


def test_negative_log_position_is_invalid(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    with pytest.raises(InvalidAsOfError):
        runtime.read_model.check(token.access_token, "basic", as_of=-1)


# --- by moment ----------------------------------------------------------------------------------


def test_check_as_of_a_moment_before_a_revocation_is_allowed(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    before = moment()
    revoke(runtime, token)
    project(runtime)
    assert runtime.read_model.check(token.access_token, "basic", as_of=before).allowed


def test_check_as_of_a_moment_after_a_revocation_is_denied(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    revoke(runtime, token)
    after = moment()
    project(runtime)
    assert reason_of(runtime, token, as_of=after) is Reason.TOKEN_REVOKED


def test_position_at_a_moment_is_the_last_event_at_or_before_it(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    last_before = runtime.ledger.position()
    between = moment()
    revoked_at = revoke(runtime, token)
    after = moment()
    project(runtime)
    assert runtime.read_model.position_at(between) == last_before
    assert runtime.read_model.position_at(after) == revoked_at


def test_position_at_a_moment_before_any_event_is_zero(runtime: Runtime) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=365)
    sandbox_token(runtime, "basic")
    assert runtime.read_model.position_at(long_ago) == 0


def test_check_as_of_a_moment_answers_at_the_position_of_that_moment(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    last_before = runtime.ledger.position()
    between = moment()
    revoke(runtime, token)
    project(runtime)
    decision = runtime.read_model.check(token.access_token, "basic", as_of=between)
    assert decision.position == runtime.read_model.position_at(between) == last_before


def test_check_as_of_a_moment_in_another_time_zone_is_the_same_instant(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    before = moment().astimezone(timezone(timedelta(hours=-7)))
    revoke(runtime, token)
    project(runtime)
    assert runtime.read_model.check(token.access_token, "basic", as_of=before).allowed


# --- waiting for the projector --------------------------------------------------------------------


def test_check_without_min_position_answers_from_what_is_projected(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    projected = runtime.read_model.position()
    revoke(runtime, token)  # not projected yet
    decision = runtime.read_model.check(token.access_token, "basic")
    assert decision.allowed
    assert decision.position == projected


def test_check_with_min_position_waits_for_the_projector(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    revoked_at = revoke(runtime, token)
    projecting = threading.Timer(0.1, runtime.projector.catch_up)
    projecting.start()
    try:
        decision = runtime.read_model.check(token.access_token, "basic", min_position=revoked_at)
    finally:
        projecting.join()
    assert decision.denial is not None
    assert decision.denial.reason is Reason.TOKEN_REVOKED
    assert decision.position >= revoked_at


def test_min_position_times_out_when_the_projector_does_not_run(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    projected = runtime.read_model.position()
    revoked_at = revoke(runtime, token)
    started = time.monotonic()
    with pytest.raises(ProjectionTimeoutError) as timed_out:
        runtime.read_model.resolve(None, min_position=revoked_at, timeout=0.05)
    assert time.monotonic() - started < 2
    assert (timed_out.value.position, timed_out.value.reached) == (revoked_at, projected)


def test_check_with_min_position_times_out_when_the_projector_does_not_run(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_model = runtime.read_model
    token = sandbox_token(runtime, "basic")
    revoked_at = revoke(runtime, token)
    with pytest.raises(ProjectionTimeoutError, match=f"not {revoked_at}, after 0.05 s"):
        read_model.check(token.access_token, "basic", min_position=revoked_at, timeout=0.05)


def test_as_of_a_position_not_yet_projected_times_out(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    revoked_at = revoke(runtime, token)
    with pytest.raises(ProjectionTimeoutError):
        runtime.read_model.resolve(revoked_at, timeout=0.05)


def test_check_as_of_a_moment_waits_for_what_was_written_before_it(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    revoke(runtime, token)
    after = moment()  # the revocation is written, not yet projected
    projecting = threading.Timer(0.1, runtime.projector.catch_up)
    projecting.start()
    try:
        reason = reason_of(runtime, token, as_of=after)
    finally:
        projecting.join()
    assert reason is Reason.TOKEN_REVOKED


def test_as_of_a_moment_not_yet_projected_times_out(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    revoked_at = revoke(runtime, token)
    with pytest.raises(ProjectionTimeoutError) as timed_out:
        runtime.read_model.resolve(moment(), timeout=0.05)
    assert timed_out.value.position == revoked_at


def test_acknowledged_revocation_is_denied_by_the_next_check(runtime: Runtime) -> None:
    token = sandbox_token(runtime, "basic")
    revoked_at = revoke(runtime, token)
    runtime.acknowledge(revoked_at)
    assert reason_of(runtime, token) is Reason.TOKEN_REVOKED


# --- history does not depend on how it was projected --------------------------------------------


def test_answers_as_of_every_position_do_not_depend_on_projection_batches(
    runtime: Runtime,
) -> None:
    ledger = runtime.ledger
    alice = sandbox_token(runtime, "basic likes")
    app = live_app(runtime, approved=["likes"])
    bob = token_for(runtime, app, "bob", "basic likes")
    ledger.deauthorize(alice.client_id, "alice", Actor.user("alice"), "no longer")
    alice_again = token_for(runtime, alice.app, "alice", "basic likes")
    ledger.withdraw_approval(app.client_id, "likes", PLATFORM, "April 2018")
    ledger.disable_app(app.client_id, PLATFORM, "spam")
    ledger.enable_app(app.client_id, PLATFORM, "appeal upheld")
    carol = token_for(runtime, app, "carol", "basic")
    ledger.remove_sandbox_user(alice.client_id, "alice", Actor.user("alice"), "leaving")
    ledger.retire_scope("likes", PLATFORM, "April 2018")
    ledger.expire_token(alice_again.token_id, PLATFORM, "expiry")
    revoke(runtime, carol)
    tokens = [alice, alice_again, bob, carol]
    end = project(runtime)

    def answers() -> list[tuple[int, str, str, Reason | None, Mode]]:
        out = []
        for position in range(end + 1):
            for token in tokens:
                for scope in ("basic", "likes"):
                    d = runtime.read_model.check(token.access_token, scope, as_of=position)
                    out.append(
                        (
                            position,
                            token.username,
                            scope,
                            d.denial.reason if d.denial else None,
                            d.mode,
                        )
                    )
        return out

    projected_as_written = answers()
    runtime.projector.batch_size = 1
    rebuild(runtime.projector)
    one_event_per_batch = answers()
    runtime.projector.batch_size = 10_000
    rebuild(runtime.projector)
    one_batch = answers()
    assert projected_as_written == one_event_per_batch == one_batch
    assert {a[3] for a in one_batch} >= {
        None,
        Reason.TOKEN_UNKNOWN,
        Reason.TOKEN_REVOKED,
        Reason.TOKEN_EXPIRED,
        Reason.APP_DISABLED,
        Reason.GRANT_WITHDRAWN,
        Reason.SCOPE_RETIRED,
        Reason.NOT_SANDBOX_USER,
        Reason.NOT_APPROVED,
    }
