"""Rollbacks end to end: ``gate diff`` on real git history with release tags v1.0.0 and
v1.1.0, a freeze that lets rollbacks through, and Argo CD Applications tracking tags."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gate.schema_validation import load_schema
from tests.conftest import RunGate
from tests.gitrepo import GitRepo
from tests.releaserepo import (
    DIGEST_MS3_140,
    build_release_repo,
    freeze_with_rollbacks,
    step_sha,
)

pytestmark = pytest.mark.e2e  # every test here starts git or the CLI

REPORT_SCHEMA = load_schema("report.schema.json")
FROZEN = "2026-12-24T10:00:00+01:00"

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: {name}
          image: ghcr.io/acme/{name}:0.0.1
          env:
            - {{name: MODE, value: fast}}
"""

OVERLAY = """\
namespace: shop-{env}
resources:
  - ../../base
images:
  - name: ghcr.io/acme/ms1
    newTag: {ms1}
  - name: ghcr.io/acme/ms2
    newTag: {ms2}
"""

APPLICATION = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: shop-{env}
  labels:
    gate.dev/environment: {env}
spec:
  project: default
  source:
    repoURL: https://git.example.com/acme/gitops.git
    targetRevision: {revision}
    path: overlays/{env}
  destination:
    server: https://kubernetes.default.svc
    namespace: shop-{env}
"""

CONFIG = """\
environments:
  - name: staging
    paths: ["overlays/staging/**", "argocd/staging.yaml"]
  - name: prod
    paths: ["overlays/prod/**", "argocd/prod.yaml"]
calendar:
  freezes:
    - name: year-end
      start: "2026-12-18T00:00:00+01:00"
      end: "2027-01-04T00:00:00+01:00"
      reason: year-end trading freeze
      environments: [prod, staging]
{allow}"""
ALLOW = "      allow_rollback: true\n"


def set_versions(repo: GitRepo, env: str, ms1: str, ms2: str) -> None:
    repo.write(f"overlays/{env}/kustomization.yaml", OVERLAY.format(env=env, ms1=ms1, ms2=ms2))


def set_revision(repo: GitRepo, env: str, revision: str) -> None:
    repo.write(f"argocd/{env}.yaml", APPLICATION.format(env=env, revision=revision))


RELEASE_POLICIES = """\
policies:
  release-target-revision: {enabled: true}
  release-tag-exists: {enabled: true}
"""


def make_repo(tmp_path: Path, allow_rollback: bool = True, extra: str = "") -> GitRepo:
    """v1.0.0: both microservices at 1.0.0 everywhere; v1.1.0: at 1.1.0. ``main`` is
    v1.1.0; the change is made on branch ``change``."""
    repo = GitRepo.init(tmp_path / "repo")
    repo.write("base/kustomization.yaml", "resources:\n  - ms1.yaml\n  - ms2.yaml\n")
    for name in ("ms1", "ms2"):
        repo.write(f"base/{name}.yaml", DEPLOYMENT.format(name=name))
    repo.write(".gate.yaml", CONFIG.format(allow=ALLOW if allow_rollback else "") + extra)
    for version, tag in (("1.0.0", "v1.0.0"), ("1.1.0", "v1.1.0")):
        for env in ("staging", "prod"):
            set_versions(repo, env, version, version)
            set_revision(repo, env, tag)
        repo.commit(f"release {tag}")
        repo.git("tag", tag)
    repo.git("checkout", "-q", "-b", "change")
    return repo


def diff(run_gate: RunGate, repo: GitRepo, *args: str) -> tuple[Any, dict[str, Any]]:
    report_path = repo.path.parent / "report.json"
    proc = run_gate("diff", "--base", "main", "--kustomize", "builtin", "--now", FROZEN,
                    *args, "-f", "text", "-f", f"json={report_path}", cwd=repo.path,
                    env={"NO_COLOR": "1"})
    assert "Traceback" not in proc.stderr, proc.stderr
    report = json.loads(report_path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(report)
    return proc, report


def window_results(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """environment -> (status, message) of release-window."""
    return {r["resource"]["environment"]: (r["status"], r.get("message", ""))
            for r in report["results"] if r["policy"] == "release-window"}


def test_a_pure_rollback_passes_a_freeze_that_allows_rollbacks(gate_cli: RunGate,
                                                               tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    set_versions(repo, "prod", "1.0.0", "1.0.0")
    repo.commit("roll prod back to v1.0.0")
    out = tmp_path / "out"
    proc, report = diff(gate_cli, repo, "-f", f"markdown={out}.md", "-f", f"junit={out}.xml",
                        "-f", f"sarif={out}.sarif")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert window_results(report) == {"prod": ("pass", "")}
    moves = ["ghcr.io/acme/ms1: 1.1.0 -> 1.0.0", "ghcr.io/acme/ms2: 1.1.0 -> 1.0.0"]
    assert report["change"]["rollbacks"] == [
        {"environment": "prod", "release": "v1.0.0", "moves": moves, "let_through": "year-end"}]
    text = ("prod rolls back to release v1.0.0 (ghcr.io/acme/ms1: 1.1.0 -> 1.0.0; "
            "ghcr.io/acme/ms2: 1.1.0 -> 1.0.0); let through by allow_rollback of year-end")
    assert f"rollback: {text}" in proc.stdout.splitlines()
    markdown = Path(f"{out}.md").read_text(encoding="utf-8")
    assert "### Rollbacks (1)" in markdown
    assert ("| prod | v1.0.0 | ghcr.io/acme/ms1: 1.1.0 -&gt; 1.0.0; ghcr.io/acme/ms2: "
            "1.1.0 -&gt; 1.0.0 | year-end |") in markdown
    junit = ElementTree.parse(f"{out}.xml").getroot()
    [suite] = [s for s in junit.iter("testsuite") if s.get("name") == "release-window"]
    assert [p.get("value") for p in suite.iter("property") if p.get("name") == "rollback"] \
        == [text]
    sarif = json.loads(Path(f"{out}.sarif").read_text(encoding="utf-8"))
    [rollback] = sarif["runs"][0]["properties"]["change"]["rollbacks"]
    assert rollback == {"environment": "prod", "release": "v1.0.0", "moves": moves,
                        "let_through": "year-end", "text": text}


def test_a_rollback_with_an_env_var_change_blocks(gate_cli: RunGate, tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    set_versions(repo, "prod", "1.0.0", "1.0.0")
    repo.replace("base/ms1.yaml", "value: fast", "value: slow")
    repo.commit("roll prod back, and slow ms1 down")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 1
    results = window_results(report)
    line = repo.line_of("base/ms1.yaml", "value: slow")
    for environment in ("prod", "staging"):
        status, message = results[environment]
        assert status == "fail"
        assert message.startswith(f"{environment} is closed for changes: freeze 'year-end' is "
                                  "in effect")
        assert message.endswith(f"; rollbacks may merge, but this change is not one: "
                                f"base/ms1.yaml:{line}: the change alters spec.template.spec."
                                "containers.0.env.0.value, not only versions and "
                                "targetRevisions")
    assert report["change"]["rollbacks"] == []


def test_a_rollback_with_a_new_patch_blocks(gate_cli: RunGate, tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    set_versions(repo, "prod", "1.0.0", "1.0.0")
    repo.write("overlays/prod/kustomization.yaml", repo.read(
        "overlays/prod/kustomization.yaml") + "patches:\n  - path: mode.yaml\n")
    repo.write("overlays/prod/mode.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
               "  name: ms1\nspec:\n  template:\n    spec:\n      containers:\n"
               "        - name: ms1\n          env: [{name: MODE, value: slow}]\n")
    repo.commit("roll prod back, and slow it down")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 1
    status, message = window_results(report)["prod"]
    assert status == "fail"
    line = repo.line_of("overlays/prod/kustomization.yaml", "patches:")
    assert message.endswith("; rollbacks may merge, but this change is not one: "
                            f"overlays/prod/kustomization.yaml:{line}: the change alters "
                            "patches, not only versions and targetRevisions")
    assert report["change"]["rollbacks"] == []


def test_an_env_var_edited_in_place_is_no_rollback(gate_cli: RunGate, tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    set_versions(repo, "prod", "1.0.0", "1.0.0")
    repo.write("overlays/prod/kustomization.yaml", repo.read(
        "overlays/prod/kustomization.yaml").replace("namespace: shop-prod", "namespace: shop"))
    repo.commit("roll prod back and move it")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 1
    status, message = window_results(report)["prod"]
    assert status == "fail"
    assert message.endswith("overlays/prod/kustomization.yaml:1: the change alters namespace, "
                            "not only versions and targetRevisions")


def test_prod_rolls_back_while_staging_gets_a_new_version(gate_cli: RunGate,
                                                         tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    set_versions(repo, "prod", "1.0.0", "1.1.0")
    set_versions(repo, "staging", "1.2.0", "1.1.0")
    repo.commit("roll prod's ms1 back; ms1 1.2.0 to staging")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 1
    results = window_results(report)
    assert results["prod"] == ("pass", "")
    assert results["staging"][0] == "fail"
    assert "ghcr.io/acme/ms1: 1.1.0 -> 1.2.0: not what staging ran at one earlier release " \
           "tag" in results["staging"][1]
    assert report["change"]["rollbacks"] == [
        {"environment": "prod", "release": "v1.0.0",
         "moves": ["ghcr.io/acme/ms1: 1.1.0 -> 1.0.0"], "let_through": "year-end"}]


def test_a_move_back_to_a_version_no_release_ran_blocks(gate_cli: RunGate,
                                                       tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    set_versions(repo, "prod", "1.0.5", "1.1.0")
    repo.commit("ms1 1.0.5 to prod")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 1
    status, message = window_results(report)["prod"]
    assert status == "fail"
    assert message.endswith("this change is not one: ghcr.io/acme/ms1: 1.1.0 -> 1.0.5: not "
                            "what prod ran at one earlier release tag (earlier than v1.1.0: "
                            "v1.0.0)")
    assert report["change"]["rollbacks"] == []


def test_without_allow_rollback_a_rollback_blocks(gate_cli: RunGate, tmp_path: Path) -> None:
    repo = make_repo(tmp_path, allow_rollback=False)
    set_versions(repo, "prod", "1.0.0", "1.0.0")
    repo.commit("roll prod back to v1.0.0")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 1
    status, message = window_results(report)["prod"]
    assert status == "fail"
    assert "rollback" not in message
    # Nothing asked whether it is a rollback, so nothing was computed or recorded.
    assert report["change"]["rollbacks"] == []


def test_a_target_revision_moved_back_to_a_release_tag_is_a_rollback(
        gate_cli: RunGate, tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    set_revision(repo, "prod", "v1.0.0")
    repo.commit("point prod back at v1.0.0")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert window_results(report) == {"prod": ("pass", "")}
    assert report["change"]["rollbacks"] == [
        {"environment": "prod", "release": "v1.0.0",
         "moves": ["Application shop-prod spec.source: v1.1.0 -> v1.0.0"],
         "let_through": "year-end"}]


def test_the_newest_tag_counts_once_the_environment_moved_on(gate_cli: RunGate,
                                                            tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    repo.checkout("main")
    set_versions(repo, "prod", "1.1.1", "1.1.0")  # an untagged hotfix, merged
    repo.commit("hotfix ms1 1.1.1")
    repo.checkout("-B", "change")
    set_versions(repo, "prod", "1.1.0", "1.1.0")
    repo.commit("back to v1.1.0")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["change"]["rollbacks"] == [
        {"environment": "prod", "release": "v1.1.0",
         "moves": ["ghcr.io/acme/ms1: 1.1.1 -> 1.1.0"], "let_through": "year-end"}]


def test_a_tag_on_an_unmerged_branch_is_no_earlier_release(gate_cli: RunGate,
                                                         tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    repo.checkout("-b", "unreviewed", "main")
    set_versions(repo, "prod", "0.9.0", "1.1.0")
    repo.commit("not reviewed")
    repo.git("tag", "v0.9.0")
    repo.checkout("change")
    set_versions(repo, "prod", "0.9.0", "1.1.0")
    repo.commit("ms1 back to 0.9.0")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 1
    status, message = window_results(report)["prod"]
    assert status == "fail" and message.endswith("(earlier than v1.1.0: v1.0.0)")


def results_of(report: dict[str, Any], policy: str) -> list[tuple[str, str]]:
    return [(r["status"], r.get("message", "")) for r in report["results"]
            if r["policy"] == policy]


def test_release_policies_pass_a_move_back_to_a_release_tag(gate_cli: RunGate,
                                                           tmp_path: Path) -> None:
    repo = make_repo(tmp_path, extra=RELEASE_POLICIES)
    set_revision(repo, "prod", "v1.0.0")
    repo.commit("point prod back at v1.0.0")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert results_of(report, "release-target-revision") == [("pass", "")]
    assert results_of(report, "release-tag-exists") == [("pass", "")]
    assert [r["release"] for r in report["change"]["rollbacks"]] == ["v1.0.0"]


def test_a_branch_fails_release_target_revision(gate_cli: RunGate, tmp_path: Path) -> None:
    repo = make_repo(tmp_path, extra=RELEASE_POLICIES)
    set_revision(repo, "prod", "main")
    repo.commit("prod tracks main")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 1
    [(status, message)] = results_of(report, "release-target-revision")
    assert (status, message) == ("fail", "Application 'shop-prod' (prod) deploys "
                                 "https://git.example.com/acme/gitops.git from targetRevision "
                                 "main, not a release tag matching v[0-9]+\\.[0-9]+\\.[0-9]+")
    [finding] = [r for r in report["results"] if r["policy"] == "release-target-revision"]
    assert (finding["resource"]["file"], finding["line"]) == (
        "argocd/prod.yaml", repo.line_of("argocd/prod.yaml", "targetRevision"))
    # main is no release tag: release-tag-exists leaves it to release-target-revision.
    assert results_of(report, "release-tag-exists") == [("skip", "nothing to check")]
    # Nor is it a rollback, so the freeze holds.
    assert window_results(report)["prod"][0] == "fail"


def test_a_tag_that_does_not_exist_fails_release_tag_exists(gate_cli: RunGate,
                                                           tmp_path: Path) -> None:
    repo = make_repo(tmp_path, extra=RELEASE_POLICIES)
    set_revision(repo, "prod", "v1.2.0")
    repo.commit("prod to v1.2.0")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 1
    assert results_of(report, "release-target-revision") == [("pass", "")]
    [finding] = [r for r in report["results"] if r["policy"] == "release-tag-exists"]
    assert finding["status"] == "fail"
    assert finding["message"] == ("Application shop-prod spec.source in prod moves to v1.2.0, "
                                  "which is not a tag of the repository")
    assert (finding["file"], finding["line"]) == (
        "argocd/prod.yaml", repo.line_of("argocd/prod.yaml", "targetRevision"))


def test_a_tag_on_an_unmerged_branch_fails_release_tag_exists(gate_cli: RunGate,
                                                             tmp_path: Path) -> None:
    repo = make_repo(tmp_path, extra=RELEASE_POLICIES)
    repo.checkout("-b", "unreviewed", "main")
    set_versions(repo, "prod", "6.6.6", "6.6.6")
    unreviewed = repo.commit("not reviewed")
    repo.git("tag", "v1.2.0")
    repo.checkout("change")
    set_revision(repo, "prod", "v1.2.0")
    repo.commit("prod to v1.2.0")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 1
    [(status, message)] = results_of(report, "release-tag-exists")
    assert status == "fail"
    assert message == (f"Application shop-prod spec.source in prod moves to tag v1.2.0, whose "
                       f"commit {unreviewed} is not reachable from the base of the change (a "
                       "tag on an unmerged branch is not a reviewed release)")
    # Merged, the same tag is a reviewed release.
    repo.checkout("main")
    repo.merge("unreviewed", "merge the release")
    repo.checkout("change")
    proc, report = diff(gate_cli, repo)
    assert results_of(report, "release-tag-exists") == [("pass", "")]


CHART_CONFIG = """\
environments:
  - name: staging
    paths: ["charts/shop/values-staging.yaml"]
  - name: prod
    paths: ["charts/shop/values-prod.yaml"]
calendar:
  freezes:
    - name: year-end
      start: "2026-12-18T00:00:00+01:00"
      end: "2027-01-04T00:00:00+01:00"
      environments: [prod]
      allow_rollback: true
"""


def make_chart_repo(tmp_path: Path) -> GitRepo:
    """A Helm chart whose prod values set the image tag: 1.0.0 at v1.0.0, 1.1.0 at v1.1.0."""
    repo = GitRepo.init(tmp_path / "repo")
    repo.write("charts/shop/Chart.yaml", "apiVersion: v2\nname: shop\nversion: 0.1.0\n")
    repo.write("charts/shop/values.yaml", "replicaCount: 2\nimage:\n"
                                          "  repository: ghcr.io/acme/shop\n  tag: 0.0.1\n")
    repo.write(".gate.yaml", CHART_CONFIG)
    for version in ("1.0.0", "1.1.0"):
        for env in ("staging", "prod"):
            repo.write(f"charts/shop/values-{env}.yaml",
                       f"replicaCount: 3\nimage:\n  tag: {version}\n")
        repo.commit(f"release v{version}")
        repo.git("tag", f"v{version}")
    repo.git("checkout", "-q", "-b", "change")
    return repo


def test_a_helm_values_rollback_passes_and_a_replica_change_does_not(
        gate_cli: RunGate, tmp_path: Path) -> None:
    repo = make_chart_repo(tmp_path)
    repo.replace("charts/shop/values-prod.yaml", "tag: 1.1.0", "tag: 1.0.0")
    repo.commit("roll prod back to v1.0.0")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert window_results(report) == {"prod": ("pass", "")}
    assert report["change"]["rollbacks"] == [
        {"environment": "prod", "release": "v1.0.0",
         "moves": ["ghcr.io/acme/shop: 1.1.0 -> 1.0.0"], "let_through": "year-end"}]
    repo.replace("charts/shop/values-prod.yaml", "replicaCount: 3", "replicaCount: 5")
    repo.commit("and scale it")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 1
    status, message = window_results(report)["prod"]
    assert status == "fail"
    assert message.endswith("this change is not one: charts/shop/values-prod.yaml:1: the "
                            "change alters replicaCount, not only versions and targetRevisions")
    assert report["change"]["rollbacks"] == []


def test_the_release_fixture_rollback_is_recognised(gate_cli: RunGate, tmp_path: Path) -> None:
    """tests/releaserepo.py: c10 rolls prod back from the hotfix release v1.1.1 to v1.0.0,
    versions (Kustomize overlays and the chart's values) and targetRevisions together."""
    path = build_release_repo(tmp_path / "repo")
    # The rules come from the working tree: a freeze over the day c10 merged.
    freeze_with_rollbacks(path)
    report_path = tmp_path / "report.json"
    proc = gate_cli("diff", "--base", step_sha(path, "c9"), "--head", step_sha(path, "c10"),
                    "--kustomize", "builtin", "--at", "commit", "-f", f"json={report_path}",
                    cwd=path, env={"NO_COLOR": "1"})
    assert "Traceback" not in proc.stderr, proc.stderr
    report = json.loads(report_path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(report)
    assert window_results(report) == {"prod": ("pass", "")}
    [rollback] = report["change"]["rollbacks"]
    assert rollback == {
        "environment": "prod", "release": "v1.0.0", "let_through": "hotfix-review",
        "moves": [
            "registry.example.com/shop/ms1: 1.2.0 -> 1.1.0",
            "registry.example.com/shop/ms2: 1.3.1 -> 1.3.0",
            f"registry.example.com/shop/ms3: 1.4.0@{DIGEST_MS3_140} -> 1.3.0",
            "Application ms1-prod spec.source: v1.1.1 -> v1.0.0",
            "Application ms2-prod spec.source: v1.1.1 -> v1.0.0",
            "Application ms3-prod spec.source: v1.1.1 -> v1.0.0",
        ]}
