"""Latency of the API on a 10,000-document store: search, article, entity, GeoJSON.

The store is built without NLP: synthetic Dutch-looking articles (150-350
words: function words, and content words drawn by Zipf's law from 4,000 words
and pseudo-words; seeded, so every run builds the same store)
with hand-placed layers written through ``Store.put_many``: per article
sentences, 6-14 mentions of 60 people, organisations and places, 2-5 resolved
places (40 real gazetteer entries), 1-3 time expressions, 0-3 quotes with
speakers, publication dates spread over 2020-2024. Then ``kroniek serve``'s
app runs under uvicorn in this process (one worker) and an HTTP client asks
each endpoint 200 times (after a warm-up) with varied parameters.

    python bench/serve.py [--docs 10000] [--requests 200] [--db PATH (reuse or keep the store)]
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import percentile, table  # noqa: E402

from kroniek.document import Article, Entity, Mention, Place, Quote, Sentence, Speaker, TimeExpr  # noqa: E402
from kroniek.store import Store  # noqa: E402

PEOPLE = ["Vladimir Poetin", "Volodymyr Zelensky", "Mark Rutte", "Joe Biden", "Olaf Scholz", "Emmanuel Macron",
          "Sergej Sjojgoe", "Dmitri Peskov", "Jens Stoltenberg", "Ursula von der Leyen", "Kaja Kallas",
          "Antony Blinken", "Sergej Lavrov", "Recep Tayyip Erdogan", "Xi Jinping", "Wopke Hoekstra",
          "Sigrid Kaag", "Hugo de Jonge", "Andrzej Duda", "Viktor Orbán"]
ORGS = ["Kremlin", "NAVO", "Europese Unie", "ISW", "FSB", "Staatsdoema", "Verenigde Naties", "Pentagon",
        "Tweede Kamer", "Gazprom", "Rode Kruis", "IAEA", "Wagner", "ministerie van Defensie", "OVSE",
        "Europees Parlement", "Reuters", "NOS", "Rabobank", "Shell"]
PLACES = [("Charkiv", "Kharkiv", "city", 49.9808, 36.2527, "UA", 706483),
          ("Kiev", "Kyiv", "city", 50.4547, 30.5238, "UA", 703448),
          ("Moskou", "Moscow", "city", 55.7522, 37.6156, "RU", 524901),
          ("Krim", "Crimea", "region", 45.3, 34.4, "UA", 703883),
          ("Donbas", "Donbas", "region", 48.4, 38.4, "UA", 11962237),
          ("Slangeneiland", "Snake Island", "island", 45.26, 30.2, "UA", 712519),
          ("Oekraïne", "Ukraine", "country", 49.0, 32.0, "UA", 690791),
          ("Rusland", "Russia", "country", 60.0, 100.0, "RU", 2017370),
          ("Den Haag", "The Hague", "city", 52.0767, 4.2986, "NL", 2747373),
          ("Amsterdam", "Amsterdam", "city", 52.374, 4.8897, "NL", 2759794),
          ("Brussel", "Brussels", "city", 50.8505, 4.3488, "BE", 2800866),
          ("Berlijn", "Berlin", "city", 52.5244, 13.4105, "DE", 2950159),
          ("Parijs", "Paris", "city", 48.8534, 2.3488, "FR", 2988507),
          ("Londen", "London", "city", 51.5085, -0.1257, "GB", 2643743),
          ("Washington", "Washington", "city", 38.8951, -77.0364, "US", 4140963),
          ("Peking", "Beijing", "city", 39.9075, 116.3972, "CN", 1816670),
          ("Warschau", "Warsaw", "city", 52.2298, 21.0118, "PL", 756135),
          ("Odessa", "Odesa", "city", 46.4775, 30.7326, "UA", 698740),
          ("Marioepol", "Mariupol", "city", 47.0971, 37.5434, "UA", 701822),
          ("Cherson", "Kherson", "city", 46.6354, 32.6169, "UA", 706448),
          ("Zaporizja", "Zaporizhzhia", "city", 47.8229, 35.1903, "UA", 687700),
          ("Boetsja", "Bucha", "city", 50.5434, 30.2120, "UA", 711660),
          ("Bachmoet", "Bakhmut", "city", 48.5956, 38.0003, "UA", 709930),
          ("Lviv", "Lviv", "city", 49.8383, 24.0232, "UA", 702550),
          ("Minsk", "Minsk", "city", 53.9, 27.5667, "BY", 625144),
          ("Ankara", "Ankara", "city", 39.9199, 32.8543, "TR", 323786),
          ("Rotterdam", "Rotterdam", "city", 51.9225, 4.4792, "NL", 2747891),
          ("Zwarte Zee", "Black Sea", "water", 43.0, 35.0, None, 630673),
          ("Kaliningrad", "Kaliningrad", "city", 54.7065, 20.511, "RU", 554234),
          ("Belgorod", "Belgorod", "city", 50.6107, 36.5802, "RU", 578072),
          ("Sint-Petersburg", "Saint Petersburg", "city", 59.9386, 30.3141, "RU", 498817),
          ("Tallinn", "Tallinn", "city", 59.437, 24.7535, "EE", 588409),
          ("Riga", "Riga", "city", 56.946, 24.1059, "LV", 456172),
          ("Vilnius", "Vilnius", "city", 54.6892, 25.2798, "LT", 593116),
          ("Helsinki", "Helsinki", "city", 60.1695, 24.9354, "FI", 658225),
          ("Stockholm", "Stockholm", "city", 59.3294, 18.0687, "SE", 2673730),
          ("Genève", "Geneva", "city", 46.2022, 6.1457, "CH", 2660646),
          ("Wenen", "Vienna", "city", 48.2085, 16.3721, "AT", 2761369),
          ("Boedapest", "Budapest", "city", 47.498, 19.0399, "HU", 3054643),
          ("Teheran", "Tehran", "city", 35.6944, 51.4215, "IR", 112931)]
FUNCTION_WORDS = "de het een van in op met voor naar over door bij tegen zonder na en dat die is was".split()
CONTENT = ("regering leger troepen oorlog vrede "
         "grens overleg sancties gas olie graan haven aanval verdediging offensief terugtrekking verlies winst "
         "front stad regio dorp bevolking vluchtelingen hulp wapens munitie drones raketten tanks artillerie "
         "onderhandelingen akkoord verklaring kritiek steun verzet dreiging veiligheid economie inflatie "
         "energie prijzen winter zomer minister president premier generaal woordvoerder analisten experts "
         "bronnen rapport onderzoek verkiezingen parlement stemming besluit wet begroting miljard miljoen "
         "week maand jaar dag nacht ochtend avond later eerder nu opnieuw volgens zegt meldt bevestigt ontkent "
         "waarschuwt belooft eist vraagt").split()


def _vocabulary(n: int = 4000) -> list[str]:
    """The content words plus pseudo-words made of Dutch-looking syllables, most frequent first."""
    rng = random.Random(1)
    syll = ["ver", "ont", "be", "ge", "wer", "ling", "heid", "schap", "stra", "kon", "mar", "del", "ten", "ker",
            "pol", "lijk", "baar", "aar", "oor", "ui", "zee", "berg", "dorp", "veld", "ste", "ra", "na", "mo"]
    words = list(CONTENT)
    seen = set(words)
    while len(words) < n:
        w = "".join(rng.choice(syll) for _ in range(rng.randint(2, 4)))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


VOCAB = _vocabulary()
# Zipf's law over the vocabulary: the k-th word is drawn with weight 1/k.
_CUM = list(__import__("itertools").accumulate(1.0 / (k + 1) for k in range(len(VOCAB))))


def words_for(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        if rng.random() < 0.35:
            out.append(rng.choice(FUNCTION_WORDS))
        else:
            out.append(VOCAB[__import__("bisect").bisect(_CUM, rng.random() * _CUM[-1])])
    return out
MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december"]
MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def synthetic(i: int, rng: random.Random) -> Article:
    """One article with every layer placed by construction (offsets are exact)."""
    y, m, d = rng.randint(2020, 2024), rng.randint(1, 12), rng.randint(1, 28)
    published = f"{y}-{m:02d}-{d:02d}" if i % 5 else f"{y}-{m:02d}"  # some at month precision
    parts: list[str] = []
    pos = 0
    a = Article(id=f"bench-{i:06d}", source=f"bench/{['nos', 'nrc', 'volkskrant', 'trouw', 'ad'][i % 5]}",
                title=None, published=published, language="nl" if i % 7 else "en", text="")
    ents: dict[str, str] = {}

    def add(s: str) -> tuple[int, int]:
        nonlocal pos
        parts.append(s)
        start = pos
        pos += len(s)
        return start, pos

    def mention(name: str, typ: str) -> tuple[int, int]:
        s, e = add(name)
        if name not in ents:
            ents[name] = f"e{len(ents) + 1}"
            a.entities.append(Entity(id=ents[name], name=name, type=typ, aliases=[name]))
        a.mentions.append(Mention(start=s, end=e, text=name, type=typ, entity=ents[name]))
        return s, e

    n_sent = rng.randint(12, 22)
    title_words = []
    for k in range(n_sent):
        s0 = pos
        words = words_for(rng, rng.randint(8, 16))
        if k == 0:
            title_words = words[:6]
        kind = rng.random()
        if kind < 0.35:
            who, typ = (rng.choice(PEOPLE), "PER") if rng.random() < 0.6 else (rng.choice(ORGS), "ORG")
            add(" ".join(words[:4]).capitalize() + " ")
            mention(who, typ)
            add(" " + " ".join(words[4:]) + ".")
        elif kind < 0.6:
            t, name, pk, lat, lon, cc, gid = rng.choice(PLACES)
            add(" ".join(words[:5]).capitalize() + " in ")
            s, e = mention(t, "LOC")
            a.places.append(Place(start=s, end=e, text=t, name=name, kind=pk, lat=lat, lon=lon, country=cc,
                                  geonames_id=gid))
            add(" " + " ".join(words[5:]) + ".")
        elif kind < 0.75:
            mm = rng.randint(1, 12)
            phrase = f"eind {MONTHS[mm - 1]}" if rng.random() < 0.5 else f"begin {MONTHS[mm - 1]}"
            yy = y if mm <= m else y - 1
            add(" ".join(words[:4]).capitalize() + " ")
            s, e = add(phrase)
            last = MONTH_DAYS[mm - 1]
            begin, end = ((f"{yy}-{mm:02d}-15", f"{yy}-{mm:02d}-{last}") if phrase.startswith("eind")
                          else (f"{yy}-{mm:02d}-01", f"{yy}-{mm:02d}-15"))
            a.times.append(TimeExpr(start=s, end=e, text=phrase, type="DATE", value=f"{yy}-{mm:02d}",
                                    mod="END" if phrase.startswith("eind") else "START", begin=begin, end_date=end))
            add(" " + " ".join(words[4:]) + ".")
        elif kind < 0.85 and len(a.quotes) < 3:
            who = rng.choice(PEOPLE)
            add("“")
            qs, qe = add(" ".join(words).capitalize())
            add("”, zei ")
            ss, se = mention(who, "PER")
            add(".")
            a.quotes.append(Quote(start=qs, end=qe, text="".join(parts)[qs:qe], kind="direct",
                                  speaker=Speaker(start=ss, end=se, text=who, name=who, entity=ents[who])))
        else:
            add(" ".join(words).capitalize() + ".")
        a.sentences.append(Sentence(start=s0, end=pos))
        add(" " if k % 4 != 3 else "\n\n")
    text = "".join(parts).rstrip()
    a.text = text
    a.title = " ".join(title_words).capitalize()
    a.id = f"bench-{i:06d}"
    for q in a.quotes:
        q.text = text[q.start:q.end]
    return a


def build(db: str, n: int) -> float:
    store = Store(db)
    have = store.count()
    t0 = time.perf_counter()
    rng = random.Random(20220914)
    batch = []
    for i in range(n):
        a = synthetic(i, rng)
        if i < have:
            continue
        batch.append(a)
        if len(batch) == 500:
            store.put_many(batch, "bench")
            batch = []
    if batch:
        store.put_many(batch, "bench")
    store.close()
    return time.perf_counter() - t0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--db", default=None, help="SQLite path or postgresql:// URL: reused if filled, kept")
    args = ap.parse_args()

    import httpx
    import uvicorn

    from kroniek.api.app import create_app

    tmp = None
    db = args.db
    if db is None:
        tmp = tempfile.TemporaryDirectory(prefix="kroniek-bench-serve-")
        db = os.path.join(tmp.name, "bench.db")
    reused = os.path.exists(db) if "://" not in db else False
    build_s = build(db, args.docs)
    app = create_app(db, mode="fast")
    stats = app.state.store.stats()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)

    load = os.getloadavg()
    rng = random.Random(7)
    # from very common (regering: in most documents) to rare words, names, phrases, prefixes, OR
    queries = ["regering", "oorlog", "sancties gas", "Poetin", "Charkiv", '"de regering"', "drones OR raketten",
               "vrede", "offens*", "Zelensky grens", "winter energie prijzen", "Rutte", VOCAB[400], VOCAB[2500]]
    names = [(p, "PER") for p in PEOPLE] + [(o, "ORG") for o in ORGS] + [(p[0], "LOC") for p in PLACES]
    years = ["2020", "2021", "2022", "2023", "2024"]

    def search():
        p = {"q": rng.choice(queries)}
        if rng.random() < 0.3:
            p["date_from"] = rng.choice(years)
            p["date_to"] = p["date_from"]
        if rng.random() < 0.2:
            p["language"] = "nl"
        return "/api/search", p

    def search_facets():
        path, p = search()
        return path, {**p, "facets": "true"}

    def article():
        return f"/api/documents/bench-{rng.randrange(args.docs):06d}", {}

    def entity():
        name, typ = rng.choice(names)
        return f"/api/entities/{typ}/{name}", {}

    def geojson():
        r = rng.random()
        if r < 0.4:
            return "/api/places", {}
        if r < 0.7:
            y = rng.choice(years)
            return "/api/places", {"date_from": y, "date_to": y}
        return "/api/places", {"entity": rng.choice(names)[0]}

    endpoints = [("search", search), ("search+facets", search_facets), ("article", article), ("entity", entity),
                 ("geojson", geojson)]
    rows = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for name, make in endpoints:
            for _ in range(10):  # warm-up
                path, params = make()
                client.get(path, params=params)
            times, cpu = [], []
            bad = 0
            for _ in range(args.requests):
                path, params = make()
                t0, c0 = time.perf_counter(), time.process_time()
                r = client.get(path, params=params)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
                bad += r.status_code != 200
            med, p95 = percentile(times, 50), percentile(times, 95)
            rows.append((name, args.requests, f"{med:.1f}", f"{p95:.1f}", f"{max(times):.1f}",
                         "yes" if p95 <= 100 else "NO", f"{percentile(cpu, 50):.1f}", f"{percentile(cpu, 95):.1f}",
                         bad))
    server.should_exit = True
    thread.join(10)
    app.state.store.close()

    print(f"store: {stats['documents']} documents ({app.state.store.dialect}), {stats['mentions']} mentions, "
          f"{stats['places']} places, {stats['times']} times, {stats['quotes']} quotes; "
          + ("reused from --db" if reused and build_s < 60 else f"built in {build_s:.1f} s")
          + " without NLP (synthetic articles through Store.put_many)")
    print(f"server: uvicorn, 1 worker, in this process; client: httpx over localhost; "
          f"{args.requests} requests per endpoint after 10 warm-up, varied parameters")
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end (other processes share the CPUs)\n")
    print(table(rows, ("endpoint", "requests", "median ms", "p95 ms", "max ms", "p95<=100ms", "cpu median ms",
                       "cpu p95 ms", "non-200")))
    print("\nms: wall-clock latency per request; cpu ms: CPU time this process (server and client) spent on it,\n"
          "about what the latency would be on an idle core when the machine is shared")
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
