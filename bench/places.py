"""Places benchmark: toponym resolution quality, speed and gazetteer size.

    python bench/places.py [--rebuild] [--errors N]

Prints one table and exits 0. Data sets (read from ../shared/data, skipped
with a message where absent):

- en/geo/lgl.xml, en/geo/GeoVirus.xml: accuracy within 161 km with the gold
  toponym spans given; end to end (spans found by Kroniek: precision, recall,
  F1 of exact spans, and accuracy@161 on the matched ones).
- nl/gold-dev/*.json: the ``places`` layer, same measures.
- samples/seed-2022-09-kremlin-nederlaag.txt: the reference article's eight
  places (expected points from DESIGN.md / the gold guidelines).
- speed: toponyms resolved per second on one core; gazetteer build and load
  time; resident memory of a process that loads the gazetteer and resolves.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kroniek.nlp import gazetteer as gz  # noqa: E402
from kroniek.nlp.places import gazetteer_matches, haversine_km, resolve  # noqa: E402

DATA = Path(os.environ.get("KRONIEK_DATA", ROOT.parent / "shared" / "data"))
KM = 161.0

# The reference article: each place and where it is (DESIGN.md; gold guidelines).
SEED_EXPECTED = {
    "Charkiv": (49.5, 36.5), "Kiev": (50.45, 30.52), "Krim": (45.3, 34.4), "Slangeneiland": (45.26, 30.20),
    "Donbas": (48.4, 38.4), "Oekraïne": (49.0, 31.4), "Rusland": (61.52, 105.32), "Moskou": (55.76, 37.62),
}


def read_seed(path: Path) -> str:
    raw = path.read_text(encoding="utf-8")
    m = re.match(r"\s*date\s+\S+[ \t]*", raw)
    return raw[m.end():] if m else raw


def load_lgl(path: Path):
    docs = []
    for a in ET.parse(path).getroot().iter("article"):
        text = a.findtext("text") or ""
        gold = []
        for t in a.iter("toponym"):
            g = t.find("gaztag")
            if g is None or g.findtext("lat") is None:
                continue
            gold.append((int(t.findtext("start")), int(t.findtext("end")),
                         float(g.findtext("lat")), float(g.findtext("lon")), g.findtext("fcode")))
        docs.append((text, gold))
    return docs


def load_geovirus(path: Path):
    docs = []
    for a in ET.parse(path).getroot().iter("article"):
        text = a.findtext("text") or ""
        gold = []
        for loc in a.iter("location"):
            s, e = int(loc.findtext("start")), int(loc.findtext("end"))
            name = loc.findtext("name") or ""
            if text[s:e] != name and text[s - 1:e - 1] == name:
                s, e = s - 1, e - 1  # the file's offsets are one past the name
            if text[s:e] != name:
                continue
            gold.append((s, e, float(loc.findtext("lat")), float(loc.findtext("lon")), None))
        docs.append((text, gold))
    return docs


def load_nl_gold(folder: Path):
    docs = []
    for f in sorted(glob.glob(str(folder / "*.json"))):
        d = json.loads(Path(f).read_text(encoding="utf-8"))
        gold = [(p["start"], p["end"], p["lat"], p["lon"], p.get("kind")) for p in d.get("places", [])
                if p.get("lat") is not None]
        docs.append((d["text"], gold))
    return docs


def eval_gold_spans(docs, lang, errors=None):
    n = ok = 0
    kinds = kind_ok = 0
    t = time.perf_counter()
    c0 = time.process_time()
    for text, gold in docs:
        spans = [(s, e) for s, e, *_ in gold]
        places = resolve(text, spans, lang)
        for g, p in zip(gold, places):
            n += 1
            good = p.lat is not None and haversine_km(g[2], g[3], p.lat, p.lon) <= KM
            ok += good
            if g[4] in ("country", "region", "city", "water", "place", "island", "other"):
                kinds += 1
                gk = "other" if g[4] == "place" else g[4]
                kind_ok += p.kind == gk or (gk == "other" and p.kind == "island")
            if not good and errors is not None:
                errors.append((text[g[0]:g[1]], (g[2], g[3]), p.name, p.country, p.lat, p.lon))
    dt = time.perf_counter() - t
    return {"n": n, "ok": ok, "acc": ok / n if n else float("nan"), "seconds": dt, "cpu": time.process_time() - c0,
            "kind": (kind_ok / kinds) if kinds else None}


def eval_end_to_end(docs, lang, finder):
    tp = fp = fn = 0
    ok = 0
    for text, gold in docs:
        found = finder(text, lang)
        gold_by_span = {(s, e): (la, lo) for s, e, la, lo, _ in gold}
        pred = {(p.start, p.end): p for p in found}
        for sp, p in pred.items():
            if sp in gold_by_span:
                tp += 1
                la, lo = gold_by_span[sp]
                ok += p.lat is not None and haversine_km(la, lo, p.lat, p.lon) <= KM
            else:
                fp += 1
        fn += sum(1 for sp in gold_by_span if sp not in pred)
    pr = tp / (tp + fp) if tp + fp else 0.0
    rc = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * pr * rc / (pr + rc) if pr + rc else 0.0
    return {"p": pr, "r": rc, "f1": f1, "acc": ok / tp if tp else float("nan"), "ok": ok, "n": tp}


def ratio(r: dict) -> str:
    """An accuracy with 4 decimals and its count, so that a miss cannot round up to a target."""
    return f"{r['acc']:.4f} ({r['ok']}/{r['n']})"


def mentions_stage_available(lang: str) -> bool:
    try:
        from kroniek.nlp.pipeline import language_table, stage_class
        stage_class("mentions")
        return "mentions" in language_table().get(lang, {}).get("stages", [])
    except Exception:
        return False


def finder_gazetteer_only(text, lang):
    return resolve(text, gazetteer_matches(text, lang), lang)


def finder_pipeline(text, lang):
    from kroniek.document import Article
    from kroniek.nlp.pipeline import get_pipeline
    a = Article.new(text, language=lang)
    pipe = get_pipeline(mode="fast", lang=lang)
    # Only what places needs: tokens and mentions (later stages are not measured here).
    stages = [st for st in pipe.stages_for(lang) if st.name in ("tokens", "mentions")]
    for st in stages + [_places_stage(lang)]:
        st([a])
    return a.places


_PLACES_STAGES: dict = {}


def _places_stage(lang):
    from kroniek.nlp.places import PlacesStage
    if lang not in _PLACES_STAGES:
        _PLACES_STAGES[lang] = PlacesStage(lang, "fast")
    return _PLACES_STAGES[lang]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rebuild", action="store_true", help="time a fresh gazetteer build (~30-60 s)")
    ap.add_argument("--errors", type=int, default=0, help="print this many errors per data set")
    args = ap.parse_args()

    rows: list[tuple[str, str, str, str]] = []  # (data set, measure, value, target)

    # Gazetteer: build, load, size.
    path = gz.gazetteer_path()
    if args.rebuild or not path.exists():
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            gz.build(Path(tmp) / "g.sqlite")
            build_s = time.perf_counter() - t
        if not path.exists():
            gz.build(path)
        rows.append(("gazetteer", "build time", f"{build_s:.1f} s", "≤ 300 s"))
    else:
        meta = gz.Gazetteer(path).meta
        rows.append(("gazetteer", "build time (recorded at build)", f"{float(meta.get('build_seconds', 'nan')):.1f} s", "≤ 300 s"))
    rows.append(("gazetteer", "file size", f"{path.stat().st_size / 1e6:.1f} MB", ""))
    # VmHWM: the fresh process's own peak (ru_maxrss survives fork+exec on Linux).
    probe = (
        "import time,re;t=time.perf_counter();"
        "from kroniek.nlp.gazetteer import Gazetteer, gazetteer_path;"
        "g=Gazetteer(gazetteer_path());g.candidates('Kharkiv');dt=time.perf_counter()-t;"
        "from kroniek.nlp.places import resolve;"
        "[resolve('In '+n+' en Parijs.',[(3,3+len(n))],'nl') for n in ('Charkiv','Kiev','Moskou','Hedel')];"
        "print(dt, re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=str(ROOT)).stdout.split()
    if out:
        rows.append(("gazetteer", "load time (open + first lookup, fresh process)", f"{float(out[0]):.3f} s", "≤ 1 s"))
        rows.append(("gazetteer", "peak resident memory: load + resolve (fresh process)", f"{int(out[1]) / 1024:.0f} MB", "≤ 300 MB"))
    st = gz.Gazetteer(path).stats()
    rows.append(("gazetteer", "places / names", f"{st['places']:,} / {st['names']:,}", ""))

    sets = []
    geo = DATA / "en" / "geo"
    if (geo / "lgl.xml").exists():
        sets.append(("LGL (en/geo/lgl.xml)", load_lgl(geo / "lgl.xml"), "en", "≥ 0.88"))
    else:
        print(f"skip: {geo / 'lgl.xml'} absent")
    if (geo / "GeoVirus.xml").exists():
        sets.append(("GeoVirus (en/geo/GeoVirus.xml)", load_geovirus(geo / "GeoVirus.xml"), "en", "≥ 0.95"))
    else:
        print(f"skip: {geo / 'GeoVirus.xml'} absent")
    nl_gold = DATA / "nl" / "gold-dev"
    if nl_gold.is_dir() and glob.glob(str(nl_gold / "*.json")):
        sets.append(("nl gold-dev (nl/gold-dev/*.json)", load_nl_gold(nl_gold), "nl", "≥ 0.95"))
    else:
        print(f"skip: {nl_gold} absent")

    # Gold spans first, for every set, before any NER pipeline is loaded: its
    # worker threads would otherwise count in this process's CPU time.
    speed_n = speed_s = speed_cpu = 0.0
    gold_rows: dict[str, list] = {}
    all_errs: dict[str, list] = {}
    for name, docs, lang, target in sets:
        errs: list = []
        r = eval_gold_spans(docs, lang, errs)
        gold_rows[name] = [(name, "acc@161km, gold spans", ratio(r), target)]
        if r["kind"] is not None:
            gold_rows[name].append((name, "kind agrees with gold (place = other/island)", f"{r['kind']:.3f}", ""))
        speed_n += r["n"]
        speed_s += r["seconds"]
        speed_cpu += r["cpu"]
        all_errs[name] = errs
    warm_s = None
    if speed_n:
        # Warm: the same again with the lookup cache filled.
        t = time.perf_counter()
        for _name, docs, lang, _ in sets:
            for text, gold in docs:
                resolve(text, [(s, e) for s, e, *_ in gold], lang)
        warm_s = time.perf_counter() - t
    for name, docs, lang, target in sets:
        rows.extend(gold_rows[name])
        errs = all_errs[name]
        e = eval_end_to_end(docs, lang, finder_gazetteer_only)
        rows.append((name, "end to end, gazetteer matcher only: P / R / F1 spans",
                     f"{e['p']:.3f} / {e['r']:.3f} / {e['f1']:.3f}", ""))
        rows.append((name, "end to end, gazetteer matcher only: acc@161 of matched", ratio(e), ""))
        if mentions_stage_available(lang):
            try:
                e = eval_end_to_end(docs, lang, finder_pipeline)
                rows.append((name, "end to end, Kroniek mentions + places: P / R / F1 spans",
                             f"{e['p']:.3f} / {e['r']:.3f} / {e['f1']:.3f}", ""))
                rows.append((name, "end to end, Kroniek mentions + places: acc@161 of matched", ratio(e), ""))
            except Exception as ex:  # a half-landed mentions stage must not sink the bench
                rows.append((name, "end to end with Kroniek mentions", f"failed: {type(ex).__name__}: {ex}"[:80], ""))
        else:
            rows.append((name, "end to end with Kroniek mentions", f"no mentions stage for {lang} yet", ""))
        if args.errors:
            print(f"\n{name}: first {args.errors} errors (surface, gold, predicted)")
            for x in errs[: args.errors]:
                print("  ", x)

    seed = DATA / "samples" / "seed-2022-09-kremlin-nederlaag.txt"
    if seed.exists():
        text = read_seed(seed)
        places = resolve(text, gazetteer_matches(text, "nl"), "nl")
        got = {}
        for p in places:
            if p.text in SEED_EXPECTED and p.lat is not None:
                la, lo = SEED_EXPECTED[p.text]
                got.setdefault(p.text, []).append(haversine_km(la, lo, p.lat, p.lon) <= KM)
        ok = sum(1 for k in SEED_EXPECTED if got.get(k) and all(got[k]))
        rows.append(("reference article (samples/seed-…)", "places found and within 161 km (of 8, no NER)",
                     f"{ok}/8", "8/8"))
    else:
        print(f"skip: {seed} absent")

    if speed_n:
        rows.append(("all gold sets above", "toponyms resolved / s, one core (cold cache, wall)",
                     f"{speed_n / speed_s:,.0f}", "≥ 5,000"))
        rows.append(("all gold sets above", "toponyms resolved / CPU-s (cold cache)",
                     f"{speed_n / speed_cpu:,.0f}", "≥ 5,000"))
        rows.append(("all gold sets above", "toponyms resolved / s, one core (warm cache)",
                     f"{speed_n / warm_s:,.0f}", ""))
    rows.append(("machine", "load average (1 min) at the end, cores",
                 f"{os.getloadavg()[0]:.1f}, {os.cpu_count()}", ""))
    rows.append(("this bench process", "peak resident memory",
                 f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", ""))

    w = [max(len(r[i]) for r in rows + [("data set", "measure", "value", "target")]) for i in range(4)]
    print()
    print(" | ".join(h.ljust(w[i]) for i, h in enumerate(("data set", "measure", "value", "target"))))
    print("-+-".join("-" * x for x in w))
    for r in rows:
        print(" | ".join(c.ljust(w[i]) for i, c in enumerate(r)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
