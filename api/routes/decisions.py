"""Permission decisions for gateways: check a scope, explain a decision, gate a legacy API call.

Tokens travel in the JSON body, never in the URL (URLs get logged). Each answer names the log
position it was decided at; ``as_of`` answers for any past position or moment.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from api.auth import Decider, Explainer
from api.dependencies import RuntimeDep
from api.errors import LEDGER_ERROR_RESPONSES, legacy_body
from api.positions import POSITION_HEADER, MinPositionDep, ReadTimeoutDep
from api.schemas.decisions import CheckIn, DecisionOut, ExplanationOut, GateIn
from api.schemas.errors import ErrorOut, LegacyApiErrorOut
from domain.apps import Mode

router = APIRouter(prefix="/v1/decisions", tags=["decisions"], responses=LEDGER_ERROR_RESPONSES)

DENIAL_REASON_HEADER = "X-Ledger-Denial-Reason"


def _mode(name: str | None) -> Mode | None:
    return Mode(name) if name else None


def _min(body_value: int | None, header_value: int | None) -> int | None:
    given = [v for v in (body_value, header_value) if v is not None]
    return max(given) if given else None


@router.post("/check", response_model=DecisionOut,
             summary="Does this token have this scope (in this mode, at this moment)?")
def check(
    caller: Decider, body: CheckIn, runtime: RuntimeDep, response: Response,
    min_position: MinPositionDep, timeout: ReadTimeoutDep,
) -> DecisionOut:
    decision = runtime.read_model.check(
        body.access_token, body.scope, _mode(body.mode), as_of=body.as_of,
        min_position=_min(body.min_position, min_position), timeout=timeout,
    )
    response.headers[POSITION_HEADER] = str(decision.position)
    return DecisionOut.of(decision)


@router.post("/explain", response_model=ExplanationOut,
             summary="A decision with the events it rests on and the first link that failed")
def explain(
    caller: Explainer, body: CheckIn, runtime: RuntimeDep, response: Response,
    min_position: MinPositionDep, timeout: ReadTimeoutDep,
) -> ExplanationOut:
    explanation = runtime.read_model.explain(
        body.access_token, body.scope, _mode(body.mode), as_of=body.as_of,
        min_position=_min(body.min_position, min_position), timeout=timeout,
    )
    response.headers[POSITION_HEADER] = str(explanation.decision.position)
    return ExplanationOut.of_explanation(explanation)


@router.post(
    "/gate",
    response_model=DecisionOut,
    summary="Decide a legacy API call: 200 with the decision, or the legacy error",
    responses={
        # A denial is the legacy body; a refused request (bad key or role) the ledger's.
        400: {"model": LegacyApiErrorOut | ErrorOut,
              "description": "Denied: the legacy body {\"meta\": {\"error_type\", \"code\", "
                             "\"error_message\"}}; or the ledger refused the request"},
        403: {"model": LegacyApiErrorOut | ErrorOut,
              "description": "Denied (not a sandbox user): the legacy body; or the key's role "
                             "may not do this"},
    },
)
def gate(
    caller: Decider, body: GateIn, runtime: RuntimeDep, min_position: MinPositionDep,
    timeout: ReadTimeoutDep,
) -> JSONResponse:
    decision = runtime.read_model.gate(
        body.access_token, body.method, body.path, resource_owner=body.resource_owner,
        mode=_mode(body.mode), as_of=body.as_of,
        min_position=_min(body.min_position, min_position), timeout=timeout,
    )
    headers = {POSITION_HEADER: str(decision.position)}
    denial = decision.denial
    if denial is None:
        return JSONResponse(DecisionOut.of(decision).model_dump(mode="json"), headers=headers)
    headers[DENIAL_REASON_HEADER] = denial.reason.value
    return JSONResponse(
        legacy_body(denial.error_type, denial.http_status, denial.message),
        status_code=denial.http_status,
        headers=headers,
    )
