"""Who the platform user calling ``/v1/me`` is: her password over HTTP Basic (RFC 7617), or
the signed session cookie of the OAuth sign-in pages.

API keys belong to the platform's staff and machines; a platform user acts for herself with the
password she signs in to the OAuth pages with, and her writes are recorded as ``Actor.user``.
The password is checked as the sign-in page checks it (``application.sign_in``): a wrong
password and an unknown username cost the same argon2id verification and get the same 401, which
names the Basic realm (RFC 7617 §2), and count alike towards the username's lock (then 429 with
``Retry-After``, the password unchecked). The cookie is verified by ``api.oauth.sessions`` (signed,
at most a working day old, ended by sign-out or a password change).

Two refusals are deliberate. Behind an SSO proxy password sign-in is off here as on the sign-in
page, and the proxy's user header is not accepted either: the proxy adds it to every request,
cross-site ones included, and these writes carry no CSRF token. For the same reason a browser's
cross-site request (``Sec-Fetch-Site: cross-site``) is refused: a browser resends remembered
Basic credentials to any site's form.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyCookie, HTTPBasic, HTTPBasicCredentials
from starlette.requests import HTTPConnection

from api.dependencies import LedgerDep, SettingsDep, SignInThrottleDep
from api.errors import LEDGER_ERROR_RESPONSES, THROTTLED_RESPONSE
from api.http_basic import MALFORMED, MalformedBasicError, basic_credentials
from api.oauth.sessions import COOKIE_NAME, VisitorDep
from api.oauth.signin import WRONG_CREDENTIALS
from application.sign_in import sign_in
from domain.actors import Actor
from domain.errors import SignInThrottledError
from infrastructure.passwords import ARGON2

logger = logging.getLogger(__name__)

REALM = "ledger users"
CHALLENGE = {"WWW-Authenticate": f'Basic realm="{REALM}"'}
NO_CREDENTIALS = (
    "Authenticate as a platform user: HTTP Basic with your username and password, "
    "or the OAuth pages' session cookie"
)
SSO_ONLY = "Password sign-in is turned off: sign in through the single sign-on"
CROSS_SITE = "A cross-site browser request may not act for a platform user"


def unauthorized(message: str) -> HTTPException:
    """A 401 that asks for the user's Basic credentials (``api.errors`` writes the body)."""
    return HTTPException(status_code=401, detail=message, headers=CHALLENGE)


class UserBasic(HTTPBasic):
    """HTTP Basic with UTF-8 credentials (RFC 7617 §2.1). None presented is None, so the
    session cookie may be tried; a malformed header is a 401 with the same challenge."""

    async def __call__(  # type: ignore[override]
        self, request: HTTPConnection
    ) -> HTTPBasicCredentials | None:
        try:
            credentials = basic_credentials(request.headers.get("Authorization"))
        except MalformedBasicError:
            raise unauthorized(MALFORMED) from None
        if credentials is None:
            return None
        username, password = credentials
        return HTTPBasicCredentials(username=username, password=password)


basic_scheme = UserBasic(
    auto_error=False,
    scheme_name="UserBasic",
    realm=REALM,
    description="A platform user's username and password (the OAuth sign-in page's).",
)
session_scheme = APIKeyCookie(
    name=COOKIE_NAME,
    auto_error=False,
    scheme_name="UserSession",
    description="The signed session cookie the OAuth sign-in page sets.",
)

BasicDep = Annotated[HTTPBasicCredentials | None, Security(basic_scheme)]
SessionCookieDep = Annotated[str | None, Security(session_scheme)]


@dataclass(frozen=True)
class PlatformUser:
    """The platform user behind a request, by her username as the ledger spells it."""

    username: str

    @property
    def actor(self) -> Actor:
        return Actor.user(self.username)


def authenticate_user(
    request: Request,
    ledger: LedgerDep,
    settings: SettingsDep,
    throttle: SignInThrottleDep,
    visitor: VisitorDep,
    basic: BasicDep,
    _cookie: SessionCookieDep,
) -> PlatformUser:
    """Basic credentials when presented (a wrong pair is not retried with the cookie), else
    the OAuth pages' session. Writes nothing to the ledger."""
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        raise HTTPException(status_code=403, detail=CROSS_SITE)
    if basic is not None:
        if settings.trusted_user_header:
            raise unauthorized(SSO_ONLY)
        try:
            user = sign_in(ledger, throttle, ARGON2, basic.username, basic.password)
        except SignInThrottledError:
            logger.info("platform user authentication throttled")
            raise
        if user is None:
            logger.info("platform user authentication refused")
            raise unauthorized(WRONG_CREDENTIALS)
        return PlatformUser(user.username)
    if visitor.username is not None and not visitor.via_sso:
        return PlatformUser(visitor.username)
    raise unauthorized(NO_CREDENTIALS)


CurrentUser = Annotated[PlatformUser, Depends(authenticate_user)]

# The ledger's error responses, with 401 and 403 as a platform user meets them, and 429 for
# a username with too many wrong passwords lately.
USER_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    **LEDGER_ERROR_RESPONSES,
    **THROTTLED_RESPONSE,
    401: {
        **LEDGER_ERROR_RESPONSES[401],
        "description": "No credentials, a wrong username or password, or a session that has "
        "ended (with `WWW-Authenticate: Basic`)",
        "headers": {
            "WWW-Authenticate": {
                "description": f'Basic realm="{REALM}"',
                "schema": {"type": "string"},
            }
        },
    },
    403: {
        **LEDGER_ERROR_RESPONSES[403],
        "description": "Not the user's to do (another user's token), or a cross-site "
        "browser request",
    },
}
