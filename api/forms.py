"""Form bodies and query strings of the OAuth endpoints, read the one way for every protocol.

``application/x-www-form-urlencoded`` only: RFC 6749 §4.1.3 sends the token request in that
format, RFC 7009 and RFC 7662 their requests, and the sign-in and consent pages post it. Parsed
with the standard library (no multipart parser is needed or accepted). A parameter sent twice is
refused (RFC 6749 §3.1, §3.2: "MUST NOT be included more than once"). Each protocol refuses in its
own words: the legacy pages and token endpoint with ``BadFormError`` (``FormDep``), RFC 7009 and
RFC 7662 with ``InvalidInputError`` (``StrictFormDep``, answered in the RFC 6749 §5.2 body).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, Request

from api.oauth.legacy_errors import BadFormError
from domain.errors import InvalidInputError

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 16 * 1024  # the edge's cap for /oauth bodies (api/body_limit.py)
MAX_FIELDS = 50

Refusal = Callable[[str], Exception]


def parse_form(body: bytes, refuse: Refusal = BadFormError) -> dict[str, str]:
    """The fields of a urlencoded body; a repeated or undecodable field is refused."""
    if len(body) > MAX_FORM_BYTES:
        raise refuse("The form is too large")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise refuse("The form could not be read as UTF-8 urlencoded fields") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise refuse(f"The parameter {name} is included more than once")
        fields[name] = value
    return fields


async def read_form(
    request: Request, refuse: Refusal = BadFormError, *, empty_is_empty_form: bool = True
) -> dict[str, str]:
    """The request's urlencoded form; an empty body is an empty form unless told otherwise."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():  # bounded: a huge body is refused, not buffered
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise refuse("The form is too large")
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body and empty_is_empty_form:
        return {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise refuse(f"Send the parameters as {FORM_TYPE}")
    return parse_form(body, refuse)


async def legacy_form(request: Request) -> dict[str, str]:
    """Dependency: the form of the legacy OAuth pages and token endpoint."""
    return await read_form(request)


async def strict_form(request: Request) -> dict[str, str]:
    """Dependency: the form of RFC 7009 and RFC 7662 requests, refused as invalid_request."""
    return await read_form(request, InvalidInputError, empty_is_empty_form=False)


FormDep = Annotated[dict[str, str], Depends(legacy_form)]
StrictFormDep = Annotated[dict[str, str], Depends(strict_form)]


def query_params(request: Request) -> dict[str, str]:
    """A request's query parameters; a repeated one is refused (RFC 6749 §3.1)."""
    fields: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name in fields:
            raise BadFormError(f"The parameter {name} is included more than once")
        fields[name] = value
    return fields


QueryDep = Annotated[dict[str, str], Depends(query_params)]


@dataclass(frozen=True)
class Param:
    """One parameter of a form or query string, for the OpenAPI document."""

    name: str
    description: str
    required: bool = False
    values: tuple[str, ...] = ()  # the only values accepted, when there are few

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string"}
        if self.values:
            schema["enum"] = list(self.values)
        return schema


def documented_form(*params: Param) -> dict[str, Any]:
    """``openapi_extra`` of a route that reads its urlencoded form by hand (``FormDep``): the
    form as its OpenAPI request body."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                FORM_TYPE: {
                    "schema": {
                        "type": "object",
                        "properties": {
                            p.name: {**p.schema(), "description": p.description} for p in params
                        },
                        "required": [p.name for p in params if p.required],
                    }
                }
            },
        }
    }


def documented_query(*params: Param) -> dict[str, Any]:
    """``openapi_extra`` of a route that reads its query string by hand (``QueryDep``)."""
    return {
        "parameters": [
            {
                "name": p.name,
                "in": "query",
                "required": p.required,
                "description": p.description,
                "schema": p.schema(),
            }
            for p in params
        ]
    }
