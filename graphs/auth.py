"""Per-user isolation on the LangGraph server: API keys → identities → owned threads and stores.

Mounted through ``langgraph.json``'s ``auth.path``. Two modes:

- **Open** (``MEMORY_API_KEYS`` unset or empty, the default for ``langgraph dev``
  on 127.0.0.1): every request is the one local user and nothing is filtered,
  exactly as without an auth handler.
- **Keyed** (``MEMORY_API_KEYS=alice:KEY1,bob:KEY2``): a request must carry one of
  the keys as ``x-api-key`` (what ``ReflectionExecutor(api_key=...)`` and
  ``LANGGRAPH_API_KEY`` send) or ``Authorization: Bearer KEY``; anything else is
  refused with 401. The key's identity then owns what it creates:

  * threads (and so their runs) carry ``metadata.owner``; every read, search,
    update, delete, run creation (so supersession) and cancellation is filtered
    by it, so another user's thread answers 404;
  * every store namespace is prefixed with the identity on the way in, so
    ``("memories", "alice")`` sent by bob is bob's ``("bob", "memories", "alice")``.
    The graph applies the same prefix to its own store access (see
    :mod:`graphs.memory_manager.scoped`), so runs read and write exactly the user's namespaces,
    and a run cannot write into another user's memories whatever its config says.

LangGraph Studio's users (``StudioUser``, which ``langgraph dev`` lets in without
a key) are operators and see everything, unprefixed, as the platform intends.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Mapping
from typing import Any

from langgraph_sdk import Auth

from graphs.memory_manager.scoped import SCOPED
from sdk_client.contract import validate_namespace

__all__ = ["auth", "parse_api_keys"]

logger = logging.getLogger(__name__)

KEYS_VAR = "MEMORY_API_KEYS"
_MIN_KEY_CHARS = 16


def parse_api_keys(raw: str) -> dict[str, str]:
    """Parse ``identity:key,identity:key`` into ``{key: identity}``; ValueError if malformed."""
    keys: dict[str, str] = {}
    for n, pair in enumerate(p.strip() for p in raw.split(",") if p.strip()):
        identity, sep, key = pair.partition(":")
        identity, key = identity.strip(), key.strip()
        where = f"{KEYS_VAR} entry {n + 1}"
        if not sep or not identity or not key:
            raise ValueError(f"{where}: expected identity:key, got {pair[:40]!r}")
        validate_namespace([identity], f"{where} identity")
        if len(key) < _MIN_KEY_CHARS:
            raise ValueError(f"{where}: the key for {identity!r} is shorter than 16 characters")
        if key in keys:
            raise ValueError(f"{where}: the key for {identity!r} is also {keys[key]!r}'s")
        keys[key] = identity
    return keys


_KEYS = parse_api_keys(os.environ.get(KEYS_VAR, ""))
if not _KEYS:
    logger.warning("memory-reflect: %s is not set; every request is the one local user", KEYS_VAR)

auth = Auth()


def _presented_key(headers: Mapping[bytes, bytes]) -> str | None:
    if key := headers.get(b"x-api-key"):
        return key.decode(errors="replace")
    scheme, _, token = headers.get(b"authorization", b"").decode(errors="replace").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@auth.authenticate
async def authenticate(headers: Mapping[bytes, bytes]) -> Auth.types.MinimalUserDict:
    """Map the request's API key to its identity (open mode: the local user)."""
    if not _KEYS:
        return {"identity": "local", "permissions": []}
    presented = _presented_key(headers)
    if presented is None:
        raise Auth.exceptions.HTTPException(
            status_code=401, detail="missing API key: send x-api-key or Authorization: Bearer"
        )
    for key, identity in _KEYS.items():
        # Compare against every key in constant time, so timing says nothing about them.
        if hmac.compare_digest(key.encode(), presented.encode()):
            return {"identity": identity, "permissions": [SCOPED]}
    raise Auth.exceptions.HTTPException(status_code=401, detail="unknown API key")


def _owner(ctx: Auth.types.AuthContext) -> str | None:
    """The identity that owns what this request touches; None = unrestricted."""
    if SCOPED not in ctx.permissions:
        return None  # open mode, or a Studio user
    return str(ctx.user.identity)


@auth.on.store()
async def scope_store(ctx: Auth.types.AuthContext, value: dict[str, Any]) -> None:
    """Prefix every namespace with the caller's identity."""
    if (owner := _owner(ctx)) is not None:
        value["namespace"] = (owner, *(value.get("namespace") or ()))


@auth.on.assistants.read
async def read_assistants(ctx: Auth.types.AuthContext, value: Any) -> None:
    """Every user may read the deployed assistants (runs need them)."""


@auth.on.assistants.search
async def search_assistants(ctx: Auth.types.AuthContext, value: Any) -> None:
    """Every user may list the deployed assistants."""


@auth.on
async def owned_by_caller(
    ctx: Auth.types.AuthContext, value: dict[str, Any]
) -> Auth.types.FilterType | None:
    """Everything else (threads, runs, crons, assistant writes) belongs to its creator."""
    if (owner := _owner(ctx)) is None:
        return None
    if ctx.action in ("create", "create_run") and isinstance(value, dict):
        # In place: the server keeps using the dict it passed (a run's metadata also
        # becomes the metadata of a thread the run creates with if_not_exists="create").
        if value.get("metadata") is None:
            value["metadata"] = {}
        value["metadata"]["owner"] = owner
    return {"owner": owner}
