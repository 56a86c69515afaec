"""The data dictionary of a version folder: every table of its descriptor with its grain, key, rows
and downloads (with checksums), and every column with its type, description, constraints and
example values read from the table itself."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ice287g.consume.loader import SUMS
from ice287g.util.hashing import parse_sums

EXAMPLES = 3
EXAMPLE_LENGTH = 60


def parquet_checksums(folder: Path) -> dict[str, str]:
    """sha256 by path (``data/<table>.parquet``) from the version's SHA256SUMS."""
    sums = folder / SUMS
    return parse_sums(sums.read_bytes(), str(sums)) if sums.exists() else {}


def constraints(field: dict) -> list[str]:
    """A field's Table Schema constraints as short phrases."""
    given = field.get("constraints", {})
    phrases = []
    if given.get("required"):
        phrases.append("required")
    if given.get("unique"):
        phrases.append("unique")
    if "enum" in given:
        phrases.append("one of: " + ", ".join(str(v) for v in given["enum"]))
    for key, word in (("minimum", "at least"), ("maximum", "at most"), ("minLength", "length at least")):
        if key in given:
            phrases.append(f"{word} {given[key]}")
    if "pattern" in given:
        phrases.append(f"matches {given['pattern']}")
    return phrases


def examples(column: pd.Series) -> list[str]:
    """The most frequent non-empty values (ties in value order), shortened for the page."""
    values = column[column != ""]
    counts = values.value_counts().sort_index().sort_values(ascending=False, kind="stable")
    return [v if len(v) <= EXAMPLE_LENGTH else v[: EXAMPLE_LENGTH - 1] + "…" for v in counts.index[:EXAMPLES]]


def tables(folder: Path, descriptor: dict, downloads: str) -> list[dict]:
    """One entry per resource of ``descriptor`` (a version folder's), in its order."""
    parquet = parquet_checksums(folder)
    entries = []
    for resource in descriptor["resources"]:
        frame = pd.read_csv(folder / resource["path"], dtype=str, keep_default_na=False)
        schema = resource["schema"]
        name = resource["name"]
        parquet_path = f"data/{name}.parquet"
        files = [
            {"format": "CSV", "url": f"{downloads}/{name}.csv", "sha256": resource["hash"].removeprefix("sha256:")}
        ]
        if parquet_path in parquet:
            files.append({"format": "Parquet", "url": f"{downloads}/{name}.parquet", "sha256": parquet[parquet_path]})
        entries.append(
            {
                "name": name,
                "title": resource.get("title", name),
                "grain": resource.get("description", ""),
                "primary_key": schema.get("primaryKey", []),
                "rows": len(frame),
                "bytes": resource.get("bytes"),
                "files": files,
                "columns": [
                    {
                        "name": field["name"],
                        "type": field["type"],
                        "description": field.get("description", ""),
                        "constraints": constraints(field),
                        "examples": examples(frame[field["name"]]) if field["name"] in frame else [],
                    }
                    for field in schema["fields"]
                ],
            }
        )
    return entries
