"""The LLM path's caches: one manager per complete configuration, one extractor per arguments."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langgraph.store.base import GetOp, SearchOp
from langgraph.store.memory import InMemoryStore

import graphs.memory_manager.extractors as extractors
from graphs.memory_manager.extractors import ManagerKey, cached_create_extractor, manager
from tests.fakes import ToolCallingFake
from tests.schemas import PREFERENCE

MODEL = "fake:model"

BASE = ManagerKey(
    model=MODEL,
    timeout=60.0,
    instructions="Remember everything.",
    query_limit=5,
    schemas=(),
    enable_inserts=True,
    enable_deletes=False,
    namespace_depth=1,
)
# For each key field, another value that must give another manager.
OTHER = {
    "model": "fake:other",
    "timeout": 5.0,
    "instructions": "Remember nothing.",
    "query_limit": 9,
    "schemas": ManagerKey.schemas_of([PREFERENCE]),
    "enable_inserts": False,
    "enable_deletes": True,
    "namespace_depth": 2,
}


@pytest.fixture(autouse=True)
def fake_models(monkeypatch):
    monkeypatch.setattr(extractors, "_managers", {})
    for name in (MODEL, "fake:other"):
        for timeout in (60.0, 5.0):
            fake = GenericFakeChatModel(messages=iter([]))
            monkeypatch.setitem(extractors._models, (name, timeout), fake)


def test_other_covers_every_key_field():
    assert set(OTHER) == {f.name for f in dataclasses.fields(ManagerKey)}


def test_equal_keys_share_a_manager_and_every_field_changes_it():
    first = manager(BASE)
    assert manager(dataclasses.replace(BASE)) is first
    for name, value in OTHER.items():
        assert manager(dataclasses.replace(BASE, **{name: value})) is not first, name


def test_every_key_field_reaches_the_manager(monkeypatch):
    import langmem

    built: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(
        langmem, "create_memory_store_manager", lambda *a, **kw: built.append((a, kw)) or object()
    )
    key = dataclasses.replace(BASE, **OTHER)
    manager(key)
    ((model,), kwargs) = built[0]
    assert model is extractors.chat_model("fake:other", 5.0)
    assert kwargs["instructions"] == "Remember nothing."
    assert kwargs["query_limit"] == 9
    assert [s.__name__ for s in kwargs["schemas"]] == ["Preference"]
    assert (kwargs["enable_inserts"], kwargs["enable_deletes"]) == (False, True)
    assert kwargs["namespace"] == ("{memory_namespace_0}", "{memory_namespace_1}")


def test_a_new_model_object_builds_a_new_manager(monkeypatch):
    first = manager(BASE)
    monkeypatch.setitem(extractors._models, (MODEL, 60.0), GenericFakeChatModel(messages=iter([])))
    assert manager(BASE) is not first


def test_a_shared_manager_reads_the_namespace_of_each_call():
    from langmem.utils import NamespaceTemplate

    template = NamespaceTemplate(manager(dataclasses.replace(BASE, namespace_depth=2)).namespace)
    for namespace in (("memories", "alice"), ("memories", "bob")):
        config = extractors.with_namespace({"configurable": {"thread_id": "t"}}, namespace)
        assert template(config) == namespace
        assert config["configurable"]["thread_id"] == "t"


def test_memory_types_are_built_once_per_schema():
    assert extractors.memory_type(PREFERENCE) is extractors.memory_type(dict(PREFERENCE))


async def test_runs_sharing_a_manager_each_use_their_own_store():
    stores = [InMemoryStore(), InMemoryStore()]

    async def write(store: InMemoryStore, text: str) -> None:
        with extractors.run_store(store):
            await asyncio.sleep(0)  # let the other run's store be set meanwhile
            await extractors._RUN_STORE.aput(("memories",), "k", {"text": text})

    await asyncio.gather(write(stores[0], "a"), write(stores[1], "b"))
    assert [s.get(("memories",), "k").value["text"] for s in stores] == ["a", "b"]


def test_trustcall_extractors_are_built_once_per_arguments():
    from pydantic import BaseModel

    class Fact(BaseModel):
        text: str

    llm = ToolCallingFake(messages=iter([]))
    first = cached_create_extractor(llm, tools=[Fact], enable_inserts=True)
    assert cached_create_extractor(llm, tools=[Fact], enable_inserts=True) is first
    assert cached_create_extractor(llm, tools=[Fact], enable_inserts=False) is not first
    other = ToolCallingFake(messages=iter([]))
    assert cached_create_extractor(other, tools=[Fact], enable_inserts=True) is not first


def test_langmem_uses_the_cached_extractor():
    from langmem.knowledge import extraction

    extractors.install()
    assert extraction.create_extractor is cached_create_extractor


class CountingEmbeddings:
    """Deterministic vectors; counts the texts embedded."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, texts: list[str]) -> list[list[float]]:
        self.texts.extend(texts)
        return [[float(len(t)), 1.0] for t in texts]


async def test_a_query_search_of_an_empty_namespace_embeds_nothing_and_finds_nothing():
    embed = CountingEmbeddings()
    store = InMemoryStore(index={"dims": 2, "embed": embed, "fields": ["text"]})
    await store.aput(("memories", "bob"), "k", {"text": "likes tea"})
    embed.texts.clear()
    with extractors.run_store(store):
        alice = await extractors._RUN_STORE.asearch(("memories", "alice"), query="what to drink")
        assert alice == []
        assert embed.texts == []  # nothing to rank: the query is not embedded
        bob = await extractors._RUN_STORE.asearch(("memories", "bob"), query="what to drink")
    assert [item.key for item in bob] == ["k"]
    assert embed.texts == ["what to drink"]
    # Unchanged for every other op, and in a mixed batch each op gets its own answer.
    with extractors.run_store(store):
        got = await extractors._RUN_STORE.abatch(
            [
                SearchOp(("memories", "alice"), query="tea"),
                GetOp(("memories", "bob"), "k"),
                SearchOp(("memories", "bob"), query="tea"),
            ]
        )
    assert got[0] == [] and got[1].value == {"text": "likes tea"} and len(got[2]) == 1


class RecordingStore(InMemoryStore):
    """Records each batch of ops it is asked."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.asked: list[list[str]] = []

    async def abatch(self, ops):
        ops = list(ops)
        self.asked.append([type(op).__name__ + ("(query)" if getattr(op, "query", None) else "")
                           for op in ops])  # fmt: skip
        return await super().abatch(ops)


async def test_a_run_asks_once_whether_a_namespace_holds_anything():
    # A returning user's searches: one emptiness check for the run, then straight to
    # the store; another run starts over (its namespace may have changed meanwhile).
    store = RecordingStore(index={"dims": 2, "embed": CountingEmbeddings(), "fields": ["text"]})
    await store.aput(("memories", "bob"), "k", {"text": "likes tea"})
    store.asked.clear()
    with extractors.run_store(store):
        for query in ("tea", "coffee"):
            await extractors._RUN_STORE.asearch(("memories", "bob"), query=query)
    assert store.asked == [["SearchOp"], ["SearchOp(query)"], ["SearchOp(query)"]]
    store.asked.clear()
    with extractors.run_store(store):
        await extractors._RUN_STORE.asearch(("memories", "bob"), query="tea")
    assert store.asked == [["SearchOp"], ["SearchOp(query)"]]
