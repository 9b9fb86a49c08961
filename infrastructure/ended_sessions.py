"""OAuth-page sessions signed out before they expire, kept where every service process sees them.

A session cookie is signed, not stored, so nothing on the server could end it before its lifetime
ran out: signing out records the session's nonce here, and a cookie whose session is recorded
counts as signed out in every process. The table sits beside the read models and the sign-in
throttle's (one PostgreSQL for all processes, or the one process's SQLite file) and, like the
throttle's, is not a read model: a rebuild leaves it alone. A row holds a keyed digest of the
nonce, never the cookie, and only until the cookie would have expired anyway; rows past that are
dropped whenever a session ends. Times are seconds since the epoch, as the cookie's.
"""

from __future__ import annotations

from domain.credentials import SecretHasher
from infrastructure.read_model.database import Database
from infrastructure.read_model.schema import serialise_creators

TABLE = "ended_sessions"

_CREATE = """CREATE TABLE IF NOT EXISTS ended_sessions (
    nonce_digest TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
)"""
_PURGE = "DELETE FROM ended_sessions WHERE expires_at <= :now"
_END = """INSERT INTO ended_sessions (nonce_digest, expires_at) VALUES (:digest, :expires_at)
ON CONFLICT (nonce_digest) DO NOTHING"""
_FIND = "SELECT 1 FROM ended_sessions WHERE nonce_digest = :digest"


class EndedSessions:
    """The signed-out sessions whose cookies have not yet expired, by keyed digest of nonce."""

    def __init__(self, db: Database, hasher: SecretHasher) -> None:
        self.db = db
        self._hasher = hasher

    def create_table(self) -> None:
        with self.db.write_transaction() as cur:
            serialise_creators(self.db, cur)
            cur.execute(_CREATE)

    def digest(self, nonce: str) -> str:
        return self._hasher.digest("oauth-session:" + nonce)

    def end(self, nonce: str, expires_at: int, now: int) -> None:
        """Ends the session until ``expires_at``, when its cookie expires anyway; forgets the
        sessions whose cookies have expired by ``now``."""
        with self.db.write_transaction() as cur:
            cur.execute(self.db.sql(_PURGE), {"now": now})
            if expires_at > now:
                cur.execute(
                    self.db.sql(_END), {"digest": self.digest(nonce), "expires_at": expires_at}
                )

    def has_ended(self, nonce: str) -> bool:
        return self.db.read_one(self.db.sql(_FIND), {"digest": self.digest(nonce)}) is not None
