"""The scripted endpoint's usage reaches langchain-openai as a real provider's does."""

from __future__ import annotations

import pytest
from langchain_openai import ChatOpenAI

from tests.llm_endpoint import ScriptedEndpoint, count_tokens, script


def chat(endpoint: ScriptedEndpoint, **kwargs) -> ChatOpenAI:
    return ChatOpenAI(
        model="gpt-4.1-mini", base_url=endpoint.base_url, api_key="sk-test-not-a-secret", **kwargs
    )


def test_tokens_are_counted_by_word_pieces():
    assert count_tokens("") == 0
    assert count_tokens("I live in Porto.") == 5
    assert count_tokens("I'm 1234 years") == 6  # I, 'm, " ", 123, 4, " years"


def test_the_prompt_counts_the_tools_it_offers_and_grows_with_the_conversation():
    short = {"messages": [{"role": "user", "content": "hi"}]}
    longer = {"messages": [{"role": "user", "content": "hi " * 50}]}
    tools = {**short, "tools": [{"type": "function", "function": {"name": "Memory"}}]}
    assert script(longer)["usage"]["prompt_tokens"] > script(short)["usage"]["prompt_tokens"]
    assert script(tools)["usage"]["prompt_tokens"] > script(short)["usage"]["prompt_tokens"]
    usage = script(tools)["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_langchain_openai_reads_the_usage_the_endpoint_reports(llm):
    reply = chat(llm).bind_tools([{"type": "function", "function": {
        "name": "Memory", "parameters": {"type": "object", "properties": {
            "content": {"type": "string"}}}}}]).invoke("I live in Porto.")  # fmt: skip
    reported = llm.usage[-1]
    assert reported is not None and reply.tool_calls
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["input_tokens"] == reported["prompt_tokens"] > 0
    assert reply.usage_metadata["output_tokens"] == reported["completion_tokens"] > 0
    assert reply.usage_metadata["total_tokens"] == reported["total_tokens"]


def test_streamed_replies_carry_usage_too(llm):
    chunks = list(chat(llm, stream_usage=True).stream("I love tea."))
    total = sum(chunks[1:], chunks[0])
    assert total.usage_metadata is not None
    assert total.usage_metadata["input_tokens"] == llm.usage[-1]["prompt_tokens"]


def test_a_failed_call_reports_no_usage(llm):
    llm.fail_next = 1
    with pytest.raises(Exception, match="scripted failure"):
        chat(llm, max_retries=0).invoke("hi")
    assert llm.usage[-1] is None and len(llm.usage) == len(llm.requests)
