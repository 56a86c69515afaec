"""Recognise a sheet's column layout from its header row, against ``sources/layouts.csv``.

Layouts are detected from the header a sheet actually has, never from the file's name. A header
that matches no registered layout is an error naming the file and the header, not a guess.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from ice287g.errors import InputError
from ice287g.raw.workbook import Row, Sheet

LIST_KINDS = ("participating", "pending")


@dataclass(frozen=True)
class Layout:
    name: str
    list: str  # participating, pending, or summary (a sheet of totals, not a list)
    columns: tuple[str, ...]


@dataclass
class DetectedSheet:
    sheet: Sheet
    layout: Layout
    header: Row
    data_rows: list[Row]


def normalise_header(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().upper()


def load_layouts(path: Path) -> dict[tuple[str, ...], Layout]:
    with open(path, newline="", encoding="utf-8") as fh:
        layouts = [
            Layout(row["layout"], row["list"], tuple(normalise_header(c) for c in row["columns"].split("|")))
            for row in csv.DictReader(fh)
        ]
    return {layout.columns: layout for layout in layouts}


def detect(sheet: Sheet, layouts: dict[tuple[str, ...], Layout], display: str) -> DetectedSheet | None:
    """The sheet's layout, header and data rows; None for a sheet with no cells at all."""
    rows = [row for row in sheet.rows if not row.is_blank()]
    if not rows:
        return None
    header, data = rows[0], rows[1:]
    data_columns = {c.column_number for row in data for c in row.cells if c.text.strip()}
    named = []
    for cell in header.cells:
        name = normalise_header(cell.text)
        if name:
            named.append(name)
        elif cell.column_number in data_columns:
            raise InputError(display, f"sheet {sheet.name!r} has data under an unnamed column {cell.column_number}")
    unnamed_data = data_columns - {c.column_number for c in header.cells if c.text.strip()}
    if unnamed_data:
        raise InputError(
            display,
            f"sheet {sheet.name!r} has data in columns {sorted(unnamed_data)} that its header does not name",
        )
    layout = layouts.get(tuple(named))
    if layout is None:
        raw = [c.text for c in header.cells]
        raise InputError(
            display,
            f"sheet {sheet.name!r} has a layout never seen before (header row {header.row_number}: {raw}); "
            "register it in sources/layouts.csv and map its columns in the staging models",
        )
    return DetectedSheet(sheet, layout, header, data)


def detect_workbook(sheets: list[Sheet], layouts: dict[tuple[str, ...], Layout], display: str) -> list[DetectedSheet]:
    """All non-empty sheets with their layouts; exactly one must be a participating or pending list."""
    detected = [d for d in (detect(s, layouts, display) for s in sheets) if d is not None]
    lists = [d for d in detected if d.layout.list in LIST_KINDS]
    if not detected:
        raise InputError(display, "every sheet is empty")
    if not lists:
        raise InputError(display, "no sheet holds a participating or pending list")
    if len(lists) > 1:
        raise InputError(display, f"more than one list sheet: {[d.sheet.name for d in lists]}")
    # ICE has published pending lists with a header and no applications; a participating list
    # with no agreements has never been real and means a broken export.
    if not lists[0].data_rows and lists[0].layout.list == "participating":
        raise InputError(display, f"sheet {lists[0].sheet.name!r} has a header but no agreements")
    return detected
