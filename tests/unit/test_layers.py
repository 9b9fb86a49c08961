"""The four rooms' dependencies point inward: a module's imports say which room it may lean on."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROOMS = ("domain", "application", "infrastructure", "api")
# What each room may import from the project (besides itself).
ALLOWED = {
    "domain": set(),
    "application": {"domain"},
    "infrastructure": {"domain", "application"},
    "api": {"domain", "application", "infrastructure"},
}
# The domain is pure: the standard library (minus I/O, clocks, threads and randomness) and
# eventsourcing's domain module only.
DOMAIN_FORBIDDEN_STDLIB = {"random", "secrets", "threading", "time", "os", "socket", "sqlite3"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules(room: str) -> list[Path]:
    return sorted((ROOT / room).rglob("*.py"))


@pytest.mark.parametrize("room", ROOMS)
def test_each_room_imports_only_rooms_further_in(room: str) -> None:
    outward = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules(room)
        for name in imports_of(path)
        if name.split(".")[0] in {*ROOMS, "tools", "tests", "benchmarks"} - {room}
        and name.split(".")[0] not in ALLOWED[room]
    }
    assert not outward


def test_the_domain_uses_no_io_clock_thread_randomness_or_persistence() -> None:
    impure = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules("domain")
        for name in imports_of(path)
        if name.split(".")[0] in DOMAIN_FORBIDDEN_STDLIB
        or (name.startswith("eventsourcing") and name != "eventsourcing.domain")
        or (
            name.split(".")[0] not in sys.stdlib_module_names
            and name.split(".")[0] not in {"domain", "eventsourcing"}
        )
    }
    assert not impure
