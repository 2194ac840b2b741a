"""langgraph#8822 on a real server: many users store the same sentence in the same instant.

The dev server merges concurrent store writes of different runs into one batch;
unpatched, two identical texts in it failed the whole batch, and so nearly every
run (graphs.server.store_patch).
"""

from __future__ import annotations

import time
import uuid

import pytest
from langgraph_sdk import get_sync_client

from sdk_client import ProcessingFailedError
from tests.server import quick_executor

pytestmark = pytest.mark.integration

USERS = 20
SAME = "I live in Lisbon."
MEMORY = "User lives in Lisbon."


def test_many_users_saying_the_same_sentence_at_once(server):
    tag = uuid.uuid4().hex[:6]
    users = [f"same-{tag}-{i}" for i in range(USERS)]
    with quick_executor(server.url) as ex:
        # Every run falls due at the same moment, once all are accepted.
        due = time.time() + 4.0
        futures = [
            ex.submit(
                {
                    "messages": [
                        {"role": "user", "content": SAME},
                        {"role": "user", "content": f"I work at Company{i}."},
                    ]
                },
                {"configurable": {"user_id": user}},
                after_seconds=due - time.time(),
                thread_id=f"chat-{user}",
            )
            for i, user in enumerate(users)
        ]
        failed = []
        for user, fut in zip(users, futures, strict=True):
            try:
                fut.result(timeout=120)
            except ProcessingFailedError as err:
                failed.append(f"{user}: {err}")
        assert not failed, f"{len(failed)} of {USERS} runs failed, e.g. {failed[0]}"

    with get_sync_client(url=server.url, api_key=None) as sdk:
        for i, user in enumerate(users):
            items = sdk.store.search_items(("memories", user), query=MEMORY, limit=10)["items"]
            texts = [item["value"]["content"]["content"] for item in items]
            assert texts == [MEMORY, f"User works at Company{i}."], user
            # Its own vector: the query embeds the same text.
            assert items[0]["score"] == pytest.approx(1.0, abs=1e-4), user
    assert "langgraph#8822" in server.log_text(), "store_patch did not run in the server"
