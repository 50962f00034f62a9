"""The `kroniek` command.

Exit codes: 0 when every input succeeded, 1 when some failed (each named on
stderr with its reason), 2 on usage errors.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Iterable, Iterator, List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from . import __version__
from .document import Article, json_schema, normalise_published
from .ingest import EXAMPLE, Failure, read_sources

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Kroniek: who said what, what happened, where and when, from dated news articles.",
    context_settings={"help_option_names": ["-h", "--help"]},
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class Mode(str, Enum):
    accurate = "accurate"
    fast = "fast"


class Format(str, Enum):
    json = "json"
    jsonl = "jsonl"


class ExportFormat(str, Enum):
    jsonl = "jsonl"
    csv = "csv"


class Sort(str, Enum):
    rank = "rank"
    newest = "newest"
    oldest = "oldest"


DbOption = typer.Option(None, "--db", help="Store URL or SQLite path [default: $KRONIEK_DB, else ./kroniek.db]")
LangOption = typer.Option("auto", "--lang", help="Language code, or auto to detect")
ModeOption = typer.Option(Mode.accurate, "--mode", help="accurate (slower, best quality) or fast")
PublishedOption = typer.Option(None, "--published", help="Date for plain .txt inputs without one (ISO 8601)")
MaxSizeOption = typer.Option(None, "--max-size", help="Largest input in bytes [default: $KRONIEK_MAX_BYTES, else 10 MB]")


def _store(db: Optional[str]):
    from .store import Store

    try:
        return Store(db)
    except Exception as e:  # connection refused, bad URL, newer schema
        err.print(f"[red]error:[/] cannot open the store {escape(str(db or ''))}: {escape(str(e).splitlines()[0])}")
        err.print("check --db (a SQLite path or postgresql://user@host/db) or KRONIEK_DB")
        raise typer.Exit(2)


def _check_published(published: Optional[str]) -> Optional[str]:
    try:
        return normalise_published(published)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--published")


def _report_failure(f: Failure) -> None:
    err.print(f"[red]error:[/] {escape(f.source)}: {escape(f.reason)}")


def _report_warnings(a: Article) -> None:
    for w in a.warnings:
        err.print(f"[yellow]warning:[/] {escape(a.source or a.id)}: {escape(w)}")


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for x in items:
        batch.append(x)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def analyse_safely(pipeline, articles: list[Article]) -> tuple[list[Article], list[Failure]]:
    """Analyse a batch; if a stage fails, retry one by one so that one bad
    article costs only itself."""
    try:
        return pipeline.analyse_batch(articles), []
    except Exception:
        done, failed = [], []
        for a in articles:
            try:
                done.append(pipeline.analyse(a))
            except Exception as e:
                failed.append(Failure(a.source or a.id, f"analysis failed: {type(e).__name__}: {e}"))
        return done, failed


def _sources(sources: Optional[List[str]], example: bool) -> list[str]:
    paths = list(sources or [])
    if example:
        paths.append(str(EXAMPLE))
    if not paths:
        raise typer.BadParameter("name at least one file, directory, URL or - (or use --example)", param_hint="SOURCE")
    return paths


@app.command()
def analyze(
    paths: Optional[List[str]] = typer.Argument(None, metavar="PATH...", help="Files, directories, URLs, or - for stdin"),
    format: Format = typer.Option(Format.json, "--format", "-f", help="json (one document; an array for many) or jsonl"),
    lang: str = LangOption,
    mode: Mode = ModeOption,
    published: Optional[str] = PublishedOption,
    max_size: Optional[int] = MaxSizeOption,
    example: bool = typer.Option(False, "--example", help="Analyse the bundled example article"),
) -> None:
    """Print the contract's document JSON for each article, without a database."""
    from .nlp.pipeline import get_pipeline

    published = _check_published(published)
    pipeline = get_pipeline(mode.value, lang)
    failed = 0
    results = []
    for batch in _batches(read_sources(_sources(paths, example), published=published, max_bytes=max_size), 32):
        articles = [x for x in batch if isinstance(x, Article)]
        for f in (x for x in batch if isinstance(x, Failure)):
            _report_failure(f)
            failed += 1
        done, bad = analyse_safely(pipeline, articles)
        for f in bad:
            _report_failure(f)
        failed += len(bad)
        for a in done:
            _report_warnings(a)
            if format is Format.jsonl:
                sys.stdout.write(a.to_json() + "\n")
            else:
                results.append(a.to_dict())
    if format is Format.json and results:
        shown = results[0] if len(results) == 1 else results
        sys.stdout.write(json.dumps(shown, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()
    raise typer.Exit(1 if failed else 0)


@app.command()
def ingest(
    sources: Optional[List[str]] = typer.Argument(None, metavar="SOURCE...", help="Files, directories, feed or page URLs, or - for stdin"),
    db: Optional[str] = DbOption,
    lang: str = LangOption,
    mode: Mode = ModeOption,
    published: Optional[str] = PublishedOption,
    fetch: bool = typer.Option(False, "--fetch", help="Fetch the article page of each feed entry"),
    max_size: Optional[int] = MaxSizeOption,
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="Documents per analysis batch and transaction"),
    example: bool = typer.Option(False, "--example", help="Ingest the bundled example article"),
) -> None:
    """Analyse and store articles. Re-ingesting the same input changes nothing."""
    from .nlp.pipeline import get_pipeline

    published = _check_published(published)
    paths = _sources(sources, example)
    store = _store(db)
    pipeline = get_pipeline(mode.value, lang)
    analysis = f"{mode.value}/kroniek-{__version__}"
    counts = {"stored": 0, "replaced": 0, "unchanged": 0, "failed": 0}
    failures: list[Failure] = []
    started = time.perf_counter()
    progress = Progress(
        SpinnerColumn(), TextColumn("[bold]ingest"), BarColumn(bar_width=None),
        TextColumn("{task.completed} docs"), TextColumn("{task.fields[rate]:.1f} docs/s"),
        TextColumn("[red]{task.fields[failed]} failed"), TimeElapsedColumn(),
        console=err, transient=False,
    )
    with progress:
        task = progress.add_task("ingest", total=None, rate=0.0, failed=0)
        for batch in _batches(read_sources(paths, published=published, fetch=fetch, max_bytes=max_size), batch_size):
            for f in (x for x in batch if isinstance(x, Failure)):
                progress.console.print(f"[red]error:[/] {escape(f.source)}: {escape(f.reason)}")
                failures.append(f)
            articles = [x for x in batch if isinstance(x, Article)]
            # Skip the analysis of what is stored already with the same text.
            known = store.known(articles)
            todo = []
            for a in articles:
                if known.get(a.id) == a.content_hash:
                    counts["unchanged"] += 1
                else:
                    todo.append(a)
            done, bad = analyse_safely(pipeline, todo)
            for f in bad:
                progress.console.print(f"[red]error:[/] {escape(f.source)}: {escape(f.reason)}")
            failures.extend(bad)
            for a in done:
                for w in a.warnings:
                    progress.console.print(f"[yellow]warning:[/] {escape(a.source or a.id)}: {escape(w)}")
            for status in store.put_many(done, analysis):
                counts[status] += 1
            counts["failed"] = len(failures)
            n = sum(counts.values())
            progress.update(task, completed=n, failed=counts["failed"],
                            rate=n / max(time.perf_counter() - started, 1e-9))
    store.close()
    summary = ", ".join(f"{v} {k}" for k, v in counts.items())
    err.print(f"{summary} in {time.perf_counter() - started:.1f} s (store: {escape(store.url)})")
    if failures:
        err.print("failed inputs:")
        for f in failures:
            err.print(f"  {escape(f.source)}: {escape(f.reason)}")
    raise typer.Exit(1 if failures else 0)


@app.command()
def search(
    query: str = typer.Argument(..., help='Words, "a phrase", OR, prefix*'),
    db: Optional[str] = DbOption,
    date_from: Optional[str] = typer.Option(None, "--from", help="Published on or after (ISO date)"),
    date_to: Optional[str] = typer.Option(None, "--to", help="Published on or before (ISO date)"),
    lang: Optional[str] = typer.Option(None, "--lang", help="Only this language"),
    source: Optional[str] = typer.Option(None, "--source", help="Only this source"),
    limit: int = typer.Option(20, "--limit", "-n", min=1),
    offset: int = typer.Option(0, "--offset", min=0),
    sort: Sort = typer.Option(Sort.rank, "--sort", help="rank, newest or oldest"),
    as_json: bool = typer.Option(False, "--json", help="Hits as JSON lines"),
) -> None:
    """Full-text search with highlighted snippets."""
    from .store import HL_END, HL_START

    for name, value in (("--from", date_from), ("--to", date_to)):
        try:
            normalise_published(value)
        except ValueError as e:
            raise typer.BadParameter(str(e), param_hint=name)
    store = _store(db)
    hits, total = store.search(query, date_from=date_from, date_to=date_to, language=lang, source=source,
                               limit=limit, offset=offset, sort=sort.value)
    if as_json:
        for h in hits:
            plain = h.snippet.replace(HL_START, "").replace(HL_END, "")
            sys.stdout.write(json.dumps({**h.__dict__, "snippet": plain}, ensure_ascii=False) + "\n")
        return
    err.print(f"{total} match{'es' if total != 1 else ''}" + (f", showing {offset + 1}-{offset + len(hits)}" if hits else ""))
    for h in hits:
        snippet = escape(" ".join(h.snippet.split())).replace(HL_START, "[bold yellow]").replace(HL_END, "[/]")
        out.print(f"[bold]{escape(h.id)}[/]  {escape(h.published or 'undated')}  {escape(h.language or '?')}  "
                  f"{escape(h.title or '')}  [dim]{escape(h.source or '')}[/]")
        out.print(f"    {snippet}")


@app.command()
def show(doc_id: str = typer.Argument(..., metavar="ID"), db: Optional[str] = DbOption) -> None:
    """Print a stored document as contract JSON."""
    article = _store(db).get(doc_id)
    if article is None:
        err.print(f"[red]error:[/] no document {escape(doc_id)} in the store; `kroniek search` finds ids")
        raise typer.Exit(1)
    sys.stdout.write(article.to_json(indent=2) + "\n")


CSV_FIELDS = ["id", "source", "url", "title", "published", "language", "sentences", "mentions", "entities",
              "times", "places", "quotes", "text"]


@app.command()
def export(
    format: ExportFormat = typer.Option(ExportFormat.jsonl, "--format", "-f"),
    db: Optional[str] = DbOption,
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="File to write [default: stdout]"),
) -> None:
    """Export every stored document: contract JSON lines, or CSV (one row per document, layer counts)."""
    store = _store(db)
    fh = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if format is ExportFormat.jsonl:
            for a in store.iter_articles():
                fh.write(a.to_json() + "\n")
        else:
            w = csv.writer(fh)
            w.writerow(CSV_FIELDS)
            for a in store.iter_articles():
                w.writerow([a.id, a.source, a.url, a.title, a.published, a.language, len(a.sentences),
                            len(a.mentions), len(a.entities), len(a.times), len(a.places), len(a.quotes), a.text])
    finally:
        if output:
            fh.close()


@app.command()
def schema() -> None:
    """Print the JSON Schema of the document contract."""
    sys.stdout.write(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n")


@app.command()
def stats(db: Optional[str] = DbOption) -> None:
    """Counts per layer and documents per language."""
    s = _store(db).stats()
    for k, v in s.items():
        if k == "languages":
            out.print("languages: " + ", ".join(f"{escape(lang)} {n}" for lang, n in v.items()))
        else:
            out.print(f"{k}: {v}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
