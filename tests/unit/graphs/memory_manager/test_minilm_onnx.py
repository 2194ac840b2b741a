"""The local embedder on ONNX Runtime: torch's vectors, an export made once, torch as the fallback."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from graphs.memory_manager import minilm_onnx
from graphs.memory_manager.embeddings import LocalMiniLM, check_runtime

TEXTS = [
    "User lives in Nairobi.",
    "  User likes running.  ",  # sentence-transformers strips: so must we
    "Ünïcödé: the user's café is in Zürich 🚲",
    "=== Human Message ===\nI moved to Lima last year and I work as a nurse. " * 3,
    "word " * 400,  # past max_seq_length (256 tokens): truncated the same way
    "",
]


@pytest.fixture(scope="module")
def torch_minilm():
    return LocalMiniLM(threads=1, runtime="torch")


@pytest.fixture(scope="module")
def onnx_minilm(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(minilm_onnx.CACHE_VAR, str(tmp_path_factory.mktemp("onnx-cache")))
        model = LocalMiniLM(threads=1, runtime="onnx")
        assert model.active_runtime == "onnx"
    return model


def test_onnx_gives_torchs_vectors(torch_minilm, onnx_minilm):
    # The graph's output depends on these vectors (dedup, searches): they must not move.
    expected = torch_minilm.embed_documents(TEXTS)
    got = onnx_minilm.embed_documents(TEXTS)
    for text, a, b in zip(TEXTS, expected, got, strict=True):
        assert len(b) == 384
        assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-5, text[:30]
    # Alone or in a batch padded to a longer text: the same vector.
    assert onnx_minilm.embed_query(TEXTS[0]) == pytest.approx(got[0], abs=1e-6)


def test_the_export_is_made_once_and_reused(tmp_path, monkeypatch, torch_minilm):
    monkeypatch.setenv(minilm_onnx.CACHE_VAR, str(tmp_path))
    model = torch_minilm._load()
    first, where = minilm_onnx.load(model, "model-a", 1)
    assert first is not None and Path(where).parent == tmp_path
    assert [p.name for p in tmp_path.iterdir()] == [Path(where).name]  # no partial file left

    def no_second_export(*_):
        raise AssertionError("exported again")

    monkeypatch.setattr(minilm_onnx, "_export", no_second_export)
    again, same = minilm_onnx.load(model, "model-a", 1)
    assert again is not None and same == where
    # Another model (or another torch / onnxruntime) is another file.
    other, why = minilm_onnx.load(model, "model-b", 1)
    assert other is None and "exported again" in why


def test_a_failed_export_leaves_the_embedder_on_torch_and_says_why(
    tmp_path, monkeypatch, caplog, torch_minilm
):
    monkeypatch.setenv(minilm_onnx.CACHE_VAR, str(tmp_path))

    def broken(model, target):
        Path(target).write_text("half")
        raise RuntimeError("exporter gone")

    monkeypatch.setattr(minilm_onnx, "_export", broken)
    fallback = LocalMiniLM(threads=1, runtime="onnx")
    with caplog.at_level(logging.WARNING):
        assert fallback.active_runtime == "torch"
    assert "exporter gone" in caplog.text
    assert list(tmp_path.iterdir()) == []  # the half-written file is gone
    assert fallback.embed_query(TEXTS[0]) == pytest.approx(
        torch_minilm.embed_query(TEXTS[0]), abs=1e-6
    )


def test_runtime_setting_is_checked_and_the_cache_is_outside_the_project(monkeypatch):
    assert check_runtime("") == "onnx" and check_runtime(" Torch ") == "torch"
    with pytest.raises(ValueError, match="MEMORY_EMBEDDING_RUNTIME='gpu'"):
        check_runtime("gpu")
    assert minilm_onnx.cache_dir({"MEMORY_EMBEDDING_CACHE": "/x/y"}) == Path("/x/y")
    assert minilm_onnx.cache_dir({"XDG_CACHE_HOME": "/c"}) == Path("/c/memory-reflect")
    assert minilm_onnx.cache_dir({}) == Path.home() / ".cache" / "memory-reflect"
