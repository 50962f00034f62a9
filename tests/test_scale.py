"""Parallel and distributed ingest, and watching: same results as one process,
every input stored exactly once."""

import json
import os
import signal
import subprocess
import sys
import threading
import time


from kroniek.ingest import read_sources
from kroniek.runner import DaskAnalyser, LocalAnalyser, PoolAnalyser, ingest
from kroniek.store import Store
from kroniek.watch import Watcher

KRONIEK = [sys.executable, "-m", "kroniek.cli"]
TEXT = ("Oekraïne meldt nieuwe gevechten bij Charkiv, zegt het leger. Het Kremlin zweeg gisteren. "
        "Volgens het ISW trekken Russische troepen zich terug uit de regio rond Kiev. ")


def jsonl(path, n, start=0):
    with path.open("w", encoding="utf-8") as fh:
        for i in range(start, start + n):
            fh.write(json.dumps({"id": f"a{i}", "text": f"Bericht {i}. " + TEXT, "published": "2022-09-14"}) + "\n")
    return path


def contents(store):
    return sorted((a.id, a.to_json()) for a in store.iter_articles())


def test_workers_give_the_same_store_as_one_process(tmp_path):
    src = jsonl(tmp_path / "in.jsonl", 40)
    one, two = Store(str(tmp_path / "one.db")), Store(str(tmp_path / "two.db"))
    r1 = ingest(read_sources([str(src)]), one, LocalAnalyser("fast", "auto"), batch_size=8)
    pool = PoolAnalyser("fast", "auto", workers=2)
    try:
        r2 = ingest(read_sources([str(src)]), two, pool, batch_size=8)
    finally:
        pool.close()
    assert (r1.stored, r2.stored) == (40, 40)
    assert contents(one) == contents(two)


def test_cli_workers(tmp_path):
    src = jsonl(tmp_path / "in.jsonl", 12)
    r = subprocess.run([*KRONIEK, "ingest", str(src), "--db", str(tmp_path / "k.db"), "--workers", "2",
                        "--mode", "fast", "--batch-size", "4"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "12 stored" in r.stderr


def test_dask_local_cluster_into_postgresql(pg_url, tmp_path):
    src = jsonl(tmp_path / "in.jsonl", 30)
    store = Store(pg_url)
    dask = DaskAnalyser("fast", "auto", "local:2")
    try:
        report = ingest(read_sources([str(src)]), store, dask, batch_size=5)
        again = ingest(read_sources([str(src)]), store, dask, batch_size=5)
    finally:
        dask.close()
    assert report.stored == 30 and not report.failures
    assert again.unchanged == 30 and again.stored == 0
    assert store.count() == 30


def test_killing_a_dask_worker_loses_and_duplicates_nothing(tmp_path):
    src = jsonl(tmp_path / "in.jsonl", 120)
    store = Store(str(tmp_path / "k.db"))
    dask = DaskAnalyser("fast", "auto", "local:2")
    pids = list(dask.client.run(os.getpid).values())
    killed = []

    def kill_one():
        # Wait for the first stored batch, then kill a worker mid-run.
        deadline = time.time() + 120
        while time.time() < deadline and store.count() == 0:
            time.sleep(0.05)
        os.kill(pids[0], signal.SIGKILL)
        killed.append(pids[0])

    t = threading.Thread(target=kill_one)
    t.start()
    try:
        report = ingest(read_sources([str(src)]), store, dask, batch_size=2)
    finally:
        t.join()
        dask.close()
    assert killed
    assert not report.failures, report.failures
    with store.engine.connect() as c:
        from sqlalchemy import text
        n, distinct = c.execute(text("SELECT count(*), count(DISTINCT id) FROM documents")).one()
    assert n == distinct == 120


def test_watch_ingests_only_what_is_new(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text("date 2022-09-14\n" + TEXT, encoding="utf-8")
    (inbox / "b.txt").write_text("date 2022-09-15\nTweede bericht. " + TEXT, encoding="utf-8")
    store = Store(str(tmp_path / "w.db"))
    watcher = Watcher([str(inbox)])
    analyser = LocalAnalyser("fast", "auto")
    first = ingest(watcher.new_items(), store, analyser)
    assert first.stored == 2
    assert list(watcher.new_items()) == []  # nothing new: nothing read
    time.sleep(0.01)
    (inbox / "c.txt").write_text("date 2022-09-16\nDerde bericht. " + TEXT, encoding="utf-8")
    (inbox / "d.txt.part").write_text("half geschreven", encoding="utf-8")
    third = ingest(watcher.new_items(), store, analyser)
    assert (third.stored, third.unchanged) == (1, 0)
    assert store.count() == 3


def test_cli_watch_rounds(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text("date 2022-09-14\n" + TEXT, encoding="utf-8")
    r = subprocess.run([*KRONIEK, "watch", str(inbox), "--db", str(tmp_path / "w.db"), "--rounds", "2",
                        "--interval", "0.2", "--mode", "fast"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "1 stored" in r.stderr and "0 unchanged" in r.stderr
