"""The reference registry (sources/references.csv): checked rows, store resolution, raw tables, geography macros."""

import os
from pathlib import Path

import duckdb
import jinja2
import pytest
from conftest import REPO, reference_rows

from ice287g.errors import InputError
from ice287g.raw.reference_tables import load_references
from ice287g.settings import Settings
from ice287g.sources.references import (
    FIELDS,
    load_registry,
    references_from_manifest,
    resolve_references,
    save_registry,
    seed_registry,
    to_csv,
)
from ice287g.sources.store import Store, suffix_for
from ice287g.util.hashing import sha256_of

REFERENCE = Path(os.environ.get("ICE287G_REFERENCE_MIRROR", REPO.parent / "shared" / "reference"))
COMMITTED = REPO / "sources" / "references.csv"


@pytest.fixture(scope="module")
def reference_mirror() -> Path:
    """The real reference mirror; a test needing it is skipped without it, except on CI."""
    if not (REFERENCE / "MANIFEST.csv").exists():
        if os.environ.get("CI"):
            pytest.fail(f"the reference mirror is missing at {REFERENCE}")
        pytest.skip(f"the reference mirror is not at {REFERENCE}")
    return REFERENCE


def make_settings(root: Path, mirror: Path) -> Settings:
    return Settings(
        root=root,
        registry=root / "sources" / "snapshots.csv",
        store=root / "store",
        mirror=None,
        build_dir=root / "build",
        offline=True,
        reference_mirror=mirror,
    )


@pytest.fixture
def small(tmp_path):
    """A project root whose registry lists two small CSVs and a text file in a test mirror."""
    mirror = tmp_path / "reference"
    mirror.mkdir()
    files = {
        "places.csv": "code,name\n01,Alpha\n02,Beta\n03,Gamma\n",
        "kinds.csv": 'kind,note\nx,"one, two"\n',
        "NOTICE.txt": "a notice\n",
    }
    references = reference_rows(mirror, files)
    settings = make_settings(tmp_path, mirror)
    save_registry(settings.reference_registry, references)
    return settings, {r.name: r for r in references}


# --- the committed registry ---------------------------------------------------------------------


def test_the_committed_registry_matches_the_reference_manifest(reference_mirror):
    assert load_registry(COMMITTED) == references_from_manifest(reference_mirror / "MANIFEST.csv")


def test_the_committed_registry_is_sorted_and_formatted():
    references = load_registry(COMMITTED)
    assert COMMITTED.read_text(encoding="utf-8") == to_csv(references)
    assert {r.name for r in references} == {
        "census_counties",
        "census_states",
        "fbi_employees",
        "us_atlas_counties",
        "us_atlas_license",
    }
    assert {r.table for r in references} == {"raw_census_counties", "raw_census_states", "raw_fbi_employees", None}


def test_seeding_is_idempotent_and_refuses_other_bytes_under_a_known_name(tmp_path):
    manifest = tmp_path / "MANIFEST.csv"
    sha = "a" * 64
    manifest.write_text(
        "path,sha256,bytes,description,source,license\n"
        f'census-states.csv,{sha.upper()},10,"States, and more",PyPI addfips==0.4.2,public\n'
        f"other-file-2020.json,{'b' * 64},5,Other,https://example.org/o.json,ISC\n"
    )
    registry = tmp_path / "sources" / "references.csv"
    assert seed_registry(registry, manifest) == 2
    text = registry.read_text()
    assert seed_registry(registry, manifest) == 0
    assert registry.read_text() == text
    first, second = load_registry(registry)
    assert (first.name, first.file_sha256, first.url) == ("census_states", sha, "")
    assert first.description == "States, and more"
    assert (second.name, second.url) == ("other_file_2020", "https://example.org/o.json")

    manifest.write_text(manifest.read_text().replace(sha.upper(), "c" * 64))
    with pytest.raises(InputError, match=f"census_states is registered with sha256 {sha}"):
        seed_registry(registry, manifest)


GOOD_ROW = {
    "name": "census_states",
    "file_name": "census-states.csv",
    "file_sha256": "a" * 64,
    "bytes": "10",
    "url": "",
    "mirror_path": "census-states.csv",
    "license": "public",
    "description": "states",
}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"file_sha256": "abc"}, "not a sha256: 'abc'"),
        ({"file_sha256": "A" * 64}, "not a sha256"),
        ({"bytes": "ten"}, "bytes is not a whole number: 'ten'"),
        ({"bytes": "0"}, "size must be a positive number of bytes"),
        ({"name": "Census States"}, "is not a snake_case id"),
        ({"url": "ftp://example.org/x.csv"}, "url must be http(s)"),
        ({"mirror_path": "../secret.csv"}, "mirror_path must stay inside the mirror folder"),
        ({"file_name": "sub/census-states.csv"}, "file_name must be a bare file name"),
    ],
)
def test_a_malformed_registry_row_is_named(tmp_path, change, problem):
    path = tmp_path / "references.csv"
    row = {**GOOD_ROW, **change}
    path.write_text(",".join(FIELDS) + "\n" + ",".join(row[k] for k in FIELDS) + "\n")
    with pytest.raises(InputError) as err:
        load_registry(path)
    assert err.value.subject == f"{path}:2"
    assert problem in err.value.problem


@pytest.mark.parametrize(
    ("second", "problem"),
    [
        ({"file_sha256": "b" * 64}, "reference name 'census_states' is registered twice"),
        ({"name": "states_again"}, f"sha256 {'a' * 64} is registered twice"),
    ],
)
def test_a_duplicate_is_named(tmp_path, second, problem):
    path = tmp_path / "references.csv"
    rows = [GOOD_ROW, {**GOOD_ROW, **second}]
    path.write_text(",".join(FIELDS) + "\n" + "".join(",".join(r[k] for k in FIELDS) + "\n" for r in rows))
    with pytest.raises(InputError, match=problem) as err:
        load_registry(path)
    assert err.value.subject == str(path)


def test_a_registry_without_a_column_is_refused(tmp_path):
    path = tmp_path / "references.csv"
    path.write_text("name,file_name\nx,x.csv\n")
    with pytest.raises(InputError, match="lacks columns"):
        load_registry(path)


# --- resolution through the store ---------------------------------------------------------------


def test_store_suffixes_come_from_the_file_name_and_snapshots_keep_xlsx(tmp_path):
    store = Store(tmp_path)
    sha = "0" * 64
    assert store.path_for(sha).name == f"{sha}.xlsx"
    assert suffix_for("participatingAgencies03012025am.xlsx") == ".xlsx"
    assert suffix_for("census-counties-2020.csv") == ".csv"
    assert suffix_for("us-atlas-LICENSE.TXT") == ".txt"
    assert suffix_for("no-suffix") == ".xlsx"


def test_a_reference_resolves_from_the_mirror_into_the_store(small):
    settings, references = small
    paths = resolve_references(settings, list(references.values()))
    store = Store(settings.store)
    for name, reference in references.items():
        assert paths[name] == store.path_for(reference.file_sha256, suffix_for(reference.file_name))
        assert sha256_of(paths[name]) == reference.file_sha256
    assert paths["places"].suffix == ".csv" and paths["notice"].suffix == ".txt"
    (settings.reference_folder / "places.csv").unlink()  # the store alone now serves it
    assert resolve_references(settings, [references["places"]])["places"] == paths["places"]


def test_a_store_copy_with_other_bytes_is_refused(small):
    settings, references = small
    places = references["places"]
    stored = resolve_references(settings, [places])["places"]
    stored.write_text("code,name\n01,Alpha\n")
    (settings.reference_folder / "places.csv").unlink()
    with pytest.raises(InputError) as err:
        resolve_references(settings, [places])
    assert "places.csv (reference places" in str(err.value)
    assert "store copy had sha256" in str(err.value)
    assert not stored.exists()


def test_a_mirror_copy_with_other_bytes_is_never_used_nor_kept(small):
    settings, references = small
    (settings.reference_folder / "places.csv").write_text("code,name\n01,Alpha\n")
    with pytest.raises(InputError, match=f"expected {references['places'].file_sha256}"):
        resolve_references(settings, [references["places"]])
    assert not list(settings.store.rglob("*.csv"))
    assert not list(settings.store.rglob("*.part"))


def test_a_reference_found_nowhere_names_every_missing_file(small):
    settings, references = small
    for path in settings.reference_folder.iterdir():
        path.unlink()
    with pytest.raises(InputError, match=r"3 reference file\(s\) unusable") as err:
        load_references(duckdb.connect(), settings)
    assert err.value.subject == str(settings.reference_registry)
    assert all(r.file_name in str(err.value) for r in references.values())


def test_the_reference_mirror_defaults_beside_the_checkout_and_has_an_env_override(tmp_path, monkeypatch):
    monkeypatch.delenv("ICE287G_REFERENCE_MIRROR", raising=False)
    root = tmp_path / "main"
    assert Settings.from_env(root=root).reference_folder == (tmp_path / "shared" / "reference").resolve()
    assert make_settings(root, None).reference_folder == (tmp_path / "shared" / "reference").resolve()
    monkeypatch.setenv("ICE287G_REFERENCE_MIRROR", str(tmp_path / "elsewhere"))
    assert Settings.from_env(root=root).reference_folder == (tmp_path / "elsewhere").resolve()


# --- the raw layer ------------------------------------------------------------------------------


def test_csv_references_load_as_text_tables_with_their_checksums(small):
    settings, references = small
    con = duckdb.connect()
    assert load_references(con, settings) == {"raw_places": 3, "raw_kinds": 1}
    assert con.execute("select * from raw_places order by code").fetchall() == [
        ("01", "Alpha"),
        ("02", "Beta"),
        ("03", "Gamma"),
    ]
    assert con.execute("select * from raw_kinds").fetchall() == [("x", "one, two")]
    assert con.execute("select name, file_sha256, file_name, rows from raw_references order by name").fetchall() == [
        ("kinds", references["kinds"].file_sha256, "kinds.csv", 1),
        ("notice", references["notice"].file_sha256, "NOTICE.txt", None),
        ("places", references["places"].file_sha256, "places.csv", 3),
    ]
    load_references(con, settings)  # a rebuild replaces the tables
    assert con.execute("select count(*) from raw_places").fetchone() == (3,)


@pytest.fixture(scope="module")
def real(reference_mirror, tmp_path_factory):
    """An in-memory database with the real reference tables and the census staging views."""
    root = tmp_path_factory.mktemp("references")
    settings = Settings(
        root=REPO,
        registry=root / "snapshots.csv",
        store=root / "store",
        mirror=None,
        build_dir=root / "build",
        offline=True,
        reference_mirror=reference_mirror,
    )
    con = duckdb.connect()
    counts = load_references(con, settings)
    for model in ("stg_census__counties", "stg_census__states"):
        sql = (REPO / "models" / "staging" / "census" / f"{model}.sql").read_text()
        con.execute(f"create view {model} as {render(sql)}")
    yield con, counts
    con.close()


def test_the_real_reference_tables_load_with_their_row_counts(real):
    con, counts = real
    assert counts == {"raw_census_counties": 3245, "raw_census_states": 60, "raw_fbi_employees": 18330}
    (rows,) = con.execute("select sum(rows) from raw_references").fetchone()
    assert rows == 3245 + 60 + 18330
    assert con.execute("select count(*) from raw_references").fetchone() == (5,)
    assert con.execute("select statefp, countyfp from raw_census_counties limit 1").fetchone() == ("01", "001")


# --- the census staging models and the geography macros (rendered with jinja, run in DuckDB) -----


def render(sql: str) -> str:
    """dbt SQL rendered with macros/geography.sql; ref() and source() name the tables directly."""
    macros = (REPO / "macros" / "geography.sql").read_text()
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(macros + "\n" + sql)
    return template.render(ref=lambda name: name, source=lambda _source, table: table)


def test_staged_counties_and_states(real):
    con, _ = real
    counties = dict(
        con.execute(
            "select county_name || '/' || state_fips, county_base_name from stg_census__counties "
            "where county_fips in ('22071', '12109', '12086', '02110', '24510', '24005', '35013', '19141', '32510')"
        ).fetchall()
    )
    assert counties == {
        "Orleans Parish/22": "orleans",
        "St. Johns County/12": "saint johns",
        "Miami-Dade County/12": "miami dade",
        "Juneau City and Borough/02": "juneau",
        "Baltimore city/24": "baltimore",
        "Baltimore County/24": "baltimore",
        "Doña Ana County/35": "dona ana",
        "O'Brien County/19": "obrien",
        "Carson City/32": "carson",
    }
    assert con.execute("select count(*), count(distinct county_fips) from stg_census__counties").fetchone() == (
        3245,
        3236,
    )
    states = con.execute("select state_code, state_name, state_fips from stg_census__states").fetchall()
    assert len(states) == len({code for code, _, _ in states}) == 56
    assert ("DC", "District of Columbia", "11") in states
    assert ("RI", "Rhode Island", "44") in states
    assert ("FL", "Florida", "12") in states


@pytest.mark.parametrize(
    ("state_code", "county_name", "agency_name", "known"),
    [
        ("FL", None, "Waria-labelon County Sheriff's Office", False),
        ("FL", None, "Walton County Sheriff's Office", True),
        ("FL", None, "St. Johns County Sheriff's Office", True),
        ("LA", None, "Lafourche Parish Sheriff's Office", True),
        ("FL", None, "Tampa Police Department", True),  # names no county: nothing to contradict
        ("FL", "Walton County", "Waria-labelon County Sheriff's Office", True),  # the COUNTY column wins
        ("FL", "Miami-Dade County", "Miami-Dade Police Department", True),
        ("FL", "Miami Dade County ", "Miami-Dade Police Department", True),
        ("LA", "Saint Landry County", "Opelousas Police Department", True),  # Parish in the Census
        ("FL", "Kershaw County", "Kershaw County Sheriff's Office", False),  # a South Carolina county
        ("FL", "#NA", "Florida Department of Corrections", True),  # placeholder: names none
        ("FL", "N/A", "Kershaw County Sheriff's Office", False),  # placeholder: the agency's county
        ("PA", None, "Manheim Borough Police Department", True),  # a town, not a county
        ("AK", None, "Matanuska-Susitna Borough Police", True),
        ("AK", None, "Nowhere Borough Police", False),
        ("NM", "Dona Ana County", "Las Cruces Police Department", True),
        (None, "Walton County", "Walton County Sheriff's Office", False),  # no state to look in
    ],
)
def test_names_known_county(real, state_code, county_name, agency_name, known):
    con, _ = real
    sql = render(
        "select {{ names_known_county('state_code', 'county_name', 'agency_name') }} "
        "from (select ?::varchar as state_code, ?::varchar as county_name, ?::varchar as agency_name)"
    )
    assert con.execute(sql, [state_code, county_name, agency_name]).fetchone() == (known,)
