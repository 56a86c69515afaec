"""The build under faults: two builds at once, killed builds, damaged store copies, backfills,
a database that must not grow with every rebuild, and bytes that depend only on the registry.

The builds are few (a small archive takes a minute or two): one module-scoped pair of builds
of the same workbooks in two folders serves the determinism, kill and backfill tests.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from conftest import (
    PENDING_HEADER,
    REPO,
    copy_folder,
    participating_rows,
    private_settings,
    register_in_mirror,
    register_small_archive,
    write_workbook,
)

from ice287g import METHOD_RELEASE, PACKAGE_NAME
from ice287g.consume.versions import VERSION_PATTERN, base_version, list_versions, version_for, version_key
from ice287g.errors import InputError
from ice287g.pipeline.bench import STAGES
from ice287g.pipeline.build import BuildResult, build, build_release
from ice287g.pipeline.intake.acquire import acquire
from ice287g.pipeline.intake.add import add_files, add_from_mirror
from ice287g.pipeline.lock import checkout_lock
from ice287g.publish.committed import INDEX, method_notes, release_version
from ice287g.settings import Settings
from ice287g.sources.registry import Registry, make_entry
from ice287g.sources.store import Store, suffix_for
from ice287g.util.hashing import sha256_of

TESTS = Path(__file__).resolve().parent
NEWEST = dt.date(2026, 3, 2)
VERSION = version_for(NEWEST)
# an archived list older than every registered one, registered after the release: a backfill
BACKFILL = "participatingAgencies02202026am.xlsx"
RELEASE_FILES = ("datapackage.json", INDEX, "CHANGELOG.md")
QUIET = {"say": lambda _m: None}


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def release_files(settings: Settings) -> dict[str, bytes]:
    """The committed release the build writes: data/*.csv and the files beside it."""
    files = {f"data/{p.name}": p.read_bytes() for p in sorted((settings.release / "data").glob("*.csv"))}
    return files | {name: (settings.release / name).read_bytes() for name in RELEASE_FILES}


def dist_files(settings: Settings, version: str) -> dict[str, bytes]:
    """A published version: its folder, zip and zip checksum."""
    zip_name = f"{PACKAGE_NAME}-{version}.zip"
    files = {f"{version}/{name}": data for name, data in files_of(settings.dist / version).items()}
    return files | {name: (settings.dist / name).read_bytes() for name in (zip_name, f"{zip_name}.sha256")}


def build_and_release(settings: Settings, say=lambda _m: None, today=None) -> tuple[BuildResult, list[str]]:
    """What `ice287g build --rebuild` does: the build and the release it writes, under one lock."""
    return build_release(settings, say=say, reuse=False, today=today)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """Four workbooks in a mirror and a registry of them, written once: openpyxl stamps each file
    with the time, so copies of these bytes (not rewritten workbooks) make two folders equal. The
    backfill's workbook is in the mirror but not registered."""
    folder = tmp_path_factory.mktemp("template")
    settings = private_settings(folder)
    register_small_archive(settings)
    register_in_mirror(settings, "participatingAgencies03022026am.xlsx", participating_rows(4, dt.date(2026, 2, 27)))
    register_in_mirror(
        settings,
        "pendingAgencies03022026am.xlsx",
        [PENDING_HEADER, ["TEXAS", "Epsilon Police Department", "Municipality", "Delta County", "Task Force Model"]],
    )
    write_workbook(settings.mirror / "files" / BACKFILL, participating_rows(2, dt.date(2026, 2, 1)))
    return folder


def project_copy(template: Path, folder: Path, shuffle: bool = False) -> Settings:
    """The template's mirror and registry in ``folder``; ``shuffle`` writes the registry's rows in
    another order (the order of a file edited by hand: the build must not depend on it)."""
    shutil.copytree(template / "mirror", folder / "mirror")
    shutil.copytree(template / "sources", folder / "sources")
    if shuffle:
        path = folder / "sources" / "snapshots.csv"
        header, *rows = path.read_text().splitlines(keepends=True)
        path.write_text(header + "".join(rows[1::2] + rows[0::2][::-1]))
    return private_settings(folder)


@dataclass(frozen=True)
class Pair:
    """Never changed by a test: a test that builds again works on a copy (``copy_folder``)."""

    first: Settings
    first_result: BuildResult
    first_changed: list[str]
    first_seconds: float
    second: Settings
    second_result: BuildResult
    cold_database_bytes: int


@pytest.fixture(scope="module")
def pair(template, tmp_path_factory) -> Pair:
    """The same four workbooks built (and released) in two folders, the second with its registry
    rows shuffled and built as if a year later."""
    first = project_copy(template, tmp_path_factory.mktemp("first"))
    clock = time.perf_counter()
    first_result, first_changed = build_and_release(first)
    seconds = time.perf_counter() - clock
    cold = first.database.stat().st_size
    second = project_copy(template, tmp_path_factory.mktemp("second"), shuffle=True)
    second_result, _ = build_and_release(second, today=dt.date.today() + dt.timedelta(days=365))
    return Pair(first, first_result, first_changed, seconds, second, second_result, cold)


def test_two_folders_and_shuffled_rows_give_the_same_bytes(pair):
    first, second = pair.first, pair.second
    # the test means something only if the two registries differ in order
    assert first.registry.read_bytes() != second.registry.read_bytes()
    assert sorted(first.registry.read_text().splitlines()) == sorted(second.registry.read_text().splitlines())
    assert pair.first_result.version == pair.second_result.version == VERSION
    # no byte depends on the folder, the order of the registry or the day of the build
    assert dist_files(second, VERSION) == dist_files(first, VERSION)
    assert release_files(second) == release_files(first)
    assert {"data/agreements.csv", "datapackage.json", INDEX, "CHANGELOG.md"} <= set(pair.first_changed)
    # the benchmark reads each stage's time: the stages, in order, account for the whole build and
    # its release write, so none is left out or counted twice
    stages = pair.first_result.stage_seconds
    assert list(stages) == list(STAGES) and min(stages.values()) >= 0
    assert 0.5 * pair.first_seconds <= sum(stages.values()) <= pair.first_seconds, (stages, pair.first_seconds)


def _build_process(settings_folder: Path) -> subprocess.Popen:
    """A build of the project in ``settings_folder`` in a process of its own, in its own process
    group (so that killing it kills dbt too, as Ctrl-C or a crash of the machine would)."""
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(TESTS)!r})
        from conftest import private_settings
        from ice287g.pipeline.build import build
        build(private_settings(Path({str(settings_folder)!r})), say=lambda _m: None)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _runs_dbt(pid: int) -> bool:
    for child in _children(pid):
        try:
            if b"dbt" in Path(f"/proc/{child}/cmdline").read_bytes():
                return True
        except OSError:
            pass
    return False


def _kill_when(process: subprocess.Popen, ready) -> None:
    """SIGKILL the build's process group as soon as ``ready()``; fails if the build ends first."""
    deadline = time.monotonic() + 900  # a guard against a hung test, not a measure of speed
    while not ready():
        assert process.poll() is None, "the build ended before the point where it was to be killed"
        assert time.monotonic() < deadline, "the build never reached the point where it was to be killed"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds dbt's process through /proc")
def test_a_killed_build_leaves_nothing_behind_and_a_rerun_gives_the_same_package(pair, tmp_path):
    folder = tmp_path / "second"
    settings = copy_folder(pair.second.build_dir.parent, folder)
    validation = files_of(settings.build_dir / "validation")
    database = settings.database.read_bytes()
    reviews = files_of(settings.build_dir / "review")
    assert "validation.json" in validation and reviews
    # the rerun must publish and release again, not find the earlier build's output
    shutil.rmtree(settings.dist)
    shutil.rmtree(settings.release)

    def unharmed() -> None:
        assert files_of(settings.build_dir / "validation") == validation
        assert settings.database.read_bytes() == database
        assert files_of(settings.build_dir / "review") == reviews
        assert not settings.dist.exists() and not settings.release.exists()

    work = settings.build_dir / ".work"
    early = _build_process(folder)
    _kill_when(early, lambda: (work / "pid").exists())
    assert [p.name for p in settings.build_dir.glob(".work*")] == [".work"]
    assert (work / "pid").read_text() == f"{early.pid}\n"
    unharmed()

    late = _build_process(folder)
    _kill_when(late, lambda: _runs_dbt(late.pid))
    # the second build removed what the first left; the rerun removes the second's
    assert (work / "pid").read_text() == f"{late.pid}\n"
    unharmed()

    # a store copy damaged meanwhile, whose mirror copy is sound: set aside, and the build goes on
    entry = next(iter(Registry.load(settings.registry)))
    stored = Store(settings.store).path_for(entry.file_sha256, suffix_for(entry.file_name))
    stored.write_bytes(b"damaged")
    said: list[str] = []
    result, changed = build_and_release(settings, say=said.append)

    assert not list(settings.build_dir.glob(".work*"))
    assert result.version == VERSION and result.is_new_version
    assert dist_files(settings, VERSION) == dist_files(pair.first, VERSION)
    assert release_files(settings) == release_files(pair.first)
    assert changed == pair.first_changed
    (aside,) = (settings.store / "corrupt").iterdir()
    assert aside.name.startswith(f"{entry.file_sha256}.xlsx.") and aside.read_bytes() == b"damaged"
    warnings = [line for line in said if entry.file_name in line and str(aside) in line]
    assert warnings and warnings[0].startswith("warning: ") and warnings[0] in result.warnings
    assert sha256_of(stored) == entry.file_sha256
    # an incremental build (on a copy of the database) does not grow it
    assert settings.database.stat().st_size <= 1.3 * pair.cold_database_bytes


def test_a_backfill_is_the_next_revision_of_the_released_version(pair, tmp_path):
    settings = copy_folder(pair.first.build_dir.parent, tmp_path / "first")
    path = settings.mirror / "files" / BACKFILL
    registry = Registry.load(settings.registry)
    registry.add(
        make_entry(
            sha256_of(path),
            BACKFILL,
            path.stat().st_size,
            archive="test/archive",
            archived_at="2026-03-28T00:00:00Z",
            mirror_path=f"files/{BACKFILL}",
        )
    )
    registry.save()

    result, changed = build_and_release(settings)
    backfill = f"{VERSION}.1"
    assert result.version == backfill and result.load.files_read == 1
    assert {INDEX, "CHANGELOG.md", "datapackage.json", "data/snapshots.csv"} <= set(changed)
    with open(settings.release / INDEX, newline="") as fh:
        index = list(csv.DictReader(fh))
    assert [row["version"] for row in index] == [VERSION, backfill]
    assert [row["snapshots_rows"] for row in index] == ["4", "5"]
    changelog = (settings.release / "CHANGELOG.md").read_text()
    assert changelog.index(f"## {PACKAGE_NAME} {backfill}") < changelog.index(f"## {PACKAGE_NAME} {VERSION}\n")
    assert f"Changes since {VERSION}." in changelog
    assert list_versions(settings.dist) == [VERSION, backfill]
    # the database is rewritten compactly after every dbt build
    assert settings.database.stat().st_size <= 1.3 * pair.cold_database_bytes

    # a fresh clone (no build, no dist) of the committed registry and release: the same version,
    # the same bytes, and the committed release is up to date
    # and what was built incrementally (the raw layer read one new file) is what a cold build of
    # the same registry writes, byte for byte
    clone = replace(settings, build_dir=tmp_path / "build", dist_dir=tmp_path / "dist")
    again, changed_again = build_and_release(clone)
    assert (again.version, changed_again, again.load.files_read) == (backfill, [], 5)
    assert dist_files(clone, backfill) == dist_files(settings, backfill)


def test_a_second_build_stops_at_once_naming_the_lock_and_its_holder(small_archive, monkeypatch):
    settings = small_archive
    folder = settings.build_dir.parent
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(TESTS)!r})
        from conftest import private_settings
        from ice287g.pipeline.lock import checkout_lock
        with checkout_lock(private_settings(Path({str(folder)!r}))):
            print("locked", flush=True)
            sys.stdin.read()
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    holder = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline() == "locked\n"
        before = files_of(folder)
        lock = settings.build_dir / ".lock"
        message = (
            f"{lock}: another command (a build, add, acquire or release) is running in this checkout "
            f"(pid {holder.pid}): wait for it or stop it"
        )
        with pytest.raises(InputError) as err:
            build(settings, **QUIET)
        assert str(err.value) == message
        # every command that writes the registry, the store or the release takes the same lock
        incoming = write_workbook(folder / "incoming" / "participatingAgencies03052026am.xlsx", participating_rows(3))
        registry = settings.registry.read_bytes()
        for command in (
            lambda: add_files(settings, [incoming]),
            lambda: add_from_mirror(settings),
            lambda: acquire(settings, "http://127.0.0.1:9/287g.html"),
        ):
            with pytest.raises(InputError) as err:
                command()
            assert str(err.value) == message
        assert settings.registry.read_bytes() == registry
        shutil.rmtree(folder / "incoming")
        with pytest.raises(InputError, match=r"wait for it or stop it \(waited 0\.2 s\)"):
            build(replace(settings, lock_timeout=0.2), **QUIET)
        assert files_of(folder) == before  # nothing resolved, nothing built, nothing removed

        from typer.testing import CliRunner

        from ice287g import cli

        monkeypatch.setattr(cli, "_settings", lambda *_args: settings)
        run = CliRunner().invoke(cli.app, ["build"])
        assert run.exit_code == 1 and message in " ".join(run.output.split())
        assert files_of(folder) == before
    finally:
        holder.kill()  # SIGKILL: the operating system releases the lock of a dead holder
        holder.wait()
    with checkout_lock(settings):
        assert (settings.build_dir / ".lock").read_text() == f"{os.getpid()}\n"


def test_the_lock_timeout_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("ICE287G_LOCK_TIMEOUT", raising=False)
    assert Settings.from_env(root=REPO).lock_timeout == 0
    monkeypatch.setenv("ICE287G_LOCK_TIMEOUT", "2.5")
    assert Settings.from_env(root=REPO).lock_timeout == 2.5
    for wrong in ("soon", "-1", "nan"):
        monkeypatch.setenv("ICE287G_LOCK_TIMEOUT", wrong)
        with pytest.raises(InputError, match=f"ICE287G_LOCK_TIMEOUT: '{wrong}' is no number of seconds"):
            Settings.from_env(root=REPO)


def test_a_damaged_store_copy_that_is_the_only_copy_is_kept_aside(small_archive):
    from ice287g.pipeline.build import resolve_all

    settings = small_archive
    registry = Registry.load(settings.registry)
    resolve_all(settings, registry, say=lambda _m: None)
    entry = next(e for e in registry if e.file_name.startswith("pending"))
    stored = Store(settings.store).path_for(entry.file_sha256)
    stored.write_bytes(b"damaged by hand")
    (settings.mirror / entry.mirror_path).unlink()  # the store held the only sound copy
    said: list[str] = []
    with pytest.raises(InputError) as err:
        build(settings, say=said.append)
    (aside,) = (settings.store / "corrupt").iterdir()
    assert aside.read_bytes() == b"damaged by hand"
    assert aside.name.startswith(f"{entry.file_sha256}.xlsx.20")
    message = str(err.value)
    assert message.startswith(f"{settings.registry}: 1 registered file(s) unusable")
    assert f"{entry.file_name} (sha256 {entry.file_sha256[:12]}): cannot be found anywhere" in message
    assert f"moved aside to {aside}" in message
    assert [line for line in said if line.startswith("warning: ") and str(aside) in line]
    assert not stored.exists() and not settings.database.exists()


def _staged(folder: Path, snapshots: list[str], agreements: str = "a\n") -> Path:
    """A staged package's tables: data/snapshots.csv with these file_sha256, and one other table."""
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "snapshots.csv").write_text("file_sha256\n" + "".join(f"{s}\n" for s in snapshots))
    (folder / "data" / "agreements.csv").write_text("agreement_id\n" + agreements)
    return folder


def _released(release: Path, version: str, staged: Path) -> None:
    """Record ``staged`` as released version ``version`` in release/releases.csv (and make it the
    committed release: its data/ and descriptor)."""
    from ice287g.publish.committed import table_entry

    rows = []
    if (release / INDEX).exists():
        rows = list(csv.DictReader(io.StringIO((release / INDEX).read_text())))
    rows.append({"version": version, **table_entry(staged)})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[-1]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (release / INDEX).write_text(out.getvalue())
    shutil.rmtree(release / "data", ignore_errors=True)
    shutil.copytree(staged / "data", release / "data")
    (release / "datapackage.json").write_text(f'{{"version": "{version}"}}\n')


def test_the_version_of_a_build_follows_from_the_index_and_its_tables(tmp_path):
    release = tmp_path / "release"
    release.mkdir()
    base = version_for(NEWEST)
    first = _staged(tmp_path / "first", ["a", "b"])
    assert release_version(release, base, first) == base  # nothing released yet
    _released(release, base, first)
    assert release_version(release, base, first) == base  # a rebuild
    assert release_version(release, version_for(dt.date(2026, 3, 9)), first) == version_for(dt.date(2026, 3, 9))

    grown = _staged(tmp_path / "grown", ["0", "a", "b"])
    assert release_version(release, base, grown) == f"{base}.1"
    _released(release, f"{base}.1", grown)
    assert release_version(release, base, grown) == f"{base}.1"
    assert release_version(release, base, first) == base  # still the bytes of a released version
    assert release_version(release, base, _staged(tmp_path / "more", ["0", "00", "a", "b"])) == f"{base}.2"

    with pytest.raises(InputError, match=r"same snapshots, other bytes: the method changed\. Bump METHOD_RELEASE"):
        release_version(release, base, _staged(tmp_path / "method", ["0", "a", "b"], agreements="changed\n"))
    with pytest.raises(InputError, match=rf"{base}\.1 was released with snapshots this build does not have \(b\)"):
        release_version(release, base, _staged(tmp_path / "swapped", ["0", "a", "c"]))
    with pytest.raises(InputError, match="does not have"):
        release_version(release, base, _staged(tmp_path / "fewer", ["0", "a"]))


def test_backfill_versions_sort_parse_and_make_wheel_versions():
    from ice287g.publish.wheel import source_date_epoch, wheel_version

    base = version_for(NEWEST)
    backfill = f"{base}.1"
    assert version_for(NEWEST, METHOD_RELEASE, 1) == backfill
    assert version_for(NEWEST, 0, 2) == "2026.3.2.0.2"  # the method release keeps its place
    assert VERSION_PATTERN.match(backfill) and not VERSION_PATTERN.match(f"{backfill}.1")
    assert base_version(backfill) == base and base_version(base) == base
    ordered = ["2026.3.2", "2026.3.2.0.1", "2026.3.2.1", "2026.3.2.1.1", "2026.3.2.1.2", "2026.3.10"]
    assert sorted(reversed(ordered), key=version_key) == ordered
    assert wheel_version(backfill) == backfill
    assert source_date_epoch(backfill) == source_date_epoch(base)
    # a backfill brings no method notes; a new method release does
    notes = REPO / "sources" / "method-releases" / f"{METHOD_RELEASE}.md"
    assert method_notes(REPO, backfill, since=base) == ""
    if notes.exists():
        previous = version_for(NEWEST, METHOD_RELEASE - 1, 1)
        assert method_notes(REPO, backfill, since=previous) == notes.read_text()


def test_two_adds_at_once_never_lose_a_registration(tmp_path):
    """Each add in a process of its own, started together, three times: every add that says
    "added" is in the registry afterwards; one that found the lock held says so and adds nothing."""
    settings = private_settings(tmp_path)
    days = [dt.date(2026, 3, 2) + dt.timedelta(days=n) for n in range(6)]
    files = [
        write_workbook(tmp_path / "incoming" / f"participatingAgencies{d:%m%d%Y}am.xlsx", participating_rows(3, d))
        for d in days
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    env |= {"ICE287G_REGISTRY": str(settings.registry), "ICE287G_STORE": str(settings.store)}
    env |= {"ICE287G_BUILD_DIR": str(settings.build_dir), "ICE287G_MIRROR": str(settings.mirror)}
    for pair_of_files in (files[0:2], files[2:4], files[4:6]):
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "ice287g.cli", "add", str(path)],
                env=env,
                stderr=subprocess.PIPE,
                text=True,
            )
            for path in pair_of_files
        ]
        said = [run.communicate()[1] for run in runs]
        registered = {e.file_name for e in Registry.load(settings.registry)}
        for path, words in zip(pair_of_files, said, strict=True):
            if f"{path.name}: added" in words:
                assert path.name in registered, words
            else:
                assert "another command" in words and path.name not in registered, words


def test_a_link_in_place_of_the_lock_or_the_work_folder_is_never_followed(tmp_path):
    from ice287g.pipeline.build import remove_stale_work

    settings = private_settings(tmp_path)
    settings.build_dir.mkdir(parents=True)
    precious = tmp_path / "precious.txt"
    precious.write_text("not the build's\n")
    (settings.build_dir / ".lock").symlink_to(precious)
    with (
        pytest.raises(InputError, match=r"\.lock: is a symbolic link \(to .*precious.txt\), not the checkout's lock"),
        checkout_lock(settings),
    ):
        pass
    assert precious.read_text() == "not the build's\n"
    (settings.build_dir / ".lock").unlink()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("kept\n")
    (settings.build_dir / ".work").symlink_to(elsewhere, target_is_directory=True)
    assert remove_stale_work(settings.build_dir) == [settings.build_dir / ".work"]
    assert not (settings.build_dir / ".work").exists() and (elsewhere / "keep.txt").read_text() == "kept\n"


def _write_release_and_die(settings_folder: Path, after: int) -> subprocess.Popen:
    """Write the committed release of the folder's built version ``VERSION`` in a process that
    SIGKILLs itself right after the ``after``-th file is moved into the release's data/ folder: a
    kill in mid-replacement."""
    code = textwrap.dedent(
        f"""
        import json, os, signal, sys
        from pathlib import Path
        sys.path.insert(0, {str(TESTS)!r})
        from conftest import private_settings
        from ice287g.pipeline.build import BuildResult, write_committed_release
        settings = private_settings(Path({str(settings_folder)!r}))
        package = settings.dist / {VERSION!r}
        descriptor = json.loads((package / "datapackage.json").read_text())
        built = BuildResult(None, settings.database, {VERSION!r}, package, False, descriptor)
        data, moved, real = (settings.release / "data").resolve(), [], os.replace

        def replace(source, target, *args, **kwargs):
            real(source, target, *args, **kwargs)
            if Path(target).resolve().parent == data:
                moved.append(target)
                if len(moved) == {after}:
                    os.kill(os.getpid(), signal.SIGKILL)

        os.replace = replace
        write_committed_release(settings, built)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", code], env=env, check=False, capture_output=True, text=True)


def test_a_kill_while_the_release_is_replaced_is_never_seen_and_the_next_build_finishes_it(pair, tmp_path):
    from ice287g.consume.loader import RELEASE_JOURNAL, load

    # the pair's first folder as built, before its release was written
    settings = copy_folder(pair.first.build_dir.parent, tmp_path / "first")
    shutil.rmtree(settings.release)
    killed = _write_release_and_die(settings.build_dir.parent, after=2)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    # part of data/ is new and the rest is not yet: only with a journal that says so, which
    # readers heed, and which the next command that writes the release rolls forward
    assert (settings.release / RELEASE_JOURNAL).exists()
    with pytest.raises(InputError, match="being replaced"):
        load("agreements", source=settings.release)
    result, _ = build_and_release(settings)
    assert result.version == VERSION
    assert not (settings.release / RELEASE_JOURNAL).exists() and not (settings.release / ".release-stage").exists()
    # the whole release, as published: every table and the descriptor, each table checked on load
    published = files_of(result.package)
    for name, data in release_files(settings).items():
        if name.startswith("data/") or name == "datapackage.json":
            assert data == published[name], name
    index = csv.DictReader(io.StringIO((settings.release / INDEX).read_text()))
    (line,) = [r for r in index if r["version"] == VERSION]
    for resource in json.loads((settings.release / "datapackage.json").read_text())["resources"]:
        assert len(load(resource["name"], source=settings.release)) == int(line[f"{resource['name']}_rows"])
