"""The Great Expectations gate: every published resource against its reviewed suite.

Suites live in ``expectations/<resource>.json``; cross-table checks in
``expectations/checks/<check>.json`` run on small DataFrames derived here (pandas joins), since
GX validates one DataFrame at a time. Resources are read from DuckDB into pandas, as GX through
SQLAlchemy returns nothing on DuckDB. A failure raises ValidationFailed naming the suite, the
expectation and example bad values; the JSON summary written beside the build is deterministic
(no run ids or clocks) so it can ship in the package.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ice287g.errors import InputError

EARLIEST_DATE = pd.Timestamp("2002-01-01")  # the first 287(g) agreements were signed in 2002


class ValidationFailed(InputError):
    """One or more expectations failed; the message lists each with example rows."""


@dataclass
class SuiteOutcome:
    name: str
    success: bool
    results: list[dict] = field(default_factory=list)


def load_suites(folder: Path) -> dict[str, dict]:
    suites = {}
    for path in sorted(folder.glob("*.json")) + sorted((folder / "checks").glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        if suite.get("name") != path.stem:
            raise InputError(str(path), f"suite name {suite.get('name')!r} differs from its file name")
        suites[path.stem] = suite
    return suites


def cross_table_frames(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Small tables whose rows each state one cross-table fact, for the suites in checks/."""
    agreements, agencies = frames["agreements"], frames["agencies"]
    publications, counts, listings = frames["publications"], frames["counts"], frames["listings"]

    agreement_agencies = agreements[["agreement_id", "agency_id"]].assign(
        agency_found=agreements["agency_id"].isin(agencies["agency_id"])
    )
    totals = counts.groupby("publication_id", as_index=False)["count"].sum()
    count_totals = publications[["publication_id", "row_count"]].merge(totals, on="publication_id", how="left")
    count_totals["counted"] = count_totals.pop("count").fillna(0).astype("int64")
    count_totals["row_count"] = count_totals["row_count"].astype("int64")

    # listings are spans: the rows still on the newest list are the open spans
    still_listed = (listings["list"] == "participating") & listings["last_publication_id"].isna()
    on_newest = set(listings.loc[still_listed, "agreement_id"].dropna())
    active = agreements[agreements["status"] == "active"][["agreement_id"]]
    active_on_newest = active.assign(on_newest_list=active["agreement_id"].isin(on_newest))
    return {
        "agreements_have_agencies": agreement_agencies,
        "counts_add_up": count_totals,
        "active_agreements_on_newest_list": active_on_newest,
    }


def _quiet_gx() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)


def _describe(result) -> dict:
    config = result.expectation_config
    kwargs = {k: v for k, v in config.kwargs.items() if k in ("column", "column_list", "column_A", "column_B")}
    entry = {"expectation": config.type, **kwargs, "success": bool(result.success)}
    details = result.result or {}
    if "unexpected_count" in details:
        entry["unexpected_count"] = int(details["unexpected_count"] or 0)
    if not result.success:
        examples = details.get("partial_unexpected_list") or []
        entry["examples"] = [str(x) for x in examples[:5]]
        if "observed_value" in details:
            entry["observed_value"] = str(details["observed_value"])
        if result.exception_info and result.exception_info.get("raised_exception"):
            entry["error"] = result.exception_info.get("exception_message")
    return entry


def validate(
    frames: dict[str, pd.DataFrame],
    suites_dir: Path,
    report_dir: Path,
    parameters: dict,
    build_date: dt.date,
) -> dict:
    """Validate every resource and check; write report_dir/validation.json and Data Docs.

    Returns the summary; raises ValidationFailed when any expectation fails.
    """
    _quiet_gx()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    suites = load_suites(suites_dir)
    all_frames = {**frames, **cross_table_frames(frames)}
    missing = sorted(set(all_frames) - set(suites))
    if missing:
        raise InputError(str(suites_dir), f"no expectation suite for {missing}")

    shutil.rmtree(report_dir, ignore_errors=True)
    report_dir.mkdir(parents=True)
    context = gx.get_context(mode="file", project_root_dir=str(report_dir))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_or_update_pandas("ice287g")
    expectation_parameters = {
        **parameters,
        "earliest_date": EARLIEST_DATE,
        "build_date": pd.Timestamp(build_date),
    }
    outcomes = []
    for name in sorted(all_frames, key=lambda n: (n not in frames, n)):
        suite = context.suites.add_or_update(gx.ExpectationSuite(**suites[name]))
        batch_definition = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("all")
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
        )
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=name,
                validation_definitions=[definition],
                actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")],
                result_format={"result_format": "SUMMARY"},
            )
        )
        run = checkpoint.run(
            batch_parameters={"dataframe": all_frames[name]}, expectation_parameters=expectation_parameters
        )
        (validation,) = run.run_results.values()
        results = sorted(
            (_describe(r) for r in validation.results),
            key=lambda e: (e["expectation"], str(e.get("column", e.get("column_list", "")))),
        )
        outcomes.append(SuiteOutcome(name, bool(validation.success), results))

    summary = {
        "success": all(o.success for o in outcomes),
        "suites": [
            {
                "suite": o.name,
                "success": o.success,
                "expectations": len(o.results),
                "failed": [r for r in o.results if not r["success"]],
            }
            for o in outcomes
        ],
    }
    (report_dir / "validation.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    if not summary["success"]:
        lines = []
        for suite in summary["suites"]:
            for failure in suite["failed"]:
                target = failure.get("column") or failure.get("column_list") or "table"
                extra = failure.get("examples") or failure.get("observed_value") or failure.get("error")
                lines.append(f"{suite['suite']}: {failure['expectation']} on {target} failed (e.g. {extra})")
        docs = report_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
        raise ValidationFailed("validation", "\n  " + "\n  ".join(lines) + f"\n  report: {docs}")
    return summary
