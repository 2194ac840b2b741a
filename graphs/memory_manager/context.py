"""Runtime configuration of the memory-manager graph.

One typed dataclass, passed to the graph as ``context_schema``; LangGraph
Studio renders each field's description as a form.

Precedence, highest first (tested in ``tests/unit/graphs/memory_manager/test_context.py``):

1. the run's own context or ``config["configurable"]`` (the server copies
   ``configurable`` into context, so langmem's executor, which sends
   ``configurable.namespace``, lands here too);
2. the assistant's saved context/config (the server merges it under the run's);
3. the server's environment (``MEMORY_*`` variables, read when a run starts,
   so an explicit value, even ``0``, ``""`` or ``false``, always wins);
4. the default written in the field's description.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypeVar

from langgraph.runtime import Runtime
from pydantic import ConfigDict, with_config

from graphs.memory_manager.prompts import DEFAULT_INSTRUCTIONS
from graphs.server.envvars import parse_int, parse_number
from sdk_client.contract import parse_namespace, validate_namespace
from sdk_client.errors import InvalidPayloadError, InvalidPayloadTypeError
from sdk_client.records import DEFAULT_HISTORY_DAYS

__all__ = ["ANY_TYPE", "DEFAULT_NAMESPACE", "Context", "context_of", "parse_policy"]

T = TypeVar("T")

DEFAULT_NAMESPACE = ("memories",)

ANY_TYPE = "*"
"""In a forgetting policy, the memory type that stands for every type not named."""

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _env(var: str, default: T, parse: Callable[[str, str], T]) -> T:
    """``var`` from the server's environment, parsed; ``default`` when it is unset."""
    raw = os.environ.get(var)
    return default if raw is None else parse(var, raw)


def _as_str(var: str, raw: str) -> str:
    return raw


def _as_bool(var: str, raw: str) -> bool:
    low = raw.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise InvalidPayloadError(f"{var}={raw!r}: expected true/false, 1/0, yes/no or on/off")


def _as_int(var: str, raw: str) -> int:
    return parse_int(var, raw, error=InvalidPayloadError)


def _as_float(var: str, raw: str) -> float:
    return parse_number(var, raw, error=InvalidPayloadError)


def _as_schemas(var: str, raw: str) -> list[dict[str, Any]] | None:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as err:
        raise InvalidPayloadError(f"{var}: not valid JSON ({err})") from None
    if not isinstance(value, list):
        raise InvalidPayloadTypeError(f"{var}: expected a JSON list of schemas")
    return value


# One default factory per field: the env var that supplies it, else the built-in default.


def _model() -> str | None:
    # An empty MEMORY_MODEL means "no model": the offline extractor.
    return _env("MEMORY_MODEL", None, lambda _var, raw: raw.strip() or None)


def default_namespace() -> list[str]:
    """The namespace template of a run that names none: ``MEMORY_NAMESPACE``, else ``memories``.

    Server-side capture reads it too, to bind a default assistant's turns to it.
    """
    # A JSON list, or the friendlier comma-separated form: memories,{user_id}
    return _env(
        "MEMORY_NAMESPACE",
        list(DEFAULT_NAMESPACE),
        lambda var, raw: list(parse_namespace(raw, var, separator=",")),
    )


def _instructions() -> str:
    return _env("MEMORY_INSTRUCTIONS", DEFAULT_INSTRUCTIONS, _as_str)


def _schemas() -> list[dict[str, Any]] | None:
    return _env("MEMORY_SCHEMAS", None, _as_schemas)


def _enable_inserts() -> bool:
    return _env("MEMORY_ENABLE_INSERTS", True, _as_bool)


def _enable_deletes() -> bool:
    return _env("MEMORY_ENABLE_DELETES", False, _as_bool)


def _query_limit() -> int:
    return _env("MEMORY_QUERY_LIMIT", 5, _as_int)


def _dedup_threshold() -> float:
    return _env("MEMORY_DEDUP_THRESHOLD", 0.85, _as_float)


def _model_timeout() -> float:
    return _env("MEMORY_MODEL_TIMEOUT", 60.0, _as_float)


def _history_days() -> float:
    return _env("MEMORY_HISTORY_DAYS", DEFAULT_HISTORY_DAYS, _as_float)


def _max_memories() -> int:
    return _env("MEMORY_MAX_MEMORIES", 0, _as_int)


def _consolidation_max_share() -> float:
    return _env("MEMORY_CONSOLIDATION_MAX_SHARE", 0.5, _as_float)


def parse_policy(var: str, raw: str) -> dict[str, float]:
    """A forgetting policy from the environment: memory type -> days.

    A JSON object (``{"Memory": 30, "*": 365}``), the same as ``Memory=30,*=365``, or a
    bare number for every type (``30`` is ``*=30``). Empty: no policy.
    """
    text = raw.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as err:
            raise InvalidPayloadError(f"{var}: not valid JSON ({err})") from None
        if not isinstance(value, dict):
            raise InvalidPayloadTypeError(f"{var}: expected a JSON object of type -> days")
        return value
    if "=" not in text:
        return {ANY_TYPE: _as_float(var, text)}
    policy: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        kind, sep, days = part.partition("=")
        if not sep or not kind.strip():
            raise InvalidPayloadError(f"{var}: expected type=days pairs, got {part!r}")
        policy[kind.strip()] = _as_float(var, days)
    return policy


def _forget_after_days() -> dict[str, float]:
    return _env("MEMORY_FORGET_AFTER_DAYS", {}, parse_policy)


def _forget_unused_days() -> dict[str, float]:
    return _env("MEMORY_FORGET_UNUSED_DAYS", {}, parse_policy)


def _show_env_defaults(schema: dict[str, Any]) -> None:
    """Put each field's default into the JSON schema, for Studio's form.

    Called when the schema is built, not at import: on a server,
    ``/assistants/{id}/schemas`` shows the default its environment gives. A
    malformed env value shows no default (a run fails on it, naming the variable).
    """
    properties = schema.get("properties", {})
    for f in fields(Context):
        prop = properties.get(f.name)
        if prop is None or not callable(f.default_factory):
            continue
        try:
            prop["default"] = f.default_factory()
        except (InvalidPayloadError, ValueError):
            prop.pop("default", None)


@with_config(ConfigDict(json_schema_extra=_show_env_defaults))
@dataclass(kw_only=True)
class Context:
    """How the memory manager extracts and stores memories for a run."""

    model: str | None = field(
        default_factory=_model,
        metadata={
            "description": "Chat model that extracts memories, as an init_chat_model string "
            "(e.g. 'openai:gpt-4.1-mini', 'anthropic:claude-sonnet-4-5'). Empty = the offline, "
            "rule-based extractor, which needs no key. Env: MEMORY_MODEL.",
        },
    )
    namespace: list[str] = field(
        default_factory=default_namespace,
        metadata={
            "description": "Store namespace memories are written to, as a list of labels. "
            "'{name}' placeholders are filled from the run's configurable values, e.g. "
            "['memories', '{user_id}']. Default ['memories']. Env: MEMORY_NAMESPACE "
            "(comma-separated or a JSON list).",
        },
    )
    instructions: str = field(
        default_factory=_instructions,
        metadata={
            "description": "Instructions for the chat model on what to remember and how. "
            "Default: see graphs/memory_manager/prompts.py. Env: MEMORY_INSTRUCTIONS.",
        },
    )
    schemas: list[dict[str, Any]] | None = field(
        default_factory=_schemas,
        metadata={
            "description": "Optional memory types, each {'name', 'description', 'parameters' "
            "(JSON schema), 'update_mode': 'insert' | 'patch'} (memory-template's "
            "memory_types). insert = a collection of items; patch = one profile document "
            "updated in place. Used by the model and by the offline extractor (see "
            "memory_types.py). Unset = free-text memories. Env: MEMORY_SCHEMAS (JSON).",
        },
    )
    enable_inserts: bool = field(
        default_factory=_enable_inserts,
        metadata={
            "description": "Let the model create new memories (not only update existing "
            "ones). Default true. Env: MEMORY_ENABLE_INSERTS.",
        },
    )
    enable_deletes: bool = field(
        default_factory=_enable_deletes,
        metadata={
            "description": "Let the model delete memories it finds wrong or redundant. "
            "Default false. Env: MEMORY_ENABLE_DELETES.",
        },
    )
    query_limit: int = field(
        default_factory=_query_limit,
        metadata={
            "description": "How many existing memories to show the model for updating. "
            "Default 5. Env: MEMORY_QUERY_LIMIT.",
        },
    )
    dedup_threshold: float = field(
        default_factory=_dedup_threshold,
        metadata={
            "description": "Offline extractor with a semantic store index: a new fact whose "
            "cosine similarity to a memory already stored (or found earlier in the same run) "
            "is at least this is a restatement and is not stored again. 0..1; 1 = only "
            "identical wording. Default 0.85. Env: MEMORY_DEDUP_THRESHOLD.",
        },
    )
    model_timeout: float = field(
        default_factory=_model_timeout,
        metadata={
            "description": "Seconds one request to the chat model may take before it is "
            "abandoned; the provider's client retries (OpenAI: twice), then the run fails and "
            "its turns stay in the inbox for the next run. Without it a hung endpoint holds "
            "its run indefinitely. Default 60. Env: MEMORY_MODEL_TIMEOUT.",
        },
    )
    history_days: float = field(
        default_factory=_history_days,
        metadata={
            "description": "Days each entry of a memory's history (every change, its before "
            "and after, and what caused it) is kept, through the store's TTL; 0 keeps it for "
            "ever. Default 90. Env: MEMORY_HISTORY_DAYS.",
        },
    )
    max_memories: int = field(
        default_factory=_max_memories,
        metadata={
            "description": "Consolidation keeps a namespace at most this many memories: "
            "near-duplicates are merged and contradicted facts retired first, then the least "
            "recently updated are retired "
            "(into history, undoable). 0 = no bound. Default 0. Env: MEMORY_MAX_MEMORIES.",
        },
    )
    consolidation_max_share: float = field(
        default_factory=_consolidation_max_share,
        metadata={
            "description": "Consolidation stops, changing nothing, rather than retire more "
            "than this share of a namespace's memories at once. 0..1. Default 0.5. Env: "
            "MEMORY_CONSOLIDATION_MAX_SHARE.",
        },
    )
    forget_after_days: dict[str, float] = field(
        default_factory=_forget_after_days,
        metadata={
            "description": "Forgetting by age, per memory type: days after which a memory of "
            "that type ('Memory' for free text, else its schema's name; '*' for every type "
            "not named) that has not been written since (created, updated, restored) is "
            "retired by the next consolidation run, into history, undoable. Empty or 0 = "
            "never. Default {}. Env: MEMORY_FORGET_AFTER_DAYS (JSON, or Memory=30,*=365).",
        },
    )
    forget_unused_days: dict[str, float] = field(
        default_factory=_forget_unused_days,
        metadata={
            "description": "Forgetting what is not used, per memory type: days after which a "
            "memory that no search or get over the store API has returned (and that has not "
            "been written since) is retired by the next consolidation run, into history, "
            "undoable. Needs the server to record uses, which it does when "
            "MEMORY_FORGET_UNUSED_DAYS is set. Default {}. Env: MEMORY_FORGET_UNUSED_DAYS.",
        },
    )

    def __post_init__(self) -> None:
        """Check every field, so a bad value fails the run at its start, naming the field."""
        if self.model is not None and not isinstance(self.model, str):
            raise InvalidPayloadTypeError("context.model: expected a string or null")
        if self.model == "":
            self.model = None
        self.namespace = list(validate_namespace(self.namespace, "context.namespace"))
        if not isinstance(self.instructions, str):
            raise InvalidPayloadTypeError("context.instructions: expected a string")
        for name in ("enable_inserts", "enable_deletes"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidPayloadTypeError(f"context.{name}: expected true or false")
        self.query_limit = int(_number("query_limit", self.query_limit, 1, None, "an integer"))
        self.dedup_threshold = _number("dedup_threshold", self.dedup_threshold, 0, 1)
        self.model_timeout = _number("model_timeout", self.model_timeout, 0, None, exclusive=True)
        self.history_days = _number("history_days", self.history_days, 0, None)
        self.max_memories = int(_number("max_memories", self.max_memories, 0, None, "an integer"))
        self.consolidation_max_share = _number(
            "consolidation_max_share", self.consolidation_max_share, 0, 1
        )
        if self.schemas is not None:
            self.schemas = [_check_schema(s, i) for i, s in enumerate(self.schemas)]
        self.forget_after_days = _policy("forget_after_days", self.forget_after_days)
        self.forget_unused_days = _policy("forget_unused_days", self.forget_unused_days)


def _policy(name: str, value: Any) -> dict[str, float]:
    """A forgetting policy: memory type -> days >= 0 (0: never)."""
    if not isinstance(value, dict):
        raise InvalidPayloadTypeError(
            f"context.{name}: expected an object of memory type -> days, got {value!r}"
        )
    policy = {}
    for kind, days in value.items():
        if not isinstance(kind, str) or not kind:
            raise InvalidPayloadError(f"context.{name}: a memory type must be a name")
        policy[kind] = _number(f"{name}[{kind!r}]", days, 0, None)
    return policy


def _number(
    name: str,
    value: Any,
    low: float,
    high: float | None,
    kind: str = "a number",
    *,
    exclusive: bool = False,
) -> float:
    """``value`` as a float from ``low`` (excluded if ``exclusive``) to ``high``, or a clear error.

    ``kind="an integer"`` also refuses fractions. Booleans are refused: JSON's
    ``true`` is not a number here.
    """
    want = int if kind == "an integer" else int | float
    if isinstance(value, bool) or not isinstance(value, want):
        raise InvalidPayloadTypeError(f"context.{name}: expected {kind}, got {value!r}")
    above = value > low if exclusive else value >= low
    if not above or (high is not None and value > high):
        bounds = (
            f"{'>' if exclusive else '>='} {low:g}" if high is None else f"from {low:g} to {high:g}"
        )
        raise InvalidPayloadError(f"context.{name}: expected {kind} {bounds}, got {value!r}")
    return float(value)


_UPDATE_MODES: tuple[Literal["insert", "patch"], ...] = ("insert", "patch")


def _check_schema(schema: Any, index: int) -> dict[str, Any]:
    where = f"context.schemas[{index}]"
    if not isinstance(schema, dict):
        raise InvalidPayloadTypeError(f"{where}: expected an object")
    name = schema.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        raise InvalidPayloadError(f"{where}.name: expected an identifier-like string, got {name!r}")
    params = schema.get("parameters")
    if not isinstance(params, dict) or params.get("type", "object") != "object":
        raise InvalidPayloadError(f"{where}.parameters: expected a JSON schema of type 'object'")
    mode = schema.get("update_mode", "insert")
    if mode not in _UPDATE_MODES:
        raise InvalidPayloadError(
            f"{where}.update_mode: expected 'insert' or 'patch', got {mode!r}"
        )
    return {**schema, "update_mode": mode}


def context_of(runtime: Runtime[Context]) -> Context:
    """The run's context; a run given none gets every field from env or default."""
    ctx = runtime.context
    if ctx is None:
        return Context()
    if isinstance(ctx, dict):  # in-process callers may pass a plain dict
        return Context(**ctx)
    return ctx
