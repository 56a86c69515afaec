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
    (loaded,) = con.execute("select count(distinct file_sha256) from raw_sheets").fetchone()
    assert loaded == registered


def test_all_eras_layouts_are_present(archive_build):
    _, result, _ = archive_build
    participating = [name for name in result.load.layouts if name.startswith("participating")]
    pending = [name for name in result.load.layouts if name.startswith("pending")]
    assert len(participating) >= 5
    assert len(pending) >= 3


def test_every_row_is_a_data_row_of_some_sheet(archive_build):
    _, result, con = archive_build
    (declared,) = con.execute("select sum(data_row_count) from raw_sheets").fetchone()
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
    ).fetchone()[0]
    assert wrong_list == 0
    misdated = con.execute("select count(*) from int_snapshots where published_date < newest_signed_date").fetchone()[0]
    assert misdated == 0
