"""Shared fixtures: the reference article, real PostgreSQL, store factories."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DATA = SHARED / "data"
REFERENCE = DATA / "samples" / "seed-2022-09-kremlin-nederlaag.txt"
PG_URL = os.environ.get("KRONIEK_TEST_PG", "postgresql://127.0.0.1:5432/test")


def shared_path(rel: str) -> Path:
    """A path under ../shared/data, or skip the test naming what is missing."""
    p = DATA / rel
    if not p.exists():
        pytest.skip(f"shared data not found: {p}")
    return p


@pytest.fixture
def reference_path() -> Path:
    return shared_path("samples/seed-2022-09-kremlin-nederlaag.txt")


@pytest.fixture
def reference_article(reference_path):
    from kroniek.ingest import read_sources

    (article,) = list(read_sources([str(reference_path)]))
    return article


def _pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("postgresql://", "postgresql://", 1), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as e:  # no server, no database, no driver
        return f"PostgreSQL at {PG_URL} not available ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})"


@pytest.fixture
def pg_url():
    """A PostgreSQL URL with a fresh schema of its own, dropped afterwards."""
    why = _pg_available()
    if why:
        pytest.skip(why)
    import psycopg

    schema = f"kroniek_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "kroniek.db")
    return request.getfixturevalue("pg_url")
