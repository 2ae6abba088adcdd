"""Extraction rules on hand-made sentences: general patterns, names the rules have never seen."""

from __future__ import annotations


def _entities(res):
    return {e.name: e for e in res.entities}


def _relations(res):
    ex = res.extraction
    name = {e.key: e.name for e in res.entities}
    return {
        (name[res.mention_entity[r.subject]], r.property, name[res.mention_entity[r.object]])
        for r in ex.relations
        if r.claim is None
    }


def test_extraction_title_before_name_gives_position_not_citizenship(extract):
    res = extract("Moldovan President Ilona Vardanyan met farmers on Monday.")
    rels = _relations(res)
    assert ("Ilona Vardanyan", "positionHeld", "President of Moldova") in rels
    assert ("President of Moldova", "jurisdiction", "Moldova") in rels
    assert not any(p == "citizenship" for _, p, _ in rels)  # the adjective names the office's country
    assert _entities(res)["President of Moldova"].type == "Position"


def test_extraction_citizenship_where_the_text_states_it(extract):
    cases = {
        "Pavel Ostrik, a Latvian citizen, was detained in Tallinn.": {("Pavel Ostrik", "Latvia")},
        "Pavel Ostrik is a U.S. citizen.": {("Pavel Ostrik", "United States of America")},
        "Latvian national Pavel Ostrik was detained on Friday.": {("Pavel Ostrik", "Latvia")},
        "Pavel Ostrik, who holds dual Latvian-Israeli citizenship, left Riga.": {("Pavel Ostrik", "Latvia"),
                                                                                ("Pavel Ostrik", "Israel")},
        "Pavel Ostrik, a citizen of Moldova, was arrested.": {("Pavel Ostrik", "Moldova")},
        "Pavel Ostrik renounced his Latvian citizenship.": set(),
        "Pavel Ostrik is not a Latvian citizen.": set(),
    }
    for text, want in cases.items():
        rels = _relations(extract(text))
        assert {(s, o) for s, p, o in rels if p == "citizenship"} == want, text


def test_extraction_apposition_title_after_name(extract):
    res = extract("Tomas Reinholt, commander of Estonia's ground forces, said the drills went well.")
    ents = _entities(res)
    assert ents["Tomas Reinholt"].type == "Person"
    positions = [e.name for e in res.entities if e.type == "Position"]
    assert any(p.lower().startswith("commander of estonia") for p in positions), positions


def test_extraction_title_before_apposed_name(extract):
    res = extract("The mayor of the town, Petra Kolarova, said the bridge would reopen.")
    rels = _relations(res)
    assert any(s == "Petra Kolarova" and p == "positionHeld" for s, p, _ in rels), rels


def test_extraction_unit_head_noun_and_acronym(extract):
    res = extract("The Baltic Volunteer Brigade (BVB) crossed the river. The BVB said it would stay.")
    ents = _entities(res)
    unit = ents["Baltic Volunteer Brigade"]
    assert unit.type == "MilitaryUnit"
    assert "BVB" in unit.aliases


def test_extraction_surname_resolves_to_full_name(extract):
    res = extract("Marek Dvorsky arrived in Prague. Later, Dvorsky spoke to reporters.")
    people = [e for e in res.entities if e.type == "Person"]
    assert len(people) == 1 and people[0].name == "Marek Dvorsky"
    assert "Dvorsky" in people[0].aliases


def test_resolution_romanizations_of_one_name_are_one_entity(extract):
    # a name the knowledge base does not hold, spelled two ways, as news agencies romanize Ukrainian
    res = extract("Mykhailo Dorofeyev visited Kharkiv. Dorofeiev said the Harkiv front held.")
    people = [e for e in res.entities if e.type == "Person"]
    assert len(people) == 1 and people[0].name == "Mykhailo Dorofeyev"
    assert "Dorofeiev" in people[0].aliases
    assert len([e for e in res.entities if e.type != "Person" and "arkiv" in e.name]) == 1


def test_extraction_city_of_gives_settlement_and_country(extract):
    res = extract("Fighting continued near the eastern Ukrainian town of Zorivka on Tuesday.")
    ents = _entities(res)
    assert ents["Zorivka"].type == "Settlement"
    assert ("Zorivka", "country", "Ukraine") in _relations(res)


def test_extraction_footer_and_headline_noise_dropped(extract):
    text = (
        "Talks Stall As Envoys Leave Vienna Early\n\n"
        "Negotiators from Austria and Hungary met in Vienna on Monday.\n\n"
        "Check Also\n\nHow Big Powers Learn to Compete Strategically\n"
    )
    names = {e.name for e in _entities(extract(text)).values()}
    assert "Compete Strategically" not in names
    assert not any("Talks Stall" in n for n in names)


def test_extraction_claim_with_stance_and_channel(extract):
    res = extract("The Defense Ministry of Ruritania denied the report on Telegram. Petra Novak said on Telegram that talks were over.")
    claims = res.extraction.claims
    assert {c.stance for c in claims} == {"asserts", "denies"}
    assert any(c.channel == "Telegram" for c in claims)


def test_extraction_event_with_participants_place_and_date(extract):
    res = extract("Jan Horak visited troops in the eastern Donetsk region on May 3.", date="2024-05-06")
    ev = [e for e in res.extraction.events if e.type == "Visit"]
    assert ev, res.extraction.events
    mentions = res.extraction.mentions
    assert {mentions[i].name for i in ev[0].participants} == {"Jan Horak"}
    assert ev[0].date == "2024-05-03"
    assert {res.mention_entity[i] for i in ev[0].places}


def test_resolution_surname_in_another_document_joins_full_name(pipeline, tmp_path):
    from kg.query import run_query
    from kg.store import Store

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("Taras Hrytsenko, commander of the Moldovan navy, visited Odesa on Monday.")
    (tmp_path / "in" / "b.txt").write_text("Hrytsenko said the ships would stay in port.")
    with Store.open(tmp_path / "store") as st:
        pipeline.build([tmp_path / "in"], st)
        rows = run_query("SELECT DISTINCT ?e ?l WHERE { ?e a kg:Person ; rdfs:label ?l }", st).rows
        alts = run_query("SELECT DISTINCT ?a WHERE { ?e a kg:Person ; skos:altLabel ?a }", st).rows
    assert [r[1].value for r in rows] == ["Taras Hrytsenko"]
    assert "Hrytsenko" in {r[0].value for r in alts}


def test_resolution_definite_description_refers_back(extract):
    res = extract(
        "The governor of the Zorivka region, Petro Lysenko, met farmers on Monday. "
        "The governor said the harvest would be late. Fighting near the town of Lutsivka stopped, and the town was calm."
    )
    ex = res.extraction
    claims = [c for c in ex.claims if c.cue == "said"]
    assert claims and ex.mentions[claims[0].claimant].name == "Petro Lysenko"
    lutsivka = next(e for e in res.entities if e.name == "Lutsivka")
    assert any(ex.mentions[i].text == "the town" for i in lutsivka.mentions)
    assert "the town" not in lutsivka.aliases


def test_extraction_bylines_are_not_entities(extract):
    text = "By Olena Marchuk\n\nShelling hit Kharkiv on Monday, officials said.\n\n(Reporting by Olena Marchuk; Editing by Peter Graff)\n"
    names = {e.name for e in extract(text).entities}
    assert "Olena Marchuk" not in names and "Peter Graff" not in names
    assert "Kharkiv" in names


def test_extraction_relative_dates_resolve_against_the_document_date(extract):
    res = extract("Marek Dvorsky visited Lviv on Monday.", date="2024-03-14")
    visit = next(e for e in res.extraction.events if e.type == "Visit")
    assert visit.date == "2024-03-11"


def test_extraction_names_listed_with_known_places_are_places(extract):
    # the model alone tends to read little-known towns as organizations
    res = extract("Troops moved along the road between Kramatorsk and Zelenopillia, and Drobyshevo and Kharkiv were shelled.")
    ents = _entities(res)
    assert ents["Zelenopillia"].type == "Settlement"
    assert ents["Drobyshevo"].type == "Settlement"


def test_extraction_places_listed_after_a_class_noun_are_contained(extract):
    res = extract("Officials ordered the evacuation of 12 settlements in the Kharkiv region, including Zelenopillia and Borova.")
    rels = _relations(res)
    kharkiv = next(e.name for e in res.entities if e.type == "AdministrativeArea")
    assert ("Zelenopillia", "locatedIn", kharkiv) in rels and ("Borova", "locatedIn", kharkiv) in rels
    res = extract("Lyman is the northern end of a chain of three Ukrainian towns – with Siversk and Soledar – that the army holds.")
    rels = _relations(res)
    assert {("Lyman", "country", "Ukraine"), ("Siversk", "country", "Ukraine"), ("Soledar", "country", "Ukraine")} <= rels
    res = extract("Russian forces captured the Ukrainian villages of Orlivka over the weekend and Tonenke on Monday.")
    rels = _relations(res)
    assert {("Orlivka", "country", "Ukraine"), ("Tonenke", "country", "Ukraine")} <= rels


def test_extraction_coordinated_titles_pair_in_order(extract):
    res = extract("The plan was put forward by the presidents of Moldova and Georgia, Maia Sandu and Salome Zourabichvili.")
    rels = _relations(res)
    assert ("Maia Sandu", "positionHeld", "President of Moldova") in rels
    assert ("Salome Zourabichvili", "positionHeld", "President of Georgia") in rels
    assert ("Salome Zourabichvili", "positionHeld", "President of Moldova") not in rels


def test_extraction_title_naming_its_body(extract):
    res = extract("Neither Chief of the General Staff Marek Dvorsky nor his deputy attended the parade.")
    rels = _relations(res)
    assert any(s == "Marek Dvorsky" and p == "positionHeld" and o.startswith("Chief of") for s, p, o in rels), rels


def test_extraction_counted_things_and_spelled_out_acronyms_are_not_entities(extract):
    res = extract("The army received 16 HIMARS from allies. Some open-source intelligence (OSINT) accounts said a HIMARS strike "
                  "hit the depot, and the UAV [unmanned aerial vehicle] debris fell near Kharkiv.")
    names = {e.name for e in res.entities}
    assert not names & {"HIMARS", "OSINT", "UAV"}, names


def test_extraction_definite_event_refers_back(extract):
    res = extract("Marek Dvorsky led a rebellion against the government in May. Dvorsky's rebellion ended after a day. "
                  "The mutiny by the Baltic Volunteer Brigade was short.")
    name = {e.key: e.name for e in res.entities}
    risings = [ev for ev in res.extraction.events if ev.trigger.lower() in {"rebellion", "mutiny"}]
    assert len(risings) == 1
    parts = {name[res.mention_entity[p]] for p in risings[0].participants}
    assert {"Marek Dvorsky", "Baltic Volunteer Brigade"} <= parts, parts


def test_extraction_agency_dateline_and_body_names(extract):
    res = extract("WARSAW, March 3. /PAP/. The Ministry of Defence of the Republic of Poland said that Army Aviation of "
                  "the Land Forces flew. Neither Chief of the General Staff Marek Dvorsky nor his deputy came.")
    ents = _entities(res)
    assert ents["PAP"].type == "Organization"
    assert "Defence of the Republic of Poland" not in ents
    assert ents["Land Forces"].type == "MilitaryUnit"
    assert "Chief of the General Staff" not in ents and ents["General Staff"].type == "Organization"


def test_extraction_armies_of_two_nations_stay_apart(extract):
    res = extract("The Nigerian Army repelled an ambush. Later the Guatemalan Army held a parade, and the army said it was proud.")
    units = sorted(e.name for e in res.entities if e.type == "MilitaryUnit")
    assert units == ["Guatemalan Army", "Nigerian Army"], units


def test_extraction_locative_cues_need_a_place_head(extract):
    res = extract("The ministry blames the Islamic State. A stabbing near Gallaudet University was reported, and there were "
                  "cuts in USAID grants. Fighting in Niger State continued.")
    ents = _entities(res)
    assert not [e for e in res.entities if e.name.startswith("Islamic") and e.type in {"AdministrativeArea", "Location"}]
    assert ents["Gallaudet University"].type == "Organization"
    assert "USAID" not in ents or ents["USAID"].type == "Organization"
    assert ents["Niger State"].type == "AdministrativeArea"


def test_extraction_offices_named_after_the_country_label(extract):
    one = extract("U.S. Secretary of State Marco Rubio met reporters.")
    two = extract("United States Secretary of State Marco Rubio met reporters.")
    label = lambda res: next(e.name for e in res.entities if e.type == "Position")
    assert label(one) == label(two) and label(one).startswith("Secretary of State of ")


def test_extraction_regional_capital_is_in_its_region(extract):
    res = extract("Troops left the Kharkiv region in May. They retreated from Kharkiv city, the regional capital, last year.")
    ents = _entities(res)
    city = next(e for e in res.entities if e.type == "Settlement")
    region = next(e for e in res.entities if e.type == "AdministrativeArea")
    assert city is not region and (city.name, "locatedIn", region.name) in _relations(res)


def test_extraction_wire_story_patterns(extract):
    res = extract("Governor Oleh Syniehubov of the Kharkiv region said two people were hurt. Oleksandr Syrskyi, Ukraine's top "
                  "commander, said the situation near Chasiv Yar was difficult. The 47th Mechanized Brigade, part of "
                  "Ukraine's ground forces, held its lines. The Prime Minister of Peru Gustavo Adrianzen resigned.")
    ents, rels = _entities(res), _relations(res)
    assert ents["Oleksandr Syrskyi"].type == "Person" and ents["Chasiv Yar"].type == "Settlement"
    assert any(s == "Oleh Syniehubov" and p == "positionHeld" and "Kharkiv" in o for s, p, o in rels), rels
    assert ("47th Mechanized Brigade", "partOf", "Ukraine's ground forces") in rels
    assert ents["Gustavo Adrianzen"].type == "Person" and "Peru Gustavo Adrianzen" not in ents


def test_reading_markdown_front_matter_dates_the_events(tmp_path, pipeline):
    from kg.reading import iter_documents

    (tmp_path / "a.md").write_text("---\ntitle: Talks\ndate: 2023-05-22\n---\nMaia Sandu visited Kyiv on Monday.\n")
    doc = next(iter_documents([tmp_path]))
    assert (doc.date, doc.title, doc.text) == ("2023-05-22", "Talks", "Maia Sandu visited Kyiv on Monday.\n")
    res = next(pipeline.resolutions([doc]))
    assert [e.date for e in res.extraction.events if e.type == "Visit"] == ["2023-05-22"]


def test_extraction_membership_and_headquarters(extract):
    res = extract("Finland and Sweden joined NATO, the Brussels-based alliance. Hungary, a member of the European Union, "
                  "blocked the aid. Ukraine wants to join NATO, and Georgia will join the bloc. The Wagner Group, "
                  "headquartered in St Petersburg, denied it. The U.S. Army's 101st Airborne Division will deploy.")
    rels = _relations(res)
    assert {("Finland", "memberOf", "NATO"), ("Sweden", "memberOf", "NATO"), ("NATO", "headquarters", "Brussels"),
            ("Hungary", "memberOf", "European Union"), ("Wagner Group", "headquarters", "St Petersburg"),
            ("101st Airborne Division", "partOf", "U.S. Army")} <= rels, rels
    assert ("Ukraine", "memberOf", "NATO") not in rels and not any(s == "Georgia" and p == "memberOf" for s, p, _ in rels)


def test_extraction_a_chief_of_a_branch_is_not_the_leader(extract):
    rels = _relations(extract("Kaja Kallas, the EU's foreign policy chief, said Europe must act."))
    assert any(s == "Kaja Kallas" and p == "positionHeld" for s, p, _ in rels), rels
    assert not any(p == "leader" for _, p, _ in rels), rels


def test_extraction_conjoined_attack_nouns_keep_their_attacker(extract):
    res = extract("Russian forces launched a massive missile and drone attack on Moldova's power grid overnight.")
    name = {e.key: e.name for e in res.entities}
    attacks = [ev for ev in res.extraction.events if ev.type == "Attack"]
    assert attacks and "Russia" in {name[res.mention_entity[p]] for p in attacks[0].participants}
    assert "Moldova" in {name[res.mention_entity[p]] for p in attacks[0].places}


def test_extraction_a_copula_class_noun_types_its_list(extract):
    res = extract("Zorivka, Dubrava and Lisnivka are the three districts that the army holds.")
    ents = _entities(res)
    assert {ents[n].type for n in ("Zorivka", "Dubrava", "Lisnivka")} == {"AdministrativeArea"}
    assert not [r for r in res.extraction.relations if res.mention_entity[r.subject] == res.mention_entity[r.object]]


def test_extraction_such_as_lists_are_contained(extract):
    rels = _relations(extract("Shelling hit several Ukrainian villages, such as Zorivka and Lisnivka, on Monday."))
    assert {("Zorivka", "country", "Ukraine"), ("Lisnivka", "country", "Ukraine")} <= rels, rels


def test_resolution_an_office_holder_is_a_person(extract):
    res = extract("Maia Sandu met farmers on Monday. The plan was put forward by the presidents of Moldova and Georgia, "
                  "Maia Sandu and Salome Zourabichvili.")
    assert _entities(res)["Maia Sandu"].type == "Person"
    assert ("Maia Sandu", "positionHeld", "President of Moldova") in _relations(res)
