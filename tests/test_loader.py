"""ice287g.load: every kind of source, sha256 pins, byte checks, Parquet trust, zips with several
packages, and the lists in effect on a day (``as_of``) against hand-computed answers.

Most tests use a small package written here by hand (CSVs, hashes and Table Schemas), so the
answers are known; two use the ``small_archive`` build for the real package layout and Parquet.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from ice287g import load as package_load
from ice287g.consume.loader import ChecksumMismatch, load
from ice287g.errors import InputError

QUIET = {"say": lambda _m: None}

# --- a hand-written package ----------------------------------------------------------------------

P1, P2, P3, P4 = (
    "participating-2025-01-10-am",
    "participating-2025-02-10-am",
    "participating-2025-03-01-am",
    "participating-2025-03-01-pm",
)
Q1, Q2 = "pending-2025-01-20-am", "pending-2025-03-05-am"
DAY = {P1: "2025-01-10", P2: "2025-02-10", P3: "2025-03-01", P4: "2025-03-01", Q1: "2025-01-20", Q2: "2025-03-05"}

PUBLICATIONS = (
    [
        ("publication_id", "string"),
        ("list", "string"),
        ("published_date", "date"),
        ("published_slot", "string"),
        ("sequence", "integer"),
        ("is_in_lineage", "boolean"),
    ],
    # not in sequence order in the file: the loader must go by `sequence`
    [
        [P4, "participating", DAY[P4], "pm", 4, "true"],
        [P1, "participating", DAY[P1], "am", 1, "true"],
        [Q2, "pending", DAY[Q2], "am", 2, "true"],
        [P2, "participating", DAY[P2], "am", 2, "true"],
        [P3, "participating", DAY[P3], "am", 3, "true"],
        [Q1, "pending", DAY[Q1], "am", 1, "true"],
    ],
)


def span(first: str, last: str | None) -> list[str]:
    return [first, DAY[first], last or "", DAY[last] if last else ""]


# one row per run of identical content on consecutive publications; last empty while on the newest
LISTINGS = (
    [
        ("listing_id", "string"),
        ("list", "string"),
        ("first_publication_id", "string"),
        ("first_listed_date", "date"),
        ("last_publication_id", "string"),
        ("last_listed_date", "date"),
        ("agreement_id", "string"),
        ("application_id", "string"),
        ("agency_name", "string"),
    ],
    [
        ["L1", "participating", *span(P1, None), "A1", "", "Alpha County Sheriff's Office"],
        ["L2", "participating", *span(P1, P2), "A2", "", "Beta Police Department"],
        ["L3", "participating", *span(P3, None), "A2", "", "Beta Police Dept."],  # the row changed at P3
        ["L4", "participating", *span(P2, P3), "A3", "", "Gamma County Sheriff's Office"],  # gone at P4
        ["L5", "participating", *span(P1, P1), "A4", "", "Delta County Sheriff's Office"],  # gone at P2
        ["L6", "participating", *span(P4, None), "A4", "", "Delta County Sheriff's Office"],  # back at P4
        ["L7", "pending", *span(Q1, Q1), "", "X1", "Epsilon Police Department"],
        ["L8", "pending", *span(Q1, None), "", "X2", "Zeta County Sheriff's Office"],
        ["L9", "pending", *span(Q2, None), "", "X3", "Eta Police Department"],
    ],
)

AGREEMENTS = (
    [("agreement_id", "string"), ("agency_id", "string"), ("signed_date", "date"), ("status", "string")],
    [
        ["A1", "G1", "2024-12-01", "listed"],
        ["A2", "G2", "2024-12-02", "listed"],
        ["A3", "G3", "2025-01-15", "removed"],
        ["A4", "G4", "2024-12-03", "listed"],
    ],
)


def period(agreement: str, number: int, first: str, last: str | None, delisted: str | None) -> list:
    return [agreement, number, *span(first, last), delisted or "", DAY[delisted] if delisted else ""]


AGREEMENT_PERIODS = (
    [
        ("agreement_id", "string"),
        ("period_number", "integer"),
        ("first_publication_id", "string"),
        ("first_listed_date", "date"),
        ("last_publication_id", "string"),
        ("last_listed_date", "date"),
        ("delisted_publication_id", "string"),
        ("delisted_date", "date"),
    ],
    [
        period("A1", 1, P1, None, None),
        period("A2", 1, P1, None, None),
        period("A3", 1, P2, P3, P4),
        period("A4", 1, P1, P1, P2),
        period("A4", 2, P4, None, None),
    ],
)

TABLES = {
    "publications": PUBLICATIONS,
    "listings": LISTINGS,
    "agreements": AGREEMENTS,
    "agreement_periods": AGREEMENT_PERIODS,
}
KEYS = {"publications": ["publication_id"], "agreement_periods": ["agreement_id", "period_number"]}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_package(folder: Path, tables: dict | None = None, version: str = "2025.3.5.1") -> Path:
    """CSVs and a Frictionless v2 descriptor with the right bytes, hashes and Table Schemas."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    resources = []
    for name, (fields, rows) in (tables or TABLES).items():
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([f for f, _ in fields])
        writer.writerows(rows)
        data = out.getvalue().encode()
        (folder / "data" / f"{name}.csv").write_bytes(data)
        resources.append(
            {
                "name": name,
                "type": "table",
                "path": f"data/{name}.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "bytes": len(data),
                "hash": f"sha256:{sha256(data)}",
                "schema": {
                    "fields": [{"name": f, "type": kind} for f, kind in fields],
                    "primaryKey": KEYS.get(name, [fields[0][0]]),
                },
            }
        )
    descriptor = {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": "ice287g",
        "version": version,
        "resources": resources,
    }
    (folder / "datapackage.json").write_text(json.dumps(descriptor, indent=2) + "\n")
    return folder


def zip_folder(folder: Path, target: Path, prefix: str) -> Path:
    with zipfile.ZipFile(target, "w") as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            zf.write(path, f"{prefix}/{path.relative_to(folder).as_posix()}")
    return target


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """pooch's cache (and so the loader's) in a temp folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def package(tmp_path) -> Path:
    return write_package(tmp_path / "pkg")


@pytest.fixture
def served(package, http_folder, cache):
    """The hand package served over loopback HTTP as a folder and as a zip: (folder, base URL)."""
    www, base = http_folder
    shutil.copytree(package, www / "pkg")
    zip_folder(package, www / "pkg.zip", "ice287g-2025.3.5.1")
    return www, base


# --- sources -------------------------------------------------------------------------------------


def test_every_kind_of_source_gives_the_same_frames(package, served, tmp_path):
    _www, base = served
    zip_path = zip_folder(package, tmp_path / "pkg.zip", "ice287g-2025.3.5.1")
    sources = {
        "folder": package,
        "folder as text": str(package),
        "descriptor": package / "datapackage.json",
        "zip": zip_path,
        "zip URL": f"{base}/pkg.zip",
        "descriptor URL": f"{base}/pkg/datapackage.json",
        "folder URL": f"{base}/pkg/",
    }
    for table in TABLES:
        expected = load(table, source=package)
        assert len(expected) == len(TABLES[table][1])
        for kind, source in sources.items():
            got = load(table, source=source)
            pd.testing.assert_frame_equal(got, expected, obj=f"{table} from {kind}")
    agreements = load("agreements", source=package)
    assert str(agreements["signed_date"].dtype) == "datetime64[us]"
    assert str(load("publications", source=package)["sequence"].dtype) == "Int64"
    assert str(load("publications", source=package)["is_in_lineage"].dtype) == "boolean"
    # the top-level function is the same loader
    pd.testing.assert_frame_equal(package_load("agreements", source=package), agreements)


def test_a_served_folder_is_readable_by_pandas_and_frictionless(served):
    import frictionless

    _www, base = served
    frame = pd.read_csv(f"{base}/pkg/data/agreements.csv")
    assert list(frame["agreement_id"]) == ["A1", "A2", "A3", "A4"]
    # frictionless 5 takes the descriptor's URL as the base of the relative resource paths: no
    # `basepath` or `trusted` option is needed while every path is relative and inside the package
    remote = frictionless.Package(f"{base}/pkg/datapackage.json")
    resource = remote.get_resource("listings")
    assert resource.normpath == f"{base}/pkg/data/listings.csv"
    assert len(resource.read_rows()) == len(LISTINGS[1])
    assert frictionless.validate(f"{base}/pkg/datapackage.json").valid


def test_the_version_argument_must_name_the_package(package):
    assert len(load("agreements", source=package, version="2025.3.5.1")) == 4
    with pytest.raises(InputError, match="this package is version 2025.3.5.1, not 2030.1.1"):
        load("agreements", source=package, version="2030.1.1")
    with pytest.raises(InputError, match="no resource 'counts'"):
        load("counts", source=package)
    with pytest.raises(InputError, match="no such file or folder"):
        load("agreements", source=package / "nowhere")


def test_without_a_source_the_newest_build_else_the_committed_release(tmp_path, monkeypatch):
    root = write_package(tmp_path / "checkout", version="2025.3.5.1")
    dist = tmp_path / "dist"
    monkeypatch.setenv("ICE287G_ROOT", str(root))
    monkeypatch.setenv("ICE287G_DIST_DIR", str(dist))
    committed = load("agreements")
    pd.testing.assert_frame_equal(committed, load("agreements", source=root))
    assert len(load("agreements", version="2025.3.5.1")) == 4
    with pytest.raises(InputError, match="version 2030.1.1 is not built here"):
        load("agreements", version="2030.1.1")
    pin = sha256((root / "datapackage.json").read_bytes())
    assert len(load("agreements", sha256=pin)) == 4
    with pytest.raises(ChecksumMismatch, match=str(root)):
        load("agreements", sha256="0" * 64)

    fewer = {"agreements": (AGREEMENTS[0], AGREEMENTS[1][:2])}
    write_package(dist / "2025.3.9.1", fewer, version="2025.3.9.1")
    write_package(dist / "2025.3.10.1", fewer | {"agreements": (AGREEMENTS[0], AGREEMENTS[1][:1])}, "2025.3.10.1")
    assert list(load("agreements")["agreement_id"]) == ["A1"]  # 2025.3.10 is newer than 2025.3.9
    assert list(load("agreements", version="2025.3.9.1")["agreement_id"]) == ["A1", "A2"]
    pd.testing.assert_frame_equal(load("agreements", version="2025.3.5.1"), committed)  # only committed
    # a folder of versions as the source: the newest, or `version`
    assert list(load("agreements", source=dist)["agreement_id"]) == ["A1"]
    assert list(load("agreements", source=dist, version="2025.3.9.1")["agreement_id"]) == ["A1", "A2"]


def test_the_loader_imports_only_pandas_and_pooch():
    code = (
        "import sys, ice287g.consume.loader\n"
        "heavy = ('duckdb', 'dbt', 'great_expectations', 'ice287g.pipeline.build', 'ice287g.raw.rawload',\n"
        "         'ice287g.publish.package')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


# --- pins ----------------------------------------------------------------------------------------


def test_a_pin_is_checked_for_every_kind_of_source(package, served, tmp_path):
    www, base = served
    zip_path = zip_folder(package, tmp_path / "pkg.zip", "ice287g-2025.3.5.1")
    descriptor_pin = sha256((package / "datapackage.json").read_bytes())
    zip_pin = sha256(zip_path.read_bytes())
    served_zip_pin = sha256((www / "pkg.zip").read_bytes())
    pinned = {
        str(package): descriptor_pin,
        str(package / "datapackage.json"): descriptor_pin,
        str(zip_path): zip_pin,
        f"{base}/pkg.zip": served_zip_pin,
        f"{base}/pkg/datapackage.json": descriptor_pin,
    }
    wrong = "ab" * 32
    for source, pin in pinned.items():
        assert len(load("agreements", source=source, sha256=pin)) == 4, source
        assert len(load("agreements", source=source, sha256=f"sha256:{pin.upper()}")) == 4, source
        with pytest.raises(
            InputError, match=f"^{re.escape(source)}: SHA256 hash of .* is {pin}, not the pinned {wrong}"
        ):
            load("agreements", source=source, sha256=wrong)
    # also a ValueError, as pooch's own check was
    with pytest.raises(ValueError, match="SHA256 hash of downloaded file"):
        load("agreements", source=f"{base}/pkg.zip", sha256=wrong)
    with pytest.raises(InputError, match="64 hexadecimal digits"):
        load("agreements", source=package, sha256="abc")


def test_a_pinned_download_is_cached_by_its_checksum_and_never_cached_when_wrong(package, served, cache):
    www, base = served
    pin = sha256((www / "pkg.zip").read_bytes())
    with pytest.raises(ChecksumMismatch):
        load("agreements", source=f"{base}/pkg.zip", sha256="0" * 64)
    assert not list(cache.rglob("*.zip")), "bytes that do not match the pin are never cached"
    load("agreements", source=f"{base}/pkg.zip", sha256=pin)
    assert [p.name for p in cache.rglob("*.zip")] == [f"sha256-{pin}-pkg.zip"]
    (www / "pkg.zip").unlink()  # served no more: the cached, checked copy is used
    assert len(load("agreements", source=f"{base}/pkg.zip", sha256=pin)) == 4


# --- every file is checked -----------------------------------------------------------------------


def test_a_csv_cut_short_or_changed_fails_naming_the_file(package, tmp_path):
    csv_path = package / "data" / "listings.csv"
    data = csv_path.read_bytes()
    csv_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        InputError, match=f"{re.escape(str(csv_path))}: has {len(data) // 2} bytes, but the descriptor says {len(data)}"
    ):
        load("listings", source=package)
    assert len(load("agreements", source=package)) == 4  # the other tables are still fine

    csv_path.write_bytes(data.replace(b"Alpha", b"Alpho"))  # same size, other bytes
    with pytest.raises(
        InputError, match=rf"{re.escape(str(csv_path))}: has sha256 [0-9a-f]{{64}}, but the descriptor says"
    ):
        load("listings", source=package)

    csv_path.write_bytes(data[: len(data) // 2])
    zip_path = zip_folder(package, tmp_path / "cut.zip", "ice287g-2025.3.5.1")
    with pytest.raises(InputError, match=re.escape(f"{zip_path}/ice287g-2025.3.5.1/data/listings.csv: has ")):
        load("listings", source=zip_path)
    csv_path.unlink()
    with pytest.raises(InputError, match=re.escape(f"{csv_path}: is missing")):
        load("listings", source=package)


def test_a_changed_csv_on_a_server_fails_naming_its_url(served):
    www, base = served
    csv_path = www / "pkg" / "data" / "agreements.csv"
    csv_path.write_bytes(csv_path.read_bytes().replace(b"A4", b"A5"))
    with pytest.raises(
        InputError, match=rf"{re.escape(base)}/pkg/data/agreements\.csv: has sha256 .* the descriptor says"
    ):
        load("agreements", source=f"{base}/pkg/datapackage.json")


def test_resource_paths_must_stay_inside_the_package(package):
    descriptor = json.loads((package / "datapackage.json").read_text())
    for bad in ("../outside.csv", "/etc/passwd", "https://example.org/x.csv", "data/../../x.csv"):
        descriptor["resources"][2]["path"] = bad
        (package / "datapackage.json").write_text(json.dumps(descriptor))
        with pytest.raises(InputError, match="not a relative path inside the package"):
            load("agreements", source=package)


# --- zips with several packages ------------------------------------------------------------------


def test_a_zip_with_several_packages_uses_the_shallowest_then_smallest(tmp_path):
    rows = AGREEMENTS[1]
    members = {  # written in an order that is neither depth nor name order
        "z/deep/pkg": [rows[0]],  # deeper than all: never chosen, though "a..." < "b..."
        "c": [rows[1]],
        "a/x": [rows[2]],
        "b": [rows[3]],  # shallowest, then the smallest name: this one
    }
    target = tmp_path / "several.zip"
    with zipfile.ZipFile(target, "w") as zf:
        for prefix, agreement_rows in members.items():
            folder = write_package(tmp_path / prefix.replace("/", "_"), {"agreements": (AGREEMENTS[0], agreement_rows)})
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                zf.write(path, f"{prefix}/{path.relative_to(folder).as_posix()}")
    code = (
        "import sys\nfrom ice287g.consume.loader import load\n"
        "print(list(load('agreements', source=sys.argv[1])['agreement_id']))\n"
    )
    seen = set()
    for seed in ("0", "1", "12345"):
        env = os.environ | {"PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True, env=env)
        assert run.returncode == 0, run.stderr
        seen.add(run.stdout.strip())
    assert seen == {"['A4']"}

    # a package at the top of the zip beats any folder
    with zipfile.ZipFile(target, "a") as zf:
        folder = write_package(tmp_path / "top", {"agreements": (AGREEMENTS[0], [rows[0], rows[1]])})
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            zf.write(path, path.relative_to(folder).as_posix())
    assert list(load("agreements", source=target)["agreement_id"]) == ["A1", "A2"]


def _bomb(path: Path, package: Path, size: int) -> Path:
    """A package zip whose agreements table is followed, in the zip, by a member of ``size``
    zero bytes (a few hundred kilobytes deflated), named as the table's CSV in another folder."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(p for p in package.rglob("*") if p.is_file()):
            zf.write(file, f"pkg/{file.relative_to(package).as_posix()}")
        with zf.open("pkg/data/zeros.csv", "w", force_zip64=True) as member:
            block = bytes(2**20)
            for _ in range(size // len(block)):
                member.write(block)
    return path


def test_an_unpinned_zip_and_diff_inflate_within_a_limit(package, tmp_path, monkeypatch):
    """The descriptor names a member that inflates past MAX_MEMBER_BYTES: load() refuses it
    before it holds it, and `ice287g diff` refuses to extract it; nothing fills the disk."""
    from typer.testing import CliRunner

    from ice287g.cli import app
    from ice287g.consume.loader import MAX_MEMBER_BYTES

    descriptor = json.loads((package / "datapackage.json").read_text())
    descriptor["resources"][0]["path"] = "data/zeros.csv"
    swollen = tmp_path / "swollen"
    shutil.copytree(package, swollen)
    (swollen / "datapackage.json").write_text(json.dumps(descriptor))
    (swollen / "SHA256SUMS").unlink(missing_ok=True)
    bomb = _bomb(tmp_path / "bomb.zip", swollen, MAX_MEMBER_BYTES + 2**20)
    assert bomb.stat().st_size < 2 * 2**20
    name = descriptor["resources"][0]["name"]
    refusal = f"declares {MAX_MEMBER_BYTES + 2**20:,} bytes, more than {MAX_MEMBER_BYTES:,}"
    with pytest.raises(InputError, match=refusal):
        load(name, source=bomb)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(work))  # where diff extracts, counted below
    run = CliRunner().invoke(app, ["diff", str(bomb), str(package)])
    assert run.exit_code == 1 and "more than" in run.output, run.output
    assert sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file()) < 50 * 2**20


# --- as_of ---------------------------------------------------------------------------------------

# hand-computed: participating P1 01-10 (seq 1), P2 02-10 (2), P3 03-01 am (3), P4 03-01 pm (4);
# pending Q1 01-20 (1), Q2 03-05 (2)
EXPECTED = [
    # day, participating listings in effect, pending listings in effect, agreements in effect
    ("2025-01-10", ["L1", "L2", "L5"], None, ["A1", "A2", "A4"]),  # on P1; no pending list yet
    ("2025-01-19", ["L1", "L2", "L5"], None, ["A1", "A2", "A4"]),
    ("2025-01-20", ["L1", "L2", "L5"], ["L7", "L8"], ["A1", "A2", "A4"]),  # on Q1
    ("2025-02-09", ["L1", "L2", "L5"], ["L7", "L8"], ["A1", "A2", "A4"]),
    ("2025-02-10", ["L1", "L2", "L4"], ["L7", "L8"], ["A1", "A2", "A3"]),  # on P2: A4 gone, A3 new
    ("2025-02-28", ["L1", "L2", "L4"], ["L7", "L8"], ["A1", "A2", "A3"]),
    ("2025-03-01", ["L1", "L3", "L6"], ["L7", "L8"], ["A1", "A2", "A4"]),  # am and pm: the pm list (P4)
    ("2025-03-04", None, ["L7", "L8"], None),  # after the newest participating list
    ("2025-03-05", None, ["L8", "L9"], None),  # on Q2, the newest pending list
]
EFFECTIVE = {"2025-01-10": P1, "2025-01-19": P1, "2025-01-20": P1, "2025-02-09": P1, "2025-02-10": P2, "2025-02-28": P2}
EFFECTIVE["2025-03-01"] = P4  # the pm list of the day


@pytest.mark.parametrize(("day", "participating", "pending", "agreements"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_as_of_gives_the_lists_in_effect_on_a_day(package, day, participating, pending, agreements):
    full = {table: load(table, source=package) for table in ("listings", "agreements")}
    cases = [("listings", "participating", participating, "listing_id"), ("listings", "pending", pending, "listing_id")]
    cases.append(("agreements", None, agreements, "agreement_id"))
    for table, list_, expected, key in cases:
        if expected is None:
            with pytest.raises(InputError, match=f"as_of={day}: is (before the first|after the newest)"):
                load(table, source=package, as_of=day, list=list_)
            continue
        got = load(table, source=package, as_of=day, list=list_)
        assert list(got[key]) == expected, (table, list_, day)
        # the whole table's rows and dtypes, less the columns of later lists, plus the day's publication
        rows = full[table][full[table][key].isin(expected)].reset_index(drop=True)
        later = [c for c in ("last_publication_id", "last_listed_date", "status") if c in rows.columns]
        assert later and not set(later) & set(got.columns)
        published = set(got.pop("as_of_publication_id"))
        assert len(published) == 1 and published <= set(DAY)
        if table == "agreements":
            assert published == {EFFECTIVE[day]}
            # each agreement is on one row of that day's list, A4 on L5 or L6, so one row each
            assert list(got.pop("as_of_row_count")) == [1] * len(expected)
        pd.testing.assert_frame_equal(got, rows.drop(columns=later))


def test_as_of_counts_an_agreement_listed_twice_once_and_says_so(package):
    fields, rows = LISTINGS
    twice = ["L10", "participating", *span(P2, None), "A1", "", "Alpha Co. Sheriff"]  # A1 on a second row
    write_package(package, TABLES | {"listings": (fields, [*rows, twice])})
    listed = load("listings", source=package, as_of="2025-02-10", list="participating")
    agreements = load("agreements", source=package, as_of="2025-02-10")
    assert list(listed["agreement_id"]) == ["A1", "A2", "A3", "A1"]
    assert dict(zip(agreements["agreement_id"], agreements["as_of_row_count"], strict=True)) == {
        "A1": 2,
        "A2": 1,
        "A3": 1,
    }


def test_as_of_takes_dates_datetimes_and_iso_strings_and_refuses_what_it_cannot_answer(package):
    expected = ["L1", "L2", "L4"]
    for day in (dt.date(2025, 2, 10), dt.datetime(2025, 2, 10, 23, 59), pd.Timestamp("2025-02-10"), "2025-02-10"):
        got = load("listings", source=package, as_of=day, list="participating")
        assert list(got["listing_id"]) == expected, day
    with pytest.raises(InputError, match="not an ISO date"):
        load("listings", source=package, as_of="February 10", list="participating")
    for table in ("publications", "counts"):
        with pytest.raises(InputError, match="as_of applies to listings and agreements only"):
            load(table, source=package, as_of="2025-02-10")
    with pytest.raises(InputError, match="needs list='participating' or list='pending'"):
        load("listings", source=package, as_of="2025-02-10")
    with pytest.raises(InputError, match="list is participating or pending"):
        load("listings", source=package, list="signed")
    with pytest.raises(InputError, match="agreements are on the participating list only"):
        load("agreements", source=package, as_of="2025-02-10", list="pending")
    with pytest.raises(InputError, match=r"as_of=2025-01-09: is before the first participating list .*\(2025-01-10\)"):
        load("agreements", source=package, as_of="2025-01-09")
    with pytest.raises(InputError, match=r"after the newest pending list of version .* \(2025-03-05\)"):
        load("listings", source=package, as_of="2030-01-01", list="pending")


def test_as_of_refuses_a_span_that_starts_on_another_list(package):
    fields, rows = LISTINGS
    crossed = ["L10", "pending", *span(P1, None), "", "X4", "Theta Police Department"]  # P1 is participating
    write_package(package, TABLES | {"listings": (fields, [*rows, crossed])})
    with pytest.raises(InputError, match=r"\(listings\): 1 rows start on no publication of their list"):
        load("listings", source=package, as_of="2025-02-10", list="pending")


def test_list_without_as_of_keeps_the_rows_of_one_list(package):
    pending = load("listings", source=package, list="pending")
    assert list(pending["listing_id"]) == ["L7", "L8", "L9"]
    assert list(pending.columns) == list(load("listings", source=package).columns)


def test_as_of_refuses_spans_naming_unknown_publications(package):
    fields, rows = LISTINGS
    broken = TABLES | {"listings": (fields, [*rows, ["L10", "participating", "nowhere", "", "", "", "A1", "", "x"]])}
    write_package(package, broken)
    with pytest.raises(InputError, match=r"\(listings\): names publications missing from publications: \['nowhere'\]"):
        load("listings", source=package, as_of="2025-02-10", list="participating")


# --- on the real build ---------------------------------------------------------------------------


def test_a_build_loads_the_same_from_folder_zip_and_urls(small_built, http_folder, cache):
    result = small_built.result
    version = result.version
    zip_path = small_built.settings.dist / f"ice287g-{version}.zip"
    www, base = http_folder
    shutil.copytree(result.package, www / version)
    shutil.copy(zip_path, www / zip_path.name)
    descriptor = (result.package / "datapackage.json").read_bytes()
    sources = {
        "zip": (zip_path, None),
        "pinned zip": (zip_path, sha256(zip_path.read_bytes())),
        "zip URL": (f"{base}/{zip_path.name}", sha256(zip_path.read_bytes())),
        # a pinned descriptor covers the CSVs, not SHA256SUMS: these are read from the CSVs
        "descriptor": (result.package / "datapackage.json", sha256(descriptor)),
        "descriptor URL": (f"{base}/{version}/datapackage.json", sha256(descriptor)),
        "unpinned descriptor URL": (f"{base}/{version}/datapackage.json", None),
    }
    for resource in json.loads(descriptor)["resources"]:
        table = resource["name"]
        expected = load(table, source=result.package)  # the Parquet, checked against SHA256SUMS
        for kind, (source, pin) in sources.items():
            pd.testing.assert_frame_equal(load(table, source=source, sha256=pin), expected, obj=f"{table}: {kind}")
    agreements = load("agreements", source=result.package)
    assert len(agreements) == 3 and agreements["signed_date"].dtype.kind == "M"
    # both lists of the small archive were published on 2026-03-01
    listings = load("listings", source=result.package)
    for list_, rows in (("participating", 3), ("pending", 1)):
        on_the_day = load("listings", source=f"{base}/{zip_path.name}", as_of="2026-03-01", list=list_)
        expected = listings[listings["list"] == list_].drop(columns=["last_publication_id", "last_listed_date"])
        pd.testing.assert_frame_equal(on_the_day.drop(columns="as_of_publication_id"), expected.reset_index(drop=True))
        assert len(on_the_day) == rows
        with pytest.raises(InputError, match="is before the first"):
            load("listings", source=result.package, as_of="2026-02-28", list=list_)
    assert len(load("agreements", source=result.package, as_of=dt.date(2026, 3, 1))) == 3
    with pytest.raises(ChecksumMismatch, match=re.escape(f"{base}/{version}/datapackage.json")):
        load("agreements", source=f"{base}/{version}/datapackage.json", sha256="0" * 64)


def test_parquet_is_read_only_when_sha256sums_vouches_for_it(small_built):
    result = small_built.result
    folder = result.package
    original = load("agreements", source=folder)
    parquet = folder / "data" / "agreements.parquet"
    sums_path = folder / "SHA256SUMS"
    sums = sums_path.read_text()

    # a Parquet that SHA256SUMS lists with other bytes: an error naming it
    pd.read_parquet(parquet).iloc[:1].to_parquet(parquet)
    with pytest.raises(InputError, match=rf"{re.escape(str(parquet))}: has sha256 [0-9a-f]{{64}}, but SHA256SUMS says"):
        load("agreements", source=folder)

    # a pinned descriptor reads the pinned CSV, whatever the Parquet and SHA256SUMS hold
    pin = sha256((folder / "datapackage.json").read_bytes())
    pd.testing.assert_frame_equal(load("agreements", source=folder, sha256=pin), original)

    # a Parquet SHA256SUMS does not list is not trusted: the CSV is read
    sums_path.write_text("".join(line + "\n" for line in sums.splitlines() if "agreements.parquet" not in line))
    pd.testing.assert_frame_equal(load("agreements", source=folder), original)
    sums_path.unlink()  # no SHA256SUMS at all: every table from its CSV
    pd.testing.assert_frame_equal(load("agreements", source=folder), original)

    # SHA256SUMS must list the descriptor as it is
    sums_path.write_text(sums)
    descriptor_path = folder / "datapackage.json"
    changed = json.loads(descriptor_path.read_text()) | {"title": "edited after the build"}
    descriptor_path.write_text(json.dumps(changed, indent=2) + "\n")
    with pytest.raises(
        InputError, match=rf"{re.escape(str(sums_path))}: lists datapackage\.json with sha256 .* it has"
    ):
        load("agreements", source=folder)
