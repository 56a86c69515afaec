"""The sources registry: seeding from a manifest, stable file format, malformed rows."""

import csv

import pytest

from ice287g.errors import InputError
from ice287g.sources.registry import FIELDS, Registry, entries_from_manifest

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


@pytest.mark.parametrize("cut", [0.5, 0.8])
def test_a_registry_cut_off_mid_line_names_the_line(tmp_path, cut):
    path = registry_with(tmp_path, {}, {}, {"url": "https://example.org/x.xlsx"})
    text = path.read_text()
    path.write_text(text[: int(len(text) * cut)])
    with pytest.raises(InputError, match=r"snapshots.csv:\d: the registry's line has \d+ fields where its header has"):
        Registry.load(path)


def test_duplicate_registry_rows_are_refused(tmp_path):
    row = "a" * 64 + ",x.xlsx,10" + "," * (len(FIELDS) - 3)
    path = tmp_path / "snapshots.csv"
    path.write_text(",".join(FIELDS) + "\n" + row + "\n" + row + "\n")
    with pytest.raises(InputError, match="registered twice"):
        Registry.load(path)


def registry_with(tmp_path, *rows: dict[str, str]):
    """A registry file of these rows (each a few fields over a sound row)."""
    sound = {name: "" for name in FIELDS} | {"file_name": "x.xlsx", "bytes": "10"}
    path = tmp_path / "sources" / "snapshots.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for n, row in enumerate(rows):
            writer.writerow(sound | {"file_sha256": f"{n:x}" * 64} | row)
    return path


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"claimed_date": "2026-02-30"}, "claimed_date '2026-02-30' is no date"),
        ({"claimed_date": "20260301"}, "claimed_date '20260301' is no date"),
        ({"captured_at": "2026-02-30T10:00:00Z"}, "captured_at '2026-02-30T10:00:00Z' is no UTC time"),
        ({"archived_at": "2026-03-01 10:00:00"}, "archived_at '2026-03-01 10:00:00' is no UTC time"),
        ({"archived_at": "2026-03-01T24:00:00Z"}, "archived_at '2026-03-01T24:00:00Z' is no UTC time"),
        ({"claimed_list": "foo"}, "claimed_list 'foo' is none of participating, pending or empty"),
        ({"claimed_slot": "noon"}, "claimed_slot 'noon' is none of am, mid, pm or empty"),
        ({"bytes": "-1"}, "bytes is negative"),
        ({"bytes": "ten"}, "malformed registry row"),
        ({"file_sha256": "A" * 64}, "not a sha256"),
        ({"archived_at": "2099-01-01T00:00:00Z"}, "archived_at 2099-01-01T00:00:00Z is in the future"),
        ({"mirror_path": "../../etc/hostname"}, "mirror_path '../../etc/hostname' leaves the mirror folder"),
        ({"mirror_path": "/etc/hostname"}, "mirror_path '/etc/hostname' leaves the mirror folder"),
        ({"file_name": "participating\x1b[2JAgencies.xlsx"}, "file_name 'participating\\x1b[2JAgencies.xlsx' holds"),
        ({"file_name": "participating\u202eAgencies.xlsx"}, "file_name 'participating\\u202eAgencies.xlsx' holds"),
    ],
)
def test_a_registry_row_that_means_nothing_is_named(tmp_path, row, problem):
    path = registry_with(tmp_path, {}, row)
    with pytest.raises(InputError) as err:
        Registry.load(path)
    assert str(err.value).startswith(f"{path}:3: {problem}")
    if "file_sha256" not in row and "bytes" not in row:
        assert str(err.value).endswith(f"(sha256 {'1' * 12})")


def test_every_bad_row_is_named_at_once(tmp_path):
    path = registry_with(
        tmp_path, {"claimed_list": "foo"}, {"file_sha256": "0" * 64}, {"claimed_date": "2026-13-01"}, {}
    )
    with pytest.raises(InputError) as err:
        Registry.load(path)
    message = str(err.value)
    assert message.startswith(f"{path}: 3 bad registry rows:")
    assert f"{path}:2: claimed_list 'foo'" in message
    assert f"{path}:3: sha256 {'0' * 64} is registered twice" in message
    assert f"{path}:4: claimed_date '2026-13-01' is no date" in message


def test_the_committed_registry_means_what_it_says():
    """Every rule of Registry.load holds on the committed registry (a rule that broke it would stop
    every build); where the mirror is beside the checkout, every registered size is the file's."""
    from conftest import REPO, SHARED

    path = REPO / "sources" / "snapshots.csv"
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    registry = Registry.load(path)
    assert len(registry) == len(rows) >= 1124
    if not (SHARED / "MANIFEST.csv").exists():
        pytest.skip("../shared/raw-snapshots is not beside this checkout")
    wrong = [e.short for e in registry if (SHARED / e.mirror_path).stat().st_size != e.bytes]
    assert wrong == []


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
