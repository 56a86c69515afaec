"""Layouts are detected from the header row, every registered layout loads, others are refused."""

import csv

import pytest
from conftest import PARTICIPATING_HEADER, PENDING_HEADER, REPO

from ice287g.errors import InputError
from ice287g.raw.layouts import detect_workbook, load_layouts
from ice287g.raw.workbook import read_workbook

LAYOUTS_CSV = REPO / "sources" / "layouts.csv"
LAYOUTS = load_layouts(LAYOUTS_CSV)
with open(LAYOUTS_CSV, newline="") as fh:
    REGISTERED = list(csv.DictReader(fh))


def _detect(path):
    return detect_workbook(read_workbook(path), LAYOUTS, path.name)


@pytest.mark.parametrize("layout", REGISTERED, ids=[r["layout"] for r in REGISTERED])
def test_every_registered_layout_is_recognised(make_workbook, layout):
    header = layout["columns"].split("|")
    rows = [header, ["TEXAS"] + ["x"] * (len(header) - 1)]
    if layout["list"] == "summary":
        path = make_workbook(
            "w.xlsx",
            [PENDING_HEADER, ["TEXAS", "A", "County", "A County", "Task Force Model"]],
            extra_sheets={"Sheet2": rows},
        )
        detected = {d.sheet.name: d.layout.name for d in _detect(path)}
        assert detected["Sheet2"] == layout["layout"]
    else:
        (detected,) = _detect(make_workbook("w.xlsx", rows))
        assert (detected.layout.name, detected.layout.list) == (layout["layout"], layout["list"])


def test_header_case_and_spacing_do_not_matter(make_workbook):
    header = [" State", "Law  Enforcement Agency ", "type", "County", "Support Type"]
    (detected,) = _detect(make_workbook("w.xlsx", [header, ["TEXAS", "A", "County", "B", "Task Force Model"]]))
    assert detected.layout.name == "pending_v2"


def test_layout_comes_from_the_header_not_the_name(make_workbook):
    path = make_workbook(
        "participatingAgencies09222025pm.xlsx", [PENDING_HEADER, ["TEXAS", "A", "County", "B", "Task Force Model"]]
    )
    (detected,) = _detect(path)
    assert detected.layout.list == "pending"


def test_unknown_layout_names_the_file_and_its_header(make_workbook):
    path = make_workbook("odd.xlsx", [["STATE", "AGENCY NAME", "MODEL"], ["TEXAS", "A", "Task Force Model"]])
    with pytest.raises(InputError) as err:
        _detect(path)
    message = str(err.value)
    assert message.startswith("odd.xlsx: ")
    assert "never seen before" in message and "AGENCY NAME" in message


def test_stray_empty_columns_are_ignored_but_data_under_no_header_is_not(make_workbook):
    header = [*PENDING_HEADER, None, None]
    ok = make_workbook("ok.xlsx", [header, ["TEXAS", "A", "County", "B", "Task Force Model", None, " "]])
    assert _detect(ok)[0].layout.name == "pending_v2"
    bad = make_workbook("bad.xlsx", [header, ["TEXAS", "A", "County", "B", "Task Force Model", None, "stray"]])
    with pytest.raises(InputError, match="bad.xlsx: .*columns \\[7\\]"):
        _detect(bad)


def test_blank_rows_are_skipped_and_the_header_is_the_first_non_blank_row(make_workbook):
    rows = [[None], [" "], PENDING_HEADER, [None], ["TEXAS", "A", "County", "B", "Task Force Model"]]
    (detected,) = _detect(make_workbook("w.xlsx", rows))
    assert detected.header.row_number == 3
    assert [r.row_number for r in detected.data_rows] == [5]


def test_a_sheet_with_nothing_in_it_is_refused(make_workbook):
    with pytest.raises(InputError, match="empty.xlsx: every sheet is empty"):
        _detect(make_workbook("empty.xlsx", [[None]]))


def test_a_participating_list_without_rows_is_refused_but_an_empty_pending_list_loads(make_workbook):
    with pytest.raises(InputError, match="p.xlsx: .*no agreements"):
        _detect(make_workbook("p.xlsx", [PARTICIPATING_HEADER]))
    (pending,) = _detect(make_workbook("q.xlsx", [PENDING_HEADER]))
    assert pending.data_rows == []


def test_two_list_sheets_are_refused(make_workbook):
    rows = [PENDING_HEADER, ["TEXAS", "A", "County", "B", "Task Force Model"]]
    with pytest.raises(InputError, match="more than one list sheet"):
        _detect(make_workbook("two.xlsx", rows, extra_sheets={"Sheet2": rows}))
