"""Captures kept out of identity and lineage, on a small archive the test writes.

Three participating lists: the second is a damaged capture of the first (one row's agency names a
county that does not exist in its state), and the third equals the first. The damaged row must
make no agency, no removal and no gap; the capture is flagged, and its row too.
"""

import datetime as dt

import duckdb
import pytest
from conftest import PARTICIPATING_HEADER, private_settings, register_in_mirror

from ice287g.pipeline.build import build

DATES = [dt.date(2024, 12, 4), dt.date(2024, 12, 11), dt.date(2024, 12, 18)]
ROWS = [
    ["FLORIDA", "Walton County Sheriff's Office", "County", None, "Warrant Service Officer", dt.date(2019, 5, 6)],
    ["FLORIDA", "Bay County Sheriff's Office", "County", None, "Warrant Service Officer", dt.date(2019, 10, 15)],
    ["TEXAS", "Nueces County Sheriff's Office", "County", None, "Jail Enforcement Model", dt.date(2020, 6, 9)],
]


def rows_of(agencies: list[str]) -> list[list[object]]:
    out = [PARTICIPATING_HEADER]
    for row, agency in zip(ROWS, agencies, strict=True):
        out.append([row[0], agency, *row[2:], "link", None])
    return out


@pytest.fixture(scope="module")
def q(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lineage")
    settings = private_settings(tmp)
    good = [row[1] for row in ROWS]
    damaged = ["Waria-labelon County Sheriff's Office", *good[1:]]
    for n, (day, agencies) in enumerate(zip(DATES, [good, damaged, good], strict=True)):
        # distinct bytes for equal tables, as two real captures have
        register_in_mirror(settings, f"participatingAgencies{day:%m%d%Y}am.xlsx", rows_of(agencies), sheet=f"List{n}")
    build(settings, say=lambda _m: None)
    con = duckdb.connect(str(settings.database), read_only=True)
    yield lambda sql: con.execute(sql).fetchall()
    con.close()


def test_the_damaged_capture_is_flagged_and_kept_out_of_lineage(q):
    rows = q("select published_date, is_in_lineage, flags from publications order by sequence")
    assert rows == [(DATES[0], True, None), (DATES[1], False, "corrupted_row"), (DATES[2], True, None)]
    (flagged,) = q(
        "select agency_name_published, agency_id, row_flags from listings where row_flags like '%corrupted%'"
    )
    assert flagged == ("Waria-labelon County Sheriff's Office", None, "corrupted_row")


def test_the_damaged_row_makes_no_agency_no_removal_and_no_gap(q):
    assert q("select count(*) from agencies where agency_name like 'Waria%'") == [(0,)]
    assert q("select status, count(*) from agreements group by 1") == [("active", 3)]
    assert q("select max(period_count) from agreements") == [(1,)]
    (walton,) = q(
        """select p.first_listed_date, p.last_listed_date, p.delisted_date, i.last_sequence - i.first_sequence + 1
        from agreement_periods p join int_agreement_periods i using (agreement_id, period_number)
        join agreements a using (agreement_id) where a.agency_id = 'fl-walton-county-sheriff-office'"""
    )
    # one open period over the two lists in lineage, the first and the third
    assert walton == (DATES[0], None, None, 2)
