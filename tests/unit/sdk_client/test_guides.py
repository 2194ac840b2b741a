"""The guides (docs/guides.md) stay true to the API: every snippet compiles, every name exists.

The snippets need a server, FastAPI or a model key to run; the integration
tests named next to each guide run the same calls for real.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import sdk_client

GUIDES = Path(__file__).resolve().parents[3] / "docs" / "guides.md"
# Variables that hold one of our executors or Futures in the snippets.
EXECUTOR_VARS = {"executor", "memory"}
FUTURE_VARS = {"fut"}


def guide_snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", GUIDES.read_text(), flags=re.S)


def test_there_is_a_guide_per_use():
    text = GUIDES.read_text()
    for title in [
        "LangGraph entrypoint",
        "FastAPI",
        "serverless",
        "async code",
        "In-process",
        "Studio",
    ]:
        assert re.search(rf"^## .*{title}", text, flags=re.M | re.I), title
    assert len(guide_snippets()) == 5


@pytest.mark.parametrize("snippet", guide_snippets(), ids=lambda s: s.splitlines()[0][:40])
def test_snippet_compiles_and_uses_only_real_names(snippet):
    tree = ast.parse(snippet)
    compile(tree, "<docs/guides.md>", "exec")
    ours: list[type] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "sdk_client":
            for alias in node.names:
                assert alias.name in sdk_client.__all__, alias.name
                obj = getattr(sdk_client, alias.name)
                if isinstance(obj, type):
                    ours.append(obj)
    executors = [c for c in ours if c.__name__.endswith("ReflectionExecutor")]
    assert executors, "each guide uses one of our executors"
    futures = [sdk_client.SubmissionFuture, sdk_client.LocalFuture]
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        owner = node.value
        name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
        if name in EXECUTOR_VARS:
            assert any(hasattr(c, node.attr) for c in executors), f"{name}.{node.attr}"
        if name in FUTURE_VARS:
            assert any(hasattr(c, node.attr) for c in futures), f"{name}.{node.attr}"
