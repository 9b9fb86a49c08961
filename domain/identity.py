"""Deterministic aggregate ids, so that uniqueness is a storage conflict and not a race.

One user per username, one grant per (user, app), one token per secret: each id is a
``uuid5`` of what must be unique, so two concurrent creations collide on the same id and the
event store refuses the second.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

LEDGER_NAMESPACE = uuid5(NAMESPACE_URL, "urn:token-ledger")

SCOPE_CATALOGUE_ID = uuid5(LEDGER_NAMESPACE, "scope-catalogue")


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def canonical_username(username: str) -> str:
    """The one form in which usernames are compared and user ids derived: ASCII letters in
    lower case, every other character as it is.

    Usernames are ASCII (``domain.users.validate_username``), so two spellings name the same
    user exactly when they differ in the case of ASCII letters. No Unicode folding or NFKC: it
    would let a name no one could register (the Kelvin sign U+212A, a fullwidth letter) stand
    for a registered one, so such a name names no one. For an ASCII name this equals
    ``casefold()``, which ids were derived with before: existing ids do not change."""
    return username.translate(_ASCII_LOWER)


def same_username(a: str, b: str) -> bool:
    return canonical_username(a) == canonical_username(b)


def user_id(username: str) -> UUID:
    return uuid5(LEDGER_NAMESPACE, f"user:{canonical_username(username)}")


def grant_id(user: UUID, app: UUID) -> UUID:
    return uuid5(LEDGER_NAMESPACE, f"grant:{user}:{app}")


def token_id(token_digest: str) -> UUID:
    return uuid5(LEDGER_NAMESPACE, f"token:{token_digest}")


def app_id_from_client_id(client_id: str) -> UUID | None:
    """A client_id is its app's id in hex; anything else names no app."""
    try:
        parsed = UUID(hex=client_id)
    except ValueError:
        return None
    return parsed if parsed.hex == client_id.lower() else None
