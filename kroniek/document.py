"""The data model every stage reads and extends, and the JSON contract.

An :class:`Article` is what an ingest reader yields (text and metadata) and
what the pipeline fills layer by layer. Every layer is a list of spans with
offsets into ``text``: Python string indices (code points), end exclusive, so
``text[start:end] == span.text`` always holds. ``Article.check_spans`` tests it.

The pydantic models are the contract: ``kroniek schema`` prints their JSON
Schema, the API validates with them, and the store maps them to rows.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, timedelta
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

MentionType = Literal["PER", "ORG", "LOC", "MISC"]
TimexType = Literal["DATE", "TIME", "DURATION", "SET"]
PlaceKind = Literal["country", "region", "city", "island", "water", "other"]
QuoteKind = Literal["direct", "indirect", "according_to"]

# The version of this contract; bumped when a field changes meaning.
CONTRACT_VERSION = "1.0"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class Span(_Model):
    """A piece of the article text."""

    start: int = Field(ge=0, description="code-point offset into text, inclusive")
    end: int = Field(ge=0, description="code-point offset into text, exclusive")
    text: str = Field(description="text[start:end]")


class Sentence(_Model):
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Mention(Span):
    """A named-entity mention (CoNLL scheme in every language)."""

    type: MentionType
    entity: Optional[str] = Field(None, description="id of the entity in `entities`")


class Entity(_Model):
    """One real-world thing in this document."""

    id: str
    name: str = Field(description="the fullest form in the article")
    type: MentionType
    aliases: list[str] = Field(default_factory=list)
    geonames_id: Optional[int] = Field(None, description="for places: the gazetteer id")
    global_id: Optional[str] = Field(
        None, description="the cross-document entity this one is linked to, once stored"
    )


class TimeExpr(Span):
    """A TIMEX3 time expression, normalised against the article date."""

    type: TimexType
    value: Optional[str] = Field(None, description="TIMEX3 value, e.g. 2022-02, P3M, PAST_REF")
    mod: Optional[str] = Field(None, description="TIMEX3 modifier: START, END, MID, ...")
    begin: Optional[str] = Field(None, description="first day of the interval (ISO date)")
    end_date: Optional[str] = Field(None, description="last day of the interval (ISO date)")


class Place(Span):
    """A toponym resolved to a gazetteer entry."""

    name: Optional[str] = Field(None, description="resolved name in English")
    kind: PlaceKind = "other"
    lat: Optional[float] = None
    lon: Optional[float] = None
    country: Optional[str] = Field(None, description="ISO 3166-1 alpha-2 code")
    geonames_id: Optional[int] = None


class Speaker(Span):
    name: Optional[str] = Field(None, description="canonical name (pronouns resolved)")
    entity: Optional[str] = None


class Quote(Span):
    """Who said what: the content span (without quotation marks)."""

    kind: QuoteKind
    speaker: Optional[Speaker] = None
    cue: Optional[Span] = None
    hearsay: bool = Field(False, description="reported second hand (zou, naar verluidt, reportedly)")


class Article(_Model):
    """One article and everything Kroniek found in it."""

    id: str = Field(description="stable id: content hash unless the source gives one")
    source: Optional[str] = Field(None, description="where it came from: path, feed, URL")
    url: Optional[str] = None
    title: Optional[str] = None
    published: Optional[str] = Field(
        None, description="ISO 8601 at the precision the source gives (2022, 2022-09, ...)"
    )
    language: Optional[str] = Field(None, description="ISO 639-1 code, detected or given")
    text: str
    sentences: list[Sentence] = Field(default_factory=list)
    mentions: list[Mention] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list)
    times: list[TimeExpr] = Field(default_factory=list)
    places: list[Place] = Field(default_factory=list)
    quotes: list[Quote] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list, description="what the analysis could not do")

    # Working state of the analysis (the spaCy Doc); never serialised.
    _doc: Any = PrivateAttr(default=None)

    @classmethod
    def new(cls, text: str, **fields: Any) -> "Article":
        """An article from ingest: the id is the given one or a hash of the text."""
        given = fields.pop("id", None)
        return cls(id=str(given) if given not in (None, "") else content_id(text), text=text, **fields)

    @property
    def content_hash(self) -> str:
        return content_id(self.text)

    def span(self, start: int, end: int) -> str:
        return self.text[start:end]

    def check_spans(self) -> list[str]:
        """Every span whose text is not text[start:end]; empty when all is well."""
        problems = []
        n = len(self.text)

        def check(layer: str, s: Any) -> None:
            if not (0 <= s.start <= s.end <= n):
                problems.append(f"{layer} [{s.start}:{s.end}] out of bounds")
            elif getattr(s, "text", None) is not None and self.text[s.start : s.end] != s.text:
                problems.append(f"{layer} [{s.start}:{s.end}] {s.text!r} != {self.text[s.start:s.end]!r}")

        for layer in ("sentences", "mentions", "times", "places", "quotes"):
            for s in getattr(self, layer):
                check(layer, s)
                if layer == "quotes":
                    if s.speaker is not None:
                        check("quotes.speaker", s.speaker)
                    if s.cue is not None:
                        check("quotes.cue", s.cue)
        return problems

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json(self, indent: Optional[int] = None) -> str:
        # Deterministic: field order is the model's, no timestamps, no floats
        # beyond what the layers hold.
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Article":
        return cls.model_validate(data)


def content_id(text: str) -> str:
    """A stable id for a text: the first 16 hex digits of its BLAKE2b hash."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def json_schema() -> dict[str, Any]:
    schema = Article.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://kroniek.invalid/schema/document-{CONTRACT_VERSION}.json"
    schema["title"] = "Kroniek document"
    return schema


# --- publication dates -------------------------------------------------------

_PUBLISHED = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})(?P<time>[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)?)?$"
)


def normalise_published(value: Any) -> Optional[str]:
    """ISO 8601 at the precision given; raises ValueError for what is not a date.

    ``2022`` stays a year, ``2022-09`` a month; a day is never invented.
    """
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return None
    m = _PUBLISHED.match(text)
    if not m:
        raise ValueError(f"not an ISO 8601 date: {text!r}")
    y, mo, d = m["y"], m["m"], m["d"]
    if mo and not 1 <= int(mo) <= 12:
        raise ValueError(f"month out of range: {text!r}")
    if d:
        date(int(y), int(mo), int(d))  # raises for 2022-02-30
    if m["time"]:
        return text.replace(" ", "T", 1)
    return "-".join(p for p in (y, mo, d) if p)


def published_interval(published: Optional[str]) -> tuple[Optional[str], Optional[str]]:
    """The first and last day a publication date at its precision may denote."""
    if not published:
        return None, None
    y = int(published[:4])
    if len(published) == 4:
        return f"{y:04d}-01-01", f"{y:04d}-12-31"
    m = int(published[5:7])
    if len(published) == 7:
        first = date(y, m, 1)
        nxt = date(y + (m == 12), m % 12 + 1, 1)
        return first.isoformat(), (nxt - timedelta(days=1)).isoformat()
    day = published[:10]
    return day, day
