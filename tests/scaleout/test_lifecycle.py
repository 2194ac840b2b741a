"""A memory's life on two processes: the quiet job's one consolidation, undo, and uses.

A keyed cluster on the offline extractor with the quiet job on (a namespace is quiet 2 s
after its last extraction; whichever process claims a turn scans, every 0.5 s) and the
use recorder on (every read recorded). What it shows on the multi-process engine: the
quiet job starts one consolidation for a quiet namespace whichever process scans; the
change is in history on either process and undone from the other; the reads alice makes
on either process are recorded as uses under her own prefix; bob reaches none of it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph_sdk import get_sync_client

from deploy.local_cluster import Cluster
from graphs.server.access import Access, parse_api_keys
from graphs.server.quiet import quiet_thread_id
from tests.scaleout.conftest import keyed_cluster, make_executor
from tests.server import ALICE_KEY, BOB_KEY, keyed_env, message, wait_until

pytestmark = pytest.mark.scaleout

QUIET_S = 2.0
WAIT = 90
ENV = keyed_env(
    MEMORY_FORGET_UNUSED_DAYS="0",
    MEMORY_USE_RECORD_SECONDS="0",
    MEMORY_QUIET_MINUTES=str(QUIET_S / 60),
    MEMORY_QUIET_INTERVAL_SECONDS="0.5",
)


@pytest.fixture(scope="module")
def life() -> Iterator[Cluster]:
    with keyed_cluster("lifecycle", ENV) as c:
        yield c


def _texts(sdk: Any, namespace: tuple[str, ...]) -> dict[str, str]:
    items = sdk.store.search_items(namespace, limit=50)["items"]
    return {i["key"]: i["value"]["content"]["content"] for i in items}


def test_one_consolidation_across_processes_undone_from_the_other_and_uses_kept_apart(
    life: Cluster,
) -> None:
    user = f"life-{uuid.uuid4().hex[:6]}"
    namespace = ("memories", user)
    config = {"configurable": {"user_id": user}}
    with (
        make_executor(life.nodes[0].url) as a,
        make_executor(life.nodes[1].url) as b,
        get_sync_client(url=life.nodes[0].url, api_key=ALICE_KEY) as sdk_a,
        get_sync_client(url=life.nodes[1].url, api_key=ALICE_KEY) as sdk_b,
        get_sync_client(url=life.nodes[1].url, api_key=BOB_KEY) as bob,
    ):
        a.submit(message("I live in Porto."), config, after_seconds=0,
                 thread_id=f"life-1-{user}").result(WAIT)  # fmt: skip
        # A near-duplicate written on the other process, newer: consolidation keeps it.
        sdk_b.store.put_item(namespace, "twin", {"kind": "Memory",
                                                  "content": {"content": "user lives in PORTO"}})  # fmt: skip
        [original] = [k for k, t in _texts(sdk_a, namespace).items() if k != "twin"]

        thread = quiet_thread_id(
            ("alice",), namespace, Access(keys=parse_api_keys(str(ENV["MEMORY_API_KEYS"]))).job_salt
        )
        wait_until(lambda: _texts(sdk_a, namespace).keys() == {"twin"}, WAIT, 0.5,
                   "the quiet job's consolidation")  # fmt: skip
        wait_until(lambda: sdk_b.runs.list(thread)[0]["status"] == "success", WAIT, 0.5,
                   "the consolidation run to finish")  # fmt: skip
        time.sleep(QUIET_S + 2)  # several scans later, on both processes: still one run
        assert [len(sdk.runs.list(thread)) for sdk in (sdk_a, sdk_b)] == [1, 1]

        [change] = [c for c in b.history(namespace=namespace) if c.cause == "consolidation"]
        assert (change.key, change.event) == (original, "deleted")
        restored = a.undo(change.id, namespace=namespace)
        assert restored.event == "restored"
        assert _texts(sdk_b, namespace)[original] == "User lives in Porto."

        # Alice's reads on either process are uses, under her prefix, where bob reaches none.
        assert sdk_a.store.get_item(namespace, "twin")["key"] == "twin"
        assert sdk_b.store.get_item(namespace, original)["key"] == original
        uses = ["reflection_use", *namespace]
        wait_until(lambda: {i["key"] for i in sdk_a.store.search_items(uses)["items"]}
                   == {"twin", original}, WAIT, 0.5, "both reads recorded")  # fmt: skip
        for label in ("reflection_use", "reflection_history", "reflection_activity"):
            assert bob.store.search_items([label, *namespace])["items"] == [], label
        assert bob.store.search_items(list(namespace))["items"] == []
