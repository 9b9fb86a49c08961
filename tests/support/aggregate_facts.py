"""The facts of a permission check, read from the aggregates instead of the read models.

An independent second reader of the log, for tests: it replays the notification log one event at
a time into plain aggregates (``event.mutate``) and derives ``CheckFacts`` from their state, with
none of the read models' intervals or SQL. Where the read models answer "is there an interval
that held at P", this answers "what does the aggregate say after the events up to P", so the two
can only agree if the projection is right.

The replay is incremental: ``advance_to(P)`` applies only the events after the last position
reached, so checking every position of a log costs one pass over it.

``History`` runs commands drawn by a test (or a fixed list of them) through the ledger, so that
the log has something to disagree about: sandbox users coming and going, tokens of both flows,
revocations, deauthorizations and re-authorizations, reviews, mode and policy changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.results import ClientRegistered
from domain.actors import Actor
from domain.apps import App, Mode
from domain.decisions import CheckFacts
from domain.errors import LedgerError
from domain.grants import Grant
from domain.identity import SCOPE_CATALOGUE_ID, grant_id, token_id
from domain.scopes import ScopeCatalogue
from domain.tokens import AccessToken

if TYPE_CHECKING:
    from application.ledger import Ledger

PLATFORM = Actor.platform("ops")
REVIEWER = Actor.reviewer("reviewer")

SECTION_SIZE = 100


class AggregateFacts:
    """The aggregates of a ledger's log as of a position that only moves forward."""

    def __init__(self, ledger: Ledger, section_size: int = SECTION_SIZE) -> None:
        self.ledger = ledger
        self.section_size = section_size
        self.position = 0
        self.aggregates: dict[UUID, Aggregate] = {}
        self.events_applied = 0
        self._next = 1
        self._issued_at: dict[UUID, int] = {}  # token id -> position of AccessToken.Issued
        self._deauthorized_at: dict[UUID, int] = {}  # grant id -> last Grant.Deauthorized

    # --- the replay ---------------------------------------------------------------------------

    def advance_to(self, position: int) -> None:
        """Applies every event with a position up to ``position`` not applied yet."""
        if position < self.position:
            raise ValueError(f"the replay is at {self.position}; it cannot go back to {position}")
        recorder = self.ledger.recorder
        while True:
            section = recorder.select_notifications(
                start=self._next, limit=self.section_size, stop=position
            )
            for notification in section:
                self._apply(self.ledger.mapper.to_domain_event(notification), notification.id)
                self._next = notification.id + 1
            if len(section) < self.section_size:
                break
        self.position = position

    def positions(self, stop: int) -> Iterator[int]:
        """Every position from the current one to ``stop``, the replay advanced to each."""
        for position in range(self.position, stop + 1):
            self.advance_to(position)
            yield position

    def _apply(self, event: Any, position: int) -> None:
        aggregate = self.aggregates.get(event.originator_id)
        mutated = event.mutate(aggregate)
        assert mutated is not None, f"{type(event).__qualname__} left no aggregate"
        self.aggregates[event.originator_id] = mutated
        self.events_applied += 1
        if isinstance(event, AccessToken.Issued):  # type: ignore[attr-defined]
            self._issued_at[event.originator_id] = position
        elif isinstance(event, Grant.Deauthorized):  # type: ignore[attr-defined]
            self._deauthorized_at[event.originator_id] = position

    # --- the facts ----------------------------------------------------------------------------

    def token(self, token: UUID) -> AccessToken | None:
        found = self.aggregates.get(token)
        return found if isinstance(found, AccessToken) else None

    def token_by_digest(self, digest: str) -> AccessToken | None:
        return self.token(token_id(digest))

    def facts(self, token: UUID, scope: str) -> CheckFacts:
        """What a check of ``scope`` with that token rests on, at the current position."""
        found = self.token(token)
        if found is None:
            return CheckFacts(token_found=False)
        app = self.aggregates[found.app_id]
        assert isinstance(app, App)
        catalogue = self.aggregates.get(SCOPE_CATALOGUE_ID)
        if not isinstance(catalogue, ScopeCatalogue):  # not stored yet: the seed's policy
            catalogue = ScopeCatalogue.seed(Actor.platform("seed"))
        policy = catalogue.scopes.get(scope)
        return CheckFacts(
            token_found=True,
            token_revoked=found.revoked,
            token_expired=found.expired,
            token_scopes=tuple(found.scopes),
            app_disabled=app.disabled,
            app_switched_live=app.mode is Mode.LIVE,
            app_approved_scopes=tuple(sorted(set(app.approved_scopes))),
            unreviewed_live_allowed=catalogue.unreviewed_live_allowed,
            grant_withdrawn=self.grant_withdrawn(found),
            scope_retired=policy is not None and policy.retired,
            user_is_sandbox_user=app.is_sandbox_user(found.user_id),
        )

    def grant_withdrawn(self, token: AccessToken) -> bool:
        """The user deauthorized the app since the token was issued (that ends the app's older
        tokens for good, even once the user authorizes the app again)."""
        deauthorized = self._deauthorized_at.get(grant_id(token.user_id, token.app_id))
        return deauthorized is not None and deauthorized > self._issued_at[token.id]


def facts_at(ledger: Ledger, token: UUID, scope: str, position: int) -> CheckFacts:
    """One-off: the facts of one check at one position (replays the log from the start)."""
    replay = AggregateFacts(ledger)
    replay.advance_to(position)
    return replay.facts(token, scope)


# --- histories: commands that give the log something to disagree about -----------------------

USERS = ("ann", "bob", "cat", "dan")
SCOPES = ("basic", "public_content", "follower_list", "comments", "relationships", "likes")
REDIRECT_URI = "https://client.example/callback"
# Registered beside REDIRECT_URI: a custom scheme with a query, asked for with more query.
OTHER_REDIRECT_URI = "myapp://cb?x=1"
OTHER_REDIRECT_ASKED = "myapp://cb?x=1&state=s"
# (use case, permissions): mostly submissions that can succeed once applications are open.
REVIEW_REQUESTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("own_content", ("basic",)),
    ("brands_and_advertisers", ("basic", "public_content")),
    ("brands_and_advertisers", ("likes", "comments")),
    ("broadcasters_and_publishers", ("comments",)),
    ("brands_and_advertisers", ("follower_list",)),
)


@dataclass
class IssuedToken:
    """A token the history obtained; the plaintext lets a test check it as a client would."""

    access_token: str = field(repr=False)
    token_id: UUID
    client_id: str
    username: str


@dataclass
class History:
    """Runs commands (tuples: name, arguments) against a ledger; refusals are part of history.

    Indexes wrap around what exists, so any drawn command names something. Each command goes
    through the ledger's own methods, as a user of the application would call them. With
    ``vary_redirects``, consents to even-numbered apps ask for their second redirect URI.
    """

    ledger: Ledger
    clock: Callable[..., Any] | None = None
    on_project: Callable[[], Any] | None = None
    users: tuple[str, ...] = USERS
    vary_redirects: bool = False
    apps: list[tuple[ClientRegistered, str]] = field(default_factory=list)
    codes: list[tuple[ClientRegistered, str, str]] = field(default_factory=list)
    tokens: list[IssuedToken] = field(default_factory=list)
    reviews: list[UUID] = field(default_factory=list)
    refused: int = 0
    done: int = 0

    def run(self, commands: Iterable[tuple[Any, ...]]) -> History:
        for command in commands:
            try:
                getattr(self, f"do_{command[0]}")(*command[1:])
                self.done += 1
            except LedgerError:
                self.refused += 1
        return self

    def user(self, i: int) -> str:
        return self.users[i % len(self.users)]

    def app(self, i: int) -> tuple[ClientRegistered, str]:
        if not self.apps:
            raise LedgerError("no app registered yet")
        return self.apps[i % len(self.apps)]

    def token(self, i: int) -> IssuedToken:
        if not self.tokens:
            raise LedgerError("no token issued yet")
        return self.tokens[i % len(self.tokens)]

    # --- users, apps, sandbox users -----------------------------------------------------------

    def do_register_user(self, i: int) -> None:
        name = self.user(i)
        self.ledger.register_user(name, name.title(), None, Actor.user(name))

    def do_register_app(self, i: int) -> None:
        owner = self.user(i)
        app = self.ledger.register_app(
            owner=owner,
            name=f"App {len(self.apps)}",
            description="prints photos",
            website="https://client.example",
            redirect_uris=[REDIRECT_URI, OTHER_REDIRECT_URI],
            actor=Actor.developer(owner),
            company_name="Co",
            contact_email="dev@client.example",
            privacy_policy_url="https://client.example/privacy",
        )
        self.apps.append((app, owner))

    def do_invite(self, a: int, u: int) -> None:
        app, owner = self.app(a)
        self.ledger.invite_sandbox_user(app.client_id, self.user(u), Actor.developer(owner))

    def do_accept(self, a: int, u: int) -> None:
        app, _ = self.app(a)
        name = self.user(u)
        self.ledger.accept_sandbox_invitation(app.client_id, name, Actor.user(name))

    def do_join(self, a: int, u: int) -> None:
        """The owner invites the user, who accepts."""
        self.do_invite(a, u)
        self.do_accept(a, u)

    def do_remove_sandbox_user(self, a: int, u: int, by_self: bool = False) -> None:
        app, owner = self.app(a)
        name = self.user(u)
        actor = Actor.user(name) if by_self else Actor.developer(owner)
        self.ledger.remove_sandbox_user(app.client_id, name, actor, "done")

    # --- OAuth --------------------------------------------------------------------------------

    def do_authorize(self, a: int, u: int, scopes: Sequence[str], implicit: bool) -> None:
        app, _ = self.app(a)
        name = self.user(u)
        redirect = OTHER_REDIRECT_ASKED if self.vary_redirects and a % 2 == 0 else REDIRECT_URI
        result = self.ledger.authorize(
            client_id=app.client_id,
            username=name,
            redirect_uri=redirect,
            scope=" ".join(scopes) if scopes else None,
            response_type="token" if implicit else "code",
        )
        if result.access_token and result.token_id:
            self.tokens.append(
                IssuedToken(result.access_token, result.token_id, app.client_id, name)
            )
        if result.code:
            self.codes.append((app, result.code, redirect))

    def do_obtain(self, a: int, u: int, scopes: Sequence[str]) -> None:
        """The whole code flow at once: authorize, then exchange the code."""
        self.do_authorize(a, u, scopes, False)
        self.do_exchange(len(self.codes) - 1)

    def do_exchange(self, c: int, right_redirect: bool = True) -> None:
        """Redeems a code (with the redirect URI it was issued for, or another); a code
        redeemed before is replayed, which revokes its token."""
        if not self.codes:
            raise LedgerError("no code issued yet")
        app, code, redirect = self.codes[c % len(self.codes)]
        issued = self.ledger.exchange_code(
            client_id=app.client_id,
            client_secret=app.client_secret,
            redirect_uri=redirect if right_redirect else REDIRECT_URI + "/x",
            code=code,
        )
        self.tokens.append(
            IssuedToken(issued.access_token, issued.token_id, app.client_id, issued.user.username)
        )

    def do_revoke(self, t: int, who: str) -> None:
        token = self.token(t)
        owner = next(o for a, o in self.apps if a.client_id == token.client_id)
        if who == "platform":
            self.ledger.revoke_token(PLATFORM, token_id=token.token_id, reason="abuse")
            return
        actor = {
            "user": Actor.user(token.username),
            "owner": Actor.developer(owner),
            "client": Actor.client(token.client_id),
        }[who]
        self.ledger.revoke_token(actor, access_token=token.access_token, reason="done")

    def do_expire(self, t: int) -> None:
        self.ledger.expire_token(self.token(t).token_id, PLATFORM, "policy")

    def do_deauthorize(self, a: int, u: int, by_platform: bool = False) -> None:
        app, _ = self.app(a)
        name = self.user(u)
        actor = PLATFORM if by_platform else Actor.user(name)
        self.ledger.deauthorize(app.client_id, name, actor, "no longer used")

    # --- reviews, approvals, mode, status ----------------------------------------------------

    def do_submit_review(self, a: int, request: tuple[str, tuple[str, ...]]) -> None:
        app, owner = self.app(a)
        use_case, scopes = request
        created = self.ledger.submit_review(
            app.client_id,
            use_case=use_case,
            permissions={s: f"uses {s}" for s in scopes},
            screencast_url="https://client.example/cast.mp4",
            actor=Actor.developer(owner),
        )
        self.reviews.append(created.id)

    def do_review(
        self, a: int, request: tuple[str, tuple[str, ...]], approvals: Sequence[bool]
    ) -> None:
        """Submits the app for review and decides every permission at once."""
        self.do_submit_review(a, request)
        for scope, approve in zip(request[1], approvals, strict=False):
            self.do_decide(len(self.reviews) - 1, scope, approve)

    def do_decide(self, r: int, scope: str, approve: bool) -> None:
        if not self.reviews:
            raise LedgerError("no review submitted yet")
        self.ledger.decide_review(
            self.reviews[r % len(self.reviews)],
            scope,
            approve=approve,
            reason="r",
            actor=REVIEWER,
        )

    def do_go_live(self, a: int) -> None:
        app, owner = self.app(a)
        self.ledger.go_live(app.client_id, Actor.developer(owner))

    def do_return_to_sandbox(self, a: int) -> None:
        app, owner = self.app(a)
        self.ledger.return_to_sandbox(app.client_id, Actor.developer(owner))

    def do_disable(self, a: int) -> None:
        self.ledger.disable_app(self.app(a)[0].client_id, PLATFORM, "spam")

    def do_enable(self, a: int) -> None:
        self.ledger.enable_app(self.app(a)[0].client_id, PLATFORM, "appeal")

    def do_withdraw(self, a: int, scope: str | None) -> None:
        self.ledger.withdraw_approval(self.app(a)[0].client_id, scope, PLATFORM, "policy")

    def do_security(self, a: int, disable_implicit: bool) -> None:
        app, owner = self.app(a)
        self.ledger.change_app_security(
            app.client_id, Actor.developer(owner), disable_implicit=disable_implicit
        )

    # --- platform policy ----------------------------------------------------------------------

    def do_policy(self, kind: str, scope: str = "basic") -> None:
        ledger, why = self.ledger, "policy change"
        if kind == "retire":
            ledger.retire_scope(scope, PLATFORM, why)
        elif kind == "close":
            ledger.close_scope_applications(scope, PLATFORM, why)
        elif kind == "reopen":
            ledger.reopen_scope_applications(scope, PLATFORM, why)
        elif kind == "allow_live":
            ledger.allow_unreviewed_live(PLATFORM, why)
        elif kind == "to_sandbox":
            ledger.move_unreviewed_apps_to_sandbox(PLATFORM, why)
        else:
            raise ValueError(kind)

    # --- the world around ---------------------------------------------------------------------

    def do_tick(self, seconds: float) -> None:
        """Moves the test clock (codes live 10 minutes)."""
        if self.clock is not None and hasattr(self.clock, "advance"):
            self.clock.advance(seconds)

    def do_project(self) -> None:
        """Projects what is stored so far (so batches end at arbitrary points of history)."""
        if self.on_project is not None:
            self.on_project()


# A history that goes through every kind of command at least once, with refusals, for fixed
# scenarios (the PostgreSQL runs, the projector's crash and leadership tests).
PRELUDE: list[tuple[Any, ...]] = [
    *[("register_user", i) for i in range(len(USERS))],
    ("register_app", 0),
    ("register_app", 1),
    ("invite", 0, 2),
    ("accept", 0, 2),
    ("authorize", 0, 2, ["basic", "likes"], True),
    ("authorize", 0, 0, ["basic"], False),
    ("exchange", 0),
    ("policy", "reopen", "public_content"),
    ("policy", "reopen", "likes"),
    ("submit_review", 1, ("brands_and_advertisers", ("basic", "public_content"))),
    ("decide", 0, "public_content", True),
    ("decide", 0, "basic", True),
    ("go_live", 1),
    ("authorize", 1, 3, ["basic", "public_content"], False),
    ("exchange", 1),
]

# Users: ann 0, bob 1, cat 2, dan 3. App 0 (ann's) stays in sandbox with cat; app 1 (bob's) is
# approved for basic and public_content and live. Tokens: T0 cat@0 (basic likes, implicit), T1
# ann@0 (basic, code), T2 dan@1 (basic public_content, code).
LONG_HISTORY: list[tuple[Any, ...]] = [
    *PRELUDE,
    ("register_user", 4),  # ann again: refused
    ("authorize", 1, 3, ["likes"], True),  # not approved for likes: refused
    ("invite", 0, 3),
    ("authorize", 0, 3, [], True),  # invited, not accepted: refused
    ("accept", 0, 3),
    ("authorize", 0, 3, ["comments", "basic"], True),  # T3 dan@0
    ("authorize", 0, 2, ["comments"], False),
    ("exchange", 2),  # T4 cat@0
    ("exchange", 2),  # replayed: refused, and T4 revoked
    ("project",),
    ("revoke", 0, "user"),
    ("revoke", 0, "owner"),  # the second is refused
    ("deauthorize", 0, 3),
    ("authorize", 0, 3, ["basic"], True),  # T5 dan@0; T3 stays dead
    ("remove_sandbox_user", 0, 3),
    ("project",),
    ("invite", 0, 3),
    ("accept", 0, 3),
    ("withdraw", 1, "public_content"),
    ("project",),
    ("submit_review", 1, ("brands_and_advertisers", ("likes",))),
    ("decide", 1, "likes", True),
    ("submit_review", 1, ("brands_and_advertisers", ("basic", "public_content"))),
    ("decide", 2, "public_content", False),
    ("decide", 2, "basic", True),
    ("decide", 2, "basic", True),  # decided already: refused
    ("authorize", 1, 0, ["likes", "basic"], True),  # T6 ann@1, live
    ("authorize", 1, 2, ["likes"], False),  # code 3, cat@1
    ("policy", "retire", "likes"),
    ("exchange", 3),  # the code predates the retirement: refused
    ("authorize", 1, 2, ["likes"], True),  # retired: refused
    ("disable", 1),
    ("authorize", 1, 0, [], True),
    ("project",),
    ("enable", 1),
    ("withdraw", 1, None),  # app 1 unapproved: in sandbox, though switched live
    ("policy", "allow_live", "basic"),  # ... and live again, for every scope
    ("go_live", 0),
    ("authorize", 0, 1, ["comments"], True),  # T8 bob@0, live
    ("policy", "to_sandbox", "basic"),
    ("project",),
    ("submit_review", 0, ("own_content", ("basic",))),
    ("decide", 3, "basic", True),
    ("expire", 3),
    ("revoke", 5, "platform"),
    ("revoke", 6, "client"),
    ("revoke", 6, "owner"),  # refused
    ("deauthorize", 1, 0, True),
    ("authorize", 0, 0, ["basic"], False),
    ("tick", 601),
    ("exchange", 4),  # expired: refused
    ("authorize", 0, 0, ["basic"], False),
    ("deauthorize", 0, 0),
    ("exchange", 5),  # deauthorized since the code: refused
    ("authorize", 0, 0, ["basic"], False),
    ("exchange", 6),  # T9 ann@0
    ("authorize", 0, 3, ["comments"], False),
    ("exchange", 7),  # T10 dan@0
    ("security", 0, True),
    ("authorize", 0, 1, [], True),
    ("security", 0, False),
    ("remove_sandbox_user", 0, 3, True),
    ("policy", "retire", "basic"),
    ("withdraw", 0, "basic"),
    ("return_to_sandbox", 0),
    ("policy", "allow_live", "basic"),
    ("go_live", 1),
    ("enable", 1),  # the last is refused
]
