"""The sources registry: seeding from a manifest, stable file format, malformed rows."""

import csv

import pytest

from ice287g.errors import InputError
from ice287g.registry import FIELDS, Registry, entries_from_manifest

MANIFEST_FIELDS = ["path", "sha256", "bytes", "archive", "archive_commit", "archive_path", "archived_at", "url"]


def write_manifest(path, rows):
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def manifest_row(name, sha, archived_at="2025-05-19T15:27:35+05:45", folder="sheets/sheets_20250519_151802"):
    return {
        "path": f"files/a/{folder}/{name}",
        "sha256": sha,
        "bytes": "10",
        "archive": "someone/archive",
        "archive_commit": "c" * 40,
        "archive_path": f"{folder}/{name}",
        "archived_at": archived_at,
        "url": f"https://example.org/{name}",
    }


def test_seed_from_manifest_reads_claims_and_normalises_times(tmp_path):
    manifest = write_manifest(tmp_path / "MANIFEST.csv", [manifest_row("pendingAgencies05192025am.xlsx", "a" * 64)])
    (entry,) = entries_from_manifest(manifest)
    assert entry.claimed_list == "pending"
    assert entry.claimed_date == "2025-05-19"
    assert entry.claimed_slot == "am"
    assert entry.captured_at == "2025-05-19T15:18:02Z"
    assert entry.archived_at == "2025-05-19T09:42:35Z"  # +05:45 converted to UTC
    assert entry.mirror_path == "files/a/sheets/sheets_20250519_151802/pendingAgencies05192025am.xlsx"


def test_registry_round_trips_sorted_and_is_idempotent(tmp_path):
    manifest = write_manifest(
        tmp_path / "MANIFEST.csv",
        [
            manifest_row("pendingAgencies05192025am.xlsx", "b" * 64),
            manifest_row("participatingAgencies05192025am.xlsx", "a" * 64),
        ],
    )
    registry = Registry(tmp_path / "snapshots.csv")
    assert sum(registry.add(e) for e in entries_from_manifest(manifest)) == 2
    assert sum(registry.add(e) for e in entries_from_manifest(manifest)) == 0
    registry.save()
    text = registry.path.read_text()
    assert text.splitlines()[0] == ",".join(FIELDS)
    again = Registry.load(registry.path)
    assert again.to_csv() == text
    assert [e.file_name for e in again] == ["participatingAgencies05192025am.xlsx", "pendingAgencies05192025am.xlsx"]


def test_malformed_registry_rows_are_named(tmp_path):
    path = tmp_path / "snapshots.csv"
    path.write_text(",".join(FIELDS) + "\n" + "nothex,x.xlsx,10" + "," * (len(FIELDS) - 3) + "\n")
    with pytest.raises(InputError, match=r"snapshots.csv:2: not a sha256"):
        Registry.load(path)


def test_duplicate_registry_rows_are_refused(tmp_path):
    row = "a" * 64 + ",x.xlsx,10" + "," * (len(FIELDS) - 3)
    path = tmp_path / "snapshots.csv"
    path.write_text(",".join(FIELDS) + "\n" + row + "\n" + row + "\n")
    with pytest.raises(InputError, match="registered twice"):
        Registry.load(path)


def test_the_committed_registry_covers_the_shared_manifest():
    from conftest import REPO, SHARED

    manifest = SHARED / "MANIFEST.csv"
    if not manifest.exists():
        pytest.skip("../shared/raw-snapshots is not beside this checkout")
    registry = Registry.load(REPO / "sources" / "snapshots.csv")
    expected = {e.file_sha256: e for e in entries_from_manifest(manifest)}
    assert set(expected) <= set(registry.entries)
    for sha, entry in expected.items():
        assert registry.entries[sha] == entry
