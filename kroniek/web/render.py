"""The article reader's text: every layer's spans as markup, built from offsets.

The text is cut at every span boundary into segments; each segment is one
element carrying the classes and hover text of every span that covers it, so
nested and overlapping spans (a mention inside a quote, a place that is also a
mention, spans that cross) all show. Every piece of text and every attribute
value is escaped; nothing from the article or the layers reaches the page raw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from markupsafe import Markup, escape

from ..document import Article

LAYERS = ("mentions", "times", "places", "quotes")


@dataclass
class _Span:
    start: int
    end: int
    classes: str
    title: str
    anchor: Optional[str]


def _fmt_coord(x: Optional[float]) -> str:
    return "?" if x is None else f"{x:.4f}"


def layer_spans(a: Article) -> list[_Span]:
    spans: list[_Span] = []
    names = {e.id: e.name for e in a.entities}
    for i, m in enumerate(a.mentions):
        ent = names.get(m.entity or "")
        title = f"{m.type} · {m.text}" + (f" → {ent}" if ent and ent != m.text else "")
        spans.append(_Span(m.start, m.end, f"m m-{m.type}", title, f"m-{i}"))
    for i, t in enumerate(a.times):
        title = f"{t.type} {t.value or '?'}" + (f" ({t.mod})" if t.mod else "")
        if t.begin or t.end_date:
            title += f" · {t.begin or '?'} – {t.end_date or '?'}"
        spans.append(_Span(t.start, t.end, "t", title, f"t-{i}"))
    for i, p in enumerate(a.places):
        title = f"{p.name or p.text} ({p.kind})"
        if p.lat is not None and p.lon is not None:
            title += f" · {_fmt_coord(p.lat)}, {_fmt_coord(p.lon)}"
        if p.country:
            title += f" · {p.country}"
        spans.append(_Span(p.start, p.end, "p", title, f"p-{i}"))
    for i, q in enumerate(a.quotes):
        who = (q.speaker.name or q.speaker.text) if q.speaker else "unknown speaker"
        spans.append(_Span(q.start, q.end, f"q q-{q.kind}", f"quote ({q.kind.replace('_', ' ')}) · {who}", f"q-{i}"))
        if q.speaker:
            spans.append(_Span(q.speaker.start, q.speaker.end, "qs", f"speaker of quote {i + 1}: {who}", None))
        if q.cue:
            spans.append(_Span(q.cue.start, q.cue.end, "qc", f"cue of quote {i + 1}", None))
    return spans


def highlight(a: Article) -> Markup:
    """The article text as HTML with every layer marked; safe to put in a page."""
    text = a.text
    n = len(text)
    spans = [s for s in layer_spans(a) if 0 <= s.start < s.end <= n]
    sentence_starts: dict[int, list[int]] = {}
    for i, s in enumerate(a.sentences):
        if 0 <= s.start <= n:
            sentence_starts.setdefault(s.start, []).append(i)
    anchors: dict[int, list[str]] = {}
    for s in spans:
        if s.anchor:
            anchors.setdefault(s.start, []).append(s.anchor)
    cuts = sorted({0, n, *sentence_starts, *(s.start for s in spans), *(s.end for s in spans)})
    spans.sort(key=lambda s: (s.start, -s.end))
    out: list[str] = []
    active: list[_Span] = []
    nxt = 0
    for a_, b_ in zip(cuts, cuts[1:] + [None]):
        for i in sentence_starts.get(a_, ()):
            out.append(f'<a class="anchor" id="s{i}"></a>')
        for name in anchors.get(a_, ()):
            out.append(f'<a class="anchor" id="{escape(name)}"></a>')
        if b_ is None:
            break
        while nxt < len(spans) and spans[nxt].start <= a_:
            active.append(spans[nxt])
            nxt += 1
        active = [s for s in active if s.end > a_]
        piece = escape(text[a_:b_])
        if not active:
            out.append(str(piece))
            continue
        classes = " ".join(dict.fromkeys(c for s in active for c in s.classes.split()))
        title = "\n".join(dict.fromkeys(s.title for s in active))
        out.append(f'<span class="{escape(classes)}" title="{escape(title)}">{piece}</span>')
    return Markup("".join(out))


def sentence_of(a: Article, offset: int) -> Optional[int]:
    for i, s in enumerate(a.sentences):
        if s.start <= offset < s.end:
            return i
    return None
