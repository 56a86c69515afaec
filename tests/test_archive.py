"""Integration: the full build over every real archived snapshot in ../shared."""

import os

import duckdb
import pytest
from conftest import REPO, SHARED

from ice287g.build import build
from ice287g.registry import Registry
from ice287g.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def archive_build(tmp_path_factory):
    if not (SHARED / "MANIFEST.csv").exists():
        if os.environ.get("CI"):
            pytest.fail(f"the real archive is missing at {SHARED}")
        pytest.skip(f"the real archive is not at {SHARED}")
    work = tmp_path_factory.mktemp("archive")
    settings = Settings(
        root=REPO,
        registry=REPO / "sources" / "snapshots.csv",
        store=REPO / ".store",
        mirror=SHARED,
        build_dir=work / "build",
        offline=True,
        dist_dir=work / "dist",
    )
    result = build(settings, say=lambda _m: None)
    con = duckdb.connect(str(settings.database), read_only=True)
    yield settings, result, con
    con.close()


def test_every_registered_snapshot_is_loaded(archive_build):
    settings, result, con = archive_build
    registered = len(Registry.load(settings.registry))
    assert registered >= 1124
    assert result.load.files_total == registered
    (loaded,) = con.execute("select count(distinct file_sha256) from raw_sheets").fetchall()[0]
    assert loaded == registered


def test_all_eras_layouts_are_present(archive_build):
    _, result, _ = archive_build
    participating = [name for name in result.load.layouts if name.startswith("participating")]
    pending = [name for name in result.load.layouts if name.startswith("pending")]
    assert len(participating) >= 5
    assert len(pending) >= 3


def test_every_row_is_a_data_row_of_some_sheet(archive_build):
    _, result, con = archive_build
    (declared,) = con.execute("select sum(data_row_count) from raw_sheets").fetchall()[0]
    assert declared == result.load.rows_total


def test_known_list_sizes_from_the_archive_readme(archive_build):
    """135 rows in 21 states through January 2025; 1,560 rows on the list of 2026-03-27."""
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
    newest = con.execute(
        """
        select row_count from int_snapshots
        where list = 'participating' and published_date = (
            select max(published_date) from int_snapshots where list = 'participating')
        """
    ).fetchall()
    assert {n for (n,) in newest} == {1560}


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

    (newest_rows, newest_agreements) = one(
        """select row_count, agreement_count from publications
        where list = 'participating' order by sequence desc limit 1"""
    )
    assert newest_rows == 1560  # the archive README's figure for ICE's list of 2026-03-27
    (active,) = one("select count(*) from agreements where status = 'active'")
    assert active == newest_agreements
    (participating,) = one("select count(*) from agencies where is_participating")
    (agencies_on_newest,) = one(
        """select count(distinct agency_id) from listings
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
    (unlinked,) = one(
        "select count(*) from listings where agency_id is null or (agreement_id is null and application_id is null)"
    )
    assert unlinked == 0


def test_the_135_row_list_of_january_2025_spans_21_states(archive_build):
    _, _, con = archive_build
    rows = con.execute(
        """select distinct p.row_count, p.state_count from snapshots s join publications p using (publication_id)
        where s.list = 'participating' and s.published_date between '2025-01-01' and '2025-01-31'"""
    ).fetchall()
    assert rows == [(135, 21)]


def test_a_newer_list_changes_no_existing_id(archive_build, tmp_path_factory):
    """Build without the newest participating list: every agency, agreement and publication id of
    that build must survive unchanged when the newest list is added."""
    from ice287g.registry import Registry

    settings, _, con = archive_build
    work = tmp_path_factory.mktemp("without-newest")
    registry = Registry.load(settings.registry)
    (newest_sha,) = con.execute(
        """select file_sha256 from snapshots where list = 'participating'
        order by published_date desc, captured_at desc nulls last limit 1"""
    ).fetchall()[0]
    del registry.entries[newest_sha]
    registry.path = work / "snapshots.csv"
    registry.save()
    earlier = Settings(
        root=REPO,
        registry=registry.path,
        store=settings.store,
        mirror=SHARED,
        build_dir=work / "build",
        offline=True,
        dist_dir=work / "dist",
    )
    build(earlier, say=lambda _m: None)
    with duckdb.connect(str(earlier.database), read_only=True) as old:
        for table, key in (
            ("agencies", "agency_id"),
            ("agreements", "agreement_id"),
            ("publications", "publication_id"),
        ):
            before = {k for (k,) in old.execute(f"select {key} from {table}").fetchall()}
            after = {k for (k,) in con.execute(f"select {key} from {table}").fetchall()}
            assert before <= after, f"{table}: ids lost when a newer list was added: {sorted(before - after)[:5]}"
