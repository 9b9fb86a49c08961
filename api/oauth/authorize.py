"""The authorization endpoint (RFC 6749 §3.1, §4.1.1, §4.2.1) as the legacy platform ran it.

``GET /oauth/authorize/?client_id&redirect_uri&response_type=code|token&scope&state`` checks the
request, then shows the sign-in page (nobody signed in) or the consent page. The consent form
posts back here with a CSRF token; Allow calls ``Ledger.authorize`` and redirects with ``code``
(query) or ``access_token`` (fragment), Deny redirects with ``error=access_denied``.

Errors are never redirected. A bad client or redirect URI must not be (§4.1.2.1, §10.15: never
redirect to an unverified URI). For every other error the legacy platform answered the browser
with its error body and status (a user who is not a sandbox user "gets HTTP 403
OAuthForbiddenException"), and a redirect cannot carry a status, so they are answered the same
way here. Only the user's own denial goes back to the client, as the legacy platform did.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.dependencies import LedgerDep, RuntimeDep
from api.forms import FormDep, Param, QueryDep, documented_form, documented_query
from api.oauth import redirects
from api.oauth.csrf import FIELD as CSRF_FIELD
from api.oauth.csrf import CsrfDep
from api.oauth.legacy_errors import (
    LEGACY_ERROR_RESPONSES,
    NO_STORE,
    BadFormError,
    LegacyErrorRoute,
    NotSignedInError,
)
from api.oauth.pages import PAGE_HEADERS, ScopeLine, consent_page, signin_page
from api.oauth.read_your_writes import wait_for_read_models
from api.oauth.sessions import CodecDep, VisitorDep
from application.ledger import Ledger
from application.oauth import RESPONSE_TYPES
from application.results import CheckedAuthorizationRequest

router = APIRouter(route_class=LegacyErrorRoute, tags=["oauth"], responses=LEGACY_ERROR_RESPONSES)

PATH = "/oauth/authorize"
REQUEST_FIELDS = ("client_id", "redirect_uri", "response_type", "scope", "state")
REQUEST_PARAMS = (
    Param("client_id", "The app's client id", required=True),
    Param("redirect_uri", "One of the app's registered redirect URIs", required=True),
    Param(
        "response_type",
        "code (RFC 6749 §4.1.1) or token (§4.2.1)",
        required=True,
        values=RESPONSE_TYPES,
    ),
    Param("scope", "Space-separated scopes; omitted means basic"),
    Param("state", "Returned to the client unchanged"),
)
SSO_SIGN_IN_NEEDED = (
    "You are not signed in: open this page through your organisation's single sign-on"
)


@dataclass(frozen=True)
class AuthorizationRequest:
    """The parameters of an authorization request; an absent one is None (an absent scope
    means ``basic``, an empty one is invalid, so the two must not be confused)."""

    client_id: str | None
    redirect_uri: str | None
    response_type: str | None
    scope: str | None
    state: str | None

    @classmethod
    def of(cls, params: dict[str, str]) -> AuthorizationRequest:
        return cls(*(params.get(name) for name in REQUEST_FIELDS))

    def fields(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in REQUEST_FIELDS}


def check_request(ledger: Ledger, request: AuthorizationRequest) -> CheckedAuthorizationRequest:
    return ledger.check_authorization_request(
        request.client_id, request.redirect_uri, request.response_type, request.scope
    )


def _path(request: Request, path: str) -> str:
    root: str = request.scope.get("root_path", "")
    return root.rstrip("/") + path


def _host_of(uri: str) -> str:
    parts = urlsplit(uri)
    return parts.netloc or f"{parts.scheme}:"


@router.get(
    PATH,
    response_class=HTMLResponse,
    summary="Authorization request (sign-in, consent)",
    openapi_extra=documented_query(*REQUEST_PARAMS),
)
@router.get(PATH + "/", response_class=HTMLResponse, include_in_schema=False)
def authorization_page(
    request: Request,
    params: QueryDep,
    ledger: LedgerDep,
    visitor: VisitorDep,
    codec: CodecDep,
    csrf: CsrfDep,
) -> Response:
    request_fields = AuthorizationRequest.of(params)
    checked = check_request(ledger, request_fields)
    next_url = _path(request, PATH) + (f"?{request.url.query}" if request.url.query else "")
    if visitor.username is None:
        if visitor.via_sso:
            raise NotSignedInError(SSO_SIGN_IN_NEEDED)
        page = signin_page(
            action=_path(request, "/oauth/signin"),
            csrf_token=csrf.token(visitor.session, None),
            next_url=next_url,
            app_name=checked.app.name,
        )
    else:
        user = ledger.check_may_authorize(checked, visitor.username)
        page = consent_page(
            action=_path(request, PATH),
            csrf_token=csrf.token(visitor.session, visitor.username),
            app_name=checked.app.name,
            app_description=checked.app.description,
            website=checked.app.website,
            redirect_host=_host_of(checked.redirect_uri),
            mode=checked.mode.value,
            scopes=[ScopeLine(name, text) for name, text in checked.scope_descriptions],
            username=user.username,
            request_fields=request_fields.fields(),
            signout_action=None if visitor.via_sso else _path(request, "/oauth/signout"),
            signout_next=next_url,
        )
    response = HTMLResponse(page, headers=PAGE_HEADERS)
    visitor.keep_session(response, request, codec)
    return response


@router.post(
    PATH,
    response_class=RedirectResponse,
    status_code=303,
    summary="The user's decision on the consent page",
    openapi_extra=documented_form(
        Param(CSRF_FIELD, "The consent page's CSRF token", required=True),
        Param("decision", "The user's choice", required=True, values=("allow", "deny")),
        *REQUEST_PARAMS,
    ),
)
@router.post(PATH + "/", response_class=RedirectResponse, status_code=303, include_in_schema=False)
def decide(
    form: FormDep,
    ledger: LedgerDep,
    runtime: RuntimeDep,
    visitor: VisitorDep,
    csrf: CsrfDep,
) -> Response:
    csrf.require(visitor.session, visitor.username, form.get(CSRF_FIELD))
    if visitor.username is None:
        raise NotSignedInError(SSO_SIGN_IN_NEEDED if visitor.via_sso else None)
    request = AuthorizationRequest.of(form)
    decision = form.get("decision")
    if decision == "deny":
        _, redirect_uri = ledger.authorization_redirect(request.client_id, request.redirect_uri)
        location = redirects.denied(redirect_uri, request.response_type, request.state)
    elif decision == "allow":
        username = ledger.check_may_authorize(
            check_request(ledger, request), visitor.username
        ).username
        result = ledger.authorize(
            client_id=request.client_id,
            username=username,
            redirect_uri=request.redirect_uri,
            scope=request.scope,
            response_type=request.response_type or "",
        )
        if result.access_token is not None:  # implicit flow (RFC 6749 §4.2.2)
            wait_for_read_models(runtime, result.position)
            answer = {"access_token": result.access_token}
        else:
            answer = {"code": result.code or ""}
        location = redirects.answer(
            result.redirect_uri, request.response_type, answer, request.state
        )
    else:
        raise BadFormError("The decision must be allow or deny")
    # 303: the browser follows with a GET and never re-posts the form (RFC 9700 §4.12).
    return RedirectResponse(
        location, status_code=303, headers={**NO_STORE, "Referrer-Policy": "no-referrer"}
    )
