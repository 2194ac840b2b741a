"""What every benchmark shares: the server and model, request counting, and the contenders.

One ``langgraph dev`` and one scripted OpenAI-compatible endpoint (the tests'
``tests/llm_endpoint.py``) serve every contender in a run, so LLM calls and
prompt sizes are counted for real, through the HTTP client, on the same server.

Contenders (same payloads, same server):

* ``ours``: this project's ``ReflectionExecutor``;
* ``langmem``: langmem's ``RemoteReflectionExecutor`` as the seed uses it;
* ``per-message``: every message processed at once, no supersession (the cost baseline).

Every turn carries a tag (``<contender>|<thread>|<burst>|<k>``) so LLM calls,
memories and runs can be attributed to the contender that caused them.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from langgraph_sdk.client import SyncLangGraphClient

from deploy.devserver import Server, run_server
from sdk_client import ReflectionExecutor, RetryPolicy
from sdk_client._http import HttpSettings
from tests.llm_endpoint import ScriptedEndpoint, run_llm_endpoint, user_turns

CONTENDERS = ("ours", "langmem", "per-message")


class CountingTransport(httpx.HTTPTransport):
    """An httpx transport that counts requests by (method, route kind)."""

    def __init__(self) -> None:
        super().__init__(retries=0)
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        kind = (
            "run"
            if path.endswith("/runs") and request.method == "POST"
            else ("inbox" if request.method == "PUT" and path.endswith("/store/items") else "other")
        )
        with self._lock:
            self.counts[kind] += 1
        return super().handle_request(request)

    @property
    def submission_requests(self) -> int:
        """Requests that carry submissions (inbox writes and run creates), not polling."""
        return self.counts["run"] + self.counts["inbox"]


def sdk_client(url: str, transport: httpx.BaseTransport | None = None) -> SyncLangGraphClient:
    """A plain langgraph-sdk sync client (no retries), optionally over a counting transport.

    It sends the API key of the environment (``LANGGRAPH_API_KEY``...), as the executors
    do: ``bench.scaleout`` measures a keyed cluster.
    """
    return HttpSettings.resolve(url, timeout=httpx.Timeout(60)).sync_client(transport)


def tag(contender: str, thread: int, burst: int, k: int) -> str:
    """The marker a turn carries, so everything it causes can be attributed."""
    return f"{contender}|{thread}|{burst}|{k}"


def label(contender: str, workload: str) -> str:
    """A contender's name within one workload (tags, namespaces and threads use it)."""
    return f"{contender}:{workload}"


def turn_text(contender: str, thread: int, burst: int, k: int) -> str:
    """A single-turn message with its tag."""
    return f"{tag(contender, thread, burst, k)} I like topic {burst}-{k} of thread {thread}."


def tag_of(text: str) -> str | None:
    """The tag at the start of a turn or memory, if any."""
    head = text.removeprefix("User said: ").split(" ", 1)[0]
    return head if head.count("|") == 3 else None


class Submitter:
    """One contender's way of submitting a single turn (or a history) to a thread."""

    name: str
    label: str = ""
    """The contender within one workload; tags, thread keys and the namespace use it."""
    transport: CountingTransport
    debounces = True
    """False for a contender that ignores after_seconds and runs every message at once."""

    def submit(self, thread_key: str, messages: list[dict[str, Any]], after: float) -> Future[Any]:
        """Hand one submission over; the Future resolves when the contender says it is done."""
        raise NotImplementedError

    def drain(self, threads: list[str], timeout: float) -> None:
        """Block until the contender's work on ``threads`` is finished on the server."""
        raise NotImplementedError

    def wait_accepted(self, fut: Future[Any], timeout: float) -> None:
        """Block until the server holds the submission (others: until their Future is done)."""
        fut.result(timeout=timeout)

    def close(self) -> None:
        """Release clients and threads."""


class Ours(Submitter):
    """This project's executor."""

    name = "ours"

    def __init__(self, url: str, namespace: tuple[str, ...]) -> None:
        self.transport = CountingTransport()
        self.executor = ReflectionExecutor(
            "memory_manager", namespace, url=url, transport=self.transport,
            retry=RetryPolicy(initial_delay=0.1), poll_interval=0.5,
        )  # fmt: skip

    def submit(self, thread_key: str, messages: list[dict[str, Any]], after: float) -> Future[Any]:
        """Submit through ReflectionExecutor.submit."""
        return self.executor.submit(
            {"messages": messages}, after_seconds=after, thread_id=thread_key
        )

    def drain(self, threads: list[str], timeout: float) -> None:
        """Wait until every submission is processed."""
        self.executor.flush(timeout=timeout)

    def wait_accepted(self, fut: Future[Any], timeout: float) -> None:
        """Wait for the accepted stage only."""
        fut.wait_accepted(timeout)  # type: ignore[attr-defined]

    def close(self) -> None:
        """Shut the executor down."""
        self.executor.shutdown()


class Langmem(Submitter):
    """langmem's RemoteReflectionExecutor, as the seed document uses it."""

    name = "langmem"

    def __init__(self, url: str, namespace: tuple[str, ...]) -> None:
        from langmem import ReflectionExecutor as LangmemExecutor

        self.transport = CountingTransport()
        self.client = sdk_client(url, self.transport)
        self.executor = LangmemExecutor(
            "memory_manager", namespace, url=url, sync_client=self.client
        )
        self.url = url

    def submit(self, thread_key: str, messages: list[dict[str, Any]], after: float) -> Future[Any]:
        """langmem needs config= outside LangGraph; its Future resolves at run creation."""
        config = {"configurable": {"thread_id": thread_uuid(thread_key)}}
        return self.executor.submit({"messages": messages}, config=config, after_seconds=after)  # type: ignore[no-any-return]

    def drain(self, threads: list[str], timeout: float) -> None:
        """Wait until no run is pending or running on the threads."""
        wait_idle(self.client, [thread_uuid(t) for t in threads], timeout)

    def close(self) -> None:
        """Shut langmem's executor down and close the client."""
        self.executor.shutdown()
        self.client.http.client.close()


class PerMessage(Submitter):
    """Every message processed at once: a run per submission, queued, never superseded."""

    name = "per-message"
    debounces = False

    def __init__(self, url: str, namespace: tuple[str, ...]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.transport = CountingTransport()
        self.client = sdk_client(url, self.transport)
        self.namespace = list(namespace)
        self.pool = ThreadPoolExecutor(max_workers=8)

    def submit(self, thread_key: str, messages: list[dict[str, Any]], after: float) -> Future[Any]:
        """Create a run right away (enqueue), off the caller's thread like the others."""
        tid = thread_uuid(thread_key)
        return self.pool.submit(
            self.client.runs.create, tid, "memory_manager",
            input={"messages": messages},
            config={"configurable": {"thread_id": tid, "namespace": self.namespace}},
            multitask_strategy="enqueue", if_not_exists="create",
        )  # fmt: skip

    def drain(self, threads: list[str], timeout: float) -> None:
        """Wait until no run is pending or running on the threads."""
        wait_idle(self.client, [thread_uuid(t) for t in threads], timeout)

    def close(self) -> None:
        """Stop the pool and close the client."""
        self.pool.shutdown()
        self.client.http.client.close()


def thread_uuid(key: str) -> str:
    """The server thread for a benchmark thread key (the mapping the executor uses, with
    the environment's API key, as the executor reads it)."""
    from sdk_client._http import env_api_key
    from sdk_client.contract import validate_thread_id

    return validate_thread_id(key, api_key=env_api_key())


def wait_idle(client: SyncLangGraphClient, thread_ids: list[str], timeout: float) -> None:
    """Poll until none of ``thread_ids`` has a pending or running run."""
    deadline = time.monotonic() + timeout
    remaining = list(thread_ids)
    while remaining:
        remaining = [
            t for t in remaining
            if client.runs.list(t, status="pending", limit=1)
            or client.runs.list(t, status="running", limit=1)
        ]  # fmt: skip
        if remaining and time.monotonic() > deadline:
            raise TimeoutError(f"{len(remaining)} threads still busy after {timeout} s")
        if remaining:
            time.sleep(0.25)


FACTORIES: dict[str, Callable[[str, tuple[str, ...]], Submitter]] = {
    "ours": Ours,
    "langmem": Langmem,
    "per-message": PerMessage,
}


@dataclass
class Bench:
    """The shared server and model of one benchmark run."""

    server: Server
    llm: ScriptedEndpoint
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:6])

    def rss_mib(self) -> float:
        """The server process's resident memory, MiB."""
        try:
            with open(f"/proc/{self.server.pid}/status") as f:
                kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
            return round(kb / 1024, 1)
        except (OSError, StopIteration):
            return float("nan")

    def llm_calls(self, contender: str, since: int = 0) -> list[dict[str, Any]]:
        """Chat-completion requests (from index ``since``) caused by ``contender``'s turns."""
        with self.llm.arrived:
            requests = list(self.llm.requests[since:])
        out = []
        for req in requests:
            tags = [tag_of(t) for t in user_turns(req)]
            if any(t and t.startswith(contender + "|") for t in tags):
                out.append(req)
        return out


@contextmanager
def bench_environment(
    jobs: int = 10, *, offline: bool = False, thread_ttl_minutes: float = 0.0
) -> Iterator[Bench]:
    """Start the scripted model and a warmed-up ``langgraph dev`` that extracts with it.

    ``offline=True`` serves the offline extractor instead (the model is still started,
    and unused), to separate the server's own per-run cost from the LLM path's.
    ``thread_ttl_minutes`` > 0 turns the server's idle-thread sweeper on (checking
    every 5 s); 0 keeps every thread, as the dev server does on its own.
    """
    with run_llm_endpoint() as llm:
        env = llm.server_env() | {
            "LANGGRAPH_API_URL": None,
            "MEMORY_THREAD_TTL_MINUTES": str(thread_ttl_minutes),
            "MEMORY_SWEEP_INTERVAL_SECONDS": "5",
        }
        if offline:
            env["MEMORY_MODEL"] = None
        with run_server(env, jobs=jobs) as server:
            _warm_up(server.url)
            yield Bench(server=server, llm=llm)


def _warm_up(url: str) -> None:
    # The first run imports the model's client libraries in the server (seconds);
    # no contender should pay for that.
    with ReflectionExecutor("memory_manager", ("bench", "warm-up"), url=url) as ex:
        ex.submit({"messages": [{"role": "user", "content": "warm up"}]}, thread_id="warm-up")
        ex.flush(timeout=120)
