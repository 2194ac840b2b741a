"""all-MiniLM-L6-v2 on ONNX Runtime: sentence-transformers' vectors for about half the CPU.

Why: the local embedder is most of a memory run's server CPU. Torch's eager mode
pays a fixed cost per operator (~6 ms of CPU for a 7-token sentence on these
cores, most of it not arithmetic); ONNX Runtime runs the same graph with the same
float32 weights for ~2.6 ms. The vectors agree with sentence-transformers' to
~1e-7 (``tests/unit/graphs/memory_manager/test_minilm_onnx.py`` holds them to 1e-5), so
searches, and so the graph's output, do not change. Measured in
``docs/benchmarks.md``.

The graph is exported from the loaded torch model once per machine into
``MEMORY_EMBEDDING_CACHE`` (default ``$XDG_CACHE_HOME/memory-reflect``, else
``~/.cache/memory-reflect``), keyed by the model's path and the torch, onnx and
onnxruntime versions. It is written to a temporary file and renamed, so servers
starting together never read half a file. Anything that fails here (a package
missing, an exporter torch no longer ships, a cache that cannot be written) makes
:func:`load` return None with the reason, and the caller stays on torch.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["CACHE_VAR", "OnnxMiniLM", "cache_dir", "load"]

CACHE_VAR = "MEMORY_EMBEDDING_CACHE"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_FORMAT = "1"  # bump when the exported graph's inputs or outputs change


def cache_dir(environ: os._Environ[str] | dict[str, str] = os.environ) -> Path:
    """Where exported models are kept (outside the project: ``langgraph dev`` watches it)."""
    if environ.get(CACHE_VAR, "").strip():
        return Path(environ[CACHE_VAR].strip()).expanduser()
    base = environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "memory-reflect"


class OnnxMiniLM:
    """Mean-pooled, unit-length sentence vectors from an exported MiniLM graph.

    Tokenizes as sentence-transformers does (texts stripped, truncated to the
    model's ``max_seq_length``, padded to the longest in the call) and pools as
    its Pooling and Normalize modules do.
    """

    def __init__(self, session: Any, tokenizer: Any, max_length: int) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._max_length = max_length

    def encode(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order."""
        import numpy as np

        batch = self._tokenizer(
            [str(t).strip() for t in texts],
            padding=True,
            truncation="longest_first",
            max_length=self._max_length,
            return_tensors="np",
        )
        feed = {name: batch[name].astype(np.int64) for name in _INPUTS}
        (hidden,) = self._session.run(None, feed)
        mask = feed["attention_mask"][..., None].astype(hidden.dtype)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return [[float(x) for x in row] for row in pooled / norms]


def load(model: Any, model_path: str, threads: int) -> tuple[OnnxMiniLM | None, str]:
    """The ONNX Runtime twin of a loaded sentence-transformers MiniLM, or None and why not.

    Args:
        model: The ``SentenceTransformer`` (its first module's Hugging Face model is exported).
        model_path: Where its weights live (part of the cache key).
        threads: ONNX Runtime's intra-op threads (``MEMORY_EMBEDDING_THREADS``).
    """
    try:
        import onnxruntime
    except ImportError as err:
        return None, f"onnxruntime is not installed ({err})"
    try:
        path = _exported(model, model_path)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
    except Exception as err:  # any failure leaves the server on torch, said in the log
        return None, f"{type(err).__name__}: {err}"
    return OnnxMiniLM(session, model.tokenizer, model.max_seq_length), str(path)


def _exported(model: Any, model_path: str) -> Path:
    """The cached export for this model and these versions, made if missing."""
    import onnx
    import onnxruntime
    import torch

    key = "|".join(
        [_FORMAT, model_path, torch.__version__, onnx.__version__, onnxruntime.__version__]
    )
    folder = cache_dir()
    path = folder / f"minilm-{hashlib.sha256(key.encode()).hexdigest()[:16]}.onnx"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".onnx.part")
    os.close(fd)
    try:
        _export(model, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _export(model: Any, target: str) -> None:
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            hidden: torch.Tensor = self.inner(**dict(zip(_INPUTS, inputs, strict=True)))[0]
            return hidden

    sample = model.tokenizer(["a short example"], return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "hidden")}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # the exporter's deprecation notes, once per machine
        torch.onnx.export(
            LastHiddenState(model[0].auto_model.eval()),
            tuple(sample[name] for name in _INPUTS),
            target,
            input_names=list(_INPUTS),
            output_names=["hidden"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
