"""The code style the project holds itself to: ruff for Python, sqlfluff (duckdb) for dbt SQL."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO

BIN = Path(sys.executable).parent


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)


def test_make_lint_passes():
    """`make lint`, the one home of the style checks (ruff, sqlfluff with its guard against files it
    cannot parse, the workflows, the citation file, zizmor, and dbt-score on the parsed project),
    run as written: CI runs only `make test`, so a lint failure stops a change here."""
    result = run("make", "--no-print-directory", "lint", f"BIN={BIN}", "STAMP=")
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]


def test_the_lint_guard_stops_on_sql_that_sqlfluff_cannot_parse(tmp_path):
    """sqlfluff gives up on a query nested deeper than it can parse and still exits 0: the
    Makefile's guard is what fails (`make lint` runs the same target on the project's SQL)."""
    shutil.copy2(REPO / "pyproject.toml", tmp_path / "pyproject.toml")  # the project's sqlfluff settings
    (tmp_path / "macros").mkdir()
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "deep.sql").write_text("select " + "abs(" * 300 + "1" + ")" * 300 + " as x\n")
    sqlfluff = run(str(BIN / "sqlfluff"), "lint", "models", cwd=tmp_path)
    assert sqlfluff.returncode == 0 and "Unable to lint" in sqlfluff.stdout + sqlfluff.stderr
    log = tmp_path / "sqlfluff.log"
    make = ["make", "--no-print-directory", "-f", str(REPO / "Makefile"), "lint-sql", f"BIN={BIN}", "STAMP="]
    guarded = run(*make, "SQL=models", f"SQLFLUFF_LOG={log}", cwd=tmp_path)
    assert guarded.returncode != 0 and "Unable to lint" in log.read_text()
    (tmp_path / "models" / "deep.sql").write_text("select 1 as x\n")
    assert run(*make, "SQL=models", f"SQLFLUFF_LOG={log}", cwd=tmp_path).returncode == 0


def test_the_layers_contract_fails_on_an_import_back_into_a_later_stage(tmp_path):
    """`make lint`'s import-linter contract on a copy of the package: it keeps the package as it is
    and breaks, naming the import, when a stage imports a later one (sources from pipeline here)."""
    copy = tmp_path / "src" / "ice287g"
    shutil.copytree(REPO / "src" / "ice287g", copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}

    def lint() -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "lint-imports"), "--no-cache"], cwd=tmp_path, env=env, capture_output=True, text=True
        )

    kept = lint()
    assert kept.returncode == 0 and "1 kept, 0 broken" in kept.stdout, kept.stdout + kept.stderr
    names = copy / "sources" / "names.py"
    names.write_text(names.read_text() + "\nfrom ice287g.pipeline import lock  # noqa: E402\n")
    broken = lint()
    assert broken.returncode != 0 and "ice287g.sources.names -> ice287g.pipeline.lock" in broken.stdout, broken.stdout


# The dbt conventions (src/ice287g/transform/dbt_rules.py, run by `make lint` through dbt-score): each rule
# fails on a model that breaks it and passes on one that keeps it.


def _column(name: str, *tests: str):
    from dbt_score.models import Column, Test

    return Column(name=name, description=f"The {name}.", tests=[Test(name=f"{t}_{name}", type=t) for t in tests])


def _model(name: str, path: str, *, description: str = "One row per thing.", meta=None, columns=(), tests=()):
    from dbt_score import Model

    return Model(
        unique_id=f"model.ice287g.{name}",
        name=name,
        relation_name=None,
        description=description,
        original_file_path=path,
        config={"materialized": "table"},
        meta=meta or {},
        columns=list(columns),
        package_name="ice287g",
        database="ice287g",
        schema="main",
        raw_code="select 1",
        language="sql",
        access="protected",
        group=None,
        tests=list(tests),
    )


def _combination(*columns: str):
    from dbt_score.models import Test

    return Test(name="unique_combination", type="unique_combination", kwargs={"columns": list(columns)})


def test_dbt_rule_description_states_grain():
    from ice287g.transform.dbt_rules import description_states_grain

    check = description_states_grain().evaluate
    path = "models/intermediate/int_x.sql"
    assert check(_model("int_x", path, description="One row per\n  thing, with more.")) is None
    assert check(_model("int_x", path, description="Things, one per row.")) is not None
    assert check(_model("int_x", path, description="")) is not None
    assert check(_model("int_x", path, description="One row\nper thing.")) is None


def test_dbt_rule_primary_key_is_tested():
    from dbt_score import Seed

    from ice287g.transform.dbt_rules import primary_key_is_tested, seed_primary_key_is_tested

    check = primary_key_is_tested().evaluate
    path = "models/intermediate/int_x.sql"
    assert check(_model("int_x", path, columns=[_column("id", "unique", "not_null")])) is not None  # no meta
    key = {"primary_key": ["id"]}
    assert check(_model("int_x", path, meta=key, columns=[_column("id", "unique")])) is not None
    assert check(_model("int_x", path, meta=key, columns=[_column("id", "not_null")])) is not None
    assert check(_model("int_x", path, meta=key, columns=[_column("id", "unique", "not_null")])) is None
    compound = {"primary_key": ["a", "b"]}
    both = [_column("a", "not_null"), _column("b", "not_null")]
    assert check(_model("int_x", path, meta=compound, columns=both)) is not None  # no combination test
    assert check(_model("int_x", path, meta=compound, columns=both, tests=[_combination("a")])) is not None
    assert check(_model("int_x", path, meta=compound, columns=both[:1], tests=[_combination("b", "a")])) is not None
    assert check(_model("int_x", path, meta=compound, columns=both, tests=[_combination("b", "a")])) is None

    def seed(meta, columns):
        return Seed(
            unique_id="seed.ice287g.s",
            name="s",
            relation_name=None,
            description="A seed.",
            original_file_path="seeds/s.csv",
            config={},
            meta=meta,
            columns=columns,
            package_name="ice287g",
            database="ice287g",
            schema="main",
        )

    check_seed = seed_primary_key_is_tested().evaluate
    assert check_seed(seed({}, [_column("code", "unique", "not_null")])) is not None
    assert check_seed(seed({"primary_key": ["code"]}, [_column("code", "unique", "not_null")])) is None


def test_dbt_rule_name_matches_layer():
    from ice287g.transform.dbt_rules import name_matches_layer

    check = name_matches_layer().evaluate
    passing = [
        ("stg_raw__files", "models/staging/raw/stg_raw__files.sql"),
        ("int_snapshots", "models/intermediate/int_snapshots.sql"),
        ("agreements", "models/marts/agreements.sql"),
        ("errata", "models/marts/errata.sql"),  # a plural with no s
        ("review_lineage", "models/review/review_lineage.sql"),
    ]
    failing = [
        ("stg_census__files", "models/staging/raw/stg_census__files.sql"),  # source is not its folder
        ("stg_raw_files", "models/staging/raw/stg_raw_files.sql"),
        ("snapshots", "models/intermediate/snapshots.sql"),
        ("int_agreements", "models/marts/int_agreements.sql"),
        ("agreement", "models/marts/agreement.sql"),  # not plural
        ("erratum", "models/marts/erratum.sql"),
        ("lineage", "models/review/lineage.sql"),
        ("int_x", "models/other/int_x.sql"),
    ]
    for name, path in passing:
        assert check(_model(name, path)) is None, name
    for name, path in failing:
        assert check(_model(name, path)) is not None, name


def test_dbt_rule_no_rejoin_of_upstream_concepts():
    from ice287g.transform.dbt_rules import no_rejoin_of_upstream_concepts

    check = no_rejoin_of_upstream_concepts().evaluate

    def graph(*, middle_path="models/intermediate/int_c.sql", meta=None, other_child=False):
        b = _model("int_b", "models/intermediate/int_b.sql")
        c = _model("int_c", middle_path)
        a = _model("int_a", "models/intermediate/int_a.sql", meta=meta)
        a.parents, c.parents = [b, c], [b]
        b.children, c.children = [c, a], [a]
        if other_child:
            c.children.append(_model("int_d", "models/intermediate/int_d.sql"))
        return a

    violation = check(graph())
    assert violation is not None and "int_c" in violation.message and "int_b" in violation.message
    assert check(graph(meta={"rejoin_reason": "int_c is the one decision; int_a applies it."})) is None
    assert check(graph(meta={"rejoin_reason": "  "})) is not None
    assert check(graph(other_child=True)) is None
    assert check(graph(middle_path="models/marts/cs.sql")) is None  # a published mart has readers outside dbt


def test_dbt_rule_parents_within_limit():
    from ice287g.transform.dbt_rules import MAX_PARENTS, parents_within_limit

    check = parents_within_limit().evaluate

    def reading(count, meta=None):
        model = _model("int_a", "models/intermediate/int_a.sql", meta=meta)
        model.parents = [_model(f"int_p{i}", f"models/intermediate/int_p{i}.sql") for i in range(count)]
        return model

    assert check(reading(MAX_PARENTS)) is None
    violation = check(reading(MAX_PARENTS + 1))
    assert violation is not None and f"Reads {MAX_PARENTS + 1} parents" in violation.message
    assert check(reading(MAX_PARENTS + 1, meta={"many_parents_reason": "one lookup join per seed"})) is None


def test_the_readme_names_every_stage_and_module_in_the_contract_s_order():
    """The README's table of the package is the layout a newcomer reads: every sub-package, in the
    layers contract's order, with each of its modules (a module added or moved fails here)."""
    import tomllib

    layers = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]["layers"]
    readme = (REPO / "README.md").read_text()
    rows = re.findall(r"^\| `(\w+)/` \| [^|]+ \| ([^\n]+) \|$", readme, re.M)
    assert [stage for stage, _ in rows] == [layer for layer in layers if layer != "cli"]
    package = REPO / "src" / "ice287g"
    for stage, modules in rows:
        named = set(re.findall(r"`([\w.]+?)(?:\.py|/)`", modules))
        found = {
            p.stem if p.suffix == ".py" else p.name
            for p in (package / stage).rglob("*")
            if (p.suffix == ".py" and p.name != "__init__.py") or (p.is_dir() and p.name != "__pycache__")
        }
        found -= {"ice287g_data"}  # the data wheel's template package, inside data_wheel/
        assert named == found, (stage, named ^ found)
