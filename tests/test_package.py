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
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, participating_rows

from ice287g.consume.loader import load
from ice287g.consume.versions import version_for, version_key
from ice287g.errors import InputError, ProjectError
from ice287g.pipeline.build import build
from ice287g.publish import package as package_module
from ice287g.validate.schema import RESOURCES, load_manifest

# the versions the small archives build into, under the current METHOD_RELEASE
FIRST = version_for(dt.date(2026, 3, 1))
SECOND = version_for(dt.date(2026, 3, 4))

QUIET = {"say": lambda _m: None}


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_build_publishes_a_valid_versioned_package(small_built):
    result = small_built.result
    assert result.version == FIRST
    folder = small_built.settings.dist / FIRST
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
    with zipfile.ZipFile(small_built.settings.dist / f"ice287g-{FIRST}.zip") as zf:
        assert sorted(zf.namelist()) == sorted(f"ice287g-{FIRST}/{n}" for n in names)
    # the frictionless CLI agrees
    cli = Path(sys.executable).with_name("frictionless")
    run = subprocess.run([str(cli), "validate", str(folder / "datapackage.json")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:]


def test_a_failed_package_step_leaves_no_partial_version(small_built, make_workbook, monkeypatch):
    from ice287g.pipeline.intake.add import add_files

    settings = small_built.settings
    add_files(settings, [make_workbook("participatingAgencies03042026am.xlsx", participating_rows(4))])
    dist, database = files_of(settings.dist), settings.database.read_bytes()

    def broken(_path):
        raise InputError("datapackage.json", "simulated failure")

    monkeypatch.setattr(package_module, "frictionless_check", broken)
    with pytest.raises(InputError, match="simulated failure"):
        build(settings, **QUIET)
    assert files_of(settings.dist) == dist and settings.database.read_bytes() == database
    assert not list(settings.build_dir.glob(".work*"))


def test_a_new_snapshot_makes_a_new_version_with_a_changelog(small_built, make_workbook):
    from ice287g.pipeline.build import write_committed_release
    from ice287g.pipeline.intake.add import add_files

    small_archive, first = small_built.settings, small_built.result  # built and released: the changelog's base
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


def test_csv_types_follow_the_table_schema(small_built):
    result = small_built.result
    parquet = load("publications", source=result.package)
    (result.package / "data" / "publications.parquet").unlink()  # force the CSV path
    from_csv = load("publications", source=result.package)
    pd.testing.assert_frame_equal(from_csv, parquet)
    assert str(from_csv["published_date"].dtype) == "datetime64[us]"
    assert str(from_csv["row_count"].dtype) == "Int64"


def test_version_scheme():
    assert version_for(dt.date(2026, 3, 19), 0) == "2026.3.19"
    assert version_for(dt.date(2026, 3, 19), 2) == "2026.3.19.2"
    ordered = sorted(["2026.3.19.1", "2026.10.1", "2026.3.19", "2026.3.2"], key=version_key)
    assert ordered == ["2026.3.2", "2026.3.19", "2026.3.19.1", "2026.10.1"]


def test_the_committed_descriptor_matches_the_models(small_built):
    """datapackage.json's schemas and descriptions are generated from models/marts/_marts.yml (as
    dbt's manifest of this checkout gives them: the small build's)."""
    from ice287g.validate.schema import resource_schemas

    manifest = load_manifest(small_built.settings.build_dir / "dbt" / "target" / "manifest.json")
    expected = {s.name: (s.title, s.description, s.schema) for s in resource_schemas(manifest)}
    committed = json.loads((REPO / "datapackage.json").read_text())
    actual = {r["name"]: (r["title"], r["description"], r["schema"]) for r in committed["resources"]}
    assert actual == expected, "datapackage.json drifted from the dbt models: run `make build` and commit it"


def test_the_published_tables_are_the_models_the_marts_yaml_describes_in_its_order(tmp_path):
    """The list of published tables is read from models/marts/_marts.yml (a mart it leaves out stops
    the build: test_suites' test_a_mart_that_is_not_published_stops_the_build)."""
    import yaml

    from ice287g.validate.schema import published_tables

    described = [m["name"] for m in yaml.safe_load((REPO / "models/marts/_marts.yml").read_text())["models"]]
    assert RESOURCES == published_tables(REPO) == tuple(described)
    (tmp_path / "models" / "marts").mkdir(parents=True)
    (tmp_path / "models" / "marts" / "_marts.yml").write_text("version: 2\nmodels:\n  - name: a\n  - name: a\n")
    with pytest.raises(ProjectError, match="must describe each published table once"):
        published_tables(tmp_path)


def test_the_build_becomes_the_committed_release_and_a_released_version_never_changes(small_built):
    from frictionless import validate as frictionless_validate

    small_archive, changed = small_built.settings, small_built.changed
    release = small_archive.release
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

    # (the same registry built again writes nothing: test_fingerprint's full rebuild)
    # a released version rebuilt with other bytes is refused, even when its dist folder is gone
    shutil.rmtree(small_archive.dist)
    index = (release / "releases.csv").read_text()
    (release / "releases.csv").write_text(index.replace(line["agreements_sha256"], "0" * 64))
    with pytest.raises(InputError, match="released"):
        build(small_archive, **QUIET)
