"""Every source kind, and every kind of bad input, through the real readers."""

import json


from kroniek.document import Article
from kroniek.ingest import Failure, read_sources

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Testfeed</title>
<item><guid>urn:test:1</guid><title>Eerste bericht</title><link>http://example.invalid/1</link>
<pubDate>Tue, 13 Sep 2022 08:00:00 GMT</pubDate>
<description>&lt;p&gt;Oekraïne heeft gisteren de stad Izjoem heroverd, meldt het leger.&lt;/p&gt;</description></item>
<item><guid>urn:test:2</guid><title>Leeg</title><link>http://example.invalid/2</link></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom test</title><id>urn:atom</id>
<updated>2022-09-14T10:00:00Z</updated>
<entry><id>urn:atom:1</id><title>Kyiv</title><updated>2022-09-14T10:00:00Z</updated>
<content type="text">Ukraine said on Tuesday that its troops had retaken Izium.</content></entry>
</feed>"""

HTML = """<!DOCTYPE html><html><head><title>Rusland trekt zich terug | Testkrant</title>
<meta property="article:published_time" content="2022-09-12T07:15:00+02:00"></head>
<body><nav>Home | Nieuws | Sport</nav><article><h1>Rusland trekt zich terug</h1>
<p>De Russische troepen hebben zich teruggetrokken uit de regio rond Charkiv, zo meldt het Oekraïense leger zondag.</p>
<p>Volgens het ministerie van Defensie in Kiev zijn meer dan twintig dorpen heroverd in het noordoosten van het land.</p>
<p>President Zelensky sprak in een toespraak van een keerpunt in de oorlog, die eind februari begon.</p>
</article><footer>Copyright Testkrant</footer></body></html>"""


def read(*paths, **kw):
    return list(read_sources([str(p) for p in paths], **kw))


def test_reference_article_header_is_stripped(reference_path):
    (a,) = read(reference_path)
    assert a.published == "2022-09"
    assert a.text.startswith("Het Kremlin heeft voor de allereerste keer")
    assert a.text.endswith("familieleden evacueren.")


def test_dated_text_with_header_on_its_own_line(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("date 2022-09-15\nDe tekst begint hier.\n", encoding="utf-8")
    (a,) = read(p)
    assert (a.published, a.text) == ("2022-09-15", "De tekst begint hier.")


def test_plain_text_dates_from_option_or_file_name(tmp_path):
    p = tmp_path / "nos-2022-06-25-artikel.txt"
    p.write_text("Oekraïne geeft Severodonetsk op.", encoding="utf-8")
    q = tmp_path / "zonder-datum.txt"
    q.write_text("Geen datum hier.", encoding="utf-8")
    a, b = read(p, q)
    assert a.published == "2022-06-25" and b.published is None
    (c,) = read(q, published="2022-09")
    assert c.published == "2022-09"


def test_jsonl_keeps_order_and_ids_and_reports_bad_lines(tmp_path):
    p = tmp_path / "batch.jsonl"
    lines = [
        json.dumps({"id": "b", "text": "Tweede artikel.", "published": "2022-09-02", "title": "T2"}),
        "{not json",
        json.dumps({"id": "a", "text": "Eerste artikel.", "url": "http://example.invalid/a"}),
        json.dumps({"id": "c", "text": ""}),
        json.dumps({"id": "d", "text": "Datum fout.", "published": "gisteren"}),
    ]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = read(p)
    assert [x.id for x in items if isinstance(x, Article)] == ["b", "a"]
    failures = [x for x in items if isinstance(x, Failure)]
    assert [f.source for f in failures] == [f"{p}:2", f"{p}:4", f"{p}:5"]
    assert "not JSON" in failures[0].reason and "text" in failures[1].reason and "published" in failures[2].reason


def test_html_page_main_text_title_and_date(tmp_path):
    p = tmp_path / "page.html"
    p.write_text(HTML, encoding="utf-8")
    (a,) = read(p)
    assert "regio rond Charkiv" in a.text and "Copyright" not in a.text and "Sport" not in a.text
    assert a.title.startswith("Rusland trekt zich terug")
    assert a.published.startswith("2022-09-12")


def test_rss_and_atom_feeds(tmp_path):
    rss, atom = tmp_path / "feed.rss", tmp_path / "feed.xml"
    rss.write_text(RSS, encoding="utf-8")
    atom.write_text(ATOM, encoding="utf-8")
    items = read(rss, atom)
    articles = [x for x in items if isinstance(x, Article)]
    assert [a.id for a in articles] == ["urn:test:1", "urn:atom:1"]
    assert articles[0].text.startswith("Oekraïne heeft gisteren") and articles[0].published == "2022-09-13T08:00:00Z"
    assert articles[0].title == "Eerste bericht" and articles[0].url == "http://example.invalid/1"
    (empty,) = [x for x in items if isinstance(x, Failure)]
    assert "no text" in empty.reason and "--fetch" in empty.reason


def test_directories_are_read_recursively_in_order(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.txt").write_text("Tweede.", encoding="utf-8")
    (tmp_path / "sub" / "a.txt").write_text("Derde.", encoding="utf-8")
    (tmp_path / "a.txt").write_text("Eerste.", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("Verborgen.", encoding="utf-8")
    assert [a.text for a in read(tmp_path)] == ["Eerste.", "Tweede.", "Derde."]


def test_stdin_is_sniffed():
    items = list(read_sources(["-"], stdin=b'{"id": "x", "text": "Van stdin."}\n'))
    assert [(a.id, a.text) for a in items] == [("x", "Van stdin.")]


def test_bad_inputs_fail_alone(tmp_path):
    good = tmp_path / "goed.txt"
    good.write_text("Een goed artikel.", encoding="utf-8")
    empty = tmp_path / "leeg.txt"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.txt"
    junk.write_bytes(bytes(range(256)) * 40)
    big = tmp_path / "groot.txt"
    with big.open("wb") as fh:  # 50 MB, sparse: fast to make
        fh.truncate(50 * 1024 * 1024)
    feed = tmp_path / "kapot.rss"
    feed.write_text("<rss><channel><item><title>kapot", encoding="utf-8")
    items = read(empty, junk, good, big, feed, tmp_path / "bestaat-niet.txt")
    assert [a.text for a in items if isinstance(a, Article)] == ["Een goed artikel."]
    reasons = {f.source.rsplit("/", 1)[-1]: f.reason for f in items if isinstance(f, Failure)}
    assert reasons["leeg.txt"].startswith("empty")
    assert reasons["junk.txt"].startswith("binary")
    assert reasons["groot.txt"].startswith("too large") and "--max-size" in reasons["groot.txt"]
    assert reasons["kapot.rss"].startswith("malformed feed")
    assert reasons["bestaat-niet.txt"] == "no such file or directory"


def test_windows_1252_is_detected(tmp_path):
    p = tmp_path / "cp1252.txt"
    text = "Oekraïne en Rusland: “geen vrede” – zei de minister. Het café was één dag dicht. " * 3
    p.write_bytes(text.encode("cp1252"))
    (a,) = read(p)
    assert a.text == text.strip()


def test_max_size_is_configurable(tmp_path, monkeypatch):
    p = tmp_path / "a.txt"
    p.write_text("x" * 2000, encoding="utf-8")
    (f,) = read(p, max_bytes=1000)
    assert isinstance(f, Failure) and f.reason.startswith("too large")
    monkeypatch.setenv("KRONIEK_MAX_BYTES", "100")
    (f,) = read(p)
    assert isinstance(f, Failure)
