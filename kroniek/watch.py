"""Follow directories and feeds: each look yields what is new since the last.

Memory stays flat however long it runs: for a directory only a high-water
mark of file change times is kept (ctime changes when a file is written or
moved in, so files copied with old modification times are still seen), and
feeds are read whole each time, with the store's idempotent writes skipping
entries already stored before any analysis runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, Optional

from .ingest import Failure, Item, read_sources


class Watcher:
    def __init__(self, sources: list[str], store=None, *, fetch: bool = False, max_bytes: Optional[int] = None):
        self.sources = sources
        self.fetch = fetch
        self.max_bytes = max_bytes
        self.mark: dict[str, int] = {}  # directory -> newest ctime seen (ns)

    def new_items(self) -> Iterator[Item]:
        for src in self.sources:
            path = Path(src)
            if src.startswith(("http://", "https://")) or path.is_file():
                yield from read_sources([src], fetch=self.fetch, max_bytes=self.max_bytes)
            elif path.is_dir():
                yield from self._new_files(path)
            else:
                yield Failure(src, "no such file, directory or URL")

    def _new_files(self, root: Path) -> Iterator[Item]:
        since = self.mark.get(str(root), -1)
        newest = since
        found = []
        for dirpath, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in names:
                if name.startswith(".") or name.endswith((".part", ".tmp", "~")):
                    continue  # files still being written
                p = Path(dirpath) / name
                try:
                    ctime = p.stat().st_ctime_ns
                except OSError:
                    continue
                if ctime > since:
                    found.append((ctime, str(p)))
                    newest = max(newest, ctime)
        self.mark[str(root)] = newest
        for _, p in sorted(found):
            yield from read_sources([p], fetch=self.fetch, max_bytes=self.max_bytes)
