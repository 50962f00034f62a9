"""Precompute the accurate pipelines' e5 token features for the training and
dev corpora (training/work/corpus/*.spacy -> training/work/e5cache/*.npz).

spaCy trains on ``nlp.make_doc(reference.text)``, so the features are
computed for that tokenisation; the ``kroniek_e5_context`` component finds
them by the tokens' hash (kroniek/models/e5context.py). Without this cache the
encoder would run again on every epoch. Runs in ``--jobs`` processes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORK = ROOT / "training" / "work"
LAYERS = (6, 9, 12)  # 6 for a cheaper variant; the shipped model uses what its config names
CORPORA = ("ner-train", "ner-dev", "ud-train", "ud-dev")


def _words(corpus: str) -> list[list[str]]:
    """The tokens spaCy's training loop will see: its own Corpus reader
    decides (gold words where the reference lacks spacing, else make_doc)."""
    import spacy
    from spacy.training import Corpus

    nlp = spacy.blank("nl")
    return [[t.text for t in eg.predicted] for eg in Corpus(str(WORK / "corpus" / f"{corpus}.spacy"))(nlp)]


def _stored_keys(out: Path, corpus: str) -> set[str]:
    keys: set[str] = set()
    for f in out.glob(f"{corpus}*.npz"):
        keys.update(str(k) for k in np.load(f)["keys"])
    return keys


def _features(words: list[list[str]]) -> list[np.ndarray]:
    from kroniek.models.e5context import token_features
    from kroniek.nlp.encoder import get_encoder

    return [f.astype(np.float16) for f in token_features(get_encoder(max(LAYERS)), words, LAYERS)]


def main(jobs: int, corpora: tuple[str, ...] = CORPORA) -> None:
    from kroniek.models.e5context import doc_key

    out = WORK / "e5cache"
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    for corpus in corpora:
        stored = _stored_keys(out, corpus)
        words = [w for w in _words(corpus) if doc_key(w) not in stored]
        if not words:
            continue
        # a resumed or partial run adds a file with the missing documents only
        dest = out / (f"{corpus}.npz" if not stored else f"{corpus}-{len(list(out.glob(corpus + '*.npz')))}.npz")
        parts = [words[i:i + 8] for i in range(0, len(words), 8)]
        feats: list[np.ndarray] = []
        if jobs > 1:
            import multiprocessing as mp

            with mp.get_context("fork").Pool(jobs) as pool:
                for k, f in enumerate(pool.imap(_features, parts)):
                    feats.extend(f)
                    print(f"{corpus}: {min((k + 1) * 8, len(words))}/{len(words)} docs, {time.time() - t0:.0f}s", flush=True)
        else:
            for part in parts:
                feats.extend(_features(part))
        offsets = np.cumsum([0] + [len(f) for f in feats])
        tmp = dest.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array([doc_key(w) for w in words]), offsets=offsets,
                 features=np.concatenate(feats), layers=np.array(LAYERS))
        tmp.rename(dest)
        print(f"{corpus}: {offsets[-1]} tokens in {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--corpora", nargs="+", choices=CORPORA, default=list(CORPORA),
                    help="only these corpora (a UD-only retraining needs no NER features)")
    args = ap.parse_args()
    main(args.jobs, tuple(args.corpora))
