"""The offline knowledge base, built from the real sources in data/kb-sources.

No QID is written here: expected identifiers are read from the source files.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from kg.errors import LinkingError
from kg.linking import KBEntry, KnowledgeBase, build_default, normalize, translit_key
from kg.linking.sources import SOURCE_FILES, read_all
from kg.paths import KB_SOURCES_DIR

from .conftest import country_qid, place_qid, source_rows, state_qid


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, float]:
    path = tmp_path_factory.mktemp("kb") / "kb.sqlite"
    start = time.perf_counter()
    stats = build_default(path, KB_SOURCES_DIR)
    return path, stats, time.perf_counter() - start


@pytest.fixture(scope="module")
def kb(built: tuple[Path, dict, float]):
    with KnowledgeBase.open(built[0]) as opened:
        yield opened


def top(kb: KnowledgeBase, name: str, **kwargs):
    candidates = kb.lookup(name, **kwargs)
    assert candidates, f"no candidate for {name!r}"
    return candidates[0]


# --------------------------------------------------------------------------- building


def test_kb_build_is_fast_and_counts_types(built: tuple[Path, dict, float]) -> None:
    path, stats, seconds = built
    assert seconds < 60
    assert stats["entities"] == sum(stats["types"].values()) > 10_000
    assert {"Country", "AdministrativeArea", "Settlement", "Person", "Organization"} <= set(stats["types"])
    assert stats["bytes"] == path.stat().st_size


def test_kb_every_qid_comes_from_the_sources(kb: KnowledgeBase) -> None:
    raw = "".join(p.read_text(encoding="utf-8") for p in KB_SOURCES_DIR.rglob("*") if p.suffix in {".csv", ".tsv", ".json"})
    known = set(re.findall(r"\bQ[0-9]+\b", raw))
    used = {
        qid
        for row in kb._db.execute("SELECT qid, country, located_in, capital_of FROM entities")
        for qid in row
        if qid
    }
    assert used and used <= known, sorted(used - known)[:10]


def test_kb_build_is_atomic(built: tuple[Path, dict, float], tmp_path: Path) -> None:
    path = tmp_path / "kb.sqlite"
    path.write_bytes(built[0].read_bytes())
    before = path.read_bytes()

    def failing():
        yield from read_all(KB_SOURCES_DIR)
        raise RuntimeError("source broke mid-build")

    with pytest.raises(RuntimeError, match="mid-build"):
        KnowledgeBase.build(path, failing())
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    with KnowledgeBase.open(path) as reopened:
        assert reopened.lookup("Ukraine")


def test_kb_build_rejects_a_malformed_qid(tmp_path: Path) -> None:
    with pytest.raises(LinkingError, match="malformed QID"):
        KnowledgeBase.build(tmp_path / "kb.sqlite", [KBEntry("NULL", "Nowhere")])
    assert not (tmp_path / "kb.sqlite").exists()


def test_kb_build_default_without_sources_says_the_fix(tmp_path: Path) -> None:
    with pytest.raises(LinkingError, match="restore data/kb-sources"):
        build_default(tmp_path / "kb.sqlite", tmp_path / "nowhere")


# --------------------------------------------------------------------------- opening


def test_kb_open_missing_file_says_the_fix(tmp_path: Path) -> None:
    with pytest.raises(LinkingError, match=r"run `kg kb build`"):
        KnowledgeBase.open(tmp_path / "missing.sqlite")


def test_kb_open_corrupt_file_says_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "kb.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(LinkingError, match=r"run `kg kb build`"):
        KnowledgeBase.open(path)


def test_kb_meta_records_sources_and_notice(kb: KnowledgeBase) -> None:
    meta = kb.meta()
    assert set(meta["sources"]) == set(SOURCE_FILES.values())
    assert "ODbL" in meta["notice"]
    assert meta["entities"] == sum(meta["types"].values())


# --------------------------------------------------------------------------- lookup


def test_kb_lookup_region_phrase_prefers_the_administrative_area(kb: KnowledgeBase) -> None:
    best = top(kb, "Belgorod region")
    assert (best.qid, best.type) == (state_qid("Belgorod", "RU"), "AdministrativeArea")
    assert top(kb, "Belgorod Oblast").qid == best.qid


def test_kb_lookup_bare_name_prefers_the_city(kb: KnowledgeBase) -> None:
    candidates = kb.lookup("Belgorod")
    assert [c.type for c in candidates[:2]] == ["Settlement", "AdministrativeArea"]
    assert candidates[0].qid == place_qid("Belgorod", "RU")
    assert top(kb, "Belgorod", types=["AdministrativeArea"]).qid == state_qid("Belgorod", "RU")


@pytest.mark.parametrize("name", ["Donetsk region", "Donetsk Oblast", "donetsk oblast", "Donetsk Region"])
def test_kb_lookup_ukrainian_oblast_in_english(kb: KnowledgeBase, name: str) -> None:
    best = top(kb, name)
    assert (best.qid, best.type) == (state_qid("Donetska", "UA"), "AdministrativeArea")
    assert kb.get(best.qid).country == country_qid("UA")


@pytest.mark.parametrize(
    ("name", "state"), [("Kherson region", "Khersonska"), ("Kharkiv Oblast", "Kharkivska"), ("Kyiv region", "Kyivska")]
)
def test_kb_lookup_generated_oblast_names(kb: KnowledgeBase, name: str, state: str) -> None:
    assert top(kb, name).qid == state_qid(state, "UA")


def test_kb_lookup_kiev_and_kyiv_agree(kb: KnowledgeBase) -> None:
    assert top(kb, "Kiev").qid == top(kb, "Kyiv").qid == place_qid("Kiev", "UA")
    assert top(kb, "Kyiv").type == "Settlement"


def test_kb_lookup_capital_city(kb: KnowledgeBase) -> None:
    best = top(kb, "Brussels")
    assert (best.qid, best.type) == (place_qid("Brussels", "BE"), "Settlement")


@pytest.mark.parametrize(("name", "iso2"), [("Ukraine", "UA"), ("Russia", "RU"), ("U.S.", "US"), ("United States", "US")])
def test_kb_lookup_countries(kb: KnowledgeBase, name: str, iso2: str) -> None:
    best = top(kb, name)
    assert (best.qid, best.type) == (country_qid(iso2), "Country")


@pytest.mark.parametrize(("variant", "canonical"), [("Zelenskiy", "Zelensky"), ("Zelenskyy", "Zelensky"), ("Lugansk", "Luhansk")])
def test_kb_lookup_transliteration_variants_agree(kb: KnowledgeBase, variant: str, canonical: str) -> None:
    assert top(kb, variant).qid == top(kb, canonical).qid


def test_kb_lookup_verified_entities(kb: KnowledgeBase) -> None:
    verified = {r["label"]: r for r in source_rows(SOURCE_FILES["verified"], "\t")}
    for label, row in verified.items():
        best = top(kb, label)
        assert (best.qid, best.type) == (row["qid"], row["type"])


def test_kb_lookup_falls_back_to_lower_scores(kb: KnowledgeBase) -> None:
    exact = top(kb, "Mariupol")
    translit = top(kb, "Mariupoll")  # doubled letters collapse in the transliteration key
    fuzzy = top(kb, "Marupol")  # one edit away
    assert exact.qid == translit.qid == fuzzy.qid
    assert exact.score > translit.score > fuzzy.score
    assert kb.lookup("Xqzvbn") == []
    assert all(c.type != "Country" for c in kb.lookup("EU"))  # short keys are not transliterated


def test_kb_lookup_is_sorted_and_deterministic(kb: KnowledgeBase) -> None:
    candidates = kb.lookup("Odessa", limit=5)
    assert candidates == kb.lookup("Odessa", limit=5)
    assert candidates == sorted(candidates, key=lambda c: (-c.score, c.qid))
    assert len(kb.lookup("Odessa", limit=1)) == 1


# --------------------------------------------------------------------------- demonyms, records, containment


@pytest.mark.parametrize(("word", "iso2"), [("Ukrainian", "UA"), ("Ukrainians", "UA"), ("Russian", "RU"), ("American", "US")])
def test_kb_demonym_maps_to_the_country(kb: KnowledgeBase, word: str, iso2: str) -> None:
    found = kb.demonym(word)
    assert found is not None and (found.qid, found.type) == (country_qid(iso2), "Country")


def test_kb_demonym_unknown_word(kb: KnowledgeBase) -> None:
    assert kb.demonym("Brussels") is None


def test_kb_get_record(kb: KnowledgeBase) -> None:
    kyiv = kb.get(top(kb, "Kyiv").qid)
    assert kyiv is not None and "Kiev" in kyiv.aliases
    assert kyiv.country == kyiv.capital_of == country_qid("UA")
    unused = "Q" + str(1 + max(int(q[1:]) for (q,) in kb._db.execute("SELECT qid FROM entities")))
    assert kb.get(unused) is None


def test_kb_contains(kb: KnowledgeBase) -> None:
    mariupol = top(kb, "Mariupol").qid
    assert kb.contains(country_qid("UA"), mariupol)
    assert kb.contains(state_qid("Donetska", "UA"), mariupol)
    assert not kb.contains(country_qid("RU"), mariupol)
    assert kb.contains(state_qid("Belgorod", "RU"), top(kb, "Belgorod").qid)


# --------------------------------------------------------------------------- gazetteer


def test_kb_gazetteer_names_for_the_entity_ruler(kb: KnowledgeBase) -> None:
    entries = list(kb.gazetteer())
    names = {name: (kind, qid) for name, kind, qid in entries}
    assert len(names) == len(entries) < 15_000
    assert names["Donetsk Oblast"] == ("AdministrativeArea", state_qid("Donetska", "UA"))
    assert names["Belgorod region"] == ("AdministrativeArea", state_qid("Belgorod", "RU"))
    assert names["Belgorod"] == ("Settlement", place_qid("Belgorod", "RU"))
    assert names["Ukraine"] == ("Country", country_qid("UA"))
    assert names["UK"][0] == names["US"][0] == "Country"
    for word in ("Reading", "Nice", "Mobile", "Split", "Police", "Man", "Of", "Central", "RU"):
        assert word not in names
    assert all(name[0].isupper() or name[0].isdigit() for name in names)


def test_kb_gazetteer_filters_by_type(kb: KnowledgeBase) -> None:
    kinds = {kind for _, kind, _ in kb.gazetteer(types=["Location"])}
    assert kinds <= {"Location", "Country", "AdministrativeArea", "Settlement"} and "Country" in kinds


# --------------------------------------------------------------------------- name keys


def test_kb_normalize_and_translit_keys() -> None:
    assert normalize("The  U.S.") == normalize("US")
    assert normalize("Kyiv’s") == normalize("Kyiv's")
    assert translit_key("Kharkiv") == translit_key("Harkiv")
    assert translit_key("Yevpatoria") == translit_key("Evpatoriya")
    assert translit_key("Kyiv") != translit_key("Kiev")  # only the data links these two


def test_kb_ancestors_nearest_first(kb: KnowledgeBase) -> None:
    mariupol = top(kb, "Mariupol").qid
    assert kb.ancestors(mariupol)[:2] == (state_qid("Donetska", "UA"), country_qid("UA"))
    assert kb.ancestors(country_qid("UA")) == ()
    assert kb.ancestors("Q900000001") == ()


def test_kb_gazetteer_is_bounded_by_prior(kb: KnowledgeBase) -> None:
    full = list(kb.gazetteer())
    few = list(kb.gazetteer(limit=50))
    assert len(few) == 50 and set(few) <= set(full) and few == sorted(few)
    priors = {qid: kb.get(qid).prior for _, _, qid in full}
    assert min(priors[q] for _, _, q in few) >= sorted((priors[q] for _, _, q in full), reverse=True)[49] - 1e-9
