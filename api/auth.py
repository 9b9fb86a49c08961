"""Who is calling: API keys for the management and decision APIs (RFC 6750 §2.1 bearer header, or
``X-API-Key``), client credentials for the RFC 7009 / RFC 7662 token endpoints (RFC 6749 §2.3.1).

Every key-protected endpoint declares its capability with ``allow(...)``. The OpenAPI document
lists, as the security requirement's scopes, the key roles that may call it (OpenAPI 3.1 allows
role names there for non-OAuth schemes), so clients and tests can see the whole role matrix.
A missing, unknown or revoked key is 401, a key of the wrong role 403; neither writes anything.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import unquote_plus

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBasic, HTTPBearer

from api.dependencies import LedgerDep
from domain.actors import Actor
from domain.api_keys import ApiKey, Capability, roles_allowed
from domain.errors import InvalidInputError

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
    is the caller's error (400), not an exception of the security scheme."""

    async def __call__(self, request: Request) -> tuple[str, str] | None:  # type: ignore[override]
        authorization = request.headers.get("Authorization", "")
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidInputError("Malformed HTTP Basic credentials") from None
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise InvalidInputError("Malformed HTTP Basic credentials")
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


def allow(capability: Capability) -> Any:
    """A dependency that answers the calling key if its role may use the capability."""

    def authenticate(ledger: LedgerDep, credentials: BearerDep, header: HeaderDep) -> Caller:
        key = ledger.authenticate_api_key(presented_api_key(credentials, header))
        key.require(capability)
        return Caller(key)

    authenticate.__name__ = f"api_key_for_{capability.value}"
    return Security(authenticate, scopes=[role.value for role in roles_allowed(capability)])


def allow_if_presented(capability: Capability) -> Any:
    """Like ``allow``, but answers None when the request carries no API key at all (the
    endpoint then authenticates the caller another way)."""

    def authenticate(ledger: LedgerDep, credentials: BearerDep, header: HeaderDep) -> Caller | None:
        presented = presented_api_key(credentials, header)
        if presented is None:
            return None
        key = ledger.authenticate_api_key(presented)
        key.require(capability)
        return Caller(key)

    authenticate.__name__ = f"optional_api_key_for_{capability.value}"
    return Security(authenticate, scopes=[role.value for role in roles_allowed(capability)])


Administrator = Annotated[Caller, allow(Capability.ADMINISTER)]
AppManager = Annotated[Caller, allow(Capability.MANAGE_APPS)]
Reviewer = Annotated[Caller, allow(Capability.REVIEW)]
Reader = Annotated[Caller, allow(Capability.READ)]
Decider = Annotated[Caller, allow(Capability.DECIDE)]
Explainer = Annotated[Caller, allow(Capability.EXPLAIN)]
ClientBasicDep = Annotated[tuple[str, str] | None, Depends(client_basic_scheme)]
