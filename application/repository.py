"""Catching a command's aggregates up with the store in one read instead of one read each.

A cached aggregate is fast-forwarded from the store before every use, one query per aggregate:
an authorization reads its app, the scope catalogue and the user's grant, three round trips
before it decides anything. A store that can read several aggregates' new events at once
(``ReadsEventsAfter``: the PostgreSQL recorder in ``infrastructure/event_store.py``) lets a
command name them up front and pay one round trip; the answer also carries the log position the
read saw, which a command that writes nothing answers instead of asking the store again.

What was read serves the current command only (this thread, until ``forget`` at its end). A
store without the batched read gets the library's reads, one per aggregate, unchanged.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from copy import deepcopy
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository, project_aggregate
from eventsourcing.domain import Aggregate

if TYPE_CHECKING:
    from eventsourcing.persistence import StoredEvent


_EVICTED = object()


@runtime_checkable
class ReadsEventsAfter(Protocol):
    """A recorder that reads the events of several aggregates after given versions at once."""

    def select_events_after(
        self, versions: Sequence[tuple[UUID, int]]
    ) -> tuple[Sequence[StoredEvent], int]:
        """Every stored event of each (aggregate id, version) after that version, in version
        order per aggregate, and the log's last position, all from one snapshot."""
        ...


class PrefetchingRepository(Repository[UUID]):
    """The library's repository, plus ``prefetch``: several aggregates brought up to date at
    once and then served to the command without reading the store again."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._caught_up = threading.local()
        # Decided once: a check against a runtime Protocol costs more than a store round trip.
        self._batched = isinstance(self.event_store.recorder, ReadsEventsAfter)

    def prefetch(self, aggregate_ids: Iterable[UUID]) -> int | None:
        """Reads the aggregates' new events in one query and applies them to the cached copies
        (loading the uncached ones whole); answers the log position that read saw, or None when
        the store cannot read them at once (the aggregates are then read one by one on use)."""
        if self.cache is None or not self._batched:
            return None
        recorder = cast(ReadsEventsAfter, self.event_store.recorder)
        ids = list(dict.fromkeys(aggregate_ids))
        versions = [(aggregate_id, self._cached_version(aggregate_id)) for aggregate_id in ids]
        stored, position = recorder.select_events_after(versions)
        new_events: dict[UUID, list[Any]] = {aggregate_id: [] for aggregate_id in ids}
        for record in stored:
            new_events[UUID(str(record.originator_id))].append(record)
        caught_up: dict[UUID, Aggregate | None] = {}
        for aggregate_id, after in versions:
            aggregate = self._fast_forward(aggregate_id, after, new_events[aggregate_id])
            if aggregate is not _EVICTED:
                caught_up[aggregate_id] = cast(Aggregate | None, aggregate)
        self._caught_up.aggregates = caught_up
        return position

    def forget(self) -> None:
        """Ends what ``prefetch`` read: later gets read the store again."""
        self._caught_up.aggregates = None

    def get(
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        deepcopy_from_cache: bool = True,
        **kwargs: Any,
    ) -> Any:
        caught_up: dict[UUID, Aggregate | None] | None = getattr(
            self._caught_up, "aggregates", None
        )
        if version is not None or not caught_up or aggregate_id not in caught_up:
            return super().get(
                aggregate_id, version=version, deepcopy_from_cache=deepcopy_from_cache, **kwargs
            )
        aggregate = caught_up[aggregate_id]
        if aggregate is None:
            raise AggregateNotFoundError(aggregate_id)
        copy = deepcopy_from_cache and self.deepcopy_from_cache
        return deepcopy(aggregate) if copy else aggregate

    def _cached_version(self, aggregate_id: UUID) -> int:
        assert self.cache is not None  # noqa: S101 (checked by prefetch)
        try:
            return int(self.cache.get(aggregate_id).version)
        except KeyError:
            return 0  # versions start at 1: every event

    def _fast_forward(
        self, aggregate_id: UUID, after: int, records: list[StoredEvent]
    ) -> Aggregate | object | None:
        """The cached aggregate with ``records`` (its events after version ``after``) applied,
        those it has not seen (another thread may have moved it on since the read), or built
        from them; None if it does not exist. ``_EVICTED`` if the cache dropped the copy the
        records continue since the read: it is then read whole on use, as without a prefetch."""
        assert self.cache is not None  # noqa: S101 (checked by prefetch)
        mapper = self.event_store.mapper
        lock = self._use_fastforward_lock(aggregate_id)
        try:
            with lock:
                try:
                    cached: Aggregate | None = cast(Aggregate, self.cache.get(aggregate_id))
                except KeyError:
                    cached = None
                if cached is None and after:
                    return _EVICTED
                seen = cached.version if cached is not None else 0
                events = [mapper.to_domain_event(r) for r in records if r.originator_version > seen]
                aggregate = project_aggregate(cached, events)
                if aggregate is not None and cached is None:
                    self.cache.put(aggregate_id, aggregate)
                return aggregate
        finally:
            self._disuse_fastforward_lock(aggregate_id)
