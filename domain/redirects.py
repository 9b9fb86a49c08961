"""Redirect URI matching, by the legacy platform's rules.

Scheme and host (port included) must equal a registered URI's. The path must equal the
registered path, or be the registered path followed by one trailing slash (registered
``http://yoursite.com/callback``, requested ``http://yoursite.com/callback/?type=mobile``
matches; ``http://yoursite.com/`` does not). The request may add query parameters; when the
registered URI has a query, the request's query must begin with it, in the same order.
(RFC 6749 §3.1.2.3 allows this comparison to be the server's own.)

Where the legacy platform's documentation is silent the stricter reading is taken: only one
slash may be added (``/callback//`` does not match ``/callback``), a slash is never taken away
(registered ``/callback/``, requested ``/callback``, does not match), and a registered path
that ends in a slash matches only itself. An empty path is the path ``/`` (RFC 3986 §6.2.3):
``https://app.example`` and ``https://app.example/`` match each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit


def _path(path: str) -> str:
    return path or "/"


def path_matches(registered: str, requested: str) -> bool:
    """The registered path itself, or (if it does not end in one) it with one slash added."""
    registered, requested = _path(registered), _path(requested)
    if requested == registered:
        return True
    return not registered.endswith("/") and requested == registered + "/"


def redirect_uri_matches(registered: str, requested: str) -> bool:
    reg = urlsplit(registered)
    req = urlsplit(requested)
    if req.fragment or "#" in requested:
        return False
    if (reg.scheme.lower(), reg.netloc.lower()) != (req.scheme.lower(), req.netloc.lower()):
        return False
    if not path_matches(reg.path, req.path):
        return False
    if not reg.query:
        return True
    return req.query == reg.query or req.query.startswith(reg.query + "&")


def find_matching(registered: Iterable[str], requested: str) -> str | None:
    """The first registered URI the request matches, or None."""
    return next((uri for uri in registered if redirect_uri_matches(uri, requested)), None)
