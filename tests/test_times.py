"""The times stage: TIMEX3 type/value/mod and the calendar interval, for nl and en.

Sentences here are written for these tests; the reference article is read
from ../shared/data/samples (skipped, naming the path, when it is absent).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kroniek.document import Article
from kroniek.nlp.times import TimesStage, find_times, value_interval

REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "samples" / "seed-2022-09-kremlin-nederlaag.txt"


def times(text: str, lang: str, anchor: str | None):
    found = find_times(text, lang, anchor)
    for t in found:  # the contract: offsets give back the span text
        assert text[t.start : t.end] == t.text
    return found


def one(text: str, lang: str, anchor: str | None, span: str):
    found = [t for t in times(text, lang, anchor) if t.text == span]
    assert found, f"{span!r} not found in {[t.text for t in times(text, lang, anchor)]}"
    return found[0]


# --- the reference article -----------------------------------------------------


@pytest.fixture(scope="module")
def reference():
    if not REFERENCE.exists():
        pytest.skip(f"reference article not found: {REFERENCE}")
    raw = REFERENCE.read_text(encoding="utf-8")
    m = re.match(r"\s*date\s+(\S+)\s+", raw)
    assert m, "the reference article starts with `date YYYY-MM`"
    text = raw[m.end() :]
    return m[1], text, times(text, "nl", m[1])


def _get(found, span):
    hits = [t for t in found if t.text.lower() == span.lower()]
    assert hits, f"{span!r} not in {[t.text for t in found]}"
    return hits


def test_reference_anchor_is_month_precision(reference):
    anchor, _, _ = reference
    assert anchor == "2022-09"


def test_reference_modified_months(reference):
    _, _, found = reference
    (feb,) = _get(found, "eind februari")
    assert (feb.type, feb.value, feb.mod) == ("DATE", "2022-02", "END")
    assert (feb.begin, feb.end_date) == ("2022-02-15", "2022-02-28")
    (apr,) = _get(found, "begin april")
    assert (apr.value, apr.mod) == ("2022-04", "START")
    assert apr.begin == "2022-04-01" and "2022-04-10" <= apr.end_date < "2022-04-30"
    (jun,) = _get(found, "eind juni")
    assert (jun.value, jun.mod) == ("2022-06", "END")
    assert "2022-06-01" < jun.begin <= "2022-06-21" and jun.end_date == "2022-06-30"


def test_reference_relative_days_respect_month_precision(reference):
    _, _, found = reference
    (week,) = _get(found, "vorige week")
    (yday,) = _get(found, "Gisteren")
    for t in (week, yday):
        assert t.type == "DATE"
        # never finer than the anchor: a month (or coarser), not a day or a week
        assert t.value == "2022-09", t
        assert t.mod is None
        assert t.end_date == "2022-09-30"
    # every day they could denote: the week before 1 September starts on 22 August
    assert week.begin == "2022-08-22"
    # "gisteren" on 1 September is 31 August
    assert yday.begin == "2022-08-31"


def test_reference_vague_and_seasons(reference):
    _, text, found = reference
    days = _get(found, "de afgelopen dagen")[0]
    assert (days.type, days.value) == ("DURATION", "PXD")
    nows = _get(found, "nu")
    assert len(nows) == 3 and all(t.value == "PRESENT_REF" for t in nows)
    # "Tot nu toe": until now, so the interval ends at the article date and has no start
    tot = [t for t in nows if text[t.start - 4 : t.start].lower() == "tot "]
    assert len(tot) == 1 and tot[0].begin is None and tot[0].end_date == "2022-09-30"
    autumn = _get(found, "de herfst")[0]
    assert (autumn.value, autumn.begin, autumn.end_date) == ("2022-FA", "2022-09-01", "2022-11-30")
    # an event noun is not a time: "sinds de invasie"
    assert not any("invasie" in t.text for t in found)
    # no relative value is finer than the month the article gives
    for t in found:
        assert not re.match(r"^\d{4}-\d{2}-\d{2}|^\d{4}-W", t.value or ""), t


def test_reference_through_the_stage(reference):
    anchor, text, expected = reference
    a = Article.new(text, published=anchor, language="nl")
    TimesStage("nl", "fast")([a])
    assert [(t.start, t.end, t.value) for t in a.times] == [(t.start, t.end, t.value) for t in expected]
    assert a.check_spans() == []


# --- absolute dates ----------------------------------------------------------


@pytest.mark.parametrize(
    "text, lang, span, value",
    [
        ("De invasie begon op 24 februari 2022 in de vroege ochtend.", "nl", "24 februari 2022", "2022-02-24"),
        ("Het akkoord werd op 24/2 getekend.", "nl", "24/2", "2022-02-24"),
        ("Op maandag 5 september trad het kabinet af.", "nl", "maandag 5 september", "2022-09-05"),
        ("Het rapport verscheen op 2022-02-24.", "nl", "2022-02-24", "2022-02-24"),
        ("De wet geldt vanaf 1-1-2023.", "nl", "1-1-2023", "2023-01-01"),
        ("Russia invaded on Feb. 24, 2022, before dawn.", "en", "Feb. 24, 2022", "2022-02-24"),
        ("The talks ended 24 Feb. and resumed later.", "en", "24 Feb.", "2022-02-24"),
        ("In January 1975 prices rose.", "en", "January 1975", "1975-01"),
        ("Het vorige record stamt uit januari 1975.", "nl", "januari 1975", "1975-01"),
        ("De boerderij werd in 1963 gebouwd.", "nl", "1963", "1963"),
        ("It was the 1990s, after all.", "en", "the 1990s", "199"),
        ("Net income rose in the third quarter.", "en", "the third quarter", "2022-Q3"),
        ("In nineteen ninety-six, he left.", "en", "nineteen ninety-six", "1996"),
    ],
)
def test_absolute_dates(text, lang, span, value):
    t = one(text, lang, "2022-09-15", span)
    assert t.type == "DATE" and t.value == value


# --- modifiers and their sub-intervals ----------------------------------------------


@pytest.mark.parametrize(
    "text, lang, span, value, mod, begin, end",
    [
        ("Begin maart 2021 viel de regering.", "nl", "Begin maart 2021", "2021-03", "START", "2021-03-01", "2021-03-16"),
        ("Medio 2023 moet het klaar zijn.", "nl", "Medio 2023", "2023", "MID", "2023-04-02", "2023-10-01"),
        ("Halverwege juli was het heet.", "nl", "Halverwege juli", "2022-07", "MID", "2022-07-08", "2022-07-24"),
        ("Eind 2019 kwam hij vrij.", "nl", "Eind 2019", "2019", "END", "2019-07-02", "2019-12-31"),
        ("It happened in early February 2020.", "en", "early February 2020", "2020-02", "START", "2020-02-01", "2020-02-15"),
        ("Prices fell in late November.", "en", "late November", "2021-11", "END", "2021-11-16", "2021-11-30"),
        ("Prices fell in mid-July.", "en", "mid-July", "2022-07", "MID", "2022-07-08", "2022-07-24"),
    ],
)
def test_modifiers_narrow_the_interval(text, lang, span, value, mod, begin, end):
    t = one(text, lang, "2022-09-15", span)
    assert (t.value, t.mod, t.begin, t.end_date) == (value, mod, begin, end)
    b, e = value_interval(value)
    assert b.isoformat() <= t.begin <= t.end_date <= e.isoformat()


# --- relative days, weeks, months (anchor Thursday 15 September 2022) ---------------


@pytest.mark.parametrize(
    "text, lang, span, value, begin, end",
    [
        ("Gisteren viel Charkiv.", "nl", "Gisteren", "2022-09-14", "2022-09-14", "2022-09-14"),
        ("Dat gebeurde eergisteren al.", "nl", "eergisteren", "2022-09-13", "2022-09-13", "2022-09-13"),
        ("Vorige week sprak hij de Kamer toe.", "nl", "Vorige week", "2022-W36", "2022-09-05", "2022-09-11"),
        ("Twee weken geleden begon het offensief.", "nl", "Twee weken geleden", "2022-W35", "2022-08-29", "2022-09-04"),
        ("Volgende maand stemt het parlement.", "nl", "Volgende maand", "2022-10", "2022-10-01", "2022-10-31"),
        ("Vorig jaar was het anders.", "nl", "Vorig jaar", "2021", "2021-01-01", "2021-12-31"),
        ("Afgelopen maandag kwam het kabinet bijeen.", "nl", "Afgelopen maandag", "2022-09-12", "2022-09-12", "2022-09-12"),
        ("Vorige week dinsdag was hij er.", "nl", "Vorige week dinsdag", "2022-09-06", "2022-09-06", "2022-09-06"),
        ("The minister resigned last week.", "en", "last week", "2022-W36", "2022-09-05", "2022-09-11"),
        ("The bridge collapsed three days ago.", "en", "three days ago", "2022-09-12", "2022-09-12", "2022-09-12"),
        ("Elections are due next year.", "en", "next year", "2023", "2023-01-01", "2023-12-31"),
        ("He spoke yesterday.", "en", "yesterday", "2022-09-14", "2022-09-14", "2022-09-14"),
    ],
)
def test_relative_expressions(text, lang, span, value, begin, end):
    t = one(text, lang, "2022-09-15", span)
    assert (t.type, t.value, t.begin, t.end_date) == ("DATE", value, begin, end)


def test_parts_of_day():
    t = one("Gisteravond sprak Zelensky het land toe.", "nl", "2022-09-15", "Gisteravond")
    assert (t.type, t.value) == ("TIME", "2022-09-14TEV")
    t = one("Trump schreef dat maandagavond.", "nl", "2022-08-08", "maandagavond")
    assert (t.type, t.value) == ("TIME", "2022-08-08TEV")
    t = one("De trein vertrok om 18.30 uur.", "nl", "2022-09-01", "18.30 uur")
    assert (t.type, t.value) == ("TIME", "2022-09-01T18:30")


# --- weekdays by tense (anchor Friday 16 September 2022) ------------------------------


@pytest.mark.parametrize(
    "text, lang, value",
    [
        ("Maandag zei de minister dat het plan klaar was.", "nl", "2022-09-12"),
        ("Maandag zal de minister het plan presenteren.", "nl", "2022-09-19"),
        ("Maandag wordt er verder gesproken.", "nl", "2022-09-19"),
        ("Vrijdag kwamen zij tot een akkoord.", "nl", "2022-09-16"),
        ("On Monday the minister said the plan was ready.", "en", "2022-09-12"),
        ("The minister will present the plan on Monday.", "en", "2022-09-19"),
    ],
)
def test_weekdays_follow_the_tense(text, lang, value):
    (t,) = [t for t in times(text, lang, "2022-09-16") if t.type == "DATE"]
    assert t.value == value


# --- bare months: the most recent unless the tense says otherwise ----------------------


def test_bare_months_resolve_to_the_most_recent_one():
    assert one("In november viel de regering.", "nl", "2022-09-15", "november").value == "2021-11"
    assert one("In november zal de regering vallen.", "nl", "2022-09-15", "november").value == "2022-11"
    assert one("In februari werd de graanexport platgelegd.", "nl", "2022-09-15", "februari").value == "2022-02"
    assert one("Prices rose in March.", "en", "2022-09-15", "March").value == "2022-03"
    # "may" and "march" as verbs are not months
    assert times("Prices may rise as troops march on.", "en", "2022-09-15") == []


# --- durations and sets ------------------------------------------------------


@pytest.mark.parametrize(
    "text, lang, span, value, mod",
    [
        ("Het duurde drie maanden.", "nl", "drie maanden", "P3M", None),
        ("Hij kreeg 19 jaar en 10 maanden cel.", "nl", "19 jaar en 10 maanden", "P19Y10M", None),
        ("Het gebied was bijna zes maanden bezet.", "nl", "bijna zes maanden", "P6M", "APPROX"),
        ("Nog geen week later kwam de brief.", "nl", "Nog geen week", "P1W", "LESS_THAN"),
        ("De 43-jarige moeder sprak.", "nl", "43-jarige", "P43Y", None),
        ("De stad wordt al weken beschoten.", "nl", "weken", "PXW", None),
        ("The strike lasted two years.", "en", "two years", "P2Y", None),
        ("He waited 5 1/2 hours.", "en", "5 1/2 hours", "PT5H30M", None),
        ("Sales fell in the first nine months.", "en", "the first nine months", "P9M", None),
    ],
)
def test_durations(text, lang, span, value, mod):
    t = one(text, lang, "2022-09-15", span)
    assert (t.type, t.value, t.mod) == ("DURATION", value, mod)
    assert t.begin is None and t.end_date is None


@pytest.mark.parametrize(
    "text, lang, span, value",
    [
        ("Hij belt elke week.", "nl", "elke week", "P1W"),
        ("Het CBS meet maandelijks de inflatie.", "nl", "maandelijks", "P1M"),
        ("Er is iedere maandag markt.", "nl", "iedere maandag", "XXXX-WXX-1"),
        ("They meet every week.", "en", "every week", "P1W"),
        ("The paper appears daily.", "en", "daily", "P1D"),
    ],
)
def test_sets(text, lang, span, value):
    t = one(text, lang, "2022-09-15", span)
    assert (t.type, t.value) == ("SET", value)


# --- ranges and open intervals ---------------------------------------------------


def test_ranges():
    t = one("De top duurt van 1 tot 3 maart.", "nl", "2022-09-15", "1 tot 3 maart")
    assert (t.type, t.value, t.begin, t.end_date) == ("DATE", "2022-03", "2022-03-01", "2022-03-03")
    t = one("The summit ran from March 1 to 3, 2021.", "en", "2022-09-15", "March 1 to 3, 2021")
    assert (t.value, t.begin, t.end_date) == ("2021-03", "2021-03-01", "2021-03-03")
    t = one("Het festival loopt van maart tot juni 2023.", "nl", "2022-09-15", "maart tot juni 2023")
    assert (t.value, t.begin, t.end_date) == ("2023", "2023-03-01", "2023-06-30")


def test_since_is_an_open_interval():
    t = one("Sinds 24 februari is het oorlog.", "nl", "2022-09-15", "24 februari")
    # the preposition stays outside the span; the interval runs to the article date
    assert (t.value, t.begin, t.end_date) == ("2022-02-24", "2022-02-24", "2022-09-15")
    t = one("Sinds 24 februari 2022 is het oorlog.", "nl", None, "24 februari 2022")
    assert (t.value, t.begin, t.end_date) == ("2022-02-24", "2022-02-24", None)
    t = one("Tot nu toe zweeg het Kremlin.", "nl", "2022-09-15", "nu")
    assert (t.value, t.begin, t.end_date) == ("PRESENT_REF", None, "2022-09-15")


# --- seasons and vague references ---------------------------------------------------


def test_seasons_and_vague_references():
    assert one("Vorig voorjaar was het rustig.", "nl", "2022-09-27", "Vorig voorjaar").value == "2021-SP"
    assert one("Het plafond komt dit najaar.", "nl", "2022-09-16", "dit najaar").value == "2022-FA"
    assert one("Ze vrezen de komende winter.", "nl", "2022-09-14", "de komende winter").value == "2022-WI"
    assert one("They met last summer.", "en", "2022-09-15", "last summer").value == "2021-SU"
    t = one("Hij werd onlangs overgeplaatst.", "nl", "2022-09-15", "onlangs")
    assert (t.value, t.begin, t.end_date) == ("PAST_REF", None, "2022-09-15")
    assert one("Dat gebeurt binnenkort.", "nl", "2022-09-15", "binnenkort").value == "FUTURE_REF"
    assert one("Prices are high now.", "en", "2022-09-15", "now").value == "PRESENT_REF"
    # "Nu" as a conjunction is no time
    assert times("Nu Severodonetsk is gevallen, trekt het leger zich terug.", "nl", "2022-06-25") == []


# --- anchors: none, and year precision ---------------------------------------------


def test_without_anchor_relative_expressions_are_found_without_value():
    found = times("Gisteren en vorige week sprak hij, drie maanden na 24 februari 2022.", "nl", None)
    by = {t.text: t for t in found}
    assert by["Gisteren"].value is None and by["Gisteren"].begin is None
    assert by["vorige week"].value is None
    assert by["drie maanden"].value == "P3M"
    assert by["24 februari 2022"].value == "2022-02-24"


def test_year_precision_anchor_never_gives_finer_values():
    found = times("Gisteren en vorige maand, afgelopen maandag en in februari gebeurde het.", "nl", "2022")
    assert len(found) == 4
    for t in found:
        assert t.value == "2022", t
        assert t.begin <= "2022-01-01" and t.end_date == "2022-12-31"
    (y,) = times("Gisteren viel de stad.", "nl", "2022")
    assert y.begin == "2021-12-31"
    # what does not depend on the anchor keeps its precision
    (d,) = times("Op 24 februari 2022 viel Rusland binnen.", "nl", "2022")
    assert d.value == "2022-02-24"
    # vorig jaar is the same year whatever day of 2022 the article appeared
    (ly,) = times("Vorig jaar was het anders.", "nl", "2022")
    assert ly.value == "2021"


def test_full_timestamp_anchor_is_day_precision():
    (t,) = times("Gisteren viel de stad.", "nl", "2022-09-15T08:30:00+02:00")
    assert t.value == "2022-09-14"


def test_unknown_language_gives_nothing():
    assert find_times("Gestern fiel die Stadt.", "xx", "2022-09-15") == []


# --- anaphoric days, approximate distances ------------------------------------------


def test_later_that_day_follows_the_day_named():
    found = times("Op 3 maart werd hij opgepakt. Later die dag sprak de rechter.", "nl", "2022-09-14")
    assert [(t.text, t.value) for t in found] == [("3 maart", "2022-03-03"), ("Later die dag", "2022-03-03")]
    t = one("On Friday he left; earlier that morning he had packed.", "en", "2022-09-14", "earlier that morning")
    assert (t.type, t.value) == ("TIME", "2022-09-09TMO")
    t = one("Ruim een maand geleden begon het.", "nl", "2022-09-14", "Ruim een maand geleden")
    assert (t.value, t.mod) == ("2022-08", "APPROX")


# --- a new language is a new table ----------------------------------------------------


def test_a_language_is_a_table(monkeypatch):
    import kroniek.nlp.times as tm

    german = {
        "settings": {"number_classes": ["num"]},
        "words": {
            "month": {"januar": 1, "februar": 2, "märz": 3},
            "dei": {"heute": [0], "gestern": [-1]},
        },
        "class": {"num": {"regex": r"\d+"}},
        "regex": {"day": r"(?:[12]\d|3[01]|0?[1-9])\.?", "year": r"(?:19|20)\d\d"},
        "rule": [
            {"kind": "date", "pattern": r"{day}\s+{month}(?:\s+{year})?"},
            {"kind": "deictic", "pattern": r"{dei}"},
        ],
    }
    lex = tm.Lexicon("de", german)
    monkeypatch.setattr(tm, "lexicon_for", lambda lang: lex if lang == "de" else None)
    found = tm.find_times("Gestern, am 24. Februar 2022, begann der Krieg.", "de", "2022-09-15")
    assert [(t.text, t.value) for t in found] == [("Gestern", "2022-09-14"), ("24. Februar 2022", "2022-02-24")]
