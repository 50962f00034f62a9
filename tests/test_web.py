"""The pages: server-rendered HTML through the test client (escaping, layers,
anchors, facets), and a real browser (Debian's headless Chromium driven by
Playwright) against `kroniek serve` on a free port: ingest the reference
article, search, read, toggle layers, open an entity page and the map.
Screenshots go to test-artifacts/ (git-ignored)."""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from kroniek.api.app import create_app  # noqa: E402
from kroniek.document import Article, Mention, Place, Quote, Sentence, Speaker, TimeExpr  # noqa: E402
from kroniek.web.render import highlight  # noqa: E402

from test_api import TOKEN, annotated_articles  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def strip_tags(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


@pytest.fixture
def web(store_url, monkeypatch):
    monkeypatch.setenv("KRONIEK_TILES", "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png")
    app = create_app(store_url, mode="fast")
    app.state.store.put_many(annotated_articles(), "hand")
    with TestClient(app) as client:
        yield client
    app.state.store.close()


# --- the highlighted text ----------------------------------------------------------


def test_highlight_handles_nested_and_crossing_spans():
    text = "Volgens <Poetin> & Co is Kiev veilig, zei hij."
    a = Article.new(text, sentences=[Sentence(start=0, end=len(text))])
    a.mentions = [Mention(start=8, end=16, text="<Poetin>", type="PER"),
                  Mention(start=25, end=29, text="Kiev", type="LOC")]
    a.places = [Place(start=25, end=29, text="Kiev", name="Kyiv", kind="city", lat=50.45, lon=30.52)]
    # a quote that starts inside a mention and ends inside a time: crossing spans
    a.quotes = [Quote(start=12, end=33, text=text[12:33], kind="according_to",
                      speaker=Speaker(start=8, end=16, text="<Poetin>", name="Vladimir <Poetin>"))]
    a.times = [TimeExpr(start=30, end=36, text=text[30:36], type="DATE", value="2022-09")]
    assert a.check_spans() == []
    out = str(highlight(a))
    assert strip_tags(out) == text  # every character once, in order
    assert "<Poetin>" not in out and "&lt;Poetin&gt;" in out
    assert 'id="s0"' in out and 'id="m-0"' in out and 'id="q-0"' in out and 'id="t-0"' in out
    # "Kiev" is a mention, a place and inside the quote at once
    kiev = re.search(r'<span class="([^"]+)" title="([^"]*)">Kiev</span>', out)
    assert set(kiev.group(1).split()) >= {"m", "m-LOC", "p", "q"}
    assert "Kyiv (city) · 50.4500, 30.5200" in html.unescape(kiev.group(2))
    # the crossing boundary splits segments: "tin>" is both mention and quote
    assert re.search(r'<span class="[^"]*\bq\b[^"]*" [^>]*>tin&gt;</span>', out)
    # bad offsets are dropped, never raise
    a.mentions.append(Mention.model_construct(start=40, end=400, text="x", type="PER", entity=None))
    assert strip_tags(str(highlight(a))) == text


# --- pages through the test client -------------------------------------------------


def test_search_page_with_facets_and_snippets(web):
    r = web.get("/", params={"q": "Charkiv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "Zelensky over Charkiv" in r.text
    assert "<mark>Charkiv</mark>" in r.text
    assert 'data-facet="language"' in r.text and 'data-facet="month"' in r.text
    assert "2022-03" in r.text  # the month facet
    r = web.get("/", params={"q": "Charkiv", "date_from": "2022-13"})
    assert r.status_code == 200 and "month out of range" in r.text
    r = web.get("/")  # no query: the newest documents, facets over all
    assert r.text.count('class="hit"') == 3
    assert web.get("/search?q=x").status_code == 200  # /search redirects to /


def test_pages_escape_everything(web):
    """The article with <script>, <img onerror> and markup in every field shows it as text."""
    pages = {
        "search": web.get("/", params={"q": "ministerie"}),
        "reader": web.get("/doc/hand-3%3Cx%3E"),
        "entity": web.get("/entity/MISC/%3Cb%3Evet%3C%2Fb%3E"),
        "entities": web.get("/entities", params={"language": "en"}),
        "quotes": web.get("/quotes", params={"speaker": "Rutte"}),
        "timeline": web.get("/timeline", params={"language": "en"}),
        "map": web.get("/map", params={"language": "en"}),
        "404": web.get("/doc/%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
    }
    for name, r in pages.items():
        assert r.status_code == (404 if name == "404" else 200), name
        body = r.text
        assert "<script>alert" not in body, name
        assert "<img src=x" not in body, name
        assert "<b>vet</b>" not in body and "<i>Markup</i>" not in body, name
        assert 'href="javascript:' not in body, name
    reader = pages["reader"].text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in reader
    assert "&lt;img src=x onerror=alert(1)&gt;" in reader
    assert "&lt;i&gt;Markup&lt;/i&gt; &amp; &#34;quotes&#34;" in reader
    assert "Mark &lt;Rutte&gt;" in reader
    assert "&lt;b&gt;vet&lt;/b&gt;" in pages["entity"].text
    assert "&lt;script&gt;" in pages["search"].text
    # the map's embedded GeoJSON cannot close its script element
    assert "The Hague \\u003cb\\u003e" in pages["map"].text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["404"].text


def test_reader_shows_every_layer(web):
    r = web.get("/doc/hand-1")
    body = r.text
    for anchor in ("s0", "s1", "m-0", "t-0", "p-0", "q-0", "q-1"):
        assert f'id="{anchor}"' in body, anchor
    assert 'class="m m-PER qs"' in body  # Poetin: a mention and the speaker
    assert "DATE 2022-09-13 · 2022-09-13 – 2022-09-13" in body  # the time's value on hover
    assert "Moscow (city) · 55.7522, 37.6156 · RU" in body  # the place's coordinates
    assert "quote (direct) · Vladimir Poetin" in body
    for layer in ("m", "t", "p", "q"):
        assert f'data-layer="{layer}"' in body
    assert 'href="/entity/PER/Vladimir%20Poetin"' in body
    assert 'href="https://example.org/1"' in body
    assert strip_tags(body.split('id="text" class="text">', 1)[1].split("</div>", 1)[0]) == annotated_articles()[0].text


def test_entity_quotes_timeline_and_map_pages(web):
    e = web.get("/entity/PER/Vladimir%20Poetin").text
    assert "Vladimir Poetin" in e and "Poetin" in e
    assert '<svg class="chart"' in e and "2022-09" in e
    assert "de speciale operatie doorgaat" in e
    assert 'href="/doc/hand-1#s0"' in e  # the quote links to its sentence
    assert "Volodymyr Zelensky" in e and "Moscow" in e
    assert web.get("/entity/PER/Nobody").status_code == 404
    q = web.get("/quotes", params={"text": "veilig"}).text
    assert "is Kiev veilig" in q and "speciale operatie" not in q and 'href="/doc/hand-1#s1"' in q
    t = web.get("/timeline", params={"date_from": "2022-02", "date_to": "2022-02"}).text
    assert "eind februari" in t and "2022-02-15 – 2022-02-28" in t and "<svg" in t
    m = web.get("/map", params={"entity": "Vladimir Poetin"}).text
    assert "/static/leaflet/leaflet.js" in m and 'data-tiles="http://127.0.0.1:9/tiles/' in m
    assert "Moscow" in m and "Kyiv" in m and "Kharkiv" not in m
    assert web.get("/static/leaflet/leaflet.js").status_code == 200
    assert web.get("/static/leaflet/LICENSE").status_code == 200


# --- in a browser ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (bash scripts/install-browser installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright (pip install playwright)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`kroniek serve` on a free localhost port over a fresh SQLite store."""
    from kroniek.store import Store

    db = str(tmp_path_factory.mktemp("serve") / "kroniek.db")
    store = Store(db)
    store.put_many(annotated_articles(), "hand")
    store.close()
    port = _free_port()
    env = {**os.environ, "KRONIEK_TOKEN": TOKEN, "KRONIEK_TILES": "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"}
    proc = subprocess.Popen([sys.executable, "-m", "kroniek.cli", "serve", "--db", db, "--port", str(port),
                             "--mode", "fast"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/api/stats", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            pytest.fail(f"kroniek serve did not start: {out[-2000:]}")
        time.sleep(0.3)
    yield base
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_browser_search_read_entity_map(reference_path, browser, server):
    import httpx

    from kroniek.ingest import read_sources

    (ref,) = list(read_sources([str(reference_path)]))
    r = httpx.post(server + "/api/documents", timeout=300, headers={"Authorization": f"Bearer {TOKEN}"},
                   json={"text": ref.text, "published": ref.published, "source": ref.source, "title": ref.title})
    assert r.status_code == 200, r.text
    ref_id = r.json()["results"][0]["id"]

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # search, find the reference article
    page.goto(server + "/")
    page.fill("input[name=q]", "Kremlin nederlaag")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("ol.hits li.hit")
    hit = page.locator(f"a.title[href^='/doc/{ref_id}']")
    assert hit.count() == 1
    assert page.locator("ol.hits mark").count() >= 1
    assert page.locator(".facet[data-facet=month] li").first.inner_text().startswith("2022-09")
    _shot(page, "search")

    # read it, with its layers
    hit.click()
    page.wait_for_selector("#text")
    assert "Het Kremlin heeft voor de allereerste keer" in page.inner_text("#text")
    counts = {layer: page.locator(f"#text .{layer}").count() for layer in ("m", "t", "p", "q")}
    _shot(page, "reader")
    for layer in ("m", "t", "p", "q"):
        box = page.locator(f"input[data-layer={layer}]")
        box.uncheck()
        assert f"hide-{layer}" in page.get_attribute("#text", "class")
    if counts["p"]:
        deco = page.eval_on_selector("#text .p", "e => getComputedStyle(e).textDecorationLine")
        assert deco == "none"
    _shot(page, "reader-layers-off")
    page.locator("input[data-layer=p]").check()
    page.locator("input[data-layer=t]").check()
    assert "hide-p" not in page.get_attribute("#text", "class")
    _shot(page, "reader-places-times")

    # an entity page: from the reference article's side list when it has mentions
    if counts["m"]:
        page.locator(".layer-list[data-layer=m] a.more").first.click()
    else:
        page.goto(server + "/doc/hand-1")
        page.locator(".layer-list[data-layer=m] a.more[href='/entity/PER/Vladimir%20Poetin']").click()
    page.wait_for_selector("h1.entity-name")
    assert page.locator("svg.chart rect.bar").count() >= 1
    _shot(page, "entity")

    # the map of the reference article's selection; tiles cannot load (no tile server): markers and list still work
    page.goto(server + "/map?q=Kremlin")
    page.wait_for_selector("#map[data-markers]")
    n_list = page.locator("#place-list li").count()
    n_markers = int(page.get_attribute("#map", "data-markers"))
    assert n_markers == n_list
    if counts["p"]:
        assert n_markers >= 1
        assert page.locator(".leaflet-interactive").count() == n_markers
    page.goto(server + "/map")
    page.wait_for_selector("#map[data-markers]")
    assert int(page.get_attribute("#map", "data-markers")) >= 5
    page.locator(".leaflet-interactive").first.click(force=True)
    page.wait_for_selector(".leaflet-popup-content")
    page.wait_for_timeout(400)  # the popup's fade-in
    _shot(page, "map")

    # quotes and the timeline
    page.goto(server + "/quotes")
    page.wait_for_selector("ul.quotes li.quote")
    _shot(page, "quotes")
    page.goto(server + "/timeline")
    page.wait_for_selector("ol.timeline li")
    _shot(page, "timeline")

    # the article with <script> shows it as text and runs nothing
    page.goto(server + "/doc/hand-3%3Cx%3E")
    assert "<script>alert('x')</script>" in page.inner_text("#text")
    assert "<img src=x onerror=alert(1)>" in page.inner_text("#text")
    assert page.title().startswith("<i>Markup</i>")
    _shot(page, "escaping")
    assert dialogs == [], dialogs
    assert errors == [], errors
    page.close()
