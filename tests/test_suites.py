"""The validation gate and the rules' one home: suites generated from the marts' YAML, tuning vars."""

import copy
import csv
import datetime as dt
import json
import re
import shutil
from dataclasses import replace

import duckdb
import pytest
from conftest import REPO, participating_rows, private_settings, write_workbook

from ice287g.errors import ProjectError
from ice287g.pipeline.build import MAX_ROW_LOSS, build, gate_frames, validation_parameters
from ice287g.publish.readme import RULE_VALUE, VARS, replace_block, rule_values, vars_markdown
from ice287g.settings import Settings
from ice287g.transform.project import tuning_vars
from ice287g.validate.gate import ValidationFailed, check_frames, validate
from ice287g.validate.schema import RESOURCES, data_tests_of_models, load_manifest, resource_schemas
from ice287g.validate.suites import GENERATORS, Plan, generated_suites, plan


@pytest.fixture(scope="module")
def built(small_build_template):
    """The small archive's build (its pending list names no model): (settings, manifest, frames)."""
    folder, _, _ = small_build_template
    settings = private_settings(folder)
    manifest = load_manifest(settings.build_dir / "dbt" / "target" / "manifest.json")
    return settings, manifest, gate_frames(settings.database, manifest)


def test_every_yaml_test_of_a_mart_has_a_generated_expectation(built):
    _, manifest, frames = built
    suites = generated_suites(manifest, frames).suites
    covered = {e["meta"].get("dbt_test") for suite in suites.values() for e in suite["expectations"]}
    yaml_tests = {t["unique_id"] for name in RESOURCES for t in data_tests_of_models(manifest).get(name, [])}
    assert yaml_tests and yaml_tests <= covered
    # and the columns and types of every mart, in YAML order
    for name in RESOURCES:
        columns = next(e for e in suites[name]["expectations"] if e["type"].endswith("match_ordered_list"))
        assert columns["kwargs"]["column_list"] == [f["name"] for f in _schema(manifest, name)["fields"]]
        typed = [e["kwargs"]["column"] for e in suites[name]["expectations"] if e["type"].endswith("be_of_type")]
        assert typed == columns["kwargs"]["column_list"]


def test_every_check_runs_in_exactly_one_gate(built):
    """The tests _marts.yml states run as Great Expectations suites, every other dbt data test in
    dbt's test step; none in both, none in neither (a new mart left out of RESOURCES would lose its
    checks). The unit tests run in no build (test_every_unit_test_passes runs them)."""
    settings, manifest, frames = built
    suites = generated_suites(manifest, frames).suites
    in_gx = {
        e["meta"]["dbt_test"] for suite in suites.values() for e in suite["expectations"] if "dbt_test" in e["meta"]
    }
    # the build's last dbt command is its test step: run_results.json lists what it ran
    results = json.loads((settings.build_dir / "dbt" / "target" / "run_results.json").read_text())
    in_dbt = {r["unique_id"] for r in results["results"]}
    every = {uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "test"}
    assert in_gx and in_dbt and not in_gx & in_dbt, sorted(in_gx & in_dbt)[:5]
    assert in_gx | in_dbt == every, sorted(every - in_gx - in_dbt)[:5]
    assert {r["status"] for r in results["results"]} == {"pass"}


def test_every_unit_test_passes(built, tmp_path):
    """Every dbt unit test (each rule at the edges of its vars), run once, on a copy of the small
    build's database (dbt reads the column types of each mocked input there)."""
    from ice287g.transform.dbt import run_dbt

    settings, manifest, _ = built
    database = tmp_path / settings.database.name
    shutil.copy2(settings.database, database)
    run_dbt(REPO, database, tmp_path, ["test", "--select", "test_type:unit"])
    results = json.loads((tmp_path / "dbt" / "target" / "run_results.json").read_text())
    ran = {r["unique_id"]: r["status"] for r in results["results"]}
    assert len(manifest["unit_tests"]) >= 10 and set(ran) == set(manifest["unit_tests"])
    assert set(ran.values()) == {"pass"}, ran


def test_every_var_a_model_reads_is_pinned_by_a_unit_test_of_that_model(built):
    """A rule's var is tested at its edge where the rule is: each model that reads a var has a
    unit test that pins it (dbt_project.yml may change the value; the test must not follow)."""
    _, manifest, _ = built
    pinned: dict[str, set[str]] = {}
    for test in manifest["unit_tests"].values():
        pinned.setdefault(test["model"], set()).update((test.get("overrides") or {}).get("vars") or {})
    read = {
        node["name"]: set(re.findall(r"""var\(\s*['"](\w+)['"]""", node["raw_code"]))
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    assert len([m for m in read if read[m]]) >= 10
    unpinned = {m: sorted(names - pinned.get(m, set())) for m, names in read.items() if names - pinned.get(m, set())}
    assert not unpinned, unpinned


def _schema(manifest, name):
    return next(s.schema for s in resource_schemas(manifest) if s.name == name)


def test_a_yaml_test_kind_without_a_counterpart_stops_the_build(built):
    _, manifest, frames = built
    changed = copy.deepcopy(manifest)
    test = next(t for t in data_tests_of_models(changed)["agencies"] if t["test_metadata"]["name"] == "not_null")
    changed["nodes"][test["unique_id"]]["test_metadata"]["name"] = "is_even"
    assert "is_even" not in GENERATORS
    with pytest.raises(ProjectError, match=r"_marts.yml: agencies: dbt test 'is_even' has no Great Expectations"):
        generated_suites(changed, frames)


def suites_of(manifest: dict, frames: dict, table: str) -> Plan:
    """The gate's suites for ``table``: its own, and those of the frames derived from it (named
    after it), planned from ``frames``."""
    full = plan(manifest, frames, REPO / "expectations", check_frames(frames))
    names = [n for n in full.suites if n == table or n.startswith(f"{table}_")]
    return Plan({n: full.suites[n] for n in names}, {n: full.frames[n] for n in names})


def test_a_mart_that_is_not_published_stops_the_build(built):
    _, manifest, _ = built
    resource_schemas(manifest)  # the marts as they are: each is published
    changed = copy.deepcopy(manifest)
    node = copy.deepcopy(changed["nodes"]["model.ice287g.counts"])
    changed["nodes"]["model.ice287g.county_totals"] = {**node, "name": "county_totals"}
    with pytest.raises(ProjectError, match=r"models/marts/_marts.yml: .*marts not described \['county_totals'\]"):
        resource_schemas(changed)
    del changed["nodes"]["model.ice287g.county_totals"], changed["nodes"]["model.ice287g.counts"]
    with pytest.raises(ProjectError, match=r"described tables with no mart \['counts'\]"):
        resource_schemas(changed)


def test_generated_rules_catch_what_the_yaml_forbids(built, tmp_path):
    settings, manifest, frames = built
    # the frames as built passed the gate (the build ran it)
    assert json.loads((settings.build_dir / "validation" / "validation.json").read_text())["success"]
    cases = [
        ("agencies", "name_variant_count", 0, "expect_column_values_to_be_between on name_variant_count"),
        ("snapshots", "file_sha256", "not-a-sha", "expect_column_values_to_match_regex on file_sha256"),
        (
            "agreements",
            "agency_id",
            "xx-nowhere",
            "agreements_agency_id_not_in_agencies_agency_id: expect_table_row_count_to_equal on table failed "
            r"\(e.g. 1 rows: agreement_id=.*agency_id='xx-nowhere'",
        ),
        ("agreements", "status", "bogus", "expect_column_values_to_be_in_set on status failed .*bogus"),
        (
            "publications",
            "published_date",
            dt.datetime(1999, 1, 1),
            "expect_column_values_to_be_between on published_date",
        ),
    ]
    parameters = validation_parameters(settings, 2, dt.date(2026, 11, 30))
    for table, column, value, message in cases:
        broken = frames[table].copy()
        broken[column] = broken[column].astype(object)
        broken.loc[0, column] = value
        with pytest.raises(ValidationFailed, match=message if ": " in message else f"{table}: {message}"):
            validate(suites_of(manifest, {**frames, table: broken}, table), tmp_path / f"{table}-{column}", parameters)
    # a failed gate leaves its report: the summary and the Data Docs it names
    report = tmp_path / "agreements-status"
    assert json.loads((report / "validation.json").read_text())["success"] is False
    assert (report / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").exists()

    # a rule across tables, on the frame derived from two: counts must add up to the row count
    counts = frames["counts"].copy()
    counts.loc[0, "count"] += 1
    changed = {**frames, "counts": counts}
    derived = plan(manifest, changed, REPO / "expectations", check_frames(changed))
    name = "counts_count_sums_to_publications_row_count"
    with pytest.raises(ValidationFailed, match=f"{name}: expect_column_pair_values_to_be_equal"):
        validate(Plan({name: derived.suites[name]}, {name: derived.frames[name]}), tmp_path / name, parameters)


def test_a_reviewed_suite_for_nothing_is_a_project_error(built, tmp_path):
    _, manifest, frames = built
    folder = tmp_path / "expectations"
    (folder / "checks").mkdir(parents=True)
    (folder / "nowhere.json").write_text(json.dumps({"name": "nowhere", "expectations": []}))
    with pytest.raises(ProjectError, match="nowhere.json: names no published table"):
        plan(manifest, frames, folder, {})


def test_row_count_floor_comes_from_the_previous_release(built, tmp_path):
    settings, _, _ = built
    # the small archive's release holds 3 agreements; a checkout with no release yet has no floor
    assert validation_parameters(settings, 2, dt.date(2026, 11, 30))["agreements_min_rows"] == int(
        3 * (1 - MAX_ROW_LOSS)
    )
    unreleased = replace(settings, release_dir=tmp_path / "nothing-released")
    assert validation_parameters(unreleased, 2, dt.date(2026, 11, 30))["agreements_min_rows"] == 0
    with open(REPO / "releases.csv", newline="") as fh:
        released = int(list(csv.DictReader(fh))[-1]["agreements_rows"])
    committed = validation_parameters(Settings.from_env(), 2, dt.date(2026, 11, 30))
    assert committed["agreements_min_rows"] == int(released * (1 - MAX_ROW_LOSS)) > 0
    program_start = next(v.value for v in tuning_vars(REPO) if v.name == "program_start_date")
    assert committed["earliest_date"].date() == dt.date.fromisoformat(program_start)


def test_missing_values_are_empty_except_in_key_columns(built):
    """The pending list named no model: the application's support_model is empty, the count's is 'unknown'."""
    _, _, frames = built
    applications, counts = frames["applications"], frames["counts"]
    assert applications["support_model"].isna().all()
    pending = counts[counts["list"] == "pending"]
    assert pending["support_model"].tolist() == ["unknown"]
    publications = frames["publications"].set_index("list")
    assert (
        publications.loc["pending", "application_count"] == 1 and publications.isna().loc["pending", "agreement_count"]
    )
    assert publications.loc["participating", "agreement_count"] == 3
    assert publications.isna().loc["participating", "application_count"]


def test_the_readme_lists_every_tuning_var_as_dbt_project_yml_gives_it():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert vars_markdown(REPO) in readme, "README's tuning vars drifted from dbt_project.yml: run `ice287g docs`"
    names = [v.name for v in tuning_vars(REPO)]
    assert "successor_window_publications" in names and all(v.reason for v in tuning_vars(REPO))
    # a README whose table shows another value for a var is stale, and `ice287g docs` mends it
    first = tuning_vars(REPO)[0]
    shown = f"| `{first.name}` | {first.value} |"
    assert readme.count(shown) == 1
    stale = readme.replace(shown, f"| `{first.name}` | {first.value}0 |")
    assert vars_markdown(REPO) not in stale and replace_block(stale, *VARS, vars_markdown(REPO)) == readme


def test_every_var_is_read_by_a_model_and_needs_a_reason(tmp_path):
    sql = "\n".join(p.read_text() for p in [*REPO.glob("models/**/*.sql"), *REPO.glob("macros/**/*.sql")])
    for tuning in tuning_vars(REPO):
        assert f"var('{tuning.name}')" in sql or f'var("{tuning.name}")' in sql, tuning.name
    (tmp_path / "dbt_project.yml").write_text("name: x\nvars:\n  # why\n  a: 1\n  b: 2\n")
    with pytest.raises(ProjectError, match="var 'b' has no comment"):
        tuning_vars(tmp_path)
    assert VARS[0] in vars_markdown(REPO) and VARS[1] in vars_markdown(REPO)


def test_published_text_states_the_rule_values_of_dbt_project_yml(tmp_path):
    """The descriptions that state a rule's bound take it from its var: parsed with other values,
    the published text says those, and no description repeats a window's value as a literal."""
    import json as json_module

    from ice287g.transform.dbt import run_dbt

    defaults = {t.name: t.value for t in tuning_vars(REPO)}
    # other values than today's, whatever today's are
    windows = {
        name: defaults[name] + 17
        for name in (
            "successor_window_publications",
            "successor_window_days",
            "application_signing_window_days",
            "review_candidate_window_days",
        )
    }
    run_dbt(REPO, tmp_path / "x.duckdb", tmp_path, ["parse", "--vars", json_module.dumps(windows)])
    manifest = load_manifest(tmp_path / "dbt" / "target" / "manifest.json")

    def described(model: str, column: str) -> str:
        node = manifest["nodes"][f"model.ice287g.{model}"]
        return " ".join(node["columns"][column]["description"].split())

    lists, days = windows["successor_window_publications"], windows["successor_window_days"]
    assert f"at most {lists} lists or {days} days after it left" in described("agreements", "status")
    assert f"and {windows['application_signing_window_days']} days after its last" in described(
        "applications", "outcome"
    )
    review = described("review_lineage", "candidate_agreement_id")
    assert f"first listed at most {windows['review_candidate_window_days']} days later" in review
    for model, column, literal in (
        ("agreements", "status", f"{defaults['successor_window_days']} days"),
        ("applications", "outcome", f"{defaults['application_signing_window_days']} days"),
        ("review_lineage", "candidate_agreement_id", f"{defaults['review_candidate_window_days']} days"),
    ):
        assert literal not in described(model, column), (model, column)


def test_the_readme_s_rules_state_each_number_from_its_var(tmp_path):
    """Every number the README's rules give beside a var ("3 lists (`var`)") is that var's value:
    with other values in dbt_project.yml, each such number follows and none of the old ones stays;
    a var name that does not exist stops the rewrite."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    defaults = {t.name: t.value for t in tuning_vars(REPO)}
    mentioned = {m.group("name"): m.group("value") for m in RULE_VALUE.finditer(readme)}
    decisions = {"successor_window_publications", "successor_window_days", "application_signing_window_days"}
    assert decisions <= set(mentioned) and all(mentioned[n] == str(defaults[n]) for n in mentioned), mentioned
    changed = {name: 1000 + i for i, name in enumerate(mentioned)}
    project = (REPO / "dbt_project.yml").read_text(encoding="utf-8")
    for name, value in changed.items():
        project = re.sub(rf"^(  {name}:).*$", rf"\g<1> {value}", project, flags=re.M)
    (tmp_path / "dbt_project.yml").write_text(project, encoding="utf-8")
    rewritten = rule_values(readme, tmp_path)
    assert {m.group("name"): int(float(m.group("value"))) for m in RULE_VALUE.finditer(rewritten)} == changed
    # and the rules state no window of their own: every count of lists or days names its var
    rules = readme[readme.index("### Identity and lineage rules") : readme.index("#### Who left")]
    rules = rules[rules.index(VARS[1]) :]
    bare = re.findall(r"\b(?:\d+|three)\s+(?:lists|days)\b(?!\s+\(`)", rules)
    assert not bare, bare
    with pytest.raises(ProjectError, match="`successor_window_weeks`, which is no var"):
        rule_values("within 3 weeks (`successor_window_weeks`)", REPO)


def test_a_column_with_an_unknown_type_is_a_project_error(built):
    _, manifest, _ = built
    changed = copy.deepcopy(manifest)
    changed["nodes"]["model.ice287g.counts"]["columns"]["count"]["data_type"] = "hugeint"
    with pytest.raises(ProjectError, match=r"_marts.yml: counts.count has data_type 'hugeint'"):
        resource_schemas(changed)


def test_a_failed_dbt_step_is_a_project_error_not_bad_input(tmp_path):
    from ice287g.errors import InputError
    from ice287g.transform.dbt import run_dbt

    with pytest.raises(ProjectError, match=r"^dbt no-such-command: exit code 2") as err:
        run_dbt(REPO, tmp_path / "x.duckdb", tmp_path, ["no-such-command"])
    assert not isinstance(err.value, InputError)


def test_a_node_that_fails_in_the_dbt_process_is_named_in_the_error(tmp_path):
    """The dbt process answers with the nodes that failed: a test on tables that do not exist
    errors, and the build's error names it with dbt's message, not only an exit code."""
    from ice287g.transform.dbt import run_dbt

    test = "assert_fix_targets_name_real_counties"
    named = rf"(?s)^dbt test --select {test}: test\.ice287g\.{test}: Runtime Error.*does not exist"
    with pytest.raises(ProjectError, match=named):
        run_dbt(REPO, tmp_path / "empty.duckdb", tmp_path, ["test", "--select", test])


def test_a_failed_dbt_test_shows_its_rows_and_the_workbook_they_come_from(tmp_path):
    """dbt says only "Got 1 result"; the build's error shows the failing rows themselves and,
    where a row names a listing, a publication or a file, the workbook it was read from."""
    from ice287g.transform.dbt import failure_detail

    database = tmp_path / "work.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute(
            "create table snapshots as select 'participating-2026-03-01-x' as publication_id, "
            "'participatingAgencies03012026am.xlsx' as file_name, true as is_first_snapshot, "
            "'abc' as file_sha256"
        )
        con.execute(
            "create table listings as select 'participating-2026-03-01-x#7' as listing_id, "
            "'=HYPERLINK(\"https://x\")' as agency_name_published"
        )
    compiled = "select listing_id, agency_name_published from listings where agency_name_published like '=%'"
    node = {"unique_id": "test.ice287g.no_formula_text_listings", "failures": 1}
    node |= {"message": "Got 1 result, configured to fail if != 0", "compiled_code": compiled}
    message = failure_detail({"code": 1, "failures": [node]}, tmp_path, database)
    assert "test.ice287g.no_formula_text_listings: Got 1 result, configured to fail if != 0" in message
    assert "listing_id='participating-2026-03-01-x#7'" in message
    assert "agency_name_published='=HYPERLINK(\"https://x\")'" in message
    assert "[in participatingAgencies03012026am.xlsx]" in message


def test_a_listing_that_lost_its_agency_without_a_flag_fails_the_gate(built, tmp_path):
    _, manifest, frames = built
    listings = frames["listings"].copy()
    listings.loc[0, "agency_id"] = None
    checks = check_frames({**frames, "listings": listings})
    suite = plan(manifest, frames, REPO / "expectations", checks).suites["unidentified_listings_are_flagged"]
    name = "unidentified_listings_are_flagged"
    with pytest.raises(ValidationFailed, match=f"{name}: expect_column_values_to_be_in_set on is_flagged_damaged"):
        validate(Plan({name: suite}, {name: checks[name]}), tmp_path, {})


def test_a_malformed_or_unknown_fips_code_fails_the_gate(built, tmp_path):
    settings, manifest, frames = built
    parameters = validation_parameters(settings, 2, dt.date(2026, 11, 30))
    assert frames["agencies"]["county_fips"].notna().any()
    unknown = "agencies_county_fips_not_in_stg_census__counties_county_fips: expect_table_row_count_to_equal"
    for bad, message in (
        ("4801", "agencies: expect_column_values_to_match_regex on county_fips"),
        ("48999", unknown),
        ("12086", None),
    ):
        agencies = frames["agencies"].copy()
        agencies.loc[agencies["county_fips"].notna().idxmax(), "county_fips"] = bad
        gate = suites_of(manifest, {**frames, "agencies": agencies}, "agencies")
        if message is None:  # a real Census county (Miami-Dade) passes
            assert validate(gate, tmp_path / bad, parameters)["success"]
            continue
        with pytest.raises(ValidationFailed, match=message):
            validate(gate, tmp_path / bad, parameters)


def test_county_spans_that_do_not_add_up_fail_the_gate(built, tmp_path):
    _, manifest, frames = built
    name = "county_counts_add_up"
    assert (check_frames(frames)[name]["count"] == check_frames(frames)[name]["count_by_county"]).all()
    spans = frames["county_counts"].copy()
    spans.loc[0, "count"] += 1
    checks = check_frames({**frames, "county_counts": spans})
    suite = plan(manifest, frames, REPO / "expectations", checks).suites[name]
    with pytest.raises(ValidationFailed, match=f"{name}: expect_column_pair_values_to_be_equal"):
        validate(Plan({name: suite}, {name: checks[name]}), tmp_path, {})


def test_match_rates_count_each_group_and_the_readme_shows_the_committed_ones():
    import pandas as pd

    from ice287g.validate import match_rates as geography

    agencies = pd.DataFrame(
        {
            "agency_id": ["a", "b", "c", "d"],
            "government_level": ["county", "county", "municipal", "state"],
            "agency_kind": ["sheriff", "corrections", "police", None],
            "county_fips": ["12086", None, "12011", None],
            "county_match": ["ice_county", "none", "reviewed_fix", "none"],
            "ori": ["FL0130000", None, None, "FL0000000"],
            "ori_match": ["fbi_name", "none", "none", "reviewed_fix"],
        }
    )
    agreements = pd.DataFrame({"agency_id": ["a", "c", "d"], "status": ["active", "removed", "active"]})
    rates = geography.match_rates(agencies, agreements).set_index(["group", "code"])
    assert rates.loc[("county agencies", "county_fips"), ["agencies", "by_rule", "reviewed", "none"]].tolist() == [
        2,
        1,
        0,
        1,
    ]
    assert rates.loc[("municipal agencies", "county_fips"), "reviewed"] == 1
    active = rates.loc[("agencies with an active agreement", "ori")]
    assert (active["agencies"], active["by_rule"], active["reviewed"], active["share"]) == (2, 1, 1, 1.0)
    assert rates.loc[("sheriffs and police ever listed", "ori"), "share"] == 0.5
    lines = geography.rates_lines(geography.match_rates(agencies, agreements))
    assert any(
        line.startswith("ori for sheriffs and police ever listed: 50.0%") and "NOT met" in line for line in lines
    )

    committed = geography.match_rates(
        pd.read_csv(REPO / "data" / "agencies.csv", dtype=str), pd.read_csv(REPO / "data" / "agreements.csv", dtype=str)
    )
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert geography.rates_markdown(committed) in readme, "README's match rates drifted: run `ice287g docs`"


FORMULA = '=HYPERLINK("http://example.org/x","Alpha")'


def test_a_formula_like_text_cell_fails_the_gate_unless_reviewed(built, tmp_path):
    settings, manifest, frames = built
    parameters = validation_parameters(settings, 2, dt.date(2026, 11, 30))
    name = "agencies_formula_like_cells"
    for value in (FORMULA, "+1 555", "-cmd", "@SUM(A1)", "\tx"):
        agencies = frames["agencies"].copy()
        agencies.loc[0, "agency_name"] = value
        broken = {**frames, "agencies": agencies}
        suite = plan(manifest, broken, REPO / "expectations", check_frames(broken))
        assert list(suite.frames[name]["value"]) == [value]
        with pytest.raises(ValidationFailed, match=f"{name}: expect_table_row_count_to_equal"):
            validate(Plan({name: suite.suites[name]}, {name: suite.frames[name]}), tmp_path / "x", parameters)
    # a value reviewed as ICE's own passes, unaltered
    allowed = frames["allowed_formula_like_values"].copy()
    allowed.loc[0] = ["agencies", "agency_name", FORMULA, "test"]
    agencies = frames["agencies"].copy()
    agencies.loc[0, "agency_name"] = FORMULA
    reviewed = {**frames, "agencies": agencies, "allowed_formula_like_values": allowed}
    suite = plan(manifest, reviewed, REPO / "expectations", check_frames(reviewed))
    assert suite.frames[name].empty and suite.frames["agencies"].loc[0, "agency_name"] == FORMULA
    # numbers, dates and ordinary text are not formulas
    assert plan(manifest, frames, REPO / "expectations", check_frames(frames)).frames[name].empty


def test_a_published_formula_stops_the_build_at_the_gate(tmp_path):
    import openpyxl

    from ice287g.sources.registry import Registry, make_entry
    from ice287g.util.hashing import sha256_of

    settings = private_settings(tmp_path)
    path = write_workbook(settings.mirror / "files" / "participatingAgencies03012026am.xlsx", participating_rows(3))
    book = openpyxl.load_workbook(path)
    cell = book.active.cell(row=2, column=2)
    cell.value, cell.data_type = FORMULA, "s"  # a text cell, as a hostile list would carry it
    book.save(path)
    registry = Registry(settings.registry, {})
    entry = make_entry(sha256_of(path), path.name, path.stat().st_size, archive="t/a", mirror_path=f"files/{path.name}")
    registry.add(entry)
    registry.save()
    with pytest.raises(ValidationFailed, match=r"agencies_formula_like_cells: .*agency_name.*=HYPERLINK"):
        build(settings, say=lambda _m: None)
