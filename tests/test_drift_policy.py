"""The environment-drift change policy end to end: ``gate diff`` on real git history of
a Kustomize base with staging and prod overlays."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunGate
from tests.gitrepo import GitRepo
from tests.test_drift_cli import BASE, CONFIG, DEPLOYMENT, PDB, PROD, STAGING

pytestmark = pytest.mark.e2e  # every test here starts git or the CLI

ENABLED = CONFIG + """\
policies:
  environment-drift:
    enabled: true
"""

ENV_VAR = """\
patches:
  - target: {kind: Deployment, name: web}
    patch: |
      - op: add
        path: /spec/template/spec/containers/0/env
        value: [{name: FEATURE_X, value: "on"}]
"""


def make_repo(tmp_path: Path, config: str = ENABLED) -> GitRepo:
    """Staging runs 1.1.0; prod runs 1.0.0 and a PDB staging does not have (old drift)."""
    repo = GitRepo.init(tmp_path / "repo")
    repo.write_all({
        "base/deployment.yaml": DEPLOYMENT, "base/kustomization.yaml": BASE,
        "overlays/staging/kustomization.yaml": STAGING,
        "overlays/prod/kustomization.yaml": PROD.replace(
            "newTag: 1.1.0", "newTag: 1.0.0").replace("  - ../../base\n",
                                                       "  - ../../base\n  - pdb.yaml\n"),
        "overlays/prod/pdb.yaml": PDB, ".gate.yaml": config,
    })
    repo.commit("environments")
    repo.git("branch", "base")
    return repo


def diff(run_gate: RunGate, repo: GitRepo) -> tuple[Any, list[dict[str, Any]]]:
    report_path = repo.path.parent / "report.json"
    proc = run_gate("diff", "--base", "base", "--kustomize", "builtin", "-f", "text",
                    "-f", f"json={report_path}", cwd=repo.path, env={"NO_COLOR": "1"})
    assert "Traceback" not in proc.stderr, proc.stderr
    report = json.loads(report_path.read_text(encoding="utf-8"))
    return proc, [r for r in report["results"] if r["policy"] == "environment-drift"]


def set_prod_tag(repo: GitRepo, tag: str) -> None:
    repo.replace("overlays/prod/kustomization.yaml", "newTag: 1.0.0", f"newTag: {tag}")


def test_promoting_exactly_what_staging_runs_passes(tmp_path: Path, run_gate: RunGate) -> None:
    repo = make_repo(tmp_path)
    set_prod_tag(repo, "1.1.0")
    repo.commit("promote 1.1.0 to prod")
    proc, results = diff(run_gate, repo)
    assert proc.returncode == 0, proc.stdout
    # Prod's PDB, which staging lacks, was there before the change: not its drift.
    assert [(r["status"], r["resource"]["environment"]) for r in results] == [("pass", "prod")]


def test_a_tag_staging_never_ran_is_flagged_at_the_overlay(tmp_path: Path,
                                                           run_gate: RunGate) -> None:
    repo = make_repo(tmp_path)
    set_prod_tag(repo, "1.2.0")
    repo.commit("prod to 1.2.0")
    proc, results = diff(run_gate, repo)
    assert proc.returncode == 1
    [failure] = [r for r in results if r["status"] == "fail"]
    staging_line = repo.line_of("overlays/staging/kustomization.yaml", "newTag")
    assert failure["message"] == (
        'Deployment/web: spec.template.spec.containers[name=web].image is '
        '"ghcr.io/acme/web:1.2.0" in prod but "ghcr.io/acme/web:1.1.0" in staging at the '
        f"base (overlays/staging/kustomization.yaml:{staging_line}): this change to prod is "
        "not a promotion of what staging runs")
    line = repo.line_of("overlays/prod/kustomization.yaml", "newTag")
    assert (failure["file"], failure["line"]) == ("overlays/prod/kustomization.yaml", line)
    assert f"overlays/prod/kustomization.yaml:{line}: [environment-drift]" in proc.stdout


def test_an_env_var_staging_does_not_have_is_flagged(tmp_path: Path, run_gate: RunGate) -> None:
    repo = make_repo(tmp_path)
    set_prod_tag(repo, "1.1.0")
    repo.write("overlays/prod/kustomization.yaml",
               repo.read("overlays/prod/kustomization.yaml") + ENV_VAR)
    repo.commit("promote 1.1.0, and a flag of prod's own")
    proc, results = diff(run_gate, repo)
    assert proc.returncode == 1
    [failure] = [r for r in results if r["status"] == "fail"]
    assert failure["message"].startswith(
        "Deployment/web: spec.template.spec.containers[name=web].env is "
        '[{"name": "FEATURE_X", "value": "on"}] in prod but (absent) in staging at the base')
    assert failure["file"] == "overlays/prod/kustomization.yaml"


def test_a_replicas_only_difference_passes(tmp_path: Path, run_gate: RunGate) -> None:
    repo = make_repo(tmp_path)
    set_prod_tag(repo, "1.1.0")
    repo.commit("promote 1.1.0")
    repo.git("branch", "-f", "base")
    repo.replace("overlays/prod/kustomization.yaml", "count: 3", "count: 7")
    repo.commit("scale prod")
    proc, results = diff(run_gate, repo)
    assert proc.returncode == 0, proc.stdout
    assert [r["status"] for r in results] == ["pass"]


def test_staging_moving_with_prod_is_not_a_promotion(tmp_path: Path, run_gate: RunGate) -> None:
    # Staging at the base is what counts: moving both in one change promotes nothing.
    repo = make_repo(tmp_path)
    repo.replace("overlays/staging/kustomization.yaml", "newTag: 1.1.0", "newTag: 1.2.0")
    set_prod_tag(repo, "1.2.0")
    repo.commit("1.2.0 everywhere")
    proc, results = diff(run_gate, repo)
    assert proc.returncode == 1
    assert [r["status"] for r in results if r["resource"]["environment"] == "prod"] == ["fail"]
    # Staging itself is not held to staging.
    assert {r["resource"]["environment"] for r in results} == {"prod"}


def test_a_prod_overlay_that_cannot_render_fails_closed(tmp_path: Path,
                                                        run_gate: RunGate) -> None:
    repo = make_repo(tmp_path)
    repo.replace("overlays/prod/kustomization.yaml", "  - pdb.yaml\n",
                 "  - pdb.yaml\n  - missing.yaml\n")
    repo.commit("break prod")
    proc, results = diff(run_gate, repo)
    assert proc.returncode == 2  # the head's overlay is an input error of gate diff too
    failures = [r for r in results if r["status"] == "fail"]
    assert failures and failures[0]["message"].startswith(
        "prod cannot be compared with staging: prod at the head: overlays/prod")


def test_off_by_default(tmp_path: Path, run_gate: RunGate) -> None:
    repo = make_repo(tmp_path, config=CONFIG)
    set_prod_tag(repo, "1.2.0")
    repo.commit("prod to 1.2.0")
    _, results = diff(run_gate, repo)
    assert results == []
