"""The graph's side of per-user isolation: the same namespace prefix the auth handler applies.

With API keys configured (``graphs/server/access.py``), a keyed user's HTTP store
requests are rewritten to ``(identity, *namespace)``. The graph's runs reach
the store directly, not over HTTP, so they wrap it in :class:`ScopedStore`
with the identity the server stamped on the run (``langgraph_auth_user_id``:
the caller for a run, the creator for a cron's runs; callers cannot set it);
inbox, receipts and memories then line up with what that user's client reads
and writes, and nothing else is reachable. A run on a keyed server without an
API-key identity (Studio's operator, a cron whose creator's key was removed)
fails before it touches the store.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from langchain_core.embeddings import Embeddings
from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchOp,
)

from graphs.memory_manager.embeddings import index_embeddings
from graphs.server import access
from graphs.server.access import UnscopedRunError
from sdk_client.records import user_prefix

__all__ = ["ScopedStore", "store_prefix"]


def store_prefix(configurable: Mapping[str, Any]) -> tuple[str, ...]:
    """The namespace prefix for the run's user: ``()`` in open mode.

    Raises:
        UnscopedRunError: keys are on and the run carries no API-key identity.
    """
    identity = configurable.get("langgraph_auth_user_id")
    prefix = user_prefix(identity, access.ACCESS.identities)
    if prefix is not None:
        return prefix
    raise UnscopedRunError(
        f"this server has {access.KEYS_VAR} set, and this run carries no API-key identity "
        f"(it has {identity!r}); it was stopped before touching the store. Create runs and "
        "crons with a user's API key (Studio: add the x-api-key header to the connection)."
    )


class ScopedStore(BaseStore):
    """Prefixes every namespace going in and strips it from everything coming out."""

    def __init__(self, inner: BaseStore, prefix: tuple[str, ...]) -> None:
        self._inner = inner
        self._prefix = prefix

    @property
    def embeddings(self) -> Embeddings | None:
        """The embedder of the inner store's semantic index (None without one)."""
        return index_embeddings(self._inner)

    def _in(self, op: Op) -> Op:
        p = self._prefix
        if isinstance(op, GetOp | PutOp):
            return op._replace(namespace=(*p, *op.namespace))
        if isinstance(op, SearchOp):
            return op._replace(namespace_prefix=(*p, *op.namespace_prefix))
        if isinstance(op, ListNamespacesOp):
            conditions = tuple(
                c._replace(path=(*p, *c.path)) if c.match_type == "prefix" else c
                for c in op.match_conditions or ()
            )
            # Without a prefix condition the listing would cover every user's namespaces.
            return op._replace(
                match_conditions=(MatchCondition("prefix", p), *conditions),
                max_depth=None if op.max_depth is None else op.max_depth + len(p),
            )
        raise TypeError(f"unknown store operation {type(op).__name__}")

    def _out(self, result: Any) -> Any:
        n = len(self._prefix)
        if isinstance(result, Item):
            # A copy: an in-memory store may hand out the very objects it holds.
            clone = copy.copy(result)
            clone.namespace = result.namespace[n:]
            return clone
        if isinstance(result, list):
            return [self._out(r) for r in result]
        if isinstance(result, tuple):  # a namespace from a listing
            return result[n:]
        return result

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` on the inner store inside the prefix."""
        return [self._out(r) for r in self._inner.batch([self._in(op) for op in ops])]

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` on the inner store inside the prefix."""
        results = await self._inner.abatch([self._in(op) for op in ops])
        return [self._out(r) for r in results]
