"""Readers for every source kind, each yielding Articles.

``read_sources`` walks what the user named (files, directories, ``-`` for
stdin, feed or page URLs) and yields, in input order, an ``Article`` for each
article or a ``Failure`` naming the input and the reason. A failure never
stops the batch.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional, Union

from ..document import Article
from .decode import InputError, decode, max_bytes_setting
from .feeds import read_feed
from .html import read_html
from .jsonl import read_jsonl
from .text import read_text

__all__ = ["Failure", "InputError", "read_sources", "read_one", "EXAMPLE"]

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "kremlin-nederlaag-2022-09.txt"

KIND_BY_SUFFIX = {
    ".txt": "text", ".text": "text", ".md": "text",
    ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".html": "html", ".htm": "html", ".xhtml": "html",
    ".rss": "feed", ".atom": "feed", ".xml": "feed",
}


@dataclass(frozen=True)
class Failure:
    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


Item = Union[Article, Failure]


def sniff(text: str) -> str:
    head = text[:2048].lstrip().lower()
    if head.startswith("{"):
        return "jsonl"
    if head.startswith("<"):
        if "<rss" in head or "<feed" in head or "<rdf:rdf" in head:
            return "feed"
        return "html"
    return "text"


def _fetch_url(url: str, limit: int) -> bytes:
    req = urllib.request.Request(url, headers={"User-Agent": "kroniek/0.1 (+news analysis)"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.read(limit + 1)


def read_one(
    data: bytes,
    source: str,
    *,
    kind: Optional[str] = None,
    published: Optional[str] = None,
    fetch: bool = False,
    max_bytes: Optional[int] = None,
) -> Iterator[Item]:
    """Articles from one input's bytes; failures are yielded, not raised."""
    limit = max_bytes_setting(max_bytes)
    try:
        text = decode(data, limit)
        kind = kind or sniff(text)
        if kind == "jsonl":
            for item in read_jsonl(text, source):
                yield Failure(f"{source}:{item.line}", item.reason) if isinstance(item, InputError) else item
        elif kind == "html":
            yield from read_html(text, source, url=source if source.startswith("http") else None)
        elif kind == "feed":
            fetcher = (lambda u: decode(_fetch_url(u, limit), limit)) if fetch else None
            for item in read_feed(text, source, fetch=fetcher):
                yield Failure(item.where, str(item)) if isinstance(item, InputError) else item
        else:
            yield from read_text(text, source, published=published)
    except InputError as e:
        yield Failure(source, str(e))


def _walk(path: Path) -> Iterator[Path]:
    """Files under a directory, sorted, skipping hidden ones."""
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if not name.startswith("."):
                yield Path(root) / name


def read_sources(
    sources: Iterable[str],
    *,
    published: Optional[str] = None,
    fetch: bool = False,
    max_bytes: Optional[int] = None,
    stdin: Optional[bytes] = None,
) -> Iterator[Item]:
    limit = max_bytes_setting(max_bytes)
    for src in sources:
        if src == "-":
            data = stdin if stdin is not None else sys.stdin.buffer.read(limit + 1)
            yield from read_one(data, "<stdin>", published=published, fetch=fetch, max_bytes=limit)
            continue
        if src.startswith(("http://", "https://")):
            try:
                data = _fetch_url(src, limit)
            except Exception as e:  # every network error: name it, go on
                yield Failure(src, f"could not fetch ({e}); check the URL and your connection")
                continue
            yield from read_one(data, src, published=published, fetch=fetch, max_bytes=limit)
            continue
        path = Path(src)
        if path.is_dir():
            files = list(_walk(path))
            if not files:
                yield Failure(src, "directory has no files")
            for f in files:
                yield from _read_path(f, published, fetch, limit)
        elif path.exists():
            yield from _read_path(path, published, fetch, limit)
        else:
            yield Failure(src, "no such file or directory")


def _read_path(path: Path, published: Optional[str], fetch: bool, limit: int) -> Iterator[Item]:
    source = str(path)
    try:
        size = path.stat().st_size
        if size > limit:
            # Do not read a huge file into memory just to refuse it.
            yield Failure(
                source,
                f"too large: {size / 1e6:.1f} MB is over the {limit / 1e6:.1f} MB limit "
                "(raise it with --max-size or KRONIEK_MAX_BYTES, or split the file)",
            )
            return
        data = path.read_bytes()
    except OSError as e:
        yield Failure(source, f"cannot read: {e.strerror or e}")
        return
    kind = KIND_BY_SUFFIX.get(path.suffix.lower())
    if kind == "feed" and b"<rss" not in data[:4096] and b"<feed" not in data[:4096] and b"<rdf" not in data[:4096].lower():
        kind = None  # an .xml that is not a feed: sniff it
    yield from read_one(data, source, kind=kind, published=published, fetch=fetch, max_bytes=limit)
