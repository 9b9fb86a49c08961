"""The one HTTP Basic decoder (RFC 7617): every endpoint that accepts Basic credentials (the
client endpoints of RFC 6749 §2.3.1, ``/v1/me``) reads the header here, and answers its own 401
when the credentials cannot be read.

The header's bytes reach us as latin-1 text; base64 is ASCII only, so anything else, bad
base64, bytes that are not UTF-8 (RFC 7617 §2.1) or no colon between the two parts is
``MalformedBasicError``, never an unexpected exception (a 500).
"""

from __future__ import annotations

import base64
import binascii

MALFORMED = "Malformed HTTP Basic credentials"


class MalformedBasicError(ValueError):
    """Raised when an ``Authorization: Basic`` header is not base64 of UTF-8 ``user:password``."""

    def __init__(self) -> None:
        super().__init__(MALFORMED)


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """The (user, password) pair of a Basic ``Authorization`` header; None when the header is
    absent or of another scheme."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    encoded = encoded.strip()
    if not encoded.isascii():
        raise MalformedBasicError
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise MalformedBasicError from None
    user, sep, password = decoded.partition(":")
    if not sep:
        raise MalformedBasicError
    return user, password
