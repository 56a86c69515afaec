"""Assemble the Great Expectations suites: generated from the marts' YAML, plus the reviewed ones.

Every column rule of a published table lives once, as a dbt data test in ``models/marts/_marts.yml``
(types, not-null, unique keys, accepted values, relationships, ranges, patterns). This module
turns each of them into the Great Expectations expectation that checks the same thing on the
DataFrame that is published, and tags it with the dbt test it comes from (``meta.dbt_test``), so
the gate and the YAML cannot drift: a YAML test kind with no counterpart here stops the build.
``expectations/`` keeps only what the YAML cannot say (row counts against the previous release,
distributions, cross-table invariants); those suites are appended to the generated ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ice287g.errors import ProjectError
from ice287g.validate.schema import (
    RESOURCES,
    data_tests_of_models,
    model_node,
    pandas_type,
    ref_target,
    tested_column,
)

# Date ranges: the program's first MOAs (dbt var program_start_date) to the day after the build.
DATE_RANGE = {"min_value": {"$PARAMETER": "earliest_date"}, "max_value": {"$PARAMETER": "latest_time"}}


@dataclass(frozen=True)
class Plan:
    """What to validate: each suite (GX suite dict) with the DataFrame it runs on."""

    suites: dict[str, dict]
    frames: dict[str, pd.DataFrame]


# The reviewed seed of formula-like values that no_formula_text lets through.
ALLOWED_FORMULA_LIKE = "allowed_formula_like_values"
# What a spreadsheet runs as a formula when a cell begins with it (OWASP's CSV injection list).
FORMULA_PREFIX = r"^[=+\-@\t\r]"


def relationship_targets(manifest: dict) -> set[str]:
    """Tables besides the marts that the generated expectations read (seeds included): the targets
    of relationships tests, and the allowed formula-like values when a mart tests for them."""
    tables = set()
    for name in RESOURCES:
        for test in data_tests_of_models(manifest).get(name, []):
            kind = test["test_metadata"]["name"]
            if kind in ("relationships", "references_or_unknown"):
                tables.add(ref_target(test["test_metadata"]["kwargs"]["to"]))
            elif kind == "no_formula_text":
                tables.add(ALLOWED_FORMULA_LIKE)
    return tables


def _model_of(test: dict) -> str:
    """The name of the model a dbt test is attached to."""
    return test["attached_node"].split(".")[-1]


def _expectation(kind: str, test: dict, **kwargs) -> dict:
    return {"type": kind, "kwargs": kwargs, "meta": {"dbt_test": test["unique_id"]}}


def _column_rule(kind: str, **fixed) -> Callable:
    def make(test: dict, column: str, kwargs: dict, frames: dict, derived: dict) -> list[dict]:
        return [_expectation(kind, test, column=column, **fixed)]

    return make


def _accepted_values(test, column, kwargs, frames, derived):
    return [_expectation("expect_column_values_to_be_in_set", test, column=column, value_set=list(kwargs["values"]))]


def _in_table(*also: str) -> Callable:
    """Values of the column must be values of the test's target column (or one of ``also``): a
    derived table of the rows whose value is neither, which must be empty.

    Not a value set: GX re-serialises an expectation's whole configuration dozens of times while
    it validates it, and a set of the FBI roster's 18,330 ORIs made that most of the gate's time."""

    def make(test, column, kwargs, frames, derived):
        model, target = _model_of(test), ref_target(kwargs["to"])
        allowed = {*frames[target][kwargs["field"]].dropna(), *also}
        frame = frames[model]
        name = f"{model}_{column}_not_in_{target}_{kwargs['field']}"
        derived[name] = frame[frame[column].notna() & ~frame[column].isin(allowed)].reset_index(drop=True)
        return [(name, _expectation("expect_table_row_count_to_equal", test, value=0))]

    return make


def _unique_combination(test, column, kwargs, frames, derived):
    return [_expectation("expect_compound_columns_to_be_unique", test, column_list=list(kwargs["columns"]))]


def _not_before(test, column, kwargs, frames, derived):
    return [
        _expectation(
            "expect_column_pair_values_a_to_be_greater_than_b",
            test,
            column_A=column,
            column_B=kwargs["other"],
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        )
    ]


def _at_least(test, column, kwargs, frames, derived):
    return [_expectation("expect_column_values_to_be_between", test, column=column, min_value=kwargs["value"])]


def _matches_pattern(test, column, kwargs, frames, derived):
    pattern = kwargs["pattern"]
    return [_expectation("expect_column_values_to_match_regex", test, column=column, regex=f"^(?:{pattern})$")]


def _sums_to(test, column, kwargs, frames, derived):
    """A derived table, one row per parent row: its value beside the sum of the children's."""
    model = _model_of(test)
    parent, key = frames[ref_target(kwargs["to"])], kwargs["group_by"]
    sums = frames[model].groupby(key, as_index=False)[column].sum().rename(columns={column: "summed"})
    table = parent[[key, kwargs["to_column"]]].merge(sums, on=key, how="left")
    table["summed"] = table["summed"].fillna(0).astype("int64")
    table["expected"] = table.pop(kwargs["to_column"]).astype("int64")
    name = f"{model}_{column}_sums_to_{ref_target(kwargs['to'])}_{kwargs['to_column']}"
    derived[name] = table
    return [(name, _expectation("expect_column_pair_values_to_be_equal", test, column_A="expected", column_B="summed"))]


def formula_like_cells(model: str, frame: pd.DataFrame, text_columns: list[str], allowed: pd.DataFrame) -> pd.DataFrame:
    """The text cells of ``model`` a spreadsheet would run as formulas, less the reviewed ones."""
    cells = [
        pd.DataFrame({"column_name": column, "value": values[values.str.contains(FORMULA_PREFIX, regex=True)]})
        for column in text_columns
        for values in [frame[column].dropna().astype(str)]
    ]
    found = pd.concat(cells, ignore_index=True) if cells else pd.DataFrame(columns=["column_name", "value"])
    mine = allowed[allowed["table_name"] == model][["column_name", "value"]]
    kept = found.merge(mine, on=["column_name", "value"], how="left", indicator=True)
    return kept[kept["_merge"] == "left_only"].drop(columns="_merge").reset_index(drop=True)


def _no_formula_text(test, column, kwargs, frames, derived):
    """A derived table of the offending cells (column, value), which must be empty."""
    model = _model_of(test)
    # DuckDB's varchar columns arrive as object (or string) dtype; dates, numbers and booleans do not
    frame = frames[model]
    text_columns = [
        c for c in frame.columns if pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])
    ]
    name = f"{model}_formula_like_cells"
    derived[name] = formula_like_cells(model, frame, text_columns, frames[ALLOWED_FORMULA_LIKE])
    return [(name, _expectation("expect_table_row_count_to_equal", test, value=0))]


# One generator per dbt test kind used in the marts' YAML.
GENERATORS: dict[str, Callable] = {
    "not_null": _column_rule("expect_column_values_to_not_be_null"),
    "unique": _column_rule("expect_column_values_to_be_unique"),
    "accepted_values": _accepted_values,
    "relationships": _in_table(),
    "references_or_unknown": _in_table("unknown"),
    "unique_combination": _unique_combination,
    "not_before": _not_before,
    "at_least": _at_least,
    "in_program_dates": _column_rule("expect_column_values_to_be_between", **DATE_RANGE),
    "matches_pattern": _matches_pattern,
    "sums_to": _sums_to,
    "no_formula_text": _no_formula_text,
}


def generated_suites(manifest: dict, frames: dict[str, pd.DataFrame]) -> Plan:
    """The structural suite of every mart (columns in order, types, then one expectation per YAML test),
    plus derived tables for tests that span tables."""
    suites, derived = {}, {}
    tests = data_tests_of_models(manifest)
    for name in RESOURCES:
        node = model_node(manifest, name)
        expectations = [
            {
                "type": "expect_table_columns_to_match_ordered_list",
                "kwargs": {"column_list": list(node["columns"])},
                "meta": {"dbt_model": node["unique_id"]},
            }
        ]
        for column in node["columns"].values():
            expectations.append(
                {
                    "type": "expect_column_values_to_be_of_type",
                    "kwargs": {"column": column["name"], "type_": pandas_type(name, column)},
                    "meta": {"dbt_model": node["unique_id"]},
                }
            )
        for test in sorted(tests.get(name, []), key=lambda t: t["unique_id"]):
            kind = test["test_metadata"]["name"]
            if kind not in GENERATORS:
                raise ProjectError(
                    "models/marts/_marts.yml",
                    f"{name}: dbt test {kind!r} has no Great Expectations counterpart; "
                    "add one to ice287g.validate.suites.GENERATORS",
                )
            if (test.get("config") or {}).get("where"):
                raise ProjectError(
                    "models/marts/_marts.yml",
                    f"{name}: dbt test {kind!r} has a `where` config, which the published-frame check cannot apply",
                )
            kwargs = test["test_metadata"]["kwargs"]
            column = tested_column(test)
            for made in GENERATORS[kind](test, column, kwargs, frames, derived):
                suite, expectation = made if isinstance(made, tuple) else (name, made)
                suites.setdefault(suite, {"name": suite, "expectations": []})["expectations"].append(expectation)
        suites.setdefault(name, {"name": name, "expectations": []})["expectations"][:0] = expectations
    for suite in suites.values():
        suite["meta"] = {"notes": "Generated from models/marts/_marts.yml by ice287g.validate.suites."}
    return Plan(suites, {**{n: frames[n] for n in RESOURCES}, **derived})


def load_reviewed(folder: Path) -> dict[str, dict]:
    """The reviewed suites: ``<resource>.json`` for a published table, ``checks/<name>.json`` for a
    derived cross-table frame."""
    suites = {}
    for path in sorted(folder.glob("*.json")) + sorted((folder / "checks").glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        if suite.get("name") != path.stem:
            raise ProjectError(str(path), f"suite name {suite.get('name')!r} differs from its file name")
        suites[path.stem] = suite
    return suites


def _reviewed(expectation: dict) -> dict:
    return {**expectation, "meta": {**expectation.get("meta", {}), "reviewed": True}}


def plan(
    manifest: dict,
    frames: dict[str, pd.DataFrame],
    reviewed_dir: Path,
    checks: dict[str, pd.DataFrame],
) -> Plan:
    """Generated suites with the reviewed ones appended (same name: expectations added; a reviewed
    check runs on its frame in ``checks``)."""
    generated = generated_suites(manifest, frames)
    suites = {name: dict(suite) for name, suite in generated.suites.items()}
    all_frames = {**generated.frames, **checks}
    for name, reviewed in load_reviewed(reviewed_dir).items():
        if name not in all_frames:
            raise ProjectError(str(reviewed_dir / f"{name}.json"), "names no published table and no derived check")
        base = suites.get(name, {"name": name, "expectations": []})
        suites[name] = {
            "name": name,
            "expectations": base["expectations"] + [_reviewed(e) for e in reviewed["expectations"]],
            "meta": reviewed.get("meta", base.get("meta", {})),
        }
    missing = sorted(set(all_frames) - set(suites))
    if missing:
        raise ProjectError(str(reviewed_dir), f"no expectation suite for {missing}")
    return Plan(suites, all_frames)
