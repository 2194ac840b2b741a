"""What LangGraph Studio reads from a real `langgraph dev`: graph, schemas, thread state, runs."""

from __future__ import annotations

import httpx
import pytest

from tests.burst import Burst
from tests.server import quick_executor

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def assistant_id(http) -> str:
    found = http.post("/assistants/search", json={"graph_id": "memory_manager"}).json()
    return found[0]["assistant_id"]


def _fields_described(schema: dict, where: str, defs: dict | None = None) -> None:
    """Every property (and every property of every $defs type) has a title and a description.

    A property that is a `$ref` takes its title from the type it refers to, as Studio does.
    """
    defs = schema.get("$defs", {}) if defs is None else defs
    for name, prop in schema.get("properties", {}).items():
        ref = prop.get("$ref", "").rpartition("/")[2]
        assert prop.get("title") or defs.get(ref, {}).get("title"), f"{where}.{name}: no title"
        assert prop.get("description"), f"{where}.{name}: no description"
    for name, sub in schema.get("$defs", {}).items():
        assert sub.get("description"), f"{where}.$defs.{name}: no description"
        _fields_described(sub, f"{where}.$defs.{name}", defs)


def test_graph_shows_each_step_with_name_and_description(http, assistant_id):
    drawing = http.get(f"/assistants/{assistant_id}/graph").json()
    steps = {n["id"]: n for n in drawing["nodes"] if not n["id"].startswith("__")}
    assert list(steps) == ["gather", "extract", "commit"]
    for node_id, node in steps.items():
        assert node["data"]["name"] == node_id
        assert len(node["metadata"]["description"]) > 20
    edges = {(e["source"], e["target"]) for e in drawing["edges"]}
    assert edges == {
        ("__start__", "gather"),
        ("gather", "extract"),
        ("extract", "commit"),
        ("commit", "__end__"),
    }


def test_schemas_carry_titles_and_descriptions(http, assistant_id):
    schemas = http.get(f"/assistants/{assistant_id}/schemas").json()
    for kind in ("input_schema", "output_schema", "state_schema", "context_schema"):
        schema = schemas[kind]
        assert schema["title"], kind
        _fields_described(schema, kind)
    for kind in ("input_schema", "output_schema", "context_schema"):
        # state_schema is assembled by LangGraph from the channels and has no docstring
        assert schemas[kind]["description"], kind
    assert schemas["input_schema"]["required"] == ["messages"]
    assert "changes" in schemas["output_schema"]["properties"]
    context = schemas["context_schema"]["properties"]
    assert set(context) == {
        "model",
        "namespace",
        "instructions",
        "schemas",
        "enable_inserts",
        "enable_deletes",
        "query_limit",
        "dedup_threshold",
        "model_timeout",
        "history_days",
        "max_memories",
        "consolidation_max_share",
        "forget_after_days",
        "forget_unused_days",
    }
    # The form is pre-filled with the defaults this server's environment gives.
    defaults = {name: prop.get("default", "<none>") for name, prop in context.items()}
    assert defaults == {
        "model": None,
        "namespace": ["memories"],
        "instructions": defaults["instructions"],
        "schemas": None,
        "enable_inserts": True,
        "enable_deletes": False,
        "query_limit": 5,
        "dedup_threshold": 0.85,
        "model_timeout": 60.0,
        "history_days": 90.0,
        "max_memories": 0,
        "consolidation_max_share": 0.5,
        "forget_after_days": {},
        "forget_unused_days": {},
    }
    assert defaults["instructions"].startswith("You maintain long-term memories")
    # Env and built-in default are also said in each description.
    for name in ("namespace", "enable_inserts", "enable_deletes", "query_limit", "dedup_threshold"):
        assert "Default" in context[name]["description"], name
        assert "Env: MEMORY_" in context[name]["description"], name


def test_finished_run_state_shows_messages_changes_and_timing(server, http):
    turns = ["I live in Porto.", "My name is Rita."]
    with quick_executor(server.url, ("memories", "studio")) as ex:
        # One run holding both turns needs the second accepted within 1 s of the first;
        # the offline path has no gate, so that premise is timed (tests/burst.py).
        timing = Burst(1.0)
        futures = [timing.submit(ex, turn, "studio-state") for turn in turns]
        result = futures[-1].result(timeout=60)

    state = http.get(f"/threads/{result.thread_id}/state").json()
    values = state["values"]
    assert state["next"] == []
    processed = values["processed"]
    with timing.outcome():
        assert [m["content"] for m in processed] == turns
    assert [m["submission_id"] for m in processed] == [f.submission_id for f in futures]
    assert values["submissions"] == [f.submission_id for f in futures]
    assert sorted(values["changes"]["created"]) == sorted(result.created)
    assert len(result.created) == 2
    assert values["run_id"] == result.run_id
    assert values["extractor"] == "offline"
    timing = values["timing"]
    assert (
        timing["first_submitted_at"]
        <= timing["last_submitted_at"]
        < timing["due_at"]
        <= timing["started_at"]
        <= timing["finished_at"]
    )
    # The server records the last submission when it captures its run: the 1 s quiet period
    # less the moments the client took to send it (a loaded machine: a few ms).
    assert timing["due_at"] == pytest.approx(timing["last_submitted_at"] + 1.0, abs=0.05)
    # Scratch fields are emptied so the state shows results only.
    assert values["batches"] == values["ops"] == values["inbox_keys"] == []

    history = http.post(f"/threads/{result.thread_id}/history", json={"limit": 10}).json()
    assert [h["next"] for h in history][:4] == [[], ["commit"], ["extract"], ["gather"]]

    runs = http.get(f"/threads/{result.thread_id}/runs").json()
    # The first submission's run was superseded (rolled back): one run remains, and it ran.
    assert [(r["run_id"], r["status"]) for r in runs] == [(result.run_id, "success")]
    assert runs[0]["kwargs"]["input"]["submission_id"] == futures[-1].submission_id
