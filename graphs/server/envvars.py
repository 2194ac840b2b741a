"""Numbers from the server's environment, with errors that name the variable.

The sweeper, the redeliverer, the access settings and the embedder read their
settings the same way: empty or unset means the default; anything else must
parse and be at least ``minimum``, or the server refuses to start with a
message like ``MEMORY_SWEEP_INTERVAL_SECONDS='soon': expected a number``.
The graph's per-run settings (:mod:`graphs.memory_manager.context`) parse with
the same functions, raising their own error type (a run's, not the server's).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

__all__ = ["env_int", "env_number", "parse_int", "parse_number"]


def parse_number(
    name: str, raw: str, minimum: float | None = None, error: type[Exception] = ValueError
) -> float:
    """``raw`` (the value of ``name``) as a float >= ``minimum``, else ``error`` naming both."""
    return _parse(name, raw, float, "a number", minimum, error)


def parse_int(
    name: str, raw: str, minimum: int | None = None, error: type[Exception] = ValueError
) -> int:
    """``raw`` (the value of ``name``) as an integer >= ``minimum``, else ``error`` naming both."""
    return int(_parse(name, raw, int, "an integer", minimum, error))


def env_number(env: Mapping[str, str], name: str, default: float, minimum: float = 0) -> float:
    """``env[name]`` as a float >= ``minimum``; ``default`` when unset or empty."""
    raw = env.get(name, "").strip()
    return parse_number(name, raw, minimum) if raw else default


def env_int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    """``env[name]`` as an integer >= ``minimum``; ``default`` when unset or empty."""
    raw = env.get(name, "").strip()
    return parse_int(name, raw, minimum) if raw else default


def _parse(
    name: str,
    raw: str,
    convert: Callable[[str], float],
    expected: str,
    minimum: float | None,
    error: type[Exception],
) -> float:
    try:
        value = convert(raw.strip())
    except ValueError:
        raise error(f"{name}={raw!r}: expected {expected}") from None
    if minimum is not None and value < minimum:
        raise error(f"{name}={raw!r}: expected a number >= {minimum:g}")
    return value
