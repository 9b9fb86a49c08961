"""Writes the golden log: a development tool, never run by the tests (the committed files are
the point: they stand for logs already written in production).

    python -m tests.golden.make_golden_log

Run it only when a NEW event type is added. It never rewrites a row: it loads the committed rows
into a fresh SQLite store, runs the chapters below that the log does not hold yet (each chapter
is a history told through the real ``Ledger``, with a fixed clock and the tests' server key),
and appends their events. Old rows come out byte for byte as they went in, or it refuses.

So, for a new event type: add a chapter at the end of ``CHAPTERS`` whose commands make it (it may
use what earlier chapters made, by the names they recorded), run this, and commit the grown
``golden_log.jsonl`` and ``expected_state.json``. Never edit a chapter that has been written: its
rows are history. If a change to the domain makes the golden test fail, the change is what must
be fixed (or an old topic mapped with ``eventsourcing.utils.register_topic``), not the log.

``expected_state.json`` holds the summary of every aggregate after the whole log, and the read
models' checksum after projecting it. A run refuses if the current code replays the committed
rows to other summaries than the committed ones. The checksum changes, legitimately, when the
read models' tables change: then ``python -m tests.golden.make_golden_log --expected-only``
recomputes it (and the summaries, which must not move) without touching the log.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import eventsourcing.domain

from application.ledger import Ledger
from domain.actors import Actor
from domain.api_keys import KeyRole
from domain.errors import CodeNotFoundError
from infrastructure.persistence import sqlite_env
from tests.golden.golden_log import (
    EXPECTED_PATH,
    GOLDEN_SECRET_KEY,
    LOG_PATH,
    GoldenRow,
    insert_rows,
    read_expected,
    read_rows,
    summary,
)
from tests.support.clock import EPOCH, Clock

PLATFORM = Actor.platform("ops")
REVIEWER = Actor.reviewer("rita")
REDIRECT_URI = "https://printer.example/callback"
# Bob's password, stored as an argon2id hash (a test value; no real user's password).
PASSWORD = "golden password"

Names = MutableMapping[str, str]
Chapter = Callable[[Ledger, Clock, Names], None]


# --- chapters: append new ones at the end, never edit a written one -------------------------------


def every_event_type_2026(ledger: Ledger, clock: Clock, names: Names) -> None:
    """Users, keys, two apps through sandbox, review, live and back, tokens of both flows with a
    replayed code, every platform policy change. Leaves the owner's token active, her app in
    sandbox with bob a sandbox user, and bob's grant deauthorized."""
    from argon2 import PasswordHasher

    def tick() -> None:
        clock.advance(7)

    for username in ("ann", "bob", "cat", "dan"):
        ledger.register_user(
            username,
            username.title() + " Golden",
            f"https://pics.example/{username}.jpg",
            Actor.user(username),
        )
        tick()
    ledger.set_user_password("bob", PasswordHasher().hash(PASSWORD), Actor.user("bob"))
    tick()

    # API keys (ApiKey.Created, ApiKeyIndex.Created and KeyAdded, ApiKey.Revoked).
    admin = ledger.create_api_key(
        name="ops console", role=KeyRole.ADMIN, principal=None, actor=PLATFORM
    )
    names["api_key_admin"] = str(admin.id)
    developer = ledger.create_api_key(
        name="ann's key", role=KeyRole.DEVELOPER, principal="ann", actor=PLATFORM
    )
    names["api_key_developer"] = str(developer.id)
    auditor = ledger.create_api_key(
        name="audit", role=KeyRole.AUDITOR, principal=None, actor=PLATFORM
    )
    ledger.revoke_api_key(auditor.id, PLATFORM, "auditor left")
    names["api_key_revoked"] = str(auditor.id)
    tick()

    # Ann's app: details, credentials, security (App.Registered ... SecuritySettingsChanged).
    printer = ledger.register_app(
        owner="ann",
        name="Printer",
        description="prints your photos",
        website="https://printer.example",
        redirect_uris=[REDIRECT_URI],
        actor=Actor.developer("ann"),
        company_name="Printer Ltd",
        contact_email="ann@printer.example",
        privacy_policy_url="https://printer.example/privacy",
    )
    names["app_printer"] = printer.client_id
    tick()
    ledger.update_app_details(
        printer.client_id,
        Actor.developer("ann"),
        name="Photo Printer",
        redirect_uris=[REDIRECT_URI, "printer://callback"],
    )
    ledger.rotate_client_secret(printer.client_id, Actor.developer("ann"))
    ledger.change_app_security(
        printer.client_id,
        Actor.developer("ann"),
        disable_implicit=True,
        enforce_signed_requests=True,
    )
    tick()

    # Sandbox users: bob joins, cat joins and leaves, dan stays invited.
    for username in ("bob", "cat"):
        ledger.invite_sandbox_user(printer.client_id, username, Actor.developer("ann"))
        ledger.accept_sandbox_invitation(printer.client_id, username, Actor.user(username))
        tick()
    ledger.remove_sandbox_user(printer.client_id, "cat", Actor.user("cat"), "not for me")
    ledger.invite_sandbox_user(printer.client_id, "dan", Actor.developer("ann"))
    tick()

    # The code flow (ScopeCatalogue.Created, Grant.Created, ScopesGranted, AccessToken.Issued,
    # Grant.TokenIssued), a replayed code (Grant.CodeReplayed, AccessToken.Revoked), expiry.
    secret = ledger.rotate_client_secret(printer.client_id, Actor.developer("ann")).client_secret
    code = ledger.authorize(
        client_id=printer.client_id, username="bob", redirect_uri=REDIRECT_URI, scope="basic likes"
    ).code
    tick()
    first = ledger.exchange_code(
        client_id=printer.client_id, client_secret=secret, redirect_uri=REDIRECT_URI, code=code
    )
    names["token_replayed"] = str(first.token_id)
    tick()
    try:
        ledger.exchange_code(
            client_id=printer.client_id, client_secret=secret, redirect_uri=REDIRECT_URI, code=code
        )
    except CodeNotFoundError:
        pass  # the replay is refused, and recorded
    else:
        raise SystemExit("a replayed code was accepted")
    tick()
    code = ledger.authorize(
        client_id=printer.client_id,
        username="bob",
        redirect_uri=REDIRECT_URI,
        scope="basic comments",
    ).code
    second = ledger.exchange_code(
        client_id=printer.client_id, client_secret=secret, redirect_uri=REDIRECT_URI, code=code
    )
    names["token_expired"] = str(second.token_id)
    ledger.expire_token(second.token_id, PLATFORM, "platform expiry")
    tick()

    # The implicit flow, revoked by its user; then bob deauthorizes the app.
    ledger.change_app_security(printer.client_id, Actor.developer("ann"), disable_implicit=False)
    implicit = ledger.authorize(
        client_id=printer.client_id,
        username="bob",
        redirect_uri=REDIRECT_URI,
        scope=None,
        response_type="token",
    )
    names["token_revoked_by_user"] = str(implicit.token_id)
    ledger.revoke_token(Actor.user("bob"), token_id=implicit.token_id, reason="lost my phone")
    tick()
    ledger.deauthorize(printer.client_id, "bob", Actor.user("bob"), "no longer used")
    tick()

    # Ann's own token, left active (the test revokes it on top of the replayed log).
    code = ledger.authorize(
        client_id=printer.client_id,
        username="ann",
        redirect_uri="printer://callback",
        scope="basic",
    ).code
    own = ledger.exchange_code(
        client_id=printer.client_id,
        client_secret=secret,
        redirect_uri="printer://callback",
        code=code,
    )
    names["token_active"] = str(own.token_id)
    tick()

    # The catalogue's policy, and a review: one permission approved, one rejected.
    ledger.introduce_scope(
        "stories",
        "to read a user's stories",
        applications_open=False,
        actor=PLATFORM,
        reason="stories launched",
    )
    ledger.reopen_scope_applications("public_content", PLATFORM, "reviews resume")
    tick()
    review = ledger.submit_review(
        printer.client_id,
        use_case="brands_and_advertisers",
        permissions={
            "basic": "shows the user's photos to print",
            "public_content": "finds public photos to print",
        },
        screencast_url="https://printer.example/screencast.mp4",
        actor=Actor.developer("ann"),
    )
    names["review_printer"] = str(review.id)
    tick()
    ledger.decide_review(
        review.id, "basic", approve=True, reason="fits the use case", actor=REVIEWER
    )
    ledger.decide_review(
        review.id,
        "public_content",
        approve=False,
        reason="not shown in the screencast",
        actor=REVIEWER,
    )
    ledger.close_scope_applications("public_content", PLATFORM, "applications closed")
    tick()
    ledger.go_live(printer.client_id, Actor.developer("ann"))
    tick()
    ledger.withdraw_approval(printer.client_id, None, PLATFORM, "approval withdrawn on appeal")
    tick()

    # Dan's app goes live unreviewed, then the June 2016 move sends it back to sandbox.
    ledger.allow_unreviewed_live(PLATFORM, "before the review process")
    album = ledger.register_app(
        owner="dan",
        name="Album",
        description="makes albums",
        website="https://album.example",
        redirect_uris=["https://album.example/cb"],
        actor=Actor.developer("dan"),
    )
    names["app_album"] = album.client_id
    ledger.go_live(album.client_id, Actor.developer("dan"))
    tick()
    ledger.move_unreviewed_apps_to_sandbox(PLATFORM, "reviews required from now on")
    ledger.disable_app(album.client_id, PLATFORM, "spam reports")
    ledger.enable_app(album.client_id, PLATFORM, "appeal upheld")
    tick()
    ledger.retire_scope("likes", PLATFORM, "likes switched off for third parties")
    tick()

    shown = [
        admin.key,
        developer.key,
        auditor.key,
        printer.client_secret,
        secret,
        implicit.access_token or "",
        first.access_token,
        second.access_token,
        own.access_token,
        album.client_secret,
        PASSWORD,
    ]
    _refuse_plaintext(ledger, shown)


# The chapters of the golden log, in the order they were written. Append only.
CHAPTERS: tuple[tuple[str, Chapter], ...] = (("every_event_type_2026", every_event_type_2026),)


def _refuse_plaintext(ledger: Ledger, shown: list[str]) -> None:
    """No secret the ledger showed once may be in the log (digests only)."""
    for row in _stored_rows(ledger):
        if any(plaintext and plaintext.encode() in row.state for plaintext in shown):
            raise SystemExit(f"a secret in plaintext in event {row.notification_id}")


# --- writing the files ----------------------------------------------------------------------------


def _open_ledger(path: Path, clock: Clock) -> Ledger:
    env = sqlite_env(path)
    for key in (
        list(env)
        + [f"LEDGER_{k}" for k in env]
        + [
            "CIPHER_TOPIC",
            "COMPRESSOR_TOPIC",
            "LEDGER_CIPHER_TOPIC",
            "LEDGER_COMPRESSOR_TOPIC",
        ]
    ):
        os.environ.pop(key, None)  # nothing from the shell may redirect or transform the store
    ledger = Ledger(env, secret_key=GOLDEN_SECRET_KEY, clock=clock)
    if ledger.mapper.cipher is not None or ledger.mapper.compressor is not None:
        raise SystemExit("the golden log is written with no cipher and no compressor")
    return ledger


@contextmanager
def _event_times_from(clock: Clock) -> Iterator[None]:
    """Events stamped by the ledger's clock (a microsecond apart), not by the machine's: the
    log tells one consistent story in time, whenever it is written."""
    last = [datetime.min.replace(tzinfo=UTC)]

    def now() -> datetime:
        last[0] = max(clock(), last[0] + timedelta(microseconds=1))
        return last[0]

    original = eventsourcing.domain.datetime_now_with_tzinfo
    eventsourcing.domain.datetime_now_with_tzinfo = now
    try:
        yield
    finally:
        eventsourcing.domain.datetime_now_with_tzinfo = original


def _stored_rows(ledger: Ledger) -> list[GoldenRow]:
    rows = []
    for notification in ledger.recorder.select_notifications(start=1, limit=1_000_000):
        rows.append(
            GoldenRow(
                notification_id=notification.id,
                originator_id=UUID(str(notification.originator_id)),
                originator_version=notification.originator_version,
                topic=notification.topic,
                state=bytes(notification.state),
            )
        )
    return rows


def _checksum(path: Path, clock: Clock) -> str:
    from infrastructure.read_model.checksum import checksum
    from infrastructure.runtime import open_runtime_on

    runtime = open_runtime_on(
        sqlite_env(path), secret_key=GOLDEN_SECRET_KEY, clock=clock, run_projector=False
    )
    try:
        runtime.projector.catch_up()
        return checksum(runtime.db)
    finally:
        runtime.close()


def make(expected_only: bool = False) -> None:
    old_rows = read_rows()
    expected = read_expected() if EXPECTED_PATH.exists() else {}
    written = [c["name"] for c in expected.get("chapters", [])]
    known = [name for name, _ in CHAPTERS]
    if written != known[: len(written)]:
        raise SystemExit(f"the log's chapters {written} are not a prefix of {known}")
    names: dict[str, str] = dict(expected.get("names", {}))
    clock = Clock(datetime.fromisoformat(expected["clock"]) if "clock" in expected else EPOCH)
    chapters = list(expected.get("chapters", []))

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "golden.sqlite"
        ledger = _open_ledger(path, clock)
        try:
            if insert_rows(ledger.recorder, old_rows) != [r.notification_id for r in old_rows]:
                raise SystemExit("the committed rows did not keep their positions")
            for key, was in expected.get("aggregates", {}).items():
                if summary(ledger.repository.get(UUID(key))) != was:
                    raise SystemExit(
                        f"the current code replays aggregate {key} of the committed log to "
                        "another state than expected_state.json: fix the code, not the log"
                    )
            for name, chapter in CHAPTERS[len(written) :]:
                if expected_only:
                    raise SystemExit(
                        f"chapter {name} is not written yet: run without --expected-only"
                    )
                first = ledger.position() + 1
                with _event_times_from(clock):
                    chapter(ledger, clock, names)
                clock.advance(timedelta(hours=1).total_seconds())
                chapters.append({"name": name, "first": first, "last": ledger.position()})
            rows = _stored_rows(ledger)
            if rows[: len(old_rows)] != old_rows:
                raise SystemExit("a committed row would change: the golden log is append-only")
            ids = sorted({row.originator_id for row in rows})
            aggregates = {str(i): summary(ledger.repository.get(i)) for i in ids}
        finally:
            ledger.close()
        checksum = _checksum(path, clock)

    if not expected_only:
        LOG_PATH.write_text("".join(row.to_json() + "\n" for row in rows), encoding="utf-8")
    expected = {
        "chapters": chapters,
        "clock": clock().isoformat(),
        "names": names,
        "events": len(rows),
        "read_model_checksum": checksum,
        "aggregates": aggregates,
    }
    EXPECTED_PATH.write_text(
        json.dumps(expected, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    print(f"{len(rows)} events ({len(rows) - len(old_rows)} new), {len(aggregates)} aggregates")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--expected-only",
        action="store_true",
        help="recompute expected_state.json from the committed rows only",
    )
    args = parser.parse_args(argv)
    make(expected_only=args.expected_only)


if __name__ == "__main__":
    main(sys.argv[1:])
