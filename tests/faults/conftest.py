"""Fixtures of the fault suite: the figures a test reports, and a folder for service logs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.faults.figures import record_figure


@pytest.fixture
def figure(request: pytest.FixtureRequest) -> Callable[[str, Any], None]:
    """``figure(name, value)`` prints the figure in the run's closing summary."""

    def record(name: str, value: Any) -> None:
        record_figure(request, name, value)

    return record
