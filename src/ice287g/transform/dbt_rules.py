"""The dbt project's conventions as dbt-score rules (`make lint` runs them; config in pyproject.toml).

Every model states its grain as the first sentence of its description ("One row per ..."),
declares its key in `meta.primary_key` and tests it (`unique` and `not_null`, or the project's
`unique_combination` test and `not_null` on each column for a compound key), is named for its
layer's folder, and does not rejoin an upstream concept (dbt-project-evaluator's rule) unless its
`meta.rejoin_reason` says why. Seeds declare and test their key the same way.

dbt-score loads this module from `rule_namespaces`; it needs dbt-score (a dev dependency) and is
imported by nothing else in the package. No `from __future__ import annotations`: dbt-score reads
each rule's argument annotation to know whether it checks models or seeds.
"""

import re
from pathlib import PurePosixPath

from dbt_score import Model, RuleViolation, Seed, Severity, rule

GRAIN_OPENING = "One row per "

# A mart is a published table: a plain plural name, no layer prefix.
LAYER_PREFIXES = ("stg_", "int_", "review_", "fct_", "dim_", "base_", "mart_", "rpt_")


def layer(model: Model) -> str | None:
    """The layer folder a model lives in (models/<layer>/...), or None outside models/."""
    parts = PurePosixPath(model.original_file_path).parts
    return parts[1] if len(parts) > 2 and parts[0] == "models" else None


def key_violation(node: Model | Seed) -> RuleViolation | None:
    """Why `node`'s declared key is missing or untested, or None when it is declared and tested."""
    key = node.meta.get("primary_key")
    if not isinstance(key, list) or not key or not all(isinstance(column, str) for column in key):
        return RuleViolation(message="No meta.primary_key (a list of its key columns).")
    column_tests = {column.name: {test.type for test in column.tests} for column in node.columns}
    nullable = [column for column in key if "not_null" not in column_tests.get(column, set())]
    if nullable:
        return RuleViolation(message=f"Key column(s) without a not_null test: {', '.join(nullable)}.")
    if len(key) == 1 and "unique" in column_tests[key[0]]:
        return None
    if any(
        test.type == "unique_combination" and sorted(test.kwargs.get("columns") or []) == sorted(key)
        for test in node.tests
    ):
        return None
    wanted = "a unique test" if len(key) == 1 else "a unique_combination test on exactly these columns"
    return RuleViolation(message=f"Key {', '.join(key)} has no {wanted}.")


@rule(severity=Severity.HIGH)
def description_states_grain(model: Model) -> RuleViolation | None:
    """A model's description starts with its grain: "One row per ..."."""
    if not " ".join((model.description or "").split()).startswith(GRAIN_OPENING):
        return RuleViolation(message=f'The description does not start with the grain ("{GRAIN_OPENING}...").')
    return None


@rule(severity=Severity.HIGH)
def primary_key_is_tested(model: Model) -> RuleViolation | None:
    """A model declares its key in meta.primary_key, and tests it unique and not null."""
    return key_violation(model)


@rule(severity=Severity.HIGH)
def seed_primary_key_is_tested(seed: Seed) -> RuleViolation | None:
    """A seed declares its key in meta.primary_key, and tests it unique and not null."""
    return key_violation(seed)


# Plurals that end in no s (one erratum, many errata).
LATIN_PLURALS = ("errata",)


@rule(severity=Severity.HIGH)
def name_matches_layer(model: Model) -> RuleViolation | None:
    """A model is named for its layer: stg_<source>__<table>, int_..., review_..., or a plain plural mart."""
    name, folder = model.name, layer(model)
    parts = PurePosixPath(model.original_file_path).parts
    if folder == "staging":
        source = parts[2] if len(parts) > 3 else r"[a-z0-9]+"
        if not re.fullmatch(rf"stg_{source}__[a-z0-9_]+", name):
            return RuleViolation(message=f"A staging model is named stg_<its folder>__<table>: {name}.")
    elif folder == "intermediate":
        if not re.fullmatch(r"int_[a-z0-9_]+", name):
            return RuleViolation(message=f"An intermediate model is named int_...: {name}.")
    elif folder == "review":
        if not re.fullmatch(r"review_[a-z0-9_]+", name):
            return RuleViolation(message=f"A review model is named review_...: {name}.")
    elif folder == "marts":
        plural = re.fullmatch(r"[a-z][a-z0-9_]*s", name) or name.endswith(LATIN_PLURALS)
        if name.startswith(LAYER_PREFIXES) or not plural:
            return RuleViolation(message=f"A mart has a plain plural name, no layer prefix: {name}.")
    else:
        return RuleViolation(message=f"The model is in no known layer (staging, intermediate, marts, review): {name}.")
    return None


@rule(severity=Severity.HIGH)
def no_rejoin_of_upstream_concepts(model: Model) -> RuleViolation | None:
    """A model does not rejoin an upstream concept unless meta.rejoin_reason says why.

    dbt-project-evaluator's rule: model A reads B and C, C reads B, and A is C's only child; C
    should then be folded into A. A published mart is never such a C: the data package reads it.
    """
    if str(model.meta.get("rejoin_reason") or "").strip():
        return None
    parent_ids = {parent.unique_id for parent in model.parents}
    for middle in model.parents:
        if not isinstance(middle, Model) or layer(middle) == "marts":
            continue
        if {child.unique_id for child in middle.children} != {model.unique_id}:
            continue
        rejoined = sorted(parent.name for parent in middle.parents if parent.unique_id in parent_ids)
        if rejoined:
            return RuleViolation(
                message=f"{middle.name} feeds only this model and rejoins {', '.join(rejoined)}: "
                "fold it in, or give meta.rejoin_reason."
            )
    return None


# dbt-project-evaluator's bound on direct parents ("too many joins"): beyond it a model usually
# does several jobs at once.
MAX_PARENTS = 7


@rule(severity=Severity.HIGH)
def parents_within_limit(model: Model) -> RuleViolation | None:
    """A model reads at most MAX_PARENTS models, seeds and sources, unless meta.many_parents_reason says why."""
    if str(model.meta.get("many_parents_reason") or "").strip():
        return None
    count = len({parent.unique_id for parent in model.parents})
    if count > MAX_PARENTS:
        return RuleViolation(
            message=f"Reads {count} parents (over {MAX_PARENTS}): split it, or give meta.many_parents_reason."
        )
    return None
