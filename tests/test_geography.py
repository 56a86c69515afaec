"""Counties and FBI ORIs of agencies (issue 11): each matching rule and its traps, on one small list.

The test writes one participating list, a Census county and state list and an FBI roster of its
own (registered as the references census_counties, census_states and fbi_employees in a private
reference mirror), reviewed fixes of its own (seeds/fix_agency_geography.csv; no
fix_agency_names), and builds the
geography models and everything upstream once with `dbt build`, which also runs their data tests
(keys, real counties, no ORI given twice, none outside its state).
"""

import datetime as dt
import shutil

import duckdb
import pytest
from conftest import PARTICIPATING_HEADER, REPO, reference_rows, register_in_mirror

from ice287g.pipeline.build import resolve_all
from ice287g.raw.rawload import load_raw
from ice287g.raw.reference_tables import load_references
from ice287g.settings import Settings
from ice287g.sources.references import save_registry
from ice287g.sources.registry import Registry
from ice287g.transform.dbt import run_dbt

# (state as ICE publishes it, agency, type, county column)
LISTED = [
    ("FLORIDA", "Walton County Sheriff's Office", "County", "Walton County"),
    ("GEORGIA", "Walton County Sheriff's Office", "County", "Walton County"),
    ("FLORIDA", "St. Johns County Sheriff's Office", "County", "Saint Johns County"),
    ("FLORIDA", "Hillsborough County Sheriff's Office", "County", "Hillsbrough County"),
    ("FLORIDA", "Lakeview Police Department", "Municipality", None),
    ("FLORIDA", "Springfield Police Department", "Municipality", "Walton County"),
    ("FLORIDA", "Twin Lakes Police Department", "Municipality", "Lake County"),
    ("FLORIDA", "Twin Oaks Police Department", "Municipality", "#NA"),
    ("FLORIDA", "Sunny Isles Police Department", "Municipality", None),
    ("FLORIDA", "Florida Department of Corrections", "State Agency", "#NA"),
    ("GEORGIA", "De Kalb County Sheriff's Office", "County", "De Kalb County"),
    ("GEORGIA", "DeKalb County Police Department", "County", "DeKalb County"),
    ("VIRGINIA", "Hopewell Sheriff's Office", "County", "Hopewell City"),
    ("VIRGINIA", "Hopewell Police Department", "Municipality", None),
    ("VIRGINIA", "Richmond County Sheriff's Office", "County", "Richmond County"),
    ("VIRGINIA", "Richmond City Sheriff's Office", "County", "Richmond City"),
    ("VIRGINIA", "Richmond Police Department", "Municipality", None),
    ("MARYLAND", "Baltimore County Sheriff's Office", "County", "Baltimore County"),
    ("MARYLAND", "Baltimore County Police Department", "County", "Baltimore County"),
    ("MARYLAND", "Baltimore Police Department", "Municipality", "Baltimore City"),
    ("ALASKA", "Palmer Police Department", "Municipality", None),
    ("ALASKA", "Juneau Police Department", "Municipality", None),
    ("ALASKA", "Kodiak Police Department", "Municipality", "Kodiak Island Borough"),
    ("LOUISIANA", "Lafourche Parish Sheriff's Office", "County", "Lafourche Parish"),
    ("LOUISIANA", "Opelousas Police Department", "Municipality", "Saint Landry County"),
    ("LOUISIANA", "St. Bernard Parish Sheriff's Office", "County", "Chalmette Parish"),
    ("TEXAS", "Harris County Sheriff's Office", "County", "Harris County"),
    ("TEXAS", "Harris County Constable Precinct 1", "County", "Harris County"),
    ("TEXAS", "Texas Department of Public Safety", "State Agency", "#NA"),
    ("ARKANSAS", "Texarkana Police Department", "Municipality", "Bowie County"),
    ("ARKANSAS", "Harrison Police Department", "Municipality", "Bowie County"),
    ("PENNSYLVANIA", "Manheim Police Department", "Municipality", "Lancaster County"),
    ("PENNSYLVANIA", "Manheim Borough Police Department", "Municipality", "Lancaster County"),
    ("PENNSYLVANIA", "Manheim Township Police Department", "Municipality", "Lancaster County"),
]

STATES = [
    ("Alaska", "AK", "02"),
    ("Arkansas", "AR", "05"),
    ("Florida", "FL", "12"),
    ("Georgia", "GA", "13"),
    ("Louisiana", "LA", "22"),
    ("Maryland", "MD", "24"),
    ("New Hampshire", "NH", "33"),
    ("Pennsylvania", "PA", "42"),
    ("Texas", "TX", "48"),
    ("Virginia", "VA", "51"),
]

COUNTIES = [
    ("02", "110", "Juneau City and Borough"),
    ("02", "150", "Kodiak Island Borough"),
    ("02", "170", "Matanuska-Susitna Borough"),
    ("05", "009", "Boone County"),
    ("05", "091", "Miller County"),
    ("12", "057", "Hillsborough County"),
    ("12", "069", "Lake County"),
    ("12", "086", "Miami-Dade County"),
    ("12", "109", "St. Johns County"),
    ("12", "131", "Walton County"),
    ("13", "089", "DeKalb County"),
    ("13", "297", "Walton County"),
    ("22", "057", "Lafourche Parish"),
    ("22", "087", "St. Bernard Parish"),
    ("22", "097", "St. Landry Parish"),
    ("24", "005", "Baltimore County"),
    ("24", "510", "Baltimore city"),
    ("33", "011", "Hillsborough County"),
    ("42", "071", "Lancaster County"),
    ("48", "037", "Bowie County"),
    ("48", "201", "Harris County"),
    ("51", "159", "Richmond County"),
    ("51", "670", "Hopewell city"),
    ("51", "760", "Richmond city"),
]

# (ori, FBI name, state, counties, type, population)
ROSTER = [
    ("FL0660000", "Walton", "FL", "WALTON", "County", "80000"),
    ("FL0550000", "St. Johns", "FL", "ST JOHNS", "County", "300000"),
    ("FL0290000", "Hillsborough", "FL", "HILLSBOROUGH", "County", "1000000"),
    ("FL0660100", "Lakeview, Walton County", "FL", "WALTON", "City", "900"),
    ("FL0350100", "Lakeview, Lake County", "FL", "LAKE", "City", "800"),
    ("FL0660200", "Springfield, Walton County", "FL", "WALTON", "City", "700"),
    ("FL0350200", "Springfield, Lake County", "FL", "LAKE", "City", "600"),
    ("FL0350300", "Twin Lakes", "FL", "LAKE, WALTON", "City", "500"),
    ("FL0350400", "Twin Oaks", "FL", "LAKE, WALTON", "City", "400"),
    ("FL0135100", "Sunny Isles Beach", "FL", "MIAMI-DADE", "City", "23000"),
    (
        "FL0372900",
        "Department of Corrections, Office of the Inspector General:",
        "FL",
        "LEON",
        "Other State Agency",
        "0",
    ),
    ("NH0060000", "Hillsborough", "NH", "HILLSBOROUGH", "County", "420000"),
    ("GA0440000", "DeKalb", "GA", "DEKALB", "County", "760000"),
    ("GA0440200", "DeKalb County Police Department", "GA", "DEKALB", "County", "520000"),
    ("GA1470000", "Walton", "GA", "WALTON", "County", "100000"),
    ("VA1130000", "Hopewell", "VA", "HOPEWELL CITY", "City", "23000"),
    ("VA0790000", "Richmond", "VA", "RICHMOND", "County", "7600"),
    ("VA1220000", "Richmond", "VA", "RICHMOND CITY", "City", "236000"),
    ("VA1220100", "Richmond City Sheriff's Office", "VA", "RICHMOND CITY", "City", "0"),
    ("MD0030000", "Baltimore County", "MD", "BALTIMORE", "County", "0"),
    ("MD0030100", "Baltimore County Police Department", "MD", "BALTIMORE", "County", "850000"),
    ("MDBPD0000", "Baltimore", "MD", "BALTIMORE CITY", "City", "570000"),
    ("AK0011700", "Palmer", "AK", "MATANUSKA-SUSITNA", "City", "6000"),
    ("AK0010300", "Juneau", "AK", "JUNEAU", "City", "31000"),
    ("LA0290000", "Lafourche", "LA", "LAFOURCHE", "County", "97000"),
    ("LA0440000", "St. Bernard", "LA", "ST BERNARD", "County", "44000"),
    ("TX1010000", "Harris", "TX", "HARRIS", "County", "2178104"),
    ("TX1013100", "Harris County Constable:", "TX", "HARRIS", "Other", "0"),
    ("TX1014700", "Harris County Constable:", "TX", "HARRIS", "Other", "0"),
    ("TXDPS0000", "Department of Public Safety", "TX", "NOT SPECIFIED", "State Police", "0"),
    ("AR0050100", "Harrison", "AR", "BOONE", "City", "13000"),
    ("PA0360700", "Manheim", "PA", "LANCASTER", "City", "5000"),
    ("PA0360800", "Manheim Township", "PA", "LANCASTER", "City", "42000"),
    ("NB0010000", "Adams", "NB", "ADAMS", "County", "NULL"),
    ("DC001017Y", "Department of Veterans Affairs,", "FS", "NOT SPECIFIED", "Federal", "0"),
]

# keyed on a spelling ICE published, here another one than the list's ("Dept."), and one no list has
FIXES = [
    ("FL", "Sunny Isles Police Dept.", "FL0135100", "", "test: the City of Sunny Isles Beach"),
    ("AR", "Texarkana Police Department", "", "05091", "test: Texarkana, Arkansas lies in Miller County"),
    ("TX", "Nowhere Police Department", "", "48037", "test: a spelling no list carries"),
]


def csv_text(header: list[str], rows: list[tuple]) -> str:
    def cell(value: str) -> str:
        return f'"{value}"' if "," in value else value

    return "\n".join([",".join(header), *(",".join(cell(v) for v in row) for row in rows)]) + "\n"


def write_references(root, mirror) -> None:
    """The three CSV references, written to ``mirror`` and registered in ``root``'s registry."""
    mirror.mkdir(parents=True)
    fbi_header = [
        "ori",
        "data_year",
        "pub_agency_name",
        "state_abbr",
        "county_name",
        "agency_type_name",
        "population",
        "officer_ct",
        "civilian_ct",
        "total_pe_ct",
        "pe_ct_per_1000",
    ]
    files = {
        "census-states.csv": csv_text(["name", "postal", "fips"], STATES),
        "census-counties-2020.csv": csv_text(["statefp", "countyfp", "name"], COUNTIES),
        "fbi-law-enforcement-employees-2025.csv": csv_text(
            fbi_header,
            [
                (ori, "2024", name, state, county, kind, population, "10", "5", "15", "NULL")
                for ori, name, state, county, kind, population in ROSTER
            ],
        ),
    }
    references = reference_rows(mirror, files)
    save_registry(root / "sources" / "references.csv", references)


@pytest.fixture(scope="module")
def geo(tmp_path_factory):
    """A query function over the geography models built from the small list and references."""
    tmp = tmp_path_factory.mktemp("geography")
    root = tmp / "project"
    root.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(REPO / name, root / name)
    for folder in ("models", "macros", "seeds", "tests/dbt"):
        shutil.copytree(REPO / folder, root / folder)
    (root / "sources").mkdir()
    shutil.copy(REPO / "sources" / "layouts.csv", root / "sources" / "layouts.csv")
    (root / "seeds" / "fix_agency_geography.csv").write_text(
        csv_text(["state_code", "published_name", "ori", "county_fips", "reason"], FIXES)
    )
    # the real reviewed spellings name counties the small Census list lacks
    (root / "seeds" / "fix_agency_names.csv").write_text("state_code,published_name,agency_name,reason\n")
    write_references(root, tmp / "reference")
    (tmp / "mirror").mkdir()
    settings = Settings(
        root=root,
        registry=root / "sources" / "snapshots.csv",
        store=tmp / "store",
        mirror=tmp / "mirror",
        build_dir=tmp / "build",
        offline=True,
        reference_mirror=tmp / "reference",
    )
    rows = [PARTICIPATING_HEADER]
    for state, agency, kind, county in LISTED:
        rows.append([state, agency, kind, county, "Task Force Model", dt.date(2026, 2, 2), None, None])
    register_in_mirror(settings, "participatingAgencies03012026am.xlsx", rows)

    registry = Registry.load(settings.registry)
    paths = resolve_all(settings, registry)
    settings.build_dir.mkdir()
    database = settings.build_dir / "geography.duckdb"
    with duckdb.connect(str(database)) as con:
        load_raw(con, registry, lambda entry: paths[entry.file_sha256], root / "sources" / "layouts.csv")
        load_references(con, settings)
    # every model, seed and data test these models need (the dbt tests run too)
    run_dbt(
        root,
        database,
        settings.build_dir,
        [
            "build",
            "--select",
            "+int_agency_geography +review_agency_geography +int_fix_usage",
            "--indirect-selection",
            "cautious",
        ],
    )
    con = duckdb.connect(str(database), read_only=True)
    yield lambda sql, params=None: con.execute(sql, params or []).fetchall()
    con.close()


def agency(geo, state: str, name: str) -> dict:
    """The geography row of the agency ICE lists as ``name`` in ``state`` (USPS code)."""
    rows = geo(
        """select g.agency_id, g.county_fips, g.county_match, g.ori, g.ori_match, g.geography_kind,
            g.state_fips, g.population_served
        from int_agency_geography g join int_agency_profiles p using (agency_id)
        where p.state_code = ? and p.agency_name = ?""",
        [state, name],
    )
    assert len(rows) == 1, (state, name, rows)
    keys = ["agency_id", "county_fips", "county_match", "ori", "ori_match", "kind", "state_fips", "population"]
    return dict(zip(keys, rows[0], strict=True))


def matched(geo, state: str, name: str) -> tuple:
    row = agency(geo, state, name)
    return row["county_fips"], row["county_match"], row["ori"], row["ori_match"]


def review(geo, state: str, name: str) -> set[tuple]:
    return set(
        geo(
            """select r.candidate_type, r.candidate, r.why from review_agency_geography r
            join int_agency_profiles p using (agency_id) where p.state_code = ? and p.agency_name = ?""",
            [state, name],
        )
    )


def test_the_fbi_roster_is_staged_typed_with_usps_codes(geo):
    assert geo("select count(*) from stg_fbi__employees") == [(len(ROSTER),)]
    assert geo("select state_code, state_abbr, population_served from stg_fbi__employees where ori = 'NB0010000'") == [
        ("NE", "NB", None)
    ]
    assert geo("select state_code from stg_fbi__employees where ori = 'DC001017Y'") == [(None,)]
    assert geo(
        "select county_names, sworn_officers, data_year, fbi_agency_type "
        "from stg_fbi__employees where ori = 'FL0350300'"
    ) == [("LAKE, WALTON", 10, 2024, "City")]


def test_every_listed_agency_has_one_row_with_its_kind(geo):
    assert geo("select count(*), count(distinct agency_id) from int_agency_geography") == [(len(LISTED), len(LISTED))]
    assert agency(geo, "FL", "Walton County Sheriff's Office")["kind"] == "county"
    assert agency(geo, "GA", "DeKalb County Police Department")["kind"] == "county"
    assert agency(geo, "FL", "Lakeview Police Department")["kind"] == "municipal"
    assert agency(geo, "TX", "Texas Department of Public Safety")["kind"] == "state"
    assert agency(geo, "FL", "Florida Department of Corrections")["kind"] == "state"
    assert agency(geo, "TX", "Harris County Constable Precinct 1")["kind"] == "other"
    assert agency(geo, "VA", "Hopewell Sheriff's Office")["state_fips"] == "51"


def test_the_same_county_name_in_two_states_stays_apart(geo):
    assert matched(geo, "FL", "Walton County Sheriff's Office") == ("12131", "ice_county", "FL0660000", "fbi_name")
    assert matched(geo, "GA", "Walton County Sheriff's Office") == ("13297", "ice_county", "GA1470000", "fbi_name")
    # a typo of Florida's Hillsborough is Florida's, never New Hampshire's county or sheriff
    assert matched(geo, "FL", "Hillsborough County Sheriff's Office") == (
        "12057",
        "ice_county",
        "FL0290000",
        "fbi_name",
    )


def test_saint_and_st_and_de_kalb_and_dekalb_are_one_name(geo):
    assert matched(geo, "FL", "St. Johns County Sheriff's Office") == ("12109", "ice_county", "FL0550000", "fbi_name")
    assert matched(geo, "GA", "De Kalb County Sheriff's Office") == ("13089", "ice_county", "GA0440000", "fbi_name")


def test_a_police_department_never_takes_a_sheriffs_ori_nor_the_other_way_round(geo):
    assert matched(geo, "GA", "DeKalb County Police Department") == ("13089", "ice_county", "GA0440200", "fbi_name")
    assert matched(geo, "MD", "Baltimore County Sheriff's Office")[2] == "MD0030000"
    assert matched(geo, "MD", "Baltimore County Police Department")[2] == "MD0030100"
    assert matched(geo, "VA", "Richmond City Sheriff's Office")[2] == "VA1220100"
    assert matched(geo, "VA", "Richmond Police Department")[2] == "VA1220000"
    assert matched(geo, "TX", "Harris County Sheriff's Office") == ("48201", "ice_county", "TX1010000", "fbi_name")


def test_virginias_independent_cities_are_counties_of_their_own(geo):
    # ICE's "Hopewell City" is the Census's "Hopewell city"; the FBI has no ORI for its sheriff
    assert matched(geo, "VA", "Hopewell Sheriff's Office") == ("51670", "ice_county", None, "none")
    assert matched(geo, "VA", "Hopewell Police Department") == ("51670", "fbi_roster", "VA1130000", "fbi_name")
    assert matched(geo, "VA", "Richmond County Sheriff's Office") == ("51159", "ice_county", "VA0790000", "fbi_name")
    assert matched(geo, "VA", "Richmond City Sheriff's Office")[:2] == ("51760", "ice_county")
    assert matched(geo, "VA", "Richmond Police Department")[:2] == ("51760", "fbi_roster")


def test_a_city_and_a_county_of_one_name_stay_apart(geo):
    assert matched(geo, "MD", "Baltimore County Sheriff's Office")[:2] == ("24005", "ice_county")
    assert matched(geo, "MD", "Baltimore County Police Department")[:2] == ("24005", "ice_county")
    # the FBI writes the city's county BALTIMORE CITY, the county's plain BALTIMORE
    assert matched(geo, "MD", "Baltimore Police Department") == ("24510", "fbi_roster", "MDBPD0000", "fbi_name")


def test_alaska_boroughs_are_counties(geo):
    assert matched(geo, "AK", "Palmer Police Department") == ("02170", "fbi_roster", "AK0011700", "fbi_name")
    assert matched(geo, "AK", "Juneau Police Department") == ("02110", "fbi_roster", "AK0010300", "fbi_name")
    assert matched(geo, "AK", "Kodiak Police Department") == ("02150", "ice_county", None, "none")


def test_louisiana_parishes_are_counties(geo):
    assert matched(geo, "LA", "Lafourche Parish Sheriff's Office") == ("22057", "ice_county", "LA0290000", "fbi_name")
    # ICE writes "County" for a parish
    assert matched(geo, "LA", "Opelousas Police Department") == ("22097", "ice_county", None, "none")
    # ICE's county is no parish at all: the one the sheriff's name carries
    assert matched(geo, "LA", "St. Bernard Parish Sheriff's Office") == (
        "22087",
        "agency_name",
        "LA0440000",
        "fbi_name",
    )


def test_two_candidate_oris_are_no_match_and_go_to_review(geo):
    assert matched(geo, "FL", "Lakeview Police Department") == (None, "none", None, "none")
    assert review(geo, "FL", "Lakeview Police Department") == {
        ("ori", "FL0660100", "several_oris"),
        ("ori", "FL0350100", "several_oris"),
    }
    # ICE's county tells two Springfields apart
    assert matched(geo, "FL", "Springfield Police Department") == ("12131", "fbi_roster", "FL0660200", "fbi_name")


def test_one_ori_found_for_two_agencies_is_neither_ones(geo):
    assert matched(geo, "PA", "Manheim Police Department")[2:] == (None, "none")
    assert matched(geo, "PA", "Manheim Borough Police Department")[2:] == (None, "none")
    assert review(geo, "PA", "Manheim Borough Police Department") == {("ori", "PA0360700", "ori_of_several_agencies")}
    # a township is never its borough's namesake
    assert matched(geo, "PA", "Manheim Township Police Department") == ("42071", "fbi_roster", "PA0360800", "fbi_name")


def test_an_ori_in_several_counties_takes_the_one_ice_names_else_none(geo):
    assert matched(geo, "FL", "Twin Lakes Police Department") == ("12069", "ice_county", "FL0350300", "fbi_name")
    assert matched(geo, "FL", "Twin Oaks Police Department") == (None, "none", "FL0350400", "fbi_name")
    assert review(geo, "FL", "Twin Oaks Police Department") == {
        ("county", "12069", "ori_in_several_counties"),
        ("county", "12131", "ori_in_several_counties"),
    }


def test_a_real_county_of_another_state_is_no_typo(geo):
    # Arkansas has a Boone County two letters from Bowie, but Bowie is Texas's: no county
    assert geo(
        "select county_fips from int_county_name_matches where state_code = 'AR' and county_text = 'Bowie County'"
    ) == [(None,)]
    # so Harrison's county comes from its ORI alone
    assert matched(geo, "AR", "Harrison Police Department") == ("05009", "fbi_roster", "AR0050100", "fbi_name")


def test_state_bodies_and_constables_match_only_their_own(geo):
    assert matched(geo, "TX", "Texas Department of Public Safety") == (None, "none", "TXDPS0000", "fbi_name")
    assert matched(geo, "FL", "Florida Department of Corrections") == (None, "none", None, "none")
    # the FBI's "Harris County Constable:" units are no precinct in particular
    assert matched(geo, "TX", "Harris County Constable Precinct 1") == ("48201", "ice_county", None, "none")


def test_reviewed_fixes_are_applied_and_used(geo):
    row = agency(geo, "FL", "Sunny Isles Police Department")
    assert (row["ori"], row["ori_match"], row["county_fips"], row["county_match"]) == (
        "FL0135100",
        "reviewed_fix",
        "12086",
        "fbi_roster",
    )
    assert row["population"] == 23000
    assert matched(geo, "AR", "Texarkana Police Department") == ("05091", "reviewed_fix", None, "none")
    assert geo(
        "select fixed_value, match_count from int_fix_usage where fix_table = 'fix_agency_geography' order by 1"
    ) == [
        ("AR: Texarkana Police Department", 1),
        ("FL: Sunny Isles Police Dept.", 1),
        ("TX: Nowhere Police Department", 0),
    ]
    # the fix of a spelling no list carries names no agency and gives no county
    assert geo("select agency_id from int_agency_geography_fixes where state_code = 'TX'") == [(None,)]
    assert geo("select agency_id from int_agency_counties where county_match = 'reviewed_fix'") == [
        ("ar-texarkana-police-department",)
    ]


def test_every_county_is_a_census_county_of_the_agencys_state(geo):
    assert geo(
        """select count(*) from int_agency_geography g
        left join stg_census__counties c using (county_fips)
        where g.county_fips is not null and (c.county_fips is null or left(g.county_fips, 2) <> g.state_fips)"""
    ) == [(0,)]
