"""Fresh random secrets: client secrets and their nonces, access tokens, API keys.

Drawn here, in the application, so that the domain stays free of randomness: it only hashes and
compares what it is given (``domain.credentials.SecretHasher``).
"""

from __future__ import annotations

import secrets

SECRET_BYTES = 32  # 256 bits


def new_secret() -> str:
    """A fresh URL-safe secret of 256 bits."""
    return secrets.token_urlsafe(SECRET_BYTES)
