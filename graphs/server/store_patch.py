"""Workaround for langgraph#8822: identical texts in one store batch fail the whole batch.

The dev server (``langgraph dev``, ``langgraph_runtime_inmem``) serves the store
through a batching wrapper that merges concurrent writes of *different* runs into
one ``InMemoryStore.abatch``. ``InMemoryStore._extract_texts`` maps each distinct
text to the places it is indexed at and embeds each distinct text once, but
``_insertinmem_store`` expects one vector per place. So when two runs store the
same sentence ("User lives in Lisbon.") in the same instant, in their own
namespaces, the batch raises ``ValueError: Number of embeddings (1) does not match
number of indices (2)`` and every write in it is lost: every run in it fails.

:func:`apply` replaces ``InMemoryStore._insertinmem_store`` with one that gives
each distinct text's vector to every place that indexes that text. It is called
when the server loads the store's embedder (:mod:`graphs.server.index`),
before the store is built and before any run. It patches only if a probe shows the
bug: a throwaway store with a tiny deterministic embedder stores two items with
the same text in one batch, and both must then be found by that text. When the
installed langgraph passes the probe unpatched, nothing is patched and the log
says this module can be removed (``tests/unit/graphs/server/test_store_patch.py`` fails
then too, saying the same).

The Postgres store is not affected: it embeds one text per indexed place, with no
de-duplication (``langgraph/store/postgres/base.py``, ``_prepare_batch_PUT_queries``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import version

from langgraph.store.base import PutOp
from langgraph.store.memory import InMemoryStore

from graphs.server.workaround import Outcome, Workaround, patch_verified

__all__ = ["ISSUE", "ORIGINAL_INSERT", "apply", "insert_fanned_out", "probe"]

logger = logging.getLogger(__name__)

ISSUE = "langgraph#8822 (https://github.com/langchain-ai/langgraph/issues/8822)"

# Where ``_extract_texts`` says each distinct text is indexed: (namespace, key, field path).
Targets = dict[str, list[tuple[tuple[str, ...], str, str]]]
Insert = Callable[[InMemoryStore, Targets, list[list[float]]], None]

ORIGINAL_INSERT: Insert = InMemoryStore._insertinmem_store
"""The installed langgraph's own method, kept to probe it (and to undo the patch in tests)."""


def insert_fanned_out(
    self: InMemoryStore, to_embed: Targets, embeddings: list[list[float]]
) -> None:
    """Store each distinct text's vector at every place that indexes that text.

    Replaces ``InMemoryStore._insertinmem_store``: ``embeddings`` holds one vector
    per key of ``to_embed``, in its order (``batch`` embeds ``list(to_embed)``).
    """
    if len(embeddings) != len(to_embed):
        raise ValueError(
            f"Number of embeddings ({len(embeddings)}) does not match"
            f" number of distinct texts ({len(to_embed)})"
        )
    for vector, targets in zip(embeddings, to_embed.values(), strict=True):
        for namespace, key, path in targets:
            # A copy per place: no list shared between two users' items.
            self._vectors[namespace][key][path] = list(vector)


def _probe_embed(texts: list[str]) -> list[list[float]]:
    # Deterministic and dependency-free: equal texts give equal vectors, cosine 1.
    return [[float(len(t)), float(sum(map(ord, t)) % 97 + 1), 1.0] for t in texts]


def probe(insert: Insert) -> str | None:
    """Run one batch of two items with the same text on a throwaway store using ``insert``.

    Returns:
        None if both items were stored and each is found by that text with
        similarity 1; otherwise what went wrong.
    """
    store_class = type("ProbeStore", (InMemoryStore,), {"_insertinmem_store": insert})
    store = store_class(index={"dims": 3, "embed": _probe_embed, "fields": ["text"]})
    text = "I live in Lisbon."
    namespaces = [("probe", "a"), ("probe", "b")]
    try:
        store.batch([PutOp(ns, "k", {"text": text}) for ns in namespaces])
        for ns in namespaces:
            hits = store.search(ns, query=text)
            if len(hits) != 1 or hits[0].score is None or abs(hits[0].score - 1.0) > 1e-9:
                return f"{ns}: search found {[(h.key, h.score) for h in hits]}"
    except Exception as err:
        return f"{type(err).__name__}: {err}"
    return None


def _install(insert: Insert) -> None:
    InMemoryStore._insertinmem_store = insert  # type: ignore[method-assign, assignment]


def _apply_once() -> Outcome:
    return patch_verified(
        logger,
        "graphs/server/store_patch.py",
        probe,
        _install,
        ORIGINAL_INSERT,
        insert_fanned_out,
        fixed=f"{ISSUE} is fixed in langgraph {version('langgraph')}",
        active=f"{ISSUE}: identical texts in one store batch each get their vector",
        misfit=f"{ISSUE}: the workaround does not fit langgraph {version('langgraph')}",
    )


WORKAROUND = Workaround(_apply_once)


def apply() -> bool:
    """Patch ``InMemoryStore`` once per process if the installed langgraph needs it.

    Safe to call any number of times, from any thread; only the first call probes,
    patches and logs.

    Returns:
        True if the workaround is active.
    """
    return WORKAROUND.apply()
