"""Places: every toponym resolved to a gazetteer entry with coordinates.

Two parts:

- :func:`resolve` is pure: given a text, toponym spans and the language, it
  returns one :class:`~kroniek.document.Place` per span. Benchmarks call it
  with gold spans.
- :class:`PlacesStage` (stage ``places``) takes the article's LOC mentions
  and adds gazetteer matches the NER missed where the evidence is strong
  (a capitalised, known, unambiguous place name that is not a common word
  and not part of a longer name), then calls :func:`resolve`.

Disambiguation weighs, per candidate: its population or importance, its
feature type (a country before a village), how the name is known (the
place's own name, a name in the article's language, or one of the many
GeoNames alternate names), the kind the phrase implies ("de regio rond
Charkiv" → the oblast, "de stad Charkov" → the city; cue words are lexicon
data per language), the document's other places (their countries, their
admin regions, their distance; a town or county reading near a plausible
reading of another name: Richmond beside Madison County is Richmond,
Kentucky), and the article language's home country. How names stand
together counts too: "Stroud, Ontario(, Canada)" puts the first in the
second; names in a list ("Washington, Pennsylvania and California") are
peers, none inside another; a plural type word after a list ("Clarke,
Madison and Oconee counties") gives each name that kind; a list whose names
are mostly of one kind (states, countries) leans the others that way;
"DeKalb" after "DeKalb County" is the county, "Congo" after "Republic of
Congo" that country. A name resolves once per document ("same name, same
place"), except where a mention's own cue asks for another kind. A region
named after a big city in it or just outside it ("Moskou", "Kiev", "Buenos
Aires") is the city unless a cue says region; "the Houston region" is no
county known by a partial name. A weak cue ("near") weighs in the score but
does not overrule it.

A span with no candidate as written is looked up in other forms, each a
lexicon table per language: a short form spelled out (Colo. → Colorado), a
type word dropped (Nyanza Province, Town of Groton, Da Nang International
Airport), an abbreviation spelled out or in (Loudon Co., St. Kitts ↔ Saint
Kitts), a direction word dropped where a county or a big city remains
(North Dallas → Dallas; Central Plateau is no Plateau State), a feature word
dropped where a town or county known by that name remains (Boston Harbor,
Greer Station) and a people's name turned back into its place's (Ohioans →
Ohio, Latvians → Latvia). A name with an abbreviated word is looked up both
ways (Mt. Pleasant, Mount Pleasant) and their places compete.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib.resources import files
from typing import Collection, Iterable, Iterator, Optional, Sequence

from ..document import Article, Place
from .gazetteer import ALT, EN, LOCAL, NL, PRIMARY, WEAK, Candidate, Gazetteer, get_gazetteer, norm
from .pipeline import register_stage

LANG_FLAG = {"nl": NL, "en": EN}

# Feature-type priors (added to log10 of population/importance).
FT_PRIOR = {
    "PCL": 3.0, "CONT": 1.0, "ADM1": 1.5, "RGN": 2.0, "WATER": 1.5, "ISL": 1.0, "SITE": 0.5,
    "PPLC": 1.0, "PPL": 0.0, "ADM2": 0.0,
}
# Which cue kinds a feature type satisfies.
CUE_FITS = {
    "region": {"ADM1", "RGN", "ADM2"},
    "county": {"ADM2"},
    "city": {"PPL", "PPLC"},
    "water": {"WATER"},
    "island": {"ISL"},
    "site": {"SITE"},
    "country": {"PCL"},
    "local": {"PPL", "PPLC", "ADM2"},  # a part of a town or county ("North Dallas")
    "town": {"PPL", "PPLC", "ADM2"},  # a feature by a town (Boston Harbor)
}
MAX_CANDIDATES = 40
# Weights of the document context, per mention: share of the document's
# places in the candidate's country, of other names that could lie in its
# admin region, and nearness to the other places.
W_COUNTRY, W_ADMIN1, W_NEAR = 3.0, 6.0, 2.0
# "Stroud, Ontario": bonus for a reading of the first name inside a region or
# country the second name may be.
W_WITHIN = 6.0
# A list of names is of one kind: LIST_MIN names at least, and a name counts
# as sure of its kind when its best candidate of that kind leads the best of
# any other kind by LIST_MARGIN; the others get the list's kind as a cue of
# weight LIST_CUE.
LIST_MIN, LIST_MARGIN, LIST_CUE = 3, 2.0, 0.5
# Nearby readings support each other: a plausible town or county reading of
# one name (within NEAR_PLAUSIBLE per mention of that name's best score)
# within NEAR_KM of a plausible reading of another name gains W_PAIR per
# mention for each such name, for at most NEAR_NAMES names ("Richmond" beside
# "Madison County": Richmond, Kentucky). Only towns, counties and sites
# count, and only for names whose best reading is one: a state's or a
# country's point says nothing of what lies near it.
W_PAIR, NEAR_KM, NEAR_PLAUSIBLE, NEAR_NAMES = 1.0, 50.0, 3.0, 2
NEAR_FTYPES = frozenset(("PPL", "PPLC", "ADM2", "SITE"))
# A region named like a big city yields to the city where the city lies in
# it or within CAPITAL_NEAR_KM of its point (a capital that is a region of its
# own: Buenos Aires, Tashkent, Sofia), unless the region has more than
# CAPITAL_SHARE times the city's people (Quebec: the province).
CAPITAL_NEAR_KM = 300.0
CAPITAL_SHARE = 10.0
# "North Dallas": a direction word is dropped only where a county or a city
# of DIRECTION_MIN_POP+ remains (a city big enough to have named parts).
DIRECTION_MIN_POP = 50000
# How much a name that could lie in many regions counts (1: as 1/regions).
ADMIN1_SHARPNESS = 0.5
# Support for a candidate's admin region: another name chosen as that very
# region ("Ohio") counts ADMIN1_PICKED, a name that could lie in it counts as
# above; the support is divided by the number of other names, but by no more
# than ADMIN1_ENOUGH (a long article does not dilute it away).
ADMIN1_PICKED, ADMIN1_ENOUGH = 1.0, 5.0


# --- lexicon -------------------------------------------------------------------


@dataclass
class PlaceLexicon:
    lang: str
    before: list[tuple[str, str, float]] = field(default_factory=list)  # (pattern, kind, weight), longest first
    after: list[tuple[str, str, float]] = field(default_factory=list)
    suffix: list[tuple[str, str, float]] = field(default_factory=list)
    genitive: list[str] = field(default_factory=list)
    # A plural type word right after a list of names gives each its kind
    # ("Clarke, Madison, Oconee and Oglethorpe counties").
    list_after: list[tuple[str, str, float]] = field(default_factory=list)
    # Last resorts for a span with no candidate as written: a type word before
    # the name (Town of Groton, County Mayo), an abbreviated tail spelled out
    # (Loudon Co. → Loudon County), and a demonym's ending turned back into
    # the place's (Ohioans → Ohio, Latvians → Latvia, Londoner → London).
    prefix: list[tuple[str, str, float]] = field(default_factory=list)
    expand: list[tuple[str, str]] = field(default_factory=list)
    demonym_ending: list[tuple[str, str]] = field(default_factory=list)
    # Direction words before a name ("North Dallas", "Southwest Middlesex"):
    # dropped as a last resort, and then only a county or a big city may
    # answer ("Central Plateau" is no Plateau State, nor Plateau, Alabama).
    direction: list[str] = field(default_factory=list)
    # Abbreviated words in names, both ways (St. Kitts ↔ Saint Kitts, Mt. ↔ Mount).
    abbrev: list[tuple["re.Pattern[str]", str]] = field(default_factory=list)
    abbrev_any: Optional["re.Pattern[str]"] = None  # any of them (a quick test)
    # Short forms of place names, matched exactly as written, dot included,
    # before the span itself (AP state abbreviations: Colo. → Colorado).
    short_form: dict[str, str] = field(default_factory=dict)
    demonym: dict[str, str] = field(default_factory=dict)
    home: dict[str, float] = field(default_factory=dict)
    stop: set[str] = field(default_factory=set)
    # Gazetteer matcher, second pass: smallest town taken in a country the
    # article already names, and in the language's home country (0: never).
    local_pop: int = 5000
    home_pop: int = 2000


@lru_cache(maxsize=None)
def load_lexicon(lang: str) -> PlaceLexicon:
    lex = PlaceLexicon(lang)
    res = files("kroniek.nlp.lexicon").joinpath(lang, "places.tsv")
    if not res.is_file():
        return lex
    lines = [ln for ln in res.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    for row in csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE):
        typ, pat, val = row["type"].strip(), row["pattern"].strip(), (row.get("value") or "").strip()
        w = float(row.get("weight") or 1)
        if typ in ("before", "after", "suffix", "prefix", "list_after"):
            getattr(lex, typ).append((norm(pat), val, w))
        elif typ == "expand":
            lex.expand.append((norm(pat), val))
        elif typ == "demonym_ending":
            lex.demonym_ending.append((pat, val))
        elif typ == "short_form":
            lex.short_form[pat] = val
        elif typ == "abbrev":
            lex.abbrev.append((re.compile(rf"\b{re.escape(pat)}\.?(?=\s)"), val))
            lex.abbrev.append((re.compile(rf"\b{re.escape(val)}(?=\s)"), pat + "."))
        elif typ == "direction":
            lex.direction.append(norm(pat))
        elif typ == "genitive":
            lex.genitive.append(pat)
        elif typ == "demonym":
            lex.demonym[norm(pat)] = val
        elif typ == "home":
            lex.home[pat] = w
        elif typ == "stop":
            lex.stop.add(norm(pat))
        elif typ == "matcher" and pat in ("local_pop", "home_pop"):
            setattr(lex, pat, int(float(val)))
    for lst in (lex.before, lex.after, lex.suffix, lex.prefix, lex.list_after):
        lst.sort(key=lambda t: -len(t[0]))
    lex.direction.sort(key=len, reverse=True)
    if lex.abbrev:
        lex.abbrev_any = re.compile("|".join(f"(?:{rx.pattern})" for rx, _ in lex.abbrev))
    return lex


# --- geometry --------------------------------------------------------------------


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


# --- one mention -------------------------------------------------------------------


@dataclass
class _Mention:
    start: int
    end: int
    text: str
    key: str = ""  # the name it resolves by (same key, same place)
    cue: Optional[str] = None  # kind implied by the phrase
    cue_weight: float = 0.0
    cands: list[tuple[Candidate, float]] = field(default_factory=list)  # (candidate, prior score)
    pinned_cc: Optional[str] = None  # demonym: the country it names
    choice: Optional[Candidate] = None
    within: Optional["_Mention"] = None  # "Stroud, Ontario": the region named right after it


_WORD_BEFORE = re.compile(r"[\w'’\-]+[\s,]*$")


_DASH_RE = re.compile(r"[-\u2010\u2011\u2012\u2013\u2014_/.]+")
_WS_RE = re.compile(r"\s+")


def _quick_norm(s: str) -> str:
    """norm() for cue windows: case, dashes and spaces (cue patterns are plain)."""
    return _WS_RE.sub(" ", _DASH_RE.sub(" ", s.lower())).strip()


def _cue(text: str, start: int, end: int, lex: PlaceLexicon) -> tuple[Optional[str], float]:
    before = _quick_norm(text[max(0, start - 40) : start])
    after = _quick_norm(text[end : end + 25])
    for pat, kind, w in lex.before:
        if before == pat or before.endswith(" " + pat):
            return kind, w
    for pat, kind, w in lex.after:
        if after == pat or after.startswith(pat + " ") or after.startswith(pat + ",") or after.startswith(pat + "."):
            return kind, w
    return None, 0.0


def _forms(surface: str, lex: PlaceLexicon) -> Iterator[tuple[str, Optional[str], float]]:
    """Lookup forms of a span, most literal first: (form, implied kind, penalty)."""
    full = lex.short_form.get(surface)
    if full:
        yield full, "region", 0.0
    yield surface, None, 0.0
    s = surface.strip()
    low = s.lower()
    for art in ("the ", "de ", "het "):
        if low.startswith(art) and len(s) > len(art) + 1:
            yield s[len(art):], None, 0.0
    bare = s.rstrip(". ")  # "West Chester Twp."
    for pat, kind, _w in lex.suffix:
        # Donbas-regio, Donbasregio, Krim-schiereiland, Da Nang International Airport
        k = norm(bare)
        if k.endswith(" " + pat):
            yield bare[: len(bare) - len(pat)].rstrip(" -‐"), kind, 0.0
        elif k.endswith(pat) and len(k) > len(pat) + 3:
            yield bare[: len(bare) - len(pat)], kind, 0.5
    for g in lex.genitive:
        if s.endswith(g) and len(s) > len(g) + 2:
            yield s[: len(s) - len(g)], None, 1.0
    for v in _abbrev_variants(s, lex):
        yield v, None, 0.0
    k = norm(s)
    for pat, kind, _w in lex.prefix:
        if k.startswith(pat + " ") and len(k) > len(pat) + 2:
            rest = s.split(None, pat.count(" ") + 1)[-1]
            yield rest, kind or None, 0.5
    for pat, full in lex.expand:
        if k.endswith(" " + pat):
            head = s.rstrip(". ")
            head = head[: len(head) - len(pat)].rstrip()
            yield head + " " + full, None, 0.0
    for pat in lex.direction:
        if k.startswith(pat + " ") and len(k) > len(pat) + 2:
            yield s.split(None, pat.count(" ") + 1)[-1], "local", 1.0
            break
    if s[:1].isupper():
        for ending, repl in lex.demonym_ending:
            if s.endswith(ending) and len(s) - len(ending) >= 3:
                yield s[: len(s) - len(ending)] + repl, None, 1.0


def _abbrev_variants(s: str, lex: PlaceLexicon) -> list[str]:
    """The name with an abbreviated word spelled out or in (Mt. Pleasant ↔ Mount Pleasant)."""
    out: list[str] = []
    if lex.abbrev_any is None or not lex.abbrev_any.search(s):
        return out
    for rx, repl in lex.abbrev:
        v = rx.sub(repl, s)
        if v != s:
            out.append(v)
    return out


def _prior(c: Candidate, lang_flag: int, lex: PlaceLexicon) -> float:
    s = math.log10(max(c.pop, 1) + 10) + FT_PRIOR.get(c.ftype, 0.0)
    f = c.flags
    if f & (PRIMARY | LOCAL):
        s += 1.5
    if f & lang_flag and not f & PRIMARY:
        s += 1.0  # an exonym of the article's language (Moskou, Charkiv)
    if f & WEAK and not f & (PRIMARY | LOCAL | ALT):
        s -= 4.0
    if c.cc and c.cc in lex.home:
        s += lex.home[c.cc]
    return s


def _gather(m: _Mention, text: str, gaz: Gazetteer, lex: PlaceLexicon, lang_flag: int) -> None:
    m.cue, m.cue_weight = _cue(text, m.start, m.end, lex)
    dem = lex.demonym.get(norm(m.text))
    if dem:
        if len(dem) == 2 and dem.isupper():
            m.pinned_cc = dem
            cands = [c for c in _country_candidates(gaz, dem)]
        else:
            cands = list(gaz.candidates(dem))
        m.key = "demonym:" + norm(dem)
        m.cands = sorted(((c, _prior(c, lang_flag, lex)) for c in cands), key=lambda t: -t[1])[:MAX_CANDIDATES]
        return
    for form, kind, penalty in _forms(m.text, lex):
        cands = gaz.candidates(form)
        if kind == "local":  # only a county or a city big enough to have parts has a north side
            cands = [c for c in cands if c.ftype == "ADM2" or c.ftype in ("PPL", "PPLC") and c.pop >= DIRECTION_MIN_POP]
        elif kind == "town":  # a feature named after the town it lies by (Boston Harbor, Greer Station)
            cands = [c for c in cands if c.ftype in ("PPL", "PPLC", "ADM2") and c.flags & (PRIMARY | LOCAL)]
        if cands:
            # Mt. Pleasant is Mount Pleasant too: both spellings' places compete
            more = [c for v in _abbrev_variants(form, lex) for c in gaz.candidates(v)]
            if more:
                merged = {c.pid: c for c in cands}
                for c in more:  # a place known under both spellings keeps the stronger flags
                    o = merged.get(c.pid)
                    merged[c.pid] = c if o is None else replace(o, flags=o.flags | c.flags)
                cands = list(merged.values())
            m.key = norm(form)
            if kind and not m.cue:
                m.cue, m.cue_weight = kind, 1.0
            scored = [(c, _prior(c, lang_flag, lex) - penalty) for c in cands]
            scored.sort(key=lambda t: -t[1])
            m.cands = scored[:MAX_CANDIDATES]
            return
    m.key = norm(m.text)


def _country_candidates(gaz: Gazetteer, cc: str) -> list[Candidate]:
    key = "cc:" + cc
    hit = gaz._cache.get(key)
    if hit is None:
        r = gaz.con.execute(
            "SELECT pid, gid, name, ftype, lat, lon, cc, admin1, pop, approx, 1 FROM place "
            "WHERE cc = ? AND ftype = 'PCL' ORDER BY pop DESC LIMIT 1", (cc,)).fetchone()
        hit = gaz._cache[key] = (Candidate(*r),) if r else ()
    return list(hit)


# --- the resolver ---------------------------------------------------------------------


_LIST_GAP = re.compile(r"\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or|&)\s+")
_COMMA_GAP = re.compile(r"\s*,\s*")
_CLASS_OF = {"PCL": "country", "ADM1": "region", "RGN": "region", "PPL": "city", "PPLC": "city"}


def _confident_class(m: _Mention) -> Optional[str]:
    """The kind a name is, when its candidates leave little doubt: the best
    candidate's class, at least LIST_MARGIN above the best of another class."""
    if not m.cands:
        return None
    top, p0 = m.cands[0]
    cls = _CLASS_OF.get(top.ftype)
    if cls is None:
        return None
    other = max((p for c, p in m.cands if _CLASS_OF.get(c.ftype) != cls), default=-1e9)
    return cls if p0 - other >= LIST_MARGIN else None


def _structure(mentions: list[_Mention], text: str, lex: Optional[PlaceLexicon] = None) -> set[tuple[str, str]]:
    """Evidence from how names stand together in the text.

    - "Stroud, Ontario", "Athens, Texas", "Paris, France": two names joined
      by a comma only, the second possibly a region or country: the first lies
      in it (``within``).
    - "Clarke, Madison and Oconee counties": a plural type word after a list
      (lexicon ``list_after``) gives every name in it that kind.
    - "Nyanza, Rift Valley, North Eastern and Western", "Alberta, New
      Brunswick and Quebec": names in a list are of one kind; where most of
      the list leaves no doubt (provinces, countries, cities), the others get
      that kind as a weak cue.

    Returns the pairs of names (keys) that stand in one list ("Ohio, Texas and
    Iowa", four or more names, or any with "and"/"or"): peers, which do not
    pull each other into a containing region.
    """
    peers: set[tuple[str, str]] = set()
    runs: list[list[_Mention]] = []  # names in a row, joined by commas, "and" or "or"
    run: list[_Mention] = []
    for m in mentions:
        if run and _LIST_GAP.fullmatch(text[run[-1].end:m.start]):
            run.append(m)
            continue
        if run:
            runs.append(run)
        run = [m]
    if run:
        runs.append(run)
    for r in runs:
        chain = len(r) <= 3 and all(_COMMA_GAP.fullmatch(text[a.end:b.start]) for a, b in zip(r, r[1:]))
        if len(r) >= 2 and not chain:
            for a in r:
                for b in r:
                    if a.key != b.key:
                        peers.add((a.key, b.key))
        if lex is not None and lex.list_after and len(r) >= 2:  # "Indiana counties" is not a list
            after = _quick_norm(text[r[-1].end:r[-1].end + 20])
            hit = next(((k, w) for pat, k, w in lex.list_after
                        if after.startswith(pat) and after[len(pat):len(pat) + 1] in ("", " ", ",", ".", ":", ";")),
                       None)
            if hit:
                for m in r:
                    if m.cue_weight < hit[1]:
                        m.cue, m.cue_weight = hit
                continue
        classes = [_confident_class(m) for m in r]
        if chain and len(r) >= 2 and classes[0] not in ("region", "country") \
                and (len(r) == 2 or classes[1] in ("region", "country")):
            # "Stroud, Ontario(, Canada)": a place, then the region it lies in
            r[0].within = r[1]
            if len(r) == 3:
                r[1].within = r[2]
            continue
        if len(r) < LIST_MIN:
            continue
        counts: dict[str, int] = {}
        for c in classes:
            if c:
                counts[c] = counts.get(c, 0) + 1
        if not counts:
            continue
        cls, n = max(counts.items(), key=lambda kv: kv[1])
        if n < 2 or n * 2 < len(r):
            continue
        for m in r:
            if not m.cue:
                m.cue, m.cue_weight = cls, LIST_CUE
    return peers


def _fits(c: Candidate, cue: str) -> bool:
    """Whether a candidate is of the kind a cue asks for. "The Houston region"
    is no county known only by a partial name (Houston County): a county fits
    "region" only under a name of its own."""
    if c.ftype not in CUE_FITS.get(cue, ()):
        return False
    return not (cue == "region" and c.ftype == "ADM2" and c.flags & WEAK and not c.flags & (PRIMARY | LOCAL | ALT))


def _cue_bonus(c: Candidate, cue: Optional[str], weight: float) -> float:
    if not cue:
        return 0.0
    if _fits(c, cue):
        return 6.0 * weight
    if cue == "region" and c.ftype == "PCL":
        return 0.0
    return -1.5 * weight


def _capital_rule(m: _Mention) -> dict[int, float]:
    """A region named like a big city inside it or just outside it ("Moskou",
    "Kiev", "Charkiv", "Buenos Aires") yields to the city unless a cue asks
    for the region."""
    out: dict[int, float] = {}
    cities = [c for c, _ in m.cands if c.ftype in ("PPL", "PPLC") and c.pop >= 50000 and c.lat is not None]
    if not cities:
        return out
    for c, _ in m.cands:
        if c.ftype in ("ADM1", "ADM2") and any(
                t.cc == c.cc and t.pop * CAPITAL_SHARE >= c.pop and (
                    t.admin1 == c.admin1 or  # the city in the region, or one just outside it
                    c.lat is not None and _km_fast(c.lat, c.lon, t.lat, t.lon) <= CAPITAL_NEAR_KM)
                for t in cities):
            out[c.pid] = -3.0
    return out


def _km_fast(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance: exact enough for the 50-400 km bands below."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6371.0 * math.sqrt(x * x + y * y)


def _near_support(base: dict[str, dict[int, float]], byid: dict[int, Candidate],
                  counts: dict[str, int]) -> dict[str, dict[int, float]]:
    """Per name, the bonus (per mention) of each plausible town or county
    reading that lies within NEAR_KM of a plausible reading of other names
    (see W_PAIR); ``counts``: mentions per name, over which ``base`` sums."""
    dy = NEAR_KM / 111.0  # a grid cell: NEAR_KM north-south, twice that east-west at the equator
    dx = 2 * dy
    grid: dict[tuple[int, int], list[tuple[str, int, float, float]]] = {}
    plausible: dict[str, list[Candidate]] = {}
    for k, tot in base.items():
        top = max(tot, key=lambda pid: (tot[pid], -pid))
        if byid[top].ftype not in NEAR_FTYPES:
            continue  # a country or region name: no town reading competes here
        floor = tot[top] - NEAR_PLAUSIBLE * counts[k]
        cs = [c for c in (byid[pid] for pid in tot if tot[pid] >= floor)
              if c.ftype in NEAR_FTYPES and c.lat is not None and not c.approx]
        for c in cs:
            grid.setdefault((int(c.lat // dy), int(c.lon // dx)), []).append((k, c.pid, c.lat, c.lon))
        if len(cs) > 1:  # a name with one plausible reading needs no support, it only gives it
            plausible[k] = cs
    out: dict[str, dict[int, float]] = {}
    if len(base) < 2 or not plausible:
        return out
    for k, cs in plausible.items():
        for c in cs:
            gy, gx = int(c.lat // dy), int(c.lon // dx)
            # cells narrow toward the poles: look as far east and west as NEAR_KM reaches
            reach = 1 if abs(c.lat) < 60 else 1 + int(0.5 / max(math.cos(math.radians(c.lat)), 0.1))
            names = set()
            for y in (gy - 1, gy, gy + 1):
                for x in range(gx - reach, gx + reach + 1):
                    for kk, pid, la, lo in grid.get((y, x), ()):
                        # the same place under another name is no second witness
                        if kk != k and pid != c.pid and kk not in names and _km_fast(c.lat, c.lon, la, lo) <= NEAR_KM:
                            names.add(kk)
            if names:
                out.setdefault(k, {})[c.pid] = W_PAIR * min(len(names), NEAR_NAMES)
    return out


def _resolve_mentions(mentions: list[_Mention], lang: str, peers: Collection[tuple[str, str]] = ()) -> None:
    groups: dict[str, list[_Mention]] = {}
    for m in mentions:
        if m.cands:
            groups.setdefault(m.key, []).append(m)
    if not groups:
        return
    keys = list(groups)
    weights = {k: len(groups[k]) for k in keys}
    # Per group: candidates with the prior, capital rule and cues summed over its mentions.
    base: dict[str, dict[int, float]] = {}
    byid: dict[int, Candidate] = {}
    for k in keys:
        ms = groups[k]
        cap = _capital_rule(ms[0])
        tot: dict[int, float] = {}
        for m in ms:
            inside = None
            if m.within is not None and m.within.cands:
                # "Stroud, Ontario": the regions and countries the second name may be
                inside = {(c.cc, c.admin1 if c.ftype == "ADM1" else None)
                          for c, _ in m.within.cands if c.ftype in ("ADM1", "PCL")}
            for c, p in m.cands:
                byid[c.pid] = c
                w = 0.0
                if inside and c.ftype != "PCL" and (
                        (c.cc, c.admin1) in inside and c.ftype != "ADM1" or (c.cc, None) in inside):
                    w = W_WITHIN
                tot[c.pid] = tot.get(c.pid, 0.0) + p + cap.get(c.pid, 0.0) + _cue_bonus(c, m.cue, m.cue_weight) + w
        base[k] = tot
    for k, bonus in _near_support(base, byid, weights).items():
        n = len(groups[k])
        for pid, b in bonus.items():
            base[k][pid] += b * n
    # Soft spatial evidence: which admin regions each group could lie in.
    regions_of = {k: {(byid[pid].cc, byid[pid].admin1) for pid in base[k] if byid[pid].admin1} for k in keys}
    # A peer in a list ("Washington, Pennsylvania and California") is no
    # container: only its readings inside a region count, not the region itself.
    regions_inside = {k: {(byid[pid].cc, byid[pid].admin1) for pid in base[k]
                          if byid[pid].admin1 and byid[pid].ftype not in ("ADM1", "PCL")} for k in keys}
    n_other = max(len(keys) - 1, 1)

    def pick(k: str, ctx: Optional[dict[str, Candidate]]) -> int:
        tot = base[k]
        n = len(groups[k])
        if ctx is None:
            return max(tot, key=lambda pid: (tot[pid], -pid))
        others = [c for kk, c in ctx.items() if kk != k]
        wsum = sum(weights[kk] for kk in ctx if kk != k) or 1
        share: dict[str, float] = {}
        for kk, c in ctx.items():
            if kk != k and c.cc:
                share[c.cc] = share.get(c.cc, 0.0) + weights[kk] / wsum
        pts = list({(o.lat, o.lon) for o in others if o.lat is not None and not o.approx})
        best_pid, best_s = None, -1e18
        ranked = sorted(tot, key=lambda pid: (-tot[pid], pid))
        for pid in ranked:
            if tot[pid] + (W_COUNTRY + W_ADMIN1 + W_NEAR) * n < best_s:
                break  # no context bonus (at most 8 per mention) can lift it
            c = byid[pid]
            b = W_COUNTRY * share.get(c.cc, 0.0) if c.cc else 0.0
            if c.admin1 and c.ftype != "PCL":
                reg = (c.cc, c.admin1)
                sup = 0.0
                for kk in keys:
                    if kk == k:
                        continue
                    if (k, kk) in peers:
                        if reg in regions_inside[kk]:
                            sup += 1.0 / len(regions_of[kk]) ** ADMIN1_SHARPNESS
                        continue
                    o = ctx.get(kk)
                    if o is not None and o.ftype == "ADM1" and o.cc == c.cc and o.admin1 == c.admin1:
                        sup += ADMIN1_PICKED  # the article names the region itself ("Ohio")
                    elif reg in regions_of[kk]:
                        sup += 1.0 / len(regions_of[kk]) ** ADMIN1_SHARPNESS
                # a few names that could lie in one region settle it, however
                # long the article (up to ADMIN1_ENOUGH others count in full)
                b += W_ADMIN1 * min(1.0, sup / min(n_other, ADMIN1_ENOUGH))
            if pts and c.lat is not None and not c.approx:
                d = min(_km_fast(c.lat, c.lon, la, lo) for la, lo in pts)
                b += W_NEAR if d < 50 else 0.75 * W_NEAR if d < 150 else 0.35 * W_NEAR if d < 400 else 0.0
            s = tot[pid] + b * n
            if s > best_s or (s == best_s and pid < best_pid):
                best_pid, best_s = pid, s
        return best_pid

    picks = {k: byid[pick(k, None)] for k in keys}
    if len(keys) > 1:
        for _ in range(2):
            new = {k: byid[pick(k, picks)] for k in keys}
            if new == picks:
                break
            picks = new
    # "DeKalb" after "DeKalb County": the county, where no town of that name
    # lies in the county's state (a short form of a longer name in the text)
    county_words = [pat for pat, kind, _w in load_lexicon(lang).after if kind == "county"]
    for k in keys:
        for w in county_words:
            full = picks.get(f"{k} {w}")
            if full is not None and full.ftype == "ADM2" and not any(
                    c.ftype in ("PPL", "PPLC") and c.cc == full.cc and c.admin1 == full.admin1 for c, _ in groups[k][0].cands):
                picks[k] = full
                break
    # "Congo" after "Republic of Congo": a country's short name is the country
    # the article named in full, where only one of its names ends so
    for k in keys:
        longer = {picks[kk].pid: picks[kk] for kk in keys if kk.endswith(" " + k) and picks[kk].ftype == "PCL"}
        if len(longer) == 1:
            full = next(iter(longer.values()))
            if any(c.pid == full.pid for c, _ in groups[k][0].cands):
                picks[k] = full
    for k in keys:
        for m in groups[k]:
            choice = picks[k]
            if m.cue and m.cue_weight >= 1.0 and not _fits(choice, m.cue) and not (m.cue == "region" and choice.ftype == "PCL"):
                fitting = [(c, p) for c, p in m.cands if _fits(c, m.cue)]
                if fitting:
                    choice = max(fitting, key=lambda t: t[1])[0]
            m.choice = choice


def _to_place(m: _Mention, mentions: list[_Mention]) -> Place:
    c = m.choice
    if c is None:
        return Place(start=m.start, end=m.end, text=m.text, name=None, kind="other")
    lat, lon = c.lat, c.lon
    if c.approx:
        # A county: the point of the article's places in its state, else the state's.
        near = [o.choice for o in mentions if o.choice is not None and o.choice.cc == c.cc
                and o.choice.admin1 == c.admin1 and o.choice.ftype in ("PPL", "PPLC") and not o.choice.approx]
        if near:
            lat = sum(o.lat for o in near) / len(near)
            lon = sum(o.lon for o in near) / len(near)
    return Place(
        start=m.start, end=m.end, text=m.text, name=c.name, kind=c.kind,
        lat=round(lat, 4) if lat is not None else None, lon=round(lon, 4) if lon is not None else None,
        country=c.cc, geonames_id=c.gid,
    )


def resolve(text: str, spans: Sequence[tuple[int, int]], lang: str = "en",
            gazetteer: Optional[Gazetteer] = None) -> list[Place]:
    """Resolve toponym spans (start, end) of one document to places, in order.

    Pure given the gazetteer: the same text, spans and language give the same
    places. A span with no candidate comes back with null coordinates.
    """
    gaz = gazetteer or get_gazetteer()
    lex = load_lexicon(lang)
    flag = LANG_FLAG.get(lang, 0)
    mentions = [_Mention(s, e, text[s:e]) for s, e in spans]
    for m in mentions:
        _gather(m, text, gaz, lex, flag)
    peers = _structure(mentions, text, lex)
    _resolve_mentions(mentions, lang, peers)
    return [_to_place(m, mentions) for m in mentions]


# --- finding toponyms the NER missed -------------------------------------------------

_CAP_TOKEN = re.compile(r"[A-ZÀ-ÖØ-ÞĀ-ſА-ЯЁІЇЄҐ]\w*(?:['’\-]\w+)*", re.UNICODE)
_TOKEN = re.compile(r"\w+(?:['’\-]\w+)*|[^\w\s]", re.UNICODE)
_CONNECT = {"van", "de", "der", "den", "aan", "of", "the", "la", "le", "del", "am", "op", "upon", "on"}
STRONG_FTYPES = {"PCL", "CONT", "ADM1", "RGN", "WATER", "ISL"}


def _sentence_initial(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in " \t\"'‘“„«(":
        i -= 1
    return i < 0 or text[i] in ".!?\n:;•"


def gazetteer_matches(text: str, lang: str, taken: Sequence[tuple[int, int]] = (),
                      gazetteer: Optional[Gazetteer] = None,
                      context_countries: Iterable[str] = ()) -> list[tuple[int, int]]:
    """Spans of known place names in the text, where the evidence is strong.

    Every match is capitalised, not a stop word of the language, not written
    lower-case elsewhere in the text, not a lone word opening a sentence
    (unless a country or region), and not glued to other capitalised words
    (Washington Post, Paris Hilton). Beyond that, strong means, first pass:
    a country, region, sea or island known by its own or a language-specific
    name, or a city of 100,000+. Second pass, with the countries the first
    pass and ``context_countries`` (the LOC mentions') found: a town of
    ``local_pop``+ in one of those countries, or of ``home_pop``+ in the
    language's home country (Hedel, Vught in a Dutch article); both are
    lexicon settings per language (``matcher`` rows).
    """
    gaz = gazetteer or get_gazetteer()
    lex = load_lexicon(lang)

    def strict(cands):
        return [c for c in cands if (
            (c.flags & (PRIMARY | LOCAL) and c.ftype in STRONG_FTYPES)
            or (c.ftype in ("PPL", "PPLC") and c.pop >= 100_000 and not c.flags & WEAK)
            or (c.ftype in ("PPL", "PPLC") and c.flags & LOCAL and c.flags & LANG_FLAG.get(lang, 0))
            or (c.ftype == "SITE" and c.flags & (PRIMARY | LOCAL) and c.name.count(" ") + c.name.count("-") >= 1
                and not c.name.startswith(("White House", "United States Capitol"))))]

    first = _scan(text, lex, gaz, taken, strict)
    countries = set(context_countries)
    for s, e in first:
        cands = strict(gaz.candidates(text[s:e]))
        if cands:
            countries.add(max(cands, key=lambda c: c.pop).cc)
    home = set(lex.home)

    def local(cands):
        return [c for c in cands if c.ftype in ("PPL", "PPLC") and not c.flags & WEAK and (
            (lex.local_pop and c.cc in countries and c.pop >= lex.local_pop)
            or (lex.home_pop and c.cc in home and c.pop >= lex.home_pop and c.flags & (PRIMARY | LOCAL)))]

    second = _scan(text, lex, gaz, list(taken) + first, local) if (lex.local_pop or lex.home_pop) else []
    return sorted(first + second)


def _scan(text: str, lex: PlaceLexicon, gaz: Gazetteer, taken: Sequence[tuple[int, int]], accept) -> list[tuple[int, int]]:
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    taken_sorted = sorted(taken)
    lower_words = None
    out: list[tuple[int, int]] = []

    def overlaps(s: int, e: int) -> bool:
        return any(ts < e and s < te for ts, te in taken_sorted) or any(os_ < e and s < oe for os_, oe in out)

    def is_cap(k: int) -> bool:
        m = _CAP_TOKEN.match(text, tokens[k][0])
        return bool(m) and m.end() == tokens[k][1]

    i = 0
    n = len(tokens)
    maxw = min(gaz.max_words, 5)
    while i < n:
        s0 = tokens[i][0]
        if not is_cap(i):
            i += 1
            continue
        matched = False
        for w in range(maxw, 0, -1):
            j = i + w - 1
            if j >= n:
                continue
            s, e = s0, tokens[j][1]
            if not text[tokens[j][0]:e][:1].isupper():
                continue
            surface = text[s:e]
            key = norm(surface)
            if key in lex.stop or len(key) < 3:
                continue
            cands = gaz.candidates(surface)
            if not cands:
                continue
            strong = accept(cands)
            if not strong:
                continue
            initial = _sentence_initial(text, s)
            if initial and w == 1 and not any(c.ftype in ("PCL", "RGN", "CONT") for c in strong):
                continue
            # Glued to a longer capitalised name?
            if j + 1 < n and is_cap(j + 1) and text[e:tokens[j + 1][0]] in (" ", "-"):
                continue
            if i > 0 and not initial and is_cap(i - 1) and text[tokens[i - 1][1]:s] == " " \
                    and not _sentence_initial(text, tokens[i - 1][0]):
                continue
            if w == 1:
                if lower_words is None:
                    lower_words = {norm(t) for t in re.findall(r"\b[a-zà-ÿ][\w'’\-]*", text)}
                if key in lower_words:
                    continue
            if overlaps(s, e):
                continue
            out.append((s, e))
            i = j + 1
            matched = True
            break
        if not matched:
            i += 1
    return out


# --- the stage -------------------------------------------------------------------------


@register_stage("places")
class PlacesStage:
    """Fill ``article.places`` from LOC mentions plus strong gazetteer matches."""

    def __init__(self, lang: str, mode: str):
        self.lang = lang
        self.mode = mode
        self.gaz = get_gazetteer()
        load_lexicon(lang)

    def __call__(self, articles: list[Article]) -> None:
        for a in articles:
            lang = a.language if a.language in ("nl", "en") else self.lang
            a.places = self.places_for(a, lang)

    def places_for(self, article: Article, lang: str) -> list[Place]:
        text = article.text
        loc = [(m.start, m.end) for m in article.mentions if m.type == "LOC"]
        other = [(m.start, m.end) for m in article.mentions if m.type != "LOC"]
        countries = set()
        for p in resolve(text, loc, lang, gazetteer=self.gaz) if loc else ():
            if p.country:
                countries.add(p.country)
        extra = gazetteer_matches(text, lang, taken=loc + other, gazetteer=self.gaz,
                                  context_countries=countries)
        spans = sorted(set(loc) | set(extra))
        lex = load_lexicon(lang)
        spans = [sp for sp in spans if norm(text[sp[0]:sp[1]]) not in lex.stop]
        # A LOC with no gazetteer candidate stays, with null coordinates.
        return resolve(text, spans, lang, gazetteer=self.gaz)
