"""Integration: the committed release on the real archive, in fresh clones of this checkout.

A clone with an unchanged registry rebuilds its committed release byte for byte, then takes a new
list from a page shaped like ICE's to a committed release; the release before the newest lists,
then rebuilt with them, changes few lines of data/ (a new list appends and closes rows).
"""

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from conftest import PENDING_HEADER, REPO, SHARED, write_workbook

from ice287g.build import build, write_committed_release
from ice287g.package import version_for as package_version
from ice287g.registry import Registry
from ice287g.release import changelog_section
from ice287g.settings import Settings

IDENTITY = {"NAME": "Release Bot", "EMAIL": "bot@example.org"}

pytestmark = pytest.mark.integration

# the bound on `git diff --numstat -- data/` (insertions plus deletions) for a release's new lists
DIFF_BOUND = 5000


def git(folder, *args) -> str:
    return subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True, text=True).stdout


def clone(tmp_path_factory, name: str):
    if not (SHARED / "MANIFEST.csv").exists():
        pytest.skip(f"the real archive is not at {SHARED}")
    folder = tmp_path_factory.mktemp(name) / "checkout"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(folder)], check=True)
    return folder


def settings_for(folder) -> Settings:
    return Settings(
        root=folder,
        registry=folder / "sources" / "snapshots.csv",
        store=REPO / ".store",  # the bytes are checked on every read; sharing saves copying them
        mirror=SHARED,
        build_dir=folder / "build",
        offline=True,
        dist_dir=folder / "dist",
        reference_mirror=SHARED.parent / "reference",
    )


def build_release(settings: Settings) -> list[str]:
    return write_committed_release(settings, build(settings, say=lambda _m: None))


def new_list(www: Path, name: str) -> None:
    """ICE's newest registered participating list with one agreement more, as ``www/name``."""
    import openpyxl

    # the newest by the committed release (a name's date can be a typo: 11114025)
    with open(REPO / "data" / "publications.csv", newline="") as fh:
        lists = [r for r in csv.DictReader(fh) if r["list"] == "participating"]
    publication = max(lists, key=lambda r: int(r["sequence"]))["publication_id"]
    with open(REPO / "data" / "snapshots.csv", newline="") as fh:
        (sha,) = [
            r["file_sha256"]
            for r in csv.DictReader(fh)
            if r["publication_id"] == publication and r["is_first_snapshot"] == "true"
        ]
    newest = Registry.load(REPO / "sources" / "snapshots.csv").entries[sha]
    book = openpyxl.load_workbook(SHARED / newest.mirror_path)
    sheet = book.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    row = {"STATE": "TEXAS", "LAW ENFORCEMENT AGENCY": "Zeta County Sheriff's Office", "TYPE": "County"}
    row |= {"COUNTY": "Zeta County", "SUPPORT TYPE": "Task Force Model", "SIGNED": dt.datetime(2026, 5, 8)}
    sheet.append([row.get(str(h).strip().upper(), "link pending" if h else None) for h in header])
    book.save(www / name)


def test_a_fresh_clone_rebuilds_the_release_byte_for_byte_then_releases_a_new_list_daily(tmp_path_factory, http_folder):
    """The fresh clone's `make build` leaves it clean; the README's zip recipe reads the zip it
    wrote; then `ice287g release --page-url` takes a new list from a page shaped like ICE's to a
    committed release, and, run again with nothing new, commits nothing."""
    from conftest import recipe

    folder = clone(tmp_path_factory, "reproduce")
    settings = replace(settings_for(folder), store=folder / ".store")  # acquire writes into it
    assert build_release(settings) == []
    assert git(folder, "status", "--porcelain") == ""
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

    www, base = http_folder
    (www / "doclib").mkdir()
    new_list(www / "doclib", "participatingAgencies05082026am.xlsx")
    write_workbook(www / "doclib" / "pendingAgencies05082026am.xlsx", [PENDING_HEADER])
    (www / "287g.html").write_text(
        "<html><body><h2>Participating Agencies</h2>"
        '<a href="/doclib/participatingAgencies05082026am.xlsx">Excel</a>'
        "<h2>Pending Agencies</h2>"
        '<a href="doclib/pendingAgencies05082026am.xlsx">Excel</a></body></html>'
    )
    env = {
        **os.environ,
        "ICE287G_ROOT": str(folder),
        "ICE287G_STORE": str(settings.store),
        "ICE287G_MIRROR": str(SHARED),
        "ICE287G_REFERENCE_MIRROR": str(SHARED.parent / "reference"),
        "ICE287G_BUILD_DIR": str(settings.build_dir),
        "ICE287G_DIST_DIR": str(settings.dist),
        **{f"GIT_{who}_{what}": value for who in ("AUTHOR", "COMMITTER") for what, value in IDENTITY.items()},
    }
    cli = [str(Path(sys.executable).with_name("ice287g")), "release", "--page-url", f"{base}/287g.html"]
    first = subprocess.run(cli, cwd=folder, env=env, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr[-3000:]
    version = package_version(dt.date(2026, 5, 8))
    assert f"released ice287g {version}" in first.stderr
    assert git(folder, "log", "-1", "--format=%s").strip() == f"Release ice287g {version}"
    assert git(folder, "status", "--porcelain") == ""
    section = changelog_section((folder / "CHANGELOG.md").read_text(), version)
    assert section.startswith(f"## ice287g {version}\n")
    assert (
        "- **participating publications added**: 1\n" in section and "- **pending publications added**: 1\n" in section
    )
    assert "  - tx-zeta-county-sheriff-office-tfm-20260508 (Zeta County Sheriff's Office, TX)" in section
    assert json.loads((folder / "datapackage.json").read_text())["version"] == version
    assert f'version: "{version}"' in (folder / "CITATION.cff").read_text()
    assert f'version="{version}"' in (folder / "README.md").read_text()

    head = git(folder, "rev-parse", "HEAD")
    again = subprocess.run(cli, cwd=folder, env=env, capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "nothing changed: no release" in again.stderr and "already registered" in again.stderr
    assert git(folder, "rev-parse", "HEAD") == head and git(folder, "status", "--porcelain") == ""


def test_the_newest_lists_change_few_lines_of_the_release_before(tmp_path_factory):
    """The last release with fewer snapshots, as committed (its registry and tables), then the
    newest lists registered again and built: the release changes few lines of data/ (a new list
    appends the rows that are new and closes the spans of the rows that left), and what is built
    is the committed release."""
    from ice287g import history

    folder = clone(tmp_path_factory, "newest")
    committed = git(folder, "rev-parse", "HEAD").strip()
    index = list(csv.DictReader(io.StringIO((folder / "releases.csv").read_text())))
    before = next(r for r in reversed(index) if int(r["snapshots_rows"]) < int(index[-1]["snapshots_rows"]))
    commit = history.release_commit(folder, before["version"])
    paths = ["data", "datapackage.json", "releases.csv", "CHANGELOG.md", "docs", "sources/snapshots.csv"]
    git(folder, "checkout", commit, "--", *paths)
    git(folder, "-c", "user.name=test", "-c", "user.email=test@example.org", "commit", "--quiet", "-m", "before")

    git(folder, "checkout", committed, "--", "sources/snapshots.csv")
    build_release(settings_for(folder))
    stat = git(folder, "diff", "--numstat", "--", "data/")
    changed = sum(int(a) + int(d) for a, d, _ in (line.split("\t") for line in stat.splitlines()))
    print(f"\n{before['version']} -> {index[-1]['version']}: {changed} lines of data/ changed\n{stat}")
    assert 0 < changed < DIFF_BOUND
    assert git(folder, "diff", committed, "--stat", "--", "data/", "datapackage.json") == ""


def test_the_committed_release_is_small_enough_for_git():
    sizes = {p.name: p.stat().st_size for p in (REPO / "data").glob("*.csv")}
    assert sizes and max(sizes.values()) < 20_000_000 and sum(sizes.values()) < 15_000_000, sizes
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
