"""Train the English cue model of the quotes stage on PolNeAR train.

The parse rules of kroniek/nlp/quotes.py propose a candidate report for every
verb with a subject and a complement (a clause, object, infinitive or
prepositional object); the lemma lists in lexicon/en/quotes.toml accept a
few hundred lemmas. This script records every candidate on PolNeAR *train*
(quotes.TRACE), labels it 1 where PolNeAR has an attribution whose cue
overlaps the candidate's cue and whose content overlaps its content, and
fits a logistic regression over the candidate's parse features
(``_Extractor.cue_features``). The two thresholds (``add``: a verb outside
the lists or a negated one is emitted; ``keep``: a listed one is kept) are
chosen on out-of-fold scores (5 folds by article, train only) for the best
simulated content-overlap F1 on train. PolNeAR dev is never read.

Writes kroniek/nlp/lexicon/en/quotes-cues.tsv (feature, weight), which the
[parse] table of lexicon/en/quotes.toml names.

    OMP_NUM_THREADS=1 python training/quotes_en.py [--cache /tmp/kroniek_quotes_en_train.pkl]

The parses (spaCy pipeline and the stages before quotes) are cached to
--cache; delete it after a change to those stages.
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import random
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from _common import DATA  # noqa: E402

from kroniek.nlp import quotes as Q  # noqa: E402

OUT = ROOT / "kroniek" / "nlp" / "lexicon" / "en" / "quotes-cues.tsv"


def parse_split(split: str, cache: Path) -> list:
    """[(name, text, gold, mentions, places, doc)] for a PolNeAR split, cached."""
    import spacy
    from spacy.tokens import DocBin

    from kroniek.document import Article, Mention, Place
    from quotes import Runner, polnear_files, read_ann

    if not cache.exists():
        runner = Runner("en")
        out, db = [], DocBin(store_user_data=True)
        for tf, ann in polnear_files(DATA / "en" / "polnear" / split, None):
            text = tf.read_text(encoding="utf-8")
            art = Article.new(text, language="en")
            for st in runner.before:
                st([art])
            db.add(art._doc)
            out.append((tf.stem, text, read_ann(ann), [m.model_dump() for m in art.mentions],
                        [p.model_dump() for p in art.places]))
        with open(cache, "wb") as fh:
            pickle.dump((out, db.to_bytes()), fh)
    with open(cache, "rb") as fh:
        out, b = pickle.load(fh)
    docs = list(DocBin().from_bytes(b).get_docs(spacy.blank("en").vocab))
    return [(n, t, g, [Mention(**m) for m in ms], [Place(**p) for p in ps], d)
            for (n, t, g, ms, ps), d in zip(out, docs)]


def ov(a: tuple, b: tuple) -> bool:
    return min(a[1], b[1]) > max(a[0], b[0])


def frags_ov(p: list, g: list) -> bool:
    return any(ov(x, y) for x in p for y in g)


def candidates(data: list) -> tuple[list, dict]:
    """Every candidate report with its label, and the rule output's counts."""
    from quotes import predicted_attributions, score_attributions

    lex = Q.load_lexicon("en")
    model, lex.parse.model = lex.parse.model, None  # the rules alone
    cands = []
    counts: dict = {}
    try:
        for di, (name, text, gold, ms, ps, doc) in enumerate(data):
            Q.TRACE = []
            qs = Q.extract(text, doc, ms, "en", ps)
            trace, Q.TRACE = Q.TRACE, None
            preds = predicted_attributions(qs)
            score_attributions(text, preds, gold, counts)
            covered = [any(frags_ov(p["Content"], g["Content"]) for p in preds) for g in gold]
            for c in trace:
                hit = [j for j, g in enumerate(gold)
                       if "Cue" in g and frags_ov([c["cue"]], g["Cue"]) and frags_ov(c["content"], g["Content"])]
                src = bool(hit) and c["source"] is not None and any(
                    "Source" in gold[j] and len(gold[j]["Source"]) == 1 and gold[j]["Source"][0] == c["source"] for j in hit)
                cands.append({"doc": di, "feats": c["feats"], "learned": c["learned"], "y": int(bool(hit)),
                              "new": int(any(not covered[j] for j in hit)), "src": int(src)})
    finally:
        lex.parse.model = model
        Q.TRACE = None
    return cands, counts


def train_lr(rows: list, epochs: int = 12, l2: float = 1e-5, lr: float = 0.2, min_count: int = 3,
             seed: int = 0) -> tuple[dict, float]:
    """Logistic regression by AdaGrad over binary features."""
    from collections import Counter

    cnt = Counter(f for r in rows for f in set(r["feats"]))
    keep = {f for f, n in cnt.items() if n >= min_count}
    data = [([f for f in set(r["feats"]) if f in keep], r["y"]) for r in rows]
    w: dict = {}
    g2: dict = {}
    b, gb = 0.0, 1e-8
    rnd = random.Random(seed)
    order = list(range(len(data)))
    for _ in range(epochs):
        rnd.shuffle(order)
        for i in order:
            fs, y = data[i]
            z = b + sum(w.get(f, 0.0) for f in fs)
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            g = p - y
            gb += g * g
            b -= lr * g / math.sqrt(gb)
            for f in fs:
                wf = w.get(f, 0.0)
                gf = g + l2 * wf
                g2[f] = g2.get(f, 1e-8) + gf * gf
                w[f] = wf - lr * gf / math.sqrt(g2[f])
    return w, b


def score(w: dict, b: float, feats: list) -> float:
    return b + sum(w.get(f, 0.0) for f in set(feats))


def f1(m: float, p: float, g: float) -> float:
    return 2 * m / (p + g) if p + g else 0.0


def choose(cands: list, oof: list, counts: dict) -> tuple[float, float]:
    """Thresholds (add, keep) for the best simulated F1 (mean of content
    overlap and source exact) on train, from out-of-fold scores."""
    m0, p0, g0 = counts["content overlap"]
    sm0, sp0, sg0 = counts["source exact"]
    import numpy as np

    s = np.array(oof)
    L = np.array([c["learned"] for c in cands], bool)
    new, y, src = (np.array([c[k] for c in cands]) for k in ("new", "y", "src"))
    grid = [x / 4 for x in range(-16, 17)]
    best = None
    for add in grid:
        a = L & (s >= add)
        for keep in [-1e9] + grid[:17]:
            d = ~L & (s < keep)
            m = m0 + new[a].sum() - y[d].sum()
            p = p0 + a.sum() - d.sum()
            sm = sm0 + (src[a] * new[a]).sum() - src[d].sum()
            sp = sp0 + a.sum() - d.sum()
            val = (f1(m, p, g0) + f1(sm, sp, sg0)) / 2
            if best is None or val > best[0]:
                best = (val, add, keep, f1(m, p, g0), f1(sm, sp, sg0))
    print(f"rules alone on train: content overlap F1 {f1(m0, p0, g0):.3f}, source exact F1 {f1(sm0, sp0, sg0):.3f}")
    print(f"chosen add={best[1]} keep={best[2]}: simulated content overlap F1 {best[3]:.3f}, "
          f"source exact F1 {best[4]:.3f}")
    return best[1], best[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=Path("/tmp/kroniek_quotes_en_train.pkl"))
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()
    data = parse_split("train", args.cache)
    cands, counts = candidates(data)
    print(f"{len(data)} articles, {len(cands)} candidates, "
          f"{sum(c['y'] for c in cands)} attributions among them, {sum(c['learned'] for c in cands)} outside the lists")
    oof = [0.0] * len(cands)
    for k in range(args.folds):
        tr = [c for c in cands if c["doc"] % args.folds != k]
        w, b = train_lr(tr)
        for i, c in enumerate(cands):
            if c["doc"] % args.folds == k:
                oof[i] = score(w, b, c["feats"])
    add, keep = choose(cands, oof, counts)
    w, b = train_lr(cands)
    w = {f: round(x, 3) for f, x in w.items() if abs(x) >= 0.005}
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write("# English cue model of the quotes stage (kroniek/nlp/quotes.py CueModel): logistic regression\n"
                 "# over parse features of candidate reports, trained on PolNeAR v1.0.0 train only (research use;\n"
                 "# no licence stated by its authors) by training/quotes_en.py; thresholds chosen on train folds.\n")
        fh.write(f"#bias\t{b:.4f}\n#add\t{add}\n#keep\t{keep}\n")
        for f, x in sorted(w.items()):
            fh.write(f"{f}\t{x}\n")
    print(f"wrote {args.out}: {len(w)} features")


if __name__ == "__main__":
    main()
