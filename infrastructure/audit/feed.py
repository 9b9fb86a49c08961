"""The audit change feed: every event in log order, from an opaque cursor, filtered.

A page is one indexed query of the audit index (``rm_audit``, see
``infrastructure.read_model.audit_index``). The cursor is the log position of the last event a
caller has seen, wrapped (base64url of a small versioned JSON) so clients treat it as opaque and
the ledger may change what it carries. A caller that is caught up gets its own cursor back, so
tailing the log is: ask again with the cursor you were given. A long poll (``wait``) blocks until
the read models pass the position the page was read at, across processes, bounded per process
like every waiting read. Nothing is ever trimmed: the feed starts at the log's first event.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from domain.errors import InvalidCursorError, InvalidInputError
from domain.identity import app_id_from_client_id
from infrastructure.read_model.audit_index import AUDIT_TABLE, COLUMNS
from infrastructure.read_model.projection import micros
from infrastructure.read_model.queries import DEFAULT_TIMEOUT, ReadModel

CURSOR_VERSION = 1
DEFAULT_PAGE = 100
MAX_PAGE = 1000
MAX_WAIT = 30.0  # seconds a long poll may block
EXPORT_PAGE = 500

# What a history names, and the index column it is found by.
HISTORY_KINDS = {
    "app": "app_id",
    "user": "user_id",
    "token": "token_id",
    "review": "review_id",
    "grant": "grant_id",
    "actor": "actor",
}


def encode_cursor(position: int) -> str:
    """The opaque cursor after log position ``position``."""
    raw = f'{{"v":{CURSOR_VERSION},"p":{int(position)}}}'.encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str | None) -> int:
    """The log position a cursor stands after (0, the log's start, for none)."""
    if cursor is None or cursor == "":
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
        position = value["p"]
        if value["v"] != CURSOR_VERSION or type(position) is not int or position < 0:
            raise ValueError
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise InvalidCursorError(
            f"The cursor {cursor[:80]!r} is not one the audit feed handed out; start without "
            "a cursor, or pass the cursor of the last page you read"
        ) from None
    return position


def _hex_id(value: str, what: str) -> str:
    """An id as the index stores it (UUID hex, no dashes); the same for a client_id."""
    from uuid import UUID

    try:
        return UUID(value.strip()).hex
    except ValueError:
        raise InvalidInputError(f"{what} {value[:80]!r} is not an id") from None


@dataclass(frozen=True)
class AuditFilter:
    """Which events a page holds; every given field must match (AND)."""

    app: str | None = None  # client_id
    user: str | None = None  # user id or username
    token: str | None = None
    review: str | None = None
    grant: str | None = None
    actor: str | None = None
    event_types: tuple[str, ...] = ()
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def __post_init__(self) -> None:
        texts = [
            self.app,
            self.user,
            self.token,
            self.review,
            self.grant,
            self.actor,
            *self.event_types,
        ]
        if any(text is not None and "\x00" in text for text in texts):
            # No id or name holds one, and PostgreSQL cannot compare text holding it.
            raise InvalidInputError("A filter must not contain the NUL character (\\u0000)")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise InvalidInputError("since must be before until")


@dataclass(frozen=True)
class AuditEvent:
    """One event as the audit trail shows it."""

    position: int
    at: datetime
    event_type: str
    aggregate_id: str
    version: int
    actor: str
    role: str
    reason: str
    app_id: str | None
    user_id: str | None
    token_id: str | None
    review_id: str | None
    grant_id: str | None
    leaf_hash: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def cursor(self) -> str:
        """The cursor to resume after this event."""
        return encode_cursor(self.position)

    @property
    def subjects(self) -> dict[str, str | None]:
        return {
            "app_id": self.app_id,
            "user_id": self.user_id,
            "token_id": self.token_id,
            "review_id": self.review_id,
            "grant_id": self.grant_id,
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "cursor": self.cursor,
            "time": self.at.isoformat().replace("+00:00", "Z"),
            "event_type": self.event_type,
            "aggregate_id": self.aggregate_id,
            "version": self.version,
            "actor": self.actor,
            "role": self.role,
            "reason": self.reason,
            "subjects": self.subjects,
            "data": self.data,
            "leaf_hash": self.leaf_hash,
        }


def _event(row: Any) -> AuditEvent:
    values = dict(zip(COLUMNS, row, strict=True))
    at = int(values.pop("at"))
    moment = datetime.fromtimestamp(at // 1_000_000, UTC).replace(microsecond=at % 1_000_000)
    values["data"] = json.loads(values["data"])
    values["position"] = int(values["position"])
    values["version"] = int(values["version"])
    return AuditEvent(at=moment, **values)


@dataclass(frozen=True)
class Page:
    """Events after a cursor, and the cursor to ask with next (the same one when caught up)."""

    events: list[AuditEvent]
    cursor: str
    position: int  # how far the read models had projected when the page was read

    @property
    def caught_up(self) -> bool:
        return not self.events


class AuditFeed:
    """Pages of the audit index; reads only (the projector writes the index)."""

    def __init__(self, read_model: ReadModel) -> None:
        self.read_model = read_model
        self.db = read_model.db

    def _where(self, filters: AuditFilter) -> tuple[list[str], dict[str, Any]]:
        clauses: list[str] = []
        params: dict[str, Any] = {}

        def equal(column: str, value: str | None) -> None:
            if value is not None:
                clauses.append(f"{column} = :{column}")
                params[column] = value

        if filters.app is not None:
            app_id = app_id_from_client_id(filters.app.strip())
            if app_id is None:
                raise InvalidInputError(f"app {filters.app[:80]!r} is not a client_id")
            equal("app_id", app_id.hex)
        if filters.user is not None:
            equal("user_id", self._user_id(filters.user))
        if filters.token is not None:
            equal("token_id", _hex_id(filters.token, "token"))
        if filters.review is not None:
            equal("review_id", _hex_id(filters.review, "review"))
        if filters.grant is not None:
            equal("grant_id", _hex_id(filters.grant, "grant"))
        equal("actor", filters.actor)
        if filters.event_types:
            names = [f"t{i}" for i in range(len(filters.event_types))]
            clauses.append(f"event_type IN ({', '.join(':' + n for n in names)})")
            params.update(zip(names, filters.event_types, strict=True))
        if filters.since is not None:
            clauses.append("at >= :since")
            params["since"] = micros(filters.since)
        if filters.until is not None:
            clauses.append("at < :until")
            params["until"] = micros(filters.until)
        return clauses, params

    def _user_id(self, user: str) -> str:
        """A user named by id or username (a username no one has matches nothing)."""
        user = user.strip()
        try:
            return _hex_id(user, "user")
        except InvalidInputError:
            rows = self.db.query("SELECT user_id FROM rm_users WHERE username = :u", {"u": user})
            return str(rows[0][0]) if rows else "\x1fno such user"

    def page(
        self,
        after: int,
        filters: AuditFilter | None = None,
        limit: int = DEFAULT_PAGE,
        *,
        up_to: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Page:
        """At most ``limit`` events after position ``after`` matching ``filters``.

        Read at "now" (waiting, during a rebuild, for the rebuilt index to reach the furthest
        position ever projected, so a page never skips events a rebuild has not restored yet),
        or at most up to ``up_to``."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInputError(f"limit must be between 1 and {MAX_PAGE}")
        now = self.read_model.resolve(None, None, timeout)
        if up_to is not None:
            now = min(now, up_to)
        clauses, params = self._where(filters or AuditFilter())
        clauses[:0] = ["position > :after", "position <= :now"]
        params.update(after=after, now=now, limit=limit)
        # Only fixed column names and placeholders are joined in: values are parameters.
        rows = self.db.query(
            f"SELECT {', '.join(COLUMNS)} FROM {AUDIT_TABLE} "
            f"WHERE {' AND '.join(clauses)} ORDER BY position LIMIT :limit",
            params,
        )
        events = [_event(row) for row in rows]
        cursor = events[-1].cursor if events else encode_cursor(after)
        return Page(events, cursor, now)

    def wait_page(
        self,
        after: int,
        filters: AuditFilter | None = None,
        limit: int = DEFAULT_PAGE,
        wait: float = 0.0,
    ) -> Page:
        """Like ``page``, but when caught up blocks up to ``wait`` seconds for a new event
        that matches; answers the caught-up page (same cursor) if none comes."""
        if not 0 <= wait <= MAX_WAIT:
            raise InvalidInputError(f"wait must be between 0 and {MAX_WAIT:g} seconds")
        deadline = time.monotonic() + wait
        page = self.page(after, filters, limit)
        while page.caught_up:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return page
            reached = self.read_model.wait_past(page.position, remaining)
            if reached > page.position:
                page = self.page(after, filters, limit)
        return page

    def history(self, kind: str, subject: str, after: int = 0, limit: int = DEFAULT_PAGE) -> Page:
        """The events of one token, grant, app, review, user or actor, in log order."""
        if kind not in HISTORY_KINDS:
            raise InvalidInputError(f"History of {kind!r}: kinds are {', '.join(HISTORY_KINDS)}")
        filters = AuditFilter(**{kind: subject})  # type: ignore[arg-type]  # a str field
        return self.page(after, filters, limit)

    def iterate(
        self,
        after: int = 0,
        filters: AuditFilter | None = None,
        page_size: int = EXPORT_PAGE,
        *,
        up_to: int | None = None,
    ) -> Iterator[AuditEvent]:
        """Every matching event after ``after`` up to ``up_to`` (by default the position
        projected when iteration starts), page by page: constant memory whatever the log's
        length."""
        while True:
            page = self.page(after, filters, page_size, up_to=up_to)
            up_to = page.position
            yield from page.events
            if len(page.events) < page_size:
                return
            after = page.events[-1].position
