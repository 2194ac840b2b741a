"""Step 2, ``extract``: decide what to remember, without writing anything yet.

With no ``model`` configured the offline extractor (:mod:`.offline`) runs;
otherwise langmem's ``create_memory_store_manager`` does, with the chat model
from ``init_chat_model``. Either way the extractor sees a
:class:`~.staging.StagingStore`, so its writes are only *staged* here and
applied by ``commit``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langgraph.config import get_config
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore

from graphs.memory_manager.consolidate import CONSOLIDATION, consolidate
from graphs.memory_manager.context import Context, context_of
from graphs.memory_manager.extractors import ManagerKey, manager, run_store, with_namespace
from graphs.memory_manager.forgetting import HidingStore, forget, places
from graphs.memory_manager.offline import extract_offline
from graphs.memory_manager.runs import require_store
from graphs.memory_manager.staging import StagingStore
from graphs.memory_manager.state import Batch, ProcessedMessage, StagedOp, State
from graphs.memory_manager.usage import records_usage

__all__ = ["OFFLINE", "extract", "extractor_name"]

logger = logging.getLogger(__name__)

OFFLINE = "offline"
_announced: set[str] = set()


def extractor_name(context: Context) -> str:
    """``"offline"`` or the configured chat model string."""
    return context.model or OFFLINE


def _announce(name: str) -> None:
    # Log once per process and extractor, not once per run.
    if name not in _announced:
        _announced.add(name)
        if name == OFFLINE:
            logger.warning("memory_manager: using the offline rule-based extractor (no model set)")
        else:
            logger.warning("memory_manager: extracting memories with chat model %s", name)


def _to_langchain(messages: list[ProcessedMessage]) -> list[BaseMessage]:
    out: list[BaseMessage] = []
    for m in messages:
        if m["role"] == "user":
            out.append(HumanMessage(content=m["content"], id=m["id"]))
        elif m["role"] == "system":
            out.append(SystemMessage(content=m["content"], id=m["id"]))
        elif m["role"] == "assistant":
            out.append(AIMessage(content=m["content"], id=m["id"]))
        else:  # a tool result without its call: show it to the model as context
            out.append(AIMessage(content=f"[tool result] {m['content']}", id=m["id"]))
    return out


async def _langmem(
    context: Context, batch: Batch, store: BaseStore, config: RunnableConfig
) -> None:
    messages = _to_langchain(batch["messages"])
    namespace = tuple(batch["namespace"])
    schemas = context.schemas or []
    collections = [s for s in schemas if s["update_mode"] == "insert"]
    key = ManagerKey(
        model=context.model or "",
        timeout=context.model_timeout,
        instructions=context.instructions,
        query_limit=context.query_limit,
        schemas=ManagerKey.schemas_of(collections),
        enable_inserts=context.enable_inserts,
        enable_deletes=context.enable_deletes,
        namespace_depth=len(namespace),
    )
    with run_store(store):
        if collections or not schemas:
            await manager(key).ainvoke(
                {"messages": messages}, config=with_namespace(config, namespace)
            )
        for schema in (s for s in schemas if s["update_mode"] == "patch"):
            # A profile lives alone in its own sub-namespace; once it exists, only update it.
            profile_ns = (*namespace, schema["name"])
            exists = bool(await store.asearch(profile_ns, limit=1))
            profile = replace(
                key,
                schemas=ManagerKey.schemas_of([schema]),
                enable_inserts=not exists,
                enable_deletes=False,
                namespace_depth=len(profile_ns),
            )
            await manager(profile).ainvoke(
                {"messages": messages}, config=with_namespace(config, profile_ns)
            )


@records_usage  # adds "usage": the model calls, tokens and time this step spent
async def extract(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Run the extractor over each batch and stage the memory writes it decides on."""
    context = context_of(runtime)
    if state.get("consolidate"):
        store = require_store(runtime)
        ops: list[StagedOp] = []
        for batch in state.get("batches") or []:
            namespace = tuple(batch["namespace"])
            # Forgetting first: consolidation then merges and bounds what stays.
            forgotten = await forget(context, namespace, store)
            ops += forgotten
            ops += await consolidate(context, namespace, HidingStore(store, places(forgotten)))
        return {"ops": ops, "extractor": CONSOLIDATION}
    name = extractor_name(context)
    _announce(name)
    staging = StagingStore(require_store(runtime))
    for batch in state.get("batches") or []:
        if not batch["messages"]:
            continue
        if context.model is None:
            await extract_offline(context, batch, staging)
        else:
            await _langmem(context, batch, staging, get_config())
    return {"ops": staging.staged, "extractor": name}
