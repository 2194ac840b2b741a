"""State of the memory-manager graph: what a run takes, keeps and shows.

The output fields are also what Studio shows as the thread state: which
messages the last run processed (and from which submission), what it changed
in memory, and when things happened.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Annotated, Any, NotRequired

from pydantic import Field
from typing_extensions import TypedDict

__all__ = [
    "Batch",
    "ChangeText",
    "Changes",
    "InputState",
    "OutputState",
    "ProcessedMessage",
    "StagedOp",
    "State",
    "Timing",
    "Usage",
    "merge_ids",
    "retirement",
    "value_digest",
]


def merge_ids(existing: list[str] | None, new: list[str] | None) -> list[str]:
    """Union of two id lists, first-seen order kept (the reducer of ``seen_message_ids``)."""
    merged = list(existing or [])
    known = set(merged)
    for item in new or []:
        if item not in known:
            known.add(item)
            merged.append(item)
    return merged


class ProcessedMessage(TypedDict):
    """A message a run processed, with the submission it came from."""

    id: Annotated[
        str, Field(description="Stable message id: its own id, else a hash of role and content.")
    ]
    role: Annotated[str, Field(description="'user', 'assistant', 'system' or 'tool'.")]
    content: Annotated[str, Field(description="The message text the extractor saw.")]
    submission_id: Annotated[
        str | None,
        Field(description="The submission it came from (None for a run created without one)."),
    ]


class Batch(TypedDict):
    """Messages bound for one memory namespace, with the submissions they came from."""

    namespace: Annotated[list[str], Field(description="The memory namespace, as labels.")]
    messages: Annotated[
        list[ProcessedMessage], Field(description="New messages for that namespace, oldest first.")
    ]
    submission_ids: Annotated[list[str], Field(description="Submissions these messages came from.")]


class StagedOp(TypedDict):
    """A memory write decided by ``extract`` and applied by ``commit`` (value None = delete)."""

    namespace: Annotated[list[str], Field(description="The memory namespace, as labels.")]
    key: Annotated[str, Field(description="The memory's key in that namespace.")]
    value: Annotated[
        dict[str, Any] | None, Field(description="The memory to store; None deletes it.")
    ]
    cause: NotRequired[
        Annotated[
            str,
            Field(description="Why, when not the run's own cause: 'forgetting' (history)."),
        ]
    ]
    reason: NotRequired[
        Annotated[
            str,
            Field(
                description="In words, kept in the memory's history: the memory it "
                "duplicates or that contradicts it, the bound, or which age limit."
            ),
        ]
    ]
    unless_changed: NotRequired[
        Annotated[
            str,
            Field(
                description="A retirement's digest of the value it was planned on: "
                "commit skips it if the memory was written since."
            ),
        ]
    ]


def value_digest(value: Any) -> str:
    """A short digest of a stored value (canonical JSON), to tell whether it changed."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def retirement(
    namespace: Sequence[str], key: str, value: Any, reason: str, cause: str | None = None
) -> StagedOp:
    """A delete planned by consolidation or forgetting on the memory's ``value`` as it read it.

    Such a run plans over a snapshot, and an extraction may commit a newer value of the
    same memory before the run does (the user spoke meanwhile): retiring that newer value
    would drop the latest fact. So the delete carries the planned value's digest, and
    ``commit`` skips it if the memory no longer holds that value.
    """
    op: StagedOp = {
        "namespace": list(namespace), "key": key, "value": None, "reason": reason,
        "unless_changed": value_digest(value),
    }  # fmt: skip
    if cause is not None:
        op["cause"] = cause
    return op


class Changes(TypedDict):
    """Memory keys a run changed, as ``"label/label/key"`` paths."""

    created: Annotated[list[str], Field(description="Memories that did not exist before.")]
    updated: Annotated[list[str], Field(description="Existing memories whose value changed.")]
    deleted: Annotated[list[str], Field(description="Memories removed.")]


class ChangeText(TypedDict):
    """A changed memory's text before and after the run (cut to a few hundred characters)."""

    before: Annotated[str | None, Field(description="Its text before; None if created.")]
    after: Annotated[str | None, Field(description="Its text after; None if deleted.")]


class Usage(TypedDict):
    """What a run spent on the chat model, as the provider reported it (0s offline)."""

    model_calls: Annotated[int, Field(description="Chat-model calls the run made.")]
    prompt_tokens: Annotated[int, Field(description="Input tokens, summed over the calls.")]
    completion_tokens: Annotated[int, Field(description="Output tokens, summed over the calls.")]
    model_seconds: Annotated[
        float, Field(description="Seconds spent waiting on the model, summed over the calls.")
    ]


class Timing(TypedDict, total=False):
    """When the work this run processed was submitted, fell due, started and finished (epoch s)."""

    first_submitted_at: Annotated[
        float | None, Field(description="When the oldest processed submission was submitted.")
    ]
    last_submitted_at: Annotated[
        float | None, Field(description="When the newest processed submission was submitted.")
    ]
    due_at: Annotated[
        float | None,
        Field(description="When the run fell due: the latest submitted_at + after_seconds."),
    ]
    started_at: Annotated[float, Field(description="When the run's gather step started.")]
    finished_at: Annotated[float, Field(description="When the run's commit step finished.")]


class InputState(TypedDict):
    """A conversation to remember: the payload of one submission."""

    messages: Annotated[
        list[dict[str, Any]],
        Field(
            description="The conversation, newest last: OpenAI-style {'role', 'content'} dicts, "
            "LangChain {'type', 'content'} dicts, or serialised LangChain messages."
        ),
    ]
    submission_id: NotRequired[
        Annotated[
            str,
            Field(
                description="Set by memory-reflect's executor: the submission this run was "
                "created for, whose inbox entry the run acknowledges."
            ),
        ]
    ]
    redelivery: NotRequired[
        Annotated[
            int,
            Field(
                description="Set by the server's redeliverer: the attempt number of a run "
                "that processes the thread's inbox again after its run failed or was lost "
                "(its messages are empty)."
            ),
        ]
    ]
    consolidate: NotRequired[
        Annotated[
            bool,
            Field(
                description="Consolidate the run's namespace instead of extracting: merge "
                "near-duplicates, retire facts a newer one contradicts and keep it under "
                "max_memories, every retirement recorded in history (its messages are "
                "empty). memory-reflect consolidate sends it."
            ),
        ]
    ]


class OutputState(TypedDict):
    """What a run processed and what it changed in memory."""

    processed: Annotated[
        list[ProcessedMessage],
        Field(description="Messages this run processed, each with its submission id."),
    ]
    submissions: Annotated[
        list[str], Field(description="Submission ids this run processed (from input and inbox).")
    ]
    skipped_message_ids: Annotated[
        list[str],
        Field(description="Message ids left out because an earlier run had processed them."),
    ]
    changes: Annotated[
        Changes, Field(description="Memory keys this run created, updated and deleted.")
    ]
    namespaces: Annotated[
        list[list[str]],
        Field(description="Memory namespaces this run wrote to or read for (one per batch)."),
    ]
    extractor: Annotated[
        str, Field(description="'offline' (rule-based) or the chat model that extracted memories.")
    ]
    change_text: Annotated[
        dict[str, ChangeText],
        Field(description="Text of each memory in `changes`, by path: before and after."),
    ]
    usage: Annotated[
        Usage, Field(description="Model calls, prompt/completion tokens and model time.")
    ]
    run_id: Annotated[str | None, Field(description="The run that produced this state.")]
    timing: Annotated[Timing, Field(description="When submitted, due, started and finished.")]


class State(InputState, OutputState):
    """Everything a run carries between its steps."""

    batches: Annotated[
        list[Batch],
        Field(
            description="Scratch: new messages per namespace (gather → extract), emptied by commit."
        ),
    ]
    inbox_keys: Annotated[
        list[str],
        Field(description="Scratch (gather → commit): inbox items to delete once written."),
    ]
    ops: Annotated[
        list[StagedOp],
        Field(description="Scratch (extract → commit): staged memory writes; empty after commit."),
    ]
    # The reducer must stay the last metadata item: LangGraph reads it from there.
    seen_message_ids: Annotated[
        list[str],
        Field(description="Every message id processed on this thread, to skip re-sent history."),
        merge_ids,
    ]
