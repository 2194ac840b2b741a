"""Per-user isolation on the LangGraph server: API keys → identities → owned resources.

Mounted through ``langgraph.json``'s ``auth.path`` (with ``disable_studio_auth``,
so no header skips :func:`authenticate`). The mode comes from
:data:`graphs.server.access.ACCESS`:

- **Open**: every request is the one local user and nothing is filtered.
- **Keyed**: a request must carry a key as ``x-api-key`` (what
  ``ReflectionExecutor(api_key=...)`` and ``LANGGRAPH_API_KEY`` send) or
  ``Authorization: Bearer KEY``; anything else is refused with 401. The key's
  identity then owns what it creates:

  * threads (so their runs), crons and assistants carry ``metadata.owner``, set
    by the server alone: a request that names another owner is refused (403);
    every read, search, update, delete, run creation (so supersession) and
    cancellation is filtered by it, so another user's resource answers 404.
    The deployed graphs' own assistants (``created_by: system``) can be read
    and run by everyone and changed by no one;
  * every store namespace is prefixed with the identity on the way in, so
    ``("memories", "alice")`` sent by bob is bob's ``("bob", "memories", "alice")``.
    The graph applies the same prefix from the identity the server stamps on
    each run (cron runs included), see :mod:`graphs.memory_manager.scoped`;
  * ``langgraph_auth_*`` values in a cron's or assistant's config or context are
    refused, so nobody can pose as another identity inside a run (for a run's
    own config the server overwrites them from the request).

  With ``MEMORY_STUDIO_ACCESS`` on, Studio's ``x-auth-scheme: langsmith`` (which
  ``langgraph dev`` trusts without a credential) makes the request Studio's
  operator: it sees everything, unprefixed; runs it starts have no user identity
  and so touch no store.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any, cast

from langgraph_sdk import Auth
from starlette.authentication import BaseUser

from graphs.server import access
from graphs.server.access import OPERATOR, STUDIO_IDENTITY
from sdk_client.records import owner_prefix

__all__ = ["ServerUser", "auth", "authenticate", "presented_key"]

auth = Auth()

_OWNER = "owner"
_SYSTEM = {"created_by": "system"}
_RESERVED_CONFIG_PREFIX = "langgraph_auth"
_WRITES = ("create", "update", "create_run")


class ServerUser(dict[str, Any], BaseUser):
    """The user :func:`authenticate` returns: a plain JSON object that is also a ``BaseUser``.

    Why not the ``{"identity": ...}`` dict the SDK's examples return: the server wraps
    such a dict in its ``ProxyUser``, which it then stores in each run's config. The
    in-memory runtime keeps the object; the Postgres runtime writes the run to a JSONB
    column with the standard ``json`` module, which cannot encode a ``ProxyUser``, so
    every run creation failed there ("Object of type ProxyUser is not JSON
    serializable"). A ``BaseUser`` is taken as it is, and a ``dict`` encodes as one;
    the worker reads it back as a dict and wraps that itself.
    """

    def __init__(self, identity: str, permissions: list[str] | None = None) -> None:
        super().__init__(identity=identity, permissions=list(permissions or ()))

    @property
    def identity(self) -> str:
        """The API key's identity (or the local user, Studio's operator, the server's own)."""
        return str(self["identity"])

    @property
    def is_authenticated(self) -> bool:
        """Always: an unauthenticated request is refused before a user exists."""
        return True

    @property
    def display_name(self) -> str:
        """The identity, as the server shows it."""
        return self.identity


def presented_key(headers: Mapping[bytes, bytes]) -> str | None:
    """The API key a request carries: ``x-api-key``, else ``Authorization: Bearer``."""
    if key := headers.get(b"x-api-key"):
        return key.decode(errors="replace")
    scheme, _, token = headers.get(b"authorization", b"").decode(errors="replace").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@auth.authenticate
async def authenticate(headers: Mapping[bytes, bytes]) -> ServerUser:
    """Map the request's API key to its identity (open mode: the local user)."""
    settings = access.ACCESS
    if (internal := _internal_identity(headers)) is not None:
        return ServerUser(internal)
    if not settings.keyed:
        return ServerUser("local")
    presented = presented_key(headers)
    if presented is None:
        if settings.studio and headers.get(b"x-auth-scheme") == b"langsmith":
            return ServerUser(STUDIO_IDENTITY, [OPERATOR])
        raise Auth.exceptions.HTTPException(
            status_code=401, detail="missing API key: send x-api-key or Authorization: Bearer"
        )
    identity = settings.identity_for(presented)
    if identity is None:
        raise Auth.exceptions.HTTPException(status_code=401, detail="unknown API key")
    return ServerUser(identity)


def _internal_identity(headers: Mapping[bytes, bytes]) -> str | None:
    """The identity the server's own request acts for (the redeliverer), or None."""
    secret = headers.get(access.INTERNAL_HEADER.encode())
    if secret is None or not hmac.compare_digest(secret, access.INTERNAL_SECRET.encode()):
        return None
    identity = headers.get(access.AS_HEADER.encode(), b"").decode(errors="replace")
    settings = access.ACCESS
    if not settings.keyed:
        return "local"
    if identity not in settings.identities:
        raise Auth.exceptions.HTTPException(status_code=401, detail="unknown identity")
    return identity


def _owner(ctx: Auth.types.AuthContext) -> str | None:
    """The identity that owns what this request touches; None = unrestricted."""
    settings = access.ACCESS
    if not settings.keyed or OPERATOR in ctx.permissions:
        return None
    identity = str(ctx.user.identity)
    if identity not in settings.identities:
        # A run created for a cron whose creator's key was since removed, for instance.
        raise Auth.exceptions.HTTPException(status_code=403, detail="no API-key identity")
    return identity


def _refuse(detail: str) -> Auth.exceptions.HTTPException:
    return Auth.exceptions.HTTPException(status_code=403, detail=detail)


def _check_metadata(metadata: Any, owner: str, *, assistant: bool = False) -> None:
    if not isinstance(metadata, Mapping):
        return
    if _OWNER in metadata and metadata[_OWNER] != owner:
        raise _refuse("metadata.owner is set by the server; leave it out")
    if assistant and "created_by" in metadata:
        raise _refuse("metadata.created_by is set by the server; leave it out")


def _check_config(where: str, *sources: Any) -> None:
    """Refuse ``langgraph_auth_*`` keys a caller put into a config or context."""
    for source in sources:
        if not isinstance(source, Mapping):
            continue
        values = source.get("configurable") if "configurable" in source else source
        for key in values if isinstance(values, Mapping) else ():
            if str(key).startswith(_RESERVED_CONFIG_PREFIX):
                raise _refuse(f"{where}: {key!r} is set by the server; leave it out")


def _stamp(value: dict[str, Any], owner: str) -> None:
    # In place: the server keeps using the dict it passed (a run's metadata also
    # becomes the metadata of a thread the run creates with if_not_exists="create").
    if value.get("metadata") is None:
        value["metadata"] = {}
    value["metadata"][_OWNER] = owner


@auth.on.store()
async def scope_store(ctx: Auth.types.AuthContext, value: dict[str, Any]) -> None:
    """Prefix every namespace with the caller's identity."""
    if (owner := _owner(ctx)) is not None:
        value["namespace"] = (*owner_prefix(owner), *(value.get("namespace") or ()))


@auth.on.assistants
async def owned_assistants(
    ctx: Auth.types.AuthContext, value: dict[str, Any]
) -> Auth.types.FilterType | None:
    """A user's own assistants, plus the deployed graphs' (read and run only)."""
    if (owner := _owner(ctx)) is None:
        return None
    if ctx.action in _WRITES:
        _check_metadata(value.get("metadata"), owner, assistant=True)
        _check_config("assistant", value.get("config"), value.get("context"))
    if ctx.action == "create":
        _stamp(value, owner)
    if ctx.action in ("read", "search"):
        # FilterType's annotation predates "$or", which the servers support.
        return cast(Auth.types.FilterType, {"$or": [{_OWNER: owner}, _SYSTEM]})
    return {_OWNER: owner}


@auth.on.crons
async def owned_crons(
    ctx: Auth.types.AuthContext, value: dict[str, Any]
) -> Auth.types.FilterType | None:
    """A cron belongs to its creator; its payload may not pose as anyone."""
    if (owner := _owner(ctx)) is None:
        return None
    payload = value.get("payload") or {}
    if ctx.action in _WRITES and isinstance(payload, Mapping):
        _check_metadata(payload.get("metadata"), owner)
        _check_config("cron payload", payload.get("config"), payload.get("context"))
    if ctx.action in _WRITES:
        _check_metadata(value.get("metadata"), owner)
    if ctx.action == "create":
        _stamp(value, owner)
    return {_OWNER: owner}


@auth.on
async def owned_by_caller(
    ctx: Auth.types.AuthContext, value: dict[str, Any]
) -> Auth.types.FilterType | None:
    """Threads and their runs belong to their creator."""
    if (owner := _owner(ctx)) is None:
        return None
    if isinstance(value, dict) and ctx.action in _WRITES:
        # A run's langgraph_auth_* values: the server has just set them from this request.
        _check_metadata(value.get("metadata"), owner)
        if ctx.action in ("create", "create_run"):
            _stamp(value, owner)
    return {_OWNER: owner}
