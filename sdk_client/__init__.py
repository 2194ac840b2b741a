"""memory-reflect's client: submit conversations for deferred, debounced memory processing.

``ReflectionExecutor`` has the call shape of langmem's remote executor and
runs against the ``memory_manager`` graph deployed from ``graphs/``;
``AsyncReflectionExecutor`` is the same for asyncio code, and
``LocalReflectionExecutor`` runs a memory manager in this process instead.

The public names load on first use (PEP 562): the server's graph imports
``sdk_client.contract``, which runs this file, and must not pay for the
executors, httpx, langgraph-sdk's clients and their exit hooks.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sdk_client._http import DEFAULT_URL, RetryPolicy
    from sdk_client.async_executor import AsyncReflectionExecutor
    from sdk_client.errors import (
        AcceptTimeoutError,
        ConsolidationError,
        ExecutorShutdownError,
        FlushTimeoutError,
        HistoryNotFoundError,
        InvalidPayloadError,
        InvalidPayloadTypeError,
        NotAcceptedError,
        ProcessingFailedError,
        ReflectError,
        SubmissionCancelledError,
        SubmissionError,
        SubmissionLostError,
    )
    from sdk_client.executor import ReflectionExecutor
    from sdk_client.local import LocalFuture, LocalReflectionExecutor
    from sdk_client.types import (
        Delivery,
        MemoryChange,
        ModelUsage,
        Stage,
        SubmissionFuture,
        SubmissionResult,
        ThreadStatus,
    )

__all__ = [
    "DEFAULT_URL",
    "AcceptTimeoutError",
    "AsyncReflectionExecutor",
    "ConsolidationError",
    "Delivery",
    "ExecutorShutdownError",
    "FlushTimeoutError",
    "HistoryNotFoundError",
    "InvalidPayloadError",
    "InvalidPayloadTypeError",
    "LocalFuture",
    "LocalReflectionExecutor",
    "MemoryChange",
    "ModelUsage",
    "NotAcceptedError",
    "ProcessingFailedError",
    "ReflectError",
    "ReflectionExecutor",
    "RetryPolicy",
    "Stage",
    "SubmissionCancelledError",
    "SubmissionError",
    "SubmissionFuture",
    "SubmissionLostError",
    "SubmissionResult",
    "ThreadStatus",
]

# Public name -> the module that defines it.
_HOME: dict[str, str] = {
    "DEFAULT_URL": "sdk_client._http",
    "AsyncReflectionExecutor": "sdk_client.async_executor",
    "LocalFuture": "sdk_client.local",
    "LocalReflectionExecutor": "sdk_client.local",
    "ReflectionExecutor": "sdk_client.executor",
    "RetryPolicy": "sdk_client._http",
    **dict.fromkeys(
        (
            "Delivery",
            "MemoryChange",
            "ModelUsage",
            "Stage",
            "SubmissionFuture",
            "SubmissionResult",
            "ThreadStatus",
        ),
        "sdk_client.types",
    ),
    **dict.fromkeys((n for n in __all__ if n.endswith("Error")), "sdk_client.errors"),
}


def __getattr__(name: str) -> Any:
    """Import a public name's module the first time the name is asked for."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    """The module's names, the public ones included before they are loaded."""
    return sorted({*globals(), *__all__})
