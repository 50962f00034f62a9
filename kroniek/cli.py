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
    from .runner import LocalAnalyser

    published = _check_published(published)
    analyser = LocalAnalyser(mode.value, lang)
    failed = 0
    results = []
    for batch in _batches(read_sources(_sources(paths, example), published=published, max_bytes=max_size), 32):
        articles = [x for x in batch if isinstance(x, Article)]
        for f in (x for x in batch if isinstance(x, Failure)):
            _report_failure(f)
            failed += 1
        done, bad = next(analyser.run([articles]), ([], []))
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


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(bar_width=None),
        TextColumn("{task.completed} docs"), TextColumn("{task.fields[rate]:.1f} docs/s"),
        TextColumn("[red]{task.fields[failed]} failed"), TimeElapsedColumn(),
        console=err, transient=False,
    )


def _run_ingest(items, store, analyser, progress: Progress, task, batch_size: int, mode: Mode, report=None):
    from .runner import ingest as run_ingest

    def failure(f: Failure) -> None:
        progress.console.print(f"[red]error:[/] {escape(f.source)}: {escape(f.reason)}")

    def warning(a: Article, w: str) -> None:
        progress.console.print(f"[yellow]warning:[/] {escape(a.source or a.id)}: {escape(w)}")

    def advance(r) -> None:
        progress.update(task, completed=r.done, failed=len(r.failures), rate=r.rate)

    return run_ingest(items, store, analyser, batch_size=batch_size, analysis=f"{mode.value}/kroniek-{__version__}",
                      on_failure=failure, on_warning=warning, on_progress=advance, report=report)


def _analyser(mode: Mode, lang: str, workers: int, cluster: Optional[str]):
    from .runner import make_analyser

    try:
        return make_analyser(mode.value, lang, workers=workers, cluster=cluster)
    except Exception as e:  # scheduler unreachable, bad address
        err.print(f"[red]error:[/] cannot start the analysis workers ({escape(cluster or str(workers))}): "
                  f"{escape(str(e).splitlines()[0] if str(e) else type(e).__name__)}")
        err.print("check --cluster (tcp://scheduler:8786 or local:N) and that the scheduler runs")
        raise typer.Exit(2)


WorkersOption = typer.Option(1, "--workers", "-w", min=1, help="Analysis processes on this machine")
ClusterOption = typer.Option(None, "--cluster", help="Dask scheduler (tcp://host:8786) or local:N for a local cluster")


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
    workers: int = WorkersOption,
    cluster: Optional[str] = ClusterOption,
    example: bool = typer.Option(False, "--example", help="Ingest the bundled example article"),
) -> None:
    """Analyse and store articles. Re-ingesting the same input changes nothing."""
    published = _check_published(published)
    paths = _sources(sources, example)
    store = _store(db)
    analyser = _analyser(mode, lang, workers, cluster)
    progress = _progress()
    try:
        with progress:
            task = progress.add_task("ingest", total=None, rate=0.0, failed=0)
            items = read_sources(paths, published=published, fetch=fetch, max_bytes=max_size)
            report = _run_ingest(items, store, analyser, progress, task, batch_size, mode)
    finally:
        analyser.close()
        store.close()
    err.print(f"{report.summary()} (store: {escape(store.url)})")
    if report.failures:
        err.print("failed inputs:")
        for f in report.failures:
            err.print(f"  {escape(f.source)}: {escape(f.reason)}")
    raise typer.Exit(1 if report.failures else 0)


@app.command()
def watch(
    sources: List[str] = typer.Argument(..., metavar="DIR|FEED-URL...", help="Directories and feeds to follow"),
    db: Optional[str] = DbOption,
    lang: str = LangOption,
    mode: Mode = ModeOption,
    interval: float = typer.Option(60.0, "--interval", min=0.1, help="Seconds between looks"),
    fetch: bool = typer.Option(False, "--fetch", help="Fetch the article page of each feed entry"),
    max_size: Optional[int] = MaxSizeOption,
    workers: int = WorkersOption,
    cluster: Optional[str] = ClusterOption,
    rounds: int = typer.Option(0, "--rounds", min=0, help="Stop after this many looks (0: run until stopped)"),
) -> None:
    """Ingest new files and feed items as they appear, until stopped (Ctrl-C)."""
    from .watch import Watcher

    store = _store(db)
    analyser = _analyser(mode, lang, workers, cluster)
    watcher = Watcher(sources, store, fetch=fetch, max_bytes=max_size)
    progress = _progress()
    from .runner import IngestReport

    report = IngestReport()
    n = 0
    try:
        with progress:
            task = progress.add_task("watch", total=None, rate=0.0, failed=0)
            while True:
                _run_ingest(watcher.new_items(), store, analyser, progress, task, 64, mode, report=report)
                n += 1
                if rounds and n >= rounds:
                    break
                time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        analyser.close()
        store.close()
    err.print(f"{report.summary()} (store: {escape(store.url)})")
    raise typer.Exit(1 if report.failures else 0)


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


entities_app = typer.Typer(help="Entities across documents: list, merge, split.", no_args_is_help=False)
app.add_typer(entities_app, name="entities")


@entities_app.callback(invoke_without_command=True)
def entities_list(
    ctx: typer.Context,
    db: Optional[str] = DbOption,
    type: Optional[str] = typer.Option(None, "--type", help="PER, ORG, LOC or MISC"),
    top: int = typer.Option(20, "--top", "-n", min=1),
    date_from: Optional[str] = typer.Option(None, "--from", help="Mentioned in documents published on or after"),
    date_to: Optional[str] = typer.Option(None, "--to", help="... and on or before"),
) -> None:
    """Entities by mention count, with their names."""
    if ctx.invoked_subcommand:
        return
    if type and type not in ("PER", "ORG", "LOC", "MISC"):
        raise typer.BadParameter("one of PER, ORG, LOC, MISC", param_hint="--type")
    from .document import published_interval

    rows = _store(db).entities(type=type, top=top,
                               date_from=published_interval(date_from)[0] if date_from else None,
                               date_to=published_interval(date_to)[1] if date_to else None)
    for r in rows:
        others = [a for a in r["aliases"] if a != r["name"]]
        out.print(f"{r['mentions']:>6}  {r['documents']:>5} docs  {r['type']:<4} [bold]{escape(r['name'])}[/]  "
                  f"[dim]{escape(r['id'])}[/]" + (f"  ({escape(', '.join(others))})" if others else ""))


def _one_entity(store, ref: str) -> str:
    ids = store.find_entities(ref)
    if not ids:
        err.print(f"[red]error:[/] no entity called {escape(ref)}; `kroniek entities` lists them")
        raise typer.Exit(1)
    if len(ids) > 1:
        err.print(f"[red]error:[/] {escape(ref)} names {len(ids)} entities: {escape(', '.join(ids))}; give the id")
        raise typer.Exit(1)
    return ids[0]


@entities_app.command("merge")
def entities_merge(
    keep: str = typer.Argument(..., help="Entity id or name to keep"),
    other: str = typer.Argument(..., help="Entity id or name merged into it"),
    db: Optional[str] = DbOption,
) -> None:
    """Merge two entities (undo with `kroniek entities split`)."""
    store = _store(db)
    a, b = _one_entity(store, keep), _one_entity(store, other)
    store.merge_entities(a, b)
    out.print(f"merged {escape(b)} into {escape(a)}")


@entities_app.command("split")
def entities_split(
    entity_ref: str = typer.Argument(..., metavar="ENTITY", help="Entity id or name"),
    alias: str = typer.Argument(..., help="The name whose mentions become an entity of their own"),
    db: Optional[str] = DbOption,
) -> None:
    """Split the mentions known by one name off an entity."""
    store = _store(db)
    gid = _one_entity(store, entity_ref)
    try:
        new = store.split_entity(gid, alias)
    except (KeyError, ValueError) as e:
        err.print(f"[red]error:[/] {escape(str(e).strip(chr(39)))}")
        raise typer.Exit(1)
    out.print(f"split {escape(alias)} off {escape(gid)} as {escape(new)}")


@app.command()
def entity(
    name: str = typer.Argument(..., help="A name in any spelling, or an entity id"),
    db: Optional[str] = DbOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """One entity: aliases, first and last seen, documents, quotes by and about it, co-occurring entities."""
    store = _store(db)
    report = store.entity(_one_entity(store, name))
    if as_json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        return
    out.print(f"[bold]{escape(report['name'])}[/] ({report['type']}, {escape(report['id'])})")
    out.print(f"aliases: {escape(', '.join(report['aliases']))}")
    out.print(f"seen: {report['first_seen'] or '?'} to {report['last_seen'] or '?'} in {report['n_documents']} documents")
    for d in report["documents"][:10]:
        out.print(f"  {escape(d['id'])}  {escape(d['published'] or 'undated')}  {escape(d['title'] or d['source'] or '')}")
    for label, key, who in (("said", "quotes_by", None), ("quotes about it", "quotes_about", "speaker_name")):
        if report[key]:
            out.print(f"{label}:")
            for q in report[key][:10]:
                by = f" ({escape(q[who] or 'unknown speaker')})" if who else ""
                out.print(f"  “{escape(q['text'][:160])}”{by}  [dim]{escape(q['document'])}[/]")
    if report["co_occurring"]:
        out.print("with: " + ", ".join(f"{escape(c['name'])} ({c['documents']})" for c in report["co_occurring"][:10]))
    for link in report["links"]:
        out.print(f"[dim]linked {escape(link['name'])}: {escape(link['reason'] or '')}[/]")


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


@app.command()
def serve(
    db: Optional[str] = DbOption,
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on"),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on"),
    mode: Mode = typer.Option(Mode.accurate, "--mode", help="Analysis mode for articles posted to the API"),
) -> None:
    """Serve the JSON API (/api, OpenAPI at /api/docs) and the pages (/). Writes need KRONIEK_TOKEN."""
    import uvicorn

    from .api.app import create_app

    try:
        web = create_app(db, mode=mode.value)
    except Exception as e:  # connection refused, bad URL, newer schema
        err.print(f"[red]error:[/] cannot open the store {escape(str(db or ''))}: {escape(str(e).splitlines()[0])}")
        raise typer.Exit(2)
    import os

    writes = "enabled (bearer token)" if os.environ.get("KRONIEK_TOKEN") else "disabled (set KRONIEK_TOKEN)"
    err.print(f"Kroniek on http://{host}:{port}/  (store: {escape(web.state.store.url)}; writes {writes})")
    uvicorn.run(web, host=host, port=port, log_level="warning")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
