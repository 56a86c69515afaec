"""`make bench`: time the build as a maintainer runs it, beside the ways of reading the archive.

In one process tree and one run, on temporary folders (the store, database, dist and release of
the checkout are never touched):

- a cold build from an empty store and database of every registered snapshot but one (the newest
  participating list, held back), then a rebuild with nothing new, then a rebuild after adding the
  held-back workbook (a maintainer's daily update), each with its seconds by stage;
- reading every workbook three ways: the project's reader (the build's read stage, into a
  database in memory), a plain ``pandas.read_excel(engine="openpyxl")`` loop, and python-calamine reading
  the sheets raw (the floor);
- with ``--scale N`` (``make bench SCALE=N``), a cold build of the archive replicated N times as
  synthetic copies with distinct checksums (a zip comment differs; made in a temporary folder,
  never kept), and how each stage grew from 1x.

It prints a table and writes the same figures to ``build/bench.json``, each time beside its ratio
to python-calamine's floor measured in the same run, and the targets (``RATIO_TARGETS``) with
whether this run met them. Nothing asserts on the figures: compare runs made on the same, otherwise idle machine.
"""

from __future__ import annotations

import json
import resource
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ice287g.pipeline.build import BuildResult, build_release, resolve_all
from ice287g.pipeline.intake.plausibility import date_fixes, list_candidates
from ice287g.settings import Settings
from ice287g.sources.registry import Entry, Registry
from ice287g.sources.store import Store, suffix_for
from ice287g.util.hashing import sha256_of

STAGES = ("resolve", "reuse", "read", "dbt", "validate", "package", "release")
# The targets, as ratios to python-calamine's floor measured in the same run (reading every sheet
# raw, with nothing checked or stored): a machine's speed cancels out, so runs on other machines
# compare. (figure, what it is divided by, the bound on the ratio)
RATIO_TARGETS = (
    ("read_seconds", "calamine_floor_seconds", 1.5),
    ("cold_seconds", "calamine_floor_seconds", 12.0),
    ("add_one_seconds", "calamine_floor_seconds", 4.0),
    ("add_one_seconds", "cold_seconds", 0.3),
)
PEAK_RSS_TARGET_MB = 2048
console = Console()


def peak_rss_mb() -> float:
    """The largest resident set of this process plus that of its largest child (dbt runs in one)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round((own + children) / 1024, 1)


def timed(action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = action()
    return round(time.perf_counter() - start, 2), value


def ratio(seconds: float, of: float) -> float:
    """``seconds`` as a multiple of ``of`` (a run too quick to time counts as 0.01 s)."""
    return seconds / max(of, 0.01)


def held_back(registry: Registry, root: Path) -> Entry:
    """The newest participating list, in the order ``add`` sees lists (its name's date as the
    reviewed fixes correct it, never past its archive time): the day's update. A name's date alone
    can be a typo (participatingAgencies11114025am.xlsx)."""
    candidates = list_candidates(registry, date_fixes(root))
    return max((c for c in candidates if c[1].claimed_list == "participating"), key=lambda c: c[0])[1]


def write_registry(path: Path, entries: list[Entry]) -> None:
    registry = Registry(path, {})
    for entry in entries:
        registry.add(entry)
    registry.save()


def run_build(settings: Settings) -> tuple[float, dict[str, float], BuildResult]:
    """One build and its write of the committed release (what `make build` does), timed."""
    start = time.perf_counter()
    result, _ = build_release(settings, say=lambda _m: None, reuse=True)
    stages = result.stage_seconds
    return round(time.perf_counter() - start, 2), {k: round(v, 2) for k, v in stages.items()}, result


def folders(settings: Settings, work: Path, registry: Path) -> Settings:
    """Settings whose store, build, dist and release are under ``work`` (the mirror stays)."""
    return replace(
        settings,
        registry=registry,
        store=work / "store",
        build_dir=work / "build",
        dist_dir=work / "dist",
        release_dir=work / "release",
    )


def daily_update(settings: Settings, work: Path) -> dict:
    """Cold build without the newest list, a rebuild with nothing new, a rebuild with it added."""
    registry = Registry.load(settings.registry)
    newest = held_back(registry, settings.root)
    others = [e for e in registry if e.file_sha256 != newest.file_sha256]
    path = work / "sources" / "snapshots.csv"
    path.parent.mkdir(parents=True)
    write_registry(path, others)
    bench = folders(settings, work, path)
    figures: dict = {"snapshots": len(registry), "held_back": newest.file_name}
    figures["cold_seconds"], figures["cold_stages"], result = run_build(bench)
    figures["database_mb_cold"] = round(result.database.stat().st_size / 2**20, 1)
    figures["noop_seconds"], figures["noop_stages"], _ = run_build(bench)
    write_registry(path, [*others, newest])
    figures["add_one_seconds"], figures["add_one_stages"], result = run_build(bench)
    figures["database_mb_after_add_one"] = round(result.database.stat().st_size / 2**20, 1)
    return figures


def reading(settings: Settings) -> dict:
    """Seconds to read every registered workbook: the project's reader, openpyxl, calamine raw."""
    import duckdb
    import pandas as pd
    from python_calamine import CalamineWorkbook

    from ice287g.raw.rawload import load_raw

    registry = Registry.load(settings.registry)
    paths = resolve_all(settings, registry)
    files = [(paths[e.file_sha256], e.file_name) for e in registry]

    def project() -> int:
        # the build's read stage as it runs (checks, layouts, batches, worker processes), into a
        # database in memory
        with duckdb.connect() as con:
            report = load_raw(con, registry, lambda e: paths[e.file_sha256], settings.root / "sources" / "layouts.csv")
        return report.rows_total

    def calamine() -> int:
        rows = 0
        for path, _ in files:
            book = CalamineWorkbook.from_path(str(path))
            rows += sum(len(book.get_sheet_by_name(n).to_python()) for n in book.sheet_names)
        return rows

    def openpyxl() -> int:
        return sum(
            len(f) for path, _ in files for f in pd.read_excel(path, sheet_name=None, engine="openpyxl").values()
        )

    figures = {}
    figures["read_seconds"], figures["rows_read"] = timed(project)
    figures["calamine_floor_seconds"], _ = timed(calamine)
    figures["openpyxl_seconds"], _ = timed(openpyxl)
    figures["read_speedup"] = round(ratio(figures["openpyxl_seconds"], figures["read_seconds"]), 1)
    return figures


def replicate(settings: Settings, factor: int, work: Path) -> Path:
    """A registry of the archive ``factor`` times, for a build under ``work`` (``folders``): copy
    k of each workbook differs from the original only in its zip comment, so its checksum is its
    own and its sheets are the same. The copies are put straight into that build's store: they
    are in no mirror, and a registry's mirror path never leaves its mirror."""
    registry = Registry.load(settings.registry)
    paths = resolve_all(settings, registry)
    store = Store(folders(settings, work, settings.registry).store)
    entries = []
    for copy in range(factor):
        for entry in registry:
            if copy == 0:
                entries.append(entry)
                continue
            target = work / "copies" / f"copy{copy}{paths[entry.file_sha256].suffix}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(paths[entry.file_sha256].read_bytes())
            with zipfile.ZipFile(target, "a") as book:
                book.comment = f"ice287g bench copy {copy}".encode()
            sha = sha256_of(target)
            store.put_file(target, sha, suffix_for(entry.file_name))
            entries.append(replace(entry, file_sha256=sha, bytes=target.stat().st_size, mirror_path="", url=""))
            target.unlink()
    path = work / "sources" / "snapshots.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_registry(path, entries)
    return path


def scaled(settings: Settings, factor: int, work: Path) -> dict:
    """A cold build of the archive replicated ``factor`` times."""
    registry = replicate(settings, factor, work / "build-x")
    seconds, stages, result = run_build(folders(settings, work / "build-x", registry))
    return {
        "factor": factor,
        "snapshots": len(Registry.load(registry)),
        "cold_seconds": seconds,
        "cold_stages": stages,
        "database_mb": round(result.database.stat().st_size / 2**20, 1),
    }


def report(figures: dict) -> None:
    table = Table(title="make bench", show_lines=False)
    table.add_column("build")
    table.add_column("total s", justify="right")
    table.add_column("x floor", justify="right")
    for stage in STAGES:
        table.add_column(stage, justify="right")
    runs = [("cold", "cold"), ("nothing new", "noop"), ("add one", "add_one")]
    if "scale" in figures:
        runs.append((f"cold x{figures['scale']['factor']}", "scale"))
    for label, key in runs:
        source = figures["scale"] if key == "scale" else figures
        prefix = "cold" if key == "scale" else key
        stages = source[f"{prefix}_stages"]
        total = source[f"{prefix}_seconds"]
        floor = f"{ratio(total, figures['calamine_floor_seconds']):.1f}"
        table.add_row(label, f"{total:.1f}", floor, *(f"{stages.get(s, 0):.1f}" for s in STAGES))
    console.print(table)
    reads = Table(title="reading every workbook")
    for column in ("project reader s", "x floor", "calamine floor s", "openpyxl loop s", "speed-up"):
        reads.add_column(column, justify="right")
    reads.add_row(
        f"{figures['read_seconds']:.1f}",
        f"{ratio(figures['read_seconds'], figures['calamine_floor_seconds']):.1f}",
        f"{figures['calamine_floor_seconds']:.1f}",
        f"{figures['openpyxl_seconds']:.1f}",
        f"{figures['read_speedup']:.0f}x",
    )
    console.print(reads)
    console.print(
        f"peak memory {figures['peak_rss_mb']:,.0f} MB; database {figures['database_mb_cold']} MB cold, "
        f"{figures['database_mb_after_add_one']} MB after adding one; {figures['snapshots']:,} snapshots"
    )
    if "scale" in figures:
        console.print(
            f"x{figures['scale']['factor']}: database {figures['scale']['database_mb']} MB, peak memory "
            f"{figures['scale']['peak_rss_mb']:,.0f} MB; growth by stage "
            + ", ".join(f"{stage} {growth}x" for stage, growth in figures["scale"]["growth"].items())
        )
    targets = Table(title="against the targets (ratios to figures of this run)")
    for column in ("figure", "seconds", "divided by", "ratio", "target", "met"):
        targets.add_column(column, justify="left" if column in ("figure", "divided by") else "right")
    for target in figures["targets"]:
        targets.add_row(
            target["figure"],
            f"{figures[target['figure']]:.1f}",
            f"{target['of']} ({figures[target['of']]:.1f} s)",
            f"{target['ratio']:.2f}",
            f"<= {target['bound']}",
            "yes" if target["met"] else "no",
        )
    console.print(targets)
    met = figures["peak_rss_mb"] < PEAK_RSS_TARGET_MB
    console.print(
        f"peak memory {figures['peak_rss_mb']:,.0f} MB, target < {PEAK_RSS_TARGET_MB} MB: {'yes' if met else 'no'}"
    )


def against_targets(figures: dict) -> list[dict]:
    """Each ratio target with the ratio this run measured."""
    rows = []
    for figure, of, bound in RATIO_TARGETS:
        measured = ratio(figures[figure], figures[of])
        rows.append({"figure": figure, "of": of, "ratio": round(measured, 2), "bound": bound, "met": measured <= bound})
    return rows


def main(
    scale: Annotated[int, typer.Option(help="Also build the archive replicated this many times.")] = 1,
) -> None:
    """Run the benchmark; see the module docstring."""
    settings = Settings.from_env()
    figures: dict = {}
    with tempfile.TemporaryDirectory(prefix="ice287g-bench-") as tmp:
        figures |= daily_update(settings, Path(tmp) / "daily")
        figures |= reading(settings)
        # a high-water mark, so taken before the scaled build, whose own peak is reported apart
        figures["peak_rss_mb"] = peak_rss_mb()
        if scale > 1:
            figures["scale"] = scaled(settings, scale, Path(tmp) / "scaled")
            figures["scale"]["peak_rss_mb"] = peak_rss_mb()
            figures["scale"]["growth"] = {
                stage: round(ratio(figures["scale"]["cold_stages"].get(stage, 0), figures["cold_stages"][stage]), 1)
                for stage in STAGES
            }
    figures["targets"] = against_targets(figures)
    figures["peak_rss_target_mb"] = PEAK_RSS_TARGET_MB
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    (settings.build_dir / "bench.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    report(figures)
    console.print(f"written to {settings.build_dir / 'bench.json'}")


if __name__ == "__main__":
    typer.run(main)
