"""A scripted OpenAI-compatible chat-completions endpoint on 127.0.0.1, for tests and benchmarks.

The real client code runs (``init_chat_model("openai:…")`` → ``langchain-openai`` →
``openai`` → HTTP); only the model is replaced, by :func:`script`, a plain
deterministic function: for every user turn it finds in the prompt's
conversation it answers one call of the memory tool langmem offers
(``Memory``) with ``content="User said: <turn>"``. Tests can therefore see
exactly which turns reached the model, and count calls and prompt size.

Memory types work the same way: a typed tool (a collection item, or a profile
being created) gets one call per turn with every string property set to
``"User said: <turn>"`` (booleans true, arrays of that one string); when only
``PatchDoc`` is offered (langmem updating an existing profile), the one
existing instance is patched, each string property set from the last turn.

Every reply carries ``usage`` as OpenAI reports it (``prompt_tokens``,
``completion_tokens``, ``total_tokens`` and their ``*_details``), counted by
:func:`count_tokens`: one token per piece of text as GPT's tokenizers split it
before merging (words, numbers, punctuation runs), plus OpenAI's per-message
overhead, with the offered tools counted as part of the prompt as a real
provider does. The endpoint keeps each reply's usage in ``usage`` (aligned
with ``requests``), so a test can compare what a run recorded with what the
model reported.

A test (or a benchmark) that needs another answer, such as consolidation's
``RetireMemories`` call, queues it: ``endpoint.canned.append([(name, args), ...])`` makes
the next call answer with exactly those tool calls.

``gate`` lets a test hold responses (to keep a run busy while it cancels or
supersedes it); ``fail_next`` makes the next N calls answer HTTP 500.
"""

from __future__ import annotations

import ast
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "ScriptedEndpoint",
    "count_tokens",
    "run_llm_endpoint",
    "script",
    "usage_of",
    "user_turns",
]

# GPT's pre-tokenizer pattern (cl100k), with letters as [^\W\d_] for Python's re.
_PIECE = re.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\w]?[^\W\d_]+|\d{1,3}| ?[^\s\w]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# Per message (role and separators), and the priming of the reply: OpenAI's documented counts.
_PER_MESSAGE, _PER_REPLY = 3, 3


def count_tokens(text: str) -> int:
    """Tokens in ``text``, one per piece a GPT tokenizer splits it into before merging."""
    return len(_PIECE.findall(text))


# langmem renders the conversation with LangChain's pretty_repr:
# "==== Human Message ====\n\n<text>" blocks inside a <session_...> tag.
_TURN = re.compile(r"=+ Human Message =+\n\n(.*?)(?=\n\n=+ \w+ Message =+|\n</session_|\Z)", re.S)


def user_turns(request: dict[str, Any]) -> list[str]:
    """The user turns of the conversation a chat-completions request carries.

    langmem renders the conversation into one prompt message; the turns are read
    back from its "Human Message" blocks (plain ``role: user`` messages otherwise),
    one per non-empty line.
    """
    texts = []
    for msg in request.get("messages", []):
        content = msg.get("content")
        if isinstance(content, list):
            content = "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
        if isinstance(content, str) and msg.get("role") == "user":
            texts.append(content)
    # langmem merges consecutive user messages into one block, a turn per line.
    blocks = [b for text in texts for b in _TURN.findall(text)] or texts
    return [line.strip() for b in blocks for line in b.splitlines() if line.strip()]


# trustcall shows existing documents as <instance id=... schema_type="...">{python repr}</instance>
_INSTANCE = re.compile(r'<instance id=(\S+) schema_type="[^"]*">\n(.*?)\n</instance>', re.S)
_EDITS = {"PatchDoc", "RemoveDoc"}


def _tools(request: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        t["function"]["name"]: t["function"].get("parameters") or {}
        for t in request.get("tools", [])
        if t.get("function", {}).get("name")
    }


def _fill(parameters: dict[str, Any], text: str) -> dict[str, Any]:
    """Arguments for a typed tool: every property set from ``text`` by its type."""
    by_type = {"string": text, "boolean": True, "array": [text]}
    args = {}
    for name, spec in (parameters.get("properties") or {}).items():
        # Optional fields arrive as anyOf [{type: X}, {type: null}].
        types = [spec.get("type"), *(s.get("type") for s in spec.get("anyOf", []))]
        kind = next((t for t in types if t in by_type), None)
        if kind is not None:
            args[name] = by_type[kind]
    return args


def _patch(request: dict[str, Any], turns: list[str]) -> list[tuple[str, dict[str, Any]]]:
    found = _INSTANCE.findall(_prompt_text(request))
    if not found or not turns:
        return []
    doc_id, doc = found[0]
    said = f"User said: {turns[-1]}"
    patches = [
        {"op": "replace", "path": f"/{k}", "value": said}
        for k, v in ast.literal_eval(doc).items()
        if isinstance(v, str)  # an empty (None) one may not be a string property
    ]
    args = {
        "json_doc_id": doc_id,
        "planned_edits": "replace from the last turn",
        "patches": patches,
    }
    return [("PatchDoc", args)]


def _prompt_text(request: dict[str, Any]) -> str:
    parts = []
    for msg in request.get("messages", []):
        content = msg.get("content")
        if isinstance(content, list):
            content = "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
        parts.append(content if isinstance(content, str) else "")
    return "\n".join(parts)


def _calls(request: dict[str, Any]) -> list[tuple[str, dict[str, Any]]] | None:
    """The tool calls to answer with; None when no tool is offered."""
    tools = _tools(request)
    turns = user_turns(request)
    if not tools:
        return None
    if "Memory" in tools:
        return [("Memory", {"content": f"User said: {turn}"}) for turn in turns]
    typed = next((n for n in tools if n not in _EDITS), None)
    if typed is None:
        return _patch(request, turns)
    return [(typed, _fill(tools[typed], f"User said: {turn}")) for turn in turns]


def _message_tokens(message: dict[str, Any]) -> int:
    content = message.get("content")
    if isinstance(content, list):
        content = "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
    calls = [c.get("function") or {} for c in message.get("tool_calls") or []]
    # A tool call costs its name, its arguments and a few tokens of framing.
    called = sum(
        _PER_MESSAGE + count_tokens(f.get("name", "")) + count_tokens(f.get("arguments", ""))
        for f in calls
    )
    return count_tokens(str(message.get("role", ""))) + count_tokens(content or "") + called


def usage_of(request: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
    """The ``usage`` block OpenAI would report for ``reply`` to ``request``."""
    messages = request.get("messages", [])
    prompt = sum(_PER_MESSAGE + _message_tokens(m) for m in messages) + _PER_REPLY
    if request.get("tools"):
        prompt += count_tokens(json.dumps(request["tools"]))
    completion = _message_tokens({**reply, "role": ""})
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


def script(
    request: dict[str, Any], canned: list[tuple[str, dict[str, Any]]] | None = None
) -> dict[str, Any]:
    """The scripted reply: one memory tool call per user turn, or plain text without tools.

    ``canned``: answer with these tool calls instead.
    """
    calls = _calls(request) if canned is None else canned
    tool = calls is not None
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if calls is None:
        message["content"] = "ok"
    else:
        message["tool_calls"] = [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
            for i, (name, args) in enumerate(calls)
        ]
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "scripted"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if tool else "stop",
            }
        ],
        "usage": usage_of(request, message),
    }


@dataclass
class ScriptedEndpoint:
    """A running endpoint: its URL and every request it answered."""

    base_url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    usage: list[dict[str, Any] | None] = field(default_factory=list)
    """The usage reported for each request, in order; None for a call answered with a 500."""
    gate: threading.Event = field(default_factory=threading.Event)
    fail_next: int = 0
    canned: list[list[tuple[str, dict[str, Any]]]] = field(default_factory=list)
    """Tool calls for the next calls to answer with, one list per call, oldest first."""
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def calls(self) -> int:
        """Chat-completion requests received so far."""
        with self.arrived:
            return len(self.requests)

    def server_env(self) -> dict[str, str | None]:
        """The environment that points a server's LLM path at this endpoint."""
        return {
            "MEMORY_MODEL": "openai:gpt-4.1-mini",
            "OPENAI_BASE_URL": self.base_url,
            "OPENAI_API_KEY": "sk-test-not-a-secret",
        }

    def wait_calls(self, n: int, timeout: float) -> None:
        """Block until at least ``n`` requests have arrived."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.requests) >= n, timeout):
                raise TimeoutError(f"{len(self.requests)} LLM calls after {timeout} s, wanted {n}")


def _handler(endpoint: ScriptedEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # Keep-alive, as a provider's API: on HTTP/1.0 the OpenAI client reconnected for
        # every call, CPU that the server's run-cost figures counted and production does not pay.
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the caller went away (a cancelled run): nothing to answer

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._send(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
            else:
                self._send(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            request = json.loads(self.rfile.read(length) or b"{}")
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            with endpoint.arrived:
                failing = endpoint.fail_next > 0
                if failing:
                    endpoint.fail_next -= 1
                # A failed call leaves the canned answer for the retry.
                canned = endpoint.canned.pop(0) if endpoint.canned and not failing else None
                reply = script(request, canned)
                endpoint.requests.append(request)
                endpoint.usage.append(None if failing else reply["usage"])
                endpoint.arrived.notify_all()
            endpoint.gate.wait(timeout=120)
            if failing:
                self._send(500, {"error": {"message": "scripted failure", "type": "server_error"}})
                return
            if request.get("stream"):
                self._stream(reply)
            else:
                self._send(200, reply)

        def _stream(self, reply: dict[str, Any]) -> None:
            msg = reply["choices"][0]["message"]
            delta: dict[str, Any] = {"role": "assistant", "content": msg.get("content")}
            if msg.get("tool_calls"):
                delta["tool_calls"] = [{**tc, "index": i} for i, tc in enumerate(msg["tool_calls"])]
            chunks = [
                {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]},
                {
                    "choices": [
                        {
                            "index": 0,
                            "delta": {},
                            "finish_reason": reply["choices"][0]["finish_reason"],
                        }
                    ],
                    "usage": reply["usage"],
                },
            ]
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("connection", "close")  # the stream ends when the socket does
            self.end_headers()
            self.close_connection = True
            for chunk in chunks:
                body = {
                    "id": reply["id"],
                    "object": "chat.completion.chunk",
                    "created": reply["created"],
                    "model": reply["model"],
                    **chunk,
                }
                self.wfile.write(f"data: {json.dumps(body)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

    return Handler


@contextmanager
def run_llm_endpoint() -> Iterator[ScriptedEndpoint]:
    """Serve the scripted endpoint on a free 127.0.0.1 port until the block ends.

    The gate starts open; ``endpoint.gate.clear()`` holds replies until ``set()``.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    endpoint = ScriptedEndpoint(base_url=f"http://127.0.0.1:{port}/v1")
    endpoint.gate.set()
    server.RequestHandlerClass = _handler(endpoint)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        endpoint.gate.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
