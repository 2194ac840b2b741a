"""Semantic search and memory types on a real server, with no keys (offline extractor, MiniLM)."""

from __future__ import annotations

import uuid

import pytest
from langgraph_sdk import get_sync_client

from sdk_client import ReflectionExecutor
from tests.schemas import USER as PROFILE
from tests.server import quick_executor

pytestmark = pytest.mark.integration


def _say(ex: ReflectionExecutor, *turns: str) -> None:
    for turn in turns:
        ex.submit(
            {"messages": [{"role": "user", "content": turn}]},
            after_seconds=0.5,
            thread_id=f"chat-{ex.namespace[-1]}",
        )
    ex.flush(timeout=120)


def test_search_ranks_where_the_user_lives_first(server):
    user = f"q-{uuid.uuid4().hex[:6]}"
    with quick_executor(server.url, ("memories", user)) as ex:
        _say(
            ex,
            "My name is Dana. I work at Initech.",
            "I love surfing and I'm from Canada.",
            "I live in Lisbon. My dog is called Rex.",
            "I'm a vegetarian.",
        )
        _say(ex, "I am vegetarian.")  # a restatement: not stored again
        hits = ex.search("where does the user live?")
        assert hits[0]["value"]["content"]["content"] == "User lives in Lisbon."
        assert hits[0]["score"] > hits[1]["score"]
        texts = [h["value"]["content"]["content"] for h in ex.search(limit=20)]
        assert sorted(texts) == sorted(
            [
                "User's name is Dana.",
                "User works at Initech.",
                "User likes surfing.",
                "User is from Canada.",
                "User lives in Lisbon.",
                "User's dog is called Rex.",
                "User is a vegetarian.",
            ]
        )


def test_profile_memory_type_configured_per_assistant(server):
    user = f"p-{uuid.uuid4().hex[:6]}"
    with get_sync_client(url=server.url, api_key=None) as sdk:
        assistant = sdk.assistants.create(
            "memory_manager", context={"schemas": [PROFILE]}, name=f"profile-{user}"
        )
    with quick_executor(server.url, ("memories", user), assistant=assistant["assistant_id"]) as ex:
        _say(ex, "My name is Ann. I live in Oslo.")
        _say(ex, "I moved to Rome.")
        (doc,) = ex.search(namespace=("memories", user, "User"))
        assert doc["value"] == {"kind": "User", "content": {"user_name": "Ann", "home": "Rome"}}
        assert ex.search("where does the user live?")[0]["key"] == doc["key"]
