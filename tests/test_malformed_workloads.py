"""A typo must never make a workload unjudged: a malformed pod spec is an input error.

A resource of a pod-bearing kind whose pod spec is missing, not a mapping, or has no
non-empty ``containers`` list fails the run (exit 2) with one ``file:line: error:``
line, however it was read: a plain file, standard input, a Kustomize overlay or a Helm
chart, in ``gate check`` and ``gate diff``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from gate.main import main
from tests.conftest import RunGate
from tests.gitrepo import GitRepo
from tests.manifests import WEB_DEPLOYMENT

# kind, apiVersion, path of the pod template (a Pod is its own)
KINDS: list[tuple[str, str, tuple[str, ...]]] = [
    ("Pod", "v1", ()),
    ("Deployment", "apps/v1", ("spec", "template")),
    ("StatefulSet", "apps/v1", ("spec", "template")),
    ("DaemonSet", "apps/v1", ("spec", "template")),
    ("ReplicaSet", "apps/v1", ("spec", "template")),
    ("ReplicationController", "v1", ("spec", "template")),
    ("Job", "batch/v1", ("spec", "template")),
    ("CronJob", "batch/v1", ("spec", "jobTemplate", "spec", "template")),
    ("PodTemplate", "v1", ("template",)),
    ("DeploymentConfig", "apps.openshift.io/v1", ("spec", "template")),
    ("Rollout", "argoproj.io/v1alpha1", ("spec", "template")),
    # older workload apiVersions count too
    ("Deployment", "extensions/v1beta1", ("spec", "template")),
    ("CronJob", "batch/v1beta1", ("spec", "jobTemplate", "spec", "template")),
]

CONTAINERS = """\
dnsPolicy: ClusterFirst
containers:
  - name: web
    image: ghcr.io/acme/web:1.0.0
    resources:
      requests: {cpu: 100m, memory: 64Mi}
      limits: {cpu: 200m, memory: 128Mi}
"""

# variant: the pod spec written (None: no template at all), and what the error points at
# ("pod spec": the pod spec's key; "containers": its containers key; "parent": the
# deepest part of the template's path that exists)
VARIANTS: dict[str, tuple[str | None, str]] = {
    "typo": (CONTAINERS.replace("containers:", "container:"), "pod spec"),
    "missing template": (None, "parent"),
    "empty list": ("dnsPolicy: ClusterFirst\ncontainers: []\n", "containers"),
    "mapping": ("dnsPolicy: ClusterFirst\ncontainers: {}\n", "containers"),
}


def manifest(api_version: str, kind: str, path: tuple[str, ...],
             pod_spec: str | None) -> tuple[str, dict[str, int]]:
    """A workload's YAML, and the lines of its "pod spec", "containers" and "parent"."""
    lines = [f"apiVersion: {api_version}", f"kind: {kind}", "metadata:", "  name: web",
             "  labels: {app.kubernetes.io/name: web}"]
    marks = {"parent": 1}  # the document itself, when no part of the path exists
    keys = path if pod_spec is not None else path[:-1]
    for depth, key in enumerate(keys):
        lines.append("  " * depth + f"{key}:")
        marks["parent"] = len(lines)
    indent = "  " * len(keys)
    if pod_spec is None:
        if keys:
            lines.append(f"{indent}minReadySeconds: 5")  # something beside the template
    else:
        if path:  # a template has its own metadata; a Pod's is the one above
            lines.append(f"{indent}metadata: {{labels: {{app.kubernetes.io/name: web}}}}")
        lines.append(f"{indent}spec:")
        marks["pod spec"] = len(lines)
        for line in pod_spec.splitlines():
            lines.append(f"{indent}  {line}")
            if line.startswith("containers:"):
                marks["containers"] = len(lines)
    return "\n".join(lines) + "\n", marks


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
          text: str) -> tuple[int, str, dict[str, Any]]:
    """``gate check NAME`` in-process (fast enough for a table): status, text, JSON report."""
    (tmp_path / ".git").mkdir(exist_ok=True)  # no config of an enclosing repository
    (tmp_path / name).write_text(text, encoding="utf-8")
    code = main(["check", name, "-f", "text", "-f", "json=report.json", "--color", "never"])
    captured = capsys.readouterr()
    report: dict[str, Any] = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    return code, captured.out + captured.err, report


def kind_id(entry: tuple[str, str, tuple[str, ...]]) -> str:
    return f"{entry[1]}/{entry[0]}"


@pytest.mark.parametrize(("kind", "api_version", "path"), KINDS, ids=[kind_id(k) for k in KINDS])
def test_a_valid_workload_is_judged_and_passes(
    kind: str, api_version: str, path: tuple[str, ...], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    text, _ = manifest(api_version, kind, path, CONTAINERS)
    code, output, report = check(tmp_path, capsys, "web.yaml", text)
    assert code == 0, output
    assert report["errors"] == []
    judged = {r["policy"]: r["status"] for r in report["results"]}
    # Pod policies looked at it: it is pod-bearing.
    assert judged["no-latest-tag"] == "pass", report["results"]
    assert judged["resource-limits"] == "pass", report["results"]


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize(("kind", "api_version", "path"), KINDS, ids=[kind_id(k) for k in KINDS])
def test_a_malformed_workload_is_an_input_error(
    kind: str, api_version: str, path: tuple[str, ...], variant: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    pod_spec, blamed = VARIANTS[variant]
    text, marks = manifest(api_version, kind, path, pod_spec)
    code, output, report = check(tmp_path, capsys, "web.yaml", text)
    assert code == 2, output
    [error] = report["errors"]
    assert (error["file"], error["line"]) == ("web.yaml", marks[blamed]), (error, text)
    assert error["message"].startswith(f"{kind} 'web': "), error
    assert "a pod needs at least one container" in error["message"]
    assert f"web.yaml:{marks[blamed]}: error: {error['message']}" in output.splitlines()


def test_the_typo_message_names_the_typo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = WEB_DEPLOYMENT.replace("containers:", "container:")
    _, output, _ = check(tmp_path, capsys, "web.yaml", text)
    assert ("web.yaml:9: error: Deployment 'web': spec.template.spec has no 'containers' "
            "list (found 'container'; a pod needs at least one container)") in output


def test_items_of_a_list_are_checked_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = ("apiVersion: v1\nkind: List\nitems:\n"
            "  - apiVersion: v1\n    kind: Pod\n    metadata: {name: ok}\n"
            "    spec: {containers: [{name: a, image: 'a:1'}]}\n"
            "  - apiVersion: v1\n    kind: Pod\n    metadata: {name: broken}\n"
            "    spec: {containers: []}\n")
    code, output, report = check(tmp_path, capsys, "list.yaml", text)
    assert code == 2, output
    assert [(e["line"], e["message"]) for e in report["errors"]] == [
        (11, "Pod 'broken': spec.containers is empty (a pod needs at least one container)")]


@pytest.mark.parametrize("text", [
    # a CRD that happens to be called Deployment is judged by shape only
    "apiVersion: example.com/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: 1}\n",
    # a Rollout that references a Deployment runs that Deployment's pods
    "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: x}\n"
    "spec:\n  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n",
    # documents that are not resources
    "container:\n  - name: web\n",
    "kind: Deployment\nspec: {}\n",
])
def test_what_is_no_workload_is_not_an_error(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, output, report = check(tmp_path, capsys, "other.yaml", text)
    assert report["errors"] == [], output
    assert code in (0, 1), output


# -- the real CLI, end to end ------------------------------------------------------------

TYPO = WEB_DEPLOYMENT.replace("containers:", "container:")
TYPO_LINE = 9  # the line of the template's ``spec:``
MESSAGE = ("Deployment 'web': spec.template.spec has no 'containers' list (found 'container'; "
           "a pod needs at least one container)")


def test_gate_check_reports_the_typo_in_every_format(tmp_path: Path, gate_cli: RunGate) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "web.yaml").write_text(TYPO, encoding="utf-8")
    outputs = {fmt: tmp_path / f"report.{fmt}" for fmt in ("json", "sarif", "junit",
                                                          "markdown")}
    proc = gate_cli("check", "web.yaml", "-f", "text",
                    *(f"-f{fmt}={path}" for fmt, path in outputs.items()), cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"web.yaml:{TYPO_LINE}: error: {MESSAGE}" in (proc.stdout + proc.stderr).splitlines()
    for fmt, path in outputs.items():
        assert "spec.template.spec has no" in path.read_text(encoding="utf-8"), fmt
    report = json.loads(outputs["json"].read_text(encoding="utf-8"))
    assert report["errors"] == [{"file": "web.yaml", "line": TYPO_LINE, "message": MESSAGE}]
    assert report["verdict"] == "fail"


def test_gate_check_reports_the_typo_on_standard_input(gate_cli: RunGate) -> None:
    proc = gate_cli("check", "-", input=TYPO)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"<stdin>:{TYPO_LINE}: error: {MESSAGE}" in (proc.stdout + proc.stderr).splitlines()


def test_gate_check_reports_the_typo_in_a_kustomize_base(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    (tmp_path / ".git").mkdir()
    files = {
        "base/deployment.yaml": TYPO,
        "base/kustomization.yaml": "resources:\n  - deployment.yaml\n",
        # a patch is a partial Deployment without containers, and no resource
        "overlays/prod/replicas.yaml": ("apiVersion: apps/v1\nkind: Deployment\n"
                                        "metadata: {name: web}\nspec: {replicas: 3}\n"),
        "overlays/prod/kustomization.yaml": ("resources:\n  - ../../base\n"
                                             "patches:\n  - path: replicas.yaml\n"),
    }
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    proc = gate_cli("check", "overlays/prod", "--kustomize", "builtin", "-f", "json=r.json",
                    cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["errors"] == [
        {"file": "base/deployment.yaml", "line": TYPO_LINE, "message": MESSAGE}]
    # Fixed in the base, the overlay (patch and all) passes.
    (tmp_path / "base/deployment.yaml").write_text(WEB_DEPLOYMENT, encoding="utf-8")
    proc = gate_cli("check", "overlays/prod", "--kustomize", "builtin", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_an_overlay_patch_that_empties_the_containers_is_blamed(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    (tmp_path / ".git").mkdir()
    files = {
        "base/deployment.yaml": WEB_DEPLOYMENT,
        "base/kustomization.yaml": "resources:\n  - deployment.yaml\n",
        "overlays/prod/kustomization.yaml": (
            "resources:\n  - ../../base\n"
            "patches:\n"
            "  - target: {kind: Deployment, name: web}\n"
            "    patch: |-\n"
            "      - op: replace\n"
            "        path: /spec/template/spec/containers\n"
            "        value: []\n"),
    }
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    proc = gate_cli("check", "overlays/prod", "--kustomize", "builtin", "-f", "json=r.json",
                    cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    [error] = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["errors"]
    # the patch's operation set the field
    assert (error["file"], error["line"]) == ("overlays/prod/kustomization.yaml", 6), error
    assert error["message"] == ("Deployment 'web': spec.template.spec.containers is empty "
                                "(a pod needs at least one container)")


FAKE_HELM = """\
#!{python}
print("---")
print("# Source: shop/templates/deployment.yaml")
print('''{manifest}''')
"""


@pytest.mark.e2e
def test_gate_check_reports_the_typo_in_a_helm_chart(tmp_path: Path, run_gate: RunGate) -> None:
    work = tmp_path / "work"  # the helm below lies outside it: gate runs none from inside
    (work / ".git").mkdir(parents=True)
    chart = work / "shop"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: 0.1.0\n",
                                      encoding="utf-8")
    # values are a document, not a workload, whatever keys they hold
    (chart / "values.yaml").write_text("container:\n  image: ghcr.io/acme/web:1.0.0\n",
                                       encoding="utf-8")
    (chart / "templates" / "deployment.yaml").write_text(TYPO, encoding="utf-8")
    script = tmp_path / "helm"
    script.write_text(FAKE_HELM.format(python=sys.executable, manifest=TYPO.rstrip()),
                      encoding="utf-8")
    script.chmod(0o755)
    proc = run_gate("check", "--helm", "shop", "-f", "json=r.json", cwd=work,
                    env={"GATE_HELM": str(script)})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    [error] = json.loads((work / "r.json").read_text(encoding="utf-8"))["errors"]
    # a Go template is no YAML to find lines in: Helm findings point at its first line
    assert (error["file"], error["line"]) == ("shop/templates/deployment.yaml", 1), error
    assert error["message"] == MESSAGE


@pytest.mark.e2e
def test_gate_diff_reports_a_typo_the_change_makes(tmp_path: Path, run_gate: RunGate) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write("apps/web.yaml", WEB_DEPLOYMENT)
    repo.commit("web")
    repo.git("branch", "base")
    repo.replace("apps/web.yaml", "containers:", "container:")
    repo.commit("rename a key")
    proc = run_gate("diff", "--base", "base", "-f", "text", "-f", "json=../r.json",
                    cwd=repo.path, env={"NO_COLOR": "1"})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    line = repo.line_of("apps/web.yaml", "    spec:")
    assert f"apps/web.yaml:{line}: error: {MESSAGE}" in (proc.stdout + proc.stderr).splitlines()
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["errors"] == [{"file": "apps/web.yaml", "line": line, "message": MESSAGE}]
    # The fix passes: the base's malformed workload is the base's problem, not the change's.
    repo.replace("apps/web.yaml", "container:", "containers:")
    repo.commit("fix the key")
    repo.git("branch", "-f", "base", "HEAD~1")
    proc = run_gate("diff", "--base", "base", cwd=repo.path, env={"NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
