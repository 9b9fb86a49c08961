"""The password-guessing policy: 5 wrong passwords within 15 minutes lock a username for 15
minutes after the last one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import SignInThrottledError
from domain.sign_in_attempts import FAILURE_WINDOW, LOCKOUT, MAX_FAILURES, SignInAttempts

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def failures_at(*moments: datetime) -> SignInAttempts:
    attempts = SignInAttempts.first(moments[0])
    for moment in moments[1:]:
        attempts = attempts.after_failure(moment)
    return attempts


def one_a_minute(count: int, start: datetime = T0) -> SignInAttempts:
    return failures_at(*(start + i * MINUTE for i in range(count)))


def test_the_policy_is_five_failures_in_fifteen_minutes_locking_for_fifteen() -> None:
    assert (MAX_FAILURES, FAILURE_WINDOW, LOCKOUT) == (5, 15 * MINUTE, 15 * MINUTE)


def test_four_failures_do_not_lock() -> None:
    assert not one_a_minute(4).is_locked(T0 + 4 * MINUTE)


def test_five_failures_within_the_window_lock() -> None:
    assert one_a_minute(5).is_locked(T0 + 4 * MINUTE)


def test_the_lock_lasts_fifteen_minutes_after_the_last_failure() -> None:
    attempts = one_a_minute(5)
    last = T0 + 4 * MINUTE

    assert attempts.is_locked(last + LOCKOUT - timedelta(microseconds=1))
    assert not attempts.is_locked(last + LOCKOUT)


def test_unlocks_in_counts_down_from_the_last_failure() -> None:
    attempts = one_a_minute(5)

    assert attempts.unlocks_in(T0 + 10 * MINUTE) == 9 * MINUTE


def test_an_unlocked_record_unlocks_in_no_time() -> None:
    assert one_a_minute(4).unlocks_in(T0 + 4 * MINUTE) == timedelta(0)


def test_failures_spread_wider_than_the_window_do_not_lock() -> None:
    attempts = failures_at(
        T0, T0 + 1 * MINUTE, T0 + 2 * MINUTE, T0 + 3 * MINUTE, T0 + FAILURE_WINDOW
    )

    assert not attempts.is_locked(T0 + FAILURE_WINDOW)


def test_a_failure_after_the_window_starts_a_new_count_at_that_moment() -> None:
    later = T0 + FAILURE_WINDOW

    assert one_a_minute(3).after_failure(later) == SignInAttempts(1, later, later)


def test_a_failure_within_the_window_keeps_the_first_failure_time() -> None:
    assert one_a_minute(2).after_failure(T0 + 5 * MINUTE) == SignInAttempts(3, T0, T0 + 5 * MINUTE)


def test_a_failure_reported_late_does_not_move_the_last_failure_back() -> None:
    attempts = one_a_minute(3)  # the last at T0 + 2 minutes

    assert attempts.after_failure(T0 + MINUTE).last_failure_at == T0 + 2 * MINUTE


def test_the_first_failure_after_a_lock_ends_does_not_lock_again() -> None:
    after_lock = T0 + 4 * MINUTE + LOCKOUT

    assert not one_a_minute(5).after_failure(after_lock).is_locked(after_lock)


def test_require_unlocked_refuses_a_locked_username_with_the_seconds_to_wait() -> None:
    with pytest.raises(SignInThrottledError) as refused:
        one_a_minute(5).require_unlocked(T0 + 10 * MINUTE)

    assert refused.value.retry_after == 9 * 60
    assert refused.value.code == "sign_in_throttled"


def test_require_unlocked_lets_an_unlocked_username_through() -> None:
    one_a_minute(4).require_unlocked(T0 + 4 * MINUTE)


def test_an_attempt_is_counted_as_a_failure_before_its_password_is_checked() -> None:
    assert one_a_minute(4).after_attempt(T0 + 4 * MINUTE) == one_a_minute(5)


def test_an_attempt_on_a_locked_username_is_refused_with_the_seconds_to_wait() -> None:
    locked = one_a_minute(5)

    with pytest.raises(SignInThrottledError) as refused:
        locked.after_attempt(T0 + 10 * MINUTE)

    assert refused.value.retry_after == 9 * 60


def test_the_wait_is_rounded_up_to_whole_seconds() -> None:
    with pytest.raises(SignInThrottledError) as refused:
        one_a_minute(5).require_unlocked(T0 + 18 * MINUTE + timedelta(milliseconds=500))

    assert refused.value.retry_after == 60


@pytest.mark.parametrize(
    ("seconds", "minutes"),
    [(1, "1 minute"), (60, "1 minute"), (61, "2 minutes"), (900, "15 minutes")],
)
def test_the_throttle_message_says_how_many_minutes_to_wait(seconds: int, minutes: str) -> None:
    assert SignInThrottledError(seconds).message == (
        f"Too many failed sign-ins for this username: try again in {minutes}."
    )
