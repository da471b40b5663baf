"""The one planner: gate check's plan and gate diff's plan of the same tree agree.

Every tree below goes through ``Planner.directory("")`` (what ``gate check .``
reads) and through ``Planner.reach`` + ``Planner.side`` with every file changed
(what ``gate diff`` reads when a change touches everything): the units must be
the same, so the two commands cannot drift apart again. Then the rules one at
a time: every kustomization field that names a file, Argo CD Applications that
deploy an included kustomization, what is left unjudged and why.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.loading.environments import parse_environments
from gate.loading.planning import Plan, Planner
from gate.loading.renderers.base import RenderSettings, Unit
from gate.loading.renderers.kustomize import inputs as kustomize_inputs
from gate.loading.trees import walk_files
from gate.results import NOT_REFERENCED, NOT_RENDERED
from tests.conftest import RunGate
from tests.gitrepo import GitRepo
from tests.memtree import MemoryTree

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  template:
    spec:
      containers: [{{name: {name}, image: "ghcr.io/acme/{name}:1.0"}}]
"""


def deployment(name: str) -> str:
    return DEPLOYMENT.format(name=name)


def kustomization(body: str) -> str:
    return "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n" + body


COMPONENT = "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
LABELS = ("apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: labels}\n"
          "labels: {env: prod}\nfieldSpecs: [{path: metadata/labels, create: true}]\n")
CHART = "apiVersion: v2\nname: web\nversion: 1.0.0\n"
APPLICATION = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {{name: {name}, namespace: argocd, labels: {{gate.dev/environment: {env}}}}}
spec:
  project: default
  source: {{repoURL: "https://example.com/repo.git", path: {path}, targetRevision: main}}
  destination: {{server: "https://kubernetes.default.svc", namespace: {name}}}
"""

TREES: dict[str, dict[str, str]] = {
    "plain files": {"apps/a.yaml": deployment("a"), "apps/b.yml": deployment("b"),
                    "README.md": "# not yaml\n"},
    "overlays on a base": {
        "base/kustomization.yaml": kustomization("resources: [web.yaml]\n"),
        "base/web.yaml": deployment("web"),
        "overlays/dev/kustomization.yaml": kustomization("resources: [../../base]\n"),
        "overlays/prod/kustomization.yaml": kustomization(
            "resources: [../../base]\npatches: [{path: patch.yaml}]\n"
            "transformers: [labels.yaml]\n"),
        "overlays/prod/patch.yaml": deployment("web"),
        "overlays/prod/labels.yaml": LABELS,
        "loose.yaml": deployment("loose"),
    },
    "components used and unused": {
        "app/kustomization.yaml": kustomization("resources: [d.yaml]\ncomponents: [../c]\n"),
        "app/d.yaml": deployment("d"),
        "c/kustomization.yaml": COMPONENT + "patches: [{path: p.yaml}]\n",
        "c/p.yaml": deployment("d"),
        "unused/kustomization.yaml": COMPONENT + "patches: [{path: q.yaml}]\n",
        "unused/q.yaml": deployment("d"),
    },
    "charts": {
        "charts/web/Chart.yaml": CHART,
        "charts/web/values.yaml": "image: {tag: '1.0'}\n",
        "charts/web/templates/deploy.yaml": "{{ .Values.image }}\n",
        "charts/web/charts/sub/Chart.yaml": CHART,
        "other.yaml": deployment("other"),
    },
    "every file-naming field": {
        "o/kustomization.yaml": kustomization(
            "resources: [r.yaml]\n"
            "transformers: [t.yaml]\ngenerators: [g.yaml]\nvalidators: [v.yaml]\n"
            "replacements: [{path: repl.yaml}]\nconfigurations: [conf.yaml]\n"
            "openapi: {path: schema.json}\ncrds: [crd.yaml]\n"
            "configMapGenerator: [{name: c, files: [k=f.yaml], envs: [e.env]}]\n"
            "patchesStrategicMerge: [sm.yaml]\npatchesJson6902: [{path: j.yaml, "
            "target: {kind: Deployment, name: r}}]\n"),
        **{f"o/{name}": deployment("r") for name in (
            "r.yaml", "t.yaml", "g.yaml", "v.yaml", "repl.yaml", "conf.yaml", "crd.yaml",
            "f.yaml", "sm.yaml", "j.yaml")},
        "o/schema.json": "{}\n", "o/e.env": "A=1\n",
    },
    "hidden directories": {
        ".github/kustomization.yaml": kustomization("resources: [../apps/x.yaml]\n"),
        "apps/x.yaml": deployment("x"),
        ".ci/check/kustomization.yaml": kustomization("resources: [../../base]\n"),
        "base/kustomization.yaml": kustomization("resources: [d.yaml]\n"),
        "base/d.yaml": deployment("d"),
    },
    "an Application deploys an included kustomization": {
        "guestbook/kustomization.yaml": kustomization("resources: [g.yaml]\n"),
        "guestbook/g.yaml": deployment("guestbook"),
        "hooks/kustomization.yaml": kustomization("resources: [../guestbook, job.yaml]\n"),
        "hooks/job.yaml": deployment("job"),
        "argocd/guestbook.yaml": APPLICATION.format(name="guestbook", path="guestbook",
                                                     env="prod"),
        "argocd/hooks.yaml": APPLICATION.format(name="hooks", path="hooks", env="dev"),
    },
}
ENVIRONMENTS_CONFIG = [{"discover": "argocd"}]


def planner(tree: MemoryTree, settings: RenderSettings | None = None,
            argocd: bool = False) -> Planner:
    environments = None
    if argocd:
        config = parse_environments(ENVIRONMENTS_CONFIG, None, lambda *path: None)
        environments = config.map(tree)
    return Planner(tree, settings or RenderSettings("builtin"), environments)


def check_plan(tree: MemoryTree, settings: RenderSettings | None = None,
               argocd: bool = False) -> Plan:
    return planner(tree, settings, argocd).directory("")


def diff_plan(tree: MemoryTree, changed: set[str], settings: RenderSettings | None = None,
              argocd: bool = False) -> Plan:
    made = planner(tree, settings, argocd)
    reached = made.reach(changed)
    return made.side(reached.overlays, reached.charts, reached.files, reached.unrendered)


def visible(tree: MemoryTree) -> set[str]:
    return set(walk_files(tree))


@pytest.mark.parametrize("settings", [RenderSettings("builtin"), RenderSettings("builtin", True),
                                      RenderSettings("off")], ids=["kustomize", "helm", "off"])
@pytest.mark.parametrize("name", sorted(TREES))
def test_check_and_diff_plan_the_same_units(name: str, settings: RenderSettings,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # Helm "available" without a binary: planning only asks, it renders nothing here.
    monkeypatch.setattr("gate.loading.renderers.helm.available", lambda: True)
    tree = MemoryTree(dict(TREES[name]))
    argocd = name.startswith("an Application")
    checked = check_plan(tree, settings, argocd)
    diffed = diff_plan(tree, visible(tree), settings, argocd)
    assert sorted(checked.units) == sorted(diffed.units)
    # What a change to everything cannot render is what a full check cannot.
    assert {u.file for u in diffed.unjudged if u.category == NOT_RENDERED} <= {
        u.file for u in checked.unjudged}


def test_each_field_naming_a_file_is_an_input_and_consumed() -> None:
    tree = MemoryTree(dict(TREES["every file-naming field"]))
    named = kustomize_inputs.references(tree, "o")
    assert named is not None
    expected = {f"o/{name}" for name in (
        "kustomization.yaml", "r.yaml", "t.yaml", "g.yaml", "v.yaml", "repl.yaml", "conf.yaml",
        "schema.json", "crd.yaml", "f.yaml", "e.env", "sm.yaml", "j.yaml")}
    assert set(named.files) == expected
    assert named.manifests == ["o/r.yaml"]
    plan = check_plan(tree)
    assert plan.units == [Unit("kustomize", "o")]
    for path in sorted(expected - {"o/kustomization.yaml"}):
        # A change to any of them re-renders the overlay, and is no manifest of its own.
        assert diff_plan(tree, {path}).units == [Unit("kustomize", "o")], path


def test_helm_charts_of_a_kustomization_are_inputs() -> None:
    tree = MemoryTree({
        "o/kustomization.yaml": kustomization(
            "helmGlobals: {chartHome: ../charts}\n"
            "helmCharts: [{name: web, valuesFile: values-prod.yaml, "
            "additionalValuesFiles: [extra.yaml]}]\n"),
        "o/values-prod.yaml": "a: 1\n", "o/extra.yaml": "b: 2\n",
        "charts/web/Chart.yaml": CHART, "charts/web/templates/d.yaml": "x\n",
    })
    assert kustomize_inputs.inputs(tree, "o") == {
        "o/kustomization.yaml", "o/values-prod.yaml", "o/extra.yaml",
        "charts/web/Chart.yaml", "charts/web/templates/d.yaml"}


def test_a_plugin_config_directory_is_included_not_a_root() -> None:
    tree = MemoryTree({
        "o/kustomization.yaml": kustomization("resources: [d.yaml]\ntransformers: [../t]\n"),
        "o/d.yaml": deployment("d"),
        "t/kustomization.yaml": kustomization("resources: [labels.yaml]\n"),
        "t/labels.yaml": LABELS,
    })
    assert check_plan(tree).units == [Unit("kustomize", "o")]
    assert diff_plan(tree, {"t/labels.yaml"}).units == [Unit("kustomize", "o")]


def test_an_application_deploys_an_included_kustomization_as_itself() -> None:
    tree = MemoryTree(dict(TREES["an Application deploys an included kustomization"]))
    made = planner(tree, argocd=True)
    units = made.directory("").units
    assert Unit("kustomize", "guestbook") in units
    assert Unit("kustomize", "hooks") in units
    assert made.environment_of("guestbook") == "prod"
    # A change to the guestbook reaches both: itself in prod, and through hooks in dev.
    reached = made.reach({"guestbook/g.yaml"})
    assert reached.overlays == {"guestbook", "hooks"}
    # Without the Application, the guestbook is judged through hooks only.
    assert Unit("kustomize", "guestbook") not in check_plan(tree).units


def test_unjudged_charts_say_why() -> None:
    tree = MemoryTree(dict(TREES["charts"]))
    [item] = check_plan(tree).unjudged
    assert (item.file, item.what, item.category) == ("charts/web", "Helm chart", NOT_RENDERED)
    assert "--helm" in item.reason
    # The chart's templates and subcharts are never read as YAML; its own files are
    # (values files are documents some policies judge).
    assert sorted(u.path for u in check_plan(tree).units) == [
        "charts/web/Chart.yaml", "charts/web/values.yaml", "other.yaml"]
    [changed] = diff_plan(tree, {"charts/web/templates/deploy.yaml"}).unjudged
    assert changed.file == "charts/web"


def test_no_helm_binary_is_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gate.loading.renderers.helm.available", lambda: False)
    tree = MemoryTree(dict(TREES["charts"]))
    [item] = check_plan(tree, RenderSettings("builtin", True)).unjudged
    assert "no helm binary" in item.reason


def test_an_unused_component_is_unjudged_and_its_files_consumed() -> None:
    tree = MemoryTree(dict(TREES["components used and unused"]))
    plan = check_plan(tree)
    assert plan.units == [Unit("kustomize", "app")]
    [item] = plan.unjudged
    assert (item.file, item.what, item.category) == ("unused", "Kustomize component",
                                                     NOT_REFERENCED)
    assert "2 file(s)" in item.reason


def test_kustomize_off_names_the_overlays_it_does_not_render() -> None:
    tree = MemoryTree(dict(TREES["overlays on a base"]))
    plan = check_plan(tree, RenderSettings("off"))
    assert {u.file for u in plan.unjudged} == {"overlays/dev", "overlays/prod"}
    assert all(u.category == NOT_RENDERED and "--kustomize off" in u.reason
               for u in plan.unjudged)
    # Every YAML file is then judged as written, the kustomizations included.
    assert {u.path for u in plan.units} == {p for p in visible(tree) if p.endswith(".yaml")}


def test_a_patch_of_a_broken_kustomization_renders_the_overlay() -> None:
    """The overlay's kustomization cannot be parsed: its patch is not judged as a plain
    manifest by gate diff (rendering the overlay reports the broken file instead)."""
    tree = MemoryTree({
        "o/kustomization.yaml": "resources: [d.yaml\npatches: [{path: p.yaml}]\n",
        "o/d.yaml": deployment("d"),
        "o/p.yaml": deployment("d"),
    })
    assert diff_plan(tree, {"o/p.yaml"}).units == [Unit("kustomize", "o")]
    assert check_plan(tree).units[0] == Unit("kustomize", "o")


# -- end to end: what is judged does not depend on which paths are named -------------------

GATE_CONFIG = """environments:
  - discover: argocd
policies:
  image-digest:
    enforcement: warn
    environments:
      prod: {enforcement: block}
"""


@pytest.mark.e2e
def test_an_application_deployed_overlay_is_judged_in_its_environment_from_any_path(
        tmp_path: Path, run_gate: RunGate) -> None:
    """argocd-example-apps' shape: kustomize-guestbook has its own (prod) Application and
    pre-post-sync includes it. gate check . and gate check kustomize-guestbook both judge
    it as itself, in prod, where image-digest blocks; its transformer config is no resource."""
    files = {
        ".gate.yaml": GATE_CONFIG,
        "kustomize-guestbook/kustomization.yaml": kustomization(
            "resources: [g.yaml]\ntransformers: [labels.yaml]\n"),
        "kustomize-guestbook/g.yaml": deployment("guestbook"),
        "kustomize-guestbook/labels.yaml": LABELS,
        "pre-post-sync/kustomization.yaml": kustomization("resources: [../kustomize-guestbook]\n"),
        "apps/guestbook.yaml": APPLICATION.format(name="guestbook", path="kustomize-guestbook",
                                                  env="prod"),
    }
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    (tmp_path / ".git").mkdir()
    reports = {}
    for target in (".", "kustomize-guestbook"):
        done = run_gate("check", target, "--kustomize", "builtin", "-f", "json",
                        cwd=tmp_path)
        assert done.returncode == 1, done.stdout + done.stderr
        reports[target] = json.loads(done.stdout)
    for report in reports.values():
        digests = [(r["resource"]["rendered_by"], r["resource"]["environment"], r["status"])
                   for r in report["results"] if r["policy"] == "image-digest"]
        assert ("kustomize-guestbook", "prod", "fail") in digests
        assert not [r for r in report["results"]
                    if r["resource"]["file"].endswith("labels.yaml")]
    # From the root, the guestbook is also judged through pre-post-sync.
    assert "pre-post-sync" in {r["resource"]["rendered_by"]
                               for r in reports["."]["results"]}


def test_a_chart_an_environment_deploys_cannot_go_unjudged(monkeypatch: pytest.MonkeyPatch,
                                                           ) -> None:
    """Unrendered, a chart in a path an environment deploys is an input error (the run
    fails closed), not a note: its workloads would pass unseen."""
    tree = MemoryTree({
        "charts/web/Chart.yaml": CHART, "charts/web/templates/d.yaml": "x\n",
        "charts/tools/Chart.yaml": CHART,
    })
    config = parse_environments([{"name": "prod", "paths": ["charts/web/**"]}], None,
                                lambda *path: None)
    made = Planner(tree, RenderSettings("builtin"), config.map(tree))
    plan = made.directory("")
    [error] = plan.errors
    assert error.file == "charts/web/Chart.yaml"
    assert error.message.startswith("Helm chart deployed to prod cannot be judged: ")
    assert "--helm" in error.message
    # A chart no environment deploys is only listed as not judged.
    assert [u.file for u in plan.unjudged] == ["charts/tools"]
    monkeypatch.setattr("gate.loading.renderers.helm.available", lambda: False)
    [error] = Planner(tree, RenderSettings("builtin", True), config.map(tree)).directory(
        "").errors
    assert "no helm binary" in error.message


@pytest.mark.e2e
def test_a_submodule_is_never_silently_unjudged(tmp_path: Path, run_gate: RunGate) -> None:
    """A submodule's content is not in the repository: where an environment deploys it,
    gate diff fails closed; elsewhere every report says it was not judged."""
    repo = GitRepo.init(tmp_path / "repo")
    repo.write(".gate.yaml", "environments:\n  - {name: prod, paths: ['envs/prod/**']}\n")
    repo.write("envs/prod/web.yaml", deployment("web"))
    repo.commit("initial")
    sha = repo.sha("HEAD")
    for path in ("envs/prod/vendor", "tools/vendor"):
        repo.git("update-index", "--add", "--cacheinfo", f"160000,{sha},{path}")
    repo.commit("add submodules", add=False)
    done = run_gate("diff", "--base", "HEAD~1", "--kustomize", "builtin", "-f", "json",
                    cwd=repo.path)
    assert done.returncode == 2, done.stdout + done.stderr
    report = json.loads(done.stdout)
    [error] = report["errors"]
    assert error["file"] == "envs/prod/vendor"
    assert "submodule" in error["message"] and "deployed to prod" in error["message"]
    [item] = report["unjudged"]
    assert (item["file"], item["what"]) == ("tools/vendor", "git entry")
    assert "submodule" in item["reason"]
