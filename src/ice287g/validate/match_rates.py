"""Match rates of the agencies' county FIPS codes and FBI ORIs: what the build prints and the README shows.

Computed from the published ``agencies`` and ``agreements`` tables only, so that ``ice287g docs``
writes the README's table from the committed release and a test can tell when it drifts.
"""

from __future__ import annotations

import pandas as pd

README_START = "<!-- match-rates:start (generated from data/ by `ice287g docs`) -->"
README_END = "<!-- match-rates:end -->"

# The targets: (group, code, share of the group that must have it).
TARGETS = {
    ("county agencies", "county_fips"): 0.99,
    ("municipal agencies", "county_fips"): 0.95,
    ("agencies with an active agreement", "ori"): 0.95,
    ("sheriffs and police ever listed", "ori"): 0.90,
}


def groups(agencies: pd.DataFrame, agreements: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The agencies each reported rate is about, by group name."""
    active = set(agreements.loc[agreements["status"] == "active", "agency_id"])
    level = agencies["government_level"]
    return {
        "county agencies": agencies[level == "county"],
        "municipal agencies": agencies[level == "municipal"],
        "state agencies": agencies[level == "state"],
        "other agencies": agencies[level == "other"],
        "agencies with an active agreement": agencies[agencies["agency_id"].isin(active)],
        "sheriffs and police ever listed": agencies[agencies["agency_kind"].isin(["sheriff", "police"])],
        "all agencies": agencies,
    }


def match_rates(agencies: pd.DataFrame, agreements: pd.DataFrame) -> pd.DataFrame:
    """One row per group and code: agencies, matched by rule, by reviewed fix, none, and the share."""
    rows = []
    for group, members in groups(agencies, agreements).items():
        for code, how in (("county_fips", "county_match"), ("ori", "ori_match")):
            reviewed = int((members[how] == "reviewed_fix").sum())
            found = int(members[code].notna().sum())
            target = TARGETS.get((group, code))
            rows.append(
                {
                    "group": group,
                    "code": code,
                    "agencies": len(members),
                    "by_rule": found - reviewed,
                    "reviewed": reviewed,
                    "none": len(members) - found,
                    "share": found / len(members) if len(members) else 0.0,
                    "target": target,
                }
            )
    return pd.DataFrame(rows)


def rates_markdown(rates: pd.DataFrame) -> str:
    """The README's table of match rates, between its markers."""
    lines = [
        README_START,
        "| agencies | code | n | matched by rule | reviewed fix | none | share | target |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rates.itertuples():
        target = f"≥ {row.target:.0%}" if pd.notna(row.target) else ""
        lines.append(
            f"| {row.group} | `{row.code}` | {row.agencies:,} | {row.by_rule:,} | {row.reviewed:,} | {row.none:,} "
            f"| {row.share:.1%} | {target} |"
        )
    return "\n".join([*lines, README_END])


def rates_lines(rates: pd.DataFrame) -> list[str]:
    """The rates as the build prints them, one line per group and code, with each target met or not."""
    out = []
    for row in rates.itertuples():
        verdict = ""
        if pd.notna(row.target):
            verdict = f" (target {row.target:.0%}: {'met' if row.share >= row.target else 'NOT met'})"
        out.append(
            f"{row.code} for {row.group}: {row.share:.1%} of {row.agencies:,} "
            f"({row.by_rule:,} by rule, {row.reviewed:,} reviewed, {row.none:,} none){verdict}"
        )
    return out
