"""Step 2, ``extract``: decide what to remember, without writing anything yet.

With no ``model`` configured the offline extractor (:mod:`.offline`) runs;
otherwise langmem's ``create_memory_store_manager`` does, with the chat model
from ``init_chat_model``. Either way the extractor sees a
:class:`~.staging.StagingStore`, so its writes are only *staged* here and
applied by ``commit``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langgraph.config import get_config
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore

from graphs.memory_manager.context import Context, context_of
from graphs.memory_manager.gather import require_store
from graphs.memory_manager.offline import extract_offline
from graphs.memory_manager.staging import StagingStore
from graphs.memory_manager.state import Batch, ProcessedMessage, StagedOp, State
from graphs.memory_manager.usage import records_usage

__all__ = ["OFFLINE", "extract", "extractor_name"]

logger = logging.getLogger(__name__)

OFFLINE = "offline"
_models: dict[tuple[str, float], BaseChatModel] = {}
_models_lock = threading.Lock()
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


def _chat_model(model: str, timeout: float) -> BaseChatModel:
    """The chat model for ``model``, built once per process and timeout."""
    from langchain.chat_models import init_chat_model

    with _models_lock:
        key = (model, timeout)
        if key not in _models:
            # `timeout` is the request timeout of both the OpenAI and Anthropic chat models.
            _models[key] = init_chat_model(model, timeout=timeout)
        return _models[key]


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


def _pydantic_schema(schema: dict[str, Any]) -> Any:
    from dydantic import create_model_from_schema

    json_schema = {
        **schema["parameters"],
        "title": schema["name"],
        "description": schema.get("description", ""),
    }
    return create_model_from_schema(json_schema)


async def _langmem(
    context: Context, batch: Batch, store: BaseStore, config: RunnableConfig
) -> None:
    from langmem import create_memory_store_manager

    model = _chat_model(context.model or "", context.model_timeout)
    messages = _to_langchain(batch["messages"])
    namespace = tuple(batch["namespace"])
    schemas = context.schemas or []
    collections = [_pydantic_schema(s) for s in schemas if s["update_mode"] == "insert"]
    common = {"instructions": context.instructions, "query_limit": context.query_limit}
    if collections or not schemas:
        manager = create_memory_store_manager(
            model,
            schemas=collections or None,
            enable_inserts=context.enable_inserts,
            enable_deletes=context.enable_deletes,
            namespace=namespace,
            store=store,
            **common,
        )
        await manager.ainvoke({"messages": messages}, config=config)
    for schema in (s for s in schemas if s["update_mode"] == "patch"):
        # A profile lives alone in its own sub-namespace; once it exists, only update it.
        profile_ns = (*namespace, schema["name"])
        exists = bool(await store.asearch(profile_ns, limit=1))
        manager = create_memory_store_manager(
            model,
            schemas=[_pydantic_schema(schema)],
            enable_inserts=not exists,
            enable_deletes=False,
            namespace=profile_ns,
            store=store,
            **common,
        )
        await manager.ainvoke({"messages": messages}, config=config)


@records_usage  # adds "usage": the model calls, tokens and time this step spent
async def extract(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Run the extractor over each batch and stage the memory writes it decides on."""
    context = context_of(runtime)
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
    ops: list[StagedOp] = staging.staged
    return {"ops": ops, "extractor": name}
