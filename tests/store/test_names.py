"""The store's name index: the surname pass over the keys a build touched gives what a pass over the whole store gives."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

import pyoxigraph as ox
import pytest

from kg.iri import ID, graph_iri
from kg.resolution.crossdoc import _PREFIXES, _RENAME, merge_surnames, surname_merges
from kg.store import Store, names
from kg.store.store import locked
from kg.vocab import ITSRDF, KG

A = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
SCAN = names.scan

# every person and organization node of the union of graphs, as the pass read them before the index existed
PERSONS = f"""
SELECT DISTINCT ?e ?label WHERE {{
  {{ SELECT DISTINCT ?e WHERE {{
      VALUES ?class {{ <{KG.Person}> <{KG.Organization}> }}
      ?e a ?class .
      FILTER(STRSTARTS(STR(?e), "{ID}person/") || STRSTARTS(STR(?e), "{ID}organization/")) }} }}
  ?e <http://www.w3.org/2000/01/rdf-schema#label> ?label .
  FILTER(STRSTARTS(STR(?e), "{ID}person/") || STRSTARTS(STR(?e), "{ID}organization/") && !CONTAINS(?label, " "))
}}"""


def doc(doc_id: str, *people: tuple[str, str, str]) -> list[ox.Quad]:
    """A document graph naming ``(type, slug, label)`` entities, each with one mention."""
    g = ox.NamedNode(str(graph_iri(doc_id)))
    out = []
    for i, (type_, slug, label) in enumerate(people):
        e = ox.NamedNode(f"{ID}{type_.lower()}/{slug}")
        mention = ox.NamedNode(f"https://w3id.org/kg/doc/{doc_id}#char={i},{i + 1}")
        out += [ox.Quad(e, A, ox.NamedNode(str(KG[type_])), g), ox.Quad(e, LABEL, ox.Literal(label), g),
                ox.Quad(mention, ox.NamedNode(str(ITSRDF.taIdentRef)), e, g),
                ox.Quad(mention, ox.NamedNode(str(ITSRDF.taClassRef)), ox.NamedNode(str(KG[type_])), g)]
    return out


def reference_pass(db: ox.Store) -> int:
    """The surname pass over every person of the store (the index's oracle)."""
    persons = sorted({(r["e"].value, r["label"].value) for r in db.query(PERSONS, use_default_graph_as_union=True)})
    merges = surname_merges(persons)
    for old, (new, label) in merges.items():
        db.update(_RENAME.format(old=old, new=new, label=ox.Literal(label)), prefixes=_PREFIXES)
    return len(merges)


STEPS = [
    {"a": doc("a", ("Person", "valeriy-zaluzhniy", "Valeriy Zaluzhniy"))},
    {"b": doc("b", ("Person", "zaluzhnii", "Zaluzhnyi"))},  # joins the full name of another document
    {"c": doc("c", ("Person", "ivan-petrenko", "Ivan Petrenko")), "d": doc("d", ("Person", "olena-petrenko", "Olena Petrenko"))},
    {"e": doc("e", ("Person", "petrenko", "Petrenko"))},  # two full names end with it: no join
    {"d": []},  # removing one of them makes the join possible: the removed document's keys count
    {"f": doc("f", ("Organization", "smith", "Smith"), ("Organization", "acme-group", "Acme Group"))},
    {"g": doc("g", ("Person", "ann-smith", "Ann Smith"))},  # a one-word organization is a surname the model mistook
    {"b": doc("b", ("Person", "zaluzhnii", "Zaluzhnyi"), ("Person", "smith", "Smith"))},  # rebuilt document
]


def _sorted_quads(db: ox.Store) -> list[str]:
    return sorted(map(str, db))


def test_names_pass_over_touched_keys_equals_full_pass(tmp_path, monkeypatch):
    oracle = ox.Store()
    with Store.open(tmp_path / "store") as st:
        assert not st.names.stale  # a new store starts with an empty index
        for step in STEPS:
            for doc_id, quads in step.items():
                st.replace_document(doc_id, quads)
                g = ox.NamedNode(str(graph_iri(doc_id)))
                oracle.remove_graph(g)
                oracle.extend(quads)
            expected = sorted({(r["e"].value, r["label"].value) for r in st.pyoxigraph.query(PERSONS, use_default_graph_as_union=True)})
            assert st.names.persons() == expected
            with monkeypatch.context() as m:  # the pass never reads the whole store
                m.setattr(names, "scan", lambda db, graph=None: pytest.fail("whole store scanned") if graph is None else SCAN(db, graph))
                joined = merge_surnames(st)
            assert joined == reference_pass(oracle)
            assert _sorted_quads(st.pyoxigraph) == _sorted_quads(oracle)
        assert not st.names.stale and not st.names.pending
    query = f"SELECT DISTINCT ?l WHERE {{ ?e a <{KG.Person}> ; <{LABEL.value}> ?l }}"
    people = {r["l"].value for r in oracle.query(query, use_default_graph_as_union=True)}
    assert people == {"Valeriy Zaluzhniy", "Ivan Petrenko", "Ann Smith"}  # every surname joined in the end


def test_names_pass_reads_only_the_new_documents_keys(tmp_path):
    with Store.open(tmp_path / "store") as st:
        for k in range(30):
            st.replace_document(f"n{k}", doc(f"n{k}", ("Person", f"person-{k}", f"Anna Surname{k}")))
        merge_surnames(st)
        st.replace_document("new", doc("new", ("Person", "olaf-scholz", "Olaf Scholz"), ("Person", "surname3", "Surname3")))
        assert st.names.touched == {"scholz", "surname3"}
        assert merge_surnames(st) == 1


def test_names_index_dirty_after_a_kill_is_rebuilt(tmp_path):
    store = tmp_path / "store"
    with Store.open(store) as st:
        st.replace_document("a", doc("a", ("Person", "valeriy-zaluzhniy", "Valeriy Zaluzhniy")))
        merge_surnames(st)
    with Store.open(store) as st:
        assert not st.names.stale  # closed cleanly: trusted
    surname = ox.serialize([q.triple for q in doc("b", ("Person", "zaluzhnii", "Zaluzhnyi"))], format=ox.RdfFormat.N_TRIPLES)
    script = textwrap.dedent(f"""
        import os
        from kg.store import Store
        st = Store.open({str(store)!r})
        st.put_documents([("b", {surname!r})])
        os._exit(9)  # dies before the pass and before closing the store
    """)
    assert subprocess.run([sys.executable, "-c", script], check=False, timeout=120).returncode == 9
    with Store.open(store) as st:
        assert st.names.stale  # marked dirty before the write, never settled
        assert merge_surnames(st) == 1  # the rebuilt index sees the surname of the killed build
    with Store.open(store, read_only=True) as st:
        labels = {q.object.value for q in st.quads() if q.predicate == LABEL}
    assert labels == {"Valeriy Zaluzhniy"}
    with Store.open(store) as st:
        assert not st.names.stale


def test_names_index_of_another_store_or_after_a_foreign_writer_is_rebuilt(tmp_path):
    for name in ("one", "two"):
        with Store.open(tmp_path / name) as st:
            st.replace_document("a", doc("a", ("Person", "ann-smith", "Ann Smith")))
            merge_surnames(st)
    shutil.copy(tmp_path / "one.names", tmp_path / "two.names")
    with Store.open(tmp_path / "two") as st:
        assert st.names.stale  # the copied index describes another RocksDB store
        merge_surnames(st)
    with Store.open(tmp_path / "two") as st:
        assert not st.names.stale
    with locked(tmp_path / "two", exclusive=True):  # e.g. a writable Oxigraph server on the folder
        pass
    with Store.open(tmp_path / "two") as st:
        assert st.names.stale


def test_names_index_beside_a_removed_store_is_dropped(tmp_path):
    with Store.open(tmp_path / "store") as st:
        st.replace_document("a", doc("a", ("Person", "ann-smith", "Ann Smith")))
        merge_surnames(st)
    shutil.rmtree(tmp_path / "store")
    with Store.open(tmp_path / "store") as st:
        assert not st.names.stale and st.names.persons() == []
