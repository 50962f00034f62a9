"""The JSON API: a store filled by ingesting real files (the reference article,
through POST /api/documents and the real pipeline) and small articles written
here with every layer annotated by hand; SQLite and PostgreSQL; tokens;
pagination; escaping; and a bounded property run over the OpenAPI description
that must find no server errors."""

from __future__ import annotations

import json
import time

import jsonschema
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from kroniek.api.app import MAX_PAGE, create_app  # noqa: E402
from kroniek.document import (  # noqa: E402
    Article,
    Entity,
    Mention,
    Place,
    Quote,
    Sentence,
    Span,
    Speaker,
    TimeExpr,
    json_schema,
)

TOKEN = "s3cret-token"
XSS = "<script>alert('x')</script>"


# --- small articles with every layer, annotated by hand ----------------------------


class _Builder:
    """Spans by their text (the nth occurrence), so offsets are never typed by hand."""

    def __init__(self, text: str, **meta):
        self.a = Article.new(text, **meta)
        self.text = text

    def at(self, sub: str, n: int = 0) -> tuple[int, int]:
        i = -1
        for _ in range(n + 1):
            i = self.text.index(sub, i + 1)
        return i, i + len(sub)

    def sentences(self):
        start = 0
        for i, ch in enumerate(self.text):
            if ch in ".?!" and (i + 1 == len(self.text) or self.text[i + 1] == " "):
                self.a.sentences.append(Sentence(start=start, end=i + 1))
                start = i + 2
        if start < len(self.text):
            self.a.sentences.append(Sentence(start=start, end=len(self.text)))
        return self

    def mention(self, sub, type, entity=None, n=0):
        s, e = self.at(sub, n)
        self.a.mentions.append(Mention(start=s, end=e, text=sub, type=type, entity=entity))
        return self

    def entity(self, id, name, type, aliases):
        self.a.entities.append(Entity(id=id, name=name, type=type, aliases=aliases))
        return self

    def time(self, sub, value, begin, end, n=0):
        s, e = self.at(sub, n)
        self.a.times.append(TimeExpr(start=s, end=e, text=sub, type="DATE", value=value, begin=begin, end_date=end))
        return self

    def place(self, sub, name, kind, lat, lon, country, gid, n=0):
        s, e = self.at(sub, n)
        self.a.places.append(Place(start=s, end=e, text=sub, name=name, kind=kind, lat=lat, lon=lon,
                                   country=country, geonames_id=gid))
        return self

    def quote(self, sub, kind, speaker=None, name=None, entity=None, cue=None):
        s, e = self.at(sub)
        sp = None
        if speaker:
            ss, se = self.at(speaker)
            sp = Speaker(start=ss, end=se, text=speaker, name=name, entity=entity)
        c = None
        if cue:
            cs, ce = self.at(cue)
            c = Span(start=cs, end=ce, text=cue)
        self.a.quotes.append(Quote(start=s, end=e, text=sub, kind=kind, speaker=sp, cue=c))
        return self

    def done(self) -> Article:
        assert self.a.check_spans() == []
        return self.a


def annotated_articles() -> list[Article]:
    """Three small articles with every layer (one holds markup and a script tag)."""
    t1 = ("Poetin zei gisteren in Moskou dat \"de speciale operatie doorgaat\". "
          "Volgens Zelensky is Kiev veilig. De Krim blijft omstreden.")
    a1 = (_Builder(t1, id="hand-1", title="Poetin spreekt in Moskou", published="2022-09-14", language="nl",
                   source="hand", url="https://example.org/1").sentences()
          .mention("Poetin", "PER", "e1").mention("Moskou", "LOC", "e2").mention("Zelensky", "PER", "e3")
          .mention("Kiev", "LOC", "e4").mention("Krim", "LOC", "e5")
          .entity("e1", "Vladimir Poetin", "PER", ["Poetin"]).entity("e2", "Moskou", "LOC", ["Moskou"])
          .entity("e3", "Volodymyr Zelensky", "PER", ["Zelensky"]).entity("e4", "Kiev", "LOC", ["Kiev"])
          .entity("e5", "Krim", "LOC", ["Krim"])
          .time("gisteren", "2022-09-13", "2022-09-13", "2022-09-13")
          .place("Moskou", "Moscow", "city", 55.7522, 37.6156, "RU", 524901)
          .place("Kiev", "Kyiv", "city", 50.4547, 30.5238, "UA", 703448)
          .place("Krim", "Crimea", "region", 45.0, 34.0, "UA", 703883)
          .quote("de speciale operatie doorgaat", "direct", "Poetin", "Vladimir Poetin", "e1", "zei")
          .quote("is Kiev veilig", "according_to", "Zelensky", "Volodymyr Zelensky", "e3", "Volgens")
          .done())
    t2 = ("Zelensky sprak eind februari over Poetin. Hij zei dat Charkiv standhoudt. "
          "In Charkiv werd gevochten.")
    a2 = (_Builder(t2, id="hand-2", title="Zelensky over Charkiv", published="2022-03", language="nl",
                   source="hand").sentences()
          .mention("Zelensky", "PER").mention("Poetin", "PER").mention("Charkiv", "LOC")
          .mention("Charkiv", "LOC", n=1)
          .time("eind februari", "2022-02", "2022-02-15", "2022-02-28")
          .place("Charkiv", "Kharkiv", "city", 49.9808, 36.2527, "UA", 706483)
          .place("Charkiv", "Kharkiv", "city", 49.9808, 36.2527, "UA", 706483, n=1)
          .quote("Charkiv standhoudt", "indirect", "Hij", "Volodymyr Zelensky", None, "zei")
          .done())
    t3 = (f"Het ministerie meldde {XSS} & <b>vet</b> in Den Haag. Rutte zei: \"<img src=x onerror=alert(1)> "
          "is geen nieuws\". ")
    a3 = (_Builder(t3.strip(), id="hand-3<x>", title="<i>Markup</i> & \"quotes\"", published="2023-01-05",
                   language="en", source="hand<script>", url="javascript:alert(1)").sentences()
          .mention("Rutte", "PER").mention("Den Haag", "LOC").mention("<b>vet</b>", "MISC")
          .place("Den Haag", "The Hague <b>", "city", 52.0767, 4.2986, "NL", 2747373)
          .quote("<img src=x onerror=alert(1)> is geen nieuws", "direct", "Rutte", "Mark <Rutte>", None, "zei")
          .done())
    return [a1, a2, a3]


# --- fixtures ----------------------------------------------------------------


def post(client, records, token=TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/api/documents", json=records, headers=headers)


@pytest.fixture
def app_client(store_url, monkeypatch):
    monkeypatch.setenv("KRONIEK_TOKEN", TOKEN)
    app = create_app(store_url, mode="fast")
    with TestClient(app) as client:
        client.store = app.state.store
        client.store.put_many(annotated_articles(), "hand")
        yield client
    app.state.store.close()


@pytest.fixture
def ref_client(app_client, reference_path):
    """The store above plus the reference article, ingested from its file through the API."""
    from kroniek.ingest import read_sources

    (article,) = list(read_sources([str(reference_path)]))
    r = post(app_client, {"text": article.text, "published": article.published, "source": article.source,
                          "title": article.title})
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["status"] == "stored"
    app_client.ref_id = r.json()["results"][0]["id"]
    app_client.ref_text = article.text
    return app_client


# --- tests -------------------------------------------------------------------------


def test_openapi_describes_the_api(app_client):
    spec = app_client.get("/api/openapi.json").json()
    for path in ("/api/documents", "/api/documents/{doc_id}", "/api/search", "/api/entities",
                 "/api/entities/{type}/{name}", "/api/quotes", "/api/places", "/api/timeline"):
        assert path in spec["paths"], path
    assert "post" in spec["paths"]["/api/documents"]
    assert app_client.get("/api/docs").status_code == 200


def test_reference_article_is_found_and_read_back(ref_client):
    c = ref_client
    r = c.get("/api/search", params={"q": "Kremlin nederlaag", "facets": True})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] >= 1
    hit = next(h for h in body["items"] if h["id"] == c.ref_id)
    assert any(p["hit"] for p in hit["snippet"])
    assert all(set(p) == {"text", "hit"} for p in hit["snippet"])
    assert body["facets"]["month"][0]["value"] == "2022-09"
    doc = c.get(f"/api/documents/{c.ref_id}").json()
    jsonschema.validate(doc, json_schema())
    assert doc["text"] == c.ref_text
    assert doc["published"] == "2022-09"
    assert Article.from_dict(doc).check_spans() == []
    # the same file again stores nothing
    r = post(c, {"text": c.ref_text, "published": "2022-09", "source": doc["source"]})
    assert r.json()["results"] == [{"id": c.ref_id, "status": "unchanged"}]


def test_document_filters(app_client):
    c = app_client

    def ids(**params):
        r = c.get("/api/documents", params=params)
        assert r.status_code == 200, r.text
        return {d["id"] for d in r.json()["items"]}

    assert ids() == {"hand-1", "hand-2", "hand-3<x>"}
    assert ids(date_from="2022-09", date_to="2022-09-30") == {"hand-1"}
    assert ids(date_from="2022") == {"hand-1", "hand-2", "hand-3<x>"}
    assert ids(date_to="2022-03-15") == {"hand-2"}  # a month overlaps the day
    assert ids(language="en") == {"hand-3<x>"}
    assert ids(source="hand<script>") == {"hand-3<x>"}
    assert ids(has_quotes=True) == {"hand-1", "hand-2", "hand-3<x>"}
    assert ids(entity="Poetin") == {"hand-1", "hand-2"}
    assert ids(entity="Volodymyr Zelensky") == {"hand-1"}
    assert ids(place="Kharkiv") == {"hand-2"}
    assert ids(place="Kiev", date_from="2022-09") == {"hand-1"}
    assert ids(q="Charkiv") == {"hand-2"}
    r = c.get("/api/documents/hand-3<x>")
    assert r.status_code == 200 and r.json()["title"] == "<i>Markup</i> & \"quotes\""
    assert c.get("/api/documents/nope").status_code == 404


def test_search_filters_snippets_and_escaping(app_client):
    c = app_client
    r = c.get("/api/search", params={"q": "ministerie alert"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert [h["id"] for h in body["items"]] == ["hand-3<x>"] and body["total"] == 1 and body["total_exact"] is True
    parts = body["items"][0]["snippet"]
    assert all(set(p) == {"text", "hit"} and isinstance(p["text"], str) for p in parts)
    assert [p["text"].lower() for p in parts if p["hit"]] == ["ministerie", "alert"]
    if c.store.dialect == "sqlite":  # PostgreSQL's headline drops tags; SQLite keeps the text as it is
        assert "<script>" in "".join(p["text"] for p in parts)  # plain text in JSON; pages escape it
    assert c.get("/api/search", params={"q": "Charkiv", "has_quotes": True}).json()["total"] == 1
    assert c.get("/api/search", params={"q": "Charkiv", "entity": "Zelensky"}).json()["total"] == 1
    assert c.get("/api/search", params={"q": "Charkiv", "place": "Moscow"}).json()["total"] == 0
    assert c.get("/api/search", params={"q": "Zelensky", "date_from": "2022-09"}).json()["total"] == 1
    assert c.get("/api/search", params={"q": "Zelensky", "language": "en"}).json()["total"] == 0
    # syntax never fails: quotes, operators, punctuation
    for q in ['"unclosed', "OR", "a AND (b", "*", "NEAR(", "-x", "'; DROP TABLE documents; --"]:
        assert c.get("/api/search", params={"q": q}).status_code == 200, q
    assert c.get("/api/documents").json()["total"] == 3


def test_pagination_walks_everything(app_client):
    c = app_client
    records = [{"id": f"bulk-{i:02d}", "text": f"Bericht nummer {i} over de haven van Rotterdam.",
                "published": f"2021-{1 + i % 12:02d}", "source": "bulk"} for i in range(25)]
    r = post(c, records)
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == ["stored"] * 25
    seen, seen_ranked = [], []
    offset = 0
    while True:
        page = c.get("/api/search", params={"q": "Rotterdam", "limit": 7, "offset": offset, "sort": "oldest"}).json()
        assert page["total"] == 25 and page["limit"] == 7 and page["offset"] == offset
        seen += [h["id"] for h in page["items"]]
        ranked = c.get("/api/search", params={"q": "Rotterdam", "limit": 7, "offset": offset}).json()
        seen_ranked += [h["id"] for h in ranked["items"]]
        offset += 7
        if offset >= page["total"]:
            break
    assert sorted(seen) == sorted(x["id"] for x in records) and len(seen) == 25
    assert sorted(seen_ranked) == sorted(seen)
    docs = [d["id"] for o in range(0, 28, 10)
            for d in c.get("/api/documents", params={"source": "bulk", "limit": 10, "offset": o}).json()["items"]]
    assert sorted(docs) == sorted(x["id"] for x in records)
    past = c.get("/api/documents", params={"offset": 1000}).json()
    assert past["items"] == [] and past["total"] == 28
    assert c.get("/api/documents", params={"limit": MAX_PAGE + 1}).status_code == 422
    assert c.get("/api/documents", params={"limit": 0}).status_code == 422
    assert c.get("/api/documents", params={"offset": -1}).status_code == 422
    tl = c.get("/api/timeline", params={"source": "bulk", "kind": "published", "limit": 200}).json()
    assert tl["total"] == 25 and len(tl["items"]) == 25
    assert [i["begin"] for i in tl["items"]] == sorted(i["begin"] for i in tl["items"])


def test_entities(app_client):
    c = app_client
    body = c.get("/api/entities").json()
    names = {(e["name"], e["type"]): e for e in body["items"]}
    assert names[("Volodymyr Zelensky", "PER")]["mentions"] == 1
    assert names[("Zelensky", "PER")]["documents"] == 1  # unlinked mention in hand-2
    assert names[("Charkiv", "LOC")]["mentions"] == 2
    assert body["items"][0]["mentions"] >= body["items"][-1]["mentions"]
    assert {e["name"] for e in c.get("/api/entities", params={"type": "LOC"}).json()["items"]} >= {"Kiev", "Charkiv"}
    assert {e["name"] for e in c.get("/api/entities", params={"name": "poet"}).json()["items"]} == {
        "Poetin", "Vladimir Poetin"}
    assert {e["name"] for e in c.get("/api/entities", params={"language": "en"}).json()["items"]} == {
        "Rutte", "Den Haag", "<b>vet</b>"}

    e = c.get("/api/entities/PER/Vladimir Poetin").json()
    assert e["aliases"] == ["Poetin"]
    assert e["mentions"] == 1 and e["documents"] == 1
    assert e["mentions_by_month"] == [{"month": "2022-09", "mentions": 1, "documents": 1}]
    assert [q["text"] for q in e["quotes_by"]["items"]] == ["de speciale operatie doorgaat"]
    assert e["quotes_by"]["items"][0]["sentence"] == 0
    co = {(x["name"], x["type"]) for x in e["co_occurring"]}
    assert ("Volodymyr Zelensky", "PER") in co and ("Kiev", "LOC") in co
    assert {p["name"] for p in e["places"]} == {"Moscow", "Kyiv", "Crimea"}

    z = c.get("/api/entities/PER/Volodymyr Zelensky").json()
    # by: the according-to quote (linked) and "Hij zei" in hand-2 (pronoun resolved by name)
    assert {q["text"] for q in z["quotes_by"]["items"]} == {"is Kiev veilig", "Charkiv standhoudt"}
    k = c.get("/api/entities/LOC/Kiev").json()
    assert [q["text"] for q in k["quotes_about"]["items"]] == ["is Kiev veilig"]
    assert c.get("/api/entities/MISC/<b>vet</b>").json()["name"] == "<b>vet</b>"
    assert c.get("/api/entities/PER/Nobody").status_code == 404
    assert c.get("/api/entities/XYZ/Poetin").status_code == 422


def test_quotes(app_client):
    c = app_client

    def texts(**params):
        r = c.get("/api/quotes", params=params)
        assert r.status_code == 200, r.text
        return [q["text"] for q in r.json()["items"]]

    assert len(texts()) == 4
    assert texts(speaker="poetin") == ["de speciale operatie doorgaat"]
    assert set(texts(speaker="Zelensky")) == {"is Kiev veilig", "Charkiv standhoudt"}
    assert texts(mentioned="Kiev") == ["is Kiev veilig"]
    assert texts(mentioned="Kharkiv") == [] and texts(mentioned="Charkiv") == ["Charkiv standhoudt"]
    assert texts(text="OPERATIE") == ["de speciale operatie doorgaat"]
    assert texts(text="100%") == [] and texts(text="_") == []  # LIKE wildcards are literal
    assert texts(date_from="2022-09", date_to="2022-09") == ["de speciale operatie doorgaat", "is Kiev veilig"]
    assert texts(kind="indirect") == ["Charkiv standhoudt"]
    q = c.get("/api/quotes", params={"speaker": "Rutte"}).json()["items"][0]
    assert q["text"].startswith("<img") and q["speaker"]["name"] == "Mark <Rutte>"
    assert q["document"]["id"] == "hand-3<x>" and q["sentence"] == 1


def test_places_geojson(app_client):
    c = app_client
    r = c.get("/api/places")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and fc["total"] == 5
    by = {f["properties"]["name"]: f for f in fc["features"]}
    kh = by["Kharkiv"]
    assert kh["geometry"] == {"type": "Point", "coordinates": [36.2527, 49.9808]}
    assert kh["properties"]["documents"] == 1 and kh["properties"]["mentions"] == 2
    assert kh["properties"]["geonames_id"] == 706483
    names = lambda **p: {f["properties"]["name"] for f in c.get("/api/places", params=p).json()["features"]}  # noqa: E731
    assert names(date_from="2022-03", date_to="2022-03") == {"Kharkiv"}
    assert names(entity="Rutte") == {"The Hague <b>"}
    assert names(entity="Vladimir Poetin") == {"Moscow", "Kyiv", "Crimea"}
    page = c.get("/api/places", params={"limit": 2, "offset": 4}).json()
    assert page["total"] == 5 and len(page["features"]) == 1


def test_timeline(app_client):
    c = app_client
    items = c.get("/api/timeline", params={"limit": 200}).json()["items"]
    kinds = [(i["kind"], i["begin"], i["end"]) for i in items]
    assert ("time", "2022-02-15", "2022-02-28") in kinds
    assert ("time", "2022-09-13", "2022-09-13") in kinds
    assert ("published", "2022-03-01", "2022-03-31") in kinds
    assert ("quote", "2023-01-05", "2023-01-05") in kinds
    assert [i["begin"] for i in items] == sorted(i["begin"] for i in items)
    feb = c.get("/api/timeline", params={"date_from": "2022-02", "date_to": "2022-02"}).json()
    assert [(i["kind"], i["text"]) for i in feb["items"]] == [("time", "eind februari")]
    assert feb["items"][0]["document"]["id"] == "hand-2" and feb["items"][0]["sentence"] == 0
    only = c.get("/api/timeline", params={"kind": ["time"], "entity": "Vladimir Poetin"}).json()
    assert [i["text"] for i in only["items"]] == ["gisteren"]
    assert c.get("/api/timeline", params={"kind": "nope"}).status_code == 422


def test_writes_need_the_token(store_url, monkeypatch):
    monkeypatch.delenv("KRONIEK_TOKEN", raising=False)
    app = create_app(store_url, mode="fast")
    with TestClient(app) as c:
        r = post(c, {"text": "Een artikel."})
        assert r.status_code == 403 and "writes disabled" in r.json()["detail"]
        monkeypatch.setenv("KRONIEK_TOKEN", TOKEN)
        assert post(c, {"text": "Een artikel."}, token=None).status_code == 401
        assert post(c, {"text": "Een artikel."}, token="wrong").status_code == 401
        r = c.post("/api/documents", json={"text": "Een artikel."}, headers={"Authorization": f"Basic {TOKEN}"})
        assert r.status_code == 401
        assert c.get("/api/documents").json()["total"] == 0
        r = post(c, [{"id": "x1", "text": "Eerste versie.", "published": "2022-09"},
                     {"text": "Nog een artikel, zonder id.", "title": "t"}])
        assert r.status_code == 200, r.text
        assert [x["status"] for x in r.json()["results"]] == ["stored", "stored"]
        assert post(c, {"id": "x1", "text": "Eerste versie.", "published": "2022-09"}).json()["results"][0][
            "status"] == "unchanged"
        assert post(c, {"id": "x1", "text": "Tweede versie."}).json()["results"][0]["status"] == "replaced"
        doc = c.get("/api/documents/x1").json()
        assert doc["text"] == "Tweede versie." and doc["language"]
        jsonschema.validate(doc, json_schema())
        # bad input is refused whole, with the reason
        assert post(c, {"text": "x", "published": "gisteren"}).status_code == 422
        assert post(c, {"text": ""}).status_code == 422
        assert post(c, {"text": "x", "colour": "red"}).status_code == 422
        assert post(c, []).status_code == 422
        assert c.get("/api/documents").json()["total"] == 2
    app.state.store.close()


def test_bad_parameters_are_client_errors(app_client):
    c = app_client
    for url, params in [("/api/documents", {"date_from": "2022-13"}), ("/api/search", {"q": "x", "date_to": "gisteren"}),
                        ("/api/documents", {"has_quotes": "maybe"}), ("/api/search", {"sort": "random"}),
                        ("/api/places", {"limit": 10**6}), ("/api/documents", {"offset": 10**20})]:
        assert c.get(url, params=params).status_code == 422, (url, params)
    for url in ("/api/search?q=%00", "/api/documents?source=%00x", "/api/quotes?speaker=%00",
                "/api/entities/PER/%00", "/api/documents/%00"):
        assert c.get(url).status_code in (200, 404), url


def test_property_run_finds_no_server_errors(tmp_path, monkeypatch):
    """Schemathesis over the OpenAPI description: ~100 generated requests, none may fail with a 5xx."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, Phase, given, settings

    monkeypatch.setenv("KRONIEK_TOKEN", TOKEN)
    app = create_app(str(tmp_path / "prop.db"), mode="fast")
    app.state.store.put_many(annotated_articles(), "hand")
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 9
    per_op = max(4, 100 // len(operations))
    failures = []
    started = time.monotonic()
    for op in operations:
        is_write = op.method.upper() == "POST"

        @settings(max_examples=per_op, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy())
        def run(case):
            if is_write:  # half with the token, so analysis and storage run too
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {TOKEN}"}
            response = case.call()
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query} -> {response.status_code}")

        run()
    assert time.monotonic() - started < 90
    assert failures == [], "\n".join(failures[:10])
    app.state.store.close()


def test_json_is_valid_for_every_layer(app_client):
    doc = app_client.get("/api/documents/hand-1").json()
    jsonschema.validate(doc, json_schema())
    assert len(doc["quotes"]) == 2 and doc["quotes"][0]["speaker"]["name"] == "Vladimir Poetin"
    assert json.loads(json.dumps(doc)) == doc


def test_entities_are_linked_across_languages(app_client):
    """Poetin in a Dutch article and Putin in an English one are one entity in the API."""
    from kroniek.document import Article, Mention
    from kroniek.nlp.entities import cluster

    def doc(text, lang, name, id):
        a = Article.new(text, id=id, language=lang, published="2022-10-01")
        s = text.index(name)
        a.mentions = [Mention(start=s, end=s + len(name), text=name, type="PER")]
        a.entities = cluster(a)
        return a

    c = app_client
    c.store.put_many([doc("Vladimir Poetin zweeg in oktober.", "nl", "Vladimir Poetin", "x-nl"),
                      doc("Vladimir Putin kept silent in October.", "en", "Vladimir Putin", "x-en")])
    items = c.get("/api/entities", params={"name": "vladimir p", "date_from": "2022-10"}).json()["items"]
    assert len(items) == 1 and items[0]["documents"] == 2
    e = c.get(f"/api/entities/PER/{items[0]['name']}").json()
    assert {"Vladimir Poetin", "Vladimir Putin"} <= {e["name"], *e["aliases"]}
