"""The package's doors: public names load on first use, and the contract is a leaf.

The server's graph imports ``sdk_client.contract`` (and ``sdk_client.errors``);
that must not load the client's executors, httpx clients or exit hooks into
every server process. Checked in a fresh interpreter, where nothing is loaded yet.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import sdk_client
import sdk_client.errors
from sdk_client.contract import normalize_payload

ROOT = Path(__file__).resolve().parents[3]
EXECUTOR_MODULES = {
    "sdk_client.executor",
    "sdk_client.async_executor",
    "sdk_client.local",
    "sdk_client.cli",
    "sdk_client._flows",
}


def loaded_after(statement: str) -> dict[str, list[str]]:
    """Run ``statement`` in a fresh interpreter; the modules it loaded, by family."""
    code = (
        f"import sys, json; {statement}; "
        "print(json.dumps({p: sorted(m for m in sys.modules if m.split('.')[0] == p) "
        "for p in ('sdk_client', 'httpx', 'langgraph_sdk')}))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_importing_the_graph_loads_no_executor():
    loaded = loaded_after("import graphs.memory_manager.graph")["sdk_client"]
    assert "sdk_client.contract" in loaded
    assert not EXECUTOR_MODULES & set(loaded), loaded


def test_the_contract_loads_only_itself_and_its_errors():
    loaded = loaded_after("import sdk_client.contract")
    assert loaded["sdk_client"] == [
        "sdk_client",
        "sdk_client.contract",
        "sdk_client.errors",
    ]
    assert loaded["httpx"] == [] and loaded["langgraph_sdk"] == []


def test_a_public_name_loads_its_module_on_first_use():
    loaded = loaded_after("import sdk_client; sdk_client.ReflectionExecutor")["sdk_client"]
    assert "sdk_client.executor" in loaded
    assert "sdk_client.async_executor" not in loaded


@pytest.mark.parametrize("name", sdk_client.__all__)
def test_every_public_name_resolves_to_its_home(name):
    home = sdk_client._HOME[name]
    assert getattr(sdk_client, name) is getattr(importlib.import_module(home), name)
    assert name in dir(sdk_client)


def test_all_is_exactly_the_lazy_names():
    assert sorted(sdk_client.__all__) == sorted(sdk_client._HOME)
    namespace: dict[str, object] = {}
    exec("from sdk_client import *", namespace)
    assert set(sdk_client.__all__) <= set(namespace)


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        sdk_client.Nope  # noqa: B018
    assert not hasattr(sdk_client, "Nope")


def test_the_contracts_errors_are_the_public_ones():
    for name in ("ReflectError", "InvalidPayloadError", "InvalidPayloadTypeError"):
        cls = getattr(sdk_client.errors, name)
        assert cls is getattr(sdk_client, name)
        assert cls.__module__ == "sdk_client.errors"
    with pytest.raises(sdk_client.errors.ReflectError):
        normalize_payload({"messages": []})
