"""Builders for the domain's aggregates in a known state, without any storage.

Plain functions rather than fixtures, so each test shows what it starts from.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain.actors import Actor
from domain.apps import App
from domain.identity import user_id
from domain.reviews import Review
from domain.scopes import ScopeCatalogue
from domain.users import User

NOW = datetime(2026, 1, 1, tzinfo=UTC)

OWNER = Actor.developer("alice")
PLATFORM = Actor.platform()
REVIEWER = Actor.reviewer("rita")
STRANGER = Actor.developer("mallory")

REDIRECT_URI = "https://photos.example/callback"


def catalogue() -> ScopeCatalogue:
    """The seed catalogue, its creation event already collected."""
    cat = ScopeCatalogue.seed(PLATFORM)
    cat.collect_events()
    return cat


def user(username: str = "bob") -> User:
    found = User.register(username, f"{username} Example", None, Actor.user(username))
    found.collect_events()
    return found


def app(
    owner: str = "alice",
    *,
    collect: bool = True,
    **overrides: Any,
) -> App:
    """An app in sandbox mode with the details a review requires."""
    fields: dict[str, Any] = {
        "owner_id": user_id(owner),
        "owner_username": owner,
        "name": "Photo Printer",
        "description": "Prints your own photos",
        "website": "https://photos.example",
        "redirect_uris": [REDIRECT_URI],
        "secret_digest": "0" * 64,
        "secret_nonce": "nonce-0",
        "actor": Actor.developer(owner),
        "company_name": "Photo Printer Ltd",
        "contact_email": "dev@photos.example",
        "privacy_policy_url": "https://photos.example/privacy",
    }
    fields.update(overrides)
    registered = App.register(**fields)
    if collect:
        registered.collect_events()
    return registered


def approved_app(*scopes: str) -> App:
    """An app a reviewer approved for ``basic`` plus the given scopes."""
    approved = app()
    review_id = uuid4()
    for scope in scopes or ("basic",):
        approved.approve_permission(scope, review_id, REVIEWER)
    approved.collect_events()
    return approved


def submit(
    for_app: App,
    cat: ScopeCatalogue,
    use_case: str = "own_content",
    permissions: dict[str, str] | None = None,
    screencast_url: str = "https://photos.example/screencast.mp4",
    actor: Actor = OWNER,
) -> Review:
    if permissions is None:
        permissions = {"basic": "Shows the user their own photos to print"}
    return Review.submit(for_app, cat, use_case, permissions, screencast_url, actor)


def collected(aggregate: Aggregate) -> list[Any]:
    """The aggregate's pending events (collected), typed loosely to read their attributes."""
    return list(aggregate.collect_events())


def event_names(aggregate: Aggregate) -> list[str]:
    """The class names of the aggregate's pending events (and collects them)."""
    return [type(e).__name__ for e in aggregate.collect_events()]


def some_id() -> UUID:
    return uuid4()
