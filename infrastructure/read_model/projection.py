"""How each event changes the read models: one batch of events → rows and interval ends.

A batch is applied in one transaction together with the tracking position, so every event is
applied exactly once, across crashes too. Intervals opened and closed within one batch are settled
in memory; closes of older intervals become UPDATEs run in event order before the inserts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from domain.apps import App
from domain.grants import Grant
from domain.identity import grant_id
from domain.scopes import ScopeCatalogue
from domain.tokens import AccessToken
from domain.users import User
from infrastructure.read_model.audit_index import audit_row

APP_DISABLED = "app_disabled"
APP_LIVE = "app_live"
APP_APPROVED = "app_approved"
SANDBOX_USER = "sandbox_user"
GRANT = "grant"
SCOPE_EXISTS = "scope_exists"
SCOPE_RETIRED = "scope_retired"
UNREVIEWED_LIVE = "unreviewed_live"
PLATFORM = "platform"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    """A moment as whole microseconds since the epoch (exact, unlike float timestamps)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _text(value: Any) -> str:
    """Free text as the read models store it: PostgreSQL refuses NUL characters in text, and
    one event the projector cannot store would stop it for good, so NUL becomes U+FFFD."""
    return str(value or "").replace("\x00", "\ufffd")


def _hex(value: Any) -> str:
    return value.hex if hasattr(value, "hex") and not isinstance(value, str) else str(value)


class Batch:
    """The read-model changes of consecutive events, ready to be written in one transaction."""

    def __init__(self) -> None:
        self.log: list[tuple[Any, ...]] = []
        self.users: list[tuple[Any, ...]] = []
        self.apps: list[tuple[Any, ...]] = []
        self.grants: list[tuple[Any, ...]] = []
        self.tokens: dict[str, list[Any]] = {}
        self.intervals: list[list[Any]] = []
        self._open: dict[tuple[str, str, str], list[Any]] = {}
        # UPDATEs of rows written by earlier batches, in event order:
        # ("close", to_pos, kind, subject, object) | ("close_all", to_pos, kind, subject)
        # | ("end_token", to_pos, kind, token_id)
        self.updates: list[tuple[Any, ...]] = []
        self.audit: list[tuple[Any, ...]] = []  # rm_audit rows (see audit_index)
        self.first_position = 0
        self.last_position = 0

    # --- interval bookkeeping -----------------------------------------------------------------

    def open(self, kind: str, subject: str, obj: str, pos: int) -> None:
        key = (kind, subject, obj)
        if key in self._open:
            return
        row = [kind, subject, obj, pos, None]
        self._open[key] = row
        self.intervals.append(row)

    def close(self, kind: str, subject: str, obj: str, pos: int) -> None:
        row = self._open.pop((kind, subject, obj), None)
        if row is not None:
            row[4] = pos
        else:
            self.updates.append(("close", pos, kind, subject, obj))

    def close_all(self, kind: str, subject: str, pos: int) -> None:
        for key in [k for k in self._open if k[0] == kind and k[1] == subject]:
            self._open.pop(key)[4] = pos
        self.updates.append(("close_all", pos, kind, subject))

    def end_token(self, token_id: str, pos: int, kind: str) -> None:
        row = self.tokens.get(token_id)
        if row is not None:
            if row[8] is None:
                row[8], row[9] = pos, kind
        else:
            self.updates.append(("end_token", pos, kind, token_id))

    # --- events -------------------------------------------------------------------------------

    def add(self, event: Any, position: int, stored: Any = None) -> None:
        """``stored``: the event as persisted (its notification), for the audit index's leaf
        hash."""
        name = type(event).__qualname__
        agg = _hex(event.originator_id)
        at = micros(event.timestamp)
        who = (
            _text(getattr(event, "actor", "")),
            _text(getattr(event, "role", "")),
            _text(getattr(event, "reason", "")),
        )
        self.log.append((position, at, name, agg, event.originator_version, *who))
        handler = HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event, agg, position)
        token = self.tokens.get(agg) if type(event) is TOKEN_ISSUED else None
        self.audit.append(
            audit_row(event, position, name, agg, at, who, stored, token[4] if token else None)
        )
        if not self.first_position:
            self.first_position = position
        self.last_position = position


def _catalogue_created(b: Batch, e: Any, agg: str, pos: int) -> None:
    for name, _description, _open in e.scopes:
        b.open(SCOPE_EXISTS, name, "", pos)
    if e.unreviewed_live_allowed:
        b.open(UNREVIEWED_LIVE, PLATFORM, "", pos)


def _user_registered(b: Batch, e: Any, agg: str, pos: int) -> None:
    b.users.append((agg, _text(e.username), _text(e.full_name), _text(e.profile_picture), pos))


def _app_registered(b: Batch, e: Any, agg: str, pos: int) -> None:
    b.apps.append((agg, agg, _hex(e.owner_id), _text(e.name), pos))
    b.open(SANDBOX_USER, agg, _hex(e.owner_id), pos)


def _mode_changed(b: Batch, e: Any, agg: str, pos: int) -> None:
    if e.mode == "live":
        b.open(APP_LIVE, agg, "", pos)
    else:
        b.close(APP_LIVE, agg, "", pos)


def _permission_approved(b: Batch, e: Any, agg: str, pos: int) -> None:
    for scope in e.scopes:
        b.open(APP_APPROVED, agg, scope, pos)


def _approval_withdrawn(b: Batch, e: Any, agg: str, pos: int) -> None:
    for scope in e.scopes:
        b.close(APP_APPROVED, agg, scope, pos)


def _grant_created(b: Batch, e: Any, agg: str, pos: int) -> None:
    b.grants.append((agg, _hex(e.user_id), _hex(e.app_id), pos))


def _scopes_granted(b: Batch, e: Any, agg: str, pos: int) -> None:
    for scope in e.scopes:
        b.open(GRANT, agg, scope, pos)


def _token_issued(b: Batch, e: Any, agg: str, pos: int) -> None:
    b.tokens[agg] = [
        agg,
        e.digest,
        _hex(e.app_id),
        _hex(e.user_id),
        grant_id(e.user_id, e.app_id).hex,
        " ".join(e.scopes),
        e.flow,
        pos,
        None,
        None,
    ]


Handler = Callable[[Batch, Any, str, int], None]


def _event(aggregate: type[Any], name: str) -> type[Any]:
    """The aggregate's event class of that name (``App.Registered``), looked up when this module
    is imported: a renamed event fails here instead of being skipped by the projection."""
    cls: type[Any] = getattr(aggregate, name)
    return cls


TOKEN_ISSUED = _event(AccessToken, "Issued")

# Keyed by the event classes themselves: a renamed class is an import error, not a silently
# skipped event.
HANDLERS: dict[type[Any], Handler] = {
    _event(ScopeCatalogue, "Created"): _catalogue_created,
    _event(ScopeCatalogue, "ScopeIntroduced"): lambda b, e, agg, pos: b.open(
        SCOPE_EXISTS, e.scope, "", pos
    ),
    _event(ScopeCatalogue, "ScopeRetired"): lambda b, e, agg, pos: b.open(
        SCOPE_RETIRED, e.scope, "", pos
    ),
    _event(ScopeCatalogue, "UnreviewedLiveAllowed"): lambda b, e, agg, pos: b.open(
        UNREVIEWED_LIVE, PLATFORM, "", pos
    ),
    _event(ScopeCatalogue, "UnreviewedAppsMovedToSandbox"): lambda b, e, agg, pos: b.close(
        UNREVIEWED_LIVE, PLATFORM, "", pos
    ),
    _event(User, "Registered"): _user_registered,
    _event(App, "Registered"): _app_registered,
    _event(App, "SandboxInvitationAccepted"): lambda b, e, agg, pos: b.open(
        SANDBOX_USER, agg, _hex(e.user_id), pos
    ),
    _event(App, "SandboxUserRemoved"): lambda b, e, agg, pos: b.close(
        SANDBOX_USER, agg, _hex(e.user_id), pos
    ),
    _event(App, "ModeChanged"): _mode_changed,
    _event(App, "Disabled"): lambda b, e, agg, pos: b.open(APP_DISABLED, agg, "", pos),
    _event(App, "Enabled"): lambda b, e, agg, pos: b.close(APP_DISABLED, agg, "", pos),
    _event(App, "PermissionApproved"): _permission_approved,
    _event(App, "ApprovalWithdrawn"): _approval_withdrawn,
    _event(Grant, "Created"): _grant_created,
    _event(Grant, "ScopesGranted"): _scopes_granted,
    _event(Grant, "Deauthorized"): lambda b, e, agg, pos: b.close_all(GRANT, agg, pos),
    _event(AccessToken, "Issued"): _token_issued,
    _event(AccessToken, "Revoked"): lambda b, e, agg, pos: b.end_token(agg, pos, "revoked"),
    _event(AccessToken, "Expired"): lambda b, e, agg, pos: b.end_token(agg, pos, "expired"),
}
