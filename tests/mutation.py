"""Mutation testing (``make mutation``): do the unit tests fail when the promises break?

mutmut changes one thing at a time in the modules that carry the promises (the
wire contract, the executors' decisions, the Ledger, the graph's gather/commit,
auth and the server's request checks) and runs the unit tests that reach it. A
mutant no test notices is a *survivor*: either a test is missing, or the change
makes no difference (an *equivalent* mutant). docs/mutation.md lists the
equivalent ones with the reason; this script fails on any other survivor.

    python -m tests.mutation                 # every module (see docs/mutation.md for times)
    python -m tests.mutation contract ledger # some of them
    python -m tests.mutation --write         # ... and rewrite the table in docs/mutation.md

mutmut works in a ``mutants/`` folder next to the code; that folder is kept out of
the tree (``MUTATION_DIR``, default /tmp/memory-reflect-mutation), which this
script keeps in sync with the tree. When anything changed, mutmut's map of which
test reaches which function (``mutants/mutmut-stats.json``) is dropped, so mutmut
collects it again: a stale map shows new code as "no tests" and lets a test that
now reaches a function go unrun.
"""

from __future__ import annotations

import argparse
import filecmp
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "mutation.md"
WORK = Path(os.environ.get("MUTATION_DIR", "/tmp/memory-reflect-mutation"))
MUTMUT = Path(sys.executable).parent / "mutmut"

_SERVER_CHECKS = [
    "run_request_error", "_run_error", "parse_body", "body_error", "_checks_runs",
    "request_error", "_schedule_error", "_valid_cron", "_keeping_http_errors", "_http_error_behind",
    "_read_body", "_content_length", "_header", "_refusal", "_origin_allowed",
    "_send_json", "_replay",
]  # fmt: skip
# Module name → mutmut's mutant-name patterns (its names: module.x_function__mutmut_N,
# module.xǁClassǁmethod__mutmut_N). server_checks: only the request guard's checks.
MODULES: dict[str, list[str]] = {
    "contract": ["sdk_client.contract.*"],
    "records": ["sdk_client.records.*"],
    "flows": ["sdk_client._flows.*"],
    "ledger": ["sdk_client._ledger.*"],
    "submission": ["sdk_client._submission.*"],
    "gather": ["graphs.memory_manager.gather.*"],
    "commit": ["graphs.memory_manager.commit.*"],
    "auth": ["graphs.server.auth.*"],
    "access": ["graphs.server.access.*"],
    "server_checks": [
        *(f"graphs.server.guard.x_{name}__mutmut_*" for name in _SERVER_CHECKS),
        "graphs.server.guard.xǁGuardRequestsǁ__call____mutmut_*",
    ],
}
SURVIVED = ("survived", "no tests")  # "no tests": no unit test even reaches the code
KILLED = ("killed", "timeout", "caught by type check", "segfault")
_NAME = re.compile(r"`([\w.ǁ]+__mutmut_\d+)`")
_TABLE = re.compile(r"(<!-- mutation-table -->\n).*?(\n<!-- /mutation-table -->)", re.S)


def sync_tree() -> None:
    """Make WORK a copy of the tree (tracked and untracked, not ignored), keeping mutants/."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split("\0")  # fmt: skip
    files = {f for f in listed if f and (ROOT / f).is_file()}
    WORK.mkdir(parents=True, exist_ok=True)
    changed = False
    for rel in files:
        src, dst = ROOT / rel, WORK / rel
        if not dst.exists() or not filecmp.cmp(src, dst, shallow=False):
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
            changed = True
    for path in WORK.rglob("*"):
        rel = path.relative_to(WORK).as_posix()
        if path.is_file() and rel not in files and not rel.startswith(("mutants/", ".")):
            path.unlink()
            changed = True
    if changed:
        (WORK / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    # mutmut's own copy of the tree: a module moved or deleted here must go there too, or
    # the old copy is collected and fails to import.
    for path in (WORK / "mutants").rglob("*.py"):
        rel = path.relative_to(WORK / "mutants").as_posix()
        if rel not in files:
            path.unlink()


def run(modules: list[str], jobs: int) -> float:
    """Run mutmut on the modules' mutants, in one go; the wall-clock seconds it took."""
    start = time.monotonic()
    patterns = [p for m in modules for p in MODULES[m]]
    subprocess.run(
        [str(MUTMUT), "run", "--max-children", str(jobs), *patterns],
        cwd=WORK, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.monotonic() - start


def results() -> dict[str, str]:
    """Every mutant mutmut knows of in WORK → its status."""
    out = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"],
        cwd=WORK, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    pairs = (line.strip().rsplit(": ", 1) for line in out.splitlines() if ": " in line)
    return {name: status for name, status in pairs}


def durations() -> dict[str, float]:
    """Seconds each mutant's tests ran, as mutmut recorded them (its .meta files)."""
    out: dict[str, float] = {}
    for meta in (WORK / "mutants").rglob("*.meta"):
        out.update(json.loads(meta.read_text()).get("durations_by_key", {}))
    return out


def of_module(module: str, statuses: dict[str, str]) -> dict[str, str]:
    pats = MODULES[module]
    return {n: s for n, s in statuses.items() if any(fnmatch.fnmatch(n, p) for p in pats)}


def equivalent() -> set[str]:
    """The mutants docs/mutation.md lists as equivalent (or accepted) survivors."""
    return set(_NAME.findall(DOC.read_text())) if DOC.exists() else set()


def table(rows: list[tuple[str, dict[str, str]]]) -> str:
    """Per module: mutants, killed, survivors (and how many are listed), test seconds."""
    lines = [
        "| module | mutants | killed | survived | of which listed | test seconds |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    listed, spent = equivalent(), durations()
    for module, mine in rows:
        survived = [n for n, s in mine.items() if s in SURVIVED]
        killed = sum(s in KILLED for s in mine.values())
        seconds = sum(spent.get(n, 0.0) for n in mine)
        lines.append(
            f"| {module} | {len(mine)} | {killed} | {len(survived)} | "
            f"{sum(n in listed for n in survived)} | {seconds:.0f} |"
        )
    return "\n".join(lines)


def show(name: str) -> str:
    diff = subprocess.run(
        [str(MUTMUT), "show", name], cwd=WORK, capture_output=True, text=True
    ).stdout
    return "\n".join(
        line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"of: {', '.join(MODULES)}")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--write", action="store_true", help="rewrite docs/mutation.md's table")
    parser.add_argument("--no-run", action="store_true", help="report the last run's results")
    args = parser.parse_args(argv)
    modules = args.modules or list(MODULES)
    if unknown := set(modules) - set(MODULES):
        parser.error(f"no module {sorted(unknown)}; choose from {', '.join(MODULES)}")
    if args.write and args.modules:
        parser.error("--write rewrites the whole table: run every module")

    sync_tree()
    if not args.no_run:  # one mutmut run: its start-up (a clean test run) is paid once
        print(f"mutation: {', '.join(modules)} ...", flush=True)
        print(f"mutation: took {run(modules, args.jobs):.0f} s", flush=True)
    statuses = results()
    rows = [(m, of_module(m, statuses)) for m in modules]
    print(table(rows))

    listed = equivalent()
    mine = {n: s for _, of in rows for n, s in of.items()}
    unlisted = [n for n, s in mine.items() if s in SURVIVED and n not in listed]
    unchecked = sorted({s for s in mine.values() if s not in (*SURVIVED, *KILLED)})
    for name in unlisted:
        print(f"\nSURVIVED {name} ({statuses[name]})\n{show(name)}")
    if unchecked:
        print(f"\nsome mutants were not tested: {', '.join(unchecked)} (see `mutmut results`)")
    if args.write and DOC.exists():
        DOC.write_text(_TABLE.sub(lambda m: m[1] + table(rows) + m[2], DOC.read_text()))
    print(f"\n{len(unlisted)} survivors neither killed nor listed in docs/mutation.md")
    return 1 if unlisted or unchecked else 0


if __name__ == "__main__":
    sys.exit(main())
