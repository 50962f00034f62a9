"""Quotes and attribution: quality on the dev sets and speed of the stage.

Data (each part is skipped, with a message, when its folder is absent):

* English, PolNeAR dev (../shared/data/en/polnear/dev): BRAT-style Source /
  Cue / Content spans joined by Attribution relations (the source is the
  whole noun phrase, "Clinton campaign spokesman Brian Fallon"). Predicted
  quotes that share a cue are one attribution (PolNeAR annotates "“A,” he
  said, “B”" as one content in two fragments). Every role is matched one to
  one (greedy, best first): content overlap = the contents share a
  character; content exact = the same fragments, ignoring boundary
  whitespace, quotation marks, final punctuation and a leading "that" (the
  contract's content excludes them, PolNeAR's includes them); content chars
  = Citron's overlap measure (overlapping characters of the matched pairs
  over all predicted / gold content characters); cue overlap / exact; source
  overlap / exact, counted only when the two attributions are the same (cues
  or contents overlap), so a right name on another quote does not count.
  An article with several annotators is scored on its first annotation.
* Dutch news gold (../shared/data/nl/gold-dev/*.json, `quotes` layer):
  content P/R/F1 (overlap, as its README says to match, and exact), speaker
  accuracy on the gold quotes a prediction overlaps, and the same counted
  over all gold quotes (a missed quote counts as wrong); measured after the
  whole stage list (the entities stage may upgrade a speaker's name) and,
  on one row, with the quotes stage's own names. A speaker is right
  when the names agree case-insensitively, or one is the other's last word
  ("Zelensky" / "Volodymyr Zelensky"), with null = null.
* OpenBoek (../shared/data/nl/openboek/quotes/*.xml): Dutch novels with
  direct speech and speakers. The tokenised text is detokenised around
  quotation marks and punctuation (marks paired by parity). Quote recall and
  speaker accuracy (same matching as above) over quotes whose gold speaker
  is a named character.
* Speed: tokens per CPU second of the quotes stage alone (the spaCy
  pipeline and the earlier stages run first and are not timed), single
  thread; on every set above and on the Dutch CoNLL-2002 testa articles
  (../shared/data/nl/conll2002/ned.testa, 38k tokens).

    python bench/quotes.py [--limit N] [--only en|nl|openboek] [--split dev|train]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Optional

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, table  # noqa: E402

from kroniek.document import Article  # noqa: E402
from kroniek.nlp.pipeline import language_table, stage_class  # noqa: E402

MARKS = "\"'“”„‘’‚«»‹›"


class Runner:
    """The language's stages from languages.toml, with the quotes stage timed alone."""

    def __init__(self, lang: str, mode: str = "accurate"):
        names = list(language_table()[lang]["stages"])
        if "quotes" not in names:  # not wired yet: run it where it belongs
            at = names.index("entities") if "entities" in names else len(names)
            names.insert(at, "quotes")
        self.before = [stage_class(n)(lang, mode) for n in names[: names.index("quotes")]]
        self.quotes = stage_class("quotes")(lang, mode)
        self.after = [stage_class(n)(lang, mode) for n in names[names.index("quotes") + 1 :]]
        self.names = names
        self.seconds = 0.0
        self.tokens = 0

    def run(self, articles: list[Article]) -> None:
        for st in self.before:
            st(articles)
        t0 = time.process_time()  # CPU time: the machine may be shared
        self.quotes(articles)
        self.seconds += time.process_time() - t0
        self.tokens += sum(len(a._doc) if a._doc is not None else len(a.text.split()) for a in articles)
        # the quotes stage's own speaker names, before the entities stage upgrades them
        self.own = {(id(a), q.start, q.end): (q.speaker.name if q.speaker else None) for a in articles for q in a.quotes}
        for st in self.after:
            st(articles)


# --- matching ---------------------------------------------------------------------


def overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Overlap over union: the one-to-one matcher prefers the closest span."""
    o = overlap(a, b)
    return o / (max(a[1], b[1]) - min(a[0], b[0])) if o else 0.0


def match(preds: list, golds: list, ok) -> list[tuple[int, int]]:
    """Greedy one-to-one matching; ok(p, g) -> score (0 = no match)."""
    cands = []
    for i, p in enumerate(preds):
        for j, g in enumerate(golds):
            s = ok(p, g)
            if s > 0:
                cands.append((s, i, j))
    cands.sort(key=lambda x: -x[0])
    used_p, used_g, pairs = set(), set(), []
    for s, i, j in cands:
        if i not in used_p and j not in used_g:
            used_p.add(i)
            used_g.add(j)
            pairs.append((i, j))
    return pairs


def prf(n_match: int, n_pred: int, n_gold: int) -> tuple[str, str, str]:
    p = n_match / n_pred if n_pred else 0.0
    r = n_match / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return f"{p:.3f}", f"{r:.3f}", f"{f:.3f}"


def norm_span(text: str, a: int, b: int, comps=("that", "dat")) -> tuple[int, int]:
    while a < b and (text[a].isspace() or text[a] in MARKS):
        a += 1
    while b > a and (text[b - 1].isspace() or text[b - 1] in MARKS or text[b - 1] in ".,;:!?"):
        b -= 1
    for c in comps:
        if text[a:a + len(c) + 1].lower() == c + " ":
            a += len(c) + 1
    return a, b


def same_speaker(pred: str | None, gold: str | None) -> bool:
    if gold is None or pred is None:
        return gold is None and pred is None
    p, g = pred.strip().lower().replace("_", " "), gold.strip().lower().replace("_", " ")
    if p == g:
        return True
    pw, gw = p.split(), g.split()
    return bool(pw and gw) and (pw[-1] == gw[-1] and (len(pw) == 1 or len(gw) == 1) or p in g or g in p)


# --- English: PolNeAR ------------------------------------------------------------------


def read_ann(path: Path) -> list[dict]:
    """Attribution relations of one .ann file: {role: [(start, end), ...]} per
    relation that has a content."""
    spans, rels = {}, []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if line.startswith("T") and len(parts) >= 2:
            label, _, offs = parts[1].partition(" ")
            frags = [tuple(map(int, f.split())) for f in offs.split(";")]
            spans[parts[0]] = (label, frags)
        elif line.startswith("E") and len(parts) >= 2:
            roles = dict(x.split(":", 1) for x in parts[1].split() if ":" in x)
            rels.append(roles)
    out = []
    for r in rels:
        item = {}
        for role in ("Source", "Cue", "Content"):
            if role in r and r[role] in spans:
                item[role] = spans[r[role]][1]
        if "Content" in item:
            out.append(item)
    return out


def predicted_attributions(qs: list) -> list[dict]:
    """The quotes as PolNeAR attributions: quotes that share a cue (an
    interrupted quote, "“A,” he said, “B”", or a report read as two
    fragments) are one attribution with a discontinuous content, and so is a
    direct quote that continues the one before it (no cue of its own, the
    same speaker span: "“A,” he said. “B.”"), as PolNeAR annotates them.
    Fragments that overlap are joined."""
    groups: dict = {}
    out = []
    last_direct = None
    for q in sorted(qs, key=lambda q: (q.start, q.end)):
        key = (q.cue.start, q.cue.end) if q.cue is not None else None
        item = groups.get(key) if key is not None else None
        if item is None and key is None and q.kind == "direct" and q.speaker is not None and last_direct is not None \
                and last_direct.get("Source") == [(q.speaker.start, q.speaker.end)]:
            item = last_direct
        if item is not None:
            item["Content"].append((q.start, q.end))
        else:
            item = {"Content": [(q.start, q.end)]}
            if q.cue is not None:
                item["Cue"] = [(q.cue.start, q.cue.end)]
            if q.speaker is not None:
                item["Source"] = [(q.speaker.start, q.speaker.end)]
            out.append(item)
            if key is not None:
                groups[key] = item
        if q.kind == "direct":
            last_direct = item
    for item in out:
        frags = []
        for a, b in sorted(item["Content"]):
            if frags and a <= frags[-1][1]:
                frags[-1] = (frags[-1][0], max(b, frags[-1][1]))
            else:
                frags.append((a, b))
        item["Content"] = frags
    return out


def frag_overlap(p: list, g: list) -> int:
    return sum(overlap(a, b) for a in p for b in g)


def score_attributions(text: str, preds: list[dict], golds: list[dict], counts: dict) -> None:
    """One-to-one scoring per role: each gold attribution is matched by at most
    one predicted attribution and the other way round.

    * content overlap: the contents share a character; content exact: the same
      set of fragments after norm_span (quotation marks, "that", final
      punctuation and whitespace ignored); content chars: Citron's overlap
      measure (overlapping characters of matched pairs over all predicted /
      gold content characters);
    * cue: the cue spans overlap / are equal;
    * source: the source spans overlap / are equal (norm_span without the
      complementiser) and the two attributions are the same one (their cues or
      their contents overlap), so a right speaker on another quote does not
      count; attributions without a source are not counted on that side."""

    def same_attr(p: dict, g: dict) -> bool:
        return ("Cue" in p and "Cue" in g and frag_overlap(p["Cue"], g["Cue"]) > 0) \
            or frag_overlap(p["Content"], g["Content"]) > 0

    def nset(frags, comps=("that",)):
        return sorted(norm_span(text, a, b, comps) for a, b in frags)

    def add(key, pairs, n_pred, n_gold):
        c = counts.setdefault(key, [0, 0, 0])
        c[0] += len(pairs); c[1] += n_pred; c[2] += n_gold

    # content
    pc, gc = [p["Content"] for p in preds], [g["Content"] for g in golds]
    ov = match(pc, gc, lambda p, g: frag_overlap(p, g) / max(1, sum(b - a for a, b in p + g)))
    add("content overlap", ov, len(pc), len(gc))
    add("content exact", match(pc, gc, lambda p, g: int(nset(p) == nset(g))), len(pc), len(gc))
    c = counts.setdefault("content chars", [0, 0, 0])
    c[0] += sum(frag_overlap(pc[i], gc[j]) for i, j in ov)
    c[1] += sum(b - a for p in pc for a, b in p)
    c[2] += sum(b - a for g in gc for a, b in g)
    for role in ("Cue", "Source"):
        P = [p for p in preds if role in p]
        G = [g for g in golds if role in g]
        key = role.lower()
        add(f"{key} overlap", match(P, G, lambda p, g: (frag_overlap(p[role], g[role]) > 0 and same_attr(p, g))
                                   * (1 + frag_overlap(p["Content"], g["Content"]) / 1e6)), len(P), len(G))
        add(f"{key} exact", match(P, G, lambda p, g: (nset(p[role], ()) == nset(g[role], ()) and same_attr(p, g))
                                 * (1 + frag_overlap(p["Content"], g["Content"]) / 1e6)), len(P), len(G))


def polnear_files(root: Path, limit: Optional[int]) -> list[tuple[Path, Path]]:
    """(text, annotation) pairs; an article annotated by several annotators is
    scored on the first annotation in name order."""
    out = []
    for tf in sorted((root / "text").glob("*.txt"))[:limit]:
        ann_dir = root / "attributions"
        anns = sorted(ann_dir.glob(tf.stem + "_*.ann")) or sorted(ann_dir.glob(tf.stem + ".ann"))
        if anns:
            out.append((tf, anns[0]))
    return out


def bench_polnear(limit: int | None, split: str = "dev") -> list[tuple]:
    root = DATA / "en" / "polnear" / split
    if not root.exists():
        print(f"skipped PolNeAR: shared data not found: {root}")
        return []
    runner = Runner("en")
    files = polnear_files(root, limit)
    counts: dict = {}
    for tf, ann in files:
        text = tf.read_text(encoding="utf-8")
        gold = read_ann(ann)
        art = Article.new(text, language="en")
        runner.run([art])
        assert not art.check_spans(), art.check_spans()
        score_attributions(text, predicted_attributions(art.quotes), gold, counts)
    rows = []
    label = f"PolNeAR {split} (en)"
    for k in ("source exact", "source overlap", "cue exact", "cue overlap", "content exact", "content overlap",
              "content chars"):
        m, p, g = counts.get(k, [0, 0, 0])
        rows.append((label, k, *prf(m, p, g), m, p, g))
    rows.append((label, "speed (stage alone)", f"{runner.tokens / max(runner.seconds, 1e-9):,.0f} tok/s",
                 "", "", "", runner.tokens, len(files)))
    return rows


# --- Dutch: news gold --------------------------------------------------------------------


def bench_gold_nl(verbose: bool) -> list[tuple]:
    root = DATA / "nl" / "gold-dev"
    files = sorted(root.glob("*.json"))
    if not files:
        print(f"skipped Dutch news gold: shared data not found: {root}")
        return []
    runner = Runner("nl")
    n_pred = n_gold = n_ov = n_ex = 0
    sp_ok = sp_n = 0
    own_ok = 0
    kinds_ok = 0
    for f in files:
        d = json.loads(f.read_text(encoding="utf-8"))
        text = d["text"]
        art = Article.new(text, language="nl", published=d.get("date"))
        runner.run([art])
        assert not art.check_spans(), art.check_spans()
        qs = art.quotes
        golds = d["quotes"]
        p_sp = [(q.start, q.end) for q in qs]
        g_sp = [(g["start"], g["end"]) for g in golds]
        pairs = match(p_sp, g_sp, iou)
        ex = match(p_sp, g_sp, lambda p, g: int(norm_span(text, *p) == norm_span(text, *g)))
        n_pred += len(qs); n_gold += len(golds); n_ov += len(pairs); n_ex += len(ex)
        matched = {j: i for i, j in pairs}
        for j, g in enumerate(golds):
            i = matched.get(j)
            if i is None:
                if verbose:
                    print(f"  MISS {f.stem} [{g['kind']}] {g['text'][:80]!r} -- {g['speaker']}")
                continue
            q = qs[i]
            sp_n += 1
            name = q.speaker.name if q.speaker else None
            good = same_speaker(name, g["speaker"])
            sp_ok += good
            own_ok += same_speaker(runner.own.get((id(art), q.start, q.end)), g["speaker"])
            kinds_ok += q.kind == g["kind"]
            if verbose and not good:
                print(f"  SPK  {f.stem} {g['text'][:60]!r} gold={g['speaker']!r} pred={name!r} ({q.speaker.text if q.speaker else None!r})")
        if verbose:
            got = {i for i, _ in pairs}
            for i, q in enumerate(qs):
                if i not in got:
                    print(f"  FP   {f.stem} [{q.kind}] {q.text[:80]!r} -- {q.speaker.name if q.speaker else None}")
    rows = [
        ("nl gold-dev (10 news)", "content overlap", *prf(n_ov, n_pred, n_gold), n_ov, n_pred, n_gold),
        ("nl gold-dev (10 news)", "content exact", *prf(n_ex, n_pred, n_gold), n_ex, n_pred, n_gold),
        ("nl gold-dev (10 news)", "speaker acc. (matched quotes)", f"{sp_ok / max(sp_n, 1):.3f}", "", "", sp_ok, sp_n, ""),
        ("nl gold-dev (10 news)", "speaker acc. (all gold quotes)", f"{sp_ok / max(n_gold, 1):.3f}", "", "", sp_ok, n_gold, ""),
        ("nl gold-dev (10 news)", "speaker acc. (matched, before entities)", f"{own_ok / max(sp_n, 1):.3f}", "", "", own_ok, sp_n, ""),
        ("nl gold-dev (10 news)", "kind acc. (matched quotes)", f"{kinds_ok / max(sp_n, 1):.3f}", "", "", kinds_ok, sp_n, ""),
        ("nl gold-dev (10 news)", "speed (stage alone)", f"{runner.tokens / max(runner.seconds, 1e-9):,.0f} tok/s", "", "", "", runner.tokens, ""),
    ]
    return rows


# --- Dutch: OpenBoek ----------------------------------------------------------------------

_TAG = re.compile(r"<(/?)(quote|mention)\b([^>]*)>")


def openboek_doc(xml: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Plain text (detokenised) and gold quotes (start, end, speaker)."""
    body = xml[xml.index("<text>") + 6: xml.rindex("</text>")]
    out: list[str] = []
    pos = 0
    gold, open_q = [], None
    length = 0
    for m in _TAG.finditer(body):
        chunk = body[pos:m.start()]
        out.append(chunk)
        length += len(chunk)
        pos = m.end()
        if m.group(2) == "quote":
            if m.group(1) == "":
                sp = re.search(r'speaker="([^"]*)"', m.group(3))
                open_q = (length, sp.group(1) if sp else None)
            elif open_q is not None:
                gold.append((open_q[0], length, open_q[1]))
                open_q = None
    out.append(body[pos:])
    raw = "".join(out)
    # detokenise with an offset map: sentences on one line, marks attached by parity
    parity = 0
    n = len(raw)
    toks = re.finditer(r"\S+", raw.replace("\n", " "))
    pieces = []
    for t in toks:
        pieces.append((t.start(), t.end(), t.group()))
    text = ""
    starts = {}
    glue_next = False
    for k, (a, b, w) in enumerate(pieces):
        sep = " "
        if not text or glue_next:
            sep = ""
        glue_next = False
        if w == '"':
            parity ^= 1
            if parity == 0:
                sep = ""  # closing mark: attach to the previous word
            else:
                glue_next = True
        elif w in (",", ".", "!", "?", ";", ":", "...", "....") or w.startswith("'") and len(w) <= 3 and w[1:2].isalpha() is False:
            sep = ""
        starts[a] = len(text) + len(sep)
        text += sep + w
        starts[b] = len(text)
    def at(x: int) -> int:
        while x not in starts and x < n:
            x += 1
        return starts.get(x, len(text))
    g2 = []
    for a, b, sp in gold:
        a2, b2 = at(a), at(b)
        a2, b2 = norm_span(text, a2, b2, comps=())
        if b2 > a2:
            g2.append((a2, b2, sp))
    return text, g2


def bench_openboek(limit: int | None) -> list[tuple]:
    root = DATA / "nl" / "openboek" / "quotes"
    files = sorted(root.glob("*.xml"))[:limit]
    if not files:
        print(f"skipped OpenBoek: shared data not found: {root}")
        return []
    runner = Runner("nl")
    n_gold = n_found = sp_ok = 0
    for f in files:
        text, gold = openboek_doc(f.read_text(encoding="utf-8"))
        art = Article.new(text, language="nl")
        runner.run([art])
        assert not art.check_spans(), art.check_spans()
        named = [g for g in gold if g[2] and g[2][:1].isupper()]
        p = [(q.start, q.end) for q in art.quotes]
        pairs = match(p, [(a, b) for a, b, _ in named], iou)
        n_gold += len(named)
        n_found += len(pairs)
        for i, j in pairs:
            q = art.quotes[i]
            sp_ok += same_speaker(q.speaker.name if q.speaker else None, named[j][2])
    return [
        ("OpenBoek (nl novels)", "quote recall (named speakers)", f"{n_found / max(n_gold, 1):.3f}", "", "", n_found, n_gold, ""),
        ("OpenBoek (nl novels)", "speaker acc. (matched)", f"{sp_ok / max(n_found, 1):.3f}", "", "", sp_ok, n_found, ""),
        ("OpenBoek (nl novels)", "speaker acc. (all named)", f"{sp_ok / max(n_gold, 1):.3f}", "", "", sp_ok, n_gold, ""),
    ]


def bench_speed_nl() -> list[tuple]:
    path = DATA / "nl" / "conll2002" / "ned.testa"
    if not path.exists():
        print(f"skipped Dutch speed: shared data not found: {path}")
        return []
    from _common import conll_articles

    runner = Runner("nl")
    arts = [Article.new(t, language="nl") for t in conll_articles(path)]
    for k in range(0, len(arts), 32):
        runner.run(arts[k:k + 32])
    n_q = sum(len(a.quotes) for a in arts)
    return [("CoNLL-2002 testa (nl)", "speed (stage alone)", f"{runner.tokens / max(runner.seconds, 1e-9):,.0f} tok/s",
             "", "", f"{n_q} quotes", runner.tokens, len(arts))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=None, help="at most N documents per corpus")
    ap.add_argument("--only", choices=["en", "nl", "openboek"], default=None)
    ap.add_argument("--split", default="dev", help="PolNeAR split (dev; train to develop tables)")
    ap.add_argument("-v", "--verbose", action="store_true", help="list Dutch gold misses and errors")
    args = ap.parse_args()
    try:
        import torch  # noqa: F401

        torch.set_num_threads(1)
    except Exception:
        pass
    rows: list[tuple] = []
    if args.only in (None, "nl"):
        rows += bench_gold_nl(args.verbose)
    if args.only in (None, "nl"):
        rows += bench_speed_nl()
    if args.only in (None, "openboek"):
        rows += bench_openboek(args.limit)
    if args.only in (None, "en"):
        rows += bench_polnear(args.limit, args.split)
    if rows:
        print(table(rows, ("data set", "measure", "P / value", "R", "F1", "match", "pred", "gold")))
    print("targets: PolNeAR source F1 >= 0.80, content overlap F1 >= 0.85; "
          "nl gold content overlap F1 >= 0.85, speaker accuracy >= 0.85")


if __name__ == "__main__":
    main()
