"""The seed document's example (langmem's delayed-processing guide), pointed at this package.

Adapted only as the guide's own serverless note says: the executor is
``ReflectionExecutor("memory_manager", ("memories", ...), url=...)`` from
``sdk_client``, the chat model is an offline fake, and the store has no
embedding index (that needs an OpenAI key). It runs inside a LangGraph
entrypoint, so the thread comes from the entrypoint's config, as in the guide.
"""

from __future__ import annotations

import uuid

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langgraph.func import entrypoint
from langgraph.store.memory import InMemoryStore

from sdk_client import ReflectionExecutor

pytestmark = pytest.mark.integration


def test_seed_example_keeps_every_turn(server):
    user = f"seed-{uuid.uuid4().hex[:6]}"
    executor = ReflectionExecutor("memory_manager", ("memories", user), url=server.url)
    llm = GenericFakeChatModel(messages=iter(AIMessage(content=f"Noted ({i}).") for i in range(10)))
    store = InMemoryStore()
    futures = []

    @entrypoint(store=store)
    def chat(message: str):
        response = llm.invoke(message)
        # Format conversation for memory processing; must follow OpenAI's message format
        to_process = {"messages": [{"role": "user", "content": message}] + [response]}  # noqa: RUF005 (as the guide writes it)
        delay = 0.5  # in practice 30-60 min
        futures.append(executor.submit(to_process, after_seconds=delay))
        return response.content

    config = {"configurable": {"thread_id": str(uuid.uuid4())}}
    for message in ["Hi, I'm Sam.", "I live in Toronto.", "I love climbing.", "I hate mornings."]:
        assert chat.invoke(message, config).startswith("Noted")

    executor.flush(timeout=60)
    memories = {i["value"]["content"]["content"] for i in executor.search(limit=20)}
    assert memories == {
        "User's name is Sam.",
        "User lives in Toronto.",
        "User likes climbing.",
        "User dislikes mornings.",
    }
    assert {f.thread_id for f in futures} == {config["configurable"]["thread_id"]}
    executor.shutdown()
