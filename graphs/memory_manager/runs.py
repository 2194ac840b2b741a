"""What every step of a run needs from the run itself: its store, thread and configurable values.

``gather``, ``extract`` and ``commit`` each import these from here, so no step
reaches into another step's module for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langgraph.config import get_config
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore

from graphs.memory_manager.context import Context
from graphs.memory_manager.scoped import ScopedStore, store_prefix

__all__ = ["memory_path", "placeholder_values", "require_store", "run_id", "thread_id_of"]


def memory_path(namespace: Sequence[str], key: str) -> str:
    """How ``changes`` and ``change_text`` name a memory: its namespace and key, ``/``-joined."""
    return "/".join([*namespace, key])


def require_store(runtime: Runtime[Context]) -> BaseStore:
    """Return the run's store, inside the run's user's namespace prefix when keys are on.

    Fails with a message saying how to give the graph a store when it has none.
    """
    if runtime.store is None:
        raise RuntimeError(
            "memory_manager needs a store: run it on a LangGraph server, or compile/invoke "
            "it with store=InMemoryStore() in-process"
        )
    prefix = store_prefix(get_config().get("configurable", {}))
    return ScopedStore(runtime.store, prefix) if prefix else runtime.store


def thread_id_of(configurable: Mapping[str, Any]) -> str | None:
    """The run's thread id, as a string, if it has one."""
    tid = configurable.get("thread_id")
    return str(tid) if tid else None


def placeholder_values(configurable: Mapping[str, Any]) -> dict[str, Any]:
    """Values that fill ``{placeholders}`` in a namespace: the run's configurable entries."""
    return {k: v for k, v in configurable.items() if not k.startswith("__")}


def run_id() -> str | None:
    """The id of the run being executed (from its configurable values or metadata)."""
    config = get_config()
    for source in (config.get("configurable", {}), config.get("metadata", {})):
        if source.get("run_id"):
            return str(source["run_id"])
    return None
