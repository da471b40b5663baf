"""``gate drift ENV_A ENV_B``: a Kustomize base with staging and prod overlays, built in a
scratch repository, compared through the real CLI."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RunGate
from tests.gitrepo import GitRepo

pytestmark = pytest.mark.e2e  # every test here starts git or the CLI

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0.0
          envFrom:
            - configMapRef: {name: web-config}
          resources:
            limits: {cpu: 100m}
"""

BASE = """\
resources:
  - deployment.yaml
configMapGenerator:
  - name: web-config
    literals: [LOG=info]
"""

STAGING = """\
namespace: shop-staging
resources:
  - ../../base
labels:
  - pairs: {environment: staging}
images:
  - name: ghcr.io/acme/web
    newTag: 1.1.0
"""

PROD = """\
namespace: shop-prod
namePrefix: prod-
resources:
  - ../../base
labels:
  - pairs: {environment: prod}
replicas:
  - name: web
    count: 3
images:
  - name: ghcr.io/acme/web
    newTag: 1.1.0
"""

PDB = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: web}
"""

CONFIG = """\
environments:
  - {name: staging, paths: ["overlays/staging/**"]}
  - {name: prod, paths: ["overlays/prod/**"]}
"""


def make_repo(tmp_path: Path, config: str = CONFIG) -> GitRepo:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write_all({
        "base/deployment.yaml": DEPLOYMENT, "base/kustomization.yaml": BASE,
        "overlays/staging/kustomization.yaml": STAGING,
        "overlays/prod/kustomization.yaml": PROD, ".gate.yaml": config,
    })
    repo.commit("environments")
    return repo


def drifted(repo: GitRepo) -> None:
    """Prod runs a tag staging never ran, a log level of its own and a PDB."""
    repo.replace("overlays/prod/kustomization.yaml", "newTag: 1.1.0", "newTag: 1.2.0")
    repo.write("overlays/prod/kustomization.yaml", repo.read("overlays/prod/kustomization.yaml")
               + "configMapGenerator:\n  - name: web-config\n    behavior: merge\n"
                 "    literals: [LOG=warn]\n")
    repo.replace("overlays/prod/kustomization.yaml", "  - ../../base\n",
                 "  - ../../base\n  - pdb.yaml\n")
    repo.write("overlays/prod/pdb.yaml", PDB)


def test_only_allowed_fields_differ_no_drift(tmp_path: Path, gate_cli: RunGate) -> None:
    # Namespaces, the name prefix, replicas, environment labels and the generated
    # ConfigMap's name (and the reference to it) all differ: none is drift.
    repo = make_repo(tmp_path)
    proc = gate_cli("drift", "staging", "prod", "--kustomize", "builtin", cwd=repo.path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == (
        "drift: staging -> prod (working tree; config: .gate.yaml)\n\n"
        "Result: no drift between staging and prod (2 resource(s) compared)\n")


def test_drift_lists_both_values_with_the_lines_that_set_them(tmp_path: Path,
                                                              gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path)
    drifted(repo)
    proc = gate_cli("drift", "staging", "prod", "--kustomize", "builtin", cwd=repo.path)
    assert proc.returncode == 1, proc.stderr
    staging_tag = repo.line_of("overlays/staging/kustomization.yaml", "newTag")
    prod_tag = repo.line_of("overlays/prod/kustomization.yaml", "newTag")
    prod_log = repo.line_of("overlays/prod/kustomization.yaml", "LOG=warn")
    assert proc.stdout.splitlines() == [
        "drift: staging -> prod (working tree; config: .gate.yaml)",
        "",
        "Only in prod (1):",
        "  PodDisruptionBudget/web: PodDisruptionBudget/shop-prod/prod-web via overlays/prod "
        "(overlays/prod/pdb.yaml:1)",
        "",
        "Differences (2 field(s) in 2 resource(s)):",
        "  ConfigMap/web-config (staging: ConfigMap/shop-staging/web-config-tkkdd9fftc, "
        "prod: ConfigMap/shop-prod/prod-web-config-tf52cdckgk)",
        "    data.LOG",
        '      staging  "info" (base/kustomization.yaml:5)',
        f'      prod     "warn" (overlays/prod/kustomization.yaml:{prod_log})',
        "  Deployment/web (staging: Deployment/shop-staging/web, prod: "
        "Deployment/shop-prod/prod-web)",
        "    spec.template.spec.containers[name=web].image",
        f'      staging  "ghcr.io/acme/web:1.1.0" (overlays/staging/kustomization.yaml:'
        f"{staging_tag})",
        f'      prod     "ghcr.io/acme/web:1.2.0" (overlays/prod/kustomization.yaml:{prod_tag})',
        "",
        "Result: drift between staging and prod: 0 only in staging, 1 only in prod, "
        "2 field(s) differ in 2 of 2 paired resource(s)",
    ]


def test_json_output_is_deterministic(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path)
    drifted(repo)
    first = gate_cli("drift", "staging", "prod", "-f", "json", cwd=repo.path)
    second = gate_cli("drift", "staging", "prod", "--format", "json", cwd=repo.path)
    assert first.returncode == second.returncode == 1
    assert first.stdout == second.stdout
    report = json.loads(first.stdout)
    assert report["environments"] == {"a": "staging", "b": "prod"}
    assert (report["drift"], report["complete"], report["paired"]) == (True, True, 2)
    assert report["only_in_a"] == []
    assert [(i["kind"], i["name"], i["identity"]) for i in report["only_in_b"]] == [
        ("PodDisruptionBudget", "web", "PodDisruptionBudget/shop-prod/prod-web")]
    image = report["differences"][1]["fields"][0]
    assert image["path"] == "spec.template.spec.containers[name=web].image"
    assert image["a"]["value"] == "ghcr.io/acme/web:1.1.0"
    assert image["b"] == {"present": True, "value": "ghcr.io/acme/web:1.2.0",
                          "file": "overlays/prod/kustomization.yaml",
                          "line": repo.line_of("overlays/prod/kustomization.yaml", "newTag")}


def test_drift_config_lets_fields_differ(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path, CONFIG + """\
drift:
  ignore:
    - paths: ["**.image"]
    - kinds: [ConfigMap]
      paths: [data.LOG]
    - kinds: [PodDisruptionBudget]
      paths: [spec]
""")
    drifted(repo)
    proc = gate_cli("drift", "staging", "prod", cwd=repo.path)
    # Fields may differ; a resource only prod deploys is still drift.
    assert proc.returncode == 1
    assert "Only in prod (1):" in proc.stdout and "Differences" not in proc.stdout


def test_ref_reads_the_revision_not_the_working_tree(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path)
    repo.git("tag", "v1.0.0")
    drifted(repo)  # in the working tree only
    assert gate_cli("drift", "staging", "prod", cwd=repo.path).returncode == 1
    proc = gate_cli("drift", "staging", "prod", "--ref", "v1.0.0", cwd=repo.path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sha = repo.sha("v1.0.0")[:7]
    assert proc.stdout.startswith(f"drift: staging -> prod (v1.0.0 ({sha}); config: .gate.yaml)")


def test_path_limits_what_is_compared(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path)
    drifted(repo)
    proc = gate_cli("drift", "staging", "prod", "overlays/prod", cwd=repo.path)
    assert proc.returncode == 1
    assert "Only in prod (3):" in proc.stdout  # staging's overlay is not under the path


def test_a_unit_that_cannot_render_is_listed_and_exits_2(tmp_path: Path,
                                                        run_gate: RunGate) -> None:
    repo = make_repo(tmp_path)
    repo.replace("overlays/prod/kustomization.yaml", "  - ../../base\n",
                 "  - ../../base\n  - missing.yaml\n")
    proc = run_gate("drift", "staging", "prod", cwd=repo.path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Not compared (1):\n  prod: overlays/prod/kustomization.yaml" in proc.stdout
    assert "Only in staging (2):" in proc.stdout  # prod's resources are unknown, listed so
    assert proc.stdout.rstrip().endswith(
        "Result: incomplete: 1 unit(s) could not be compared (exit 2)")


def test_unknown_environment_is_a_one_line_error(tmp_path: Path, run_gate: RunGate) -> None:
    repo = make_repo(tmp_path)
    proc = run_gate("drift", "staging", "production", cwd=repo.path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == ("gate: error: unknown environment 'production' "
                           "(known: prod, staging)\n")


def test_without_environments_drift_is_an_error(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path, config="fail_on: high\n")
    proc = gate_cli("drift", "staging", "prod", cwd=repo.path)
    assert proc.returncode == 2
    assert "no environments are configured" in proc.stderr


def test_a_drift_config_mistake_names_file_and_line(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path, CONFIG + "drift:\n  ignore:\n    - paths: ['spec..x']\n")
    proc = gate_cli("drift", "staging", "prod", cwd=repo.path)
    assert proc.returncode == 2
    assert proc.stderr.startswith(".gate.yaml:6: error: drift.ignore[0].paths[0]: invalid "
                                  "field path"), proc.stderr


def test_output_to_a_file_says_the_verdict(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path)
    drifted(repo)
    target = tmp_path / "drift.json"
    proc = gate_cli("drift", "staging", "prod", "-f", f"json={target}", cwd=repo.path)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("drift between staging and prod: 0 only in staging")
    assert json.loads(target.read_text(encoding="utf-8"))["drift"] is True
