"""Read-your-writes over HTTP: writes answer their log position, reads can wait for one.

Every write answers ``position`` in its body and the ``X-Ledger-Position`` header. A read given
``min_position`` (query parameter, or the ``X-Ledger-Min-Position`` header) waits until the read
models have reached it, or answers 503 when they do not in time. Writes that take something away
are acknowledged (the read models reach them) before they are answered, so from the answer on
every process's checks deny.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request, Response

from api.dependencies import RuntimeDep
from infrastructure.runtime import Runtime

POSITION_HEADER = "X-Ledger-Position"
MIN_POSITION_HEADER = "X-Ledger-Min-Position"
DEFAULT_READ_TIMEOUT = 5.0
MAX_POSITION = 2**63 - 1


def written(response: Response, position: int) -> int:
    """Marks the response with the write's log position; answers the position."""
    response.headers[POSITION_HEADER] = str(position)
    return position


def acknowledged(runtime: Runtime, response: Response, position: int) -> int:
    """Waits until every process's checks see the write, then marks the response."""
    runtime.acknowledge(position)
    return written(response, position)


def no_store(response: Response) -> None:
    """A response showing a secret once must not be cached anywhere (RFC 6749 §5.1)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


def read_timeout_of(request: Request) -> float:
    """How long a read waits for a demanded log position before answering 503."""
    timeout: float = getattr(request.app.state, "read_wait_timeout", DEFAULT_READ_TIMEOUT)
    return timeout


async def read_timeout(request: Request) -> float:
    return read_timeout_of(request)


ReadTimeoutDep = Annotated[float, Depends(read_timeout)]

# The two ways a read demands a position (a route may declare them itself, see ``latest``).
MinPositionQuery = Annotated[
    int | None,
    Query(
        ge=0,
        le=MAX_POSITION,
        description="Wait until the read models reach this log position (read your own write).",
    ),
]
MinPositionHeader = Annotated[int | None, Header(alias=MIN_POSITION_HEADER, ge=0, le=MAX_POSITION)]


def latest(*positions: int | None) -> int | None:
    """The furthest of the demanded positions; None when none is demanded."""
    given = [p for p in positions if p is not None]
    return max(given) if given else None


async def requested_min_position(
    min_position: MinPositionQuery = None, header: MinPositionHeader = None
) -> int | None:
    return latest(min_position, header)


MinPositionDep = Annotated[int | None, Depends(requested_min_position)]


def caught_up(runtime: RuntimeDep, wanted: MinPositionDep, timeout: ReadTimeoutDep) -> int:
    """Dependency of reads: waits for ``min_position``; answers the read models' position."""
    return runtime.read_model.wait_for(wanted, timeout)


CaughtUp = Annotated[int, Depends(caught_up)]


async def header_min_position(header: MinPositionHeader = None) -> int | None:
    """For reads whose query or body has its own ``min_position`` field."""
    return header


MinPositionHeaderDep = Annotated[int | None, Depends(header_min_position)]
