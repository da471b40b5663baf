"""``gate diff --rules-from base`` on real git repositories: the rules (config,
policies, waivers, release manifest) are those of the branch the change merges
into, at its tip; the change can neither pick older ones nor bring its own."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunGate
from tests.gitrepo import GitRepo
from tests.test_governance_cli import (
    ENVIRONMENTS,
    PROMOTION,
    RELEASE,
    WAIVERS,
    make_repo,
    results_of,
    set_tag,
)

pytestmark = pytest.mark.e2e

LATEST_OFF = "policies:\n  no-latest-tag: {enabled: false}\n"
NOW = "2026-11-02T10:00:00Z"


def fork(repo: GitRepo) -> None:
    """Start branch ``feature`` at ``main``'s tip and check it out."""
    repo.checkout("-b", "feature", "main")


def diff(run_gate: RunGate, repo: GitRepo, *args: str) -> tuple[Any, dict[str, Any]]:
    report_path = repo.path.parent / "report.json"
    proc = run_gate("diff", "--kustomize", "builtin", "--now", NOW, *args,
                    "-f", "text", "-f", f"json={report_path}", cwd=repo.path,
                    env={"NO_COLOR": "1"})
    assert "Traceback" not in proc.stderr, proc.stderr
    report: dict[str, Any] = {}
    if report_path.exists():
        report = json.loads(report_path.read_text(encoding="utf-8"))
        report_path.unlink()
    return proc, report


def test_main_tightening_a_rule_after_the_fork_judges_the_change(
    tmp_path: Path, run_gate: RunGate
) -> None:
    repo = make_repo(tmp_path, LATEST_OFF)  # no-latest-tag off when the branch forks
    fork(repo)
    set_tag(repo, "prod", "latest")
    repo.commit("prod on latest")
    repo.checkout("main")
    repo.write(".gate.yaml", ENVIRONMENTS)  # main switches the rule back on
    tip = repo.commit("tighten: no latest tags")
    repo.checkout("feature")
    # The merge-base's rules would let it pass...
    proc, report = diff(run_gate, repo, "--base", "main")
    assert proc.returncode == 0, proc.stdout
    # ...but the change merges into main as it is now.
    proc, report = diff(run_gate, repo, "--base", "main", "--rules-from", "base")
    assert proc.returncode == 1, proc.stdout
    assert results_of(report, "no-latest-tag", "fail")
    assert report["audit"]["rules_from"] == f"target main ({tip[:7]})"
    inputs = {i["name"]: i["sha256"] for i in report["audit"]["inputs"]}
    assert inputs[".gate.yaml"] == hashlib.sha256(ENVIRONMENTS.encode()).hexdigest()
    # The manifests' base side is still the merge-base: main's tightening is not a change.
    assert report["change"]["merge_base"] == repo.sha("base")


def test_the_branch_loosening_a_rule_or_waiving_its_finding_has_no_effect(
    tmp_path: Path, run_gate: RunGate
) -> None:
    repo = make_repo(tmp_path)
    fork(repo)
    set_tag(repo, "prod", "latest")
    repo.write(".gate.yaml", ENVIRONMENTS + LATEST_OFF)
    repo.write("waivers.yaml", WAIVERS.format(expires="2027-12-31"))
    repo.commit("prod on latest; the rule off and a waiver for it")
    repo.checkout("main")
    repo.write("README.md", "unrelated\n")
    tip = repo.commit("main moves on")
    repo.checkout("feature")
    proc, report = diff(run_gate, repo, "--base", "main", "--rules-from", "base")
    assert proc.returncode == 1, proc.stdout
    assert results_of(report, "no-latest-tag", "fail")
    assert report["audit"]["waivers"] == []
    assert report["audit"]["rules_from"] == f"target main ({tip[:7]})"
    assert "waivers.yaml" not in {i["name"] for i in report["audit"]["inputs"]}


def test_a_waiver_on_main_after_the_fork_applies(tmp_path: Path, run_gate: RunGate) -> None:
    repo = make_repo(tmp_path)
    fork(repo)
    set_tag(repo, "prod", "latest")
    repo.commit("prod on latest")
    repo.checkout("main")
    repo.write("waivers.yaml", WAIVERS.format(expires="2027-12-31"))
    repo.commit("approved waiver")
    repo.checkout("feature")
    proc, report = diff(run_gate, repo, "--base", "main", "--rules-from", "base")
    assert proc.returncode == 0, proc.stdout
    [waived] = results_of(report, "no-latest-tag", "waived")
    assert waived["waiver"]["source"] == "waivers.yaml:2"


RELEASE_CONFIG = PROMOTION + "release_manifest: releases/current.yaml\n"


def release_repo(tmp_path: Path) -> GitRepo:
    """main certifies web 1.3.0 and runs it in prod; ``feature`` forks there."""
    repo = make_repo(tmp_path, RELEASE_CONFIG,
                     tags={"dev": "1.3.0", "staging": "1.3.0", "prod": "1.3.0"})
    repo.write("releases/current.yaml", RELEASE.format(version="1.3.0"))
    repo.commit("release 1.3.0")
    repo.git("branch", "-f", "base")
    fork(repo)
    return repo


def test_a_change_cannot_certify_its_own_image(tmp_path: Path, run_gate: RunGate) -> None:
    repo = release_repo(tmp_path)
    repo.write("releases/current.yaml", RELEASE.format(version="1.4.0"))
    set_tag(repo, "prod", "1.4.0")
    repo.commit("certify and ship 1.4.0 in one change")
    # Read from the head, the change certifies itself.
    proc, report = diff(run_gate, repo, "--base", "main")
    assert proc.returncode == 0, proc.stdout
    proc, report = diff(run_gate, repo, "--base", "main", "--rules-from", "base")
    assert proc.returncode == 1, proc.stdout
    [failure] = results_of(report, "promotion-certified", "fail")
    assert "(web is certified at 1.3.0)" in failure["message"]
    inputs = {i["name"]: i["sha256"] for i in report["audit"]["inputs"]}
    name = "release manifest releases/current.yaml (read from target main, with the rules)"
    target = repo.git("show", "main:releases/current.yaml").encode()
    assert inputs[name] == hashlib.sha256(target).hexdigest()


def test_a_release_certified_on_main_after_the_fork_certifies(
    tmp_path: Path, run_gate: RunGate
) -> None:
    repo = release_repo(tmp_path)
    set_tag(repo, "prod", "1.4.0")
    repo.commit("ship 1.4.0")
    repo.checkout("main")
    repo.write("releases/current.yaml", RELEASE.format(version="1.4.0"))
    repo.commit("release 1.4.0")
    repo.checkout("feature")
    proc, report = diff(run_gate, repo, "--base", "main", "--rules-from", "base")
    assert proc.returncode == 0, proc.stdout
    assert {r["status"] for r in results_of(report, "promotion-certified")} == {"pass"}


def test_a_broken_release_manifest_on_the_target_is_named_as_the_target(
    tmp_path: Path, run_gate: RunGate
) -> None:
    repo = release_repo(tmp_path)
    repo.checkout("main")
    repo.write("releases/current.yaml", "services: []\n")
    repo.commit("break the release manifest")
    repo.checkout("feature")
    set_tag(repo, "prod", "1.3.1")
    repo.commit("hotfix")
    proc, _ = diff(run_gate, repo, "--base", "main", "--rules-from", "base")
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.startswith("releases/current.yaml:"), proc.stderr
    assert "(rules read from target main (" in proc.stderr


@pytest.mark.parametrize("mode", ["--worktree", "--staged"])
def test_uncommitted_changes_are_judged_by_the_rules_at_head(
    tmp_path: Path, run_gate: RunGate, mode: str
) -> None:
    repo = make_repo(tmp_path)
    head = repo.sha("HEAD")
    set_tag(repo, "prod", "latest")
    repo.write(".gate.yaml", ENVIRONMENTS + LATEST_OFF)
    repo.git("add", "-A")
    proc, report = diff(run_gate, repo, mode)
    assert proc.returncode == 0, proc.stdout  # the working tree's own rules
    proc, report = diff(run_gate, repo, mode, "--rules-from", "base")
    assert proc.returncode == 1, proc.stdout
    assert results_of(report, "no-latest-tag", "fail")
    assert report["audit"]["rules_from"] == f"HEAD ({head[:7]})"
