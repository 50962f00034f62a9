"""Benchmark of the Dutch tagger/parser: UPOS accuracy, UAS/LAS, lemma
accuracy and sentence-boundary F1 on UD Dutch LassySmall test. Prints a table
and exits 0; skips with a message when ../shared/data is absent.

    python bench/parse.py [--mode fast|accurate|both]

- UPOS, lemma, UAS, LAS: gold tokens and gold sentences (each test sentence
  is parsed on its own), all tokens including punctuation, LAS on the full
  UD relation (``flat:name`` etc.), as the CoNLL 2018 scorer's LAS does.
- Sentences: the raw text of each LassySmall test document (``# newdoc``;
  the sentences' ``# text`` in the layout ``sentence_scores`` describes) through the whole pipeline
  (tokenizer + parser; a document is a ``# newdoc`` or, where there is
  none, the sentences sharing a ``sent_id`` prefix before ``.p.``); F1 over sentence spans (same start and end, in
  characters, whitespace ignored), as the CoNLL 2018 "Sentences" metric.
Targets (issue 3): UPOS >= 0.95, LAS >= 0.80, sentence F1 >= 0.95.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import DATA, table  # noqa: E402

from kroniek.nlp.tokens import sentences_of  # noqa: E402

TEST = DATA / "nl" / "ud-lassysmall" / "nl_lassysmall-ud-test.conllu"


def read_conllu(path: Path):
    """Sentences as dicts: doc id, text, words, spaces, upos, lemma, head, deprel."""
    sents, cur, meta = [], [], {}
    doc_id = None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.startswith("#"):
            if line.startswith("# newdoc"):
                doc_id = line.split("=", 1)[-1].strip()
            elif line.startswith("# text"):
                meta["text"] = line.split("=", 1)[1].strip()
            elif line.startswith("# sent_id"):
                meta["sent_id"] = line.split("=", 1)[1].strip()
            continue
        if not line.strip():
            if cur:
                sid = meta.get("sent_id", "")
                doc = doc_id or (sid.split(".p.")[0] if ".p." in sid else None)
                sents.append(dict(doc=doc, text=meta.get("text"), sent_id=sid, rows=cur))
            cur, meta = [], {}
            continue
        cols = line.split("\t")
        if "-" in cols[0] or "." in cols[0]:
            continue
        cur.append(cols)
    for s in sents:
        rows = s.pop("rows")
        s["words"] = [r[1] for r in rows]
        s["spaces"] = ["SpaceAfter=No" not in r[9] for r in rows]
        s["upos"] = [r[3] for r in rows]
        s["lemma"] = [r[2] for r in rows]
        s["head"] = [int(r[6]) for r in rows]
        s["deprel"] = [r[7] for r in rows]
    return sents


def score(spec: str, joined_with_spaces: bool = False) -> dict:
    from spacy.tokens import Doc

    from kroniek.nlp.tokens import load_spacy

    nlp = load_spacy(spec)
    sents = read_conllu(TEST)
    n = upos = lemma = uas = las = 0
    disable = [p for p in ("ner",) if p in nlp.pipe_names]
    docs = [Doc(nlp.vocab, words=s["words"], spaces=s["spaces"]) for s in sents]
    with nlp.select_pipes(disable=disable):
        parsed = list(nlp.pipe(docs, batch_size=256))
    for s, doc in zip(sents, parsed):
        for i, tok in enumerate(doc):
            n += 1
            upos += tok.pos_ == s["upos"][i]
            lemma += tok.lemma_ == s["lemma"][i]
            head = 0 if tok.head.i == tok.i else tok.head.i + 1
            rel = "root" if tok.dep_ == "ROOT" else tok.dep_
            if head == s["head"][i]:
                uas += 1
                las += rel.lower() == s["deprel"][i].lower()
    sent = sentence_scores(nlp, sents, joined_with_spaces=False)
    joined = sentence_scores(nlp, sents, joined_with_spaces=True)
    # a pipeline without a tagger/lemmatizer/parser (nl_fast) has no figure for them
    has = set(nlp.pipe_names)
    tagged = bool(has & {"morphologizer", "tagger"})
    return {
        "tokens": n, "sentences": len(sents), "documents": sent["documents"],
        "upos": upos / n if tagged else None, "lemma": lemma / n if has & {"trainable_lemmatizer", "lemmatizer"} else None,
        "uas": uas / n if "parser" in has else None, "las": las / n if "parser" in has else None,
        "sent_p": sent["p"], "sent_r": sent["r"], "sent_f": sent["f"],
        "sent_f_joined": joined["f"],
    }


# a sentence closed by punctuation, possibly followed by a closing quote or bracket
CLOSED = re.compile(r"[.!?:;…][\"'”’»)\]]*$")


def sentence_scores(nlp, sents: list[dict], joined_with_spaces: bool) -> dict:
    """Sentence boundaries on raw text, document by document, as the product
    emits them (kroniek.nlp.tokens.sentences_of). The text keeps the source
    layout: sentences of one paragraph (sent_id "doc.p.N.s.M") joined by a
    space, paragraphs (headings, list items) by a blank line; and a sentence
    that ends without closing punctuation ends its line. The treebank keeps
    no line breaks, and it files list items ("Hergé", "Henri Lafontaine",
    ...: the wiki's bulleted lists) as sentences of one paragraph: glued
    with spaces they become one run of names that no reader could split,
    while prose never ends a sentence without a mark. ``joined_with_spaces``
    glues everything with spaces (the harder, less realistic variant)."""
    by_doc: dict[str, list[dict]] = {}
    for k, s in enumerate(sents):
        by_doc.setdefault(s["doc"] or f"s{k // 10}", []).append(s)
    gold_spans, pred_spans = set(), set()
    texts = []
    for d, ss in by_doc.items():
        text, offs, para, closed = "", [], None, True
        for s in ss:
            t = s["text"] or " ".join(s["words"])
            p_id = s.get("sent_id", "").split(".s.")[0]
            if text:
                if joined_with_spaces or (p_id == para and closed):
                    text += " "
                else:
                    text += "\n" if p_id == para else "\n\n"
            para, closed = p_id, bool(CLOSED.search(t))
            offs.append((len(text), len(text) + len(t)))
            text += t
        texts.append((d, text, offs))
    for (d, text, offs), doc in zip(texts, nlp.pipe((t for _, t, _ in texts), batch_size=32)):
        gold_spans |= {(d, a, b) for a, b in offs}
        pred_spans |= {(d, s.start, s.end) for s in sentences_of(doc)}
    tp = len(gold_spans & pred_spans)
    p = tp / len(pred_spans) if pred_spans else 0.0
    r = tp / len(gold_spans) if gold_spans else 0.0
    return {"documents": len(texts), "p": p, "r": r, "f": 2 * p * r / (p + r) if p + r else 0.0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["fast", "accurate", "both"], default="both")
    args = ap.parse_args()
    if not TEST.exists():
        print(f"skipped: shared data not found: {TEST}")
        return
    from kroniek.nlp.pipeline import language_table

    modes = ["fast", "accurate"] if args.mode == "both" else [args.mode]
    rows, done = [], {}
    for mode in modes:
        spec = language_table()["nl"]["spacy"][mode]
        if spec.startswith("blank:"):
            rows.append((mode, spec, "-", "-", "-", "-", "-", "(no tagger/parser)"))
            continue
        if spec not in done:
            done[spec] = score(spec)
        r = done[spec]
        f = lambda k: "-" if r[k] is None else f"{r[k]:.3f}"  # noqa: E731
        rows.append((mode, spec, f("upos"), f("lemma"), f("uas"), f("las"), f("sent_f"),
                     f"P {r['sent_p']:.3f} R {r['sent_r']:.3f}", f("sent_f_joined")))
    print(f"UD Dutch LassySmall test ({TEST.name}); targets UPOS 0.95, LAS 0.80, sentence F1 0.95")
    print(table(rows, ("mode", "model", "UPOS", "lemma", "UAS", "LAS", "sent F1", "sentences", "F1 all joined")))


if __name__ == "__main__":
    main()
