"""memory-reflect's client: submit conversations for deferred, debounced memory processing.

``ReflectionExecutor`` has the call shape of langmem's remote executor and
runs against the ``memory_manager`` graph deployed from ``graphs/``;
``AsyncReflectionExecutor`` is the same for asyncio code, and
``LocalReflectionExecutor`` runs a memory manager in this process instead.
"""

from sdk_client._retry import RetryPolicy
from sdk_client.async_executor import AsyncReflectionExecutor
from sdk_client.errors import (
    ExecutorShutdownError,
    FlushTimeoutError,
    InvalidPayloadError,
    InvalidPayloadTypeError,
    NotAcceptedError,
    ProcessingFailedError,
    ReflectError,
    SubmissionCancelledError,
    SubmissionError,
    SubmissionLostError,
)
from sdk_client.executor import DEFAULT_URL, ReflectionExecutor
from sdk_client.local import LocalFuture, LocalReflectionExecutor
from sdk_client.types import Stage, SubmissionFuture, SubmissionResult, ThreadStatus

__all__ = [
    "DEFAULT_URL",
    "AsyncReflectionExecutor",
    "ExecutorShutdownError",
    "FlushTimeoutError",
    "InvalidPayloadError",
    "InvalidPayloadTypeError",
    "LocalFuture",
    "LocalReflectionExecutor",
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
