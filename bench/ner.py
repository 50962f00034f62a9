"""Benchmark of named-entity mentions: quality, speed, load time, size.
Prints tables and exits 0; skips (with a message) what has no data.

    python bench/ner.py [--mode fast|accurate|both] [--no-speed]

Dutch: CoNLL-2002 ``nl/conll2002/ned.testa`` (never used for training or
checkpoint selection), gold tokens, exact-span micro P/R/F1 with conlleval
semantics (a predicted entity counts only with the same first token, last
token and type), per type too. Two rows per mode: the statistical model's
entities as they are ("model"), and after the mentions stage's tables
("mentions": articles cut, demonyms MISC, gazetteer types; kroniek/nlp/lexicon/nl).

English: WNUT17 test (``en/wnut17/emerging.test.annotated``), gold tokens,
mapped to the contract's types: person -> PER, location -> LOC,
corporation -> ORG, group -> ORG, product -> MISC, creative-work -> MISC;
the model's OntoNotes labels go through kroniek/nlp/lexicon/en/mentions.toml.

Speed: the full Dutch pipeline (tokenizer, tagger/morphology, lemmatizer,
parser, NER) on one core (OMP/BLAS threads = 1), ``nlp.pipe`` in batches over
the ned.testa articles as raw text; tokens/s. Load time: ``spacy.load`` in a
fresh process. Size: the model folder on disk.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import DATA, REPO, conll_articles, table  # noqa: E402

WNUT_MAP = {"person": "PER", "location": "LOC", "corporation": "ORG", "group": "ORG",
            "product": "MISC", "creative-work": "MISC"}


# -- data -------------------------------------------------------------------------

def read_conll(path: Path, sep: str | None = None, label_map: dict | None = None):
    """[(words, spans)] per document (CoNLL-2002: -DOCSTART-) or per sentence
    (WNUT); spans are (start, end, type) token ranges from IOB tags."""
    docs, words, tags = [], [], []

    def flush():
        if words:
            docs.append((list(words), iob_spans(tags, label_map)))
        words.clear()
        tags.clear()

    per_sentence = label_map is not None
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split(sep) if sep else line.split()
        if not line.strip():
            if per_sentence:
                flush()
            else:
                tags.append("O-BOUNDARY")  # sentence break: ends entities
                words.append(None)
            continue
        if parts[0] == "-DOCSTART-":
            flush()
            continue
        words.append(parts[0])
        tags.append(parts[-1])
    flush()
    out = []
    for ws, spans in docs:  # drop the sentence-break markers, re-index spans
        keep = [i for i, w in enumerate(ws) if w is not None]
        index = {old: new for new, old in enumerate(keep)}
        index[len(ws)] = len(keep)
        fixed = []
        for s, e, t in spans:
            fixed.append((index[s], index[e] if e in index else index[e - 1] + 1, t))
        out.append(([ws[i] for i in keep], fixed))
    return out


def iob_spans(tags: list[str], label_map: dict | None):
    spans, start, typ = [], None, None
    for i, tag in enumerate(tags + ["O"]):
        if tag.startswith("I-") and typ == tag[2:] and start is not None:
            continue
        if start is not None:
            spans.append((start, i, typ))
            start, typ = None, None
        if tag.startswith("B-") or tag.startswith("I-"):
            start, typ = i, tag[2:]
    if label_map is not None:
        spans = [(s, e, label_map[t]) for s, e, t in spans if t in label_map]
    return spans


# -- scoring ----------------------------------------------------------------------

def prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"p": p, "r": r, "f": 2 * p * r / (p + r) if p + r else 0.0, "tp": tp, "fp": fp, "fn": fn}


def evaluate(gold_docs, pred_docs) -> dict:
    tp, fp, fn = Counter(), Counter(), Counter()
    for gold, pred in zip(gold_docs, pred_docs):
        g, p = set(gold), set(pred)
        for s in g & p:
            tp[s[2]] += 1
        for s in p - g:
            fp[s[2]] += 1
        for s in g - p:
            fn[s[2]] += 1
    types = sorted(set(tp) | set(fp) | set(fn))
    res = prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    res["per_type"] = {t: prf(tp[t], fp[t], fn[t]) for t in types}
    return res


def load_model(spec: str):
    from kroniek.nlp.tokens import load_spacy

    return load_spacy(spec)


def predict(nlp, docs_words, lang: str, rules: bool):
    """Token-range spans per document, on gold tokens."""
    from spacy.tokens import Doc

    from kroniek.nlp.mentions import MentionRules

    mr = MentionRules.load(lang)
    docs = [Doc(nlp.vocab, words=ws) for ws in docs_words]
    out = []
    for doc in nlp.pipe(docs, batch_size=64):
        if rules:
            out.append(mr.spans(doc))
        else:
            out.append([(e.start, e.end, mr.labels.get(e.label_, e.label_)) for e in doc.ents
                        if mr.labels.get(e.label_, e.label_)])
    return out


def score_dutch(spec: str, rules: bool = False) -> dict:
    data = read_conll(DATA / "nl" / "conll2002" / "ned.testa")
    nlp = load_model(spec)
    return evaluate([s for _, s in data], predict(nlp, [w for w, _ in data], "nl", rules))


def score_english(spec: str) -> dict:
    data = read_conll(DATA / "en" / "wnut17" / "emerging.test.annotated", sep="\t", label_map=WNUT_MAP)
    nlp = load_model(spec)
    return evaluate([s for _, s in data], predict(nlp, [w for w, _ in data], "en", True))


def speed(spec: str, texts: list[str], batch_size: int = 64) -> tuple[float, int]:
    nlp = load_model(spec)
    list(nlp.pipe(texts[:4]))  # warm up (lazy OOV map, caches of the first words)
    t = time.perf_counter()
    n = sum(len(d) for d in nlp.pipe(texts, batch_size=batch_size))
    return n / (time.perf_counter() - t), n


def load_time(spec: str) -> float:
    code = (
        "import time, kroniek.models, spacy\n"
        "from kroniek.nlp.tokens import load_spacy\n"
        # loading includes whatever the first document needs (the e5 encoder
        # of the accurate pipeline is read lazily, on the first text)
        f"t=time.perf_counter(); nlp=load_spacy({spec!r}); nlp('Poetin sprak in Moskou.'); print(time.perf_counter()-t)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    try:
        return float(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return float("nan")


def model_size_mb(spec: str) -> float | None:
    p = REPO / "kroniek" / "models" / spec
    if not p.is_dir():
        return None
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) / 2**20


def fmt(x: float) -> str:
    return f"{x:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["fast", "accurate", "both"], default="both")
    ap.add_argument("--no-speed", action="store_true")
    args = ap.parse_args()
    from kroniek.nlp.pipeline import language_table

    modes = ["fast", "accurate"] if args.mode == "both" else [args.mode]
    nl_specs = {m: language_table()["nl"]["spacy"][m] for m in modes}
    en_specs = {m: language_table()["en"]["spacy"][m] for m in modes}
    testa = DATA / "nl" / "conll2002" / "ned.testa"
    if not testa.exists():
        print(f"skipped Dutch: shared data not found: {testa}")
    else:
        rows, type_rows, done = [], [], {}
        for mode, spec in nl_specs.items():
            for rules in (False, True):
                key = (spec, rules)
                if key not in done:
                    done[key] = score_dutch(spec, rules)
                r = done[key]
                name = "mentions" if rules else "model"
                rows.append((mode, spec, name, fmt(r["p"]), fmt(r["r"]), fmt(r["f"])))
                for t, v in r["per_type"].items():
                    type_rows.append((mode, name, t, fmt(v["p"]), fmt(v["r"]), fmt(v["f"]), v["tp"] + v["fn"]))
        print("Dutch NER, CoNLL-2002 ned.testa (gold tokens, exact span, micro)")
        print(table(rows, ("mode", "model", "layer", "P", "R", "F1")))
        print()
        print(table(type_rows, ("mode", "layer", "type", "P", "R", "F1", "gold")))
        print()
    wnut = DATA / "en" / "wnut17" / "emerging.test.annotated"
    if not wnut.exists():
        print(f"skipped English: shared data not found: {wnut}")
    else:
        rows, type_rows, done = [], [], {}
        for mode, spec in en_specs.items():
            if spec not in done:
                done[spec] = score_english(spec)
            r = done[spec]
            rows.append((mode, spec, fmt(r["p"]), fmt(r["r"]), fmt(r["f"])))
            for t, v in r["per_type"].items():
                type_rows.append((mode, t, fmt(v["p"]), fmt(v["r"]), fmt(v["f"]), v["tp"] + v["fn"]))
        print("English NER, WNUT17 test mapped to PER/ORG/LOC/MISC (person->PER, location->LOC,")
        print("corporation/group->ORG, product/creative-work->MISC), mentions stage, exact span")
        print(table(rows, ("mode", "model", "P", "R", "F1")))
        print()
        print(table(type_rows, ("mode", "type", "P", "R", "F1", "gold")))
        print()
    if args.no_speed:
        return
    rows = []
    texts = conll_articles(testa) if testa.exists() else []
    for mode, spec in nl_specs.items():
        tps, n = speed(spec, texts) if texts else (float("nan"), 0)
        size = model_size_mb(spec)
        rows.append((mode, spec, f"{tps:,.0f}", n, f"{load_time(spec):.2f}", f"{size:.0f}" if size else "-"))
    print("Full Dutch pipeline, one core, nlp.pipe over ned.testa articles (raw text)")
    print(table(rows, ("mode", "model", "tokens/s", "tokens", "load+first doc s", "size MB")))


if __name__ == "__main__":
    main()
