"""Consolidation on the LLM path: a model call per namespace (per window), answers checked.

The model is a scripted fake in-process, and the scripted OpenAI-compatible endpoint on
127.0.0.1 where the real client (``init_chat_model`` → langchain-openai → HTTP) must run.
"""

from __future__ import annotations

import json

import langchain_openai.chat_models._client_utils as openai_clients
import langchain_openai.chat_models.base as openai_chat
import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

import graphs.memory_manager.consolidate_model as consolidate_model
import graphs.memory_manager.extractors as extractors
from graphs.memory_manager.consolidate_model import (
    TOOL,
    ModelAnswerError,
    listing,
    read,
    windows,
)
from graphs.memory_manager.graph import builder
from sdk_client.records import history_namespace
from tests.fakes import ToolCallingFake
from tests.llm_endpoint import ScriptedEndpoint, user_turns
from tests.unit.graphs.conftest import FAKE_MODEL

CONFIG = {"configurable": {"thread_id": "consolidate-llm"}}
CONSOLIDATE = {"messages": [], "consolidate": True}
NS = ("memories",)


def retire(*items: tuple[str, str], name: str = TOOL) -> AIMessage:
    args = {"retire": [{"key": k, "reason": r} for k, r in items]}
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": "call_0"}])


def test_unknown_keys_are_ignored_and_every_reason_names_the_model():
    reply = retire(("a", "duplicates b"), ("zzz", "made up"), ("a", "again"))
    assert read(reply, ["a", "b", "c"], "m") == {"a": "the model (m): duplicates b"}
    assert read(retire(), ["a", "b"], "m") == {}


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        (retire(("a", "x"), ("b", "y")), "would retire all 2 memories"),
        (AIMessage(content="I would retire a."), "did not call RetireMemories"),
        (retire(("a", "x"), name="Other"), "did not call RetireMemories"),
        (
            AIMessage(content="", tool_calls=[{"name": TOOL, "args": {"retire": "a"}, "id": "1"}]),
            "malformed",
        ),
    ],
)
def test_an_answer_that_cannot_be_used_changes_nothing(reply, match):
    with pytest.raises(ModelAnswerError, match=match):
        read(reply, ["a", "b"], "m")


def test_the_model_reads_each_memory_with_its_key_and_last_update_oldest_first():
    lines = listing(
        [("new", "User lives in Lisbon.", 200.0), ("old", "User lives in Porto.", 100.0)]
    )
    first, second = (json.loads(line) for line in lines.splitlines())
    assert first == {"key": "old", "updated_at": "1970-01-01T00:01:40+00:00",
                     "text": "User lives in Porto."}  # fmt: skip
    assert second["key"] == "new"


def _put(store: InMemoryStore, key: str, text: str) -> None:
    store.put(NS, key, {"kind": "Memory", "content": {"content": text}})


def _planted() -> InMemoryStore:
    store = InMemoryStore()
    for key, text in [("porto", "User lives in Porto."), ("cat", "User has a cat called Tom."),
                      ("lisbon", "User lives in Lisbon."), ("tom", "User's cat is named Tom."),
                      ("nurse", "User works as a nurse.")]:  # fmt: skip
        _put(store, key, text)
    return store


async def test_one_call_retires_what_the_model_names_into_history(fake_model):
    fake_model(retire(("porto", "contradicted by lisbon"), ("cat", "duplicates tom"), ("x", "?")))
    store = _planted()
    app = builder.compile(store=store, checkpointer=InMemorySaver())
    out = await app.ainvoke(CONSOLIDATE, CONFIG, context={"model": FAKE_MODEL})
    assert sorted(out["changes"]["deleted"]) == ["memories/cat", "memories/porto"]
    assert out["usage"]["model_calls"] == 1 and out["extractor"] == "consolidation"
    entries = {e.value["key"]: e.value for e in store.search(history_namespace(NS))}
    assert entries["porto"]["cause"] == "consolidation"
    assert entries["porto"]["reason"] == f"the model ({FAKE_MODEL}): contradicted by lisbon"
    assert sorted(i.key for i in store.search(NS)) == ["lisbon", "nurse", "tom"]


async def test_the_bound_is_kept_after_the_models_answer_and_the_share_still_holds(fake_model):
    fake_model(retire(("porto", "older home")), retire(("porto", "older home")))
    store = _planted()
    app = builder.compile(store=store, checkpointer=InMemorySaver())
    with pytest.raises(Exception, match="more than consolidation_max_share"):
        await app.ainvoke(CONSOLIDATE, CONFIG, context={"model": FAKE_MODEL, "max_memories": 1})
    assert len(store.search(NS)) == 5 and store.search(history_namespace(NS)) == []
    out = await app.ainvoke(CONSOLIDATE, CONFIG, context={"model": FAKE_MODEL, "max_memories": 3})
    assert len(out["changes"]["deleted"]) == 2 and len(store.search(NS)) == 3
    assert "memories/porto" in out["changes"]["deleted"]


async def test_a_model_that_would_empty_the_namespace_changes_nothing(fake_model):
    fake_model(retire(("a", "stale"), ("b", "stale")))
    store = InMemoryStore()
    _put(store, "a", "User likes tea.")
    _put(store, "b", "User likes coffee.")
    app = builder.compile(store=store, checkpointer=InMemorySaver())
    context = {"model": FAKE_MODEL, "consolidation_max_share": 1.0}
    with pytest.raises(Exception, match="would retire all 2 memories; nothing was changed"):
        await app.ainvoke(CONSOLIDATE, CONFIG, context=context)
    assert len(store.search(NS)) == 2


async def test_one_memory_or_none_is_not_worth_a_call(fake_model):
    fake_model()  # any call would fail: the fake has no reply
    store = InMemoryStore()
    _put(store, "a", "User likes tea.")
    out = await builder.compile(store=store, checkpointer=InMemorySaver()).ainvoke(
        CONSOLIDATE, CONFIG, context={"model": FAKE_MODEL}
    )
    assert out["changes"]["deleted"] == [] and out["usage"]["model_calls"] == 0


async def test_over_http_the_calls_tokens_are_the_runs_usage(llm: ScriptedEndpoint, monkeypatch):
    """The real OpenAI client against the scripted endpoint: one request, its usage recorded."""
    monkeypatch.setenv("OPENAI_BASE_URL", llm.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-secret")
    monkeypatch.setattr(extractors, "_models", {})  # a model built for this endpoint only
    # langchain-openai caches one async HTTP client per (base URL, timeout) for the process;
    # one left by another test's (closed) event loop fails here, so this test's is its own.
    clients: list = []

    def own_client(*args, **kwargs):
        clients.append(openai_clients._build_async_httpx_client(*args, **kwargs))
        return clients[-1]

    monkeypatch.setattr(openai_chat, "_get_default_async_httpx_client", own_client)
    llm.canned.append([(TOOL, {"retire": [{"key": "porto", "reason": "lisbon is newer"}]})])
    store = _planted()
    before = llm.calls
    try:
        out = await builder.compile(store=store, checkpointer=InMemorySaver()).ainvoke(
            CONSOLIDATE, CONFIG, context={"model": "openai:gpt-4.1-mini"}
        )
    finally:
        for client in clients:
            await client.aclose()
    assert clients, "the model's client was built here"
    assert llm.calls == before + 1, "one call per namespace"
    request, reported = llm.requests[-1], llm.usage[-1]
    assert request["tool_choice"]["function"]["name"] == TOOL
    shown = [json.loads(line) for line in user_turns(request)]
    assert sorted(m["key"] for m in shown) == ["cat", "lisbon", "nurse", "porto", "tom"]
    assert out["changes"]["deleted"] == ["memories/porto"]
    assert reported is not None
    assert out["usage"]["prompt_tokens"] == reported["prompt_tokens"] > 0
    assert out["usage"]["completion_tokens"] == reported["completion_tokens"] > 0
    assert out["usage"]["model_calls"] == 1


async def test_a_memory_written_while_the_model_thinks_is_not_retired(monkeypatch):
    """An extraction that commits a newer value meanwhile wins over the planned retirement."""
    store = _planted()

    def replies():
        _put(store, "porto", "User lives in Madrid.")  # the user spoke during the model's call
        yield retire(("porto", "contradicted by lisbon"), ("cat", "duplicates tom"))

    monkeypatch.setitem(extractors._models, (FAKE_MODEL, 60.0), ToolCallingFake(messages=replies()))
    out = await builder.compile(store=store, checkpointer=InMemorySaver()).ainvoke(
        CONSOLIDATE, CONFIG, context={"model": FAKE_MODEL}
    )
    assert out["changes"]["deleted"] == ["memories/cat"]
    assert store.get(NS, "porto").value["content"]["content"] == "User lives in Madrid."
    assert [e.value["key"] for e in store.search(history_namespace(NS))] == ["cat"]


def test_a_long_namespace_is_shown_in_windows_each_attribute_kept_together():
    homes = [(f"home-{n}", f"User lives in City{n}.", float(n)) for n in range(3)]
    chatter = [
        (f"note-{n}", f"User noted thing number {n:03d} " + "x" * 60, 0.0) for n in range(40)
    ]
    limit = len(listing(homes)) + 400
    got = windows([*chatter[:20], *homes, *chatter[20:]], limit)
    assert len(got) > 2 and all(len(listing(w)) <= limit for w in got)
    assert sorted(m[0] for w in got for m in w) == sorted(m[0] for m in [*homes, *chatter])
    assert any({m[0] for m in homes} <= {m[0] for m in w} for w in got), "the homes share one"
    # A namespace that fits is one window; one memory longer than the limit is its own.
    assert windows(homes) == [sorted(homes, key=lambda m: m[1])]
    big = ("big", "User says " + "y" * 500, 0.0)
    assert [big] in windows([big, *homes], limit=200)


async def test_each_window_is_its_own_call_and_their_retirements_add_up(fake_model, monkeypatch):
    # At 300 characters the five planted memories are two windows: the homes and the job,
    # then the two cats; each window's answer retires one.
    monkeypatch.setattr(consolidate_model, "WINDOW_CHARS", 300)
    fake_model(retire(("porto", "contradicted by lisbon")), retire(("cat", "duplicates tom")))
    store = _planted()
    app = builder.compile(store=store, checkpointer=InMemorySaver())
    out = await app.ainvoke(CONSOLIDATE, CONFIG, context={"model": FAKE_MODEL})
    assert out["usage"]["model_calls"] == 2
    assert sorted(out["changes"]["deleted"]) == ["memories/cat", "memories/porto"]
