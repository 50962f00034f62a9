"""The FastAPI application: a JSON API under /api (OpenAPI at /api/openapi.json)
and server-rendered pages under / (kroniek/web).

Reads are open. Writes (``POST /api/documents``) need ``Authorization: Bearer
<token>`` matching the server's ``KRONIEK_TOKEN``; without a configured token
they are disabled (403).
"""

from __future__ import annotations

import hmac
import os
import threading
from typing import Annotated, Any, Literal, Optional, Union

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from .. import __version__
from ..document import Article, MentionType, normalise_published
from ..store import RANK_WINDOW, Store
from ..store import queries as QY

MAX_PAGE = 200          # largest page of list results
MAX_GEO_PAGE = 2000     # largest page of GeoJSON features
MAX_OFFSET = 2**31 - 1
MAX_BATCH = 100         # articles per POST
MAX_TEXT_PARAM = 2000   # characters in a text parameter
DEFAULT_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILES_ATTRIBUTION = "© OpenStreetMap contributors"


# --- request parameters ---------------------------------------------------------


def _clean(value: Optional[str]) -> Optional[str]:
    """Strip NUL (no store accepts it) and surrounding space; empty means absent."""
    if value is None:
        return None
    if len(value) > MAX_TEXT_PARAM:
        raise ValueError(f"longer than {MAX_TEXT_PARAM} characters")
    value = value.replace("\x00", "").strip()
    return value or None


def _date(value: Optional[str]) -> Optional[str]:
    value = _clean(value)
    if value is None:
        return None
    return normalise_published(value)  # ValueError -> 422


Text = Annotated[Optional[str], AfterValidator(_clean)]
DateParam = Annotated[Optional[str], AfterValidator(_date)]


class SelectionParams:
    """The document filters shared by search, documents, quotes, places and timeline."""

    def __init__(
        self,
        q: Annotated[Text, Query(description='Full-text query: words, "a phrase", OR, prefix*')] = None,
        date_from: Annotated[DateParam, Query(description="Published on or after (ISO 8601 at any precision)")] = None,
        date_to: Annotated[DateParam, Query(description="Published on or before (ISO 8601 at any precision)")] = None,
        language: Annotated[Text, Query(description="ISO 639-1 code")] = None,
        source: Annotated[Text, Query(description="Exact source")] = None,
        has_quotes: Optional[bool] = Query(None, description="Only documents with (true) or without (false) quotes"),
        entity: Annotated[Text, Query(description="Documents mentioning this entity name")] = None,
        place: Annotated[Text, Query(description="Documents naming this place (resolved name or text)")] = None,
    ):
        self.selection = QY.Selection(q=q, date_from=date_from, date_to=date_to, language=language, source=source,
                                      has_quotes=has_quotes, entity=entity, place=place)


def page_params(limit: int = Query(20, ge=1, le=MAX_PAGE), offset: int = Query(0, ge=0, le=MAX_OFFSET)):
    return limit, offset


# --- response models (the OpenAPI description) ------------------------------------


class Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class DocRef(Out):
    id: str
    title: Optional[str] = None
    published: Optional[str] = None
    source: Optional[str] = None
    language: Optional[str] = None


class DocumentSummary(DocRef):
    n_quotes: int
    preview: str


class SnippetPart(Out):
    text: str
    hit: bool


class SearchHit(DocRef):
    preview: str = Field(description="the text's first 160 characters")
    score: float
    snippet: list[SnippetPart] = Field(description="the snippet as plain text parts; hit parts matched the query")


class FacetValue(Out):
    value: str
    count: int


class Page(Out):
    total: int
    limit: int
    offset: int


class DocumentPage(Page):
    items: list[DocumentSummary]


class SearchPage(Page):
    total_exact: bool = Field(True, description="false when total is an estimate: on PostgreSQL a query with "
                                                "many matches is counted from the share of the store read for "
                                                "the page")
    items: list[SearchHit]
    facets: dict[str, list[FacetValue]]


class EntitySummary(Out):
    name: str
    type: str
    mentions: int
    documents: int


class EntityPage(Page):
    items: list[EntitySummary]


class SpeakerRef(Out):
    text: Optional[str] = None
    name: Optional[str] = None


class QuoteItem(Out):
    document: DocRef
    idx: int
    start: int
    end: int
    text: str
    kind: str
    hearsay: bool
    speaker: Optional[SpeakerRef] = None
    cue: Optional[str] = None
    sentence: Optional[int] = Field(None, description="index of the sentence holding the quote's start")


class QuotePage(Page):
    items: list[QuoteItem]


class QuoteList(Out):
    total: int
    items: list[QuoteItem]


class MonthCount(Out):
    month: Optional[str] = None
    mentions: int
    documents: int


class PlaceGroup(Out):
    name: Optional[str] = None
    text: Optional[str] = None
    kind: str
    lat: float
    lon: float
    country: Optional[str] = None
    geonames_id: Optional[int] = None
    documents: int
    mentions: int


class EntityDetail(Out):
    name: str
    type: str
    aliases: list[str]
    mentions: int
    documents: int
    mentions_by_month: list[MonthCount]
    quotes_by: QuoteList
    quotes_about: QuoteList
    co_occurring: list[EntitySummary]
    places: list[PlaceGroup]
    recent_documents: list[DocRef]


class Geometry(Out):
    type: Literal["Point"]
    coordinates: list[float]


class Feature(Out):
    type: Literal["Feature"]
    geometry: Geometry
    properties: dict[str, Any]


class FeatureCollection(Out):
    type: Literal["FeatureCollection"]
    features: list[Feature]
    total: int
    limit: int
    offset: int


class TimelineItem(Out):
    kind: str
    begin: Optional[str] = None
    end: Optional[str] = None
    text: Optional[str] = None
    value: Optional[str] = None
    type: Optional[str] = None
    speaker: Optional[str] = None
    start: Optional[int] = None
    sentence: Optional[int] = Field(None, description="index of the sentence holding the item")
    sentence_text: Optional[str] = None
    document: DocRef


class TimelinePage(Page):
    items: list[TimelineItem]


class ArticleIn(BaseModel):
    """The contract's input fields of one article."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1)
    id: Optional[Union[Annotated[str, Field(max_length=200)], int]] = None
    published: Optional[str] = Field(None, max_length=40)
    title: Optional[str] = None
    url: Optional[str] = None
    source: Optional[str] = None
    language: Optional[str] = Field(None, max_length=16)

    @field_validator("text", "id", "published", "title", "url", "source", "language")
    @classmethod
    def _no_nul(cls, v: Any) -> Any:
        if isinstance(v, str) and "\x00" in v:
            raise ValueError("NUL characters are not allowed")
        return v


class IngestResult(Out):
    id: str
    status: Literal["stored", "replaced", "unchanged"]


class IngestFailure(Out):
    source: str
    reason: str


class IngestResponse(Out):
    results: list[IngestResult]
    failed: list[IngestFailure]


# --- the application ----------------------------------------------------------


def _settings_tiles() -> tuple[str, str]:
    return (os.environ.get("KRONIEK_TILES") or DEFAULT_TILES,
            os.environ.get("KRONIEK_TILES_ATTRIBUTION") or DEFAULT_TILES_ATTRIBUTION)


bearer = HTTPBearer(auto_error=False, description="KRONIEK_TOKEN, as set on the server; needed for writes")


def require_token(credentials: Optional[HTTPAuthorizationCredentials] = Depends(bearer)) -> None:
    token = os.environ.get("KRONIEK_TOKEN") or ""
    if not token:
        raise HTTPException(403, "writes disabled: the server has no KRONIEK_TOKEN")
    given = credentials.credentials if credentials is not None else ""
    if not given or not hmac.compare_digest(given.encode(), token.encode()):
        raise HTTPException(401, "a valid bearer token is required for writes",
                            headers={"WWW-Authenticate": "Bearer"})


def _tune_reads(store: Store) -> None:
    """SQLite: a larger page cache and memory-mapped reads for this long-lived reader."""
    if store.dialect != "sqlite":
        return
    from sqlalchemy import event

    def pragmas(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA cache_size=-65536")   # 64 MiB per connection
        cur.execute("PRAGMA mmap_size=268435456")  # 256 MiB
        cur.close()

    event.listen(store.engine, "connect", pragmas)
    store.engine.dispose()  # connections opened from here on get them


def create_app(db_url: str | None = None, mode: str = "accurate") -> FastAPI:
    """The API and the pages over the store at db_url (default: $KRONIEK_DB, else ./kroniek.db)."""
    store = Store(db_url)
    _tune_reads(store)
    app = FastAPI(
        title="Kroniek",
        version=__version__,
        description="Who said what, what happened, where and when: a sourced record of dated news articles. "
                    "Reads are open; writes need a bearer token (KRONIEK_TOKEN).",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.store = store
    app.state.mode = mode
    app.state.tiles, app.state.tiles_attribution = _settings_tiles()
    app.state.analysis_lock = threading.Lock()
    app.include_router(api_router(store, mode), prefix="/api")
    from ..web.pages import add_pages

    add_pages(app, store)

    return app


def api_router(store: Store, mode: str) -> APIRouter:
    r = APIRouter()
    dialect = store.dialect
    lock = threading.Lock()

    def conn():
        with store.engine.connect() as c:
            yield c

    @r.get("/documents", response_model=DocumentPage, tags=["documents"])
    def list_documents(sel: SelectionParams = Depends(), page=Depends(page_params), c=Depends(conn),
                       sort: Literal["newest", "oldest"] = "newest"):
        """Stored documents, newest first, with the selection's filters."""
        limit, offset = page
        items, total = QY.list_documents(c, dialect, sel.selection, limit=limit, offset=offset, sort=sort)
        return {"total": total, "limit": limit, "offset": offset, "items": items}

    @r.get("/documents/{doc_id:path}", response_model=Article, tags=["documents"])
    def get_document(doc_id: str):
        """One document in the contract's JSON."""
        article = store.get(doc_id) if "\x00" not in doc_id else None
        if article is None:
            raise HTTPException(404, f"no document {doc_id!r}")
        return article

    @r.post("/documents", response_model=IngestResponse, tags=["documents"], dependencies=[Depends(require_token)])
    def post_documents(body: Union[ArticleIn, Annotated[list[ArticleIn], Field(min_length=1, max_length=MAX_BATCH)]]):
        """Analyse and store one article or a list of them (contract input fields).

        Needs ``Authorization: Bearer <KRONIEK_TOKEN>``. The same input twice is
        stored once ("unchanged"); a new text under a known id replaces it."""
        from ..ingest.decode import InputError
        from ..ingest.jsonl import article_from_record
        from ..runner import LocalAnalyser

        records = body if isinstance(body, list) else [body]
        articles = []
        for i, rec in enumerate(records):
            try:
                articles.append(article_from_record(rec.model_dump(exclude_none=True), f"api:{i}", default_source="api"))
            except InputError as e:
                raise HTTPException(422, f"article {i}: {e}")
        known = store.known(articles)
        results: list[Optional[dict]] = [None] * len(articles)
        todo = []
        for i, a in enumerate(articles):
            if known.get(a.id) == a.content_hash:
                results[i] = {"id": a.id, "status": "unchanged"}
            else:
                todo.append((i, a))
        failed = []
        if todo:
            with lock:  # one analysis at a time: the models are shared
                done, failures = next(LocalAnalyser(mode, "auto").run([[a for _, a in todo]]), ([], []))
                failed = [{"source": f.source, "reason": f.reason} for f in failures]
            statuses = store.put_many(done, f"{mode}/kroniek-{__version__}")
            by_id = {a.id: s for a, s in zip(done, statuses)}
            for i, a in todo:
                if a.id in by_id:
                    results[i] = {"id": a.id, "status": by_id[a.id]}
        return {"results": [x for x in results if x is not None], "failed": failed}

    @r.get("/search", response_model=SearchPage, tags=["search"], description=(
        "Full-text search with highlighted snippets (as plain-text parts) and facets. "
        f"`sort=rank` ranks the {RANK_WINDOW:,} most recently stored matches by relevance; the older "
        "matches follow, newest stored first, so every match can be paged to. `total` counts every match."))
    def search(sel: SelectionParams = Depends(), page=Depends(page_params), c=Depends(conn),
               sort: Literal["rank", "newest", "oldest"] = "rank",
               facets: bool = Query(False, description="Also count the matches per language, source and month")):
        """Full-text search with highlighted snippets (as plain-text parts) and facets."""
        limit, offset = page
        items, total = QY.search(c, dialect, sel.selection, limit=limit, offset=offset, sort=sort)
        f = QY.facets(c, dialect, sel.selection) if facets and sel.selection.q else {}
        return {"total": total, "total_exact": getattr(total, "exact", True), "limit": limit, "offset": offset,
                "items": items, "facets": f}

    @r.get("/entities", response_model=EntityPage, tags=["entities"])
    def list_entities(sel: SelectionParams = Depends(), page=Depends(page_params), c=Depends(conn),
                      type: Optional[MentionType] = None,
                      name: Annotated[Text, Query(description="Names containing this (case-insensitive)")] = None):
        """Entities by mention count, grouped by name and type."""
        limit, offset = page
        items, total = QY.list_entities(c, dialect, sel.selection, type=type, name=name, limit=limit, offset=offset)
        return {"total": total, "limit": limit, "offset": offset, "items": items}

    @r.get("/entities/{type}/{name:path}", response_model=EntityDetail, tags=["entities"])
    def get_entity(type: MentionType, name: str, c=Depends(conn),
                   limit: int = Query(20, ge=1, le=MAX_PAGE, description="Items per list")):
        """One entity: aliases, mentions per published month, quotes by and about it,
        co-occurring entities, places in its documents."""
        name = name.replace("\x00", "")
        found = QY.get_entity(c, dialect, name, type, limit=limit)
        if found is None:
            raise HTTPException(404, f"no entity {name!r} of type {type}")
        return found

    @r.get("/quotes", response_model=QuotePage, tags=["quotes"])
    def list_quotes(sel: SelectionParams = Depends(), page=Depends(page_params), c=Depends(conn),
                    speaker: Annotated[Text, Query(description="Speaker name or text contains this")] = None,
                    mentioned: Annotated[Text, Query(description="Entity mentioned in the quote")] = None,
                    text: Annotated[Text, Query(description="Quote text contains this")] = None,
                    kind: Optional[Literal["direct", "indirect", "according_to"]] = None):
        """Who said what, newest first."""
        limit, offset = page
        items, total = QY.list_quotes(c, dialect, sel.selection, speaker=speaker, mentioned=mentioned, text=text,
                                      kind=kind, limit=limit, offset=offset)
        return {"total": total, "limit": limit, "offset": offset, "items": items}

    @r.get("/places", response_model=FeatureCollection, tags=["places"])
    def places(sel: SelectionParams = Depends(), c=Depends(conn),
               limit: int = Query(500, ge=1, le=MAX_GEO_PAGE), offset: int = Query(0, ge=0, le=MAX_OFFSET)):
        """Resolved places in the selected documents as a GeoJSON FeatureCollection,
        most documents first; each feature carries its document and mention counts."""
        items, total = QY.list_places(c, dialect, sel.selection, limit=limit, offset=offset)
        return JSONResponse(QY.geojson(items, total, limit, offset), media_type="application/geo+json")

    @r.get("/timeline", response_model=TimelinePage, tags=["timeline"])
    def timeline(sel: SelectionParams = Depends(), page=Depends(page_params), c=Depends(conn),
                 kind: list[Literal["time", "quote", "published"]] = Query(
                     default=["time", "quote", "published"], description="Which items")):
        """Dated items as intervals: time expressions (begin..end_date), statements and
        publications (the article's date interval); the date range filters the items."""
        limit, offset = page
        items, total = QY.timeline(c, dialect, sel.selection, kinds=tuple(kind), limit=limit, offset=offset)
        return {"total": total, "limit": limit, "offset": offset, "items": items}

    @r.get("/stats", tags=["documents"])
    def stats() -> dict[str, Any]:
        """Counts per layer and documents per language."""
        return store.stats()

    return r
