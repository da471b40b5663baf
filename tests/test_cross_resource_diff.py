"""Cross-resource policies end to end: ``gate diff`` judges what the change reaches against
the head side's whole context, unchanged files included; ``gate check`` against the files
it reads. Real git repositories in tmp_path, the real CLI.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.evaluation.policy_loading import load_builtin
from tests import test_diff
from tests.gitrepo import GitRepo
from tests.test_diff import Diff, Run, deployment, gate

pytestmark = pytest.mark.e2e  # every test here starts git or the CLI

diff = test_diff.diff  # the fixture: gate diff in a repository, its JSON report validated

CROSS = ("service-selects-pods", "service-account-exists", "hpa-target-exists",
         "pdb-for-replicated-workloads")
# Only the cross-resource policies, so each test sees exactly the results it is about.
CONFIG = "policies:\n" + "".join(
    f"  {policy.id}: {{enabled: false}}\n" for policy in load_builtin()
    if policy.id not in CROSS)


def service(name: str, app: str) -> str:
    return (f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n"
            f"  selector:\n    app: {app}\n  ports:\n    - port: 80\n")


def service_account(name: str) -> str:
    return f"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n"


def autoscaler(name: str, target: str) -> str:
    return (f"apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n"
            f"  name: {name}\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n"
            f"    kind: Deployment\n    name: {target}\n  minReplicas: 2\n  maxReplicas: 5\n")


def budget(name: str, app: str) -> str:
    return (f"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: {name}\n"
            f"spec:\n  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app: {app}\n")


def with_account(text: str, account: str) -> str:
    return text.replace("    spec:\n      containers:",
                        f"    spec:\n      serviceAccountName: {account}\n      containers:")


def results(run: Run, policy: str) -> list[tuple[str, str, str, str | None, int | None]]:
    """(status, kind/name, file, field, line) of the policy's results."""
    assert run.report is not None, run.stderr
    return [(r["status"], f"{r['resource']['kind']}/{r['resource']['name']}",
             r["resource"]["file"], r["field"], r["line"])
            for r in run.report["results"] if r["policy"] == policy]


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """deploy.yaml: Deployment web (app=web, 1 replica), committed alone."""
    made = GitRepo.init(tmp_path / "repo")
    made.write(".gate.yaml", CONFIG)
    made.write("apps/deploy.yaml", deployment("web", "nginx:1.25.3"))
    made.commit("initial")
    return made


# -- service-selects-pods ------------------------------------------------------------------


def test_a_new_service_is_judged_against_an_unchanged_deployment(repo: GitRepo,
                                                                 diff: Diff) -> None:
    repo.write("apps/svc.yaml", service("web", "web"))
    repo.commit("add the Service")
    run = diff(repo, "--base", "HEAD~1")
    assert run.code == 0, run.stderr
    assert results(run, "service-selects-pods") == [
        ("pass", "Service/web", "apps/svc.yaml", None, 1)]
    # The unchanged Deployment was read as context, not judged.
    assert [r for r in run.report["results"] if r["resource"]["kind"] == "Deployment"] == []


def test_a_new_service_selecting_nothing_warns(repo: GitRepo, diff: Diff) -> None:
    repo.write("apps/svc.yaml", service("web", "wbe"))
    line = repo.line_of("apps/svc.yaml", "selector:")
    repo.commit("add a Service with a typo")
    run = diff(repo, "--base", "HEAD~1")
    assert run.code == 0, run.stderr  # warn: never blocks
    assert results(run, "service-selects-pods") == [
        ("warn", "Service/web", "apps/svc.yaml", "spec.selector", line)]
    [finding] = run.findings()
    assert finding["new"] is True
    assert finding["message"] == (
        "Service 'web' selects no pod template in its context (selector {\"app\": \"wbe\"})")


def test_a_deployment_relabelled_leaves_an_unchanged_service_unjudged_but_its_own_change_seen(
        repo: GitRepo, diff: Diff) -> None:
    """The change reaches the Deployment only; the Service in another file is context."""
    repo.write("apps/svc.yaml", service("web", "web"))
    repo.commit("add the Service")
    repo.write("apps/deploy.yaml", deployment("web", "nginx:1.25.4"))
    repo.commit("bump the image")
    run = diff(repo, "--base", "HEAD~1")
    assert run.code == 0, run.stderr
    assert results(run, "service-selects-pods") == []


# -- service-account-exists ------------------------------------------------------------------


def test_a_workload_uses_an_unchanged_service_account(repo: GitRepo, diff: Diff) -> None:
    repo.write("apps/accounts.yaml", service_account("web-reader"))
    repo.commit("add the ServiceAccount")
    repo.write("apps/deploy.yaml", with_account(deployment("web", "nginx:1.25.3"), "web-reader"))
    repo.commit("run as web-reader")
    run = diff(repo, "--base", "HEAD~1")
    assert run.code == 0, run.stderr
    assert results(run, "service-account-exists") == [
        ("pass", "Deployment/web", "apps/deploy.yaml", None, 1)]


def test_a_workload_uses_a_missing_service_account(repo: GitRepo, diff: Diff) -> None:
    repo.write("apps/accounts.yaml", service_account("web-reader"))
    repo.commit("add the ServiceAccount")
    repo.write("apps/deploy.yaml", with_account(deployment("web", "nginx:1.25.3"), "web-writer"))
    line = repo.line_of("apps/deploy.yaml", "serviceAccountName:")
    repo.commit("run as web-writer")
    run = diff(repo, "--base", "HEAD~1")
    assert results(run, "service-account-exists") == [
        ("warn", "Deployment/web", "apps/deploy.yaml", "spec.template.spec.serviceAccountName",
         line)]


# -- hpa-target-exists -------------------------------------------------------------------------


@pytest.mark.parametrize(("target", "status"), [("web", "pass"), ("web-v1", "warn")])
def test_a_new_autoscaler_is_judged_against_an_unchanged_deployment(
        repo: GitRepo, diff: Diff, target: str, status: str) -> None:
    repo.write("apps/hpa.yaml", autoscaler("web", target))
    repo.commit("add the autoscaler")
    run = diff(repo, "--base", "HEAD~1")
    assert run.code == 0, run.stderr
    [(got, name, file, _, _)] = results(run, "hpa-target-exists")
    assert (got, name, file) == (status, "HorizontalPodAutoscaler/web", "apps/hpa.yaml")


# -- pdb-for-replicated-workloads ---------------------------------------------------------------


@pytest.mark.parametrize(("app", "status"), [("web", "pass"), ("api", "warn")])
def test_scaling_up_is_judged_against_an_unchanged_budget(
        repo: GitRepo, diff: Diff, app: str, status: str) -> None:
    repo.write("apps/pdb.yaml", budget("web", app))
    repo.commit("add the budget")
    repo.write("apps/deploy.yaml", deployment("web", "nginx:1.25.3", replicas=3))
    repo.commit("three replicas")
    run = diff(repo, "--base", "HEAD~1")
    assert run.code == 0, run.stderr
    [(got, name, file, field, _)] = results(run, "pdb-for-replicated-workloads")
    assert (got, name, file) == (status, "Deployment/web", "apps/deploy.yaml")
    if status == "warn":
        assert field == "spec.replicas"
        # Existing before the change? No: one replica needed no budget at the base.
        [finding] = run.findings()
        assert finding["new"] is True


def test_an_autoscaler_in_another_file_makes_a_workload_replicated(repo: GitRepo,
                                                                   diff: Diff) -> None:
    repo.write("apps/hpa.yaml", autoscaler("web", "web"))
    repo.commit("autoscale web from 2")
    repo.write("apps/deploy.yaml", deployment("web", "nginx:1.25.4"))
    repo.commit("bump the image")
    run = diff(repo, "--base", "HEAD~1", "--show-existing")
    [(got, name, _, _, _)] = results(run, "pdb-for-replicated-workloads")
    assert (got, name) == ("warn", "Deployment/web")
    [finding] = run.findings()
    assert finding["new"] is False  # the base had the same finding
    assert "runs 2 replicas (autoscaler minimum)" in finding["message"]


# -- environments: one context each -------------------------------------------------------------


def test_each_environment_is_a_context_of_its_own(tmp_path: Path, diff: Diff) -> None:
    made = GitRepo.init(tmp_path / "envs")
    made.write(".gate.yaml", CONFIG + "environments:\n  - {name: prod, paths: ['prod/**']}\n"
               "  - {name: dev, paths: ['dev/**']}\n")
    made.write("prod/deploy.yaml", deployment("web", "nginx:1.25.3"))
    made.commit("initial")
    made.write("dev/svc.yaml", service("web", "web"))
    made.write("prod/svc.yaml", service("web", "web"))
    made.commit("a Service in each environment")
    run = diff(made, "--base", "HEAD~1")
    assert run.code == 0, run.stderr
    assert sorted(results(run, "service-selects-pods"))[0][:3] == (
        "pass", "Service/web", "prod/svc.yaml")
    assert [r[:3] for r in results(run, "service-selects-pods") if r[0] == "warn"] == [
        ("warn", "Service/web", "dev/svc.yaml")]


# -- a Kustomize overlay: one context --------------------------------------------------------------

KUSTOMIZE = {
    "base/kustomization.yaml": "resources:\n  - deploy.yaml\n  - svc.yaml\n",
    "base/deploy.yaml": deployment("web", "nginx:1.25.3"),
    "base/svc.yaml": service("web", "web"),
    "overlays/prod/kustomization.yaml": "resources:\n  - ../../base\nnamePrefix: prod-\n",
}


@pytest.mark.parametrize(("app", "status"), [("web", "pass"), ("wbe", "warn")])
def test_a_service_change_in_a_base_is_judged_with_the_overlay(
        tmp_path: Path, diff: Diff, app: str, status: str) -> None:
    made = GitRepo.init(tmp_path / "kustomized")
    made.write(".gate.yaml", CONFIG)
    made.write_all({**KUSTOMIZE, "base/svc.yaml": service("web", "nothing")})
    made.commit("initial")
    made.write("base/svc.yaml", service("web", app))
    made.commit("select the pods")
    run = diff(made, "--base", "HEAD~1", "--show-existing")
    assert run.code == 0, run.stderr
    assert run.report is not None
    got = [(r["status"], r["resource"]["name"], r["resource"]["rendered_by"])
           for r in run.report["results"] if r["policy"] == "service-selects-pods"]
    assert got == [(status, "prod-web", "overlays/prod")]


# -- gate check: the files of a directory are one context ----------------------------------------


def check(cwd: Path, *args: str) -> dict[str, Any]:
    done = gate(cwd, "check", *args, "-f", "json")
    assert done.returncode in (0, 1), done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_gate_check_judges_the_files_of_a_directory_together(repo: GitRepo) -> None:
    repo.write("apps/svc.yaml", service("web", "web"))
    repo.write("apps/typo.yaml", service("typo", "wbe"))
    repo.write("apps/accounts.yaml", service_account("web-reader"))
    repo.write("apps/deploy.yaml", with_account(deployment("web", "nginx:1.25.3", replicas=2),
                                                "web-reader"))
    repo.write("apps/pdb.yaml", budget("web", "web"))
    repo.write("apps/hpa.yaml", autoscaler("web", "web"))
    report = check(repo.path, "apps")
    statuses = sorted((r["policy"], r["resource"]["name"], r["status"])
                      for r in report["results"])
    assert statuses == [
        ("hpa-target-exists", "web", "pass"),
        ("pdb-for-replicated-workloads", "web", "pass"),
        ("service-account-exists", "web", "pass"),
        ("service-selects-pods", "typo", "warn"),
        ("service-selects-pods", "web", "pass"),
    ]
    # Named alone, a file is its own context: the Deployment is not there.
    alone = check(repo.path, "apps/svc.yaml")
    assert [(r["policy"], r["status"]) for r in alone["results"]] == [
        ("service-selects-pods", "warn")]
