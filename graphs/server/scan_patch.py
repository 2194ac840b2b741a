"""Workaround: the dev server's store walks every namespace it ever held on each search.

``langgraph dev`` keeps the store in langgraph's ``InMemoryStore``. Its
``_filter_items`` answers a search by walking every namespace the store holds and
comparing each with the prefix searched, and a namespace never leaves the store (one
whose last item is deleted stays, empty; a get of a missing one adds it). Every thread
this server processes leaves three (its inbox, receipts and delivery record), and
every search walks them all: a client's poll of a thread's receipts, each run's reads
of its user's memories, the redeliverer's scan of the inboxes. So a search costs more
with every thread ever served: in a backfill on ``langgraph dev``, at 2,300 threads
(9,600 namespaces) the walk took 18% of the server's CPU, and the rate fell as the
store grew (``docs/benchmarks.md``, Backfill). The Postgres store answers the same
search from an index.

:func:`apply` (called when the mounted app starts, ``graphs/server/app.py``) gives each
store a sorted list of its namespaces: those under a prefix are one slice of it, found
by binary search, and the installed ``_filter_items`` runs unchanged on just those, so
what a search finds, and in which order, is what it found before; only the walk is
gone. It patches only if a probe shows the walk (a search under one prefix that visits
the store's other namespaces); when the installed langgraph passes the probe, nothing is
patched and the log says this module can be removed.
``tests/unit/graphs/server/test_scan_patch.py`` fails then too.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import threading
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator
from importlib.metadata import version
from types import SimpleNamespace
from typing import Any

from langgraph.store.base import PutOp, SearchOp
from langgraph.store.memory import InMemoryStore

from graphs.server.workaround import Outcome, Workaround, patch_verified

__all__ = ["ORIGINAL_FILTER", "NamespaceIndex", "apply", "filter_indexed", "probe"]

logger = logging.getLogger(__name__)

Namespace = tuple[str, ...]
Filter = Callable[[Any, SearchOp], list[Any]]

ORIGINAL_FILTER: Filter = InMemoryStore._filter_items
"""The installed langgraph's own method: probed, and run on each search's namespaces."""


class NamespaceIndex:
    """A store's namespaces, sorted, so the ones under a prefix are one slice of the list.

    Namespaces only ever enter ``InMemoryStore._data`` (on the first put or get of one)
    and a dict keeps insertion order, so the ones not indexed yet are always its last
    ``len - indexed``: each search adds only those. Should the store's namespaces ever
    shrink (a future langgraph removing empty ones), the index is built again.
    """

    def __init__(self, data: dict[Namespace, Any]) -> None:
        self.data = data
        self._sorted: list[Namespace] = []
        self._position: dict[Namespace, int] = {}  # in the store's order, which searches keep
        self._indexed = 0
        # Runs execute in a pool of threads, each with the store: one refresh at a time.
        self._lock = threading.Lock()

    def under(self, prefix: Namespace) -> list[Namespace]:
        """The store's namespaces that start with ``prefix``, in the store's own order."""
        with self._lock:
            self._refresh()
            found = []
            n = len(prefix)
            for i in range(bisect.bisect_left(self._sorted, prefix), len(self._sorted)):
                if self._sorted[i][:n] != prefix:
                    break  # sorted: every namespace under the prefix came before this one
                found.append(self._sorted[i])
            return sorted(found, key=self._position.__getitem__)

    def _refresh(self) -> None:
        count = len(self.data)
        if count == self._indexed:
            return
        if count < self._indexed:
            self._sorted, self._position, self._indexed = [], {}, 0
        # One C call, so no other thread adds a namespace while it is read.
        fresh = list(itertools.islice(self.data.keys(), self._indexed, None))
        self._position.update(zip(fresh, itertools.count(self._indexed)))
        if len(fresh) > 64:  # a store loaded from disk: one sort, not thousands of inserts
            self._sorted = sorted(self._sorted + fresh)
        else:
            for namespace in fresh:
                bisect.insort(self._sorted, namespace)
        self._indexed += len(fresh)


_INDEXES: weakref.WeakKeyDictionary[InMemoryStore, NamespaceIndex] = weakref.WeakKeyDictionary()
_INDEXES_LOCK = threading.Lock()


def _index(store: InMemoryStore) -> NamespaceIndex:
    with _INDEXES_LOCK:
        index = _INDEXES.get(store)
        if index is None or index.data is not store._data:
            index = _INDEXES[store] = NamespaceIndex(store._data)
        return index


def filter_indexed(self: InMemoryStore, op: SearchOp) -> list[Any]:
    """``InMemoryStore._filter_items`` on only the namespaces under ``op``'s prefix.

    Replaces it: the installed method runs on a view of the store that holds just
    those namespaces (their items, vectors and the store's embedder), so filters,
    limits and order stay the installed langgraph's.
    """
    data = self._data
    view = SimpleNamespace(
        _data={ns: data[ns] for ns in _index(self).under(tuple(op.namespace_prefix))},
        _vectors=self._vectors,
        embeddings=getattr(self, "embeddings", None),
    )
    return ORIGINAL_FILTER(view, op)


class _CountingData(defaultdict[Namespace, dict[str, Any]]):
    """A store's namespaces that count how many a walk over them visits."""

    visited = 0

    def __iter__(self) -> Iterator[Namespace]:
        for namespace in super().__iter__():
            self.visited += 1
            yield namespace


def probe(filter_items: Filter) -> str | None:
    """Search one of 50 namespaces on a throwaway store using ``filter_items``.

    Returns:
        None if the search visited only the namespace it finds and found its item;
        otherwise what went wrong.
    """
    store_class = type("ProbeStore", (InMemoryStore,), {"_filter_items": filter_items})
    store = store_class()
    store._data = _CountingData(dict)
    store.batch([PutOp(("probe", str(i)), "k", {"i": i}) for i in range(50)])
    try:
        hits = store.search(("probe", "7"))
    except Exception as err:
        return f"{type(err).__name__}: {err}"
    if [hit.value for hit in hits] != [{"i": 7}]:
        return f"a search of ('probe', '7') found {[hit.value for hit in hits]}"
    if store._data.visited > 1:
        return f"a search of one namespace of 50 visited {store._data.visited}"
    return None


def _install(filter_items: Filter) -> None:
    InMemoryStore._filter_items = filter_items  # type: ignore[method-assign, assignment]


def _apply_once() -> Outcome:
    return patch_verified(
        logger,
        "graphs/server/scan_patch.py",
        probe,
        _install,
        ORIGINAL_FILTER,
        filter_indexed,
        fixed=f"langgraph {version('langgraph')}'s InMemoryStore searches without a walk",
        active="the in-memory store searches a sorted index of its namespaces",
        misfit=f"the namespace index does not fit langgraph {version('langgraph')}",
    )


WORKAROUND = Workaround(_apply_once)


def apply() -> bool:
    """Patch ``InMemoryStore`` once per process if the installed langgraph needs it.

    Returns:
        True if the workaround is active.
    """
    return WORKAROUND.apply()
