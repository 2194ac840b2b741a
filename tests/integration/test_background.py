"""Forgetting by policy and consolidation in the background, on a real keyed server.

One server for the module, with API keys (so every record lands under alice's prefix),
the use recorder on and writing every read (``MEMORY_FORGET_UNUSED_DAYS`` set, with no
policy of its own; ``MEMORY_USE_RECORD_SECONDS=0``), the quiet job on with a quiet
period of two seconds, and ages of a second or two, so what is measured in days and
minutes runs in seconds. Memories planted through the store API have no extraction
behind them, so the quiet job leaves their namespaces alone.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph_sdk import get_sync_client

from graphs.server.access import Access, parse_api_keys
from graphs.server.quiet import quiet_thread_id
from sdk_client.contract import memory_text
from tests.server import (
    ALICE_KEY,
    Server,
    keyed_env,
    message,
    quick_executor,
    run_server,
    wait_until,
)

pytestmark = pytest.mark.integration

DAY = 86400.0
WAIT = 60
QUIET_S = 2.0


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    env = keyed_env(
        MEMORY_FORGET_UNUSED_DAYS="0",
        MEMORY_USE_RECORD_SECONDS="0",
        MEMORY_QUIET_MINUTES=str(QUIET_S / 60),
        MEMORY_QUIET_INTERVAL_SECONDS="0.5",
    )
    with run_server(env) as srv:
        yield srv


@pytest.fixture
def namespace() -> tuple[str, ...]:
    return ("memories", f"bg-{uuid.uuid4().hex[:8]}")


def _plant(sdk: Any, namespace: tuple[str, ...], key: str, text: str, kind: str = "Memory") -> None:
    sdk.store.put_item(namespace, key, {"kind": kind, "content": {"content": text}})


def _consolidate(sdk: Any, namespace: tuple[str, ...], **context: Any) -> dict[str, Any]:
    """One consolidation run of ``namespace`` with ``context``, as alice; its output."""
    thread = sdk.threads.create()
    out = sdk.runs.wait(
        thread["thread_id"], "memory_manager",
        input={"messages": [], "consolidate": True},
        context={"namespace": list(namespace), **context},
        raise_error=False,
    )  # fmt: skip
    assert isinstance(out, dict)
    return out


def _keys(sdk: Any, namespace: tuple[str, ...]) -> set[str]:
    return {i["key"] for i in sdk.store.search_items(namespace, limit=100)["items"]}


def test_forgetting_by_age_retires_one_type_into_history_and_undo_brings_it_back(
    server: Server, namespace: tuple[str, ...]
) -> None:
    with get_sync_client(url=server.url, api_key=ALICE_KEY) as sdk:
        _plant(sdk, namespace, "tea", "User likes tea.")
        _plant(sdk, namespace, "home", "User lives in Porto.", kind="Place")
        time.sleep(1.5)
        out = _consolidate(sdk, namespace, forget_after_days={"Memory": 1 / DAY})
        assert out["changes"]["deleted"] == [f"{'/'.join(namespace)}/tea"], out
        assert _keys(sdk, namespace) == {"home"}  # another type, no policy: kept
    with quick_executor(server.url, namespace, api_key=ALICE_KEY) as ex:
        [change] = [c for c in ex.history() if c.cause == "forgetting"]
        assert change.event == "deleted" and change.key == "tea"
        assert memory_text(change.before or {}) == "User likes tea."
        ex.undo(change.id)
        assert {i["key"] for i in ex.search(limit=50)} == {"tea", "home"}


def test_what_the_agent_reads_is_kept_and_what_nobody_reads_is_forgotten(
    server: Server, namespace: tuple[str, ...]
) -> None:
    with get_sync_client(url=server.url, api_key=ALICE_KEY) as sdk:
        _plant(sdk, namespace, "used", "User likes tea.")
        _plant(sdk, namespace, "idle", "User lives in Porto.")
        _plant(sdk, namespace, "found", "User has a cat.")
        # The first run asked to forget what is unused only starts counting: reads before
        # it may have gone unrecorded, so nothing is unused yet.
        out = _consolidate(sdk, namespace, forget_unused_days={"*": 1.5 / DAY})
        assert out["changes"]["deleted"] == [], out
        assert sdk.store.get_item(["reflection_use"], "tracked_since")["value"]["at"] > 0
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:  # the agent keeps reading two of the three
            assert sdk.store.get_item(namespace, "used")["key"] == "used"
            found = sdk.store.search_items(namespace, query="a pet cat", limit=1)["items"]
            assert [i["key"] for i in found] == ["found"]
            time.sleep(0.3)
        # The server recorded the reads as uses, under alice's own prefix.
        uses = sdk.store.search_items(["reflection_use", *namespace], limit=10)["items"]
        assert {i["key"] for i in uses} == {"used", "found"}
        out = _consolidate(sdk, namespace, forget_unused_days={"*": 1.5 / DAY})
        assert out["changes"]["deleted"] == [f"{'/'.join(namespace)}/idle"], out
        assert _keys(sdk, namespace) == {"used", "found"}
        [entry] = sdk.store.search_items(["reflection_history", *namespace], limit=10)["items"]
        assert entry["value"]["cause"] == "forgetting"
        assert "not used for" in entry["value"]["reason"]


def test_forgetting_what_is_unused_refuses_where_no_reads_are_recorded(
    keyed_server: Server, namespace: tuple[str, ...]
) -> None:
    with get_sync_client(url=keyed_server.url, api_key=ALICE_KEY) as sdk:
        _plant(sdk, namespace, "tea", "User likes tea.")
        out = _consolidate(sdk, namespace, forget_unused_days={"*": 1 / DAY})
        assert "MEMORY_FORGET_UNUSED_DAYS" in str(out.get("__error__")), out
        wait_until(lambda: _keys(sdk, namespace) == {"tea"}, 5, what="the memory kept")


@pytest.mark.slow
def test_a_quiet_namespace_is_consolidated_once_and_never_while_extraction_waits(
    server: Server, namespace: tuple[str, ...]
) -> None:
    with quick_executor(server.url, namespace, api_key=ALICE_KEY) as ex:
        ex.submit(message("I live in Porto."), thread_id=f"q-{uuid.uuid4().hex}",
                  after_seconds=0).result(WAIT)  # fmt: skip
        with get_sync_client(url=server.url, api_key=ALICE_KEY) as sdk:
            _plant(sdk, namespace, "twin", "user lives in PORTO")  # a near-duplicate, newer
            # Extraction for the namespace is pending for longer than the quiet period.
            pending = ex.submit(message("I have a cat called Tom."),
                                thread_id=f"q-{uuid.uuid4().hex}", after_seconds=4)  # fmt: skip
            pending.wait_accepted(WAIT)
            activity = ["reflection_activity", *namespace]

            def records() -> dict[str, dict[str, Any]]:
                items = sdk.store.search_items(activity, limit=10)["items"]
                return {i["key"]: i["value"] for i in items}

            time.sleep(QUIET_S + 1.5)  # quiet since the first turn, but work waits for it
            assert "consolidation" not in records() and len(_keys(sdk, namespace)) == 2
            pending.result(WAIT)
            attempt = wait_until(lambda: records().get("consolidation"), WAIT, 0.2,
                                 "the quiet job to start a consolidation")  # fmt: skip
            extracted = records()["extracted"]
            assert attempt["quiet_since"] == extracted["at"]  # the second turn's extraction
            assert attempt["at"] >= extracted["at"] + QUIET_S
            keys = parse_api_keys(str(keyed_env()["MEMORY_API_KEYS"]))
            thread = quiet_thread_id(("alice",), namespace, Access(keys=keys).job_salt)
            wait_until(lambda: sdk.runs.list(thread)[0]["status"] == "success", WAIT, 0.2,
                       "the consolidation run to finish")  # fmt: skip
            porto = [i for i in sdk.store.search_items(namespace, limit=10)["items"]
                     if "porto" in memory_text(i["value"]).lower()]  # fmt: skip
            assert [i["key"] for i in porto] == ["twin"]  # the newer of the two stays
            time.sleep(QUIET_S + 1.5)  # several scans later: still the one run
            assert len(sdk.runs.list(thread)) == 1 and records()["consolidation"] == attempt
        changes = [c for c in ex.history() if c.cause == "consolidation"]
        assert len(changes) == 1 and changes[0].event == "deleted"


@pytest.mark.slow
def test_a_cron_started_consolidation_run_consolidates(
    keyed_server: Server, namespace: tuple[str, ...]
) -> None:
    with get_sync_client(url=keyed_server.url, api_key=ALICE_KEY) as sdk:
        _plant(sdk, namespace, "old", "User likes green tea.")
        _plant(sdk, namespace, "new", "user LIKES green tea")
        _plant(sdk, namespace, "home", "User lives in Oslo.")
        cron = sdk.crons.create("memory_manager", schedule="* * * * *",
                                input={"consolidate": True},
                                context={"namespace": list(namespace)})  # fmt: skip
        try:
            # Crons fire on the minute: at most one minute boundary, plus the scheduler's poll.
            wait_until(lambda: _keys(sdk, namespace) == {"new", "home"}, 90, 1.0,
                       "the cron's consolidation run")  # fmt: skip
        finally:
            sdk.crons.delete(cron["cron_id"])
        [entry] = sdk.store.search_items(["reflection_history", *namespace], limit=10)["items"]
        assert (entry["value"]["key"], entry["value"]["cause"]) == ("old", "consolidation")
