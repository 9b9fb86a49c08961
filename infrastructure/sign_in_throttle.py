"""Failed password sign-ins per username, kept where every service process sees them.

The records live in a table of the read-model database (one PostgreSQL for all processes, or the
one process's SQLite file). The table is not a read model: nothing in the event log rebuilds it,
so ``ledger projections rebuild`` leaves it alone. A row is keyed by a keyed digest of the
canonical username (domain.identity), never the username: people type passwords into the
username field. An
attempt is counted before its password is checked, by one upsert that applies
``SignInAttempts.after_attempt`` in SQL: it counts the attempt and answers whether it may go on,
atomically, so concurrent attempts from several processes never let more than the limit through.
A right password then clears the count. Times are microseconds since the epoch (UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.credentials import SecretHasher
from domain.identity import canonical_username
from domain.sign_in_attempts import FAILURE_WINDOW, LOCKOUT, MAX_FAILURES, SignInAttempts
from infrastructure.read_model.database import Database
from infrastructure.read_model.projection import micros
from infrastructure.read_model.schema import serialise_creators

TABLE = "sign_in_failures"

_CREATE = """CREATE TABLE IF NOT EXISTS sign_in_failures (
    username_digest TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    first_failure_at BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL
)"""
# SignInAttempts.after_attempt as one statement: no row comes back, and nothing changes, while
# the username is locked; otherwise the attempt counts as a failure, and one once the window
# since the first counted one has passed starts a new count. The conflicting row stays locked
# (PostgreSQL) or the database is (SQLite's BEGIN IMMEDIATE) until the transaction ends.
_COUNT_ATTEMPT = """INSERT INTO sign_in_failures AS f
    (username_digest, failures, first_failure_at, last_failure_at)
VALUES (:digest, 1, :now, :now)
ON CONFLICT (username_digest) DO UPDATE SET
    failures = CASE WHEN :now - f.first_failure_at >= :window THEN 1
                    ELSE f.failures + 1 END,
    first_failure_at = CASE WHEN :now - f.first_failure_at >= :window THEN :now
                            ELSE f.first_failure_at END,
    last_failure_at = CASE WHEN :now - f.first_failure_at >= :window THEN :now
                           WHEN :now > f.last_failure_at THEN :now
                           ELSE f.last_failure_at END
WHERE NOT (f.failures >= :max_failures AND :now - f.last_failure_at < :lockout)
RETURNING failures, first_failure_at, last_failure_at"""
_READ = (
    "SELECT failures, first_failure_at, last_failure_at FROM sign_in_failures "
    "WHERE username_digest = :digest"
)
_CLEAR = "DELETE FROM sign_in_failures WHERE username_digest = :digest"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _moment(at: int) -> datetime:
    return _EPOCH + at * _MICROSECOND


def _attempts(row: Any) -> SignInAttempts:
    return SignInAttempts(int(row[0]), _moment(int(row[1])), _moment(int(row[2])))


class SignInThrottle:
    """The failure records of every username, by keyed digest."""

    def __init__(self, db: Database, hasher: SecretHasher) -> None:
        self.db = db
        self._hasher = hasher

    def create_table(self) -> None:
        with self.db.write_transaction() as cur:
            serialise_creators(self.db, cur)
            cur.execute(_CREATE)

    def digest(self, username: str) -> str:
        """The row key: usernames are matched without regard to case, as the ledger does."""
        return self._hasher.digest("sign-in:" + canonical_username(username))

    def attempts(self, username: str) -> SignInAttempts | None:
        """The username's record, or None when it has no recent failure."""
        row = self.db.read_one(self.db.sql(_READ), {"digest": self.digest(username)})
        return None if row is None else _attempts(row)

    def count_attempt(self, username: str, now: datetime) -> SignInAttempts:
        """Counts a password arriving at ``now`` as a failure before it is checked, and answers
        the record it leaves; ``SignInThrottledError``, counting nothing, while the username is
        locked."""
        params = {
            "digest": self.digest(username),
            "now": micros(now),
            "window": FAILURE_WINDOW // _MICROSECOND,
            "max_failures": MAX_FAILURES,
            "lockout": LOCKOUT // _MICROSECOND,
        }
        with self.db.write_transaction() as cur:
            cur.execute(self.db.sql(_COUNT_ATTEMPT), params)
            counted = cur.fetchone()
            if counted is not None:
                return _attempts(counted)
            cur.execute(self.db.sql(_READ), {"digest": params["digest"]})
            locked = _attempts(cur.fetchone())
        locked.require_unlocked(now)
        raise RuntimeError("the sign-in throttle's statement and policy disagree on a lock")

    def clear(self, username: str) -> None:
        """Forgets the username's failures (its password was right)."""
        with self.db.write_transaction() as cur:
            cur.execute(self.db.sql(_CLEAR), {"digest": self.digest(username)})
