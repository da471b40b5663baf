"""``exclude:`` in ``.gate.yaml``: paths no run reads, in ``gate check`` and on both sides
of ``gate diff``, each listed as not judged (category ``excluded``) in every report.

End to end through the CLI: in process (``gate_cli``) for checks, on real git
repositories in tmp folders for diffs.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gate.schema_validation import load_schema
from tests.conftest import RunGate
from tests.gitrepo import GitRepo
from tests.manifests import POD_LATEST

pytestmark = pytest.mark.e2e  # every test here starts git or the CLI

NOW = "2026-01-10T12:00:00Z"
REPORT_SCHEMA = jsonschema.Draft202012Validator(load_schema("report.schema.json"))

OVERLAY = "resources:\n  - ../../base\nnamePrefix: {env}-\n"


def pod(name: str) -> str:
    """A Pod whose only blocking finding is no-latest-tag (image-digest warns)."""
    return POD_LATEST.replace("name: web", f"name: {name}")


def json_report(done: Any) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(done.stdout)
    REPORT_SCHEMA.validate(report)
    return report


def judged(report: dict[str, Any]) -> list[str]:
    """The names of the resources that have results."""
    return sorted({r["resource"]["name"] for r in report["results"]})


def excluded(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(u["file"], u["what"], u["reason"]) for u in report["unjudged"]
            if u["category"] == "excluded"]


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """Vendored and test manifests beside the real ones, all with a blocking finding."""
    made = GitRepo.init(tmp_path / "repo")
    made.write_all({
        "apps/web.yaml": pod("web"),
        "apps/web-test.yaml": pod("web-test"),
        "vendor/chart-a/pod.yaml": pod("vendored-a"),
        "vendor/b.yaml": pod("vendored-b"),
        ".gate.yaml": 'exclude:\n  - vendor/**\n  - "**/*-test.yaml"\n',
    })
    return made


# -- the config ------------------------------------------------------------------------------


@pytest.mark.parametrize(("config", "expected"), [
    pytest.param("exclude: vendor/**\n", ".gate.yaml:1: error: exclude: 'vendor/**' is not of "
                 "type 'array'", id="not-a-list"),
    pytest.param("exclude:\n  - apps\n  - /vendor/**\n",
                 ".gate.yaml:3: error: exclude[1]: '/vendor/**': paths are relative to the "
                 "repository root; drop the leading '/'", id="absolute"),
    pytest.param("exclude:\n  - ../elsewhere\n",
                 ".gate.yaml:2: error: exclude[0]: '../elsewhere' leaves the repository",
                 id="outside"),
    pytest.param("exclude:\n  - apps/[a-\n", ".gate.yaml:2: error: exclude[0]: 'apps/[a-' has "
                 "an unclosed '['", id="unclosed"),
    pytest.param("exclude:\n  - '**'\n", ".gate.yaml:2: error: exclude[0]: '**' names the "
                 "whole repository; gate would judge nothing", id="everything"),
    pytest.param("exclude:\n  - ''\n", ".gate.yaml:2: error: exclude[0]: ''", id="empty"),
])
def test_a_bad_exclude_is_a_one_line_error_naming_its_line(
        gate_cli: RunGate, repo: GitRepo, config: str, expected: str) -> None:
    repo.write(".gate.yaml", config)
    done = gate_cli("check", ".", cwd=repo.path)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(expected), line


# -- gate check ----------------------------------------------------------------------------


def test_check_leaves_out_excluded_paths_and_lists_them_as_not_judged(
        gate_cli: RunGate, repo: GitRepo) -> None:
    plain = repo.path.parent / "plain.yaml"  # a config without exclude
    plain.write_text("fail_on: high\n", encoding="utf-8")
    before = json_report(gate_cli("check", ".", "-f", "json", "-c", plain, cwd=repo.path))
    assert judged(before) == ["vendored-a", "vendored-b", "web", "web-test"]

    done = gate_cli("check", ".", "-f", "json", "--now", NOW, cwd=repo.path)
    assert done.returncode == 1
    report = json_report(done)
    assert judged(report) == ["web"]
    # A directory a glob names whole is listed once; a file the other glob names, alone.
    assert excluded(report) == [
        ("apps/web-test.yaml", "file", "matches exclude '**/*-test.yaml' (.gate.yaml:3)"),
        ("vendor", "directory", "matches exclude 'vendor/**' (.gate.yaml:2); 2 file(s) in "
                                "it not judged"),
    ]
    assert report["summary"]["unjudged"] == 2


def test_every_format_lists_what_was_excluded(gate_cli: RunGate, repo: GitRepo,
                                              tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    done = gate_cli("check", ".", "--now", NOW, "-f", "text",
                    *(f"-f{fmt}={out / fmt}" for fmt in ("junit", "markdown", "sarif")),
                    cwd=repo.path)
    assert done.returncode == 1
    assert ("vendor: not judged: directory excluded: matches exclude 'vendor/**' (.gate.yaml:2)"
            "; 2 file(s) in it not judged") in done.stdout
    assert ("apps/web-test.yaml: not judged: file excluded: matches exclude '**/*-test.yaml' "
            "(.gate.yaml:3)") in done.stdout
    assert "2 not judged" in done.stdout.splitlines()[-1]

    junit = ET.fromstring((out / "junit").read_bytes())
    [suite] = [s for s in junit.iter("testsuite") if s.get("name") == "gate.unjudged"]
    assert sorted(c.get("name") for c in suite.iter("testcase")) == [
        "directory vendor", "file apps/web-test.yaml"]
    markdown = (out / "markdown").read_text(encoding="utf-8")
    assert "| directory | vendor | excluded: matches exclude 'vendor/\\*\\*'" in markdown
    sarif = json.loads((out / "sarif").read_text(encoding="utf-8"))
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert sorted(n["properties"]["category"] for n in notes) == ["excluded", "excluded"]


def test_a_named_file_that_is_excluded_is_not_read(gate_cli: RunGate, repo: GitRepo) -> None:
    # As the pre-commit hook names each staged file.
    done = gate_cli("check", "vendor/b.yaml", "apps/web-test.yaml", "-f", "json",
                    cwd=repo.path)
    assert done.returncode == 0, done.stdout
    report = json_report(done)
    assert report["results"] == []
    assert [u[0] for u in excluded(report)] == ["apps/web-test.yaml", "vendor/b.yaml"]


def test_an_excluded_overlay_is_not_rendered_and_its_base_is_judged_through_the_others(
        gate_cli: RunGate, tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "kustomized")
    repo.write_all({
        "base/kustomization.yaml": "resources:\n  - pod.yaml\n",
        "base/pod.yaml": pod("web"),
        "overlays/prod/kustomization.yaml": OVERLAY.format(env="prod"),
        "overlays/legacy/kustomization.yaml": OVERLAY.format(env="legacy"),
        ".gate.yaml": "exclude:\n  - overlays/legacy\n  - base/**\n",
    })
    report = json_report(gate_cli("check", ".", "-f", "json", "--kustomize", "builtin",
                                  cwd=repo.path))
    # The base is consumed: what prod renders from it is judged, whole.
    assert judged(report) == ["prod-web"]
    assert excluded(report) == [("overlays/legacy", "Kustomize overlay",
                                 "matches exclude 'overlays/legacy' (.gate.yaml:2)")]


# -- gate diff: both sides -------------------------------------------------------------------


def test_diff_does_not_judge_an_excluded_change_and_says_so(gate_cli: RunGate,
                                                            repo: GitRepo) -> None:
    repo.commit("initial")
    repo.write("vendor/c.yaml", pod("vendored-c"))  # new on the head side
    repo.remove("vendor/b.yaml")  # gone from the base side
    repo.write("apps/api.yaml", pod("api").replace("nginx:latest", "nginx:1.27.0"))
    repo.commit("vendor c, drop b, add api")
    done = gate_cli("diff", "--base", "HEAD~1", "-f", "json", "--now", NOW, cwd=repo.path)
    assert done.returncode == 0, done.stdout
    report = json_report(done)
    assert judged(report) == ["api"]
    assert report["change"]["deleted_resources"] == []  # the base side did not read b either
    assert excluded(report) == [
        ("vendor/b.yaml", "file", "matches exclude 'vendor/**' (.gate.yaml:2)"),
        ("vendor/c.yaml", "file", "matches exclude 'vendor/**' (.gate.yaml:2)")]


def test_a_change_cannot_exclude_itself_when_the_rules_come_from_the_base(
        gate_cli: RunGate, repo: GitRepo) -> None:
    repo.write(".gate.yaml", "exclude:\n  - vendor/**\n")
    repo.commit("initial")
    repo.write(".gate.yaml", "exclude:\n  - vendor/**\n  - apps/**\n")
    repo.write("apps/api.yaml", pod("api"))
    repo.commit("exclude apps, add a :latest pod")
    done = gate_cli("diff", "--base", "HEAD~1", "--now", NOW, cwd=repo.path)
    assert done.returncode == 0  # the head's own config excludes it
    done = gate_cli("diff", "--base", "HEAD~1", "--rules-from", "base", "--now", NOW,
                    cwd=repo.path)
    assert done.returncode == 1, done.stdout
    assert "apps/api.yaml:10: [no-latest-tag]" in done.stdout
