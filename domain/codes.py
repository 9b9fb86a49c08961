"""Authorization codes (RFC 6749 §4.1.2): self-contained, signed, short lived, single use.

RFC 6749 leaves a code's format to the server, so a code carries what its exchange needs: the
consent (app, user, scopes, mode, redirect URI, the grant's deauthorization count), its expiry,
the user as the legacy token response shows them, and a 256-bit nonce, as base64url JSON followed
by an HMAC-SHA-256 signature under a key derived from the server key (``<payload>.<mac>``).
Issuing a code therefore writes nothing, and the code is never stored: the log knows it only by
its keyed digest, which the user's grant remembers once the code is exchanged, so that a second
exchange is caught as a replay (the grant, ``domain/grants.py``).

The payload is signed, not encrypted: whoever holds the code can read the user's public profile
fields and the scopes in it, which the client is given at the exchange anyway.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from domain.credentials import SecretHasher
from domain.errors import CodeNotFoundError, CodeRedirectMismatchError
from domain.users import UserInfo

CODE_LIFETIME = timedelta(minutes=10)  # RFC 6749 §4.1.2 recommends at most 10 minutes


@dataclass(frozen=True)
class CodeClaims:
    """What a code says: the consent it stands for, until when, and for whom."""

    app_id: UUID
    user: UserInfo
    redirect_uri: str
    scopes: tuple[str, ...]
    mode: str
    expires_at: datetime
    grant_deauthorizations: int
    nonce: str

    @classmethod
    def issue(
        cls,
        app_id: UUID,
        user: UserInfo,
        redirect_uri: str,
        scopes: tuple[str, ...],
        mode: str,
        now: datetime,
        lifetime: timedelta,
        grant_deauthorizations: int,
        nonce: str,
    ) -> CodeClaims:
        """A new consent's claims; the caller's fresh random nonce makes every code unique."""
        return cls(
            app_id,
            user,
            redirect_uri,
            tuple(scopes),
            mode,
            now + lifetime,
            grant_deauthorizations,
            nonce,
        )

    @property
    def user_id(self) -> UUID:
        return UUID(hex=self.user.id)

    # --- the format ---------------------------------------------------------------------------

    def encode(self, hasher: SecretHasher) -> str:
        """The code: ``<base64url JSON payload>.<signature of the payload>``."""
        body = {
            "app": self.app_id.hex,
            "user": self.user.id,
            "username": self.user.username,
            "full_name": self.user.full_name,
            "profile_picture": self.user.profile_picture,
            "redirect_uri": self.redirect_uri,
            "scopes": list(self.scopes),
            "mode": self.mode,
            "expires_at": self.expires_at.isoformat(),
            "deauthorizations": self.grant_deauthorizations,
            "nonce": self.nonce,
        }
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode("ascii")
        payload = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
        return f"{payload}.{hasher.sign(payload)}"

    @classmethod
    def decode(cls, code: str | None, hasher: SecretHasher) -> CodeClaims:
        """The claims of a code this server signed; anything else is an unknown code."""
        payload, dot, mac = (code or "").partition(".")
        if not dot or not payload or not hasher.verify(payload, mac):
            raise CodeNotFoundError()
        try:
            body: Any = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            expires_at = datetime.fromisoformat(body["expires_at"])
            claims = cls(
                app_id=UUID(hex=body["app"]),
                user=UserInfo(
                    str(body["user"]),
                    str(body["username"]),
                    str(body["full_name"]),
                    str(body["profile_picture"]),
                ),
                redirect_uri=str(body["redirect_uri"]),
                scopes=tuple(str(s) for s in body["scopes"]),
                mode=str(body["mode"]),
                expires_at=expires_at,
                grant_deauthorizations=int(body["deauthorizations"]),
                nonce=str(body["nonce"]),
            )
            UUID(hex=claims.user.id)
        except (ValueError, TypeError, KeyError, binascii.Error):
            raise CodeNotFoundError() from None  # signed by us, yet not a code of this format
        if expires_at.tzinfo is None:
            raise CodeNotFoundError()
        return claims

    # --- the rules of its exchange --------------------------------------------------------------

    def check_redeemable(self, app_id: UUID, redirect_uri: str, now: datetime) -> None:
        """Bound to its client and its exact redirect URI (§4.1.3), and short lived (§4.1.2).

        Reuse is the caller's to find (in the user's grant), because it must write a revocation."""
        if self.app_id != app_id or now >= self.expires_at:
            raise CodeNotFoundError()
        if redirect_uri != self.redirect_uri:
            raise CodeRedirectMismatchError()
