"""``gate diff`` on a repository with debt: the existing findings a change did not add are
counted per policy, in every report format, and listed only with ``--show-existing``.

Real git repositories in tmp folders; the CLI in process (``gate_cli``).
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
from tests.test_reports_junit import JUNIT_XSD, without_file_and_line
from tests.test_reports_sarif import validate as validate_sarif

pytestmark = pytest.mark.e2e  # every test here starts git or the CLI

NOW = "2026-01-10T12:00:00Z"
REPORT_SCHEMA = jsonschema.Draft202012Validator(load_schema("report.schema.json"))
FORMATS = ("json", "junit", "markdown", "sarif")
EXISTING = {"image-digest": 2, "no-latest-tag": 2}


def validate_junit(path: Path) -> None:
    """Against the Jenkins xUnit schema, when the shared folder has it (apart from the
    testcases' file and line, which GitLab reads and the schema does not know)."""
    if JUNIT_XSD.is_file():
        import xmlschema

        xml = ET.tostring(without_file_and_line(path.read_text(encoding="utf-8")))
        xmlschema.XMLSchema(str(JUNIT_XSD)).validate(xml.decode("utf-8"))


def pod(name: str) -> str:
    """no-latest-tag blocks at line 10, image-digest warns there; nothing else."""
    return POD_LATEST.replace("name: web", f"name: {name}")


@pytest.fixture
def indebted(tmp_path: Path) -> GitRepo:
    """Two pods with debt at the base; the change touches both and adds a third."""
    repo = GitRepo.init(tmp_path / "repo")
    repo.write_all({"apps/a.yaml": pod("a"), "apps/b.yaml": pod("b")})
    repo.commit("debt")
    for name in ("a", "b"):
        repo.write(f"apps/{name}.yaml", f"# owned by team {name}\n" + pod(name))
    repo.write("apps/new.yaml", pod("new"))
    repo.commit("owners, and a new pod")
    return repo


def diff(gate_cli: RunGate, repo: GitRepo, out: Path, *args: str) -> tuple[Any, dict[str, Path]]:
    out.mkdir(exist_ok=True)
    files = {fmt: out / fmt for fmt in FORMATS}
    done = gate_cli("diff", "--base", "HEAD~1", "--now", NOW, *args, "-f", "text",
                    *(f"-f{fmt}={path}" for fmt, path in files.items()), cwd=repo.path)
    assert "Traceback" not in done.stderr
    REPORT_SCHEMA.validate(json.loads(files["json"].read_text(encoding="utf-8")))
    return done, files


def listed(report: dict[str, Any]) -> list[tuple[str, str, bool, str]]:
    return sorted((r["resource"]["name"], r["policy"], r["new"], r["status"])
                  for r in report["results"] if r["status"] in ("fail", "warn"))


def test_existing_findings_are_counted_per_policy_in_every_format(
        gate_cli: RunGate, indebted: GitRepo, tmp_path: Path) -> None:
    done, files = diff(gate_cli, indebted, tmp_path / "out")
    assert done.returncode == 1  # the new pod's :latest blocks

    report = json.loads(files["json"].read_text(encoding="utf-8"))
    assert listed(report) == [("new", "image-digest", True, "warn"),
                              ("new", "no-latest-tag", True, "fail")]
    assert report["change"]["existing"] == EXISTING
    assert report["change"]["existing_listed"] is False

    text = done.stdout.splitlines()
    start = text.index("note: 4 existing finding(s) the change did not add are not listed "
                       "(--show-existing lists them):")
    assert text[start + 1:start + 3] == ["  image-digest: 2", "  no-latest-tag: 2"]
    assert "4 existing not listed" in text[-1]
    assert "apps/a.yaml" not in done.stdout and "(existing)" not in done.stdout

    markdown = files["markdown"].read_text(encoding="utf-8")
    assert "### Existing findings not listed (4)" in markdown
    assert "| image-digest | 2 |" in markdown and "| no-latest-tag | 2 |" in markdown
    assert "(existing)" not in markdown

    validate_junit(files["junit"])
    junit = ET.fromstring(files["junit"].read_bytes())
    properties = {(suite.get("name"), p.get("name")): p.get("value")
                  for suite in junit.iter("testsuite") for p in suite.iter("property")}
    assert properties[("no-latest-tag", "existing")] == (
        "2 existing finding(s) not listed; gate diff --show-existing lists them")
    assert ("probes", "existing") not in properties

    sarif = json.loads(files["sarif"].read_text(encoding="utf-8"))
    validate_sarif(sarif)
    run = sarif["runs"][0]
    assert run["properties"]["existing"] == EXISTING
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in run["results"]} == {"apps/new.yaml"}
    [note] = [n for n in run["invocations"][0]["toolExecutionNotifications"]
              if n["level"] == "note"]
    assert note["message"]["text"].startswith("4 existing finding(s) the change did not add")


def test_show_existing_lists_them(gate_cli: RunGate, indebted: GitRepo, tmp_path: Path) -> None:
    done, files = diff(gate_cli, indebted, tmp_path / "out", "--show-existing")
    assert done.returncode == 1
    report = json.loads(files["json"].read_text(encoding="utf-8"))
    assert listed(report) == [
        ("a", "image-digest", False, "warn"), ("a", "no-latest-tag", False, "warn"),
        ("b", "image-digest", False, "warn"), ("b", "no-latest-tag", False, "warn"),
        ("new", "image-digest", True, "warn"), ("new", "no-latest-tag", True, "fail")]
    assert report["change"]["existing"] == EXISTING
    assert report["change"]["existing_listed"] is True
    assert "not listed" not in done.stdout
    assert "(existing)" in done.stdout
    assert "Existing findings not listed" not in files["markdown"].read_text(encoding="utf-8")
    assert "existing" not in json.loads(files["sarif"].read_text(
        encoding="utf-8"))["runs"][0]["properties"]


def test_a_blocking_finding_is_never_left_out(gate_cli: RunGate, indebted: GitRepo,
                                              tmp_path: Path) -> None:
    # --all: existing blocking findings block, so they are listed; existing warnings not.
    done, files = diff(gate_cli, indebted, tmp_path / "out", "--all")
    assert done.returncode == 1
    report = json.loads(files["json"].read_text(encoding="utf-8"))
    assert listed(report) == [
        ("a", "no-latest-tag", False, "fail"), ("b", "no-latest-tag", False, "fail"),
        ("new", "image-digest", True, "warn"), ("new", "no-latest-tag", True, "fail")]
    assert report["change"]["existing"] == {"image-digest": 2}


def test_a_change_with_only_debt_passes_quietly(gate_cli: RunGate, indebted: GitRepo,
                                               tmp_path: Path) -> None:
    indebted.remove("apps/new.yaml")
    indebted.commit("no new pod after all")
    out = tmp_path / "out"
    done, files = diff(gate_cli, indebted, out)  # HEAD~1..HEAD: a deletion, nothing judged
    assert json.loads(files["json"].read_text(encoding="utf-8"))["change"]["existing"] == {}
    done = gate_cli("diff", "--base", "HEAD~2", "--now", NOW, "-f", "json", cwd=indebted.path)
    assert done.returncode == 0, done.stdout
    report = json.loads(done.stdout)
    assert listed(report) == []
    assert report["change"]["existing"] == EXISTING
    assert report["verdict"] == "pass"
