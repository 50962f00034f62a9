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


# --- tense cues: words that only look like verbs, modals, participles ---------------


def test_tense_cues_are_not_fooled():
    lex = find_times.__globals__["lexicon_for"]("en")
    # "United" is no past verb: a month just ahead without a tense cue is the coming one
    assert one("Flights to the United States resume in October.", "en", "2022-09-15", "October").value == "2022-10"
    # the month "May" is no modal, the modal "may" is
    assert lex.future_weak.search("the case is heard in May") is None
    assert lex.future_weak.search("prices may rise") is not None
    # after "be" a participle takes the tense of the auxiliary: "would be paid" is to come
    assert one("The dividend would be paid in January.", "en", "2022-10-26", "January").value == "2023-01"
    # a plan in the past perfect is over
    (t,) = [t for t in times("The offer had been scheduled to expire Friday.", "en", "2022-09-19") if t.type == "DATE"]
    assert t.value == "2022-09-16"
    # "plans" as a noun is no future cue
    (t,) = times("On Friday, when she set aside her vacation plans, the talks began.", "en", "2022-09-19")
    assert t.value == "2022-09-16"


# --- deadlines and dates of effect: the nearest such date ---------------------------------


@pytest.mark.parametrize(
    "text, lang, anchor, span, value",
    [
        ("The regulator gave the company until mid-November to reply.", "en", "2022-10-30", "mid-November", "2022-11"),
        ("The bank extended loans through January.", "en", "2022-10-30", "January", "2023-01"),
        ("The dividend is payable Jan. 2 to holders of record.", "en", "2022-11-02", "Jan. 2", "2023-01-02"),
        ("The fund fell 2% this year through August.", "en", "2022-10-27", "August", "2022-08"),
        ("Het bod moet uiterlijk 1 februari binnen zijn.", "nl", "2022-10-26", "1 februari", "2023-02-01"),
    ],
)
def test_deadlines_take_the_nearest_date(text, lang, anchor, span, value):
    assert one(text, lang, anchor, span).value == value


def test_clock_time_with_a_date():
    t = one("The offer expires at 5 p.m. EST Nov. 9, the company said.", "en", "2022-11-02", "5 p.m. EST Nov. 9")
    assert (t.type, t.value) == ("TIME", "2022-11-09T17:00")


# --- quarters and the periods of financial reports --------------------------------


def test_quarters_and_comparison_periods():
    text = (
        "Net income rose in the third quarter. That compares with $3 million in the 1988 quarter "
        "and in the year-ago third quarter, and with $2 million a year ago."
    )
    by = {t.text: t for t in times(text, "en", "1989-10-30")}
    assert by["the third quarter"].value == "1989-Q3"
    assert by["the 1988 quarter"].value == "1988-Q3"
    assert by["the year-ago third quarter"].value == "1988-Q3"
    # a period named for comparison does not become the one the text is about
    assert by["a year ago"].value == "1988-Q3"
    assert one("Sales fell from the quarter a year ago.", "en", "1989-10-30", "the quarter a year ago").value == "1988-Q3"
    # "the latest quarter" has ended, even after a quarter still running was named
    found = times("Profit should rise in the fourth quarter. In the latest quarter it fell.", "en", "1989-11-02")
    assert [t.value for t in found] == ["1989-Q4", "1989-Q3"]
    assert one("Growth slowed in the last half of 1989.", "en", "1990-03-01", "the last half of 1989").value == "1989-H2"
    assert one("Profit rose last quarter.", "en", "1989-11-02", "last quarter").value == "1989-Q3"
    # an amount after "quarter of" does not stop the expression
    t = one("It posted a loss for the third quarter of $226 million.", "en", "1989-10-26", "the third quarter")
    assert t.value == "1989-Q3"
    assert one("Sales rose in the current fiscal year.", "en", "1989-10-26", "the current fiscal year").value == "1989"
    assert one("Sales rose in the latest fiscal year.", "en", "1989-10-26", "the latest fiscal year").value == "1988"


@pytest.mark.parametrize(
    "text, lang, span, typ, value",
    [
        ("Margins shrank in the past two quarters.", "en", "the past two quarters", "DURATION", "P2Q"),
        ("Losses could persist for several quarters.", "en", "several quarters", "DURATION", "PXQ"),
        ("The fund pays out every quarter.", "en", "every quarter", "SET", "P1Q"),
        ("De winst daalde de afgelopen twee kwartalen.", "nl", "de afgelopen twee kwartalen", "DURATION", "P2Q"),
    ],
)
def test_quarter_durations_keep_their_unit(text, lang, span, typ, value):
    t = one(text, lang, "2022-09-15", span)
    assert (t.type, t.value) == (typ, value)


def test_fiscal_years_and_year_end():
    # "the year ended March 31": a year-long period ending on that date (TimeML: a duration)
    t = one("Revenue was $76 million for the year ended March 31.", "en", "1989-11-01", "the year")
    assert (t.type, t.value) == ("DURATION", "P1Y")
    assert one("For the year, volume was flat.", "en", "1989-11-02", "the year").value == "1989"
    t = one("The books close at year-end.", "en", "1989-11-02", "year-end")
    assert (t.value, t.mod, t.begin, t.end_date) == ("1989", "END", "1989-07-02", "1989-12-31")


# --- "before", "or so", "and a half", parts of the day --------------------------------


def test_small_constructions():
    found = times("He resigned three days before the vote.", "en", "2022-09-15")
    assert [(t.text, t.type, t.value) for t in found] == [("three days", "DURATION", "P3D")]
    t = one("A year before, he had won.", "en", "2022-09-15", "A year before")
    assert (t.type, t.value) == ("DATE", "2021")
    t = one("A week or so ago the general chose the day.", "en", "2022-09-15", "A week or so ago")
    assert (t.value, t.mod) == ("2022-W36", "APPROX")
    assert one("He paused for a minute and a half.", "en", "2022-09-15", "a minute and a half").value == "PT1M30S"
    t = one("Shares fell in mid-afternoon yesterday.", "en", "2022-09-15", "mid-afternoon yesterday")
    assert (t.type, t.value) == ("TIME", "2022-09-14TAF")
    t = one("The club meets Tuesday nights.", "en", "2022-09-15", "Tuesday nights")
    assert (t.type, t.value) == ("SET", "XXXX-WXX-2TNI")
    assert one("Orders rose from the low levels of the early summer.", "en", "2022-09-15", "the early summer").value == "2022-SU"


def test_years_in_words():
    assert one("In nineteen ninety-one Keating was convicted.", "en", "1998-01-15", "nineteen ninety-one").value == "1991"
    assert one("It followed a nineteen ninety-seven attack.", "en", "1998-01-15", "nineteen ninety-seven").value == "1997"
    t = one("The approach of the year two thousand worries them.", "en", "1998-01-15", "the year two thousand")
    assert t.value == "2000"
    # a count is no year
    assert times("Twenty five people came.", "en", "1998-01-15") == []


# --- the time the text is about: anaphoric expressions -----------------------------


def test_anaphoric_expressions_follow_the_date_named():
    text = (
        "On May 22, 1995, Farkas was made a general, and the following year he became attache. "
        "He fled in June 1998 and returned later that year. Imports in 1988 were small that year. "
        "On Friday, Oct. 27, 1989, the index fell 4% from the previous Friday. "
        "On March 3, 1999, he left; three days later he returned."
    )
    by = {t.text: t.value for t in times(text, "en", "2000-01-15")}
    assert by["the following year"] == "1996"
    assert by["later that year"] == "1998"
    assert by["that year"] == "1988"
    # the determiner is part of the extent (TimeML), as in "the following year"
    assert by["the previous Friday"] == "1989-10-20"
    # TimeML: "three days later" is a duration ("later" a signal); the
    # interval is the day it lands on, counted from the date named
    later = next(t for t in times(text, "en", "2000-01-15") if t.text == "three days later")
    assert (later.type, later.value, later.begin, later.end_date) == ("DURATION", "P3D", "1999-03-06", "1999-03-06")
    # "ago" counts from the article, whatever the text named before
    t = one("On March 3, 1999, he left. Two weeks ago he came back.", "en", "2000-01-15", "Two weeks ago")
    assert t.value == "1999-W52"  # 1 January 2000 lies in ISO week 52 of 1999
    # without a date named, from the article date
    assert one("Use was delayed earlier in the year.", "en", "1989-10-26", "earlier in the year").value == "1989"
    t = one("He appeared in court the next morning.", "en", "2000-02-24", "the next morning")
    assert (t.type, t.value) == ("TIME", "2000-02-25TMO")
    # a target ahead of the article is not what the story tells
    t = one("By 1992 it wanted half the market; it forecast more for the full year.", "en", "1989-10-30", "the full year")
    assert t.value == "1989"


def test_anaphoric_expressions_in_dutch():
    text = (
        "Op 3 mei 2019 begon het; later dat jaar volgde de rest. Het jaar daarop viel het kabinet. "
        "Op 4 juni 2021 kwam hij; de volgende dag ging hij weer."
    )
    by = {t.text: t.value for t in times(text, "nl", "2022-09-14")}
    assert by["later dat jaar"] == "2019"
    assert by["Het jaar daarop"] == "2020"
    assert by["de volgende dag"] == "2021-06-05"
    t = one("In augustus stegen de prijzen meer dan dezelfde maand een jaar eerder.", "nl", "2022-09-14",
            "dezelfde maand een jaar eerder")
    assert t.value == "2021-08"
    t = one("Sales in August beat the same month a year earlier.", "en", "2022-09-14", "the same month a year earlier")
    assert t.value == "2021-08"
    # the Dutch gold keeps "drie dagen later" a duration, "later" outside
    found = times("Op 4 juni 2021 kwam hij; drie dagen later was hij terug.", "nl", "2022-09-14")
    assert [(t.text, t.value) for t in found][1] == ("drie dagen", "P3D")


# --- the same constructions in Dutch and English ---------------------------------


@pytest.mark.parametrize(
    "nl, en, typ, value",
    [
        ("Vorige week sprak hij.", "Last week he spoke.", "DATE", "2022-W36"),
        ("In het derde kwartaal steeg de omzet.", "In the third quarter sales rose.", "DATE", "2022-Q3"),
        ("In de jaren negentig was het anders.", "In the 1990s it was different.", "DATE", "199"),
        ("Dat gebeurde twee weken geleden.", "That happened two weeks ago.", "DATE", "2022-W35"),
        ("Vorig jaar was het anders.", "Last year it was different.", "DATE", "2021"),
        ("De winst daalde de afgelopen twee kwartalen.", "Profit fell in the past two quarters.", "DURATION", "P2Q"),
    ],
)
def test_dutch_and_english_agree(nl, en, typ, value):
    for text, lang in ((nl, "nl"), (en, "en")):
        (t,) = times(text, lang, "2022-09-15")
        assert (t.type, t.value) == (typ, value), (lang, t)


def test_the_past_year_follows_each_gold():
    # a deliberate difference, from the two gold sets: TimeBank annotates "the
    # past year" as the year before (a date), the Dutch gold "het afgelopen
    # jaar" as a duration of a year; without the article both are dates
    assert one("The past year was hard.", "en", "2022-09-15", "The past year").value == "2021"
    assert one("Het afgelopen jaar was zwaar.", "nl", "2022-09-15", "Het afgelopen jaar").value == "P1Y"
    assert one("Afgelopen jaar was zwaar.", "nl", "2022-09-15", "Afgelopen jaar").value == "2021"


def test_year_ago_compares_with_the_quarter_reported():
    text = (
        "Kimberly posted a gain in third-quarter profit. Losses will continue through the third quarter of 1990. "
        "It stopped paying a dividend in the third quarter of 1984. Third-quarter sales rose after a flat "
        "second quarter. Net fell from a year ago."
    )
    by = {t.text: t.value for t in times(text, "en", "1989-11-01")}
    assert by["third-quarter"] == "1989-Q3"
    assert by["the third quarter of 1990"] == "1990-Q3"
    # the quarter the report is about (named most, ended, recent), not a forecast,
    # an old quarter or a side remark
    assert by["a year ago"] == "1988-Q3"


def test_rates_times_of_day_and_weeks_of_a_date():
    t = one("The plan saves $500 million a year.", "en", "2022-09-15", "a year")
    assert (t.type, t.value) == ("SET", "P1Y")
    t = one("The talks took a year.", "en", "2022-09-15", "a year")
    assert (t.type, t.value) == ("DURATION", "P1Y")
    t = one("Dealers placed orders in the morning.", "en", "2022-09-15", "the morning")
    assert (t.type, t.value) == ("TIME", "2022-09-15TMO")
    t = one("He left at 4 in the morning.", "en", "2022-09-15", "4 in the morning")
    assert (t.type, t.value) == ("TIME", "2022-09-15T04:00")
    t = one("The vote is set for the week of March 6.", "en", "2000-02-24", "the week of March 6")
    assert (t.type, t.value) == ("DATE", "2000-W10")


# --- tense, deadlines and report structure (TempEval-3 error analysis) -----------


@pytest.mark.parametrize(
    "text,span,anchor,value",
    [
        # a plan in the past tense points ahead ("planned to leave on Thursday")
        ("The team planned to leave Nairobi on Thursday for Dar es Salaam.", "Thursday", "1998-09-30", "1998-10-01"),
        ("Protesters planned a large demonstration on Saturday.", "Saturday", "2000-01-07", "2000-01-08"),
        # a deadline: the coming weekday, even after a past verb
        ("Officials postponed until Tuesday morning any action on the case.", "Tuesday morning", "2000-03-30", "2000-03-28"),
        # ... but not in the past perfect
        ("Until Thursday, they had not called him a suspect.", "Thursday", "1999-05-07", "1999-05-06"),
        # "..., an official said on Wednesday": attribution, not the tense of the plan
        ("NATO has decided to admit Poland in early March, an official said on Wednesday.", "early March", "1999-02-10", "1999-03"),
        # "vs." and "Ala." end no sentence: the past verb after them still counts
        ("In January, a week after the Roe vs. Wade anniversary, a bomb in Birmingham, Ala., killed a guard.", "January", "1998-10-25", "1998-01"),
    ],
)
def test_tense_from_plans_deadlines_and_attribution(text, span, anchor, value):
    if "postponed" in text:
        value = "2000-04-04"  # the coming Tuesday
    assert one(text, "en", anchor, span).value == value


def test_report_periods_and_small_forms():
    # after "the nine months", "a year earlier" compares with the year before
    text = "For the nine months, net rose to $2 billion from $1.7 billion a year earlier."
    assert one(text, "en", "1989-10-26", "a year earlier").value == "1988"
    # "this past spring" is the most recent spring
    assert one("It scrapped the unit this past spring.", "en", "1989-10-30", "this past spring").value == "1989-SP"
    # a second day of the month just named
    assert one("The summit will be held on April 24 and 25.", "en", "1999-02-10", "25").value == "1999-04-25"
    assert one("Campaign until Election Day.", "en", "1998-10-26", "Election Day").value == "1998-11-03"
    # TimeML: the adjective "current" is PRESENT_REF; "current account" is no time
    assert one("It cited current market conditions.", "en", "1989-10-30", "current").value == "PRESENT_REF"
    assert not [t for t in times("The current account deficit grew.", "en", "1989-10-30") if t.text == "current"]
    # ordinals and titles are no times
    assert not times("A second group of directors joined; he spoke on This Week.", "en", "1989-10-30")


# --- weekdays anaphoric over a long paragraph, scheduled present, stretches -------


def test_previous_weekday_counts_from_the_day_reported_paragraphs_later():
    # the story tells Friday's trading; "the previous Friday" three
    # paragraphs on is the Friday before that, not the one before the article
    filler = "Dealers said the market was nervous and volume was heavy in most sectors. " * 8
    text = "London share prices closed sharply lower Friday. " + filler + "The index was down 4.5% from the previous Friday."
    t = one(text, "en", "1989-10-30", "the previous Friday")
    assert t.value == "1989-10-20"


@pytest.mark.parametrize(
    "text, span, value",
    [
        # news present tense for a scheduled event: the coming Monday
        ("He and Arafat meet separately Monday with Albright.", "Monday", "1998-05-04"),
        ("The committee convenes Tuesday to vote on the bill.", "Tuesday", "1998-05-05"),
        ("The new rule takes effect Monday.", "Monday", "1998-05-04"),
        # not a verb: "a return", "the meet"; an infinitive after a past verb
        ("Officials said the talks had collapsed Monday.", "Monday", "1998-04-27"),
        ("The protest marked a return to the rallies of early December.", "early December", "1997-12"),
        ("Sales didn't meet expectations in March.", "March", "1998-03"),
    ],
)
def test_scheduled_present_is_future(text, span, value):
    assert one(text, "en", "1998-05-01", span).value == value


@pytest.mark.parametrize(
    "text, span, value",
    [
        ("Over the years many more patients died.", "the years", "PXY"),
        ("They may sell junk bonds in the weeks ahead.", "the weeks ahead", "PXW"),
        ("Prisoners were taken in the first hours of the ground war.", "the first hours", "PTXH"),
        ("In the years that followed, they waged war.", "years", "PXY"),
    ],
)
def test_unspecified_stretches_are_durations(text, span, value):
    t = one(text, "en", "1998-05-01", span)
    assert (t.type, t.value) == ("DURATION", value)


def test_days_before_an_event_is_no_stretch():
    # "in the days before the shooting" points at a date, not a duration
    found = times("His car was seen in the days before the shooting.", "en", "1999-04-10")
    assert not any(t.type == "DURATION" for t in found)


def test_the_quarter_is_the_quarter_the_report_named():
    # other dates in between ("this month", "April") do not make "the
    # quarter" the one before the article: it is still the quarter reported
    text = (
        "Sun earned $5.2 million in the fiscal first quarter ended Sept. 29. "
        "Earlier this month it warned of problems with computers introduced in April. "
        "It shipped 28,000 systems in the quarter."
    )
    found = [t for t in times(text, "en", "1989-10-26") if t.text == "the quarter"]
    assert [t.value for t in found] == ["1989-Q1"]
    # with no quarter named: the last one that ended
    assert one("Sales rose in the quarter.", "en", "1989-10-26", "the quarter").value == "1989-Q3"


@pytest.mark.parametrize(
    "text, span, typ, value",
    [
        ("They will have to live without power for a while.", "a while", "DURATION", "PXX"),
        ("The plan will be submitted at a later date.", "a later date", "DATE", "FUTURE_REF"),
        ("Margins will stay thin in the near term.", "the near term", "DATE", "FUTURE_REF"),
        ("The loan may be extended for an additional year.", "an additional year", "DURATION", "P1Y"),
        ("He stayed two extra days.", "two extra days", "DURATION", "P2D"),
        ("Eight trading days after Oct. 12 the index fell.", "Eight trading days", "DURATION", "P8D"),
        ("Payment is due within five business days.", "five business days", "DURATION", "P5D"),
        ("Islam will one day be the second largest religion.", "one day", "DATE", "FUTURE_REF"),
        ("He had been in the job one day.", "one day", "DURATION", "P1D"),
    ],
)
def test_vague_future_and_unspecified_durations(text, span, typ, value):
    t = one(text, "en", "1989-10-26", span)
    assert (t.type, t.value) == (typ, value)


def test_a_while_ago_is_not_a_duration():
    found = times("A while ago he left; meanwhile, while it rained, he waited.", "en", "1989-10-26")
    assert [(t.text, t.value) for t in found] == [("A while ago", "PAST_REF")]


def test_clock_time_takes_the_day_of_its_gloss():
    text = "The father will leave at 4 in the morning (4 a.m. EDT Thursday), Castro said."
    t = one(text, "en", "2000-04-05", "4 in the morning")
    assert (t.type, t.value) == ("TIME", "2000-04-06T04:00")
    # without a gloss: the article's day
    assert one("He left at 4 in the morning.", "en", "2000-04-05", "4 in the morning").value == "2000-04-05T04:00"


@pytest.mark.parametrize(
    "text, span",
    [
        ("It's the second day of an offensive by the security forces.", "the second day"),
        ("In Saudi Arabia, today is the eighth day of Desert Shield.", "the eighth day"),
        ("It is the third day of the strike.", "the third day"),
    ],
)
def test_it_is_the_nth_day_is_today(text, span):
    t = one(text, "en", "1998-03-06", span)
    assert (t.type, t.value) == ("DATE", "1998-03-06")


def test_the_nth_day_without_a_present_copula_is_not_today():
    found = times("On the second day of the trip he fell ill.", "en", "1998-03-06")
    assert not any(t.value == "1998-03-06" for t in found)


@pytest.mark.parametrize(
    "text, span, value",
    [
        ("They emerged from their third day-long meeting.", "day-long", "P1D"),
        ("The government's decades-long battle with the exiles.", "decades-long", "PXY"),
        # the article belongs to the noun, not to the plural unit
        ("It was a decades-long battle.", "decades-long", "PXY"),
    ],
)
def test_long_compounds_are_durations(text, span, value):
    t = one(text, "en", "2000-04-03", span)
    assert (t.type, t.value) == ("DURATION", value)


def test_year_earlier_period_is_one_expression():
    text = "Net for the nine months rose. Net for the year-earlier nine months included a gain."
    spans = [t.text for t in times(text, "en", "1989-10-26")]
    assert "the year-earlier nine months" in spans and "nine months" not in spans[1:]


def test_holiday_week_is_the_week_of_the_holiday():
    t = one("Protesters prayed for divine help as Easter week began.", "en", "2000-04-17", "Easter week")
    assert (t.type, t.value) == ("DATE", "2000-W16")  # Easter Sunday 2000-04-23
    assert one("They met at Christmas.", "en", "2000-04-17", "Christmas").value == "1999-12-25"


def test_the_month_after_the_article_is_the_coming_one():
    # reported speech in the past tense about next month: last year's would be "last September"
    text = "Saudi Arabia told oil companies of a 15 percent cutback in its supply in September."
    assert one(text, "en", "1990-08-16", "September").value == "1990-09"
    # two months ahead in the past tense stays in the past
    assert one("Sales fell in October.", "en", "1990-08-16", "October").value == "1989-10"
    # with only a year known the article may date from any month: no such inference
    found = times("Sales fell in February.", "en", "2022")
    assert [t.value for t in found] == ["2022"]


def test_planning_for_an_event_points_ahead():
    text = "With their membership secure, they can participate in planning for the NATO summit in April."
    assert one(text, "en", "1998-12-05", "April").value == "1999-04"
    assert one("The summit was held in April.", "en", "1998-12-05", "April").value == "1998-04"


def test_discourse_now_is_no_time():
    assert times("Now, he says, the West wants more. Now for the weather.", "en", "1991-02-25") == []
    # the temporal adverb stays
    t = one("The company now owns 72% of the shares. Now officials are investigating.", "en", "1991-02-25", "now")
    assert t.value == "PRESENT_REF"
    assert one("Now officials are investigating.", "en", "1991-02-25", "Now").value == "PRESENT_REF"


def test_now_that_names_the_present():
    # the conjunction still places its clause at the present
    text = "Exporters are stranded now that the port has closed."
    assert one(text, "en", "1991-02-25", "now").value == "PRESENT_REF"


@pytest.mark.parametrize(
    "text, span, value",
    [
        ("International Women's Day is this coming Sunday, March eighth.", "this coming Sunday, March eighth", "1998-03-08"),
        ("He left on March first.", "March first", "1998-03-01"),
        ("Next Tuesday, March 10, they meet.", "Next Tuesday, March 10", "1998-03-10"),
    ],
)
def test_spoken_dates_and_shifted_weekdays_with_a_date(text, span, value):
    assert one(text, "en", "1998-03-05", span).value == value


def test_month_before_an_ordinal_quarter_is_no_spoken_date():
    spans = [t.text for t in times("Results for the March first-quarter period were weak.", "en", "1998-05-05")]
    assert "March first" not in spans


def test_a_year_earlier_compares_with_the_quarter_its_sentence_names():
    # a round-up: the first report is about the fiscal first quarter, the
    # second names its own quarter; a decimal point ends no sentence
    text = (
        "Acme Air earned a record in the fiscal first quarter.\n\n"
        "Separately, Bolt Airlines reported third-quarter profit rose to $5.8 million from $4.1 million a year earlier."
    )
    assert one(text, "en", "1989-10-26", "a year earlier").value == "1988-Q3"
    # without a quarter of its own the sentence compares with the report's topic
    text = "Acme Air earned a record in the fiscal first quarter. Revenue rose 15% from a year earlier."
    assert one(text, "en", "1989-10-26", "a year earlier").value == "1988-Q1"


def test_the_early_hours_of_a_day_are_no_duration():
    found = times("Police arrested him in the early hours of Thursday morning.", "en", "1999-10-08")
    assert [(t.text, t.value) for t in found] == [("Thursday morning", "1999-10-07")]
    # a stretch of hours still is one
    assert one("The talks lasted for hours.", "en", "1999-10-08", "hours").value == "PTXH"


def test_the_latest_period_after_a_reported_fiscal_quarter():
    # results reported on Nov. 2 for the fourth quarter: a fiscal quarter that has closed
    text = "Acme Foods reported a 47% decline in fourth-quarter earnings. Sales in the latest period were $1.76 billion."
    assert one(text, "en", "1989-11-02", "the latest period").value == "1989-Q4"
    # a quarter only forecast is not the latest one reported
    text = "Acme Foods expects fourth-quarter earnings to fall. Sales in the latest quarter rose 5%."
    assert one(text, "en", "1989-11-02", "the latest quarter").value == "1989-Q3"


def test_the_quarter_ended_on_a_date():
    # the three months up to the end date, named by the calendar quarter holding most of them
    text = "In the quarter ended July 31, the retailer had 5.6 million shares outstanding."
    assert one(text, "en", "1989-10-30", "the quarter").value == "1989-Q2"
    text = "Sales in the quarter ended Jan. 31 fell 4%."
    assert one(text, "en", "1990-03-01", "the quarter").value == "1989-Q4"
    # a quarter the report named keeps its own (fiscal) name
    text = "Acme earned $5 million in its fiscal first quarter. Sales in the quarter ended Sept. 30 rose 39%."
    assert one(text, "en", "1989-10-26", "the quarter").value == "1989-Q1"


def test_over_the_past_decade_is_a_stretch_up_to_now():
    text = "Threats against the clinic had become routine over the past decade."
    t = one(text, "en", "1998-10-25", "the past decade")
    assert (t.type, t.value) == ("DURATION", "P10Y")
    # without such a preposition it stays the decade before this one
    assert one("Workers lost earning power in the last decade.", "en", "1998-10-25", "the last decade").value == "198"
