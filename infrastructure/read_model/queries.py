"""Questions answered from the read models: checks, explanations, gates, lookups, as of any moment.

A check is one SQL statement (one round trip) that gathers the facts at a log position; the rule
that turns facts into a decision is the domain's (``domain.decisions.decide``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from domain.apps import Mode
from domain.credentials import SecretHasher
from domain.decisions import CheckFacts, Decision, Reason, decide
from domain.endpoints import data_owner, required_scopes
from domain.errors import (
    InvalidAsOfError,
    PositionBeyondLogError,
    ProjectionTimeoutError,
    ReadsBusyError,
    UserNotFoundError,
)
from domain.identity import app_id_from_client_id
from domain.identity import user_id as id_of_user
from infrastructure.read_model.database import Database
from infrastructure.read_model.projection import (
    APP_APPROVED,
    APP_DISABLED,
    APP_LIVE,
    GRANT,
    PLATFORM,
    SANDBOX_USER,
    SCOPE_EXISTS,
    SCOPE_RETIRED,
    UNREVIEWED_LIVE,
    micros,
)
from infrastructure.read_model.writer import TRACKING_NAME

AsOf = int | datetime | None
DEFAULT_TIMEOUT = 5.0  # seconds a read waits for the projections to reach a demanded position
# Reads of one process that may wait at once: well under the 40 threads a process answers
# synchronous routes with, so waiting reads cannot keep /health and the rest from a thread.
MAX_WAITING_READS = 16

_HELD = "from_pos <= :p AND (to_pos IS NULL OR to_pos > :p)"


def _held_at(at: str) -> str:
    """An interval holds at the log position the SQL expression ``at`` gives."""
    return f"from_pos <= {at} AND (to_pos IS NULL OR to_pos > {at})"


def _held(
    kind: str, subject: str, obj: str | None, column: str = "from_pos", at: str = ":p"
) -> str:
    where = f"kind = '{kind}' AND subject = {subject}"
    if obj is not None:
        where += f" AND object = {obj}"
    return (
        f"(SELECT {column} FROM rm_intervals WHERE {where} AND {_held_at(at)} "
        "ORDER BY from_pos DESC LIMIT 1)"
    )


def _check_columns(aggregate: str, at: str) -> str:
    """The facts of one token and scope at the log position ``at`` (an SQL expression)."""
    return f"""t.token_id, t.app_id, t.user_id, t.grant_id, t.scopes, t.issued_pos,
  CASE WHEN t.ended_pos <= {at} THEN t.ended_pos END,
  CASE WHEN t.ended_pos <= {at} THEN t.end_kind END,
  {_held(APP_DISABLED, "t.app_id", "''", at=at)},
  {_held(APP_LIVE, "t.app_id", "''", at=at)},
  (SELECT {aggregate} FROM rm_intervals WHERE kind = '{APP_APPROVED}' AND subject = t.app_id
     AND {_held_at(at)}),
  {_held(APP_APPROVED, "t.app_id", ":scope", at=at)},
  {_held(UNREVIEWED_LIVE, f"'{PLATFORM}'", "''", at=at)},
  (SELECT from_pos FROM rm_intervals WHERE kind = '{GRANT}' AND subject = t.grant_id
     AND object = :scope AND from_pos <= t.issued_pos AND (to_pos IS NULL OR to_pos > {at})
     ORDER BY from_pos DESC LIMIT 1),
  (SELECT MIN(to_pos) FROM rm_intervals WHERE kind = '{GRANT}' AND subject = t.grant_id
     AND from_pos <= t.issued_pos AND to_pos > t.issued_pos AND to_pos <= {at}),
  {_held(SCOPE_RETIRED, ":scope", "''", at=at)},
  {_held(SANDBOX_USER, "t.app_id", "t.user_id", at=at)}
"""


def _check_sql(aggregate: str) -> str:
    """The facts of one token and scope at log position :p, in one statement."""
    return (
        f"SELECT {_check_columns(aggregate, ':p')}"
        "FROM rm_tokens t WHERE t.digest = :digest AND t.issued_pos <= :p\n"
    )


def _check_now_sql(aggregate: str) -> str:
    """The same facts at the projected position, read with that position and the high-water
    mark in the same statement (one round trip for a check of "now")."""
    return (
        "WITH pos AS (SELECT t.position AS p, COALESCE(h.position, 0) AS hw "
        "FROM rm_tracking t LEFT JOIN rm_high_water h ON h.name = t.name "
        f"WHERE t.name = '{TRACKING_NAME}')\n"
        f"SELECT pos.p, pos.hw, {_check_columns(aggregate, 'pos.p')}"
        "FROM pos LEFT JOIN rm_tokens t ON t.digest = :digest AND t.issued_pos <= pos.p\n"
    )


@dataclass(frozen=True)
class TokenFacts:
    """The facts of one check and the log positions they come from (for evidence)."""

    facts: CheckFacts
    token_id: str = ""
    app_id: str = ""
    user_id: str = ""
    grant_id: str = ""
    positions: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Evidence:
    """One event a decision rests on."""

    link: str
    position: int
    at: int
    event_type: str
    aggregate_id: str
    version: int
    actor: str
    role: str
    reason: str


@dataclass(frozen=True)
class Explanation:
    decision: Decision
    evidence: list[Evidence]
    failed_link: Evidence | None


# The links that can explain each denial; the latest one present is the one that failed.
_FAILED_LINKS: dict[Reason, tuple[str, ...]] = {
    Reason.TOKEN_REVOKED: ("token_ended",),
    Reason.TOKEN_EXPIRED: ("token_ended",),
    Reason.APP_DISABLED: ("app_disabled",),
    Reason.GRANT_WITHDRAWN: ("grant_ended",),
    Reason.SCOPE_NOT_IN_TOKEN: ("token_issued",),
    Reason.SCOPE_RETIRED: ("scope_retired",),
    Reason.NOT_SANDBOX_USER: ("sandbox_user_removed", "app_returned_to_sandbox"),
    Reason.NOT_APPROVED: ("approval_withdrawn",),
}


class ReadModel:
    """Reads of the projected, temporal read models."""

    def __init__(
        self,
        db: Database,
        hasher: SecretHasher,
        log_position: Callable[[], int],
        max_waiting: int = MAX_WAITING_READS,
    ) -> None:
        self.db = db
        self.hasher = hasher
        self.log_position = log_position  # the event store's last position
        self.max_waiting = max_waiting
        self._waiting = threading.BoundedSemaphore(max_waiting)
        aggregate = (
            "string_agg(object, ' ')" if db.dialect == "postgres" else "group_concat(object, ' ')"
        )
        self._check_sql = db.sql(_check_sql(aggregate))
        self._check_now_sql = db.sql(_check_now_sql(aggregate))

    # --- positions ----------------------------------------------------------------------------

    def position(self) -> int:
        """How far the read models have projected the log."""
        return self._positions()[0]

    def _positions(self) -> tuple[int, int]:
        """(projected, furthest ever projected): they differ only while a rebuild runs."""
        rows = self.db.query(
            "SELECT t.position, h.position FROM rm_tracking t LEFT JOIN rm_high_water h "
            "ON h.name = t.name WHERE t.name = :name",
            {"name": TRACKING_NAME},
        )
        if not rows:
            return 0, 0
        return int(rows[0][0]), int(rows[0][1] or 0)

    def wait_for(
        self, position: int | None, timeout: float = DEFAULT_TIMEOUT, *, bounded: bool = True
    ) -> int:
        """Blocks until the read models reach ``position``; answers the position reached.

        A position beyond the end of the log is refused at once: no write answered it, and
        it may never come. A read (``bounded``) waits only while fewer than ``max_waiting``
        others do; an acknowledgement of a write just made always may."""
        reached = self.position()
        if position is None or reached >= position:
            return reached
        end = self.log_position()
        if position > end:
            raise PositionBeyondLogError(position, end)
        if not bounded:
            return self._wait(position, reached, timeout)
        if not self._waiting.acquire(blocking=False):
            raise ReadsBusyError(self.max_waiting)
        try:
            return self._wait(position, reached, timeout)
        finally:
            self._waiting.release()

    def _wait(self, position: int, reached: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        delay = 0.001
        while time.monotonic() < deadline:
            time.sleep(delay)
            delay = min(delay * 2, 0.02)
            reached = self.position()
            if reached >= position:
                return reached
        raise ProjectionTimeoutError(position, reached, timeout)

    def wait_past(self, position: int, timeout: float, poll: float = 0.05) -> int:
        """Blocks until the read models pass ``position`` or ``timeout`` ends; answers the
        position reached (no error when nothing came: a long poll then answers "caught up").
        Bounded like other waiting reads. The tracking row is what every process shares, so
        this sees events projected by another process's projector too."""
        if not self._waiting.acquire(blocking=False):
            raise ReadsBusyError(self.max_waiting)
        try:
            deadline = time.monotonic() + timeout
            delay = 0.001
            reached = self.position()
            while reached <= position and time.monotonic() < deadline:
                time.sleep(min(delay, max(deadline - time.monotonic(), 0)))
                delay = min(delay * 2, poll)
                reached = self.position()
            return reached
        finally:
            self._waiting.release()

    def position_at(self, moment: datetime) -> int:
        """The last log position whose event happened at or before ``moment``."""
        rows = self.db.query(
            "SELECT MAX(position) FROM rm_log WHERE at <= :at", {"at": micros(moment)}
        )
        return int(rows[0][0] or 0)

    def resolve(
        self, as_of: AsOf, min_position: int | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> int:
        """The log position a read is answered at: now, a given position, or a moment.

        "Now" is never older than the furthest position ever projected, so a read during a
        rebuild waits for the rebuilt models instead of answering from a shorter history."""
        projected, high_water = self._positions()
        demanded = max(min_position or 0, high_water)
        reached = projected if projected >= demanded else self.wait_for(demanded, timeout)
        if as_of is None:
            return reached
        if isinstance(as_of, datetime):
            # Events written by now may not be projected yet, and some may have happened at or
            # before the moment: wait for them, so a moment is not answered from a shorter
            # history (a moment still to come is answered as of now).
            written = self.log_position()
            if written > reached:
                self.wait_for(written, timeout)
            return self.position_at(as_of)
        if as_of < 0:
            raise InvalidAsOfError("A log position is zero or more")
        if as_of > reached:
            self.wait_for(as_of, timeout)
        return as_of

    # --- decisions ----------------------------------------------------------------------------

    def token_facts(self, access_token: str, scope: str, position: int) -> TokenFacts:
        row = self.db.read_one(
            self._check_sql,
            {"digest": self.hasher.digest(access_token), "scope": scope, "p": position},
        )
        return _token_facts(row)

    def _check_now(
        self, access_token: str, scope: str, mode: Mode | None, min_position: int | None
    ) -> Decision | None:
        """The hot path: a check of "now" in one statement, or None when the models are behind
        the demanded position (or rebuilding) and the caller must wait like any other read."""
        row = self.db.read_one(
            self._check_now_sql, {"digest": self.hasher.digest(access_token), "scope": scope}
        )
        if row is None:
            return None
        position, high_water = int(row[0]), int(row[1])
        if position < max(high_water, min_position or 0):
            return None
        facts = _decode(row[2:] if row[2] is not None else None)
        return replace(decide(facts, scope, mode), position=position)

    def check(
        self,
        access_token: str,
        scope: str,
        mode: Mode | None = None,
        as_of: AsOf = None,
        min_position: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Decision:
        if as_of is None:
            decision = self._check_now(access_token, scope, mode, min_position)
            if decision is not None:
                return decision
        position = self.resolve(as_of, min_position, timeout)
        found = self.token_facts(access_token, scope, position)
        return replace(decide(found.facts, scope, mode), position=position)

    def gate(
        self,
        access_token: str,
        method: str,
        path: str,
        *,
        resource_owner: str | None = None,
        mode: Mode | None = None,
        as_of: AsOf = None,
        min_position: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Decision:
        """Decides a legacy API call: every scope the endpoint needs must be allowed, and in
        sandbox mode another user whose data it names must be a sandbox user of the app."""
        position = self.resolve(as_of, min_position, timeout)
        user = self._token_user(access_token, position)
        scopes = required_scopes(method, path, token_user=user, resource_owner=resource_owner)
        decision: Decision | None = None
        for scope in scopes:
            found = self.token_facts(access_token, scope, position)
            decision = replace(decide(found.facts, scope, mode), position=position)
            if not decision.allowed:
                break
        assert decision is not None  # noqa: S101 - every route needs at least one scope
        owner = data_owner(method, path, token_user=user, resource_owner=resource_owner)
        if decision.allowed and owner is not None and decision.mode is Mode.SANDBOX:
            # Whose data it is, once the token may make the call at all.
            facts = replace(
                found.facts,
                data_owner_is_sandbox_user=self._is_sandbox_user(found.app_id, owner, position),
            )
            decision = replace(decide(facts, decision.scope, mode), position=position)
        return decision

    def _is_sandbox_user(self, app_id: str, user: str, position: int) -> bool:
        rows = self.db.query(
            f"SELECT 1 FROM rm_intervals WHERE kind = '{SANDBOX_USER}' AND subject = :app "
            f"AND object = :user AND {_HELD}",
            {"app": app_id, "user": user.lower(), "p": position},
        )
        return bool(rows)

    def _token_user(self, access_token: str, position: int) -> str | None:
        rows = self.db.query(
            "SELECT user_id FROM rm_tokens WHERE digest = :digest AND issued_pos <= :p",
            {"digest": self.hasher.digest(access_token), "p": position},
        )
        return str(rows[0][0]) if rows else None

    # --- explanations -------------------------------------------------------------------------

    def explain(
        self,
        access_token: str,
        scope: str,
        mode: Mode | None = None,
        as_of: AsOf = None,
        min_position: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Explanation:
        position = self.resolve(as_of, min_position, timeout)
        found = self.token_facts(access_token, scope, position)
        decision = replace(decide(found.facts, scope, mode), position=position)
        links = dict(found.positions)
        links.update(self._context_positions(found, scope, position))
        by_position = self._log_rows(set(links.values()))
        evidence = sorted(
            (
                Evidence(link, *by_position[pos])
                for link, pos in links.items()
                if pos in by_position
            ),
            key=lambda e: (e.position, e.link),
        )
        failed = None
        if decision.denial is not None:
            wanted = _FAILED_LINKS.get(decision.denial.reason, ())
            candidates = [e for e in evidence if e.link in wanted]
            failed = candidates[-1] if candidates else None
        return Explanation(decision, evidence, failed)

    def _context_positions(self, found: TokenFacts, scope: str, p: int) -> dict[str, int]:
        """The events around the facts: the scope's policy, registrations, and the ends of
        intervals (deauthorization, withdrawal, removal) that explain a denial."""
        params = {
            "p": p,
            "scope": scope,
            "app": found.app_id,
            "user": found.user_id,
            "grant": found.grant_id,
            "issued": found.positions.get("token_issued", 0),
        }
        queries = {
            "scope_policy": f"SELECT MAX(from_pos) FROM rm_intervals WHERE kind = "
            f"'{SCOPE_EXISTS}' AND subject = :scope AND from_pos <= :p",
            "app_registered": "SELECT registered_pos FROM rm_apps WHERE app_id = :app",
            "user_registered": "SELECT registered_pos FROM rm_users WHERE user_id = :user",
            # The deauthorization that ended the grant this token was issued under.
            "grant_ended": f"SELECT MIN(to_pos) FROM rm_intervals WHERE kind = '{GRANT}' "
            "AND subject = :grant AND from_pos <= :issued AND to_pos > :issued "
            "AND to_pos <= :p",
            "app_returned_to_sandbox": f"SELECT MAX(to_pos) FROM rm_intervals WHERE kind = "
            f"'{APP_LIVE}' AND subject = :app AND to_pos <= :p",
            "unreviewed_live_ended": f"SELECT MAX(to_pos) FROM rm_intervals WHERE kind = "
            f"'{UNREVIEWED_LIVE}' AND subject = '{PLATFORM}' "
            "AND to_pos <= :p",
            "approval_withdrawn": f"SELECT MAX(to_pos) FROM rm_intervals WHERE kind = "
            f"'{APP_APPROVED}' AND subject = :app AND object = :scope "
            "AND to_pos <= :p",
            "sandbox_user_removed": f"SELECT MAX(to_pos) FROM rm_intervals WHERE kind = "
            f"'{SANDBOX_USER}' AND subject = :app AND object = :user "
            "AND to_pos <= :p",
        }
        if not found.facts.token_found:
            queries = {"scope_policy": queries["scope_policy"]}
        out: dict[str, int] = {}
        with self.db.transaction() as cur:
            for link, sql in queries.items():
                cur.execute(self.db.sql(sql), params)
                row = cur.fetchone()
                if row and row[0] is not None and int(row[0]) <= p:
                    out[link] = int(row[0])
        return out

    def _log_rows(self, positions: set[int]) -> dict[int, tuple[Any, ...]]:
        if not positions:
            return {}
        marks = ", ".join("?" * len(positions))
        rows = self.db.query(
            f"SELECT position, at, event_type, aggregate_id, version, actor, role, reason "
            f"FROM rm_log WHERE position IN ({marks})",
            list(sorted(positions)),  # type: ignore[arg-type]
        )
        return {int(r[0]): tuple(r) for r in rows}

    # --- lookups ------------------------------------------------------------------------------

    def token_holders(
        self,
        client_id: str,
        scope: str,
        as_of: AsOf = None,
        min_position: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> list[dict[str, Any]]:
        """The users and tokens of an app allowed the scope at that moment (token ids, never
        secrets)."""
        position = self.resolve(as_of, min_position, timeout)
        app = app_id_from_client_id(client_id)
        if app is None:
            return []
        rows = self.db.query(
            "SELECT t.token_id, t.digest, u.username, t.user_id FROM rm_tokens t "
            "JOIN rm_users u ON u.user_id = t.user_id WHERE t.app_id = :app "
            "AND t.issued_pos <= :p AND (t.ended_pos IS NULL OR t.ended_pos > :p) "
            "ORDER BY t.issued_pos",
            {"app": app.hex, "p": position},
        )
        held = []
        for token_id, digest, username, user_id in rows:
            facts = self._facts_by_digest(digest, scope, position)
            if decide(facts, scope).allowed:
                held.append({"token_id": token_id, "user_id": user_id, "username": username})
        return held

    def _facts_by_digest(self, digest: str, scope: str, position: int) -> CheckFacts:
        return _decode(
            self.db.read_one(self._check_sql, {"digest": digest, "scope": scope, "p": position})
        )

    def user_authorizations(
        self,
        username: str,
        as_of: AsOf = None,
        min_position: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> dict[str, list[str]]:
        """The apps (client_ids) a user had authorized at that moment, with their scopes."""
        position = self.resolve(as_of, min_position, timeout)
        # By the id, which derives from the canonical username: any spelling of it finds her.
        users = self.db.query(
            "SELECT user_id FROM rm_users WHERE user_id = :u AND registered_pos <= :p",
            {"u": id_of_user(username).hex, "p": position},
        )
        if not users:
            raise UserNotFoundError(username)
        rows = self.db.query(
            f"SELECT g.app_id, i.object FROM rm_grants g JOIN rm_intervals i "
            f"ON i.kind = '{GRANT}' AND i.subject = g.grant_id WHERE g.user_id = :user "
            f"AND {_HELD} ORDER BY g.app_id, i.object",
            {"user": users[0][0], "p": position},
        )
        out: dict[str, list[str]] = {}
        for app_id, scope in rows:
            out.setdefault(app_id, []).append(scope)
        return out


def _decode(row: Any) -> CheckFacts:
    if row is None:
        return CheckFacts(token_found=False)
    (
        _token_id,
        _app,
        _user,
        _grant,
        scopes,
        _issued,
        _ended,
        end_kind,
        disabled,
        live,
        approved,
        _approved_pos,
        unreviewed,
        _grant_pos,
        grant_ended,
        retired,
        sandbox,
    ) = row
    return CheckFacts(
        token_found=True,
        token_revoked=end_kind == "revoked",
        token_expired=end_kind == "expired",
        token_scopes=tuple(scopes.split()),
        app_disabled=disabled is not None,
        app_switched_live=live is not None,
        app_approved_scopes=tuple(sorted(approved.split())) if approved else (),
        unreviewed_live_allowed=unreviewed is not None,
        grant_withdrawn=grant_ended is not None,
        scope_retired=retired is not None,
        user_is_sandbox_user=sandbox is not None,
    )


def _token_facts(row: Any) -> TokenFacts:
    if row is None:
        return TokenFacts(CheckFacts(token_found=False))
    (
        token_id,
        app_id,
        user_id,
        grant_id,
        _scopes,
        issued,
        ended,
        _end_kind,
        disabled,
        live,
        _approved,
        approved_pos,
        unreviewed,
        grant_pos,
        grant_ended,
        retired,
        sandbox,
    ) = row
    facts = _decode(row)
    positions = {
        "token_issued": issued,
        "token_ended": ended,
        "app_disabled": disabled,
        "app_live": live,
        "app_approved": approved_pos,
        "unreviewed_live": unreviewed,
        "grant": grant_pos,
        "grant_ended": grant_ended,
        "scope_retired": retired,
        "sandbox_user": sandbox,
    }
    return TokenFacts(
        facts,
        token_id,
        app_id,
        user_id,
        grant_id,
        {k: int(v) for k, v in positions.items() if v is not None},
    )
