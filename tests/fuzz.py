"""``make fuzz``: Schemathesis against a keyed ``langgraph dev``; no request may get a 5xx.

`Schemathesis <https://schemathesis.readthedocs.io>`_ reads the server's own
``/openapi.json`` and sends what it allows and what it almost allows (missing fields,
wrong types, empty strings, odd filters), each operation in turn and in sequences
(create a thread, then use its id), as alice with her key. The one check: no response
is a server error. A 5xx is a bug (ours, or upstream's that our request guard must
turn into a 4xx naming the field, ``graphs/server/guard.py``).

Schemathesis lives in a venv of its own (``~/.cache/memory-reflect/fuzz``, or
``MEMORY_REFLECT_FUZZ_VENV``), built on first use: its current releases need a
``jsonschema-rs`` newer than the one langgraph-api pins, so it cannot share the
project's venv. It talks to the server over HTTP only.

    python -m tests.fuzz --seconds 600            # make fuzz
    python -m tests.fuzz --seconds 90 --seed 1    # the pass .ci/run makes

Prints Schemathesis's report (the operations tried, every failure with a ``curl`` line
to replay it) and exits non-zero on any failure, keeping the server's log (its
tracebacks say where each 5xx came from).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from deploy.devserver import run_server
from tests.server import ALICE_KEY, keyed_env

FUZZER_PIN = "schemathesis>=4.30,<5"


def _venv() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return Path(os.environ.get("MEMORY_REFLECT_FUZZ_VENV", base / "memory-reflect" / "fuzz"))


def ensure_fuzzer() -> Path:
    """The ``schemathesis`` command of the fuzzer's venv, built (once) if needed."""
    venv = _venv()
    stamp = venv / ".memory-reflect-stamp"
    want = hashlib.sha256(FUZZER_PIN.encode()).hexdigest()
    if not (stamp.exists() and stamp.read_text() == want):
        print(f"creating the fuzzer's venv {venv} ({FUZZER_PIN})", file=sys.stderr)
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, FUZZER_PIN], check=True, stderr=subprocess.DEVNULL)
        stamp.write_text(want)
    return venv / "bin" / "schemathesis"


def command(
    schemathesis: Path, url: str, seconds: int, seed: int, workers: int, phases: str
) -> list[str]:
    """The Schemathesis run: every operation, as alice, for ``seconds``, reproducible by seed."""
    return [
        str(schemathesis), "run", f"{url}/openapi.json",
        "--header", f"x-api-key: {ALICE_KEY}",
        "--checks", "not_a_server_error",
        "--phases", phases,
        "--max-time", str(seconds),
        "--seed", str(seed),
        "--workers", str(workers),
        "--request-timeout", "20",
        "--continue-on-failure",
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Start a keyed server, fuzz it, stop it; the fuzzer's exit code."""
    p = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--seconds", type=int, default=600, help="time budget (default 600)")
    p.add_argument("--seed", type=int, default=None, help="default: a new one, printed")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--phases", default="examples,coverage,fuzzing,stateful",
                   help="Schemathesis's phases (CI: coverage,fuzzing; see docs/security.md)")  # fmt: skip
    p.add_argument("--server-log", type=Path, default=Path("/tmp/memory-reflect-fuzz-server.log"),
                   help="where the server's log is kept when anything failed")  # fmt: skip
    opts = p.parse_args(argv)
    seed = opts.seed if opts.seed is not None else int.from_bytes(os.urandom(4), "big")
    schemathesis = ensure_fuzzer()
    with run_server(keyed_env()) as server:
        print(f"fuzzing {server.url} for {opts.seconds} s, seed {seed}", flush=True)
        cmd = command(schemathesis, server.url, opts.seconds, seed, opts.workers, opts.phases)
        code = subprocess.run(cmd, check=False).returncode
        if code != 0:  # the server's tracebacks say where each 5xx came from
            shutil.copyfile(server.log, opts.server_log)
            print(f"the server's log: {opts.server_log}", file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
