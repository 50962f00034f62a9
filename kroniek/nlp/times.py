"""Time expressions: find them and normalise them to TIMEX3 against the article date.

The engine is language-independent. What a language says (month names,
numerals, modifiers, relative words, the rule patterns themselves) lives in
``lexicon/<lang>/times.toml``; adding a language means adding that table.

How it works
------------
* Every rule in the table is a regex *template* over word classes, e.g.
  ``{mod}? {day} {month_any} {year}?``. A class is an alternation built from a
  word table (``[words.month]``: name -> number) and/or a raw regex
  (``[regex.day]``). All rules of a language are compiled into ONE regex of
  named alternatives, in table order (earlier rules win at the same position).
  Two cheap C-level scans find where to try it: ``trigger`` (word starts
  that may begin a rule: table words, digits, ``settings.triggers``) and
  ``anchor`` (digits and words of the "time" tables: months, units,
  weekdays, ...). The big regex is only tried at a trigger with an anchor
  within ``anchor_reach`` characters, so there is no per-token Python.
* Each rule has a ``kind`` (``date``, ``deictic``, ``weekday``, ``rel``,
  ``season``, ``ago``, ``duration``, ``set``, ``vague``, ``time``,
  ``holiday``, ``quarter``, ``decade``, ``century``, ``anaphor``, ``fixed``,
  ``coday``: "April 24 and 25", a later day of the month just named). The resolver for a kind
  reads the named groups (``day``, ``month``, ``shift``, ``unit``, ...) and
  the word-table values behind them, and returns TIMEX3 ``type``/``value``/
  ``mod``. Resolvers know the calendar, not the language.
* English follows TimeML where "three days later"/"an hour earlier" is a
  DURATION (``settings.duration_signals``); its interval is still the day it
  lands on, counted from the time the text is about.
* ``begin``/``end_date`` (inclusive days) follow from the value and ``mod``:
  ``START``/``END`` are the first/second half of the unit, ``MID`` its middle
  half (``eind februari`` 2022 -> 2022-02-15..2022-02-28).

Anchors and precision
---------------------
The anchor is the article's ``published`` date at its own precision.

* Day precision: relative expressions are computed from that day.
* Month or year precision (``2022-09``): the expression is resolved from the
  first, the middle and the last day the anchor may denote. When all three
  agree (``februari``, ``vorige maand``, ``vorig jaar`` in a 2022-09 article)
  that value stands. When they differ (``gisteren``, ``vorige week``,
  ``maandag``), the value is the middle-day reading cut to the anchor's own
  precision (``2022-09``), because that is the coarsest value that is still
  a correct and useful statement and the Dutch gold annotates it so, and the
  modifier is dropped. The interval is then the hull of everything it could
  denote and of the value's own interval: ``vorige week`` in 2022-09 ->
  2022-08-22..2022-09-30, ``gisteren`` -> 2022-08-31..2022-09-30. The value
  is never finer than the anchor; the interval always contains every day the
  expression could mean.
* No anchor: expressions are still found; whatever needs the anchor gets
  ``value`` null and no interval (durations, sets, PAST_REF etc. keep theirs,
  and so do fully specified dates).

Year inference: a bare month, season, holiday or weekday refers to the most
recent such time (news reports the past) unless a future cue of the table is
the nearest tense cue in its sentence (``zal``, ``volgende``, ``will``); at the
same distance the longer cue wins ("had been scheduled" over "scheduled").
Weak cues (``zou``, ``wordt``, ``would``) make a month after the article month
this year's rather than last year's, and a weekday the coming one where the
table says so (``weekday_weak_future``: Dutch yes, English no, where "would"
and "could" are as often reported speech about the past). Cue tables may list
case-sensitive cues (``may`` the modal, not the month) and words after which a
past form is a participle (``past_not_after``: "will be paid"). Two narrow
exceptions, both data: a full date at most 60 days ahead ("Jan. 14" in an
article of 6 January) is the coming one, and a bare month up to
``near_future_months`` ahead without any tense cue is the coming one (1 for
Dutch: "oktober" in a September article; 3 for English, as TimeBank has it).
The month right after the article's is the coming one whatever the tense but
a future cue (news names last year's as "last September"; "told oil companies
of a cutback in September" in August is reported speech), when the article's
day is known.
After "sinds"/"since" the past reading is forced; after a deadline or a date of
effect (``range.nearest``: "until", "payable", "uiterlijk") a date without a
year is the nearest such date, past or coming, unless a future cue decides; a
weekday or holiday after a deadline word (``range.deadline``: "until Tuesday
morning", "by Friday") is the coming one unless the sentence is in the past
perfect ("Until Thursday, they had not ..."). A past verb of intention before
the date (``tense.intent``: "planned to leave on Thursday", "decided to admit
them in March") counts as a future cue; a reporting verb after the date and a
comma at the end of the sentence (``tense.report``: "..., an official said on
Wednesday") is attribution and no cue. Sentences end at ".!?" or a newline,
but not at the period of an abbreviation (``tense.abbreviations``: "Roe vs.
Wade", "Birmingham, Ala., killed") or one followed by a lower-case word.

Reference time: what the text is about
--------------------------------------
Deictic expressions ("last week", "two weeks ago", "vorige week") count from
the article date. Anaphoric ones count from the time the text is about: the
last date it named (within ``anaphor_reach`` characters, at least as fine as
the unit, and not after the article date, since a target such as "by 1992" is
not what the story tells), else the article date. They are: shift words of
``anaphoric_shifts`` ("the following year", "the previous Friday"), ago words
of ``anaphoric_ago`` ("three days later"), and the ``anaphor`` rules ("that
year", "later that year", "earlier in the day", "the next morning", "het jaar
daarop", "de volgende dag", "for the year"). "The same month a year earlier" /
"dezelfde maand een jaar eerder" / "the quarter a year ago" is that period
moved by the distance named. In financial reports "a year ago/earlier" after a
quarter is that quarter a year before: the quarter the report is about (named
most often among those that ended in the year before the article), and "the
quarter"/"that quarter" is the quarter last named. The quarter reported is the
one named most often, on a tie the first named (the lead names it). After a
part of a year ("for the nine months", ``year_part_durations``) "a year
earlier" and "the 1988 period" are the year before. Periods named for
comparison ("the 1988 quarter", "the year-ago third quarter") and quarters
still to come do not become the reference.

Ranges and open intervals
-------------------------
* ``van 1 tot 3 maart`` / ``March 1 to 3``: one span ``1 tot 3 maart``, type
  DATE, value the finest unit both ends share (``2022-03``), interval exactly
  the range (2022-03-01..2022-03-03).
* ``sinds 24 februari``: the span excludes the preposition (as TimeML and the
  Dutch gold do), value ``2022-02-24``; the interval is open-ended, from
  2022-02-24 to the last day of the anchor (the article date is "now"), or
  ``end_date`` null when there is no anchor. ``tot``/``until`` X sets only
  ``end_date`` (``Tot nu toe`` -> ``nu`` PRESENT_REF, end = article date).
* PRESENT_REF: the anchor interval; PAST_REF: ends at the anchor's end;
  FUTURE_REF: begins at the anchor's start.
"""

from __future__ import annotations

import calendar
import re
import tomllib
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from importlib.resources import files
from typing import Any, Callable, Optional

from ..document import Article, TimeExpr
from .pipeline import register_stage

__all__ = ["find_times", "lexicon_for", "TimesStage", "value_interval", "parse_anchor"]


# --- calendar helpers -----------------------------------------------------------

NEAR_FUTURE_DAYS = 60
SEASON_START = {"SP": 3, "SU": 6, "FA": 9, "WI": 12}
_UNIT_ORDER = ["CE", "DE", "Y", "Q", "M", "W", "WE", "D", "H", "MIN", "S"]


def _month_end(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def _add_months(d: date, n: int) -> date:
    k = d.year * 12 + d.month - 1 + n
    y, m = divmod(k, 12)
    return date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def _add(d: date, n: float, unit: str) -> date:
    if unit == "D":
        return d + timedelta(days=n)
    if unit in ("W", "WE"):
        return d + timedelta(weeks=n)
    if unit == "M":
        return _add_months(d, int(round(n)))
    if unit == "Q":
        return _add_months(d, int(round(3 * n)))
    if unit == "Y":
        return _add_months(d, int(round(12 * n)))
    if unit == "DE":
        return _add_months(d, int(round(120 * n)))
    if unit == "CE":
        return _add_months(d, int(round(1200 * n)))
    return d  # H, MIN, S: same day


def _fmt(d: date, gran: str) -> str:
    if gran == "D":
        return d.isoformat()
    if gran in ("W", "WE"):
        y, w, _ = d.isocalendar()
        return f"{y:04d}-W{w:02d}" + ("-WE" if gran == "WE" else "")
    if gran == "M":
        return f"{d.year:04d}-{d.month:02d}"
    if gran == "Q":
        return f"{d.year:04d}-Q{(d.month - 1) // 3 + 1}"
    if gran == "Y":
        return f"{d.year:04d}"
    if gran == "DE":
        return f"{d.year // 10:03d}"
    if gran == "CE":
        return f"{d.year // 100:02d}"
    return d.isoformat()


_V_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T.*)?$")
_V_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_V_YEAR = re.compile(r"^(\d{4})$")
_V_WEEK = re.compile(r"^(\d{4})-W(\d{2})(-WE)?$")
_V_PART = re.compile(r"^(\d{4})-(Q[1-4]|H[12]|SP|SU|FA|WI)$")
_V_DEC = re.compile(r"^(\d{3})$")
_V_CENT = re.compile(r"^(\d{2})$")


def value_interval(value: Optional[str], mod: Optional[str] = None) -> tuple[Optional[date], Optional[date]]:
    """The first and last day a TIMEX3 date value denotes (then narrowed by mod)."""
    if not value:
        return None, None
    b = e = None
    try:
        if m := _V_DAY.match(value):
            b = e = date(int(m[1]), int(m[2]), int(m[3]))
        elif m := _V_MONTH.match(value):
            y, mo = int(m[1]), int(m[2])
            b, e = date(y, mo, 1), _month_end(y, mo)
        elif m := _V_YEAR.match(value):
            y = int(m[1])
            b, e = date(y, 1, 1), date(y, 12, 31)
        elif m := _V_WEEK.match(value):
            y, w = int(m[1]), int(m[2])
            b, e = date.fromisocalendar(y, w, 1), date.fromisocalendar(y, w, 7)
            if m[3]:
                b = e - timedelta(days=1)
        elif m := _V_PART.match(value):
            y, p = int(m[1]), m[2]
            if p[0] == "Q":
                q = int(p[1])
                b, e = date(y, 3 * q - 2, 1), _month_end(y, 3 * q)
            elif p[0] == "H":
                h = int(p[1])
                b, e = date(y, 6 * h - 5, 1), _month_end(y, 6 * h)
            elif p == "WI":
                b, e = date(y, 12, 1), _month_end(y + 1, 2)
            else:
                s = SEASON_START[p]
                b, e = date(y, s, 1), _month_end(y, s + 2)
        elif m := _V_DEC.match(value):
            y = int(m[1]) * 10
            b, e = date(y, 1, 1), date(y + 9, 12, 31)
        elif m := _V_CENT.match(value):
            y = int(m[1]) * 100
            b, e = date(max(y, 1), 1, 1), date(y + 99, 12, 31)
    except ValueError:
        return None, None
    if b is None:
        return None, None
    if mod in ("START", "MID", "END") and e > b:
        n = (e - b).days + 1
        half = (n + 1) // 2
        if mod == "START":
            e = b + timedelta(days=half - 1)
        elif mod == "END":
            b = e - timedelta(days=half - 1)
        else:
            q = n // 4
            b, e = b + timedelta(days=q), e - timedelta(days=q)
    return b, e


_GRAN_RANK = {"CE": 0, "DE": 1, "Y": 2, "Q": 3, "H2": 3, "M": 4, "W": 5, "WE": 5, "D": 6}


def _granularity(value: str) -> Optional[str]:
    """The unit a TIMEX3 date value is given to: D, W, M, Q, Y, DE or CE."""
    if _V_DAY.match(value):
        return "D"
    if _V_WEEK.match(value):
        return "W"
    if _V_MONTH.match(value):
        return "M"
    if _V_PART.match(value):
        return "Q"
    if _V_YEAR.match(value):
        return "Y"
    if _V_DEC.match(value):
        return "DE"
    if _V_CENT.match(value):
        return "CE"
    return None


@dataclass(frozen=True)
class Anchor:
    first: date
    last: date
    precision: str  # "D", "M" or "Y"

    @property
    def refs(self) -> tuple[date, ...]:
        if self.precision == "D":
            return (self.first,)
        mid = self.first + (self.last - self.first) // 2
        return (mid, self.first, self.last)


def parse_anchor(published: Optional[str]) -> Optional[Anchor]:
    if not published:
        return None
    m = re.match(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", published)
    if not m:
        return None
    try:
        y = int(m[1])
        if m[3]:
            d = date(y, int(m[2]), int(m[3]))
            return Anchor(d, d, "D")
        if m[2]:
            mo = int(m[2])
            return Anchor(date(y, mo, 1), _month_end(y, mo), "M")
        return Anchor(date(y, 1, 1), date(y, 12, 31), "Y")
    except ValueError:
        return None


def _coarsen(value: str, precision: str) -> Optional[str]:
    b, e = value_interval(value)
    if b is None:
        return None
    mid = b + (e - b) // 2
    return _fmt(mid, precision)


# --- the lexicon ----------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{(\w+)(?::(\w+))?\}")


def _norm(s: str) -> str:
    return " ".join(s.lower().replace("’", "'").split()).rstrip(".")


def _alternation(phrases) -> str:
    """A regex matching any of the phrases, compiled as a character trie so that
    the engine branches on one character instead of trying every phrase.
    Longer phrases win (the optional continuation is greedy)."""
    trie: dict = {}
    for p in set(phrases):
        node = trie
        for ch in re.sub(r"\s+", " ", p.strip()):
            node = node.setdefault(ch, {})
        node[""] = {}
    return _trie_regex(trie)


def _char_regex(ch: str) -> str:
    if ch == " ":
        return r"\s+"
    if ch in "'’":
        return "['’]"
    return re.escape(ch)


def _trie_regex(node: dict) -> str:
    end = "" in node
    branches = [_char_regex(ch) + _trie_regex(child) for ch, child in sorted(node.items()) if ch != ""]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if end:
        return f"(?:{body})?" if len(branches) == 1 else body + "?"
    return body


@dataclass
class _Rule:
    name: str
    kind: str
    groups: list[tuple[str, str, str]]  # (local name, global name, class)
    outer: str
    props: dict
    type: Optional[str]


class Lexicon:
    """One language's tables, compiled."""

    def __init__(self, lang: str, data: dict):
        self.lang = lang
        self.data = data
        self.settings = data.get("settings", {})
        words = data.get("words", {})
        regexes = data.get("regex", {})
        classes = data.get("class", {})
        self.values: dict[str, dict[str, Any]] = {}
        self.class_regex: dict[str, str] = {}
        # A table is a class of its own; [class.X] may combine tables and a regex.
        specs = {name: {"words": [name]} for name in words}
        for name, rx in regexes.items():
            specs.setdefault(name, {})["regex"] = rx
        for name, spec in classes.items():
            specs[name] = dict(spec)
        for name, spec in specs.items():
            table: dict[str, Any] = {}
            alts = []
            if spec.get("regex"):
                alts.append(spec["regex"])
            for t in spec.get("words", []):
                own = {_norm(k): v for k, v in words.get(t, {}).items()}
                for k, v in own.items():
                    table.setdefault(k, v)
                if own:
                    alt = _alternation(own)
                    alts.append(f"(?:{alt})\\.?" if t in spec.get("dot", []) else alt)
            self.values[name] = table
            self.class_regex[name] = "|".join(alts) if alts else "(?!)"
        self.numbers = self._numbers(words)
        for cname in self.settings.get("number_classes", []):
            self.values[cname] = {**self.numbers, **self.values.get(cname, {})}
            rx = self.class_regex.get(cname, "")
            self.class_regex[cname] = "|".join(x for x in (rx, _alternation(self.numbers)) if x and x != "(?!)")
        # Rules
        self.rules: list[_Rule] = []
        parts = []
        gid = 0
        for i, r in enumerate(data.get("rule", [])):
            groups: list[tuple[str, str, str]] = []

            def sub(m: re.Match) -> str:
                nonlocal gid
                cls, local = m[1], m[2] or m[1]
                if cls not in self.class_regex:
                    raise KeyError(f"{lang} times rule {r.get('name')}: unknown class {cls!r}")
                gid += 1
                g = f"g{gid}"
                groups.append((local, g, cls))
                return f"(?P<{g}>{self.class_regex[cls]})"

            pat = _PLACEHOLDER.sub(lambda m: sub(m) if m[1] in self.class_regex else m[0], r["pattern"])
            # explicit named groups in the template (e.g. (?P<span>...)) get unique names too
            def rename(m: re.Match) -> str:
                nonlocal gid
                gid += 1
                g = f"g{gid}"
                groups.append((m[1], g, ""))
                return f"(?P<{g}>"

            local_names: dict[str, str] = {}

            def rename2(m: re.Match) -> str:
                g = rename(m)
                local_names[m[1]] = g[4:-1]
                return g

            pat = re.sub(r"\(\?P<(?!g\d)(\w+)>", rename2, pat)
            pat = re.sub(r"\(\?P=(\w+)\)", lambda m: f"(?P={local_names.get(m[1], m[1])})", pat)
            outer = f"R{i}"
            self.rules.append(_Rule(r.get("name", outer), r["kind"], groups, outer, r.get("props", {}), r.get("type")))
            parts.append(f"(?P<{outer}>{pat})")
        flags = re.IGNORECASE
        self.regex = re.compile(r"(?<![\w])(?:" + "|".join(parts) + r")(?![\w])", flags)
        # Every rule starts with a table word, a digit, an apostrophe or one of
        # settings.triggers: a cheap scan for those finds where to try the rules.
        firsts = set(self.settings.get("triggers", []))
        for table in words.values():
            for k in table:
                firsts.add(_norm(k).split(" ")[0])
        firsts = {f.rstrip("-") for f in firsts if f and not f[0].isdigit()}
        self.trigger = re.compile(r"(?<![\w])(?:\d|['’]|" + _alternation(firsts) + ")", flags)
        # Every expression contains a digit or a word of a "time" table (a
        # month, a unit, a weekday, ...), not only function words (the,
        # vorige, een): a trigger is tried only with such a word close by.
        function_tables = set(self.settings.get("function_tables", []))
        anchors = {_norm(w) for w in self.settings.get("anchors", [])}
        for name, table in words.items():
            if name not in function_tables:
                anchors.update(_norm(k) for k in table)
        self.anchor = re.compile(r"(?<![\w])(?:\d|" + _alternation(anchors) + ")", flags)
        self.reach = int(self.settings.get("anchor_reach", 40))
        self.rule_by_outer = {r.outer: r for r in self.rules}
        self.index_to_rule = {self.regex.groupindex[r.outer]: r for r in self.rules}
        # Tense cues
        tense = data.get("tense", {})
        # a past form right after one of these is a participle whose tense is
        # the auxiliary's ("will be paid", "would be held"); cased cues are
        # matched as written ("may", not the month "May")
        not_after = "".join(rf"(?<!\b{w}\s)" for w in tense.get("past_not_after", []))

        def cue(name: str) -> Optional[re.Pattern]:
            ws = tense.get(name, [])
            cased = tense.get(name + "_cased", [])
            if not ws and not cased:
                return None
            alts = ws + [f"(?-i:{w})" for w in cased]
            pre = not_after if name == "past" else ""
            return re.compile(r"(?<!\w)" + pre + r"(?:" + "|".join(alts) + r")(?!\w)", flags)

        self.future = cue("future")
        self.future_weak = cue("future_weak")
        self.past = cue("past")
        # a past verb of intention before the date makes what follows a plan
        # ("planned to leave on Thursday", "decided to admit them in March");
        # after the date it is only the past ("On Thursday he decided to resign")
        self.intent = cue("intent")
        # a period after one of these (or after a single capital) ends no sentence
        self.abbreviations = {w.lower() for w in tense.get("abbreviations", [])}
        self.report = {w.lower() for w in tense.get("report", [])}
        rng = data.get("range", {})
        self.since = re.compile(r"(?<!\w)(?:" + _alternation(rng.get("since", ["\x00"])) + r")\s+$", flags)
        self.until = re.compile(r"(?<!\w)(?:" + _alternation(rng.get("until", ["\x00"])) + r")\s+$", flags)
        # deadlines and dates of effect ("until mid-November", "payable Jan. 2",
        # "through January"): a date without a year is the nearest such date
        self.nearest = re.compile(r"(?<!\w)(?:" + _alternation(rng.get("nearest", ["\x00"])) + r")\s+$", flags)
        # before a weekday: the coming one ("until 9 a.m. Tuesday")
        dl = rng.get("deadline", [])
        self.deadline = re.compile(r"(?<!\w)(?:" + _alternation(dl) + r")\s+$", flags) if dl else None
        dn = rng.get("deadline_not_with", [])
        self.deadline_not = re.compile(r"(?<!\w)(?:" + "|".join(dn) + r")(?!\w)", flags) if dn else None
        self.capital = {w.lower() for w in self.settings.get("needs_capital", [])}
        self.exclude = [re.compile(p) for p in data.get("exclude", {}).get("patterns", [])]

    def _numbers(self, words: dict) -> dict[str, Any]:
        """Number words: the table plus compounds generated from templates."""
        num = {_norm(k): v for k, v in words.get("number", {}).items()}
        units = {_norm(k): v for k, v in words.get("number_unit", {}).items()}
        tens = {_norm(k): v for k, v in words.get("number_ten", {}).items()}
        out = dict(num)
        out.update(units)
        out.update(tens)
        for tpl in self.settings.get("number_compounds", []):
            for u, uv in units.items():
                for t, tv in tens.items():
                    if tv < 20 or tv % 10:
                        continue  # compounds of twenty, thirty, ... only
                    out.setdefault(_norm(tpl.format(u=u, t=t)), uv + tv)
        for tpl in self.settings.get("half_compounds", []):
            for u, uv in units.items():
                out.setdefault(_norm(tpl.format(u=u)), uv + 0.5)
        return out

    def value(self, cls: str, text: str) -> Any:
        return self.values.get(cls, {}).get(_norm(text))


@lru_cache(maxsize=None)
def lexicon_for(lang: str) -> Optional[Lexicon]:
    res = files("kroniek.nlp.lexicon").joinpath(lang, "times.toml")
    if not res.is_file():
        return None
    with res.open("rb") as fh:
        return Lexicon(lang, tomllib.load(fh))


# --- resolution -----------------------------------------------------------------


class _G:
    """The matched groups of one rule: text and word-table value by local name."""

    __slots__ = ("t", "v", "start", "end", "props")

    def __init__(self):
        self.t: dict[str, str] = {}
        self.v: dict[str, Any] = {}
        self.start: dict[str, int] = {}
        self.end: dict[str, int] = {}

    def __contains__(self, k: str) -> bool:
        return k in self.t


def _num(x: Any) -> Any:
    """A number from a table value or digits; 'X' for vague quantities."""
    if x is None:
        return None
    if isinstance(x, (int, float)):
        return x
    s = str(x)
    if s.upper() == "X":
        return "X"
    s = s.replace(",", ".")
    m = re.match(r"(\d+(?:\.\d+)?)(?:\s+(\d)/(\d))?", s)
    if not m:
        return None
    f = float(m[1]) + (int(m[2]) / int(m[3]) if m[2] and int(m[3]) else 0)
    return int(f) if f.is_integer() else f


def _numstr(n: Any) -> str:
    if n == "X":
        return "X"
    if isinstance(n, float) and not n.is_integer():
        return f"{n:g}"
    return str(int(n))


_LOWER = {"Y": (12, "M"), "M": (30, "D"), "W": (7, "D"), "D": (24, "H"), "H": (60, "MIN"), "MIN": (60, "S")}


def _duration(parts: list[tuple[Any, str]], lower_fractions: bool = False) -> str:
    """P-notation from (number, unit) parts; decades and centuries in years."""
    d: dict[str, Any] = {}
    for n, u in parts:
        if u in ("DE", "CE"):  # ISO 8601 has no decade or century unit
            k, u = {"DE": (10, "Y"), "CE": (100, "Y")}[u]
            n = "X" if n == "X" else n * k
        if lower_fractions and isinstance(n, float) and not n.is_integer() and u in _LOWER:
            k, low = _LOWER[u]
            d[low] = int(round((n - int(n)) * k))
            n = int(n)
        d[u] = n
    out, tpart = "P", ""
    for u in _UNIT_ORDER:
        if u not in d:
            continue
        n = _numstr(d[u])
        if u in ("H", "MIN", "S"):
            tpart += n + {"H": "H", "MIN": "M", "S": "S"}[u]
        else:
            out += n + u
    if tpart:
        out += "T" + tpart
    return out


def _year_of(text: str, pivot: int = 30) -> Optional[int]:
    digits = re.sub(r"\D", "", text)
    if not digits:
        return None
    y = int(digits)
    if len(digits) <= 2:
        y += 1900 if y > pivot else 2000
    return y


class _Ctx:
    def __init__(self, lex: Lexicon, text: str):
        self.lex = lex
        self.text = text
        self._tense: dict[int, str] = {}
        self.prev: Optional[tuple[int, Optional[str]]] = None  # (end, value) of the last date found
        self.last_q: Optional[str] = None  # the last quarter named
        self.q_count: dict[str, int] = {}  # how often each quarter was named
        self.last_q_end = -1  # where the last quarter was named
        self.last_q_reported = False  # whether it was named in the past tense
        self.last_period_end = -1  # where the last part-of-a-year period ("the nine months") was named
        self.period_rx = re.compile(lex.settings.get("year_part_durations", "(?!)"))
        self.anaphoric = {_norm(w) for w in lex.settings.get("anaphoric_shifts", [])}
        self.anaphoric_ago = {_norm(w) for w in lex.settings.get("anaphoric_ago", [])}
        self.duration_signals = {_norm(w) for w in lex.settings.get("duration_signals", [])}
        self.duration_signal_units = set(lex.settings.get("duration_signal_units", []))
        self.reach = int(lex.settings.get("anaphor_reach", 600))
        self.day_anchor = False  # whether the article date is a day (set by find_times)

    def reference(self, start: int, unit: str, now: Optional[date] = None) -> Optional[date]:
        """The narrative reference time for an anaphoric expression ("the
        following year", "that day", "later that year"): the first day of the
        last date the text named, if it is near, at least as fine as ``unit``
        and not after the article date ``now`` (a target such as "by 1992" is
        not what the story tells); else None (the caller falls back to the
        article date)."""
        if unit == "Q" and self.last_q:
            return value_interval(self.last_q)[0]  # "that quarter": the one last named
        if not self.prev or start - self.prev[0] > self.reach:
            return None
        value = self.prev[1] or ""
        gran = _granularity(value)
        if gran is None or _GRAN_RANK[gran] < _GRAN_RANK.get(unit, 9):
            return None
        b, _ = value_interval(value)
        if b is not None and now is not None and b > now:
            return None
        return b

    def deadline(self, start: int) -> bool:
        """Whether a deadline word ("until", "by", "tot") comes right before:
        a weekday after it is the coming one."""
        rx = self.lex.deadline
        if rx is None or rx.search(self.text, max(0, start - 25), start) is None:
            return False
        if self.lex.deadline_not is not None:
            b, e = self.sentence(start, start, max(0, start - 300), min(len(self.text), start + 300))
            if self.lex.deadline_not.search(self.text, b, e):
                return False
        return True

    def topic_quarter(self) -> Optional[str]:
        """The quarter a report is about: the one named most often among those
        reported; on a tie the first named (news names its topic first: "posted
        a gain in third-quarter net ... After a flat second quarter ...")."""
        if not self.q_count:
            return self.last_q
        order = list(self.q_count)
        return max(order, key=lambda k: (self.q_count[k], -order.index(k)))

    def year_part_topic(self, start: int) -> bool:
        """Whether the period the text last named, shortly before, is a part
        of a year ("for the nine months, ... a year earlier") rather than a
        quarter: a comparison with it is then with the year before."""
        return self.last_period_end > self.last_q_end and start - self.last_period_end < 400

    def is_anaphoric(self, g: "_G") -> bool:
        return "shift" in g and _norm(g.t["shift"]) in self.anaphoric

    def _is_boundary(self, i: int) -> bool:
        """Whether the character at i ends a sentence: a newline, "!" or "?",
        or a period not after an abbreviation or an initial and not followed
        by a lower-case word ("Roe vs. Wade", "Birmingham, Ala., killed")."""
        text = self.text
        if text[i] != ".":
            return True
        if 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
            return False  # "$5.8 million", "1.000 soldaten": a number, not an end
        j = i + 1
        while j < len(text) and text[j] in " \t\"'”’)":
            j += 1
        if j < len(text) and (text[j].islower() or text[j] in ",;"):
            return False
        k = i
        while k > 0 and (text[k - 1].isalpha() or text[k - 1] == "."):
            k -= 1
        word = text[k:i].lower()
        if not word:
            return True
        return not (word in self.lex.abbreviations or (len(word) == 1 and text[k].isupper()))

    def sentence(self, start: int, end: int, lo: int, hi: int) -> tuple[int, int]:
        """The sentence around [start, end), within [lo, hi)."""
        text = self.text
        b, i = lo, start
        while True:
            j = max(text.rfind(c, lo, i) for c in ".!?\n")
            if j < 0:
                break
            if self._is_boundary(j):
                b = j + 1
                break
            i = j
        e, i = hi, end
        while i < hi:
            j = min((x for x in (text.find(c, i, hi) for c in ".!?\n") if x >= 0), default=-1)
            if j < 0:
                break
            if self._is_boundary(j):
                e = j
                break
            i = j + 1
        return b, e

    def tense(self, start: int, end: int) -> str:
        """'past', 'weak' (weak future) or 'future': the nearest cue in the sentence."""
        if start in self._tense:
            return self._tense[start]
        text = self.text
        if self.lex.since.search(text, max(0, start - 25), start):
            self._tense[start] = "past"  # "sinds 24 februari", "since March"
            return "past"
        lo = max(0, start - 300)
        hi = min(len(text), end + 300)
        b, e = self.sentence(start, end, lo, hi)
        # the nearest cue wins; at the same distance the longer one ("had been
        # scheduled" over "scheduled"), then the earlier table (future first)
        best = (10**9, 0, "none")
        for rx, label in (
            (self.lex.intent, "intent"),
            (self.lex.future, "future"),
            (self.lex.future_weak, "weak"),
            (self.lex.past, "past"),
        ):
            if rx is None:
                continue
            for m in rx.finditer(text, b, e):
                dist = start - m.end() if m.end() <= start else m.start() - end
                if dist < 0 or (label == "intent" and m.end() > start):
                    continue
                if (
                    label == "past"
                    and m.start() >= end
                    and "," in text[end : m.start()]
                    and m.group().lower() in self.lex.report
                    and len(text[m.end() : e].split()) <= 3
                ):
                    continue  # "..., an official said (on Wednesday).": attribution
                if label == "intent":
                    label = "future"
                if (dist, -(m.end() - m.start())) < best[:2]:
                    best = (dist, -(m.end() - m.start()), label)
        self._tense[start] = best[2]
        return best[2]


def _infer_year(month: int, day: Optional[int], ref: date, tense: str, near_months: int = 0, next_month: bool = False) -> int:
    """The year of a month (and day) named without one. Past tense or no cue:
    the most recent such month; future: the next one; weak future: this
    year's (next year's for a month up to three months ahead). A full date
    (month and day) at most NEAR_FUTURE_DAYS ahead is the coming one."""
    y = ref.year
    key = (month, day or 0)
    rkey = (ref.month, ref.day if day else 0)
    if day and tense != "future":
        # a full date a few weeks ahead is the coming one ("Jan. 14" in an
        # article of 6 January): a year back is far less likely
        nxt = y if key > rkey else y + 1
        try:
            ahead = (date(nxt, month, min(day, calendar.monthrange(nxt, month)[1])) - ref).days
        except ValueError:
            ahead = 999
        if ahead <= NEAR_FUTURE_DAYS:
            return nxt
    if tense == "future":
        return y if key >= rkey else y + 1
    if not day and next_month and (month - ref.month) % 12 == 1 and tense != "future":
        # the month after the article's: news names last year's as "last
        # September"; a bare "September" in August is the coming one, even
        # in reported speech ("told oil companies of a cutback in September")
        return y if month > ref.month else y + 1
    if not day and tense == "none" and 1 <= (month - ref.month) % 12 <= near_months:
        # a month just ahead without a tense cue ("November" in late October)
        return y if month > ref.month else y + 1
    if tense == "weak":
        # "would be paid in January" (October article): the coming January
        return y + 1 if month < ref.month and (month - ref.month) % 12 <= 3 else y
    return y if key <= rkey else y - 1


def _nearest_year(month: int, day: Optional[int], ref: date) -> int:
    """The year that puts the month (and day) nearest the anchor, the later
    one on a tie: a deadline or a date of effect may lie either side."""
    best = None
    for y in (ref.year + 1, ref.year, ref.year - 1):
        d = day or 15
        try:
            dist = abs((date(y, month, min(d, calendar.monthrange(y, month)[1])) - ref).days)
        except ValueError:
            continue
        if best is None or dist < best[0]:
            best = (dist, y)
    return best[1] if best else ref.year


def _weekday_date(wd: int, ref: date, tense: str, shift: Optional[int], weak_future: bool = True) -> date:
    cur = ref.isoweekday()
    if shift is not None and shift < 0:
        return ref - timedelta(days=((cur - wd) % 7) or 7)
    if shift is not None and shift > 0:
        return ref + timedelta(days=((wd - cur) % 7) or 7)
    if wd == cur:
        return ref
    if tense == "future" or (tense == "weak" and weak_future):
        return ref + timedelta(days=(wd - cur) % 7)
    return ref - timedelta(days=(cur - wd) % 7)


Result = tuple[str, Optional[str], Optional[str]]  # type, value, mod


def _mod(g: _G, lex: Lexicon) -> Optional[str]:
    for k in ("mod", "mod2", "qmod"):
        if k in g:
            v = g.v.get(k)
            if v:
                return v
    return None


def _resolve_date(g: _G, ref: Optional[date], ctx: _Ctx, lex: Lexicon, span: tuple[int, int]) -> Any:
    mod = _mod(g, lex)
    month = _num(g.v.get("month")) if "month" in g else None
    if month is None and "month" in g:
        month = _num(g.t["month"])
    day = _num(re.sub(r"\D", "", g.t["day"])) if "day" in g else None
    if day is None and "dayw" in g:  # "March eighth"
        day = _num(g.v.get("dayw"))
    year = None
    if "yc" in g:  # a year in words: "nineteen ninety-six", "the year two thousand"
        yc = _num(lex.value("num", g.t["yc"]))
        yr = _num(g.v.get("yr")) if "yr" in g else 0
        if not isinstance(yc, (int, float)) or not isinstance(yr, (int, float)) or not 0 <= yr < 100:
            return None
        year = int(yc) * (100 if yc < 100 else 1) + int(yr)
        if not 1000 <= year <= 2999:
            return None
    elif "year" in g:
        year = _year_of(g.t["year"])
    elif "yshift" in g and ref is not None:
        year = ref.year + int(g.v.get("yshift") or 0)
    if month is not None and not 1 <= month <= 12:
        return None
    if day is not None and not 1 <= day <= 31:
        return None
    if month is None and year is None:
        return None

    def val(y, mo, d):
        try:
            if mo is None:
                return f"{y:04d}"
            if d is None:
                return f"{y:04d}-{mo:02d}"
            return date(y, mo, d).isoformat()
        except ValueError:
            return None

    if year is None and "mshift" in g and ref is not None and month is not None:
        ms = int(g.v.get("mshift") or 0)  # last/this/next November
        if ms < 0:
            year = ref.year if month < ref.month - 1 else ref.year - 1
        elif ms > 0:
            year = ref.year if month > ref.month else ref.year + 1
        else:
            year = ref.year
    if year is None:
        if ref is None:
            return ("DATE", None, mod)
        if lex.nearest.search(ctx.text, max(0, span[0] - 25), span[0]) and ctx.tense(*span) not in ("future", "weak"):
            year = _nearest_year(month, day, ref)
        else:
            # the month after the article's is the coming one only when the
            # article's day is known (a "2022" article may date from January)
            year = _infer_year(month, day, ref, ctx.tense(*span), lex.settings.get("near_future_months", 0), ctx.day_anchor)
    v = val(year, month, day)
    if v is None:
        return None
    if "d1" in g or "m1" in g:  # an elliptic range: "1 tot 3 maart", "maart tot juni 2022"
        d1 = _num(re.sub(r"\D", "", g.t["d1"])) if "d1" in g else day
        m1 = _num(g.v.get("m1")) if "m1" in g else month
        if m1 is None or (d1 is not None and not 1 <= d1 <= 31):
            return None
        v1 = val(year, m1, d1)
        if v1 is None:
            return None
        b, _ = value_interval(v1)
        _, e = value_interval(v)
        if b is None or e is None or b > e:
            return None
        common = v if v == v1 else (f"{year:04d}-{month:02d}" if m1 == month else f"{year:04d}")
        return ("DATE", common, mod, b, e)
    if "pod" in g and g.v.get("pod") and day is not None:
        return ("TIME", f"{v}T{g.v['pod']}", mod)
    if g.props.get("granularity") and day is not None:  # "the week of March 6"
        return ("DATE", _fmt(date.fromisoformat(v), g.props["granularity"]), mod)
    return ("DATE", v, mod)


def _resolve_deictic(g, ref, ctx, lex, span):
    off = g.v.get("dei")
    pod = None
    if isinstance(off, list):
        off, pod = off[0], (off[1] if len(off) > 1 else None)
    if "pod" in g and g.v.get("pod"):
        pod = g.v["pod"]
    if off is None:
        return None
    typ = "TIME" if pod else "DATE"
    if ref is None:
        return (typ, None, None)
    d = ref + timedelta(days=int(off))
    return (typ, d.isoformat() + (f"T{pod}" if pod else ""), None)


def _resolve_weekday(g, ref, ctx, lex, span):
    wd = g.v.get("weekday")
    if wd is None:
        return None
    pod = g.v.get("pod") if "pod" in g else None
    typ = "TIME" if pod else "DATE"
    if not lex.settings.get("weekday_pod_in_value", True):
        pod = None
    if ref is None:
        return (typ, None, None)
    if "wshift" in g:  # "vorige week maandag"
        ws = int(g.v.get("wshift") or 0)
        base = ref + timedelta(weeks=ws)
        d = base + timedelta(days=wd - base.isoweekday())
    else:
        shift = g.v.get("shift") if "shift" in g else None
        shift = None if shift == 0 else shift
        if ctx.is_anaphoric(g):
            ref = ctx.reference(span[0], "D", ref) or ref  # "the previous Friday": before the day in question
        tense = ctx.tense(*span)
        if shift is None and ctx.deadline(span[0]):
            tense = "future"  # "until Tuesday", "postponed until Tuesday morning": the coming one
        d = _weekday_date(int(wd), ref, tense, shift, lex.settings.get("weekday_weak_future", True))
    return (typ, d.isoformat() + (f"T{pod}" if pod else ""), None)


def _unit_of(g: _G, key: str = "unit") -> tuple[Optional[str], bool]:
    u = g.v.get(key)
    if not u and key == "unit":
        u = g.props.get("unit")
    if not u:
        return None, False
    plural = u.endswith("+")
    return u.rstrip("+"), plural


def _resolve_rel(g, ref, ctx, lex, span):
    unit, plural = _unit_of(g)
    if unit is None:
        return None
    shift = g.v.get("shift")
    shift = int(shift) if shift is not None else 0
    num = _num(g.v.get("num") if g.v.get("num") is not None else g.t.get("num")) if "num" in g else None
    mod = _mod(g, lex)
    if g.props.get("end"):  # "year-end": the end of the unit, a modifier before it is vague
        mod = "END"
    det_dur = "det" in g and _norm(g.t.get("shift", "")) in {_norm(w) for w in lex.settings.get("duration_with_det", [])}
    if plural or num is not None or det_dur or unit in ("H", "MIN", "S"):
        n = num if num is not None else ("X" if plural else 1)
        return ("DURATION", _duration([(n, unit)]), mod)
    if ctx.is_anaphoric(g):
        # "the following year", "the previous month": from the time the text
        # is about, when it named one; else from the article date
        ref = ctx.reference(span[0], unit, ref) or ref
    if ref is None:
        return ("DATE", None, mod)
    if unit == "D":
        return ("DATE", (ref + timedelta(days=shift)).isoformat(), mod)
    if unit == "WE":
        if "shift" not in g and ref.isoweekday() <= 5 and ctx.tense(*span) not in ("future", "weak"):
            shift = -1  # "the weekend" in a weekday article: the one just past
        return ("DATE", _fmt(ref + timedelta(weeks=shift), "WE"), mod)
    if unit in ("W", "M", "Q", "Y", "DE", "CE"):
        return ("DATE", _fmt(_add(ref, shift, unit), unit), mod)
    if unit == "H2":
        d = _add_months(ref, 6 * shift)
        return ("DATE", f"{d.year:04d}-H{1 if d.month <= 6 else 2}", mod)
    return None


def _resolve_season(g, ref, ctx, lex, span):
    s = g.v.get("season")
    if not s:
        return None
    mod = _mod(g, lex)
    if "year" in g:
        return ("DATE", f"{_year_of(g.t['year']):04d}-{s}", mod)
    if "yc" in g:  # "the winter of nineteen ninety-four"
        yc = _num(lex.value("num", g.t["yc"]))
        yr = _num(g.v.get("yr"))
        if not isinstance(yc, (int, float)) or not isinstance(yr, (int, float)) or not 0 <= yr < 100:
            return None
        return ("DATE", f"{int(yc) * 100 + int(yr):04d}-{s}", mod)
    if ref is None:
        return ("DATE", None, mod)
    if "recent" in g:  # "this past spring": the most recent one that has ended
        for y in range(ref.year, ref.year - 3, -1):
            _, e = value_interval(f"{y:04d}-{s}")
            if e is not None and e < ref:
                return ("DATE", f"{y:04d}-{s}", mod)
    start = SEASON_START[s]
    if "shift" in g:
        shift = int(g.v.get("shift") or 0)
        if shift < 0:
            y = ref.year - 1
            if s == "WI" and ref.month <= 2:
                y -= 1
        elif shift > 0:
            y = ref.year if start > ref.month else ref.year + 1
            if s == "WI" and ref.month <= 2:
                y = ref.year
        else:
            y = ref.year - 1 if (s == "WI" and ref.month <= 2) else ref.year
        return ("DATE", f"{y:04d}-{s}", mod)
    if s == "WI" and ref.month <= 2:
        return ("DATE", f"{ref.year - 1:04d}-{s}", mod)
    y = _infer_year(start, None, ref, ctx.tense(*span))
    return ("DATE", f"{y:04d}-{s}", mod)


def _resolve_ago(g, ref, ctx, lex, span):
    unit, _ = _unit_of(g)
    if unit is None:
        return None
    num = _num(g.v.get("num") if g.v.get("num") is not None else g.t.get("num")) if "num" in g else 1
    if num is None:
        num = 1
    direction = int(g.v.get("ago") or -1) if "ago" in g else int(g.props.get("direction", -1))
    mod = _mod(g, lex)
    if (mod and mod not in ("START", "MID", "END")) or "orso" in g:
        mod = "APPROX"  # "ruim een maand geleden": about a month ago
    grans = lex.settings.get("ago_granularity", {})
    if num == "X":
        mod = mod or "APPROX"
        gran = lex.settings.get("vague_ago_granularity", {}).get(unit, unit)
        n = lex.settings.get("vague_number", 3)
        if gran.endswith("_REF"):
            return ("DATE", gran, None)
    else:
        gran = grans.get(unit, unit)
        n = num
    if unit in ("H", "MIN", "S"):
        gran = "D"
    signal = "ago" in g and _norm(g.t["ago"]) in ctx.duration_signals and unit in ctx.duration_signal_units
    follows = lex.settings.get("ago_follows", [])
    if unit == "Y" and n != "X" and follows and ref is not None and ctx.year_part_topic(span[0]):
        # "for the nine months, ... compared with a year earlier": the year before
        return ("DATE", f"{ref.year + direction * int(n):04d}", mod)
    if unit == "Y" and n != "X" and "Q" in follows and ctx.last_q:
        # a report about a quarter compares with the same quarter a year
        # before: the quarter the sentence itself named ("X reported
        # third-quarter profit ..., up from a year earlier"), else the quarter
        # the report is about
        q_named = ctx.last_q
        if not (ctx.last_q_end >= ctx.sentence(span[0], span[1], max(0, span[0] - 400), span[1])[0]):
            q_named = ctx.topic_quarter()
        y, q = q_named.split("-")
        return ("DATE", f"{int(y) + direction * int(n):04d}-{q}", mod)
    if unit == "Y" and n != "X" and follows and ctx.prev and span[0] - ctx.prev[0] < 300:
        # "... in the third quarter, up from a year earlier": the same period
        # of the year before, when the text just named a quarter or a month
        pv = ctx.prev[1]
        m = re.match(r"^(\d{4})(-(?:Q[1-4]|H[12]|\d{2}))$", pv or "")
        if m and (m[2][1] if m[2][1] in "QH" else "M") in follows:
            return ("DATE", f"{int(m[1]) + direction * int(n):04d}{m[2]}", mod)
    if "ago" in g and _norm(g.t["ago"]) in ctx.anaphoric_ago:
        # "three days later", "a week earlier": from the time the text is
        # about, when it named one fine enough; "ago" counts from the article
        base = ctx.reference(span[0], gran, ref)
        if base is not None:
            ref = base
    if signal:
        # TimeML: in "three days later" the time expression is the duration
        # ("later" is a signal); the interval is still the day it lands on
        dur = _duration([(num, unit)])
        if ref is None or num == "X":
            return ("DURATION", dur, mod)
        b, e = value_interval(_fmt(_add(ref, direction * n, unit), gran))
        return ("DURATION", dur, mod, b, e)
    if ref is None:
        return ("DATE", None, mod)
    d = _add(ref, direction * n, unit)
    return ("DATE", _fmt(d, gran), mod)


def _resolve_duration(g, ref, ctx, lex, span):
    parts = []
    unit, plural = _unit_of(g)
    if unit is None:
        return None
    if "numlist" in g:
        num = "X"
    elif "num" in g:
        num = _num(g.v.get("num") if g.v.get("num") is not None else g.t["num"])
    else:
        num = "X" if plural else 1
    if num is None:
        return None
    if plural and "half" not in g and g.t.get("num", "").lower() in ("a", "an"):
        return None  # "a decades-long battle": the article belongs to the noun
    if "half" in g and isinstance(num, (int, float)):
        num += 0.5  # "a minute and a half"
    parts.append((num, unit))
    if "unit2" in g:
        u2, _ = _unit_of(g, "unit2")
        n2 = _num(g.v.get("num2") if g.v.get("num2") is not None else g.t.get("num2"))
        if u2 and n2 is not None:
            parts.append((n2, u2))
    return ("DURATION", _duration(parts, lex.settings.get("fraction_to_lower_unit", False)), _mod(g, lex))


def _resolve_set(g, ref, ctx, lex, span):
    if "setword" in g:
        return ("SET", g.v.get("setword"), None)
    if "weekday" in g:
        pod = f"T{g.v['pod']}" if "pod" in g and g.v.get("pod") else ""
        return ("SET", f"XXXX-WXX-{g.v['weekday']}{pod}", None)
    if "month" in g:
        return ("SET", f"XXXX-{int(g.v['month']):02d}", None)
    if "pod" in g:
        return ("SET", f"T{g.v['pod']}", None)
    unit, _ = _unit_of(g)
    if unit is None:
        return None
    num = _num(g.v.get("num") if g.v.get("num") is not None else g.t.get("num")) if "num" in g else 1
    return ("SET", _duration([(num or 1, unit)]), None)


def _resolve_vague(g, ref, ctx, lex, span):
    v = g.v.get("vague")
    if not v:
        return None
    return ("DATE", v, None)


def _resolve_time(g, ref, ctx, lex, span):
    if "clock" in g:  # noon, midnight
        hh, mm = g.v["clock"].split(":")
        h, mi = int(hh), int(mm)
    else:
        h = int(g.t["hour"])
        mi = int(g.t["minute"]) if "minute" in g else 0
        if "ampm" in g:
            ap = g.v.get("ampm") or ("PM" if "p" in g.t["ampm"].lower() else "AM")
            if ap == "PM" and h < 12:
                h += 12
            if ap == "AM" and h == 12:
                h = 0
    if not (0 <= h <= 24 and 0 <= mi <= 59):
        return None
    mod = _mod(g, lex)
    if "month" in g and "day" in g:  # "5 p.m. EST Nov. 9": that day
        r = _resolve_date(g, ref, ctx, lex, span)
        if r is None:
            return None
        if not r[1] or not _V_DAY.match(r[1]):
            return ("TIME", None, mod)
        return ("TIME", f"{r[1][:10]}T{h:02d}:{mi:02d}", mod)
    if ref is None:
        return ("TIME", None, mod)
    day = ref
    wd = g.v.get("weekday") or g.v.get("wd2")
    if wd:
        tense = "future" if ctx.deadline(span[0]) else ctx.tense(*span)
        day = _weekday_date(int(wd), ref, tense, None, lex.settings.get("weekday_weak_future", True))
    if "dei" in g:
        off = g.v.get("dei")
        day = ref + timedelta(days=int(off[0] if isinstance(off, list) else off))
    return ("TIME", f"{day.isoformat()}T{h:02d}:{mi:02d}", mod)


def _nth_weekday(y: int, month: int, wd: int, nth: int) -> date:
    if nth > 0:
        d = date(y, month, 1)
        d += timedelta(days=(wd - d.isoweekday()) % 7)
        return d + timedelta(weeks=nth - 1)
    d = _month_end(y, month)
    d -= timedelta(days=(d.isoweekday() - wd) % 7)
    return d + timedelta(weeks=nth + 1)


def _easter(y: int) -> date:
    a, b, c = y % 19, y // 100, y % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(y, month, day + 1)


def _holiday_date(spec: list, y: int) -> date:
    if spec[0] == "easter":
        return _easter(y) + timedelta(days=int(spec[1]))
    if len(spec) == 4:  # a day after the nth weekday: US Election Day
        return _nth_weekday(y, int(spec[0]), int(spec[1]), int(spec[2])) + timedelta(days=int(spec[3]))
    if len(spec) == 3:
        return _nth_weekday(y, int(spec[0]), int(spec[1]), int(spec[2]))
    return date(y, int(spec[0]), int(spec[1]))


def _resolve_holiday(g, ref, ctx, lex, span):
    spec = g.v.get("holiday")
    if not spec:
        return None
    gran = g.props.get("granularity", "D") if "hweek" in g else "D"  # "Easter week": its week
    if "year" in g:
        return ("DATE", _fmt(_holiday_date(spec, _year_of(g.t["year"])), gran), None)
    if ref is None:
        return ("DATE", None, None)
    tense = "future" if ctx.deadline(span[0]) else ctx.tense(*span)  # "until Election Day"
    this = _holiday_date(spec, ref.year)
    if tense in ("future", "weak"):
        d = this if this >= ref else _holiday_date(spec, ref.year + 1)
    else:
        d = this if this <= ref else _holiday_date(spec, ref.year - 1)
        # a holiday a few days ahead is meant, not last year's
        if this > ref and (this - ref).days <= 7:
            d = this
    return ("DATE", _fmt(d, gran), None)


def _resolve_quarter(g, ref, ctx, lex, span):
    n = _num(g.v.get("ordinal") if g.v.get("ordinal") is not None else g.t.get("ordinal"))
    part = g.v.get("qunit") or "Q"
    if n is None and "lastpart" in g:  # "the last half of 1989", "the final quarter"
        n = 4 if part == "Q" else 2
    if n is None and "qword" in g:
        # "the quarter", "the latest quarter": the one the text is about, else
        # the last one that ended (news reports a quarter after it closes)
        mod = _mod(g, lex)
        if "year" in g:
            # "the 1988 quarter", "the 1989 period": the quarter the text is
            # about, in that year; without one, the year itself
            y = _year_of(g.t["year"])
            if ctx.last_q and not ctx.year_part_topic(span[0]):
                return ("DATE", f"{y:04d}-{ctx.topic_quarter().split('-')[1]}", mod)
            return ("DATE", f"{y:04d}", mod)
        # the quarter just named; else the last quarter the text named (a
        # report keeps talking about its quarter after naming other dates:
        # "the fiscal first quarter ... this month ... shipped in the quarter")
        for q in ((ctx.prev[1] if ctx.prev else None), ctx.last_q):
            if q and re.match(r"^\d{4}-Q[1-4]$", q):
                # "the latest quarter" has ended: not a quarter still running
                running = ref is not None and value_interval(q)[1] >= ref
                if not ("latest" in g and running and not (q == ctx.last_q and ctx.last_q_reported)):
                    return ("DATE", q, mod)
        if "qmonth" in g and ref is not None:
            # "the quarter ended July 31" with no quarter named before (a
            # fiscal name would be the text's own): the three months up to that
            # day, named by the calendar quarter that holds most of them
            m_end = _num(g.v.get("qmonth"))
            if isinstance(m_end, int) and 1 <= m_end <= 12:
                y = _infer_year(m_end, None, ref, ctx.tense(*span))
                mid, y = (m_end - 1, y) if m_end > 1 else (12, y - 1)
                return ("DATE", f"{y:04d}-Q{(mid - 1) // 3 + 1}", mod)
        if ref is None:
            return ("DATE", None, mod)
        return ("DATE", _fmt(ref - timedelta(days=45), "Q"), mod)
    if n is None:
        return None
    n = int(n)
    if (part == "Q" and not 1 <= n <= 4) or (part == "H" and not 1 <= n <= 2):
        return None
    mod = _mod(g, lex)
    # "the year-ago third quarter": that quarter a year before the one meant
    back = int(g.v.get("yago") or -1) if "yago" in g else 0
    if "year" in g:
        return ("DATE", f"{_year_of(g.t['year']) + back:04d}-{part}{n}", mod)
    if ref is None:
        return ("DATE", None, mod)
    start = 3 * n - 2 if part == "Q" else 6 * n - 5
    y = ref.year
    if "shift" in g or "yshift" in g:
        y += int(g.v.get("shift") or g.v.get("yshift") or 0)
    elif start <= ref.month:
        y = ref.year  # the quarter we are in or one already begun this year
    elif ctx.tense(*span) == "future":
        y = ref.year
    else:
        y = _infer_year(start, None, ref, ctx.tense(*span))
    return ("DATE", f"{y + back:04d}-{part}{n}", mod)


def _resolve_decade(g, ref, ctx, lex, span):
    t = g.t.get("decade", "")
    v = g.v.get("decade")
    digits = re.sub(r"\D", "", t) if v is None else str(v)
    if not digits:
        return None
    mod = _mod(g, lex)
    if len(digits) >= 4:
        return ("DATE", digits[:3], mod)
    dec = int(digits[-2:]) // 10
    if "century" in g:
        cent = int(re.sub(r"\D", "", g.t["century"]) or 19)
    elif ref is not None:
        cent = ref.year // 100
        if cent * 100 + dec * 10 > ref.year:
            cent -= 1
    else:
        cent = 19
    return ("DATE", f"{cent:02d}{dec}", mod)


def _resolve_century(g, ref, ctx, lex, span):
    n = _num(g.v.get("ordinal") if g.v.get("ordinal") is not None else g.t.get("ordinal"))
    if n is None:
        return None
    return ("DATE", f"{int(n) - 1:02d}", _mod(g, lex))


def _resolve_anaphor(g, ref, ctx, lex, span):
    """"later die dag", "eerder op de ochtend", "that year", "later that
    year", "the next morning": the time the text is about (the last date named,
    if it is fine enough for the unit, else the article date), at the unit's
    granularity, shifted by ``shift`` units; a part of the day makes a TIME."""
    pod = g.v.get("pod") if "pod" in g else None
    unit, _ = _unit_of(g)
    unit = unit or "D"
    if pod:
        unit = "D"
    shift = int(g.v.get("shift") or 0) if "shift" in g else 0
    day = ctx.reference(span[0], unit, ref)
    if day is None and ref is not None:
        # no period named: the article date; a quarter is the last one that
        # ended, as for "the quarter" (news reports a quarter after it closes)
        day = ref - timedelta(days=45) if unit == "Q" else ref
    if day is None:
        return ("TIME" if pod else "DATE", None, None)
    if "unit2" in g:
        # "the same month a year earlier", "the quarter a year ago": that
        # period, moved by the distance named
        u2, _ = _unit_of(g, "unit2")
        n = _num(g.v.get("num") if g.v.get("num") is not None else g.t.get("num")) if "num" in g else 1
        if u2 is None or not isinstance(n, (int, float)):
            return None
        day = _add(day, int(g.v.get("ago") or -1) * n, u2)
    if unit == "D":
        day = day + timedelta(days=shift)
        return ("TIME", f"{day.isoformat()}T{pod}", None) if pod else ("DATE", day.isoformat(), None)
    if unit not in _GRAN_RANK or unit in ("WE", "H2"):
        return None
    return ("DATE", _fmt(_add(day, shift, unit), unit), None)


def _resolve_coday(g, ref, ctx, lex, span):
    """"April 24 and 25": a bare day right after a full date is a later day
    of that date's month."""
    if not ctx.prev or not re.fullmatch(r"[\s,]*(?:and|or|&)\s+", ctx.text[ctx.prev[0] : span[0]]):
        return None
    m = _V_DAY.match(ctx.prev[1] or "")
    day = _num(re.sub(r"\D", "", g.t["day"]))
    if not m or m[0] != ctx.prev[1] or not isinstance(day, int) or not int(m[3]) < day <= 31:
        return None
    try:
        return ("DATE", date(int(m[1]), int(m[2]), day).isoformat(), None)
    except ValueError:
        return None


def _resolve_fixed(g, ref, ctx, lex, span):
    return (g.props.get("type", "DATE"), g.props.get("value"), g.props.get("mod"))


_RESOLVERS: dict[str, Callable] = {
    "date": _resolve_date,
    "deictic": _resolve_deictic,
    "weekday": _resolve_weekday,
    "rel": _resolve_rel,
    "season": _resolve_season,
    "ago": _resolve_ago,
    "duration": _resolve_duration,
    "set": _resolve_set,
    "vague": _resolve_vague,
    "time": _resolve_time,
    "holiday": _resolve_holiday,
    "quarter": _resolve_quarter,
    "decade": _resolve_decade,
    "century": _resolve_century,
    "fixed": _resolve_fixed,
    "coday": _resolve_coday,
    "anaphor": _resolve_anaphor,
}

_REFS = {"PAST_REF", "PRESENT_REF", "FUTURE_REF"}


def _interval_for(typ: str, value: Optional[str], mod: Optional[str], anchor: Optional[Anchor]):
    if value in _REFS:
        if anchor is None:
            return None, None
        if value == "PRESENT_REF":
            return anchor.first, anchor.last
        if value == "PAST_REF":
            return None, anchor.last
        return anchor.first, None
    if typ in ("DURATION", "SET") or not value:
        return None, None
    return value_interval(value, mod)


def _iso(d: Optional[date]) -> Optional[str]:
    return d.isoformat() if d else None


def find_times(text: str, lang: str, anchor: Optional[str] = None) -> list[TimeExpr]:
    """Every time expression in ``text``, normalised against ``anchor``.

    ``anchor`` is the article date at its own precision (``2022-09-15``,
    ``2022-09``, ``2022``, or None). Works without spaCy.
    """
    lex = lexicon_for(lang)
    if lex is None or not text:
        return []
    anc = parse_anchor(anchor)
    refs: tuple[Optional[date], ...] = anc.refs if anc else (None,)
    ctx = _Ctx(lex, text)
    ctx.day_anchor = anc is not None and anc.precision == "D"
    out: list[TimeExpr] = []
    capital = lex.capital
    index_to_rule = lex.index_to_rule
    rx_match = lex.regex.match
    anchors = [a.start() for a in lex.anchor.finditer(text)]
    if not anchors:
        return out
    reach = lex.reach
    limit = 0
    for t in lex.trigger.finditer(text):
        p = t.start()
        if p < limit:
            continue
        i = bisect_left(anchors, p)
        if i == len(anchors) or anchors[i] - p > reach:
            continue
        m = rx_match(text, p)
        if m is None:
            continue
        rule = index_to_rule[m.lastindex]
        g = _G()
        for local, gname, cls in rule.groups:
            s = m.group(gname)
            if s is not None:
                g.t[local] = s
                g.start[local] = m.start(gname)
                if cls:
                    g.v[local] = lex.value(cls, s)
        g.props = rule.props  # type: ignore[attr-defined]
        if "span" in g:
            start, end = g.start["span"], g.start["span"] + len(g.t["span"])
        else:
            start, end = m.start(), m.end()
        span_text = text[start:end]
        if capital and span_text.lower() in capital and span_text[:1].islower():
            continue
        if capital:
            for local in ("month", "weekday", "season"):
                s = g.t.get(local)
                if s and s.lower().rstrip(".") in capital and s[:1].islower():
                    break
            else:
                s = None
            if s:
                continue
        if any(x.match(text, start) for x in lex.exclude):
            continue
        resolver = _RESOLVERS[rule.kind]
        results = []
        for ref in refs:
            r = resolver(g, ref, ctx, lex, (start, end))
            if r is None:
                break
            results.append(r)
        if not results or len(results) != len(refs):
            continue
        r = results[0]
        typ, value, mod = r[0], r[1], r[2]
        if rule.type:
            typ = rule.type
        if len(r) == 5:
            b, e = r[3], r[4]
        else:
            b, e = _interval_for(typ, value, mod, anc)
        if len(results) > 1 and any(x[1] != value for x in results[1:]) and value and typ in ("DATE", "TIME"):
            # anchored below the article's precision: coarsen the value, widen the interval
            coarse = _coarsen(value, anc.precision) or value
            spans = [value_interval(x[1], x[2]) for x in results] + [value_interval(coarse)]
            bs = [x[0] for x in spans if x[0]]
            es = [x[1] for x in spans if x[1]]
            value, mod, typ = coarse, None, "DATE"
            b, e = (min(bs) if bs else None), (max(es) if es else None)
        # open intervals: "sinds X", "tot X"
        if typ in ("DATE", "TIME") and (b is not None or value in _REFS):
            before = text[max(0, start - 25) : start]
            if lex.since.search(before):
                if value in _REFS:
                    b = None
                if anc is None:
                    e = None
                elif b is None or anc.last >= b:
                    e = anc.last  # from then up to the article date
            elif lex.until.search(before) and not (out and start - out[-1].end < 25):
                # "tot X" (not the second half of "X tot Y"): open at the start
                if value in _REFS:
                    e = anc.last if anc else None
                b = None
        limit = m.end()
        if typ == "DATE" and value and value[:1].isdigit() and rule.kind != "ago" and not (
            rule.props.get("comparison") or "yago" in g or "unit2" in g
        ):
            ctx.prev = (end, value)
            if re.match(r"^\d{4}-[QH]\d$", value) and (anc is None or value_interval(value)[0] <= anc.last):
                # a quarter still to come ("losses through the third quarter
                # of 1990") is a forecast, not the period the report is about
                ctx.last_q = value
                ctx.last_q_end = end
                # "reported fourth-quarter earnings" on Nov. 2: a fiscal quarter
                # that has closed although the calendar one still runs
                ctx.last_q_reported = ctx.tense(start, end) == "past"
                qb, qe = value_interval(value)
                # "the quarter" only repeats a quarter named: no new evidence
                if "qword" not in g and (anc is None or (qe <= anc.last and (anc.first - qe).days < 366)):
                    # reported: it has ended, within the year before the article
                    ctx.q_count[value] = ctx.q_count.get(value, 0) + 1
        if typ == "DURATION" and value and ctx.period_rx.match(value):
            # "for the nine months": a report about part of a year
            ctx.last_period_end = end
        out.append(
            TimeExpr(start=start, end=end, text=span_text, type=typ, value=value, mod=mod, begin=_iso(b), end_date=_iso(e))
        )
    return out


@register_stage("times")
class TimesStage:
    """Fills ``article.times``; the text and the article date are all it needs."""

    def __init__(self, lang: str, mode: str):
        self.lang = lang
        self.mode = mode
        lexicon_for(lang)  # compile once, at pipeline construction

    def __call__(self, articles: list[Article]) -> None:
        for a in articles:
            lang = a.language if a.language and lexicon_for(a.language) else self.lang
            a.times = find_times(a.text, lang, a.published)
