"""Plain text and the dated-text format (first line ``date <ISO date>``)."""

from __future__ import annotations

import re
from typing import Iterator, Optional

from ..document import Article, normalise_published
from .decode import InputError

# "date 2022-09 Het Kremlin heeft ..." : the text may start on the same line.
_DATED = re.compile(r"\A\s*date[ \t]+(?P<date>\S+)[ \t]*(?P<rest>[^\n]*)\n?")
# A date in a file name: 2022-09-15, 2022-09, 20220915.
_NAME_DATE = re.compile(r"(?<!\d)(\d{4})-?(0[1-9]|1[0-2])(?:-?(0[1-9]|[12]\d|3[01]))?(?!\d)")


def date_from_name(name: str) -> Optional[str]:
    m = _NAME_DATE.search(name)
    if not m:
        return None
    try:
        return normalise_published("-".join(p for p in m.groups() if p))
    except ValueError:
        return None


def is_dated_text(text: str) -> bool:
    return _DATED.match(text) is not None


def read_text(text: str, source: str, published: Optional[str] = None) -> Iterator[Article]:
    """One article. Date: the ``date`` header, else ``published``, else the file name."""
    m = _DATED.match(text)
    if m:
        try:
            published = normalise_published(m["date"])
        except ValueError as e:
            raise InputError(f"bad date header: {e}") from None
        body = (m["rest"] + "\n" + text[m.end():]) if m["rest"] else text[m.end():]
    else:
        body = text
        published = normalise_published(published) if published else date_from_name(source)
    body = body.strip()
    if not body:
        raise InputError("empty: no article text")
    yield Article.new(body, source=source, published=published)
