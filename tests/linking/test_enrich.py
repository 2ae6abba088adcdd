"""Knowledge-base facts about linked entities, in their own graph, never mixed with the documents' facts."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg.errors import StoreError
from kg.iri import KB_GRAPH, entity_iri, wikidata_iri
from kg.linking.enrich import enrich_quads, enrich_store, linked_qids
from kg.store import Store
from kg.vocab import KG, PROV

KB = ox.NamedNode(str(KB_GRAPH))
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


def graphs(store: Store) -> dict[str, set[ox.Triple]]:
    out: dict[str, set[ox.Triple]] = {}
    for q in store.quads():
        out.setdefault(q.graph_name.value, set()).add(q.triple)
    return out


@pytest.fixture
def filled(tmp_path, sample_documents):
    with Store.open(tmp_path / "store") as st:
        for doc in sample_documents:
            st.replace_document(doc.id, doc.quads)
        yield st


def test_enrich_writes_kb_facts_in_their_own_graph(filled: Store, default_kb) -> None:
    before = graphs(filled)
    qids = linked_qids(filled.quads())
    assert qids
    n = enrich_store(filled, default_kb)
    after = graphs(filled)
    assert n > 0 and set(after) == set(before) | {KB.value}
    assert all(after[g] == before[g] for g in before)  # the documents' graphs are untouched
    kb_triples = after[KB.value]
    assert len(kb_triples) == n
    for qid in qids:
        rec = default_kb.get(qid)
        node = ox.NamedNode(str(entity_iri(rec.type, rec.label, qid)))
        assert ox.Triple(node, ox.NamedNode(RDF + "type"), ox.NamedNode(str(KG[rec.type]))) in kb_triples
        assert ox.Triple(node, ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs"), ox.NamedNode(str(wikidata_iri(qid)))) in kb_triples
        if rec.country:
            target = default_kb.get(rec.country)
            fact = ox.Triple(node, ox.NamedNode(str(KG.country)), ox.NamedNode(str(entity_iri(target.type, target.label, rec.country))))
            assert fact in kb_triples
            assert all(fact not in triples for g, triples in after.items() if g != KB.value)
    # provenance: every relation's statement says which Wikidata item it was read from; the graph says where it came from
    statements = {t.subject for t in kb_triples if t.object == ox.NamedNode(RDF + "Statement")}
    assert statements
    for s in statements:
        derived = [t.object.value for t in kb_triples if t.subject == s and t.predicate == ox.NamedNode(str(PROV.wasDerivedFrom))]
        assert len(derived) == 1 and derived[0].startswith("http://www.wikidata.org/entity/Q")
    about_graph = {t.predicate.value for t in kb_triples if t.subject == KB}
    assert str(PROV.wasDerivedFrom) in about_graph and "http://purl.org/dc/terms/rights" in about_graph


def test_enrich_replaces_the_graph_and_skips_unknown_items(filled: Store, default_kb) -> None:
    first = enrich_store(filled, default_kb)
    assert enrich_store(filled, default_kb) == first == len(graphs(filled)[KB.value])
    assert enrich_quads(["Q900000001"], default_kb) == []


def test_enrich_refuses_a_read_only_store(tmp_path, sample_documents, default_kb) -> None:
    with Store.open(tmp_path / "store") as st:
        st.replace_document(sample_documents[0].id, sample_documents[0].quads)
    with Store.open(tmp_path / "store", read_only=True) as st, pytest.raises(StoreError, match="read-only"):
        enrich_store(st, default_kb)
