"""The text of each memory a run changed, before and after, in the thread state."""

from __future__ import annotations

from graphs.memory_manager import commit
from graphs.memory_manager.change_text import (
    MAX_CHARS,
    change_text,
    memory_text,
)

THREAD = "44444444-5555-6666-7777-888888888888"
CONFIG = {"configurable": {"thread_id": THREAD}}


def memory(text: str) -> dict:
    return {"kind": "Memory", "content": {"content": text}}


def test_memory_text_reads_langmem_memories_and_typed_ones():
    assert memory_text(memory("User likes tea.")) == "User likes tea."
    assert memory_text({"kind": "Pet", "content": {"name": "Bo", "age": 3}}) == (
        '{"age": 3, "name": "Bo"}'
    )
    assert memory_text(None) is None


def test_long_texts_are_cut():
    text = memory_text(memory("x" * 1000))
    assert text is not None and len(text) == MAX_CHARS and text.endswith("…")


def test_before_and_after_of_created_updated_and_deleted():
    found = {
        (("m",), "old"): memory("User lives in Paris."),
        (("m",), "gone"): memory("User has a cat."),
    }
    ops = [
        {"namespace": ["m"], "key": "new", "value": memory("User likes tea.")},
        {"namespace": ["m"], "key": "old", "value": memory("User lives in Rome.")},
        {"namespace": ["m"], "key": "gone", "value": None},
    ]
    changes, before, _ = commit._plan(ops, found)
    assert changes == {"created": ["m/new"], "updated": ["m/old"], "deleted": ["m/gone"]}
    assert change_text(changes, ops, before) == {
        "m/new": {"before": None, "after": "User likes tea."},
        "m/old": {"before": "User lives in Paris.", "after": "User lives in Rome."},
        "m/gone": {"before": "User has a cat.", "after": None},
    }


def test_before_is_the_value_the_run_found_not_its_own_earlier_write():
    found = {(("m",), "k"): memory("User lives in Paris.")}
    ops = [
        {"namespace": ["m"], "key": "k", "value": memory("User lives in Rome.")},
        {"namespace": ["m"], "key": "k", "value": memory("User lives in Oslo.")},
    ]
    changes, before, writes = commit._plan(ops, found)
    assert change_text(changes, ops, before)["m/k"] == {
        "before": "User lives in Paris.",
        "after": "User lives in Oslo.",
    }
    assert [w.value for w in writes] == [op["value"] for op in ops]  # both, in order
    # The second write finds the first's value, not nothing: an update, not a creation.
    assert changes == {"created": [], "updated": ["m/k", "m/k"], "deleted": []}
    assert commit._plan([], {}) == ({"created": [], "updated": [], "deleted": []}, {}, [])


async def test_a_run_leaves_the_text_of_an_update_in_its_state(app, store):
    await app.ainvoke({"messages": [{"role": "user", "content": "I live in Paris."}]}, CONFIG)
    out = await app.ainvoke({"messages": [{"role": "user", "content": "I moved to Rome."}]}, CONFIG)
    # The offline extractor's wording may change; the texts must be the memory's, each side.
    [path] = out["changes"]["updated"]
    text = out["change_text"][path]
    assert "Paris" in text["before"] and "Rome" in text["after"]
    [item] = store.search(tuple(path.split("/")[:-1]))
    assert memory_text(item.value) == text["after"]
