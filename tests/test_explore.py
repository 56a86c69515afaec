"""`ice287g explore`: the committed release as a SQLite database served by Datasette."""

from __future__ import annotations

import html
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import replace

import pandas as pd
import pytest
from conftest import REPO, private_settings

from ice287g import ICE_PAGE
from ice287g.consume import explore
from ice287g.errors import InputError

# the extra is in requirements.lock: a missing one fails here rather than skipping unseen
explore.require_extra()

DESCRIPTOR = json.loads((REPO / "datapackage.json").read_text(encoding="utf-8"))
RESOURCES = {r["name"]: r for r in DESCRIPTOR["resources"]}


def csv_frame(name: str) -> pd.DataFrame:
    return pd.read_csv(REPO / RESOURCES[name]["path"], dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Settings reading the repository's committed release, writing under a temporary folder, and
    the database ``explore.database`` built there."""
    settings = replace(private_settings(tmp_path_factory.mktemp("explore")), release_dir=REPO)
    return settings, explore.database(settings)


def test_every_resource_is_a_table_with_the_csv_rows_types_and_key(built):
    settings, db = built
    assert db == settings.build_dir / "explore" / DESCRIPTOR["version"] / "ice287g.db"
    conn = sqlite3.connect(db)
    tables = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
    assert tables == set(RESOURCES)
    for name, resource in RESOURCES.items():
        frame = csv_frame(name)
        fields = resource["schema"]["fields"]
        info = conn.execute(f'pragma table_info("{name}")').fetchall()  # cid, name, type, notnull, default, pk
        added = ["state_code"] if name in ("agreements", "applications") else []
        assert [c[1] for c in info] == [f["name"] for f in fields] + added, name
        info = info[: len(fields)]
        assert [c[1] for c in sorted((c for c in info if c[5]), key=lambda c: c[5])] == resource["schema"][
            "primaryKey"
        ], name
        assert conn.execute(f'select count(*) from "{name}"').fetchone()[0] == len(frame), name
        for field, column in zip(fields, info, strict=True):
            expected = {"integer": "INTEGER", "number": "REAL", "boolean": "INTEGER"}.get(field["type"], "TEXT")
            assert column[2] == expected, (name, field["name"])
            nulls = conn.execute(f'select count(*) from "{name}" where "{field["name"]}" is null').fetchone()[0]
            assert nulls == (frame[field["name"]] == "").sum(), (name, field["name"])
            if field["type"] == "boolean":
                trues = conn.execute(f'select count(*) from "{name}" where "{field["name"]}" = 1').fetchone()[0]
                assert trues == (frame[field["name"]] == "true").sum(), (name, field["name"])
            if field["type"] == "integer":
                total = conn.execute(f'select total("{field["name"]}") from "{name}"').fetchone()[0]
                values = frame[field["name"]]
                assert total == values[values != ""].astype(int).sum(), (name, field["name"])


def test_the_schema_foreign_keys_are_declared(built):
    _, db = built
    conn = sqlite3.connect(db)
    for name, resource in RESOURCES.items():
        declared = {
            (row[3], row[2], row[4]) for row in conn.execute(f'pragma foreign_key_list("{name}")')
        }  # id, seq, table, from, to
        for fk in resource["schema"].get("foreignKeys", []):
            target = fk["reference"]["resource"] or name
            assert (fk["fields"][0], target, fk["reference"]["fields"][0]) in declared, (name, fk)
    assert conn.execute("pragma foreign_key_check").fetchall() == []


def test_the_metadata_describes_every_table_and_column(built):
    _, db = built
    meta = json.loads(explore.metadata_path(db).read_text(encoding="utf-8"))
    assert meta["title"] == DESCRIPTOR["title"]
    assert meta["license"] == "CC0-1.0"
    assert meta["license_url"].startswith("https://creativecommons.org/publicdomain/zero/")
    assert meta["source_url"] == ICE_PAGE
    tables = meta["databases"][db.stem]["tables"]
    assert set(tables) == set(RESOURCES)
    for name, resource in RESOURCES.items():
        assert tables[name]["description"] == resource["description"]
        assert tables[name]["description"].startswith("One row per")
        columns = tables[name]["columns"]
        published = {f["name"]: f["description"] for f in resource["schema"]["fields"]}
        if name in ("agreements", "applications"):  # the agency's state, added to facet by
            assert columns.pop("state_code").startswith("The agency's state_code (agencies.state_code)")
        assert columns == published
        assert all(columns.values()), name
        assert "sortable_columns" not in tables[name]
    assert tables["agreements"]["facets"] == ["state_code", "support_model", "status"]
    assert tables["applications"]["facets"] == ["state_code", "support_model", "outcome"]
    assert tables["agencies"]["facets"] == ["state_code", "agency_type", "agency_kind"]
    assert "facets" not in tables["agreement_periods"]


def test_the_database_of_a_version_is_reused_and_no_temporary_file_is_left(built):
    settings, db = built
    before = db.stat().st_mtime_ns
    assert explore.database(settings) == db
    assert db.stat().st_mtime_ns == before
    assert sorted(p.name for p in db.parent.iterdir()) == [db.name, explore.metadata_path(db).name]


def test_a_database_an_older_explore_wrote_is_written_again(built, tmp_path):
    settings, db = built
    own = replace(settings, build_dir=tmp_path / "build")
    older = explore.database_path(own, DESCRIPTOR["version"])
    older.parent.mkdir(parents=True)
    shutil.copy2(db, older)
    with sqlite3.connect(older) as conn:  # as written before agreements had the agency's state
        conn.execute("drop index idx_agreements_state_code")
        conn.execute("alter table agreements drop column state_code")
    assert explore.database(own) == older
    with sqlite3.connect(older) as conn:
        assert "state_code" in [row[1] for row in conn.execute("pragma table_info(agreements)")]


def test_a_missing_extra_says_how_to_install_it(built, monkeypatch):
    settings, _ = built
    monkeypatch.setitem(sys.modules, "datasette", None)  # makes `import datasette` fail
    with pytest.raises(InputError, match=r"needs datasette, the optional extra: run pip install 'ice287g\[explore\]'"):
        explore.database(settings)


def test_the_cli_command_prints_the_install_command_when_the_extra_is_missing(built, monkeypatch):
    from typer.testing import CliRunner

    from ice287g import cli

    monkeypatch.setitem(sys.modules, "sqlite_utils", None)
    result = CliRunner().invoke(cli.app, ["explore"])
    assert result.exit_code == 1
    assert "needs sqlite-utils, the optional extra: run pip install 'ice287g[explore]'" in result.output


def test_a_port_in_use_is_named():
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        with pytest.raises(InputError, match=rf"--port {port}: cannot serve on 127\.0\.0\.1:{port}"):
            explore.check_port("127.0.0.1", port)
    explore.check_port("127.0.0.1", port)  # free again


def test_the_cli_command_checks_the_port_before_serving(built, monkeypatch):
    from typer.testing import CliRunner

    from ice287g import cli

    settings, db = built
    monkeypatch.setenv("ICE287G_BUILD_DIR", str(settings.build_dir))
    ran = []
    monkeypatch.setattr(explore.os, "execv", lambda _path, command: ran.append(command))
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli.app, ["explore", "--port", str(port)])
    assert result.exit_code == 1 and f"--port {port}" in result.output and ran == []
    result = CliRunner().invoke(cli.app, ["explore", "--port", str(port)])
    assert result.exit_code == 0, result.output
    assert ran == [explore.serve_command(db, explore.metadata_path(db), "127.0.0.1", port)]


def test_stopping_explore_by_its_pid_stops_datasette(built, tmp_path):
    settings, db = built
    port = free_port()
    log = tmp_path / "explore.log"
    env = os.environ | {"ICE287G_BUILD_DIR": str(settings.build_dir)}  # the release: this checkout's
    command = [sys.executable, "-c", "from ice287g.cli import app; app()", "explore", "--port", str(port)]
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out, env=env)
    try:
        wait_until_serving(process, f"{explore.url('127.0.0.1', port, db)}.json", log)
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        get(f"http://127.0.0.1:{port}/")  # nothing serves the port any more


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode("utf-8")


def wait_until_serving(server: subprocess.Popen, url: str, log, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"datasette exited with {server.returncode}: {log.read_text()}")
        try:
            if get(url)[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.25)
    pytest.fail(f"datasette did not answer {url} within {seconds} s: {log.read_text()}")


def facet_counts(payload: dict, column: str) -> dict[str, int]:
    facet = payload["facet_results"][column]
    assert not facet["truncated"], column
    return {result["value"]: result["count"] for result in facet["results"]}


def test_datasette_serves_the_tables_with_descriptions_and_facets(built, tmp_path):
    _, db = built
    port = free_port()
    base = explore.url("127.0.0.1", port, db)
    log = tmp_path / "datasette.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            explore.serve_command(db, explore.metadata_path(db), "127.0.0.1", port), stdout=out, stderr=out
        )
    try:
        wait_until_serving(server, f"{base}.json", log)
        agreements = csv_frame("agreements")

        status, page = get(f"{base}/agreements")
        assert status == 200
        assert RESOURCES["agreements"]["description"] in html.unescape(page)
        assert "CC0-1.0" in page and ICE_PAGE in page

        _, text = get(f"{base}/agreements.json?_facet=status&_facet=support_model&_size=0")
        payload = json.loads(text)
        assert payload["filtered_table_rows_count"] == len(agreements)
        assert facet_counts(payload, "status") == agreements["status"].value_counts().to_dict()
        assert facet_counts(payload, "support_model") == agreements["support_model"].value_counts().to_dict()

        _, text = get(f"{base}/agreements.json?status=active&_facet=support_model&_size=0")
        active = agreements[agreements["status"] == "active"]
        payload = json.loads(text)
        assert payload["filtered_table_rows_count"] == len(active) > 0
        assert facet_counts(payload, "support_model") == active["support_model"].value_counts().to_dict()

        # agreements by the state of their agency
        _, text = get(f"{base}/agreements.json?_facet=state_code&_size=0&_facet_size=max")
        states = agreements["agency_id"].map(csv_frame("agencies").set_index("agency_id")["state_code"])
        assert facet_counts(json.loads(text), "state_code") == states.value_counts().to_dict()
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
