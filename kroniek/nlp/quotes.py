"""Quotes and attribution: who said what, with the speaker resolved.

The engine is language-independent; what a language says (reporting verbs,
pronouns, speaker descriptions, hearsay markers, quotation-mark pairs) lives
in ``lexicon/<lang>/quotes.toml``. German is a new table, not new code.

What it finds
-------------
* ``direct``: text between quotation marks of every style the table lists
  (“…”, „…”, "…", ‘…’, '…', «…»). A quote left open at a paragraph end ends
  there; the next paragraph's quote continues it (same speaker). A quote
  interrupted by its attribution (“A”, zei hij, “B”) gives two quotes with
  one speaker. A colon introduction (``Rutte: 'Wij ...'``, ``Hij zei: "..."``)
  and a frame after the quote (``"...", aldus het ISW`` / ``"...," he said``)
  are both read. A short quoted fragment without an attribution in its
  sentence is a scare quote or a title and is skipped; one inside a
  reporting frame (``noemde het „nucleaire chantage”``) is a quote.
* ``indirect``: a reporting verb with a clause (``X zei dat ...``,
  ``X told reporters that ...``); the content is the clause without the
  complementiser and the final punctuation. Preposed content
  (``..., zegt X.`` / ``..., he said.``) is the part before the cue.
  ``Dat meldt X.`` takes the preceding sentence.
* ``according_to``: ``volgens X ...``, ``..., aldus X``, ``according to X``.
  An interrupting ``volgens X`` gives the whole clause.
* Unattributed hearsay (``Het Kremlin zou ... hebben``) when the table asks
  for it: speaker null, cue the marker, ``hearsay`` true.

With a dependency parse and a ``[parse]`` table (English), reports are read
from the parse instead of the word tables: a cue verb (by lemma: speech,
evaluation, stance, belief, intention), its subject as the source (the whole
phrase with titles and appositions, "Jeff Weaver, Sanders' campaign
manager"; "who" hangs on the phrase before it; a verb without a subject
takes that of the verb it is coordinated with or depends on: "..., saying
that"), and as content its clausal complement, else its complements after
it ("endorsed Clinton", "criticized X for Y", "talked about Y", "refused to
answer"). Also read from the parse: a parenthetical frame ("The economy, he
said, is strong" gives two fragments with one cue), "As X reported, ...",
"according to X" with X the whole object of "to", reporting nouns with an
owner ("his criticism of Y"), and the frame of a direct quote whatever its
verb ("“Get out!” the man shouted"). A quoted fragment inside a reported
clause ("said he is “certain” ...") is part of that report, not a quote of
its own; reports inside quotation marks are not read (the quote records
them). A table may also ask for colon reports without quotation marks
("Lynch: No outside influence on FBI probe"). Also from the parse, without
a cue lemma: appearance without a source ("X seems to ...", "It appears
that ...", "X is expected to ...": speaker null, the subject and the
infinitive are the content), stance adjectives after a linking verb ("X is
confident that ..."), and a sibling report inside a report's content
("..., arguing that ...", "said it was opposed and warned X to ...") is cut
out of it and takes its source. Tables of the [parse] section also ask for:
negated cues ("did not say when ..."); passive cues, their subject the
content and the agent (if any) the source ("was first reported by the
Post", "was accused of fraud"; not where the subject is the addressee:
"was told to leave"); "it" as a referring subject ("It says the campaign
...") and a pronoun without a named antecedent kept as the speaker with a
null name; relative-pronoun subjects ("cities that support ..."); stance
adjectives with a prepositional object ("has been critical of X") and
impersonal evaluations ("it is clear that ...", no source); "As X put it";
"In the latest X poll, ..." as according-to; reporting nouns owned through
"by"/"from" or a nationality ("Russian claims that ..."); and a document
issued by someone speaking for its issuer ("issued a statement calling for
..."). A dash and a name ending the line attribute the quote before them
("“...” ― Sonya Herridge"); a capitals label opens a quoted transcript
line ("“WALLACE: ...").

A learned cue model (``[parse] model``, a table of feature weights; none
ships, see CueModel) scores every candidate report
of the parse rules (lemma, dependents, subject kind, complement, where the
verb hangs): it admits verbs outside the lemma lists and negated cues above
one threshold and drops listed ones below another; a listed cue inside
another report is always kept (nested attribution).

Every quote whose clause or frame carries a hearsay marker (``zou``,
``naar verluidt``, ``reportedly``) has ``hearsay`` true. Nested attribution
(``ISW says that the Kremlin claims ...``) gives both quotes; with a parse,
a nested report by a pronoun ("Trump said he thinks that ...") restates the
outer one and is not repeated.

Speakers
--------
The speaker is a span of the text (a mention, pronoun or description; with
``speaker_extent = "phrase"`` the whole source phrase, as PARC and PolNeAR
mark it) plus the best canonical ``name``: a surname gets the fullest name
in the text that ends with it, an acronym its expansion ("Institute for the Study of War
(ISW)"). A pronoun (and a bare definite description of a person: "de
premier", "the spokesman") gets the most salient compatible named
person/organisation in its sentence and the four before it: recent quote
speakers, mentions in the window, the first name of a sentence and above all
the topic of the previous sentence weigh in; names inside quotation marks,
genitives and places never count. A description is first matched to the name
it was introduced with ("minister Kuleba", "de Oekraïense president Volodymyr
Zelensky"); an unmatched one names itself ("43-jarige moeder"). A relative
pronoun ("Smith, who said") takes the name before it. Nothing found: speaker
null, never guessed. Direct quotes are resolved again once the indirect ones
are known.

What it reads
-------------
What the earlier stages left: the parse (subject and clausal complement of
the cue verb) and POS when the spaCy pipeline has them, the ``mentions``
layer (or the Doc's entities) for names and their types, the ``places``
layer and ``lexicon/<lang>/mentions-gazetteer.tsv`` to type names when there
is no NER. Without a model it falls back to tokens, punctuation and the
tables: capitalised word sequences as names (typed by how the text uses
them: after a locative preposition LOC, after a person description PER),
the table's verbs and stop words as phrase boundaries, and V2 order for the
subject. Sentences are always cut by punctuation and paragraph breaks, so
the rules behave the same with and without a parser.

Speed: passes over the tokens with set lookups, no per-token regex; about
10^5 tokens per CPU second on top of the parse (bench/quotes.py).
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import Optional

from ..document import Article, Quote, Span, Speaker
from .pipeline import register_stage

# --- the table ----------------------------------------------------------------


@dataclass
class Lexicon:
    lang: str
    cues: dict[str, list[tuple[tuple[str, ...], str, bool]]]  # first word -> [(rest, lemma, weak)]
    comps: frozenset[str]
    max_gap: int
    dets: frozenset[str]
    np_links: frozenset[str]
    np_stop: frozenset[str]
    adverbials: frozenset[str]
    function_words: frozenset[str]
    locative: frozenset[str]
    conditional: frozenset[str]
    according: list[tuple[str, ...]]
    postposed: frozenset[str]
    pronouns: dict[str, frozenset[str]]
    singular: frozenset[str]
    descriptions: dict[str, str]
    hearsay_words: frozenset[str]
    hearsay_phrases: list[tuple[str, ...]]
    marks: dict[str, tuple[str, ...]]
    emit_hearsay: bool
    min_free_words: int
    speaker_extent: str
    honorifics: frozenset[str]
    coordinators: frozenset[str] = frozenset()
    verbs: frozenset[str] = frozenset()
    definite: frozenset[str] = frozenset()
    modal_after_hearsay: frozenset[str] = frozenset()
    negations: frozenset[str] = frozenset()
    non_agents: frozenset[str] = frozenset()
    relatives: frozenset[str] = frozenset()
    generic_ccomp: bool = False
    infinitive_marker: str = ""
    use_pos: bool = True
    use_parse: bool = True
    infinitive_cues: frozenset[str] = frozenset()
    not_cues: frozenset[str] = frozenset()
    expletives: frozenset[str] = frozenset()
    misc_suffixes: tuple[str, ...] = ()
    not_name_suffixes: tuple[str, ...] = ()
    all_marks: str = ""
    closers: frozenset[str] = frozenset()
    parse: Optional["ParseTable"] = None
    colon_reports: bool = False
    colon_not: frozenset[str] = frozenset()


@dataclass
class ParseTable:
    """What the parser's labels mean ([parse] in the table): with it, reports
    are read from the dependency parse (cue verb -> subject -> complement)."""

    lemmas: dict[str, bool]  # cue lemma -> weak (needs a person/organisation subject)
    subject: frozenset[str]
    passive_subject: frozenset[str]
    agent: frozenset[str]
    clause: frozenset[str]
    complement: frozenset[str]
    preposition: frozenset[str]
    particle: frozenset[str]
    inherit: frozenset[str]
    parataxis: frozenset[str]
    relative: frozenset[str]
    negation: frozenset[str]
    cue_parts: frozenset[str]
    marker: frozenset[str]
    time_entities: frozenset[str]
    participle_tags: frozenset[str]
    speakerless: frozenset[str]
    cue_prefix: frozenset[str] = frozenset()
    subject_cut: frozenset[str] = frozenset()
    clause_only: frozenset[str] = frozenset()
    as_clause: frozenset[str] = frozenset()
    content_preps: frozenset[str] = frozenset()
    finite: frozenset[str] = frozenset()
    coordination: frozenset[str] = frozenset()
    direct_object: frozenset[str] = frozenset()
    nouns: frozenset[str] = frozenset()
    owner: frozenset[str] = frozenset()
    noun_clause: frozenset[str] = frozenset()
    noun_preps: frozenset[str] = frozenset()
    modifier: frozenset[str] = frozenset()
    active_participle: frozenset[str] = frozenset()
    as_words: frozenset[str] = frozenset()
    raising: frozenset[str] = frozenset()
    stance: frozenset[str] = frozenset()
    linking: frozenset[str] = frozenset()
    raising_passive: frozenset[str] = frozenset()
    infinitive: frozenset[str] = frozenset()
    phrasal: dict[str, frozenset] = field(default_factory=dict)  # verb lemma -> prepositions / particles
    model: Optional["CueModel"] = None
    negated_cues: bool = False
    passive_content: bool = False  # a passive cue's subject is its content
    impersonal: frozenset = frozenset()  # "it is clear that ...": an evaluation without a source
    wh_tags: frozenset = frozenset()
    owner_adjective: frozenset = frozenset()  # "Russian claims": a nationality adjective owns the noun
    owner_entities: frozenset = frozenset()
    documents: frozenset = frozenset()  # "issued a statement saying ...": the issuer is the source
    issue_verbs: frozenset = frozenset()
    source_preps: frozenset = frozenset()  # "in" + a source noun: an according-to ("in a new poll, ...")
    source_nouns: frozenset = frozenset()
    plural_or_def: frozenset = frozenset()
    needs_predicate: frozenset = frozenset()  # no report with an object alone ("called a meeting")
    noun_agents: frozenset = frozenset()  # a reporting noun's preposition naming its owner ("a statement from X")
    addressee_preps: frozenset = frozenset()  # a reporting noun's preposition before a person: the addressee
    stance_preps: frozenset = frozenset()  # a stance adjective's prepositions with content ("critical of")
    source_trim: frozenset = frozenset()  # dependents of the source's head left out at its start
    phrasal_gap: frozenset = frozenset()  # what may stand between a verb and its phrasal preposition
    as_only: frozenset = frozenset()  # lemmas that report only in an "As X put it" frame
    form_lemmas: dict = field(default_factory=dict)  # cue forms of the tables -> lemma (the lemmatiser's slips)
    unmarked_clause: frozenset = frozenset()  # dependencies read as a clause when finite, with a subject, unmarked
    referential_it: bool = False  # "it" as the subject of an active cue refers ("It says the campaign ...")
    keep_unresolved: bool = False  # a pronoun speaker without antecedent keeps its span, name null
    passive_not: frozenset = frozenset()  # ... except for these lemmas (the subject is the addressee: "was told")  # "did not say whether ...", "declined to comment" are reports too


@dataclass
class CueModel:
    """A linear model over parse features of a candidate report (cue verb,
    subject, complement): P(the report is an attribution) = sigmoid(bias +
    sum of the weights of its features), named by a language's [parse]
    table. None ships: the one trained on PolNeAR train was withdrawn, since
    DATA.md allows that corpus for development and evaluation only. ``add``
    is the threshold for a verb outside the lemma lists (or a negated one),
    ``keep`` the one for a listed lemma."""

    weights: dict[str, float]
    bias: float
    add: float
    keep: float

    def score(self, feats: list[str]) -> float:
        w = self.weights
        return self.bias + sum(w.get(f, 0.0) for f in feats)


def load_cue_model(lang: str, name: str) -> Optional[CueModel]:
    res = files("kroniek.nlp.lexicon").joinpath(lang, name)
    return read_cue_model(res.read_text(encoding="utf-8")) if res.is_file() else None


def read_cue_model(table: str) -> CueModel:
    """A cue model table: ``#bias``, ``#add`` and ``#keep`` lines, then one
    ``feature<TAB>weight`` line per feature."""
    weights: dict[str, float] = {}
    head: dict[str, float] = {}
    for line in table.splitlines():
        if not line.strip() or line.startswith("#") and "\t" not in line:
            continue  # comments
        k, _, v = line.rpartition("\t")
        if k.startswith("#"):
            head[k[1:].strip()] = float(v)
        else:
            weights[k] = float(v)
    return CueModel(weights, head.get("bias", 0.0), head.get("add", 0.0), head.get("keep", -1e9))


# a training script sets this to a list: every candidate report of the parse
# rules is recorded there (features, spans) whatever the model says, the
# material a cue model is fitted on
TRACE: Optional[list] = None
LEARNED_PREPS = True


def _words(phrase: str) -> tuple[str, ...]:
    return tuple(phrase.lower().split())


@lru_cache(maxsize=None)
def load_lexicon(lang: str) -> Optional[Lexicon]:
    """The table for a language, or None when the language has none."""
    res = files("kroniek.nlp.lexicon").joinpath(lang, "quotes.toml")
    if not res.is_file():
        return None
    with res.open("rb") as fh:
        t = tomllib.load(fh)
    s = t.get("settings", {})
    cues: dict[str, list] = {}
    for weak, table in ((False, t.get("cues", {})), (True, t.get("cues_weak", {}))):
        for lemma, forms in table.items():
            for form in forms:
                w = _words(form)
                cues.setdefault(w[0], []).append((w[1:], lemma, weak))
    for k in cues:  # longer forms first
        cues[k].sort(key=lambda e: -len(e[0]))
    marks = {k: tuple(v) for k, v in t.get("quote_marks", {}).items()}
    closers = frozenset(c for v in marks.values() for c in v)
    lex = Lexicon(
        lang=lang,
        cues=cues,
        comps=frozenset(s.get("complementizers", [])),
        max_gap=int(s.get("max_gap", 8)),
        dets=frozenset(s.get("determiners", [])),
        np_links=frozenset(s.get("np_links", [])),
        np_stop=frozenset(s.get("np_stop", [])) | frozenset(s.get("verbs", [])),
        adverbials=frozenset(s.get("adverbials", [])),
        function_words=frozenset(s.get("function_words", [])),
        locative=frozenset(s.get("locative", [])),
        conditional=frozenset(s.get("conditional", [])),
        according=[_words(p) for p in t.get("according_to", {}).get("phrases", [])],
        postposed=frozenset(w.lower() for w in t.get("postposed", {}).get("words", [])),
        pronouns={k.lower(): frozenset(v) for k, v in t.get("pronouns", {}).items()},
        singular=frozenset(t.get("pronoun_number", {}).get("singular", [])),
        descriptions={k.lower(): v for k, v in t.get("descriptions", {}).items()},
        hearsay_words=frozenset(t.get("hearsay", {}).get("words", [])),
        hearsay_phrases=[_words(p) for p in t.get("hearsay", {}).get("phrases", [])],
        marks=marks,
        emit_hearsay=bool(s.get("emit_unattributed_hearsay", False)),
        min_free_words=int(s.get("min_free_quote_words", 4)),
        speaker_extent=s.get("speaker_extent", "mention"),
        honorifics=frozenset(s.get("honorifics", [])),
    )
    lex.coordinators = frozenset(s.get("coordinators", []))
    lex.verbs = frozenset(s.get("verbs", []))
    lex.definite = frozenset(s.get("definite", []))
    lex.modal_after_hearsay = frozenset(t.get("hearsay", {}).get("not_before", []))
    lex.negations = frozenset(s.get("negations", []))
    lex.relatives = frozenset(s.get("relatives", []))
    lex.generic_ccomp = bool(s.get("generic_ccomp", False))
    lex.infinitive_marker = s.get("infinitive_marker", "")
    lex.use_pos = bool(s.get("use_pos", True))
    lex.use_parse = bool(s.get("use_parse", True))
    lex.infinitive_cues = frozenset(s.get("infinitive_cues", []))
    lex.not_cues = frozenset(s.get("not_cues", []))
    lex.non_agents = frozenset(t.get("according_to", {}).get("non_agents", []))
    lex.expletives = frozenset(s.get("expletives", []))
    lex.misc_suffixes = tuple(s.get("misc_suffixes", []))
    lex.not_name_suffixes = tuple(s.get("not_name_suffixes", []))
    lex.all_marks = "".join(sorted(set(marks) | closers))
    lex.closers = closers
    lex.colon_reports = bool(s.get("colon_reports", False))
    lex.dashes = frozenset(s.get("attribution_dashes", []))
    lex.colon_not = frozenset(s.get("colon_not", []))
    pt = t.get("parse", {})
    if pt.get("frames", False):
        lemmas: dict[str, bool] = {}
        phrasal: dict[str, set] = {}
        for weak, table in ((False, t.get("cues", {})), (True, t.get("cues_weak", {}))):
            for lemma in table:
                if "_" in lemma:
                    verb, _, part = lemma.partition("_")
                    phrasal.setdefault(verb, set()).add(part)
                else:
                    lemmas.setdefault(lemma, weak)
        for lemma in pt.get("lemmas", []):
            lemmas.setdefault(lemma, False)
        for lemma in pt.get("weak_lemmas", []):
            lemmas.setdefault(lemma, True)
        for lemma in pt.get("not_lemmas", []):
            lemmas.pop(lemma, None)
        for phrase in pt.get("phrasal", []):
            verb, _, part = phrase.partition(" ")
            phrasal.setdefault(verb, set()).add(part)
        f = lambda k: frozenset(pt.get(k, []))  # noqa: E731
        lex.parse = ParseTable(
            lemmas=lemmas, subject=f("subject"), passive_subject=f("passive_subject"), agent=f("agent"),
            clause=f("clause"), complement=f("complement"), preposition=f("preposition"),
            particle=f("particle"), inherit=f("inherit_subject"), parataxis=f("parataxis"),
            relative=f("relative_clause"), negation=f("negation"), cue_parts=f("cue_parts"),
            marker=f("marker"), time_entities=f("time_entities"), participle_tags=f("participle_tags"),
            speakerless=f("speakerless"), cue_prefix=f("cue_prefix"),
            subject_cut=f("subject_cut"), clause_only=f("clause_only"), as_clause=f("as_clause"),
            as_words=f("as_words"), content_preps=f("content_preps"), finite=f("finite"),
            coordination=f("coordination"), direct_object=f("direct_object"), nouns=f("nouns"), owner=f("owner"),
            noun_clause=f("noun_clause"), noun_preps=f("noun_preps"), modifier=f("modifier"),
            active_participle=f("active_participle"), raising=f("raising"), stance=f("stance"), linking=f("linking"),
            raising_passive=f("raising_passive"), infinitive=f("infinitive"),
            phrasal={k: frozenset(v) for k, v in phrasal.items()},
        )
        lex.parse.negated_cues = bool(pt.get("negated_cues", False))
        lex.parse.passive_content = bool(pt.get("passive_content", False))
        lex.parse.impersonal = frozenset(pt.get("impersonal", []))
        lex.parse.wh_tags = frozenset(pt.get("wh_tags", []))
        lex.parse.owner_adjective = frozenset(pt.get("owner_adjective", []))
        lex.parse.owner_entities = frozenset(pt.get("owner_entities", []))
        lex.parse.documents = frozenset(pt.get("documents", []))
        lex.parse.issue_verbs = frozenset(pt.get("issue_verbs", []))
        lex.parse.source_preps = frozenset(pt.get("source_preps", []))
        lex.parse.source_nouns = frozenset(pt.get("source_nouns", []))
        lex.parse.plural_or_def = frozenset(pt.get("plural_tags", []))
        lex.parse.needs_predicate = frozenset(pt.get("needs_predicate", []))
        lex.parse.noun_agents = frozenset(pt.get("noun_agents", []))
        lex.parse.addressee_preps = frozenset(pt.get("addressee_preps", []))
        lex.parse.stance_preps = frozenset(pt.get("stance_preps", []))
        lex.parse.source_trim = frozenset(pt.get("source_trim", []))
        lex.parse.phrasal_gap = frozenset(pt.get("phrasal_gap", [])) | lex.parse.particle
        lex.parse.as_only = frozenset(pt.get("as_only", []))
        for weak, table in ((False, t.get("cues", {})), (True, t.get("cues_weak", {}))):
            for lemma, forms in table.items():
                for form in forms:
                    if "_" not in lemma and " " not in form:
                        lex.parse.form_lemmas.setdefault(form.lower(), lemma)
        lex.parse.unmarked_clause = frozenset(pt.get("unmarked_clause", []))
        lex.parse.referential_it = bool(pt.get("referential_it", False))
        lex.parse.keep_unresolved = bool(pt.get("keep_unresolved", False))
        lex.parse.passive_not = frozenset(pt.get("passive_not", []))
        if pt.get("model"):
            lex.parse.model = load_cue_model(lang, pt["model"])
    return lex


# --- tokens, sentences, names -----------------------------------------------

_TOKEN_RE = re.compile(r"\w+(?:[-'’.]\w+)*\.?|[^\w\s]", re.UNICODE)
_ABBREV_DOT = re.compile(r"^(?:[A-Z]|Mr|Mrs|Ms|Dr|Sen|Gov|Rep|St|Jr|Sr|Gen|Lt|Col|Prof|dhr|mevr|drs|ir|mr|prof)\.$")


@dataclass(slots=True)
class Tok:
    i: int
    start: int
    end: int
    text: str
    low: str
    pos: str = ""
    dep: str = ""
    head: int = -1
    sent: int = 0
    cap: bool = False
    punct: bool = False
    lemma: str = ""
    ent: str = ""
    tag: str = ""


@dataclass(slots=True)
class Name:
    start: int  # chars
    end: int
    text: str
    type: Optional[str]
    t0: int  # tokens
    t1: int
    rule: bool = False  # found by the capitalisation rule, not by a model


@dataclass
class Ctx:
    text: str
    lex: Lexicon
    toks: list[Tok]
    starts: list[int]
    sents: list[tuple[int, int]]  # token ranges
    paras: list[int]  # char offsets of paragraph starts
    names: list[Name]
    name_at: dict[int, Name]  # token -> name covering it
    acronyms: dict[str, str]
    has_dep: bool
    has_pos: bool
    name_texts: frozenset = frozenset()
    quotes: list[Quote] = field(default_factory=list)


def _tokens_from_doc(doc) -> tuple[list[Tok], list[tuple[int, int]], bool, bool]:
    has_dep = doc.has_annotation("DEP")
    has_pos = doc.has_annotation("POS") or doc.has_annotation("TAG")
    has_lemma = doc.has_annotation("LEMMA")
    has_ent = doc.has_annotation("ENT_IOB")
    toks: list[Tok] = []
    remap: dict[int, int] = {}
    for t in doc:
        if t.is_space:
            continue
        remap[t.i] = len(toks)
        s = t.text
        toks.append(
            Tok(len(toks), t.idx, t.idx + len(s), s, s.lower(), t.pos_ if has_pos else "",
                t.dep_ if has_dep else "", t.head.i if has_dep else -1, 0, s[:1].isupper(),
                t.is_punct, t.lemma_.lower() if has_lemma else "", t.ent_type_ if has_ent else "",
                t.tag_ if has_pos else "")
        )
    if has_dep:
        for tk in toks:
            tk.head = remap.get(tk.head, tk.i)
    # sentences by punctuation, whatever the model's segmentation: the rules
    # below (topic of the previous sentence, windows) then behave the same
    # with and without a parser
    return toks, _rule_sents(toks), has_dep, has_pos


def _tokens_from_text(text: str) -> list[Tok]:
    toks = []
    for m in _TOKEN_RE.finditer(text):
        s = m.group()
        if s.endswith(".") and len(s) > 1 and not _ABBREV_DOT.match(s):
            toks.append(Tok(len(toks), m.start(), m.end() - 1, s[:-1], s[:-1].lower(), cap=s[:1].isupper()))
            toks.append(Tok(len(toks), m.end() - 1, m.end(), ".", ".", punct=True))
            continue
        toks.append(Tok(len(toks), m.start(), m.end(), s, s.lower(), cap=s[:1].isupper(),
                        punct=not (s[0].isalnum() or s[0] == "_")))
    return toks


def _rule_sents(toks: list[Tok]) -> list[tuple[int, int]]:
    """Sentences by punctuation: after . ! ? (and the closing marks and
    brackets attached to them), when a capital, digit or opening mark follows."""
    sents, a, n = [], 0, len(toks)
    k = 0
    while k < n:
        t = toks[k]
        if t.punct and t.text in (".", "!", "?", "…"):
            e = k + 1
            while e < n and toks[e].punct and toks[e].start == toks[e - 1].end and toks[e].text in _CLOSERS:
                e += 1
            nxt = toks[e] if e < n else None
            if nxt is None or nxt.cap or nxt.text[:1].isdigit() or nxt.text in _OPENERS:
                sents.append((a, e))
                a = e
            k = e
            continue
        k += 1
    if a < n:
        sents.append((a, n))
    return sents


_CLOSERS = frozenset(["”", "’", "'", "\"", "»", "›", ")", "]", "“"])
_OPENERS = frozenset(["“", "„", "\"", "‘", "'", "«", "‚", "(", "-", "—", "–"])


def _split_at_newlines(text: str, toks: list[Tok], sents: list[tuple[int, int]], marks: str) -> list[tuple[int, int]]:
    """A paragraph break always ends a sentence (headings, captions)."""
    out = []
    for a, b in sents:
        s = a
        for k in range(a + 1, b):
            if "\n" in text[toks[k - 1].end:toks[k].start]:
                out.append((s, k))
                s = k
        out.append((s, b))
    # an opening quotation mark belongs to the sentence it opens
    for n in range(len(out) - 1):
        a, b = out[n]
        last = toks[b - 1]
        if b - a > 1 and len(last.text) == 1 and last.text in marks and last.end < len(text) \
                and not text[last.end].isspace():
            out[n] = (a, b - 1)
            out[n + 1] = (b - 1, out[n + 1][1])
    return out


_NAME_LINKS = frozenset(["the", "of", "for", "de", "der", "den", "van", "von", "and", "&", "voor", "al", "bin", "ter"])
_ACRO = re.compile(r"\(\s*([A-Z][A-Za-z&]{1,9})\s*\)")
_TYPE_MAP = {"PERSON": "PER", "PER": "PER", "ORG": "ORG", "NORP": "MISC", "GPE": "LOC", "LOC": "LOC",
             "FAC": "ORG", "MISC": "MISC"}


def _build_names(text: str, toks: list[Tok], sents, mentions, doc, lex: Lexicon) -> list[Name]:
    starts = [t.start for t in toks]

    def tok_range(a: int, b: int) -> tuple[int, int]:
        t0 = max(0, bisect_right(starts, a) - 1)
        t1 = max(t0 + 1, bisect_right(starts, b - 1))
        return t0, t1

    names: list[Name] = []
    if mentions:
        for m in mentions:
            t0, t1 = tok_range(m.start, m.end)
            names.append(Name(m.start, m.end, m.text, m.type, t0, t1))
    elif doc is not None and doc.has_annotation("ENT_IOB"):
        for e in doc.ents:
            typ = _TYPE_MAP.get(e.label_)
            if typ is None:
                continue
            a, b = e.start_char, e.end_char
            # "the Pentagon": the article is not part of the name
            t0, t1 = tok_range(a, b)
            if toks[t0].low in lex.dets and t1 - t0 > 1:
                t0 += 1
                a = toks[t0].start
            names.append(Name(a, b, text[a:b], typ, t0, t1))
    # capitalised word sequences: all the names without NER, and the ones the
    # NER missed with it
    known = names
    names = []
    sent_first = {a for a, _ in sents}
    capset = {t.text for k, t in enumerate(toks) if t.cap and k not in sent_first}
    k, n = 0, len(toks)
    while k < n:
        t = toks[k]
        if not t.cap or t.punct or t.low in lex.pronouns or t.low in lex.function_words or t.low in lex.adverbials:
            k += 1
            continue
        if k in sent_first and t.text not in capset and not (k + 1 < n and toks[k + 1].cap and not toks[k + 1].punct):
            # a sentence-initial word is a name only when it is no known word
            # and a sentence (not a heading) follows: "Zelensky sprak ..."
            nxt = toks[k + 1] if k + 1 < n else None
            if (t.low in lex.adverbials or t.low in lex.np_stop or t.low in lex.descriptions
                    or lex.not_name_suffixes and t.low.endswith(lex.not_name_suffixes)
                    or nxt is None or nxt.punct or nxt.sent != t.sent or t.low in lex.cues):
                k += 1
                continue
        j = k + 1
        while j < n:
            u = toks[j]
            if u.cap and not u.punct and u.low not in lex.pronouns:
                j += 1
            elif u.low in _NAME_LINKS:
                # link words only inside a name: a capitalised word must follow
                m = j
                while m < n and toks[m].low in _NAME_LINKS and m - j < 2:
                    m += 1
                if m < n and toks[m].cap and not toks[m].punct and toks[m].low not in lex.pronouns:
                    j = m
                else:
                    break
            else:
                break
        while j > k + 1 and not toks[j - 1].cap:
            j -= 1
        typ = None
        k0 = k
        while k0 < j - 1 and toks[k0].low in lex.descriptions:  # "President Zelensky"
            k0 += 1
        if j == k0 + 1 and lex.misc_suffixes and toks[k0].low.endswith(lex.misc_suffixes):
            typ = "MISC"  # Russische, Oekraïense: name-derived adjectives
        names.append(Name(toks[k0].start, toks[j - 1].end, text[toks[k0].start:toks[j - 1].end], typ, k0, j, True))
        k = j
    _infer_types(names, toks, lex)
    if known:
        # a model's mention wins; its types also type the same words elsewhere
        typed = {nm.text: nm.type for nm in known}
        extra = []
        for nm in names:
            if any(m.start < nm.end and nm.start < m.end for m in known):
                continue
            if nm.text in typed:
                nm.type = typed[nm.text]
            extra.append(nm)
        names = sorted(known + extra, key=lambda x: x.start)
    return names


def _infer_types(names: list[Name], toks: list[Tok], lex: Lexicon) -> None:
    """Types for names found without NER, from how the document uses them:
    after a locative preposition -> LOC; after a person/organisation description
    ("minister Kuleba", "denktank ISW") -> that type; an acronym -> ORG; two or
    more capitalised words -> PER."""
    evidence: dict[str, str] = {}
    for nm in names:
        if nm.type is not None:
            continue
        prev = toks[nm.t0 - 1].low if nm.t0 > 0 else ""
        prev2 = toks[nm.t0 - 2].low if nm.t0 > 1 else ""
        if prev in lex.descriptions:
            evidence.setdefault(nm.text, lex.descriptions[prev])
        elif prev in lex.locative or prev2 in lex.locative and prev in lex.dets:
            evidence.setdefault(nm.text, "LOC")
    for nm in names:
        if nm.type is not None:
            continue
        last = nm.text.split()[-1]
        typ = evidence.get(nm.text) or evidence.get(last)
        if typ is None:
            if nm.text.isupper() and len(nm.text) >= 2:
                typ = "ORG"
            elif nm.t1 - nm.t0 >= 2 and all(t.cap for t in toks[nm.t0:nm.t1]):
                typ = "PER"
        nm.type = typ


def _acronyms(text: str, names: list[Name]) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _ACRO.finditer(text):
        acro = m.group(1)
        before = text[max(0, m.start() - 120):m.start()].rstrip()
        words = before.split()
        letters = [c for c in acro if c.isupper()]
        # the shortest-to-longest suffix of capitalised words whose initials spell it
        for k in range(len(words) - 1, max(-1, len(words) - 12), -1):
            cand = words[k:]
            initials = [w[0] for w in cand if w[:1].isupper()]
            if initials == letters and cand[0][:1].isupper():
                out[acro] = " ".join(cand)
                break
    return out


# --- the extractor ------------------------------------------------------------


@lru_cache(maxsize=None)
def _fixed_types(lang: str) -> dict[str, str]:
    """Names with a fixed type (the mentions stage's table), for typing names
    found without NER."""
    res = files("kroniek.nlp.lexicon").joinpath(lang, "mentions-gazetteer.tsv")
    out: dict[str, str] = {}
    if res.is_file():
        for line in res.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) >= 2 and not line.startswith("#") and parts[1].strip() in ("PER", "ORG", "LOC", "MISC"):
                out[parts[0].strip()] = parts[1].strip()
    return out


def extract(text: str, doc=None, mentions=None, lang: str = "nl", places=None) -> list[Quote]:
    """The quotes of one text. ``doc``: its spaCy Doc (tokens, and POS, parse,
    entities where the pipeline has them); ``mentions``: the mentions layer;
    ``places``: the places layer (types names as LOC when there is no NER)."""
    lex = load_lexicon(lang)
    if lex is None or not text.strip():
        return []
    if doc is not None:
        toks, sents, has_dep, has_pos = _tokens_from_doc(doc)
        has_pos = has_pos and lex.use_pos
        has_dep = has_dep and lex.use_parse
    else:
        toks = _tokens_from_text(text)
        sents = _rule_sents(toks)
        has_dep = has_pos = False
    if not toks:
        return []
    if has_dep and lex.parse is not None and lex.parse.form_lemmas:
        # "hopes" -> "hop": a verb form the cue tables list takes the table's lemma
        fl = lex.parse.form_lemmas
        for tk in toks:
            if tk.pos == "VERB" and tk.low in fl:
                tk.lemma = fl[tk.low]
    sents = _split_at_newlines(text, toks, sents, lex.all_marks)
    for si, (a, b) in enumerate(sents):
        for k in range(a, b):
            toks[k].sent = si
    paras = [0] + [m.end() for m in re.finditer(r"\n\s*", text)]
    names = _build_names(text, toks, sents, mentions, doc, lex)
    fixed = _fixed_types(lang)
    spans = [(p.start, p.end) for p in places or ()]
    for nm in names:
        if not nm.rule:
            continue
        if nm.text in fixed:
            nm.type = fixed[nm.text]
        elif nm.type in (None, "PER") and any(a <= nm.start and nm.end <= b for a, b in spans):
            nm.type = "LOC"
    name_at: dict[int, Name] = {}
    for nm in names:
        for k in range(nm.t0, nm.t1):
            name_at[k] = nm
    ctx = Ctx(text, lex, toks, [t.start for t in toks], sents, paras, names, name_at,
              _acronyms(text, names), has_dep, has_pos)
    ctx.name_texts = frozenset(nm.text for nm in names)
    _Extractor(ctx).run()
    return ctx.quotes


class _Extractor:
    def __init__(self, ctx: Ctx):
        self.c = ctx
        self.lex = ctx.lex
        self.toks = ctx.toks
        self.text = ctx.text
        self.out: list[tuple[Quote, tuple]] = []
        self.covered_direct: list[tuple[int, int, Optional[Speaker]]] = []
        self.frames: set[int] = set()  # cue tokens already used by a direct quote
        self.quoted: list[tuple[int, int]] = []  # every span between quotation marks
        self.used_cues: set[int] = set()
        self.siblings: dict[int, int] = {}  # a sibling report's verb -> the report whose content held it
        self.deferred: list[Quote] = []  # quoted fragments waiting for a report around them

    # -- helpers ----------------------------------------------------------------

    def tok_at(self, char: int) -> int:
        return max(0, bisect_right(self.c.starts, char) - 1)

    def para_of(self, char: int) -> int:
        return bisect_right(self.c.paras, char) - 1

    def span(self, a: int, b: int) -> Span:
        return Span(start=a, end=b, text=self.text[a:b])

    def cue_at(self, k: int, lim: int) -> Optional[tuple[int, int, str, bool]]:
        """A cue starting at token k: (first token, last token + 1, lemma, weak)."""
        t = self.toks[k]
        entries = self.lex.cues.get(t.low)
        if not entries:
            return None
        for rest, lemma, weak in entries:
            if not rest:
                return (k, k + 1, lemma, weak)
            # contiguous particles, or particles later in the clause (separable verbs)
            j, ok = k + 1, True
            for w in rest:
                while j < lim and self.toks[j].low != w and not self.toks[j].punct and j - k <= self.lex.max_gap:
                    j += 1
                if j < lim and self.toks[j].low == w:
                    j += 1
                else:
                    ok = False
                    break
            if ok:
                contiguous = j - k == len(rest) + 1
                return (k, j if contiguous else k + 1, lemma, weak)
        return None

    def sent_range(self, k: int) -> tuple[int, int]:
        return self.c.sents[self.toks[k].sent]

    def is_verbish(self, k: int) -> bool:
        t = self.toks[k]
        if self.c.has_pos:
            return t.pos in ("VERB", "AUX")
        return t.low in self.lex.verbs or t.low in self.lex.cues

    # -- speaker phrases -----------------------------------------------------

    def np_right(self, k: int, lim: int) -> tuple[int, int]:
        """The noun phrase that starts at token k: (k, end)."""
        toks, lex = self.toks, self.lex
        j = k
        seen_head = False
        while j < lim:
            t = toks[j]
            if t.punct:
                if t.text in ("-", "’", "'") and j + 1 < lim and not toks[j + 1].punct:
                    j += 1
                    continue
                if t.text == "(" and j + 1 < lim and toks[j + 1].cap:  # "(ISW)", "(R-IN)"
                    e = j + 1
                    while e < lim and toks[e].text != ")" and e - j < 6:
                        e += 1
                    if e < lim and toks[e].text == ")":
                        j = e + 1
                        continue
                break
            if j in self.c.name_at:
                nmj = self.c.name_at[j]
                j = max(j + 1, nmj.t1)
                seen_head = seen_head or nmj.type != "MISC"
                continue
            if t.low in lex.np_links and j > k and j + 1 < lim and not toks[j + 1].punct:
                j += 1
                continue
            if j > k and t.low in lex.dets and toks[j - 1].low in lex.np_links:
                j += 1
                continue
            if self.c.has_pos:
                if j > k and toks[j - 1].low in lex.descriptions and not t.cap and t.low not in lex.descriptions:
                    break  # "de premier langer": the head noun ends the phrase
                if t.low in lex.expletives and j == k and t.low not in lex.dets:
                    break
                if t.pos in ("DET", "ADJ", "NOUN", "PROPN", "NUM") or (t.pos == "PRON" and j == k):
                    seen_head = seen_head or t.pos in ("NOUN", "PROPN", "PRON")
                    j += 1
                    if t.pos == "PRON" and j == k + 1:
                        break
                    continue
                break
            if t.low in lex.comps or (t.low in lex.np_stop and not (j == k and t.low in lex.dets)):
                break
            if t.low in lex.cues and j > k:
                break
            if t.low in lex.pronouns and not (
                t.low in lex.dets and j + 1 < lim and not toks[j + 1].punct
                and (toks[j + 1].low not in lex.np_stop or j + 1 in self.c.name_at)
            ):
                if j == k:
                    j += 1
                break
            prev_nm = self.c.name_at.get(j - 1)
            if seen_head and not t.cap and prev_nm is not None and prev_nm.type != "MISC" and t.low not in lex.descriptions:
                break  # a lower-case word after a name ends the phrase
            if j > k and toks[j - 1].low in lex.descriptions and not t.cap and t.low not in lex.descriptions:
                break  # "de premier langer": the head noun ends the phrase
            j += 1
            if t.low in lex.descriptions or t.cap:
                seen_head = True
            if j - k >= 8:
                break
        return (k, j)

    def speaker_from(self, a: int, b: int, cue_tok: int) -> Optional[Speaker]:
        """The speaker inside the phrase toks[a:b]."""
        if a >= b:
            return None
        toks, lex = self.toks, self.lex
        # trim determiners / adverbs at the start and punctuation at the end
        while a < b and (toks[a].punct or toks[a].low in lex.adverbials and a not in self.c.name_at
                         and toks[a].low not in lex.pronouns and toks[a].low not in lex.descriptions):
            a += 1
        while b > a and toks[b - 1].punct and toks[b - 1].text != ")":
            b -= 1
        if a >= b:
            return None
        names_in = []
        seen = set()
        for k in range(a, b):
            nm = self.c.name_at.get(k)
            if nm is not None and id(nm) not in seen:
                seen.add(id(nm))
                names_in.append(nm)
        first = toks[a]
        if first.low in lex.expletives and first.low not in lex.dets:
            return None  # "er werd gezegd", "there"
        # a pronoun (not a determiner of a longer phrase: "het ISW")
        if first.low in lex.pronouns and (b - a == 1 or first.low not in lex.dets):
            if first.low in lex.expletives:
                return None
            sp = self.resolve_pronoun(a, cue_tok)
            if sp is None and b - a == 1 and lex.parse is not None and lex.parse.keep_unresolved:
                # no named antecedent: the pronoun is the speaker, its name unknown
                sp = Speaker(start=first.start, end=first.end, text=first.text, name=None)
            return sp
        # the phrase's head: first non-determiner word
        h = a
        while h < b and (toks[h].low in lex.dets or toks[h].low in ("’s", "'s")):
            h += 1
        if h >= b:
            return None
        desc_k = None
        link_k = b
        for k in range(h, b):
            if toks[k].low in lex.np_links and k > h:
                link_k = k
                break
            if toks[k].low in lex.descriptions and k not in self.c.name_at and desc_k is None:
                desc_k = k
        # the names of the phrase's head part (not inside "van ..."), MISC adjectives aside
        heads = [nm for nm in names_in if nm.type != "MISC" and nm.t0 < link_k]
        per = [nm for nm in heads if nm.type == "PER"]
        phrase_mode = lex.speaker_extent == "phrase"
        nm = per[0] if per else (heads[0] if heads else None)
        if nm is not None and desc_k is not None and nm.t1 <= desc_k:
            nm = None  # "Clinton's campaign", "Poetins woordvoerder": the name modifies the description
        if nm is None and desc_k is not None:
            # an apposition at the end: "minister van Infrastructuur Aleksandr Koebrakov"
            tail = [x for x in names_in if x.type in ("PER", None) and x.t1 == b and x.t0 > desc_k
                    and (x.type == "PER" or x.t1 - x.t0 >= 2)]
            if tail:
                nm = tail[-1]
        if nm is None and desc_k is None and not heads and names_in:
            rest = [x for x in names_in if x.type != "MISC"]
            if rest and not any(toks[k].low in lex.np_links for k in range(h, rest[0].t0)):
                nm = rest[0]
        if phrase_mode:
            s, e = toks[a].start, toks[b - 1].end
            comma = next((k for k in range(h + 1, b - 1) if toks[k].text == ","), None)
            if comma is not None:
                # an apposition: the name is in the head part ("Jeff Weaver, Sanders' campaign
                # manager"), else in the apposition ("A top strategist, John Weaver")
                head_names = [x for x in names_in if x.t0 < comma and x.type != "MISC"]
                app_names = [x for x in names_in if x.t0 > comma and x.type == "PER"]
                part = (a, comma) if head_names or not app_names else (comma + 1, b)
                sub = self.speaker_from(part[0], part[1], cue_tok)
                if sub is None:
                    return None
                return Speaker(start=s, end=e, text=self.text[s:e], name=sub.name)
            name = self.canonical(nm) if nm else self.describe(h, b)
            if nm is None and desc_k is not None:
                name = self.title_antecedent(desc_k, a) or name
            if nm is None and desc_k is None and not names_in and not (lex.parse is not None and self.c.has_dep):
                if not any(t.cap or t.low in lex.descriptions for t in toks[h:b]) and b - h > 4:
                    return None  # without a parse a long phrase is no speaker
            return Speaker(start=s, end=e, text=self.text[s:e], name=name)
        if nm is not None:
            s, e = nm.start, nm.end
            # honorifics ("Mr. Obama") are part of the mention in some conventions
            if nm.t0 > 0 and toks[nm.t0 - 1].low in lex.honorifics:
                s = toks[nm.t0 - 1].start
            return Speaker(start=s, end=e, text=self.text[s:e], name=self.canonical(nm))
        if desc_k is not None or b - h <= 5:
            # a description: "minister van Defensie", "43-jarige moeder"
            e = b
            # cut a trailing apposition or relative clause
            for k in range(h, b):
                if toks[k].text == ",":
                    e = k
                    break
            if e - h > 6:
                e = h + 6
            s_, e_ = toks[h].start, toks[e - 1].end
            name = None
            if desc_k is not None:
                mods = tuple(t.low for t in toks[h:desc_k])
                name = self.title_antecedent(desc_k, a, mods)
                # a definite bare description ("de bewindsman", "the spokesman") refers back
                if name is None and desc_k == h and e == h + 1 and a < h and toks[a].low in lex.definite \
                        and lex.descriptions[toks[h].low] == "PER":
                    name = self.antecedent(h, frozenset([lex.descriptions[toks[h].low]]), True)
            return Speaker(start=s_, end=e_, text=self.text[s_:e_], name=name or self.text[s_:e_])
        return None

    def describe(self, h: int, b: int) -> str:
        s, e = self.toks[h].start, self.toks[b - 1].end
        return self.text[s:e]

    def canonical(self, nm: Name) -> str:
        cache = self.__dict__.setdefault("_canon", {})
        key = id(nm)
        if key not in cache:
            cache[key] = self._canonical(nm)
        return cache[key]

    def _canonical(self, nm: Name) -> str:
        t = nm.text.strip()
        if t in self.c.acronyms:
            return self.c.acronyms[t]
        for full, short in ((v, k) for k, v in self.c.acronyms.items()):
            if t == full:
                return full
        words = t.split()
        best = t
        if nm.type not in ("LOC", "MISC"):
            for other in self.c.names:
                if other.type is not None and nm.type is not None and other.type != nm.type:
                    continue
                ow = other.text.split()
                if len(ow) > len(best.split()) and ow[-len(words):] == words:
                    best = other.text
        if best.endswith(("’s", "'s")):
            best = best[:-2]
        return best

    def title_antecedent(self, desc_k: int, before: int, mods: tuple = ()) -> Optional[str]:
        """The named person introduced with the same description ("minister Kuleba",
        "de Oekraïense president Volodymyr Zelensky" for "de Oekraïense president")."""
        noun = self.toks[desc_k].low
        toks = self.toks
        best = None
        m = len(mods)
        for k in range(0, before):
            if toks[k].low == noun and (not m or tuple(t.low for t in toks[max(0, k - m):k]) == mods):
                for j in range(k + 1, min(len(toks), k + 5)):
                    nm = self.c.name_at.get(j)
                    if nm is not None and nm.type in ("PER", None) and toks[j].cap:
                        best = self.canonical(nm)
                        break
                    if toks[j].punct and toks[j].text != ",":
                        break
                for j in range(k - 1, max(-1, k - 4), -1):
                    if toks[j].text == ",":
                        continue
                    nm = self.c.name_at.get(j)
                    if nm is not None and nm.type in ("PER", None):
                        best = self.canonical(nm)
                    break
        return best

    def resolve_pronoun(self, k: int, cue_tok: int) -> Optional[Speaker]:
        t = self.toks[k]
        if t.low in self.lex.relatives:
            # "Smith, who said ...": the phrase the relative clause hangs on
            j = k - 1
            while j >= 0 and self.toks[j].text in (",", "—"):
                j -= 1
            nm = self.c.name_at.get(j)
            if nm is not None and nm.type != "MISC":
                return Speaker(start=t.start, end=t.end, text=t.text, name=self.canonical(nm))
            if self.lex.parse is not None and self.c.has_dep:
                # "voters who said ...": the noun phrase the relative clause hangs on
                v = t.head
                h = self.toks[v].head if self.toks[v].dep in self.lex.parse.relative else v
                if h != v and h < k:
                    sa, sb = self.sent_range(k)
                    sub = [x for x in self.sub_tokens(h, sa, sb, skip=frozenset([v])) if x < k]
                    while sub and self.toks[sub[-1]].punct:
                        sub.pop()
                    if sub:
                        a, b = self.toks[sub[0]].start, self.toks[sub[-1]].end
                        return Speaker(start=t.start, end=t.end, text=t.text, name=self.text[a:b])
            return None
        allowed = self.lex.pronouns.get(t.low, frozenset())
        ant = self.antecedent(k, allowed, t.low in self.lex.singular)
        if ant is None:
            return None
        return Speaker(start=t.start, end=t.end, text=t.text, name=ant)

    def compatible(self, nm: Name, allowed: frozenset[str]) -> bool:
        if nm.t1 < len(self.toks) and self.toks[nm.t1].low in ("’s", "'s", "’", "'") \
                or nm.text.endswith(("’s", "'s")) \
                or nm.type is None and nm.text.endswith("s") and nm.text[:-1] in self.c.name_texts:
            return False  # a genitive: "Zelensky’s adviseur", "Poetins"
        if nm.type is not None:
            return nm.type in allowed
        k = nm.t0
        prev = self.toks[k - 1].low if k > 0 else ""
        if prev in self.lex.locative:
            return False
        return True

    def antecedent(self, k: int, allowed: frozenset[str], singular: bool) -> Optional[str]:
        """The compatible named person/organisation a pronoun or description at
        token k refers to: the most salient one in this sentence before k and
        the four sentences before it. Salience: a speaker of a recent quote (+2),
        each mention in the window (+1), the first name of its sentence (+0.5),
        the nearest sentence (+0.5); typed names (NER) before untyped ones."""
        si = self.toks[k].sent
        here = self.toks[k].start
        lo_sent = max(0, si - 4)
        lo_tok = self.c.sents[lo_sent][0]
        scores: dict[str, float] = {}
        nearest: dict[str, int] = {}
        for nm in self.c.names:
            if not (lo_tok <= nm.t0 < k) or not self.compatible(nm, allowed):
                continue
            if any(qa <= nm.start < qb for qa, qb in self.quoted):
                continue
            key = self.canonical(nm)
            sj = self.toks[nm.t0].sent
            sc = 1.0 + (0.5 if nm.type is not None else 0.0)
            if nm.t0 == self.first_name_of_sent(sj):
                sc += 0.5
            if sj >= si - 1:
                sc += 0.5
                sa_ = self.c.sents[sj][0]
                if sj == si - 1 and (nm.t0 == sa_ or nm.t0 == sa_ + 1 and self.toks[sa_].low in self.lex.dets):
                    sc += 2.0  # the topic of the previous sentence
            scores[key] = scores.get(key, 0.0) + sc
            nearest[key] = max(nearest.get(key, -1), nm.t0)
        speakers = set()
        for q, _key in self.out:
            sp = q.speaker
            if sp is None or sp.name is None or sp.start >= here or sp.name in speakers:
                continue
            if self.toks[self.tok_at(sp.start)].sent < si - 5:
                continue
            typ = self.name_type(sp)
            if typ in allowed or typ is None and "PER" in allowed:
                speakers.add(sp.name)  # a recent speaker, once
                bonus = 2.0
                sk = self.tok_at(sp.start)
                sj = self.toks[sk].sent
                if sk not in self.c.name_at and sj >= si - 1:
                    # a described speaker ("het hoofd van de inlichtingendienst zegt")
                    sa_ = self.c.sents[sj][0]
                    bonus += 0.5 + (2.0 if sj == si - 1 and (sk == sa_ or sk == sa_ + 1 and self.toks[sa_].low in self.lex.dets) else 0.0)
                scores[sp.name] = scores.get(sp.name, 0.0) + bonus
                nearest[sp.name] = max(nearest.get(sp.name, -1), self.tok_at(sp.start))
        if scores:
            return max(scores, key=lambda x: (scores[x], nearest[x]))
        return None

    def first_name_of_sent(self, sj: int) -> int:
        cache = self.__dict__.setdefault("_first_name", {})
        if sj not in cache:
            sa, sb = self.c.sents[sj]
            cache[sj] = next((nm.t0 for nm in self.c.names if sa <= nm.t0 < sb and nm.type != "MISC"), -1)
        return cache[sj]

    def name_type(self, sp: Speaker) -> Optional[str]:
        for nm in self.c.names:
            if nm.start <= sp.start < nm.end or nm.text == sp.name:
                return nm.type
        low = sp.text.lower()
        if low in self.lex.descriptions:
            return self.lex.descriptions[low]
        for nm in self.c.names:
            if nm.text.split()[-1] == (sp.name or "").split()[-1:][0] if sp.name else False:
                return nm.type
        return None

    def subject_of(self, cue: int, lo: int, hi: int, after_lim: int) -> Optional[tuple[int, int]]:
        """Token range of the subject of the cue verb at `cue` inside [lo, hi)."""
        toks, lex = self.toks, self.lex
        if self.c.has_dep:
            cs = self.clause_start(cue, lo)
            for t in toks[lo:hi]:
                if t.head == cue and t.dep in ("nsubj", "nsubjpass", "nsubj:pass", "csubj") and t.i != cue:
                    if lex.parse is not None:
                        return self.subject_phrase(t.i, lo, hi)
                    a, b = self.subtree(t.i, lo, hi)
                    if t.i < cs and b < cs - 1:
                        continue  # a subject in another clause: a parse error
                    # cut relative clauses and appositions after a comma
                    for j in range(t.i, b):
                        if toks[j].text in (",", "—", "–") and j > t.i:
                            b = j
                            break
                    return (a, b)
        if self.c.has_pos:
            # the parse found no subject: the noun phrase right before the verb
            # (skipping adverbs and auxiliaries), else the one right after it
            j = cue - 1
            while j >= lo and toks[j].pos in ("ADV", "AUX", "PART") and toks[j].low not in lex.comps:
                j -= 1
            e = j + 1
            while j >= lo and (toks[j].pos in ("PROPN", "NOUN", "PRON", "DET", "ADJ", "NUM")
                               or j in self.c.name_at or toks[j].low in ("’s", "'s")) and toks[j].low not in lex.comps:
                j -= 1
                if toks[j + 1].pos == "PRON" and toks[j + 1].low in lex.pronouns:
                    break
            if e > j + 1 and any(toks[x].pos in ("PROPN", "NOUN", "PRON") for x in range(j + 1, e)):
                return (j + 1, e)
        return self.subject_rule(cue, lo, hi, after_lim)

    def clause_start(self, cue: int, lo: int) -> int:
        toks, lex = self.toks, self.lex
        cs = lo
        for j in range(cue - 1, lo - 1, -1):
            t = toks[j]
            if t.text in (",", ";", ":", "(", "—", "–") or t.text in lex.closers or t.low in lex.comps and j > lo:
                cs = j + 1
                break
            if t.low in lex.coordinators and j + 1 < cue:
                cs = j + 1
                break
        while cs < cue and toks[cs].punct:
            cs += 1
        return cs

    def subject_rule(self, cue: int, lo: int, hi: int, after_lim: int) -> Optional[tuple[int, int]]:
        """Without a parse: the first phrase of the clause, or (verb-first, after an
        adverbial, 'Dat meldt X') the phrase right after the finite verb."""
        toks, lex = self.toks, self.lex
        cs = self.clause_start(cue, lo)
        lim = max(cue + 1, min(after_lim, hi))
        if cs >= cue:
            a, b = self.np_right(cue + 1, lim)
            return (a, b) if b > a else None
        first = toks[cs]
        inverted = (
            (first.low in lex.adverbials or first.low in lex.np_stop and first.low not in lex.dets
             and first.low not in lex.pronouns)
            and cs not in self.c.name_at
        ) or (first.low in lex.comps and cs + 1 == cue)
        if not inverted and first.low in lex.dets and first.low in lex.comps and cs + 1 == cue:
            inverted = True
        if inverted:
            # the phrase after the first finite verb of the clause
            v = cs + 1
            while v < cue and not self.is_verbish(v):
                v += 1
            a, b = self.np_right(v + 1, lim if v == cue else cue)
            if b > a:
                return (a, b)
            return None
        a, b = self.np_right(cs, cue)
        return (a, b) if b > a else None

    def subtree(self, k: int, lo: int, hi: int) -> tuple[int, int]:
        a = b = k
        # tokens whose head chain reaches k, within [lo, hi)
        for j in range(lo, hi):
            h, seen = j, 0
            while h != k and self.toks[h].head != h and seen < 40:
                h = self.toks[h].head
                seen += 1
            if h == k:
                a, b = min(a, j), max(b, j)
        return (a, b + 1)

    # -- direct quotes ---------------------------------------------------------

    def scan_marks(self) -> list[tuple[int, int, int, int, bool]]:
        """(open mark, content start, content end, close mark end, closed) per direct quote."""
        text, lex = self.text, self.lex
        n = len(text)
        out = []
        i = 0
        marks = lex.marks
        while i < n:
            ch = text[i]
            if ch not in marks:
                i += 1
                continue
            prev = text[i - 1] if i > 0 else " "
            nxt = text[i + 1] if i + 1 < n else " "
            opener = (prev.isspace() or prev in "([{—–-:/" or i == 0 or prev in lex.all_marks) and not nxt.isspace()
            if ch in ("'", "’", "‘") and (text[i + 1:i + 3].lower() in ("s ", "t ", "n ") or nxt.isdigit()):
                opener = False  # 's avonds, 't, 'n, '90
            if not opener:
                i += 1
                continue
            closers = marks[ch]
            para_end = text.find("\n", i)
            if para_end < 0:
                para_end = n
            j = i + 1
            close = -1
            while j < para_end:
                c = text[j]
                if c in closers:
                    p, q = text[j - 1], (text[j + 1] if j + 1 < n else " ")
                    # after a word, or after punctuation and a space ("outreach,' \" he told")
                    closing = (not p.isspace() or j >= 2 and text[j - 2] in ",.!?;" + lex.all_marks and q in " ,.;\n") \
                        and (not q.isalnum() or q in lex.all_marks)
                    if closing:
                        close = j
                        break
                j += 1
            if close < 0:
                if ch in ("'", "‘", "’") or para_end - i > 3000:
                    i += 1
                    continue
                # open to the paragraph end: a paragraph-continuation quote
                e = para_end
                while e > i + 1 and text[e - 1].isspace():
                    e -= 1
                if e - (i + 1) >= 2:
                    out.append((i, i + 1, e, e, False))
                i = para_end
                continue
            a, b = i + 1, close
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if b > a:
                out.append((i, a, b, close + 1, True))
            i = close + 1
        return out

    def frame_after(self, close_end: int, sent_end_tok: int, next_open: int) -> Optional[tuple]:
        """An attribution right after a quote: ', zei hij', ', aldus het ISW', '," he said'."""
        toks, lex = self.toks, self.lex
        k = self.tok_at(close_end)
        dash = dash_span = None
        if k < len(toks) and toks[k].start < close_end:
            if self.text[close_end:toks[k].end].strip() in lex.dashes:  # "”―" as one token
                dash, dash_span = k, (close_end, toks[k].end)
            k += 1
        lim = min(sent_end_tok, self.tok_at(next_open) if next_open >= 0 else len(toks))
        if next_open >= 0:
            while lim > k and toks[lim - 1].start >= next_open:
                lim -= 1
        while k < lim and toks[k].punct and (toks[k].text in ",.—–-" and toks[k].text != "."
                                             or toks[k].text in lex.dashes):
            if toks[k].text in lex.dashes:
                dash, dash_span = k, (toks[k].start, toks[k].end)
            k += 1
        if k >= lim:
            return None
        if dash is not None:
            # a byline after the quote: "“...” ― Sonya Herridge" (the name ends the line)
            e = lim
            while e > k and toks[e - 1].punct:
                e -= 1
            if e > k and e - k <= 6 and all(toks[j].cap or toks[j].punct for j in range(k, e)) \
                    and not any(self.cue_at(j, lim) for j in range(k, e)):
                sp = self.speaker_from(k, e, dash)
                if sp is not None:
                    return (sp, self.span(*dash_span), dash, e)
        # "aldus X" / "volgens X"
        if toks[k].low in lex.postposed or self.according_at(k):
            n_words = self.according_at(k) or 1
            a, b = self.np_right(k + n_words, lim)
            sp = self.speaker_from(a, b, k)
            if sp is not None:
                return (sp, self.span(toks[k].start, toks[k + n_words - 1].end), k, b)
            return None
        # cue verb then subject, or subject then cue, within a few tokens
        for j in range(k, min(lim, k + 7)):
            cue = self.cue_at(j, lim)
            if cue is None:
                continue
            c0, c1, lemma, weak = cue
            if weak:
                return None
            subj = None
            if self.c.has_dep:
                subj = self.subject_of(c0, k, lim, lim)
            if subj is None:
                if j > k:
                    subj = (k, j)
                else:
                    subj = self.np_right(c1, lim)
            sp = self.speaker_from(subj[0], subj[1], c0)
            if sp is None:
                return None
            end_tok = max(subj[1], c1)
            return (sp, self.span(toks[c0].start, toks[c1 - 1].end), c0, end_tok)
        return None

    def frame_before(self, open_char: int, sent_start_tok: int, prev_close: int) -> Optional[tuple]:
        """An attribution before a quote: 'Rutte: ...', 'Hij zei: ...', 'Hij zei dat “...”',
        'volgens X ... “...”', 'X noemde het „...”'."""
        toks, lex = self.toks, self.lex
        k = self.tok_at(open_char)  # the mark's token
        lo = sent_start_tok
        if prev_close >= 0:
            while lo < k and toks[lo].start < prev_close:
                lo += 1
        if k <= lo:
            return None
        last = toks[k - 1]
        # colon introduction
        if last.text == ":":
            for j in range(k - 2, lo - 1, -1):
                cue = self.cue_at(j, k)
                if cue is not None:
                    subj = self.subject_of(j, lo, k - 1, k - 1)
                    if subj:
                        sp = self.speaker_from(subj[0], subj[1], j)
                        if sp:
                            return (sp, self.span(toks[cue[0]].start, toks[cue[1] - 1].end), j)
            a, b = lo, k - 1
            if 0 < b - a <= 6:
                sp = self.speaker_from(a, b, k - 1)
                if sp is not None:
                    return (sp, self.span(last.start, last.end), k - 1)
            return None
        # a reporting frame earlier in the sentence
        for j in range(k - 1, lo - 1, -1):
            t = toks[j]
            n_acc = self.according_at(j)
            if n_acc:
                a, b = self.np_right(j + n_acc, k)
                sp = self.speaker_from(a, b, j)
                if sp:
                    return (sp, self.span(t.start, toks[j + n_acc - 1].end), j)
                continue
            cue = self.cue_at(j, k)
            if cue is None:
                continue
            if cue[3]:  # weak cues do not frame a quoted fragment
                continue
            subj = self.subject_of(j, lo, k, k)
            if subj is None:
                continue
            sp = self.speaker_from(subj[0], subj[1], j)
            if sp is None and toks[subj[0]].low in lex.expletives:
                # "klonk het dat Rusland de ‘...’": the reported clause names the source
                for m in range(cue[1], k):
                    nm = self.c.name_at.get(m)
                    if nm is not None and nm.type != "MISC" and toks[m - 1].low not in lex.locative:
                        sp = Speaker(start=nm.start, end=nm.end, text=nm.text, name=self.canonical(nm))
                        break
            if sp is None:
                continue
            return (sp, self.span(toks[cue[0]].start, toks[cue[1] - 1].end), j)
        return None

    def embedded(self, a: int, b: int) -> bool:
        """The quote [a, b) is a fragment of a clause (it hangs on the words
        around it as an object, predicate or modifier, not as a clause)."""
        toks, P = self.toks, self.lex.parse
        ka, kb = self.tok_at(a), self.tok_at(b - 1) + 1
        if any(toks[k].text in (".", "!", "?") and toks[k + 1].cap for k in range(ka, kb - 1)):
            return False  # whole sentences ("Are we there? Probably not,"), not a fragment
        sa0 = self.c.sents[toks[ka].sent][0]
        if self.text[b - 1] in ",.!?" and all(toks[k].punct for k in range(sa0, ka)):
            return False  # it opens its sentence and ends in punctuation: "“...,” said X"
        for k in range(ka, kb):
            h = toks[k].head
            if h == k or ka <= h < kb or toks[k].punct:
                continue
            if toks[k].dep not in P.clause and toks[k].dep not in P.parataxis:
                return True
        # words of its clause outside the marks: "he’s “liked Trump since the beginning”"
        sa, sb = self.c.sents[toks[ka].sent][0], self.c.sents[toks[kb - 1].sent][1]
        for k in range(sa, sb):
            if ka <= k < kb or toks[k].punct or not (ka <= toks[k].head < kb):
                continue
            if toks[k].dep in P.subject or toks[k].dep in P.cue_prefix or toks[k].dep in P.complement:
                return True
        return False

    def frame_parse(self, a: int, b: int) -> Optional[tuple]:
        """With a parse: the verb outside the quote [a, b) that governs it
        ("“...,” the man shouted", "He called it “a disaster”") or that hangs
        on it as a parenthetical ("“...,” he said, “...”"), with its subject.
        (speaker, cue span, cue token, end token) or None."""
        toks, lex = self.toks, self.lex
        P = lex.parse
        ka, kb = self.tok_at(a), self.tok_at(b - 1) + 1
        sa, sb = self.c.sents[toks[ka].sent][0], self.c.sents[toks[kb - 1].sent][1]
        inside = lambda k: ka <= k < kb or any(qa <= toks[k].start < qb for qa, qb in self.quoted)  # noqa: E731
        cands = []
        for k in range(ka, kb):
            h = toks[k].head
            if h == k or ka <= h < kb or not (sa <= h < sb) or inside(h) or toks[h].pos != "VERB":
                continue
            dep = toks[k].dep
            if dep in P.clause or dep in P.parataxis or (dep in P.complement and toks[h].lemma in P.lemmas):
                cands.append(h)
        for v in range(sa, sb):
            if inside(v) or toks[v].pos != "VERB" or not (ka <= toks[v].head < kb):
                continue
            if toks[v].dep in P.parataxis or toks[v].dep in P.clause:
                cands.append(v)
        after = set()
        if not cands and self.text[b - 1] in ".,!?…":
            # the parser ended the sentence inside the quote ("“Get out!” the man shouted."):
            # a subject and a verb without a complement of its own right after it
            j = kb
            while j < sb and toks[j].punct:
                j += 1
            for v in range(j, min(sb, j + 8)):
                if toks[v].pos == "VERB":
                    if toks[v].head == v and not any(toks[c].dep in P.clause or toks[c].dep in P.direct_object
                                                     for c in self.kids(v)):
                        cands.append(v)
                        after.add(v)
                    break
        # the nearest frame verb
        cands.sort(key=lambda v: min(abs(v - ka), abs(v - kb)))
        for v in cands:
            kids = [c for c in self.kids(v) if sa <= c < sb]
            if any(toks[c].dep in P.negation or toks[c].low in lex.negations for c in kids):
                continue
            role, sk = self.parse_subject(v, sa, sb)
            if role in ("subject", "agent") and not inside(sk):
                s0, s1 = self.subject_phrase(sk, sa, sb)
            elif v > kb:
                # the parser hung the phrase between the quote and the verb on the quote
                # ("“...,” Brent Bozell III, founder of ..., tells ..."): that phrase
                s0 = kb
                while s0 < v and toks[s0].punct:
                    s0 += 1
                s1 = v
                while s1 > s0 and toks[s1 - 1].punct:
                    s1 -= 1
                if s1 <= s0 or s1 - s0 > 25 or toks[s0].pos in ("VERB", "AUX") \
                        or any(toks[j].tag in P.finite for j in range(s0, s1)) or any(ka <= j < kb for j in range(s0, s1)):
                    continue
                sk = s0
            else:
                continue
            if toks[s0].low in lex.expletives:
                continue
            if toks[v].lemma not in P.lemmas and v not in after and not self.human(s0, s1) and sk not in self.c.name_at \
                    and toks[v].dep not in P.parataxis and not any(toks[c].dep in P.clause and ka <= c < kb for c in kids):
                continue
            sp = self.speaker_from(s0, s1, v)
            if sp is None:
                continue
            ce = v + 1
            while ce < sb and toks[ce].dep in P.particle and toks[ce].head == v:
                ce += 1
            cue = self.span(toks[self.cue_start(v, sa)].start, toks[ce - 1].end)
            return (sp, cue, v, max(ce, s1))
        return None

    def according_at(self, k: int) -> int:
        toks = self.toks
        for ph in self.lex.according:
            if toks[k].low == ph[0] and all(
                k + m < len(toks) and toks[k + m].low == ph[m] for m in range(1, len(ph))
            ):
                return len(ph)
        return 0

    def direct_quotes(self) -> None:
        toks, text, lex = self.toks, self.text, self.lex
        found = self.scan_marks()
        self.quoted = [(a, b) for _, a, b, _, _ in found]
        records: list[tuple[bool, int, Quote]] = []
        prev_speaker: Optional[Speaker] = None
        prev_para = -1
        prev_closed = True
        prev_sent = -10
        pending_next: Optional[tuple] = None  # speaker for a quote continued after an interruption
        for idx, (o, a, b, close_end, closed) in enumerate(found):
            ko = self.tok_at(o)
            sa, sb = self.sent_range(self.tok_at(a) if a < len(text) else ko)
            # the sentence that holds the closing mark
            kc = self.tok_at(max(a, close_end - 1))
            _, sb_close = self.sent_range(kc)
            next_open = found[idx + 1][0] if idx + 1 < len(found) else -1
            if next_open >= 0 and self.toks[self.tok_at(next_open)].sent != toks[kc].sent:
                next_open_same = -1
            else:
                next_open_same = next_open
            prev_close = found[idx - 1][3] if idx > 0 else -1
            content_words = sum(1 for ch in re.finditer(r"\w+", text[a:b]))
            para = self.para_of(o)
            cue = speaker = None
            cue_tok = None
            continuation = False
            speechlike = (content_words >= lex.min_free_words and (
                text[b - 1] in ".!?…,;" or not closed or content_words >= 8)
            ) or (content_words >= 2 and text[b - 1] in ".!?…" and text[a].isupper())
            fr = None
            parsed = self.lex.parse is not None and self.c.has_dep
            lab = self.quote_label(a, b) if parsed and lex.colon_reports else None
            if lab is not None:
                # a transcript in quotation marks: "“WALLACE: Let's start ...": the label speaks
                speaker, cue, cue_tok, a = lab
            elif parsed:
                fr = self.frame_parse(a, b)
            if lab is None and fr is None and closed and (not parsed or text[b - 1] in ".,!?…" or content_words >= lex.min_free_words):
                fr = self.frame_after(close_end, sb_close, next_open_same)
            if lab is not None:
                pass
            elif fr is not None:
                speaker, cue, cue_tok, end_tok = fr
                # interrupted quote: the next quote right after the frame continues it
                if next_open_same >= 0 and end_tok - 1 < len(toks) and toks[end_tok - 1].end <= next_open_same:
                    gap = text[toks[end_tok - 1].end:next_open_same]
                    if gap.strip() in ("", ",", ":", ".", ";", "—", "–"):
                        pending_next = (speaker, next_open_same)
            else:
                fb = self.frame_before(o, self.c.sents[toks[ko].sent][0], prev_close)
                if fb is not None:
                    speaker, cue, cue_tok = fb
                elif pending_next is not None and pending_next[1] == o:
                    speaker, continuation = pending_next[0], True
                elif prev_speaker is not None and (speechlike or toks[ko].sent == prev_sent) \
                        and not prev_speaker.start <= o < prev_speaker.end and (
                    (not prev_closed and para == prev_para + 1 and text[o] in lex.marks)
                    or (para == prev_para and toks[ko].sent - prev_sent <= 3)
                    or (para == prev_para + 1 and toks[ko].sent - prev_sent <= 1)
                ):
                    speaker, continuation = prev_speaker, True
                else:
                    # the previous sentence ends with a colon introduction ("Hij zei:")
                    if ko > 0 and toks[ko - 1].text == ":" and toks[ko - 1].sent != toks[ko].sent:
                        fb = self.frame_before(o, self.c.sents[toks[ko - 1].sent][0], prev_close)
                        if fb is not None:
                            speaker, cue, cue_tok = fb
            if pending_next is not None and pending_next[1] < o:
                pending_next = None
            if speaker is None and cue is None:
                # an unattributed fragment: a scare quote or a title unless it is speech
                looks_like_speech = speechlike
                starts_sentence = ko == sa or toks[ko - 1].text in (":",) or ko == self.c.sents[toks[ko].sent][0]
                if not (looks_like_speech and starts_sentence):
                    continue
            hearsay = self.hearsay_in(cue_tok, None, None) if cue_tok is not None else False
            q = Quote(start=a, end=b, text=text[a:b], kind="direct", speaker=speaker,
                      cue=cue, hearsay=hearsay)
            if cue is not None and self.lex.parse is not None and self.c.has_dep and self.embedded(a, b):
                # a quoted fragment inside a reported clause ("said he is “certain” ...",
                # "called it “a disaster”"): the report gives the clause with the fragment;
                # the fragment is a quote of its own only where no report covers it
                self.deferred.append(q)
                continue
            if cue_tok is not None:
                self.frames.add(cue_tok)
            self.add(q, ("direct", a, b))
            records.append((closed, para, q))
            self.covered_direct.append((a, b, speaker))
            if speaker is not None:
                prev_speaker = speaker if not continuation or prev_speaker is None else prev_speaker
                if not continuation:
                    prev_speaker = speaker
            else:
                prev_speaker = None
            prev_para = self.para_of(close_end - 1) if closed else para
            prev_closed = closed
            prev_sent = toks[self.tok_at(max(a, b - 1))].sent
        # a quote left open at a paragraph end takes the speaker of its continuation
        for n in range(len(records) - 2, -1, -1):
            closed, para, q = records[n]
            nclosed, npara, nq = records[n + 1]
            if not closed and q.speaker is None and nq.speaker is not None and npara == para + 1 \
                    and self.c.paras[npara] == nq.start - 1:
                q.speaker = nq.speaker.model_copy()

    # -- indirect speech and according_to ---------------------------------------

    def content_end(self, k: int, sb: int) -> int:
        """Char end of a clause that runs from token k to the sentence end."""
        toks = self.toks
        e = sb
        while e > k and toks[e - 1].punct and toks[e - 1].text in ".!?;:,)":
            e -= 1
        # a postposed frame of its own ends the clause: ", aldus X" / ", zei hij" / ", meldt X",
        # and so does a coordinated report: "... en het leger bevestigt dat ..."
        for j in range(k + 1, e):
            if toks[j].text == "," and j + 1 < e and (
                toks[j + 1].low in self.lex.postposed or self.according_at(j + 1)
                or self.cue_at(j + 1, e) is not None and not self.cue_at(j + 1, e)[3]
            ):
                e = j
                break
            if toks[j].low in self.lex.coordinators and j + 2 < e:
                for m in range(j + 1, min(e, j + 7)):
                    if toks[m].punct:
                        break
                    cue = self.cue_at(m, e)
                    if cue is not None and any(toks[x].low in self.lex.comps for x in range(cue[1], min(e, cue[1] + 4))):
                        e = j
                        break
                if e == j:
                    break
        return toks[e - 1].end if e > k else toks[k].end

    def clause_start_after(self, k: int, sb: int) -> int:
        toks = self.toks
        while k < sb and (toks[k].text in (",", ":") or toks[k].low in self.lex.comps):
            k += 1
        return k

    def indirect(self) -> None:
        toks, lex = self.toks, self.lex
        parse = lex.parse if self.c.has_dep else None
        for si, (sa, sb) in enumerate(self.c.sents):
            k = sa
            while k < sb:
                # "volgens X" / "according to X"
                n_acc = self.according_at(k)
                if n_acc:
                    self.according_to(k, n_acc, sa, sb)
                    k += n_acc
                    continue
                if toks[k].low in lex.postposed and k > sa:
                    self.postposed(k, sa, sb)
                    k += 1
                    continue
                if parse is not None and toks[k].low in parse.source_preps and toks[k].dep in parse.preposition \
                        and any(toks[c].lemma in parse.source_nouns and toks[c].tag in parse.plural_or_def
                                or toks[c].lemma in parse.source_nouns and any(
                                    toks[d].low in lex.definite or toks[d].dep in parse.owner
                                    or toks[d].ent for d in self.kids(c))
                                for c in self.kids(k) if c > k):
                    # "In the latest Post-ABC poll, Clinton led by 5 points": the poll is the source
                    if self.according_parse(k, 1, sa, sb):
                        k += 1
                        continue
                cue = None if parse is not None else self.cue_at(k, sb)  # with a parse: parsed_reports
                if cue is None or k in self.frames:
                    k += 1
                    continue
                self.reported(cue, sa, sb)
                k = cue[1] if cue[1] > k else k + 1
            if lex.colon_reports:
                self.colon_report(sa, sb)
            if parse is not None:
                self.parsed_reports(sa, sb)
                if parse.raising or parse.raising_passive:
                    self.raising_reports(sa, sb)
                if parse.stance:
                    self.stance_reports(sa, sb)
                if parse.nouns:
                    self.noun_reports(sa, sb)
            elif self.c.has_dep and lex.generic_ccomp:
                self.generic_reports(sa, sb)

    def colon_phrase(self, a: int, b: int) -> bool:
        """toks[a:b] can name a speaker before a colon: no verb, no comma, a
        capitalised word or a description, none of the table's label words
        ("Note:", "Read more:")."""
        toks, lex = self.toks, self.lex
        if any(toks[k].low in lex.colon_not for k in range(a, b)):
            return False
        if any(toks[k].punct and toks[k].text not in (".", "-", "’", "'", "(", ")") for k in range(a, b)):
            return False
        if self.c.has_pos and any(toks[k].pos in ("VERB", "AUX") for k in range(a, b)):
            return False
        if self.c.has_pos and self.c.has_dep:
            # with a tagger: a name, a description or an all-capitals label ("WALLACE:"),
            # not a phrase that opens a sentence ("For one:", "Thus my compromise:")
            if toks[a].pos in ("ADP", "ADV", "SCONJ", "CCONJ", "DET") and toks[a].low not in lex.dets:
                return False
            return all(toks[k].pos == "PROPN" or toks[k].punct for k in range(a, b)) or any(
                (nm := self.c.name_at.get(k)) is not None and nm.type in ("PER", "ORG")
                or toks[k].low in lex.descriptions
                or toks[k].text.isupper() and len(toks[k].text) > 1 for k in range(a, b))
        return any(toks[k].cap or toks[k].low in lex.descriptions for k in range(a, b))

    def quote_label(self, a: int, b: int) -> Optional[tuple]:
        """A speaker label in capitals and a colon opening a quote ("WALLACE: ...",
        transcripts): (speaker, cue, cue token, content start) or None."""
        toks = self.toks
        ka, kb = self.tok_at(a), self.tok_at(b - 1) + 1
        c = next((k for k in range(ka + 1, min(kb - 1, ka + 5)) if toks[k].text == ":"), None)
        if c is None or toks[ka].start != a or not self.colon_phrase(ka, c) \
                or not all(toks[k].text.isupper() or toks[k].punct for k in range(ka, c)):
            return None
        sp = self.speaker_from(ka, c, c)
        if sp is None:
            return None
        return sp, self.span(toks[c].start, toks[c].end), c, toks[c + 1].start

    def colon_report(self, sa: int, sb: int) -> None:
        """"Lynch: No outside influence on FBI probe", "MATTHEWS: Here's the irony
        ...": a short name phrase and a colon at the start of a sentence; the
        content runs to the end of the paragraph. A quotation mark after the
        colon is a direct quote (direct_quotes)."""
        toks, lex, text = self.toks, self.lex, self.text
        c = next((k for k in range(sa + 1, min(sb, sa + 7)) if toks[k].text == ":"), None)
        if c is None or c + 1 >= len(toks) or toks[c + 1].text in lex.all_marks or not self.colon_phrase(sa, c):
            return
        if any(qa <= toks[c].start < qb for qa, qb in self.quoted):
            return
        ca = toks[c + 1].start
        cb = text.find("\n", ca)
        if cb < 0:
            cb = len(text)
        ca, cb = self.strip_marks(ca, cb)
        while cb > ca and text[cb - 1] in ".,;: ":
            cb -= 1
        if len(text[ca:cb].split()) < 3:
            return
        sp = self.speaker_from(sa, c, c)
        if sp is None:
            return
        q = Quote(start=ca, end=cb, text=text[ca:cb], kind="according_to", speaker=sp,
                  cue=self.span(toks[c].start, toks[c].end), hearsay=self.hearsay_in(c, ca, cb))
        self.add(q, ("according_to", ca, cb, c))
        self.used_cues.add(c)

    # -- reports read from the dependency parse ([parse] in the table) ------------

    def kids(self, k: int) -> list[int]:
        ch = self.__dict__.get("_kids")
        if ch is None:
            ch = [[] for _ in self.toks]
            for t in self.toks:
                if 0 <= t.head != t.i:
                    ch[t.head].append(t.i)
            self._kids = ch
        return ch[k]

    def sub_tokens(self, k: int, sa: int, sb: int, skip: frozenset = frozenset()) -> list[int]:
        """The tokens of k's subtree inside [sa, sb), without the subtrees in skip."""
        out, stack = [k], [k]
        while stack:
            x = stack.pop()
            for c in self.kids(x):
                if sa <= c < sb and c not in skip:
                    out.append(c)
                    stack.append(c)
        out.sort()
        return out

    def runs(self, idx: list[int]) -> list[tuple[int, int]]:
        """Contiguous token runs of idx (a gap of punctuation only does not split),
        each trimmed of punctuation and quotation marks at its ends."""
        toks = self.toks
        runs: list[list[int]] = []
        for k in idx:
            if runs and all(toks[j].punct for j in range(runs[-1][1], k)):
                runs[-1][1] = k + 1
            else:
                runs.append([k, k + 1])
        out = []
        for a, b in runs:
            while a < b and toks[a].punct:
                a += 1
            while b > a and toks[b - 1].punct and toks[b - 1].text not in (")", "]"):
                b -= 1
            if b > a:
                out.append((a, b))
        return out

    def is_time(self, k: int, sa: int, sb: int) -> bool:
        """A complement that is a time or date ("on Thursday", "last week")."""
        P = self.lex.parse
        toks = self.toks
        if toks[k].ent in P.time_entities:
            return True
        # a preposition with a time as its object ("on Thursday"); not a noun with a
        # time modifier ("his early-morning tweets")
        return toks[k].dep in P.preposition and any(
            toks[j].ent in P.time_entities and toks[j].dep not in P.preposition for j in self.kids(k))

    def human(self, a: int, b: int) -> bool:
        """The phrase toks[a:b] names or refers to a person or organisation."""
        toks, lex = self.toks, self.lex
        for k in range(a, b):
            nm = self.c.name_at.get(k)
            if nm is not None and nm.type in ("PER", "ORG"):
                return True
            if toks[k].low in lex.descriptions:
                return True
        return toks[a].low in lex.pronouns and toks[a].low not in lex.expletives

    def subject_phrase(self, sk: int, sa: int, sb: int) -> tuple[int, int]:
        """The source phrase of subject token sk: its subtree with appositions
        ("Jeff Weaver, Sanders' campaign manager,") but without a relative or
        participle clause on its head ("X, who ...", "X, speaking at ...")."""
        toks, P = self.toks, self.lex.parse
        if toks[sk].low in self.lex.relatives:
            return sk, sk + 1
        cut = frozenset(c for c in self.kids(sk) if c > sk and (
            toks[c].dep in P.subject_cut and any(toks[j].text in (",", "—", "–", "(") for j in range(sk + 1, c))
            or toks[c].dep in P.preposition and toks[c].low not in self.lex.np_links
            and self.is_time(c, sa, sb)))  # "the Tribune on Sunday", not "the progress of these years"
        sub = self.sub_tokens(sk, sa, sb, skip=cut)
        a, b = sub[0], sub[-1] + 1
        while a < sk and toks[a].head == sk and toks[a].dep in P.source_trim:
            a += 1  # "Even China", "Both X and Y": not part of the name
        if cut:  # from the first word of the cut phrase ("X, who ..." leaves "X")
            b = min(b, min(self.sub_tokens(c, sa, sb)[0] for c in cut))
        while b > a + 1 and toks[b - 1].punct and toks[b - 1].text not in (")",):
            b -= 1
        return a, b

    def antecedent_phrase(self, k: int, sa: int, sb: int) -> tuple[int, int]:
        """The noun phrase a relative pronoun's clause hangs on ("cities" for
        "cities that support ..."), without the clause; (k, k + 1) if none."""
        toks, P = self.toks, self.lex.parse
        v = toks[k].head
        h = toks[v].head if toks[v].dep in P.relative else v
        if h == v or not (sa <= h < k):
            return k, k + 1
        sub = [x for x in self.sub_tokens(h, sa, sb, skip=frozenset([v])) if x < k]
        return (sub[0], sub[-1] + 1) if sub else (k, k + 1)

    def cue_start(self, v: int, sa: int) -> int:
        """The cue verb with its auxiliaries and adverbs right before it ("has
        said", "is also claiming")."""
        P, toks = self.lex.parse, self.toks
        c = v
        while c - 1 >= sa and toks[c - 1].head == v and toks[c - 1].dep in P.cue_prefix:
            c -= 1
        return c

    def parse_subject(self, v: int, sa: int, sb: int) -> tuple[str, Optional[int]]:
        """("subject", token) / ("agent", token) / ("passive", None) / ("none", None)
        for the cue verb v: its own subject, the agent of a passive, or the
        subject of the verb it is coordinated with or subordinate to
        ("... and said", "..., saying", "refused to say")."""
        toks, P = self.toks, self.lex.parse
        for _ in range(4):
            kids = [c for c in self.kids(v) if sa <= c < sb]
            for c in kids:
                if toks[c].dep in P.subject:
                    if toks[c].low in self.lex.relatives and toks[v].dep in P.relative:
                        issuer = self.issuer(toks[v].head, sa, sb)  # "a letter ... that says ..."
                        if issuer is not None:
                            return ("subject", issuer)
                    return ("subject", c)
            for c in kids:
                if toks[c].dep in P.agent:
                    obj = [x for x in self.kids(c) if sa <= x < sb]
                    if obj:
                        return ("agent", obj[0])
            t = toks[v]
            if any(toks[c].dep in P.passive_subject for c in kids):
                return ("passive", None)
            if t.tag in P.participle_tags and t.dep not in P.parataxis and t.dep not in P.coordination \
                    and not any(toks[c].dep in P.cue_parts for c in kids):
                return ("passive", None)  # "Asked if ..., he said": the asker is not the subject
            if t.dep in P.inherit and t.head != v and sa <= t.head < sb:
                v = t.head
                continue
            if t.dep in P.modifier and t.tag in P.active_participle and t.head != v and sa <= t.head < sb:
                issuer = self.issuer(t.head, sa, sb)  # "The council issued a statement calling for ..."
                return ("subject", issuer if issuer is not None else t.head)  # "a statement saying that ...", "voters backing Trump"
            break
        return ("none", None)

    def issuer(self, n: int, sa: int, sb: int) -> Optional[int]:
        """The subject of the verb that issued document n ("The council issued a
        statement ...", "He released a letter ..."), or None."""
        toks, P = self.toks, self.lex.parse
        if toks[n].lemma not in P.documents or toks[n].dep not in P.direct_object \
                or toks[toks[n].head].lemma not in P.issue_verbs:
            return None
        return next((c for c in self.kids(toks[n].head) if toks[c].dep in P.subject and sa <= c < sb), None)

    def stance_reports(self, sa: int, sb: int) -> None:
        """A stance adjective after a copula with a clause or infinitive: "X is
        confident that Y", "they were eager to vote": the subject is the
        source, "is confident" the cue, the clause the content."""
        toks, lex = self.toks, self.lex
        P = lex.parse
        for j in range(sa, sb):
            t = toks[j]
            if t.pos == "ADJ" and t.lemma in P.impersonal and sa <= t.head < sb and t.head != j:
                self.impersonal_report(j, sa, sb)
                continue
            if t.pos != "ADJ" or t.lemma not in P.stance or not (sa <= t.head < sb) or t.head == j:
                continue
            h = t.head
            if h > j or toks[h].lemma not in P.linking or h in self.used_cues or any(qa <= t.start < qb for qa, qb in self.quoted):
                continue
            if any(o.start <= t.start < o.end for o, _ in self.out):
                continue
            comp = next((c for c in self.kids(j) if c > j and (toks[c].dep in P.clause or toks[c].dep in P.infinitive)), None)
            cue_end = j
            if comp is None:
                # "has been critical of Trump", "were concerned about the plan": the
                # preposition's object is the content, the preposition part of the cue
                prep = next((c for c in self.kids(j) if c > j and toks[c].dep in P.preposition
                             and toks[c].low in P.stance_preps), None)
                obj = next((c for c in self.kids(prep) if c > prep), None) if prep is not None else None
                if obj is not None:
                    comp, cue_end = obj, prep
            subj = next((c for c in self.kids(h) if toks[c].dep in P.subject and c < j), None)
            if comp is None or subj is None:
                continue
            a_, b_ = self.subject_phrase(subj, sa, sb)
            if toks[a_].low in lex.expletives or not (self.human(a_, b_) or subj in self.c.name_at):
                continue
            sp = self.speaker_from(a_, b_, h)
            if sp is None:
                continue
            if self.add_fragments(self.runs(self.sub_tokens(comp, sa, sb)), h, cue_end, sa, sp,
                                  min_tokens=1 if cue_end > j else 2):
                self.used_cues.add(h)

    def impersonal_report(self, j: int, sa: int, sb: int) -> None:
        """"It is clear that Y", "Nor is it obvious that Y": an evaluation without a
        source; "is clear" the cue, the clause the content, speaker null."""
        toks, lex, P = self.toks, self.lex, self.lex.parse
        h = toks[j].head
        if h > j or toks[h].lemma not in P.linking or h in self.used_cues \
                or any(qa <= toks[j].start < qb for qa, qb in self.quoted) \
                or any(o.start <= toks[j].start < o.end for o, _ in self.out):
            return
        subj = next((c for c in self.kids(h) if toks[c].dep in P.subject), None)
        comp = next((c for c in self.kids(j) + self.kids(h) if c > j and toks[c].dep in P.clause), None)
        if subj is None or toks[subj].low not in lex.expletives or comp is None:
            return
        first = self.sub_tokens(comp, sa, sb)[0]
        if toks[first].tag in P.wh_tags or toks[first].low in lex.conditional:
            return  # "it is not clear what ...", "unclear whether ...": a question, not a claim
        if self.add_fragments(self.runs(self.sub_tokens(comp, sa, sb)), h, j, sa, None, min_tokens=2):
            self.used_cues.add(h)

    def raising_reports(self, sa: int, sb: int) -> None:
        """Appearance and expectation without a source: "X seems to Y", "X
        appeared to Y", "X is expected to Y" (the content is X and "to Y", two
        fragments), "It appears that Y" (the content is Y); speaker null."""
        toks, lex = self.toks, self.lex
        P = lex.parse
        for v in range(sa, sb):
            t = toks[v]
            if t.pos not in ("VERB", "AUX") or v in self.frames or v in self.used_cues:
                continue
            passive = t.lemma in P.raising_passive
            if not passive and t.lemma not in P.raising:
                continue
            if any(qa <= t.start < qb for qa, qb in self.quoted) or any(o.start <= t.start < o.end for o, _ in self.out):
                continue
            kids = [c for c in self.kids(v) if sa <= c < sb]
            subj = next((c for c in kids if toks[c].dep in (P.passive_subject if passive else P.subject)), None)
            if passive and not any(toks[c].dep in P.cue_parts and toks[c].dep != "aux" for c in kids):
                continue  # "is expected to", not "expects"
            if subj is None or any(toks[c].dep in P.negation for c in kids):
                continue
            inf = next((c for c in kids if toks[c].dep in P.infinitive and c > v), None)
            cl = next((c for c in kids if toks[c].dep in P.clause and c > v), None)
            if toks[subj].low in lex.expletives:
                if cl is None:
                    continue
                idx = self.sub_tokens(cl, sa, sb)
                frags = self.runs(idx)
            else:
                if inf is None or any(toks[c].dep in P.preposition and c < inf for c in kids):
                    continue  # "seemed to me to ...": someone's view, not the writer's
                s0, s1 = self.subject_phrase(subj, sa, sb)
                frags = [(s0, s1)] + self.runs(self.sub_tokens(inf, sa, sb))
            if self.add_fragments(frags, v, v, sa, None, min_tokens=3):
                self.used_cues.add(v)

    def add_fragments(self, frags: list[tuple[int, int]], head: int, cue_end: int, sa: int,
                      speaker: Optional[Speaker], min_tokens: int) -> bool:
        """Indirect quotes for the content of one report, given as token runs
        ``frags``, with the cue from its start before ``head`` to ``cue_end``;
        False (nothing added) when the content is shorter than ``min_tokens``
        or lies in a direct quote."""
        toks, text = self.toks, self.text
        if frags and toks[frags[0][0]].low in self.lex.comps and frags[0][1] - frags[0][0] > 1:
            frags[0] = (frags[0][0] + 1, frags[0][1])  # "that" belongs to the frame
        frags = [(a, b) for a, b in frags if b > a and any(not toks[k].punct for k in range(a, b))]
        if not frags or sum(b - a for a, b in frags) < min_tokens:
            return False
        ca, cb = toks[frags[0][0]].start, toks[frags[-1][1] - 1].end
        if any(not (db <= ca or cb <= da) for da, db, _ in self.covered_direct):
            return False
        cue = self.span(toks[self.cue_start(head, sa)].start, toks[cue_end].end)
        hearsay = self.hearsay_in(head, ca, cb)
        for a, b in frags:
            fa, fb = self.strip_marks(toks[a].start, toks[b - 1].end)
            if fb > fa:
                q = Quote(start=fa, end=fb, text=text[fa:fb], kind="indirect",
                          speaker=speaker.model_copy() if speaker else None, cue=cue, hearsay=hearsay)
                self.add(q, ("indirect", fa, fb, head))
        return True

    def noun_reports(self, sa: int, sb: int) -> None:
        """Reporting nouns with their owner: "his criticism of Y", "Clinton's
        claim that ...", "her vow to ...": the owner is the source, the
        that-clause, infinitive or prepositional object the content."""
        toks, lex, text = self.toks, self.lex, self.text
        P = lex.parse
        for n in range(sa, sb):
            t = toks[n]
            if t.pos != "NOUN" or t.lemma not in P.nouns or any(qa <= t.start < qb for qa, qb in self.quoted):
                continue
            kids = [c for c in self.kids(n) if sa <= c < sb]
            owner = next((c for c in kids if c < n and (toks[c].dep in P.owner or toks[c].dep in P.owner_adjective
                                                        and toks[c].ent in P.owner_entities)), None)
            if owner is None:
                # "a statement from the ministry", "a decision by the FBI to ...": the agent
                for c in kids:
                    if c > n and toks[c].dep in P.preposition and toks[c].low in P.noun_agents:
                        obj = next((x for x in self.kids(c) if sa <= x < sb), None)
                        if obj is not None and self.human(*self.subject_phrase(obj, sa, sb)):
                            owner = obj
                            kids = [x for x in kids if x != c]
                            break
            if owner is None:
                continue
            idx: list[int] = []
            cue_end = n + 1
            for c in kids:
                if c <= n:
                    continue
                if toks[c].dep in P.noun_clause:
                    idx += self.sub_tokens(c, sa, sb)
                elif toks[c].dep in P.preposition and toks[c].low in P.noun_preps and not self.is_time(c, sa, sb):
                    inner = [x for x in self.kids(c) if sa <= x < sb]
                    if toks[c].low in P.addressee_preps and any(
                            (nm := self.c.name_at.get(x)) is not None and nm.type in ("PER", "ORG")
                            or toks[x].low in lex.pronouns for x in inner):
                        continue  # "his statements to the FBI": the addressee, not the content
                    for x in inner:
                        idx += self.sub_tokens(x, sa, sb)
                    if c == cue_end and inner:
                        cue_end = c + 1
            idx = sorted(set(idx))
            if not idx:
                continue
            frags = self.runs(idx)
            if frags and toks[frags[0][0]].low in lex.comps and frags[0][1] - frags[0][0] > 1:
                frags[0] = (frags[0][0] + 1, frags[0][1])
            frags = [(a, b) for a, b in frags if any(not toks[k].punct for k in range(a, b))]
            if not frags:
                continue
            a_, b_ = self.subject_phrase(owner, sa, sb)
            e_ = b_  # the phrase with its possessive ending ("Trump’s"), as PolNeAR marks it
            while b_ > a_ + 1 and toks[b_ - 1].low in ("’s", "'s", "’", "'"):
                b_ -= 1
            sp = self.speaker_from(a_, b_, n)
            if sp is None and toks[owner].dep in P.owner_adjective:  # "Russian claims": the group names itself
                sp = Speaker(start=toks[a_].start, end=toks[b_ - 1].end, text=text[toks[a_].start:toks[b_ - 1].end],
                             name=text[toks[a_].start:toks[b_ - 1].end])
            if sp is not None and e_ > b_ and lex.speaker_extent == "phrase" and sp.end == toks[b_ - 1].end:
                sp = Speaker(start=sp.start, end=toks[e_ - 1].end, text=text[sp.start:toks[e_ - 1].end], name=sp.name)
            if sp is None:
                continue
            ca, cb = toks[frags[0][0]].start, toks[frags[-1][1] - 1].end
            if any(o.start <= t.start < o.end for o, _ in self.out):
                continue  # inside a report already ("said that his criticism of ...")
            cue_span = self.span(t.start, toks[cue_end - 1].end)
            for a, b in frags:
                fa, fb = self.strip_marks(toks[a].start, toks[b - 1].end)
                if fb > fa:
                    q = Quote(start=fa, end=fb, text=text[fa:fb], kind="indirect", speaker=sp.model_copy(),
                              cue=cue_span, hearsay=self.hearsay_in(n, ca, cb))
                    self.add(q, ("indirect", fa, fb, n))

    def parsed_reports(self, sa: int, sb: int) -> None:
        """Cue verbs with their subject and complement, from the parse:
        "X said (that) ...", "..., X said", "X, who said ...", "X told reporters
        that ...", "X called for ...", "X criticized Y for ...", "X refused to
        ..."; the content is the clausal complement, else the verb's
        complements after it (object, infinitive, prepositional object)."""
        toks, lex, text = self.toks, self.lex, self.text
        P = lex.parse
        for v in range(sa, sb):
            t = toks[v]
            if t.pos != "VERB" or v in self.frames or v in self.used_cues:
                continue
            if any(qa <= t.start < qb for qa, qb in self.quoted):
                continue  # inside a quotation: the quote records it ("“I think ...,” she said")
            if t.lemma in P.raising:
                continue  # raising_reports
            weak = P.lemmas.get(t.lemma)
            kids = [c for c in self.kids(v) if sa <= c < sb]
            generic = False
            phrasal = None
            if t.lemma in P.phrasal:
                phrasal = next((c for c in kids if c > v and toks[c].low in P.phrasal[t.lemma]
                                and (toks[c].dep in P.preposition or toks[c].dep in P.particle)
                                and all(toks[j].dep in P.phrasal_gap or toks[j].ent in P.time_entities
                                        for j in range(v + 1, c))), None)  # "spoke out Tuesday about"
            model = P.model
            learn = model is not None or TRACE is not None
            learned = False  # a candidate the lemma lists do not give: the model decides
            if weak is None:
                if phrasal is not None:
                    weak = False
                elif t.lemma in P.as_only and t.dep in P.as_clause and any(
                        toks[c].dep in P.marker and toks[c].low in P.as_words for c in kids):
                    weak = False  # "As X put it, ..."
                elif learn and t.lemma not in lex.not_cues:
                    weak, learned = False, True
                elif not lex.generic_ccomp or t.low in lex.not_cues or t.lemma in lex.not_cues:
                    continue
                else:
                    generic = True
            negated = any(toks[c].dep in P.negation or toks[c].low in lex.negations for c in kids)
            if negated:
                if not P.negated_cues:
                    if not learn:
                        continue  # "did not say that"
                    learned = True
            cue_end = v + 1
            while cue_end < sb and toks[cue_end].dep in P.particle and toks[cue_end].head == v:
                cue_end += 1  # "point out"
            clause = [c for c in kids if toks[c].dep in P.clause or toks[c].dep in P.unmarked_clause and c > v
                      and self.unmarked_clause(c)]
            idx: list[int] = []
            # a passive report ("was first reported by the Post", "was accused of
            # fraud", "is considered a threat"): its subject is (part of) the content
            psubj = next((c for c in kids if c < v and toks[c].dep in P.passive_subject
                          and toks[c].low not in lex.expletives), None) if P.passive_content and not weak and t.lemma not in P.passive_not else None
            if psubj is not None and not clause:
                idx += self.sub_tokens(psubj, sa, sb)
                preps = P.content_preps | P.phrasal.get(t.lemma, frozenset())
                for c in kids:
                    if c >= cue_end and toks[c].dep in P.complement and not self.is_time(c, sa, sb) \
                            and (toks[c].dep not in P.preposition or toks[c].low in preps):
                        if c == cue_end and toks[c].dep in P.preposition:
                            cue_end = c + 1  # "was accused of X": the preposition belongs to the cue
                            for x in self.kids(c):
                                idx += self.sub_tokens(x, sa, sb)
                        else:
                            idx += self.sub_tokens(c, sa, sb)
            elif clause:
                for c in clause:
                    sub = self.sub_tokens(c, sa, sb)
                    if toks[c].dep in P.unmarked_clause and toks[c].dep not in P.clause:
                        # "said after the convention he would ...": the clause starts at its subject
                        s0 = next(k for k in self.kids(c) if toks[k].dep in P.subject)
                        sub = [k for k in sub if k >= self.sub_tokens(s0, sa, sb)[0]]
                    # "said during a news conference that ...": the clause starts at its marker
                    mark = next((m for m in self.kids(c) if toks[m].dep in P.marker and toks[m].low in lex.comps), None)
                    if mark is not None and mark > v:
                        sub = [k for k in sub if k >= mark]
                    idx += sub
            elif generic or t.lemma in P.clause_only:
                continue
            elif (t.dep in P.parataxis or t.dep in P.as_clause and any(
                    toks[c].dep in P.marker and toks[c].low in P.as_words for c in kids)
                    # "As X reported, ...", "As X put it, ...", not "as he discussed his plan"
                    and not any(c > v and toks[c].dep in P.complement and toks[c].dep not in P.preposition
                                and toks[c].low not in lex.expletives for c in kids)) \
                    and sa <= t.head < sb and any(toks[c].dep in P.subject for c in kids):
                # "The economy, he said, is strong", "As X reported, ...": the clause around the frame
                idx = self.sub_tokens(t.head, sa, sb, skip=frozenset([v]))
            else:
                preps = P.content_preps | P.phrasal.get(t.lemma, frozenset())
                comps = [c for c in kids if c >= cue_end and toks[c].dep in P.complement and not self.is_time(c, sa, sb)
                         and (toks[c].dep not in P.preposition or toks[c].low in preps
                              or learned and LEARNED_PREPS and c == cue_end)]  # "reserved his passion for": the model judges
                if not comps:
                    continue
                if t.lemma in P.needs_predicate and phrasal is None and all(
                        toks[c].dep in P.direct_object or toks[c].dep in P.preposition for c in comps):
                    continue  # "called an emergency meeting", not "called him a liar"
                first = min(comps)
                if first == cue_end and toks[first].dep in P.preposition:
                    # "talk about X", "call for X": the preposition belongs to the cue
                    inner = [c for c in self.kids(first) if sa <= c < sb]
                    if not inner:
                        continue
                    cue_end = first + 1
                    for c in inner:
                        idx += self.sub_tokens(c, sa, sb)
                    comps = comps[1:]
                for c in comps:
                    idx += self.sub_tokens(c, sa, sb)
            idx = sorted(set(idx))
            if not idx:
                continue
            # a sibling report inside the content ("... that A, arguing that B"): a
            # participle or coordinated reporting verb with a clause of its own is an
            # attribution of its own (PolNeAR gives each token one attribution)
            sib = [k for k in idx if toks[k].pos == "VERB" and toks[k].lemma in P.lemmas
                   and toks[k].dep in P.inherit and toks[k].dep not in P.infinitive and not P.lemmas[toks[k].lemma]
                   and toks[k].head in idx and k > v and (
                       toks[k].tag in P.active_participle and any(toks[c].dep in P.clause for c in self.kids(k))
                       # "said it was opposed and warned North Korea to ...": a finite cue
                       # coordinated inside the clause, without a subject, is the speaker's
                       or toks[k].dep in P.coordination and toks[k].tag in P.finite
                       and not any(toks[c].dep in P.subject or toks[c].dep in P.passive_subject for c in self.kids(k)))]
            if sib:
                cut = set()
                for k in sib:
                    cut.update(self.sub_tokens(k, sa, sb))
                    self.siblings[k] = v  # its source is this report's
                idx = [k for k in idx if k not in cut]
                if not idx:
                    continue
            frags = self.runs(idx)
            for i, (a1, b1) in enumerate(frags):
                while b1 > a1 + 1 and (toks[b1 - 1].low in lex.coordinators or toks[b1 - 1].punct
                                       and toks[b1 - 1].text not in (")", "]")):
                    b1 -= 1  # "... and" left by a cut
                frags[i] = (a1, b1)
            if frags:
                # not content: the complementiser, a coordinator, a time right after the
                # cue ("said Tuesday his actions ...")
                a0, b0 = frags[0]
                while a0 < b0 - 1 and (toks[a0].low in lex.comps or toks[a0].low in lex.coordinators
                                       or a0 < v + 4 and a0 > v and toks[a0].ent in P.time_entities):
                    a0 += 1
                while a0 < b0 and toks[a0].punct:
                    a0 += 1
                frags[0] = (a0, b0)
            frags = [(a, b) for a, b in frags if b > a and any(not toks[k].punct for k in range(a, b))
                     and not (b - a == 1 and toks[a].low in lex.coordinators)]
            if not frags:
                continue
            n_words = sum(1 for a, b in frags for k in range(a, b) if not toks[k].punct)
            if clause and n_words < 2:
                continue
            # the speaker (a sibling report cut from another's content has that one's)
            role, sk = self.parse_subject(self.siblings.get(v, v), sa, sb)
            sp = None
            if role in ("subject", "agent"):
                a_, b_ = self.subject_phrase(sk, sa, sb)
                if a_ <= v < b_:
                    # "a statement saying that ...", "911 calls saying ...": the noun the
                    # participle modifies, without the participle's phrase
                    b_ = min(self.sub_tokens(v, sa, sb)[0], self.cue_start(v, sa))
                    while b_ > a_ + 1 and toks[b_ - 1].punct and toks[b_ - 1].text != ")":
                        b_ -= 1
                    if b_ <= a_:
                        continue
                pron = b_ - a_ == 1 and toks[a_].low in lex.pronouns
                rel = b_ - a_ == 1 and toks[a_].low in lex.relatives and toks[v].dep in P.relative
                # "It says the campaign violated ...", "unless it wants to ...": "it" as the
                # subject of an active cue refers (a letter, a report, an agency); not "it seems"
                it_ref = pron and toks[a_].low in lex.expletives and P.referential_it and role == "subject"
                if (weak or generic) and not (self.human(*self.antecedent_phrase(a_, sa, sb)) if rel else
                                              self.human(a_, b_) or sk in self.c.name_at or it_ref):
                    continue
                if toks[a_].low in lex.expletives and not it_ref:
                    continue
                if pron and any(o.start <= t.start < o.end for o, _ in self.out if o.kind != "direct"):
                    continue  # "Trump said he thinks that ...": the outer report says it
                sp = self.resolve_pronoun(a_, v) if it_ref or rel else self.speaker_from(a_, b_, v)
                if sp is None and (pron or rel) and P.keep_unresolved:
                    # a pronoun without a named antecedent: the speaker is the pronoun, its name unknown
                    sp = Speaker(start=toks[a_].start, end=toks[a_].end, text=toks[a_].text, name=None)
                if sp is None:
                    continue
            elif role == "passive" and (t.lemma in P.speakerless or psubj is not None):
                pass  # "Asked whether ...", "It was reported that ...": no speaker
            else:
                continue
            ca, cb = toks[frags[0][0]].start, toks[frags[-1][1] - 1].end
            if any(ca <= da and db <= cb and (db - da) >= 0.5 * (cb - ca) for da, db, _ in self.covered_direct):
                continue
            cue_span = self.span(toks[self.cue_start(v, sa)].start, toks[cue_end - 1].end)
            if learn:
                feats = self.cue_features(v, sa, sb, kids, role, sk, clause, frags, phrasal, negated, weak is None)
                score = model.score(feats) if model is not None else 0.0
                if TRACE is not None:
                    TRACE.append({"v": v, "feats": feats, "learned": learned, "cue": (cue_span.start, cue_span.end),
                                  "content": [(toks[a].start, toks[b - 1].end) for a, b in frags],
                                  "source": (sp.start, sp.end) if sp is not None else None})
                if model is None:
                    if learned:
                        continue
                elif learned and (score < model.add or "L=" + t.lemma not in model.weights or self.title_only(frags)) or not learned and score < model.keep and "in_rep" not in feats:
                    continue  # a listed cue inside another report stays: nested attribution is kept
            hearsay = self.hearsay_in(v, ca, cb)
            for a, b in frags:
                fa, fb = self.strip_marks(toks[a].start, toks[b - 1].end)
                if fb <= fa:
                    continue
                q = Quote(start=fa, end=fb, text=text[fa:fb], kind="indirect",
                          speaker=sp.model_copy() if sp is not None else None, cue=cue_span, hearsay=hearsay)
                self.add(q, ("indirect", fa, fb, v))
            self.used_cues.add(v)

    def unmarked_clause(self, c: int) -> bool:
        """An adverbial clause with a subject of its own and no marker, after a
        cue: a clausal complement the parser misread ("Trump said after the
        convention he would not accept ...")."""
        toks, P = self.toks, self.lex.parse
        kids = self.kids(c)
        subj = next((k for k in kids if toks[k].dep in P.subject and k < c), None)
        # no marker, no "when", "as", "if": before its subject only a time or
        # place the cue has ("after the convention")
        finite = toks[c].tag in P.finite or any(toks[k].tag in P.finite and toks[k].dep in P.cue_parts for k in kids)
        return finite and subj is not None and all(
            toks[k].dep in P.preposition and toks[k].tag != "WRB" for k in kids if k < subj)

    def title_only(self, frags: list[tuple[int, int]]) -> bool:
        """The content is one short quoted fragment: a title or a scare quote
        ("read 'War and Peace'"), not a report by itself."""
        toks = self.toks
        a, b = toks[frags[0][0]].start, toks[frags[-1][1] - 1].end
        n = sum(1 for x, y in frags for k in range(x, y) if not toks[k].punct)
        return n < self.lex.min_free_words and any(qa <= a and b <= qb + 1 for qa, qb in self.quoted)

    def cue_features(self, v: int, sa: int, sb: int, kids: list[int], role: str, sk: Optional[int],
                     clause: list[int], frags: list[tuple[int, int]], phrasal: Optional[int],
                     negated: bool, _unused: bool = False) -> list[str]:
        """Features of a candidate report for the cue model: the verb's lemma,
        its dependents, its subject (kind and head), its complement, where it
        hangs, and those conjoined with the lemma."""
        toks, lex, P = self.toks, self.lex, self.lex.parse
        t = toks[v]
        L = t.lemma
        f = ["L=" + L, "dep=" + t.dep, "tag=" + t.tag, "L|dep=" + L + "|" + t.dep, "L|tag=" + L + "|" + t.tag]
        if L in P.lemmas:
            f.append("known")
        if phrasal is not None:
            f.append("phr")
            f.append("L|phr=" + L + "|" + toks[phrasal].low)
        if negated:
            f += ["neg", "L|neg=" + L]
        f += ["cl" if clause else "nocl", ("L|cl=" if clause else "L|nocl=") + L]
        for d in sorted({toks[c].dep for c in kids}):
            f.append("k=" + d)
        for c in kids:
            d = toks[c].dep
            if d in P.cue_parts or d == "aux":
                f.append("aux=" + toks[c].low)
            elif d in P.direct_object:
                f += ["o=" + toks[c].lemma, "L|o=" + L + "|" + toks[c].lemma]
            elif d in P.preposition and c > v:
                f += ["p=" + toks[c].low, "L|p=" + L + "|" + toks[c].low]
            elif d == "xcomp":
                f += ["x=" + toks[c].lemma, "L|x=" + L + "|" + toks[c].lemma]
            elif d in P.clause:
                mark = next((m for m in self.kids(c) if toks[m].dep in P.marker), None)
                f.append("mark=" + (toks[mark].low if mark is not None else "-"))
            elif d == "advmod":
                f.append("adv=" + toks[c].low)
        if t.head != v and sa <= t.head < sb:
            f.append("h=" + toks[t.head].lemma + "|" + t.dep)
            f.append("hpos=" + toks[t.head].pos + "|" + t.dep)
        else:
            f.append("root")
        # the subject
        kind = "none"
        if sk is not None and role in ("subject", "agent"):
            s = toks[sk]
            nm = self.c.name_at.get(sk)
            if s.low in lex.pronouns:
                kind = "pron:" + s.low
            elif nm is not None and nm.type:
                kind = nm.type
            elif s.low in lex.descriptions:
                kind = "desc"
            else:
                kind = s.pos
                f.append("sl=" + s.lemma)
            f.append("inv" if sk > v else "pre")
        f += ["s=" + role + ":" + kind, "L|s=" + L + "|" + kind.split(":")[0]]
        # the content
        n = sum(1 for a, b in frags for k in range(a, b) if not toks[k].punct)
        nb = "1" if n <= 1 else "2" if n <= 2 else "5" if n <= 5 else "10" if n <= 10 else "20" if n <= 20 else "M"
        f += ["n=" + nb, "L|n=" + L + "|" + nb, "fr=%d" % min(len(frags), 3)]
        if frags[0][0] < v:
            f.append("before")
        if any(qa <= toks[a].start < qb for a, b in frags for qa, qb in self.quoted):
            f.append("qin")
        st = toks[v].start
        if any(o.start <= st < o.end for o, _ in self.out):
            f.append("in_rep")
        return f

    def generic_reports(self, sa: int, sb: int) -> None:
        """With a parse: any verb outside the table whose subject is a person,
        organisation, pronoun or speaker description and which has a clausal
        complement ("Trump insisted that ...", "she knows that ...")."""
        toks, lex, text = self.toks, self.lex, self.text
        for t in toks[sa:sb]:
            if t.dep != "ccomp" or t.head == t.i:
                continue
            h = t.head
            if not (sa <= h < sb) or h in self.used_cues or h in self.frames or toks[h].pos != "VERB":
                continue
            if toks[h].low in lex.cues or toks[h].low in lex.not_cues:
                continue
            if any(toks[x].low in lex.negations and toks[x].head == h for x in range(sa, sb)):
                continue
            subj = None
            for u in toks[sa:sb]:
                if u.head == h and u.dep in ("nsubj", "nsubj:pass") and u.i != h:
                    subj = u.i
                    break
            if subj is None:
                continue
            nm = self.c.name_at.get(subj)
            human = (nm is not None and nm.type in ("PER", "ORG")) or toks[subj].low in lex.pronouns \
                and toks[subj].low not in lex.expletives or toks[subj].low in lex.descriptions
            if not human:
                continue
            a_, b_ = self.subtree(t.i, sa, sb)
            if a_ < h:
                continue  # preposed clauses: only with a table cue
            a_ = self.clause_start_after(a_, sb)
            while b_ > a_ and toks[b_ - 1].punct:
                b_ -= 1
            if b_ <= a_:
                continue
            ca, cb = self.strip_marks(toks[a_].start, toks[b_ - 1].end)
            if cb <= ca or any(ca <= da and db <= cb and (db - da) >= 0.5 * (cb - ca) for da, db, _ in self.covered_direct):
                continue
            r = self.subject_of(h, sa, sb, sb)
            if r is None:
                continue
            sp = self.speaker_from(r[0], r[1], h)
            if sp is None:
                continue
            q = Quote(start=ca, end=cb, text=text[ca:cb], kind="indirect", speaker=sp,
                      cue=self.span(toks[h].start, toks[h].end), hearsay=self.hearsay_in(h, ca, cb))
            self.add(q, ("indirect", ca, cb, h))

    def reported(self, cue: tuple, sa: int, sb: int) -> None:
        toks, lex, text = self.toks, self.lex, self.text
        c0, c1, lemma, weak = cue
        # the clause: a complementiser within the gap, or the parse's clausal complement
        comp = None
        j = c1
        while j < sb and j - c1 <= lex.max_gap:
            if toks[j].low in lex.comps:
                comp = j
                break
            if toks[j].punct and toks[j].text not in (",",):
                break
            if toks[j].text == "," and j + 1 < sb and toks[j + 1].low not in lex.comps:
                break
            j += 1
        content = None
        kind = "indirect"
        if comp is not None and comp + 1 >= sb:
            return  # "zei dat" and nothing after it
        if comp is not None:
            cs = comp + 1
            ce = self.content_end(cs, sb)
            if self.c.has_dep:
                # the clause governed by the complementiser
                hd = toks[comp].head
                if hd != comp and sa <= hd < sb:
                    a_, b_ = self.subtree(hd, sa, sb)
                    if a_ <= comp < b_:
                        while b_ > cs and toks[b_ - 1].punct and toks[b_ - 1].text in ".!?;:,":
                            b_ -= 1
                        if b_ > cs:
                            ce = max(toks[b_ - 1].end, ce) if self.coordinated_that(b_, sb) else toks[b_ - 1].end
            content = (toks[cs].start, ce) if cs < sb else None
            kind = "indirect"
        elif self.c.has_dep and not weak:
            for t in toks[sa:sb]:
                if t.head == c0 and t.dep in ("ccomp", "parataxis", "xcomp") and t.i != c0:
                    a_, b_ = self.subtree(t.i, sa, sb)
                    if a_ > c0:
                        a_ = self.clause_start_after(a_, sb)
                    while b_ > a_ and toks[b_ - 1].punct and toks[b_ - 1].text in ".!?;:,\"”’'":
                        b_ -= 1
                    while a_ < b_ and toks[a_].punct and toks[a_].text in "\"“‘',":
                        a_ += 1
                    if b_ > a_:
                        content = (toks[a_].start, toks[b_ - 1].end)
                    break
            kind = "indirect"
        if content is None and comp is None and lex.infinitive_marker and lemma in lex.infinitive_cues:
            # a te-infinitive: "Rutte zegt regelmatig contact te hebben met Zelensky"
            e = c1
            while e < sb and not (toks[e].punct and toks[e].text != "-") and e - c1 <= 12:
                e += 1
            te = next((j for j in range(c1, e) if toks[j].low == lex.infinitive_marker), None)
            if te is not None and te + 1 < e:
                subj = self.subject_of(c0, sa, sb, e)
                cs = c1
                if subj is not None and subj[0] >= c1:
                    cs = subj[1]  # the subject after the verb is not content
                if cs < te:
                    content = (toks[cs].start, toks[e - 1].end)
        if content is None and comp is None:
            # preposed content: "..., zegt X." / "..., he said."
            if c0 > sa + 2 and toks[c0 - 1].text == "," or (c0 > sa + 2 and toks[c0 - 1].punct is False and c0 - 2 >= sa and toks[c0 - 2].text == "," and toks[c0 - 1].low in lex.pronouns):
                comma = c0 - 1 if toks[c0 - 1].text == "," else c0 - 2
                a_, b_ = sa, comma
                while a_ < b_ and toks[a_].punct:
                    a_ += 1
                if b_ > a_:
                    content = (toks[a_].start, toks[b_ - 1].end)
            # "Dat meldt X." : the previous sentence
            elif c0 == sa + 1 and toks[sa].low in ("dat", "dit", "that", "this") and toks[sa].sent > 0:
                pa, pb = self.c.sents[toks[sa].sent - 1]
                e = pb
                while e > pa and toks[e - 1].punct:
                    e -= 1
                if e > pa:
                    content = (toks[pa].start, toks[e - 1].end)
        if content is None or content[1] <= content[0] or " " not in text[content[0]:content[1]].strip():
            return  # nothing, or a single word: no clause
        cs_ = self.clause_start(c0, sa)
        if any(toks[j].low in lex.negations for j in range(cs_, comp if comp is not None else min(c1 + 1, sb))):
            return  # "gaf nog nooit toe dat", "did not say that"
        # the speaker
        subj = self.subject_of(c0, sa, sb, comp if comp is not None else sb)
        if subj is None:
            return
        sp = self.speaker_from(subj[0], subj[1], c0)
        if sp is None:
            return
        if weak and not (self.c.name_at.get(subj[0]) or any(k in self.c.name_at for k in range(*subj))
                         or toks[subj[0]].low in lex.pronouns):
            return
        # a quoted fragment inside the clause with the same frame already speaks for it
        a, b = content
        for da, db, dsp in self.covered_direct:
            if a <= da and db <= b and (db - da) >= 0.5 * (b - a):
                return
        cue_span = self.span(toks[c0].start, toks[c1 - 1].end)
        hearsay = self.hearsay_in(c0, a, b)
        q = Quote(start=a, end=b, text=text[a:b], kind=kind, speaker=sp, cue=cue_span, hearsay=hearsay)
        self.add(q, ("indirect", a, b, c0))
        self.used_cues.add(c0)

    def coordinated_that(self, b_: int, sb: int) -> bool:
        toks = self.toks
        return b_ < sb - 1 and toks[b_].low in ("en", "and") and toks[b_ + 1].low in self.lex.comps

    def according_parse(self, k: int, n_acc: int, sa: int, sb: int) -> bool:
        """"According to X, ...", "..., according to X" with a parse: the source is
        the whole object of "to" ("early results of exit polls conducted for the
        AP"), the content the clause the phrase hangs on, without it."""
        toks, text, lex = self.toks, self.text, self.lex
        last = k + n_acc - 1
        obj = [c for c in self.kids(last) if sa <= c < sb and c > last]
        h = toks[k].head
        if not obj or h == k or not (sa <= h < sb):
            return False
        src = self.sub_tokens(obj[0], sa, sb)
        a, b = src[0], src[-1] + 1
        while b > a + 1 and toks[b - 1].punct and toks[b - 1].text != ")":
            b -= 1
        non_agent = any(toks[j].low in lex.non_agents for j in range(a, b))
        sp = self.speaker_from(a, b, k)
        if sp is None and (non_agent or b - a > 1):
            s0, s1 = toks[a].start, toks[b - 1].end
            sp = Speaker(start=s0, end=s1, text=text[s0:s1], name=text[s0:s1])
        if sp is None:
            return False
        idx = self.sub_tokens(h, sa, sb, skip=frozenset([k]))
        idx = [j for j in idx if not (k <= j < b)]
        frags = self.runs(idx)
        if frags and toks[frags[0][0]].low in lex.coordinators:
            frags[0] = (frags[0][0] + 1, frags[0][1])
        frags = [(x, y) for x, y in frags if y > x and any(not toks[j].punct for j in range(x, y))]
        if not frags or sum(y - x for x, y in frags) < 2:
            return False
        ca, cb = toks[frags[0][0]].start, toks[frags[-1][1] - 1].end
        if any(ca <= da and db <= cb and (db - da) >= 0.5 * (cb - ca) for da, db, _ in self.covered_direct):
            return True
        cue = self.span(toks[k].start, toks[last].end)
        hearsay = self.hearsay_in(k, ca, cb)
        for x, y in frags:
            fa, fb = self.strip_marks(toks[x].start, toks[y - 1].end)
            if fb > fa:
                q = Quote(start=fa, end=fb, text=text[fa:fb], kind="according_to", speaker=sp.model_copy(),
                          cue=cue, hearsay=hearsay)
                self.add(q, ("according_to", fa, fb, k))
        return True

    def according_to(self, k: int, n_acc: int, sa: int, sb: int) -> None:
        toks, text = self.toks, self.text
        if self.lex.parse is not None and self.c.has_dep and self.according_parse(k, n_acc, sa, sb):
            return
        a, b = self.np_right(k + n_acc, sb)
        if b <= a:
            return
        non_agent = any(toks[j].low in self.lex.non_agents for j in range(a, b))
        sp = None if non_agent else self.speaker_from(a, b, k)
        if sp is None and not non_agent:
            return
        cue = self.span(toks[k].start, toks[k + n_acc - 1].end)
        e = sb
        while e > sa and toks[e - 1].punct and toks[e - 1].text in ".!?;:":
            e -= 1
        if k == sa or (k == sa + 1 and toks[sa].punct):
            # "Volgens X (,) <clause>"
            cs = self.clause_start_after(b, sb)
            if cs >= e:
                return
            ca, cb = toks[cs].start, toks[e - 1].end
        elif toks[k - 1].text == "," and b >= e:
            # "<clause>, volgens X."
            s0 = sa
            while s0 < k and toks[s0].punct:
                s0 += 1
            if k - 1 <= s0:
                return
            ca, cb = toks[s0].start, toks[k - 2].end
        else:
            # interrupting: the whole clause
            s0 = sa
            while s0 < e and toks[s0].punct:
                s0 += 1
            if s0 >= e:
                return
            ca, cb = toks[s0].start, toks[e - 1].end
        ca, cb = self.strip_marks(ca, cb)
        if cb <= ca:
            return
        # "..., meldt Reuters" after the clause is a frame of its own
        kc = self.tok_at(ca)
        cb = min(cb, self.content_end(kc, self.tok_at(cb - 1) + 1)) if kc < self.tok_at(cb - 1) else cb
        for da, db, _ in self.covered_direct:
            if ca <= da and db <= cb and (db - da) >= 0.5 * (cb - ca):
                return
        hearsay = self.hearsay_in(k, ca, cb)
        q = Quote(start=ca, end=cb, text=text[ca:cb], kind="according_to", speaker=sp, cue=cue, hearsay=hearsay)
        self.add(q, ("according_to", ca, cb, k))

    def postposed(self, k: int, sa: int, sb: int) -> None:
        """'<content>, aldus X.' without quotation marks."""
        toks, text = self.toks, self.text
        if toks[k - 1].text != "," and toks[k - 1].text not in self.lex.closers:
            return
        if k in self.frames:
            return
        a, b = self.np_right(k + 1, sb)
        sp = self.speaker_from(a, b, k)
        if sp is None:
            return
        s0 = sa
        while s0 < k and toks[s0].punct:
            s0 += 1
        e = k - 1
        while e > s0 and toks[e - 1].punct:
            e -= 1
        if e <= s0:
            return
        ca, cb = self.strip_marks(toks[s0].start, toks[e - 1].end)
        for da, db, _ in self.covered_direct:
            if not (db <= ca or cb <= da):
                return
        q = Quote(start=ca, end=cb, text=text[ca:cb], kind="according_to", speaker=sp,
                  cue=self.span(toks[k].start, toks[k].end), hearsay=self.hearsay_in(k, ca, cb))
        self.add(q, ("according_to", ca, cb, k))

    def strip_marks(self, a: int, b: int) -> tuple[int, int]:
        text = self.text
        while a < b and (text[a] in self.lex.all_marks or text[a].isspace()):
            a += 1
        while b > a and (text[b - 1] in self.lex.all_marks or text[b - 1].isspace()):
            b -= 1
        # a quoted fragment at the end keeps its closing mark: 'handed out "like candy."'
        span = text[a:b]
        for o, closers in self.lex.marks.items():
            if o in span and (span.count(o) % 2 == 1 if o in closers else
                              not any(c in span[span.rindex(o) + 1:] for c in closers)):
                e = b
                while e < len(text) and e < b + 2 and text[e] in ".,;!?":
                    e += 1
                if e < len(text) and text[e] in closers:
                    return a, e + 1
        return a, b

    # -- hearsay ---------------------------------------------------------------

    def hearsay_in(self, cue_tok: Optional[int], a: Optional[int], b: Optional[int]) -> bool:
        """A hearsay marker in the frame (around the cue) or in the content [a, b)."""
        toks, lex = self.toks, self.lex
        ranges = []
        if cue_tok is not None:
            sa, sb = self.sent_range(cue_tok)
            # the frame: the sentence outside the content
            if a is not None:
                ka, kb = self.tok_at(a), self.tok_at(max(a, b - 1)) + 1
                ranges.append((sa, ka))
                ranges.append((kb, sb))
                ranges.append((ka, kb))
            else:
                ranges.append((max(sa, cue_tok - 6), min(sb, cue_tok + 6)))
        elif a is not None:
            ranges.append((self.tok_at(a), self.tok_at(max(a, b - 1)) + 1))
        for lo, hi in ranges:
            for k in range(lo, hi):
                if toks[k].low in lex.hearsay_words:
                    return True
                for ph in lex.hearsay_phrases:
                    if toks[k].low == ph[0] and all(k + m < hi and toks[k + m].low == ph[m] for m in range(1, len(ph))):
                        return True
        return False

    def unattributed_hearsay(self) -> None:
        toks, lex, text = self.toks, self.lex, self.text
        covered = [(q.start, q.end) for q, _ in self.out]
        for sa, sb in self.c.sents:
            marker = None
            for k in range(sa, sb):
                t = toks[k]
                if t.low in lex.conditional or t.text == "?":
                    marker = None
                    break
                if marker is not None:
                    continue
                if t.low in lex.hearsay_words:
                    # the finite verb of the main clause: no subordinator or comma before it
                    if k + 1 < sb and toks[k + 1].low in lex.modal_after_hearsay:
                        continue
                    if k - sa > 10 or any(toks[j].low in lex.comps or toks[j].text in (",", ":")
                                          or toks[j].low in lex.function_words and toks[j].low in
                                          ("die", "wat", "waar", "who", "which", "of", "als", "omdat")
                                          for j in range(sa, k)):
                        continue
                    marker = (k, k + 1)
                    continue
                for ph in lex.hearsay_phrases:
                    if t.low == ph[0] and all(k + m < sb and toks[k + m].low == ph[m] for m in range(1, len(ph))):
                        marker = (k, k + len(ph))
                        break
            if marker is None:
                continue
            e = sb
            while e > sa and toks[e - 1].punct:
                e -= 1
            s0 = sa
            while s0 < e and toks[s0].punct:
                s0 += 1
            if e <= s0:
                continue
            ca, cb = self.strip_marks(toks[s0].start, toks[e - 1].end)
            if cb <= ca:
                continue
            if any(not (qb <= ca or cb <= qa) for qa, qb in covered):
                # an attributed quote covers it: flag that one instead
                for q, _ in self.out:
                    if not (q.end <= ca or cb <= q.start):
                        q.hearsay = True
                continue
            m0, m1 = marker
            q = Quote(start=ca, end=cb, text=text[ca:cb], kind="according_to", speaker=None,
                      cue=self.span(toks[m0].start, toks[m1 - 1].end), hearsay=True)
            self.add(q, ("hearsay", ca, cb))

    def reresolve_pronouns(self) -> None:
        """Direct quotes were resolved before the indirect ones were known: a
        pronoun speaker is resolved again now that every earlier speaker is."""
        lex = self.lex
        done: set[int] = set()
        self.out.sort(key=lambda e: e[0].start)
        for q, _ in self.out:
            sp = q.speaker
            if sp is None or sp.start in done or sp.text.lower() not in lex.pronouns or q.kind != "direct":
                continue
            done.add(sp.start)
            k = self.tok_at(sp.start)
            new = self.resolve_pronoun(k, k)
            if new is not None and new.name != sp.name:
                for q2, _ in self.out:
                    if q2.speaker is not None and q2.speaker.start == sp.start:
                        q2.speaker.name = new.name

    # -- output ------------------------------------------------------------------

    def add(self, q: Quote, key: tuple) -> None:
        for other, okey in self.out:
            if other.start == q.start and other.end == q.end and (
                other.cue is None or q.cue is None or other.cue.start == q.cue.start
            ):
                return
        self.out.append((q, key))

    def run(self) -> None:
        self.direct_quotes()
        self.indirect()
        for q in self.deferred:
            if not any(o.start < q.end and q.start < o.end for o, _ in self.out):
                self.add(q, ("direct", q.start, q.end))
                self.covered_direct.append((q.start, q.end, q.speaker))
        self.reresolve_pronouns()
        if self.lex.emit_hearsay:
            self.unattributed_hearsay()
        quotes = [q for q, _ in self.out]
        quotes.sort(key=lambda q: (q.start, q.end, q.cue.start if q.cue else -1))
        self.c.quotes = quotes


# --- the stage ------------------------------------------------------------------


@register_stage("quotes")
class QuotesStage:
    """Fills ``article.quotes`` from the text, the Doc and the mentions layer."""

    def __init__(self, lang: str, mode: str):
        self.lang = lang
        self.mode = mode
        self.lex = load_lexicon(lang)

    def __call__(self, articles: list[Article]) -> None:
        if self.lex is None:
            return
        for article in articles:
            try:
                article.quotes = extract(article.text, article._doc, article.mentions, self.lang, article.places)
            except Exception as e:  # one odd text never costs the batch
                article.quotes = []
                article.warnings.append(f"quotes: skipped ({type(e).__name__}: {e})")
