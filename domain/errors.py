"""Every way a ledger command can be refused.

Each error has a stable machine ``code`` (for clients and the HTTP error table in ``api/``) and a
message a person can act on. Where the legacy platform had an exact message, the error carries it
verbatim together with the legacy ``error_type`` and HTTP-ish ``legacy_code`` so that the OAuth
endpoints can answer exactly as the old platform did; the domain itself knows nothing of HTTP.
"""

from __future__ import annotations

import math


class LedgerError(Exception):
    """Raised when a command is refused; nothing has been written."""

    code = "ledger_error"
    legacy_type: str | None = None
    legacy_code: int | None = None

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__ or self.code)

    @property
    def message(self) -> str:
        return str(self.args[0])


# --- input -------------------------------------------------------------------------------------


class InvalidInputError(LedgerError):
    """Raised when a command's input is malformed (a bad URL, an empty name, ...)."""

    code = "invalid_input"


class InvalidCursorError(InvalidInputError):
    """Raised when an audit feed cursor was not one the ledger handed out."""

    code = "invalid_cursor"


class InvalidScopeError(InvalidInputError):
    """Raised when a scope parameter is empty, or names a scope the platform does not know."""

    code = "invalid_scope"
    legacy_type = "OAuthException"
    legacy_code = 400


# --- lookups -----------------------------------------------------------------------------------


class NotFoundError(LedgerError):
    """Raised when a command names something the ledger has no record of."""

    code = "not_found"


class AppNotFoundError(NotFoundError):
    """Raised when a client_id does not match a registered app."""

    code = "app_not_found"
    legacy_type = "OAuthException"
    legacy_code = 400

    def __init__(self, client_id: str = "") -> None:
        super().__init__("Invalid Client ID")
        self.client_id = client_id


class UserNotFoundError(NotFoundError):
    """Raised when a username or user id does not match a registered platform user."""

    code = "user_not_found"

    def __init__(self, user: str) -> None:
        super().__init__(f"No platform user {user!r} is registered")


class ReviewNotFoundError(NotFoundError):
    """Raised when a review id does not match a submitted review."""

    code = "review_not_found"

    def __init__(self, review_id: str) -> None:
        super().__init__(f"No review {review_id!r} was submitted")


class TokenNotFoundError(NotFoundError):
    """Raised when an access token (or token id) is not one the ledger issued."""

    code = "token_not_found"
    legacy_type = "OAuthAccessTokenException"
    legacy_code = 400

    def __init__(self) -> None:
        super().__init__("The access_token provided is invalid.")


class GrantNotFoundError(NotFoundError):
    """Raised when a user has never authorized the app named."""

    code = "grant_not_found"

    def __init__(self) -> None:
        super().__init__("The user has not authorized this app")


# --- uniqueness and concurrency ----------------------------------------------------------------


class AlreadyExistsError(LedgerError):
    """Raised when a command would create something that must be unique and already exists."""

    code = "already_exists"


class UsernameTakenError(AlreadyExistsError):
    """Raised when a platform user registers with a username that is already taken."""

    code = "username_taken"

    def __init__(self, username: str) -> None:
        super().__init__(f"The username {username!r} is already taken")


class ConcurrencyConflictError(LedgerError):
    """Raised when concurrent writers kept changing the same records and retries ran out."""

    code = "conflict"

    def __init__(self) -> None:
        super().__init__(
            "The records this command changes were changed concurrently; nothing was written, "
            "try again"
        )


# --- who may do what ---------------------------------------------------------------------------


class NotPermittedError(LedgerError):
    """Raised when the acting principal's role or identity may not perform the command."""

    code = "not_permitted"


# --- sign-in -----------------------------------------------------------------------------------


class SignInThrottledError(LedgerError):
    """Raised when a username has had too many wrong passwords recently to check another."""

    code = "sign_in_throttled"

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(
            "Too many failed sign-ins for this username: try again in "
            f"{minutes} minute{'s' if minutes != 1 else ''}."
        )
        self.retry_after = retry_after  # seconds until the lock ends


# --- scopes and platform policy ----------------------------------------------------------------


class ScopeApplicationsClosedError(LedgerError):
    """Raised when a review asks for a scope whose applications are no longer accepted."""

    code = "scope_applications_closed"

    def __init__(self, scope: str) -> None:
        super().__init__(
            f"Applications for the {scope} permission are no longer accepted; "
            "you can only submit a review for permissions that are open"
        )
        self.scope = scope


class ScopeRetiredError(LedgerError):
    """Raised when a command uses a scope the platform has switched off for everyone."""

    code = "scope_retired"

    def __init__(self, scope: str) -> None:
        super().__init__(f"The {scope} permission has been retired by the platform")
        self.scope = scope


class PolicyUnchangedError(LedgerError):
    """Raised when a platform policy command would not change anything (already in that state)."""

    code = "policy_unchanged"


# --- apps --------------------------------------------------------------------------------------


class AppDisabledError(LedgerError):
    """Raised when a disabled app is used for authorization or token exchange."""

    code = "app_disabled"
    legacy_type = "OAuthException"
    legacy_code = 400

    def __init__(self) -> None:
        super().__init__("The client used for authentication is no longer active.")


class AppStateError(LedgerError):
    """Raised when an app command does not fit the app's current state (already live, ...)."""

    code = "app_state"


class InvalidClientSecretError(LedgerError):
    """Raised when a client authenticates with a secret that is not its current one."""

    code = "invalid_client_secret"
    legacy_type = "OAuthException"
    legacy_code = 400

    def __init__(self) -> None:
        super().__init__("Invalid Client Secret")


class MissingClientIdError(InvalidInputError):
    """Raised when a client authenticates without a client_id."""

    code = "missing_client_id"
    legacy_type = "OAuthException"
    legacy_code = 400

    def __init__(self) -> None:
        super().__init__("You must provide a client_id")


class MalformedClientCredentialsError(LedgerError):
    """Raised when a client's HTTP Basic credentials cannot be read (not base64 of UTF-8
    ``client_id:client_secret``): the client tried to authenticate and failed (RFC 6749 §5.2)."""

    code = "malformed_client_credentials"
    legacy_type = "OAuthException"
    legacy_code = 401

    def __init__(self) -> None:
        super().__init__("Malformed HTTP Basic credentials")


class SandboxLimitError(LedgerError):
    """Raised when a sandbox limit is exceeded (10 users per app, 5 apps per user)."""

    code = "sandbox_limit"


class SandboxInvitationError(LedgerError):
    """Raised when a sandbox invitation cannot be made, accepted or withdrawn as asked."""

    code = "sandbox_invitation"


class NotSandboxUserError(LedgerError):
    """Raised when a user who is not an accepted sandbox user authorizes an app in sandbox mode."""

    code = "not_sandbox_user"
    legacy_type = "OAuthForbiddenException"
    legacy_code = 403

    def __init__(self) -> None:
        super().__init__("You are not a sandbox user of this client")


class NotApprovedError(LedgerError):
    """Raised when a live app requests a scope it has not been approved for."""

    code = "not_approved"
    legacy_type = "OAuthPermissionsException"
    legacy_code = 400

    def __init__(self, scope: str | None = None) -> None:
        super().__init__("This client has not been approved to access this resource.")
        self.scope = scope


class NotReviewedError(AppStateError):
    """Raised when an app is switched to live mode before any review was approved."""

    code = "not_reviewed"

    def __init__(self) -> None:
        super().__init__(
            "The app must have a review approved before it can be switched to live mode"
        )


# --- reviews -----------------------------------------------------------------------------------


class ReviewRefusedError(LedgerError):
    """Raised when a review submission breaks a submission rule; the message says what to do."""

    code = "review_refused"


class InvalidUseCaseError(ReviewRefusedError):
    """Raised when a review names a use case the platform does not grant permissions for."""

    code = "invalid_use_case"


class PermissionOutsideUseCaseError(ReviewRefusedError):
    """Raised when a review asks for a permission that its use case does not map to."""

    code = "permission_outside_use_case"


class ReviewAlreadyOpenError(ReviewRefusedError):
    """Raised when an app submits a review while another of its reviews is still open."""

    code = "review_already_open"

    def __init__(self) -> None:
        super().__init__(
            "This app already has a review in progress; wait for its decision before "
            "submitting another"
        )


class ReviewDecisionError(LedgerError):
    """Raised when a reviewer decides a permission that is not pending in an open review."""

    code = "review_decision"


class ApprovalNotFoundError(NotFoundError):
    """Raised when the platform withdraws an approval the app does not hold."""

    code = "approval_not_found"


# --- redirects, codes and tokens ---------------------------------------------------------------


class RedirectUriMismatchError(LedgerError):
    """Raised when an authorization request's redirect_uri matches no registered one."""

    code = "redirect_uri_mismatch"
    legacy_type = "OAuthException"
    legacy_code = 400

    def __init__(self) -> None:
        super().__init__("Redirect URI does not match registered redirect URI")


class UnsupportedResponseTypeError(InvalidInputError):
    """Raised when an authorization request asks for a response type other than code or token."""

    code = "unsupported_response_type"
    legacy_type = "OAuthException"
    legacy_code = 400

    def __init__(self) -> None:
        super().__init__('Only response type "code" and "token" is allowed')


class ImplicitFlowDisabledError(LedgerError):
    """Raised when an implicit-flow request reaches a client that disabled implicit OAuth."""

    code = "implicit_disabled"
    legacy_type = "OAuthForbiddenException"
    legacy_code = 403

    def __init__(self) -> None:
        super().__init__("Implicit authentication is disabled")


class UnsupportedGrantTypeError(InvalidInputError):
    """Raised when a token request uses a grant type other than authorization_code."""

    code = "unsupported_grant_type"
    legacy_type = "OAuthException"
    legacy_code = 400

    def __init__(self) -> None:
        super().__init__("Invalid grant_type: only authorization_code is supported")


class CodeNotFoundError(LedgerError):
    """Raised when a code is unknown, expired, issued to another client, or already redeemed."""

    code = "invalid_code"
    legacy_type = "OAuthException"
    legacy_code = 400

    def __init__(self) -> None:
        super().__init__("Matching code was not found or was already used.")


class CodeRedirectMismatchError(LedgerError):
    """Raised when a code is redeemed with a redirect_uri other than the one it was issued for."""

    code = "code_redirect_mismatch"
    legacy_type = "OAuthException"
    legacy_code = 400

    def __init__(self) -> None:
        super().__init__("Redirect URI doesn't match original redirect URI")


class MissingSignatureError(LedgerError):
    """Raised when a client that enforces signed requests sends a call without ``sig``."""

    code = "signature_missing"
    legacy_type = "OAuthForbiddenException"
    legacy_code = 403

    def __init__(self) -> None:
        super().__init__("Invalid signed-request: Missing required parameter 'sig'")


class InvalidSignatureError(LedgerError):
    """Raised when a signed request's ``sig`` does not match the expected signature."""

    code = "signature_mismatch"
    legacy_type = "OAuthForbiddenException"
    legacy_code = 403

    def __init__(self) -> None:
        super().__init__("Invalid signed-request: Signature does not match")


class TokenStateError(LedgerError):
    """Raised when a token command does not fit the token's state (already revoked, ...)."""

    code = "token_state"


# --- reads -------------------------------------------------------------------------------------


class ProjectionTimeoutError(LedgerError):
    """Raised when the read models did not reach a demanded log position in time."""

    code = "projection_timeout"

    def __init__(self, position: int, reached: int, timeout: float) -> None:
        super().__init__(
            f"The read models had reached log position {reached}, not {position}, after "
            f"{timeout:g} s; retry the read"
        )
        self.position = position
        self.reached = reached


class ReadsBusyError(ProjectionTimeoutError):
    """Raised when so many reads of one process already wait for the read models that one more
    could take the last threads the process answers with."""

    code = "reads_busy"

    def __init__(self, waiting: int) -> None:
        LedgerError.__init__(
            self,
            f"{waiting} reads already wait for the read models to reach a log position; "
            "retry the read",
        )
        self.waiting = waiting


class PositionBeyondLogError(InvalidInputError):
    """Raised when a read demands a log position beyond the end of the log, which no write
    has answered and which may never be reached."""

    code = "position_beyond_log"

    def __init__(self, position: int, end: int) -> None:
        super().__init__(
            f"Log position {position} is beyond the end of the log (position {end} now); "
            "demand only a position a write answered"
        )
        self.position = position
        self.end = end


class StoreUnavailableError(LedgerError):
    """Raised when the event store or the read models' database cannot be reached in time:
    it is down or restarting, or every connection is busy. Nothing was written; retry."""

    code = "store_unavailable"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message or "The ledger's database cannot be reached right now; retry shortly"
        )


class WriteNotAcknowledgedError(StoreUnavailableError):
    """Raised when the store failed while a command's write was being committed, so that the
    write may or may not be in the log."""

    code = "write_not_acknowledged"

    def __init__(self) -> None:
        super().__init__(
            "The ledger's database failed while saving this change, which may or may not have "
            "been made: check before retrying"
        )


class InvalidAsOfError(InvalidInputError):
    """Raised when a read asks for a moment or position the log cannot answer for."""

    code = "invalid_as_of"


# --- audit trail -------------------------------------------------------------------------------


class AuditProofNotFoundError(NotFoundError):
    """Raised when a proof is asked for a position the audit tree does not hold yet, or for a
    tree size no stored signed checkpoint has."""

    code = "audit_proof_not_found"


class CheckpointSigningDisabledError(LedgerError):
    """Raised when a checkpoint is to be signed but no signer key is configured
    (LEDGER_CHECKPOINT_SIGNER_KEY)."""

    code = "checkpoint_signing_disabled"


# --- API keys ----------------------------------------------------------------------------------


class InvalidApiKeyError(LedgerError):
    """Raised when a request presents no API key, or one that is unknown or revoked."""

    code = "invalid_api_key"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "A valid API key is required: send it as 'Authorization: Bearer <key>' or "
            "'X-API-Key: <key>'"
        )


class ApiKeyRoleError(NotPermittedError):
    """Raised when an API key's role may not call the endpoint it was presented to."""

    code = "api_key_role"


class ApiKeyNotFoundError(NotFoundError):
    """Raised when an API key id does not match a created key."""

    code = "api_key_not_found"

    def __init__(self, key_id: str) -> None:
        super().__init__(f"No API key {key_id!r} was created")


class ApiKeyStateError(LedgerError):
    """Raised when an API key command does not fit the key's state (already revoked)."""

    code = "api_key_state"
