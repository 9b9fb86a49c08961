"""Bad input, sent to every operation of the OpenAPI document a running service serves.

A deterministic sweep (no generation, unlike tests/e2e/test_openapi_fuzz.py): for each
documented operation, a body of 2 MB, JSON nested 10,000 deep, bytes that are not UTF-8, NUL
characters in every string field and parameter, an ``Authorization`` header that is not ASCII
(Basic and Bearer), and integers out of any range (2**64, -2**63-1) in every integer parameter
and field. The service is a real `ledger serve` process on PostgreSQL, called with an admin key
so that requests get past authentication. Whatever arrives, no answer is a 5xx, and every
request is answered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.faults.harness import (
    CLIENT_TIMEOUT,
    Seeded,
    Service,
    fresh_schema,
    seed,
    services,
    settings_on,
)

pytestmark = [pytest.mark.postgres, pytest.mark.faults, pytest.mark.xdist_group("faults")]

OVERSIZED = 2 * 1024 * 1024
DEPTH = 10_000
OUT_OF_RANGE = (2**64, -(2**63) - 1)
NUL = "a\x00b"
NOT_UTF8 = b"\xff\xfe\xc3("
NON_ASCII_AUTH = (b"Basic \xc3\xa9l\xc3\xa8ve:m\xc3\xb6t", b"Bearer t\xc3\xb6ken\xff")
KINDS = ("oversized", "deep", "not utf-8", "nul", "non-ascii header", "out of range")
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    parameters: list[dict[str, Any]]
    body_type: str | None
    body_fields: dict[str, dict[str, Any]]

    def url(self, path_values: dict[str, str] | None = None) -> str:
        url = self.path
        for param in self.parameters:
            if param["in"] == "path":
                value = (path_values or {}).get(param["name"], "x")
                url = url.replace("{" + param["name"] + "}", value)
        return url

    def named(self, where: str) -> list[dict[str, Any]]:
        return [p for p in self.parameters if p["in"] == where]


@dataclass(frozen=True)
class Attempt:
    kind: str
    operation: str
    what: str
    status: int | None  # None: no answer
    error: str = ""


@dataclass
class Sweep:
    operations: list[Operation]
    attempts: list[Attempt] = field(default_factory=list)

    def failed(self, kind: str) -> list[Attempt]:
        return [
            a for a in self.attempts if a.kind == kind and (a.status is None or a.status >= 500)
        ]


# --- reading the document -----------------------------------------------------------------------


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def is_integer(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    schema = resolve(document, schema)
    if schema.get("type") == "integer":
        return True
    return any(is_integer(document, s) for s in schema.get("anyOf", []) + schema.get("oneOf", []))


def operations(document: dict[str, Any]) -> list[Operation]:
    found = []
    for path, item in sorted(document["paths"].items()):
        for method, spec in sorted(item.items()):
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            params = [p for p in item.get("parameters", []) + spec.get("parameters", [])]
            content = spec.get("requestBody", {}).get("content", {})
            body_type = JSON if JSON in content else FORM if FORM in content else None
            fields: dict[str, dict[str, Any]] = {}
            if body_type:
                body_schema = resolve(document, content[body_type].get("schema", {}))
                fields = {
                    name: resolve(document, s)
                    for name, s in body_schema.get("properties", {}).items()
                }
            found.append(Operation(method.upper(), path, params, body_type, fields))
    return found


# --- the requests -------------------------------------------------------------------------------


def requests_of(
    op: Operation, document: dict[str, Any]
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(kind, what, httpx request arguments) of every bad input for the operation."""
    body_type = op.body_type or JSON
    yield (
        "oversized",
        "body",
        {"content": _oversized(body_type), "headers": {"Content-Type": body_type}},
    )
    yield "deep", "body", {"content": "[" * DEPTH + "]" * DEPTH, "headers": {"Content-Type": JSON}}
    yield (
        "deep",
        "object body",
        {"content": '{"a":' * DEPTH + "1" + "}" * DEPTH, "headers": {"Content-Type": JSON}},
    )
    yield (
        "not utf-8",
        "body",
        {"content": _not_utf8(op, body_type), "headers": {"Content-Type": body_type}},
    )
    for param in op.named("path"):
        yield "not utf-8", f"path {param['name']}", {"url": op.url({param["name"]: "%FF%FE"})}
        yield "nul", f"path {param['name']}", {"url": op.url({param["name"]: quote(NUL)})}
        if is_integer(document, param.get("schema", {})):
            for number in OUT_OF_RANGE:
                yield (
                    "out of range",
                    f"path {param['name']}={number}",
                    {"url": op.url({param["name"]: str(number)})},
                )
    for param in op.named("query"):
        name = param["name"]
        yield "nul", f"query {name}", {"params": {name: NUL}}
        yield "not utf-8", f"query {name}", {"url": op.url() + f"?{name}=%FF%FE"}
        if is_integer(document, param.get("schema", {})):
            for number in OUT_OF_RANGE:
                yield "out of range", f"query {name}={number}", {"params": {name: str(number)}}
    for param in op.named("header"):
        name = param["name"]
        if name.lower() == "authorization":
            continue
        yield "non-ascii header", f"header {name}", {"headers": {name: "\u00e9t\u00e9".encode()}}
        if is_integer(document, param.get("schema", {})):
            for number in OUT_OF_RANGE:
                yield "out of range", f"header {name}={number}", {"headers": {name: str(number)}}
    if op.body_type:
        strings = {name: NUL for name, s in op.body_fields.items() if not is_integer(document, s)}
        yield "nul", "every body field", _body(op, strings or {"x": NUL})
        for name, schema in op.body_fields.items():
            if is_integer(document, schema):
                for number in OUT_OF_RANGE:
                    yield "out of range", f"body {name}={number}", _body(op, {name: number})
    for raw in NON_ASCII_AUTH:
        yield (
            "non-ascii header",
            raw.split(b" ")[0].decode(),
            {"headers": {"Authorization": raw}, "auth": False},
        )


def _oversized(body_type: str) -> bytes:
    if body_type == FORM:
        return b"code=" + b"a" * OVERSIZED
    return b'{"name": "' + b"a" * OVERSIZED + b'"}'


def _not_utf8(op: Operation, body_type: str) -> bytes:
    names = list(op.body_fields) or ["name"]
    if body_type == FORM:
        return b"&".join(n.encode() + b"=" + NOT_UTF8 for n in names)
    return b"{" + b",".join(b'"' + n.encode() + b'": "' + NOT_UTF8 + b'"' for n in names) + b"}"


def _body(op: Operation, values: dict[str, Any]) -> dict[str, Any]:
    if op.body_type == FORM:
        return {"data": {k: str(v) for k, v in values.items()}}
    return {"content": json.dumps(values), "headers": {"Content-Type": JSON}}


def send(client: httpx.Client, op: Operation, admin: str, args: dict[str, Any]) -> int | None:
    args = dict(args)
    url = args.pop("url", op.url())
    headers = dict(args.pop("headers", {}))
    if args.pop("auth", True):
        headers.setdefault("Authorization", f"Bearer {admin}")
    response = client.request(op.method, url, headers=headers, **args)
    return response.status_code


@pytest.fixture(scope="module")
def sweep(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sweep]:
    logs = tmp_path_factory.mktemp("sweep")
    with fresh_schema(postgres_url) as schema:
        settings = settings_on(postgres_url, schema)
        world: Seeded = seed(settings, users=1)
        with services(settings, logs, count=1) as (service,):
            yield run_sweep(service, world)


def run_sweep(service: Service, world: Seeded) -> Sweep:
    with service.client() as client:
        document = client.get("/openapi.json").json()
        result = Sweep(operations(document))
        for op in result.operations:
            name = f"{op.method} {op.path}"
            for kind, what, args in requests_of(op, document):
                try:
                    try:
                        status = send(client, op, world.admin_key, args)
                    except (httpx.ReadError, httpx.RemoteProtocolError):
                        # uvicorn closes a connection after an unhandled error (counted on the
                        # request that caused it): this request gets a connection of its own.
                        status = send(client, op, world.admin_key, args)
                except httpx.HTTPError as exc:
                    result.attempts.append(Attempt(kind, name, what, None, type(exc).__name__))
                    if service.process.poll() is not None:
                        raise AssertionError(f"the service died: {service.log_tail()}") from exc
                    continue
                result.attempts.append(Attempt(kind, name, what, status))
    return result


def _listed(failed: list[Attempt]) -> list[str]:
    return [f"{a.operation} [{a.what}]: {a.status or a.error}" for a in failed]


def test_the_sweep_sends_every_kind_of_bad_input_to_every_documented_operation(
    sweep: Sweep, figure: Callable[[str, Any], None]
) -> None:
    failed = [a for a in sweep.attempts if a.status is None or a.status >= 500]
    figure(
        "bad-input sweep: operations / requests / 5xx or no answer",
        f"{len(sweep.operations)} / {len(sweep.attempts)} / {len(failed)} "
        f"(by kind: {_by_kind(failed)})",
    )
    reached = {(a.operation, a.kind) for a in sweep.attempts}

    assert len(sweep.operations) >= 40
    assert all(
        (f"{op.method} {op.path}", kind) in reached
        for op in sweep.operations
        for kind in ("oversized", "deep", "not utf-8", "non-ascii header")
    )


def _by_kind(failed: list[Attempt]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for attempt in failed:
        counts[attempt.kind] = counts.get(attempt.kind, 0) + 1
    return counts


@pytest.mark.parametrize("kind", KINDS)
def test_bad_input_gets_no_server_error(sweep: Sweep, kind: str) -> None:
    failed = _listed(sweep.failed(kind))

    assert failed == [], "\n".join(failed)


def test_the_service_answers_every_bad_request_in_time(sweep: Sweep) -> None:
    unanswered = [a for a in sweep.attempts if a.status is None]

    assert _listed(unanswered) == [], f"client timeout {CLIENT_TIMEOUT}s"
