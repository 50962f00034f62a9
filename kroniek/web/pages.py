"""The pages: search, reader, entities, quotes, timeline and map.

Server-rendered with Jinja2 (autoescape on: every value from an article or a
layer is escaped); the little JavaScript there is (layer toggles, the Leaflet
map) only adds to pages that work without it. Leaflet ships in static/leaflet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from ..document import normalise_published
from ..store import Store
from ..store import queries as QY
from .render import highlight, sentence_of

HERE = Path(__file__).resolve().parent
PAGE = 20
TYPES = ("PER", "ORG", "LOC", "MISC")
SELECTION_FIELDS = ("q", "date_from", "date_to", "language", "source", "has_quotes", "entity", "place")


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["u"] = lambda s: quote(str(s if s is not None else ""), safe="")
    env.filters["safe_url"] = lambda s: s if isinstance(s, str) and s.lower().startswith(("http://", "https://")) else None
    return env


class Ctx:
    """The request's selection and page, read leniently: a bad value is reported, not fatal."""

    def __init__(self, request: Request):
        self.request = request
        self.params = {k: v.replace("\x00", "").strip() for k, v in request.query_params.items()}
        self.errors: list[str] = []
        v = {k: (self.params.get(k) or None) for k in SELECTION_FIELDS}
        for k in ("date_from", "date_to"):
            if v[k]:
                try:
                    v[k] = normalise_published(v[k])
                except ValueError as e:
                    self.errors.append(f"{k.replace('_', ' ')}: {e}")
                    v[k] = None
        hq = (v["has_quotes"] or "").lower()
        v["has_quotes"] = True if hq in ("1", "true", "yes", "on") else False if hq in ("0", "false", "no") else None
        self.sel = QY.Selection(**v)
        self.offset = self.int("offset", 0, 0, 2**31 - 1)

    def int(self, name: str, default: int, lo: int, hi: int) -> int:
        try:
            return max(lo, min(hi, int(self.params.get(name, default))))
        except ValueError:
            return default

    def get(self, name: str) -> str:
        return self.params.get(name, "")

    def qs(self, drop: tuple = ("offset",), **override: Any) -> str:
        """The current query string with some values changed (None drops one)."""
        p = {k: v for k, v in self.params.items() if v and k not in drop}
        for k, v in override.items():
            if v is None or v == "":
                p.pop(k, None)
            else:
                p[k] = str(v)
        return ("?" + urlencode(p)) if p else ""

    def selection_qs(self, **override: Any) -> str:
        p = {k: self.params[k] for k in SELECTION_FIELDS if self.params.get(k)}
        p.update({k: str(v) for k, v in override.items() if v not in (None, "")})
        for k in [k for k, v in override.items() if v in (None, "")]:
            p.pop(k, None)
        return ("?" + urlencode(p)) if p else ""


def _pages(total: int, offset: int, limit: int) -> dict[str, Any]:
    return dict(total=total, offset=offset, limit=limit, first=offset + 1 if total else 0,
                last=min(offset + limit, total),
                prev=max(0, offset - limit) if offset > 0 else None,
                next=offset + limit if offset + limit < total else None)


def month_chart(rows: list[dict], width: int = 640, height: int = 140) -> Markup:
    """Mentions per month as an inline SVG bar chart (labels escaped)."""
    from markupsafe import escape

    rows = [r for r in rows if r.get("month")]
    if not rows:
        return Markup('<p class="muted">No dated mentions.</p>')
    top = max(r["mentions"] for r in rows) or 1
    n = len(rows)
    bw = max(4, min(48, (width - 40) // n - 4))
    parts = [f'<svg class="chart" role="img" aria-label="mentions per month" width="{40 + n * (bw + 4)}" '
             f'height="{height + 34}" viewBox="0 0 {40 + n * (bw + 4)} {height + 34}">',
             f'<line x1="36" y1="{height}" x2="{40 + n * (bw + 4)}" y2="{height}" class="axis"/>',
             f'<text x="30" y="12" class="tick" text-anchor="end">{top}</text>']
    for i, r in enumerate(rows):
        h = max(1, round(r["mentions"] / top * (height - 16)))
        x = 40 + i * (bw + 4)
        label = escape(r["month"])
        parts.append(f'<rect x="{x}" y="{height - h}" width="{bw}" height="{h}" class="bar">'
                     f'<title>{label}: {r["mentions"]} mentions in {r["documents"]} documents</title></rect>')
        if n <= 24 or i % max(1, n // 12) == 0:
            parts.append(f'<text x="{x + bw / 2}" y="{height + 14}" class="tick" text-anchor="middle">{label}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def timeline_svg(items: list[dict], width: int = 900) -> Markup:
    """The items' intervals on one date axis: one thin bar per item."""
    from datetime import date

    from markupsafe import escape

    def day(s: Optional[str]) -> Optional[int]:
        try:
            return date.fromisoformat(s[:10]).toordinal() if s else None
        except ValueError:
            return None

    rows = [(day(i["begin"]), day(i["end"]) or day(i["begin"]), i) for i in items]
    rows = [r for r in rows if r[0] is not None]
    if not rows:
        return Markup("")
    lo = min(r[0] for r in rows)
    hi = max(r[1] for r in rows)
    span = max(1, hi - lo)
    left, usable, rh = 10, width - 20, 8
    height = len(rows) * rh + 30
    parts = [f'<svg class="timeline-svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             'role="img" aria-label="intervals of the dated items">']
    for k, (b, e, it) in enumerate(rows):
        x = left + (b - lo) / span * usable
        w = max(3, (e - b + 1) / span * usable)
        y = 4 + k * rh
        tip = escape(f"{it['begin']} – {it['end']}: {it['kind']} · {(it.get('text') or '')[:120]}")
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="{min(w, width - x):.1f}" height="{rh - 2}" '
                     f'class="iv iv-{escape(it["kind"])}"><title>{tip}</title></rect>')
    y = height - 12
    parts.append(f'<text x="{left}" y="{y + 8}" class="tick">{escape(date.fromordinal(lo).isoformat())}</text>')
    parts.append(f'<text x="{width - 10}" y="{y + 8}" class="tick" text-anchor="end">'
                 f'{escape(date.fromordinal(hi).isoformat())}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def add_pages(app: FastAPI, store: Store) -> None:
    env = _env()
    dialect = store.dialect
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    def render(name: str, ctx: Ctx, status: int = 200, **values: Any) -> HTMLResponse:
        html = env.get_template(name).render(ctx=ctx, sel=ctx.sel, errors=ctx.errors, nav=name.split(".")[0],
                                             **values)
        return HTMLResponse(html, status_code=status)

    def not_found(ctx: Ctx, what: str) -> HTMLResponse:
        return render("notfound.html", ctx, status=404, what=what)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def search_page(request: Request):
        ctx = Ctx(request)
        sort = ctx.get("sort") if ctx.get("sort") in ("rank", "newest", "oldest") else None
        with store.engine.connect() as c:
            if ctx.sel.q:
                hits, total = QY.search(c, dialect, ctx.sel, limit=PAGE, offset=ctx.offset, sort=sort or "rank")
            else:
                hits, total = QY.list_documents(c, dialect, ctx.sel, limit=PAGE, offset=ctx.offset,
                                                sort=sort if sort in ("newest", "oldest") else "newest")
            facets = QY.facets(c, dialect, ctx.sel)
        return render("search.html", ctx, hits=hits, page=_pages(total, ctx.offset, PAGE), facets=facets, sort=sort)

    @app.get("/search", include_in_schema=False)
    def search_alias(request: Request):
        return RedirectResponse("/" + (("?" + request.url.query) if request.url.query else ""))

    @app.get("/doc/{doc_id:path}", response_class=HTMLResponse, include_in_schema=False)
    def reader(doc_id: str, request: Request):
        ctx = Ctx(request)
        article = store.get(doc_id) if "\x00" not in doc_id else None
        if article is None:
            return not_found(ctx, f"document {doc_id}")
        mentions: dict[tuple[str, str], dict] = {}
        names = {e.id: e.name for e in article.entities}
        for i, m in enumerate(article.mentions):
            key = (names.get(m.entity or "") or m.text, m.type)
            row = mentions.setdefault(key, {"name": key[0], "type": m.type, "count": 0, "first": i, "texts": set()})
            row["count"] += 1
            row["texts"].add(m.text)
        by_type = {t: sorted((r for r in mentions.values() if r["type"] == t), key=lambda r: (-r["count"], r["name"]))
                   for t in TYPES}
        quotes = [dict(q=q, i=i, sentence=sentence_of(article, q.start)) for i, q in enumerate(article.quotes)]
        places: dict[tuple, dict] = {}
        for i, p in enumerate(article.places):
            g = places.setdefault((p.text, p.name, p.lat, p.lon), {"place": p, "first": i, "count": 0})
            g["count"] += 1
        return render("doc.html", ctx, a=article, body=highlight(article), by_type=by_type, quotes=quotes,
                      places=list(places.values()), types=TYPES)

    @app.get("/entities", response_class=HTMLResponse, include_in_schema=False)
    def entities_page(request: Request):
        ctx = Ctx(request)
        etype = ctx.get("type") if ctx.get("type") in TYPES else None
        with store.engine.connect() as c:
            items, total = QY.list_entities(c, dialect, ctx.sel, type=etype, name=ctx.get("name") or None,
                                            limit=50, offset=ctx.offset)
        return render("entities.html", ctx, items=items, page=_pages(total, ctx.offset, 50), etype=etype, types=TYPES)

    @app.get("/entity/{etype}/{name:path}", response_class=HTMLResponse, include_in_schema=False)
    def entity_page(etype: str, name: str, request: Request):
        ctx = Ctx(request)
        name = name.replace("\x00", "")
        if etype not in TYPES:
            return not_found(ctx, f"entity type {etype}")
        with store.engine.connect() as c:
            e = QY.get_entity(c, dialect, name, etype, limit=30)
        if e is None:
            return not_found(ctx, f"entity {name} ({etype})")
        return render("entity.html", ctx, e=e, chart=month_chart(e["mentions_by_month"]))

    @app.get("/quotes", response_class=HTMLResponse, include_in_schema=False)
    def quotes_page(request: Request):
        ctx = Ctx(request)
        with store.engine.connect() as c:
            items, total = QY.list_quotes(c, dialect, ctx.sel, speaker=ctx.get("speaker") or None,
                                          text=ctx.get("text") or None, mentioned=ctx.get("mentioned") or None,
                                          limit=PAGE, offset=ctx.offset)
        return render("quotes.html", ctx, items=items, page=_pages(total, ctx.offset, PAGE))

    @app.get("/timeline", response_class=HTMLResponse, include_in_schema=False)
    def timeline_page(request: Request):
        ctx = Ctx(request)
        kinds = tuple(k for k in QY.TIMELINE_KINDS if ctx.get("kind") in ("", k))
        with store.engine.connect() as c:
            items, total = QY.timeline(c, dialect, ctx.sel, kinds=kinds, limit=100, offset=ctx.offset)
        return render("timeline.html", ctx, items=items, page=_pages(total, ctx.offset, 100),
                      svg=timeline_svg(items), kinds=QY.TIMELINE_KINDS)

    @app.get("/map", response_class=HTMLResponse, include_in_schema=False)
    def map_page(request: Request):
        ctx = Ctx(request)
        with store.engine.connect() as c:
            items, total = QY.list_places(c, dialect, ctx.sel, limit=1000, offset=ctx.offset)
        return render("map.html", ctx, places=items, page=_pages(total, ctx.offset, 1000),
                      geo=QY.geojson(items, total, 1000, ctx.offset), tiles=app.state.tiles,
                      tiles_attribution=app.state.tiles_attribution)
