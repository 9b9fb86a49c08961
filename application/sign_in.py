"""Password sign-in, the use case: count the attempt, check the password, clear on success.

The OAuth pages and HTTP Basic on ``/v1/me`` both sign in through here. Every attempt is
counted against the username typed (registered or not) before its password is checked, so no
burst of concurrent guesses gets more checked than the limit (``domain.sign_in_attempts``); a
locked username raises ``SignInThrottledError`` without its password being checked. An unknown
username costs the same hash verification as a known one, so timing does not tell which
usernames exist. Where attempts are counted and how passwords are hashed are the
infrastructure's (``SignInThrottle``, argon2id): this module names only what it needs of them.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from application.service import LedgerService
from domain.errors import LedgerError
from domain.sign_in_attempts import SignInAttempts
from domain.users import User

logger = logging.getLogger(__name__)

MAX_PASSWORD_CHARS = 1024  # argon2 hashes any length; a bound keeps a request from burning CPU


class SignInAttemptCounter(Protocol):
    """Counts attempts per username, shared by every process."""

    def count_attempt(self, username: str, now: datetime) -> SignInAttempts: ...

    def clear(self, username: str) -> None: ...


class PasswordChecker(Protocol):
    """Verifies a password against a stored hash, in constant time."""

    def verify(self, password_hash: str, password: str) -> bool: ...

    def verify_nothing(self, password: str) -> None:
        """Spends what a verification costs, for a username that has no password."""


def sign_in(
    ledger: LedgerService,
    attempts: SignInAttemptCounter,
    passwords: PasswordChecker,
    username: str,
    password: str,
) -> User | None:
    """The user whose password this is, or None (``SignInThrottledError`` while locked)."""
    if not username or not password or len(password) > MAX_PASSWORD_CHARS:
        return None
    now = ledger.clock()
    counted = attempts.count_attempt(username, now)
    user = _verified_user(ledger, passwords, username, password)
    if user is None:
        if counted.is_locked(now):
            logger.warning("password sign-in locked after repeated wrong passwords")
    else:
        attempts.clear(username)
    return user


def _verified_user(
    ledger: LedgerService, passwords: PasswordChecker, username: str, password: str
) -> User | None:
    try:
        user = ledger.user(username)
    except LedgerError:  # UserNotFoundError, or a name that cannot be one
        passwords.verify_nothing(password)
        return None
    if not user.password_hash:
        passwords.verify_nothing(password)
        return None
    return user if passwords.verify(user.password_hash, password) else None
