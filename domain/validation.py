"""Checks of free-form input shared by several commands (names, URLs, e-mail addresses)."""

from __future__ import annotations

import re
import unicodedata
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


# Characters that change how the text around them is shown, or are not shown at all: controls
# (Cc), format characters (Cf: the bidirectional overrides and isolates U+202A-U+202E and
# U+2066-U+2069, the marks U+200E/U+200F, zero-width spaces and joiners, U+FEFF...), line and
# paragraph separators, surrogates and private-use characters. In a name shown to users (the
# consent page) they let one app pass for another.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
_LINE_BREAKS = frozenset("\n\r\t")


def hidden_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character of ``value`` that is invisible or changes the text's direction
    (see ``_HIDDEN_CATEGORIES``), or None; ``multiline`` text may hold line breaks and tabs."""
    for char in value:
        if unicodedata.category(char) in _HIDDEN_CATEGORIES and not (
            multiline and char in _LINE_BREAKS
        ):
            return char
    return None


def shown_safely(value: str) -> str:
    """``value`` with each hidden character (see ``_HIDDEN_CATEGORIES``) replaced by U+FFFD, so
    a name recorded before they were refused is shown as what it is."""
    return "".join(
        "\ufffd" if unicodedata.category(char) in _HIDDEN_CATEGORIES else char for char in value
    )


def require_display_text(
    value: str, field: str, max_length: int = MAX_TEXT, *, multiline: bool = False
) -> str:
    """``require_text`` for text shown to users as the app's own (its name, description): no
    invisible or direction-changing characters, so what a user reads is what was registered."""
    value = require_text(value, field, max_length)
    found = hidden_character(value, multiline=multiline)
    if found is not None:
        raise InvalidInputError(
            f"{field} must not contain invisible, control or text-direction characters "
            f"(found U+{ord(found):04X} {unicodedata.name(found, 'control character')})"
        )
    return value


def optional_display_text(value: str | None, field: str, max_length: int = MAX_TEXT) -> str:
    if value is None or not value.strip():
        return ""
    return require_display_text(value, field, max_length)


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
