"""The figures the fault suite measures (writes lost, takeover and recovery times, answers by
status), printed in pytest's closing summary.

A figure travels in its test's report (``user_properties``), so it reaches the summary from an
xdist worker too. The hook is imported by tests/conftest.py, which pytest loads at start-up.
"""

from __future__ import annotations

from typing import Any

import pytest

FIGURE = "fault_figure"


def record_figure(request: pytest.FixtureRequest, name: str, value: Any) -> None:
    """Keeps one figure of the running test for the closing summary (recorded before the test
    asserts, so a failing test reports its figure too)."""
    request.node.user_properties.append((FIGURE, (name, str(value))))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Prints every figure the fault suite recorded, test by test in the order of their ids."""
    figures: list[tuple[str, int, str, str]] = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            for key, value in getattr(report, "user_properties", ()):
                if key == FIGURE:
                    name, text = value
                    figures.append((report.nodeid, len(figures), name, text))
    if not figures:
        return
    terminalreporter.write_sep("=", "fault suite figures")
    for _, _, name, text in sorted(figures):
        terminalreporter.write_line(f"{name}: {text}")
