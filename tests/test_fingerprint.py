"""A build with nothing new reuses the last one, and only when a full build would write the same bytes."""

import shutil
from dataclasses import replace

import pytest
from conftest import participating_rows

from ice287g.errors import InputError
from ice287g.pipeline import fingerprint
from ice287g.pipeline.build import build, build_release
from ice287g.pipeline.intake.add import add_files


def files_of(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_nothing_new_is_reused_a_changed_input_or_output_is_built_again(small_archive, make_workbook):
    """One chain of builds in one folder (each step needs the record the one before left)."""
    settings = small_archive
    first, changed = build_release(settings)
    assert changed and not first.is_reused
    dist, release, database = files_of(settings.dist), files_of(settings.release), settings.database.read_bytes()

    said: list[str] = []
    again, changed = build_release(settings, say=said.append)
    assert again.is_reused and changed == []
    assert "dbt" not in again.stage_seconds and "validate" not in again.stage_seconds
    assert any("reused" in line for line in said)
    assert (again.version, again.package, again.load, again.descriptor) == (
        first.version,
        first.package,
        first.load,
        first.descriptor,
    )
    assert files_of(settings.dist) == dist and files_of(settings.release) == release
    assert settings.database.read_bytes() == database

    # an output changed since: the build runs in full and puts it back; and what was reused is
    # what that full build writes: it finds the version published with its bytes, writes nothing
    # to the release and reads no file again
    report = settings.build_dir / "validation" / "validation.json"
    good = report.read_bytes()
    report.write_text("{}")
    full, changed = build_release(settings)
    assert not full.is_reused and not full.is_new_version and changed == [] and report.read_bytes() == good
    assert full.version == first.version and files_of(settings.dist) == dist and files_of(settings.release) == release
    assert (full.load.files_read, full.load.files_total, full.load.rows_total) == (0, 2, 4)

    # a published file altered: the build runs and refuses to overwrite the version
    table = full.package / "data" / "agreements.csv"
    published = table.read_bytes()
    table.write_bytes(published + b"tampered\n")  # stands in for a method change
    tampered = files_of(full.package)
    with pytest.raises(InputError, match="never overwritten.*METHOD_RELEASE"):
        build(settings, say=lambda _m: None, reuse=True)
    assert files_of(full.package) == tampered
    table.write_bytes(published)
    assert build(settings, say=lambda _m: None, reuse=True).is_reused

    # a new list: built, and only the new file read
    add_files(settings, [make_workbook("participatingAgencies03022026am.xlsx", participating_rows(4))])
    result, _ = build_release(settings)
    assert not result.is_reused and result.is_new_version
    assert (result.load.files_read, result.load.files_total, result.load.rows_total) == (1, 3, 8)


def copy_project(root, target):
    target.mkdir(parents=True)
    for name in fingerprint.PROJECT_FILES:
        shutil.copy2(root / name, target / name)
    for folder in ("models", "macros", "seeds", "sources"):
        shutil.copytree(root / folder, target / folder)
    return target


def test_the_digest_follows_every_kind_of_input(settings, tmp_path):
    project = copy_project(settings.root, tmp_path / "project")
    ours = replace(settings, root=project)
    ours.release.mkdir(parents=True)
    digest = fingerprint.input_digest(ours)
    assert fingerprint.input_digest(ours) == digest

    model = next((project / "models" / "marts").glob("*.sql"))
    model.write_text(model.read_text() + "\n-- a comment is a change\n")
    edited = fingerprint.input_digest(ours)
    assert edited != digest

    (project / "seeds" / "__pycache__").mkdir()
    (project / "seeds" / "__pycache__" / "x.pyc").write_bytes(b"compiled")
    assert fingerprint.input_digest(ours) == edited

    (ours.release / "releases.csv").write_text("version\n2026.1.1.1\n")
    released = fingerprint.input_digest(ours)
    assert released != edited

    ours.registry.parent.mkdir(parents=True, exist_ok=True)
    ours.registry.write_text("file_sha256\n")
    assert fingerprint.input_digest(ours) != released
    assert fingerprint.input_digest(replace(ours, dist_dir=tmp_path / "elsewhere")) != fingerprint.input_digest(ours)
