"""HTML article pages: main text, title and date through trafilatura."""

from __future__ import annotations

from typing import Iterator, Optional

import trafilatura

from ..document import Article, normalise_published
from .decode import InputError


def read_html(html: str, source: str, url: Optional[str] = None) -> Iterator[Article]:
    doc = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, favor_precision=True
    )
    if doc is None or not (doc.text or "").strip():
        raise InputError("no article text found in the HTML page")
    published = None
    if doc.date:
        try:
            published = normalise_published(doc.date)
        except ValueError:
            published = None
    yield Article.new(
        doc.text.strip(),
        source=source,
        url=url or doc.url,
        title=doc.title,
        published=published,
    )
