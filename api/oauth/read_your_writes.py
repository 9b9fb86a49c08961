"""A token issued here is usable at once: its answer waits for the read models to reach it.

The gateway's permission checks read the projected read models, so a client that calls the API
straight after receiving its token would otherwise be refused while the projector catches up.
The wait is best effort: the token is issued either way, and answering it matters more than a
lag, which is logged (the position only, never the token). Whatever the wait fails with (the
read models lag, their database is unreachable), the write is in the log and is answered: a
client told of an error would retry the exchange, and a second exchange of a code is a replay
that revokes the token (RFC 6749 §4.1.2).
"""

from __future__ import annotations

import logging

from domain.errors import ProjectionTimeoutError
from infrastructure.runtime import Runtime

logger = logging.getLogger(__name__)


def wait_for_read_models(runtime: Runtime, position: int) -> None:
    try:
        runtime.acknowledge(position)
    except ProjectionTimeoutError:
        logger.warning("read models have not reached log position %s yet", position)
    except Exception as error:  # the write is acknowledged whatever the wait says
        logger.warning(
            "could not wait for the read models to reach log position %s: %s",
            position,
            type(error).__name__,
        )
