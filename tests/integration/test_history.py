"""A memory's history on a real keyed server: changes, what caused them, undo, and isolation."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from sdk_client import HistoryNotFoundError, ReflectionExecutor, RetryPolicy
from sdk_client.cli import EXIT_CODES, cli
from sdk_client.contract import memory_text
from tests.conftest import ALICE_KEY, BOB_KEY
from tests.server import Server

pytestmark = pytest.mark.integration

WAIT = 60


@pytest.fixture
def namespace() -> tuple[str, ...]:
    return ("memories", f"history-{uuid.uuid4().hex[:8]}")


def _executor(server: Server, namespace: tuple[str, ...], key: str) -> ReflectionExecutor:
    return ReflectionExecutor(
        "memory_manager",
        namespace,
        url=server.url,
        api_key=key,
        poll_interval=0.2,
        retry=RetryPolicy(initial_delay=0.05),
    )


@pytest.fixture
def alice(keyed_server: Server, namespace: tuple[str, ...]) -> Iterator[ReflectionExecutor]:
    with _executor(keyed_server, namespace, ALICE_KEY) as ex:
        yield ex


def _say(ex: ReflectionExecutor, text: str) -> None:
    payload = {"messages": [{"role": "user", "content": text}]}
    ex.submit(payload, thread_id=f"history-{uuid.uuid4().hex}", after_seconds=0).result(WAIT)


def _texts(ex: ReflectionExecutor) -> list[str]:
    return [memory_text(item["value"]) for item in ex.search(limit=50)]


def test_a_changed_fact_replaces_the_old_which_history_keeps_and_undo_restores(
    alice: ReflectionExecutor, keyed_server: Server, namespace: tuple[str, ...]
) -> None:
    _say(alice, "I live in Porto.")
    _say(alice, "I moved to Lisbon.")
    [home] = alice.search()
    assert "Lisbon" in memory_text(home["value"]) and not any("Porto" in t for t in _texts(alice))

    updated, created = alice.history(home["key"])
    assert (updated.event, created.event) == ("updated", "created")
    assert "Porto" in memory_text(updated.before or {}) and updated.after == home["value"]
    assert updated.run_id and updated.submission_ids and updated.message_ids
    assert updated.namespace == namespace and updated.at >= created.at

    restored = alice.undo(updated.id)
    assert (restored.event, restored.restores) == ("restored", updated.id)
    assert any("Porto" in t for t in _texts(alice)) and not any(
        "Lisbon" in t for t in _texts(alice)
    )
    assert [c.event for c in alice.history(home["key"])] == ["restored", "updated", "created"]
    alice.undo(restored.id)  # the undo is a change of its own: undo it in turn
    assert any("Lisbon" in t for t in _texts(alice))

    with pytest.raises(HistoryNotFoundError, match="no change"):
        alice.undo("not-a-change")
    # Another user reads none of it, and cannot undo it.
    with _executor(keyed_server, namespace, BOB_KEY) as bob:
        assert bob.history() == [] and bob.search() == []
        with pytest.raises(HistoryNotFoundError):
            bob.undo(updated.id)


def test_the_cli_shows_history_and_a_delete_it_makes_can_be_undone(
    alice: ReflectionExecutor, keyed_server: Server, namespace: tuple[str, ...]
) -> None:
    _say(alice, "I have a dog called Rex.")
    [memory] = alice.search()
    ns = "/".join(namespace)
    runner = CliRunner(env={"LANGGRAPH_API_KEY": ALICE_KEY})

    def run(*args: str, code: int = 0) -> str:
        res = runner.invoke(cli, ["--url", keyed_server.url, *args])
        assert res.exit_code == code, res.output
        return res.output

    deleted = run("memories", "delete", memory["key"], "-n", ns, "-y")
    change_id = deleted.split("undo ")[1].split()[0]
    assert alice.search() == []
    changes = json.loads(run("history", "-n", ns, "--json"))
    assert (changes[0]["event"], changes[0]["id"]) == ("deleted", change_id)
    assert [c["event"] for c in changes] == ["deleted", "created"]
    assert "restored" in run("undo", change_id, "-n", ns)
    assert [m["value"] for m in alice.search()] == [memory["value"]]
    assert "Rex" in run("memories", "history", memory["key"], "-n", ns)
    missing = run("undo", "nothing-here", "-n", ns, code=EXIT_CODES["refused"])
    assert "no change 'nothing-here'" in missing
