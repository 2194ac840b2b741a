"""What the sync and async executors' test modules share, written once.

The ordering-and-coalescing case: a scripted server holds the first request
until released, so the submissions made meanwhile queue up behind it; what
reaches the server must keep their order and take fewer requests than submissions.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx

from sdk_client import RetryPolicy, Stage

FAST = RetryPolicy(max_attempts=2, initial_delay=0, jitter=0)
MSG = {"messages": [{"role": "user", "content": "I love tea."}]}
TURNS = 10
PAYLOADS = [{"messages": [{"role": "user", "content": f"turn {i}"}]} for i in range(TURNS)]
OPTIONS: dict[str, Any] = {
    "url": "http://test",
    "retry": FAST,
    "sender_threads": 1,
}


class Recorder:
    """What the server was sent, in order; answers a run create with a run id."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def answer(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        with self._lock:
            self.sent.append((request.method, request.url.path, body))
            n = len(self.sent)
        if request.url.path.endswith("/runs"):
            return httpx.Response(200, json={"run_id": f"run-{n}", "status": "pending"})
        return httpx.Response(204)

    def check_in_order_and_coalesced(self, futures: list[Any]) -> None:
        puts = [b for m, _, b in self.sent if m == "PUT"]
        order = [s["messages"][0]["content"] for b in puts for s in b["value"]["submissions"]]
        assert order == [f"turn {i}" for i in range(TURNS)]
        assert len(puts) < TURNS, "queued submissions coalesce into fewer requests"
        runs = [b for _, p, b in self.sent if p.endswith("/runs")]
        assert len(runs) == len(puts)
        assert runs[-1]["input"]["messages"][0]["content"] == f"turn {TURNS - 1}"
        assert runs[-1]["multitask_strategy"] == "rollback"
        assert all(f.stage is Stage.ACCEPTED for f in futures)
