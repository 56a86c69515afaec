"""Read one .xlsx workbook into sheets of text cells, with each cell's hyperlink target.

Cell values come from python-calamine; hyperlink targets, which calamine does not return,
come straight from the sheet's ``<hyperlinks>`` element and its relationships part.
Nothing is cleaned here: text is kept exactly as published.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from xml.etree import ElementTree as ET

from python_calamine import CalamineWorkbook

from ice287g.errors import InputError

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"

# The <hyperlinks> block sits after <sheetData>; parsing only it (rather than the whole sheet,
# which can be half a megabyte) keeps reading the full archive within a few seconds.
_HYPERLINKS = re.compile(rb"<(?:[\w.-]+:)?hyperlinks\b.*?</(?:[\w.-]+:)?hyperlinks>", re.DOTALL)
_ROOT_START = re.compile(rb"<(?:([\w.-]+):)?worksheet\b[^>]*>", re.DOTALL)
_CELL_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


class Cell(NamedTuple):
    """One non-empty cell: 1-based column, text as published, calamine's value kind, link."""

    column_number: int
    text: str
    kind: str
    hyperlink: str | None = None


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


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def _expand_ref(ref: str) -> list[tuple[int, int]]:
    """Cells (row, column) covered by a reference such as ``G2`` or ``G2:G9``."""
    parts = ref.split(":")
    corners = []
    for part in parts:
        m = _CELL_REF.match(part.strip())
        if not m:
            return []
        corners.append((int(m.group(2)), _column_number(m.group(1))))
    (r1, c1), (r2, c2) = corners[0], corners[-1]
    return [(r, c) for r in range(min(r1, r2), max(r1, r2) + 1) for c in range(min(c1, c2), max(c1, c2) + 1)]


def _rels(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str | None]]:
    """Relationship id -> (target, target mode) for a part, empty if it has none."""
    folder, name = posixpath.split(part)
    rels_path = posixpath.join(folder, "_rels", name + ".rels")
    try:
        root = ET.fromstring(zf.read(rels_path))
    except KeyError:
        return {}
    return {
        rel.get("Id"): (rel.get("Target", ""), rel.get("TargetMode"))
        for rel in root.iter(f"{{{NS_PKG_REL}}}Relationship")
    }


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> worksheet part path inside the package."""
    workbook = ET.fromstring(zf.read("xl/workbook.xml"))
    rels = _rels(zf, "xl/workbook.xml")
    parts = {}
    for sheet in workbook.iter(f"{{{NS_MAIN}}}sheet"):
        target, _ = rels.get(sheet.get(f"{{{NS_DOC_REL}}}id"), ("", None))
        if not target:
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        parts[sheet.get("name")] = path
    return parts


def _hyperlinks(zf: zipfile.ZipFile, part: str) -> dict[tuple[int, int], str]:
    """(row, column) -> hyperlink target for one worksheet part."""
    data = zf.read(part)
    block = _HYPERLINKS.search(data)
    if block is None:
        return {}
    root_tag = _ROOT_START.search(data)
    prefix = root_tag.group(1) if root_tag else None
    close = b"</" + (prefix + b":" if prefix else b"") + b"worksheet>"
    fragment = ET.fromstring((root_tag.group(0) if root_tag else b"<worksheet>") + block.group(0) + close)
    rels = _rels(zf, part)
    links: dict[tuple[int, int], str] = {}
    for link in fragment.iter(f"{{{NS_MAIN}}}hyperlink"):
        rel_id = link.get(f"{{{NS_DOC_REL}}}id")
        target = rels.get(rel_id, ("", None))[0] if rel_id else ""
        if not target and link.get("location"):
            target = "#" + link.get("location")
        if not target:
            continue
        for cell in _expand_ref(link.get("ref", "")):
            links.setdefault(cell, target)
    return links


def _sniff(path: Path, display: str) -> None:
    head = path.read_bytes()[:512]
    if not head:
        raise InputError(display, "the file is empty (0 bytes)")
    if head.lstrip().lower().startswith((b"<!doctype", b"<html", b"<?xml", b"<head")):
        raise InputError(display, "this is an HTML/XML page saved under a workbook name, not an .xlsx workbook")
    if not head.startswith(b"PK"):
        raise InputError(display, "not an .xlsx workbook (no zip signature)")


def read_workbook(path: Path, display: str | None = None) -> list[Sheet]:
    """Every sheet of the workbook at ``path``, with non-empty cells as published.

    ``display`` names the file in errors (the registry's file name rather than a store path).
    """
    display = display or path.name
    _sniff(path, display)
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise InputError(display, f"corrupt workbook: member {bad} fails its CRC check")
            parts = _sheet_parts(zf)
            links_by_sheet = {name: _hyperlinks(zf, part) for name, part in parts.items() if part in zf.namelist()}
    except zipfile.BadZipFile as exc:
        raise InputError(display, f"corrupt or truncated workbook ({exc})") from exc
    except (KeyError, ET.ParseError) as exc:
        raise InputError(display, f"damaged workbook structure ({exc})") from exc

    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheets = []
        for index, name in enumerate(wb.sheet_names):
            calamine_sheet = wb.get_sheet_by_name(name)
            links = links_by_sheet.get(name, {})
            sheet = Sheet(index=index, name=name)
            # skip_empty_area=False anchors the grid at A1, so positions are the sheet's own.
            for i, values in enumerate(calamine_sheet.to_python(skip_empty_area=False)):
                row_number = i + 1
                cells = []
                for j, value in enumerate(values):
                    column_number = j + 1
                    link = links.get((row_number, column_number))
                    if value == "" and link is None:
                        continue
                    text, kind = cell_text(value)
                    cells.append(Cell(column_number, text, kind, link))
                sheet.rows.append(Row(row_number, cells))
            sheets.append(sheet)
    except InputError:
        raise
    except Exception as exc:  # calamine raises several unrelated types for damaged files
        raise InputError(display, f"cannot read workbook ({type(exc).__name__}: {exc})") from exc
    return sheets
