"""Reading the golden log and what it must replay to; shared by its test and its generator.

The golden log (``golden_log.jsonl``) holds rows of the event store exactly as the SQLite and
PostgreSQL recorders hold them: notification id, originator id and version, topic, and the
state's bytes (base64; the ledger uses no cipher and no compressor). ``expected_state.json``
says what the current code must make of them: each aggregate's summary after replay, and the
read models' checksum after projecting them.

Rows are written into a store through the recorder's own insert, never through the domain, so
what is tested is that today's code reads yesterday's bytes.
"""

from __future__ import annotations

import base64
import dataclasses
import importlib
import json
import pkgutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.domain import (  # the last: pinned <9.6, its created event classes
    Aggregate,
    CanInitAggregate,
    CanMutateAggregate,
    _created_event_classes,
)
from eventsourcing.persistence import ApplicationRecorder, StoredEvent

GOLDEN_DIR = Path(__file__).parent
LOG_PATH = GOLDEN_DIR / "golden_log.jsonl"
EXPECTED_PATH = GOLDEN_DIR / "expected_state.json"

# The server key the golden log was written under (the tests' key: no production secret). Keyed
# digests in the log (tokens, codes, client secrets) only verify under this key.
GOLDEN_SECRET_KEY = b"k" * 32

# The packages whose aggregates write events; every event class they define needs golden rows.
EVENT_PACKAGES = ("domain", "application")


@dataclasses.dataclass(frozen=True)
class GoldenRow:
    """One stored event as the event store holds it."""

    notification_id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes

    def stored_event(self) -> StoredEvent:
        return StoredEvent(
            originator_id=self.originator_id,
            originator_version=self.originator_version,
            topic=self.topic,
            state=self.state,
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "notification_id": self.notification_id,
                "originator_id": str(self.originator_id),
                "originator_version": self.originator_version,
                "topic": self.topic,
                "state": base64.b64encode(self.state).decode("ascii"),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, line: str) -> GoldenRow:
        row = json.loads(line)
        return cls(
            notification_id=int(row["notification_id"]),
            originator_id=UUID(row["originator_id"]),
            originator_version=int(row["originator_version"]),
            topic=row["topic"],
            state=base64.b64decode(row["state"], validate=True),
        )


def read_rows(path: Path = LOG_PATH) -> list[GoldenRow]:
    """The golden rows, in log order."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [GoldenRow.from_json(line) for line in lines if line.strip()]


def read_expected(path: Path = EXPECTED_PATH) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def insert_rows(recorder: ApplicationRecorder, rows: Sequence[GoldenRow]) -> list[int]:
    """Writes the rows into a store with the recorder's raw insert (not through the domain);
    answers the notification ids the store gave them."""
    ids = recorder.insert_events([row.stored_event() for row in rows])
    return list(ids or [])


# --- which event classes the code defines ---------------------------------------------------------


def _modules(package_name: str) -> Iterator[Any]:
    try:
        package = importlib.import_module(package_name)
    except ModuleNotFoundError:
        return
    yield package
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
        yield importlib.import_module(info.name)


def aggregate_classes(packages: Iterable[str] = EVENT_PACKAGES) -> list[type[Aggregate]]:
    """Every aggregate class defined in the packages (not imported into them)."""
    found: dict[str, type[Aggregate]] = {}
    for package in packages:
        for module in _modules(package):
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, Aggregate)
                    and value.__module__ == module.__name__
                ):
                    found[f"{value.__module__}:{value.__qualname__}"] = value
    return [found[k] for k in sorted(found)]


def event_classes(packages: Iterable[str] = EVENT_PACKAGES) -> list[type[Any]]:
    """Every event class an aggregate of the packages defines (its nested event classes, by
    ``@event`` or by hand) that is ever triggered: not the bases the library makes for each
    aggregate (``App.Event``, and ``App.Created`` when the created event has another name),
    which are never stored themselves."""
    found: dict[str, type[Any]] = {}
    for aggregate in aggregate_classes(packages):
        nested = [
            value
            for value in vars(aggregate).values()
            if isinstance(value, type)
            and issubclass(value, CanMutateAggregate)
            and value.__qualname__.startswith(f"{aggregate.__qualname__}.")
        ]
        # The library's own record of the created event class it uses for the aggregate.
        created = _created_event_classes.get(aggregate, [])
        for value in nested:
            if issubclass(value, CanInitAggregate) and value not in created:
                continue  # a created event the aggregate does not use
            if not any(other is not value and issubclass(other, value) for other in nested):
                found[f"{value.__module__}:{value.__qualname__}"] = value
    return [found[k] for k in sorted(found)]


# --- what an aggregate's state must be after replay -----------------------------------------------

# The attributes each aggregate's summary shows: what its commands and readers rely on. A new
# attribute does not change a summary; renaming or dropping one of these makes the test say so.
SUMMARY_ATTRIBUTES: Mapping[str, tuple[str, ...]] = {
    "ScopeCatalogue": ("scopes", "unreviewed_live_allowed"),
    "App": (
        "owner_id",
        "owner_username",
        "name",
        "description",
        "website",
        "company_name",
        "contact_email",
        "privacy_policy_url",
        "redirect_uris",
        "secret_digest",
        "secret_nonce",
        "implicit_disabled",
        "signed_requests_enforced",
        "mode",
        "disabled",
        "sandbox_users",
        "approved_scopes",
        "open_review_id",
    ),
    "Review": (
        "app_id",
        "use_case",
        "permissions",
        "screencast_url",
        "decisions",
        "completed",
    ),
    "User": ("username", "full_name", "profile_picture", "sandbox_apps", "password_hash"),
    "Grant": ("user_id", "app_id", "scopes", "deauthorizations", "redeemed_codes"),
    "AccessToken": (
        "app_id",
        "user_id",
        "scopes",
        "mode",
        "flow",
        "code_digest",
        "revoked",
        "expired",
    ),
    "ApiKey": ("name", "key_role", "principal", "revoked", "created_by"),
    "ApiKeyIndex": ("key_ids",),
    "UnreviewedLiveApps": ("app_ids",),
}


def plain(value: Any) -> Any:
    """A JSON value for a piece of aggregate state (ids as strings, enums as their values)."""
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "__len__"):  # a collection the summary counts (a grant's redeemed codes)
        return {"count": len(value)}
    raise TypeError(f"no summary for {type(value).__name__}")


def summary(aggregate: Aggregate) -> dict[str, Any]:
    """An aggregate's id, kind, version and chosen attributes, as JSON values."""
    kind = type(aggregate).__name__
    attributes = SUMMARY_ATTRIBUTES[kind]
    return {
        "id": str(aggregate.id),
        "type": kind,
        "version": aggregate.version,
        **{name: plain(getattr(aggregate, name)) for name in attributes},
    }
