"""Tests named as ``tests/<path>.py::<test>`` in docs, docstrings and comments exist.

A renamed test otherwise leaves a pointer to nothing (issue 19 found one in
``tests/scaleout/``).
"""

from __future__ import annotations

import ast
import re

from deploy.devserver import ROOT

REFERENCE = re.compile(r"(tests/[\w/]+\.py)::(\w+)")
SOURCES = ["README.md", "docs", "deploy", "tests", "bench", "graphs", "sdk_client"]


def _files():
    for name in SOURCES:
        path = ROOT / name
        if path.is_file():
            yield path
        else:
            yield from (p for p in path.rglob("*") if p.suffix in {".py", ".md"})


def _defined(path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_named_test_exists():
    missing = []
    for source in _files():
        for file, name in REFERENCE.findall(source.read_text(errors="replace")):
            target = ROOT / file
            if not target.is_file() or name not in _defined(target):
                missing.append(f"{source.relative_to(ROOT)}: {file}::{name}")
    assert missing == []
