"""`ice287g release`: commit and tag exactly the release paths in a throwaway git repository;
the citation files; the GitHub workflows."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, git

from ice287g.consume.versions import version_date
from ice287g.errors import InputError
from ice287g.publish.release import (
    RELEASE_PATHS,
    changelog_section,
    release,
    repository_url,
    write_citation,
)
from ice287g.sources.registry import FIELDS

BIN = Path(sys.executable).parent


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """A git repository with a pyproject.toml, a source file and a stray untracked file."""
    for var, value in {
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Release Bot",
        "GIT_AUTHOR_EMAIL": "bot@example.org",
        "GIT_COMMITTER_NAME": "Release Bot",
        "GIT_COMMITTER_EMAIL": "bot@example.org",
    }.items():
        monkeypatch.setenv(var, value)
    root = tmp_path / "checkout"
    root.mkdir()
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    (root / "README.md").write_text("# test\n")
    (root / ".gitignore").write_text("build/\n")  # as the project's: the lock and work folders
    (root / "sources").mkdir()
    (root / "sources" / "snapshots.csv").write_text(",".join(FIELDS) + "\n")
    # what registering a list reads: the known layouts and the reviewed date fixes
    shutil.copy(REPO / "sources" / "layouts.csv", root / "sources" / "layouts.csv")
    (root / "seeds").mkdir()
    shutil.copy(REPO / "seeds" / "fix_snapshot_dates.csv", root / "seeds" / "fix_snapshot_dates.csv")
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "initial")
    (root / "notes.txt").write_text("work in progress, not part of any release\n")
    return root


def fake_build(root: Path, version: str = "2030.1.2", rows: str = "id\n1\n"):
    """A build step that writes the committed release, and the citation files that follow it, as
    `ice287g build` would."""

    def step():
        write_citation(root, version, version_date(version), repository_url(root))
        (root / "data").mkdir(exist_ok=True)
        (root / "data" / "x.csv").write_text(rows)
        descriptor = {"name": "ice287g", "version": version, "resources": [{"name": "x", "path": "data/x.csv"}]}
        (root / "datapackage.json").write_text(json.dumps(descriptor, indent=2) + "\n")
        (root / "releases.csv").write_text(f"version\n{version}\n")
        (root / "CHANGELOG.md").write_text(
            f"# Changelog\n\n## ice287g {version}\n\n- x: {rows.count(chr(10)) - 1} rows\n"
        )

    return step


def committed_files(root: Path, rev: str = "HEAD") -> list[str]:
    return sorted(git(root, "diff-tree", "--no-commit-id", "--name-only", "-r", rev).split())


def test_release_commits_exactly_the_release_paths_and_tags(repo, tmp_path):
    calls = []
    result = release(
        repo,
        build_step=fake_build(repo),
        acquire_step=lambda: calls.append("acquire"),
        notes_dir=tmp_path / "dist",
        say=lambda m: None,
    )
    assert calls == ["acquire"]
    assert result.released and result.version == "2030.1.2" and result.tag == "v2030.1.2"
    assert committed_files(repo) == [
        ".zenodo.json",
        "CHANGELOG.md",
        "CITATION.cff",
        "data/x.csv",
        "datapackage.json",
        "releases.csv",
    ]
    assert git(repo, "log", "-1", "--format=%s").strip() == "Release ice287g 2030.1.2"
    assert (
        git(repo, "rev-parse", "v2030.1.2^{commit}").strip() == result.commit == git(repo, "rev-parse", "HEAD").strip()
    )
    assert git(repo, "cat-file", "-t", "v2030.1.2").strip() == "tag"  # annotated
    # the stray file is left alone, untracked
    assert git(repo, "status", "--porcelain").strip() == "?? notes.txt"
    citation = yaml.safe_load((repo / "CITATION.cff").read_text())
    assert citation["version"] == "2030.1.2" and citation["date-released"] == "2030-01-02"
    assert json.loads((repo / ".zenodo.json").read_text())["version"] == "2030.1.2"
    assert result.notes == tmp_path / "dist" / "ice287g-2030.1.2.notes.md"
    assert result.notes.read_text() == "## ice287g 2030.1.2\n\n- x: 1 rows\n"


def test_release_with_nothing_changed_makes_no_commit(repo):
    release(repo, build_step=fake_build(repo), say=lambda m: None)
    head = git(repo, "rev-parse", "HEAD")
    said = []
    result = release(repo, build_step=fake_build(repo), say=said.append)
    assert not result.released and result.tag is None
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "tag", "--list").split() == ["v2030.1.2"]
    assert "nothing changed: no release" in said


def test_release_commits_only_its_paths_when_other_changes_are_staged(repo):
    (repo / "pyproject.toml").write_text((repo / "pyproject.toml").read_text() + "# changed by someone else\n")
    git(repo, "add", "pyproject.toml")
    (repo / "sources" / "snapshots.csv").write_text("file_sha256\nabc\n")  # acquire registered a file
    release(repo, build_step=fake_build(repo), say=lambda m: None)
    assert "sources/snapshots.csv" in committed_files(repo)
    assert "pyproject.toml" not in committed_files(repo)
    assert git(repo, "diff", "--cached", "--name-only").split() == ["pyproject.toml"]


def test_a_second_release_gets_its_own_commit_and_tag(repo):
    release(repo, build_step=fake_build(repo), say=lambda m: None)
    release(repo, build_step=fake_build(repo, "2030.1.9", "id\n1\n2\n"), say=lambda m: None)
    assert git(repo, "tag", "--list").split() == ["v2030.1.2", "v2030.1.9"]
    assert yaml.safe_load((repo / "CITATION.cff").read_text())["date-released"] == "2030-01-09"
    assert git(repo, "status", "--porcelain").strip() == "?? notes.txt"


def test_an_existing_tag_is_refused(repo):
    git(repo, "tag", "v2030.1.2")
    head = git(repo, "rev-parse", "HEAD")
    with pytest.raises(InputError, match=r"v2030\.1\.2"):
        release(repo, build_step=fake_build(repo), say=lambda m: None)
    assert git(repo, "rev-parse", "HEAD") == head


def test_a_failed_build_releases_nothing(repo):
    def broken():
        (repo / "data").mkdir()
        (repo / "data" / "x.csv").write_text("half\n")
        raise InputError("data/x.csv", "the build failed")

    head = git(repo, "rev-parse", "HEAD")
    with pytest.raises(InputError, match="the build failed"):
        release(repo, build_step=broken, say=lambda m: None)
    assert git(repo, "rev-parse", "HEAD") == head and not git(repo, "tag", "--list").strip()


def test_not_a_git_repository_is_an_error(tmp_path):
    with pytest.raises(InputError, match="git"):
        release(tmp_path, build_step=lambda: None, say=lambda m: None)


def test_citation_files_are_deterministic_valid_and_follow_the_release(tmp_path):
    version = json.loads((REPO / "datapackage.json").read_text())["version"]
    url = repository_url(REPO)
    assert len(write_citation(tmp_path, version, version_date(version).isoformat(), url)) == 2
    first = {name: (tmp_path / name).read_bytes() for name in ("CITATION.cff", ".zenodo.json")}
    assert write_citation(tmp_path, version, version_date(version), url) == []
    assert first == {name: (tmp_path / name).read_bytes() for name in first}
    # the committed files are what the committed release writes: they lag behind no release
    for name, text in first.items():
        assert (REPO / name).read_bytes() == text, f"{name} is not what the release {version} writes"

    citation = yaml.safe_load(first["CITATION.cff"])
    assert citation["cff-version"] == "1.2.0" and citation["type"] == "dataset"
    assert citation["license"] == "CC0-1.0"
    assert citation["repository-code"] == repository_url() == "https://github.com/ice287g/ice287g"
    assert citation["authors"] == [{"name": "ice287g maintainers"}]
    zenodo = json.loads(first[".zenodo.json"])
    assert zenodo["upload_type"] == "dataset" and zenodo["license"] == "cc-zero"
    assert zenodo["related_identifiers"][0]["identifier"] == repository_url()

    result = subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.citation-file-format",
            str(tmp_path / "CITATION.cff"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_repository_url_comes_from_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[project.urls]\nRepository = "https://example.org/r/"\n'
    )
    assert repository_url(tmp_path) == "https://example.org/r"
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(InputError, match="project.urls"):
        repository_url(tmp_path)


def test_version_date_and_changelog_section():
    assert version_date("2026.3.27.1") == dt.date(2026, 3, 27)
    assert version_date("2030.1.2") == dt.date(2030, 1, 2)
    with pytest.raises(InputError):
        version_date("latest")
    changelog = "# Changelog\n\n## ice287g 2026.3.27.1\n\nnew method\n\n## ice287g 2026.3.27\n\nfirst\n"
    assert changelog_section(changelog, "2026.3.27") == "## ice287g 2026.3.27\n\nfirst\n"
    assert changelog_section(changelog, "2026.3.27.1") == "## ice287g 2026.3.27.1\n\nnew method\n"
    assert changelog_section(changelog, "2026.3.2") is None


def load_workflow(name: str) -> dict:
    return yaml.safe_load((REPO / ".github" / "workflows" / name).read_text())


def workflow_steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_workflows_parse_and_run_the_project_entry_points():
    ci = load_workflow("ci.yml")
    on = ci.get("on", ci.get(True))  # YAML 1.1 reads the key `on` as true
    assert set(on) == {"push", "pull_request"}
    assert any(step.get("run", "").strip() == "bash .ci/run" for step in workflow_steps(ci))

    rel = load_workflow("release.yml")
    on = rel.get("on", rel.get(True))
    assert set(on) == {"schedule", "workflow_dispatch"}
    assert any("make release" in step.get("run", "") for step in workflow_steps(rel))
    assert rel["permissions"] == {}
    assert rel["jobs"]["pypi"]["permissions"] == {"id-token": "write"}
    assert "id-token" not in rel["jobs"]["release"]["permissions"]


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_workflow_actions_are_pinned_to_commits(name):
    text = (REPO / ".github" / "workflows" / name).read_text()
    uses = [
        line.split("uses:", 1)[1].strip() for line in text.splitlines() if line.strip().startswith(("uses:", "- uses:"))
    ]
    assert uses
    for ref in uses:
        action, _, rest = ref.partition("@")
        sha, _, comment = rest.partition(" # ")
        assert len(sha) == 40 and all(c in "0123456789abcdef" for c in sha), ref
        assert comment.startswith("v"), f"{action}: no version comment"


def test_release_paths_cover_what_the_build_commits():
    assert {"data", "docs", "datapackage.json", "releases.csv", "CHANGELOG.md", "CITATION.cff", ".zenodo.json"} <= set(
        RELEASE_PATHS
    )


@pytest.fixture
def cli_release(repo, tmp_path, monkeypatch):
    """Run `ice287g release` in ``repo`` with a fake build (the build step is tested on its own);
    returns (run(args) -> (exit code, output), the calls the build received)."""
    from typer.testing import CliRunner

    import ice287g.pipeline.build
    from ice287g import cli

    monkeypatch.setenv("ICE287G_ROOT", str(repo))
    monkeypatch.setenv("ICE287G_DIST_DIR", str(tmp_path / "dist"))
    monkeypatch.setenv("ICE287G_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("ICE287G_MIRROR", str(tmp_path / "mirror"))
    monkeypatch.setenv("ICE287G_OFFLINE", "0")  # restored after the test, whatever --offline sets
    builds = []

    def build_release(settings, say=print, reuse=True):
        builds.append(settings.root)
        fake_build(repo, rows=settings.registry.read_text())()
        return None, []

    monkeypatch.setattr(ice287g.pipeline.build, "build_release", build_release)

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli.app, ["release", *args])
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    return run, builds


def _workbook(folder: Path, name: str, day: dt.date) -> bytes:
    from conftest import participating_rows, write_workbook

    return write_workbook(folder / name, participating_rows(3, day)).read_bytes()


def test_the_cli_release_acquires_from_the_page_builds_and_commits(repo, cli_release, http_folder):
    run, builds = cli_release
    folder, base = http_folder
    _workbook(folder, "participatingAgencies03022026am.xlsx", dt.date(2026, 3, 1))
    (folder / "287g.html").write_text('<a href="participatingAgencies03022026am.xlsx">Participating</a>')
    code, output = run("--page-url", f"{base}/287g.html")
    assert code == 0, output
    assert "participatingAgencies03022026am.xlsx: added" in output and "released ice287g 2030.1.2" in output
    assert builds == [repo]
    assert "sources/snapshots.csv" in committed_files(repo)  # the registered list is part of the release
    assert git(repo, "status", "--porcelain").strip() == "?? notes.txt"

    head = git(repo, "rev-parse", "HEAD")
    code, output = run("--page-url", f"{base}/287g.html")
    assert code == 0, output
    assert "already registered" in output and "nothing changed: no release" in output
    assert git(repo, "rev-parse", "HEAD") == head

    code, output = run("--offline")
    assert code == 0 and "acquiring" not in output and len(builds) == 3


def _no_links(folder: Path) -> str:
    (folder / "287g.html").write_text('<a href="/doclib/other.pdf">a PDF</a>')
    return "the page links to no participating or pending .xlsx workbook"


def _half_written(folder: Path) -> str:
    data = _workbook(folder, "participatingAgencies03022026am.xlsx", dt.date(2026, 3, 1))
    (folder / "participatingAgencies03022026am.xlsx").write_bytes(data[: len(data) // 2])
    (folder / "287g.html").write_text('<a href="participatingAgencies03022026am.xlsx">x</a>')
    return "participatingAgencies03022026am.xlsx"


def _undated(folder: Path) -> str:
    _workbook(folder, "participatingAgencies.xlsx", dt.date(2026, 3, 1))
    _workbook(folder, "pendingAgencies_latest.xlsx", dt.date(2026, 3, 1))
    (folder / "287g.html").write_text('<a href="participatingAgencies.xlsx">x</a>')
    return "participatingAgencies.xlsx: its name carries no date"


def _twins(folder: Path) -> str:
    for sub, day in (("a", dt.date(2026, 3, 1)), ("b", dt.date(2026, 3, 2))):
        _workbook(folder / sub, "participatingAgencies03022026am.xlsx", day)
    (folder / "287g.html").write_text(
        '<a href="a/participatingAgencies03022026am.xlsx">x</a><a href="b/participatingAgencies03022026am.xlsx">y</a>'
    )
    return "the page links 2 different files of this name"


def _one_bad_among_good(folder: Path) -> str:
    _workbook(folder, "participatingAgencies03022026am.xlsx", dt.date(2026, 3, 1))
    (folder / "pendingAgencies03022026am.xlsx").write_text("<html>Service unavailable</html>")
    (folder / "287g.html").write_text(
        '<a href="participatingAgencies03022026am.xlsx">x</a><a href="pendingAgencies03022026am.xlsx">y</a>'
    )
    return "pendingAgencies03022026am.xlsx"


@pytest.mark.parametrize("page", [_no_links, _half_written, _undated, _twins, _one_bad_among_good])
def test_bad_input_on_the_daily_path_releases_nothing_and_changes_nothing(repo, cli_release, http_folder, page):
    run, builds = cli_release
    folder, base = http_folder
    named = page(folder)
    head, registry = git(repo, "rev-parse", "HEAD"), (repo / "sources" / "snapshots.csv").read_bytes()
    code, output = run("--page-url", f"{base}/287g.html")
    assert code == 1, output
    assert "error:" in output and named in output
    # nothing registered, nothing built, nothing committed: the checkout is as it was
    assert builds == []
    assert (repo / "sources" / "snapshots.csv").read_bytes() == registry
    assert git(repo, "rev-parse", "HEAD") == head and not git(repo, "tag", "--list").strip()
    assert git(repo, "status", "--porcelain").strip() == "?? notes.txt"


def test_a_release_stopped_between_its_commit_and_its_tag_is_finished_by_the_next(repo, tmp_path, monkeypatch):
    import ice287g.publish.release as release_module

    def killed(*_args, **_kwargs):
        raise KeyboardInterrupt  # the run stops after its commit, before the tag

    with monkeypatch.context() as patch:
        patch.setattr(release_module, "_tag", killed)
        with pytest.raises(KeyboardInterrupt):
            release(repo, build_step=fake_build(repo), say=lambda m: None)
    assert git(repo, "log", "-1", "--format=%s").strip() == "Release ice287g 2030.1.2"
    assert git(repo, "tag", "--list").split() == []

    said = []
    result = release(repo, build_step=fake_build(repo), notes_dir=tmp_path / "dist", say=said.append)
    assert result.released and result.tag == "v2030.1.2"
    assert git(repo, "rev-parse", "v2030.1.2^{commit}").strip() == git(repo, "rev-parse", "HEAD").strip()
    assert "finished the release of ice287g 2030.1.2" in " ".join(said)
    assert (tmp_path / "dist" / "ice287g-2030.1.2.notes.md").exists()
    # and once finished, a run with nothing new is a run with nothing new
    again = []
    assert not release(repo, build_step=fake_build(repo), say=again.append).released
    assert "nothing changed: no release" in again
