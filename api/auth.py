"""Who is calling: API keys for the management and decision APIs (RFC 6750 §2.1 bearer header, or
``X-API-Key``), client credentials for the RFC 7009 / RFC 7662 token endpoints (RFC 6749 §2.3.1).

Every key-protected endpoint declares its capability with ``allow(...)``. The OpenAPI document
lists, as the security requirement's scopes, the key roles that may call it (OpenAPI 3.1 allows
role names there for non-OAuth schemes), so clients and tests can see the whole role matrix.
A missing, unknown or revoked key is 401, a key of the wrong role 403; neither writes anything.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import unquote_plus

from fastapi import Depends, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBasic, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.dependencies import LedgerDep
from api.http_basic import MalformedBasicError, basic_credentials
from application.ledger import Ledger
from domain.actors import Actor
from domain.api_keys import ApiKey, Capability, roles_allowed
from domain.errors import InvalidInputError, MalformedClientCredentialsError

API_KEY_HEADER = "X-API-Key"

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKeyBearer",
    description="An API key as a bearer credential: `Authorization: Bearer <key>`.",
)
header_scheme = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    scheme_name="ApiKeyHeader",
    description="An API key in the `X-API-Key` header.",
)


class ClientBasic(HTTPBasic):
    """HTTP Basic client authentication (RFC 6749 §2.3.1). Unlike FastAPI's, a malformed header
    is the client's failed authentication (401 ``invalid_client``, RFC 6749 §5.2), not an
    exception of the security scheme."""

    async def __call__(self, request: Request) -> tuple[str, str] | None:  # type: ignore[override]
        try:
            credentials = basic_credentials(request.headers.get("Authorization"))
        except MalformedBasicError:
            raise MalformedClientCredentialsError from None
        if credentials is None:
            return None
        client_id, secret = credentials
        # §2.3.1: the id and secret are form-urlencoded before Basic encoding.
        return unquote_plus(client_id), unquote_plus(secret)


client_basic_scheme = ClientBasic(
    auto_error=False,
    scheme_name="ClientBasic",
    description="Client credentials: HTTP Basic with client_id and client_secret.",
)


@dataclass(frozen=True)
class Caller:
    """The authenticated key behind a request."""

    key: ApiKey

    @property
    def actor(self) -> Actor:
        """Who the key's writes are recorded as (refused for read-only roles)."""
        return self.key.actor

    @property
    def principal(self) -> str:
        return self.key.principal


def presented_api_key(
    credentials: HTTPAuthorizationCredentials | None, header: str | None
) -> str | None:
    if credentials is not None and credentials.credentials:
        return credentials.credentials
    return header or None


BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
HeaderDep = Annotated[str | None, Depends(header_scheme)]


def authenticate(ledger: Ledger, presented: str | None, capability: Capability) -> Caller:
    """The caller, if the presented key is active and its role may use the capability (I/O:
    the key is read from the store)."""
    key = ledger.authenticate_api_key(presented)
    key.require(capability)
    return Caller(key)


def allow(capability: Capability) -> Any:
    """A dependency that answers the calling key if its role may use the capability."""

    def authenticate_caller(ledger: LedgerDep, credentials: BearerDep, header: HeaderDep) -> Caller:
        return authenticate(ledger, presented_api_key(credentials, header), capability)

    authenticate_caller.__name__ = f"api_key_for_{capability.value}"
    return Security(authenticate_caller, scopes=[role.value for role in roles_allowed(capability)])


def allow_if_presented(capability: Capability) -> Any:
    """Like ``allow``, but answers None when the request carries no API key at all (the
    endpoint then authenticates the caller another way)."""

    def authenticate_caller(
        ledger: LedgerDep, credentials: BearerDep, header: HeaderDep
    ) -> Caller | None:
        presented = presented_api_key(credentials, header)
        if presented is None:
            return None
        return authenticate(ledger, presented, capability)

    authenticate_caller.__name__ = f"optional_api_key_for_{capability.value}"
    return Security(authenticate_caller, scopes=[role.value for role in roles_allowed(capability)])


@dataclass(frozen=True)
class PresentedKey:
    """The API key a request presents, not yet authenticated, and what the endpoint needs it
    for. Hot endpoints authenticate it in the same worker-thread call as their own read, one
    thread hand-off instead of two."""

    key: str | None = field(repr=False)
    capability: Capability

    def authenticate(self, ledger: Ledger) -> Caller:
        """I/O: call from a worker thread."""
        return authenticate(ledger, self.key, self.capability)


class _Presented:
    """The dependency behind ``presented``: no I/O, so ``async``."""

    def __init__(self, capability: Capability) -> None:
        self.capability = capability

    async def __call__(self, credentials: BearerDep, header: HeaderDep) -> PresentedKey:
        return PresentedKey(presented_api_key(credentials, header), self.capability)


def presented(capability: Capability) -> Any:
    """Like ``allow``, and documented alike, but answers the presented key unauthenticated: the
    endpoint must call ``PresentedKey.authenticate`` before anything else, and be routed with
    ``AuthenticatedInEndpoint``."""
    return Security(
        _Presented(capability), scopes=[role.value for role in roles_allowed(capability)]
    )


class AuthenticatedInEndpoint(APIRoute):
    """Routes whose endpoint authenticates a ``presented`` key itself. Invalid input is refused
    (422) before an endpoint runs, so for those the key is authenticated first here: a missing,
    unknown or revoked key is still 401, and a key of the wrong role 403, whatever the input,
    as with ``allow``. A body that is not JSON at all stays 400, as everywhere."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        capabilities = [
            d.call.capability for d in self.dependant.dependencies if isinstance(d.call, _Presented)
        ]
        if not capabilities:
            return handle
        capability = capabilities[0]

        async def handle_authenticating_first(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError as exc:
                if not any(e.get("type") == "json_invalid" for e in exc.errors()):
                    key = presented_api_key(
                        await bearer_scheme(request), await header_scheme(request)
                    )
                    await run_in_threadpool(authenticate, request.app.state.ledger, key, capability)
                raise

        return handle_authenticating_first


Administrator = Annotated[Caller, allow(Capability.ADMINISTER)]
AppManager = Annotated[Caller, allow(Capability.MANAGE_APPS)]
Reviewer = Annotated[Caller, allow(Capability.REVIEW)]
Reader = Annotated[Caller, allow(Capability.READ)]
Decider = Annotated[Caller, allow(Capability.DECIDE)]
Explainer = Annotated[Caller, allow(Capability.EXPLAIN)]
Auditor = Annotated[Caller, allow(Capability.AUDIT)]
PresentedToDecide = Annotated[PresentedKey, presented(Capability.DECIDE)]
PresentedToExplain = Annotated[PresentedKey, presented(Capability.EXPLAIN)]
ClientBasicDep = Annotated[tuple[str, str] | None, Depends(client_basic_scheme)]


def client_credentials(
    form: dict[str, str], basic: tuple[str, str] | None
) -> tuple[str | None, str | None]:
    """The client's id and secret, from HTTP Basic or the form (RFC 6749 §2.3.1); a client
    "MUST NOT use more than one authentication method in each request" (§2.3)."""
    if basic is None:
        return form.get("client_id"), form.get("client_secret")
    basic_id, basic_secret = basic
    if form.get("client_secret"):
        raise InvalidInputError(
            "Authenticate the client one way: HTTP Basic or client_secret in the form, not both"
        )
    if form.get("client_id") and form["client_id"] != basic_id:
        raise InvalidInputError(
            "The client_id in the form is not the one in the Authorization header"
        )
    return basic_id, basic_secret
