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


def _piece_features_per_word(enc, words):
    """piece_features as it was, one word at a time: the reference."""
    tok = enc.tokenizer
    H = enc.H
    out = np.zeros((len(words), 3 * H + 8), dtype=np.float32)
    for k, w in enumerate(words):
        s = tok.encode_word(w) or [tok.unk]
        rows = enc.embed_rows(s)
        out[k, :H] = rows.mean(0)
        out[k, H : 2 * H] = rows[0]
        out[k, 2 * H : 3 * H] = rows[-1]
        f = 3 * H
        out[k, f] = w[:1].isupper()
        out[k, f + 1] = w.isupper() and len(w) > 1
        out[k, f + 2] = any(ch.isdigit() for ch in w)
        out[k, f + 3 + min(len(s), 4) - 1] = 1.0
        out[k, f + 7] = 1.0
    return out


def test_piece_features_are_the_per_word_features_exactly():
    # the vectorised piece_features gives unseen words their vectors
    # (kroniek.models.e5vectors): it must not move them
    enc = E.get_encoder(0)
    words = WORDS + ["", " ", "Oekraïense", "Slangeneiland", "Zelensky's", "1.234,5", "COVID-19",
                     "x" * 40, "日本語", "🙂", "e-mail", "Institute", "nederlaag", "ISW", "a"]
    np.testing.assert_array_equal(E.piece_features(enc, words), _piece_features_per_word(enc, words))
    assert E.piece_features(enc, []).shape == (0, 3 * enc.H + 8)


def test_piece_features_exact_on_conll_vocabulary():
    from tests.conftest import shared_path

    words = set()
    for name in ("ned.train", "ned.testa"):
        for line in shared_path(f"nl/conll2002/{name}").read_text(encoding="latin-1").splitlines():
            if line.split():
                words.add(line.split()[0])
    words = sorted(words)
    enc = E.get_encoder(0)
    np.testing.assert_array_equal(E.piece_features(enc, words), _piece_features_per_word(enc, words))
