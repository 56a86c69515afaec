"""Integration: the committed release on the real archive, in fresh clones of this checkout.

A clone with an unchanged registry rebuilds its committed release byte for byte (``archive_clone``,
the suite's one cold build of the archive), then takes a new list from a page shaped like ICE's to
a committed release (``archive_next``, its one update); a release changes few lines of data/ (a new
list appends and closes rows).
"""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import NEXT_DAY, REPO, git

from ice287g.consume.versions import version_for as package_version
from ice287g.publish.release import changelog_section

pytestmark = pytest.mark.integration

# the bound on `git diff --numstat -- data/` (insertions plus deletions) for a release's new lists
DIFF_BOUND = 5000
# what the committed tables may weigh: each file small enough for GitHub to show and diff (it
# stops rendering large files), and the whole of data/ small enough that a clone stays quick
MAX_TABLE_BYTES = 10_000_000
MAX_DATA_BYTES = 15_000_000


def data_lines_changed(folder: Path, since: str, until: str) -> int:
    stat = git(folder, "diff", "--numstat", since, until, "--", "data/")
    return sum(int(a) + int(d) for a, d, _ in (line.split("\t") for line in stat.splitlines()))


def test_a_fresh_clone_rebuilds_the_release_byte_for_byte_and_its_zip_recipe_reads_it(archive_clone):
    """The fresh clone's `make build` leaves it clean, and the README's zip recipe reads the zip it wrote."""
    from conftest import recipe

    folder = archive_clone.folder
    assert archive_clone.changed == () and archive_clone.status_after == ""
    run = subprocess.run(
        [sys.executable, "-c", recipe("python", ".zip") + "\nprint(len(agreements))"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert int(run.stdout) == int(
        list(csv.DictReader(io.StringIO((folder / "releases.csv").read_text())))[-1]["agreements_rows"]
    )


def test_the_daily_release_takes_a_new_list_from_the_page_to_a_committed_release(archive_next):
    """`ice287g release --page-url` acquires the page's new lists, builds and commits a release;
    run again with nothing new, it commits nothing."""
    daily, folder = archive_next, archive_next.folder
    assert daily.first.returncode == 0, daily.first.stderr[-3000:]
    version = package_version(NEXT_DAY)
    assert f"released ice287g {version}" in daily.first.stderr
    assert git(folder, "log", "-1", "--format=%s", daily.first_head).strip() == f"Release ice287g {version}"
    assert daily.first_status == ""
    section = changelog_section((folder / "CHANGELOG.md").read_text(), version)
    assert section.startswith(f"## ice287g {version}\n")
    assert (
        "- **participating publications added**: 1\n" in section and "- **pending publications added**: 1\n" in section
    )
    assert "- **agreements newly listed**: 1\n" in section
    assert "  - tx-zeta-county-sheriff-office-tfm-20260508 (Zeta County Sheriff's Office, TX)" in section
    removed, redated = daily.changes["removed"], daily.changes["redated"]
    assert "- **agreements removed**: 1\n" in section and "- **agreements re-dated**: 1\n" in section, section
    print(f"\nthe daily list removed a row of {removed!r} and re-dated one of {redated!r}:\n{section}")
    assert json.loads((folder / "datapackage.json").read_text())["version"] == version
    assert f'version: "{version}"' in (folder / "CITATION.cff").read_text()
    assert f'version="{version}"' in (folder / "README.md").read_text()

    assert daily.again.returncode == 0, daily.again.stderr[-3000:]
    assert "nothing changed: no release" in daily.again.stderr and "already registered" in daily.again.stderr
    assert daily.again_head == daily.first_head and daily.again_status == ""


def test_a_release_changes_few_lines_of_data(archive_clone, archive_next):
    """Between the last release with fewer snapshots and the newest, as committed, and between the
    newest and the daily release of one list more: a new list appends the rows that are new and
    closes the spans of the rows that left, so few lines of data/ change (the first release's
    tables are what a fresh clone builds: see the byte-for-byte test)."""
    from ice287g.consume import history

    folder = archive_clone.folder
    index = list(csv.DictReader(io.StringIO((folder / "releases.csv").read_text())))
    before = next(r for r in reversed(index) if int(r["snapshots_rows"]) < int(index[-1]["snapshots_rows"]))
    changed = data_lines_changed(folder, history.release_commit(folder, before["version"]), "HEAD")
    print(f"\n{before['version']} -> {index[-1]['version']}: {changed} lines of data/ changed")
    assert 0 < changed < DIFF_BOUND
    daily = data_lines_changed(archive_next.folder, f"{archive_next.first_head}~1", archive_next.first_head)
    print(f"the daily release of one list: {daily} lines of data/ changed")
    assert 0 < daily < DIFF_BOUND


def test_the_committed_release_is_small_enough_for_git():
    sizes = {p.name: p.stat().st_size for p in (REPO / "data").glob("*.csv")}
    assert sizes and max(sizes.values()) < MAX_TABLE_BYTES, sizes
    assert sum(sizes.values()) < MAX_DATA_BYTES, sizes
    con = duckdb.connect()
    rows = con.execute(f"select count(*) from read_csv('{REPO / 'data' / 'listings.csv'}')").fetchall()[0][0]
    index = list(csv.DictReader(io.StringIO((REPO / "releases.csv").read_text())))
    assert int(index[-1]["listings_rows"]) == rows


def test_a_fresh_clone_served_over_http_loads_every_table_by_url(http_folder):
    """No build, no virtual environment needed by the reader: pandas, frictionless and
    ice287g.load read every committed table over HTTP, each file checked against the descriptor."""
    import hashlib
    import json

    import pandas as pd
    from frictionless import Package

    from ice287g import load

    folder, base = http_folder
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(folder / "repo")], check=True)
    descriptor_bytes = (folder / "repo" / "datapackage.json").read_bytes()
    descriptor = json.loads(descriptor_bytes)
    url = f"{base}/repo/datapackage.json"
    package = Package(url)
    pin = hashlib.sha256(descriptor_bytes).hexdigest()
    index = csv.DictReader(io.StringIO((folder / "repo" / "releases.csv").read_text()))
    (line,) = [r for r in index if r["version"] == descriptor["version"]]
    for resource in descriptor["resources"]:
        rows = pd.read_csv(f"{base}/repo/{resource['path']}", dtype=str)
        assert len(rows) == int(line[f"{resource['name']}_rows"])
        assert len(package.get_resource(resource["name"]).read_rows()) == len(rows)
        assert len(load(resource["name"], source=url, sha256=pin)) == len(rows)
