"""Review use cases and the permissions each maps to, as the seed lists them."""

from __future__ import annotations

import pytest

from domain.errors import InvalidUseCaseError, PermissionOutsideUseCaseError
from domain.use_cases import VALID_USE_CASES, require_permissions_fit, use_case

ALL_SCOPES = {"basic", "public_content", "comments", "relationships", "likes", "follower_list"}


@pytest.mark.parametrize(
    ("name", "permissions"),
    [
        ("own_content", {"basic"}),
        ("brands_and_advertisers", ALL_SCOPES),
        ("broadcasters_and_publishers", {"basic", "public_content", "comments"}),
    ],
)
def test_valid_use_case_maps_to_the_seeds_permissions(name: str, permissions: set[str]) -> None:
    assert use_case(name).permissions == permissions


def test_there_are_exactly_three_valid_use_cases() -> None:
    assert set(VALID_USE_CASES) == {
        "own_content",
        "brands_and_advertisers",
        "broadcasters_and_publishers",
    }


@pytest.mark.parametrize(
    ("name", "guidance"),
    [
        ("widget_install", "last 20 media"),
        ("widget_install", "remain in sandbox mode"),
        ("one_off_project", "single client_id"),
        ("personal_website_display", "last 20 media"),
        ("personal_website_display", "do not need to submit your app for review"),
    ],
)
def test_invalid_use_case_is_refused_with_the_seeds_guidance(name: str, guidance: str) -> None:
    with pytest.raises(InvalidUseCaseError) as refused:
        use_case(name)
    assert guidance in refused.value.message


def test_unknown_use_case_is_refused_listing_the_valid_ones() -> None:
    with pytest.raises(InvalidUseCaseError) as refused:
        use_case("photo_booth")
    assert "photo_booth" in refused.value.message
    for name in VALID_USE_CASES:
        assert name in refused.value.message


def test_permissions_within_the_use_case_fit() -> None:
    require_permissions_fit(use_case("broadcasters_and_publishers"), ["basic", "comments"])


def test_permission_outside_the_use_case_is_refused_by_name() -> None:
    with pytest.raises(PermissionOutsideUseCaseError) as refused:
        require_permissions_fit(use_case("broadcasters_and_publishers"), ["basic", "likes"])
    assert "likes" in refused.value.message


def test_own_content_use_case_only_fits_basic() -> None:
    with pytest.raises(PermissionOutsideUseCaseError):
        require_permissions_fit(use_case("own_content"), ["public_content"])
