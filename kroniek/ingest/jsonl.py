"""JSON Lines: one article per line with text, published, title, url, source, id."""

from __future__ import annotations

import json
from typing import Iterator, Union

from ..document import Article, normalise_published
from .decode import InputError

FIELDS = ("text", "published", "title", "url", "source", "id", "language")


class LineError(InputError):
    """A bad line; the rest of the file is still read."""

    def __init__(self, line: int, reason: str):
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


def read_jsonl(text: str, source: str) -> Iterator[Union[Article, LineError]]:
    """Articles in input order; a malformed line yields a LineError and reading goes on."""
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield article_from_record(json.loads(line), f"{source}:{n}", default_source=source)
        except json.JSONDecodeError as e:
            yield LineError(n, f"not JSON ({e.msg} at column {e.colno})")
        except InputError as e:
            yield LineError(n, str(e))


def article_from_record(record: object, where: str, default_source: str | None = None) -> Article:
    """An article from a dict with the contract's input fields (also used by the API)."""
    if not isinstance(record, dict):
        raise InputError("expected a JSON object with a 'text' field")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InputError("no 'text' (a non-empty string is required)")
    try:
        published = normalise_published(record.get("published"))
    except ValueError as e:
        raise InputError(f"bad 'published': {e}") from None
    fields = {k: record.get(k) for k in ("title", "url", "id", "language")}
    for k, v in fields.items():
        if v is not None and not isinstance(v, (str, int)):
            raise InputError(f"'{k}' must be a string")
    text = text.replace("\r\n", "\n").strip()
    return Article.new(
        text,
        id=fields["id"],
        source=str(record.get("source") or default_source or where),
        url=fields["url"],
        title=fields["title"],
        published=published,
        language=fields["language"],
    )
