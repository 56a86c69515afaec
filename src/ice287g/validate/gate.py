"""The Great Expectations gate: every published resource against its suite, before publishing.

The suites come from ``ice287g.validate.suites`` (generated from the marts' YAML, plus the reviewed ones in
``expectations/``). Reviewed cross-table checks run on small DataFrames derived here (pandas
joins), since GX validates one DataFrame at a time. Resources are read from DuckDB into pandas, as
GX through SQLAlchemy returns nothing on DuckDB. A failure raises ValidationFailed naming the suite,
the expectation and example bad values; the JSON summary written beside the build is deterministic
(no run ids or clocks) so it can ship in the package. The Data Docs HTML is written beside it, under
``gx/uncommitted/data_docs/local_site``; the GX context itself lives in memory only, so no suite,
checkpoint or raw result JSON is kept.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ice287g.errors import BuildError
from ice287g.validate.schema import RESOURCES
from ice287g.validate.suites import Plan

# Where the Data Docs go in the report folder: the path a file context used, which the README names.
DATA_DOCS = Path("gx", "uncommitted", "data_docs", "local_site")


class ValidationFailed(BuildError):
    """One or more expectations failed; the message lists each with example rows."""


@dataclass
class SuiteOutcome:
    name: str
    success: bool
    results: list[dict] = field(default_factory=list)


def check_frames(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Small tables whose rows each state one cross-table fact, for the reviewed suites in checks/."""
    agreements, listings = frames["agreements"], frames["listings"]
    # An independent reading of "on the newest list" (the models use the newest lineage sequence):
    # the participating rows still listed are the open spans of listings.
    still_listed = (listings["list"] == "participating") & listings["last_publication_id"].isna()
    on_newest = set(listings.loc[still_listed, "agreement_id"].dropna())
    active = agreements[agreements["status"] == "active"][["agreement_id"]]
    unidentified = listings[listings["agency_id"].isna()][["listing_id", "row_flags"]]
    damaged = unidentified["row_flags"].fillna("").str.split(",").apply(lambda flags: "corrupted_row" in flags)
    return {
        "county_counts_add_up": county_counts_add_up(frames),
        "active_agreements_on_newest_list": active.assign(on_newest_list=active["agreement_id"].isin(on_newest)),
        "unidentified_listings_are_flagged": unidentified.assign(is_flagged_damaged=damaged.astype(bool)),
    }


def county_counts_add_up(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per publication, state and model of ``counts``: its count beside the sum of the
    county spans that cover the publication."""
    publications = frames["publications"][["publication_id", "list", "sequence"]]
    spans = frames["county_counts"]
    sequence_of = publications.set_index("publication_id")["sequence"]
    spans = spans.assign(
        first=spans["first_publication_id"].map(sequence_of),
        last=spans["last_publication_id"].map(sequence_of).fillna(float("inf")),
    )
    covered = spans.merge(publications, on="list")
    covered = covered[(covered["sequence"] >= covered["first"]) & (covered["sequence"] <= covered["last"])]
    summed = covered.groupby(["publication_id", "state_code", "support_model"], as_index=False)["count"].sum()
    table = frames["counts"][["publication_id", "state_code", "support_model", "count"]].merge(
        summed, on=["publication_id", "state_code", "support_model"], how="outer", suffixes=("", "_by_county")
    )
    return table.fillna({"count": 0, "count_by_county": 0}).astype({"count": "int64", "count_by_county": "int64"})


def _quiet_gx() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)


def _rows(frame: pd.DataFrame, limit: int = 3) -> list[str]:
    """The first rows of ``frame``, each as ``column=value, ...``."""
    first = frame.head(limit)
    shown = first.astype(object).where(first.notna(), None)
    return [", ".join(f"{k}={v!r}" for k, v in row.items()) for row in shown.to_dict("records")]


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


def validate(plan: Plan, report_dir: Path, parameters: dict) -> dict:
    """Validate every frame of ``plan`` against its suite; write report_dir/validation.json and Data Docs.

    Returns the summary; raises ValidationFailed when any expectation fails.
    """
    _quiet_gx()
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    shutil.rmtree(report_dir, ignore_errors=True)
    report_dir.mkdir(parents=True)
    # In memory: a file context wrote every suite (value sets of thousands of ids), validation
    # definition, checkpoint and result as JSON and compared them with the files on each run. Only
    # the Data Docs site writes to disk, where the file context put it.
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": True,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(report_dir / DATA_DOCS)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    context = gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            data_docs_sites={"local_site": site},
            progress_bars=ProgressBarsConfig(globally=False),
        ),
    )
    # one asset and batch definition for every frame (each run hands it its frame): GX saves its
    # project configuration, as YAML, on every asset and batch definition it adds
    asset = context.data_sources.add_pandas("ice287g").add_dataframe_asset("frames")
    batch_definition = asset.add_batch_definition_whole_dataframe("all")
    outcomes = []
    published = set(plan.frames) & set(RESOURCES)
    for name in sorted(plan.frames, key=lambda n: (n not in published, n)):
        # add, not add_or_update: the context is new, and comparing suites expectation by
        # expectation (large value sets) cost more than validating them
        suite = context.suites.add(gx.ExpectationSuite(**plan.suites[name]))
        # one frame per suite, so no checkpoint: it would run a single definition and add nothing
        # the Data Docs need (they read the results the run stores in the context)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
        )
        validation = definition.run(
            batch_parameters={"dataframe": plan.frames[name]},
            expectation_parameters=parameters,
            # BASIC has every field validation.json reads (unexpected_count, partial_unexpected_list,
            # observed_value); SUMMARY only adds counts within that same sample of 20 and the row
            # positions of an unordered read, and costs every column-map expectation two more metrics
            # (GX re-reads the whole expectation, value sets included, for each one)
            result_format={"result_format": "BASIC"},
        )
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
    # once for every suite: rebuilding the Data Docs after each run took most of the time
    context.build_data_docs()
    if not summary["success"]:
        lines = []
        for suite in summary["suites"]:
            for failure in suite["failed"]:
                target = failure.get("column") or failure.get("column_list") or "table"
                extra = failure.get("examples") or failure.get("observed_value") or failure.get("error")
                if failure["expectation"] == "expect_table_row_count_to_equal":
                    # a derived table of offending rows (formula-like cells, counts that do not add
                    # up) must be empty: its rows are what to read, not their count
                    extra = f"{extra} rows: " + "; ".join(_rows(plan.frames[suite["suite"]]))
                lines.append(f"{suite['suite']}: {failure['expectation']} on {target} failed (e.g. {extra})")
        docs = report_dir / DATA_DOCS / "index.html"
        raise ValidationFailed("validation", "\n  " + "\n  ".join(lines) + f"\n  report: {docs}")
    return summary
