"""The seed article end to end: scores, determinism, formats, queries, reasoning, CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.paths import ONTOLOGY_DIR, QUERIES_DIR, ROOT, SEEDS_DIR

GOLD = Path(__file__).parents[1] / "data" / "seed.gold.json"
KG = [sys.executable, "-m", "kg"]


def test_seed_scores_hold_their_thresholds(pipeline):
    from kg.evaluation import evaluate

    score = evaluate(GOLD, pipeline=pipeline, ontology_dir=ONTOLOGY_DIR).as_dict()
    assert score["entity_recall"] >= 0.95
    assert score["entity_precision"] >= 0.90
    assert score["type_accuracy"] >= 0.95
    assert score["duplicates"] == {} or not score["duplicates"]
    assert score["wrong_links"] == [] or not score["wrong_links"]
    assert score["link_accuracy_verified"] == 1.0
    assert score["relation_recall"] >= 0.90
    assert score["relation_precision"] >= 0.85
    assert score["event_recall"] == 1.0


def _nt(store_path: Path, tmp: Path, name: str) -> bytes:
    from kg.store import Store

    out = tmp / name
    with Store.open(store_path, read_only=True) as st:
        st.dump(out)
    return out.read_bytes()


def test_seed_two_builds_give_identical_sorted_ntriples(pipeline, seed_store, tmp_path):
    from kg.store import Store

    again = tmp_path / "again"
    with Store.open(again) as st:
        pipeline.build([SEEDS_DIR], st)
    a, b = _nt(seed_store, tmp_path, "a.nt"), _nt(again, tmp_path, "b.nt")
    assert a == b
    assert a.splitlines() == sorted(a.splitlines())


def test_seed_rebuild_does_not_duplicate(pipeline, tmp_path):
    from kg.store import Store

    path = tmp_path / "s"
    with Store.open(path) as st:
        pipeline.build([SEEDS_DIR], st)
        first = len(st)
        pipeline.build([SEEDS_DIR], st)
        assert len(st) == first


@pytest.mark.parametrize("ext", ["ttl", "nt", "nq", "trig", "jsonld", "rdf"])
def test_seed_every_format_parses_back_isomorphic(seed_store, tmp_path, ext):
    import rdflib
    from rdflib.compare import isomorphic

    from kg.store import Store

    out = tmp_path / f"seed.{ext}"
    with Store.open(seed_store, read_only=True) as st:
        st.dump(out)
    reference = rdflib.Graph()
    reference.parse(data=_nt(seed_store, tmp_path, "ref.nt").decode(), format="nt")
    fmt = {"ttl": "turtle", "nt": "nt", "nq": "nquads", "trig": "trig", "jsonld": "json-ld", "rdf": "xml"}[ext]
    if ext in {"nq", "trig", "jsonld"}:
        ds = rdflib.Dataset()
        ds.parse(out, format=fmt)
        back = rdflib.Graph()
        for s, p, o, _ in ds.quads((None, None, None, None)):
            back.add((s, p, o))
    else:
        back = rdflib.Graph()
        back.parse(out, format=fmt)
    assert isomorphic(reference, back)


@pytest.mark.parametrize("query", sorted(p.name for p in QUERIES_DIR.glob("*.rq") if "federated" not in p.name))
def test_seed_every_query_returns_rows(seed_store, query):
    from kg.query import load_query, run_query
    from kg.store import Store

    with Store.open(seed_store, read_only=True) as st:
        result = run_query(load_query(QUERIES_DIR / query), st)
    assert len(result.rows) >= 1


@pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs a Java runtime (java not on PATH)")
def test_seed_populated_ontology_is_consistent(seed_store):
    from kg.ontology.validate import validate
    from kg.store import Store

    with Store.open(seed_store, read_only=True) as st:
        report = validate(list(st.quads()))
    assert report.consistent, report.problems


def test_seed_claims_are_claim_resources(seed_store):
    from kg.query import run_query
    from kg.store import Store

    q = """SELECT ?who ?stance WHERE { ?c a kg:Claim ; kg:claimant ?e ; kg:stance ?stance . ?e rdfs:label ?who }"""
    with Store.open(seed_store, read_only=True) as st:
        rows = {(r[0].value, r[1].value.rsplit("#", 1)[1]) for r in run_query(q, st).rows}
    assert ("Jens Stoltenberg", "denies") in rows
    assert any(stance == "denies" and "government" in who.lower() for who, stance in rows)
    assert any(stance == "asserts" and "defense ministry" in who.lower() for who, stance in rows)


def _kg(*args, cwd):
    return subprocess.run([*KG, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_cli_build_query_export(tmp_path):
    r = _kg("build", SEEDS_DIR, "-o", tmp_path / "seed.trig", "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "seed.trig").stat().st_size > 0
    r = _kg("query", QUERIES_DIR / "people-positions.rq", "--format", "csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Zelensk" in r.stdout
    r = _kg("export", "-o", tmp_path / "all.nt", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    # --min-confidence leaves out the relations (and events, claims) read with less confidence
    r = _kg("build", SEEDS_DIR, "--store", tmp_path / "strict", "-o", tmp_path / "strict.nq", "--min-confidence", "0.85",
            "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    ask = """PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> PREFIX kg: <https://w3id.org/kg/ontology#>
             SELECT ?c WHERE { GRAPH ?g { ?s a rdf:Statement ; kg:confidence ?c } }"""
    def confidences(path):
        st = ox.Store()
        st.load(path=str(path), format=ox.RdfFormat.from_extension(path.suffix[1:]))
        return [float(row["c"].value) for row in st.query(ask)]
    everything = confidences(tmp_path / "seed.trig")
    kept = confidences(tmp_path / "strict.nq")
    assert kept and min(kept) >= 0.85 and len(kept) < len(everything)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["build", "no-such-file.txt"], "no such file"),
        (["build", "seed.xyz"], "unknown file type"),
        (["build", "empty.txt"], "empty document"),
        (["build", "ok.txt", "-o", "out.xyz"], "format"),
        (["query", "bad.rq", "g.nt"], "bad.rq:2:"),
        (["query", "none.rq"], "none.rq"),
    ],
)
def test_cli_bad_input_is_one_line_error(tmp_path, args, needle):
    (tmp_path / "seed.xyz").write_text("x")
    (tmp_path / "empty.txt").write_text("  \n")
    (tmp_path / "ok.txt").write_text("Kyiv is the capital of Ukraine.")
    (tmp_path / "bad.rq").write_text("SELECT ?s\nWHERE { ?s ?p }\n")
    (tmp_path / "g.nt").write_text('<http://a> <http://b> "c" .\n')
    r = _kg(*args, cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], r.stderr
    assert "Traceback" not in r.stderr
