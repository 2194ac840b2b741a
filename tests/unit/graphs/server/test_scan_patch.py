"""The dev server's store searching an index of its namespaces (graphs.server.scan_patch).

The first test says when upstream has fixed the walk: it fails then, asking for the
workaround to be removed. The others hold the patched search to the installed one's
answers, on stores that gain namespaces between searches.
"""

from __future__ import annotations

import threading

from hypothesis import given, settings
from hypothesis import strategies as st
from langgraph.store.base import GetOp, PutOp, SearchOp
from langgraph.store.memory import InMemoryStore

from graphs.server import scan_patch
from graphs.server.scan_patch import ORIGINAL_FILTER, NamespaceIndex, filter_indexed


def _embed(texts: list[str]) -> list[list[float]]:
    return [[float(len(t)), float(sum(map(ord, t)) % 31 + 1), 1.0] for t in texts]


def _store(filter_items=ORIGINAL_FILTER, *, index: bool = False) -> InMemoryStore:
    store_class = type("Store", (InMemoryStore,), {"_filter_items": filter_items})
    config = {"dims": 3, "embed": _embed, "fields": ["text"]} if index else None
    return store_class(index=config)


def test_the_installed_store_still_walks_every_namespace():
    found = scan_patch.probe(ORIGINAL_FILTER)
    assert found is not None and "visited 50" in found, (
        "langgraph's InMemoryStore no longer walks every namespace on a search: remove "
        "graphs/server/scan_patch.py and its call in graphs/server/app.py"
    )


def test_the_indexed_search_visits_only_what_it_finds():
    assert scan_patch.probe(filter_indexed) is None


def test_the_index_takes_the_namespaces_under_a_prefix_and_no_others():
    data = {ns: {} for ns in [("a",), ("a", "b"), ("ab",), ("a", "b", "c"), ("a", "bc"), ("b",)]}
    index = NamespaceIndex(data)
    assert index.under(("a", "b")) == [("a", "b"), ("a", "b", "c")]
    assert index.under(("a",)) == [("a",), ("a", "b"), ("a", "b", "c"), ("a", "bc")]
    assert index.under(()) == list(data)  # the store's order, as the installed walk
    assert index.under(("c",)) == []
    data[("a", "b", "a")] = {}  # a namespace added after the index was built
    assert index.under(("a", "b")) == [("a", "b"), ("a", "b", "c"), ("a", "b", "a")]
    data.clear()  # namespaces gone: built again, not left stale
    data[("z",)] = {}
    assert index.under(()) == [("z",)]


LABELS = st.sampled_from(["a", "b", "ab", "reflection_inbox", "u-1", "u-2"])
NAMESPACES = st.lists(LABELS, min_size=1, max_size=3).map(tuple)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("put"), NAMESPACES, st.sampled_from(["k1", "k2", "k3"]),
                  st.sampled_from(["I live in Porto.", "My cat is Miso.", "tea"])),
        st.tuples(st.just("delete"), NAMESPACES, st.sampled_from(["k1", "k2", "k3"])),
        st.tuples(st.just("get"), NAMESPACES),
        st.tuples(st.just("search"), st.lists(LABELS, max_size=2).map(tuple),
                  st.sampled_from([None, "Porto"]), st.sampled_from([None, {"n": 1}]),
                  st.integers(0, 3), st.integers(1, 4)),
    ),
    max_size=40,
)  # fmt: skip


def _run(store: InMemoryStore, steps: list[tuple]) -> list:
    answers = []
    for step in steps:
        if step[0] == "put":
            _, ns, key, text = step
            store.batch([PutOp(ns, key, {"text": text, "n": len(text) % 2})])
        elif step[0] == "delete":
            store.batch([PutOp(step[1], step[2], None)])
        elif step[0] == "get":
            store.batch([GetOp(step[1], "k1")])
        else:
            _, prefix, query, filter_, offset, limit = step
            op = SearchOp(prefix, filter_, limit, offset, query)
            (hits,) = store.batch([op])
            answers.append([(h.namespace, h.key, h.value, h.score) for h in hits])
    return answers


@settings(max_examples=300, deadline=None)
@given(steps=STEPS, index=st.booleans())
def test_a_patched_store_answers_every_search_as_the_installed_one(steps, index):
    assert _run(_store(filter_indexed, index=index), steps) == _run(_store(index=index), steps)


def test_searches_from_many_threads_while_namespaces_are_added():
    store = _store(filter_indexed)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(200):
                store.put(("t", str(worker), str(i)), "k", {"i": i})
                assert len(store.search(("t", str(worker)), limit=1000)) == i + 1
        except BaseException as err:  # reported by the main thread
            errors.append(err)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.search(("t",), limit=10_000)) == 800


def test_apply_patches_the_store_once(monkeypatch):
    monkeypatch.setattr(InMemoryStore, "_filter_items", ORIGINAL_FILTER)
    monkeypatch.setattr(scan_patch.WORKAROUND, "outcome", None)
    assert scan_patch.apply() is True
    assert InMemoryStore._filter_items is filter_indexed
    assert scan_patch.apply() is True and InMemoryStore._filter_items is filter_indexed
