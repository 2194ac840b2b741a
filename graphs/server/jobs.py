"""The server's background jobs: the idle-thread sweeper, the redeliverer, the quiet job.

Both run in every server process, next to the server, and talk to it through
``langgraph_sdk.get_client()``'s in-process transport, so no port, URL or credential
is involved; on a cluster each claims its turns (:mod:`graphs.server.lease`), so one
process does each turn. The redeliverer and the quiet job (consolidation once a
namespace goes quiet, :mod:`graphs.server.quiet`) create runs as their owner
(:func:`runs_as`), so the server stamps the owner's identity on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from graphs.server import access
from graphs.server.quiet import QuietJob, QuietSettings, run_quiet
from graphs.server.redelivery import Redeliverer, RedeliverySettings, run_redeliverer
from graphs.server.sweeper import SweepSettings, run_sweeper

__all__ = ["runs_as", "start_jobs", "stop_jobs"]

logger = logging.getLogger(__name__)


def start_jobs() -> list[asyncio.Task[None]]:
    """Start the jobs the environment turns on (all but the quiet job are on by default)."""
    tasks = (_sweeper_task(), _redelivery_task(), _quiet_task())
    return [t for t in tasks if t is not None]


async def stop_jobs(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel the jobs and wait until they have stopped."""
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _sweeper_task() -> asyncio.Task[None] | None:
    settings = SweepSettings.from_env()
    if not settings.enabled:
        logger.info("memory-reflect: thread sweeper off (MEMORY_THREAD_TTL_MINUTES=0)")
        return None
    logger.info(
        "memory-reflect: deleting threads idle > %s min, checking every %s s",
        settings.thread_ttl_minutes,
        settings.interval_seconds,
    )
    return asyncio.create_task(run_sweeper(get_client(), settings), name="memory-sweeper")


def _redelivery_task() -> asyncio.Task[None] | None:
    settings = RedeliverySettings.from_env()
    if not settings.enabled:
        logger.info("memory-reflect: redelivery off (MEMORY_REDELIVERY_ATTEMPTS=0)")
        return None
    logger.info(
        "memory-reflect: redelivering stranded work after %s s, up to %d attempts",
        settings.grace_seconds,
        settings.attempts,
    )
    redeliverer = Redeliverer(get_client(), runs_as, settings)
    return asyncio.create_task(run_redeliverer(redeliverer, settings), name="memory-redelivery")


def _quiet_task() -> asyncio.Task[None] | None:
    settings = QuietSettings.from_env()
    if not settings.enabled:
        logger.info("memory-reflect: quiet consolidation off (MEMORY_QUIET_MINUTES=0)")
        return None
    logger.info(
        "memory-reflect: consolidating namespaces quiet for %s min, checking every %s s",
        settings.quiet_minutes,
        settings.interval_seconds,
    )
    job = QuietJob(get_client(), runs_as, settings)
    return asyncio.create_task(run_quiet(job, settings), name="memory-quiet")


_AS_CLIENTS: dict[str | None, LangGraphClient] = {}


async def runs_as(identity: str | None) -> LangGraphClient:
    """An in-process client whose requests authenticate as ``identity`` (the redeliverer's).

    Unlike ``get_client()``'s loopback, which skips authentication, these requests pass
    through it, so the server stamps the owner's identity on the runs they create.
    """
    if identity not in _AS_CLIENTS:
        from langgraph_api.server import app as server  # type: ignore[import-untyped]

        headers = {access.INTERNAL_HEADER: access.INTERNAL_SECRET}
        if identity is not None:
            headers[access.AS_HEADER] = identity
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=server),
            base_url="http://memory-reflect.internal",
            headers=headers,
            timeout=httpx.Timeout(30.0),
        )
        _AS_CLIENTS[identity] = LangGraphClient(http)
    return _AS_CLIENTS[identity]
