"""The benchmark's own logic on workbooks the test writes (its figures are never asserted)."""

import csv
import datetime as dt
import zipfile

from conftest import REPO, participating_rows, register_in_mirror

from ice287g.pipeline.bench import folders, held_back, replicate
from ice287g.raw.workbook import read_workbook
from ice287g.sources.registry import Registry
from ice287g.sources.store import Store, resolve


def test_the_held_back_list_is_the_newest_participating_one(settings):
    for day in (2, 4, 3):
        register_in_mirror(settings, f"participatingAgencies03{day:02d}2026am.xlsx", participating_rows(day))
    register_in_mirror(settings, "pendingAgencies03092026am.xlsx", participating_rows(1))
    # a name dated 4026 by a typo, archived the day before: no newer than its archive time
    register_in_mirror(settings, "participatingAgencies03014026am.xlsx", participating_rows(3))
    newest = held_back(Registry.load(settings.registry), REPO)
    assert newest.file_name == "participatingAgencies03042026am.xlsx"


def test_the_held_back_list_of_the_archive_is_its_newest_publication():
    """By the committed release: a file of its newest participating publication."""
    registry = Registry.load(REPO / "sources" / "snapshots.csv")
    with open(REPO / "data" / "snapshots.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["list"] == "participating"]
    newest_day = max(r["published_date"] for r in rows)
    assert held_back(registry, REPO).file_sha256 in {
        r["file_sha256"] for r in rows if r["published_date"] == newest_day
    }


def test_replicas_have_their_own_checksums_and_the_same_sheets(settings, tmp_path):
    original = register_in_mirror(
        settings, "participatingAgencies03022026am.xlsx", participating_rows(3, dt.date(2026, 3, 1))
    )
    path = replicate(settings, 3, tmp_path / "scaled")
    entries = list(Registry.load(path))  # a registry the build accepts: no path leaves a mirror
    assert len(entries) == 3 and len({e.file_sha256 for e in entries}) == 3
    copies = [e for e in entries if not e.mirror_path]
    assert len(copies) == 2
    sheets = read_workbook(original, original.name)
    store = Store(folders(settings, tmp_path / "scaled", path).store)
    for entry in copies:  # in the scaled build's own store, where it resolves them from
        copy = store.path_for(entry.file_sha256)
        assert resolve(entry, store, settings.mirror, offline=True) == copy
        assert read_workbook(copy, entry.file_name) == sheets
        assert zipfile.ZipFile(copy).comment.startswith(b"ice287g bench copy")


def test_each_target_is_a_ratio_to_a_figure_of_the_same_run():
    from ice287g.pipeline.bench import RATIO_TARGETS, against_targets

    figures = {"calamine_floor_seconds": 4.0, "read_seconds": 6.0, "cold_seconds": 50.0, "add_one_seconds": 16.0}
    rows = {(r["figure"], r["of"]): r for r in against_targets(figures)}
    assert len(rows) == len(RATIO_TARGETS)
    assert rows[("read_seconds", "calamine_floor_seconds")]["ratio"] == 1.5  # at its bound: met
    assert rows[("read_seconds", "calamine_floor_seconds")]["met"]
    assert rows[("cold_seconds", "calamine_floor_seconds")] == {
        "figure": "cold_seconds",
        "of": "calamine_floor_seconds",
        "ratio": 12.5,
        "bound": 12.0,
        "met": False,
    }
    assert rows[("add_one_seconds", "calamine_floor_seconds")]["met"]  # 4.0
    assert not rows[("add_one_seconds", "cold_seconds")]["met"]  # 0.32 of the cold build
