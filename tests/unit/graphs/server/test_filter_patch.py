"""langgraph-runtime-inmem's thread values filter on a thread without values (graphs.server.filter_patch).

The first test says when upstream has fixed the fault: it fails then, asking for the
workaround to be removed.
"""

from __future__ import annotations

from langgraph_runtime_inmem import ops

from graphs.server import filter_patch

ORIGINAL = ops.is_jsonb_contained


def test_the_runtime_still_fails_on_a_thread_without_values():
    found = filter_patch.probe(ORIGINAL)
    assert found is not None and "TypeError" in found, (
        "langgraph-runtime-inmem handles threads without values now: remove "
        "graphs/server/filter_patch.py and its call in graphs/server/app.py"
    )


def test_the_workaround_matches_like_postgres():
    fixed = filter_patch.contained(ORIGINAL)
    assert filter_patch.probe(fixed) is None
    assert fixed(None, {"a": 1}) is False and fixed([1], {"a": 1}) is False
    assert fixed({"a": 1, "b": {"c": 2}}, {"b": {"c": 2}}) is True
    assert fixed({"a": 1}, {"a": 2}) is False
    assert fixed({"a": 1}, {}) is True


def test_apply_patches_the_runtime_once(monkeypatch):
    monkeypatch.setattr(ops, "is_jsonb_contained", ORIGINAL)
    monkeypatch.setattr(filter_patch.WORKAROUND, "outcome", None)
    assert filter_patch.apply() is True
    patched = ops.is_jsonb_contained
    assert patched is not ORIGINAL and patched(None, {"a": 1}) is False
    assert filter_patch.apply() is True and ops.is_jsonb_contained is patched
