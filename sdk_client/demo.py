"""A short demo: submit a burst of single-turn messages, wait, and print the memories.

Run against a server (``LANGGRAPH_API_URL``, default ``http://127.0.0.1:2024``)::

    python -m sdk_client.demo

Each turn is submitted on its own and accepted by the server before the next,
so each creates a run that supersedes the previous one, exactly the case in
which langmem's own remote executor keeps only the last turn.
"""

from __future__ import annotations

import argparse
import time
import uuid

from sdk_client.executor import ReflectionExecutor

TURNS = [
    "Hi! My name is Alice.",
    "I live in Lisbon, and I work at a bakery.",
    "I love surfing at dawn.",
    "I can't stand cilantro.",
    "My cat is called Miso.",
]


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m sdk_client.demo", description=__doc__)
    parser.add_argument("--url", default=None, help="server URL (default: $LANGGRAPH_API_URL)")
    parser.add_argument("--after-seconds", type=float, default=2.0, help="quiet period")
    opts = parser.parse_args(argv)

    user = f"demo-{uuid.uuid4().hex[:6]}"
    executor = ReflectionExecutor("memory_manager", ("memories", "{user_id}"), url=opts.url)
    print(f"server {executor.url}; user {user}; after_seconds={opts.after_seconds}")
    futures = []
    for turn in TURNS:
        t0 = time.perf_counter()
        fut = executor.submit(
            {"messages": [{"role": "user", "content": turn}]},
            {"configurable": {"user_id": user}},
            after_seconds=opts.after_seconds,
            thread_id=f"chat-{user}",
        )
        handed_us = (time.perf_counter() - t0) * 1e6
        fut.wait_accepted(timeout=30)
        futures.append(fut)
        print(f"  submitted ({handed_us:5.0f} µs), accepted as run {fut.run_id}: {turn!r}")

    status = executor.status(f"chat-{user}")
    print(f"thread is {status.state}: {status.inbox} submissions waiting in the inbox")
    executor.flush(timeout=120)
    runs = {f.result().run_id for f in futures}
    print(f"{len(futures)} runs created, {len(runs)} executed: {', '.join(sorted(runs))}")
    print("memories:")
    for item in executor.search(namespace=("memories", user), limit=50):
        print(f"  - {item['value']['content']['content']}")
    executor.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
