"""``gate environments``: which path deploys to which environment and why, on the demo
repository, the Argo CD fixture and a Kustomize layout, in agreement with ``gate check``."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from gate.schema_validation import load_schema
from tests.conftest import RunGate
from tests.gitrepo import GitRepo
from tests.test_argocd import FIXTURE
from tests.test_demo import DEMO, RESOURCES
from tests.test_environments import FILTERS, FIXTURE_ENVIRONMENTS

VALIDATOR = jsonschema.Draft202012Validator(load_schema("environments.schema.json"))
DEMO_CONFIG = """\
environments:
  - name: prod
    paths: ["envs/prod/**"]
  - name: staging
    paths: ["envs/staging/**"]
  - name: dev
    paths: ["envs/dev/**"]
"""


def environments_json(run: RunGate, *args: str, cwd: Path) -> dict[str, Any]:
    proc = run("environments", "-f", "json", *args, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    document: dict[str, Any] = json.loads(proc.stdout)
    VALIDATOR.validate(document)
    return document


def by_path(document: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {entry["path"]: entry["routes"] for entry in document["files"]}


def copy_repo(source: Path, target: Path, config: str) -> Path:
    shutil.copytree(source, target)
    GitRepo.init(target)  # its own repository: globs are relative to its root
    (target / ".gate.yaml").write_text(config, encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repo(Path(__file__).resolve().parents[1] / DEMO,
                     tmp_path_factory.mktemp("demo") / "acme-shop", DEMO_CONFIG)


@pytest.fixture(scope="module")
def argocd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repo(FIXTURE, tmp_path_factory.mktemp("argocd") / "gitops",
                     yaml.safe_dump({"environments": [FILTERS]}))


# -- the demo ----------------------------------------------------------------------------


@pytest.mark.e2e
def test_demo_paths_deploy_by_their_config_glob(demo: Path, run_gate: RunGate) -> None:
    proc = run_gate("environments", cwd=demo)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "environments: dev, prod, staging (config: .gate.yaml)"
    assert f"Files ({RESOURCES}):" in lines
    assert ("envs/prod/payments/cronjob.yaml: prod: as written: config entry 'prod' "
            "(envs/prod/**) at .gate.yaml:2") in lines
    assert ("envs/dev/storefront/deployment.yaml: dev: as written: config entry 'dev' "
            "(envs/dev/**) at .gate.yaml:6") in lines
    # base/ holds reference copies nothing deploys: said so, not left out.
    assert ("base/orders/deployment.yaml: (none): as written: no config entry or Argo CD "
            "Application covers it") in lines
    files = [line for line in lines[lines.index(f"Files ({RESOURCES}):") + 1:] if line]
    assert len(files) == RESOURCES  # one way each: every file is read as written


@pytest.mark.e2e
def test_demo_json_agrees_with_the_text(demo: Path, gate_cli: RunGate) -> None:
    document = environments_json(gate_cli, cwd=demo)
    assert document["environments"] == ["dev", "prod", "staging"]
    assert document["config"] == ".gate.yaml" and document["applications"] == []
    routes = by_path(document)
    assert len(routes) == RESOURCES
    assert routes["envs/staging/orders/deployment.yaml"] == [{
        "environment": "staging", "via": "file", "unit": "envs/staging/orders/deployment.yaml",
        "release": None, "source": "config", "reason": "config entry 'staging' (envs/staging/**)",
        "file": ".gate.yaml", "line": 4}]
    counts: dict[str | None, int] = {}
    for entry in document["files"]:
        counts[entry["environments"][0] if entry["environments"] else None] = counts.get(
            entry["environments"][0] if entry["environments"] else None, 0) + 1
    assert counts == {None: 14, "dev": 15, "staging": 15, "prod": 15}


def test_demo_without_configuration_says_so(gate_cli: RunGate, repo_root: Path) -> None:
    proc = gate_cli("environments", DEMO, cwd=repo_root)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    files = [line for line in lines if line.startswith(f"{DEMO}/")]
    assert len(files) == RESOURCES
    assert all(line.endswith(": (none): as written: no environments are configured "
                             "(.gate.yaml 'environments')") for line in files)


# -- Argo CD -----------------------------------------------------------------------------


@pytest.mark.e2e
def test_argocd_files_deploy_where_the_environment_map_says(argocd: Path,
                                                            gate_cli: RunGate) -> None:
    document = environments_json(gate_cli, cwd=argocd)
    routes = by_path(document)
    checked = 0
    for path, environment in FIXTURE_ENVIRONMENTS.items():
        if path not in routes:  # a directory (an overlay), or a hidden file
            continue
        as_written = [r["environment"] for r in routes[path] if r["via"] == "file"]
        if as_written:
            assert as_written == [environment], path
        elif environment is not None:  # an overlay's own file: that overlay's environment
            assert {r["environment"] for r in routes[path]} == {environment}, path
        checked += 1
    assert checked == 16  # of the 23: the directories and the hidden file are not listed
    assert [(r["environment"], r["reason"]) for r in routes["legacy/billing.yaml"]] == [
        ("billing", "Application 'legacy-billing' (apps/legacy.yaml:2; destination namespace)")]
    assert routes["legacy/billing.yaml"][0]["source"] == "argocd"
    assert {app["application"] for app in document["applications"]} >= {
        "orders-dev", "orders-staging", "orders-prod", "payments-dev", "payments-prod", "root"}
    assert "Application 'preview-checkout'" in " ".join(n["message"] for n in document["notes"])


@pytest.mark.e2e
def test_a_base_deploys_through_every_overlay_that_reads_it(argocd: Path,
                                                            run_gate: RunGate) -> None:
    proc = run_gate("environments", "base", cwd=argocd)
    assert proc.returncode == 0, proc.stderr
    files = proc.stdout.split("Files (2):\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert files == [
        "base/orders/deployment.yaml: dev: through Kustomize overlay envs/dev/orders: "
        "Application 'orders-dev' (apps/orders-dev.yaml:1; label gate.dev/environment)",
        "base/orders/deployment.yaml: prod: through Kustomize overlay envs/prod/orders: "
        "Application 'orders-prod' (apps/orders-prod.yaml:1; label environment)",
        "base/orders/deployment.yaml: staging: through Kustomize overlay envs/staging/orders: "
        "Application 'orders-staging' (apps/orders-staging.yaml:1; annotation "
        "gate.dev/environment)",
        "base/orders/kustomization.yaml: dev: through Kustomize overlay envs/dev/orders: "
        "Application 'orders-dev' (apps/orders-dev.yaml:1; label gate.dev/environment)",
        "base/orders/kustomization.yaml: prod: through Kustomize overlay envs/prod/orders: "
        "Application 'orders-prod' (apps/orders-prod.yaml:1; label environment)",
        "base/orders/kustomization.yaml: staging: through Kustomize overlay envs/staging/orders: "
        "Application 'orders-staging' (apps/orders-staging.yaml:1; annotation "
        "gate.dev/environment)",
    ]
    assert ("apps/orders-prod.yaml:1: Application 'orders-prod' deploys envs/prod/orders "
            "(kustomize) to prod (label environment)") in proc.stdout


@pytest.mark.e2e
def test_a_chart_deploys_per_release(argocd: Path, gate_cli: RunGate) -> None:
    routes = by_path(environments_json(gate_cli, "charts", cwd=argocd))
    template = routes["charts/payments/templates/deployment.yaml"]
    # Both Applications deploy the chart with different labels: unknown, as checks judge it.
    assert [(r["via"], r["release"], r["environment"]) for r in template] == [
        ("helm", "payments-dev", "unknown"), ("helm", "payments-prod", "unknown")]
    assert template[0]["reason"].startswith("deployed by Applications of dev, prod: ")
    assert set(routes) == {"charts/payments/Chart.yaml", "charts/payments/values.yaml",
                           "charts/payments/templates/deployment.yaml"}


@pytest.mark.e2e
def test_gate_check_judges_each_file_in_the_environments_listed(
        argocd: Path, gate_cli: RunGate) -> None:
    """The command answers from the checks' own planning: every resource ``gate check``
    judges carries an environment the listing gives its file."""
    routes = by_path(environments_json(gate_cli, cwd=argocd))
    check = gate_cli("check", ".", "-f", "json", cwd=argocd)
    assert check.returncode in (0, 1, 2), check.stderr
    results = json.loads(check.stdout)["results"]
    assert results
    for result in results:
        resource = result["resource"]
        listed = {route["environment"] or "" for route in routes[resource["file"]]}
        assert (resource.get("environment") or "") in listed, (resource, listed)


# -- Kustomize layout ------------------------------------------------------------------------


@pytest.fixture()
def kustomized(tmp_path: Path) -> Path:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write(".gate.yaml", "environments:\n  - name: prod\n    paths: [overlays/prod/**]\n")
    repo.write("base/kustomization.yaml", "resources: [deployment.yaml]\n")
    repo.write("base/deployment.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    repo.write("overlays/prod/kustomization.yaml", "resources: [../../base]\n")
    repo.write("components/unused/kustomization.yaml",
               "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
               "patches: [{path: patch.yaml}]\n")
    repo.write("components/unused/patch.yaml",
               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    return repo.path


@pytest.mark.e2e
def test_overlays_and_unused_components(kustomized: Path, gate_cli: RunGate) -> None:
    routes = by_path(environments_json(gate_cli, cwd=kustomized))
    [base] = routes["base/deployment.yaml"]
    assert (base["environment"], base["via"], base["unit"], base["source"]) == (
        "prod", "kustomize", "overlays/prod", "config")
    assert (base["file"], base["line"]) == (".gate.yaml", 2)
    [patch] = routes["components/unused/patch.yaml"]
    assert patch["environment"] is None
    assert patch["reason"].startswith("not judged: Kustomize component not referenced: ")


@pytest.mark.e2e
def test_kustomize_off_reads_every_file_as_written(kustomized: Path, gate_cli: RunGate) -> None:
    routes = by_path(environments_json(gate_cli, "--kustomize", "off", cwd=kustomized))
    assert [(r["environment"], r["via"]) for r in routes["base/deployment.yaml"]] == [
        (None, "file")]


@pytest.mark.e2e
def test_output_is_deterministic(argocd: Path, gate_cli: RunGate) -> None:
    first = gate_cli("environments", cwd=argocd).stdout
    assert gate_cli("environments", cwd=argocd).stdout == first
    assert gate_cli("environments", "-f", "json", cwd=argocd).stdout == gate_cli(
        "environments", "-f", "json", cwd=argocd).stdout


# -- errors ------------------------------------------------------------------------------


@pytest.mark.e2e
def test_errors_are_one_line_and_exit_2(argocd: Path, demo: Path, run_gate: RunGate) -> None:
    missing = run_gate("environments", "nowhere", cwd=argocd)
    assert (missing.returncode, missing.stderr) == (
        2, "gate: error: no such file or directory: nowhere\n")
    apart = run_gate("environments", ".", str(demo), cwd=argocd)
    assert apart.returncode == 2 and apart.stderr.count("\n") == 1
    assert "the paths lie in different repositories" in apart.stderr
    (argocd / "bad.yaml").write_text("environments:\n  - name: prod\n", encoding="utf-8")
    try:
        bad = run_gate("environments", "-c", "bad.yaml", cwd=argocd)
    finally:
        (argocd / "bad.yaml").unlink()
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("bad.yaml:2: error: ")
