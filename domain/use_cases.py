"""The use cases an app may be reviewed for, and the permissions each maps to (the seed).

Invalid use cases are refused at submission with the seed's own guidance on what to do instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import InvalidUseCaseError, PermissionOutsideUseCaseError


@dataclass(frozen=True)
class UseCase:
    name: str
    summary: str
    permissions: frozenset[str]


VALID_USE_CASES: dict[str, UseCase] = {
    u.name: u
    for u in (
        UseCase(
            "own_content",
            "To help individuals share their own content with 3rd party apps",
            frozenset({"basic"}),
        ),
        UseCase(
            "brands_and_advertisers",
            "To help brands and advertisers understand and manage their audience and digital "
            "media rights",
            frozenset(
                {"basic", "public_content", "comments", "relationships", "likes", "follower_list"}
            ),
        ),
        UseCase(
            "broadcasters_and_publishers",
            "To help broadcasters and publishers discover content, get digital rights to media, "
            "and share media with proper attribution",
            frozenset({"basic", "public_content", "comments"}),
        ),
    )
}

INVALID_USE_CASES: dict[str, str] = {
    "widget_install": (
        "Widget installs are not a valid use case: if you are installing a widget for your "
        "website, you do not need to submit for review. Your client can remain in sandbox mode "
        "and the widget will have access to your last 20 media."
    ),
    "one_off_project": (
        "One-off projects are not a valid use case: permissions are not granted to clients "
        "created for one-off projects. If you are building a product, platform, or widget used "
        "as a service across multiple projects, submit a single client_id that you can use "
        "across those projects."
    ),
    "personal_website_display": (
        "Content display for a personal website is not a valid use case: you do not need to "
        "submit your app for review. A client in sandbox mode can still access the last 20 "
        "media of any sandbox user that grants it permission."
    ),
}


def use_case(name: str) -> UseCase:
    """The valid use case of that name; invalid and unknown names are refused with guidance."""
    if name in VALID_USE_CASES:
        return VALID_USE_CASES[name]
    if name in INVALID_USE_CASES:
        raise InvalidUseCaseError(INVALID_USE_CASES[name])
    raise InvalidUseCaseError(
        f"Unknown use case {name!r}. Valid use cases: {', '.join(sorted(VALID_USE_CASES))}"
    )


def require_permissions_fit(case: UseCase, permissions: list[str] | tuple[str, ...]) -> None:
    outside = sorted(set(permissions) - case.permissions)
    if outside:
        raise PermissionOutsideUseCaseError(
            f"The use case {case.name!r} ({case.summary}) can only be approved for "
            f"{', '.join(sorted(case.permissions))}; you should only request the permissions "
            f"that map to your use case, not {', '.join(outside)}"
        )
