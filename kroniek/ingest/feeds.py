"""RSS and Atom feeds through feedparser. Article pages are fetched only when
the user asks (--fetch); otherwise the entry's own content or summary is the text."""

from __future__ import annotations

import time
from typing import Callable, Iterator, Optional, Union

import feedparser
import trafilatura

from ..document import Article
from .decode import InputError


class EntryError(InputError):
    """One entry (or the feed's damage) that costs only itself."""

    def __init__(self, where: str, reason: str):
        super().__init__(reason)
        self.where = where


def _published(entry) -> Optional[str]:
    for key in ("published_parsed", "updated_parsed"):
        t = entry.get(key)
        if t:
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", t)
    return None


def _entry_text(entry) -> str:
    parts = entry.get("content") or []
    html = parts[0].get("value") if parts else entry.get("summary", "")
    if not html:
        return ""
    if "<" not in html:
        return html.strip()
    return (trafilatura.extract(f"<html><body><article>{html}</article></body></html>") or "").strip() or _strip_tags(html)


def _strip_tags(html: str) -> str:
    import re
    from html import unescape

    return unescape(re.sub(r"<[^>]+>", " ", html)).strip()


def read_feed(
    data: Union[str, bytes], source: str, fetch: Optional[Callable[[str], str]] = None
) -> Iterator[Union[Article, EntryError]]:
    feed = feedparser.parse(data)
    if feed.bozo and not feed.entries:
        reason = getattr(feed, "bozo_exception", "not a feed")
        raise InputError(f"malformed feed: {reason}")
    if not feed.entries:
        raise InputError("feed has no entries")
    if feed.bozo:
        # Report the damage, then keep what could be recovered.
        yield EntryError(
            source,
            f"malformed feed: {getattr(feed, 'bozo_exception', 'parse error')}; "
            f"reading the {len(feed.entries)} entries that could be recovered"
        )
    for n, entry in enumerate(feed.entries, start=1):
        link = entry.get("link")
        where = link or f"{source}#{n}"
        text = ""
        if fetch and link:
            try:
                page = fetch(link)
                text = (trafilatura.extract(page) or "").strip()
            except Exception as e:  # network errors of every kind: report, go on
                yield EntryError(where, f"could not fetch the page ({e})")
                continue
        text = text or _entry_text(entry)
        if not text:
            yield EntryError(where, "entry has no text (try --fetch to get the page)")
            continue
        yield Article.new(
            text.replace("\r\n", "\n"),
            id=entry.get("id") or link,
            source=source,
            url=link,
            title=entry.get("title"),
            published=_published(entry),
        )
