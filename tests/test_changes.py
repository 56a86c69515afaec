"""The changelog's list of changed ids, on two tiny version folders the test writes."""

import subprocess
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO

from ice287g.changes import changed_ids
from ice287g.committed import locate
from ice287g.errors import InputError


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


def test_a_released_version_is_found_in_git_by_its_index_line(tmp_path):
    repo = tmp_path / "repo"
    write_version(repo, [("p1#2", "fl-x", "fl-x-tfm", "")], ["fl-x"], ["fl-x-tfm"])
    (repo / "datapackage.json").write_text('{"version": "2030.1.2"}\n')
    (repo / "releases.csv").write_text("version,zip_sha256\n2030.1.2,abc\n")

    def git(*args):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
            cwd=repo,
            check=True,
            capture_output=True,
        )

    git("init", "--quiet")
    git("add", "-A")
    git("commit", "--quiet", "-m", "release 2030.1.2")
    (repo / "data" / "agencies.csv").write_text("agency_id\nfl-y\n")  # the working tree moved on
    folder = locate("2030.1.2", repo, tmp_path / "dist", tmp_path / "work")
    assert (folder / "data" / "agencies.csv").read_text().split() == ["agency_id", "fl-x"]
    with pytest.raises(InputError, match="no such release"):
        locate("2031.1.1", repo, tmp_path / "dist", tmp_path / "work")


def test_method_notes_head_only_the_first_version_of_a_method_release(tmp_path):
    from ice287g.committed import method_notes

    (tmp_path / "sources" / "method-releases").mkdir(parents=True)
    (tmp_path / "sources" / "method-releases" / "2.md").write_text("Counts renamed.\n")
    assert method_notes(tmp_path, "2026.3.27.2", since="2026.3.27.1") == "Counts renamed.\n"
    assert method_notes(tmp_path, "2026.4.2.2", since="2026.3.27.2") == ""  # new data, same method
    assert method_notes(tmp_path, "2026.3.27.2", since=None) == ""  # a first release has nothing to compare
    assert method_notes(tmp_path, "2026.3.27.3", since="2026.3.27.2") == ""  # no note written for 3
    assert method_notes(REPO, "2026.3.27.2", since="2026.3.27.1").startswith("The same 1,124 snapshots")
