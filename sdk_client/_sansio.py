"""Flows without I/O, and the two drivers that carry out what they ask for.

A *flow* is a generator that holds one multi-request decision (send a group,
check a thread, cancel ...). It yields *steps*, descriptions of I/O (call the
langgraph-sdk client, sleep, wait for a Future), and receives each step's
answer, or has its exception thrown in at the ``yield``. Its return value is
the flow's result. This is httpx's ``Auth.auth_flow`` shape: the decision is
written once (:mod:`sdk_client._flows`), and :func:`run_sync` and
:func:`run_async` only do what is yielded, with or without ``await``.
"""

from __future__ import annotations

import asyncio
import operator
import time
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, TypeVar

from sdk_client.types import SubmissionFuture

__all__ = ["Call", "Flow", "Sleep", "Step", "WaitForFuture", "run_async", "run_sync"]

T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """Call a method of the langgraph-sdk client; the answer is what it returns.

    ``Call("runs.get", (thread_id, run_id))`` is ``client.runs.get(thread_id, run_id)``
    on the sync client and ``await client.runs.get(thread_id, run_id)`` on the async one.
    """

    method: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Sleep:
    """Pause the flow (a retry's backoff); the answer is ``None``."""

    seconds: float


@dataclass(frozen=True)
class WaitForFuture:
    """Wait up to ``timeout`` seconds for a Future.

    ``until="accepted"``: as ``fut.wait_accepted(timeout)``, which raises if it
    times out or the submission was never accepted; the answer is ``None``.
    ``until="resolved"``: the answer is True if the Future resolved in time.
    """

    future: SubmissionFuture
    timeout: float | None
    until: Literal["accepted", "resolved"]


Step: TypeAlias = Call | Sleep | WaitForFuture
Flow: TypeAlias = Generator[Step, Any, T]


@dataclass(frozen=True)
class _Done:
    """The flow ended with ``value``."""

    value: Any


def _resume(flow: Flow[Any], answer: Any = None, error: Exception | None = None) -> Step | _Done:
    """Hand the last step's answer (or exception) to the flow; its next step, or its end."""
    try:
        return flow.send(answer) if error is None else flow.throw(error)
    except StopIteration as done:
        return _Done(done.value)


def _method(client: Any, call: Call) -> Any:
    if client is None:
        raise TypeError(f"{call.method}: this flow was driven without a client")
    return operator.attrgetter(call.method)(client)


def run_sync(flow: Flow[T], client: Any = None) -> T:
    """Drive ``flow`` to its end on a sync langgraph-sdk client; return its result."""
    with closing(flow):
        step = _resume(flow)
        while not isinstance(step, _Done):
            try:
                answer = _do_sync(step, client)
            except Exception as err:  # the flow decides what a failure means
                step = _resume(flow, error=err)
            else:
                step = _resume(flow, answer)
        return step.value  # type: ignore[no-any-return]


def _do_sync(step: Step, client: Any) -> Any:
    if isinstance(step, Call):
        return _method(client, step)(*step.args, **step.kwargs)
    if isinstance(step, Sleep):
        return time.sleep(step.seconds)
    if step.until == "accepted":
        return step.future.wait_accepted(step.timeout)
    try:
        step.future.exception(step.timeout)
    except TimeoutError:
        return False
    return True


async def run_async(flow: Flow[T], client: Any = None) -> T:
    """Drive ``flow`` to its end on an async langgraph-sdk client; return its result."""
    with closing(flow):
        step = _resume(flow)
        while not isinstance(step, _Done):
            step = await _step_async(flow, step, client)
        return step.value  # type: ignore[no-any-return]


async def _step_async(flow: Flow[Any], step: Step, client: Any) -> Step | _Done:
    """Do one step with ``await``; the flow's next one."""
    try:
        answer = await _do_async(step, client)
    except Exception as err:  # the flow decides what a failure means
        return _resume(flow, error=err)
    return _resume(flow, answer)


async def _do_async(step: Step, client: Any) -> Any:
    if isinstance(step, Call):
        return await _method(client, step)(*step.args, **step.kwargs)
    if isinstance(step, Sleep):
        return await asyncio.sleep(step.seconds)
    if step.until == "accepted":
        return await step.future.wait_accepted_async(step.timeout)
    done, _ = await asyncio.wait([asyncio.wrap_future(step.future)], timeout=step.timeout)
    return bool(done)
