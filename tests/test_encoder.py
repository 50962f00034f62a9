"""The e5 encoder's compiled backend (onnxruntime) against the numpy forward
pass, its on-disk cache, and the fallback to numpy without onnxruntime."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from kroniek.models.e5context import token_features
from kroniek.nlp import encoder as E

WORDS = ("Het Kremlin heeft volgens het ISW toegegeven dat de Russische troepen "
         "rond Charkiv een nederlaag hebben geleden , aldus Poetin gisteren in Moskou .").split()
LAYERS = (2, 4)


@pytest.fixture(scope="module")
def reference():
    enc = E.E5Encoder(max_layer=4, backend="numpy")
    (f,) = token_features(enc, [WORDS], LAYERS)
    return f


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.mark.parametrize("backend", ["ort-fp32", "ort-q4"])
def test_ort_backend_matches_numpy_on_dutch_text(backend, reference, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    monkeypatch.setenv("KRONIEK_CACHE", str(tmp_path))
    enc = E.E5Encoder(max_layer=4, backend=backend)
    (f,) = token_features(enc, [WORDS], LAYERS)
    assert isinstance(enc._runner(), E.OrtRunner)
    assert f.shape == reference.shape == (len(WORDS), 384 * len(LAYERS))
    for k in range(len(LAYERS)):
        a, b = reference[:, k * 384:(k + 1) * 384], f[:, k * 384:(k + 1) * 384]
        assert np.abs(a - b).max() < 1e-3
        assert _cosines(a, b).min() > 0.99999
    # the graph is cached under KRONIEK_CACHE and reused by the next encoder
    files = list(tmp_path.glob("e5-small-*.onnx"))
    assert len(files) == 1
    monkeypatch.setattr(E, "build_onnx", lambda *a: pytest.fail("rebuilt a cached graph"))
    (g,) = token_features(E.E5Encoder(max_layer=4, backend=backend), [WORDS], LAYERS)
    np.testing.assert_array_equal(f, g)


def test_ort_backend_returns_the_requested_layers_in_order(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    monkeypatch.setenv("KRONIEK_CACHE", str(tmp_path))
    tok = E.get_encoder(0).tokenizer
    seqs = [[tok.bos] + tok.encode("Poetin sprak in Moskou.") + [tok.eos], [tok.bos] + tok.encode("Kiev.") + [tok.eos]]
    ref = E.E5Encoder(max_layer=3, backend="numpy").forward(seqs, (3, 0, 1))
    got = E.E5Encoder(max_layer=3, backend="ort-fp32").forward(seqs, (3, 0, 1))
    for r, g in zip(ref, got):
        assert r.shape == g.shape
        for i, s in enumerate(seqs):  # rows past a sequence's end are padding
            np.testing.assert_allclose(r[i, : len(s)], g[i, : len(s)], atol=1e-3)


def test_backend_falls_back_to_numpy_without_onnxruntime(reference, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import raises ImportError
    enc = E.E5Encoder(max_layer=4, backend="ort-fp32")
    (f,) = token_features(enc, [WORDS], LAYERS)
    assert enc._runner() is None
    np.testing.assert_array_equal(f, reference)


def test_backend_is_chosen_by_environment_and_checked(monkeypatch):
    monkeypatch.setenv("KRONIEK_E5_BACKEND", "numpy")
    enc = E.E5Encoder(max_layer=1)
    assert enc.backend == "numpy" and enc._runner() is None
    with pytest.raises(ValueError, match="unknown e5 backend"):
        E.E5Encoder(max_layer=1, backend="tpu")._runner()
