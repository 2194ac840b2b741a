"""The LLM path in-process: langmem's manager on a fake chat model, writes staged then committed."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage

from tests.schemas import PREFERENCE, USER
from tests.unit.graphs.conftest import FAKE_MODEL as MODEL

CONFIG = {"configurable": {"thread_id": "22222222-3333-4444-5555-666666666666"}}


def calls(name: str, *args: dict[str, Any]) -> AIMessage:
    return AIMessage(
        content="",
        tool_calls=[{"name": name, "args": a, "id": f"call_{i}"} for i, a in enumerate(args)],
    )


async def test_langmem_memories_land_in_langmem_format(app, store, fake_model):
    fake_model(calls("Memory", {"content": "User lives in Paris."}, {"content": "User likes tea."}))
    out = await app.ainvoke(
        {"messages": [{"role": "user", "content": "I live in Paris and love tea."}]},
        CONFIG,
        context={"model": MODEL},
    )
    items = store.search(("memories",))
    assert sorted(i.value["content"]["content"] for i in items) == [
        "User likes tea.",
        "User lives in Paris.",
    ]
    assert all(i.value["kind"] == "Memory" for i in items)
    assert sorted(out["changes"]["created"]) == sorted(f"memories/{i.key}" for i in items)
    assert out["extractor"] == MODEL


async def test_collection_schema_inserts_items_of_its_kind(app, store, fake_model):
    fake_model(
        calls("Preference", {"item": "tea", "likes": True}, {"item": "rain", "likes": False})
    )
    await app.ainvoke(
        {"messages": [{"role": "user", "content": "I love tea, hate rain."}]},
        CONFIG,
        context={"model": MODEL, "schemas": [PREFERENCE]},
    )
    items = store.search(("memories",))
    assert {i.value["kind"] for i in items} == {"Preference"}
    assert sorted(i.value["content"]["item"] for i in items) == ["rain", "tea"]


def filled(document: dict[str, Any]) -> dict[str, Any]:
    """A profile's fields that hold a value (the model's schema fills the rest with null)."""
    return {k: v for k, v in document.items() if v is not None}


async def test_profile_schema_is_one_document_in_its_own_namespace(app, store, fake_model):
    fake_model(calls("User", {"user_name": "Ann", "home": "Oslo"}))
    await app.ainvoke(
        {"messages": [{"role": "user", "content": "I'm Ann from Oslo."}]},
        CONFIG,
        context={"model": MODEL, "schemas": [USER]},
    )
    profiles = store.search(("memories", "User"))
    assert [(p.value["kind"], filled(p.value["content"])) for p in profiles] == [
        ("User", {"user_name": "Ann", "home": "Oslo"})
    ]


async def test_profile_is_patched_in_place_on_later_runs(app, store, fake_model):
    import uuid

    fake_model(calls("User", {"user_name": "Ann", "home": "Oslo"}))
    ctx = {"model": MODEL, "schemas": [USER]}
    await app.ainvoke(
        {"messages": [{"role": "user", "content": "I'm Ann from Oslo."}]}, CONFIG, context=ctx
    )
    (doc,) = store.search(("memories", "User"))
    doc_id = uuid.uuid5(uuid.NAMESPACE_DNS, str(("memories", "User", doc.key))).hex
    patch = {
        "json_doc_id": doc_id,
        "planned_edits": "home moved",
        "patches": [{"op": "replace", "path": "/home", "value": "Rome"}],
    }
    fake_model(calls("PatchDoc", patch))
    out = await app.ainvoke(
        {"messages": [{"role": "user", "content": "I moved to Rome."}]}, CONFIG, context=ctx
    )
    profiles = store.search(("memories", "User"))
    assert [(p.key, filled(p.value["content"])) for p in profiles] == [
        (doc.key, {"user_name": "Ann", "home": "Rome"})
    ]
    assert out["changes"] == {
        "created": [],
        "updated": [f"memories/User/{doc.key}"],
        "deleted": [],
    }
