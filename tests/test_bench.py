"""The benchmark's own logic on workbooks the test writes (its figures are never asserted)."""

import datetime as dt
import zipfile
from pathlib import Path

from conftest import participating_rows, register_in_mirror

from ice287g.bench import held_back, replicate
from ice287g.registry import Registry
from ice287g.workbook import read_workbook


def test_the_held_back_list_is_the_newest_participating_one(settings):
    for day in (2, 4, 3):
        register_in_mirror(settings, f"participatingAgencies03{day:02d}2026am.xlsx", participating_rows(day))
    register_in_mirror(settings, "pendingAgencies03092026am.xlsx", participating_rows(1))
    assert held_back(Registry.load(settings.registry)).file_name == "participatingAgencies03042026am.xlsx"


def test_replicas_have_their_own_checksums_and_the_same_sheets(settings, tmp_path):
    original = register_in_mirror(
        settings, "participatingAgencies03022026am.xlsx", participating_rows(3, dt.date(2026, 3, 1))
    )
    path = replicate(settings, 3, tmp_path / "scaled")
    entries = list(Registry.load(path))
    assert len(entries) == 3 and len({e.file_sha256 for e in entries}) == 3
    assert sum(e.mirror_path.startswith("/") for e in entries) == 2
    sheets = read_workbook(original, original.name)
    for entry in (e for e in entries if e.mirror_path.startswith("/")):
        copy = Path(entry.mirror_path)  # absolute: the copies live in the benchmark's own folder
        assert read_workbook(copy, entry.file_name) == sheets
        assert zipfile.ZipFile(copy).comment.startswith(b"ice287g bench copy")
