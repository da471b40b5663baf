"""`gate diff` on real git repositories: the change, not the folder, in every environment."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gate.schema_validation import load_schema
from tests.manifests import WEB_DEPLOYMENT
from tests.processes import output_of, run

pytestmark = pytest.mark.e2e  # every test here starts git or the CLI

TIMEOUT = 120
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
    "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
    "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent",
}

DEPLOYMENT = WEB_DEPLOYMENT

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: api
  labels: {app.kubernetes.io/name: api}
spec:
  ports: [{port: 80}]
"""

MIDDLE = """\
resources:
  - ../../base
commonLabels:
  app.kubernetes.io/part-of: shop
"""

OVERLAY = """\
namespace: shop-{env}
resources:
  - ../../middle/shop
images:
  - name: ghcr.io/acme/web
    newTag: 1.0.1
"""

CONFIG = """\
environments:
  - name: dev
    paths: ["overlays/dev/**"]
  - name: staging
    paths: ["overlays/staging/**"]
  - name: prod
    paths: ["overlays/prod/**"]
"""


def git(repo: Path, *args: str) -> str:
    return output_of(["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
                     cwd=repo, env={**os.environ, **GIT_ENV}, timeout=TIMEOUT)


def write(repo: Path, path: str, text: str) -> None:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def gate(repo: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    report_path = repo.parent / "report.json"
    proc = run([sys.executable, "-m", "gate", "diff", *args, "-f", "text", "-f",
                f"json={report_path}"], cwd=repo, env={**os.environ, "NO_COLOR": "1"},
               timeout=TIMEOUT)
    assert "Traceback" not in proc.stderr, proc.stderr
    report: dict[str, Any] = {}
    if report_path.exists():
        report = json.loads(report_path.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator(load_schema("report.schema.json")).validate(report)
        report_path.unlink()
    return proc, report


def findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in report["results"] if r["status"] in ("fail", "warn")]


@pytest.fixture
def kustomize_repo(tmp_path: Path) -> Path:
    """A base, an intermediate layer, and dev/staging/prod overlays over it."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    write(repo, "base/deployment.yaml", DEPLOYMENT)
    write(repo, "base/kustomization.yaml", "resources:\n  - deployment.yaml\n")
    write(repo, "middle/shop/kustomization.yaml", MIDDLE)
    for env in ("dev", "staging", "prod"):
        write(repo, f"overlays/{env}/kustomization.yaml", OVERLAY.format(env=env))
    write(repo, "plain/service.yaml", SERVICE)
    write(repo, ".gate.yaml", CONFIG)
    commit(repo, "initial")
    return repo


def test_a_base_change_is_judged_in_every_environment(kustomize_repo: Path) -> None:
    repo = kustomize_repo
    text = (repo / "base/deployment.yaml").read_text().replace("cpu: 200m", 'cpu: "0"')
    write(repo, "base/deployment.yaml", text)
    commit(repo, "no cpu limit")
    proc, report = gate(repo, "--base", "HEAD~1", "--kustomize", "builtin")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    limits = [r for r in findings(report) if r["policy"] == "resource-limits"]
    assert sorted(r["resource"]["environment"] for r in limits) == ["dev", "prod", "staging"]
    assert {r["resource"]["rendered_by"] for r in limits} == {
        "overlays/dev", "overlays/staging", "overlays/prod"}
    assert all(r["new"] and r["status"] == "fail" for r in limits)
    assert all(r["file"] == "base/deployment.yaml" and r["line"] == 13 for r in limits)
    assert report["change"]["files"] == [
        {"status": "M", "path": "base/deployment.yaml", "old_path": None}]


def test_an_overlay_image_tag_points_at_the_overlay_line(kustomize_repo: Path) -> None:
    repo = kustomize_repo
    write(repo, "overlays/prod/kustomization.yaml",
          OVERLAY.format(env="prod").replace("newTag: 1.0.1", "newTag: latest"))
    commit(repo, "prod to latest")
    proc, report = gate(repo, "--base", "HEAD~1", "--kustomize", "builtin")
    assert proc.returncode == 1
    [latest] = [r for r in findings(report) if r["policy"] == "no-latest-tag"]
    assert latest["resource"]["environment"] == "prod"
    assert (latest["file"], latest["line"]) == ("overlays/prod/kustomization.yaml", 6)
    assert latest["new"] is True
    # Only the overlay the change reaches is judged.
    assert {r["resource"]["rendered_by"] for r in report["results"]} == {"overlays/prod"}


def test_existing_findings_do_not_block_unless_all(kustomize_repo: Path) -> None:
    repo = kustomize_repo
    write(repo, "plain/service.yaml", SERVICE.replace("app.kubernetes.io/name: api", "x: y"))
    commit(repo, "legacy debt")
    write(repo, "plain/service.yaml",
          SERVICE.replace("app.kubernetes.io/name: api", "x: y").replace("port: 80", "port: 8080"))
    commit(repo, "unrelated change")
    proc, report = gate(repo, "--base", "HEAD~1")
    assert proc.returncode == 0, proc.stdout
    # Counted per policy, not listed, unless asked for.
    assert findings(report) == []
    assert report["change"]["existing"] == {"required-labels": 1}
    assert "required-labels: 1" in proc.stdout
    proc, report = gate(repo, "--base", "HEAD~1", "--show-existing")
    [label] = findings(report)
    assert (label["policy"], label["new"], label["status"]) == ("required-labels", False, "warn")
    assert "existing" in proc.stdout
    proc, report = gate(repo, "--base", "HEAD~1", "--all")
    assert proc.returncode == 1
    assert findings(report)[0]["status"] == "fail"


def test_renames_keep_findings_existing_and_deletions_are_listed(kustomize_repo: Path) -> None:
    repo = kustomize_repo
    write(repo, "plain/service.yaml", SERVICE.replace("app.kubernetes.io/name: api", "x: y"))
    write(repo, "plain/old.yaml", SERVICE.replace("name: api", "name: old"))
    commit(repo, "debt")
    git(repo, "mv", "plain/service.yaml", "plain/api-service.yaml")
    git(repo, "rm", "-q", "plain/old.yaml")
    commit(repo, "rename and delete")
    proc, report = gate(repo, "--base", "HEAD~1", "--show-existing")
    assert proc.returncode == 0, proc.stdout
    assert [(r["new"], r["resource"]["file"]) for r in findings(report)] == [
        (False, "plain/api-service.yaml")]
    deleted = report["change"]["deleted_resources"]
    assert [(d["kind"], d["name"]) for d in deleted] == [("Service", "old")]
    assert "this change deletes Service/old" in proc.stdout


def test_merge_base_leaves_out_what_main_did_since(kustomize_repo: Path) -> None:
    repo = kustomize_repo
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, "plain/feature.yaml", SERVICE.replace("name: api", "name: feature"))
    commit(repo, "feature work")
    git(repo, "checkout", "-q", "main")
    write(repo, "overlays/dev/kustomization.yaml",
          OVERLAY.format(env="dev").replace("newTag: 1.0.1", "newTag: latest"))
    commit(repo, "main moved on with a latest tag")
    proc, report = gate(repo, "--base", "main", "--head", "feature")
    assert proc.returncode == 0, proc.stdout
    assert [f["path"] for f in report["change"]["files"]] == ["plain/feature.yaml"]
    # A merge commit against its first parent is exactly what the merge brought in.
    git(repo, "merge", "-q", "--no-ff", "-m", "merge feature", "feature")
    proc, report = gate(repo, "--base", "HEAD^1")
    assert [f["path"] for f in report["change"]["files"]] == ["plain/feature.yaml"]


def test_staged_sees_the_index_and_not_the_worktree(kustomize_repo: Path) -> None:
    repo = kustomize_repo
    write(repo, "plain/new.yaml", SERVICE.replace("name: api", "name: new"))
    git(repo, "add", "plain/new.yaml")
    write(repo, "plain/new.yaml", SERVICE.replace("app.kubernetes.io/name: api", "x: y"))
    index_before = (repo / ".git" / "index").read_bytes()
    status_before = git(repo, "status", "--porcelain")
    proc, report = gate(repo, "--staged")
    assert proc.returncode == 0, proc.stdout  # the staged version is labelled
    assert [r["resource"]["name"] for r in report["results"]] == ["new"] * len(
        report["results"])
    proc, report = gate(repo, "--worktree")
    assert proc.returncode == 1  # the working tree's version lacks the label
    # Nothing was changed by either run.
    assert (repo / ".git" / "index").read_bytes() == index_before
    assert git(repo, "status", "--porcelain") == status_before


@pytest.mark.parametrize(("args", "message"), [
    (("--base", "nope"), "unknown ref 'nope'"),
    (("--base=-x",), "must not start with '-'"),
    (("--base", "HEAD..main"), "invalid ref"),
    (("--head", "HEAD"), "exactly one of --base REF, --staged or --worktree"),
    (("--staged", "--worktree"), "exactly one of"),
    (("--base", "HEAD", "/etc"), "path outside the repository"),
])
def test_bad_arguments_are_one_line_errors(
    kustomize_repo: Path, args: tuple[str, ...], message: str
) -> None:
    proc, _ = gate(kustomize_repo, *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_not_a_repository(tmp_path: Path) -> None:
    proc, _ = gate(tmp_path, "--staged")
    assert proc.returncode == 2
    assert "not a git repository" in proc.stderr


def test_shallow_clone_without_the_merge_base_hints_at_fetching(
    kustomize_repo: Path, tmp_path: Path
) -> None:
    repo = kustomize_repo
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, "plain/x.yaml", SERVICE.replace("name: api", "name: x"))
    commit(repo, "feature")
    git(repo, "checkout", "-q", "main")
    write(repo, "plain/y.yaml", SERVICE.replace("name: api", "name: y"))
    commit(repo, "main")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", "--no-single-branch", f"file://{repo}",
        str(clone))
    proc, _ = gate(clone, "--base", "origin/main", "--head", "origin/feature")
    assert proc.returncode == 2
    assert "shallow" in proc.stderr and "fetch" in proc.stderr
