"""The README and the citation files follow each release, and the README's recipes to pin a
release run, as written, on a fresh clone with no tag and no network."""

from __future__ import annotations

import csv
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import REPO, recipe

from ice287g.consume import history
from ice287g.publish.readme import readme_text

README = REPO / "README.md"
VERSION = json.loads((REPO / "datapackage.json").read_text())["version"]
# a version as the README would name one: <year>.<month>.<day>[.<n>[.<n>]], not a date
VERSION_NAMED = re.compile(r"(?<![\w.])20\d\d\.\d{1,2}\.\d{1,2}(?:\.\d+){0,2}(?![\w.])")


def test_every_generated_part_of_the_readme_is_the_committed_release_s():
    text = README.read_text(encoding="utf-8")
    assert readme_text(text, REPO, REPO) == text, "the README lags behind the committed release: run `ice287g docs`"


def test_every_version_the_readme_names_is_the_committed_one():
    named = set(VERSION_NAMED.findall(README.read_text(encoding="utf-8")))
    assert named == {VERSION}, f"the README names {sorted(named - {VERSION})} besides the release {VERSION}"


def index_line(root: Path, version: str) -> dict[str, str]:
    with open(root / "releases.csv", newline="", encoding="utf-8") as fh:
        return next(row for row in csv.DictReader(fh) if row["version"] == version)


def run_python(code: str, clone: Path, extra: str = "") -> str:
    """``code`` and ``extra`` in a fresh interpreter, as a user of the clone would run them."""
    env = {"PATH": "/usr/bin:/bin", "ICE287G_ROOT": str(clone), "ICE287G_DIST_DIR": str(clone / "dist")}
    run = subprocess.run(
        [sys.executable, "-c", code + extra], cwd=clone, env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pin") / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(folder)], check=True)
    if _tags(folder):
        subprocess.run(["git", "tag", "-d", *_tags(folder)], cwd=folder, capture_output=True, check=True)
    assert _tags(folder) == []  # as a clone of what lands on main: no tags at all
    return folder


def _tags(folder: Path) -> list[str]:
    return subprocess.run(["git", "tag"], cwd=folder, capture_output=True, text=True, check=True).stdout.split()


def test_the_python_recipe_reads_this_release_and_any_older_one_from_history(clone):
    code = recipe("python", 'version="')
    rows = int(run_python(code, clone, "\nprint(len(agreements))"))
    assert rows == int(index_line(clone, VERSION)["agreements_rows"])
    # the same recipe for the first release ever committed, older than the checked-out one
    oldest = index_line_first(clone)
    older = code.replace(VERSION, oldest["version"])
    out = run_python(older, clone, "\nprint(len(agreements), list(agreements.columns)[:2])")
    assert out.split()[0] == oldest["agreements_rows"]


def index_line_first(root: Path) -> dict[str, str]:
    with open(root / "releases.csv", newline="", encoding="utf-8") as fh:
        return next(csv.DictReader(fh))


def test_the_git_recipe_checks_out_the_release_s_own_bytes(clone):
    code = recipe("sh", "git checkout")
    for version in (VERSION, index_line_first(clone)["version"]):
        step = code.replace(VERSION, version).replace(VERSION.replace(".", r"\."), version.replace(".", r"\."))
        subprocess.run(["bash", "-c", step], cwd=clone, check=True, capture_output=True)
        line = index_line(clone, version)
        for path in sorted((clone / "data").glob("*.csv")):
            assert hashlib.sha256(path.read_bytes()).hexdigest() == line[f"{path.stem}_sha256"], (version, path)
        subprocess.run(["git", "checkout", "--quiet", "-"], cwd=clone, check=True)


class _Raw(http.server.BaseHTTPRequestHandler):
    """Serves ``/<owner>/<name>/raw/<commit>/<path>`` from a git repository, as GitHub does."""

    def do_GET(self):
        parts = self.path.lstrip("/").split("/", 4)
        if len(parts) < 5 or parts[2] != "raw":
            self.send_error(404)
            return
        shown = subprocess.run(["git", "show", f"{parts[3]}:{parts[4]}"], cwd=self.server.repo, capture_output=True)
        if shown.returncode != 0:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(shown.stdout)))
        self.end_headers()
        self.wfile.write(shown.stdout)

    def log_message(self, *args):
        pass


def test_the_url_recipe_pins_the_release_commit_s_descriptor(clone, tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Raw)
    server.repo = clone
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        (row,) = [v for v in history.versions(clone) if v["version"] == VERSION]
        code = recipe("python", "<commit>").replace("https://github.com", base).replace("<commit>", row["commit"])
        rows = int(run_python(code, clone, "\nprint(len(agreements))"))
        assert rows == int(index_line(clone, VERSION)["agreements_rows"])
        # the sha256 the recipe pins is the one `ice287g versions` prints for the release
        assert row["descriptor_sha256"] in code
    finally:
        server.shutdown()
        server.server_close()


def test_the_zip_recipe_names_the_zip_releases_csv_records():
    # run on a built fresh clone in test_release_archive
    code, line = recipe("python", ".zip"), index_line(REPO, VERSION)
    assert f'sha256="{line["zip_sha256"]}"' in code and f"ice287g-{VERSION}.zip" in code


# --- "Use the data": each example as written, codes kept as text ---------------------------------


def use_the_data_blocks() -> dict[str, list[str]]:
    """The fenced code blocks of the README's "Use the data" section up to its pin recipes, by language."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Use the data") :]
    section = section[: section.index("**Pinning a release.**")]  # the pin recipes are tested above
    blocks: dict[str, list[str]] = {}
    for language, code in re.findall(r"```(\w+)\n(.*?)```", section, flags=re.S):
        blocks.setdefault(language, []).append(code)
    return blocks


def coded_fips() -> set[str]:
    """The agreements' county codes that start with a zero, as the committed CSV holds them."""
    with open(REPO / "data" / "agreements.csv", newline="", encoding="utf-8") as fh:
        return {row["county_fips"] for row in csv.DictReader(fh) if row["county_fips"].startswith("0")}


# After each statement that assigns a frame, check it: its county codes are text, zeros kept.
CHECK_EACH_ASSIGNMENT = r"""
import ast, json, sys
import pandas as pd
code, expected = sys.argv[1], set(json.loads(sys.argv[2]))
namespace, checked = {}, []
for statement in ast.parse(code).body:
    exec(compile(ast.Module([statement], []), "<README>", "exec"), namespace)
    names = [t.id for t in getattr(statement, "targets", []) if isinstance(t, ast.Name)]
    for name in names:
        frame = namespace[name]
        if isinstance(frame, pd.DataFrame) and "county_fips" in frame.columns:
            values = {v for v in frame["county_fips"].dropna() if isinstance(v, str)}
            assert not pd.api.types.is_numeric_dtype(frame["county_fips"]), (ast.unparse(statement), frame.dtypes)
            if name == "agreements":
                assert expected <= values, (ast.unparse(statement), sorted(expected - values)[:3])
            checked.append(ast.unparse(statement)[:60])
print(json.dumps(checked))
"""


def test_the_python_examples_run_as_written_and_keep_codes_as_text():
    expected = coded_fips()
    assert "02150" in expected  # Kodiak, Alaska: the README's example
    env = {"PATH": "/usr/bin:/bin", "ICE287G_ROOT": str(REPO), "ICE287G_DIST_DIR": str(REPO / "no-dist-here")}
    checked = []
    for code in use_the_data_blocks()["python"]:
        if "ice287g_data" in code:  # the data wheel's, run installed in test_wheel
            continue
        run = subprocess.run(
            [sys.executable, "-c", CHECK_EACH_ASSIGNMENT, code, json.dumps(sorted(expected))],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        checked += json.loads(run.stdout)
    # pandas, frictionless, ice287g.load and its agreements as_of (listings carry county names, not codes)
    assert len(checked) == 4 and any("pd.read_csv" in c for c in checked), checked


def test_the_duckdb_example_runs_as_written_and_keeps_codes_as_text():
    import duckdb

    (sql,) = use_the_data_blocks()["sql"]
    connection = duckdb.connect()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)  # the example's paths are the clone's
        result = connection.sql(sql)
        rows = result.fetchall()
    column = result.columns.index("county_fips")
    assert result.types[column] == "VARCHAR"
    assert coded_fips() & {row[column] for row in rows}


def test_the_r_example_runs_as_written_and_keeps_codes_as_text():
    rscript = shutil.which("Rscript")
    if rscript is None:
        if os.environ.get("CI"):
            pytest.fail("no Rscript: .ci/run installs Debian's r-base-core")
        pytest.skip("SKIPPED, NOT TESTED: no Rscript here (apt-get install r-base-core)")
    (code,) = use_the_data_blocks()["r"]
    check = "stopifnot(is.character(agreements$county_fips)); cat(agreements$county_fips, sep = '\\n')"
    run = subprocess.run([rscript, "-e", code + check], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    assert coded_fips() <= set(run.stdout.split())
