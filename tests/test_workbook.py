"""Reading workbooks: cells as published, hyperlinks from the sheet XML, and bad files."""

import datetime as dt
import zipfile

import pytest

from ice287g.errors import InputError
from ice287g.workbook import read_workbook


def test_cells_are_kept_exactly_as_published(make_workbook):
    path = make_workbook(
        "p.xlsx",
        [
            ["STATE", "SIGNED", "N"],
            ["TEXAS ", dt.date(2025, 3, 7), 45678],
            [None, None, None],
            ["utah", "7/72025", 1.5],
        ],
    )
    (sheet,) = read_workbook(path)
    rows = {r.row_number: r for r in sheet.rows if not r.is_blank()}
    assert sorted(rows) == [1, 2, 4]
    texas = {c.column_number: c for c in rows[2].cells}
    assert texas[1].text == "TEXAS "
    assert (texas[2].text, texas[2].kind) == ("2025-03-07", "date")
    assert (texas[3].text, texas[3].kind) == ("45678", "number")
    utah = {c.column_number: c for c in rows[4].cells}
    assert (utah[2].text, utah[2].kind) == ("7/72025", "string")
    assert utah[3].text == "1.5"


def test_hyperlink_targets_sit_beside_their_cells(make_workbook):
    url = "https://www.ice.gov/doclib/287gMOA/AlphaCoTX_TFM_MOA_03012025.pdf"
    path = make_workbook("p.xlsx", [["STATE", "MOA"], ["TEXAS", "link"], ["UTAH", "link pending"]], links={(2, 2): url})
    (sheet,) = read_workbook(path)
    by_row = {r.row_number: {c.column_number: c for c in r.cells} for r in sheet.rows}
    assert by_row[2][2].text == "link"
    assert by_row[2][2].hyperlink == url
    assert by_row[3][2].hyperlink is None


def test_positions_are_the_sheets_own_when_the_table_is_offset(make_workbook, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["C3"] = "STATE"
    wb.active["C5"] = "TEXAS"
    wb.active["D5"] = "link"
    wb.active["D5"].hyperlink = "https://example.org/moa.pdf"
    path = tmp_path / "offset.xlsx"
    wb.save(path)
    (sheet,) = read_workbook(path)
    cells = {(r.row_number, c.column_number): c for r in sheet.rows for c in r.cells}
    assert cells[(3, 3)].text == "STATE"
    assert cells[(5, 4)].hyperlink == "https://example.org/moa.pdf"


def test_every_sheet_is_read(make_workbook):
    path = make_workbook("p.xlsx", [["STATE"], ["TEXAS"]], extra_sheets={"Totals": [["Total", "JEM"], ["TEXAS", 3]]})
    sheets = read_workbook(path)
    assert [s.name for s in sheets] == ["Sheet1", "Totals"]


def test_html_saved_as_xlsx_is_named_and_refused(tmp_path):
    path = tmp_path / "participatingAgencies03012025am.xlsx"
    path.write_text("<!DOCTYPE html><html><body>Access denied</body></html>")
    with pytest.raises(InputError) as err:
        read_workbook(path)
    assert "participatingAgencies03012025am.xlsx" in str(err.value)
    assert "HTML" in str(err.value)


def test_truncated_workbook_is_named_and_refused(make_workbook):
    path = make_workbook("p.xlsx", [["STATE"], ["TEXAS"]])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"p\.xlsx: corrupt or truncated"):
        read_workbook(path)


def test_corrupt_member_is_named_and_refused(make_workbook):
    path = make_workbook("p.xlsx", [["STATE"], ["TEXAS"]])
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    members["xl/workbook.xml"] = b"<not-xml"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(InputError, match=r"p\.xlsx: damaged workbook structure"):
        read_workbook(path)


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="empty.xlsx: the file is empty"):
        read_workbook(path)
