"""The quiet job's decision: once per quiet period, never while extraction waits."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from graphs.server.access import Access, parse_api_keys
from graphs.server.quiet import QuietJob, QuietSettings, QuietView, is_due, quiet_thread_id
from sdk_client.records import (
    CONSOLIDATION_KEY,
    EXTRACTED_KEY,
    activity_namespace,
    consolidation_attempt,
)

ON = QuietSettings(quiet_minutes=10)
T = 1_000_000.0


def _view(extracted_at: float, attempt_for: float | None = None, *, at: float = 0.0,
          waiting: bool = False) -> QuietView:  # fmt: skip
    attempt = None if attempt_for is None else consolidation_attempt(["m"], attempt_for, at, "r")
    return QuietView(extracted_at=extracted_at, attempt=attempt, waiting=waiting)


def test_a_namespace_is_due_once_it_has_been_quiet_long_enough():
    assert not is_due(_view(T), T + 599, ON)
    assert is_due(_view(T), T + 600, ON)
    assert not is_due(_view(T), T + 10_000, QuietSettings())  # off by default


def test_never_while_extraction_for_it_waits():
    assert not is_due(_view(T, waiting=True), T + 10_000, ON)


def test_at_most_once_per_quiet_period():
    done = _view(T, attempt_for=T, at=T + 600)
    assert not is_due(done, T + 100_000, ON)  # already consolidated since that extraction
    newer = _view(T + 5_000, attempt_for=T, at=T + 600)
    assert not is_due(newer, T + 5_100, ON)  # a new extraction: a new quiet period begins
    assert is_due(newer, T + 5_600, ON)


def test_with_a_repeat_it_comes_back_without_a_new_extraction():
    repeat = QuietSettings(quiet_minutes=10, repeat_hours=24)
    done = _view(T, attempt_for=T, at=T + 600)
    assert not is_due(done, T + 600 + 86_399, repeat)
    assert is_due(done, T + 600 + 86_400, repeat)


def test_settings_come_from_the_environment():
    env = {"MEMORY_QUIET_MINUTES": "30", "MEMORY_QUIET_INTERVAL_SECONDS": "5",
           "MEMORY_QUIET_REPEAT_HOURS": "24"}  # fmt: skip
    assert QuietSettings.from_env(env) == QuietSettings(30, 5, 24)
    assert not QuietSettings.from_env({}).enabled
    with pytest.raises(ValueError, match="MEMORY_QUIET_MINUTES"):
        QuietSettings.from_env({"MEMORY_QUIET_MINUTES": "-1"})
    with pytest.raises(ValueError, match="MEMORY_QUIET_INTERVAL_SECONDS.*>= 0.5"):
        QuietSettings.from_env({"MEMORY_QUIET_INTERVAL_SECONDS": "0"})  # no slots, or a spin


def test_each_users_namespace_has_its_own_thread():
    ids = {quiet_thread_id(p, ns) for p in [(), ("alice",), ("bob",)]
           for ns in [("m", "a"), ("m",), ("a", "m")]}  # fmt: skip
    assert len(ids) == 9 and quiet_thread_id(("a",), ("m",)) == quiet_thread_id(("a",), ("m",))
    assert quiet_thread_id(("a",), ("b/c",)) != quiet_thread_id(("a",), ("b", "c"))


def test_no_user_can_compute_the_threads_of_a_keyed_server():
    salt = Access(keys=parse_api_keys(f"alice:{'a' * 16}")).job_salt
    assert salt and salt == Access(keys=parse_api_keys(f"alice:{'a' * 16}")).job_salt
    assert salt != Access(keys=parse_api_keys(f"alice:{'b' * 16}")).job_salt
    assert Access().job_salt == ""  # open mode: every caller may do anything anyway
    assert quiet_thread_id(("alice",), ("m",), salt) != quiet_thread_id(("alice",), ("m",), "")


class _Store:
    """The loopback client's store: items by namespace, searched by prefix, puts recorded."""

    def __init__(self, items: list[tuple[tuple[str, ...], str, Any]]) -> None:
        self.items = [{"namespace": list(ns), "key": k, "value": v} for ns, k, v in items]
        self.puts: list[tuple[tuple[str, ...], str]] = []

    async def search_items(self, namespace, limit, offset):
        found = [i for i in self.items if tuple(i["namespace"][: len(namespace)]) == namespace]
        return {"items": found[offset : offset + limit]}

    async def put_item(self, namespace, key, value, index=None):
        self.puts.append((tuple(namespace), key))


async def test_one_users_bad_records_or_failed_start_stop_no_one_elses(use_keys):
    use_keys(f"alice:{'a' * 16},bob:{'b' * 16}")
    quiet = T - 3600  # an hour ago: due for ON's ten minutes
    store = _Store([
        (activity_namespace(("m", "bad"), ("alice",)), EXTRACTED_KEY, {"at": "nope"}),
        (activity_namespace(("m", "odd"), ("alice",)), CONSOLIDATION_KEY, {"at": 1}),
        (activity_namespace(("m", "odd"), ("alice",)), EXTRACTED_KEY, {"at": quiet}),
        (activity_namespace(("m", "ok"), ("alice",)), EXTRACTED_KEY, {"at": quiet}),
        (activity_namespace(("m", "fails"), ("bob",)), EXTRACTED_KEY, {"at": quiet - 1}),
        (activity_namespace(("m", "ok"), ("bob",)), EXTRACTED_KEY, {"at": quiet}),
        (activity_namespace(("m", "x"), ("carol",)), EXTRACTED_KEY, {"at": quiet}),  # no key
    ])  # fmt: skip
    created: list[tuple[str | None, str]] = []

    async def runs_as(identity):
        async def create(thread_id, assistant, **options):
            namespace = options["context"]["namespace"]
            if namespace == ["m", "fails"]:
                raise RuntimeError("the server said no")
            created.append((identity, "/".join(namespace)))
            return {"run_id": f"r{len(created)}"}

        return SimpleNamespace(runs=SimpleNamespace(create=create))

    job = QuietJob(SimpleNamespace(store=store), runs_as, ON)
    assert await job.scan_once(T) == 2
    assert created == [("alice", "m/ok"), ("bob", "m/ok")]  # not m/bad, m/odd, carol's
    assert sorted(store.puts) == [
        (activity_namespace(("m", "ok"), ("alice",)), CONSOLIDATION_KEY),
        (activity_namespace(("m", "ok"), ("bob",)), CONSOLIDATION_KEY),
    ]
