"""What a run spent on the chat model: calls, prompt and completion tokens, model time.

``extract`` is wrapped in :func:`records_usage`. While it runs, a context
variable holds a :class:`UsageRecorder`, and langchain adds that recorder to
every chat-model call made inside (langmem's, trustcall's), through a
configure hook registered once at import: nothing has to be threaded through
langmem's config. The recorder's result lands in the thread state (``usage``)
and ``commit`` copies it into each receipt.

Tokens are the provider's own counts: ``AIMessage.usage_metadata``, which the
provider's langchain client fills from the response's ``usage`` (falling back
to ``llm_output["token_usage"]`` for clients that only report it there). A
provider that reports nothing still counts calls and seconds. The offline
extractor makes no model calls, so its runs record zeros.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.tracers.context import register_configure_hook

from graphs.memory_manager.state import Usage

__all__ = ["UsageRecorder", "no_usage", "recording", "records_usage", "tokens_of", "usage_of"]

_recorder: ContextVar[UsageRecorder | None] = ContextVar("memory_manager_usage", default=None)
# Once per process: langchain keeps every hook it is given, so registering per run would leak.
register_configure_hook(_recorder, inheritable=True)


def no_usage() -> Usage:
    """The usage of a run that called no model."""
    return {"model_calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "model_seconds": 0.0}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def tokens_of(response: LLMResult) -> tuple[int, int]:
    """Prompt and completion tokens the provider reported for one model call."""
    prompt = completion = 0
    found = False
    for generation in (g for batch in response.generations for g in batch):
        message = generation.message if isinstance(generation, ChatGeneration) else None
        if isinstance(message, AIMessage) and message.usage_metadata:
            found = True
            prompt += _count(message.usage_metadata.get("input_tokens"))
            completion += _count(message.usage_metadata.get("output_tokens"))
    if not found:  # older clients report only the raw counts
        raw = (response.llm_output or {}).get("token_usage") or {}
        prompt, completion = _count(raw.get("prompt_tokens")), _count(raw.get("completion_tokens"))
    return prompt, completion


class UsageRecorder(BaseCallbackHandler):
    """Sums calls, tokens and seconds over the model calls it is told about."""

    # Called on the event loop's thread, not handed to an executor (it only adds numbers).
    run_inline = True

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._started: dict[UUID, float] = {}
        self._usage = no_usage()

    def _start(self, run_id: UUID) -> None:
        with self._lock:
            self._started[run_id] = time.monotonic()

    def _end(self, run_id: UUID, prompt: int, completion: int) -> None:
        now = time.monotonic()
        with self._lock:
            started = self._started.pop(run_id, now)
            self._usage["model_calls"] += 1
            self._usage["prompt_tokens"] += prompt
            self._usage["completion_tokens"] += completion
            self._usage["model_seconds"] += now - started

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: Any, *, run_id: UUID, **kwargs: Any
    ) -> None:
        """A chat model was called: start its clock."""
        self._start(run_id)

    def on_llm_start(
        self, serialized: dict[str, Any], prompts: list[str], *, run_id: UUID, **kwargs: Any
    ) -> None:
        """A completion model was called: start its clock."""
        self._start(run_id)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        """A call answered: count it, its tokens and its time."""
        self._end(run_id, *tokens_of(response))

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """A call failed: it still cost a call and the time waited (no tokens reported)."""
        self._end(run_id, 0, 0)

    def summary(self) -> Usage:
        """The totals so far (model time rounded to milliseconds)."""
        with self._lock:
            return {**self._usage, "model_seconds": round(self._usage["model_seconds"], 3)}


@contextmanager
def recording() -> Iterator[UsageRecorder]:
    """Record every model call made inside the block (in this context) on a new recorder."""
    recorder = UsageRecorder()
    token = _recorder.set(recorder)
    try:
        yield recorder
    finally:
        _recorder.reset(token)


Step = TypeVar("Step", bound=Callable[..., Awaitable[dict[str, Any]]])


def records_usage(step: Step) -> Step:
    """Wrap a graph step so its update also carries ``usage``: the model calls it made."""

    @functools.wraps(step)
    async def wrapper(*args: Any, **kwargs: Any) -> dict[str, Any]:
        with recording() as recorder:
            update = await step(*args, **kwargs)
        return {**update, "usage": recorder.summary()}

    return wrapper  # type: ignore[return-value]


def usage_of(state: Any) -> Usage:
    """A state's ``usage`` (zeros when the run recorded none)."""
    return {**no_usage(), **(state.get("usage") or {})}
