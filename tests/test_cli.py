"""The `kroniek` command run as a user runs it: real processes, real files."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import jsonschema
import pytest

from kroniek.document import json_schema

KRONIEK = [sys.executable, "-m", "kroniek.cli"]


def run(*args, input=None, env=None, cwd=None):
    e = {**os.environ, **(env or {})}
    e.pop("KRONIEK_DB", None) if env is None or "KRONIEK_DB" not in env else None
    return subprocess.run([*KRONIEK, *map(str, args)], input=input, capture_output=True, text=True,
                          env=e, cwd=cwd, timeout=600)


def test_analyze_reference_article(reference_path):
    r = run("analyze", reference_path, "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, json_schema())
    assert doc["published"] == "2022-09" and doc["language"] == "nl"
    assert doc["text"].startswith("Het Kremlin heeft")
    text = doc["text"]
    # Sentences cover every non-blank character, in order, without overlap.
    covered = set()
    prev_end = 0
    for s in doc["sentences"]:
        assert prev_end <= s["start"] < s["end"]
        prev_end = s["end"]
        covered.update(range(s["start"], s["end"]))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
    for layer in ("mentions", "times", "places", "quotes"):
        for span in doc[layer]:
            assert text[span["start"]:span["end"]] == span["text"]
    # Deterministic, byte for byte.
    assert run("analyze", reference_path, "--format", "json").stdout == r.stdout


def test_analyze_jsonl_keeps_order_and_ids(tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [{"id": f"doc-{i}", "text": t, "published": "2022-09-1%d" % i}
            for i, t in enumerate(["Oekraïne herovert Izjoem.", "Ukraine retakes Izium.", "Rusland trekt zich terug."])]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    r = run("analyze", src, "--format", "jsonl")
    assert r.returncode == 0, r.stderr
    docs = [json.loads(line) for line in r.stdout.splitlines()]
    assert [d["id"] for d in docs] == ["doc-0", "doc-1", "doc-2"]
    assert [d["language"] for d in docs] == ["nl", "en", "nl"]
    for d in docs:
        jsonschema.validate(d, json_schema())


def test_ingest_search_show_export(tmp_path, reference_path):
    db = tmp_path / "k.db"
    r = run("ingest", reference_path, "--db", db)
    assert r.returncode == 0, r.stderr
    assert "1 stored" in r.stderr
    r = run("ingest", reference_path, "--db", db)
    assert "0 stored" in r.stderr and "1 unchanged" in r.stderr
    r = run("search", "Slangeneiland", "--db", db)
    assert r.returncode == 0 and "2022-09" in r.stdout and "Slangeneiland" in r.stdout
    hit = json.loads(run("search", "Charkiv", "--db", db, "--json").stdout.splitlines()[0])
    shown = json.loads(run("show", hit["id"], "--db", db).stdout)
    assert shown["text"].startswith("Het Kremlin heeft")
    exported = run("export", "--db", db, "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["id"] for line in exported] == [hit["id"]]
    csv_out = run("export", "--db", db, "--format", "csv").stdout
    assert csv_out.splitlines()[0].startswith("id,source,url,title,published")
    assert run("show", "nope", "--db", db).returncode == 1


def test_db_from_environment(tmp_path, reference_path):
    db = tmp_path / "env.db"
    r = run("ingest", reference_path, env={"KRONIEK_DB": str(db)})
    assert r.returncode == 0 and db.exists()
    assert "Slangeneiland" in run("search", "Slangeneiland", env={"KRONIEK_DB": str(db)}).stdout


def test_bad_inputs_exit_1_and_the_rest_is_stored(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "goed.txt").write_text("date 2022-09-14\nOekraïne herovert de stad Izjoem in het oosten.", encoding="utf-8")
    (d / "leeg.txt").write_bytes(b"")
    (d / "junk.bin").write_bytes(os.urandom(4096))
    (d / "duits.txt").write_text("date 2022-09-14\nDie ukrainische Armee hat die Stadt Isjum im Osten des Landes "
                                 "zurückerobert, teilte das Verteidigungsministerium am Mittwoch mit.", encoding="utf-8")
    db = tmp_path / "k.db"
    r = run("ingest", d, "--db", db)
    assert r.returncode == 1
    assert "leeg.txt: empty" in r.stderr and "junk.bin: binary" in r.stderr
    assert "warning:" in r.stderr and "no models for language 'de'" in r.stderr
    assert "2 stored" in r.stderr and "2 failed" in r.stderr
    assert "Isjum" in run("search", "Isjum", "--db", db).stdout  # stored and searchable


def test_usage_errors_exit_2(tmp_path):
    assert run("ingest").returncode == 2
    assert run("analyze", "x.txt", "--format", "xml").returncode == 2
    assert run("ingest", "x.txt", "--published", "gisteren", "--db", tmp_path / "k.db").returncode == 2


def test_schema_command_prints_the_contract():
    schema = json.loads(run("schema").stdout)
    assert set(schema["required"]) >= {"id", "text"}
    assert {"sentences", "mentions", "entities", "times", "places", "quotes"} <= set(schema["properties"])


def test_kill_9_loses_nothing_and_rerun_completes(tmp_path):
    n = 1500
    src = tmp_path / "many.jsonl"
    with src.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": f"art-{i}", "text": f"Artikel {i}: Oekraïne meldt nieuwe gevechten bij Charkiv. "
                                 "Het Kremlin zwijgt. " * 5, "published": "2022-09"}) + "\n")
    db = tmp_path / "crash.db"
    # fast mode: this tests the plumbing, and 1,500 documents in accurate mode take minutes
    proc = subprocess.Popen([*KRONIEK, "ingest", str(src), "--db", str(db), "--batch-size", "20", "--mode", "fast"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    stored = 0
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
        try:
            with sqlite3.connect(db, timeout=5) as c:
                stored = c.execute("SELECT count(*) FROM documents").fetchone()[0]
        except sqlite3.OperationalError:
            continue
        if stored >= 100:
            break
    if proc.poll() is not None:
        pytest.fail("ingest finished before it could be killed; make the input larger")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(db) as c:
        docs = c.execute("SELECT count(*) FROM documents").fetchone()[0]
        # No half-written document: every stored one has its sentences.
        orphans = c.execute("SELECT count(*) FROM documents d WHERE NOT EXISTS "
                            "(SELECT 1 FROM sentences s WHERE s.doc_pk = d.pk)").fetchone()[0]
    assert 0 < docs < n and orphans == 0
    r = run("ingest", src, "--db", db, "--mode", "fast")
    assert r.returncode == 0, r.stderr
    assert f"{docs} unchanged" in r.stderr and f"{n - docs} stored" in r.stderr
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT count(*), count(DISTINCT id) FROM documents").fetchone() == (n, n)
        assert c.execute("SELECT count(*) FROM documents_fts WHERE documents_fts MATCH 'Charkiv'").fetchone()[0] == n
