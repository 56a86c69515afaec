"""Reading workbooks: cells as published, hyperlinks from the sheet XML, and bad files."""

import datetime as dt
import re
import warnings
import zipfile

import pytest
from conftest import set_declared_size

from ice287g.errors import InputError
from ice287g.raw.container import MAX_COLUMNS, MAX_FILE_BYTES, MAX_ROWS, check_container
from ice287g.raw.workbook import read_workbook


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


# Bounds checked before calamine reads a workbook (``check_container``); the hostile inputs
# themselves (bombs, encrypted files, entity attacks) are in test_hostile_inputs.py.


def rewrite(path, member: str, data: bytes, *, method: int = zipfile.ZIP_DEFLATED) -> None:
    """Replace one member of the package at ``path`` (or add it)."""
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    members[member] = data
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content, compress_type=method if name == member else zipfile.ZIP_DEFLATED)


SHEET = "xl/worksheets/sheet1.xml"


def sheet_xml(rows: str, dimension: str = "") -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dim}'
        f"<sheetData>{rows}</sheetData></worksheet>"
    ).encode()


def numbers(count: int, first: int = 1) -> str:
    return "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(first, first + count))


def test_a_sheet_at_the_row_cap_is_read_and_one_row_more_is_refused(make_workbook):
    path = make_workbook("p.xlsx", [["N"]])
    rewrite(path, SHEET, sheet_xml(numbers(MAX_ROWS)))
    check_container(path)
    rewrite(path, SHEET, sheet_xml(numbers(MAX_ROWS + 1)))
    with pytest.raises(InputError, match=r"p\.xlsx: member xl/worksheets/sheet1\.xml has more than 20,000 rows"):
        check_container(path)


@pytest.mark.parametrize(
    ("rows", "dimension", "problem"),
    [
        # calamine holds a sheet as a dense grid: one far cell is a grid of millions
        ('<row r="1"><c r="A1"><v>1</v></c><c r="XFD1"><v>2</v></c></row>', "", "reaches column XFD"),
        ('<row r="1"><c r="BA1"><v>1</v></c></row>', "", "reaches column BA"),
        ('<row r="1048576"><c r="A1048576"><v>1</v></c></row>', "", "row numbered 1,048,576"),
        ('<row r="2"><c r="A900000"><v>1</v></c></row>', "", "reaches row 900,000"),
        (numbers(2), "A1:A20001", "reaches row 20,001"),
        ("<row><c><v>1</v></c><c><v>2</v></c></row>", "", "cells without a reference"),
    ],
)
def test_a_sheet_that_would_be_a_huge_grid_is_refused(make_workbook, rows, dimension, problem):
    path = make_workbook("p.xlsx", [["N"]])
    rewrite(path, SHEET, sheet_xml(rows, dimension))
    with pytest.raises(InputError, match=rf"p\.xlsx: member xl/worksheets/sheet1\.xml .*{problem}"):
        check_container(path)


def test_columns_to_az_prefixed_tags_and_any_attribute_order_are_read(make_workbook):
    path = make_workbook("p.xlsx", [["N"]])
    cells = '<x:c s="0" r="A1" t="inlineStr"><x:is><x:t>a</x:t></x:is></x:c><x:c r="AZ1"><x:v>5</x:v></x:c>'
    rewrite(
        path,
        SHEET,
        b'<?xml version="1.0" encoding="UTF-8"?><x:worksheet '
        b'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
        + f'<x:row r="1">{cells}</x:row>'.encode()
        + b"</x:sheetData></x:worksheet>",
    )
    (sheet,) = read_workbook(path)
    assert [(c.column_number, c.text) for c in sheet.rows[0].cells] == [(1, "a"), (MAX_COLUMNS, "5")]


def test_prefixed_rows_are_counted_too(make_workbook):
    path = make_workbook("p.xlsx", [["N"]])
    rows = "".join(f'<x:row r="{r}"><x:c r="A{r}"><x:v>1</x:v></x:c></x:row>' for r in range(1, MAX_ROWS + 2))
    rewrite(
        path,
        SHEET,
        b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
        + rows.encode()
        + b"</x:sheetData></x:worksheet>",
    )
    with pytest.raises(InputError, match="has more than 20,000 rows"):
        check_container(path)


def test_a_dtd_in_any_part_is_refused(make_workbook):
    path = make_workbook("p.xlsx", [["STATE"], ["TEXAS"]])
    with zipfile.ZipFile(path) as zf:
        rels = zf.read("xl/_rels/workbook.xml.rels")
    body = re.sub(rb"^<\?xml[^>]*\?>", b"", rels)
    rewrite(path, "xl/_rels/workbook.xml.rels", b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "x">]>' + body)
    with pytest.raises(InputError, match=r"p\.xlsx: member xl/_rels/workbook\.xml\.rels declares a DTD"):
        read_workbook(path)


def test_utf16_xml_is_refused(make_workbook):
    path = make_workbook("p.xlsx", [["N"]])
    rewrite(path, SHEET, b"\xff\xfe" + sheet_xml(numbers(2)).decode().encode("utf-16-le"))
    with pytest.raises(InputError, match="is not UTF-8 XML"):
        check_container(path)


def test_a_header_that_understates_a_member_is_caught_at_the_lie(make_workbook):
    path = make_workbook("p.xlsx", [["N"]])
    rewrite(path, SHEET, sheet_xml(numbers(500)))
    set_declared_size(path, SHEET, 100)
    with pytest.raises(InputError, match=r"p\.xlsx: member .*sheet1\.xml inflates to more than the 100 bytes"):
        check_container(path)


def test_a_header_that_overstates_a_member_is_refused(make_workbook):
    path = make_workbook("p.xlsx", [["N"]])
    with zipfile.ZipFile(path) as zf:
        size = zf.getinfo(SHEET).file_size
    set_declared_size(path, SHEET, size + 10)
    with pytest.raises(InputError, match=rf"holds {size:,} bytes, not the {size + 10:,} its header declares"):
        check_container(path)


def test_a_member_that_inflates_a_hundredfold_is_refused(make_workbook):
    path = make_workbook("p.xlsx", [["N"]])
    rewrite(path, "xl/media/padding.bin", bytes(2 * 2**20))
    with pytest.raises(InputError, match=r"member xl/media/padding\.bin inflates [\d,]+ times"):
        check_container(path)


def test_odd_compression_and_twin_members_are_refused(make_workbook):
    path = make_workbook("p.xlsx", [["N"]])
    rewrite(path, "xl/extra.xml", b"<x/>", method=zipfile.ZIP_BZIP2)
    with pytest.raises(InputError, match="uses compression method 12, which Excel never writes"):
        check_container(path)
    path = make_workbook("q.xlsx", [["N"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate it is told to write
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr(SHEET, sheet_xml(numbers(2)))
    with pytest.raises(InputError, match=r"q\.xlsx: the workbook holds two members named xl/worksheets/sheet1\.xml"):
        check_container(path)


def test_a_file_larger_than_any_list_is_refused_unread(tmp_path):
    path = tmp_path / "big.xlsx"
    with open(path, "wb") as fh:
        fh.write(b"PK\x03\x04")
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing is written
    with pytest.raises(InputError, match=r"big\.xlsx: the file is 20,971,521 bytes, more than any list"):
        check_container(path)
