"""Read and write the project's own CSV files: fixed columns, LF line ends, atomic replacement.

The registries (``sources/snapshots.csv``, ``sources/references.csv``) and the release index are
rewritten by commands; a reader, or a crash half-way, must only ever see the old file or the new.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path

from ice287g.errors import InputError


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step: a reader sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes files private; these files are for everyone
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def rows_text(rows: Iterable, fields: list[str]) -> str:
    """CSV text of dataclass ``rows`` (in the order given) under the header ``fields``."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(asdict(row))
    return out.getvalue()


def read_rows(path: Path, fields: list[str], what: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Each row of ``path`` with its subject (``<path>:<line>``); InputError when a column is missing."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = set(fields) - set(reader.fieldnames or [])
        if missing:
            raise InputError(str(path), f"{what} lacks columns {sorted(missing)}")
        for line, row in enumerate(reader, start=2):
            if None in row or None in row.values():
                # DictReader files the missing fields of a short line under their names as None, and
                # the fields of a long one under None
                raise InputError(
                    f"{path}:{line}",
                    f"the {what}'s line has {len([v for k, v in row.items() if k is not None and v is not None])}"
                    f" fields where its header has {len(reader.fieldnames)}: a line cut short or run together",
                )
            yield f"{path}:{line}", row


def manifest_rows(manifest: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """Each row of a mirror's ``MANIFEST.csv`` with its subject; InputError when there is none."""
    if not manifest.exists():
        raise InputError(str(manifest), "manifest not found")
    with open(manifest, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for line, row in enumerate(rows, start=2):
        yield f"{manifest}:{line}", row
