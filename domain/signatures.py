"""Signed requests, as the legacy platform verified them for clients that enforce them.

The signature is HMAC-SHA256, keyed with the client secret, of the endpoint path without the
``/v1`` prefix followed by ``|key=value`` for every request parameter sorted by key (``sig``
itself excluded), as a hex digest.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from hashlib import sha256

from domain.errors import InvalidSignatureError, MissingSignatureError


def signature(endpoint: str, params: Mapping[str, str], secret: str) -> str:
    path = endpoint[3:] if endpoint.startswith("/v1/") else endpoint
    message = path + "".join(f"|{k}={params[k]}" for k in sorted(params) if k != "sig")
    return hmac.new(secret.encode(), message.encode(), sha256).hexdigest()


def verify_signature(endpoint: str, params: Mapping[str, str], secret: str) -> None:
    """Raises the legacy error when ``sig`` is missing or does not match."""
    given = params.get("sig")
    if not given:
        raise MissingSignatureError()
    expected = signature(endpoint, params, secret).encode("ascii")
    if not hmac.compare_digest(expected, given.lower().encode("utf-8")):
        raise InvalidSignatureError()
