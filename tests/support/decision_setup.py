"""Setting the ledger up for the permission-decision (read side) suites.

Each helper goes through the ledger's own commands (register, invite and accept, review and
approve, go live, authorize, exchange) and then projects, so the read models answer for
everything written. What they return carries the plaintext access token (shown once by the
ledger) and the ids a test asserts on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from application.results import ClientRegistered
from domain.actors import Actor
from domain.errors import UserNotFoundError
from domain.identity import user_id as user_id_of
from tests.support.ledger_setup import (
    PLATFORM,
    REVIEWER,
    add_sandbox_user,
    approve_and_go_live,
    authorize,
    exchange,
    open_scope_applications,
    register_app,
    register_user,
    submit_review,
)

if TYPE_CHECKING:
    from uuid import UUID

    from application.ledger import Ledger
    from infrastructure.runtime import Runtime

__all__ = [
    "PLATFORM",
    "REVIEWER",
    "AppSetup",
    "TokenSetup",
    "approve_scopes",
    "events_written_since",
    "issue_position",
    "live_app",
    "live_token",
    "project",
    "sandbox_app",
    "sandbox_token",
    "token_for",
    "unreviewed_live_token",
]


@dataclass(frozen=True)
class AppSetup:
    """An app and its owner (a registered user, who is a sandbox user by ownership)."""

    app: ClientRegistered
    owner: str

    @property
    def client_id(self) -> str:
        return self.app.client_id


@dataclass(frozen=True)
class TokenSetup:
    """A token issued through the code flow, with what it was issued for."""

    access_token: str
    token_id: UUID
    app: AppSetup
    username: str
    scopes: tuple[str, ...]
    position: int  # the log position of the token's issue

    @property
    def client_id(self) -> str:
        return self.app.client_id

    @property
    def user_id(self) -> str:
        """The user's id as the API shows it (and as the read models store it)."""
        return user_id_of(self.username).hex


def project(runtime: Runtime) -> int:
    """Applies every stored event to the read models; answers the position they reached."""
    runtime.projector.catch_up()
    return runtime.read_model.position()


def events_written_since(ledger: Ledger, before: int) -> list[str]:
    """The types (``App.Disabled``, ...) of the events stored after log position ``before``,
    in log order. Counted from the log itself, not from position arithmetic, so a gap in the
    notification ids cannot miscount."""
    notifications = ledger.recorder.select_notifications(
        start=before, limit=10_000, inclusive_of_start=False
    )
    return [n.topic.rsplit(":", 1)[-1] for n in notifications]


def _ensure_user(ledger: Ledger, username: str) -> None:
    try:
        ledger.user(username)
    except UserNotFoundError:
        register_user(ledger, username)


def sandbox_app(runtime: Runtime, owner: str = "dev_owner", *, name: str = "Printer") -> AppSetup:
    """A new app in sandbox mode, its owner registered first."""
    return AppSetup(register_app(runtime.ledger, owner, name=name), owner)


def live_app(
    runtime: Runtime,
    approved: Iterable[str] = ("basic",),
    owner: str = "dev_live",
    *,
    name: str = "Live Printer",
) -> AppSetup:
    """A new app, reviewed, approved for ``approved`` (``basic`` comes with any approval) and
    switched live."""
    setup = AppSetup(register_app(runtime.ledger, owner, name=name), owner)
    approve_and_go_live(runtime.ledger, setup.client_id, owner, tuple(approved))
    return setup


def approve_scopes(runtime: Runtime, setup: AppSetup, scopes: Iterable[str]) -> None:
    """A review of the app for ``scopes``, each approved; the app keeps its mode."""
    scopes = list(scopes)
    open_scope_applications(runtime.ledger, scopes)
    review_id = submit_review(runtime.ledger, setup.client_id, setup.owner, scopes)
    for scope in scopes:
        runtime.ledger.decide_review(review_id, scope, approve=True, reason="fits", actor=REVIEWER)


def token_for(
    runtime: Runtime,
    setup: AppSetup,
    username: str,
    scopes: str | None = "basic",
    *,
    sandbox_user: bool = False,
) -> TokenSetup:
    """``username`` (registered if new; invited and accepted first if ``sandbox_user``)
    authorizes the app for ``scopes`` and the client exchanges the code; then projects."""
    ledger = runtime.ledger
    _ensure_user(ledger, username)
    if sandbox_user and username != setup.owner:
        add_sandbox_user(ledger, setup.client_id, setup.owner, username)
    code = authorize(ledger, setup.client_id, username, scopes).code
    before = ledger.position()
    issued = exchange(ledger, setup.app, code)
    project(runtime)
    return TokenSetup(
        issued.access_token,
        issued.token_id,
        setup,
        username,
        tuple(issued.scopes),
        issue_position(ledger, issued.token_id, before),
    )


def issue_position(ledger: Ledger, token_id: UUID, after: int = 0) -> int:
    """The log position of the token's ``AccessToken.Issued`` event (a command's answer is the
    position of its last event, which need not be the token's)."""
    for notification in ledger.recorder.select_notifications(
        start=after, limit=10_000, inclusive_of_start=False
    ):
        if notification.originator_id == token_id and notification.topic.endswith(
            "AccessToken.Issued"
        ):
            return int(notification.id)
    raise AssertionError(f"no AccessToken.Issued event for {token_id} after {after}")


def sandbox_token(
    runtime: Runtime,
    scopes: str | None = "basic",
    *,
    user: str = "alice",
    owner: str = "dev_owner",
    app: AppSetup | None = None,
) -> TokenSetup:
    """An accepted sandbox user's token for a (new, unless given) sandbox app."""
    setup = app or sandbox_app(runtime, owner)
    return token_for(runtime, setup, user, scopes, sandbox_user=True)


def live_token(
    runtime: Runtime,
    scopes: str | None = "basic",
    *,
    approved: Iterable[str] | None = None,
    user: str = "bob",
    owner: str = "dev_live",
    app: AppSetup | None = None,
) -> TokenSetup:
    """A token of a user who is not a sandbox user, for a (new, unless given) live app
    approved for ``approved`` (by default the token's own scopes)."""
    if app is None:
        wanted = approved if approved is not None else (scopes or "basic").split()
        app = live_app(runtime, wanted, owner)
    return token_for(runtime, app, user, scopes)


def unreviewed_live_token(
    runtime: Runtime,
    scopes: str | None = "basic",
    *,
    user: str = "bob",
    owner: str = "dev_early",
) -> TokenSetup:
    """As before the review process: the platform lets unreviewed apps go live, an app goes
    live with no review, and a user who is no sandbox user authorizes it."""
    runtime.ledger.allow_unreviewed_live(PLATFORM, "before the review process")
    setup = sandbox_app(runtime, owner, name="Early Printer")
    runtime.ledger.go_live(setup.client_id, Actor.developer(owner))
    return token_for(runtime, setup, user, scopes)
