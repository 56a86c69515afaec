"""What changed between two package versions: the changelog entry and `ice287g diff A B`.

Both compare the published CSVs of two version folders, so the comparison is exactly what a
user of the two versions would see.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

EXAMPLES = 25


def _read(folder: Path, resource: str, columns: list[str]) -> pd.DataFrame:
    return pd.read_csv(folder / "data" / f"{resource}.csv", usecols=columns, dtype=str, keep_default_na=False)


@dataclass
class Change:
    title: str
    items: list[str]


def _by_id(frame: pd.DataFrame, column: str) -> dict[str, str]:
    """``column`` of a table keyed by the table's first column (its id)."""
    return dict(zip(frame.iloc[:, 0], frame[column], strict=True))


def compare(old: Path | None, new: Path) -> list[Change]:
    """The changes from version folder ``old`` (None: an empty package) to ``new``."""
    empty = {
        "snapshots": pd.DataFrame(columns=["file_sha256", "file_name"]),
        "publications": pd.DataFrame(columns=["publication_id", "list", "published_date"]),
        "agreements": pd.DataFrame(columns=["agreement_id", "status", "signed_dates_listed"]),
        "agencies": pd.DataFrame(columns=["agency_id", "agency_name", "is_participating"]),
        "applications": pd.DataFrame(columns=["application_id", "outcome"]),
    }

    def frames(folder: Path | None) -> dict[str, pd.DataFrame]:
        if folder is None:
            return empty
        return {name: _read(folder, name, list(columns.columns)) for name, columns in empty.items()}

    before, after = frames(old), frames(new)
    changes = []

    new_files = after["snapshots"][~after["snapshots"]["file_sha256"].isin(before["snapshots"]["file_sha256"])]
    changes.append(Change("snapshots added", [f"{r.file_name} ({r.file_sha256[:12]})" for r in new_files.itertuples()]))
    added = after["publications"][
        ~after["publications"]["publication_id"].isin(before["publications"]["publication_id"])
    ]
    for list_name in ("participating", "pending"):
        rows = added[added["list"] == list_name].sort_values(["published_date", "publication_id"])
        changes.append(
            Change(
                f"{list_name} publications added",
                [f"{r.publication_id} ({r.published_date})" for r in rows.itertuples()],
            )
        )

    old_status, new_status = _by_id(before["agreements"], "status"), _by_id(after["agreements"], "status")
    changes.append(Change("agreements newly listed", sorted(set(new_status) - set(old_status))))
    for status in ("removed", "superseded"):
        changes.append(
            Change(
                f"agreements {status}",
                sorted(a for a, s in new_status.items() if s == status and old_status.get(a) != status),
            )
        )
    old_dates = dict(
        zip(before["agreements"]["agreement_id"], before["agreements"]["signed_dates_listed"], strict=True)
    )
    changes.append(
        Change(
            "agreements re-dated",
            [
                f"{a} ({old_dates[a]} → {d})"
                for a, d in zip(
                    after["agreements"]["agreement_id"], after["agreements"]["signed_dates_listed"], strict=True
                )
                if a in old_dates and old_dates[a] != d
            ],
        )
    )

    def participating(frame: pd.DataFrame) -> dict[str, str]:
        on = frame[frame["is_participating"] == "true"]
        return dict(zip(on["agency_id"], on["agency_name"], strict=True))

    was, now = participating(before["agencies"]), participating(after["agencies"])
    changes.append(Change("agencies joined", [f"{a} ({now[a]})" for a in sorted(set(now) - set(was))]))
    changes.append(Change("agencies left", [f"{a} ({was[a]})" for a in sorted(set(was) - set(now))]))
    old_outcome = dict(zip(before["applications"]["application_id"], before["applications"]["outcome"], strict=True))
    for outcome in ("signed", "withdrawn"):
        changes.append(
            Change(
                f"applications {outcome}",
                sorted(
                    a
                    for a, o in zip(
                        after["applications"]["application_id"], after["applications"]["outcome"], strict=True
                    )
                    if o == outcome and old_outcome.get(a) != outcome
                ),
            )
        )
    if old is not None:
        changes.extend(changed_ids(old, new))
    return changes


def changed_ids(old: Path, new: Path) -> list[Change]:
    """Ids of the old version that the new one no longer has, each with the id(s) now given to the
    same published rows (a merge of two agencies, a corrected typo in an id): found through
    ``listings``, whose ids name published rows and never change."""
    columns = ["listing_id", "agency_id", "agreement_id", "application_id"]
    rows = _read(old, "listings", columns).merge(
        _read(new, "listings", columns), on="listing_id", suffixes=("_old", "_new")
    )
    changes = []
    for entity, column in (("agency", "agency_id"), ("agreement", "agreement_id"), ("application", "application_id")):
        kept = set(_read(new, f"{'agencies' if entity == 'agency' else entity + 's'}", [column])[column])
        moved = rows[(rows[f"{column}_old"] != "") & (rows[f"{column}_old"] != rows[f"{column}_new"])]
        moved = moved[~moved[f"{column}_old"].isin(kept)]
        targets = moved.groupby(f"{column}_old")[f"{column}_new"].agg(lambda ids: " | ".join(sorted(set(ids) - {""})))
        changes.append(
            Change(f"{entity} ids changed", [f"{a} → {b or '(no longer listed)'}" for a, b in targets.items()])
        )
    return changes


def render(changes: list[Change], title: str, since: str | None, notes: str = "") -> str:
    """Markdown for a changelog entry (also what `ice287g diff` prints); ``notes`` explains a method
    release (why the same data now gives other bytes)."""
    lines = [f"## {title}", ""]
    lines.append(f"Changes since {since}." if since else "First version: everything below is new.")
    lines.append("")
    if notes.strip():
        lines += ["### Method changes", "", notes.strip(), "", "### Data changes", ""]
    for change in changes:
        lines.append(f"- **{change.title}**: {len(change.items)}")
        for item in change.items[:EXAMPLES]:
            lines.append(f"  - {item}")
        if len(change.items) > EXAMPLES:
            lines.append(f"  - … and {len(change.items) - EXAMPLES} more")
    return "\n".join(lines) + "\n"
