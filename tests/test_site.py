"""The release page as a reader sees it: the committed ``docs/index.html`` against the committed
tables (figures computed here with DuckDB, independently of the page's code), the dictionary
against the schema, nothing loaded from elsewhere, identical bytes from the archive build, and a
real headless Chromium opening it from ``file://``."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from html.parser import HTMLParser

import duckdb
import pandas as pd
import pytest
from conftest import REPO

from ice287g.publish.changes import CHANGE_KINDS, change_rows
from ice287g.publish.site.page import CHANGES, PAGE, README_CHART, release_for, saved_changes, write_site

DOCS = REPO / "docs"
DESCRIPTOR = json.loads((REPO / "datapackage.json").read_text(encoding="utf-8"))
# Attributes through which an element makes the browser fetch something.
LOADING = {"src", "srcset", "data", "poster", "background", "xlink:href"}
LOADING_TAGS = {"link", "script", "img", "iframe", "embed", "object", "source", "video", "audio", "image", "use"}


class Page(HTMLParser):
    """What the tests read off the page: marked figures, the dictionary, loaded references."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.figures: dict[tuple[str, str], str] = {}
        self.rows: dict[str, str] = {}
        self.changes: dict[str, str] = {}
        self.columns: dict[str, list[str]] = {}
        self.loads: list[str] = []
        self.errata: dict[str, str] = {}
        self.svgs = 0
        self.labelled_svgs = 0
        self._capture: tuple | None = None
        self._table: str | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in LOADING_TAGS:
            self.loads += [f"<{tag} {k}={v}>" for k, v in attributes.items() if k in LOADING | {"href"} and v]
        self.loads += [f"<{tag} {k}={v}>" for k, v in attributes.items() if k in LOADING and v]
        if "url(" in (attributes.get("style") or ""):
            self.loads.append(f"<{tag} style={attributes['style']}>")
        if tag == "svg":
            self.svgs += 1
            self.labelled_svgs += bool(attributes.get("role") == "img" and attributes.get("aria-label"))
        if "data-table" in attributes:
            self._table = attributes["data-table"]
            self.columns[self._table] = []
        if "data-column" in attributes and self._table:
            self.columns[self._table].append(attributes["data-column"])
        for key, kind in (
            ("data-figure", "figure"),
            ("data-rows", "rows"),
            ("data-change", "change"),
            ("data-errata-rule", "errata"),
        ):
            if key in attributes:
                self._capture = (kind, attributes[key], attributes.get("data-model", ""))

    def handle_data(self, data):
        if self._capture:
            kind, name, model = self._capture
            value = data.strip()
            if kind == "figure":
                self.figures[(name, model)] = value
            elif kind == "rows":
                self.rows[name] = value
            elif kind == "errata":
                self.errata[name] = value
            else:
                self.changes[name] = value
            self._capture = None


@pytest.fixture(scope="module")
def page() -> Page:
    if not (DOCS / PAGE).exists():
        pytest.fail("docs/index.html is missing: run `make build` and commit docs/")
    return Page((DOCS / PAGE).read_text(encoding="utf-8"))


def number(text: str) -> int:
    return int(text.replace(",", ""))


def test_every_headline_figure_equals_the_tables(page):
    con = duckdb.connect()
    data = REPO / "data"
    active = f"""
        select a.support_model, a.agency_id, g.state_code
        from read_csv('{data / "agreements.csv"}', all_varchar = true) a
        join read_csv('{data / "agencies.csv"}', all_varchar = true) g using (agency_id)
        where a.status = 'active'"""
    applications = f"read_csv('{data / 'applications.csv'}', all_varchar = true)"
    pending = f"select support_model from {applications} where outcome = 'pending'"
    expected = {}
    for model in ("all", "task_force", "jail_enforcement", "warrant_service_officer"):
        where = "" if model == "all" else f"where support_model = '{model}'"
        agreements, agencies, states = con.execute(
            f"select count(*), count(distinct agency_id), count(distinct state_code) from ({active}) {where}"
        ).fetchone()
        (waiting,) = con.execute(f"select count(*) from ({pending}) {where}").fetchone()
        expected |= {
            ("active_agreements", model): agreements,
            ("agencies", model): agencies,
            ("states", model): states,
            ("pending_applications", model): waiting,
        }
    shown = {key: number(value) for key, value in page.figures.items()}
    assert shown == expected
    # the newest participating list has exactly the active agreements
    (newest_rows,) = con.execute(
        "select arg_max(row_count::int, sequence::int) "
        f"from read_csv('{data / 'publications.csv'}', all_varchar = true) where list = 'participating'"
    ).fetchone()
    assert shown[("active_agreements", "all")] == newest_rows


def test_the_errata_found_per_rule_equal_the_errata_table(page):
    (path,) = [r["path"] for r in DESCRIPTOR["resources"] if r["name"] == "errata"]
    errata = pd.read_csv(REPO / path, dtype=str)
    assert not errata.empty
    assert {rule: number(found) for rule, found in page.errata.items()} == errata["rule"].value_counts().to_dict()


def test_the_dictionary_lists_every_column_of_the_schema_and_nothing_else(page):
    expected = {r["name"]: [f["name"] for f in r["schema"]["fields"]] for r in DESCRIPTOR["resources"]}
    assert page.columns == expected
    for resource in DESCRIPTOR["resources"]:
        rows = len(pd.read_csv(REPO / resource["path"], dtype=str))
        assert number(page.rows[resource["name"]]) == rows, resource["name"]
    text = html.unescape((DOCS / PAGE).read_text(encoding="utf-8"))
    for resource in DESCRIPTOR["resources"]:
        assert resource["hash"].removeprefix("sha256:") in text, f"{resource['name']}: no CSV checksum"
        assert resource["description"] in text
        for field in resource["schema"]["fields"]:
            assert field["description"] in text, f"{resource['name']}.{field['name']}: no description"


def test_nothing_on_the_page_loads_from_outside_it(page):
    assert page.loads == []
    text = (DOCS / PAGE).read_text(encoding="utf-8")
    assert "<script" not in text and "@import" not in text and "url(" not in text
    assert page.svgs >= 5 and page.labelled_svgs == 5, "every chart is an inline SVG with alt text"


def test_what_changed_matches_the_saved_comparison(page):
    saved = saved_changes(DOCS, DESCRIPTOR["version"])
    assert saved is not None, "docs/changes.csv is of another version"
    assert {kind: number(page.changes[kind]) for kind in CHANGE_KINDS} == saved["change"].value_counts().reindex(
        CHANGE_KINDS, fill_value=0
    ).to_dict()


def test_the_readme_shows_the_committed_chart():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"docs/{README_CHART}" in readme
    assert (DOCS / README_CHART).read_text(encoding="utf-8").startswith("<svg ")


def test_changes_name_the_agency_state_and_dates(tmp_path):
    def version(folder, agreements, agencies):
        (folder / "data").mkdir(parents=True)
        for name, rows in (("agreements", agreements), ("agencies", agencies)):
            pd.DataFrame(rows).to_csv(folder / "data" / f"{name}.csv", index=False)
        for name, columns in (
            ("snapshots", ["file_sha256", "file_name"]),
            ("publications", ["publication_id", "list", "published_date"]),
            ("applications", ["application_id", "outcome"]),
        ):
            pd.DataFrame(columns=columns).to_csv(folder / "data" / f"{name}.csv", index=False)
        return folder

    def agreement(agreement_id, agency_id, status, dates, last="", by=""):
        return {
            "agreement_id": agreement_id,
            "agency_id": agency_id,
            "support_model": "task_force",
            "signed_date": dates.split(" | ")[-1],
            "first_listed_date": "2025-03-01",
            "last_listed_date": last,
            "status": status,
            "superseded_by": by,
            "signed_dates_listed": dates,
        }

    def agency(agency_id, name, participating, last=""):
        return {
            "agency_id": agency_id,
            "state_code": "FL",
            "agency_name": name,
            "first_listed_date": "2025-03-01",
            "last_listed_date": last,
            "is_participating": participating,
        }

    old = version(
        tmp_path / "old",
        [agreement("a-tfm", "a", "active", "2025-02-01"), agreement("b-tfm", "b", "active", "2025-02-02")],
        [agency("a", "Alpha PD", "true"), agency("b", "Beta SO", "true")],
    )
    new = version(
        tmp_path / "new",
        [
            agreement("a-tfm", "a", "active", "2025-02-01 | 2025-02-05"),
            agreement("b-tfm", "b", "removed", "2025-02-02", last="2025-06-01"),
            agreement("c-tfm", "c", "active", "2025-05-01"),
        ],
        [
            agency("a", "Alpha PD", "true"),
            agency("b", "Beta SO", "false", "2025-06-01"),
            agency("c", "Gamma PD", "true"),
        ],
    )
    rows = change_rows(old, new)
    got = {(r.change, r.id): (r.agency_name, r.state_code, r.last_listed_date, r.detail) for r in rows.itertuples()}
    assert got == {
        ("agreement added", "c-tfm"): ("Gamma PD", "FL", "", ""),
        ("agreement removed", "b-tfm"): ("Beta SO", "FL", "2025-06-01", ""),
        ("agreement re-dated", "a-tfm"): ("Alpha PD", "FL", "", "2025-02-01 → 2025-02-01 | 2025-02-05"),
        ("agency joined", "c"): ("Gamma PD", "FL", "", ""),
        ("agency left", "b"): ("Beta SO", "FL", "2025-06-01", ""),
    }
    assert list(rows["change"].unique()) == [k for k in CHANGE_KINDS if k in set(rows["change"])]


@pytest.fixture(scope="module")
def built_site(tmp_path_factory, request):
    """The page written twice from the archive build's version folder."""
    archive_build = request.getfixturevalue("archive_build")
    settings, result, _con = archive_build
    release = release_for(settings, result.package)
    changes = saved_changes(DOCS, release.version)
    assert changes is not None
    folders = [tmp_path_factory.mktemp(f"site{n}") for n in (1, 2)]
    for folder in folders:
        write_site(release, changes, folder)
    return folders


@pytest.mark.integration
def test_two_builds_write_the_committed_page_byte_for_byte(built_site):
    first, second = built_site
    for name in (PAGE, CHANGES, README_CHART):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
        assert (first / name).read_bytes() == (DOCS / name).read_bytes(), f"docs/{name} is stale: run `make build`"


def browser() -> str | None:
    for name in (os.environ.get("ICE287G_CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def test_a_real_browser_opens_the_page_from_file_without_errors():
    executable = browser()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("no Chromium: .ci/run installs Debian's chromium; or set ICE287G_CHROMIUM")
        pytest.skip("no Chromium here (apt-get install chromium, or set ICE287G_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    page_url = (DOCS / PAGE).as_uri()
    screenshot = REPO / "build" / "site" / "release-page.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    problems, requests = [], []
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=executable,
            # the machine's network is closed: no background connections, no sandbox as root
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        try:
            tab = chromium.new_page(viewport={"width": 1100, "height": 900})
            tab.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            tab.on("request", lambda r: requests.append(r.url))
            tab.goto(page_url, wait_until="load")
            sizes = tab.eval_on_selector_all(
                "figure.chart svg",
                "svgs => svgs.map(s => [s.getBoundingClientRect().width, s.getBoundingClientRect().height])",
            )
            title = tab.title()
            tab.screenshot(path=str(screenshot), full_page=True)
        finally:
            chromium.close()
    assert problems == []
    assert requests == [page_url], "the page loaded something besides itself"
    assert len(sizes) == 5 and all(w > 100 and h > 100 for w, h in sizes), sizes
    assert re.search(r"\d{4}\.\d+\.\d+", title)
    assert screenshot.stat().st_size > 50_000
