"""A freeze governs merging, not committing: change policies (release windows, change
tickets, ...) do not judge ``gate diff --staged`` or ``--worktree`` unless the config
asks for it, and every report format says which of them were not judged, and why."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gate.governance.localchange import SETTING, held_for_merge
from gate.results import FAIL, LOCAL_CHANGE, PASS
from tests.conftest import RunGate
from tests.gitrepo import GitRepo
from tests.manifests import POD_LATEST
from tests.report_factory import make_change_result, make_evidence, make_policy
from tests.test_governance_cli import FREEZE, FROZEN, REPORT_SCHEMA, make_repo, set_tag

TICKETS = "policies:\n  change-ticket: {enabled: true}\n"
FORMATS = ("json", "markdown", "junit", "sarif")


def local_diff(run: RunGate, repo: GitRepo, *args: str) -> tuple[Any, dict[str, str]]:
    """``gate diff ARGS`` at a frozen instant: the text report on stdout, and every other
    format written to a file (returned by format name)."""
    out = repo.path.parent / "reports"
    out.mkdir(exist_ok=True)
    formats = [arg for name in FORMATS for arg in ("-f", f"{name}={out / name}")]
    proc = run("diff", *args, "--kustomize", "builtin", "--now", FROZEN, "-f", "text",
               *formats, cwd=repo.path, env={"NO_COLOR": "1"})
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    reports = {name: (out / name).read_text(encoding="utf-8") for name in FORMATS}
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(json.loads(reports["json"]))
    return proc, reports


def held(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [u for u in report["unjudged"] if u["category"] == LOCAL_CHANGE]


def change_results(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in report["results"] if r["resource"]["kind"] == "Change"]


def prod_bump_staged(tmp_path: Path, config: str) -> GitRepo:
    """A repository with ``config``, and a staged change to prod on a feature branch."""
    repo = make_repo(tmp_path, config)
    repo.git("switch", "-q", "-c", "feature/prod-bump")
    set_tag(repo, "prod", "1.0.1")
    repo.git("add", "-A")
    return repo


# -- not judged locally, and said so in every format -----------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("mode", ["--staged", "--worktree"])
def test_a_freeze_does_not_refuse_a_local_change_and_every_report_says_so(
    tmp_path: Path, gate_cli: RunGate, mode: str
) -> None:
    repo = make_repo(tmp_path, FREEZE)
    set_tag(repo, "prod", "1.0.1")
    if mode == "--staged":
        repo.git("add", "-A")
    proc, reports = local_diff(gate_cli, repo, mode)
    assert proc.returncode == 0, proc.stdout
    report = json.loads(reports["json"])
    assert report["change"]["environments"] == ["prod"]
    assert change_results(report) == []
    [item] = held(report)
    assert item["what"] == "change policy release-window"
    assert item["file"] == ".gate.yaml"  # where the setting that changes it lives
    assert "governs merging, not committing" in item["reason"]
    assert "(prod)" in item["reason"]
    assert f"'{SETTING}: true' in .gate.yaml" in item["reason"]
    assert f"gate diff {mode}" in item["reason"]
    assert report["summary"]["unjudged"] == 1
    # The terminal, and each report format, in the way it lists what was not judged.
    assert (".gate.yaml: not judged: change policy release-window not applied locally: "
            "it governs merging") in proc.stdout
    assert "1 not judged" in proc.stdout
    assert "| change policy release-window | .gate.yaml | not applied locally: " \
        in reports["markdown"]
    suite = ElementTree.fromstring(reports["junit"]).find("testsuite[@name='gate.unjudged']")
    assert suite is not None
    [case] = suite.findall("testcase")
    assert case.get("name") == "change policy release-window .gate.yaml"
    skipped = case.find("skipped")
    assert skipped is not None and SETTING in (skipped.get("message") or "")
    [run] = json.loads(reports["sarif"])["runs"]
    # Beside the note on existing findings gate diff counts but does not list.
    [notice] = [notice for notice in run["invocations"][0]["toolExecutionNotifications"]
                if notice.get("properties", {}).get("category") == LOCAL_CHANGE]
    assert notice["level"] == "warning"
    assert notice["properties"] == {"what": item["what"], "category": LOCAL_CHANGE,
                                    "reason": item["reason"]}


@pytest.mark.e2e
def test_the_same_change_is_judged_when_it_merges(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = prod_bump_staged(tmp_path, FREEZE)
    repo.commit("bump prod")
    proc, reports = local_diff(gate_cli, repo, "--base", "base")
    assert proc.returncode == 1, proc.stdout
    report = json.loads(reports["json"])
    [failure] = change_results(report)
    assert (failure["policy"], failure["status"]) == ("release-window", "fail")
    assert held(report) == []


@pytest.mark.e2e
def test_the_config_can_ask_for_change_policies_on_local_changes(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    repo = prod_bump_staged(tmp_path, FREEZE + f"{SETTING}: true\n")
    proc, reports = local_diff(gate_cli, repo, "--staged")
    assert proc.returncode == 1, proc.stdout
    report = json.loads(reports["json"])
    [failure] = change_results(report)
    assert (failure["policy"], failure["status"]) == ("release-window", "fail")
    assert "freeze 'year-end' is in effect" in failure["message"]
    assert held(report) == []
    assert "not judged" not in proc.stdout


@pytest.mark.e2e
def test_every_change_policy_that_applies_is_listed_and_resource_findings_still_block(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    repo = prod_bump_staged(tmp_path, FREEZE + TICKETS)
    repo.write("base/pod.yaml", POD_LATEST)  # a finding the change adds, in every overlay
    repo.replace("base/kustomization.yaml", "- deployment.yaml", "- deployment.yaml\n  - pod.yaml")
    repo.git("add", "-A")
    proc, reports = local_diff(gate_cli, repo, "--staged")
    assert proc.returncode == 1, proc.stdout
    report = json.loads(reports["json"])
    blocking = {(r["policy"], r["resource"]["environment"]) for r in report["results"]
                if r["status"] == "fail"}
    assert ("no-latest-tag", "prod") in blocking
    assert change_results(report) == []
    assert [(u["what"], u["file"]) for u in held(report)] == [
        ("change policy change-ticket", ".gate.yaml"),
        ("change policy release-window", ".gate.yaml"),
    ]
    # change-ticket applies to prod (and where gate cannot tell, unknown) only; the
    # freeze to prod only: the reasons name where each would have judged.
    reasons = {u["what"]: u["reason"] for u in held(report)}
    assert "(prod)" in reasons["change policy release-window"]
    assert "prod" in reasons["change policy change-ticket"]
    assert "dev" not in reasons["change policy change-ticket"]
    assert report["audit"]["evidence"] == []  # nothing was judged, so nothing recorded


@pytest.mark.e2e
def test_a_change_no_change_policy_applies_to_lists_nothing(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    repo = make_repo(tmp_path, FREEZE)  # the freeze names prod only
    set_tag(repo, "dev", "1.0.1")
    repo.git("add", "-A")
    proc, reports = local_diff(gate_cli, repo, "--staged")
    assert proc.returncode == 0, proc.stdout
    report = json.loads(reports["json"])
    assert report["change"]["environments"] == ["dev"]
    assert held(report) == [] and report["unjudged"] == []
    assert "not judged" not in proc.stdout


@pytest.mark.e2e
@pytest.mark.parametrize("value", ["yes please", "1", "[true]"])
def test_the_setting_is_a_boolean(tmp_path: Path, run_gate: RunGate, value: str) -> None:
    repo = make_repo(tmp_path, FREEZE + f"{SETTING}: {value}\n")
    proc = run_gate("diff", "--staged", cwd=repo.path)
    assert proc.returncode == 2
    [line] = proc.stderr.splitlines()
    assert line.startswith(".gate.yaml:") and SETTING in line, line
    assert "Traceback" not in proc.stderr


def test_held_for_merge_keeps_a_merge_and_lists_each_policy_once_for_a_local_change(
) -> None:
    window = make_policy("release-window", target="change")
    ticket = make_policy("change-ticket", target="change")
    results = [make_change_result(window, "prod", status=FAIL),
               make_change_result(window, "", status=PASS),
               make_change_result(ticket, "prod", status=FAIL)]
    evidence = [make_evidence()]
    assert held_for_merge("commits", False, ".gate.yaml", results, evidence) == (
        results, evidence, [])
    assert held_for_merge("staged", True, ".gate.yaml", results, evidence) == (
        results, evidence, [])
    kept, recorded, unjudged = held_for_merge("worktree", False, None, results, evidence)
    assert (kept, recorded) == ([], [])
    assert [(u.file, u.what, u.category) for u in unjudged] == [
        ("", "change policy change-ticket", LOCAL_CHANGE),
        ("", "change policy release-window", LOCAL_CHANGE),
    ]
    assert "(no environment, prod)" in unjudged[1].reason
    assert "gate diff --worktree" in unjudged[1].reason
