"""Helm: the renderer (with a fake ``helm`` binary), the fixture chart, and values checks.

No test needs a real helm: ``GATE_HELM`` points :mod:`gate.loading.renderers.helm` at a small
Python script that records how it was run and prints what the test tells it to.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.config import Config, apply_config
from gate.errors import ConfigError
from gate.evaluation.evaluate import evaluate
from gate.evaluation.policy import Policy
from gate.evaluation.policy_loading import load_builtin
from gate.loading.renderers import RenderError, Rendering, helm
from gate.loading.resources import Resource, read_resources
from gate.loading.sources import SourceFile
from gate.loading.trees import WorkTree
from gate.results import FAIL, PASS
from tests.conftest import RunGate
from tests.memtree import MemoryTree

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "fixtures" / "helm"
DOC = ROOT / "docs" / "helm.md"
POLICY_ID = "helm-values-image-tag"
DIGEST = "sha256:" + "9c1e0d2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d9c0b1a2f3e4d5c6b7a8f9e0d"


# -- helpers ---------------------------------------------------------------------


def chart_files(prefix: str = "charts/web") -> dict[str, str | bytes]:
    """The fixture chart's files, as tree paths under ``prefix``."""
    return {
        f"{prefix}/{path.relative_to(CHART).as_posix()}": path.read_bytes()
        for path in sorted(CHART.rglob("*")) if path.is_file()
    }


FAKE_HELM = """#!{python}
import json, os, subprocess, sys, time

with open({config!r}) as handle:
    config = json.load(handle)
argv = sys.argv[1:]
files = sorted(
    os.path.relpath(os.path.join(directory, name), ".").replace(os.sep, "/")
    for directory, _, names in os.walk(".") for name in names
)
values = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-f"]
record = {{
    "argv": argv,
    "cwd": os.getcwd(),
    "files": files,
    "values": {{path: open(path).read() for path in values}},
    "env": {{k: v for k, v in os.environ.items()
             if k.startswith("HELM_") or k in ("HOME", "KUBECONFIG")}},
}}
if config.get("vandalise"):  # write into everything it was given
    for path in files:
        with open(path, "a") as handle:
            handle.write("# changed by helm\\n")
    with open("new-file.yaml", "w") as handle:
        handle.write("x: 1\\n")
    record["vandalised"] = True
if config.get("grandchild"):  # a child that keeps stdout open
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    record["grandchild"] = child.pid
with open(config["record"], "w") as handle:
    json.dump(record, handle)
time.sleep(config.get("sleep", 0))
sys.stdout.write(config.get("stdout", ""))
sys.stderr.write(config.get("stderr", ""))
sys.exit(config.get("exit", 0))
"""


class FakeHelm:
    """A fake ``helm`` on ``GATE_HELM``; ``configure`` sets what its next run does."""

    def __init__(self, directory: Path) -> None:
        self.config = directory / "fake-helm.json"
        self.record_file = directory / "fake-helm-record.json"
        self.binary = directory / "helm"
        self.binary.write_text(
            FAKE_HELM.format(python=sys.executable, config=str(self.config)), encoding="utf-8"
        )
        self.binary.chmod(self.binary.stat().st_mode | stat.S_IXUSR)
        self.configure()

    def configure(self, stdout: str = "", stderr: str = "", exit: int = 0, **more: Any) -> None:
        settings = {"stdout": stdout, "stderr": stderr, "exit": exit,
                    "record": str(self.record_file), **more}
        self.config.write_text(json.dumps(settings), encoding="utf-8")

    @property
    def ran(self) -> bool:
        return self.record_file.exists()

    @property
    def record(self) -> dict[str, Any]:
        record: dict[str, Any] = json.loads(self.record_file.read_text(encoding="utf-8"))
        return record


@pytest.fixture
def fake_helm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHelm:
    directory = tmp_path / "bin"
    directory.mkdir()
    fake = FakeHelm(directory)
    monkeypatch.setenv(helm.HELM_ENV, str(fake.binary))
    return fake


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A GitOps repository on disk: the fixture chart, per-environment values elsewhere."""
    root = tmp_path / "repo"
    for path, content in chart_files().items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
    (root / "envs" / "prod").mkdir(parents=True)
    (root / "envs" / "prod" / "values.yaml").write_text("replicaCount: 5\n", encoding="utf-8")
    (root / "apps").mkdir()
    (root / "apps" / "other.yaml").write_text("apiVersion: v1\nkind: Namespace\n"
                                              "metadata: {name: other}\n", encoding="utf-8")
    return root


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        path.relative_to(root).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*")) if path.is_file()
    }


def documents(*parts: tuple[str, str]) -> str:
    """helm template's output format: ``---``, ``# Source: PATH``, the manifest."""
    return "".join(f"---\n# Source: {source}\n{body}\n" for source, body in parts)


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: prod-web
spec:
  template:
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:latest"""
SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: prod-web"


# -- the binary ------------------------------------------------------------------


def test_gate_helm_names_the_binary(fake_helm: FakeHelm) -> None:
    assert helm.helm_binary() == str(fake_helm.binary)
    assert helm.available()


def test_helm_on_path(fake_helm: FakeHelm, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(helm.HELM_ENV)
    monkeypatch.setenv("PATH", str(fake_helm.binary.parent))
    assert helm.helm_binary() == str(fake_helm.binary)


def test_no_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(helm.HELM_ENV, str(tmp_path / "no-such-helm"))
    assert helm.helm_binary() is None
    assert not helm.available()
    monkeypatch.delenv(helm.HELM_ENV)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not helm.available()
    with pytest.raises(RenderError, match="no helm binary") as caught:
        helm.render(MemoryTree(chart_files()), "charts/web", [], "web")
    assert caught.value.file == "charts/web/Chart.yaml"


# -- charts in a tree ------------------------------------------------------------


def test_find_charts() -> None:
    tree = MemoryTree({
        "apps/web/Chart.yaml": "name: web",
        "apps/web/templates/deployment.yaml": "",
        "apps/web/charts/redis/Chart.yaml": "name: redis",  # a subchart: part of web
        "apps/web/charts/redis/templates/sts.yaml": "",
        "apps/api/chart/Chart.yaml": "name: api",
        "apps/api/values/prod.yaml": "",
        "apps/.archive/old/Chart.yaml": "name: old",  # hidden
        "apps/notachart/Chart.yml": "name: x",  # helm reads Chart.yaml only
        "infra/ingress/Chart.yaml": "name: ingress",
        "Chart.yaml/x": "a directory named Chart.yaml is no chart",
    })
    assert helm.find_charts(tree) == ["apps/api/chart", "apps/web", "infra/ingress"]
    assert helm.find_charts(tree, "apps") == ["apps/api/chart", "apps/web"]
    assert helm.find_charts(tree, "apps/web") == ["apps/web"]
    assert helm.find_charts(tree, "nowhere") == []


def test_find_charts_in_the_working_tree() -> None:
    assert "fixtures/helm" in helm.find_charts(WorkTree(str(ROOT)), "fixtures")
    assert helm.find_charts(WorkTree(str(ROOT)), "fixtures/helm") == ["fixtures/helm"]
    assert helm.find_charts(WorkTree(str(CHART))) == [""]


def test_value_files() -> None:
    tree = MemoryTree(chart_files())
    assert helm.default_value_files(tree, "charts/web") == []
    assert helm.value_file_path("charts/web", "values-prod.yaml") == "charts/web/values-prod.yaml"
    assert helm.value_file_path("charts/web", "../../envs/prod/values.yaml") == (
        "envs/prod/values.yaml"
    )
    for outside in ("../../../secrets.yaml", "/etc/passwd"):
        with pytest.raises(RenderError) as caught:
            helm.value_file_path("charts/web", outside)
        assert caught.value.file == "charts/web/Chart.yaml"


# -- running helm ----------------------------------------------------------------


@pytest.mark.e2e
def test_argv(fake_helm: FakeHelm, repo: Path) -> None:
    fake_helm.configure(stdout=documents(("web/templates/service.yaml", SERVICE)))
    helm.render(WorkTree(str(repo)), "charts/web",
                ["charts/web/values-prod.yaml", "envs/prod/values.yaml"], "web-prod", "shop")
    assert fake_helm.record["argv"] == [
        "template", "web-prod", "./charts/web",
        "-f", "./charts/web/values-prod.yaml", "-f", "./envs/prod/values.yaml",
        "--namespace", "shop", "--include-crds", "--skip-tests",
    ]
    # Values files apply in the order given; no namespace, no --namespace.
    helm.render(WorkTree(str(repo)), "charts/web",
                ["envs/prod/values.yaml", "charts/web/values-prod.yaml"], "web", None)
    assert fake_helm.record["argv"] == [
        "template", "web", "./charts/web",
        "-f", "./envs/prod/values.yaml", "-f", "./charts/web/values-prod.yaml",
        "--include-crds", "--skip-tests",
    ]


@pytest.mark.e2e
def test_chart_at_the_root(fake_helm: FakeHelm) -> None:
    fake_helm.configure(stdout=documents(("web/templates/service.yaml", SERVICE)))
    rendering = helm.render(WorkTree(str(CHART)), "", ["values-prod.yaml"], "web")
    assert fake_helm.record["argv"][:5] == ["template", "web", ".", "-f", "./values-prod.yaml"]
    assert [r.origin_file for r in rendering.resources] == ["templates/service.yaml"]


@pytest.mark.e2e
def test_materialises_the_chart_and_values_files_only(fake_helm: FakeHelm, repo: Path) -> None:
    (repo / "charts" / "web" / ".helmignore").write_text("*.bak\n", encoding="utf-8")
    fake_helm.configure(stdout=documents(("web/templates/service.yaml", SERVICE)))
    rendering = helm.render(WorkTree(str(repo)), "charts/web",
                            ["envs/prod/values.yaml", "charts/web/values-prod.yaml"], "web")
    record = fake_helm.record
    expected = {f"charts/web/{name}" for name in (
        ".helmignore", "Chart.yaml", "values.yaml", "values-prod.yaml",
        "templates/deployment.yaml", "templates/service.yaml",
    )} | {"envs/prod/values.yaml"}
    assert set(record["files"]) == expected  # apps/other.yaml is not copied
    assert rendering.inputs == expected
    assert rendering.directory == "charts/web"
    assert record["values"]["./envs/prod/values.yaml"] == "replicaCount: 5\n"
    assert record["values"]["./charts/web/values-prod.yaml"] == (
        repo / "charts/web/values-prod.yaml").read_text(encoding="utf-8")
    # The temporary copy is gone afterwards.
    assert not Path(record["cwd"]).exists()


@pytest.mark.e2e
def test_helm_settings_point_into_the_scratch_directory(
    fake_helm: FakeHelm, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELM_KUBECONTEXT", "prod-cluster")
    monkeypatch.setenv("HELM_REPOSITORY_CONFIG", "/home/someone/.config/helm/repositories.yaml")
    monkeypatch.setenv("KUBECONFIG", "/home/someone/.kube/config")
    fake_helm.configure(stdout="")
    helm.render(WorkTree(str(repo)), "charts/web", [], "web")
    record = fake_helm.record
    scratch = os.path.dirname(record["cwd"])
    env = record["env"]
    assert "HELM_KUBECONTEXT" not in env
    assert env["HELM_NO_PLUGINS"] == "1"
    for name in ("HOME", "KUBECONFIG", "HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME",
                 "HELM_PLUGINS", "HELM_REPOSITORY_CACHE", "HELM_REPOSITORY_CONFIG",
                 "HELM_REGISTRY_CONFIG"):
        assert env[name].startswith(scratch + os.sep), name


@pytest.mark.e2e
def test_renders_from_a_tree_in_memory(fake_helm: FakeHelm) -> None:
    tree = MemoryTree({**chart_files(), "envs/prod/values.yaml": "replicaCount: 5\n"})
    fake_helm.configure(stdout=documents(("web/templates/deployment.yaml", DEPLOYMENT)))
    rendering = helm.render(tree, "charts/web", ["envs/prod/values.yaml"], "web")
    assert fake_helm.record["values"] == {"./envs/prod/values.yaml": "replicaCount: 5\n"}
    assert "charts/web/templates/deployment.yaml" in fake_helm.record["files"]
    [resource] = rendering.resources
    assert resource.obj["kind"] == "Deployment"
    assert resource.origin_file == "charts/web/templates/deployment.yaml"


@pytest.mark.e2e
def test_nothing_in_the_repository_changes(fake_helm: FakeHelm, repo: Path) -> None:
    before = snapshot(repo)
    fake_helm.configure(stdout=documents(("web/templates/service.yaml", SERVICE)),
                        vandalise=True)
    helm.render(WorkTree(str(repo)), "charts/web",
                ["charts/web/values-prod.yaml", "envs/prod/values.yaml"], "web")
    assert fake_helm.record["vandalised"]
    assert snapshot(repo) == before


@pytest.mark.e2e
def test_missing_values_files_can_be_ignored(fake_helm: FakeHelm) -> None:
    tree = MemoryTree({**chart_files(), "envs/prod/values.yaml": "replicaCount: 5\n"})
    fake_helm.configure(stdout="")
    rendering = helm.render(tree, "charts/web", ["envs/missing.yaml", "envs/prod/values.yaml"],
                            "web", ignore_missing_value_files=True)
    assert fake_helm.record["argv"][3:5] == ["-f", "./envs/prod/values.yaml"]
    assert "-f" not in fake_helm.record["argv"][5:]
    assert "envs/missing.yaml" not in rendering.inputs


# -- from helm's output back to the templates ------------------------------------

SUBCHARTS = {
    **chart_files(),
    "charts/web/Chart.yaml": (
        "apiVersion: v2\nname: web\nversion: 0.3.0\ndependencies:\n"
        "  - {name: redis, version: 17.0.0, alias: cache}\n"
        "  - {name: postgresql, version: 12.0.0}\n"
    ),
    "charts/web/charts/redis-chart/Chart.yaml": "apiVersion: v2\nname: redis\nversion: 17.0.0\n",
    "charts/web/charts/redis-chart/templates/master.yaml": "{{ template }}",
    "charts/web/charts/postgresql-12.0.0.tgz": b"\x1f\x8b packaged",
}


@pytest.mark.e2e
def test_source_comments_map_documents_to_templates(fake_helm: FakeHelm) -> None:
    config_map = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: scripts}\ndata:\n"
        "  run.sh: |\n    # Source: not/a/template.yaml\n    echo hi"
    )
    fake_helm.configure(stdout=documents(
        ("web/templates/service.yaml", SERVICE),
        ("web/templates/deployment.yaml", DEPLOYMENT),
        ("web/templates/deployment.yaml", DEPLOYMENT.replace("prod-web", "prod-web-canary")),
        ("web/templates/configmap.yaml", config_map),  # not in the chart: blamed on Chart.yaml
        ("web/templates/empty.yaml", "# rendered nothing"),
        ("web/templates/service.yaml",
         "apiVersion: v1\nkind: List\nitems:\n- " + SERVICE.replace("\n", "\n  ")
         + "\n- " + SERVICE.replace("\n", "\n  ").replace("prod-web", "prod-web-2")),
        ("web/charts/cache/templates/master.yaml", SERVICE.replace("prod-web", "redis")),
        ("web/charts/postgresql/templates/sts.yaml", SERVICE.replace("prod-web", "pg")),
    ))
    rendering = helm.render(MemoryTree(SUBCHARTS), "charts/web", [], "prod")
    got = [
        (r.obj["metadata"]["name"], r.origin_file, r.origin_doc, r.origin_prefix, r.origin_line)
        for r in rendering.resources
    ]
    assert got == [
        ("prod-web", "charts/web/templates/service.yaml", 0, (), 1),
        ("prod-web", "charts/web/templates/deployment.yaml", 0, (), 1),
        ("prod-web-canary", "charts/web/templates/deployment.yaml", 1, (), 1),
        ("scripts", "charts/web/Chart.yaml", 0, (), 1),
        ("prod-web", "charts/web/templates/service.yaml", 1, ("items", 0), 1),
        ("prod-web-2", "charts/web/templates/service.yaml", 1, ("items", 1), 1),
        # an aliased subchart in a directory not named after it
        ("redis", "charts/web/charts/redis-chart/templates/master.yaml", 0, (), 1),
        # a packaged subchart: nothing to point at but the chart naming it
        ("pg", "charts/web/Chart.yaml", 0, (), 1),
    ]
    for resource in rendering.resources:
        assert resource.provenance == {(): (resource.origin_file, 1)}


@pytest.mark.e2e
def test_findings_point_at_the_template(fake_helm: FakeHelm, repo: Path) -> None:
    """As the collector builds resources: a finding lands on the template, line 1.

    The template is not YAML (``{{ }}``), so nothing may try to locate fields in it.
    """
    fake_helm.configure(stdout=documents(("web/templates/deployment.yaml", DEPLOYMENT)))
    tree = WorkTree(str(repo))
    rendering = helm.render(tree, "charts/web", ["charts/web/values-prod.yaml"], "prod")
    [rendered] = rendering.resources
    text = tree.read_bytes(rendered.origin_file).decode()
    with pytest.raises(yaml.YAMLError):
        list(yaml.safe_load_all(text))
    resource = Resource(rendered.obj, SourceFile(rendered.origin_file, text), rendered.origin_doc,
                        rendered.origin_line, rendered.origin_prefix, rendered_by="charts/web",
                        provenance=dict(rendered.provenance))
    no_latest = next(p for p in load_builtin() if p.id == "no-latest-tag")
    [result] = evaluate([no_latest], [resource], "info")
    assert result.status == FAIL
    assert (result.file, result.line) == ("charts/web/templates/deployment.yaml", 1)
    assert result.field == "spec.template.spec.containers[0].image"


# -- errors ----------------------------------------------------------------------


def render_web(**options: Any) -> Rendering:
    return helm.render(MemoryTree(chart_files()), "charts/web", [], "web", **options)


@pytest.mark.e2e
def test_helm_error_names_the_template_and_line(fake_helm: FakeHelm) -> None:
    fake_helm.configure(exit=1, stderr=(
        "walk.go:74: found symbolic link in path: /x resolves to /y\n"
        'Error: template: web/templates/deployment.yaml:24:20: executing "web/templates/'
        'deployment.yaml" at <.Values.image.tag>: nil pointer evaluating interface {}.tag\n'
        "Use --debug flag to render out invalid YAML\n"
    ))
    with pytest.raises(RenderError) as caught:
        render_web()
    error = caught.value
    assert error.message.startswith("helm template: template: web/templates/deployment.yaml:24:20")
    assert (error.file, error.line) == ("charts/web/templates/deployment.yaml", 24)


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("stderr", "message"),
    [
        ("Error: found in Chart.yaml, but missing in charts/ directory: redis\n",
         "helm template: found in Chart.yaml, but missing in charts/ directory: redis"),
        ("Error: template: web/templates/gone.yaml:3:1: bad\n",  # no such file: the chart
         "helm template: template: web/templates/gone.yaml:3:1: bad"),
        ("\nsomething went wrong\nmore detail\n", "helm template: something went wrong"),
        ("", "helm template: helm template exited with status 1"),
    ],
)
def test_helm_error_blames_the_chart(fake_helm: FakeHelm, stderr: str, message: str) -> None:
    fake_helm.configure(exit=1, stderr=stderr, stdout=documents(("web/templates/s.yaml", SERVICE)))
    with pytest.raises(RenderError) as caught:
        render_web()
    assert caught.value.message == message
    assert (caught.value.file, caught.value.line) == ("charts/web/Chart.yaml", None)


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("stdout", "message"),
    [
        ("---\n# Source: web/templates/a.yaml\nkey: [unclosed\n", "what is not YAML"),
        ("---\n# Source: web/templates/a.yaml\n- a\n- b\n", "a YAML list, not an object"),
        ("---\n# Source: web/templates/a.yaml\nkind: List\nitems: [1]\n", "not an object"),
    ],
)
def test_output_that_is_not_resources(fake_helm: FakeHelm, stdout: str, message: str) -> None:
    fake_helm.configure(stdout=stdout)
    with pytest.raises(RenderError, match=message):
        render_web()


@pytest.mark.e2e
def test_timeout(fake_helm: FakeHelm) -> None:
    fake_helm.configure(sleep=30, grandchild=True)
    started = time.monotonic()
    with pytest.raises(RenderError, match=r"did not finish within 0\.5 seconds") as caught:
        render_web(timeout=0.5)
    assert time.monotonic() - started < 10
    assert caught.value.file == "charts/web/Chart.yaml"
    # What helm started is killed with it (it would otherwise hold the output pipe open).
    grandchild = fake_helm.record["grandchild"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(grandchild):
        time.sleep(0.05)
    assert not _alive(grandchild)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead; /proc says so where there is one
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"chart_dir": "charts"}, "not a Helm chart"),
        ({"release": "--post-renderer=/bin/sh"}, "invalid Helm release name"),
        ({"release": "Web"}, "invalid Helm release name"),
        ({"release": "x" * 54}, "invalid Helm release name"),
        ({"namespace": "-n"}, "invalid namespace"),
        ({"value_files": ["envs/missing.yaml"]}, "values file envs/missing.yaml does not exist"),
        ({"value_files": ["../outside.yaml"]}, "leaves the repository"),
        ({"chart_dir": "../elsewhere"}, "leaves the repository"),
    ],
)
def test_refused_before_running_helm(
    fake_helm: FakeHelm, arguments: dict[str, Any], message: str
) -> None:
    call: dict[str, Any] = {"chart_dir": "charts/web", "value_files": [], "release": "web",
                            "namespace": None, **arguments}
    with pytest.raises(RenderError, match=message):
        helm.render(MemoryTree(chart_files()), **call)
    assert not fake_helm.ran


# -- the values policy on the fixture chart, end to end ---------------------------


def gate_check_chart(run_gate: RunGate) -> tuple[int, dict[str, Any]]:
    completed = run_gate("check", "--kustomize", "off", "-f", "json", "fixtures/helm", cwd=ROOT)
    assert completed.returncode in (0, 1, 2), completed.stderr
    return completed.returncode, json.loads(completed.stdout)


def test_gate_check_flags_the_values_file(gate_cli: RunGate) -> None:
    _, report = gate_check_chart(gate_cli)
    mine = [r for r in report["results"] if r["policy"] == POLICY_ID]
    failures = sorted((r["file"], r["line"], r["field"], r["message"])
                      for r in mine if r["status"] == FAIL)
    assert failures == [
        ("fixtures/helm/values-prod.yaml", 7, "image.tag",
         "image 'ghcr.io/acme/web' names tag \"latest\" and no digest"),
        ("fixtures/helm/values-prod.yaml", 12, "metrics.image.tag",
         "image 'ghcr.io/acme/metrics-exporter' has tag 1.1 written as a YAML number; quote it"),
    ]
    defaults = {r["status"] for r in mine if r["resource"]["file"] == "fixtures/helm/values.yaml"}
    assert defaults == {PASS}


def test_gate_check_does_not_read_templates_as_manifests(gate_cli: RunGate) -> None:
    status, report = gate_check_chart(gate_cli)
    assert report["errors"] == []
    assert status == 1


# -- per-environment settings (Policy.variants) ----------------------------------

VALUES = f"""image:
  repository: ghcr.io/acme/web
  tag: "1.4.2"
sidecar:
  image:
    repository: ghcr.io/acme/proxy
    tag: "2.0.0"
    digest: {DIGEST}
"""


def values_documents(environment: str, name: str = "charts/web/values.yaml") -> list[Resource]:
    found = []
    for entry in read_resources(SourceFile(name, VALUES), documents=True):
        assert isinstance(entry, Resource) and not entry.is_resource
        entry.environment = environment
        found.append(entry)
    return found


def configured_policy(settings: dict[str, Any]) -> Policy:
    config = Config(policies={POLICY_ID: settings})
    [policy] = [p for p in apply_config(config, load_builtin()) if p.id == POLICY_ID]
    return policy


def test_digest_required_only_where_configured() -> None:
    policy = configured_policy({"environments": {"prod": {"parameters": {"require_digest": True}}}})
    results = {
        environment: evaluate([policy], values_documents(environment), "info")
        for environment in ("prod", "staging", "")
    }
    [prod] = results["prod"]
    assert prod.status == FAIL
    assert (prod.field, prod.line) == ("image.digest", 1)  # no digest: the block's line
    assert prod.message == "image 'ghcr.io/acme/web' is not pinned by a sha256 digest"
    assert [r.status for r in results["staging"]] == [PASS]
    assert [r.status for r in results[""]] == [PASS]


def test_environment_settings_override_the_policy_own() -> None:
    policy = configured_policy({
        "parameters": {"require_digest": True},
        "environments": {"dev": {"parameters": {"require_digest": False}, "enforcement": "warn"}},
    })
    assert [r.status for r in evaluate([policy], values_documents("prod"), "info")] == [FAIL]
    assert [r.status for r in evaluate([policy], values_documents("dev"), "info")] == [PASS]


def test_environment_parameters_are_validated() -> None:
    with pytest.raises(ConfigError, match="require_digest"):
        configured_policy({"environments": {"prod": {"parameters": {"require_digest": "yes"}}}})
    with pytest.raises(ConfigError, match="no parameter 'pin'"):
        configured_policy({"environments": {"prod": {"parameters": {"pin": True}}}})


# -- the fixture chart itself ----------------------------------------------------


def test_fixture_chart_is_complete() -> None:
    for name in ("Chart.yaml", "values.yaml", "values-prod.yaml",
                 "templates/deployment.yaml", "templates/service.yaml"):
        assert (CHART / name).is_file(), name
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    assert chart["apiVersion"] == "v2" and chart["name"] == "web"


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("helm") is None, reason="no helm binary on this machine")
def test_real_helm_renders_the_fixture_chart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(helm.HELM_ENV, raising=False)
    rendering = helm.render(WorkTree(str(ROOT)), "fixtures/helm",
                            ["fixtures/helm/values-prod.yaml"], "prod", "shop")
    by_kind = {r.obj["kind"]: r for r in rendering.resources}
    assert by_kind["Deployment"].origin_file == "fixtures/helm/templates/deployment.yaml"
    assert by_kind["Service"].origin_file == "fixtures/helm/templates/service.yaml"
    containers = by_kind["Deployment"].obj["spec"]["template"]["spec"]["containers"]
    assert containers[0]["image"] == "ghcr.io/acme/web:latest"


def test_doc_console_sessions(gate_cli: RunGate) -> None:
    """The ``console`` sessions of docs/helm.md give the findings and verdict they show."""
    sessions = re.findall(r"^```console\n(.*?)^```", DOC.read_text(encoding="utf-8"),
                          re.MULTILINE | re.DOTALL)
    assert sessions
    for session in sessions:
        command, *expected = session.splitlines()
        assert command.startswith("$ gate ")
        completed = gate_cli(*shlex.split(command)[2:], cwd=ROOT)
        output = (completed.stdout + completed.stderr).splitlines()
        findings = [line for line in output if "] " in line and line.startswith("fixtures/")]
        assert findings == [line for line in expected if line.startswith("fixtures/")]
        [verdict] = [line for line in expected if line.startswith("gate: ")]
        assert verdict.split(" (")[0] in output[-1], output


# -- gate check --helm, end to end -----------------------------------------------------

FAKE_HELM_SCRIPT = """\
#!{python}
import sys
chart = sys.argv[3]
print("---")
print("# Source: shop/templates/deployment.yaml")
print('''apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  labels: {{app.kubernetes.io/name: shop}}
spec:
  template:
    spec:
      containers:
        - name: shop
          image: ghcr.io/acme/shop:latest
          resources:
            requests: {{cpu: 100m, memory: 64Mi}}
            limits: {{cpu: 200m, memory: 128Mi}}''')
"""


@pytest.mark.e2e
def test_gate_check_helm_renders_charts_and_blames_templates(
    tmp_path: Path, run_gate: RunGate
) -> None:
    work = tmp_path / "work"
    shutil.copytree(ROOT / "fixtures" / "helm", work / "shop")
    # Outside the working directory: gate never runs a binary from the tree it judges.
    (tmp_path / "bin").mkdir()
    script = tmp_path / "bin" / "helm"
    script.write_text(FAKE_HELM_SCRIPT.format(python=sys.executable))
    script.chmod(0o755)
    proc = run_gate("check", "--helm", "shop", "-f", "json=report.json", cwd=work,
                    env={"GATE_HELM": str(script)})
    assert "Traceback" not in proc.stderr
    report = json.loads((work / "report.json").read_text())
    rendered = [r for r in report["results"] if r["resource"]["rendered_by"]]
    latest = [r for r in rendered if r["policy"] == "no-latest-tag" and r["status"] == "fail"]
    assert latest, report["results"]
    assert latest[0]["file"] == "shop/templates/deployment.yaml"
    assert latest[0]["resource"]["rendered_by"].startswith("shop")


def test_gate_check_helm_without_a_binary_says_what_was_not_rendered(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    work = tmp_path / "work"
    shutil.copytree(ROOT / "fixtures" / "helm", work / "shop")
    proc = gate_cli("check", "--helm", "shop", cwd=work,
                    env={"GATE_HELM": str(tmp_path / "no-such-helm")})
    assert ("shop: not judged: Helm chart not rendered: no helm binary (set GATE_HELM or PATH); "
            "its values files are still checked") in proc.stdout.splitlines()
    assert ", 1 not judged" in proc.stdout
    # Without --helm the chart is not judged either, and the report says so.
    plain = gate_cli("check", "shop", cwd=work)
    assert ("shop: not judged: Helm chart not rendered: Helm charts are rendered only with "
            "--helm; its values files are still checked") in plain.stdout.splitlines()
    # The values files are still checked (values-prod.yaml has deliberate problems).
    assert proc.returncode == 1
    assert "values-prod.yaml" in proc.stdout
