"""OAuth commands and queries: authorization, code exchange, deauthorization, revocation.

The flows follow RFC 6749 §4.1 (code) and §4.2 (implicit) with the legacy platform's rules: the
scope parameter, redirect URI matching, sandbox users only in sandbox mode, approved scopes only
in live mode. A token carries the scopes of the authorization that produced it (§3.3), while the
user's grant accumulates every scope authorized since the last deauthorization.
"""

from __future__ import annotations

from copy import deepcopy
from uuid import UUID

from application.credentials import new_secret
from application.results import Authorized, CheckedAuthorizationRequest, TokenIssued, Written
from application.service import LedgerService, command
from domain.actors import Actor, Role
from domain.apps import App, Mode
from domain.codes import CodeClaims
from domain.errors import (
    CodeNotFoundError,
    GrantNotFoundError,
    ImplicitFlowDisabledError,
    InvalidInputError,
    NotApprovedError,
    NotPermittedError,
    NotSandboxUserError,
    RedirectUriMismatchError,
    TokenNotFoundError,
    UnsupportedGrantTypeError,
    UnsupportedResponseTypeError,
    WriteNotAcknowledgedError,
)
from domain.grants import Grant
from domain.identity import (
    SCOPE_CATALOGUE_ID,
    app_id_from_client_id,
    grant_id,
    same_username,
    token_id,
    user_id,
)
from domain.redirects import find_matching
from domain.tokens import AccessToken
from domain.users import User

RESPONSE_TYPES = ("code", "token")
LEDGER = Actor("ledger", Role.SYSTEM)


class OAuthQueries(LedgerService):
    """What an authorization request may do, and which token a secret or id names."""

    # --- the authorization request, checked once for the consent page and for authorize ----

    def authorization_redirect(
        self, client_id: str | None, redirect_uri: str | None
    ) -> tuple[App, str]:
        """The app and the registered redirect URI the request names; until both are known no
        error may be redirected to the client (RFC 6749 §4.1.2.1)."""
        app = self.app(client_id, read_only=True)
        if not redirect_uri:
            raise InvalidInputError("redirect_uri is required")
        if find_matching(app.redirect_uris, redirect_uri) is None:
            raise RedirectUriMismatchError()
        return app, redirect_uri

    def check_authorization_request(
        self,
        client_id: str | None,
        redirect_uri: str | None,
        response_type: str | None,
        scope: str | None,
    ) -> CheckedAuthorizationRequest:
        """Every check of an authorization request that does not depend on the user (RFC 6749
        §4.1.1, §4.2.1), asked before anyone signs in or consents and again by ``authorize``."""
        app, redirect_uri = self.authorization_redirect(client_id, redirect_uri)
        if response_type not in RESPONSE_TYPES:
            raise UnsupportedResponseTypeError()
        app.require_active()
        if response_type == "token" and app.implicit_disabled:
            raise ImplicitFlowDisabledError()
        catalogue = self.catalogue(read_only=True)
        scopes = catalogue.parse(scope)
        catalogue.require_not_retired(scopes)
        return CheckedAuthorizationRequest(
            app,
            redirect_uri,
            response_type,
            scopes,
            tuple((name, catalogue.scopes[name].description) for name in scopes),
            app.effective_mode(catalogue.unreviewed_live_allowed),
            catalogue.unreviewed_live_allowed,
        )

    def check_may_authorize(self, checked: CheckedAuthorizationRequest, username: str) -> User:
        """The user may authorize the checked request's app (asked before the consent page is
        shown; ``authorize`` asks again)."""
        user = self.user(username, read_only=True)
        self.require_may_authorize(
            checked.app, user, checked.scopes, checked.mode, checked.unreviewed_live_allowed
        )
        return user

    @staticmethod
    def require_may_authorize(
        app: App, user: User, scopes: tuple[str, ...], mode: Mode, unreviewed_live_allowed: bool
    ) -> None:
        """Sandbox: only accepted sandbox users, any scope. Live: only approved scopes.

        Public so the consent page can refuse before asking; ``authorize`` checks it again."""
        if mode is Mode.SANDBOX:
            if not app.is_sandbox_user(user.id):
                raise NotSandboxUserError()
            return
        for scope in scopes:
            if not app.live_permits(scope, unreviewed_live_allowed):
                raise NotApprovedError(scope)

    def token(self, access_token: str) -> AccessToken:
        """The token a plaintext access token names (looked up by its keyed digest)."""
        found = self._get(token_id(self.hasher.digest(access_token)), AccessToken)
        if found is None:
            raise TokenNotFoundError()
        return found

    def token_by_id(self, token: UUID | str) -> AccessToken:
        try:
            tid = token if isinstance(token, UUID) else UUID(str(token))
        except ValueError:
            raise TokenNotFoundError() from None
        found = self._get(tid, AccessToken)
        if found is None:
            raise TokenNotFoundError()
        return found


class OAuthCommands(OAuthQueries):
    """Authorization, code exchange, deauthorization, revocation and expiry."""

    # --- authorization ------------------------------------------------------------------------

    @command
    def authorize(
        self,
        *,
        client_id: str | None,
        username: str,
        redirect_uri: str | None,
        scope: str | None,
        response_type: str = "code",
        actor: Actor | None = None,
    ) -> Authorized:
        """The user consents (RFC 6749 §4.1.1, §4.2.1); answers a code or, implicitly, a token.

        A code is self-contained (``domain/codes.py``), so the code flow writes only a consent
        that adds scopes to the grant; a consent to scopes the grant holds writes nothing."""
        actor = actor or Actor.user(username)
        if actor.role is not Role.PLATFORM and not same_username(actor.principal, username):
            raise NotPermittedError("Only the user may authorize an app on their own behalf")
        app_id = app_id_from_client_id(client_id) if client_id else None
        read_position = self._prefetch(
            app_id, SCOPE_CATALOGUE_ID, grant_id(user_id(username), app_id) if app_id else None
        )
        checked = self.check_authorization_request(client_id, redirect_uri, response_type, scope)
        app, scopes, mode = checked.app, checked.scopes, checked.mode
        redirect_uri = checked.redirect_uri
        catalogue = self.catalogue(read_only=True)
        user = self._registered_user(username)  # its id and legacy profile fields only
        self.require_may_authorize(app, user, scopes, mode, checked.unreviewed_live_allowed)

        if response_type == "code":
            grant = self._read(grant_id(user.id, app.id), Grant)
            if grant is None or grant.adds(scopes):
                # Changed, so the command's own copy (never the cached grant itself).
                grant = deepcopy(grant) if grant else Grant.start(user.id, app.id, actor)
                grant.grant(scopes, mode.value, actor)
                position = self._save(self._if_new(catalogue), grant)
            else:
                position = self.position() if read_position is None else read_position
            claims = CodeClaims.issue(
                app.id,
                self.user_info(user),
                redirect_uri,
                scopes,
                mode.value,
                self.clock(),
                self.code_lifetime,
                grant.deauthorizations,
                new_secret(),
            )
            return Authorized(
                position, redirect_uri, scopes, mode.value, code=claims.encode(self.hasher)
            )
        grant = self._get(grant_id(user.id, app.id), Grant) or Grant.start(user.id, app.id, actor)
        grant.grant(scopes, mode.value, actor)
        secret = new_secret()
        token = AccessToken.issue(
            self.hasher.digest(secret),
            app.id,
            user.id,
            scopes,
            mode.value,
            "implicit",
            None,
            actor,
        )
        position = self._save(self._if_new(catalogue), grant, token)
        return Authorized(
            position, redirect_uri, scopes, mode.value, access_token=secret, token_id=token.id
        )

    def exchange_code(
        self,
        *,
        client_id: str | None,
        client_secret: str | None,
        redirect_uri: str | None,
        code: str | None,
        grant_type: str | None = "authorization_code",
    ) -> TokenIssued:
        """Redeems a code for an access token (RFC 6749 §4.1.3): one write, the token and its
        record in the user's grant. A replayed code is refused and the token it first issued is
        revoked (§4.1.2): the one refusal that writes.

        The token is drawn once per exchange, outside the re-runs: a re-run after a commit whose
        acknowledgement was lost finds the grant's record of this code naming this very token,
        and answers it instead of taking its own write for a replay."""
        request = {
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uri": redirect_uri,
            "code": code,
            "grant_type": grant_type,
        }
        secret = new_secret()
        try:
            return self._exchange_code(secret, **request)
        except WriteNotAcknowledgedError:
            # The store failed while committing: the exchange may be in the log. Look once
            # more (if the store is still down this fails again, and the client is told so).
            return self._exchange_code(secret, **request)

    @command
    def _exchange_code(
        self,
        secret: str,
        *,
        client_id: str | None,
        client_secret: str | None,
        redirect_uri: str | None,
        code: str | None,
        grant_type: str | None,
    ) -> TokenIssued:
        try:
            claims: CodeClaims | None = CodeClaims.decode(code, self.hasher)
        except CodeNotFoundError:
            claims = None  # refused below, after what the client is told first
        app_id = app_id_from_client_id(client_id) if client_id else None
        grant_read = grant_id(claims.user_id, app_id) if claims and app_id else None
        read_position = self._prefetch(app_id, SCOPE_CATALOGUE_ID, grant_read)
        app = self.verify_client(client_id, client_secret, read_only=True)
        app.require_active()
        if grant_type != "authorization_code":
            raise UnsupportedGrantTypeError()
        if claims is None:
            raise CodeNotFoundError()
        if claims.app_id != app.id:
            raise CodeNotFoundError()  # another client's code: not this client's to replay
        digest = self.hasher.digest(code or "")
        grant = self._get(grant_id(claims.user_id, app.id), Grant)
        if grant is None:
            raise CodeNotFoundError()
        issued = grant.token_for_code(digest)
        if issued is not None and issued == token_id(self.hasher.digest(secret)):
            # This exchange's own write, committed although the store did not say so: no replay.
            position = self.position() if read_position is None else read_position
            return TokenIssued(position, issued, claims.scopes, claims.user, secret)
        if issued is not None:
            # Whatever else is wrong with the request (an expired code, another redirect URI).
            self._revoke_replayed(grant, digest)
            raise CodeNotFoundError()
        now = self.clock()
        claims.check_redeemable(app.id, redirect_uri or "", now)
        self.catalogue(read_only=True).require_not_retired(claims.scopes)  # since the consent
        if grant.deauthorizations != claims.grant_deauthorizations:
            raise CodeNotFoundError()  # the user deauthorized the app since the code was issued
        actor = Actor.client(app.client_id)
        token = AccessToken.issue(
            self.hasher.digest(secret),
            app.id,
            claims.user_id,
            claims.scopes,
            claims.mode,
            "code",
            digest,
            actor,
        )
        grant.record_token(token.id, digest, now, actor)
        position = self._save(token, grant)
        return TokenIssued(position, token.id, claims.scopes, claims.user, secret)

    def _revoke_replayed(self, grant: Grant, code_digest: str) -> None:
        token_id = grant.token_for_code(code_digest)
        token = self._get(token_id, AccessToken) if token_id else None
        grant.record_replay(code_digest, LEDGER)
        if token is not None and token.active:
            token.revoke(LEDGER, "authorization code replayed (RFC 6749 section 4.1.2)")
        self._save(grant, token)

    # --- withdrawal ---------------------------------------------------------------------------

    @command
    def deauthorize(self, client_id: str, username: str, actor: Actor, reason: str = "") -> Written:
        app = self.app(client_id)
        user = self.user(username)
        grant = self._get(grant_id(user.id, app.id), Grant)
        if grant is None:
            raise GrantNotFoundError()
        grant.deauthorize(actor, reason)
        return Written(self._save(grant))

    @command
    def revoke_token(
        self,
        actor: Actor,
        *,
        access_token: str | None = None,
        token_id: UUID | str | None = None,
        reason: str = "",
    ) -> Written:
        """Revokes a token named by its plaintext (its user or app) or by its id (management)."""
        if access_token:
            token = self.token(access_token)
        elif token_id:
            token = self.token_by_id(token_id)
        else:
            raise InvalidInputError("Name the token to revoke: access_token or token_id")
        token.revoke(actor, reason, self._app_by_id(token.app_id))
        return Written(self._save(token))

    @command
    def expire_token(self, token_id: UUID | str, actor: Actor, reason: str) -> Written:
        token = self.token_by_id(token_id)
        token.expire(actor, reason)
        return Written(self._save(token))
