"""Ingest jobs: read, skip what is stored, analyse (here, in worker processes
or on a Dask cluster), store in batches.

The analysis is the same code everywhere: ``analyse_records`` runs the
pipeline (loaded once per process) on a batch of articles. Only where it runs
changes. The store is written by this process alone, in one transaction per
batch, and writes are idempotent, so a task that runs twice (a Dask worker
died and its task was retried) stores nothing twice.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional

from .document import Article
from .ingest import Failure

Batch = list[Article]
Result = tuple[list[Article], list[Failure]]


_ONE_BLAS_THREAD = False


def one_blas_thread() -> None:
    """Limit this process's BLAS/OpenMP pools to one thread. Worker processes (the
    pool's and Dask's) call it: N workers share N cores, and OpenBLAS would start a
    thread per core in each, spinning while they wait on each other. Measured with
    bench/throughput.py's corpus, --workers 2 on 2 cores, alternating runs: 20.0-22.0
    docs/s with the default, 23.5-30.2 with one thread. (Dask's nanny sets the same
    through OMP_NUM_THREADS; this covers workers started without one.)"""
    global _ONE_BLAS_THREAD
    if not _ONE_BLAS_THREAD:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
        _ONE_BLAS_THREAD = True


def analyse_records(records: list[dict], mode: str, lang: str) -> tuple[list[dict], list[tuple[str, str]]]:
    """Analyse a batch of articles given as contract dicts; runs in worker processes."""
    from .nlp.pipeline import get_pipeline

    one_blas_thread()
    pipeline = get_pipeline(mode, lang)
    articles = [Article.from_dict(r) for r in records]
    try:
        done = pipeline.analyse_batch(articles)
        return [a.to_dict() for a in done], []
    except Exception:
        # One bad article costs only itself.
        out, failed = [], []
        for r in records:
            a = Article.from_dict(r)
            try:
                out.append(pipeline.analyse(a).to_dict())
            except Exception as e:
                failed.append((a.source or a.id, f"analysis failed: {type(e).__name__}: {e}"))
        return out, failed


def _unpack(result: tuple[list[dict], list[tuple[str, str]]]) -> Result:
    done, failed = result
    return [Article.from_dict(d) for d in done], [Failure(s, r) for s, r in failed]


class LocalAnalyser:
    """In this process."""

    def __init__(self, mode: str, lang: str):
        self.mode, self.lang = mode, lang

    def run(self, batches: Iterable[Batch]) -> Iterator[Result]:
        from .nlp.pipeline import get_pipeline

        pipeline = get_pipeline(self.mode, self.lang)
        for batch in batches:
            if not batch:
                continue
            try:
                yield pipeline.analyse_batch(batch), []
            except Exception:
                done, failed = [], []
                for a in batch:
                    try:
                        done.append(pipeline.analyse(a))
                    except Exception as e:
                        failed.append(Failure(a.source or a.id, f"analysis failed: {type(e).__name__}: {e}"))
                yield done, failed

    def warm(self) -> None:
        _warm(self.mode, self.lang)

    def close(self) -> None:
        pass


def _warm(mode: str, lang: str) -> None:
    from .nlp.pipeline import get_pipeline

    get_pipeline(mode, lang).analyse(Article.new("Warm-up. Het Kremlin zweeg gisteren in Moskou.", language="nl"))


class PoolAnalyser:
    """Worker processes on this machine; models load once per worker."""

    def __init__(self, mode: str, lang: str, workers: int):
        import multiprocessing as mp

        self.mode, self.lang, self.workers = mode, lang, workers
        # spawn: workers start clean instead of inheriting a half-loaded parent.
        self.pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                                        initializer=_warm, initargs=(mode, lang))

    def run(self, batches: Iterable[Batch]) -> Iterator[Result]:
        pending = set()
        sources: dict = {}
        for batch in batches:
            if not batch:
                continue
            f = self.pool.submit(analyse_records, [a.to_dict() for a in batch], self.mode, self.lang)
            sources[f] = batch
            pending.add(f)
            # A bounded number of batches in flight keeps memory flat.
            while len(pending) >= 2 * self.workers:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    yield self._result(f, sources.pop(f))
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                yield self._result(f, sources.pop(f))

    def warm(self) -> None:
        """Start every worker and load its models (benchmarks time the work, not the start)."""
        import os

        pids = {self.pool.submit(os.getpid).result() for _ in range(4 * self.workers)}
        for f in [self.pool.submit(_warm, self.mode, self.lang) for _ in range(2 * self.workers)]:
            f.result()
        return pids

    @staticmethod
    def _result(future, batch: Batch) -> Result:
        try:
            return _unpack(future.result())
        except Exception as e:  # a worker crashed: name the inputs it had
            return [], [Failure(a.source or a.id, f"worker failed: {type(e).__name__}: {e}") for a in batch]

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskAnalyser:
    """Dask workers: ``tcp://scheduler:8786`` or ``local:N`` for a LocalCluster."""

    def __init__(self, mode: str, lang: str, address: str, retries: int = 3):
        from dask.distributed import Client, LocalCluster

        self.mode, self.lang, self.retries = mode, lang, retries
        self.cluster = None
        if address.startswith("local:"):
            n = int(address.split(":", 1)[1] or 2)
            self.cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=40)
            self.client = Client(self.cluster)
        else:
            self.client = Client(address, timeout="30s")
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))

    def run(self, batches: Iterable[Batch]) -> Iterator[Result]:
        from dask.distributed import as_completed

        ac = as_completed()
        sources: dict = {}
        in_flight = 0
        for batch in batches:
            if not batch:
                continue
            f = self.client.submit(analyse_records, [a.to_dict() for a in batch], self.mode, self.lang,
                                   retries=self.retries, pure=False)
            sources[f.key] = batch
            ac.add(f)
            in_flight += 1
            while in_flight >= 3 * self.workers:
                yield self._result(next(ac), sources)
                in_flight -= 1
        for f in ac:
            yield self._result(f, sources)

    def warm(self) -> None:
        self.client.run(_warm, self.mode, self.lang)

    @staticmethod
    def _result(future, sources: dict) -> Result:
        batch = sources.pop(future.key)
        try:
            return _unpack(future.result())
        except Exception as e:  # retries exhausted
            return [], [Failure(a.source or a.id, f"cluster task failed after retries: {type(e).__name__}: {e}")
                        for a in batch]
        finally:
            future.release()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_analyser(mode: str, lang: str, workers: int = 1, cluster: Optional[str] = None):
    if cluster:
        return DaskAnalyser(mode, lang, cluster)
    if workers > 1:
        return PoolAnalyser(mode, lang, workers)
    return LocalAnalyser(mode, lang)


@dataclass
class IngestReport:
    stored: int = 0
    replaced: int = 0
    unchanged: int = 0
    failures: list[Failure] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    @property
    def done(self) -> int:
        return self.stored + self.replaced + self.unchanged + len(self.failures)

    @property
    def rate(self) -> float:
        return self.done / max(time.perf_counter() - self.started, 1e-9)

    def summary(self) -> str:
        return (f"{self.stored} stored, {self.replaced} replaced, {self.unchanged} unchanged, "
                f"{len(self.failures)} failed in {time.perf_counter() - self.started:.1f} s")


def ingest(
    items: Iterable,
    store,
    analyser,
    *,
    batch_size: int = 64,
    analysis: Optional[str] = None,
    on_failure: Callable[[Failure], None] = lambda f: None,
    on_warning: Callable[[Article, str], None] = lambda a, w: None,
    on_progress: Callable[[IngestReport], None] = lambda r: None,
    report: Optional[IngestReport] = None,
) -> IngestReport:
    """Read → skip stored → analyse → store; every input ends up counted once."""
    report = report or IngestReport()

    def to_analyse() -> Iterator[Batch]:
        batch: list = []
        for item in items:
            batch.append(item)
            if len(batch) >= batch_size:
                yield from _prepare(batch)
                batch = []
        if batch:
            yield from _prepare(batch)

    def _prepare(batch: list) -> Iterator[Batch]:
        for f in (x for x in batch if isinstance(x, Failure)):
            report.failures.append(f)
            on_failure(f)
        articles = _dedupe([x for x in batch if isinstance(x, Article)], report)
        known = store.known(articles)
        todo = []
        for a in articles:
            if known.get(a.id) == a.content_hash:
                report.unchanged += 1
            else:
                todo.append(a)
        on_progress(report)
        if todo:
            yield todo

    for done, failed in analyser.run(to_analyse()):
        for f in failed:
            report.failures.append(f)
            on_failure(f)
        for a in done:
            for w in a.warnings:
                on_warning(a, w)
        for status in store.put_many(done, analysis):
            setattr(report, status, getattr(report, status) + 1)
        on_progress(report)
    return report


def _dedupe(articles: list[Article], report: IngestReport) -> list[Article]:
    """The same article twice in one batch: store it once."""
    seen: dict[str, Article] = {}
    for a in articles:
        if a.id in seen and seen[a.id].content_hash == a.content_hash:
            report.unchanged += 1
        else:
            seen[a.id] = a
    return list(seen.values())
