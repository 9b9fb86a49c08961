"""The bare FastAPI app that ``benchmarks/http_check.py`` measures the ledger's check against.

One endpoint, ``POST /lookup`` with a JSON body ``{"id": N}``: one ``SELECT`` of a row by primary
key on PostgreSQL, answered as JSON. Built like the ledger's check path, minus the ledger: a plain
``def`` route (run in FastAPI's thread pool), a pydantic body and response model, and a psycopg
``ConnectionPool`` shaped like the ledger's read-model pool (``min_size=1``,
``max_size=max(pool_size, 2)``, ``search_path`` set per connection, one transaction per request).

Configured from the environment, read when the app is built (served by uvicorn as a factory):
HTTP_CHECK_BASELINE_URL (PostgreSQL URL), HTTP_CHECK_BASELINE_SCHEMA (schema holding
HTTP_CHECK_BASELINE_TABLE) and HTTP_CHECK_BASELINE_POOL_SIZE.

    HTTP_CHECK_BASELINE_URL=postgresql://... uvicorn benchmarks.baseline_app:create_app --factory
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel

TABLE = "http_check_baseline"

CREATE_TABLE = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    allowed BOOLEAN NOT NULL,
    position BIGINT NOT NULL
)"""


def seed_rows(count: int) -> list[tuple[int, str, str, bool, int]]:
    """The rows the script inserts (and checks the endpoint answers)."""
    return [(i, f"row {i}", "basic", i % 2 == 0, 1000 + i) for i in range(1, count + 1)]


class LookupIn(BaseModel):
    id: int


class RowOut(BaseModel):
    id: int
    name: str
    scope: str
    allowed: bool
    position: int


def create_app() -> FastAPI:
    url = os.environ["HTTP_CHECK_BASELINE_URL"]
    schema = os.environ.get("HTTP_CHECK_BASELINE_SCHEMA", "public")
    pool_size = int(os.environ.get("HTTP_CHECK_BASELINE_POOL_SIZE", "5"))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from psycopg_pool import ConnectionPool

        pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max(pool_size, 2),
            kwargs={"options": f"-c search_path={schema}", "autocommit": False},
            open=True,
        )
        app.state.pool = pool
        try:
            yield
        finally:
            pool.close()

    app = FastAPI(title="http_check baseline", lifespan=lifespan)
    columns = "id, name, scope, allowed, position"
    select = f"SELECT {columns} FROM {TABLE} WHERE id = %(id)s"  # noqa: S608 - constants

    @app.post("/lookup", response_model=RowOut)
    def lookup(body: LookupIn, request: Request) -> RowOut:
        pool = request.app.state.pool
        with pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute(select, {"id": body.id})
            row = cur.fetchone()
        if row is None:
            raise HTTPException(status_code=404, detail="no such row")
        return RowOut(id=row[0], name=row[1], scope=row[2], allowed=row[3], position=row[4])

    return app
