"""Redirect URI matching, by the legacy platform's rules.

Scheme, host and path must equal a registered URI's exactly (trailing slash included). The request
may add query parameters; when the registered URI has a query, the request's query must begin with
it, in the same order. (RFC 6749 §3.1.2.3 allows this comparison to be the server's own.)
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit


def redirect_uri_matches(registered: str, requested: str) -> bool:
    reg = urlsplit(registered)
    req = urlsplit(requested)
    if req.fragment or "#" in requested:
        return False
    if (reg.scheme.lower(), reg.netloc.lower(), reg.path) != (
        req.scheme.lower(),
        req.netloc.lower(),
        req.path,
    ):
        return False
    if not reg.query:
        return True
    return req.query == reg.query or req.query.startswith(reg.query + "&")


def find_matching(registered: Iterable[str], requested: str) -> str | None:
    """The first registered URI the request matches, or None."""
    return next((uri for uri in registered if redirect_uri_matches(uri, requested)), None)
