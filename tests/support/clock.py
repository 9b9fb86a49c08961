"""A clock the test controls, so expiry and time-based rules are exact, not flaky."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    """Callable like `datetime.now(UTC)`, but only moves when the test says so."""

    def __init__(self, start: datetime = EPOCH) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        """Move forward (never back: the ledger's events must stay in time order)."""
        if seconds < 0:
            raise ValueError("the clock does not run backwards")
        self._now += timedelta(seconds=seconds)
        return self._now

    def __repr__(self) -> str:
        return f"Clock({self._now.isoformat()})"
