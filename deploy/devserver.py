"""Start and stop a real ``langgraph dev`` serving this project, for the demo, tests and benchmarks.

Free port on 127.0.0.1, ``--no-browser --no-reload``, enough concurrent jobs,
and a fresh working directory and log file outside the project tree: the dev
server keeps its data in ``.langgraph_api`` under its working directory, and
a file written inside the watched tree makes a reloading server restart
forever. The server is stopped by PID at the end. Because the server runs
there, it gets a copy of ``langgraph.json`` whose store-index ``embed`` path
is absolute (the server resolves that path from its working directory).

As a command it runs another command against a fresh server::

    python -m deploy.devserver -- python -m sdk_client.demo

(the inner command gets ``LANGGRAPH_API_URL``), or just serves until Ctrl-C::

    python -m deploy.devserver --port 2024
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["ROOT", "Server", "free_port", "main", "run_server", "wait_until", "write_config"]

T = TypeVar("T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(
    predicate: Callable[[], T], timeout: float, interval: float = 0.1, what: str = "condition"
) -> T:
    """Poll ``predicate`` until it returns something truthy; TimeoutError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def wait_ok(
    proc: subprocess.Popen[bytes],
    url: str,
    log_text: Callable[[], str],
    timeout: float,
    name: str,
) -> None:
    """Wait until the server process answers ``/ok``; fail early, with its log, if it exits."""

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited early:\n{log_text()[-4000:]}")
        try:
            return httpx.get(f"{url}/ok", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(ready, timeout, 0.25, f"{name} on {url}")


@dataclass
class Server:
    """A running ``langgraph dev``."""

    url: str
    port: int
    pid: int
    log: Path
    workdir: Path
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    def log_text(self) -> str:
        """Everything the server has logged so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        """Send ``sig`` to the server's process group and wait until it exits.

        ``SIGTERM`` lets ``langgraph dev`` shut down cleanly (it writes its data
        to ``workdir`` on the way out); ``SIGKILL`` is a crash.

        Returns:
            The exit code, or None if the server had already exited.
        """
        return None if self._proc is None else stop_group(self._proc, sig, timeout)

    def rss_bytes(self) -> int:
        """Resident memory of the server's process group, in bytes (Linux ``/proc``)."""
        pages = sum(int(fields[21]) for fields in _group_stats(self.pid))  # rss, in pages
        return pages * os.sysconf("SC_PAGE_SIZE")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server's process group has used so far (``/proc``)."""
        return group_cpu_seconds(self.pid)


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) a process group has used so far (Linux ``/proc``)."""
    ticks = sum(int(fields[11]) + int(fields[12]) for fields in _group_stats(pgid))
    return ticks / os.sysconf("SC_CLK_TCK")


def _group_stats(pgid: int) -> Iterator[list[str]]:
    """The ``/proc/<pid>/stat`` fields after the command name, of each process in a group."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # fields[2] is the process group id
                yield fields
        except (OSError, IndexError, ValueError):
            continue  # the process went away meanwhile


def _langgraph_bin() -> str:
    exe = Path(sys.executable).with_name("langgraph")
    return str(exe) if exe.exists() else (shutil.which("langgraph") or "langgraph")


def write_config(
    workdir: Path, *, index: bool = True, graphs: Mapping[str, str] | None = None
) -> Path:
    """Write this project's ``langgraph.json`` into ``workdir``, runnable from there.

    Args:
        workdir: Directory the server will run in.
        index: Keep the store's semantic index (False: plain key-value store,
            as the quality benchmark's baseline).
        graphs: More graphs to serve beside the project's (id -> ``path.py:attr``),
            e.g. a benchmark's baseline graph; the product's config is not changed.
    """
    config = json.loads((ROOT / "langgraph.json").read_text())
    config["graphs"] = {**config["graphs"], **(graphs or {})}
    store = config.setdefault("store", {})
    if not index:
        store.pop("index", None)
    elif "index" in store:
        embed = store["index"]["embed"]
        if ".py:" in embed:
            store["index"]["embed"] = str((ROOT / embed).resolve())
    path = workdir / "langgraph.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def _port_is_free(port: int) -> bool:
    with socket.socket() as s:
        # As uvicorn binds: a port left in TIME_WAIT by a stopped server is free again.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextmanager
def run_server(
    env: Mapping[str, str | None] | None = None,
    *,
    port: int | None = None,
    jobs: int = 10,
    index: bool = True,
    startup_timeout: float = 120.0,
    workdir: Path | None = None,
    graphs: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """Run ``langgraph dev`` on this project's ``langgraph.json`` until the block ends.

    Args:
        env: Overrides for the server's environment; a value of None removes that variable.
        port: Port to listen on (default: a free one). If it is taken, this fails
            rather than let ``langgraph dev`` silently pick another.
        jobs: Runs executed at once (``--n-jobs-per-worker``; the dev server's own
            default is one at a time).
        index: Serve the store with its semantic index (see :func:`write_config`).
        startup_timeout: Seconds to wait for ``/ok``.
        workdir: The server's working directory, where it keeps its data
            (``.langgraph_api/``). Given, it is kept at the end, so another server
            can start on the same data (a restart); default: a fresh temporary
            directory, removed at the end.
        graphs: More graphs to serve beside the project's (see :func:`write_config`).
    """
    port = port or free_port()
    if not _port_is_free(port):
        raise RuntimeError(f"port {port} on 127.0.0.1 is already in use")
    keep = workdir is not None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="memory-reflect-server-"))
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "server.log"
    full_env = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            full_env.pop(name, None)
        else:
            full_env[name] = value
    full_env.setdefault("LANGSMITH_TRACING", "false")
    full_env["LANGGRAPH_NO_ANALYTICS"] = "1"
    cmd = [
        _langgraph_bin(), "dev",
        "--config", str(write_config(workdir, index=index, graphs=graphs)),
        "--host", "127.0.0.1", "--port", str(port),
        "--no-browser", "--no-reload",
        "--n-jobs-per-worker", str(jobs),
    ]  # fmt: skip
    with log.open("ab") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=workdir,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", port, proc.pid, log, workdir, proc)
    try:
        wait_ok(proc, server.url, server.log_text, startup_timeout, "langgraph dev")
        yield server
    finally:
        stop_group(proc)
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def stop_group(
    proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 15.0
) -> int | None:
    """Stop a process started in its own session, and its children; SIGKILL if it hangs.

    Returns:
        Its exit code, or None if it had already exited.
    """
    if proc.poll() is not None:
        return None
    try:
        os.killpg(proc.pid, sig)
        return proc.wait(timeout=timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait(timeout=10)


def split_command(argv: list[str] | None) -> tuple[list[str], list[str]]:
    """``[options] -- command...`` split in two (``argv`` None: the process's own)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--" not in args:
        return args, []
    cut = args.index("--")
    return args[:cut], args[cut + 1 :]


def serve_or_run(command: list[str], env: Mapping[str, str]) -> int:
    """Run ``command`` with ``env`` added and return its exit code; none: wait for Ctrl-C."""
    if command:
        return subprocess.call(command, env={**os.environ, **env})
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0


def main(argv: list[str] | None = None) -> int:
    """Serve until Ctrl-C, or run the command after ``--`` against the server and stop it."""
    args, command = split_command(argv)
    parser = argparse.ArgumentParser(prog="python -m deploy.devserver", description=__doc__)
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    parser.add_argument("--jobs", type=int, default=10, help="runs executed at once")
    opts = parser.parse_args(args)
    # SIGTERM (a supervisor, `kill`) must unwind the `with` below, or the server outlives us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    with run_server(port=opts.port, jobs=opts.jobs) as server:
        print(f"langgraph dev serving memory_manager at {server.url} (log: {server.log})")
        return serve_or_run(command, {"LANGGRAPH_API_URL": server.url})


if __name__ == "__main__":
    raise SystemExit(main())
