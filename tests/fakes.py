"""Stand-ins for a chat model in in-process tests (the real HTTP one is ``tests/llm_endpoint.py``)."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

__all__ = ["ToolCallingFake"]


class ToolCallingFake(GenericFakeChatModel):
    """Replies with the next scripted message; tools bound to it are accepted and ignored.

    ``ToolCallingFake(messages=iter(replies))``: langmem binds its tools and reads the
    scripted ``tool_calls``; one reply per model call, so an extra call fails loudly.
    """

    def bind_tools(self, tools: Any, **kwargs: Any) -> ToolCallingFake:
        return self
