"""Who is signed in to the OAuth pages: a signed session cookie, or a trusted SSO header.

The cookie holds no secret, only ``{nonce, username, issued at, password mark}`` signed with
HMAC-SHA-256 under a key derived from the server key, so it cannot be forged or extended. It is
HttpOnly (no script reads it), SameSite=Lax (other sites' forms do not carry it; the redirect
back from the sign-in page does), Secure outside development (a TLS-terminating proxy may hand
the service plain http, so the scheme it sees proves nothing) and in development whenever the
page is served over https, and scoped to ``/oauth``. The nonce binds the CSRF tokens of the
forms shown in the session (``csrf.py``); a new one is drawn at each sign-in, so a session
planted before sign-in is worthless after it. The password mark is a keyed digest of the user's
password hash: setting a new password ends every session signed in with the old one. Signing
out ends the session in every process (``infrastructure.ended_sessions`` keeps a keyed digest
of its nonce until the cookie expires), so a copy of the cookie is worthless after it.

Behind an SSO proxy (``settings.trusted_user_header``), the user named by that header is the
signed-in user and the cookie only carries the CSRF nonce.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from hashlib import sha256
from typing import Annotated

from fastapi import Depends, Request, Response

from api.dependencies import EndedSessionsDep, LedgerDep, SettingsDep
from application.ledger import Ledger
from domain.errors import UserNotFoundError
from infrastructure.ended_sessions import EndedSessions
from infrastructure.settings import Settings, secret_key_bytes

COOKIE_NAME = "ledger_oauth_session"
COOKIE_PATH = "/oauth"
SESSION_LIFETIME = 8 * 3600  # seconds: a working day, then sign in again
MAX_COOKIE_CHARS = 1024


def derive_key(settings: Settings, purpose: str) -> bytes:
    """A key for one purpose, derived from the server key (never the server key itself)."""
    return hmac.new(secret_key_bytes(settings), f"token-ledger/{purpose}".encode(), sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Session:
    nonce: str
    username: str | None = None
    issued_at: int = 0
    password_mark: str | None = None

    @classmethod
    def fresh(cls, username: str | None = None, password_mark: str | None = None) -> Session:
        return cls(secrets.token_urlsafe(16), username, int(time.time()), password_mark)


class SessionCodec:
    """Signs and verifies session cookies, and knows whether they may travel over plain http
    (only in development)."""

    def __init__(self, key: bytes, *, secure_only: bool = True) -> None:
        self._key = key
        self.secure_only = secure_only

    @classmethod
    def for_settings(cls, settings: Settings) -> SessionCodec:
        return cls(
            derive_key(settings, "oauth-session/v1"), secure_only=not settings.is_development
        )

    def secure(self, request: Request) -> bool:
        """The cookie's Secure attribute for this request."""
        return self.secure_only or request.url.scheme == "https"

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("ascii"), sha256).digest())

    def dumps(self, session: Session) -> str:
        data = {
            "n": session.nonce,
            "u": session.username,
            "t": session.issued_at,
            "p": session.password_mark,
        }
        payload = _b64(json.dumps(data, separators=(",", ":")).encode("utf-8"))
        return f"{payload}.{self._sign(payload)}"

    def loads(self, value: str | None, now: float | None = None) -> Session | None:
        """The session a cookie carries, or None if it is absent, forged, malformed or old."""
        if not value or len(value) > MAX_COOKIE_CHARS or value.count(".") != 1:
            return None
        payload, signature = value.split(".")
        try:
            expected = self._sign(payload)
        except UnicodeEncodeError:
            return None
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            return None
        try:
            data = json.loads(_unb64(payload))
            session = Session(str(data["n"]), data["u"], int(data["t"]), data["p"])
        except (binascii.Error, ValueError, KeyError, TypeError):
            return None
        if not all(isinstance(v, str | None) for v in (session.username, session.password_mark)):
            return None
        current = time.time() if now is None else now
        if not 0 <= current - session.issued_at < SESSION_LIFETIME:
            return None
        return session

    def password_mark(self, password_hash: str) -> str:
        digest = hmac.new(self._key, f"password:{password_hash}".encode(), sha256).digest()
        return _b64(digest[:16])


def cookie_path(request: Request) -> str:
    root: str = request.scope.get("root_path", "")
    return root.rstrip("/") + COOKIE_PATH


def set_session_cookie(
    response: Response, request: Request, codec: SessionCodec, session: Session
) -> None:
    response.set_cookie(
        COOKIE_NAME,
        codec.dumps(session),
        max_age=SESSION_LIFETIME,
        path=cookie_path(request),
        httponly=True,
        samesite="lax",
        secure=codec.secure(request),
    )


def clear_session_cookie(response: Response, request: Request, codec: SessionCodec) -> None:
    response.delete_cookie(
        COOKIE_NAME,
        path=cookie_path(request),
        httponly=True,
        samesite="lax",
        secure=codec.secure(request),
    )


@dataclass(frozen=True)
class Visitor:
    """The person at the browser: their session (new if they had none) and who they are."""

    session: Session
    username: str | None
    via_sso: bool
    needs_cookie: bool

    def keep_session(self, response: Response, request: Request, codec: SessionCodec) -> None:
        """Sends the session cookie when the browser does not hold this session yet."""
        if self.needs_cookie:
            set_session_cookie(response, request, codec, self.session)


def trusted_user(request: Request, settings: Settings) -> str | None:
    if not settings.trusted_user_header:
        return None
    return request.headers.get(settings.trusted_user_header, "").strip() or None


def _still_valid(
    session: Session, ledger: Ledger, codec: SessionCodec, ended: EndedSessions
) -> bool:
    """A signed-in session ends when it is signed out, or when its user's password changes."""
    if session.username is None:
        return True
    if ended.has_ended(session.nonce):
        return False
    try:
        user = ledger.user(session.username)
    except UserNotFoundError:
        return False
    return bool(user.password_hash) and hmac.compare_digest(
        codec.password_mark(user.password_hash), session.password_mark or ""
    )


def session_codec(settings: SettingsDep) -> SessionCodec:
    return SessionCodec.for_settings(settings)


CodecDep = Annotated[SessionCodec, Depends(session_codec)]


def end_session(visitor: Visitor, ended: EndedSessions) -> None:
    """Signs the visitor's session out in every process, until its cookie would expire."""
    if visitor.username is not None and not visitor.via_sso:
        session = visitor.session
        ended.end(session.nonce, session.issued_at + SESSION_LIFETIME, int(time.time()))


def current_visitor(
    request: Request,
    settings: SettingsDep,
    ledger: LedgerDep,
    codec: CodecDep,
    ended: EndedSessionsDep,
) -> Visitor:
    """Dependency: the visitor, from the SSO header when one is trusted, else the cookie."""
    session = codec.loads(request.cookies.get(COOKIE_NAME))
    if session is not None and not _still_valid(session, ledger, codec, ended):
        session = None
    needs_cookie = session is None
    session = session or Session.fresh()
    if settings.trusted_user_header:
        return Visitor(session, trusted_user(request, settings), True, needs_cookie)
    return Visitor(session, session.username, False, needs_cookie)


VisitorDep = Annotated[Visitor, Depends(current_visitor)]
