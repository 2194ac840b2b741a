"""The graph in-process with InMemoryStore: inbox gather, acknowledgement, receipts, de-duplication."""

import time

import pytest
from langchain_core.messages import AIMessage

from graphs.memory_manager.graph import graph
from sdk_client.errors import InvalidPayloadError
from sdk_client.records import inbox_namespace, receipts_namespace

THREAD = "11111111-2222-3333-4444-555555555555"
CONFIG = {"configurable": {"thread_id": THREAD}}


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def put_inbox(store, key: str, *texts: str, namespace=("memories",)) -> None:
    from sdk_client.contract import normalize_payload

    subs = []
    for i, text in enumerate(texts):
        subs.append(
            {
                "submission_id": f"{key}-{i}",
                "messages": normalize_payload({"messages": [user(text)]}),
                "submitted_at": time.time(),
                "after_seconds": 1.0,
            }
        )
    store.put(inbox_namespace(THREAD), key, {"namespace": list(namespace), "submissions": subs})


def memories(store, namespace=("memories",)) -> list[str]:
    return sorted(i.value["content"]["content"] for i in store.search(namespace, limit=100))


def test_steps_are_gather_extract_commit():
    nodes = set(graph.get_graph().nodes) - {"__start__", "__end__"}
    assert nodes == {"gather", "extract", "commit"}


async def test_processes_inbox_plus_input_and_acknowledges(app, store):
    put_inbox(store, "a", "I live in Paris.", "I love tea.")
    out = await app.ainvoke({"messages": [user("My name is Ann.")], "submission_id": "own"}, CONFIG)
    assert memories(store) == ["User likes tea.", "User lives in Paris.", "User's name is Ann."]
    assert out["submissions"] == ["a-0", "a-1", "own"]
    assert out["namespaces"] == [["memories"]]
    assert [m["submission_id"] for m in out["processed"]] == ["a-0", "a-1", "own"]
    assert len(out["changes"]["created"]) == 3
    assert store.search(inbox_namespace(THREAD)) == []
    receipts = {i.key: i.value for i in store.search(receipts_namespace(THREAD))}
    assert set(receipts) == {"a-0", "a-1", "own"}
    assert len(receipts["own"]["message_ids"]) == 3
    assert out["timing"]["due_at"] and out["timing"]["finished_at"] >= out["timing"]["started_at"]


async def test_input_whose_inbox_entry_was_read_is_not_processed_twice(app, store):
    put_inbox(store, "k", "I love tea.")
    out = await app.ainvoke({"messages": [user("I love tea.")], "submission_id": "k-0"}, CONFIG)
    assert len(out["processed"]) == 1
    assert memories(store) == ["User likes tea."]


async def test_full_history_resends_process_each_message_once(app, store):
    history = [user("I live in Paris.")]
    await app.ainvoke({"messages": history}, CONFIG)
    history = [*history, {"role": "assistant", "content": "Nice!"}, user("I love tea.")]
    out = await app.ainvoke({"messages": history}, CONFIG)
    assert [m["content"] for m in out["processed"]] == ["Nice!", "I love tea."]
    assert len(out["skipped_message_ids"]) == 1
    assert memories(store) == ["User likes tea.", "User lives in Paris."]


async def test_same_fact_twice_is_stored_once_and_updates_are_updates(app, store):
    await app.ainvoke({"messages": [user("I live in Paris. I love tea.")]}, CONFIG)
    out = await app.ainvoke({"messages": [user("I love tea! I moved to Rome.")]}, CONFIG)
    assert out["changes"]["created"] == []
    assert len(out["changes"]["updated"]) == 1
    assert memories(store) == ["User likes tea.", "User lives in Rome."]


async def test_inbox_entries_keep_their_own_namespace(app, store):
    put_inbox(store, "b", "I love jazz.", namespace=("memories", "bob"))
    await app.ainvoke({"messages": [user("I love tea.")]}, CONFIG)
    assert memories(store, ("memories", "bob")) == ["User likes jazz."]
    assert "User likes tea." in memories(store)


async def test_namespace_from_configurable_as_langmem_sends_it(app, store):
    config = {"configurable": {"thread_id": THREAD, "namespace": ["memories", "lm"]}}
    await app.ainvoke(
        {"messages": [user("I love tea.")]}, config, context={"namespace": ["memories", "lm"]}
    )
    assert memories(store, ("memories", "lm")) == ["User likes tea."]


async def test_namespace_placeholders_filled_from_configurable(app, store):
    config = {"configurable": {"thread_id": THREAD, "user_id": "u7"}}
    await app.ainvoke(
        {"messages": [user("I love tea.")]},
        config,
        context={"namespace": ["memories", "{user_id}"]},
    )
    assert memories(store, ("memories", "u7")) == ["User likes tea."]
    with pytest.raises(InvalidPayloadError, match="user_id"):
        await app.ainvoke(
            {"messages": [user("x")]}, CONFIG, context={"namespace": ["memories", "{user_id}"]}
        )


async def test_langchain_message_objects_as_the_seed_passes_them(app, store):
    msgs = [user("I love sushi."), AIMessage(content="Noted!", id="ai-1")]
    out = await app.ainvoke({"messages": msgs}, CONFIG)
    assert [m["id"] for m in out["processed"]][1] == "ai-1"
    assert memories(store) == ["User likes sushi."]


async def test_bad_input_fails_the_run_naming_the_field(app):
    with pytest.raises(InvalidPayloadError, match=r"input.messages\[0\].role"):
        await app.ainvoke({"messages": [{"role": "robot", "content": "x"}]}, CONFIG)


async def test_an_extraction_failure_writes_nothing_and_keeps_the_inbox(app, store, monkeypatch):
    import graphs.memory_manager.extract as extract_mod

    put_inbox(store, "a", "I love tea.")

    async def boom(*args, **kwargs):
        raise RuntimeError("extractor down")

    monkeypatch.setattr(extract_mod, "extract_offline", boom)
    with pytest.raises(RuntimeError, match="extractor down"):
        await app.ainvoke({"messages": [user("I live in Oslo.")]}, CONFIG)
    assert memories(store) == []
    assert len(store.search(inbox_namespace(THREAD))) == 1
    monkeypatch.undo()
    await app.ainvoke({"messages": [user("I live in Oslo.")]}, CONFIG)
    assert memories(store) == ["User likes tea.", "User lives in Oslo."]


def test_the_context_schema_is_rendered_once_and_equal_to_langgraphs():
    from langgraph.graph.state import CompiledStateGraph

    from graphs.memory_manager.graph import _compiled, graph

    run_copy = graph.copy({"store": None})  # what the server does for each run
    first = run_copy.get_context_jsonschema()
    assert first == CompiledStateGraph.get_context_jsonschema(_compiled)
    assert first is not None
    first["title"] = "changed by a caller"
    assert run_copy.get_context_jsonschema() == _compiled.get_context_jsonschema()
