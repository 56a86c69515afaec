"""Resolving raw bytes: store, then mirror, then pinned URL, always checked against sha256."""

import json
import os
import re
import subprocess
import sys
from dataclasses import replace

import pytest
from conftest import participating_rows, write_workbook

from ice287g.errors import InputError
from ice287g.sources.registry import entry_problems, make_entry
from ice287g.sources.store import Store, resolve
from ice287g.util.hashing import sha256_of


@pytest.fixture
def snapshot(tmp_path):
    path = write_workbook(tmp_path / "mirror" / "files" / "participatingAgencies03012025am.xlsx", participating_rows())
    entry = make_entry(
        sha256_of(path), path.name, path.stat().st_size, mirror_path="files/participatingAgencies03012025am.xlsx"
    )
    return path, entry


def test_mirror_copy_is_verified_and_kept_in_the_store(tmp_path, snapshot):
    path, entry = snapshot
    store = Store(tmp_path / "store")
    resolved = resolve(entry, store, tmp_path / "mirror", offline=True)
    assert resolved == store.path_for(entry.file_sha256)
    assert resolved.read_bytes() == path.read_bytes()
    path.unlink()  # the store alone now serves it
    assert resolve(entry, store, tmp_path / "mirror", offline=True) == resolved


def test_a_corrupted_store_copy_is_set_aside_reported_and_replaced(tmp_path, snapshot):
    _, entry = snapshot
    store = Store(tmp_path / "store")
    stored = resolve(entry, store, tmp_path / "mirror", offline=True)
    stored.write_bytes(b"tampered")
    said = []
    again = resolve(entry, store, tmp_path / "mirror", offline=True, say=said.append)
    assert again == stored and sha256_of(again) == entry.file_sha256
    (aside,) = (tmp_path / "store" / "corrupt").iterdir()
    assert re.fullmatch(rf"{entry.file_sha256}\.xlsx\.\d{{8}}T\d{{6}}Z", aside.name)
    assert aside.read_bytes() == b"tampered"
    assert said == [f"warning: {entry.short}: store copy had sha256 {sha256_of(aside)}: moved aside to {aside}"]


def test_a_corrupted_only_copy_is_kept_aside_and_named(tmp_path, snapshot):
    path, entry = snapshot
    store = Store(tmp_path / "store")
    stored = resolve(entry, store, tmp_path / "mirror", offline=True)
    path.unlink()
    for damage in (b"first damage", b"second damage"):  # twice within a second: both are kept
        stored.parent.mkdir(parents=True, exist_ok=True)
        stored.write_bytes(damage)
        with pytest.raises(InputError, match=r"cannot be found anywhere: store copy had sha256 .*: moved aside to "):
            resolve(entry, store, tmp_path / "mirror", offline=True)
    kept = sorted(p.read_bytes() for p in (tmp_path / "store" / "corrupt").iterdir())
    assert kept == [b"first damage", b"second damage"]
    assert not stored.exists()


def test_a_copy_of_another_size_than_registered_is_refused(tmp_path, snapshot):
    _, entry = snapshot
    wrong = entry.__class__(**{**entry.__dict__, "bytes": entry.bytes + 1})
    store = Store(tmp_path / "store")
    message = f"registered with bytes {entry.bytes + 1}, but the file with this sha256 has {entry.bytes}"
    with pytest.raises(InputError, match=message):
        resolve(wrong, store, tmp_path / "mirror", offline=True)
    resolve(entry, store, tmp_path / "mirror", offline=True)
    with pytest.raises(InputError, match=message):  # the store's copy is checked the same way
        resolve(wrong, store, None, offline=True)


def test_a_mirror_copy_with_other_bytes_is_never_used_nor_kept(tmp_path, snapshot):
    path, entry = snapshot
    path.write_bytes(path.read_bytes() + b"x")
    store = Store(tmp_path / "store")
    with pytest.raises(InputError) as err:
        resolve(entry, store, tmp_path / "mirror", offline=True)
    assert "participatingAgencies03012025am.xlsx" in str(err.value)
    assert f"expected {entry.file_sha256}" in str(err.value)
    assert not store.has(entry.file_sha256)
    assert not list((tmp_path / "store").rglob("*.part"))


def test_a_file_found_nowhere_is_named(tmp_path, snapshot):
    path, entry = snapshot
    path.unlink()
    with pytest.raises(InputError, match="participatingAgencies03012025am.xlsx .*cannot be found anywhere"):
        resolve(entry, Store(tmp_path / "store"), tmp_path / "mirror", offline=True)


def test_download_from_the_pinned_url(tmp_path, snapshot, http_folder):
    path, entry = snapshot
    folder, base = http_folder
    (folder / path.name).write_bytes(path.read_bytes())
    path.unlink()
    entry = entry.__class__(**{**entry.__dict__, "url": f"{base}/{path.name}"})
    resolved = resolve(entry, Store(tmp_path / "store"), tmp_path / "mirror", offline=False)
    assert sha256_of(resolved) == entry.file_sha256


def test_a_download_with_other_bytes_is_refused_and_not_kept(tmp_path, snapshot, http_folder):
    path, entry = snapshot
    folder, base = http_folder
    (folder / path.name).write_bytes(b"<html>not the file</html>")
    path.unlink()
    entry = entry.__class__(**{**entry.__dict__, "url": f"{base}/{path.name}"})
    store = Store(tmp_path / "store")
    with pytest.raises(InputError, match="download from .* failed"):
        resolve(entry, store, tmp_path / "mirror", offline=False)
    assert not store.has(entry.file_sha256)


def _resolve_in_a_process(tmp_path, entry, mirror) -> subprocess.CompletedProcess:
    """``resolve`` in a process of its own, given 60 s: a read that never ends fails the test."""
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from ice287g.sources.registry import Entry\n"
        "from ice287g.sources.store import Store, resolve\n"
        "from ice287g.errors import InputError\n"
        f"entry = Entry(**json.loads({json.dumps(json.dumps(entry.__dict__))}))\n"
        "try:\n"
        f"    print(resolve(entry, Store(Path({str(tmp_path / 'store')!r})), Path({str(mirror)!r}), offline=True))\n"
        "except InputError as exc:\n"
        "    print(exc)\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)


def test_a_store_copy_that_is_a_link_to_a_device_is_set_aside_unread(tmp_path, snapshot):
    _, entry = snapshot
    store = Store(tmp_path / "store")
    stored = store.path_for(entry.file_sha256)
    stored.parent.mkdir(parents=True)
    os.symlink("/dev/zero", stored)  # hashing it would never end
    run = _resolve_in_a_process(tmp_path, entry, tmp_path / "mirror")
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == str(stored)  # resolved again from the mirror
    assert sha256_of(stored) == entry.file_sha256 and not stored.is_symlink()
    (aside,) = (tmp_path / "store" / "corrupt").iterdir()
    assert aside.is_symlink() and os.readlink(aside) == "/dev/zero"


def test_a_mirror_path_that_leads_out_of_the_mirror_is_never_followed(tmp_path, snapshot):
    path, entry = snapshot
    outside = tmp_path / "outside.xlsx"
    outside.write_bytes(path.read_bytes())
    escaping = replace(entry, mirror_path="../outside.xlsx")
    linked = replace(entry, mirror_path="files/link.xlsx")
    os.symlink(outside, tmp_path / "mirror" / "files" / "link.xlsx")
    path.unlink()
    for row in (escaping, linked):
        with pytest.raises(InputError, match="leads out of the mirror folder"):
            resolve(row, Store(tmp_path / "store"), tmp_path / "mirror", offline=True)
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").rglob("*.xlsx"))
    # and the registry refuses such a row before anything reads it
    assert any("leaves the mirror folder" in p for p in entry_problems(escaping))
    assert any("leaves the mirror folder" in p for p in entry_problems(replace(entry, mirror_path="/etc/hostname")))
