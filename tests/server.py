"""Test access to the dev-server launcher (it lives in ``deploy.devserver``).

Beside it, what tests build for a server again and again: its environment (isolated,
keyed, on the scripted model), an executor that polls and retries quickly, the payload
of one user turn, and what a user's memories read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deploy.devserver import ROOT, Server, free_port, run_server, wait_until
from sdk_client import ReflectionExecutor, RetryPolicy, SubmissionFuture

if TYPE_CHECKING:
    from tests.llm_endpoint import ScriptedEndpoint

__all__ = [
    "ALICE_KEY",
    "BOB_KEY",
    "FAST_REDELIVERY",
    "ISOLATED_ENV",
    "KEYS",
    "QUICK",
    "ROOT",
    "USER_MEMORIES",
    "Server",
    "free_port",
    "isolated_env",
    "keyed_env",
    "llm_server_env",
    "message",
    "quick_executor",
    "run_server",
    "stored",
    "submit_turn",
    "wait_until",
]

# Variables that would change what the server or client does; tests set what they need.
ISOLATED_ENV = [
    "MEMORY_MODEL",
    "MEMORY_NAMESPACE",
    "MEMORY_INSTRUCTIONS",
    "MEMORY_SCHEMAS",
    "MEMORY_ENABLE_INSERTS",
    "MEMORY_ENABLE_DELETES",
    "MEMORY_QUERY_LIMIT",
    "MEMORY_DEDUP_THRESHOLD",
    "MEMORY_EMBEDDINGS",
    "MEMORY_EMBEDDING_THREADS",
    "MEMORY_EMBEDDING_RUNTIME",
    "LANGGRAPH_API_URL",
    "LANGGRAPH_API_KEY",
    "LANGSMITH_API_KEY",
    "LANGCHAIN_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "MEMORY_THREAD_TTL_MINUTES",
    "MEMORY_SWEEP_INTERVAL_SECONDS",
    "MEMORY_API_KEYS",
    "MEMORY_MODEL_TIMEOUT",
    "MEMORY_STUDIO_ACCESS",
    "MEMORY_MAX_BODY_BYTES",
    "MEMORY_REDELIVERY_ATTEMPTS",
    "MEMORY_REDELIVERY_BACKOFF_SECONDS",
    "MEMORY_REDELIVERY_MAX_BACKOFF_SECONDS",
    "MEMORY_REDELIVERY_GRACE_SECONDS",
    "MEMORY_REDELIVERY_INTERVAL_SECONDS",
    "MEMORY_HISTORY_DAYS",
    "MEMORY_MAX_MEMORIES",
    "MEMORY_CONSOLIDATION_MAX_SHARE",
    "MEMORY_FORGET_AFTER_DAYS",
    "MEMORY_FORGET_UNUSED_DAYS",
    "MEMORY_USE_RECORD_SECONDS",
    "MEMORY_QUIET_MINUTES",
    "MEMORY_QUIET_INTERVAL_SECONDS",
    "MEMORY_QUIET_REPEAT_HOURS",
]

FAST_REDELIVERY = {
    "MEMORY_REDELIVERY_ATTEMPTS": "3",
    "MEMORY_REDELIVERY_BACKOFF_SECONDS": "1",
    "MEMORY_REDELIVERY_MAX_BACKOFF_SECONDS": "2",
    "MEMORY_REDELIVERY_GRACE_SECONDS": "1",
    "MEMORY_REDELIVERY_INTERVAL_SECONDS": "0.5",
}
"""The server's redelivery schedule compressed from minutes to seconds (3 attempts)."""


def isolated_env(**extra: str | None) -> dict[str, str | None]:
    """A server's environment with every ISOLATED_ENV variable removed, ``extra`` on top."""
    return dict.fromkeys(ISOLATED_ENV) | extra


ALICE_KEY = "key-alice-" + "a" * 16
BOB_KEY = "key-bob-" + "b" * 16
KEYS = {"alice": ALICE_KEY, "bob": BOB_KEY}
"""The API key of each test user a keyed server knows."""


def keyed_env(*users: str, **extra: str | None) -> dict[str, str | None]:
    """An isolated environment with ``MEMORY_API_KEYS`` for ``users`` (default: alice and bob)."""
    keys = ",".join(f"{user}:{KEYS[user]}" for user in users or KEYS)
    return isolated_env(MEMORY_API_KEYS=keys) | extra


def llm_server_env(llm: ScriptedEndpoint, **extra: str | None) -> dict[str, str | None]:
    """An isolated environment whose LLM path is the scripted endpoint ``llm``, ``extra`` on top."""
    return isolated_env(**llm.server_env()) | extra


QUICK: dict[str, Any] = {"poll_interval": 0.2, "retry": RetryPolicy(initial_delay=0.05)}
"""An executor's settings for tests: polls every 0.2 s, first HTTP retry after 50 ms."""

USER_MEMORIES = ("memories", "{user_id}")
"""The namespace most tests write to: one per user, from the run's ``user_id``."""


def quick_executor(
    url: str,
    namespace: tuple[str, ...] = USER_MEMORIES,
    *,
    assistant: str = "memory_manager",
    **kwargs: Any,
) -> ReflectionExecutor:
    """An executor on ``url`` with the QUICK settings (``kwargs`` override them)."""
    return ReflectionExecutor(assistant, namespace, url=url, **(QUICK | kwargs))


def message(text: str) -> dict[str, Any]:
    """A single-turn payload: one user message saying ``text``."""
    return {"messages": [{"role": "user", "content": text}]}


def submit_turn(
    ex: ReflectionExecutor, user: str, text: str, after: float, thread: str | None = None
) -> SubmissionFuture:
    """Submit one turn of ``user`` (on ``chat-<user>`` unless told) and wait until accepted."""
    fut = ex.submit(
        message(text),
        {"configurable": {"user_id": user}},
        after_seconds=after,
        thread_id=thread or f"chat-{user}",
    )
    fut.wait_accepted(timeout=30)
    return fut


def stored(ex: ReflectionExecutor, user: str) -> list[str]:
    """Memory contents of ``user``, sorted, duplicates kept (so a duplicate shows)."""
    items = ex.search(namespace=("memories", user), limit=100)
    return sorted(i["value"]["content"]["content"] for i in items)
