"""The inspector page in a real headless Chromium against a real ``langgraph dev``.

Runs with ``make browser-test`` (marker ``browser``; needs Debian's ``chromium``
and the ``browser`` extra, see docs/inspector.md). A burst of five submissions
on one thread: the page's countdown restarts on each, the superseded ones are
greyed, one run bar appears and the memories it made show up. Screenshots go to
``bench/results/inspector*.png`` (docs/inspector.md shows them).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator

import httpx
import pytest

from sdk_client import ReflectionExecutor
from sdk_client.contract import validate_thread_id
from tests.server import ALICE_KEY, BOB_KEY, ROOT, Server

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
# Screenshots go to a temp dir unless asked for: a test run should not dirty the tree.
# `INSPECTOR_SCREENSHOTS=bench/results make browser-test` refreshes docs/inspector.md's images.
SHOTS = ROOT / os.environ.get("INSPECTOR_SCREENSHOTS", "/tmp/memory-reflect-inspector-shots")
SHOTS.mkdir(parents=True, exist_ok=True)
WAIT_MS = 15_000
FACTS = [
    "My name is Alice.",
    "I live in Lisbon.",
    "I work at a bakery.",
    "I like surfing at dawn.",
    "My cat is called Miso.",
]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A fresh headless Chromium (own user-data-dir, no downloads) and one tab."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[browser]'")
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM=...)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1200, "height": 800},
        )  # fmt: skip
        tab = context.pages[0] if context.pages else context.new_page()
        tab.set_default_timeout(WAIT_MS)
        yield tab
        context.close()


def _pending_due(page, ticks: int) -> float:
    """Wait until the pending burst shows ``ticks`` submissions; its due time."""
    sel = "section.burst[data-status='pending']"
    page.wait_for_function(f'document.querySelectorAll("{sel} .tick").length === {ticks}')
    return float(page.get_attribute(f"{sel} [data-due-at]", "data-due-at"))


def test_burst_supersedes_and_ends_in_one_run(server: Server, page) -> None:
    user = f"insp-{uuid.uuid4().hex[:6]}"
    key = f"inspector-burst-{user}"
    page.goto(f"{server.url}/inspector/?poll=250#/thread/{key}")
    # Nothing submitted yet: a clear message, and the page keeps looking.
    assert "No thread" in page.locator("[data-message='error']").inner_text()

    dues: list[float] = []
    with ReflectionExecutor("memory_manager", ("memories", "{user_id}"), url=server.url) as ex:
        for n, fact in enumerate(FACTS, start=1):
            fut = ex.submit({"messages": [{"role": "user", "content": fact}]},
                            {"configurable": {"user_id": user}}, after_seconds=4, thread_id=key)  # fmt: skip
            fut.wait_accepted(timeout=10)
            dues.append(_pending_due(page, n))
            assert (
                page.locator("section.burst[data-status='pending'] .countdown")
                .inner_text()
                .startswith("due in")
            )
            if n == 3:
                page.screenshot(path=str(SHOTS / "inspector-pending.png"))
        # Each submission restarted the countdown: a later due time every time.
        assert dues == sorted(dues) and len(set(dues)) == 5
        pending = page.locator("section.burst[data-status='pending']")
        assert pending.locator(".tick.superseded").count() == 4
        ex.flush(timeout=60)

    done = page.locator("section.burst[data-status='done']")
    done.locator("rect.run-bar").wait_for()
    page.wait_for_function("!document.querySelector(\"section.burst[data-status='pending']\")")
    assert done.count() == 1, "a burst of five ends in exactly one run"
    assert done.locator(".tick").count() == 5
    assert done.locator(".tick.superseded").count() == 4
    assert done.locator("[data-change='created']").count() >= 5
    # Each changed key shows its memory's text; the run says what it spent (offline: nothing).
    texts = " ".join(done.locator("[data-change='created'] .text").all_inner_texts())
    assert "Lisbon" in texts and "Miso" in texts
    assert done.locator(".usage").inner_text() == "no model calls"
    page.screenshot(path=str(SHOTS / "inspector.png"))

    # The run's new memories, in the Memories view.
    done.locator("[data-change='created'] a").first.click()
    page.locator("tr.memory").first.wait_for()
    text = page.locator("#memory-table").inner_text()
    assert "Lisbon" in text and "Miso" in text
    page.screenshot(path=str(SHOTS / "inspector-memories.png"))

    # A later turn (another chat) replaces a value: the history says what it was and is now.
    with ReflectionExecutor("memory_manager", ("memories", "{user_id}"), url=server.url) as ex:
        ex.submit({"messages": [{"role": "user", "content": "I moved to Porto."}]},
                  {"configurable": {"user_id": user}}, thread_id=f"{key}-later",
                  ).result(timeout=60)  # fmt: skip
    page.reload()
    updated = page.locator("#memory-table .history [data-text='updated']")
    updated.wait_for()
    was_now = updated.inner_text()
    assert was_now.index("User lives in Lisbon.") < was_now.index("User lives in Porto.")

    # The thread is listed, idle, with its last result.
    page.goto(f"{server.url}/inspector/?poll=250#/threads")
    row = page.locator(f"tr[data-thread-id='{validate_thread_id(key)}']")
    row.locator("[data-state='idle']").wait_for()
    assert "from 5 submissions" in row.inner_text()


@pytest.mark.parametrize(
    ("hash_", "expected"),
    [
        ("#/thread/%20", "thread_id: must not be empty"),
        (f"#/thread/{uuid.uuid4()}", "No thread"),
        ("#/memories?ns=memories/a.b", "label 'a.b' must not contain '.'"),
        ("#/memories?ns=no-such-namespace", "No namespace no-such-namespace"),
    ],
)
def test_bad_ids_and_namespaces_say_so(server: Server, page, hash_: str, expected: str) -> None:
    page.goto(f"{server.url}/inspector/?poll=250{hash_}")
    page.reload()  # a hash-only change would not reload; start each case afresh
    assert expected in page.locator("[data-message='error']").inner_text()


# The keys of the session's keyed server (tests/conftest.py, fixture keyed_server).
ALICE = ALICE_KEY
BOB = BOB_KEY


def test_with_api_keys_a_user_sees_only_their_own(keyed_server: Server, page) -> None:
    threads = {}
    for who, key in (("alice", ALICE), ("bob", BOB)):
        with ReflectionExecutor(
            "memory_manager", ("memories", who), url=keyed_server.url, api_key=key
        ) as ex:
            fut = ex.submit({"messages": [{"role": "user", "content": f"My name is {who.title()}."}]},
                            after_seconds=0, thread_id=f"{who}-{uuid.uuid4().hex[:6]}")  # fmt: skip
            threads[who] = fut.result(timeout=60).thread_id

    page.evaluate("sessionStorage.clear()")
    page.goto(f"{keyed_server.url}/inspector/?poll=250#/threads")
    page.reload()
    banner = page.locator("#banner")
    banner.wait_for()
    assert "paste your API key" in banner.inner_text()

    page.fill("#api-key", "not-a-key-but-long-enough")
    page.click("#key-form button")
    page.wait_for_function(
        "document.querySelector('#banner').innerText.includes('unknown API key')"
    )

    page.fill("#api-key", ALICE)
    page.click("#key-form button")
    page.locator(f"tr[data-thread-id='{threads['alice']}']").wait_for()
    assert page.locator("#whoami").inner_text() == "as alice"
    assert page.locator(f"tr[data-thread-id='{threads['bob']}']").count() == 0
    assert page.locator("#banner").is_hidden()

    # Namespaces show without the store's owner prefix; bob's are not listed.
    page.goto(f"{keyed_server.url}/inspector/?poll=250#/memories?ns=memories/alice")
    page.locator("tr.memory").first.wait_for()
    assert "User's name is Alice." in page.locator("#memory-table").inner_text()
    assert page.locator(".ns-list").inner_text().split() == ["memories/alice"]

    # Bob's thread, asked for by id: not there for alice.
    page.goto(f"{keyed_server.url}/inspector/?poll=250#/thread/{threads['bob']}")
    page.reload()
    assert "No thread" in page.locator("[data-message='error']").inner_text()


def test_a_thousand_threads_page_without_reloading(server: Server, page) -> None:
    with httpx.Client(base_url=server.url) as http:
        for _ in range(1000):
            http.post(
                "/threads", json={"metadata": {"graph_id": "memory_manager"}}
            ).raise_for_status()
    page.goto(f"{server.url}/inspector/?poll=250#/threads")
    page.reload()
    page.wait_for_function("Number(document.querySelector('#thread-total')?.innerText) >= 1000")
    assert page.locator("#threads tbody tr").count() == 50
    page.evaluate("window.__sameDocument = true")  # gone if the page reloaded
    page.click("#next-page")
    page.wait_for_function(
        "document.querySelector('#page-info')?.innerText.startsWith('page 2 of')"
    )
    page.locator("#prev-page").wait_for()
    assert page.locator("#threads tbody tr").count() == 50
    assert page.evaluate("window.__sameDocument") is True
    page.select_option("#status-filter", "idle")
    page.wait_for_function("location.hash === '#/threads?status=idle'")
    page.locator("#threads tbody tr [data-state='idle']").first.wait_for()


def test_parked_work_is_shown_and_counted(server: Server, page) -> None:
    """A thread whose redelivery attempts all failed: counted on the list, explained on its page."""
    with httpx.Client(base_url=server.url) as http:
        tid = http.post("/threads", json={"metadata": {"graph_id": "memory_manager"}}).json()[
            "thread_id"
        ]
        record = {"attempts": 5, "max_attempts": 5, "next_at": None, "parked": True,
                  "last_error": "run r-1 ended error: APIError: model down",
                  "last_run_id": "r-1", "updated_at": 1.0}  # fmt: skip
        http.put("/store/items", json={"namespace": ["reflection_delivery", tid], "key": "state",
                                       "value": record}).raise_for_status()  # fmt: skip
    page.goto(f"{server.url}/inspector/?poll=250#/threads")
    page.reload()
    page.wait_for_function("Number(document.querySelector('#parked-total')?.dataset.parked) >= 1")
    page.goto(f"{server.url}/inspector/?poll=250#/thread/{tid}")
    text = page.locator("[data-message='error']").inner_text()
    assert "Parked after 5 attempts: run r-1 ended error: APIError: model down" in text
    assert f"memory-reflect retry -t {tid}" in text
