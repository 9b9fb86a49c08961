"""Permission decisions: "does this token have scope X in mode Y", as a pure function of facts.

The facts (is the token active, is the scope in the user's grant, is the app approved...) are
gathered by a reader (the read models, or aggregates replayed to a log position); the rule that
turns them into an answer lives here, once. A denial names the first link that fails, with the
legacy platform's error, a machine reason code and what would fix it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from domain.apps import Mode, effective_mode, live_mode_permits

INVALID_TOKEN = "The access_token provided is invalid."
NOT_APPROVED = "This client has not been approved to access this resource."
NOT_SANDBOX_USER = "You are not a sandbox user of this client"
# The reference gives no message for another user's data in sandbox mode: the same type and
# status as the token's user not being a sandbox user, naming whose data it is.
DATA_OWNER_NOT_SANDBOX_USER = "The requested user is not a sandbox user of this client"
CLIENT_INACTIVE = "The client used for authentication is no longer active."


def missing_scope_message(scope: str) -> str:
    return (
        f"This request requires scope={scope}, but this access token is not authorized with "
        f"this scope. The user must re-authorize your application with scope={scope} to be "
        "granted this permissions."
    )


class Reason(StrEnum):
    """Why a check was denied: the first link of the chain that failed."""

    TOKEN_UNKNOWN = "token_unknown"
    TOKEN_REVOKED = "token_revoked"
    TOKEN_EXPIRED = "token_expired"
    APP_DISABLED = "app_disabled"
    GRANT_WITHDRAWN = "grant_withdrawn"
    SCOPE_NOT_IN_TOKEN = "scope_not_in_token"
    SCOPE_RETIRED = "scope_retired"
    NOT_SANDBOX_USER = "not_sandbox_user"
    DATA_OWNER_NOT_SANDBOX_USER = "data_owner_not_sandbox_user"
    NOT_APPROVED = "not_approved"


@dataclass(frozen=True)
class Constraints:
    """What the mode allows a token, per the legacy platform (per token, sliding hour)."""

    requests_per_hour: int
    writes_per_hour: int
    media_limit: int | None
    data_limited_to_sandbox_users: bool


SANDBOX_CONSTRAINTS = Constraints(500, 30, 20, True)
LIVE_CONSTRAINTS = Constraints(5000, 60, None, False)


def constraints_for(mode: Mode) -> Constraints:
    return SANDBOX_CONSTRAINTS if mode is Mode.SANDBOX else LIVE_CONSTRAINTS


@dataclass(frozen=True)
class CheckFacts:
    """Everything a decision rests on, at one log position.

    ``token_found`` False means no token with that secret had been issued by then; the other
    fields then do not matter. ``grant_withdrawn`` is whether the user deauthorized the app
    after the token was issued: that ends the token for good, even once the user authorizes the
    app again (the token's scopes were in the grant when it was issued).
    ``data_owner_is_sandbox_user`` is whether the other user whose data a call names (a gate's
    ``resource_owner``, or the user of ``/users/{id}``) is a sandbox user of the app; True when
    the call names no other user.
    """

    token_found: bool
    token_revoked: bool = False
    token_expired: bool = False
    token_scopes: tuple[str, ...] = ()
    app_disabled: bool = False
    app_switched_live: bool = False
    app_approved_scopes: tuple[str, ...] = ()
    unreviewed_live_allowed: bool = False
    grant_withdrawn: bool = False
    scope_retired: bool = False
    user_is_sandbox_user: bool = False
    data_owner_is_sandbox_user: bool = True

    @property
    def app_mode(self) -> Mode:
        return effective_mode(
            self.app_switched_live, bool(self.app_approved_scopes), self.unreviewed_live_allowed
        )


@dataclass(frozen=True)
class Denial:
    reason: Reason
    error_type: str
    http_status: int
    message: str
    fix: str


@dataclass(frozen=True)
class Decision:
    allowed: bool
    scope: str
    mode: Mode
    constraints: Constraints
    denial: Denial | None = None
    position: int = 0
    details: dict[str, str] = field(default_factory=dict)


def decide(facts: CheckFacts, scope: str, mode: Mode | None = None) -> Decision:
    """The answer for one scope; ``mode`` None means the app's own mode at that moment."""
    used = mode or facts.app_mode
    denial = _first_failure(facts, scope, used)
    return Decision(denial is None, scope, used, constraints_for(used), denial)


def _first_failure(facts: CheckFacts, scope: str, mode: Mode) -> Denial | None:
    if not facts.token_found:
        return Denial(
            Reason.TOKEN_UNKNOWN,
            "OAuthAccessTokenException",
            400,
            INVALID_TOKEN,
            "the user must authorize the app to obtain a valid access token",
        )
    if facts.token_revoked:
        return Denial(
            Reason.TOKEN_REVOKED,
            "OAuthAccessTokenException",
            400,
            INVALID_TOKEN,
            "the user must authorize the app again to obtain a new access token",
        )
    if facts.token_expired:
        return Denial(
            Reason.TOKEN_EXPIRED,
            "OAuthAccessTokenException",
            400,
            INVALID_TOKEN,
            "the user must authorize the app again to obtain a new access token",
        )
    if facts.app_disabled:
        return Denial(
            Reason.APP_DISABLED,
            "OAuthException",
            400,
            CLIENT_INACTIVE,
            "the platform must re-enable the app",
        )
    if facts.grant_withdrawn:  # a dead token: every call on it is refused alike
        return Denial(
            Reason.GRANT_WITHDRAWN,
            "OAuthAccessTokenException",
            400,
            INVALID_TOKEN,
            f"the user deauthorized the app; the user must re-authorize with scope={scope}",
        )
    if facts.scope_retired:  # before the token's scopes: re-authorizing could not fix it
        return Denial(
            Reason.SCOPE_RETIRED,
            "OAuthPermissionsException",
            400,
            NOT_APPROVED,
            f"none: the platform retired {scope} for every app",
        )
    if scope not in facts.token_scopes:
        return Denial(
            Reason.SCOPE_NOT_IN_TOKEN,
            "OAuthPermissionsException",
            400,
            missing_scope_message(scope),
            f"the user must re-authorize with scope={scope}",
        )
    if mode is Mode.SANDBOX:
        if not facts.user_is_sandbox_user:
            return Denial(
                Reason.NOT_SANDBOX_USER,
                "OAuthForbiddenException",
                403,
                NOT_SANDBOX_USER,
                "the app's owner must invite the user as a sandbox user, and the user must accept",
            )
        if not facts.data_owner_is_sandbox_user:
            # The legacy platform limited a sandbox app to its sandbox users' data.
            return Denial(
                Reason.DATA_OWNER_NOT_SANDBOX_USER,
                "OAuthForbiddenException",
                403,
                DATA_OWNER_NOT_SANDBOX_USER,
                "the user whose data is requested must be invited as a sandbox user "
                "and accept, or the app must go live",
            )
        return None
    if not live_mode_permits(facts.app_approved_scopes, scope, facts.unreviewed_live_allowed):
        return Denial(
            Reason.NOT_APPROVED,
            "OAuthPermissionsException",
            400,
            NOT_APPROVED,
            f"the app must be approved for {scope}",
        )
    return None
