"""`make bench`: time and peak memory of reading the archive and of a full cold build
(raw layer, dbt, validation and package, into a temporary build and dist folder).

Numbers are printed and written to build/bench.json; nothing asserts on them. Run it on an
otherwise idle machine and compare runs made on the same machine.
"""

from __future__ import annotations

import json
import resource
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from ice287g.build import build, resolve_all
from ice287g.layouts import detect_workbook, load_layouts
from ice287g.registry import Registry
from ice287g.settings import Settings
from ice287g.workbook import read_workbook


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    settings = Settings.from_env()
    registry = Registry.load(settings.registry)
    paths = resolve_all(settings, registry)
    layouts = load_layouts(settings.root / "sources" / "layouts.csv")

    results = {"files": len(registry)}
    start = time.perf_counter()
    rows = 0
    for entry in registry:
        sheets = detect_workbook(read_workbook(paths[entry.file_sha256], entry.file_name), layouts, entry.file_name)
        rows += sum(len(s.data_rows) for s in sheets)
    results["read_all_workbooks_seconds"] = round(time.perf_counter() - start, 2)
    results["rows"] = rows

    with tempfile.TemporaryDirectory() as tmp:
        cold = replace(settings, build_dir=Path(tmp) / "build", dist_dir=Path(tmp) / "dist")
        start = time.perf_counter()
        build(cold, say=lambda _m: None)
        results["cold_build_seconds"] = round(time.perf_counter() - start, 2)
        start = time.perf_counter()
        build(cold, say=lambda _m: None)
        results["warm_rebuild_seconds"] = round(time.perf_counter() - start, 2)
        shutil.rmtree(cold.build_dir, ignore_errors=True)
    results["peak_rss_mb_python"] = round(_peak_rss_mb(), 1)

    settings.build_dir.mkdir(parents=True, exist_ok=True)
    (settings.build_dir / "bench.json").write_text(json.dumps(results, indent=2) + "\n")
    for key, value in results.items():
        print(f"{key:>28}: {value}")


if __name__ == "__main__":
    main()
