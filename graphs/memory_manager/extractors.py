"""The LLM path's extractors, built once per distinct configuration and reused by every run.

Building them is most of the LLM path's own CPU: langmem's
``create_memory_store_manager`` makes its tools, and on every call its memory
manager asks trustcall's ``create_extractor`` for a new extractor, which renders each
memory type's pydantic JSON schema again (~55 ms a run measured). Here:

- :func:`chat_model`: one chat model per (model string, timeout);
- :func:`memory_type`: one pydantic class per memory-type schema (by its JSON);
- :func:`manager`: one langmem manager per :class:`ManagerKey` (and chat model
  object), which holds every argument the manager is built from, so two runs share a
  manager only if they would have built the same one. Its store is the run's own
  (:func:`run_store`);
- :func:`cached_create_extractor`: trustcall's extractors, by their arguments,
  installed into langmem by :func:`install`.

Every cache is bounded: a configuration that changes with each run cannot grow them.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.store.base import BaseStore, Op, Result, SearchOp

__all__ = [
    "ManagerKey",
    "cached_create_extractor",
    "chat_model",
    "install",
    "manager",
    "memory_type",
    "run_store",
    "with_namespace",
]

_models: dict[tuple[str, float], BaseChatModel] = {}
_models_lock = threading.Lock()


def chat_model(model: str, timeout: float) -> BaseChatModel:
    """The chat model for ``model``, built once per process and timeout."""
    from langchain.chat_models import init_chat_model

    with _models_lock:
        key = (model, timeout)
        if key not in _models:
            # `timeout` is the request timeout of both the OpenAI and Anthropic chat models.
            _models[key] = init_chat_model(model, timeout=timeout)
        return _models[key]


def memory_type(schema: dict[str, Any]) -> Any:
    """The pydantic class of a memory-type schema (``context.schemas`` item), one per schema."""
    return _memory_type(json.dumps(schema, sort_keys=True))


@functools.lru_cache(maxsize=256)
def _memory_type(schema_json: str) -> Any:
    from dydantic import create_model_from_schema

    schema = json.loads(schema_json)
    json_schema = {
        **schema["parameters"],
        "title": schema["name"],
        "description": schema.get("description", ""),
    }
    return create_model_from_schema(json_schema)


@dataclass
class _Run:
    """What the shared managers see of the run being executed."""

    store: BaseStore
    filled: set[tuple[str, ...]] = field(default_factory=set)
    """Namespaces this run found holding an item: their searches need no emptiness check."""


_run_store: contextvars.ContextVar[_Run] = contextvars.ContextVar("memory_run_store")


class _RunStore(BaseStore):
    """The store of the run being executed: lets runs share a manager built with one store.

    langmem searches for related memories with a query of the conversation's text
    (~90 tokens), whose embedding is most of an LLM-path run's CPU (~27 ms of ~48 ms
    measured). In a namespace that holds nothing (a user's first turn) that search
    finds nothing whatever the query: it is answered without embedding it.
    """

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` on the current run's store."""
        return _run_store.get().store.batch(ops)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` on the current run's store; a query search of an empty namespace is []."""
        run = _run_store.get()
        ops = list(ops)
        empty = await _empty_query_searches(run, ops)
        asked = [op for i, op in enumerate(ops) if i not in empty]
        answers = iter(await run.store.abatch(asked) if asked else [])
        return [[] if i in empty else next(answers) for i in range(len(ops))]


async def _empty_query_searches(run: _Run, ops: Sequence[Op]) -> set[int]:
    """Indices of the query searches in ``ops`` whose namespace holds no item.

    A namespace found holding an item is not asked again in the same run (a returning
    user's searches go straight to the store): at worst, after a staged delete, a
    search is embedded that would have found nothing anyway.
    """
    searches = {
        i: op.namespace_prefix for i, op in enumerate(ops) if isinstance(op, SearchOp) and op.query
    }
    prefixes = [p for p in dict.fromkeys(searches.values()) if p not in run.filled]
    if not prefixes:
        return set()
    # One item is enough to know; no query, so nothing is embedded.
    found = await run.store.abatch([SearchOp(prefix, limit=1) for prefix in prefixes])
    run.filled.update(prefix for prefix, items in zip(prefixes, found, strict=True) if items)
    return {i for i, prefix in searches.items() if prefix in prefixes and prefix not in run.filled}


_RUN_STORE = _RunStore()


@contextlib.contextmanager
def run_store(store: BaseStore) -> Iterator[None]:
    """Within the block, managers from :func:`manager` read and write ``store``."""
    token = _run_store.set(_Run(store))
    try:
        yield
    finally:
        _run_store.reset(token)


@dataclass(frozen=True)
class ManagerKey:
    """Everything a langmem manager is built from: equal keys, interchangeable managers."""

    model: str
    timeout: float
    instructions: str
    query_limit: int
    schemas: tuple[str, ...]
    """Memory-type schemas as sorted JSON; empty = langmem's free-text ``Memory``."""
    enable_inserts: bool
    enable_deletes: bool
    namespace_depth: int
    """How many labels the namespace has; each call brings them (:func:`with_namespace`)."""

    @staticmethod
    def schemas_of(schemas: Sequence[dict[str, Any]]) -> tuple[str, ...]:
        """``schemas`` in the key's form."""
        return tuple(json.dumps(s, sort_keys=True) for s in schemas)


_managers: dict[ManagerKey, tuple[BaseChatModel, Any]] = {}
_managers_lock = threading.Lock()
_CACHE_MAX = 256


def manager(key: ManagerKey) -> Any:
    """The langmem memory-store manager for ``key``; use it inside :func:`run_store`."""
    install()
    llm = chat_model(key.model, key.timeout)
    with _managers_lock:
        found = _managers.get(key)
        if found is not None and found[0] is llm:
            return found[1]
    built = _build_manager(key, llm)
    with _managers_lock:
        _bounded_put(_managers, key, (llm, built))
    return built


def _build_manager(key: ManagerKey, llm: BaseChatModel) -> Any:
    """Only ``key`` (and the model it names) decides what is built: the key is complete."""
    from langmem import create_memory_store_manager

    return create_memory_store_manager(
        llm,
        schemas=[_memory_type(s) for s in key.schemas] or None,
        instructions=key.instructions,
        query_limit=key.query_limit,
        enable_inserts=key.enable_inserts,
        enable_deletes=key.enable_deletes,
        namespace=tuple(f"{{{_LABEL}{i}}}" for i in range(key.namespace_depth)),
        store=_RUN_STORE,
    )


_LABEL = "memory_namespace_"


def with_namespace(config: RunnableConfig, namespace: Sequence[str]) -> RunnableConfig:
    """``config`` for a call of a :func:`manager` that reads and writes in ``namespace``.

    A manager is shared by every namespace of its depth (users' namespaces differ in a
    label); langmem fills its namespace template from the call's configurable values.
    """
    labels = {f"{_LABEL}{i}": label for i, label in enumerate(namespace)}
    return {**config, "configurable": {**config.get("configurable", {}), **labels}}


def _bounded_put(cache: dict[Any, Any], key: Any, value: Any) -> None:
    # Oldest entry out first: a configuration that changes with every run cannot grow it.
    if key not in cache and len(cache) >= _CACHE_MAX:
        cache.pop(next(iter(cache)))
    cache[key] = value


_extractors: dict[tuple[Any, ...], tuple[Any, Any]] = {}
_extractors_lock = threading.Lock()


def cached_create_extractor(llm: Any, *, tools: Sequence[Any], **options: Any) -> Any:
    """Trustcall's ``create_extractor``, built once per model object, tools and options.

    Only tools that are classes (langmem's are pydantic classes) are keyed; anything
    else is built afresh, as before.
    """
    from trustcall import create_extractor

    hashable_options = all(isinstance(v, str | bool | None) for v in options.values())
    if not all(isinstance(t, type) for t in tools) or not hashable_options:
        return create_extractor(llm, tools=tools, **options)
    key = (id(llm), tuple(tools), tuple(sorted(options.items())))
    with _extractors_lock:
        found = _extractors.get(key)
        if found is not None and found[0] is llm:
            return found[1]
    extractor = create_extractor(llm, tools=tools, **options)
    with _extractors_lock:
        # The model is kept alive with it, so its id cannot be reused by another.
        _bounded_put(_extractors, key, (llm, extractor))
    return extractor


_installed = False


def install() -> None:
    """Make langmem's memory managers use :func:`cached_create_extractor` (once per process).

    langmem calls ``create_extractor`` by its module-level name on every call of a
    manager; that name is replaced. A langmem without it is left as it is.
    """
    global _installed
    if _installed:
        return
    from langmem.knowledge import extraction

    if hasattr(extraction, "create_extractor"):
        extraction.create_extractor = cached_create_extractor
    _installed = True
