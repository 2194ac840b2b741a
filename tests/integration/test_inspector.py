"""The inspector on a real ``langgraph dev``: served through ``http.app``, and the REST
answers the page is built on have the fields it reads (the browser test is opt-in)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from sdk_client import ReflectionExecutor
from sdk_client.records import INBOX_LABEL

pytestmark = pytest.mark.integration


def test_page_is_served_by_langgraph_dev(server):
    page = httpx.get(f"{server.url}/inspector", follow_redirects=True)
    assert page.status_code == 200 and "memory-reflect inspector" in page.text
    assert httpx.get(f"{server.url}/inspector/static/inspector.js").status_code == 200
    meta = httpx.get(f"{server.url}/inspector/api/meta").json()
    assert meta["inbox_label"] == INBOX_LABEL


def test_rest_answers_have_what_the_page_reads(server):
    key = f"insp-smoke-{uuid.uuid4().hex[:6]}"
    url = server.url
    with ReflectionExecutor("memory_manager", ("memories", key), url=url) as ex:
        fut = ex.submit({"messages": [{"role": "user", "content": "I live in Faro."}]},
                        after_seconds=600, thread_id=key)  # fmt: skip
        fut.wait_accepted(timeout=30)
        tid = fut.thread_id
        # Pending: a busy thread, a pending run with its due time, the inbox entry.
        found = httpx.post(
            f"{url}/threads/search", json={"metadata": {"graph_id": "memory_manager"}, "limit": 50}
        ).json()
        assert any(t["thread_id"] == tid and t["status"] == "busy" for t in found)
        assert (
            httpx.post(
                f"{url}/threads/count", json={"metadata": {"graph_id": "memory_manager"}}
            ).json()
            >= 1
        )
        runs = httpx.get(f"{url}/threads/{tid}/runs?limit=10").json()
        pending = [r for r in runs if r["status"] == "pending"]
        assert len(pending) == 1 and pending[0]["created_at"]
        assert pending[0]["kwargs"]["input"]["submission_id"] == fut.submission_id
        inbox = httpx.post(
            f"{url}/store/items/search", json={"namespace_prefix": [INBOX_LABEL, tid]}
        ).json()
        assert inbox["items"][0]["value"]["submissions"][0]["submitted_at"] > 0
        ex.cancel(key)
    # Unknown and malformed thread ids: the answers the page turns into messages.
    assert httpx.get(f"{url}/threads/{uuid.uuid4()}").status_code == 404
    assert httpx.get(f"{url}/threads/not-a-uuid").status_code == 422
