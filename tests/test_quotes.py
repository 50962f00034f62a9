"""The quotes stage: direct, indirect and according_to attribution in Dutch and
English, speakers resolved, hearsay flagged, offsets exact.

Each language runs twice: through its stage list from languages.toml (Dutch:
the shipped nl_fast pipeline with the mentions stage, or the blank tokenizer
where that model is absent; the Dutch quotes table turns POS and parse use
off, see lexicon/nl/quotes.toml; English: en_core_web_sm with parser and
NER -> mentions) and on a blank spaCy tokenizer with the rule-based
sentencizer only (no POS, parse or mentions): the rule layer.
"""

from __future__ import annotations

import pytest

from kroniek.document import Article
from kroniek.nlp.pipeline import language_table, stage_class
from kroniek.nlp.quotes import extract, load_lexicon


def run_stages(text: str, lang: str) -> Article:
    """The language's stages from languages.toml, with quotes where it belongs."""
    names = list(language_table()[lang]["stages"])
    if "quotes" not in names:
        names.insert(names.index("entities") if "entities" in names else len(names), "quotes")
    article = Article.new(text, language=lang)
    for name in names:
        stage_class(name)(lang, "accurate")([article])
    assert article.check_spans() == []
    return article


def rule_layer(text: str, lang: str):
    """The stage on a blank tokenizer only: no POS, parse or mentions."""
    import spacy

    nlp = spacy.blank(lang)
    nlp.add_pipe("sentencizer")
    quotes = extract(text, nlp(text), None, lang)
    for q in quotes:
        check_offsets(text, q)
    return quotes


def check_offsets(text: str, q) -> None:
    assert text[q.start:q.end] == q.text
    if q.speaker is not None:
        assert text[q.speaker.start:q.speaker.end] == q.speaker.text
    if q.cue is not None:
        assert text[q.cue.start:q.cue.end] == q.cue.text


def find(quotes, fragment: str):
    hits = [q for q in quotes if fragment in q.text]
    assert hits, f"no quote containing {fragment!r} in {[q.text for q in quotes]}"
    return hits[0]


def none_with(quotes, fragment: str) -> None:
    assert not [q for q in quotes if fragment in q.text], [q.text for q in quotes]


# --- the reference article ------------------------------------------------------------


@pytest.fixture(scope="module")
def reference():
    from pathlib import Path

    from kroniek.ingest import read_sources

    path = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "samples" / "seed-2022-09-kremlin-nederlaag.txt"
    if not path.exists():
        pytest.skip(f"shared data not found: {path}")
    (article,) = list(read_sources([str(path)]))
    assert not article.text.startswith("date")  # the header is stripped by the reader
    return run_stages(article.text, "nl")


def test_reference_isw_statement(reference):
    text = reference.text
    q = find(reference.quotes, "Het Kremlin probeert Poetin vrij te pleiten")
    assert q.kind == "direct"
    # content without the quotation marks, up to the closing mark
    assert text[q.start - 1] == "“" and text[q.end] == "”"
    assert q.text.endswith("in zijn directe omgeving")
    assert q.cue is not None and q.cue.text == "aldus"
    assert q.speaker is not None and q.speaker.text == "ISW"
    assert q.speaker.name == "Institute for the Study of War"
    assert text[q.cue.start:q.cue.end] == "aldus" and q.cue.start > q.end
    assert q.hearsay is False


def test_reference_bezpalko(reference):
    q = find(reference.quotes, "afgehakte hoofden")
    assert q.text == "al hun afgehakte hoofden op het bureau van Poetin moesten liggen"
    assert q.speaker is not None and q.speaker.text == "Hij"
    assert q.speaker.name == "Bogdan Bezpalko"
    assert q.cue is not None and q.cue.text == "zei"


def test_reference_volgens_isw(reference):
    q = find(reference.quotes, "maakt volgens het ISW deel uit van een tactiek")
    assert q.kind == "according_to"
    assert q.cue.text == "volgens"
    assert q.speaker.text == "ISW" and q.speaker.name == "Institute for the Study of War"
    # an interrupting "volgens X" gives the whole clause
    assert q.text.startswith("Dat er nu toch wordt erkend")
    assert q.text.endswith("en de legerleiding")


def test_reference_volgens_denktank(reference):
    q = find(reference.quotes, "doet Moskou er nu alles aan")
    assert q.kind == "according_to" and q.cue.text == "Volgens"
    assert q.text.startswith("doet Moskou") and q.text.endswith("af te wentelen op anderen")
    assert q.speaker.name == "Institute for the Study of War"


def test_reference_volgens_inlichtingendienst(reference):
    q = find(reference.quotes, "hebben de Russische autoriteiten in de Krim familieleden aangespoord")
    assert q.kind == "according_to" and q.cue.text == "Volgens"
    assert q.speaker is not None and "inlichtingendienst" in q.speaker.text
    assert q.speaker.text == "Oekraïense militaire inlichtingendienst"


def test_reference_hearsay(reference):
    q = find(reference.quotes, "Het Kremlin zou daar oren naar hebben")
    assert q.hearsay is True
    assert q.speaker is None  # no source in the text: never guessed
    assert q.cue.text == "zou"
    q = find(reference.quotes, "FSB zou zijn huizen op de Krim verkopen")
    assert q.hearsay is True


def test_reference_indirect_and_negation(reference):
    q = find(reference.quotes, "het een nederlaag geleden heeft in Oekraïne")
    assert q.kind == "indirect" and q.cue.text == "toegegeven"
    assert q.speaker.text == "Kremlin"
    # "gaf nog nooit eerder toe dat" is a negated report: not a quote
    none_with(reference.quotes, "moest incasseren")
    q = find(reference.quotes, "het geen burgerdoelen aanviel")
    assert q.speaker.text == "Moskou" and q.cue.text == "beweerde"


def test_reference_mixed_quotes(reference):
    q = find(reference.quotes, "bevrijding van de Donbas")
    assert q.kind == "direct" and q.speaker.name == "Rusland"
    q = find(reference.quotes, "een teken van goede wil")
    assert q.speaker.name == "Rusland"


def test_reference_offsets(reference):
    assert reference.check_spans() == []
    for q in reference.quotes:
        check_offsets(reference.text, q)
        assert not q.text.startswith(("“", "‘", '"')) and not q.text.endswith(("”", "’", '"'))


# --- Dutch constructions -------------------------------------------------------------

NL = (
    "Minister Wopke Hoekstra sprak gisteren in Kiev. „Wij staan naast Oekraïne”, zei hij. "
    "„Dat blijft zo.”\n\n"
    "“Wij geven niet op”, zei de minister, “en wij blijven helpen.” "
    "Rutte: 'Wij gaan door met steunen.' "
    "De premier verklaarde dat Nederland meer wapens levert. "
    "Volgens de woordvoerder van het Kremlin is de aanval mislukt. "
    "De aanval was een succes, aldus het Pentagon. "
    "Naar verluidt zijn er honderd doden gevallen. "
    "Het ISW stelt dat het Kremlin beweert dat de troepen zich hergroeperen. "
    "Deze ‘speciale operatie’ duurt al maanden. Het boek ‘Oorlog en vrede’ ligt op tafel. "
    "Tot nu toe waarschuwde Moskou dat het zou terugslaan."
)


@pytest.fixture(scope="module", params=["pipeline", "rules"])
def nl_quotes(request):
    if request.param == "pipeline":
        return run_stages(NL, "nl").quotes
    return rule_layer(NL, "nl")


def test_nl_direct_after_and_continuation(nl_quotes):
    q = find(nl_quotes, "Wij staan naast Oekraïne")
    assert q.kind == "direct" and q.cue.text == "zei"
    assert q.speaker.text == "hij" and q.speaker.name == "Wopke Hoekstra"
    q2 = find(nl_quotes, "Dat blijft zo.")
    assert q2.speaker.name == "Wopke Hoekstra" and q2.cue is None


def test_nl_interrupted(nl_quotes):
    a = find(nl_quotes, "Wij geven niet op")
    b = find(nl_quotes, "en wij blijven helpen.")
    assert a.text == "Wij geven niet op" and b.text == "en wij blijven helpen."
    assert a.cue.text == "zei" and a.speaker.text == "minister"
    # a bare definite description refers back to the person introduced with it
    assert a.speaker.name == "Wopke Hoekstra"
    assert b.speaker.name == "Wopke Hoekstra"


def test_nl_colon(nl_quotes):
    q = find(nl_quotes, "Wij gaan door met steunen.")
    assert q.kind == "direct" and q.speaker.text == "Rutte" and q.cue.text == ":"


def test_nl_indirect_description(nl_quotes):
    q = find(nl_quotes, "Nederland meer wapens levert")
    assert q.kind == "indirect" and q.cue.text == "verklaarde"
    assert q.text == "Nederland meer wapens levert"  # no "dat", no final stop
    assert q.speaker.text == "premier" and q.speaker.name == "Rutte"


def test_nl_volgens_and_aldus(nl_quotes):
    q = find(nl_quotes, "is de aanval mislukt")
    assert q.kind == "according_to" and q.cue.text == "Volgens"
    assert q.speaker.text == "woordvoerder van het Kremlin"
    q = find(nl_quotes, "De aanval was een succes")
    assert q.kind == "according_to" and q.cue.text == "aldus" and q.speaker.text == "Pentagon"


def test_nl_nested(nl_quotes):
    outer = find(nl_quotes, "het Kremlin beweert dat")
    inner = [q for q in nl_quotes if q.text == "de troepen zich hergroeperen"]
    assert outer.speaker.text == "ISW" and outer.cue.text == "stelt"
    assert inner and inner[0].speaker.text == "Kremlin" and inner[0].cue.text == "beweert"


def test_nl_hearsay(nl_quotes):
    q = find(nl_quotes, "Naar verluidt zijn er honderd doden gevallen")
    assert q.hearsay and q.speaker is None
    q = find(nl_quotes, "het zou terugslaan")
    assert q.speaker.text == "Moskou" and q.cue.text == "waarschuwde" and q.hearsay


def test_nl_scare_quotes_and_titles(nl_quotes):
    none_with(nl_quotes, "speciale operatie")
    none_with(nl_quotes, "Oorlog en vrede")


def test_nl_multi_paragraph_quote():
    text = (
        "Zelensky sprak het parlement toe. „Wij zullen winnen. Niemand neemt ons land af.\n\n"
        "„Wij bouwen alles weer op”, zei hij."
    )
    quotes = rule_layer(text, "nl")
    a = find(quotes, "Wij zullen winnen. Niemand neemt ons land af.")
    assert a.text == "Wij zullen winnen. Niemand neemt ons land af."  # ends at the paragraph end
    b = find(quotes, "Wij bouwen alles weer op")
    assert b.speaker.name == "Zelensky"
    assert a.speaker is not None and a.speaker.name == "Zelensky"


def test_nl_quote_styles():
    for o, c in (("“", "”"), ("„", "”"), ('"', '"'), ("‘", "’"), ("'", "'"), ("«", "»")):
        text = f"Rutte kwam aan. {o}Wij gaan door met de steun aan Oekraïne{c}, zei hij."
        (q,) = rule_layer(text, "nl")
        assert q.text == "Wij gaan door met de steun aan Oekraïne", (o, c, q.text)
        assert q.speaker.name == "Rutte"


def test_nl_apostrophes_are_not_quotes():
    quotes = rule_layer("Het is 's avonds koud en zo'n dag duurt lang. Het ISW zegt dat 't klopt.", "nl")
    assert [q.text for q in quotes] == ["'t klopt"]


def test_nl_dat_meldt():
    text = "Er zijn bij de aanval twintig doden gevallen. Dat meldt persbureau Reuters."
    quotes = rule_layer(text, "nl")
    q = find(quotes, "twintig doden")
    assert q.kind == "indirect" and q.cue.text == "meldt" and q.speaker.text == "Reuters"


def test_nl_organisation_pronoun_and_acronym():
    text = ("De Amerikaanse denktank Institute for the Study of War (ISW) volgt de oorlog. "
            "Het ISW stelt dat Rusland munitie tekort komt.")
    (q,) = rule_layer(text, "nl")
    assert q.speaker.text == "ISW" and q.speaker.name == "Institute for the Study of War"


# --- English -----------------------------------------------------------------------------

EN = (
    "Defense Secretary Lloyd Austin visited Kyiv on Monday. \"We stand with Ukraine,\" he said. "
    "\"That will not change.\"\n\n"
    "“We will not give up,” Austin said, “and we will keep helping.” "
    "The spokesman told reporters that more weapons would be sent. "
    "According to the Pentagon, the attack failed. "
    "The attack was a success, according to ISW. "
    "Russian troops reportedly withdrew from the city. "
    "ISW says that the Kremlin claims the troops are regrouping. "
    "\"It is over,\" said John Kirby, the spokesman. "
    "Kirby: \"We are done.\" "
    "The so-called 'special operation' continues. She read 'War and Peace' again."
)


@pytest.fixture(scope="module")
def en_quotes():
    try:
        return run_stages(EN, "en").quotes
    except OSError as e:  # the English model is not installed
        pytest.skip(f"English spaCy model not available: {e}")


def test_en_direct_and_pronoun(en_quotes):
    q = find(en_quotes, "We stand with Ukraine")
    assert q.text == "We stand with Ukraine,"  # punctuation inside the marks is content
    assert q.speaker.text == "he" and q.speaker.name == "Lloyd Austin" and q.cue.text == "said"
    q = find(en_quotes, "That will not change.")
    assert q.speaker.name == "Lloyd Austin"


def test_en_interrupted(en_quotes):
    a = find(en_quotes, "We will not give up")
    b = find(en_quotes, "and we will keep helping.")
    assert a.speaker.text == "Austin" and b.speaker.name == a.speaker.name == "Lloyd Austin"


def test_en_indirect_and_according_to(en_quotes):
    q = find(en_quotes, "more weapons would be sent")
    assert q.kind == "indirect" and q.cue.text == "told" and "spokesman" in q.speaker.text
    q = find(en_quotes, "the attack failed")
    assert q.kind == "according_to" and q.cue.text == "According to" and "Pentagon" in q.speaker.text
    q = find(en_quotes, "The attack was a success")
    assert q.kind == "according_to" and q.speaker.text == "ISW"


def test_en_nested_and_hearsay(en_quotes):
    outer = find(en_quotes, "the Kremlin claims")
    assert outer.speaker.text == "ISW" and outer.cue.text == "says"
    inner = [q for q in en_quotes if q.text == "the troops are regrouping"]
    assert inner and "Kremlin" in inner[0].speaker.text and inner[0].cue.text == "claims"
    q = find(en_quotes, "Russian troops reportedly withdrew")
    assert q.hearsay and q.speaker is None


def test_en_said_name_after_and_colon(en_quotes):
    q = find(en_quotes, "It is over")
    assert q.cue.text == "said" and "John Kirby" in q.speaker.text and q.speaker.name == "John Kirby"
    q = find(en_quotes, "We are done.")
    assert q.speaker.text == "Kirby" and q.speaker.name == "John Kirby" and q.cue.text == ":"


def test_en_scare_quotes_and_titles(en_quotes):
    none_with(en_quotes, "special operation")
    none_with(en_quotes, "War and Peace")


# English read from the parse (lexicon/en/quotes.toml [parse]); PolNeAR-style
# source phrases, object and phrasal cues, frames of any verb.
EN_PARSE = (
    "Jeff Weaver, Sanders' campaign manager, said the campaign would go on. "
    "Trump criticized Clinton for her emails. "
    "Sanders talked about income inequality at the rally. "
    "Cruz said Tuesday his campaign would continue. "
    "The senator said the plan was “a disaster” for the state. "
    "“I think we will win,” she said. "
    "\"Get out!\" the man shouted. "
    "Voters who said the economy mattered most backed Clinton. "
    "The economy, he said, is strong. "
    "According to early results of exit polls conducted for the Associated Press, turnout was high. "
    "Clinton's claim that the videos exist was false.\n\n"
    "Lynch: No outside influence on FBI probe\n"
)


@pytest.fixture(scope="module")
def en_parse_quotes():
    try:
        return run_stages(EN_PARSE, "en").quotes
    except OSError as e:  # the English model is not installed
        pytest.skip(f"English spaCy model not available: {e}")


def test_en_source_phrase_with_apposition(en_parse_quotes):
    q = find(en_parse_quotes, "the campaign would go on")
    assert q.kind == "indirect" and q.cue.text == "said"
    # the whole source phrase, as PolNeAR marks it; the name is the person's
    assert q.speaker.text == "Jeff Weaver, Sanders' campaign manager" and q.speaker.name == "Jeff Weaver"


def test_en_object_and_phrasal_cues(en_parse_quotes):
    q = find(en_parse_quotes, "Clinton for her emails")
    assert q.cue.text == "criticized" and q.speaker.text == "Trump"
    q = find(en_parse_quotes, "income inequality")
    assert q.cue.text == "talked about" and q.text == "income inequality"  # not "at the rally"


def test_en_time_after_cue_is_not_content(en_parse_quotes):
    q = find(en_parse_quotes, "his campaign would continue")
    assert q.text == "his campaign would continue" and q.speaker.text == "Cruz"


def test_en_mixed_quote_is_one_report(en_parse_quotes):
    q = find(en_parse_quotes, "a disaster")
    assert q.kind == "indirect" and q.text.startswith("the plan was") and q.speaker.text == "The senator"
    assert not [x for x in en_parse_quotes if x.text == "a disaster"]


def test_en_reports_inside_quotes_and_frames_of_any_verb(en_parse_quotes):
    assert not [q for q in en_parse_quotes if q.cue is not None and q.cue.text == "think"]
    q = find(en_parse_quotes, "Get out!")
    assert q.kind == "direct" and q.cue.text == "shouted" and q.speaker.text == "the man"


def test_en_relative_parenthetical_and_according_to(en_parse_quotes):
    q = find(en_parse_quotes, "the economy mattered")
    assert q.speaker.text == "who" and q.speaker.name == "Voters"
    parts = [q for q in en_parse_quotes if q.cue is not None and q.cue.text == "said" and q.speaker.text == "he"]
    assert sorted(q.text for q in parts) == ["The economy", "is strong"]
    q = find(en_parse_quotes, "turnout was high")
    assert q.kind == "according_to"
    assert q.speaker.text == "early results of exit polls conducted for the Associated Press"


def test_en_noun_cue_and_colon_headline(en_parse_quotes):
    q = find(en_parse_quotes, "the videos exist")
    # the owner with its possessive ending, as PolNeAR marks the source; the name without it
    assert q.cue.text == "claim" and q.speaker.text == "Clinton's" and q.speaker.name == "Clinton"
    q = find(en_parse_quotes, "No outside influence on FBI probe")
    assert q.kind == "according_to" and q.cue.text == ":" and q.speaker.text == "Lynch"


def test_en_rule_layer_without_parse():
    text = ("Senator Jane Miller spoke in Ohio. \"We will win this,\" she said. "
            "The campaign said that the polls were wrong.")
    quotes = rule_layer(text, "en")
    q = find(quotes, "We will win this")
    assert q.speaker.text == "she" and q.speaker.name == "Jane Miller"
    q = find(quotes, "the polls were wrong")
    assert q.kind == "indirect" and q.cue.text == "said"


def test_tables_are_data():
    for lang in ("nl", "en"):
        lex = load_lexicon(lang)
        assert lex is not None and lex.cues and lex.pronouns and lex.marks
    assert load_lexicon("xx") is None  # a language without a table gets no quotes, no error
    assert extract("„Hallo”, zei hij.", None, None, "xx") == []


# Appearance without a source, participle sources, the learned cue model
EN_MORE = (
    "The senator seems to favor the new plan. "
    "It appears that the vote will be delayed. "
    "The campaign released a statement saying that the rally was cancelled. "
    "A video showing that the guards had fled circulated online. "
    "She read 'War and Peace' again."
)


@pytest.fixture(scope="module")
def en_more_quotes():
    try:
        return run_stages(EN_MORE, "en").quotes
    except OSError as e:  # the English model is not installed
        pytest.skip(f"English spaCy model not available: {e}")


def test_en_appearance_has_no_source(en_more_quotes):
    parts = [q for q in en_more_quotes if q.cue is not None and q.cue.text == "seems"]
    assert sorted(q.text for q in parts) == ["The senator", "to favor the new plan"]
    assert all(q.speaker is None for q in parts)
    q = find(en_more_quotes, "the vote will be delayed")
    assert q.text == "the vote will be delayed" and q.speaker is None and q.cue.text == "appears"


def test_en_participle_source_is_the_noun(en_more_quotes):
    q = [q for q in en_more_quotes if q.text == "the guards had fled"]
    assert q and q[0].cue.text == "showing" and q[0].speaker.text == "A video"
    # a document someone issued speaks for the issuer
    q = [q for q in en_more_quotes if q.text == "the rally was cancelled"]
    assert q and q[0].cue.text == "saying" and q[0].speaker.text == "The campaign"


def test_cue_model_table():
    from kroniek.nlp.quotes import read_cue_model

    # no shipped English model (PolNeAR may not be trained on): the lists decide
    assert load_lexicon("en").parse.model is None
    m = read_cue_model("# a comment\n#bias\t-0.5\n#add\t0.25\n#keep\t-1.0\nL=say\t2.0\ncl\t0.5\nL=eat\t-3\n")
    assert (m.bias, m.add, m.keep) == (-0.5, 0.25, -1.0) and len(m.weights) == 3
    assert m.score(["L=say", "cl", "unknown"]) == 2.0 > m.add > m.score(["L=eat", "cl"])


def test_en_sibling_report_is_cut_from_the_content():
    text = "The senator said that the bill was dead, arguing that the votes were not there."
    try:
        quotes = run_stages(text, "en").quotes
    except OSError as e:  # the English model is not installed
        pytest.skip(f"English spaCy model not available: {e}")
    outer = [q for q in quotes if q.cue is not None and q.cue.text == "said"]
    assert outer and all("arguing" not in q.text for q in outer)
    assert any(q.text.startswith("the bill was dead") for q in outer)
    q = find(quotes, "the votes were not there")
    assert q.cue.text == "arguing" and q.speaker.text == "The senator"


def test_en_stance_adjective():
    text = "Senator Jane Miller is confident that the bill will pass. The bridge is sure to collapse."
    try:
        quotes = run_stages(text, "en").quotes
    except OSError as e:  # the English model is not installed
        pytest.skip(f"English spaCy model not available: {e}")
    q = find(quotes, "the bill will pass")
    assert q.text == "the bill will pass" and q.cue.text == "is confident" and q.speaker.text == "Senator Jane Miller"
    none_with(quotes, "to collapse")  # not a person or organisation: no stance


def en_run(text: str):
    try:
        return run_stages(text, "en").quotes
    except OSError as e:  # the English model is not installed
        pytest.skip(f"English spaCy model not available: {e}")


def test_en_negated_cue_is_a_report():
    quotes = en_run("The governor did not say when the bridge would reopen.")
    q = find(quotes, "when the bridge would reopen")
    assert q.cue.text == "did not say" and q.speaker.text == "The governor"


def test_en_passive_report():
    quotes = en_run("The plan was first reported by the Tribune on Sunday. "
                    "The mayor was accused of using city funds for his campaign. "
                    "She was told to leave the room. A second device was found near the station.")
    q = find(quotes, "The plan")
    assert q.cue.text == "was first reported" and q.speaker.text == "the Tribune"  # the agent, without the date
    parts = [q for q in quotes if q.cue is not None and q.cue.text == "was accused of"]
    assert [q.text for q in parts] == ["The mayor", "using city funds for his campaign"]
    assert all(q.speaker is None for q in parts)  # no agent: no source, never a guess
    none_with(quotes, "She")  # the passive subject of "tell" is the addressee
    none_with(quotes, "A second device")  # "found" in its physical sense


def test_en_referential_it_and_misread_clause():
    quotes = en_run("The union sent a letter to the council. It says the company broke the contract. "
                    "It seems that nobody read it. "
                    "Senator Lee said after the vote he would not run again. "
                    "Don Fowler, who led the party in the 1990s, said the rules were clear.")
    q = find(quotes, "the company broke the contract")
    assert q.speaker.text == "It" and q.cue.text == "says"
    assert all(q.speaker is None or q.speaker.text != "It" for q in quotes if "nobody read it" in q.text)
    q = find(quotes, "he would not run again")
    assert q.text == "he would not run again" and q.speaker.text == "Senator Lee"
    q = find(quotes, "the rules were clear")
    assert q.speaker.text == "Don Fowler"  # the relative clause is cut with its pronoun


def test_en_as_put_it_phrasal_gap_and_lemma_slips():
    quotes = en_run("As the mayor put it, the city cannot afford another strike. "
                    "The senator spoke out Tuesday about the closure of the plant. "
                    "Ms. Park hopes the council will reverse its decision. "
                    "The train was supposed to leave at noon.")
    q = find(quotes, "the city cannot afford another strike")
    assert q.speaker.text == "the mayor"
    q = find(quotes, "the closure of the plant")
    assert q.speaker.text == "The senator" and q.cue.text.startswith("spoke")
    q = find(quotes, "the council will reverse its decision")  # "hopes", which the lemmatiser reads as "hop"
    assert q.speaker.text == "Ms. Park" and q.cue.text == "hopes"
    none_with(quotes, "to leave at noon")


def test_en_quote_continued_after_its_frame():
    quotes = en_run("The bank failed in 2012. \"Wall Street's a pretty cynical place,\" said Tim Hess, a developer. "
                    "\"But when you see that kind of talent, you listen.\"\n\n"
                    "\"Are we where we need to be? Probably not,\" Ms. Moore said. \"Will we get there? Yes.\"")
    q = find(quotes, "you listen")
    assert q.speaker is not None and q.speaker.text == "Tim Hess, a developer"
    q = find(quotes, "Will we get there")
    assert q.speaker is not None and q.speaker.text == "Ms. Moore"


def test_en_coordinated_cue_inside_a_clause_and_source_trim():
    quotes = en_run("Even China, the North's only ally, said it was opposed to the test and warned "
                    "Pyongyang to refrain from further launches.")
    q = find(quotes, "it was opposed to the test")
    assert "warned" not in q.text and q.speaker.text == "China, the North's only ally"
    q = find(quotes, "to refrain from further launches")
    assert q.cue.text == "warned" and q.speaker.text == "China, the North's only ally"


def test_en_transcript_labels_and_colon_phrases():
    text = ("Partial transcript as follows:\n\n"
            "\"HOST: Let's start with the debate. Will the senator be there?\n\n"
            "\"DOE: She will not be attending the debate tomorrow night.\n\n"
            "For one: the budget office has not published its numbers yet.")
    quotes = en_run(text)
    q = find(quotes, "Let's start with the debate")
    assert q.speaker.text == "HOST" and q.cue.text == ":" and q.text.startswith("Let's")
    q = find(quotes, "She will not be attending")
    assert q.speaker.text == "DOE"
    assert all(q.speaker is None or q.speaker.text != "For one" for q in quotes)


def test_en_stance_preposition_relative_and_adverbial_reports():
    quotes = en_run("Senator Graham has been critical of the governor since the primary. "
                    "The mayor made the remark Monday as he discussed his plan for the harbor. "
                    "The council will face a number of cities that support the regulations. "
                    "The agency should stay out of the dispute unless it wants to lose its funding. "
                    "They called the hearing because they felt the agency was hiding the report. "
                    "She felt tired after the trip.")
    q = find(quotes, "the governor")
    assert q.cue.text == "has been critical of" and q.speaker.text == "Senator Graham"
    q = find(quotes, "his plan for the harbor")
    assert q.cue.text == "discussed" and "remark" not in q.text
    q = find(quotes, "the regulations")
    assert q.cue.text == "support" and q.speaker.text == "that"
    q = find(quotes, "to lose its funding")
    assert q.speaker.text == "it"
    q = find(quotes, "the agency was hiding the report")
    assert q.cue.text == "felt"
    none_with(quotes, "tired")


def test_en_reporting_nouns_and_bylines():
    quotes = en_run("The ministry rejected the plan. Mr. Obama's decision to act alone angered Congress. "
                    "A statement from the ministry that the talks had failed surprised nobody. "
                    "His statements to the FBI were brief.\n\n"
                    "“He represents our greatest shame. He should apologise.” ― Sonya Herridge\n\n"
                    "“He is ignorant of our culture.”― Pamela Padilla.")
    q = find(quotes, "to act alone")
    assert q.cue.text == "decision" and q.speaker.text == "Mr. Obama's"
    q = find(quotes, "the talks had failed")
    assert q.speaker.text == "the ministry"
    none_with(quotes, "the FBI")  # the addressee of the statements
    q = find(quotes, "our greatest shame")
    assert q.speaker.text == "Sonya Herridge" and q.cue.text == "―"
    q = find(quotes, "ignorant of our culture")
    assert q.speaker.text == "Pamela Padilla"


def test_en_mixed_quotation_marks_and_closing_mark_kept():
    quotes = en_run("Republicans said the findings raised questions.\n\n"
                    "“Immunity deals should not be a requirement,\" Chairman Jason Chaffetz said in a statement, "
                    "adding that the agreements were handed out \"like candy.\"")
    q = find(quotes, "Immunity deals should not be a requirement")
    assert q.text == "Immunity deals should not be a requirement," and q.speaker.text == "Chairman Jason Chaffetz"
    q = find(quotes, "the agreements were handed out")
    assert q.cue.text == "adding" and q.text.count('"') == 2  # the quoted fragment keeps both marks


def test_en_manner_of_speaking_judgement_and_call_senses():
    quotes = en_run("The U.N. called an emergency meeting. One of the doctors called the host a quack. "
                    "Protesters chanted that the mayor must resign. The senator scolded the banker for his greed.")
    none_with(quotes, "an emergency meeting")
    q = find(quotes, "the host a quack")
    assert q.cue.text == "called"
    q = find(quotes, "the mayor must resign")
    assert q.speaker.text == "Protesters"
    q = find(quotes, "the banker")
    assert q.cue.text == "scolded" and q.speaker.text == "The senator"


def test_en_closing_mark_after_a_space_and_unresolved_pronoun_frame():
    quotes = en_run("He spoke first.\n\n\"I've always been insulted with the term 'outreach,' \" he told the group.")
    q = find(quotes, "always been insulted")
    assert q.kind == "direct" and q.cue.text == "told"
    assert q.speaker.text == "he" and q.speaker.name is None  # no named antecedent: never a guess


def test_en_in_a_poll_is_according_to():
    quotes = en_run("In the latest Quinnipiac poll, the governor led his rival by five points. "
                    "The error was found in a report.")
    q = find(quotes, "the governor led his rival by five points")
    assert q.kind == "according_to" and q.speaker.text == "the latest Quinnipiac poll" and q.cue.text == "In"
    none_with(quotes, "The error")  # "a report" without article, owner or name: a place, not a source


def test_en_issued_document_speaks_for_its_issuer():
    quotes = en_run("The Security Council issued a statement calling for calm. "
                    "The senator released a letter from his doctor on Friday that says he is in excellent health. "
                    "Voters backing the mayor said the race was close.")
    q = find(quotes, "calm")
    assert q.speaker.text == "The Security Council" and q.cue.text.startswith("calling")
    q = find(quotes, "he is in excellent health")
    assert q.speaker.text == "The senator"


def test_en_time_modifier_negated_weak_cue_and_respond_to():
    quotes = en_run("The campaign is defending his early-morning tweets about the pageant. "
                    "The senator did not want to remain in the hospital. "
                    "The ministry did not immediately respond to requests for comment.")
    q = find(quotes, "his early-morning tweets about the pageant")
    assert q.cue.text == "is defending" and q.speaker.text == "The campaign"
    q = find(quotes, "to remain in the hospital")
    assert q.cue.text == "did not want"
    q = find(quotes, "requests for comment")
    assert q.speaker.text == "The ministry" and q.cue.text.startswith("did not immediately respond")


def test_en_nationality_owner_of_a_reporting_noun():
    quotes = en_run("Russian claims that the convoy carried only aid drew ridicule. "
                    "His concern with the trade deal is genuine.")
    q = find(quotes, "the convoy carried only aid")
    assert q.speaker.text == "Russian" and q.cue.text == "claims"
    q = find(quotes, "the trade deal")
    assert q.cue.text.startswith("concern")


def test_en_impersonal_evaluation_has_no_source():
    quotes = en_run("Nor is it clear that further sanctions would deter the regime. "
                    "It is not clear what the talks achieved. The sky was clear.")
    q = find(quotes, "further sanctions would deter the regime")
    assert q.speaker is None and "clear" in q.cue.text
    none_with(quotes, "the talks achieved")  # a question, not a claim
