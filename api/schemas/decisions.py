"""Permission decisions, explanations and lookups, as of any moment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from api.positions import MAX_POSITION
from api.schemas.common import RequestBody
from domain.decisions import Decision
from infrastructure.read_model.queries import Evidence, Explanation

_INTEGER = re.compile(r"^-?[0-9]+$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
AS_OF_HELP = (
    "A log position (an integer) or an ISO 8601 date-time (UTC when it names no "
    "offset); omitted means now."
)


def parse_as_of(value: Any) -> int | datetime | None:
    """``as_of``: a log position or an ISO 8601 moment. A string of digits is a position."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("as_of is a log position or an ISO 8601 date-time, not a boolean")
    if isinstance(value, int):
        return _position(value)
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        if _INTEGER.match(text):
            return _position(int(text))
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                "as_of is a log position (an integer) or an ISO 8601 date-time such as "
                "2018-04-04T00:00:00Z"
            ) from None
    else:
        raise ValueError("as_of is a log position (an integer) or an ISO 8601 date-time")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _position(value: int) -> int:
    """A log position is stored as a signed 64-bit integer: anything above is no position."""
    if value > MAX_POSITION:
        raise ValueError(f"as_of is a log position of at most {MAX_POSITION}")
    return value


AsOf = Annotated[int | datetime | None, BeforeValidator(parse_as_of)]
Position = Annotated[int | None, Field(ge=0, le=MAX_POSITION)]
ModeName = Literal["sandbox", "live"]
AccessToken = Annotated[str, Field(min_length=1, max_length=512)]


class At(RequestBody):
    """When to answer: now, at a log position or moment, after a position is reached."""

    mode: ModeName | None = Field(
        default=None,
        description="Decide as if the app were in this "
        "mode; omitted means the app's own mode at that moment.",
    )
    as_of: AsOf = Field(default=None, description=AS_OF_HELP)
    min_position: Position = Field(
        default=None, description="Wait until the read models reach this log position first."
    )


class CheckIn(At):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"access_token": "fb2e77d.47a0479900504cb3ab4a1f626d174d2d", "scope": "basic"},
            ]
        }
    )

    access_token: AccessToken
    scope: str = Field(min_length=1, max_length=100)


class GateIn(At):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "fb2e77d.47a0479900504cb3ab4a1f626d174d2d",
                    "method": "GET",
                    "path": "/v1/users/self",
                },
            ]
        }
    )

    access_token: AccessToken
    method: str = Field(min_length=1, max_length=10)
    path: str = Field(
        min_length=1,
        max_length=2000,
        description="The legacy API path called, with or without /v1 (never with the token in it).",
    )
    resource_owner: str | None = Field(
        default=None,
        max_length=100,
        description="The user id owning the media, when the gateway knows it.",
    )
    params: dict[str, Annotated[str, Field(max_length=2000)]] | None = Field(
        default=None,
        max_length=100,
        description="The call's request parameters (query and form), `sig` included. A client "
        "that enforces signed requests is refused, with the legacy 403, unless `sig` is the "
        "HMAC-SHA256 of the path and these parameters (the access token counts as one) under "
        "its client secret.",
    )


class ConstraintsOut(BaseModel):
    requests_per_hour: int
    writes_per_hour: int
    media_limit: int | None
    data_limited_to_sandbox_users: bool


class DecisionOut(BaseModel):
    allowed: bool
    mode: ModeName
    scope: str
    position: int = Field(description="The log position the decision was made at.")
    reason: str | None = Field(
        description="Machine code of the first failed link; null when allowed."
    )
    error_type: str | None
    http_status: int | None
    message: str | None
    fix: str | None
    constraints: ConstraintsOut

    @classmethod
    def of(cls, decision: Decision) -> DecisionOut:
        return cls(**decision_body(decision))


def decision_body(decision: Decision) -> dict[str, Any]:
    """A decision as ``DecisionOut``'s JSON, built without pydantic (the check's hot path answers
    it directly; the route still documents ``DecisionOut``)."""
    denial = decision.denial
    c = decision.constraints
    return {
        "allowed": decision.allowed,
        "mode": decision.mode.value,
        "scope": decision.scope,
        "position": decision.position,
        "reason": denial.reason.value if denial else None,
        "error_type": denial.error_type if denial else None,
        "http_status": denial.http_status if denial else None,
        "message": denial.message if denial else None,
        "fix": denial.fix if denial else None,
        "constraints": {
            "requests_per_hour": c.requests_per_hour,
            "writes_per_hour": c.writes_per_hour,
            "media_limit": c.media_limit,
            "data_limited_to_sandbox_users": c.data_limited_to_sandbox_users,
        },
    }


class EvidenceOut(BaseModel):
    link: str = Field(description="Which fact of the decision this event established or ended.")
    position: int
    at: datetime
    event_type: str
    aggregate_id: str
    version: int
    actor: str
    role: str
    reason: str
    inclusion_proof: dict[str, Any] | None = Field(
        default=None,
        description="Asked for with `with_proofs=true`: a bundle proving this "
        "event is in the latest signed checkpoint (null when none covers it yet); verify it with "
        "`python -m infrastructure.audit.proof_verifier` and the ledger's verifier key.",
    )

    @classmethod
    def of(
        cls, e: Evidence, proofs: Mapping[int, dict[str, Any] | None] | None = None
    ) -> EvidenceOut:
        return cls(
            link=e.link,
            position=e.position,
            at=_EPOCH + timedelta(microseconds=int(e.at)),
            event_type=e.event_type,
            aggregate_id=e.aggregate_id,
            version=e.version,
            actor=e.actor,
            role=e.role,
            reason=e.reason,
            inclusion_proof=proofs.get(e.position) if proofs else None,
        )


class ExplanationOut(DecisionOut):
    evidence: list[EvidenceOut]
    failed_link: EvidenceOut | None

    @classmethod
    def of_explanation(
        cls, explanation: Explanation, proofs: Mapping[int, dict[str, Any] | None] | None = None
    ) -> ExplanationOut:
        return cls(
            **decision_body(explanation.decision),
            evidence=[EvidenceOut.of(e, proofs) for e in explanation.evidence],
            failed_link=EvidenceOut.of(explanation.failed_link, proofs)
            if explanation.failed_link
            else None,
        )


class TokenHoldersQuery(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"client_id": "0123456789abcdef0123456789abcdef", "scope": "basic"},
            ]
        }
    )

    client_id: str = Field(min_length=1, max_length=100)
    scope: str = Field(min_length=1, max_length=100)
    as_of: AsOf = Field(default=None, description=AS_OF_HELP)
    min_position: Position = None


class TokenHolderOut(BaseModel):
    token_id: str
    user_id: str
    username: str


class TokenHoldersOut(BaseModel):
    client_id: str
    scope: str
    position: int
    holders: list[TokenHolderOut]


class UserAuthorizationsQuery(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"username": "alice"}]})

    username: str = Field(min_length=1, max_length=100)
    as_of: AsOf = Field(default=None, description=AS_OF_HELP)
    min_position: Position = None


class AuthorizationOut(BaseModel):
    client_id: str
    scopes: list[str]


class UserAuthorizationsOut(BaseModel):
    username: str
    position: int
    authorizations: list[AuthorizationOut]
