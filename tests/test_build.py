"""The build on a small archive the tests write: raw layer, incremental loads, atomic failure.

The build under faults (locks, kills, damaged copies, backfills) is in test_faults.py.
"""

import json
import re
from dataclasses import replace

import duckdb
import pytest
from conftest import REPO, participating_rows, private_settings, register_in_mirror

from ice287g.errors import InputError, ProjectError
from ice287g.pipeline import build as build_module
from ice287g.pipeline.build import build
from ice287g.settings import Settings
from ice287g.sources.registry import Registry, make_entry
from ice287g.util.hashing import sha256_of
from ice287g.validate.gate import ValidationFailed


def query(settings, sql):
    with duckdb.connect(str(settings.database), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_build_loads_every_row_with_its_provenance(small_built):
    settings, result = small_built.settings, small_built.result
    assert result.load.files_read == 2
    assert result.load.rows_total == 4
    assert result.load.layouts == {"participating_v4": 1, "pending_v2": 1}
    files = dict(query(settings, "select file_name, archive from raw_files"))
    assert files == {
        "participatingAgencies03012026am.xlsx": "test/archive",
        "pendingAgencies03012026am.xlsx": "test/archive",
    }
    links = query(settings, "select moa_link_published, moa_url from stg_raw__rows where moa_url is not null")
    assert links == [
        (
            "https://web.archive.org/web/20260301000000/https://www.ice.gov/doclib/287gMOA/a.pdf",
            "https://www.ice.gov/doclib/287gMOA/a.pdf",
        )
    ]


def files_of(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_only_the_project_s_own_registry_judges_its_reviewed_fixes(tmp_path):
    assert Settings.from_env(root=REPO).judges_fixes
    assert not private_settings(tmp_path).judges_fixes


def test_a_failed_build_leaves_the_previous_database_untouched(small_built, monkeypatch):
    settings = small_built.settings
    before = settings.database.read_bytes()
    report = files_of(settings.build_dir / "validation")
    reviews = files_of(settings.build_dir / "review")
    assert "validation.json" in report and set(reviews) == set(build_module.REVIEW_FILES)

    # a validation that fails: its report is kept apart, the last good one stays in place
    usual = build_module.validation_parameters

    def demanding(*args):
        return {**usual(*args), "registered_files": 3}

    monkeypatch.setattr(build_module, "validation_parameters", demanding)
    failed = settings.build_dir / "validation-failed"
    with pytest.raises(ValidationFailed, match=rf"(?s)snapshots: .* failed .*report: {re.escape(str(failed))}/gx/"):
        build(settings, say=lambda _m: None)
    monkeypatch.undo()
    assert json.loads((failed / "validation.json").read_text())["success"] is False
    assert (failed / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").exists()
    assert files_of(settings.build_dir / "validation") == report
    assert files_of(settings.build_dir / "review") == reviews
    assert settings.database.read_bytes() == before

    # a reviewed fix that matches nothing in the archive it was read against stops the build, named;
    # the small archive is not that archive (it lacks MCHIGAN), so here it only stands in for it
    assert not settings.judges_fixes
    monkeypatch.setattr(Settings, "judges_fixes", property(lambda _self: True))
    with pytest.raises(
        ProjectError, match=r"seeds: reviewed fixes that match nothing(?s:.*)fix_state_names.csv: the fix for 'MCHIGAN'"
    ):
        build(settings, say=lambda _m: None)
    monkeypatch.undo()
    assert settings.database.read_bytes() == before
    assert files_of(settings.build_dir / "validation") == report

    bad = settings.mirror / "files" / "participatingAgencies03032026am.xlsx"
    bad.write_text("<!DOCTYPE html><html>blocked</html>")
    registry = Registry.load(settings.registry)
    registry.add(make_entry(sha256_of(bad), bad.name, bad.stat().st_size, mirror_path=f"files/{bad.name}"))
    registry.save()
    with pytest.raises(InputError, match="participatingAgencies03032026am.xlsx: .*HTML"):
        build(settings, say=lambda _m: None)
    assert settings.database.read_bytes() == before
    assert files_of(settings.build_dir / "validation") == report
    assert not list(settings.build_dir.glob(".work*"))


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ([["STATE", "AGENCY"], ["TEXAS", "A"]], "layout never seen before"),
        ([[None]], "every sheet is empty"),
    ],
)
def test_bad_workbooks_stop_the_build_with_the_file_named(settings, rows, problem):
    register_in_mirror(settings, "participatingAgencies03012026am.xlsx", participating_rows())
    register_in_mirror(settings, "pendingAgencies03012026am.xlsx", rows)
    with pytest.raises(InputError, match=f"pendingAgencies03012026am.xlsx: .*{problem}"):
        build(settings, say=lambda _m: None)
    assert not settings.database.exists()


def test_a_checksum_mismatch_stops_the_build(small_archive):
    settings = small_archive
    path = settings.mirror / "files" / "pendingAgencies03012026am.xlsx"
    path.write_bytes(path.read_bytes() + b"trailing garbage")
    with pytest.raises(InputError, match="pendingAgencies03012026am.xlsx .*has sha256 .*expected"):
        build(settings, say=lambda _m: None)


def test_a_registry_row_whose_file_is_nowhere_stops_the_build(small_archive):
    settings = small_archive
    (settings.mirror / "files" / "pendingAgencies03012026am.xlsx").unlink()
    with pytest.raises(
        InputError, match=r"(?s)1 registered file.*pendingAgencies03012026am.xlsx .*cannot be found anywhere"
    ):
        build(settings, say=lambda _m: None)


def test_a_registered_size_that_is_not_the_file_s_names_the_registry(small_archive):
    settings = small_archive
    registry = Registry.load(settings.registry)
    entry = next(iter(registry))
    registry.entries[entry.file_sha256] = replace(entry, bytes=entry.bytes - 1)
    registry.save()
    with pytest.raises(InputError) as err:
        build(settings, say=lambda _m: None)
    assert str(err.value).startswith(f"{settings.registry}: 1 registered file(s) unusable")
    assert f"{entry.short}: registered with bytes {entry.bytes - 1}, but the file with this sha256 has" in str(
        err.value
    )
    assert not settings.database.exists()


def test_an_empty_registry_says_how_to_fill_it(settings):
    with pytest.raises(InputError, match="no snapshots registered"):
        build(settings, say=lambda _m: None)
