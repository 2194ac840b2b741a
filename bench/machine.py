"""The machine a benchmark ran on, and the head every results file starts with."""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def describe() -> str:
    """CPU model, core count, memory, Python and OS."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(next(line.split()[1] for line in f if line.startswith("MemTotal")))
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def header(opts: argparse.Namespace | None = None) -> dict[str, Any]:
    """The start of a results record: the machine, the date, and the run's arguments if given.

    ``full`` says whether it ran at full size (False for ``--smoke``), so the docs'
    tables say when they show a smoke run.
    """
    head: dict[str, Any] = {"machine": describe(), "date": time.strftime("%Y-%m-%d %H:%M")}
    if opts is not None:
        if hasattr(opts, "smoke"):
            head["full"] = not opts.smoke
        head["args"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(opts).items()}
    return head


def save(record: Mapping[str, Any], out: Path) -> None:
    """Write a results record as JSON, making its folder if missing."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
