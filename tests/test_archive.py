"""Integration: the full build over every real archived snapshot in ../shared."""

import csv
import datetime as dt

import duckdb
import pytest
from conftest import NEXT_DAY, REPO, SHARED

from ice287g.sources.registry import Registry

pytestmark = pytest.mark.integration


def test_every_registered_snapshot_is_loaded(archive_build):
    settings, result, con = archive_build
    registry = Registry.load(settings.registry)
    with open(SHARED / "MANIFEST.csv", newline="", encoding="utf-8") as fh:
        mirrored = {row["sha256"] for row in csv.DictReader(fh)}
    # the registry holds exactly the archive's files: none missing, none that is not in it
    assert set(registry.entries) == mirrored
    registered = len(registry)
    assert result.load.files_total == registered
    (loaded,) = con.execute("select count(distinct file_sha256) from raw_sheets").fetchall()[0]
    assert loaded == registered


def test_every_registered_layout_is_seen_in_the_archive_and_no_other(archive_build):
    """The archive holds every layout of sources/layouts.csv: a layout no longer detected, or a
    new one, fails here."""
    _, result, _ = archive_build
    with open(REPO / "sources" / "layouts.csv", newline="", encoding="utf-8") as fh:
        registered = {row["layout"] for row in csv.DictReader(fh)}
    assert set(result.load.layouts) == registered


def test_every_row_is_a_data_row_of_some_sheet(archive_build):
    _, result, con = archive_build
    (declared,) = con.execute("select sum(data_row_count) from raw_sheets").fetchall()[0]
    assert declared == result.load.rows_total


def test_known_list_sizes_from_the_archive_readme(archive_build):
    """135 rows in 21 states through January 2025; 1,560 rows on ICE's list of 2026-03-27 and
    1,784 on its list of 2026-05-07 (the counts the archive's README gives to check a parse by)."""
    _, _, con = archive_build
    jan = con.execute(
        """
        select s.row_count, count(distinct r.state_code)
        from int_snapshots s join int_listing_rows r using (file_sha256)
        where s.list = 'participating' and s.published_date between '2025-01-01' and '2025-01-31'
        group by s.file_sha256, s.row_count
        """
    ).fetchall()
    assert jan and set(jan) == {(135, 21)}
    for day, rows in (("2026-03-27", 1560), ("2026-05-07", 1784)):
        listed = con.execute(
            "select row_count from int_snapshots where list = 'participating' and published_date = ?", [day]
        ).fetchall()
        assert listed and {n for (n,) in listed} == {rows}, day


def test_every_name_claim_contradicted_by_contents_is_flagged(archive_build):
    _, _, con = archive_build
    wrong_list = con.execute(
        "select count(*) from int_snapshots where claimed_list <> list and flags not like '%name_claims_%'"
    ).fetchall()[0][0]
    assert wrong_list == 0
    misdated = con.execute("select count(*) from int_snapshots where published_date < newest_signed_date").fetchall()[
        0
    ][0]
    assert misdated == 0


def test_marts_are_built_and_consistent(archive_build):
    _, _, con = archive_build

    def one(sql):
        return con.execute(sql).fetchall()[0]

    (newest_agreements,) = one(
        """select agreement_count from publications
        where list = 'participating' order by sequence desc limit 1"""
    )
    (active,) = one("select count(*) from agreements where status = 'active'")
    assert active == newest_agreements
    (participating,) = one("select count(*) from agencies where is_participating")
    (agencies_on_newest,) = one(
        """select count(distinct agency_id) from int_listings_linked
        where publication_id = (select publication_id from publications
                                where list = 'participating' order by sequence desc limit 1)"""
    )
    assert participating == agencies_on_newest
    (unbalanced,) = one(
        """select count(*) from publications p
        left join (select publication_id, sum(count) as total from counts group by 1) c using (publication_id)
        where coalesce(c.total, 0) <> p.row_count"""
    )
    assert unbalanced == 0
    unlinked = con.execute(
        """select row_flags, count(*) from int_listings_linked
        where agency_id is null or (agreement_id is null and application_id is null) group by 1"""
    ).fetchall()
    assert unlinked == [("corrupted_row", 1)]  # only the damaged row of the 2024-12-11 capture


def test_the_135_row_list_of_january_2025_spans_21_states(archive_build):
    _, _, con = archive_build
    rows = con.execute(
        """select distinct p.row_count, p.state_count from snapshots s join publications p using (publication_id)
        where s.list = 'participating' and s.published_date between '2025-01-01' and '2025-01-31'"""
    ).fetchall()
    assert rows == [(135, 21)]


def test_a_newer_list_changes_no_existing_id(archive_build, archive_next):
    """The daily release's list (the newest with one agreement more, one row gone and one date
    corrected): every agency, agreement and publication id of the archive's build survives
    unchanged, and the only ids added are those of the new publications and of what they are the
    first to list."""
    _, _, old = archive_build
    assert archive_next.first.returncode == 0, archive_next.first.stderr[-3000:]
    with duckdb.connect(str(archive_next.settings.database), read_only=True) as con:
        (newest,) = _one(con, "select max(published_date) from publications")
        assert str(newest)[:10] == NEXT_DAY.isoformat()
        for table, key, new in (
            ("agencies", "agency_id", "first_listed_date = ?"),
            ("agreements", "agreement_id", "first_listed_date = ?"),
            ("publications", "publication_id", "published_date = ?"),
        ):
            before = {k for (k,) in old.execute(f"select {key} from {table}").fetchall()}
            after = {k for (k,) in con.execute(f"select {key} from {table}").fetchall()}
            assert before <= after, f"{table}: ids lost when a newer list was added: {sorted(before - after)[:5]}"
            # and the only ids it adds are those of what the newest lists show first
            added = {k for (k,) in con.execute(f"select {key} from {table} where {new}", [newest]).fetchall()}
            assert added and after - before == added, f"{table}: {sorted((after - before) ^ added)[:5]}"


# --- identity and lineage: every instance named in the audit of the 2026.3.27 build ---------


def _one(con, sql, *params):
    rows = con.execute(sql, list(params)).fetchall()
    assert len(rows) == 1, f"expected one row, got {rows}"
    return rows[0]


def _agreement_of(con, published_name, model_like="%", state="%"):
    """The agreements and statuses of the rows ICE published under ``published_name``."""
    return con.execute(
        """select distinct a.agreement_id, a.status, a.agency_id from listings l join agreements a using (agreement_id)
        where l.agency_name_published = ? and l.support_type_published ilike ? and l.state_code like ? order by 1""",
        [published_name, model_like, state],
    ).fetchall()


def test_city_of_melbourne_is_melbourne_police_department(archive_build):
    _, _, con = archive_build
    rows = _agreement_of(con, "City of Melbourne Police Department", "Task%")
    assert [(status, agency) for _, status, agency in rows] == [("active", "fl-melbourne-police-department")]
    assert rows == _agreement_of(con, "Melbourne Police Department", "Task%")


def test_parish_county_and_sheriffs_department_applications_are_signed(archive_build):
    _, _, con = archive_build
    for agency, model in (("Lafourche", "warrant_service_officer"), ("Kewaunee", "jail_enforcement")):
        outcomes = con.execute(
            """select distinct p.outcome from applications p join listings l using (application_id)
            where l.agency_name_published ilike ? and p.support_model = ?""",
            [f"{agency}%", model],
        ).fetchall()
        assert outcomes == [("signed",)], agency


def test_gulf_county_bocc_is_the_board_of_county_commissioners(archive_build):
    _, _, con = archive_build
    ids = con.execute(
        """select distinct agency_id from listings where agency_name_published in
        ('Gulf County BOCC', 'Gulf County Board of County Commissioners')"""
    ).fetchall()
    assert len(ids) == 1
    removed = con.execute(
        "select count(*) from agreements where agency_ids_listed like ? and status = 'removed'", [f"%{ids[0][0]}%"]
    ).fetchall()
    assert removed == [(0,)]


def test_a_signing_date_changed_and_changed_back_is_one_active_agreement(archive_build):
    _, _, con = archive_build
    rows = _agreement_of(con, "Florida Department of Highway Safety and Motor Vehicles, Division of Highway Patrol")
    assert len(rows) == 1 and rows[0][1] == "active"
    (dates,) = _one(con, "select signed_dates_listed from agreements where agreement_id = ?", rows[0][0])
    assert dates == "2025-02-07 | 2025-02-17"


def test_zephyrhills_under_two_spellings_at_once_is_one_agency(archive_build):
    _, _, con = archive_build
    agencies = con.execute(
        "select distinct agency_id from listings where agency_name_published ilike '%Zephyrhills Police%'"
    ).fetchall()
    assert agencies == [("fl-zephyrhills-police-department",)]
    assert {status for _, status, _ in _agreement_of(con, "City of Zephyrhills Police Department")} == {"active"}


def test_state_agencies_first_listed_without_the_state_name(archive_build):
    _, _, con = archive_build
    for state, short, full in (
        ("VA", "Department of Corrections", "Virginia Department of Corrections"),
        ("VA", "Department of State Police", "Virginia Department of State Police"),
        ("AK", "Department of Corrections", "Alaska Department of Corrections"),
        ("MT", "MT Dept of Justice", "Montana Department of Justice"),
    ):
        short_ids = {a for a, _, _ in _agreement_of(con, short, state=state)}
        assert short_ids and short_ids <= {a for a, _, _ in _agreement_of(con, full, state=state)}, short


def test_different_signatories_are_two_agencies(archive_build):
    _, _, con = archive_build
    for body_a, body_b in (
        ("Cambria County Prison", "Cambria County Sheriff's Office"),
        ("Pasco County BOCC", "Pasco County Sheriff's Office"),
    ):
        ids = con.execute(
            "select distinct agency_id from listings where agency_name_published in (?, ?)", [body_a, body_b]
        ).fetchall()
        assert len(ids) == 2, (body_a, body_b)


def test_damaged_capture_and_header_only_lists_are_flagged(archive_build):
    _, _, con = archive_build
    flagged = con.execute(
        "select list, published_date, flags, snapshot_count from publications where not is_in_lineage order by 2"
    ).fetchall()
    assert [(r[0], str(r[1]), r[2]) for r in flagged if r[2] == "corrupted_row"] == [
        ("participating", "2024-12-11", "corrupted_row")
    ]
    header_only = [r for r in flagged if r[2] == "header_only"]
    assert {r[0] for r in header_only} == {"pending"}
    assert (len(header_only), sum(r[3] for r in header_only)) == (5, 6)  # 5 lists in 6 files (README)
    assert all(str(r[1]).startswith("2025-11") for r in header_only)
    # the phantom agency of the damaged row is gone, and Walton County's agreement has no gap
    assert _one(con, "select count(*) from agencies where agency_name ilike 'Waria%'") == (0,)
    assert _agreement_of(con, "Walton County Sheriff's Office", "Warrant%")[0][1] == "active"
    # a real one-list change of several rows (2025-08-08 pm) stays in lineage
    assert _one(con, "select is_in_lineage from publications where publication_id like 'participating-2025-08-08-pm%'")


def test_an_absence_of_months_is_an_explicit_gap(archive_build):
    _, _, con = archive_build
    (agreement_id, status, _) = _agreement_of(con, "Southside Place Police Department")[0]
    assert status == "active"
    periods = con.execute(
        "select first_listed_date, delisted_date from agreement_periods where agreement_id = ? order by 1",
        [agreement_id],
    ).fetchall()
    # listed from 2025-06-27, missing from the list of 2025-07-18 on, back on 2026-03-02 (checked
    # against the raw rows of every participating list)
    assert periods == [(dt.date(2025, 6, 27), dt.date(2025, 7, 18)), (dt.date(2026, 3, 2), None)]


def test_ids_carry_no_typos_or_bad_expansions(archive_build):
    _, _, con = archive_build
    for published, agency_id in (
        (
            "Pennsylvania State Constable's Office So Middleton Twp",
            "pa-pennsylvania-state-constables-office-south-middleton-township",
        ),
        ("Berrian County Sheriff's Office", "mi-berrien-county-sheriff-office"),
        ("Neuces County Constable Precinct 5", "tx-nueces-county-constable-precinct-5"),
    ):
        assert con.execute(
            "select distinct agency_id from listings where trim(agency_name_published) = ?", [published]
        ).fetchall() == [(agency_id,)]


def test_every_claim_that_something_left_has_evidence_for_review(archive_build):
    settings, _, con = archive_build
    import csv

    with open(settings.build_dir / "review" / "lineage_review.csv", newline="") as fh:
        review = list(csv.DictReader(fh))
    (claims,) = _one(
        con,
        """select (select count(*) from agreements where status in ('removed', 'superseded'))
        + (select count(*) from applications where outcome = 'withdrawn')""",
    )
    assert len(review) == claims
    assert {r["claim"] for r in review} == {"removed", "superseded", "withdrawn"}
    assert all(r["last_listed_date"] for r in review)


def test_every_publication_is_rebuilt_exactly_from_the_spans(archive_build):
    """Every publication: the rows rebuilt from the listings spans equal the rows the raw layer
    read for the publication's first capture (same count, same published values)."""
    from conftest import SPAN_MISMATCHES

    _, _, con = archive_build
    assert con.execute(SPAN_MISMATCHES).fetchall() == [(0, 0)]
    (published,) = con.execute("select count(*) from publications").fetchall()[0]
    (folded,) = con.execute("select count(distinct publication_id) from int_snapshot_publications").fetchall()[0]
    assert published == folded > 400


def test_ice_s_own_mistakes_are_errata_with_their_evidence_and_reviewed_corrections(archive_build):
    """The contradictions read against the raw rows (issue 24): each class is found where ICE made
    it, a reviewed fix's value reaches the cleaned columns and the id, and the published value stays."""
    _, _, con = archive_build

    def erratum(rule: str, record: str) -> tuple:
        return _one(
            con,
            "select field, published_value, corrected_value, evidence from errata where rule = ? and record_id = ?",
            rule,
            record,
        )

    tenaha = "tx-tenaha-police-department-tfm-20260107"
    field, published, corrected, evidence = erratum("signed_year_contradicts_moa_file", tenaha)
    assert (field, published, corrected) == ("signed_date", "2025-01-07", "2026-01-07")
    assert "TenahaPoliceDeptTX_TFM_MOA_01072026.pdf" in evidence
    assert erratum("signed_before_application", tenaha)[2] == "2026-01-07"
    assert _one(con, "select signed_date::varchar from agreements where agreement_id = ?", tenaha) == ("2026-01-07",)
    assert _one(
        con, "select count(*) from listings where agreement_id = ? and signed_published = '2025-01-07'", tenaha
    ) > (0,)
    # the file's year is the wrong one: flagged on moa_url, the date left as published
    assert erratum("signed_year_contradicts_moa_file", "wv-nicholas-county-sheriff-office-tfm-20260107")[:3] == (
        "moa_url",
        "https://www.ice.gov/doclib/287gMOA/NicholasCoSOWV_TFM_MOA_01072025.pdf",
        None,
    )
    assert erratum("moa_link_of_another_agency", "pa-montour-county-sheriff-office-tfm-20250612")[1].endswith(
        "ManheimBoroughPoliceDeptPA_TFM_MOA_06182025.pdf"
    )
    assert (
        "ga-whitfield-county-sheriff-office"
        in erratum("moa_link_of_another_agency", "ga-wayne-county-sheriff-office-tfm-20260130")[3]
    )
    fwc = "fl-florida-fish-and-wildlife-conservation-commission"
    assert erratum("row_handed_to_another_agency", f"{fwc}-tfm-20250214")[1:3] == (
        "fl-florida-department-of-environmental-protection",
        fwc,
    )
    assert erratum("signed_after_first_listing", "fl-northwest-florida-state-college-police-department-tfm-20250415")
    # the 744 rows of 2025-07-01 for 742 agreements: St. Cloud and Zephyrhills on two rows each
    twice = {
        record
        for (record,) in con.execute(
            "select record_id from errata where rule = 'agency_listed_twice'"
            " and date '2025-07-01' between first_listed_date and last_listed_date"
        ).fetchall()
    }
    assert twice == {"fl-saint-cloud-police-department-tfm-20250415", "fl-zephyrhills-police-department-tfm-20250414"}
    # renamed in place (the county's jail took over the sheriff's WSO row) is no erratum
    assert _one(
        con, "select count(*) from errata where record_id = 'pa-franklin-county-sheriff-office-wso-20250307'"
    ) == (0,)


def test_fdep_s_division_is_fdep_and_fwc_keeps_its_row(archive_build):
    _, _, con = archive_build
    rows = con.execute(
        "select agreement_id, status, signed_dates_listed from agreements"
        " where agency_id like 'fl-florida-department-of-environmental%' or agency_id like 'fl-florida-fish%'"
        " order by all"
    ).fetchall()
    assert rows == [
        ("fl-florida-department-of-environmental-protection-tfm-20250424", "active", "2025-04-24"),
        ("fl-florida-fish-and-wildlife-conservation-commission-tfm-20250214", "active", "2025-02-14"),
    ]


def test_every_close_agency_pair_has_a_reviewed_verdict(archive_build):
    settings, _, _ = archive_build
    from ice287g.pipeline.build import undecided_pairs

    assert undecided_pairs(settings.database) == []
    import csv

    with open(settings.build_dir / "review" / "agency_review_pairs.csv", newline="") as fh:
        pairs = list(csv.DictReader(fh))
    assert pairs and all(p["verdict"] == "two_agencies" and p["verdict_reason"] for p in pairs)
