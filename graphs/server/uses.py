"""The use recorder: which memories the agent's reads return, for forgetting what is unused.

Forgetting's ``forget_unused_days`` (``graphs/memory_manager/forgetting.py``) retires a
memory nobody has read for that long. A memory is *used* when a read over the HTTP store
API returns it: ``GET /store/items`` and ``POST /store/items/search``, which is how an
agent (``executor.search``, langgraph-sdk's ``client.store``, langmem's tools on a remote
store) reads its memories. The graph's own reads (extraction's search, consolidation)
go to the store directly, not through here, so they do not keep a memory alive.

:class:`RecordUses` (a middleware of the mounted app, :mod:`graphs.server.app`) reads
the answer to each such request once it has been sent, and writes one use record per
memory returned (``("reflection_use", *namespace)``, key: the memory's key; inside the
user's prefix like the memory), at most once per memory every
``MEMORY_USE_RECORD_SECONDS`` (3600) in each process: forgetting counts in days, so
an hour's resolution costs a store write per memory and hour at most. It is on only when
``MEMORY_FORGET_UNUSED_DAYS`` is set; a read with the :data:`NOT_A_USE_HEADER` header
(erasure's) is not a use.

Why not the store's own ``refresh_on_read`` TTL: see ``forgetting.py``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from langgraph.store.base import BaseStore, PutOp
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphs.memory_manager.forgetting import tracks_uses
from graphs.server import access
from graphs.server.auth import presented_key
from graphs.server.envvars import env_number
from sdk_client.records import (
    NOT_A_USE_HEADER,
    is_memory_namespace,
    use_namespace,
    use_record,
    user_prefix,
)

__all__ = ["RecordUses", "UseRecorder", "UseSettings", "caller_prefix", "returned_items"]

logger = logging.getLogger(__name__)

_READS = {("GET", "/store/items"), ("POST", "/store/items/search")}
_REMEMBERED = 100_000  # memories whose last write a process remembers before it starts over


@dataclass(frozen=True)
class UseSettings:
    """Whether and how often uses are recorded; read from the server's environment."""

    enabled: bool = False
    """``MEMORY_FORGET_UNUSED_DAYS`` is set: some run may forget what is unused."""

    record_seconds: float = 3600.0
    """``MEMORY_USE_RECORD_SECONDS``: a memory's use is written at most this often."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> UseSettings:
        """Settings from ``MEMORY_FORGET_UNUSED_DAYS`` and ``MEMORY_USE_RECORD_SECONDS``."""
        env = os.environ if env is None else env
        return cls(
            enabled=tracks_uses(env),
            record_seconds=env_number(env, "MEMORY_USE_RECORD_SECONDS", cls.record_seconds),
        )


def returned_items(body: bytes, method: str) -> list[tuple[tuple[str, ...], str]]:
    """The (namespace, key) of each item a store read answered with; none if unreadable."""
    try:
        answer = json.loads(body)
    except ValueError:
        return []
    items = answer.get("items") if method == "POST" and isinstance(answer, dict) else [answer]
    found = []
    for item in items or []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            namespace = item.get("namespace")
            if isinstance(namespace, list) and all(isinstance(n, str) for n in namespace):
                found.append((tuple(namespace), item["key"]))
    return found


def caller_prefix(scope: Scope) -> tuple[str, ...] | None:
    """The store prefix of the request's caller: ``()`` open, ``(identity,)`` keyed.

    None on a keyed server for a caller who is no API-key user (nothing of theirs to record).
    """
    if not access.ACCESS.keyed:
        return ()
    headers = {bytes(k).lower(): bytes(v) for k, v in scope.get("headers") or ()}
    key = presented_key(headers)
    return user_prefix(access.ACCESS.identity_for(key) if key else None, access.ACCESS.identities)


class UseRecorder:
    """Writes use records, each memory's at most once per ``record_seconds`` in this process."""

    def __init__(self, settings: UseSettings, store: Callable[[], Awaitable[BaseStore]]) -> None:
        self._settings = settings
        self._store = store
        self._written: dict[tuple[tuple[str, ...], str], float] = {}

    async def record(
        self,
        items: Iterable[tuple[tuple[str, ...], str]],
        prefix: tuple[str, ...] = (),
        now: float | None = None,
    ) -> int:
        """Record a use of each memory among ``items`` read by the user of ``prefix``.

        Returns how many records were written. The answer's namespaces may or may not
        show the user's prefix (the server adds it on the way in); either is understood.
        """
        now = time.time() if now is None else now
        writes = []
        for shown, key in items:
            memory_ns = shown[len(prefix) :] if shown[: len(prefix)] == prefix else shown
            namespace = (*prefix, *memory_ns)
            if not is_memory_namespace(memory_ns):
                continue  # a record (history, inbox...), not a memory
            last = self._written.get((namespace, key))
            if last is not None and now - last < self._settings.record_seconds:
                continue
            if len(self._written) >= _REMEMBERED:
                self._written.clear()  # at worst one more write per memory
            self._written[(namespace, key)] = now
            writes.append(
                PutOp(use_namespace(memory_ns, prefix), key, dict(use_record(now)), index=False)
            )
        if writes:
            await (await self._store()).abatch(writes)
        return len(writes)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers") or ():
        if bytes(key).lower() == name:
            return bytes(value)
    return None


class RecordUses:
    """ASGI middleware: after a store read is answered, record the uses of what it returned."""

    def __init__(self, app: ASGIApp, recorder: UseRecorder | None = None) -> None:
        self.app = app
        self._recorder = recorder

    def _active(self) -> UseRecorder | None:
        if self._recorder is None:
            settings = UseSettings.from_env()
            if not settings.enabled:
                return None
            from langgraph_api.store import get_store  # type: ignore[import-untyped]

            self._recorder = UseRecorder(settings, get_store)
        return self._recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; read the answer of a store read on its way out."""
        if (
            scope["type"] != "http"
            or (scope["method"], scope["path"].rstrip("/")) not in _READS
            or _header(scope, NOT_A_USE_HEADER.encode()) is not None
            or (recorder := self._active()) is None
            or (prefix := caller_prefix(scope)) is None
        ):
            await self.app(scope, receive, send)
            return
        answer: dict[str, Any] = {"status": 0, "encoded": False, "body": []}

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                headers = {bytes(k).lower() for k, _ in message.get("headers") or ()}
                answer["encoded"] = b"content-encoding" in headers
            elif message["type"] == "http.response.body":
                answer["body"].append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, keep)
        if answer["status"] != 200 or answer["encoded"]:
            return
        try:
            await recorder.record(returned_items(b"".join(answer["body"]), scope["method"]), prefix)
        except Exception:  # a use not recorded only brings its forgetting nearer; log it
            logger.exception("memory-reflect: recording memory uses failed")
