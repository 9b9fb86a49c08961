"""Reviews: submissions and reviewers' decisions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import REASON_MAX, RequestBody, WrittenOut


class ReviewSubmission(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "use_case": "own_content",
                    "permissions": {"basic": "We show users their own photos to print"},
                    "screencast_url": "https://client.example/screencast.mp4",
                }
            ]
        }
    )

    use_case: str
    permissions: dict[str, str] = Field(
        description="Each permission asked for, with how the app uses it."
    )
    screencast_url: str


class ReviewSubmitted(WrittenOut):
    review_id: str


class ReviewDecisionIn(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"scope": "basic", "approve": True, "reason": "shown in the screencast"},
            ]
        }
    )

    scope: str
    approve: bool
    reason: str = Field(max_length=REASON_MAX)


class ReviewOut(BaseModel):
    review_id: str
    client_id: str
    use_case: str
    permissions: dict[str, str]
    screencast_url: str
    decisions: dict[str, str]
    completed: bool
