"""How many wrong passwords a username may take before sign-in with it is refused for a while.

A human password has little entropy, so guessing must be slow: after ``MAX_FAILURES`` wrong
passwords within ``FAILURE_WINDOW`` of the first, the username is locked for ``LOCKOUT`` after the
last, and no password is even checked. An attempt is counted as a failure before its password is
checked (a right one then clears the count), so that guesses sent at once cannot all slip past a
count that only their results would raise. The rule is kept per username typed, registered or
not, so that a lock does not tell which usernames exist. Time is passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import SignInThrottledError

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)


@dataclass(frozen=True)
class SignInAttempts:
    """A username's wrong passwords since its count last started (never the username itself)."""

    failures: int
    first_failure_at: datetime
    last_failure_at: datetime

    @classmethod
    def first(cls, now: datetime) -> SignInAttempts:
        return cls(1, now, now)

    def window_has_passed(self, now: datetime) -> bool:
        """A failure now would start a new count: the first counted one is too old."""
        return now - self.first_failure_at >= FAILURE_WINDOW

    def after_failure(self, now: datetime) -> SignInAttempts:
        """The record once another wrong password arrives at ``now``."""
        if self.window_has_passed(now):
            return SignInAttempts.first(now)
        return SignInAttempts(
            self.failures + 1, self.first_failure_at, max(self.last_failure_at, now)
        )

    def after_attempt(self, now: datetime) -> SignInAttempts:
        """The record once a password arrives at ``now`` to be checked: refused while locked,
        else counted as a failure until it proves right."""
        self.require_unlocked(now)
        return self.after_failure(now)

    def unlocks_in(self, now: datetime) -> timedelta:
        """How long sign-in stays refused from ``now``; zero when it is not."""
        if self.failures < MAX_FAILURES:
            return timedelta(0)
        return max(self.last_failure_at + LOCKOUT - now, timedelta(0))

    def is_locked(self, now: datetime) -> bool:
        return self.unlocks_in(now) > timedelta(0)

    def require_unlocked(self, now: datetime) -> None:
        """Refuses sign-in while the username is locked, before any password is checked."""
        wait = self.unlocks_in(now)
        if wait > timedelta(0):
            raise SignInThrottledError(math.ceil(wait.total_seconds()))
