"""Mentions on the reference article (Dutch) and the English mapping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kroniek.document import Article

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"


def shared_path(rel: str) -> Path:
    p = DATA / rel
    if not p.exists():
        pytest.skip(f"shared data not found: {p}")
    return p


# every occurrence of each name must be a mention of this type; a name inside
# a longer expected name ("Poetin" in "Vladimir Poetin") is covered by that one
EXPECTED = {
    "Vladimir Poetin": "PER",
    "Poetin": "PER",
    "Bogdan Bezpalko": "PER",
    "Institute for the Study of War": "ORG",
    "ISW": "ORG",
    "FSB": "ORG",
    "Staatsdoema": "ORG",
    "Kremlin": "ORG",
    "Oekraïne": "LOC",
    "Charkiv": "LOC",
    "Kiev": "LOC",
    "Slangeneiland": "LOC",
    "Donbas": "LOC",
    "Krim": "LOC",
    "Rusland": "LOC",
    "Moskou": "LOC",
}
NATIONALITY = re.compile(r"\b(?:Russische|Oekraïense|Amerikaanse|Russen|Russisch|Oekraïens)\b")


def reference_text() -> str:
    raw = shared_path("samples/seed-2022-09-kremlin-nederlaag.txt").read_text(encoding="utf-8")
    first, _, rest = raw.partition("\n")
    m = re.match(r"\s*date\s+\S+\s*", first)
    assert m, "reference file must start with 'date YYYY-MM'"
    return first[m.end():] + "\n" + rest


def analyse(text: str, lang: str, mode: str) -> Article:
    from kroniek.nlp.pipeline import Pipeline, language_table

    spec = language_table()[lang]["spacy"][mode]
    if spec.startswith("blank:"):
        pytest.skip(f"no {lang} model for mode {mode}")
    article = Article.new(text, language=lang)
    return Pipeline(mode=mode, lang=lang).analyse(article)


def occurrences(text: str):
    """(start, end, name, type) for each expected name, longest names first,
    shorter names inside a longer occurrence left out."""
    taken: list[tuple[int, int]] = []
    out = []
    for name in sorted(EXPECTED, key=len, reverse=True):
        for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text):
            if any(a <= m.start() and m.end() <= b for a, b in taken):
                continue
            out.append((m.start(), m.end(), name, EXPECTED[name]))
        taken += [(s, e) for s, e, n, _ in out if n == name]
    return out


@pytest.mark.parametrize("mode", ["fast", "accurate"])
def test_reference_article_mentions(mode):
    text = reference_text()
    article = analyse(text, "nl", mode)
    assert article.check_spans() == []
    for m in article.mentions:
        assert text[m.start:m.end] == m.text
        assert m.type in ("PER", "ORG", "LOC", "MISC")
        assert not re.match(r"(?:de|het|een|De|Het|Een) ", m.text), f"leading article in {m.text!r}"
    found = {(m.start, m.end): m.type for m in article.mentions}
    missing = []
    for start, end, name, typ in occurrences(text):
        got = found.get((start, end))
        if got != typ:
            around = [(m.text, m.type) for m in article.mentions if m.start < end and start < m.end]
            missing.append(f"{name!r} at {start}: expected {typ}, got {got or around or 'nothing'}")
    assert not missing, "\n".join(missing)
    for m in NATIONALITY.finditer(text):
        for men in article.mentions:
            if men.start < m.end() and m.start() < men.end:
                assert men.type != "LOC", f"nationality word {m.group()!r} tagged LOC in {men.text!r}"


def test_reference_mentions_have_no_duplicates_or_overlaps():
    article = analyse(reference_text(), "nl", "fast")
    spans = sorted((m.start, m.end) for m in article.mentions)
    for (a1, b1), (a2, b2) in zip(spans, spans[1:]):
        assert b1 <= a2, f"overlapping mentions {a1}:{b1} and {a2}:{b2}"


def test_english_ontonotes_mapping():
    text = ("The Kremlin admitted that Russian troops lost ground near Kharkiv, according to the "
            "Institute for the Study of War. Vladimir Putin met officials in Moscow on Monday.")
    article = analyse(text, "en", "fast")
    got = {m.text: m.type for m in article.mentions}
    assert got.get("Vladimir Putin") == "PER"
    assert got.get("Moscow") == "LOC"
    assert got.get("Institute for the Study of War") == "ORG"
    assert got.get("Russian") == "MISC"
    assert "Monday" not in got  # dates are not mentions
    assert all(m.type in ("PER", "ORG", "LOC", "MISC") for m in article.mentions)
    assert article.check_spans() == []


def test_mention_rules_are_data():
    from kroniek.nlp.mentions import MentionRules

    nl = MentionRules.load("nl")
    assert nl.is_demonym("Russische") and nl.is_demonym("pro-Russische")
    assert not nl.is_demonym("Rusland")
    en = MentionRules.load("en")
    assert en.labels["GPE"] == "LOC" and en.labels["NORP"] == "MISC" and en.labels["DATE"] == ""


def test_mentions_never_start_or_end_on_marks():
    """Statistical taggers sometimes take in a quote mark or a line break at
    an edge, or tag a lone mark; mentions are trimmed to the name."""
    import spacy
    from spacy.tokens import Span

    from kroniek.nlp.mentions import MentionRules

    nlp = spacy.blank("nl")
    doc = nlp("“Het Kremlin zweeg.”\n\nPoetin sprak.")
    words = [t.text for t in doc]
    kremlin, close, poetin = words.index("Kremlin"), words.index("”"), words.index("Poetin")
    doc.ents = [Span(doc, kremlin, kremlin + 1, label="ORG"), Span(doc, close, close + 2, label="MISC"),
                Span(doc, poetin, poetin + 1, label="PER"), Span(doc, len(doc) - 1, len(doc), label="PER")]
    got = [(doc[i:j].text, t) for i, j, t in MentionRules.load("nl").spans(doc)]
    assert got == [("Kremlin", "ORG"), ("Poetin", "PER")]
    doc.ents = [Span(doc, close - 1, close + 2, label="MISC")]  # ". ” \n\n": no letter at all
    # only the lexicon's names remain (the tables know Kremlin and Poetin)
    assert [doc[i:j].text for i, j, _ in MentionRules.load("nl").spans(doc)] == ["Kremlin", "Poetin"]
