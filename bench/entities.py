"""Entity linking quality on MEANTIME and linking speed at scale.

Quality: MEANTIME English Wikinews (../shared/data/en/meantime,
intra_cross-doc_annotation, 120 documents in 4 topics), named mentions only
(syntactic types NAM and PRE.NAM) with their gold spans and types given
(PER, ORG, LOC as such; PRO, FIN and the rest as MISC). Kroniek clusters them
within each document and links them across documents through the store.
Scores: MUC, B³, CEAF-e and their mean, the CoNLL F1, within documents
(summed over documents) and across documents (all named mentions of the
corpus, gold = the annotated instance ids). Baseline: exact string match.

Speed: linking time per document into a store holding 100,000 entities, on
SQLite and (where one answers) PostgreSQL, one document per transaction and
64 per transaction.

    python bench/entities.py [--entities 100000] [--only quality|speed] [--pg URL|""]
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


def _person_doc(doc_id: str, names: list[str]) -> Article:
    """A document naming these people, one mention each, clustered."""
    text = " en ".join(names) + "."
    a = Article.new(text, id=doc_id, language="nl", published="2022-09-15")
    pos, ms = 0, []
    for n in names:
        ms.append(Mention(start=pos, end=pos + len(n), text=n, type="PER"))
        pos += len(n) + 4
    a.mentions = ms
    a.entities = cluster(a)
    return a


class StoreMeter:
    """SQL statements sent through a store, and the time (wall clock and this
    process's CPU) spent in the store's linking functions. The machine may be
    shared: CPU time is the steadier figure for SQLite, which runs in-process;
    for PostgreSQL the server's work shows in the wall clock only."""

    def __init__(self, store: Store):
        from sqlalchemy import event

        from kroniek.store import linking

        self.statements, self.link_wall, self.link_cpu = 0, 0.0, 0.0
        self._engine = store.engine
        event.listen(self._engine, "before_cursor_execute", self._count)
        self._restore = []
        names = ("link_documents", "count_entities")
        if not hasattr(linking, "link_documents"):  # the per-document linking of earlier versions
            names = ("link_document", "count_document")
        for name in names:
            fn = getattr(linking, name)
            setattr(linking, name, self._timed(fn))
            self._restore.append((linking, name, fn))

    def _count(self, *args, **kwargs) -> None:
        self.statements += 1

    def _timed(self, fn):
        def wrapper(*args, **kwargs):
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.link_wall += time.perf_counter() - t0
                self.link_cpu += time.process_time() - c0
        return wrapper

    def reset(self) -> None:
        self.statements, self.link_wall, self.link_cpu = 0, 0.0, 0.0

    def close(self) -> None:
        from sqlalchemy import event

        event.remove(self._engine, "before_cursor_execute", self._count)
        for module, name, fn in self._restore:
            setattr(module, name, fn)


def timed(fn) -> tuple[float, float]:
    """Wall clock and CPU seconds of fn()."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def pg_schema_url(base: str):
    """A URL for a fresh schema on the PostgreSQL at ``base`` and a function
    that drops it; (None, None) where no server answers."""
    import uuid

    try:
        import psycopg

        schema = f"kroniek_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(base, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except Exception as e:  # no server, no database, no driver
        print(f"PostgreSQL at {base} not available ({type(e).__name__}); SQLite only")
        return None, None

    def drop() -> None:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", drop


def speed(n_entities: int, pg: str | None) -> None:
    """Link documents of 10 person entities each into a store that already
    holds n_entities global entities, one document per transaction (as the
    API writes) and 64 per transaction (as ingest writes). Each document names
    "Jan NaamX" (a stored person) or "Piet NaamX" (a new person whose surname
    is stored) for random stored surnames X."""
    import random

    from sqlalchemy import func, select

    from kroniek.store import schema as S

    engines = [("SQLite", None)]
    if pg:
        engines.append(("PostgreSQL", pg))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, base in engines:
            drop = None
            if base is None:
                url = str(Path(tmp) / "speed.db")
            else:
                url, drop = pg_schema_url(base)
                if url is None:
                    continue
            try:
                store = Store(url)
                surnames = [f"Naam{i}" for i in range(n_entities)]

                def fill() -> None:
                    batch = []
                    for i in range(0, n_entities, 10):
                        batch.append(_person_doc(f"d{i}", [f"Jan {s}" for s in surnames[i:i + 10]]))
                        if len(batch) == 500:
                            store.put_many(batch)
                            batch = []
                    if batch:
                        store.put_many(batch)
                t_fill, _ = timed(fill)
                with store.engine.connect() as c:
                    n_global = c.execute(select(func.count()).select_from(S.global_entities)).scalar()
                print(f"{label}: filled with {n_global:,} global entities ({n_entities // 10:,} documents) "
                      f"in {t_fill:.0f} s", flush=True)
                for mode, size, seed in (("1 document per put", 1, 3), ("64 documents per put_many", 64, 4)):
                    rnd = random.Random(seed)
                    probe = [_person_doc(f"p{seed}-{i}", [f"{rnd.choice(['Jan', 'Piet'])} {rnd.choice(surnames)}"
                                                           for _ in range(10)]) for i in range(320)]
                    # The same documents without their entities: the difference is the linking.
                    bare = [p.model_copy(deep=True) for p in probe]
                    for b in bare:
                        b.id = "x" + b.id
                        b.entities, b.mentions = [], []
                    meter = StoreMeter(store)
                    try:
                        w_bare, c_bare = timed(lambda: [store.put_many(bare[i:i + size])
                                                        for i in range(0, len(bare), size)])
                        n_bare = meter.statements
                        meter.reset()
                        w_link, c_link = timed(lambda: [store.put_many(probe[i:i + size])
                                                        for i in range(0, len(probe), size)])
                    finally:
                        meter.close()
                    n = len(probe)
                    ms = lambda wall, cpu: f"{1000 * wall / n:.2f}" + (f" ({1000 * cpu / n:.2f})" if base is None else "")  # noqa: E731
                    rows.append((label, mode, ms(w_bare, c_bare), ms(w_link, c_link),
                                 ms(w_link - w_bare, c_link - c_bare), ms(meter.link_wall, meter.link_cpu),
                                 f"{n_bare / n:.1f} / {meter.statements / n:.1f}"))
                store.close()
            finally:
                if drop:
                    drop()
    print(f"\nLinking speed at {n_entities:,} stored entities: 320 documents of 10 person mentions and "
          "10 entities each; ms per document, wall clock (CPU of this process, SQLite only)")
    print(table(rows, ("store", "writes", "store, no entities", "store + entities",
                       "difference", "linking alone (target <= 1)", "statements/doc bare / linked")))
    print("difference: the entity and mention rows, linking and counts; linking alone: the time inside "
          "the store's linking functions (link_documents, count_entities)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entities", type=int, default=100_000)
    ap.add_argument("--only", choices=["quality", "speed"], help="run one part")
    ap.add_argument("--pg", default="postgresql://127.0.0.1:5432/test",
                    help="PostgreSQL for the speed part too (empty: SQLite only)")
    args = ap.parse_args()
    if args.only != "speed":
        quality()
    if args.only != "quality":
        speed(args.entities, args.pg or None)


if __name__ == "__main__":
    main()
