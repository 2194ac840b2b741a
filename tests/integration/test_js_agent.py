"""A JavaScript agent (``docs/examples/js/agent.mjs``, the guide's code) on a keyed server.

It uses ``@langchain/langgraph-sdk`` as any JS agent would: one deferred run per turn with
``multitaskStrategy: "rollback"``; the server captures each run's input, so the run
that executes processes the whole burst. Skipped where Node.js is missing (CI has it);
``make js-setup`` (part of ``make test``) installs the SDK with ``npm ci``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid

import pytest

from deploy.devserver import ROOT
from tests.integration.test_core import EXPECTED, TURNS
from tests.server import ALICE_KEY

NODE = shutil.which("node")
AGENT = ROOT / "docs" / "examples" / "js"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(NODE is None, reason="Node.js is not installed (CI has it): no JS test"),
]


def test_a_javascript_agents_burst_is_one_run_with_every_turn(keyed_server):
    assert (AGENT / "node_modules" / "@langchain" / "langgraph-sdk").is_dir(), (
        "the JS SDK is not installed: `make js-setup` (npm ci in docs/examples/js)"
    )
    user = f"js-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "LANGGRAPH_API_URL": keyed_server.url, "LANGGRAPH_API_KEY": ALICE_KEY}
    done = subprocess.run(
        [str(NODE), "agent.mjs", user, *TURNS],
        cwd=AGENT, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(out["known"]) == EXPECTED and len(out["known"]) == len(EXPECTED)
    assert out["runs"] == ["success"], "one run executed; the superseded ones were rolled back"
