"""Registering new files by hand (add) and from ICE's page (acquire, against a local server)."""

import pytest
from conftest import PENDING_HEADER, participating_rows, write_workbook

from ice287g.errors import InputError
from ice287g.intake import acquire, add_files, workbook_links
from ice287g.registry import Registry
from ice287g.store import Store


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
