"""Checks of free-form input shared by several commands (names, URLs, e-mail addresses)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from domain.errors import InvalidInputError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_TEXT = 2000


def require_text(value: str, field: str, max_length: int = MAX_TEXT) -> str:
    """A non-blank string of bounded length, stripped."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{field} is required")
    if "\x00" in value:
        raise InvalidInputError(f"{field} must not contain NUL characters")
    value = value.strip()
    if len(value) > max_length:
        raise InvalidInputError(f"{field} is longer than {max_length} characters")
    return value


def optional_text(value: str | None, field: str, max_length: int = MAX_TEXT) -> str:
    if value is None or not value.strip():
        return ""
    return require_text(value, field, max_length)


def require_absolute_url(value: str, field: str, *, web_only: bool = True) -> str:
    """An absolute URL with a host: http(s) for pages, any scheme for redirect URIs (native
    apps register custom schemes). Fragments are refused (RFC 6749 §3.1.2)."""
    value = require_text(value, field)
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc:
        raise InvalidInputError(f"{field} must be an absolute URL, got {value!r}")
    if web_only and parts.scheme.lower() not in ("http", "https"):
        raise InvalidInputError(f"{field} must be an http or https URL, got {value!r}")
    if parts.fragment or value.endswith("#"):
        raise InvalidInputError(f"{field} must not contain a fragment, got {value!r}")
    if any(c.isspace() for c in value):
        raise InvalidInputError(f"{field} must not contain white space")
    return value


def optional_url(value: str | None, field: str) -> str:
    if value is None or not value.strip():
        return ""
    return require_absolute_url(value, field)


def optional_email(value: str | None, field: str) -> str:
    if value is None or not value.strip():
        return ""
    value = value.strip()
    if not _EMAIL.match(value) or len(value) > 254:
        raise InvalidInputError(f"{field} is not an e-mail address: {value!r}")
    return value
