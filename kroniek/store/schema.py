"""One schema for SQLite and PostgreSQL (SQLAlchemy Core).

Each layer of the contract is a table keyed by the document's integer ``pk``
and the span's position ``idx`` in its layer, so a stored document reads back
exactly as it was analysed. Full-text search is engine-specific DDL added by
``fts_ddl``: an FTS5 table kept in step by triggers on SQLite, a generated
``tsvector`` column with a GIN index on PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

SCHEMA_VERSION = 1

metadata = MetaData()

meta = Table(
    "kroniek_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

documents = Table(
    "documents",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(200), nullable=False, unique=True),
    Column("content_hash", String(32), nullable=False),
    Column("source", Text),
    Column("url", Text),
    Column("title", Text),
    Column("published", String(40)),
    # The calendar interval the publication date denotes, for date filters.
    Column("published_begin", String(10)),
    Column("published_end", String(10)),
    Column("language", String(16)),
    Column("text", Text, nullable=False),
    Column("warnings", Text, nullable=False, default="[]"),
    Column("analysis", String(64)),
    Column("n_quotes", Integer, nullable=False, default=0),
    Index("ix_documents_published", "published_begin", "published_end"),
    # Covering index for search filters: full-text matches join it without
    # reading the (large) document rows.
    Index("ix_documents_filter", "pk", "published_begin", "published_end", "language", "source"),
    Index("ix_documents_language", "language"),
    Index("ix_documents_source", "source"),
)


def _layer(name: str, *columns: Column, indexes: tuple = ()) -> Table:
    return Table(
        name,
        metadata,
        Column("doc_pk", Integer, ForeignKey("documents.pk", ondelete="CASCADE"), primary_key=True),
        Column("idx", Integer, primary_key=True),
        *columns,
        *indexes,
    )


def _span() -> list[Column]:
    return [Column("start", Integer, nullable=False), Column("end", Integer, nullable=False)]


sentences = _layer("sentences", *_span())

mentions = _layer(
    "mentions",
    *_span(),
    Column("text", Text, nullable=False),
    Column("type", String(8), nullable=False),
    Column("entity", String(64)),
    indexes=(Index("ix_mentions_text", "text"),
             Index("ix_mentions_entity", "doc_pk", "entity")),  # mention -> its entity (API reads)
)

entities = _layer(
    "entities",
    Column("id", String(64), nullable=False),
    Column("name", Text, nullable=False),
    Column("type", String(8), nullable=False),
    Column("aliases", Text, nullable=False),  # JSON list
    Column("geonames_id", Integer),
    Column("global_id", String(64)),
    Column("link_reason", Text),  # why this entity was linked to its global entity
    Column("n_mentions", Integer, nullable=False, default=0),
    # The document's date, copied here so an entity's latest documents come
    # straight from one index, however many documents name it.
    Column("published_begin", String(10)),
    indexes=(Index("ix_entities_name", "name"), Index("ix_entities_global", "global_id", "published_begin"),
             Index("ix_entities_doc_id", "doc_pk", "id")),  # entity by its id in a document (API reads)
)

times = _layer(
    "times",
    *_span(),
    Column("text", Text, nullable=False),
    Column("type", String(16), nullable=False),
    Column("value", String(64)),
    Column("mod", String(32)),
    Column("begin", String(10)),
    Column("end_date", String(10)),
    indexes=(Index("ix_times_interval", "begin", "end_date"),),
)

places = _layer(
    "places",
    *_span(),
    Column("text", Text, nullable=False),
    Column("name", Text),
    Column("kind", String(16), nullable=False),
    Column("lat", Float),
    Column("lon", Float),
    Column("country", String(8)),
    Column("geonames_id", Integer),
    indexes=(Index("ix_places_geonames", "geonames_id"), Index("ix_places_name", "name"),
             # covers the map's grouping (kroniek/store/queries.py: list_places)
             Index("ix_places_map", "name", "kind", "lat", "lon", "country", "geonames_id", "doc_pk")),
)

quotes = _layer(
    "quotes",
    *_span(),
    Column("text", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("hearsay", Boolean, nullable=False, default=False),
    Column("speaker_start", Integer),
    Column("speaker_end", Integer),
    Column("speaker_text", Text),
    Column("speaker_name", Text),
    Column("speaker_entity", String(64)),
    Column("cue_start", Integer),
    Column("cue_end", Integer),
    Column("cue_text", Text),
    indexes=(Index("ix_quotes_speaker", "speaker_name"),),
)

# --- entities across documents ------------------------------------------------
# A global entity is a connected group of document entities that share a
# strong key (a spelling-independent name key of their type, or a gazetteer
# id); surname-only person mentions attach through the surname index when one
# full name owns that surname. See kroniek/store/linking.py.

global_entities = Table(
    "global_entities",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("type", String(8), nullable=False),
    Column("geonames_id", Integer),
    Column("surname_only", Boolean, nullable=False, default=False),
    # Kept in step at each link, recounted at each merge and split.
    Column("n_docs", Integer, nullable=False, default=0),
    Column("n_mentions", Integer, nullable=False, default=0),
    Column("first_seen", String(10)),
    Column("last_seen", String(10)),
    Index("ix_global_entities_name", "name"),
    Index("ix_global_entities_count", "n_mentions"),
)

entity_keys = Table(
    "entity_keys",
    metadata,
    Column("key", String(400), primary_key=True),
    Column("global_id", String(64), nullable=False, index=True),
)

entity_surnames = Table(
    "entity_surnames",
    metadata,
    Column("surname", String(200), primary_key=True),
    Column("global_id", String(64), primary_key=True),
    Index("ix_entity_surnames_global", "global_id"),  # a merge moves an entity's surnames
)

entity_aliases = Table(
    "entity_aliases",
    metadata,
    Column("global_id", String(64), primary_key=True),
    Column("alias", String(400), primary_key=True),
    Column("key", String(400), nullable=False, index=True),
    Column("language", String(16)),
)

# Every merge and split, automatic or by the user, with its reason.
entity_log = Table(
    "entity_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("action", String(16), nullable=False),
    Column("global_id", String(64), nullable=False, index=True),
    Column("other_id", String(64)),
    Column("detail", Text, nullable=False),
)

LAYER_TABLES = {
    "sentences": sentences,
    "mentions": mentions,
    "entities": entities,
    "times": times,
    "places": places,
    "quotes": quotes,
}

SQLITE_FTS = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS documents_fts USING fts5(
        title, text, content='documents', content_rowid='pk',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER IF NOT EXISTS documents_fts_ai AFTER INSERT ON documents BEGIN
        INSERT INTO documents_fts(rowid, title, text) VALUES (new.pk, new.title, new.text);
    END""",
    """CREATE TRIGGER IF NOT EXISTS documents_fts_ad AFTER DELETE ON documents BEGIN
        INSERT INTO documents_fts(documents_fts, rowid, title, text)
        VALUES ('delete', old.pk, old.title, old.text);
    END""",
    """CREATE TRIGGER IF NOT EXISTS documents_fts_au AFTER UPDATE ON documents BEGIN
        INSERT INTO documents_fts(documents_fts, rowid, title, text)
        VALUES ('delete', old.pk, old.title, old.text);
        INSERT INTO documents_fts(rowid, title, text) VALUES (new.pk, new.title, new.text);
    END""",
]

POSTGRES_FTS = [
    # 'simple': no stemming, so Dutch and English documents match the same way.
    """ALTER TABLE documents ADD COLUMN IF NOT EXISTS tsv tsvector
        GENERATED ALWAYS AS (to_tsvector('simple', coalesce(title, '') || ' ' || text)) STORED""",
    "CREATE INDEX IF NOT EXISTS ix_documents_tsv ON documents USING GIN (tsv)",
]


def fts_ddl(dialect: str) -> list[str]:
    return SQLITE_FTS if dialect == "sqlite" else POSTGRES_FTS
