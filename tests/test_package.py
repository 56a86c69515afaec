"""The package: validation gate, Frictionless descriptor, versions, immutability, changelog, load."""

import csv
import datetime as dt
import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import REPO, participating_rows

from ice287g import package as package_module
from ice287g.build import build, validation_parameters
from ice287g.errors import InputError
from ice287g.loader import load
from ice287g.schema import RESOURCES, load_manifest
from ice287g.suites import plan, relationship_targets
from ice287g.validate import ValidationFailed, check_frames, validate

# the versions the small archives build into, under the current METHOD_RELEASE
FIRST = package_module.version_for(dt.date(2026, 3, 1))
SECOND = package_module.version_for(dt.date(2026, 3, 4))

QUIET = {"say": lambda _m: None}


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_build_publishes_a_valid_versioned_package(small_archive):
    result = build(small_archive, **QUIET)
    assert result.version == FIRST
    folder = small_archive.dist / FIRST
    assert result.package == folder and result.is_new_version
    names = set(files_of(folder))
    for resource in RESOURCES:
        assert {f"data/{resource}.csv", f"data/{resource}.parquet"} <= names
    assert {"datapackage.json", "SHA256SUMS", "CHANGELOG.md", "validation.json"} <= names
    descriptor = json.loads((folder / "datapackage.json").read_text())
    assert descriptor["version"] == FIRST
    assert [r["name"] for r in descriptor["resources"]] == list(RESOURCES)
    for resource in descriptor["resources"]:
        data = (folder / resource["path"]).read_bytes()
        assert resource["bytes"] == len(data)
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
    sums = dict(line.split("  ")[::-1] for line in (folder / "SHA256SUMS").read_text().splitlines())
    assert sums["data/listings.parquet"] == hashlib.sha256((folder / "data/listings.parquet").read_bytes()).hexdigest()
    with zipfile.ZipFile(small_archive.dist / f"ice287g-{FIRST}.zip") as zf:
        assert sorted(zf.namelist()) == sorted(f"ice287g-{FIRST}/{n}" for n in names)
    # the frictionless CLI agrees
    cli = Path(sys.executable).with_name("frictionless")
    run = subprocess.run([str(cli), "validate", str(folder / "datapackage.json")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:]


def test_building_twice_gives_the_same_bytes(small_archive, tmp_path):
    first = build(small_archive, **QUIET)
    again = build(small_archive, **QUIET)
    assert (again.version, again.is_new_version) == (first.version, False)
    elsewhere = replace(small_archive, build_dir=tmp_path / "other-build", dist_dir=tmp_path / "other-dist")
    # a year later: no byte depends on the day of the build
    other = build(elsewhere, today=dt.date.today() + dt.timedelta(days=365), **QUIET)
    assert files_of(other.package) == files_of(first.package)
    zip_name = f"ice287g-{first.version}.zip"
    assert (elsewhere.dist / zip_name).read_bytes() == (small_archive.dist / zip_name).read_bytes()


def test_a_published_version_is_never_overwritten(small_archive):
    result = build(small_archive, **QUIET)
    tampered = result.package / "data" / "counts.csv"
    tampered.write_text(tampered.read_text() + "\n")  # stands in for a method change
    before = files_of(result.package)
    with pytest.raises(InputError, match="never overwritten.*METHOD_RELEASE"):
        build(small_archive, **QUIET)
    assert files_of(result.package) == before


def test_a_failed_package_step_leaves_no_partial_version(small_archive, monkeypatch):
    def broken(_path):
        raise InputError("datapackage.json", "simulated failure")

    monkeypatch.setattr(package_module, "frictionless_check", broken)
    with pytest.raises(InputError, match="simulated failure"):
        build(small_archive, **QUIET)
    assert not small_archive.dist.exists() or not any(small_archive.dist.iterdir())
    assert not small_archive.database.exists()


def test_a_new_snapshot_makes_a_new_version_with_a_changelog(small_archive, make_workbook):
    from ice287g.build import write_committed_release
    from ice287g.intake import add_files

    first = build(small_archive, **QUIET)
    write_committed_release(small_archive, first)  # what `ice287g build` does: the changelog's base
    old_files = files_of(first.package)
    old_agreements = load("agreements", source=first.package)

    rows = participating_rows(3, dt.date(2026, 3, 2))
    rows = [
        rows[0],
        rows[1],
        rows[2],
        [
            "GEORGIA",
            "Omega Police Department",
            "Municipality",
            "Omega County",
            "Jail Enforcement Model",
            dt.date(2026, 3, 3),
            "link",
            None,
        ],
    ]
    add_files(small_archive, [make_workbook("participatingAgencies03042026am.xlsx", rows)])
    second = build(small_archive, **QUIET)

    assert second.version == SECOND and second.is_new_version
    assert files_of(first.package) == old_files  # the old version is intact
    for table, key in (("agencies", "agency_id"), ("agreements", "agreement_id")):
        assert set(load(table, source=first.package)[key]) <= set(load(table, source=second.package)[key])
    changelog = (second.package / "CHANGELOG.md").read_text()
    assert f"Changes since {FIRST}." in changelog
    assert "- **participating publications added**: 1" in changelog
    assert (
        "- **agreements newly listed**: 1\n  - ga-omega-police-department-jem-20260303 (Omega Police Department, GA)"
        in changelog
    )
    assert "- **agencies joined**: 1" in changelog
    assert "- **agencies left**: 1\n  - tx-gamma-county-sheriff-office" in changelog
    assert "- **agreements removed**: 1" in changelog
    # a file in hand with no known time: no time is made up for it, and the descriptor's
    # `created` stays the newest time known of the registered files
    captured = load("publications", source=second.package).set_index(["list", "published_date"])["first_captured_at"]
    assert pd.isna(captured[("participating", pd.Timestamp("2026-03-04"))])
    assert str(captured[("participating", pd.Timestamp("2026-03-01"))]) == "2026-03-28 00:00:00+00:00"
    assert json.loads((second.package / "datapackage.json").read_text())["created"] == "2026-03-28T00:00:00Z"
    # the pinned old version loads the same data after newer versions were built
    pd.testing.assert_frame_equal(load("agreements", source=first.package), old_agreements)
    # `ice287g diff` prints the same comparison
    from typer.testing import CliRunner

    from ice287g.cli import app

    run = CliRunner().invoke(app, ["diff", FIRST, SECOND], env={"ICE287G_DIST_DIR": str(small_archive.dist)})
    assert run.exit_code == 0, run.output
    body = changelog.split(f"Changes since {FIRST}.", 1)[1]
    assert run.output.split(f"Changes since {FIRST}.", 1)[1] == body
    missing = CliRunner().invoke(app, ["diff", FIRST, "2030.1.1"], env={"ICE287G_DIST_DIR": str(small_archive.dist)})
    assert missing.exit_code == 1 and "no such release" in missing.output

    # the release page shows the same comparison, with who, where and when
    first_page = (small_archive.release / "docs" / "index.html").read_text()
    assert f"ice287g {FIRST}" in first_page and "This is the first release" in first_page
    assert "docs/index.html" in write_committed_release(small_archive, second)
    changes = pd.read_csv(small_archive.release / "docs" / "changes.csv", dtype=str, keep_default_na=False)
    assert set(changes["version"]) == {SECOND} and set(changes["since_version"]) == {FIRST}
    added = changes[changes["change"] == "agreement added"].iloc[0]
    assert (added["id"], added["agency_name"], added["state_code"], added["signed_date"]) == (
        "ga-omega-police-department-jem-20260303",
        "Omega Police Department",
        "GA",
        "2026-03-03",
    )
    left = changes[changes["change"] == "agency left"]
    assert list(left["id"]) == ["tx-gamma-county-sheriff-office"]
    page = (small_archive.release / "docs" / "index.html").read_text()
    assert f"What changed since ice287g {FIRST}" in page and "Omega Police Department" in page


def test_load_reads_folders_zips_and_pinned_urls(small_archive, http_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # pooch's download cache
    result = build(small_archive, **QUIET)
    from_folder = load("agreements", source=result.package)
    from_zip = load("agreements", source=small_archive.dist / f"ice287g-{result.version}.zip")
    pd.testing.assert_frame_equal(from_folder, from_zip)
    assert len(from_folder) == 3 and from_folder["signed_date"].dtype.kind == "M"

    folder, base = http_folder
    zip_name = f"ice287g-{result.version}.zip"
    shutil.copy(small_archive.dist / zip_name, folder / zip_name)
    digest = hashlib.sha256((folder / zip_name).read_bytes()).hexdigest()
    from_url = load("agreements", source=f"{base}/{zip_name}", sha256=digest)
    pd.testing.assert_frame_equal(from_url, from_folder)
    assert list((tmp_path / "cache").rglob("*.zip")), "the pinned download is cached outside the project"
    with pytest.raises(ValueError, match="SHA256 hash of downloaded file"):
        load("counts", source=f"{base}/{zip_name}?again", sha256="0" * 64)


def test_csv_types_follow_the_table_schema(small_archive):
    result = build(small_archive, **QUIET)
    parquet = load("publications", source=result.package)
    (result.package / "data" / "publications.parquet").unlink()  # force the CSV path
    from_csv = load("publications", source=result.package)
    pd.testing.assert_frame_equal(from_csv, parquet)
    assert str(from_csv["published_date"].dtype) == "datetime64[us]"
    assert str(from_csv["row_count"].dtype) == "Int64"


def built_frames(settings) -> tuple[dict, dict[str, pd.DataFrame]]:
    """The manifest and the tables a build validates, read back from its database."""
    manifest = load_manifest(settings.build_dir / "dbt" / "target" / "manifest.json")
    with duckdb.connect(str(settings.database), read_only=True) as con:
        tables = sorted(set(RESOURCES) | relationship_targets(manifest))
        return manifest, {name: con.execute(f"select * from {name}").df() for name in tables}


def run_gate(settings, frames, manifest, report: Path) -> dict:
    return validate(
        plan(manifest, frames, REPO / "expectations", check_frames(frames)),
        report,
        validation_parameters(settings, 2, dt.date(2026, 11, 30)),
    )


def test_a_failed_expectation_stops_the_build_and_names_the_rows(small_archive, tmp_path):
    build(small_archive, **QUIET)
    manifest, frames = built_frames(small_archive)
    assert run_gate(small_archive, frames, manifest, tmp_path / "ok")["success"]
    frames["agreements"].loc[0, "status"] = "bogus"
    report = tmp_path / "report"
    with pytest.raises(ValidationFailed) as err:
        run_gate(small_archive, frames, manifest, report)
    message = str(err.value)
    assert "agreements: expect_column_values_to_be_in_set on status failed" in message and "bogus" in message
    summary = json.loads((report / "validation.json").read_text())
    assert summary["success"] is False
    assert (report / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").exists()


def test_counts_that_do_not_add_up_fail_the_cross_table_check(small_archive, tmp_path):
    build(small_archive, **QUIET)
    manifest, frames = built_frames(small_archive)
    frames["counts"].loc[0, "count"] += 1
    with pytest.raises(
        ValidationFailed, match="counts_count_sums_to_publications_row_count: expect_column_pair_values_to_be_equal"
    ):
        run_gate(small_archive, frames, manifest, tmp_path / "report")


def test_version_scheme():
    assert package_module.version_for(dt.date(2026, 3, 19), 0) == "2026.3.19"
    assert package_module.version_for(dt.date(2026, 3, 19), 2) == "2026.3.19.2"
    ordered = sorted(["2026.3.19.1", "2026.10.1", "2026.3.19", "2026.3.2"], key=package_module.version_key)
    assert ordered == ["2026.3.2", "2026.3.19", "2026.3.19.1", "2026.10.1"]


def test_the_committed_descriptor_matches_the_models(tmp_path):
    """datapackage.json's schemas and descriptions are generated from models/marts/_marts.yml."""
    from ice287g.dbt import run_dbt
    from ice287g.schema import load_manifest, resource_schemas

    run_dbt(REPO, tmp_path / "parse.duckdb", tmp_path, ["parse"])
    expected = {
        s.name: (s.title, s.description, s.schema)
        for s in resource_schemas(load_manifest(tmp_path / "dbt" / "target" / "manifest.json"))
    }
    committed = json.loads((REPO / "datapackage.json").read_text())
    actual = {r["name"]: (r["title"], r["description"], r["schema"]) for r in committed["resources"]}
    assert actual == expected, "datapackage.json drifted from the dbt models: run `make build` and commit it"


def test_the_build_becomes_the_committed_release_and_a_released_version_never_changes(small_archive):
    from frictionless import validate as frictionless_validate

    from ice287g.build import write_committed_release

    release = small_archive.release
    result = build(small_archive, **QUIET)
    changed = write_committed_release(small_archive, result)
    assert "datapackage.json" in changed and "releases.csv" in changed and "CHANGELOG.md" in changed
    descriptor = json.loads((release / "datapackage.json").read_text())
    assert {r["path"] for r in descriptor["resources"]} == {f"data/{name}.csv" for name in RESOURCES}
    assert frictionless_validate(str(release / "datapackage.json")).valid
    for resource in descriptor["resources"]:
        path = release / resource["path"]
        assert resource["hash"] == f"sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}"
    (line,) = list(csv.DictReader(io.StringIO((release / "releases.csv").read_text())))
    assert line["version"] == FIRST and line["newest_participating_date"] == "2026-03-01"
    zip_sha = (small_archive.dist / f"ice287g-{FIRST}.zip.sha256").read_text().split()[0]
    assert line["zip_sha256"] == zip_sha and line["agreements_rows"] == "3"
    assert (release / "CHANGELOG.md").read_text().count(f"## ice287g {FIRST}") == 1

    # the same registry again: nothing to write
    assert write_committed_release(small_archive, build(small_archive, **QUIET)) == []
    # a released version rebuilt with other bytes is refused, even when its dist folder is gone
    shutil.rmtree(small_archive.dist)
    index = (release / "releases.csv").read_text()
    (release / "releases.csv").write_text(index.replace(line["agreements_sha256"], "0" * 64))
    with pytest.raises(InputError, match="released"):
        build(small_archive, **QUIET)
