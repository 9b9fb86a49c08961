"""Reviews: the owner submits, a reviewer decides each permission."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.auth import AppManager, Reader, Reviewer
from api.dependencies import LedgerDep
from api.errors import LEDGER_ERROR_RESPONSES
from api.positions import CaughtUp, written
from api.schemas.common import WrittenOut
from api.schemas.reviews import ReviewDecisionIn, ReviewOut, ReviewSubmission, ReviewSubmitted

router = APIRouter(tags=["reviews"], responses=LEDGER_ERROR_RESPONSES)


@router.post(
    "/v1/apps/{client_id}/reviews",
    status_code=status.HTTP_201_CREATED,
    response_model=ReviewSubmitted,
    summary="Submit the app for review",
)
def submit_review(
    caller: AppManager,
    client_id: str,
    body: ReviewSubmission,
    ledger: LedgerDep,
    response: Response,
) -> ReviewSubmitted:
    result = ledger.submit_review(
        client_id,
        use_case=body.use_case,
        permissions=body.permissions,
        screencast_url=body.screencast_url,
        actor=caller.actor,
    )
    return ReviewSubmitted(position=written(response, result.position), review_id=result.id.hex)


@router.get("/v1/reviews/{review_id}", response_model=ReviewOut, summary="A review")
def get_review(caller: Reader, review_id: str, ledger: LedgerDep, _: CaughtUp) -> ReviewOut:
    review = ledger.review_seen_by(caller.key, review_id)
    return ReviewOut(
        review_id=review.id.hex,
        client_id=review.app_id.hex,
        use_case=review.use_case,
        permissions=dict(review.permissions),
        screencast_url=review.screencast_url,
        decisions={scope: d.value for scope, d in review.decisions.items()},
        completed=review.completed,
    )


@router.post(
    "/v1/reviews/{review_id}/decisions",
    response_model=WrittenOut,
    summary="A reviewer approves or rejects one permission",
)
def decide(
    caller: Reviewer,
    review_id: str,
    body: ReviewDecisionIn,
    ledger: LedgerDep,
    response: Response,
) -> WrittenOut:
    result = ledger.decide_review(
        review_id, body.scope, approve=body.approve, reason=body.reason, actor=caller.actor
    )
    return WrittenOut(position=written(response, result.position))
