"""Permission decisions for gateways: check a scope, explain a decision, gate a legacy API call.

Tokens travel in the JSON body, never in the URL (URLs get logged). Each answer names the log
position it was decided at; ``as_of`` answers for any past position or moment.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.auth import AuthenticatedInEndpoint, PresentedKey, PresentedToDecide, PresentedToExplain
from api.dependencies import runtime_of
from api.errors import LEDGER_ERROR_RESPONSES, legacy_body
from api.oauth.signed_requests import verify_request_signature
from api.positions import (
    POSITION_HEADER,
    MinPositionHeader,
    MinPositionQuery,
    latest,
    read_timeout_of,
)
from api.schemas.decisions import CheckIn, DecisionOut, ExplanationOut, GateIn, decision_body
from api.schemas.errors import ErrorOut, LegacyApiErrorOut
from domain.apps import Mode
from domain.decisions import Decision
from domain.errors import InvalidSignatureError, MissingSignatureError, TokenNotFoundError
from infrastructure.read_model.queries import Explanation
from infrastructure.runtime import Runtime

# The gateways' hot path. Each endpoint is async and does its I/O (authenticating the key, then
# reading the read models) in one worker-thread call, and answers JSON built directly: FastAPI
# would otherwise hand each plain dependency to the thread pool and re-validate the answer. It
# declares its parameters itself rather than through dependencies (each costs its resolution).
router = APIRouter(
    prefix="/v1/decisions",
    tags=["decisions"],
    responses=LEDGER_ERROR_RESPONSES,
    route_class=AuthenticatedInEndpoint,
)

DENIAL_REASON_HEADER = "X-Ledger-Denial-Reason"
WithProofsQuery = Annotated[
    bool,
    Query(
        description="Add to each evidence item an inclusion proof in the latest signed checkpoint."
    ),
]


def _mode(name: str | None) -> Mode | None:
    return Mode(name) if name else None


@router.post(
    "/check",
    response_model=DecisionOut,
    summary="Does this token have this scope (in this mode, at this moment)?",
)
async def check(
    request: Request,
    key: PresentedToDecide,
    body: CheckIn,
    min_position: MinPositionQuery = None,
    min_position_header: MinPositionHeader = None,
) -> JSONResponse:
    wanted = latest(body.min_position, min_position, min_position_header)
    decision = await run_in_threadpool(
        _check, key, body, runtime_of(request), wanted, read_timeout_of(request)
    )
    return JSONResponse(decision_body(decision), headers={POSITION_HEADER: str(decision.position)})


def _check(
    key: PresentedKey, body: CheckIn, runtime: Runtime, min_position: int | None, timeout: float
) -> Decision:
    """The check's I/O in one worker-thread call: the key, then the decision."""
    key.authenticate(runtime.ledger)
    return runtime.read_model.check(
        body.access_token,
        body.scope,
        _mode(body.mode),
        as_of=body.as_of,
        min_position=min_position,
        timeout=timeout,
    )


@router.post(
    "/explain",
    response_model=ExplanationOut,
    summary="A decision with the events it rests on and the first link that failed",
)
async def explain(
    request: Request,
    key: PresentedToExplain,
    body: CheckIn,
    min_position: MinPositionQuery = None,
    min_position_header: MinPositionHeader = None,
    with_proofs: WithProofsQuery = False,
) -> JSONResponse:
    wanted = latest(body.min_position, min_position, min_position_header)
    explanation, proofs = await run_in_threadpool(
        _explain, key, body, runtime_of(request), wanted, read_timeout_of(request), with_proofs
    )
    return JSONResponse(
        ExplanationOut.of_explanation(explanation, proofs).model_dump(mode="json"),
        headers={POSITION_HEADER: str(explanation.decision.position)},
    )


def _explain(
    key: PresentedKey,
    body: CheckIn,
    runtime: Runtime,
    min_position: int | None,
    timeout: float,
    with_proofs: bool = False,
) -> tuple[Explanation, dict[int, dict[str, Any] | None] | None]:
    key.authenticate(runtime.ledger)
    explanation = runtime.read_model.explain(
        body.access_token,
        body.scope,
        _mode(body.mode),
        as_of=body.as_of,
        min_position=min_position,
        timeout=timeout,
    )
    if not with_proofs:
        return explanation, None
    evidence = [*explanation.evidence, *filter(None, [explanation.failed_link])]
    return explanation, runtime.audit.inclusion_proofs(e.position for e in evidence)


@router.post(
    "/gate",
    response_model=DecisionOut,
    summary="Decide a legacy API call: 200 with the decision, or the legacy error",
    responses={
        # A denial is the legacy body; a refused request (bad key or role) the ledger's.
        400: {
            "model": LegacyApiErrorOut | ErrorOut,
            "description": 'Denied: the legacy body {"meta": {"error_type", "code", '
            '"error_message"}}; or the ledger refused the request',
        },
        403: {
            "model": LegacyApiErrorOut | ErrorOut,
            "description": "Denied (not a sandbox user): the legacy body; or the key's role "
            "may not do this",
        },
    },
)
async def gate(
    request: Request,
    key: PresentedToDecide,
    body: GateIn,
    min_position: MinPositionQuery = None,
    min_position_header: MinPositionHeader = None,
) -> JSONResponse:
    wanted = latest(body.min_position, min_position, min_position_header)
    try:
        decision = await run_in_threadpool(
            _gate, key, body, runtime_of(request), wanted, read_timeout_of(request)
        )
    except (MissingSignatureError, InvalidSignatureError) as refused:
        return JSONResponse(
            legacy_body(str(refused.legacy_type), 403, refused.message), status_code=403
        )
    headers = {POSITION_HEADER: str(decision.position)}
    denial = decision.denial
    if denial is None:
        return JSONResponse(decision_body(decision), headers=headers)
    headers[DENIAL_REASON_HEADER] = denial.reason.value
    return JSONResponse(
        legacy_body(denial.error_type, denial.http_status, denial.message),
        status_code=denial.http_status,
        headers=headers,
    )


def _gate(
    key: PresentedKey, body: GateIn, runtime: Runtime, min_position: int | None, timeout: float
) -> Decision:
    key.authenticate(runtime.ledger)
    _verify_signature(runtime, body)
    return runtime.read_model.gate(
        body.access_token,
        body.method,
        body.path,
        resource_owner=body.resource_owner,
        mode=_mode(body.mode),
        as_of=body.as_of,
        min_position=min_position,
        timeout=timeout,
    )


def _verify_signature(runtime: Runtime, body: GateIn) -> None:
    """For a client that enforces signed requests, the call must carry a valid ``sig`` (the
    legacy platform refused it otherwise). An unknown token is left to the decision."""
    try:
        token = runtime.ledger.token(body.access_token)
    except TokenNotFoundError:
        return
    params = {"access_token": body.access_token, **(body.params or {})}
    verify_request_signature(runtime.ledger, token.app_id.hex, body.path.split("?")[0], params)
