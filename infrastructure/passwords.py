"""Human passwords: low entropy, so a memory-hard hash (argon2id, argon2-cffi's default type).

The domain only ever sees the hash; the password is never logged, stored or echoed.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Constant-time verification; a malformed or empty hash simply does not match."""
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """Verified against when a username has no password, so every failure takes as long."""
    return hash_password("no user has this password")


class Argon2Passwords:
    """The application's ``PasswordChecker`` (``application.sign_in``) over argon2id."""

    def verify(self, password_hash: str, password: str) -> bool:
        return verify_password(password_hash, password)

    def verify_nothing(self, password: str) -> None:
        verify_password(_dummy_hash(), password)


ARGON2 = Argon2Passwords()
