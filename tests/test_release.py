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
from conftest import REPO

from ice287g.errors import InputError
from ice287g.release import (
    RELEASE_PATHS,
    changelog_section,
    release,
    repository_url,
    version_date,
    write_citation,
)

BIN = Path(sys.executable).parent
IDENTITY = ("-c", "user.name=Test Maintainer", "-c", "user.email=maintainer@example.org")


def git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(root), *IDENTITY, *args], capture_output=True, text=True, check=True)
    return result.stdout


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
    (root / "sources").mkdir()
    (root / "sources" / "snapshots.csv").write_text("file_sha256\n")
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "initial")
    (root / "notes.txt").write_text("work in progress, not part of any release\n")
    return root


def fake_build(root: Path, version: str = "2030.1.2", rows: str = "id\n1\n"):
    """A build step that writes the committed release as `ice287g build` would."""

    def step():
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
    (repo / "README.md").write_text("# changed by someone else\n")
    git(repo, "add", "README.md")
    (repo / "sources" / "snapshots.csv").write_text("file_sha256\nabc\n")  # acquire registered a file
    release(repo, build_step=fake_build(repo), say=lambda m: None)
    assert "sources/snapshots.csv" in committed_files(repo)
    assert "README.md" not in committed_files(repo)
    assert git(repo, "diff", "--cached", "--name-only").split() == ["README.md"]


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
    assert not (repo / "CITATION.cff").exists()


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


def test_citation_files_are_deterministic_and_valid(tmp_path):
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    assert len(write_citation(tmp_path, "2026.3.27.1", "2026-03-27")) == 2
    first = {name: (tmp_path / name).read_bytes() for name in ("CITATION.cff", ".zenodo.json")}
    assert write_citation(tmp_path, "2026.3.27.1", dt.date(2026, 3, 27)) == []
    assert first == {name: (tmp_path / name).read_bytes() for name in first}
    # the committed files are what the current release writes
    for name, text in first.items():
        assert (REPO / name).read_bytes() == text, f"{name} is not what write_citation writes for 2026.3.27.1"

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


def test_the_cli_command_acquires_unless_offline_and_builds_through_the_build_command(repo, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from ice287g import cli

    monkeypatch.setenv("ICE287G_ROOT", str(repo))
    monkeypatch.setenv("ICE287G_DIST_DIR", str(tmp_path / "dist"))
    monkeypatch.setenv("ICE287G_OFFLINE", "0")  # restored after the test, whatever --offline sets
    calls = []
    monkeypatch.setattr(cli, "acquire", lambda: calls.append("acquire"))
    monkeypatch.setattr(cli, "fetch", lambda mirror, store: calls.append("fetch"))
    monkeypatch.setattr(cli, "build", lambda mirror, store: (calls.append("build"), fake_build(repo)()))

    result = CliRunner().invoke(cli.app, ["release"])
    assert result.exit_code == 0, result.output
    assert calls == ["fetch", "acquire", "build"]  # the store holds the last lists before acquire compares
    assert git(repo, "tag", "--list").split() == ["v2030.1.2"]
    assert (tmp_path / "dist" / "ice287g-2030.1.2.notes.md").exists()

    calls.clear()
    result = CliRunner().invoke(cli.app, ["release", "--offline"])
    assert result.exit_code == 0, result.output
    assert calls == ["build"]
    assert git(repo, "tag", "--list").split() == ["v2030.1.2"]
