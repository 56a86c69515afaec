"""The changelog's list of changed ids, on two tiny version folders the test writes."""

import subprocess
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO

from ice287g.consume.locate import locate
from ice287g.errors import InputError
from ice287g.publish.changes import changed_ids


def write_version(folder: Path, listings: list[tuple], agencies: list[str], agreements: list[str]) -> Path:
    data = folder / "data"
    data.mkdir(parents=True)
    pd.DataFrame(listings, columns=["listing_id", "agency_id", "agreement_id", "application_id"]).to_csv(
        data / "listings.csv", index=False
    )
    pd.DataFrame({"agency_id": agencies}).to_csv(data / "agencies.csv", index=False)
    pd.DataFrame({"agreement_id": agreements}).to_csv(data / "agreements.csv", index=False)
    pd.DataFrame({"application_id": ["x-pending"]}).to_csv(data / "applications.csv", index=False)
    return folder


def test_every_id_that_disappeared_is_listed_with_its_successor(tmp_path):
    old = write_version(
        tmp_path / "old",
        [
            ("p1#2", "fl-city-of-x-pd", "fl-city-of-x-pd-tfm", ""),
            ("p1#3", "fl-x-pd", "fl-x-pd-wso", ""),
            ("p1#4", "fl-phantom", "fl-phantom-wso", ""),
            ("q1#2", "fl-y", "", "x-pending"),
        ],
        ["fl-city-of-x-pd", "fl-x-pd", "fl-phantom", "fl-y"],
        ["fl-city-of-x-pd-tfm", "fl-x-pd-wso", "fl-phantom-wso"],
    )
    new = write_version(
        tmp_path / "new",
        [
            ("p1#2", "fl-x-pd", "fl-city-of-x-pd-tfm", ""),
            ("p1#3", "fl-x-pd", "fl-x-pd-wso", ""),
            ("p1#4", "", "", ""),
            ("q1#2", "fl-y", "", "x-pending"),
        ],
        ["fl-x-pd", "fl-y"],
        ["fl-city-of-x-pd-tfm", "fl-x-pd-wso"],
    )
    changes = {c.title: c.items for c in changed_ids(old, new)}
    assert changes == {
        "agency ids changed": ["fl-city-of-x-pd → fl-x-pd", "fl-phantom → (no longer listed)"],
        "agreement ids changed": ["fl-phantom-wso → (no longer listed)"],
        "application ids changed": [],
    }


def _git(repo: Path, *args: str) -> str:
    run = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return run.stdout


def _release(repo: Path, version: str, agencies: list[str], record: str | None = None) -> str:
    """Write release ``version`` (one table) as the build would and commit it; ``record`` is the
    sha256 its releases.csv line records (default: the table's own). Returns the commit."""
    import hashlib
    import json

    data = repo / "data"
    data.mkdir(parents=True, exist_ok=True)
    table = ("agency_id\n" + "".join(f"{a}\n" for a in agencies)).encode()
    (data / "agencies.csv").write_bytes(table)
    sha = hashlib.sha256(table).hexdigest()
    fields = [{"name": "agency_id", "type": "string"}]
    resource = {"name": "agencies", "path": "data/agencies.csv", "hash": f"sha256:{sha}", "bytes": len(table)}
    descriptor = {"name": "ice287g", "version": version, "resources": [{**resource, "schema": {"fields": fields}}]}
    (repo / "datapackage.json").write_text(json.dumps(descriptor) + "\n")
    index = repo / "releases.csv"
    lines = index.read_text() if index.exists() else "version,zip_sha256,agencies_rows,agencies_sha256\n"
    index.write_text(lines + f"{version},abc,{len(agencies)},{record or sha}\n")
    if not (repo / ".git").exists():
        _git(repo, "init", "--quiet")
    _git(repo, "add", "-A")
    _git(repo, "commit", "--quiet", "-m", f"Release ice287g {version}")
    return _git(repo, "rev-parse", "HEAD").strip()


def test_every_committed_release_is_read_back_from_history_with_no_tag(tmp_path, monkeypatch):
    from ice287g import load
    from ice287g.consume import history

    repo = tmp_path / "repo"
    repo.mkdir()
    first = _release(repo, "2030.1.2", ["fl-x"])
    (repo / "notes.txt").write_text("later work\n")  # a commit that is no release
    _git(repo, "add", "-A")
    _git(repo, "commit", "--quiet", "-m", "notes")
    _release(repo, "2030.1.9", ["fl-x", "fl-y"])
    # a tag that names the wrong commit is not believed: the descriptor there is another version
    _git(repo, "tag", "v2030.1.2", "HEAD")
    assert history.release_commit(repo, "2030.1.2") == first

    folder = locate("2030.1.2", repo, tmp_path / "dist", tmp_path / "work")
    assert (folder / "data" / "agencies.csv").read_text().split() == ["agency_id", "fl-x"]
    monkeypatch.setenv("ICE287G_ROOT", str(repo))
    monkeypatch.setenv("ICE287G_DIST_DIR", str(tmp_path / "dist"))
    assert list(load("agencies", version="2030.1.2")["agency_id"]) == ["fl-x"]
    assert list(load("agencies", version="2030.1.9")["agency_id"]) == ["fl-x", "fl-y"]  # the checked-out one
    assert [v["version"] for v in history.versions(repo)] == ["2030.1.2", "2030.1.9"]
    with pytest.raises(InputError, match="no such release"):
        locate("2031.1.1", repo, tmp_path / "dist", tmp_path / "work")

    # a shallow clone has no history to read the older release from
    shallow = tmp_path / "shallow"
    _git(tmp_path, "clone", "--quiet", "--depth", "1", f"file://{repo}", str(shallow))
    with pytest.raises(InputError, match="unshallow"):
        history.export(shallow, "2030.1.2", tmp_path / "out")


def test_a_release_whose_bytes_differ_from_its_record_is_refused(tmp_path):
    from ice287g.consume import history

    repo = tmp_path / "repo"
    repo.mkdir()
    _release(repo, "2030.1.2", ["fl-x"], record="0" * 64)
    with pytest.raises(InputError, match=r"has sha256 [0-9a-f]{64}, but releases.csv records 0{64}"):
        history.export(repo, "2030.1.2", tmp_path / "out")


def test_diff_names_tables_and_columns_added_removed_and_retyped(tmp_path):
    import json

    from ice287g.publish.changes import schema_changes

    def version(name: str, tables: dict[str, dict[str, str]]) -> Path:
        folder = tmp_path / name
        resources = [
            {"name": t, "schema": {"fields": [{"name": c, "type": k} for c, k in columns.items()]}}
            for t, columns in tables.items()
        ]
        folder.mkdir()
        (folder / "datapackage.json").write_text(json.dumps({"resources": resources}))
        return folder

    old = version("old", {"agencies": {"agency_id": "string", "ori": "integer", "gone": "string"}, "x": {}})
    new = version("new", {"agencies": {"agency_id": "string", "ori": "string", "county_fips": "string"}, "y": {}})
    assert {c.title: c.items for c in schema_changes(old, new)} == {
        "tables added": ["y"],
        "tables removed": ["x"],
        "columns added": ["agencies.county_fips (string)"],
        "columns removed": ["agencies.gone"],
        "column types changed": ["agencies.ori: integer → string"],
    }


@pytest.mark.integration
def test_diff_of_the_first_and_fourth_method_release_sees_their_schema():
    from typer.testing import CliRunner

    from ice287g.cli import app

    run = CliRunner().invoke(app, ["diff", "2026.3.27.1", "2026.3.27.4"])
    assert run.exit_code == 0, run.output
    assert "- **tables added**: 1\n  - county_counts" in run.output
    assert "- **columns added**: 13\n  - agencies.state_fips (string)" in run.output


def test_method_notes_head_only_the_first_version_of_a_method_release(tmp_path):
    from ice287g.publish.committed import method_notes

    (tmp_path / "sources" / "method-releases").mkdir(parents=True)
    (tmp_path / "sources" / "method-releases" / "2.md").write_text("Counts renamed.\n")
    assert method_notes(tmp_path, "2026.3.27.2", since="2026.3.27.1") == "Counts renamed.\n"
    assert method_notes(tmp_path, "2026.4.2.2", since="2026.3.27.2") == ""  # new data, same method
    assert method_notes(tmp_path, "2026.3.27.2", since=None) == ""  # a first release has nothing to compare
    assert method_notes(tmp_path, "2026.3.27.3", since="2026.3.27.2") == ""  # no note written for 3
    assert method_notes(REPO, "2026.3.27.2", since="2026.3.27.1").startswith("The same 1,124 snapshots")
