"""Convert the 2017 (UD v2.0) LassySmall train file to the conventions of the
current LassySmall dev/test files (UD 2.13-era ALUD output).

Rules (each applied per sentence, in this order):

* ``flat``     ``flat:name`` -> ``flat`` (the current files have no ``flat:name``).
* ``poss``     possessive determiners (zijn/haar/hun/mijn/ons/onze/uw/jouw/...,
               DET or PRON labelled ``det``) -> UPOS PRON, ``nmod:poss``,
               feats ``Person=N|Poss=Yes|PronType=Prs``.
* ``agent``    a "door" phrase (``obl`` with a ``case`` child "door") under a
               participle that has an ``aux:pass`` child -> ``obl:agent``.
* ``subjpass`` ``nsubj`` of a participle with an ``aux:pass`` child -> ``nsubj:pass``.
* ``preconj``  "zowel" (``cc``) -> CCONJ ``cc:preconj``.
* ``cc``       a ``cc`` attached to a conjunction head (a word with ``conj``
               children) is re-attached to the nearest conjunct that follows it.
* ``punct``    every PUNCT token without dependents gets label ``punct``; all
               punct heads are recomputed from scratch: paired marks (quotes,
               brackets) go to the head(s) of what they enclose, other marks to
               the highest node of the adjacent phrase that keeps the tree
               projective (the lower of the left/right candidates; cf. the
               UD guidelines and udapi's ud.FixPunct), so sentence-final
               punctuation ends up on the root.

A converted sentence that is not a valid tree (one root, no cycles) or has more
non-projective arcs than before keeps its original annotation. Sentences,
tokens, comments and all other columns are never dropped or reordered.

``python training/ud_convert.py`` prints the per-rule change counts on the old
train file and the agreement check on the current dev file.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

PAIRED = {"(": ")", "[": "]", "{": "}", '"': '"', "„": "”", "“": "”", "«": "»", "‹": "›", "'": "'", "‘": "’"}

# possessive determiner (lowercased form) -> (lemma, Person)
POSS = {
    "mijn": ("mijn", "1"), "m'n": ("mijn", "1"),
    "ons": ("ons", "1"), "onze": ("ons", "1"),
    "jouw": ("jouw", "2"), "uw": ("uw", "2"),
    "zijn": ("zijn", "3"), "z'n": ("zijn", "3"),
    "haar": ("haar", "3"), "hun": ("hun", "3"), "hunne": ("hun", "3"),
}

DATA = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()
UD = DATA / "nl" / "ud-lassysmall"
UD_TRAIN = UD / "old-v2.0-train" / "nl_lassysmall-ud-train.v2.0-2017-02-01.conllu"


def conllu_blocks(path: Path) -> list[list[str]]:
    """CoNLL-U sentence blocks (lists of lines); training/prep_data.py reads
    the treebanks with it too. Kept free of spaCy."""
    blocks, cur = [], []
    for line in path.read_text(encoding="utf8").splitlines():
        if not line.strip():
            if cur:
                blocks.append(cur)
            cur = []
        else:
            cur.append(line)
    if cur:
        blocks.append(cur)
    return blocks


RULES = ("modal", "worden_aux", "cop_verb", "aux_verb", "ordinal", "als", "flat", "poss", "agent", "subjpass", "preconj", "cc", "punct_label", "punct")


class Sent:
    """Token rows of one block (only integer ids) with mutable columns."""

    def __init__(self, block: list[str]):
        self.block = block
        self.idx = []  # line index in block of token i (1-based token i -> idx[i-1])
        self.cols = []
        for li, line in enumerate(block):
            if line.startswith("#"):
                continue
            c = line.split("\t")
            if len(c) == 10 and c[0].isdigit():
                self.idx.append(li)
                self.cols.append(c)
        self.ok = [int(c[0]) for c in self.cols] == list(range(1, len(self.cols) + 1))
        self.n = len(self.cols)

    # accessors, 1-based
    def form(self, i): return self.cols[i - 1][1]
    def lemma(self, i): return self.cols[i - 1][2]
    def upos(self, i): return self.cols[i - 1][3]
    def feats(self, i): return self.cols[i - 1][5]
    def head(self, i): return int(self.cols[i - 1][6])
    def rel(self, i): return self.cols[i - 1][7]

    def heads(self) -> list[int]:
        return [0] + [int(c[6]) for c in self.cols]

    def lines(self) -> list[str]:
        out = list(self.block)
        for li, c in zip(self.idx, self.cols):
            out[li] = "\t".join(c)
        return out


def children(heads: list[int]) -> list[list[int]]:
    ch = [[] for _ in heads]
    for i in range(1, len(heads)):
        if 0 <= heads[i] < len(heads):
            ch[heads[i]].append(i)
    return ch


def is_tree(heads: list[int]) -> bool:
    n = len(heads) - 1
    if n == 0:
        return True
    if sum(1 for i in range(1, n + 1) if heads[i] == 0) != 1:
        return False
    for i in range(1, n + 1):
        if not 0 <= heads[i] <= n:
            return False
        seen, j = set(), i
        while j != 0:
            if j in seen:
                return False
            seen.add(j)
            j = heads[j]
    return True


def n_nonproj(heads: list[int], skip: set | frozenset = frozenset()) -> int:
    """Number of arcs whose span contains a word not dominated by the head
    (arcs of the words in `skip`, and those words inside spans, are ignored)."""
    n = len(heads) - 1
    anc = [set() for _ in range(n + 1)]  # proper ancestors of each word
    for i in range(1, n + 1):
        j, guard = heads[i], 0
        while j != 0 and guard <= n:
            anc[i].add(j)
            j = heads[j]
            guard += 1
    bad = 0
    for d in range(1, n + 1):
        h = heads[d]
        if h == 0 or d in skip:
            continue
        for k in range(min(h, d) + 1, max(h, d)):
            if h not in anc[k] and k not in skip:
                bad += 1
                break
    return bad


# --------------------------------------------------------------------- punct


def _dominates(heads, a, b):
    """a is b or an ancestor of b."""
    j = b
    guard = 0
    while j != 0 and guard <= len(heads):
        if j == a:
            return True
        j = heads[j]
        guard += 1
    return a == 0


def _span(heads, ch, x):
    """(min, max) position of the subtree of x."""
    lo = hi = x
    stack = [x]
    while stack:
        y = stack.pop()
        lo, hi = min(lo, y), max(hi, y)
        stack.extend(ch[y])
    return lo, hi


def _projective_attach(heads, p, h):
    """Would attaching p to h be projective (no crossing, p not in a gap)?"""
    old = heads[p]
    heads[p] = h
    ok = True
    for k in range(min(h, p) + 1, max(h, p)):
        if not _dominates(heads, h, k):
            ok = False
            break
    if ok:  # p must not sit in the gap of another arc
        for d in range(1, len(heads)):
            hd = heads[d]
            if hd == 0 or d == p:
                continue
            if min(hd, d) < p < max(hd, d) and not _dominates(heads, hd, p):
                ok = False
                break
    heads[p] = old
    return ok


def recompute_punct(s: Sent, heads: list[int]) -> list[int]:
    """Recompute the heads of all punct leaves of sentence s from scratch."""
    n = s.n
    heads = list(heads)
    ch = children(heads)
    punct = [i for i in range(1, n + 1) if s.rel(i) == "punct" and not ch[i]]
    if not punct:
        return heads
    pset = set(punct)
    nonp = [i for i in range(1, n + 1) if i not in pset]
    if not nonp:
        return heads
    root = next((i for i in nonp if heads[i] == 0), None)
    if root is None:
        return heads
    for p in punct:  # detach: hang everything on the root for now
        heads[p] = root
    todo = set(punct)

    # 1. paired marks
    for p in punct:
        if p not in todo:
            continue
        close = PAIRED.get(s.form(p))
        if close is None:
            continue
        level = 0
        q = None
        for k in range(p + 1, n + 1):
            if s.form(k) == close and k in todo:
                if level == 0:
                    q = k
                    break
                level -= 1
            elif s.form(k) == s.form(p) and close != s.form(p):
                level += 1
        if q is None:
            continue
        hs = set()
        for k in nonp:
            h = heads[k]
            if p < k < q and not (p < h < q):
                hs.add(k)
            elif not (p < k < q) and p < h < q:
                hs.add(h)
        if not hs:
            continue
        hs = sorted(hs)
        heads[p], heads[q] = hs[0], hs[-1]
        todo.discard(p)
        todo.discard(q)

    # 2. the other marks, left to right; "active" arcs are non-punct + done punct
    def cur_heads():
        return [heads[i] if (i == 0 or i not in todo) else -1 for i in range(n + 1)]

    for p in punct:
        if p not in todo:
            continue
        todo.discard(p)
        hv = cur_heads()
        hv[p] = -1
        ch = children([h if h >= 0 else 0 for h in hv])
        # -1 entries were hung on 0 for children(); remove them from ch[0]
        ch[0] = [i for i in ch[0] if hv[i] == 0]
        l = next((k for k in range(p - 1, 0, -1) if k not in pset), None)
        r = next((k for k in range(p + 1, n + 1) if k not in pset), None)
        lpath, rpath = [], []
        if l is not None:
            lpath.append(l)
            while hv[l] > 0 and hv[l] < p and _span(hv, ch, l)[1] < p:
                l = hv[l]
                lpath.append(l)
        if r is not None:
            rpath.append(r)
            while hv[r] > 0 and hv[r] > p and _span(hv, ch, r)[0] > p:
                r = hv[r]
                rpath.append(r)
        hv2 = [h if h >= 0 else 0 for h in hv]
        # ignore not-yet-placed punct in the projectivity test
        test = list(hv2)
        for k in todo:
            test[k] = k  # self loops: never counted as spanning anything
        lpath = [x for x in lpath if _proj_ok(test, p, x, todo)]
        rpath = [x for x in rpath if _proj_ok(test, p, x, todo)]
        lc = lpath[-1] if lpath else None
        rc = rpath[-1] if rpath else None
        if lc is not None and rc is not None:
            if _dominates(hv2, rc, lc):
                cand = lc
            elif _dominates(hv2, lc, rc):
                cand = rc
            else:
                cand = rc
        else:
            cand = lc if lc is not None else rc
        heads[p] = cand if cand is not None else root
    return heads


def _proj_ok(heads, p, h, todo):
    old = heads[p]
    heads[p] = h
    ok = True
    for k in range(min(h, p) + 1, max(h, p)):
        if k in todo:
            continue
        if not _dominates_safe(heads, h, k):
            ok = False
            break
    if ok:
        for d in range(1, len(heads)):
            hd = heads[d]
            if d in todo or hd == 0 or d == p or hd == d:
                continue
            if min(hd, d) < p < max(hd, d) and not _dominates_safe(heads, hd, p):
                ok = False
                break
    heads[p] = old
    return ok


def _dominates_safe(heads, a, b):
    j, guard = b, 0
    while guard <= len(heads):
        if j == a:
            return True
        if j == 0 or heads[j] == j:
            return False
        j = heads[j]
        guard += 1
    return False


# --------------------------------------------------------------------- rules

AUX_NOW = {"kunnen", "hebben", "zullen", "moeten", "zijn", "mogen"}  # the dev file's aux lemmas
ORDINALS = {"eerste", "tweede", "derde", "vierde", "vijfde", "zesde", "zevende", "achtste", "negende",
            "tiende", "elfde", "twaalfde", "dertiende", "veertiende", "vijftiende", "twintigste",
            "dertigste", "honderdste", "duizendste"}
# dependents that belong to the clause, not to a predicate nominal/adjective or a VP
CLAUSAL = {"nsubj", "nsubj:pass", "csubj", "expl", "mark", "cc", "conj", "punct", "parataxis",
           "advcl", "discourse", "vocative", "dislocated"}


def _is_ordinal(form: str) -> bool:
    w = form.lower()
    if w in ORDINALS:
        return True
    return len(w) > 1 and w.rstrip("steds").isdigit() and w[-1] == "e" and w[0].isdigit()


def _promote(s: Sent, a: int, x: int, rel: str, upos: str) -> None:
    """a (e.g. modal "moeten" with an xcomp x) becomes a dependent `rel` of x;
    x takes a's head and label and all of a's other dependents."""
    c = s.cols
    ha, ra = c[a - 1][6], c[a - 1][7]
    for k in range(1, s.n + 1):
        if k != x and s.head(k) == a:
            c[k - 1][6] = str(x)
    c[x - 1][6], c[x - 1][7] = ha, ra
    c[a - 1][6], c[a - 1][7], c[a - 1][3] = str(x), rel, upos


def _demote(s: Sent, a: int, copula: bool) -> None:
    """a (a cop/aux dependent of b) becomes the head: it takes b's head and
    label, b becomes its xcomp, clause-level dependents of b move to a."""
    c = s.cols
    b = s.head(a)
    hb, rb = c[b - 1][6], c[b - 1][7]
    for k in range(1, s.n + 1):
        if k == a or s.head(k) != b:
            continue
        r = s.rel(k)
        # everything before a (fronted / middle-field material) moves, else the
        # tree would become non-projective; "te"/"om" after a stay with b
        move = k < a or (r in CLAUSAL and r != "mark")
        if copula and r in ("obl", "iobj", "obj", "aux", "aux:pass", "advmod"):
            move = True
            if r == "advmod" and k < b and s.upos(b) in ("ADJ", "ADV") and all(
                    _dominates_safe(s.heads(), b, j) for j in range(k + 1, b)):
                move = False  # degree modifier right before an adjectival predicate
        if move:
            c[k - 1][6] = str(a)
    c[a - 1][6], c[a - 1][7], c[a - 1][3] = hb, rb, "VERB"
    c[b - 1][6], c[b - 1][7] = str(a), "xcomp"


def restructure(s: Sent, stats: Counter) -> None:
    """Modal/copula/auxiliary analyses of the 2017 file -> current ones."""
    n = s.n
    for a in range(1, n + 1):
        ch = children(s.heads())
        lem = s.lemma(a)
        if lem == "moeten" and s.upos(a) == "VERB":
            xs = [k for k in ch[a] if s.rel(k) == "xcomp"]
            if len(xs) == 1 and "VerbForm=Inf" in s.feats(xs[0]) and s.upos(xs[0]) in ("VERB", "AUX"):
                _promote(s, a, xs[0], "aux", "AUX")
                stats["modal"] += 1
        elif lem == "worden" and s.upos(a) == "VERB":
            xs = [k for k in ch[a] if s.rel(k) in ("ccomp", "xcomp")]
            if len(xs) == 1 and "VerbForm=Part" in s.feats(xs[0]) and s.upos(xs[0]) == "VERB":
                _promote(s, a, xs[0], "aux:pass", "AUX")
                stats["worden_aux"] += 1
        elif s.rel(a) == "cop" and lem not in ("zijn", "_") and s.head(a) > 0:
            _demote(s, a, copula=True)
            stats["cop_verb"] += 1
        elif s.rel(a) == "aux" and lem not in AUX_NOW and lem != "_" and s.head(a) > 0:
            _demote(s, a, copula=False)
            stats["aux_verb"] += 1



def convert_sentence(s: Sent, stats: Counter | None = None) -> None:
    stats = stats if stats is not None else Counter()
    n = s.n
    c = s.cols
    # structural changes first; undone if they would break the tree or projectivity
    before = s.heads()
    saved = [list(x) for x in c]
    local = Counter()
    restructure(s, local)
    after = s.heads()
    punct = {i for i in range(1, n + 1) if s.upos(i) == "PUNCT" or s.rel(i) == "punct"}
    if local and (not is_tree(after) or n_nonproj(after, punct) > n_nonproj(before, punct)):
        c[:] = saved
        stats["restructure_undone"] += 1
    else:
        stats.update(local)
    ch = children(s.heads())
    # ordinals: NUM nummod -> ADJ amod; "als": ADP -> SCONJ
    for i in range(1, n + 1):
        if s.upos(i) == "NUM" and s.rel(i) == "nummod" and _is_ordinal(s.form(i)):
            c[i - 1][3], c[i - 1][7] = "ADJ", "amod"
            stats["ordinal"] += 1
        elif s.form(i).lower() == "als" and s.upos(i) == "ADP":
            c[i - 1][3] = "SCONJ"
            stats["als"] += 1
    # flat
    for i in range(1, n + 1):
        if c[i - 1][7] == "flat:name":
            c[i - 1][7] = "flat"
            stats["flat"] += 1
    # possessives
    for i in range(1, n + 1):
        w = s.form(i).lower()
        if w in POSS and s.rel(i) == "det" and s.upos(i) in ("DET", "PRON"):
            lemma, person = POSS[w]
            c[i - 1][2] = lemma if s.lemma(i) != "_" else "_"
            c[i - 1][3] = "PRON"
            c[i - 1][5] = f"Person={person}|Poss=Yes|PronType=Prs"
            c[i - 1][7] = "nmod:poss"
            stats["poss"] += 1
    # passives
    for i in range(1, n + 1):
        h = s.head(i)
        if h == 0:
            continue
        passive = "VerbForm=Part" in s.feats(h) and any(s.rel(k) == "aux:pass" for k in ch[h])
        if not passive:
            continue
        if s.rel(i) == "obl" and any(s.rel(k) == "case" and s.form(k).lower() == "door" for k in ch[i]):
            c[i - 1][7] = "obl:agent"
            stats["agent"] += 1
        elif s.rel(i) == "nsubj":
            c[i - 1][7] = "nsubj:pass"
            stats["subjpass"] += 1
    # zowel ... als
    for i in range(1, n + 1):
        if s.form(i).lower() == "zowel" and s.rel(i) == "cc":
            c[i - 1][3] = "CCONJ"
            c[i - 1][7] = "cc:preconj"
            stats["preconj"] += 1
    # cc -> following conjunct
    for i in range(1, n + 1):
        if s.rel(i) != "cc":
            continue
        h = s.head(i)
        if h == 0:
            continue
        conjs = [k for k in ch[h] if s.rel(k) == "conj"]
        if not conjs:
            continue
        right = sorted(k for k in conjs + [h] if k > i)
        if right and right[0] != h:
            c[i - 1][6] = str(right[0])
            stats["cc"] += 1
    # punctuation labels
    ch = children(s.heads())
    for i in range(1, n + 1):
        if s.upos(i) == "PUNCT" and s.rel(i) not in ("punct", "root") and not ch[i]:
            c[i - 1][7] = "punct"
            stats["punct_label"] += 1
    # punctuation heads
    old = s.heads()
    new = recompute_punct(s, old)
    for i in range(1, n + 1):
        if new[i] != old[i]:
            c[i - 1][6] = str(new[i])
            stats["punct"] += 1


def convert_blocks(blocks: list[list[str]], stats: Counter | None = None) -> list[list[str]]:
    """Convert CoNLL-U sentence blocks; same blocks, same tokens, same order."""
    stats = stats if stats is not None else Counter()
    out = []
    for block in blocks:
        s = Sent(block)
        if not s.ok or s.n == 0:
            out.append(list(block))
            continue
        before = s.heads()
        if not is_tree(before):
            out.append(list(block))
            stats["skipped_invalid_input"] += 1
            continue
        local = Counter()
        convert_sentence(s, local)
        after = s.heads()
        if not is_tree(after) or n_nonproj(after) > n_nonproj(before):
            out.append(list(block))
            stats["reverted"] += 1
            continue
        stats.update(local)
        out.append(s.lines())
    return out


def _compare(a_blocks, b_blocks):
    """(#tokens, #head changes, #label changes, #upos changes, punct total, punct head same)."""
    tot = dh = dl = du = pt = ps = 0
    for a, b in zip(a_blocks, b_blocks):
        sa, sb = Sent(a), Sent(b)
        for x, y in zip(sa.cols, sb.cols):
            tot += 1
            dh += x[6] != y[6]
            dl += x[7] != y[7]
            du += x[3] != y[3]
            if x[7] == "punct":
                pt += 1
                ps += x[6] == y[6]
    return tot, dh, dl, du, pt, ps


def main() -> None:
    train = conllu_blocks(UD_TRAIN)
    st = Counter()
    conv = convert_blocks(train, st)
    tot, dh, dl, du, _, _ = _compare(train, conv)
    print(f"old train: {len(train)} sentences, {tot} tokens")
    for r in RULES + ("restructure_undone", "reverted", "skipped_invalid_input"):
        print(f"  {r:22s} {st[r]:6d}")
    print(f"  changed heads {dh} ({100*dh/tot:.2f}%), labels {dl} ({100*dl/tot:.2f}%), upos {du} ({100*du/tot:.2f}%)")
    np_b = sum(n_nonproj(Sent(b).heads()) for b in train)
    np_a = sum(n_nonproj(Sent(b).heads()) for b in conv)
    print(f"  non-projective arcs: {np_b} -> {np_a}")
    for split in ("dev", "test") if "--test" in sys.argv else ("dev",):
        blocks = conllu_blocks(UD / f"nl_lassysmall-ud-{split}.conllu")
        st = Counter()
        conv = convert_blocks(blocks, st)
        tot, dh, dl, du, pt, ps = _compare(blocks, conv)
        print(f"current {split}: {len(blocks)} sentences, {tot} tokens: converter changes heads {100*dh/tot:.2f}%, "
              f"labels {100*dl/tot:.2f}%, upos {100*du/tot:.2f}%; punct heads recomputed from scratch agree "
              f"{ps}/{pt} = {100*ps/max(pt,1):.2f}%")
        print("  per rule:", dict(st))


if __name__ == "__main__":
    main()
