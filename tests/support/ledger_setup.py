"""Setting the ledger up for a test: users, apps, sandbox users, approvals, codes and tokens.

Each helper calls the ledger's own commands, exactly as a user of the application would, so a
test's setup goes through the same rules as its behaviour. Shared by several test modules (and
engineers): add functions, do not rename or remove them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from application.results import Authorized, ClientRegistered, Created, TokenIssued
from domain.actors import Actor
from domain.errors import LedgerError

if TYPE_CHECKING:
    from uuid import UUID

    from eventsourcing.persistence import Notification

    from application.ledger import Ledger

PLATFORM = Actor.platform("ops")
REVIEWER = Actor.reviewer("reviewer")
REDIRECT_URI = "https://client.example/callback"

# The scopes whose applications the seed says are "no longer accepted".
CLOSED_SCOPES = ("public_content", "follower_list", "comments", "relationships", "likes")


def register_user(
    ledger: Ledger,
    username: str,
    *,
    full_name: str | None = None,
    profile_picture: str | None = None,
) -> Created:
    """A platform user registering themselves."""
    return ledger.register_user(
        username,
        full_name or username.replace("_", " ").title(),
        profile_picture if profile_picture is not None else f"https://pics.example/{username}.jpg",
        Actor.user(username),
    )


def register_app(
    ledger: Ledger,
    owner: str,
    *,
    name: str = "Printer",
    redirect_uris: Iterable[str] = (REDIRECT_URI,),
    register_owner: bool = True,
) -> ClientRegistered:
    """An app (in sandbox mode) with every detail a review needs; registers its owner first."""
    if register_owner:
        register_user(ledger, owner)
    return ledger.register_app(
        owner=owner,
        name=name,
        description=f"{name}: prints your photos",
        website="https://client.example",
        redirect_uris=list(redirect_uris),
        actor=Actor.developer(owner),
        company_name=f"{name} Ltd",
        contact_email=f"{owner}@client.example",
        privacy_policy_url="https://client.example/privacy",
    )


def add_sandbox_user(ledger: Ledger, client_id: str, owner: str, username: str) -> None:
    """The owner invites the user and the user accepts (the user must be registered)."""
    ledger.invite_sandbox_user(client_id, username, Actor.developer(owner))
    ledger.accept_sandbox_invitation(client_id, username, Actor.user(username))


def approve_and_go_live(
    ledger: Ledger,
    client_id: str,
    owner: str,
    scopes: Iterable[str] = ("basic",),
    *,
    use_case: str = "brands_and_advertisers",
) -> None:
    """Reviews the app, approves each scope and switches it live.

    Scopes whose applications are closed are reopened by the platform for the review, as a
    test setup shortcut: the approval, not how it was obtained, is what the tests rely on.
    """
    scopes = tuple(scopes)
    for scope in scopes:
        if scope in CLOSED_SCOPES and ledger.catalogue().scopes[scope].applications_open is False:
            ledger.reopen_scope_applications(scope, PLATFORM, "test setup")
    review = ledger.submit_review(
        client_id,
        use_case=use_case,
        permissions={scope: f"We use {scope} to print photos" for scope in scopes},
        screencast_url="https://client.example/screencast.mp4",
        actor=Actor.developer(owner),
    )
    for scope in scopes:
        ledger.decide_review(review.id, scope, approve=True, reason="fits", actor=REVIEWER)
    ledger.go_live(client_id, Actor.developer(owner))


def authorize(
    ledger: Ledger,
    client_id: str,
    username: str,
    scope: str | None = None,
    *,
    redirect_uri: str = REDIRECT_URI,
    response_type: str = "code",
) -> Authorized:
    """The user consents to the app (code flow unless told otherwise)."""
    return ledger.authorize(
        client_id=client_id,
        username=username,
        redirect_uri=redirect_uri,
        scope=scope,
        response_type=response_type,
    )


def exchange(
    ledger: Ledger,
    app: ClientRegistered,
    code: str | None,
    *,
    redirect_uri: str = REDIRECT_URI,
) -> TokenIssued:
    """The client redeems a code with its own credentials."""
    return ledger.exchange_code(
        client_id=app.client_id,
        client_secret=app.client_secret,
        redirect_uri=redirect_uri,
        code=code,
        grant_type="authorization_code",
    )


def issue_token(
    ledger: Ledger,
    app: ClientRegistered,
    username: str,
    scope: str | None = None,
) -> TokenIssued:
    """A token through the whole code flow: authorize, then exchange the code."""
    code = authorize(ledger, app.client_id, username, scope).code
    return exchange(ledger, app, code)


@dataclass(frozen=True)
class SandboxSetup:
    """An app in sandbox mode, its owner, and one accepted sandbox user."""

    app: ClientRegistered
    owner: str
    user: str


def sandbox_app_with_user(
    ledger: Ledger, owner: str = "dev_owner", user: str = "alice"
) -> SandboxSetup:
    """The usual starting point: an app in sandbox with ``user`` an accepted sandbox user."""
    app = register_app(ledger, owner)
    register_user(ledger, user)
    add_sandbox_user(ledger, app.client_id, owner, user)
    return SandboxSetup(app, owner, user)


# --- apps, reviews and approvals (added for the apps/sandbox/reviews/scope-policy suites) ------

SCREENCAST_URL = "https://client.example/screencast.mp4"
# Which valid use case to submit under for a set of scopes: the narrowest that fits.
OWN_CONTENT = "own_content"
EVERY_SCOPE_USE_CASE = "brands_and_advertisers"


def register_developer_and_app(
    ledger: Ledger,
    developer: str = "dev_dana",
    *,
    name: str = "Printer",
    review_details: bool = True,
    redirect_uris: Iterable[str] = (REDIRECT_URI,),
) -> ClientRegistered:
    """Registers the developer, then their app; without ``review_details`` the app lacks the
    company name, contact email and privacy policy URL that a review submission requires."""
    if review_details:
        return register_app(ledger, developer, name=name, redirect_uris=redirect_uris)
    register_user(ledger, developer)
    return ledger.register_app(
        owner=developer,
        name=name,
        description=f"{name}: prints your photos",
        website="https://client.example",
        redirect_uris=list(redirect_uris),
        actor=Actor.developer(developer),
    )


def open_scope_applications(ledger: Ledger, scopes: Iterable[str]) -> None:
    """The platform reopens applications for each of the scopes that is closed."""
    for scope in scopes:
        if not ledger.catalogue().policy(scope).applications_open:
            ledger.reopen_scope_applications(scope, PLATFORM, "test setup: accept reviews")


def submit_review(
    ledger: Ledger,
    client_id: str,
    owner: str,
    scopes: Iterable[str] = ("basic",),
    *,
    use_case: str | None = None,
) -> UUID:
    """The owner submits the app for the scopes, each described; answers the review's id.
    Only ``basic`` goes under own_content, anything else under brands_and_advertisers."""
    scopes = list(scopes)
    if use_case is None:
        use_case = OWN_CONTENT if scopes == ["basic"] else EVERY_SCOPE_USE_CASE
    return ledger.submit_review(
        client_id,
        use_case=use_case,
        permissions={scope: f"We use {scope} to print photos" for scope in scopes},
        screencast_url=SCREENCAST_URL,
        actor=Actor.developer(owner),
    ).id


def decide_review(
    ledger: Ledger,
    review_id: UUID,
    *,
    approve: Iterable[str] = (),
    reject: Iterable[str] = (),
    reviewer: Actor = REVIEWER,
) -> None:
    """A reviewer's decision on each named permission, approvals first."""
    for scope in approve:
        ledger.decide_review(review_id, scope, approve=True, reason="fits", actor=reviewer)
    for scope in reject:
        ledger.decide_review(
            review_id, scope, approve=False, reason="not shown in the screencast", actor=reviewer
        )


def approve_app(
    ledger: Ledger, client_id: str, owner: str, scopes: Iterable[str] = ("basic",)
) -> UUID:
    """Reopens closed scopes, submits a review for the scopes and approves each; the app stays
    in its mode. Answers the review's id."""
    scopes = list(scopes)
    open_scope_applications(ledger, scopes)
    review_id = submit_review(ledger, client_id, owner, scopes)
    decide_review(ledger, review_id, approve=scopes)
    return review_id


def approved_live_app(
    ledger: Ledger,
    scopes: Iterable[str] = ("basic",),
    developer: str = "dev_live",
    *,
    name: str = "Live Printer",
) -> ClientRegistered:
    """A new developer's app, reviewed, approved for the scopes and switched live."""
    app = register_app(ledger, developer, name=name)
    approve_app(ledger, app.client_id, developer, scopes)
    ledger.go_live(app.client_id, Actor.developer(developer))
    return app


def stored_notifications(ledger: Ledger, section_size: int = 10) -> Iterator[Notification]:
    """Every stored event, read from the notification log one section at a time."""
    start = 1
    while True:
        section = ledger.notification_log.select(start=start, limit=section_size)
        yield from section
        if len(section) < section_size:
            return
        start = section[-1].id + 1


@contextmanager
def refused(ledger: Ledger, error: type[LedgerError], message: str | None = None) -> Iterator[Any]:
    """The block must raise ``error`` (with exactly ``message``, if given) and write nothing.

    Yields pytest's ExceptionInfo, so a test can look at the error further.
    """
    before = ledger.position()
    with pytest.raises(error) as excinfo:
        yield excinfo
    if message is not None:
        assert str(excinfo.value) == message
    assert ledger.position() == before, "a refused command wrote events to the log"
