"""`ledger audit …`: the audit trail from the command line: the change feed (and tailing it),
one subject's history, and exports of any size to a file or standard output.

Events print as JSON Lines, the export formats as ``GET /v1/audit/export`` answers them. The
cursor to resume from is printed last on standard error (``cursor: …``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from domain.errors import InvalidInputError, LedgerError
from infrastructure.audit.exports import FORMATS, WRITERS, jsonl
from infrastructure.audit.feed import (
    DEFAULT_PAGE,
    HISTORY_KINDS,
    MAX_WAIT,
    AuditEvent,
    AuditFeed,
    AuditFilter,
    decode_cursor,
)
from infrastructure.runtime import Runtime, open_runtime
from infrastructure.settings import SettingsError, build_settings

CATCH_UP_TIMEOUT = 60.0  # seconds for the read models to reach the log before reading

audit = typer.Typer(
    help="The audit trail: changes, histories, exports (here), and the log's "
    "tamper evidence: verify, checkpoint, keygen (api/audit_tree_cli.py).",
    no_args_is_help=True,
)

After = Annotated[str | None, typer.Option(help="Resume after this cursor (default: the start)")]
App = Annotated[str | None, typer.Option(help="Only events of this app (client_id)")]
User = Annotated[str | None, typer.Option(help="Only events of this user (id or username)")]
Token = Annotated[str | None, typer.Option(help="Only events of this token (id)")]
Review = Annotated[str | None, typer.Option(help="Only events of this review (id)")]
Grant = Annotated[str | None, typer.Option(help="Only events of this grant (id)")]
ActorOption = Annotated[str | None, typer.Option("--actor", help="Only events this actor caused")]
Types = Annotated[
    list[str] | None,
    typer.Option("--type", help="Only events of this type, e.g. App.Registered (repeatable)"),
]
Since = Annotated[datetime | None, typer.Option(help="Only events at or after this moment (UTC)")]
Until = Annotated[datetime | None, typer.Option(help="Only events before this moment (UTC)")]


@contextmanager
def _runtime() -> Iterator[Runtime]:
    """The ledger with a projector of its own, so the feed moves without a server running too
    (on PostgreSQL the projector stands by while a service's leads)."""
    try:
        settings = build_settings()
    except SettingsError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    runtime = open_runtime(settings)
    try:
        runtime.read_model.wait_for(runtime.ledger.position(), CATCH_UP_TIMEOUT, bounded=False)
        yield runtime
    except LedgerError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(code=2 if isinstance(exc, InvalidInputError) else 1) from None
    finally:
        runtime.close()


def _filters(
    app: str | None,
    user: str | None,
    token: str | None,
    review: str | None,
    grant: str | None,
    actor: str | None,
    types: list[str] | None,
    since: datetime | None,
    until: datetime | None,
) -> AuditFilter:
    try:
        return AuditFilter(
            app=app,
            user=user,
            token=token,
            review=review,
            grant=grant,
            actor=actor,
            event_types=tuple(types or ()),
            since=since,
            until=until,
        )
    except InvalidInputError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(code=2) from None


@audit.command()
def changes(
    after: After = None,
    limit: Annotated[int, typer.Option(help="Events per page (1-1000)")] = DEFAULT_PAGE,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow", "-f", help="Keep printing new events as they happen (Ctrl-C stops)"
        ),
    ] = False,
    stop_after: Annotated[
        int | None, typer.Option(help="With --follow: stop once this many events were printed")
    ] = None,
    app: App = None,
    user: User = None,
    token: Token = None,
    review: Review = None,
    grant: Grant = None,
    actor: ActorOption = None,
    types: Types = None,
    since: Since = None,
    until: Until = None,
) -> None:
    """Print events after a cursor in log order (one page, or all of them with --follow)."""
    filters = _filters(app, user, token, review, grant, actor, types, since, until)
    with _runtime() as runtime:
        feed = AuditFeed(runtime.read_model)
        position = decode_cursor(after)
        cursor = after or ""
        printed = 0
        try:
            while True:
                page = feed.wait_page(position, filters, limit, wait=MAX_WAIT if follow else 0)
                for line in jsonl(page.events):
                    typer.echo(line, nl=False)
                    printed += 1
                    sys.stdout.flush()
                cursor = page.cursor
                position = decode_cursor(cursor)
                if not follow or (stop_after is not None and printed >= stop_after):
                    break
        except KeyboardInterrupt:
            pass
        typer.echo(f"cursor: {cursor}", err=True)


@audit.command()
def history(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(HISTORY_KINDS)}")],
    subject: Annotated[
        str,
        typer.Argument(
            help="Its id (an app: client_id; a user: id or username; an actor: the name)"
        ),
    ],
    after: After = None,
    limit: Annotated[int, typer.Option(help="Events per page (1-1000)")] = DEFAULT_PAGE,
) -> None:
    """Print one subject's events in order, with actor, role and reason."""
    with _runtime() as runtime:
        page = AuditFeed(runtime.read_model).history(kind, subject, decode_cursor(after), limit)
        for line in jsonl(page.events):
            typer.echo(line, nl=False)
        typer.echo(f"cursor: {page.cursor}", err=True)


@audit.command()
def export(
    format: Annotated[str, typer.Option(help=f"One of: {', '.join(FORMATS)}")] = "jsonl",
    after: After = None,
    output: Annotated[
        Path | None, typer.Option(help="Write to this file (default: standard output)")
    ] = None,
    app: App = None,
    user: User = None,
    token: Token = None,
    review: Review = None,
    grant: Grant = None,
    actor: ActorOption = None,
    types: Types = None,
    since: Since = None,
    until: Until = None,
) -> None:
    """Export every matching event after a cursor, streamed page by page (any size)."""
    if format not in FORMATS:
        typer.echo(f"error: --format is one of {', '.join(FORMATS)}", err=True)
        raise typer.Exit(code=2)
    filters = _filters(app, user, token, review, grant, actor, types, since, until)
    with _runtime() as runtime:
        feed = AuditFeed(runtime.read_model)
        start = decode_cursor(after)
        last: AuditEvent | None = None
        stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:

            def rows() -> Iterator[AuditEvent]:
                nonlocal last
                for event in feed.iterate(start, filters):
                    last = event
                    yield event

            for chunk in WRITERS[format](rows()):
                stream.write(chunk)
        finally:
            if output:
                stream.close()
        typer.echo(f"cursor: {last.cursor if last else after or ''}", err=True)
