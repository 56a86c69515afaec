"""Registering new files by hand (add) and from ICE's page (acquire, against a local server);
the plausibility rules and --force; the rules over the real archive."""

import csv
import datetime as dt

import pytest
from conftest import PENDING_HEADER, REPO, SHARED, participating_rows, require_archive, write_workbook
from typer.testing import CliRunner

from ice287g.cli import app
from ice287g.errors import InputError
from ice287g.pipeline.intake.acquire import acquire, workbook_links
from ice287g.pipeline.intake.add import add_files, forced_log
from ice287g.pipeline.intake.plausibility import (
    PENDING_MAX_ROWS,
    date_fixes,
    list_candidates,
    plausibility_problems,
    read_list,
)
from ice287g.raw.layouts import load_layouts
from ice287g.sources.registry import Registry
from ice287g.sources.store import Store


def test_add_registers_and_re_adding_the_same_bytes_is_a_no_op(settings, make_workbook):
    path = make_workbook("participatingAgencies03012025am.xlsx", participating_rows())
    (first,) = add_files(settings, [path])
    assert first.status == "added"
    registry = Registry.load(settings.registry)
    entry = registry.entries[first.entry.file_sha256]
    assert (entry.claimed_list, entry.claimed_date, entry.archive) == ("participating", "2025-03-01", "maintainer")
    assert Store(settings.store).has(entry.file_sha256)
    before = settings.registry.read_bytes()

    copy = path.with_name("copy.xlsx")
    copy.write_bytes(path.read_bytes())
    (second,) = add_files(settings, [copy])
    assert second.status == "already registered"
    assert "participatingAgencies03012025am.xlsx" in second.detail
    assert settings.registry.read_bytes() == before


def test_a_file_in_hand_records_what_is_given_and_no_time_is_made_up(settings, make_workbook):
    path = make_workbook("participatingAgencies03012025am.xlsx", participating_rows())
    (bare,) = add_files(settings, [path])
    entry = Registry.load(settings.registry).entries[bare.entry.file_sha256]
    assert (entry.captured_at, entry.archived_at, entry.url, entry.mirror_path) == ("", "", "", "")
    assert "only in this store" in bare.detail

    other = make_workbook("participatingAgencies03022025am.xlsx", participating_rows(3, dt.date(2025, 3, 2)))
    (given,) = add_files(
        settings,
        [other],
        captured_at="2025-03-02T09:15:00-05:00",
        archived_at="2025-03-03 10:00:00",
        archive="example/archive",
        url="https://example.org/participatingAgencies03022025am.xlsx",
    )
    entry = Registry.load(settings.registry).entries[given.entry.file_sha256]
    assert (entry.captured_at, entry.archived_at, entry.archive) == (
        "2025-03-02T14:15:00Z",
        "2025-03-03T10:00:00Z",
        "example/archive",
    )
    assert entry.url == "https://example.org/participatingAgencies03022025am.xlsx"
    assert "only in this store" not in given.detail
    with pytest.raises(InputError, match="--archived-at: 'yesterday' is no ISO 8601 time"):
        add_files(settings, [other], archived_at="yesterday")


def _mirror_with_manifest(settings, *names_and_rows) -> list[dict]:
    """Workbooks in the mirror with a MANIFEST.csv row each, as an archive's mirror has them."""
    import hashlib

    rows = []
    for name, content in names_and_rows:
        path = write_workbook(settings.mirror / "files" / "archive" / name, content)
        rows.append(
            {
                "path": f"files/archive/{name}",
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "bytes": str(path.stat().st_size),
                "archive": "test/archive",
                "archive_commit": "c0ffee",
                "archive_path": f"lists/{name}",
                "archived_at": "2025-03-05T12:00:00+00:00",
                "url": f"https://example.org/c0ffee/lists/{name}",
            }
        )
    with open(settings.mirror / "MANIFEST.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


def test_bytes_the_mirror_lists_take_their_provenance_from_its_manifest(settings, make_workbook):
    (row,) = _mirror_with_manifest(settings, ("participatingAgencies03042025am.xlsx", participating_rows()))
    # the same bytes in hand, under another name
    copy = make_workbook("renamed.xlsx", participating_rows())
    copy.write_bytes((settings.mirror / row["path"]).read_bytes())
    (outcome,) = add_files(settings, [copy])
    entry = Registry.load(settings.registry).entries[row["sha256"]]
    assert (entry.file_name, entry.archive, entry.archive_commit, entry.archive_path) == (
        "participatingAgencies03042025am.xlsx",
        "test/archive",
        "c0ffee",
        "lists/participatingAgencies03042025am.xlsx",
    )
    assert (entry.archived_at, entry.url, entry.mirror_path) == ("2025-03-05T12:00:00Z", row["url"], row["path"])
    assert outcome.status == "added" and "only in this store" not in outcome.detail


def test_an_option_that_contradicts_the_manifest_is_an_error(settings):
    (row,) = _mirror_with_manifest(settings, ("participatingAgencies03042025am.xlsx", participating_rows()))
    with pytest.raises(InputError, match=r"archived_at '2025-03-01T00:00:00Z' \(the mirror's MANIFEST.csv says"):
        add_files(settings, [settings.mirror / row["path"]], archived_at="2025-03-01T00:00:00Z")
    assert not settings.registry.exists()
    # what the MANIFEST does not know may be given
    (outcome,) = add_files(settings, [settings.mirror / row["path"]], captured_at="2025-03-04T08:00:00Z")
    assert outcome.entry.captured_at == "2025-03-04T08:00:00Z"


def test_a_file_in_the_mirror_without_a_manifest_row_keeps_its_place(settings):
    path = write_workbook(settings.mirror / "loose" / "participatingAgencies03012025am.xlsx", participating_rows())
    (outcome,) = add_files(settings, [path])
    entry = Registry.load(settings.registry).entries[outcome.entry.file_sha256]
    assert entry.mirror_path == "loose/participatingAgencies03012025am.xlsx"
    # registered so, it is found in the mirror again by a store that never had it
    from ice287g.sources.store import resolve

    found = resolve(entry, Store(settings.store.parent / "empty-store"), settings.mirror)
    assert found.read_bytes() == path.read_bytes()


def test_sources_seed_registers_the_manifest_s_new_files_checked_and_once(settings, monkeypatch):
    rows = _mirror_with_manifest(
        settings,
        ("participatingAgencies03042025am.xlsx", participating_rows()),
        ("pendingAgencies03042025am.xlsx", [PENDING_HEADER, ["TEXAS", "Delta PD", "Municipality", "Delta", "TFM"]]),
    )
    for name, value in (("ICE287G_REGISTRY", settings.registry), ("ICE287G_STORE", settings.store)):
        monkeypatch.setenv(name, str(value))
    runner = CliRunner()
    result = runner.invoke(app, ["sources", "seed", "--mirror", str(settings.mirror)])
    assert result.exit_code == 0, result.output
    assert "2 new of 2 registered snapshots" in result.output
    registry = Registry.load(settings.registry)
    assert {e.mirror_path for e in registry} == {r["path"] for r in rows}
    assert {e.archived_at for e in registry} == {"2025-03-05T12:00:00Z"}
    assert all(Store(settings.store).has(r["sha256"]) for r in rows)
    before = settings.registry.read_bytes()
    again = runner.invoke(app, ["sources", "seed", "--mirror", str(settings.mirror)])
    assert again.exit_code == 0 and "0 new of 2 registered snapshots" in again.output
    assert settings.registry.read_bytes() == before

    # a new MANIFEST row is checked as add checks a file: a list far smaller than the one before
    rows += _mirror_with_manifest(settings, ("participatingAgencies03052025am.xlsx", participating_rows(1)))[-1:]
    with open(settings.mirror / "MANIFEST.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    refused = runner.invoke(app, ["sources", "seed", "--mirror", str(settings.mirror)])
    assert refused.exit_code == 1 and "fewer than 90% of the 3 on the participating list before it" in refused.output
    assert settings.registry.read_bytes() == before


def test_add_checks_every_file_before_registering_any(settings, make_workbook, tmp_path):
    good = make_workbook("participatingAgencies03012025am.xlsx", participating_rows())
    bad = tmp_path / "pendingAgencies03012025am.xlsx"
    bad.write_text("<html>Service unavailable</html>")
    with pytest.raises(InputError, match="pendingAgencies03012025am.xlsx: .*HTML"):
        add_files(settings, [good, bad])
    assert not settings.registry.exists()


def test_workbook_links_finds_both_lists():
    html = """<a href="/doclib/about/287g/participatingAgencies03272026am.xlsx">Participating</a>
              <a href="https://www.ice.gov/doclib/about/287g/pendingAgencies03272026am.xlsx">Pending</a>
              <a href="/doclib/other.pdf">x</a>
              <a href="/doclib/about/287g/participatingAgencies03272026am.xlsx">dup</a>"""
    assert workbook_links(html, "https://www.ice.gov/identify-and-arrest/287g") == [
        "https://www.ice.gov/doclib/about/287g/participatingAgencies03272026am.xlsx",
        "https://www.ice.gov/doclib/about/287g/pendingAgencies03272026am.xlsx",
    ]


def test_acquire_registers_new_workbooks_and_refuses_html(settings, http_folder):
    folder, base = http_folder
    write_workbook(folder / "files" / "participatingAgencies03272026am.xlsx", participating_rows())
    write_workbook(
        folder / "files" / "pendingAgencies03272026am.xlsx",
        [PENDING_HEADER, ["TEXAS", "A", "County", "B", "Task Force Model"]],
    )
    (folder / "files" / "pendingAgencies03262026pm.xlsx").write_text("<!DOCTYPE html><html>Please wait</html>")
    (folder / "287g.html").write_text(
        '<html><a href="files/participatingAgencies03272026am.xlsx">P</a>'
        '<a href="files/pendingAgencies03272026am.xlsx">Q</a>'
        '<a href="files/pendingAgencies03262026pm.xlsx">old</a></html>'
    )
    outcomes = {o.name: o for o in acquire(settings, f"{base}/287g.html")}
    assert outcomes["participatingAgencies03272026am.xlsx"].status == "added"
    assert outcomes["pendingAgencies03272026am.xlsx"].status == "added"
    assert outcomes["pendingAgencies03262026pm.xlsx"].status == "refused"
    registry = Registry.load(settings.registry)
    assert sorted(e.file_name for e in registry) == [
        "participatingAgencies03272026am.xlsx",
        "pendingAgencies03272026am.xlsx",
    ]
    entry = next(e for e in registry if e.claimed_list == "pending")
    assert entry.url == f"{base}/files/pendingAgencies03272026am.xlsx"
    assert entry.captured_at and entry.archive == "ice.gov"

    again = acquire(settings, f"{base}/287g.html")
    assert {o.status for o in again if o.name != "pendingAgencies03262026pm.xlsx"} == {"already registered"}


def test_acquire_names_a_page_without_workbooks(settings, http_folder):
    folder, base = http_folder
    (folder / "287g.html").write_text("<html>maintenance</html>")
    with pytest.raises(InputError, match="links to no participating or pending"):
        acquire(settings, f"{base}/287g.html")


# Plausibility: a list must have a date, and a row count in line with the list of its kind before it.


def test_a_list_with_no_date_is_refused_unless_captured_at_or_forced(settings, make_workbook):
    path = make_workbook("participatingAgencies.xlsx", participating_rows())
    with pytest.raises(InputError, match=r"participatingAgencies\.xlsx: it has no date: .*--force registers it anyway"):
        add_files(settings, [path])
    assert not settings.registry.exists() and not settings.store.exists()

    (dated,) = add_files(settings, [path], captured_at="2026-03-01T12:00:00Z")
    assert dated.status == "added" and "forced" not in dated.detail
    assert not forced_log(settings).exists()


def test_force_registers_an_undated_list_and_records_why(settings, make_workbook):
    path = make_workbook("participatingAgencies.xlsx", participating_rows())
    (outcome,) = add_files(settings, [path], force=True)
    assert outcome.status == "added"
    assert "forced past: it has no date" in outcome.detail
    assert outcome.entry.file_sha256 in Registry.load(settings.registry).entries
    with open(forced_log(settings), newline="", encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["file_sha256"] == outcome.entry.file_sha256
    assert row["file_name"] == "participatingAgencies.xlsx"
    assert row["reason"].startswith("it has no date")
    # when the maintainer insisted, in the log of decisions; the file itself gets no made-up time
    before = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
    assert dt.datetime.strptime(row["forced_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC) > before
    assert (outcome.entry.captured_at, outcome.entry.archived_at) == ("", "")

    again = make_workbook("participatingAgencies2.xlsx", participating_rows(4))
    add_files(settings, [again], force=True)
    with open(forced_log(settings), newline="", encoding="utf-8") as fh:
        assert [r["file_name"] for r in csv.DictReader(fh)] == [
            "participatingAgencies.xlsx",
            "participatingAgencies2.xlsx",
        ]


def test_a_name_dated_after_it_was_archived_is_refused_and_a_reviewed_fix_dates_it(settings, make_workbook):
    future = make_workbook("participatingAgencies03015026am.xlsx", participating_rows())
    with pytest.raises(InputError, match="the date in its name, 5026-03-01, is later than the day it was registered"):
        add_files(settings, [future])
    # seeds/fix_snapshot_dates.csv corrects this real name's digits (11114025) to 2025-11-14
    fixed = make_workbook("participatingAgencies11114025am.xlsx", participating_rows())
    (outcome,) = add_files(settings, [fixed])
    assert outcome.status == "added"


def test_a_participating_list_far_from_the_one_before_it_is_refused(settings, make_workbook):
    add_files(settings, [make_workbook("participatingAgencies03012026am.xlsx", participating_rows(10))])
    shrunk = make_workbook("participatingAgencies03022026am.xlsx", participating_rows(8))
    with pytest.raises(InputError, match=r"it lists 8 agreements, fewer than 90% of the 10 .*03012026am\.xlsx"):
        add_files(settings, [shrunk])
    (ninety,) = add_files(settings, [make_workbook("participatingAgencies03022026am.xlsx", participating_rows(9))])
    assert ninety.status == "added"
    grown = make_workbook("participatingAgencies03032026am.xlsx", participating_rows(28))
    with pytest.raises(InputError, match=r"it lists 28 agreements, more than 3 times the 9 .*03022026am\.xlsx"):
        add_files(settings, [grown])
    (tripled,) = add_files(settings, [make_workbook("participatingAgencies03032026am.xlsx", participating_rows(27))])
    assert tripled.status == "added"


def test_the_list_before_is_the_one_before_in_time_of_the_same_list(settings, make_workbook):
    add_files(settings, [make_workbook("participatingAgencies03102026am.xlsx", participating_rows(30))])
    # a backfill: older than every registered list, so nothing before it to compare with
    (older,) = add_files(settings, [make_workbook("participatingAgencies03012026am.xlsx", participating_rows(10))])
    assert older.status == "added"
    # a file that names the participating list but holds the pending one is no participating list
    misnamed = make_workbook(
        "participatingAgencies03032026am.xlsx", [PENDING_HEADER, ["TEXAS", "A", "County", "B", "C"]]
    )
    add_files(settings, [misnamed])
    # compared with 03-01 (10 rows), not the newest registered (30 rows) nor the misnamed file (1 row)
    (between,) = add_files(
        settings, [make_workbook("participatingAgencies03052026am.xlsx", participating_rows(10, dt.date(2026, 3, 4)))]
    )
    assert between.status == "added"


def test_the_files_of_one_call_are_compared_with_each_other(settings, make_workbook):
    first = make_workbook("participatingAgencies03012026am.xlsx", participating_rows(10))
    second = make_workbook("participatingAgencies03022026pm.xlsx", participating_rows(5))
    with pytest.raises(InputError, match=r"03022026pm\.xlsx: it lists 5 agreements, fewer than 90% of the 10"):
        add_files(settings, [second, first])
    assert not settings.registry.exists()


def pending_rows(n: int) -> list[list[object]]:
    return [
        PENDING_HEADER,
        *[["TEXAS", f"Agency {i}", "Municipality", "Alpha County", "Task Force Model"] for i in range(n)],
    ]


def test_a_pending_list_may_drain_to_nothing_but_not_hold_thousands(settings, make_workbook):
    add_files(settings, [make_workbook("pendingAgencies11062025am.xlsx", pending_rows(14))])
    (drained,) = add_files(settings, [make_workbook("pendingAgencies11062025pm.xlsx", [PENDING_HEADER])])
    assert drained.status == "added"
    swollen = make_workbook("pendingAgencies11072025am.xlsx", pending_rows(PENDING_MAX_ROWS + 1))
    with pytest.raises(InputError, match="it lists 1,001 pending applications"):
        add_files(settings, [swollen])
    (forced,) = add_files(settings, [swollen], force=True)
    assert "forced past: it lists 1,001 pending applications" in forced.detail


def test_acquire_refuses_an_implausible_list_unless_forced(settings, http_folder):
    folder, base = http_folder
    write_workbook(folder / "participatingAgencies03012026am.xlsx", participating_rows(10))
    (folder / "a.html").write_text('<a href="participatingAgencies03012026am.xlsx">P</a>')
    acquire(settings, f"{base}/a.html")
    write_workbook(folder / "participatingAgencies03022026am.xlsx", participating_rows(2))
    (folder / "b.html").write_text('<a href="participatingAgencies03022026am.xlsx">P</a>')
    before = settings.registry.read_bytes()

    (refused,) = acquire(settings, f"{base}/b.html")
    assert refused.status == "refused"
    assert refused.detail.startswith("it lists 2 agreements, fewer than 90% of the 10")
    assert settings.registry.read_bytes() == before

    (forced,) = acquire(settings, f"{base}/b.html", force=True)
    assert forced.status == "added" and "forced past" in forced.detail
    with open(forced_log(settings), newline="", encoding="utf-8") as fh:
        assert [r["file_name"] for r in csv.DictReader(fh)] == ["participatingAgencies03022026am.xlsx"]


def test_the_add_command_refuses_and_force_insists(settings, make_workbook, monkeypatch):
    monkeypatch.setenv("ICE287G_REGISTRY", str(settings.registry))
    monkeypatch.setenv("ICE287G_STORE", str(settings.store))
    monkeypatch.setenv("ICE287G_MIRROR", str(settings.mirror))
    path = make_workbook("participatingAgencies[draft].xlsx", participating_rows())
    runner = CliRunner()
    result = runner.invoke(app, ["add", str(path)])
    assert result.exit_code == 1
    assert f"error: {path}: it has no date" in result.output
    result = runner.invoke(app, ["add", "--force", str(path)])
    assert result.exit_code == 0, result.output
    # the name's brackets are printed as text, not taken for markup
    assert "participatingAgencies[draft].xlsx: added (sha256 " in result.output
    assert "forced past: it has no date" in result.output


@pytest.mark.integration
def test_no_real_list_is_refused_in_the_order_add_would_have_seen_them():
    """Every archived list against the list of its kind before it, in the order of their dates:
    the row-count bounds refuse none. One file has no date at all (nor does the build know one but
    by matching its contents): add would refuse it without --captured-at or --force."""
    require_archive()
    registry = Registry.load(REPO / "sources" / "snapshots.csv")
    layouts = load_layouts(REPO / "sources" / "layouts.csv")
    fixes = date_fixes(REPO)
    facts = {e.file_sha256: read_list(SHARED / e.mirror_path, e.file_name, layouts) for e in registry}
    candidates = list_candidates(registry, fixes)
    # every participating list but the undated one is a list some other may be compared with
    participating = {e.file_name for e in registry if facts[e.file_sha256].kind == "participating"}
    assert participating - {e.file_name for _, e in candidates} == {"participatingAgencies_with_links.xlsx"}

    # each list against the newest participating list dated before it: as add would have seen them
    refused = {
        entry.file_name: problems
        for entry in registry
        if (
            problems := plausibility_problems(
                entry, facts[entry.file_sha256], candidates, lambda e: facts[e.file_sha256], fixes
            )
        )
    }
    assert refused == {
        "participatingAgencies_with_links.xlsx": [
            "it has no date: its name carries none and no capture time was given (--captured-at)"
        ]
    }


def _cli(settings, monkeypatch, *args: str):
    for name, value in (("REGISTRY", settings.registry), ("STORE", settings.store), ("MIRROR", settings.mirror)):
        monkeypatch.setenv(f"ICE287G_{name}", str(value))
    monkeypatch.setenv("ICE287G_BUILD_DIR", str(settings.build_dir))
    result = CliRunner().invoke(app, list(args))
    assert not result.exception or isinstance(result.exception, SystemExit), result.exception
    return result


def test_a_time_in_the_future_is_refused(settings, make_workbook, monkeypatch):
    path = make_workbook("participatingAgencies03012025am.xlsx", participating_rows())
    result = _cli(settings, monkeypatch, "add", "--captured-at", "2099-01-01T00:00:00Z", str(path))
    assert result.exit_code == 1
    assert "captured_at 2099-01-01T00:00:00Z is in the future" in result.output
    assert not settings.registry.exists()


def test_a_name_that_would_act_on_a_terminal_is_refused_and_shown_escaped(settings, make_workbook, monkeypatch):
    path = make_workbook("participatingAgencies03012025am\x1b]0;owned\x07.xlsx", participating_rows())
    result = _cli(settings, monkeypatch, "add", str(path))
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b]0;owned\\x07" in result.output and "holds control characters" in result.output
    assert not settings.registry.exists()


def test_a_full_disk_is_said_in_one_line_naming_the_file(settings, make_workbook, monkeypatch):
    import errno

    import ice287g.sources.registry

    def full(path, _data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(ice287g.sources.registry, "write_atomically", full)
    path = make_workbook("participatingAgencies03012025am.xlsx", participating_rows())
    result = _cli(settings, monkeypatch, "add", str(path))
    assert result.exit_code == 1
    assert result.output.strip().endswith(f"error: {settings.registry}: No space left on device")
    assert "Traceback" not in result.output
