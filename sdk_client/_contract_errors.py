"""The errors the wire contract raises, in a leaf module the graph can import alone.

``sdk_client.contract`` is imported by the server's graph as well as by the
client; it must not load the client's executors, or even the rest of the
error tree. :mod:`sdk_client.errors` re-exports these classes into the full
tree, so ``except ReflectError`` still catches every error the package raises.
"""

from __future__ import annotations

__all__ = ["InvalidPayloadError", "InvalidPayloadTypeError", "ReflectError"]


class ReflectError(Exception):
    """Root of every exception memory-reflect raises on purpose."""


class InvalidPayloadError(ReflectError, ValueError):
    """A payload, namespace or argument is malformed; the message names the field."""


class InvalidPayloadTypeError(InvalidPayloadError, TypeError):
    """A payload field has the wrong type; the message names the field and the type expected."""


# Shown (and pickled) under their public home, as they were before this leaf existed.
for _cls in (ReflectError, InvalidPayloadError, InvalidPayloadTypeError):
    _cls.__module__ = "sdk_client.errors"
del _cls
