"""CSRF tokens of the sign-in and consent forms (RFC 6749 §10.12 asks for CSRF protection of
the authorization endpoint's own forms; ``state`` protects the client's side).

A token is an HMAC, under a key derived from the server key, of the session's nonce and the
signed-in user: another site can neither read it (the cookie is HttpOnly and the page is not
framable) nor make one, and a token shown before sign-in is useless after it.
"""

from __future__ import annotations

import hmac
from hashlib import sha256
from typing import Annotated

from fastapi import Depends

from api.dependencies import SettingsDep
from api.oauth.legacy_errors import CsrfError
from api.oauth.sessions import Session, derive_key
from infrastructure.settings import Settings

FIELD = "csrf_token"


class CsrfTokens:
    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def for_settings(cls, settings: Settings) -> CsrfTokens:
        return cls(derive_key(settings, "oauth-csrf/v1"))

    def token(self, session: Session, username: str | None) -> str:
        message = f"{session.nonce}|{username or ''}".encode()
        return hmac.new(self._key, message, sha256).hexdigest()

    def require(self, session: Session, username: str | None, given: str | None) -> None:
        """Refuses a form whose token is missing or not this session's and user's."""
        expected = self.token(session, username)
        if not given or not hmac.compare_digest(expected.encode(), given.encode("utf-8")):
            raise CsrfError()


def csrf_tokens(settings: SettingsDep) -> CsrfTokens:
    return CsrfTokens.for_settings(settings)


CsrfDep = Annotated[CsrfTokens, Depends(csrf_tokens)]
