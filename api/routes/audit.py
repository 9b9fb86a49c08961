"""The audit trail: the change feed, one subject's history, and exports (auditors and admins).

Pages come from the audit index in log order with an opaque cursor; ``wait`` long-polls for the
next matching event. Exports stream every matching event from a cursor, page by page.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from api.auth import Auditor
from api.dependencies import RuntimeDep
from api.errors import LEDGER_ERROR_RESPONSES
from api.positions import POSITION_HEADER, ReadTimeoutDep
from api.schemas.audit import AuditEventOut, AuditPageOut
from infrastructure.audit.exports import MEDIA_TYPES, WRITERS
from infrastructure.audit.feed import (
    DEFAULT_PAGE,
    MAX_PAGE,
    MAX_WAIT,
    AuditFeed,
    AuditFilter,
    Page,
    decode_cursor,
)

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=LEDGER_ERROR_RESPONSES)

AfterQuery = Annotated[
    str | None,
    Query(
        max_length=200, description="The cursor of the last page (or event) read; none: the start."
    ),
]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_PAGE, description="At most this many events.")]
Subject = Annotated[str | None, Query(max_length=200)]


def _filters(
    app: str | None,
    user: str | None,
    token: str | None,
    review: str | None,
    grant: str | None,
    actor: str | None,
    event_type: list[str] | None,
    since: datetime | None,
    until: datetime | None,
) -> AuditFilter:
    return AuditFilter(
        app=app,
        user=user,
        token=token,
        review=review,
        grant=grant,
        actor=actor,
        event_types=tuple(event_type or ()),
        since=since,
        until=until,
    )


def _page_out(page: Page) -> AuditPageOut:
    return AuditPageOut(
        events=[AuditEventOut(**e.as_json()) for e in page.events],
        cursor=page.cursor,
        caught_up=page.caught_up,
        position=page.position,
    )


def wait_limit(request: Request) -> float:
    """The longest long poll of this app (tests shorten it)."""
    limit: float = getattr(request.app.state, "audit_wait_limit", MAX_WAIT)
    return limit


@router.get(
    "/changes",
    response_model=AuditPageOut,
    summary="Every event in log order after a cursor, filtered; long-polls with wait",
)
def changes(
    caller: Auditor,
    runtime: RuntimeDep,
    request: Request,
    after: AfterQuery = None,
    limit: LimitQuery = DEFAULT_PAGE,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=MAX_WAIT,
            description=("Seconds to wait for a matching event when caught up (long poll)."),
        ),
    ] = 0,
    app: Annotated[str | None, Query(max_length=200, description="An app's client_id.")] = None,
    user: Annotated[
        str | None, Query(max_length=200, description="A user's id or username.")
    ] = None,
    token: Subject = None,
    review: Subject = None,
    grant: Subject = None,
    actor: Subject = None,
    event_type: Annotated[
        list[str] | None,
        Query(
            max_length=50,
            description=("Event types, e.g. App.Registered (repeat the parameter for several)."),
        ),
    ] = None,
    since: Annotated[datetime | None, Query(description="Events at or after this moment.")] = None,
    until: Annotated[datetime | None, Query(description="Events before this moment.")] = None,
) -> AuditPageOut:
    feed = AuditFeed(runtime.read_model)
    filters = _filters(app, user, token, review, grant, actor, event_type, since, until)
    page = feed.wait_page(decode_cursor(after), filters, limit, wait=min(wait, wait_limit(request)))
    return _page_out(page)


@router.get(
    "/history/{kind}/{subject}",
    response_model=AuditPageOut,
    summary="The events of one app, user, token, review, grant or actor, in order",
)
def history(
    caller: Auditor,
    runtime: RuntimeDep,
    kind: Literal["app", "user", "token", "review", "grant", "actor"],
    subject: str,
    after: AfterQuery = None,
    limit: LimitQuery = DEFAULT_PAGE,
) -> AuditPageOut:
    page = AuditFeed(runtime.read_model).history(kind, subject, decode_cursor(after), limit)
    return _page_out(page)


@router.get(
    "/export",
    summary="Every matching event after a cursor, streamed: JSON Lines, CSV or OCSF JSON Lines",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/x-ndjson": {}, "text/csv": {}},
            "description": "One row per event (CSV: a header row first).",
        }
    },
)
def export(
    caller: Auditor,
    runtime: RuntimeDep,
    timeout: ReadTimeoutDep,
    format: Literal["jsonl", "csv", "ocsf"] = "jsonl",
    after: AfterQuery = None,
    app: Annotated[str | None, Query(max_length=200, description="An app's client_id.")] = None,
    user: Annotated[
        str | None, Query(max_length=200, description="A user's id or username.")
    ] = None,
    token: Subject = None,
    review: Subject = None,
    grant: Subject = None,
    actor: Subject = None,
    event_type: Annotated[list[str] | None, Query(max_length=50)] = None,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
) -> StreamingResponse:
    feed = AuditFeed(runtime.read_model)
    filters = _filters(app, user, token, review, grant, actor, event_type, since, until)
    start = decode_cursor(after)
    # The first page is read before answering, so bad input or lagging read models are an
    # error status rather than a broken stream; the export ends at the position read then.
    first = feed.page(start, filters, 1, timeout=timeout)

    def rows() -> Iterator[str]:
        yield from WRITERS[format](feed.iterate(start, filters, up_to=first.position))

    suffix = "csv" if format == "csv" else "jsonl"
    return StreamingResponse(
        rows(),
        media_type=MEDIA_TYPES[format],
        headers={
            POSITION_HEADER: str(first.position),
            "Content-Disposition": f'attachment; filename="audit-{format}.{suffix}"',
        },
    )
