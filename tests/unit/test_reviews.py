"""Reviews: what a submission needs, and a reviewer's decision on each permission."""

from __future__ import annotations

from typing import Any

import pytest

from domain.actors import Actor
from domain.errors import (
    InvalidInputError,
    InvalidUseCaseError,
    NotPermittedError,
    PermissionOutsideUseCaseError,
    ReviewDecisionError,
    ReviewRefusedError,
    ScopeApplicationsClosedError,
    ScopeRetiredError,
)
from domain.reviews import PermissionStatus, Review
from domain.scopes import ScopeCatalogue
from tests.unit.builders import (
    OWNER,
    PLATFORM,
    REVIEWER,
    STRANGER,
    app,
    catalogue,
    collected,
    event_names,
    submit,
)

BROADCASTER_PERMISSIONS = {
    "basic": "Shows the broadcaster's own media",
    "public_content": "Finds public media to license",
}


def open_public_content() -> ScopeCatalogue:
    cat = catalogue()
    cat.reopen_applications("public_content", PLATFORM, reason="")
    return cat


def two_permission_review() -> Review:
    review = submit(
        app(), open_public_content(), "broadcasters_and_publishers", BROADCASTER_PERMISSIONS
    )
    review.collect_events()
    return review


# --- submission ---------------------------------------------------------------------------------


def test_submitted_review_leaves_every_permission_pending() -> None:
    review = submit(app(), catalogue())
    assert review.decisions == {"basic": PermissionStatus.PENDING}
    assert not review.completed


def test_submitted_review_records_its_app_use_case_and_descriptions() -> None:
    registered = app()
    review = submit(registered, catalogue())
    assert (review.app_id, review.use_case, review.permissions) == (
        registered.id,
        "own_content",
        {"basic": "Shows the user their own photos to print"},
    )


def test_submission_records_one_submitted_event() -> None:
    assert event_names(submit(app(), catalogue())) == ["Submitted"]


@pytest.mark.parametrize(
    "use_case", ["widget_install", "one_off_project", "personal_website_display", "photo_booth"]
)
def test_submission_for_an_invalid_use_case_is_refused(use_case: str) -> None:
    with pytest.raises(InvalidUseCaseError):
        submit(app(), catalogue(), use_case)


def test_submission_for_a_widget_install_says_to_stay_in_sandbox() -> None:
    with pytest.raises(InvalidUseCaseError, match="last 20 media"):
        submit(app(), catalogue(), "widget_install")


def test_submission_outside_the_use_cases_permissions_is_refused() -> None:
    with pytest.raises(PermissionOutsideUseCaseError, match="likes"):
        submit(app(), catalogue(), "own_content", {"basic": "profile", "likes": "likes"})


def test_submission_for_a_scope_whose_applications_are_closed_is_refused() -> None:
    with pytest.raises(ScopeApplicationsClosedError, match="public_content"):
        submit(app(), catalogue(), "broadcasters_and_publishers", BROADCASTER_PERMISSIONS)


def test_submission_for_a_reopened_scope_is_accepted() -> None:
    review = submit(
        app(), open_public_content(), "broadcasters_and_publishers", BROADCASTER_PERMISSIONS
    )
    assert review.pending == ["basic", "public_content"]


def test_submission_for_a_retired_scope_is_refused() -> None:
    cat = catalogue()
    cat.retire("basic", PLATFORM, reason="2020")
    with pytest.raises(ScopeRetiredError):
        submit(app(), cat)


@pytest.mark.parametrize(
    ("missing_field", "named"),
    [
        ("company_name", "company name"),
        ("contact_email", "contact email"),
        ("privacy_policy_url", "privacy policy URL"),
    ],
)
def test_submission_without_a_required_app_detail_is_refused_naming_it(
    missing_field: str, named: str
) -> None:
    without: dict[str, Any] = {missing_field: None}
    incomplete = app(**without)
    with pytest.raises(ReviewRefusedError, match=named):
        submit(incomplete, catalogue())


def test_submission_without_any_app_detail_names_all_three() -> None:
    incomplete = app(company_name=None, contact_email=None, privacy_policy_url=None)
    with pytest.raises(ReviewRefusedError) as refused:
        submit(incomplete, catalogue())
    for named in ("company name", "contact email", "privacy policy URL"):
        assert named in refused.value.message


def test_another_developer_submitting_an_incomplete_app_is_refused_without_its_details() -> None:
    incomplete = app(company_name=None, contact_email=None, privacy_policy_url=None)
    with pytest.raises(NotPermittedError) as refused:
        submit(incomplete, catalogue(), actor=STRANGER)
    assert "company name" not in refused.value.message


def test_another_developer_is_refused_before_the_use_case_is_looked_at() -> None:
    with pytest.raises(NotPermittedError):
        submit(app(), catalogue(), use_case="no_such_case", actor=STRANGER)


def test_the_owner_in_another_case_submits_a_review() -> None:
    review = submit(app(), catalogue(), actor=Actor.developer("ALICE"))
    assert review.pending == ["basic"]


def test_submission_with_an_empty_permission_description_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="how basic is used"):
        submit(app(), catalogue(), permissions={"basic": "  "})


def test_submission_without_permissions_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="at least one permission"):
        submit(app(), catalogue(), permissions={})


def test_submission_for_an_unknown_permission_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="stories"):
        submit(app(), catalogue(), permissions={"basic": "profile", "stories": "stories"})


@pytest.mark.parametrize("url", ["", "screencast.mp4", "ftp://photos.example/s.mp4"])
def test_submission_needs_a_web_screencast_url(url: str) -> None:
    with pytest.raises(InvalidInputError, match="screencast_url"):
        submit(app(), catalogue(), screencast_url=url)


# --- decisions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", [REVIEWER, PLATFORM], ids=["reviewer", "platform"])
def test_reviewer_or_platform_approves_a_permission(actor: Actor) -> None:
    review = two_permission_review()
    review.decide("basic", True, "fine", actor)
    assert review.decisions["basic"] is PermissionStatus.APPROVED


def test_reviewer_rejects_a_permission() -> None:
    review = two_permission_review()
    review.decide("public_content", False, "screencast does not show it", REVIEWER)
    assert review.decisions["public_content"] is PermissionStatus.REJECTED


def test_decision_records_its_reason() -> None:
    review = two_permission_review()
    review.decide("public_content", False, "screencast does not show it", REVIEWER)
    [rejected] = collected(review)
    assert type(rejected).__name__ == "PermissionRejected"
    assert (rejected.scope, rejected.reason) == ("public_content", "screencast does not show it")


@pytest.mark.parametrize(
    "actor",
    [OWNER, Actor.user("bob"), Actor.client("0" * 32)],
    ids=["developer", "user", "client"],
)
def test_only_a_reviewer_or_the_platform_decides(actor: Actor) -> None:
    review = two_permission_review()
    with pytest.raises(NotPermittedError):
        review.decide("basic", True, "self-approved", actor)
    assert review.decisions["basic"] is PermissionStatus.PENDING


def test_decision_needs_a_reason() -> None:
    review = two_permission_review()
    with pytest.raises(InvalidInputError, match="reason"):
        review.decide("basic", True, " ", REVIEWER)
    assert review.decisions["basic"] is PermissionStatus.PENDING


def test_review_is_not_complete_while_a_permission_is_pending() -> None:
    review = two_permission_review()
    review.decide("basic", True, "fine", REVIEWER)
    assert (review.completed, review.pending) == (False, ["public_content"])


def test_review_completes_when_no_permission_is_pending() -> None:
    review = two_permission_review()
    review.decide("basic", True, "fine", REVIEWER)
    review.decide("public_content", False, "not shown", REVIEWER)
    assert review.completed
    assert event_names(review) == ["PermissionApproved", "PermissionRejected", "Completed"]


def test_completed_review_records_what_was_approved() -> None:
    review = two_permission_review()
    review.decide("basic", True, "fine", REVIEWER)
    review.decide("public_content", False, "not shown", REVIEWER)
    completed = collected(review)[-1]
    assert completed.approved == ["basic"]


def test_deciding_a_permission_twice_is_refused() -> None:
    review = two_permission_review()
    review.decide("basic", True, "fine", REVIEWER)
    with pytest.raises(ReviewDecisionError, match="already been approved"):
        review.decide("basic", False, "changed my mind", REVIEWER)
    assert review.decisions["basic"] is PermissionStatus.APPROVED


def test_deciding_a_completed_review_is_refused() -> None:
    review = submit(app(), catalogue())
    review.decide("basic", True, "fine", REVIEWER)
    with pytest.raises(ReviewDecisionError, match="completed"):
        review.decide("basic", False, "changed my mind", REVIEWER)


def test_deciding_a_permission_the_review_did_not_ask_for_is_refused() -> None:
    review = two_permission_review()
    with pytest.raises(ReviewDecisionError, match="likes"):
        review.decide("likes", True, "fine", REVIEWER)
