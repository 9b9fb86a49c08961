"""Signing in to (and out of) the OAuth pages with a platform user's password.

The password is checked by ``application.sign_in`` against the argon2id hash the ledger stores;
an unknown username costs the same hash verification, so timing does not tell which usernames exist,
and the page says only that the pair was wrong. Guessing is throttled (``domain.sign_in_attempts``):
every attempt is counted before its password is checked, and after too many wrong passwords for a
username, registered or not, its sign-in is refused for a while without checking the password
(429, here and on ``/v1/me``). Neither the password nor the username
is logged. After sign-in the browser goes back to the authorization request it came from; ``next``
may only name that endpoint on this site (no open redirect).

Behind an SSO proxy (``settings.trusted_user_header``) there is no password form, and posting
one is refused.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit, urlunsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.dependencies import EndedSessionsDep, LedgerDep, SettingsDep, SignInThrottleDep
from api.errors import RETRY_AFTER_HEADER
from api.forms import FormDep, Param, documented_form
from api.oauth.authorize import PATH as AUTHORIZE_PATH
from api.oauth.csrf import FIELD as CSRF_FIELD
from api.oauth.csrf import CsrfDep
from api.oauth.legacy_errors import (
    LEGACY_ERROR_RESPONSES,
    BadFormError,
    LegacyErrorRoute,
    OAuthPageError,
)
from api.oauth.pages import PAGE_HEADERS, signin_page
from api.oauth.sessions import (
    CodecDep,
    Session,
    VisitorDep,
    clear_session_cookie,
    end_session,
    set_session_cookie,
)
from application import sign_in as password_sign_in
from application.ledger import Ledger
from domain.errors import LedgerError, SignInThrottledError
from infrastructure.passwords import ARGON2

logger = logging.getLogger(__name__)

router = APIRouter(route_class=LegacyErrorRoute, tags=["oauth"], responses=LEGACY_ERROR_RESPONSES)

SIGNIN_PATH = "/oauth/signin"
SIGNOUT_PATH = "/oauth/signout"
WRONG_CREDENTIALS = "The username or password is incorrect."


class PasswordSignInDisabledError(OAuthPageError):
    """Raised when a password form is posted to a service whose users sign in through SSO."""

    def __init__(self) -> None:
        super().__init__("Password sign-in is turned off: sign in through the single sign-on")


def safe_next(request: Request, value: str | None) -> str:
    """``next`` as a path on this site to the authorization endpoint, or refused."""
    root = request.scope.get("root_path", "").rstrip("/")
    parts = urlsplit(value or "")
    allowed = (root + AUTHORIZE_PATH, root + AUTHORIZE_PATH + "/")
    if parts.scheme or parts.netloc or parts.fragment or parts.path not in allowed:
        raise BadFormError("After sign-in, only the authorization page can be returned to")
    return urlunsplit(("", "", parts.path, parts.query, ""))


def _app_name(ledger: Ledger, next_url: str) -> str:
    client_id = parse_qs(urlsplit(next_url).query).get("client_id", [""])[0]
    try:
        return ledger.app(client_id).name
    except LedgerError:
        return "the app"


def _signin_again(
    request: Request,
    ledger: Ledger,
    visitor: VisitorDep,
    codec: CodecDep,
    csrf: CsrfDep,
    next_url: str,
    username: str,
    error: str,
    *,
    status: int,
) -> Response:
    """The sign-in page once more, saying why the last attempt did not sign in."""
    page = signin_page(
        action=request.scope.get("root_path", "").rstrip("/") + SIGNIN_PATH,
        csrf_token=csrf.token(visitor.session, None),
        next_url=next_url,
        app_name=_app_name(ledger, next_url),
        username=username,
        error=error,
    )
    response = HTMLResponse(page, status_code=status, headers=PAGE_HEADERS)
    visitor.keep_session(response, request, codec)
    return response


@router.post(
    SIGNIN_PATH,
    response_class=HTMLResponse,
    summary="Sign in with a password",
    responses={
        303: {"description": "Signed in: back to the authorization page"},
        429: {
            "description": "Too many wrong passwords for this username lately: "
            "the sign-in page again, saying how long to wait",
            "content": {"text/html": {"schema": {"type": "string"}}},
            "headers": RETRY_AFTER_HEADER,
        },
    },
    openapi_extra=documented_form(
        Param(CSRF_FIELD, "The sign-in page's CSRF token", required=True),
        Param("next", "The authorization request to go back to", required=True),
        Param("username", "The platform user's username", required=True),
        Param("password", "The user's password", required=True),
    ),
)
def sign_in(
    request: Request,
    form: FormDep,
    ledger: LedgerDep,
    settings: SettingsDep,
    throttle: SignInThrottleDep,
    visitor: VisitorDep,
    codec: CodecDep,
    csrf: CsrfDep,
) -> Response:
    if settings.trusted_user_header:
        raise PasswordSignInDisabledError()
    csrf.require(visitor.session, None, form.get(CSRF_FIELD))
    next_url = safe_next(request, form.get("next"))
    username = form.get("username", "").strip()
    try:
        user = password_sign_in.sign_in(
            ledger, throttle, ARGON2, username, form.get("password", "")
        )
    except SignInThrottledError as error:
        logger.info("oauth sign-in throttled")
        response = _signin_again(
            request, ledger, visitor, codec, csrf, next_url, username, error.message, status=429
        )
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    if user is None:
        logger.info("oauth sign-in refused")
        return _signin_again(
            request, ledger, visitor, codec, csrf, next_url, username, WRONG_CREDENTIALS, status=200
        )
    # A new nonce: whatever session the browser had before (perhaps planted) ends here.
    session = Session.fresh(user.username, codec.password_mark(user.password_hash))
    response = RedirectResponse(next_url, status_code=303, headers=PAGE_HEADERS)
    set_session_cookie(response, request, codec, session)
    return response


@router.post(
    SIGNOUT_PATH,
    response_class=HTMLResponse,
    summary="Sign out",
    description="Ends the session on the server too: a copy of its cookie no longer "
    "signs anyone in.",
    responses={303: {"description": "Signed out: back to the page named by next"}},
    openapi_extra=documented_form(
        Param(CSRF_FIELD, "The consent page's CSRF token", required=True),
        Param("next", "The authorization request to go back to"),
    ),
)
def sign_out(
    request: Request,
    form: FormDep,
    visitor: VisitorDep,
    codec: CodecDep,
    csrf: CsrfDep,
    ended: EndedSessionsDep,
) -> Response:
    csrf.require(visitor.session, visitor.username, form.get(CSRF_FIELD))
    if form.get("next"):
        response: Response = RedirectResponse(
            safe_next(request, form["next"]), status_code=303, headers=PAGE_HEADERS
        )
    else:
        response = HTMLResponse(
            "<!doctype html><title>Signed out</title><p>You are signed out.</p>",
            headers=PAGE_HEADERS,
        )
    end_session(visitor, ended)  # after a bad ``next`` is refused: that changes nothing
    clear_session_cookie(response, request, codec)
    return response
