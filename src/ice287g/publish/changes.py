"""What changed between two package versions: the changelog entry and `ice287g diff A B`.

Both compare the published CSVs of two version folders, so the comparison is exactly what a
user of the two versions would see.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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


# What the release page shows of each change: who, where, which model and when.
CHANGE_COLUMNS = [
    "change",
    "id",
    "agency_name",
    "state_code",
    "support_model",
    "signed_date",
    "first_listed_date",
    "last_listed_date",
    "detail",
]
AGREEMENT_COLUMNS = [
    "agreement_id",
    "agency_id",
    "support_model",
    "signed_date",
    "first_listed_date",
    "last_listed_date",
    "status",
    "superseded_by",
    "signed_dates_listed",
]
AGENCY_COLUMNS = ["agency_id", "state_code", "agency_name", "first_listed_date", "last_listed_date", "is_participating"]


def _frames(folder: Path | None) -> dict[str, pd.DataFrame]:
    columns = {
        "snapshots": ["file_sha256", "file_name"],
        "publications": ["publication_id", "list", "published_date"],
        "agreements": AGREEMENT_COLUMNS,
        "agencies": AGENCY_COLUMNS,
        "applications": ["application_id", "outcome"],
    }
    if folder is None:
        return {name: pd.DataFrame(columns=names, dtype=str) for name, names in columns.items()}
    return {name: _read(folder, name, names) for name, names in columns.items()}


def change_rows(old: Path | None, new: Path) -> pd.DataFrame:
    """The agreements added, removed, superseded and re-dated and the agencies that joined or left,
    from version folder ``old`` (None: an empty package) to ``new``: one row per change with its
    agency, state, model and dates (``CHANGE_COLUMNS``), ordered by change, then id."""
    return _change_rows(_frames(old), _frames(new))


def _change_rows(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> pd.DataFrame:
    agencies = after["agencies"].set_index("agency_id")
    agreements = after["agreements"].join(agencies[["agency_name", "state_code"]], on="agency_id")
    old_agreements = before["agreements"].set_index("agreement_id")
    old_status = old_agreements["status"].to_dict()
    old_dates = old_agreements["signed_dates_listed"].to_dict()
    parts = []

    def add(change: str, rows: pd.DataFrame, id_column: str, detail: pd.Series | str = "") -> None:
        part = rows.rename(columns={id_column: "id"}).assign(change=change, detail=detail)
        parts.append(part.reindex(columns=CHANGE_COLUMNS).astype(object).fillna(""))

    ids = agreements["agreement_id"]
    add("agreement added", agreements[~ids.isin(list(old_status))], "agreement_id")
    for status in ("removed", "superseded"):
        changed = agreements[(agreements["status"] == status) & (ids.map(old_status) != status)]
        detail = ("by " + changed["superseded_by"]) if status == "superseded" else ""
        add(f"agreement {status}", changed, "agreement_id", detail)
    before_dates = ids.map(old_dates).astype(object)
    redated = agreements[before_dates.notna() & (before_dates != agreements["signed_dates_listed"])]
    add(
        "agreement re-dated",
        redated,
        "agreement_id",
        before_dates[redated.index] + " → " + redated["signed_dates_listed"],
    )

    def participating(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["is_participating"] == "true"]

    was, now = participating(before["agencies"]), participating(after["agencies"])
    add("agency joined", now[~now["agency_id"].isin(was["agency_id"])], "agency_id")
    left = was[~was["agency_id"].isin(now["agency_id"])]
    # named as it was listed, with the date it was last listed when the new release still has it
    last_listed = left["agency_id"].map(agencies["last_listed_date"]).fillna("")
    add("agency left", left.assign(last_listed_date=last_listed), "agency_id")
    rows = pd.concat(parts, ignore_index=True)
    order = {change: n for n, change in enumerate(CHANGE_KINDS)}
    return rows.sort_values(["change", "id"], key=lambda c: c.map(order) if c.name == "change" else c, kind="stable")


CHANGE_KINDS = [
    "agreement added",
    "agreement removed",
    "agreement superseded",
    "agreement re-dated",
    "agency joined",
    "agency left",
]


def _fields(folder: Path) -> dict[str, dict[str, str]]:
    """Each table of the version in ``folder`` with its columns and their types: from its
    descriptor, else (a folder of bare CSVs) from the CSV headers, types unknown ("")."""
    descriptor = folder / "datapackage.json"
    if descriptor.is_file():
        resources = json.loads(descriptor.read_text(encoding="utf-8")).get("resources", [])
        return {
            r["name"]: {f["name"]: f.get("type", "") for f in r.get("schema", {}).get("fields", [])} for r in resources
        }
    return {p.stem: dict.fromkeys(pd.read_csv(p, nrows=0).columns, "") for p in sorted(folder.glob("data/*.csv"))}


def schema_changes(old: Path, new: Path) -> list[Change]:
    """Tables and columns added or removed, and column types changed, from ``old`` to ``new``."""
    before, after = _fields(old), _fields(new)
    both = sorted(set(before) & set(after))
    return [
        Change("tables added", sorted(set(after) - set(before))),
        Change("tables removed", sorted(set(before) - set(after))),
        Change(
            "columns added",
            [f"{t}.{c} ({after[t][c] or 'type unknown'})" for t in both for c in after[t] if c not in before[t]],
        ),
        Change("columns removed", [f"{t}.{c}" for t in both for c in before[t] if c not in after[t]]),
        Change(
            "column types changed",
            [
                f"{t}.{c}: {before[t][c]} → {after[t][c]}"
                for t in both
                for c in after[t]
                if c in before[t] and before[t][c] and after[t][c] and before[t][c] != after[t][c]
            ],
        ),
    ]


def compare(old: Path | None, new: Path) -> list[Change]:
    """The changes from version folder ``old`` (None: an empty package) to ``new``: the schema's,
    then the data's."""
    before, after = _frames(old), _frames(new)
    changes = schema_changes(old, new) if old is not None else []

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

    rows = _change_rows(before, after)

    def items(change: str, item: Callable[[pd.Series], str] = lambda r: r["id"]) -> list[str]:
        return [item(r) for _, r in rows[rows["change"] == change].iterrows()]

    def agreement(r: pd.Series, detail: str = "") -> str:
        return f"{r['id']} ({r['agency_name']}, {r['state_code']}{detail})"

    changes.append(Change("agreements newly listed", items("agreement added", agreement)))
    changes.append(Change("agreements removed", items("agreement removed", agreement)))
    changes.append(
        Change("agreements superseded", items("agreement superseded", lambda r: agreement(r, f"; {r['detail']}")))
    )
    changes.append(
        Change("agreements re-dated", items("agreement re-dated", lambda r: agreement(r, f": {r['detail']}")))
    )
    for change in ("joined", "left"):
        changes.append(
            Change(f"agencies {change}", items(f"agency {change}", lambda r: f"{r['id']} ({r['agency_name']})"))
        )
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
    release (why the same data now gives other bytes). Every change is named, but for a first
    version, where everything is new: it shows ``EXAMPLES`` of each."""
    limit = EXAMPLES if since is None else None
    lines = [f"## {title}", ""]
    lines.append(f"Changes since {since}." if since else "First version: everything below is new.")
    lines.append("")
    if notes.strip():
        lines += ["### Method changes", "", notes.strip(), "", "### Data changes", ""]
    for change in changes:
        lines.append(f"- **{change.title}**: {len(change.items)}")
        for item in change.items[:limit]:
            lines.append(f"  - {item}")
        if limit is not None and len(change.items) > limit:
            lines.append(f"  - … and {len(change.items) - limit} more")
    return "\n".join(lines) + "\n"
