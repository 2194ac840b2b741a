"""Who may use this server: API keys, Studio access and the request-size limit, read once.

The auth handler (:mod:`graphs.server.auth`), the request guard (:mod:`graphs.server.guard`)
and the graph's store scoping (:mod:`graphs.memory_manager.scoped`) all read
:data:`ACCESS`, so they cannot disagree about the mode the server is in.

Modes:

- **Open** (``MEMORY_API_KEYS`` unset or empty): every request is the one local
  user. Meant for ``langgraph dev`` on 127.0.0.1; the server says so loudly at start.
- **Keyed** (``MEMORY_API_KEYS=alice:KEY1,bob:KEY2``): every request needs a key,
  and each identity reaches only its own threads, runs, crons, assistants and
  store namespaces. LangGraph Studio's operator pass (``x-auth-scheme:
  langsmith``, which anyone can send) is refused unless ``MEMORY_STUDIO_ACCESS``
  is on.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from graphs.server.envvars import env_int
from sdk_client.contract import validate_namespace

__all__ = [
    "ACCESS",
    "AS_HEADER",
    "DEFAULT_MAX_BODY_BYTES",
    "INTERNAL_HEADER",
    "INTERNAL_SECRET",
    "KEYS_VAR",
    "MAX_BODY_VAR",
    "OPERATOR",
    "STUDIO_IDENTITY",
    "STUDIO_VAR",
    "Access",
    "UnscopedRunError",
    "parse_api_keys",
]

logger = logging.getLogger(__name__)

KEYS_VAR = "MEMORY_API_KEYS"
STUDIO_VAR = "MEMORY_STUDIO_ACCESS"
MAX_BODY_VAR = "MEMORY_MAX_BODY_BYTES"
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024

OPERATOR = "memory-reflect:operator"
"""Permission of Studio's operator on a keyed server: sees everything, owns nothing."""

STUDIO_IDENTITY = "studio:operator"
"""Identity of Studio's operator. An API-key identity cannot contain ``:``, so none collides."""

INTERNAL_HEADER = "x-memory-reflect-internal"
"""Header carrying :data:`INTERNAL_SECRET` on the server's requests to itself."""

AS_HEADER = "x-memory-reflect-as"
"""With :data:`INTERNAL_HEADER`: the identity the server acts for (a redelivery run's owner)."""

INTERNAL_SECRET = secrets.token_urlsafe(32)
"""Made anew in each server process and never sent off it: the redeliverer's requests go
through the in-process ASGI transport, so only the process itself can present it."""

_MIN_KEY_CHARS = 16
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class UnscopedRunError(PermissionError):
    """A run on a keyed server carries no API-key identity, so it may not touch the store."""


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


def _parse_flag(var: str, raw: str) -> bool:
    low = raw.strip().lower()
    if low in _TRUE | _FALSE:
        return low in _TRUE
    raise ValueError(f"{var}={raw!r}: expected true/false, 1/0, yes/no or on/off")


@dataclass(frozen=True)
class Access:
    """The server's access settings (see the module docstring for the modes)."""

    keys: Mapping[str, str] = field(default_factory=dict)
    """API key -> identity. Empty: open mode."""
    studio: bool = False
    """Keyed mode only: let Studio's ``x-auth-scheme: langsmith`` pass in as operator."""
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    """Largest request body accepted (HTTP 413 above it)."""

    @property
    def keyed(self) -> bool:
        """True when every request needs an API key."""
        return bool(self.keys)

    @property
    def identities(self) -> frozenset[str]:
        """The identities the keys map to."""
        return frozenset(self.keys.values())

    @property
    def job_salt(self) -> str:
        """What the ids of the server jobs' own threads are derived with (a digest of the keys).

        The jobs pick their threads' ids (a scan's claim, a namespace's consolidation), and
        every process of a deployment must pick the same. Thread ids are one space for every
        user, so an id a user could compute is one they could create first, and the job
        would get a conflict on every turn. The keys are what every process shares and no
        caller knows all of. Open mode: any caller may do anything anyway.
        """
        if not self.keys:
            return ""
        return hashlib.sha256("\n".join(sorted(self.keys)).encode()).hexdigest()

    def identity_for(self, presented: str) -> str | None:
        """The identity of a presented key, or None; compares against every key in constant time."""
        found = None
        for key, identity in self.keys.items():
            if hmac.compare_digest(key.encode(), presented.encode()):
                found = identity
        return found

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Access:
        """Read ``MEMORY_API_KEYS``, ``MEMORY_STUDIO_ACCESS`` and ``MEMORY_MAX_BODY_BYTES``."""
        return cls(
            keys=parse_api_keys(environ.get(KEYS_VAR, "")),
            studio=_parse_flag(STUDIO_VAR, environ.get(STUDIO_VAR, "")),
            max_body_bytes=env_int(environ, MAX_BODY_VAR, DEFAULT_MAX_BODY_BYTES, minimum=1024),
        )

    def announce(self) -> None:
        """Say at start-up which mode the server is in; loudly when it is open."""
        if not self.keyed:
            logger.warning(
                "memory-reflect: OPEN MODE (%s is not set): every request is the one local "
                "user, with no key. Bind to 127.0.0.1 only; set %s before exposing this server.",
                KEYS_VAR,
                KEYS_VAR,
            )
        elif self.studio:
            logger.warning(
                "memory-reflect: %s is on: any request with the header 'x-auth-scheme: "
                "langsmith' is let in as Studio's operator and sees every user's data.",
                STUDIO_VAR,
            )
        else:
            logger.info(
                "memory-reflect: API keys for %d identities; Studio's operator pass is off",
                len(self.identities),
            )


ACCESS = Access.from_env()
"""The settings this process runs with. Tests replace it with ``monkeypatch.setattr``."""
