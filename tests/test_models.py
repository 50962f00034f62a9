"""The shipped Dutch pipelines' own parts: e5 static vectors, e5 contextual
features, the paragraph-break sentence rule."""

from __future__ import annotations

import numpy as np
import pytest
import spacy

import kroniek.models  # noqa: F401  (registers the parts)
from kroniek.models.e5context import chunks, doc_key, token_features
from kroniek.nlp.encoder import get_encoder
from kroniek.nlp.tokens import load_spacy, sentences_of


@pytest.fixture(scope="module")
def encoder():
    return get_encoder(9)


def test_chunks_respect_the_piece_limit_and_end_at_sentences():
    words = ["Het", "Kremlin", "zweeg", "."] * 30
    pieces = [[1, 2]] * len(words)  # two pieces per word
    spans = chunks(pieces, words, max_pieces=40, soft=8)
    assert spans[0][0] == 0 and spans[-1][1] == len(words)
    assert all(a < b for a, b in spans)
    assert all(s[1] == t[0] for s, t in zip(spans, spans[1:]))  # contiguous, no gaps
    assert all(sum(len(pieces[i]) for i in range(a, b)) <= 40 for a, b in spans)
    assert all(words[b - 1] == "." for a, b in spans)  # every chunk ends a sentence here


def test_token_features_are_per_token_and_deterministic(encoder):
    words = ["Poetin", "sprak", "in", "Moskou", "\n\n", "met", "Zelensky", "."]
    (f,) = token_features(encoder, [words], layers=(6, 9))
    assert f.shape == (len(words), 768)
    assert not f[4].any()  # a whitespace token has no pieces
    assert all(f[i].any() for i in range(len(words)) if i != 4)
    (g,) = token_features(encoder, [words], layers=(6, 9))
    np.testing.assert_allclose(f, g, atol=1e-5)
    # context matters: the same word in another sentence gets another vector
    (h,) = token_features(encoder, [["Moskou", "ligt", "in", "Rusland", "."]], layers=(6, 9))
    assert not np.allclose(f[3], h[0], atol=1e-3)
    assert doc_key(words) == doc_key(list(words)) != doc_key(words[:-1])


def test_static_vectors_cover_every_word():
    nlp = load_spacy("nl_fast")
    vectors = nlp.vocab.vectors
    known = nlp.vocab.strings.add("Kremlin")
    unseen = nlp.vocab.strings.add("Zwybrqtsjenko")
    batch = vectors.get_batch(np.array([known, unseen, known], dtype=np.uint64))
    np.testing.assert_array_equal(batch[0], vectors.data[vectors.key2row[known]].astype(np.float32))
    np.testing.assert_array_equal(batch[0], batch[2])
    assert np.linalg.norm(batch[1]) > 0  # an unseen word still gets a vector


def test_quotes_and_brackets_around_sentence_ends():
    nlp = spacy.blank("nl")
    nlp.add_pipe("kroniek_paragraph_breaks")
    doc = nlp('"Wij gaan." Daarna kwam hij. "Nee!" riep zij. (Zie boven.) Dan zei hij: "Ja." en ging.')
    assert [doc.text[s.start:s.end] for s in sentences_of(doc)] == [
        '"Wij gaan."', "Daarna kwam hij.", '"Nee!" riep zij.', "(Zie boven.)", 'Dan zei hij: "Ja." en ging.']
    doc = nlp("“Dat versterkt het gevoel van onenigheid.”\n\nBombarderen")
    assert [t.is_sent_start for t in doc if t.text == "”"] == [False]
    # nothing for the rules to decide: still one sentence, not an error
    doc = nlp("Ja. ja")
    assert [doc.text[s.start:s.end] for s in sentences_of(doc)] == ["Ja. ja"]


def test_line_breaks_and_full_stops_start_sentences():
    nlp = spacy.blank("nl")
    nlp.add_pipe("kroniek_paragraph_breaks")
    nlp.add_pipe("sentencizer")
    doc = nlp("Oorlog in Oekraïne\n\nHet Kremlin zweeg. Bezpalko sprak o.a. over de FSB.\nDaarna niets")
    assert [doc.text[s.start:s.end] for s in sentences_of(doc)] == [
        "Oorlog in Oekraïne", "Het Kremlin zweeg.", "Bezpalko sprak o.a. over de FSB.", "Daarna niets"]


@pytest.mark.parametrize("spec", ["nl_fast", "nl_accurate"])
def test_no_sentence_starts_inside_a_line_without_punctuation(spec):
    from importlib.resources import files

    if not files("kroniek.models").joinpath(spec).is_dir():
        pytest.skip(f"{spec} is not built (python training/train_nl.py)")
    nlp = load_spacy(spec)
    # the statistical splitters alone broke these before the capitalised surnames
    text = ("Nadat de onderhandelingen tussen Wouter Bos en Jan Peter Balkenende mislukt waren, "
            "trad D66 toe. Gerardus Mercator\nPeter Paul Rubens")
    doc = nlp(text)
    assert [doc.text[s.start:s.end] for s in sentences_of(doc)] == [
        "Nadat de onderhandelingen tussen Wouter Bos en Jan Peter Balkenende mislukt waren, trad D66 toe.",
        "Gerardus Mercator", "Peter Paul Rubens"]


@pytest.mark.parametrize("spec", ["nl_fast", "nl_accurate"])
def test_shipped_dutch_pipelines_split_paragraphs(spec):
    from importlib.resources import files

    if not files("kroniek.models").joinpath(spec).is_dir():
        pytest.skip(f"{spec} is not built (python training/train_nl.py)")
    nlp = load_spacy(spec)
    assert nlp.pipe_names[0] == "kroniek_paragraph_breaks"
    doc = nlp("Kop zonder punt\n\nPoetin sprak gisteren in Moskou.")
    assert [doc.text[s.start:s.end] for s in sentences_of(doc)] == ["Kop zonder punt", "Poetin sprak gisteren in Moskou."]
    if spec == "nl_accurate":
        context = nlp.get_pipe("e5_context")
        assert doc._.e5 is not None and doc._.e5.shape == (len(doc), 384 * len(context.layers))
