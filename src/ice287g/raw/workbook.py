"""Read one .xlsx workbook into sheets of text cells, with each cell's hyperlink target.

Cell values come from python-calamine; hyperlink targets, which calamine does not return,
come straight from the sheet's ``<hyperlinks>`` element and its relationships part.
Nothing is cleaned here: text is kept exactly as published. Before either reads a byte of
it, ``ice287g.raw.container.check_container`` bounds the file: no zip bomb, no endless sheet, no
XML entity trick.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple
from xml.etree import ElementTree as ET

from python_calamine import CalamineWorkbook

from ice287g.errors import InputError
from ice287g.raw.container import (
    CELL_REF,
    MAX_CELL_CHARACTERS,
    MAX_COLUMNS,
    MAX_LINKED_CELLS,
    MAX_ROWS,
    XML_PARTS,
    Members,
    check_container,
    column_number,
)

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
# The <hyperlinks> block sits after <sheetData>; parsing only it (rather than the whole sheet,
# which can be half a megabyte) keeps reading the full archive within a few seconds.
_HYPERLINKS = re.compile(rb"<(?:[\w.-]+:)?hyperlinks\b.*?</(?:[\w.-]+:)?hyperlinks>", re.DOTALL)
_ROOT_START = re.compile(rb"<(?:([\w.-]+):)?worksheet\b[^>]*>", re.DOTALL)


class Cell(NamedTuple):
    """One non-empty cell: 1-based column, text as published, calamine's value kind, link."""

    column_number: int
    text: str
    kind: str
    hyperlink: str | None = None


_new_cell = tuple.__new__
_TEXT, _LINK = itemgetter(1), itemgetter(3)
_NO_LINKS: dict[int, str] = {}


@dataclass
class Row:
    row_number: int
    cells: list[Cell]

    def is_blank(self) -> bool:
        return not any(c.text.strip() for c in self.cells)


@dataclass
class Sheet:
    index: int
    name: str
    rows: list[Row] = field(default_factory=list)


def cell_text(value: object) -> tuple[str, str]:
    """Render a calamine value as text, returning (text, kind)."""
    if isinstance(value, str):
        return value, "string"
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), "boolean"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat(), "date"
        return value.isoformat(sep=" "), "datetime"
    if isinstance(value, dt.date):
        return value.isoformat(), "date"
    if isinstance(value, dt.time | dt.timedelta):
        return str(value), "time"
    if isinstance(value, int):
        return str(value), "number"
    if isinstance(value, float):
        return (str(int(value)) if value.is_integer() else repr(value)), "number"
    return str(value), "string"


def _ref_area(ref: str) -> tuple[range, range] | None:
    """The rows and columns a reference such as ``G2`` or ``G2:G9`` covers; None when it is none."""
    corners = []
    for part in ref.split(":"):
        m = CELL_REF.match(part.strip())
        if not m:
            return None
        corners.append((int(m.group(2)), column_number(m.group(1))))
    (r1, c1), (r2, c2) = corners[0], corners[-1]
    return range(min(r1, r2), max(r1, r2) + 1), range(min(c1, c2), max(c1, c2) + 1)


def _rels(members: Members, part: str) -> dict[str, tuple[str, str | None]]:
    """Relationship id -> (target, target mode) for a part, empty if it has none."""
    folder, name = posixpath.split(part)
    rels_path = posixpath.join(folder, "_rels", name + ".rels")
    if rels_path not in members:
        return {}
    root = ET.fromstring(members[rels_path])
    return {
        rel.get("Id"): (rel.get("Target", ""), rel.get("TargetMode"))
        for rel in root.iter(f"{{{NS_PKG_REL}}}Relationship")
    }


def _sheet_parts(members: Members, display: str) -> dict[str, str]:
    """Sheet name -> worksheet part path inside the package; InputError when a part the workbook
    relates to (its sheets, shared strings, styles) is no XML part, which the container check
    would not have scanned."""
    workbook = ET.fromstring(members["xl/workbook.xml"])
    rels = _rels(members, "xl/workbook.xml")
    for target, mode in rels.values():
        if mode != "External" and not target.lower().endswith(XML_PARTS):
            raise InputError(display, f"the workbook keeps a part in {target!r}, which is no XML part")
    parts = {}
    for sheet in workbook.iter(f"{{{NS_MAIN}}}sheet"):
        target, _ = rels.get(sheet.get(f"{{{NS_DOC_REL}}}id"), ("", None))
        if not target:
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        parts[sheet.get("name")] = path
    return parts


def _hyperlinks(members: Members, part: str, display: str) -> dict[tuple[int, int], str]:
    """(row, column) -> hyperlink target for one worksheet part; InputError when its links reach
    past the grid caps or cover more cells than ``MAX_LINKED_CELLS``, counted before a cell is
    listed."""
    data = members[part]
    # the pattern has no literal to search for: start it where the element's name is
    found = data.find(b"hyperlinks")
    block = _HYPERLINKS.search(data, data.rfind(b"<", 0, found)) if found > 0 else None
    if block is None:
        return {}
    root_tag = _ROOT_START.search(data)
    prefix = root_tag.group(1) if root_tag else None
    close = b"</" + (prefix + b":" if prefix else b"") + b"worksheet>"
    fragment = ET.fromstring((root_tag.group(0) if root_tag else b"<worksheet>") + block.group(0) + close)
    rels = _rels(members, part)
    links: dict[tuple[int, int], str] = {}
    covered = 0
    for link in fragment.iter(f"{{{NS_MAIN}}}hyperlink"):
        rel_id = link.get(f"{{{NS_DOC_REL}}}id")
        target = rels.get(rel_id, ("", None))[0] if rel_id else ""
        if not target and link.get("location"):
            target = "#" + link.get("location")
        area = _ref_area(link.get("ref", ""))
        if not target or area is None:
            continue
        rows, columns = area
        if rows[-1] > MAX_ROWS or columns[-1] > MAX_COLUMNS:
            raise InputError(display, f"a hyperlink of {part} covers {link.get('ref')}, beyond the grid of any list")
        covered += len(rows) * len(columns)
        if covered > MAX_LINKED_CELLS:
            raise InputError(
                display, f"the hyperlinks of {part} cover more than {MAX_LINKED_CELLS:,} cells: far more than any list"
            )
        for row in rows:
            for column in columns:
                links.setdefault((row, column), target)
    return links


def _by_row(links: dict[tuple[int, int], str]) -> dict[int, dict[int, str]]:
    """Row -> column -> target: the reader looks a row up once, not each of its cells."""
    rows: dict[int, dict[int, str]] = {}
    for (row, column), target in links.items():
        rows.setdefault(row, {})[column] = target
    return rows


def _stored(members: Members) -> io.BytesIO:
    """The members as a zip that stores them uncompressed, for calamine to read without
    inflating them a second time."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    buffer.seek(0)
    return buffer


def _check_text_lengths(sheet: Sheet, display: str) -> None:
    """Refuse a cell whose text or link is longer than any list's (the models compare names in
    pairs: one name of megabytes once took dbt past 8 GiB)."""

    def size(cell: Cell) -> int:
        return max(len(cell.text), len(cell.hyperlink or ""))

    # measured through C-level maps (no Python call per cell): this ran for every one of the
    # archive's two million cells, and a call each took a tenth of the read
    cells = list(chain.from_iterable(row.cells for row in sheet.rows))
    longest = max(
        max(map(len, map(_TEXT, cells)), default=0), max(map(len, filter(None, map(_LINK, cells))), default=0)
    )
    if longest > MAX_CELL_CHARACTERS:
        row, cell = next((r, c) for r in sheet.rows for c in r.cells if size(c) == longest)
        where = f"{_column_letters(cell.column_number)}{row.row_number}"
        raise InputError(
            display,
            f"cell {where} of sheet {sheet.name!r} holds {longest:,} characters (text or link), more than any "
            f"cell of a list ({MAX_CELL_CHARACTERS:,})",
        )


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def read_workbook(path: Path, display: str | None = None) -> list[Sheet]:
    """Every sheet of the workbook at ``path``, with non-empty cells as published.

    ``display`` names the file in errors (the registry's file name rather than a store path).
    """
    display = display or path.name
    members = check_container(path, display)
    try:
        parts = _sheet_parts(members, display)
        links_by_sheet = {name: _hyperlinks(members, part, display) for name, part in parts.items() if part in members}
    except (KeyError, ET.ParseError) as exc:
        raise InputError(display, f"damaged workbook structure ({exc})") from exc

    try:
        wb = CalamineWorkbook.from_filelike(_stored(members))
        sheets = []
        for index, name in enumerate(wb.sheet_names):
            calamine_sheet = wb.get_sheet_by_name(name)
            links = _by_row(links_by_sheet.get(name, {}))
            sheet = Sheet(index=index, name=name)
            # skip_empty_area=False anchors the grid at A1, so positions are the sheet's own.
            grid = calamine_sheet.to_python(skip_empty_area=False)
            # Two million cells in the archive: each is built in one comprehension, as a bare tuple
            # typed Cell (no Python-level __new__), text without a call to cell_text; the grid's
            # empty cells are dropped unless a link sits on them.
            for row_number, values in enumerate(grid, start=1):
                row_links = links.get(row_number, _NO_LINKS)
                cells = [
                    _new_cell(Cell, (column_number, value, "string", link))
                    if type(value) is str
                    else _new_cell(Cell, (column_number, *cell_text(value), link))
                    for column_number, value in enumerate(values, start=1)
                    if (link := row_links.get(column_number)) is not None or value != ""
                ]
                sheet.rows.append(Row(row_number, cells))
            _check_text_lengths(sheet, display)
            sheets.append(sheet)
    except InputError:
        raise
    except Exception as exc:  # calamine raises several unrelated types for damaged files
        raise InputError(display, f"cannot read workbook ({type(exc).__name__}: {exc})") from exc
    return sheets
