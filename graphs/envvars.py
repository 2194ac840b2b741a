"""Numbers from the server's environment, with errors that name the variable.

The sweeper, the redeliverer and the access settings read their settings the
same way: empty or unset means the default; anything else must parse and be
at least ``minimum``, or the server refuses to start with a message like
``MEMORY_SWEEP_INTERVAL_SECONDS='soon': expected a number``.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["env_int", "env_number"]


def env_number(env: Mapping[str, str], name: str, default: float, minimum: float = 0) -> float:
    """``env[name]`` as a float >= ``minimum``; ``default`` when unset or empty."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected a number") from None
    return _at_least(name, raw, value, minimum)


def env_int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    """``env[name]`` as an integer >= ``minimum``; ``default`` when unset or empty."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected an integer") from None
    return int(_at_least(name, raw, value, minimum))


def _at_least(name: str, raw: str, value: float, minimum: float) -> float:
    if value < minimum:
        raise ValueError(f"{name}={raw!r}: expected a number >= {minimum:g}")
    return value
