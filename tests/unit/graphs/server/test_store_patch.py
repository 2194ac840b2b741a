"""langgraph#8822: identical texts in one store batch, with and without graphs.server.store_patch.

The first test is the one that says when upstream has fixed the bug: it fails
then, asking for the workaround to be removed.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import string
from collections.abc import Iterable
from importlib.metadata import version

import pytest
from langgraph.store.base import BaseStore, Op, PutOp, Result
from langgraph.store.base.batch import AsyncBatchedBaseStore
from langgraph.store.memory import InMemoryStore

from deploy.devserver import ROOT
from graphs.server import store_patch

TEXT = "I live in Lisbon."
OTHER = "I work at Initech."


def letters(texts: list[str]) -> list[list[float]]:
    """A tiny real embedder: how often each letter occurs (equal texts, equal vectors)."""
    return [[float(t.lower().count(c)) for c in string.ascii_lowercase] for t in texts]


def make_store() -> InMemoryStore:
    return InMemoryStore(index={"dims": 26, "embed": letters, "fields": ["text"]})


def same_text_ops() -> list[Op]:
    """What two runs write in the same instant: the same sentence, each in its user's namespace."""
    return [
        PutOp(("memories", "alice"), "home", {"text": TEXT}),
        PutOp(("memories", "bob"), "home", {"text": TEXT}),
        PutOp(("memories", "bob"), "work", {"text": OTHER}),
        # One item indexing the same text under two fields: two places, one text.
        PutOp(("memories", "carol"), "note", {"a": TEXT, "b": TEXT}, index=["a", "b"]),
    ]


@pytest.fixture
def unpatched(monkeypatch: pytest.MonkeyPatch) -> None:
    """InMemoryStore as langgraph ships it, whatever an earlier import applied."""
    monkeypatch.setattr(InMemoryStore, "_insertinmem_store", store_patch.ORIGINAL_INSERT)
    monkeypatch.setattr(store_patch.WORKAROUND, "outcome", None)


@pytest.fixture
def patched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(InMemoryStore, "_insertinmem_store", store_patch.insert_fanned_out)


def test_upstream_still_fails_on_identical_texts(unpatched):
    try:
        make_store().batch(same_text_ops())
    except ValueError as err:
        assert "does not match number of indices" in str(err)
    else:
        pytest.fail(
            f"langgraph#8822 is fixed in langgraph {version('langgraph')}: InMemoryStore "
            "stores identical texts of one batch. Remove graphs/server/store_patch.py, its "
            "apply() call in graphs/server/index.py and this test."
        )


def check_every_place_has_its_vector(store: InMemoryStore) -> None:
    [text_vector, other_vector] = letters([TEXT, OTHER])
    vectors = store._vectors
    assert vectors[("memories", "alice")]["home"] == {"text": text_vector}
    assert vectors[("memories", "bob")]["home"] == {"text": text_vector}
    assert vectors[("memories", "bob")]["work"] == {"text": other_vector}
    assert vectors[("memories", "carol")]["note"] == {"a": text_vector, "b": text_vector}
    for user in ("alice", "bob", "carol"):
        hits = store.search(("memories", user), query=TEXT)
        assert hits[0].value in ({"text": TEXT}, {"a": TEXT, "b": TEXT})
        assert hits[0].score == pytest.approx(1.0)
    [bob_work, bob_home] = store.search(("memories", "bob"), query=OTHER)
    assert (bob_work.key, bob_home.key) == ("work", "home")
    assert bob_work.score == pytest.approx(1.0)
    assert bob_home.score < bob_work.score


def test_patched_batch_stores_every_item_with_its_vector(patched):
    store = make_store()
    assert store.batch(same_text_ops()) == [None] * 4
    check_every_place_has_its_vector(store)


async def test_patched_abatch_stores_every_item_with_its_vector(patched):
    store = make_store()
    assert await store.abatch(same_text_ops()) == [None] * 4
    check_every_place_has_its_vector(store)


class Batched(AsyncBatchedBaseStore):
    """The dev server's wrapper in short: concurrent calls become one ``abatch``."""

    def __init__(self, store: BaseStore) -> None:
        super().__init__()
        self.store = store

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        return self.store.batch(ops)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return await self.store.abatch(ops)


async def two_users_write_at_once(store: InMemoryStore) -> None:
    batched = Batched(store)
    await asyncio.gather(
        batched.aput(("memories", "alice"), "home", {"text": TEXT}),
        batched.aput(("memories", "bob"), "home", {"text": TEXT}),
    )


async def test_server_batching_reproduces_the_crash(unpatched):
    store = make_store()
    with pytest.raises(ValueError, match="does not match number of indices"):
        await two_users_write_at_once(store)
    assert store.search(("memories",)) == [], "the failed batch stored nothing"


async def test_server_batching_with_the_patch(patched):
    store = make_store()
    await two_users_write_at_once(store)
    for user in ("alice", "bob"):
        [hit] = store.search(("memories", user), query=TEXT)
        assert hit.score == pytest.approx(1.0)


def test_patch_keeps_the_count_check(patched):
    with pytest.raises(ValueError, match=r"embeddings \(1\) .* distinct texts \(2\)"):
        store_patch.insert_fanned_out(make_store(), {"a": [], "b": []}, [[1.0]])


def test_apply_patches_once_and_says_so(unpatched, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="graphs.server.store_patch")
    assert store_patch.apply() is True
    assert store_patch.apply() is True
    assert InMemoryStore._insertinmem_store is store_patch.insert_fanned_out
    [record] = caplog.records
    assert "workaround active: langgraph#8822" in record.getMessage()


def test_apply_leaves_a_fixed_langgraph_alone(unpatched, monkeypatch, caplog):
    # A langgraph whose own method already fans the vectors out, as a fix would.
    def fixed(self, to_embed, embeddings):
        store_patch.insert_fanned_out(self, to_embed, embeddings)

    monkeypatch.setattr(InMemoryStore, "_insertinmem_store", fixed)
    monkeypatch.setattr(store_patch, "ORIGINAL_INSERT", fixed)
    caplog.set_level(logging.INFO, logger="graphs.server.store_patch")
    assert store_patch.apply() is False
    assert InMemoryStore._insertinmem_store is fixed
    [record] = caplog.records
    assert "is fixed in langgraph" in record.getMessage()
    assert "can be removed" in record.getMessage()


def test_apply_backs_out_if_the_patch_does_not_help(unpatched, monkeypatch, caplog):
    def useless(self, to_embed, embeddings):
        raise ValueError("still broken")

    monkeypatch.setattr(store_patch, "insert_fanned_out", useless)
    caplog.set_level(logging.INFO, logger="graphs.server.store_patch")
    assert store_patch.apply() is False
    assert InMemoryStore._insertinmem_store is store_patch.ORIGINAL_INSERT
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "still broken" in record.getMessage()


def test_loading_the_embedder_as_the_server_does_applies_the_patch(unpatched, monkeypatch):
    # langgraph_api.graph.resolve_embeddings loads "./graphs/server/index.py" by path.
    path = ROOT / "graphs" / "server" / "index.py"
    spec = importlib.util.spec_from_file_location("graphs__server__index", path)
    assert spec is not None and spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    assert InMemoryStore._insertinmem_store is store_patch.insert_fanned_out
