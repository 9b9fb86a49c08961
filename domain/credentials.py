"""Secrets' keyed hashes, and signatures (the random secrets themselves are drawn by the
application, ``application.credentials``).

Client secrets and access tokens are 256-bit random values shown once. The ledger stores only an
HMAC-SHA-256 of each under a server key, so a stolen event log reveals no usable secret, and looks
them up by that digest. Their entropy makes a slow hash pointless. Authorization codes are signed
messages instead (``sign``/``verify``, under a key derived from the server key), so that a code
needs no write until it is exchanged; they too are known to the log only by their digest.
"""

from __future__ import annotations

import base64
import hmac
from hashlib import sha256, sha512


class SecretHasher:
    """Keyed digests of secrets, compared in constant time."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the server key must be at least 16 bytes")
        self._key = key
        # A key of its own for signatures, derived with another hash (SHA-512) so that it is
        # not the digest of any string: neither a digest nor a signature reveals the other's key.
        self._signing_key = hmac.new(key, b"token-ledger:signing-key", sha512).digest()

    def digest(self, secret: str) -> str:
        return hmac.new(self._key, secret.encode("utf-8"), sha256).hexdigest()

    def matches(self, secret: str, digest: str) -> bool:
        return hmac.compare_digest(self.digest(secret), digest)

    def derive(self, nonce: str) -> str:
        """A client secret derived from a stored random nonce under the server key.

        Signed requests (HMAC with the client secret) need the server to recompute the secret,
        so for client secrets the log keeps this nonce, never the secret: without the server
        key the nonce is useless."""
        raw = hmac.new(self._key, f"client-secret:{nonce}".encode(), sha256).digest()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def sign(self, message: str) -> str:
        """A URL-safe HMAC-SHA-256 signature of ``message`` under the derived signing key."""
        raw = hmac.new(self._signing_key, message.encode("utf-8"), sha256).digest()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def verify(self, message: str, signature: str) -> bool:
        """Whether ``signature`` is ``sign(message)``, compared in constant time."""
        return hmac.compare_digest(
            self.sign(message).encode("ascii"), signature.encode("utf-8", "replace")
        )
