"""A memory's lifecycle on real servers: history, undo, isolation, and erasure."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from langgraph_sdk import get_sync_client

from sdk_client import ConsolidationError, HistoryNotFoundError, ReflectionExecutor
from sdk_client.cli import EXIT_CODES, cli
from sdk_client.contract import memory_text, validate_thread_id
from tests.server import ALICE_KEY, BOB_KEY, Server, message, quick_executor

pytestmark = pytest.mark.integration

WAIT = 60


@pytest.fixture
def namespace() -> tuple[str, ...]:
    return ("memories", f"history-{uuid.uuid4().hex[:8]}")


def _executor(server: Server, namespace: tuple[str, ...], key: str | None) -> ReflectionExecutor:
    return quick_executor(server.url, namespace, api_key=key)


@pytest.fixture
def alice(keyed_server: Server, namespace: tuple[str, ...]) -> Iterator[ReflectionExecutor]:
    with _executor(keyed_server, namespace, ALICE_KEY) as ex:
        yield ex


def _say(ex: ReflectionExecutor, text: str) -> None:
    ex.submit(message(text), thread_id=f"history-{uuid.uuid4().hex}", after_seconds=0).result(WAIT)


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


def _everything(server: Server, key: str | None) -> tuple[list, list]:
    """Every store item and memory-manager thread the key (None: open) can see."""
    with get_sync_client(url=server.url, api_key=key) as sdk:
        items = sdk.store.search_items([], limit=1000)["items"]
        threads = sdk.threads.search(metadata={"graph_id": "memory_manager"}, limit=1000)
    return items, threads


def test_a_keyed_user_is_erased_whole_and_nobody_else_is_touched(keyed_server: Server) -> None:
    namespace = ("memories", f"forget-{uuid.uuid4().hex[:8]}")
    for key in (ALICE_KEY, BOB_KEY):
        with _executor(keyed_server, namespace, key) as ex:
            _say(ex, "I live in Porto.")
            _say(ex, "I moved to Lisbon.")
    bob_before = _everything(keyed_server, BOB_KEY)
    assert all(bob_before) and all(_everything(keyed_server, ALICE_KEY))

    runner = CliRunner(env={"LANGGRAPH_API_KEY": ALICE_KEY})
    wrong = runner.invoke(cli, ["--url", keyed_server.url, "forget", "--user", "bob", "-y"])
    assert wrong.exit_code == EXIT_CODES["usage"] and "alice" in wrong.output
    res = runner.invoke(cli, ["--url", keyed_server.url, "forget", "--user", "alice", "-y"])
    assert res.exit_code == 0, res.output
    assert "erased" in res.output
    assert _everything(keyed_server, ALICE_KEY) == ([], [])  # memories, history, inbox, threads
    bob_after = _everything(keyed_server, BOB_KEY)
    assert sorted(i["key"] for i in bob_after[0]) == sorted(i["key"] for i in bob_before[0])
    assert {t["thread_id"] for t in bob_after[1]} == {t["thread_id"] for t in bob_before[1]}


def test_on_an_open_server_a_user_label_is_erased_with_its_history_and_threads(
    server: Server,
) -> None:
    carol, dave = (f"{name}-{uuid.uuid4().hex[:8]}" for name in ("carol", "dave"))
    with quick_executor(server.url, ("memories", "{user_id}")) as ex:
        for user in (carol, dave):
            config = {"configurable": {"user_id": user}}
            turn = message("I have a cat called Tom.")
            ex.submit(turn, config, thread_id=f"chat-{user}", after_seconds=0).result(WAIT)
        assert ex.history(namespace=("memories", carol))
    res = CliRunner().invoke(cli, ["--url", server.url, "forget", "--user", carol, "-y"])
    assert res.exit_code == 0, res.output
    items, threads = _everything(server, None)
    mine = [i for i in items if carol in i["namespace"]]
    assert mine == [] and not any(t["thread_id"] == validate_thread_id(f"chat-{carol}")
                                  for t in threads)  # fmt: skip
    assert any(dave in i["namespace"] for i in items)
    assert any(t["thread_id"] == validate_thread_id(f"chat-{dave}") for t in threads)


def _plant(sdk, namespace: tuple[str, ...], key: str, text: str) -> None:
    sdk.store.put_item(namespace, key, {"kind": "Memory", "content": {"content": text}})


def test_consolidation_merges_planted_duplicates_keeps_the_bound_and_is_undoable(
    server: Server,
) -> None:
    namespace = ("memories", f"consolidate-{uuid.uuid4().hex[:8]}")
    facts = ["User lives in Porto.", "User has a cat called Tom.", "User works as a nurse."]
    with get_sync_client(url=server.url, api_key=None) as sdk:
        for n, text in enumerate(facts):
            _plant(sdk, namespace, f"fact-{n}", text)
            time.sleep(0.01)  # updated_at orders them: the newest of a group stays
        _plant(sdk, namespace, "twin-0", "User lives in Porto")  # the same fact, other words
        _plant(sdk, namespace, "twin-1", "The user has a cat named Tom.")
    with _executor(server, namespace, None) as ex:
        retired = ex.consolidate()
        assert sorted(retired) == [f"{'/'.join(namespace)}/fact-0", f"{'/'.join(namespace)}/fact-1"]
        kept = {memory_text(i["value"]) for i in ex.search(limit=50)}
        assert kept == {"User lives in Porto", "The user has a cat named Tom.", facts[2]}
        changes = [c for c in ex.history() if c.cause == "consolidation"]
        assert sorted(c.key for c in changes) == ["fact-0", "fact-1"]
        assert all(c.event == "deleted" and c.before for c in changes)

        # Over the bound: the least recently updated go; over the share: nothing moves.
        with pytest.raises(ConsolidationError, match="more than consolidation_max_share"):
            ex.consolidate(max_memories=1)
        assert len(ex.search(limit=50)) == 3
        assert len(ex.consolidate(max_memories=2)) == 1
        assert len(ex.search(limit=50)) == 2

        # Every retirement comes back with undo.
        for change in changes:
            ex.undo(change.id)
        assert {"User lives in Porto.", "User has a cat called Tom."} <= {
            memory_text(i["value"]) for i in ex.search(limit=50)
        }

        # Never while extraction for the namespace waits: pending work refuses it.
        pending = f"pending-{uuid.uuid4().hex}"
        ex.submit(message("I love jazz."), thread_id=pending, after_seconds=300).wait_accepted(WAIT)
        with pytest.raises(ConsolidationError, match="wait in an inbox"):
            ex.consolidate()
        assert ex.cancel(pending) == 1


def test_a_plain_run_naming_no_namespace_holds_back_the_default_namespaces_consolidation(
    server: Server,
) -> None:
    # langmem's executor and a plain runs.create name no namespace: capture binds the
    # turn to the server's default (here "memories"), so consolidation there waits for it.
    thread = str(uuid.uuid4())
    with get_sync_client(url=server.url, api_key=None) as sdk:
        sdk.threads.create(thread_id=thread)
        sdk.runs.create(thread, "memory_manager", input=message("I love jazz."), after_seconds=300)
    with _executor(server, ("memories",), None) as ex:
        try:
            with pytest.raises(ConsolidationError, match="wait in an inbox"):
                ex.consolidate()
        finally:
            ex.cancel(thread)  # its run and inbox entry (not this executor's submission)


def test_consolidation_retires_a_planted_contradiction_and_merges_duplicates_losing_no_fact(
    server: Server,
) -> None:
    namespace = ("memories", f"contradict-{uuid.uuid4().hex[:8]}")
    planted = [  # oldest first: (key, text)
        ("home-old", "User lives in Porto."),
        ("job-old", "User is a nurse."),
        ("dog", "User has a dog named Biscuit."),
        ("sister", "User has a sister named Ana."),
        ("brother", "User has a brother named Luis."),
        ("dog-twin", "User's dog is called Biscuit."),  # the dog again, other words
        ("home", "User moved to Lisbon."),  # newer values: these stay
        ("job", "User works as a midwife."),
        ("tea", "User likes green tea."),
    ]
    with get_sync_client(url=server.url, api_key=None) as sdk:
        for key, text in planted:
            _plant(sdk, namespace, key, text)
            time.sleep(0.01)  # updated_at orders them
    path = "/".join(namespace)
    with _executor(server, namespace, None) as ex:
        retired = ex.consolidate()
        assert sorted(retired) == [f"{path}/dog", f"{path}/home-old", f"{path}/job-old"]
        kept = {memory_text(i["value"]) for i in ex.search(limit=50)}
        assert kept == {text for key, text in planted if key not in ("dog", "home-old", "job-old")}

        changes = {c.key: c for c in ex.history() if c.cause == "consolidation"}
        assert set(changes) == {"dog", "home-old", "job-old"}
        assert changes["home-old"].reason == (
            "contradicted by the newer home (home: 'User moved to Lisbon.')"
        )
        assert changes["job-old"].reason is not None and "newer job" in changes["job-old"].reason
        assert changes["dog"].reason == "a near-duplicate of dog-twin"
        assert changes["home-old"].before == {
            "kind": "Memory",
            "content": {"content": "User lives in Porto."},
        }

        # `memory-reflect history` says why; undo brings the old home back, itself recorded.
        shown = CliRunner().invoke(cli, ["--url", server.url, "history", "-n", path])
        assert shown.exit_code == 0, shown.output
        assert "contradicted by the newer home" in " ".join(shown.output.split())
        restored = ex.undo(changes["home-old"].id)
        assert restored.event == "restored" and restored.key == "home-old"
        assert "User lives in Porto." in {memory_text(i["value"]) for i in ex.search(limit=50)}
