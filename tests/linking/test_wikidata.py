"""The Wikidata JSON dump reader, on real entity JSON (tests/data/wikidata/).

Expected values are read from the entity JSON itself, never written from memory.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kg.cli import app
from kg.errors import LinkingError
from kg.linking import KnowledgeBase
from kg.linking.kb import build_default
from kg.linking.sources import SOURCE_FILES
from kg.linking.wikidata import MAP_FILE, ItemFacts, WikidataMap, default_map, item_facts, iter_entities, read_dump, read_qids
from kg.paths import KB_SOURCES_DIR

from .conftest import DATA, SAMPLE_ITEMS, SHORT_STREAM, SLICES

WDTK = DATA / "wdtk_sample-dump-20150815.json.gz"


def label(entity: dict) -> str | None:
    return entity.get("labels", {}).get("en", {}).get("value")


def p31(entity: dict, wmap: WikidataMap) -> set[str]:
    facts = item_facts(entity, wmap)
    return set(facts.truthy(wmap.pid("class"))) if facts else set()


# --------------------------------------------------------------------------- the map and its evidence


def test_wikidata_map_classes_are_backed_by_the_sample_entities(slice_entities) -> None:
    wmap = default_map()
    by_id = {e["id"]: e for e in slice_entities}
    rows = [r for r in csv.DictReader((line for line in MAP_FILE.read_text(encoding="utf-8").splitlines()
                                       if line and not line.startswith("#")), delimiter="\t")]
    classes = [r for r in rows if r["kind"] == "class"]
    assert classes and {r["id"] for r in classes} == set(wmap.classes)
    for row in classes:
        file, _, cited = row["evidence"].partition(": ")
        assert (DATA / file).is_file(), row
        examples = re.findall(r"(Q\d+)(?: ([^;(]+))?", cited)
        assert examples, row
        for qid, name in examples:
            entity = by_id[qid]
            assert row["id"] in p31(entity, wmap), (row["id"], qid)
            if name.strip():
                assert label(entity) == name.strip(), (qid, name)


def test_wikidata_map_properties_are_named_by_the_property_list() -> None:
    titles = json.loads((KB_SOURCES_DIR / "wikidata_properties" / "properties_2017.json").read_text(encoding="utf-8"))
    rows = [r for r in csv.DictReader((line for line in MAP_FILE.read_text(encoding="utf-8").splitlines()
                                       if line and not line.startswith("#")), delimiter="\t") if r["kind"] == "property"]
    assert {r["kg"] for r in rows} >= {"class", "country", "locatedIn", "partOf", "memberOf", "positionHeld", "headquarters",
                                       "capital", "capitalOf", "endTime"}
    for row in rows:
        assert titles[row["id"]]["title"] == row["evidence"], row


def test_wikidata_map_refuses_a_malformed_row(tmp_path: Path) -> None:
    bad = tmp_path / "map.tsv"
    bad.write_text("kind\tid\tkg\tevidence\nclass\tQ12x\tSettlement\tnone\n", encoding="utf-8")
    with pytest.raises(LinkingError, match="row 2"):
        WikidataMap.load(bad)


# --------------------------------------------------------------------------- reading dumps


def test_read_dump_reads_both_framings_and_both_compressions(tmp_path: Path, slice_entities) -> None:
    framed = list(read_dump(SAMPLE_ITEMS))
    lines = list(read_dump(SHORT_STREAM))
    assert framed and lines
    # the same entities as plain JSON lines, gzip-compressed, and as an uncompressed dump
    as_lines = tmp_path / "items.json.gz"
    with gzip.open(as_lines, "wt", encoding="utf-8") as out:
        for entity in iter_entities(SAMPLE_ITEMS):
            out.write(json.dumps(entity) + "\n")
    plain = tmp_path / "items.json"
    plain.write_bytes(bz2.decompress(SAMPLE_ITEMS.read_bytes()))
    assert list(read_dump(as_lines)) == framed == list(read_dump(plain))


def test_read_dump_wdtk_framing_counts_every_entity() -> None:
    entities = list(iter_entities(WDTK))
    raw = gzip.decompress(WDTK.read_bytes()).decode("utf-8").splitlines()
    assert len(entities) == sum(1 for line in raw if line.strip() not in ("[", "]", ""))
    assert {e["type"] for e in entities} == {"item", "property"}
    assert list(read_dump(WDTK)) == []  # the items there carry no label: nothing to name them by


def test_read_dump_entry_fields_come_from_the_entity(slice_entities) -> None:
    wmap = default_map()
    entries = {e.qid: e for path in SLICES for e in read_dump(path)}
    for entity in slice_entities:
        entry = entries.get(entity["id"])
        if entry is None:
            continue
        assert entry.label == (label(entity) or next(v["value"] for k, v in entity["labels"].items() if k in ("uk", "ru", "de", "fr", "es")))
        assert entry.type == wmap.kg_type(p31(entity, wmap))
        assert entry.description == entity.get("descriptions", {}).get("en", {}).get("value", entry.description)
        english_aliases = {" ".join(a["value"].split()) for a in entity.get("aliases", {}).get("en", [])}
        assert {a for a in english_aliases if len(a) > 1 and any(c.isalpha() for c in a)} - {entry.label} <= set(entry.aliases)
        assert 0.0 <= entry.prior <= 1.0 and entry.source == "wikidata"
    # more sitelinks, higher prior
    ranked = sorted(slice_entities, key=lambda e: len(e.get("sitelinks", {})))
    kept = [entries[e["id"]].prior for e in ranked if e["id"] in entries]
    assert kept == sorted(kept)


def test_read_dump_relations_skip_ended_and_deprecated_statements(slice_entities) -> None:
    wmap = default_map()
    end = wmap.pid("endTime")
    entries = {e.qid: e for path in SLICES for e in read_dump(path)}
    checked = 0
    for entity in slice_entities:
        if entity["id"] not in entries:
            continue
        for pid in wmap.relation_pids:
            claims = [c for c in entity["claims"].get(pid, []) if c["mainsnak"].get("snaktype") == "value"]
            best = "preferred" if any(c["rank"] == "preferred" for c in claims) else "normal"
            current = {c["mainsnak"]["datavalue"]["value"]["id"] for c in claims if c["rank"] == best and end not in c.get("qualifiers", {})}
            ended = {c["mainsnak"]["datavalue"]["value"]["id"] for c in claims if c["rank"] == best and end in c.get("qualifiers", {})}
            kept = {v for p, v in entries[entity["id"]].relations if p == pid}
            assert kept == current - {entity["id"]} - (ended - current), (entity["id"], pid)
            checked += bool(ended - current)
    assert checked  # some sample statements have ended (a region's former country), and they are left out
    belgorod = entries[next(e["id"] for e in slice_entities if label(e) == "Belgorod Oblast")]
    assert belgorod.country == belgorod.located_in and (wmap.pid("country"), belgorod.country) in belgorod.relations


def test_read_dump_filters_by_qids_and_classes(tmp_path: Path, slice_entities) -> None:
    wmap = default_map()
    settlements = {q for q, k in wmap.classes.items() if k == "Settlement"}
    by_class = list(read_dump(SAMPLE_ITEMS, classes=settlements))
    assert by_class and all(e.type == "Settlement" for e in by_class)
    wanted = {e.qid for e in by_class[:2]}
    listing = tmp_path / "qids.txt"
    listing.write_text("# two settlements\n" + "\n".join(f"wd:{q}" for q in sorted(wanted)) + "\n", encoding="utf-8")
    assert {e.qid for e in read_dump(SAMPLE_ITEMS, qids=read_qids(listing))} == wanted
    unmapped = [e["id"] for e in slice_entities if not p31(e, wmap) & set(wmap.classes)]
    assert unmapped and not {e.qid for e in read_dump(SAMPLE_ITEMS, qids=set(unmapped))}
    english = next(iter(read_dump(SAMPLE_ITEMS, qids=wanted, languages=("en",))))
    assert all(a.isascii() or any(c.isalpha() for c in a) for a in english.aliases)


def test_read_dump_bad_input_says_where(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('[\n{"type": "item", "id": "Q900000001", "labels": {}},\n{"type": "item", "id": \n]\n', encoding="utf-8")
    with pytest.raises(LinkingError, match=r"broken.json:3: not a Wikidata entity line"):
        list(read_dump(broken, qids={"Q900000001", "Q900000002"}))
    with pytest.raises(LinkingError, match="cannot read Wikidata dump"):
        list(read_dump(tmp_path / "missing.json.bz2"))
    fake = tmp_path / "fake.json.bz2"
    fake.write_bytes(b"not bzip2 at all")
    with pytest.raises(LinkingError, match="damaged or not a dump"):
        list(read_dump(fake))


def test_item_facts_ranks_and_end_times() -> None:
    facts = ItemFacts("Q900000001", statements={"Pc": [("Q900000003", "normal", True), ("Q900000002", "normal", False),
                                                        ("Q900000004", "deprecated", False)]})
    assert facts.truthy("Pc") == ["Q900000002", "Q900000003"]
    assert facts.current("Pc") == ["Q900000002"]
    facts.statements["Pc"].append(("Q900000005", "preferred", False))
    assert facts.truthy("Pc") == facts.current("Pc") == ["Q900000005"]


# --------------------------------------------------------------------------- knowledge bases from dumps


@pytest.fixture(scope="module")
def dump_kb(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("dump-kb") / "kb.sqlite"
    build_default(path, extra=(e for p in SLICES for e in read_dump(p)), extra_sources=[f"dump:{p.name}" for p in SLICES])
    return path


def test_dump_adds_entities_and_keeps_the_bundled_ones(dump_kb: Path, slice_entities) -> None:
    dumped = {e.qid: e for p in SLICES for e in read_dump(p)}
    with KnowledgeBase.open(dump_kb) as kb, KnowledgeBase.open(build_default.__defaults__[0]) as default:
        new = [q for q in dumped if default.get(q) is None]
        assert new
        for qid in new:
            assert kb.lookup(dumped[qid].label)[0].qid == qid
            assert dict(kb.get(qid).relations) or not dumped[qid].relations
        # what the bundled sources resolve is not reordered by sitelink priors
        for name in ("Belgorod", "Belgorod region", "Kyiv", "Ukraine"):
            assert kb.lookup(name)[0].qid == default.lookup(name)[0].qid
        shared = [q for q in dumped if default.get(q) is not None]
        assert shared and all(kb.get(q).prior == default.get(q).prior for q in shared)
        assert {f"dump:{p.name}" for p in SLICES} <= set(kb.meta()["sources"])


def test_dump_kb_qids_all_come_from_named_sources(dump_kb: Path) -> None:
    raw = "".join(p.read_text(encoding="utf-8") for p in KB_SOURCES_DIR.rglob("*") if p.suffix in {".csv", ".tsv", ".json"})
    raw += "".join(bz2.decompress(p.read_bytes()).decode("utf-8") for p in SLICES)
    known = set(re.findall(r"\bQ[0-9]+\b", raw))
    with KnowledgeBase.open(dump_kb) as kb:
        used = {q for row in kb._db.execute("SELECT qid, country, located_in, capital_of FROM entities") for q in row if q}
        used |= {v for (v,) in kb._db.execute("SELECT value FROM relations")}
    assert used and used <= known, sorted(used - known)[:10]
    assert set(SOURCE_FILES)  # the bundled sources are all there


def test_cli_kb_build_with_a_dump(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "kb.sqlite"
    settlements = ",".join(q for q, k in default_map().classes.items() if k == "Settlement")
    result = runner.invoke(app, ["kb", "build", "-o", str(out), "--only", "--dump", str(SAMPLE_ITEMS), "--classes", settlements, "-q"])
    assert result.exit_code == 0, result.output
    with KnowledgeBase.open(out) as kb:
        assert set(kb.meta()["types"]) == {"Settlement"}
        assert "dump:" + SAMPLE_ITEMS.name in kb.meta()["sources"]
    for args, message in [
        (["--classes", settlements], "need --dump"),
        (["--dump", str(SAMPLE_ITEMS), "--classes", "Q900000001"], "not in the Wikidata map"),
        (["--dump", str(tmp_path / "nope.json.bz2")], "no such file"),
        (["--endpoint", "http://127.0.0.1:9/sparql"], "needs --classes"),
    ]:
        result = runner.invoke(app, ["kb", "build", "-o", str(tmp_path / "other.sqlite"), *args])
        said = result.output + str(result.exception or "")  # kg's errors reach kg.cli.main, which prints them
        assert result.exit_code != 0 and message in said, (args, said)
    assert not (tmp_path / "other.sqlite").exists()
