"""The ASGI application: opens the Ledger for the process's lifetime and mounts the routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI

from api import oauth
from api.body_limit import register_body_limit
from api.docs_pages import register_docs_pages
from api.errors import register_error_handlers
from api.request_id import register_request_id
from api.routes import (
    api_keys,
    apps,
    audit,
    audit_proofs,
    catalogue,
    decisions,
    health,
    lookups,
    me,
    reviews,
    sandbox,
    token_endpoints,
    tokens,
    users,
)
from infrastructure.runtime import open_runtime
from infrastructure.settings import Settings, build_settings

DESCRIPTION = """
Event-sourced ledger of OAuth client apps, grants, scopes and tokens for the legacy
photo-sharing API. Every change is an event; nothing is deleted or rewritten, so any
past state (who could do what, and why) can be replayed.

Errors are answered as `{"error": {"code": "...", "message": "..."}}` with a stable `code`.
"""


def _version() -> str:
    try:
        return version("token-ledger")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0.0.0"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; with no settings, read them from the environment now (not at import)."""
    settings = settings if settings is not None else build_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = open_runtime(settings)
        app.state.runtime = runtime
        app.state.ledger = runtime.ledger
        try:
            yield
        finally:
            runtime.close()

    app = FastAPI(
        title="Token ledger",
        description=DESCRIPTION,
        version=_version(),
        lifespan=lifespan,
        docs_url=None,  # served by register_docs_pages, with a Content-Security-Policy
        redoc_url=None,
    )
    app.state.settings = settings
    register_body_limit(app)  # inside the request id, so a 413 carries one too
    register_request_id(app)
    register_error_handlers(app)
    # Routes are matched in order: the gateways' decisions, the hot path, first.
    app.include_router(decisions.router)
    app.include_router(health.router)
    for module in (
        users,
        apps,
        sandbox,
        reviews,
        catalogue,
        tokens,
        api_keys,
        lookups,
        token_endpoints,
        audit,
    ):
        app.include_router(module.router)
    app.include_router(audit_proofs.router)  # the log's tamper evidence
    app.include_router(me.router)  # a platform user, for herself (password)
    app.include_router(oauth.router)  # the legacy OAuth pages and token endpoint
    register_docs_pages(app)
    return app
