"""Building the redirect back to the client (RFC 6749 §4.1.2, §4.2.2, §4.1.2.1).

Only ever called with a redirect URI the app registered (checked by ``authorize.py`` first).
The code flow's answer goes in the query, after any query the URI already has (§3.1.2: "MUST
retain the query component"); the implicit flow's in the fragment (§4.2.2), which the browser
never sends to a server. ``state`` goes back unchanged whenever the request had it (§4.1.2).
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

# The legacy platform's answer when the user denies (RFC 6749 §4.1.2.1 "access_denied").
DENIED = {
    "error": "access_denied",
    "error_reason": "user_denied",
    "error_description": "The user denied your request",
}


def _with_state(params: dict[str, str], state: str | None) -> dict[str, str]:
    return {**params, "state": state} if state is not None else params


def in_query(uri: str, params: dict[str, str], state: str | None) -> str:
    parts = urlsplit(uri)
    added = urlencode(_with_state(params, state))
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit(parts._replace(query=query))


def in_fragment(uri: str, params: dict[str, str], state: str | None) -> str:
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(fragment=urlencode(_with_state(params, state))))


def answer(uri: str, response_type: str | None, params: dict[str, str], state: str | None) -> str:
    """The redirect for a response type: implicit (``token``) in the fragment, else the query."""
    if response_type == "token":
        return in_fragment(uri, params, state)
    return in_query(uri, params, state)


def denied(uri: str, response_type: str | None, state: str | None) -> str:
    return answer(uri, response_type, DENIED, state)
