"""Entity linking quality on MEANTIME and linking speed at scale.

Quality: MEANTIME English Wikinews (../shared/data/en/meantime,
intra_cross-doc_annotation, 120 documents in 4 topics), named mentions only
(syntactic types NAM and PRE.NAM) with their gold spans and types given
(PER, ORG, LOC as such; PRO, FIN and the rest as MISC). Kroniek clusters them
within each document and links them across documents through the store.
Scores: MUC, B³, CEAF-e and their mean, the CoNLL F1, within documents
(summed over documents) and across documents (all named mentions of the
corpus, gold = the annotated instance ids). Baseline: exact string match.

Speed: linking time per document into a store holding 100,000 entities.

    python bench/entities.py [--entities 100000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import need, table  # noqa: E402

from kroniek.document import Article, Mention  # noqa: E402
from kroniek.nlp.entities import cluster  # noqa: E402
from kroniek.store import Store  # noqa: E402

TYPES = {"PER": "PER", "ORG": "ORG", "LOC": "LOC"}


def load_meantime(root: Path) -> list[tuple[Article, dict[tuple[int, int], str]]]:
    """Articles with gold named mentions, and gold instance id per mention span."""
    out = []
    for path in sorted(root.glob("*/*.xml")):
        tree = ET.parse(path).getroot()
        tokens = tree.findall("token")
        text, offsets, prev_sent = [], {}, None
        pos = 0
        for t in tokens:
            sep = "" if not text else ("\n" if t.get("sentence") != prev_sent else " ")
            pos += len(sep)
            text.append(sep + t.text)
            offsets[t.get("t_id")] = (pos, pos + len(t.text))
            pos += len(t.text)
            prev_sent = t.get("sentence")
        body = "".join(text)
        markables = tree.find("Markables")
        instance = {e.get("m_id"): (e.get("instance_id"), e.get("ent_type"))
                    for e in markables.findall("ENTITY") if e.get("instance_id")}
        refers = {}
        for rel in tree.find("Relations").findall("REFERS_TO"):
            target = rel.find("target").get("m_id")
            if target in instance:
                for src in rel.findall("source"):
                    refers[src.get("m_id")] = instance[target]
        mentions, gold = [], {}
        for m in markables.findall("ENTITY_MENTION"):
            if m.get("syntactic_type") not in ("NAM", "PRE.NAM") or m.get("m_id") not in refers:
                continue
            ids = [a.get("t_id") for a in m.findall("token_anchor")]
            if not ids:
                continue
            start, end = offsets[ids[0]][0], offsets[ids[-1]][1]
            inst, etype = refers[m.get("m_id")]
            if (start, end) in gold:
                continue
            gold[(start, end)] = inst
            mentions.append(Mention(start=start, end=end, text=body[start:end], type=TYPES.get(etype, "MISC")))
        doc_id = tree.get("doc_id") or path.stem
        a = Article.new(body, id=doc_id, language="en", source=str(path))
        a.mentions = sorted(mentions, key=lambda m: m.start)
        out.append((a, gold))
    return out


# --- coreference metrics -------------------------------------------------------

def muc(key: list[set], response: list[set]) -> tuple[float, float]:
    def part(a, b):
        num = den = 0
        where = {m: i for i, c in enumerate(b) for m in c}
        for c in a:
            parts = {where.get(m, ("single", m)) for m in c}
            num += len(c) - len(parts)
            den += len(c) - 1
        return num, den
    rn, rd = part(key, response)
    pn, pd = part(response, key)
    return rn, rd, pn, pd


def b_cubed(key: list[set], response: list[set]):
    kw = {m: c for c in key for m in c}
    rw = {m: c for c in response for m in c}
    r = sum(len(kw[m] & rw.get(m, {m})) / len(kw[m]) for m in kw)
    p = sum(len(rw[m] & kw.get(m, {m})) / len(rw[m]) for m in rw)
    return r, len(kw), p, len(rw)


def ceaf_e(key: list[set], response: list[set]):
    if not key or not response:
        return 0.0, len(key), 0.0, len(response)
    sim = np.array([[2 * len(k & r) / (len(k) + len(r)) for r in response] for k in key])
    rows, cols = linear_sum_assignment(-sim)
    best = sim[rows, cols].sum()
    return best, len(key), best, len(response)


def prf(rn, rd, pn, pd):
    r = rn / rd if rd else 0.0
    p = pn / pd if pd else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score(pairs: list[tuple[list[set], list[set]]]) -> dict[str, tuple[float, float, float]]:
    out = {}
    for name, fn in (("MUC", muc), ("B3", b_cubed), ("CEAFe", ceaf_e)):
        tot = [0.0, 0.0, 0.0, 0.0]
        for key, resp in pairs:
            for i, v in enumerate(fn(key, resp)):
                tot[i] += v
        out[name] = prf(*tot)
    out["CoNLL"] = (sum(out[k][0] for k in ("MUC", "B3", "CEAFe")) / 3,
                    sum(out[k][1] for k in ("MUC", "B3", "CEAFe")) / 3,
                    sum(out[k][2] for k in ("MUC", "B3", "CEAFe")) / 3)
    return out


def clusters(labels: dict) -> list[set]:
    groups = defaultdict(set)
    for m, lab in labels.items():
        groups[lab].add(m)
    return list(groups.values())


def quality() -> None:
    docs = load_meantime(need("en/meantime/intra_cross-doc_annotation"))
    within_sys, within_base = [], []
    gold_all, base_all = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(str(Path(tmp) / "meantime.db"))
        for a, gold in docs:
            a.entities = cluster(a)
            ment_entity = {(m.start, m.end): m.entity for m in a.mentions}
            key = clusters({(a.id, s): g for s, g in gold.items()})
            within_sys.append((key, clusters({(a.id, s): e for s, e in ment_entity.items()})))
            within_base.append((key, clusters({(a.id, (m.start, m.end)): m.text for m in a.mentions})))
            for s, g in gold.items():
                gold_all[(a.id, s)] = g
            for m in a.mentions:
                base_all[(a.id, (m.start, m.end))] = m.text
            store.put(a)
        sys_all = {}
        for a, _ in docs:
            stored = store.get(a.id)
            gid = {e.id: e.global_id for e in stored.entities}
            for m in stored.mentions:
                sys_all[(a.id, (m.start, m.end))] = gid.get(m.entity)
    n_mentions = len(gold_all)
    print(f"MEANTIME English, {len(docs)} documents, {n_mentions} named mentions with gold spans, "
          f"{len(set(gold_all.values()))} gold entities")
    rows = []
    for label, pairs in (("within-doc, Kroniek", within_sys), ("within-doc, exact string", within_base),
                         ("cross-doc, Kroniek", [(clusters(gold_all), clusters(sys_all))]),
                         ("cross-doc, exact string", [(clusters(gold_all), clusters(base_all))])):
        s = score(pairs)
        rows.append((label, *(f"{s[k][2]:.3f}" for k in ("MUC", "B3", "CEAFe")),
                     f"{s['CoNLL'][0]:.3f}", f"{s['CoNLL'][1]:.3f}", f"{s['CoNLL'][2]:.3f}"))
    print(table(rows, ("setting", "MUC F1", "B3 F1", "CEAFe F1", "CoNLL P", "CoNLL R", "CoNLL F1 (target >= 0.75)")))


def speed(n_entities: int) -> None:
    """Link 200 documents of 10 entities each into a store that already holds n_entities."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(str(Path(tmp) / "speed.db"))
        surnames = [f"Naam{i}" for i in range(n_entities)]

        def doc(i: int, names: list[str]) -> Article:
            text = " en ".join(names) + "."
            a = Article.new(text, id=f"d{i}", language="nl")
            pos, ms = 0, []
            for n in names:
                ms.append(Mention(start=pos, end=pos + len(n), text=n, type="PER"))
                pos += len(n) + 4
            a.mentions = ms
            a.entities = cluster(a)
            return a

        batch = []
        for i in range(0, n_entities, 10):
            batch.append(doc(i, [f"Jan {s}" for s in surnames[i:i + 10]]))
            if len(batch) == 500:
                store.put_many(batch)
                batch = []
        store.put_many(batch)
        with store.engine.connect() as c:
            from kroniek.store import schema as S
            from sqlalchemy import func, select
            n_global = c.execute(select(func.count()).select_from(S.global_entities)).scalar()
        import random
        rnd = random.Random(3)
        probe = [doc(10_000_000 + i, [f"{rnd.choice(['Jan', 'Piet'])} {rnd.choice(surnames)}" for _ in range(10)])
                 for i in range(200)]
        # The same documents without their entities: the difference is the linking.
        bare = [p.model_copy(deep=True) for p in probe]
        for b in bare:
            b.id = "x" + b.id
            b.entities, b.mentions = [], []
        t0 = time.perf_counter()
        for b in bare:
            store.put(b)
        t_bare = time.perf_counter() - t0
        t0 = time.perf_counter()
        for p in probe:
            store.put(p)
        t_link = time.perf_counter() - t0
    per_doc = 1000 * (t_link - t_bare) / len(probe)
    print(f"\nLinking speed: {n_global:,} global entities stored; 200 documents of 10 person entities each")
    print(table([("store only", f"{1000 * t_bare / len(probe):.2f}"), ("store + link", f"{1000 * t_link / len(probe):.2f}"),
                 ("linking alone", f"{per_doc:.2f}")], ("step", "ms per document (target <= 1 ms for linking)")))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entities", type=int, default=100_000)
    args = ap.parse_args()
    quality()
    speed(args.entities)


if __name__ == "__main__":
    main()
