"""Benchmark of the times stage: quality on TempEval-3 (English) and the Dutch
gold, and speed. Prints tables and exits 0; skips what has no data.

    python bench/times.py [--errors N]

``--errors N`` prints the mismatches grouped by category (counts for every
category, then up to N examples of each): value errors by the kind of
expression (weekday, week, quarter, "a year ago", vague reference, ...),
then misses (FN) and spurious finds (FP).

English: TempEval-3 TBAQ-cleaned (TimeBank + AQUAINT) under
../shared/data/en/tempeval3, each file anchored at its own DCT. Scored as the
TempEval-3 scorer does for TIMEX3: strict (same extent) and relaxed (any
overlap, one-to-one) span P/R/F1; type and value as attribute F1 over the
relaxed matches (attribute F1 = relaxed F1 x attribute accuracy). The DCT
itself is given, not found, so it is not counted.

Dutch: ../shared/data/nl/gold-dev/*.json, anchored at each file's `date`:
recall (relaxed and strict), precision, and value accuracy on the gold
expressions that were found.

Speed: the stage alone (find_times on the text and article date), one core:
tokens/s over all texts, and the time for all TempEval-3 files.
"""

from __future__ import annotations

import argparse
import glob
import html
import json
import os
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data"
TE3 = DATA / "en" / "tempeval3"
NL_GOLD = DATA / "nl" / "gold-dev"

from kroniek.nlp.times import find_times  # noqa: E402

_TOKEN = re.compile(r"\w+|[^\w\s]")
_TAG = re.compile(r"<(/?)(\w+)([^>]*)>")
_ATTR = re.compile(r'(\w+)="([^"]*)"')


def read_tml(path: str) -> tuple[str, str, list[dict]]:
    """(DCT value, plain text of <TEXT>, gold TIMEX3 spans with offsets)."""
    raw = open(path, encoding="utf-8").read()
    dct = re.search(r"<DCT>\s*<TIMEX3([^>]*)>", raw)
    dct_value = dict(_ATTR.findall(dct[1]))["value"][:10] if dct else None
    body = re.search(r"<TEXT>(.*)</TEXT>", raw, re.S)[1]
    out, gold, pos, open_timex = [], [], 0, None
    n = 0
    for m in _TAG.finditer(body):
        chunk = html.unescape(body[pos : m.start()])
        out.append(chunk)
        n += len(chunk)
        pos = m.end()
        if m[2] == "TIMEX3":
            if not m[1]:
                open_timex = (n, dict(_ATTR.findall(m[3])))
            elif open_timex:
                start, attrs = open_timex
                gold.append({"start": start, "end": n, "type": attrs.get("type"), "value": attrs.get("value")})
                open_timex = None
    out.append(html.unescape(body[pos:]))
    text = "".join(out)
    for g in gold:
        g["text"] = text[g["start"] : g["end"]]
    return dct_value, text, gold


def match(gold: list[dict], system: list[dict]):
    """Strict matches and one-to-one relaxed (overlap) matches."""
    strict = {(g["start"], g["end"]) for g in gold} & {(s["start"], s["end"]) for s in system}
    pairs, used = [], set()
    for g in gold:
        best = None
        for j, s in enumerate(system):
            if j in used or s["end"] <= g["start"] or s["start"] >= g["end"]:
                continue
            ov = min(s["end"], g["end"]) - max(s["start"], g["start"])
            if best is None or ov > best[0]:
                best = (ov, j)
        if best:
            used.add(best[1])
            pairs.append((g, system[best[1]]))
    return len(strict), pairs


def prf(tp: float, n_sys: int, n_gold: int) -> tuple[float, float, float]:
    p = tp / n_sys if n_sys else 0.0
    r = tp / n_gold if n_gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def as_dicts(times) -> list[dict]:
    return [{"start": t.start, "end": t.end, "type": t.type, "value": t.value, "text": t.text} for t in times]


_WEEKDAY = re.compile(r"\b(?:mon|tues?|wednes|thurs?|fri|satur|sun)day\b", re.I)


def error_category(g: dict, s: dict) -> str:
    """A coarse label for a value/type mismatch between gold g and system s."""
    gv, sv = g["value"] or "", s["value"] or ""
    gt, st = g["type"], s["type"]
    text = (g["text"] + " " + s["text"]).lower()
    if gv == sv:
        return "type only (value right)"
    if "REF" in gv or "REF" in sv:
        return "vague reference (PAST/PRESENT/FUTURE_REF)"
    if (gt == "DURATION") != (st == "DURATION") or (gt == "SET") != (st == "SET"):
        return "duration/set vs date"
    if gv.startswith(sv) and re.fullmatch(r"(-XX)+", gv[len(sv):] or "x"):
        return "gold pads with -XX"
    if re.search(r"\b(ago|earlier|before|later)\b|year-(ago|earlier)", text):
        return "X ago / a year earlier"
    if _WEEKDAY.search(text):
        return "weekday"
    if "week" in text or "W" in gv or "W" in sv:
        return "week"
    if "quarter" in text or "period" in text or re.search(r"-[QH]", gv + sv):
        return "quarter / half / period"
    if re.fullmatch(r"\d{2,3}X?", gv) or re.fullmatch(r"\d{2,3}", sv):
        return "decade / century"
    if "T" in gv or "T" in sv:
        return "time of day"
    if gt == "DURATION":
        return "duration value"
    if re.match(r"\d{4}", gv) and re.match(r"\d{4}", sv) and gv[4:] == sv[4:]:
        return "year inference (same month/day, other year)"
    if re.fullmatch(r"\d{4}(-\d\d){0,2}", gv) and re.fullmatch(r"\d{4}(-\d\d){0,2}", sv):
        return "date granularity / anchoring"
    return "other"


def print_grouped(errs: list[tuple[str, str]], limit: int) -> None:
    groups: dict[str, list[str]] = {}
    for cat, line in errs:
        groups.setdefault(cat, []).append(line)
    print("  errors by category:")
    for cat, lines in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        print(f"    {len(lines):4d}  {cat}")
    for cat, lines in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        print(f"  -- {cat} ({len(lines)})")
        for line in lines[:limit]:
            print("     ", line)


def bench_te3(errors: int) -> tuple[int, float] | None:
    files = sorted(glob.glob(str(TE3 / "*" / "*.tml")))
    if not files:
        print(f"TempEval-3: skipped, no data at {TE3}")
        return None
    docs = [read_tml(f) for f in files]
    n_gold = n_sys = n_strict = n_rel = n_type = n_value = 0
    halves: dict[str, list[int]] = {}  # TimeBank / AQUAINT: gold, system, relaxed, value right
    errs: list[tuple[str, str]] = []
    t0 = time.perf_counter()
    results = [find_times(text, "en", dct) for dct, text, _ in docs]
    elapsed = time.perf_counter() - t0
    tokens = 0
    for (dct, text, gold), found, f in zip(docs, results, files):
        tokens += len(_TOKEN.findall(text))
        system = as_dicts(found)
        strict, pairs = match(gold, system)
        n_gold += len(gold)
        n_sys += len(system)
        n_strict += strict
        n_rel += len(pairs)
        n_type += sum(g["type"] == s["type"] for g, s in pairs)
        n_value += sum(g["value"] == s["value"] for g, s in pairs)
        h = halves.setdefault(Path(f).parent.name, [0, 0, 0, 0])
        h[0] += len(gold)
        h[1] += len(system)
        h[2] += len(pairs)
        h[3] += sum(g["value"] == s["value"] for g, s in pairs)
        if errors:
            matched_g = {id(g) for g, _ in pairs}
            matched_s = {id(s) for _, s in pairs}
            name = os.path.basename(f)
            for g in gold:
                if id(g) not in matched_g:
                    errs.append((f"FN {g['type']}", f"{name} {dct} {g['text']!r} {g['type']} {g['value']}"))
            for s in system:
                if id(s) not in matched_s:
                    errs.append((f"FP {s['type']}", f"{name} {dct} {s['text']!r} {s['type']} {s['value']}"))
            for g, s in pairs:
                if g["value"] != s["value"] or g["type"] != s["type"]:
                    errs.append((
                        "VAL " + error_category(g, s),
                        f"{name} {dct} gold {g['text']!r} {g['type']} {g['value']} | sys {s['text']!r} {s['type']} {s['value']}",
                    ))
    sp, sr, sf = prf(n_strict, n_sys, n_gold)
    rp, rr, rf = prf(n_rel, n_sys, n_gold)
    type_acc = n_type / n_rel if n_rel else 0.0
    value_acc = n_value / n_rel if n_rel else 0.0
    print(f"TempEval-3 TBAQ-cleaned ({len(files)} files, {n_gold} gold TIMEX3 in TEXT, {n_sys} found, {tokens} tokens)")
    print(f"  {'measure':<24}{'P':>8}{'R':>8}{'F1':>8}")
    print(f"  {'strict span':<24}{sp:8.3f}{sr:8.3f}{sf:8.3f}")
    print(f"  {'relaxed span':<24}{rp:8.3f}{rr:8.3f}{rf:8.3f}")
    for label, acc in (("type", type_acc), ("value", value_acc)):
        print(f"  {label + ' (attribute F1)':<24}{rp * acc:8.3f}{rr * acc:8.3f}{rf * acc:8.3f}   accuracy {acc:.3f}")
    # a rule must hold on both halves, not only on the pooled figure
    for name, (hg, hs, hr, hv) in sorted(halves.items(), reverse=True):
        f1 = prf(hr, hs, hg)[2]
        print(f"  {name:<10} {hg:4d} gold {hs:4d} found   relaxed F1 {f1:.3f}   value F1 {f1 * hv / hr if hr else 0:.3f}")
    print("  targets: relaxed span F1 >= 0.90, value F1 >= 0.85")
    if errors:
        print_grouped(errs, errors)
    return tokens, elapsed


def bench_nl(errors: int) -> tuple[int, float] | None:
    files = sorted(glob.glob(str(NL_GOLD / "*.json")))
    if not files:
        print(f"Dutch gold: skipped, no data at {NL_GOLD}")
        return None
    n_gold = n_sys = n_strict = n_rel = n_value = 0
    tokens, elapsed = 0, 0.0
    errs: list[tuple[str, str]] = []
    for f in files:
        d = json.load(open(f, encoding="utf-8"))
        t0 = time.perf_counter()
        found = find_times(d["text"], "nl", d.get("date"))
        elapsed += time.perf_counter() - t0
        tokens += len(_TOKEN.findall(d["text"]))
        gold, system = d["times"], as_dicts(found)
        strict, pairs = match(gold, system)
        n_gold += len(gold)
        n_sys += len(system)
        n_strict += strict
        n_rel += len(pairs)
        n_value += sum(g["value"] == s["value"] for g, s in pairs)
        if errors:
            name = os.path.basename(f)
            mg = {id(g) for g, _ in pairs}
            ms = {id(s) for _, s in pairs}
            errs += [("FN", f"{name} {g['text']!r} {g['type']} {g['value']}") for g in gold if id(g) not in mg]
            errs += [("FP", f"{name} {s['text']!r} {s['type']} {s['value']}") for s in system if id(s) not in ms]
            errs += [
                ("VAL " + error_category(g, s), f"{name} gold {g['text']!r} {g['value']} | sys {s['text']!r} {s['value']}")
                for g, s in pairs
                if g["value"] != s["value"]
            ]
    sp, sr, sf = prf(n_strict, n_sys, n_gold)
    rp, rr, rf = prf(n_rel, n_sys, n_gold)
    print(f"Dutch gold-dev ({len(files)} files, {n_gold} gold times, {n_sys} found)")
    print(f"  {'measure':<34}{'value':>8}{'target':>8}")
    print(f"  {'recall (relaxed)':<34}{rr:8.3f}{'>=0.90':>8}")
    print(f"  {'recall (strict)':<34}{sr:8.3f}")
    print(f"  {'precision (relaxed / strict)':<34}{rp:8.3f}{sp:8.3f}")
    print(f"  {'value accuracy on found':<34}{(n_value / n_rel if n_rel else 0):8.3f}{'>=0.90':>8}")
    if errors:
        print_grouped(errs, errors)
    return tokens, elapsed


def speed(label: str, texts: list[tuple[str, str, str | None]], runs: int = 3) -> tuple[str, int, float, float]:
    """Best of `runs` passes of the stage alone: wall and CPU seconds."""
    tokens = sum(len(_TOKEN.findall(t)) for t, _, _ in texts)
    best_wall = best_cpu = float("inf")
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        for text, lang, anchor in texts:
            find_times(text, lang, anchor)
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return label, tokens, best_wall, best_cpu


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--errors", type=int, default=0, help="print up to N errors per data set")
    args = ap.parse_args()
    find_times("warm up: 24 februari 2022", "nl", "2022-09")
    find_times("warm up: February 24, 2022", "en", "2022-09")
    bench_te3(args.errors)
    print()
    bench_nl(args.errors)
    print()
    rows = []
    te3 = sorted(glob.glob(str(TE3 / "*" / "*.tml")))
    if te3:
        rows.append(speed("TempEval-3 TBAQ (256 files)", [(t, "en", d) for d, t, _ in map(read_tml, te3)]))
    nlf = sorted(glob.glob(str(NL_GOLD / "*.json")))
    if nlf:
        docs = [json.load(open(f, encoding="utf-8")) for f in nlf]
        rows.append(speed("Dutch gold-dev", [(d["text"], "nl", d.get("date")) for d in docs]))
    print("Speed, stage alone (find_times on text + article date), one thread, best of 3")
    print(f"  {'data':<28}{'tokens':>9}{'wall s':>9}{'cpu s':>9}{'tokens/s wall':>15}{'tokens/s cpu':>14}")
    for label, tok, wall, cpu in rows:
        print(f"  {label:<28}{tok:9d}{wall:9.3f}{cpu:9.3f}{tok / wall:15.0f}{tok / max(cpu, 1e-9):14.0f}")
    print("  target: >= 50,000 tokens/s (HeidelTime: 49 s for the TE3 test set); cpu s is")
    print("  process time, the honest figure on a shared machine")
    return 0


if __name__ == "__main__":
    sys.exit(main())
