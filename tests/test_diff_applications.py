"""A change to an Argo CD Application is a deployment change, and gate diff judges it.

Argo CD decides what is deployed: re-pointing the prod Application at another path,
adding ``kustomize.images`` overrides, or relabelling it as dev changes what runs in
prod even when no manifest changes. Each case is a real git repository and the real
CLI; each passed with exit 0 before the planner followed Applications.
"""
# ruff: noqa: F811 (pytest passes the imported diff fixture by its name)
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gitrepo import GitRepo

# The diff fixture of test_diff.py (gate diff in a subprocess, its JSON report validated).
from tests.test_diff import Diff, deployment, diff  # noqa: F401

pytestmark = pytest.mark.e2e

DIGEST = "sha256:" + "a" * 64
CONFIG = """\
environments:
  - discover: argocd
policies:
  required-labels: {enabled: false}
  image-digest:
    enforcement: warn
    environments:
      prod: {enforcement: block}
"""


def application(name: str, path: str, environment: str, extra: str = "") -> str:
    return (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n"
        f"  name: {name}\n  namespace: argocd\n  labels:\n"
        f"    gate.dev/environment: {environment}\n"
        "spec:\n  project: default\n  source:\n"
        "    repoURL: https://git.example.com/manifests.git\n"
        f"    targetRevision: HEAD\n    path: {path}\n{extra}"
        "  destination:\n    server: https://kubernetes.default.svc\n"
        f"    namespace: {name}\n")


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    made = GitRepo.init(tmp_path / "repo")
    made.write(".gate.yaml", CONFIG)
    made.write("apps/good/web.yaml", deployment("web", f"ghcr.io/acme/web:1.0@{DIGEST}"))
    made.write("apps/bad/web.yaml", deployment("web", "nginx:latest"))
    made.write("overlays/web/kustomization.yaml", "resources: [web.yaml]\n")
    made.write("overlays/web/web.yaml", deployment("web", f"ghcr.io/acme/web:1.0@{DIGEST}"))
    made.write("argocd/prod.yaml", application("web-prod", "apps/good", "prod"))
    made.write("argocd/shop.yaml", application("shop-prod", "overlays/web", "prod"))
    made.commit("initial")
    return made


def new_findings(report: dict[str, object] | None) -> list[tuple[str, str, str]]:
    assert report is not None
    return sorted((r["policy"], r["file"], r["resource"]["environment"])  # type: ignore[index]
                  for r in report["results"]  # type: ignore[attr-defined]
                  if r["new"] and r["status"] in ("fail", "warn"))


def test_repointing_the_prod_application_judges_the_new_path(repo: GitRepo,
                                                             diff: Diff) -> None:
    repo.replace("argocd/prod.yaml", "path: apps/good", "path: apps/bad")
    repo.commit("deploy the other directory")
    run = diff(repo, "--base", "HEAD~1")
    assert run.code == 1, run.stdout + run.stderr
    assert ("no-latest-tag", "apps/bad/web.yaml", "prod") in new_findings(run.report)


def test_kustomize_image_overrides_are_judged_at_their_line(repo: GitRepo,
                                                            diff: Diff) -> None:
    repo.replace("argocd/shop.yaml", "    path: overlays/web\n",
                 "    path: overlays/web\n    kustomize:\n      images:\n"
                 "        - ghcr.io/acme/web=nginx:latest\n")
    line = repo.line_of("argocd/shop.yaml", "nginx:latest")
    repo.commit("override the image")
    run = diff(repo, "--base", "HEAD~1", "--kustomize", "builtin")
    assert run.code == 1, run.stdout + run.stderr
    assert run.report is not None
    [latest] = [r for r in run.report["results"]
                if r["policy"] == "no-latest-tag" and r["status"] == "fail"]
    assert (latest["file"], latest["line"], latest["new"]) == ("argocd/shop.yaml", line, True)
    assert latest["resource"]["rendered_by"] == "overlays/web (application shop-prod)"
    assert latest["resource"]["environment"] == "prod"


def test_relabelling_prod_as_dev_is_judged_as_prod(repo: GitRepo, diff: Diff) -> None:
    repo.replace("argocd/prod.yaml", "gate.dev/environment: prod", "gate.dev/environment: dev")
    repo.write("apps/good/web.yaml", deployment("web", "ghcr.io/acme/web:1.1"))
    repo.commit("relabel and drop the digest")
    run = diff(repo, "--base", "HEAD~1")
    assert run.code == 1, run.stdout + run.stderr
    assert ("image-digest", "apps/good/web.yaml", "prod") in new_findings(run.report)
    assert any("relabelled from prod to dev" in note for note in run.change()["notes"])


def test_json_manifests_of_a_directory_application_are_judged(repo: GitRepo,
                                                              diff: Diff) -> None:
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "debug"},
                "spec": {"containers": [{"name": "debug", "image": "busybox:latest"}]}}
    repo.write("apps/good/debug.json", json.dumps(manifest, indent=2) + "\n")
    repo.commit("a JSON manifest")
    run = diff(repo, "--base", "HEAD~1")
    assert run.code == 1, run.stdout + run.stderr
    assert ("no-latest-tag", "apps/good/debug.json", "prod") in new_findings(run.report)


def test_an_override_gate_does_not_apply_fails_closed(repo: GitRepo, diff: Diff,
                                                      tmp_path: Path) -> None:
    """Argo CD overrides gate does not apply (here kustomize.namePrefix and
    commonLabels) change what is deployed: an input error at the override, not a pass."""
    repo.replace("argocd/shop.yaml", "    path: overlays/web\n",
                 "    path: overlays/web\n    kustomize:\n      namePrefix: x-\n"
                 "      commonLabels: {team: a}\n")
    line = repo.line_of("argocd/shop.yaml", "commonLabels")
    repo.commit("override the prefix")
    run = diff(repo, "--base", "HEAD~1", "--kustomize", "builtin")
    assert run.code == 2, run.stdout + run.stderr
    assert run.report is not None
    [error] = run.report["errors"]
    assert (error["file"], error["line"]) == ("argocd/shop.yaml", line)
    assert error["message"] == (
        "Application shop-prod sets kustomize.commonLabels, kustomize.namePrefix, which gate "
        "does not apply: what it deploys to prod from overlays/web cannot be judged")
