"""Argo CD discovery (gate.loading.argocd): Applications, ApplicationSets, and what each deploys."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.loading.argocd.discovery import discover
from gate.loading.argocd.model import ArgoSettings, DeployedPath, Discovery, normalize_repo_url
from gate.loading.argocd.paths import go_path_match
from gate.loading.argocd.templates import TemplateError, go_string, render_string
from gate.loading.trees import WorkTree
from tests.memtree import MemoryTree

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "argocd"
REPO = "https://github.com/acme/gitops.git"
FILTERED = ArgoSettings(repo_urls=("https://github.com/acme/gitops", "git@github.com:acme/gitops"),
                        target_revisions=("main", "HEAD"))


def application(
    name: str = "app", path: str | None = "app", *, repo: str = REPO, revision: str = "main",
    labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None,
    namespace: str | None = None, sources: list[dict[str, Any]] | None = None, **source: Any,
) -> str:
    """The YAML of an Application; keyword arguments go into its single source."""
    metadata: dict[str, Any] = {"name": name}
    if labels:
        metadata["labels"] = labels
    if annotations:
        metadata["annotations"] = annotations
    spec: dict[str, Any] = {"project": "default",
                            "destination": {"server": "https://kubernetes.default.svc"}}
    if namespace:
        spec["destination"]["namespace"] = namespace
    if sources is not None:
        spec["sources"] = sources
    else:
        entry = {"repoURL": repo, "targetRevision": revision, **source}
        if path is not None:
            entry["path"] = path
        spec["source"] = entry
    return yaml.safe_dump({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                           "metadata": metadata, "spec": spec}, sort_keys=False)


def application_set(
    generators: list[dict[str, Any]], template: dict[str, Any], go_template: bool = False,
    name: str = "set", **spec: Any,
) -> str:
    body: dict[str, Any] = {"generators": generators, "template": template, **spec}
    if go_template:
        body["goTemplate"] = True
    return yaml.safe_dump({"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
                           "metadata": {"name": name}, "spec": body}, sort_keys=False)


def template(path: str, name: str, env: str | None = None, namespace: str = "default",
             **source: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if env is not None:
        metadata["labels"] = {"gate.dev/environment": env}
    return {"metadata": metadata,
            "spec": {"project": "default",
                     "source": {"repoURL": REPO, "targetRevision": "main", "path": path,
                                **source},
                     "destination": {"server": "https://kubernetes.default.svc",
                                     "namespace": namespace}}}


def run(files: dict[str, str | bytes], settings: ArgoSettings | None = None) -> Discovery:
    return discover(MemoryTree(files), settings)


def rows(found: Discovery) -> list[tuple[str, str | None, str, str]]:
    return [(d.application, d.path, d.kind, d.environment) for d in found.deployed]


def messages(found: Discovery) -> list[str]:
    return [note.message for note in found.notes]


def has_note(found: Discovery, *parts: str) -> bool:
    return any(all(part in message for part in parts) for message in messages(found))


# -- the fixture repository ----------------------------------------------------------------

EXPECTED = [
    # application, path, kind, environment, what named it, recurse
    ("addon-cert-manager", "addons/cert-manager", "directory", "platform",
     "label gate.dev/environment", True),
    ("addon-ingress-nginx", "addons/ingress-nginx", "directory", "platform",
     "label gate.dev/environment", True),
    ("dev-catalog", "envs/dev/catalog", "directory", "dev", "label gate.dev/environment", False),
    ("prod-catalog", "envs/prod/catalog", "directory", "prod", "label gate.dev/environment",
     False),
    ("prod-search", "envs/prod/search", "kustomize", "prod", "label gate.dev/environment", True),
    ("staging-catalog", "envs/staging/catalog", "directory", "staging",
     "label gate.dev/environment", False),
    ("legacy-billing", "legacy", "directory", "billing", "destination namespace", False),
    ("monitoring-prod-eu", "monitoring/prod-eu", "kustomize", "prod",
     "label gate.dev/environment", True),
    ("monitoring-staging-us", "monitoring/staging-us", "kustomize", "staging",
     "label gate.dev/environment", True),
    ("orders-dev", "envs/dev/orders", "kustomize", "dev", "label gate.dev/environment", True),
    ("orders-prod", "envs/prod/orders", "kustomize", "prod", "label environment", True),
    ("orders-staging", "envs/staging/orders", "kustomize", "staging",
     "annotation gate.dev/environment", True),
    ("payments-dev", "charts/payments", "helm", "dev", "label gate.dev/environment", True),
    ("payments-prod", "charts/payments", "helm", "prod", "label env", True),
    ("root", "apps", "directory", "argocd", "destination namespace", False),
]


def test_fixture_repository_with_filters() -> None:
    found = discover(WorkTree(str(FIXTURE)), FILTERED)
    assert [(d.application, d.path, d.kind, d.environment, d.environment_from, d.recurse)
            for d in found.deployed] == EXPECTED
    by_name = {d.application: d for d in found.deployed}
    assert by_name["orders-prod"].extra_paths == ("envs/prod/orders", "shared/orders")
    assert by_name["payments-prod"].value_files == ("charts/payments/values.yaml",
                                                    "envs/prod/payments/values.yaml")
    assert by_name["payments-dev"].value_files == ("envs/dev/payments/values.yaml",)
    assert by_name["prod-catalog"].application_set == "services"
    assert (by_name["prod-catalog"].file, by_name["prod-catalog"].line) == (
        "apps/envs-appset.yaml", 3)
    assert (by_name["orders-dev"].namespace, by_name["orders-dev"].destination) == (
        "orders", "dev-cluster")
    assert by_name["monitoring-prod-eu"].destination == "https://prod-eu.k8s.acme.dev"
    assert messages(found) == [
        "Application 'preview-checkout': spec.source is not deployed from here: it tracks "
        "'feature/new-checkout', not main, HEAD",
        "ApplicationSet 'pr-previews': the 'pullRequest' generator is not expanded; the "
        "Applications it generates are not known",
        "Application 'vendor-agent': spec.source is not deployed from here: repoURL "
        "'https://github.com/vendor/agent-deploy.git' is not this repository",
    ]
    notes = {note.file: note.line for note in found.notes}
    assert notes["apps/preview.yaml"] == 10  # the line of spec.source


def test_fixture_without_filters_accepts_every_source() -> None:
    found = discover(WorkTree(str(FIXTURE)))
    names = [d.application for d in found.deployed]
    assert "preview-checkout" in names and "vendor-agent" in names
    assert len(found.applications) == len(EXPECTED) + 2


def test_fixture_only_https_url_leaves_out_the_ssh_one() -> None:
    settings = ArgoSettings(repo_urls=("https://github.com/acme/gitops",))
    found = discover(WorkTree(str(FIXTURE)), settings)
    assert "orders-staging" not in [d.application for d in found.deployed]
    assert has_note(found, "'orders-staging'", "git@github.com:Acme/GitOps.git")


def test_work_tree_and_memory_tree_agree(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(FIXTURE, copy)
    files: dict[str, str | bytes] = {
        path.relative_to(copy).as_posix(): path.read_bytes()
        for path in sorted(copy.rglob("*")) if path.is_file()
    }
    assert discover(MemoryTree(files), FILTERED) == discover(WorkTree(str(copy)), FILTERED)


def test_discovery_is_deterministic() -> None:
    first = discover(WorkTree(str(FIXTURE)), FILTERED)
    assert all(discover(WorkTree(str(FIXTURE)), FILTERED) == first for _ in range(3))


# -- repoURL and revisions ------------------------------------------------------------------


@pytest.mark.parametrize(("url", "normalized"), [
    ("https://github.com/Acme/GitOps.git", "https://github.com/acme/gitops"),
    ("https://github.com/acme/gitops/", "https://github.com/acme/gitops"),
    ("https://github.com/acme/gitops.git/", "https://github.com/acme/gitops"),
    ("  https://github.com/acme/gitops  ", "https://github.com/acme/gitops"),
    ("git@github.com:Acme/GitOps.git", "ssh://git@github.com/acme/gitops"),
    ("ssh://git@github.com/acme/gitops.git", "ssh://git@github.com/acme/gitops"),
    ("ssh://git@gitlab.acme.dev:2222/platform/gitops", "ssh://git@gitlab.acme.dev:2222/platform/gitops"),
])
def test_normalize_repo_url(url: str, normalized: str) -> None:
    assert normalize_repo_url(url) == normalized


@pytest.mark.parametrize(("revision", "accepted"), [
    ("main", True), ("refs/heads/main", True), ("", True), ("HEAD", True),
    ("release-1.2", True), ("develop", False), ("v1.2.0", False),
])
def test_target_revision_filter(revision: str, accepted: bool) -> None:
    settings = ArgoSettings(target_revisions=("main", "HEAD", "release-*"))
    assert (settings.rejects(REPO, revision) is None) is accepted


def test_no_filters_accept_everything() -> None:
    assert ArgoSettings().rejects("https://example.com/other.git", "feature/x") is None


# -- Applications ----------------------------------------------------------------------------


@pytest.mark.parametrize(("files", "kind"), [
    ({"app/kustomization.yaml": "resources: []"}, "kustomize"),
    ({"app/kustomization.yml": "resources: []"}, "kustomize"),
    ({"app/Kustomization": "resources: []"}, "kustomize"),
    ({"app/Chart.yaml": "name: x"}, "helm"),
    ({"app/Chart.yaml": "name: x", "app/kustomization.yaml": "{}"}, "kustomize"),
    ({"app/deploy.yaml": "kind: Pod"}, "directory"),
    ({"app/sub/kustomization.yaml": "{}"}, "directory"),
])
def test_tool_detection(files: dict[str, str | bytes], kind: str) -> None:
    found = run({"apps/app.yaml": application(), **files})
    assert rows(found) == [("app", "app", kind, "unknown")]


def test_explicit_tool_wins_over_detection() -> None:
    found = run({
        "apps/a.yaml": application("a", "app", helm={"releaseName": "x"}),
        "apps/b.yaml": application("b", "app", directory={"recurse": True,
                                                          "include": "*.yaml",
                                                          "exclude": "{x.yaml,y/*}"}),
        "apps/c.yaml": application("c", "app", plugin={"name": "cdk8s"}),
        "app/kustomization.yaml": "{}",
    })
    assert [(d.application, d.kind) for d in found.deployed] == [
        ("a", "helm"), ("b", "directory"), ("c", "plugin")]
    b = found.deployed[1]
    assert (b.recurse, b.include, b.exclude) == (True, "*.yaml", "{x.yaml,y/*}")


def test_more_than_one_tool_is_noted_and_detected() -> None:
    found = run({"apps/a.yaml": application(helm={}, kustomize={}),
                 "app/kustomization.yaml": "{}"})
    assert rows(found) == [("app", "app", "kustomize", "unknown")]
    assert has_note(found, "more than one tool (kustomize, helm)")


def test_recurse_defaults_to_false() -> None:
    found = run({"apps/a.yaml": application(), "app/x.yaml": "kind: Pod"})
    assert found.deployed[0].recurse is False


def test_source_paths_are_normalized() -> None:
    found = run({"apps/a.yaml": application(path="./envs/../app/"),
                 "apps/b.yaml": application("b", "/app"),
                 "apps/c.yaml": application("c", "."),
                 "app/x.yaml": "kind: Pod"})
    assert [d.path for d in found.deployed] == ["app", "app", ""]


def test_path_leaving_the_repository_is_ignored_with_a_note() -> None:
    found = run({"apps/a.yaml": application(path="../elsewhere")})
    assert found.deployed == []
    assert has_note(found, "'../elsewhere' leaves the repository")


def test_missing_source_directory_is_noted_but_kept() -> None:
    found = run({"apps/a.yaml": application(path="not/there")})
    assert rows(found) == [("app", "not/there", "directory", "unknown")]
    assert has_note(found, "'not/there' is not a directory")


def test_multi_source_helm_with_values_ref() -> None:
    sources: list[dict[str, Any]] = [
        {"repoURL": REPO, "targetRevision": "main", "path": "charts/web",
         "helm": {"valueFiles": ["values.yaml", "values-prod.yaml", "../../shared/common.yaml",
                                 "/envs/prod/web.yaml", "$values/envs/prod/web-extra.yaml"]}},
        {"repoURL": "https://github.com/ACME/gitops", "targetRevision": "main", "ref": "values"},
        {"repoURL": REPO, "targetRevision": "main", "path": "envs/prod/web-extras"},
    ]
    found = run({
        "apps/web.yaml": application("web", sources=sources, labels={"env": "prod"}),
        "charts/web/Chart.yaml": "name: web", "charts/web/values.yaml": "{}",
        "charts/web/values-prod.yaml": "{}", "shared/common.yaml": "{}",
        "envs/prod/web.yaml": "{}", "envs/prod/web-extra.yaml": "{}",
        "envs/prod/web-extras/cm.yaml": "kind: ConfigMap",
    }, ArgoSettings(repo_urls=(REPO,)))
    assert rows(found) == [("web", "charts/web", "helm", "prod"),
                           ("web", "envs/prod/web-extras", "directory", "prod")]
    assert found.deployed[0].value_files == (
        "charts/web/values.yaml", "charts/web/values-prod.yaml", "shared/common.yaml",
        "envs/prod/web.yaml", "envs/prod/web-extra.yaml")
    assert [d.source_index for d in found.deployed] == [0, 2]
    assert found.notes == []


def test_values_files_that_cannot_be_followed_are_noted() -> None:
    sources: list[dict[str, Any]] = [
        {"repoURL": REPO, "path": "charts/web",
         "helm": {"valueFiles": ["$nothing/values.yaml", "$other/values.yaml",
                                 "https://config.acme.dev/values.yaml", "../../../up.yaml",
                                 "missing.yaml", "values-*.yaml", "none-*.yaml"]}},
        {"repoURL": "https://github.com/acme/other.git", "ref": "other"},
    ]
    found = run({"apps/web.yaml": application("web", sources=sources),
                 "charts/web/Chart.yaml": "name: web", "charts/web/values-a.yaml": "{}",
                 "charts/web/values-b.yaml": "{}"},
                ArgoSettings(repo_urls=(REPO,)))
    assert found.deployed[0].value_files == (
        "charts/web/missing.yaml", "charts/web/values-a.yaml", "charts/web/values-b.yaml")
    for expected in ("'$nothing/values.yaml' names no source with ref: nothing",
                     "'$other/values.yaml' is not read from here: repoURL",
                     "'https://config.acme.dev/values.yaml' is remote",
                     "'../../../up.yaml' leaves the repository",
                     "'missing.yaml' (charts/web/missing.yaml) does not exist",
                     "pattern 'none-*.yaml' matches no file"):
        assert has_note(found, expected), expected


def test_ignore_missing_value_files_silences_the_note() -> None:
    found = run({"apps/a.yaml": application(
        helm={"valueFiles": ["missing.yaml"], "ignoreMissingValueFiles": True}),
        "app/Chart.yaml": "name: x"})
    assert found.notes == []


def test_chart_from_a_helm_repository_with_values_from_here() -> None:
    sources: list[dict[str, Any]] = [
        {"repoURL": "https://prometheus-community.github.io/helm-charts",
         "chart": "kube-prometheus-stack", "targetRevision": "58.1.0",
         "helm": {"valueFiles": ["values.yaml", "$values/monitoring/prod.yaml"]}},
        {"repoURL": REPO, "targetRevision": "main", "ref": "values"},
    ]
    found = run({"apps/m.yaml": application("mon", sources=sources, namespace="monitoring"),
                 "monitoring/prod.yaml": "{}"})
    [deployed] = found.deployed
    assert (deployed.path, deployed.kind, deployed.chart, deployed.value_files) == (
        None, "helm", "kube-prometheus-stack", ("monitoring/prod.yaml",))
    assert deployed.target_revision == "58.1.0"


def test_chart_from_a_helm_repository_alone_deploys_nothing_from_here() -> None:
    found = run({"apps/m.yaml": application(
        "m", None, repo="https://charts.bitnami.com/bitnami", chart="redis")})
    assert found.deployed == [] and found.notes == []


def test_manifest_generate_paths() -> None:
    annotation = {"argocd.argoproj.io/manifest-generate-paths":
                  ".; ../shared ;/global/*.yaml;;../../../outside"}
    found = run({"apps/a.yaml": application(path="envs/app", annotations=annotation),
                 "envs/app/x.yaml": "kind: Pod"})
    assert found.deployed[0].extra_paths == ("envs/app", "envs/shared", "global/*.yaml")
    assert has_note(found, "'../../../outside' leaves the repository")


def test_manifest_generate_paths_per_source_of_a_multi_source_app() -> None:
    annotation = {"argocd.argoproj.io/manifest-generate-paths": "common;/root-file.yaml"}
    sources = [{"repoURL": REPO, "path": "a"}, {"repoURL": REPO, "path": "b"}]
    found = run({"apps/a.yaml": application(sources=sources, annotations=annotation)})
    assert [d.extra_paths for d in found.deployed] == [("a/common", "root-file.yaml"),
                                                      ("b/common", "root-file.yaml")]


# -- environment naming ----------------------------------------------------------------------


@pytest.mark.parametrize(("labels", "annotations", "namespace", "expected"), [
    ({"gate.dev/environment": "prod", "environment": "dev"}, {"gate.dev/environment": "qa"},
     "ns", ("prod", "label gate.dev/environment")),
    ({"environment": "dev"}, {"gate.dev/environment": "qa"}, "ns",
     ("qa", "annotation gate.dev/environment")),
    ({"environment": "dev", "env": "qa"}, None, "ns", ("dev", "label environment")),
    ({"env": "qa"}, None, "ns", ("qa", "label env")),
    (None, {"environment": "dev"}, "ns", ("ns", "destination namespace")),
    (None, None, None, ("unknown", "nothing names it")),
    ({"gate.dev/environment": "  "}, None, "ns", ("ns", "destination namespace")),
    ({"gate.dev/environment": "{{path.basename}}"}, None, None,
     ("unknown", "nothing names it")),
])
def test_environment_naming(
    labels: dict[str, str] | None, annotations: dict[str, str] | None, namespace: str | None,
    expected: tuple[str, str],
) -> None:
    found = run({"apps/a.yaml": application(labels=labels, annotations=annotations,
                                            namespace=namespace)})
    [app] = found.applications
    assert (app.environment, app.environment_from) == expected


def test_configured_label_key() -> None:
    files: dict[str, str | bytes] = {"apps/a.yaml": application(
        labels={"acme.io/stage": "prod", "gate.dev/environment": "dev"})}
    [app] = run(files, ArgoSettings(label="acme.io/stage")).applications
    assert (app.environment, app.environment_from) == ("prod", "label acme.io/stage")
    [app] = run(files).applications
    assert app.environment == "dev"


def test_application_set_own_label_names_its_applications() -> None:
    text = yaml.safe_load(application_set(
        [{"list": {"elements": [{"svc": "a"}]}}], template("{{svc}}", "{{svc}}", namespace="x")))
    text["metadata"]["annotations"] = {"gate.dev/environment": "prod"}
    found = run({"apps/set.yaml": yaml.safe_dump(text)})
    [app] = found.applications
    assert (app.environment, app.environment_from) == (
        "prod", "ApplicationSet annotation gate.dev/environment")


# -- ApplicationSets ---------------------------------------------------------------------------

SERVICES = {
    "envs/dev/api/x.yaml": "kind: Pod", "envs/dev/web/x.yaml": "kind: Pod",
    "envs/prod/api/x.yaml": "kind: Pod", "envs/prod/web/kustomization.yaml": "{}",
    "envs/prod/web/deep/x.yaml": "kind: Pod", "envs/.hidden/api/x.yaml": "kind: Pod",
    "envs/prod/.cache/x.yaml": "kind: Pod", "envs/readme.md": "hi",
}


def test_git_directories_legacy_template() -> None:
    generator = {"git": {"repoURL": REPO, "revision": "main", "directories": [
        {"path": "envs/*/*"}, {"path": "envs/dev/web", "exclude": True}]}}
    tmpl = template("{{path}}", "{{path[1]}}-{{ path.basename }}", env="{{path[1]}}",
                    namespace="{{path.basenameNormalized}}")
    found = run({"apps/set.yaml": application_set([generator], tmpl), **SERVICES})
    assert rows(found) == [("dev-api", "envs/dev/api", "directory", "dev"),
                           ("prod-api", "envs/prod/api", "directory", "prod"),
                           ("prod-web", "envs/prod/web", "kustomize", "prod")]
    assert [app.namespace for app in found.applications] == ["api", "api", "web"]
    assert found.notes == []


def test_excludes_win_whatever_their_order() -> None:
    generator = {"git": {"repoURL": REPO, "revision": "main", "directories": [
        {"path": "envs/*/api", "exclude": True}, {"path": "envs/prod/api"},
        {"path": "envs/prod/*"}]}}
    found = run({"apps/set.yaml": application_set([generator], template("{{path}}", "{{path}}")),
                 **SERVICES})
    assert [d.path for d in found.deployed] == ["envs/prod/web"]


def test_directory_patterns_are_go_path_match() -> None:
    assert go_path_match("envs/*", "envs/dev")
    assert not go_path_match("envs/*", "envs/dev/api")
    assert not go_path_match("envs/**", "envs/dev/api")  # ** is two stars, not a globstar
    assert go_path_match("envs/[dp]*/api", "envs/prod/api")
    assert go_path_match("envs/[^d]*/api", "envs/prod/api")
    assert not go_path_match("envs/[unclosed", "envs/[unclosed")


def test_directory_pattern_with_leading_slash_matches_nothing() -> None:
    generator = {"git": {"repoURL": REPO, "revision": "main",
                         "directories": [{"path": "/envs/*"}]}}
    found = run({"apps/set.yaml": application_set([generator], template("{{path}}", "x")),
                 **SERVICES})
    assert found.deployed == []
    assert has_note(found, "'/envs/*' starts with '/'")


def test_git_directories_go_template() -> None:
    generator = {"git": {"repoURL": REPO, "revision": "main", "directories": [
        {"path": "envs/prod/*"}]}}
    tmpl = template("{{ .path.path }}", "{{ index .path.segments 1 }}-{{ .path.basename }}",
                    env="{{ index .path.segments 1 | upper | lower }}",
                    namespace="{{- .path.basenameNormalized -}}")
    found = run({"apps/set.yaml": application_set([generator], tmpl, go_template=True),
                 **SERVICES})
    assert rows(found) == [("prod-api", "envs/prod/api", "directory", "prod"),
                           ("prod-web", "envs/prod/web", "kustomize", "prod")]


def test_go_template_missing_key_skips_the_application_with_a_note() -> None:
    generator = {"git": {"repoURL": REPO, "revision": "main",
                         "directories": [{"path": "envs/prod/api"}]}}
    found = run({"apps/set.yaml": application_set(
        [generator], template("{{ .path.nope }}", "x"), go_template=True), **SERVICES})
    assert found.deployed == []
    assert has_note(found, "cannot render spec.source.path: no value for {{.path.nope}}")
    assert has_note(found, "unrendered template")


def test_path_param_prefix() -> None:
    legacy = {"git": {"repoURL": REPO, "revision": "main", "pathParamPrefix": "app",
                      "directories": [{"path": "envs/prod/api"}]}}
    found = run({"apps/a.yaml": application_set([legacy], template("{{app.path}}", "a")),
                 "apps/b.yaml": application_set([legacy], template("{{.app.path.path}}", "b"),
                                                go_template=True), **SERVICES})
    assert [d.path for d in found.deployed] == ["envs/prod/api", "envs/prod/api"]


def test_git_generator_of_another_repository_is_not_expanded() -> None:
    generator = {"git": {"repoURL": "https://github.com/acme/other", "revision": "main",
                         "directories": [{"path": "*"}]}}
    found = run({"apps/set.yaml": application_set([generator], template("{{path}}", "x")),
                 **SERVICES}, ArgoSettings(repo_urls=(REPO,)))
    assert found.deployed == []
    assert has_note(found, "git generator not expanded: repoURL")


CLUSTERS = {
    "clusters/eu/config.json": '{"env": "prod", "cluster": {"name": "eu", "replicas": 3,'
                               ' "big": 1000000, "on": true}, "zones": ["a", "b"]}',
    "clusters/us/config.yaml": "env: staging\ncluster: {name: us}\n",
    "clusters/us/nested/config.yaml": "env: dev\ncluster: {name: nested}\n",
    "clusters/multi/config.yaml": "- {env: dev, cluster: {name: m1}}\n"
                                  "- {env: qa, cluster: {name: m2}}\n",
    "monitoring/x.yaml": "kind: Pod",
}


def test_git_files_legacy_params() -> None:
    generator = {"git": {"repoURL": REPO, "revision": "main",
                         "files": [{"path": "clusters/*/config.json"}]}}
    tmpl = template("monitoring", "{{cluster.name}}-{{cluster.replicas}}-{{cluster.big}}-"
                                  "{{cluster.on}}-{{zones.1}}-{{path}}-{{path.basename}}-"
                                  "{{path.filename}}-{{path[0]}}", env="{{env}}")
    found = run({"apps/set.yaml": application_set([generator], tmpl), **CLUSTERS})
    assert [(a.name, a.environment) for a in found.applications] == [
        ("eu-3-1e+06-true-b-clusters/eu-eu-config.json-clusters", "prod")]


def test_git_files_globbing_is_greedy_by_default() -> None:
    generator = {"git": {"repoURL": REPO, "revision": "main",
                         "files": [{"path": "clusters/*/config.yaml"}]}}
    tmpl = template("monitoring", "{{cluster.name}}", env="{{env}}")
    files: dict[str, str | bytes] = {"apps/set.yaml": application_set([generator], tmpl),
                                     **CLUSTERS}
    greedy = run(files)
    assert [(a.name, a.environment) for a in greedy.applications] == [
        ("m1", "dev"), ("m2", "qa"), ("us", "staging"), ("nested", "dev")]
    strict = run(files, ArgoSettings(new_git_file_globbing=True))
    assert [a.name for a in strict.applications] == ["m1", "m2", "us"]


def test_git_files_exclude_and_go_template() -> None:
    generator = {"git": {"repoURL": REPO, "revision": "main", "files": [
        {"path": "clusters/**"}, {"path": "clusters/multi/*", "exclude": True}]}}
    tmpl = template("monitoring", "{{ .cluster.name }}-{{ .path.basename }}-{{ .path.filename }}"
                                  "-{{ index .path.segments 0 }}", env="{{ .env }}")
    found = run({"apps/set.yaml": application_set([generator], tmpl, go_template=True),
                 **CLUSTERS}, ArgoSettings(new_git_file_globbing=True))
    assert [(a.name, a.environment) for a in found.applications] == [
        ("eu-eu-config.json-clusters", "prod"), ("us-us-config.yaml-clusters", "staging"),
        ("nested-nested-config.yaml-clusters", "dev")]


def test_unreadable_parameter_file_is_noted() -> None:
    generator = {"git": {"repoURL": REPO, "revision": "main",
                         "files": [{"path": "clusters/*.yaml"}]}}
    found = run({"apps/set.yaml": application_set([generator], template("x", "{{name}}")),
                 "clusters/bad.yaml": "a: [", "clusters/scalar.yaml": "just text",
                 "clusters/empty.yaml": ""})
    assert [a.name for a in found.applications] == ["{{name}}"]  # the empty file: no params
    assert has_note(found, "parameter file skipped: invalid YAML")
    assert has_note(found, "neither a mapping nor a list of mappings")


def test_list_generator() -> None:
    elements = [{"env": "dev", "values": {"ns": "web-dev"}}, {"env": "prod", "values": {"ns": 5}},
                {"env": "qa"}, "not a mapping"]
    legacy = application_set([{"list": {"elements": elements}}],
                             template("envs/{{env}}", "web-{{env}}", env="{{env}}",
                                      namespace="{{values.ns}}"), name="legacy")
    go = application_set([{"list": {"elements": elements[:3]}}],
                         template("envs/{{.env}}", "go-{{.env}}", env="{{.env}}"),
                         go_template=True, name="go")
    found = run({"apps/a.yaml": legacy, "apps/b.yaml": go})
    assert [(a.name, a.environment) for a in found.applications] == [
        ("web-dev", "dev"), ("web-qa", "qa"), ("go-dev", "dev"), ("go-prod", "prod"),
        ("go-qa", "qa")]
    assert found.applications[0].namespace == "web-dev"
    assert has_note(found, "list element 1 has a value that is not a string")
    assert has_note(found, "list element 3 is not a mapping")


def test_matrix_of_git_and_list() -> None:
    matrix = {"matrix": {"generators": [
        {"git": {"repoURL": REPO, "revision": "main", "directories": [{"path": "envs/*"}]}},
        {"list": {"elements": [{"svc": "api"}, {"svc": "web"}]}},
    ]}}
    tmpl = template("{{path}}/{{svc}}", "{{path.basename}}-{{svc}}", env="{{path.basename}}")
    found = run({"apps/set.yaml": application_set([matrix], tmpl), **SERVICES})
    assert [(d.application, d.path, d.environment) for d in found.deployed] == [
        ("dev-api", "envs/dev/api", "dev"), ("dev-web", "envs/dev/web", "dev"),
        ("prod-api", "envs/prod/api", "prod"), ("prod-web", "envs/prod/web", "prod")]


def test_matrix_second_generator_sees_the_first_ones_params() -> None:
    matrix = {"matrix": {"generators": [
        {"list": {"elements": [{"env": "prod"}]}},
        {"git": {"repoURL": REPO, "revision": "main",
                 "directories": [{"path": "envs/{{env}}/*"}]}},
    ]}}
    found = run({"apps/set.yaml": application_set(
        [matrix], template("{{path}}", "{{path.basename}}", env="{{env}}")), **SERVICES})
    assert [d.path for d in found.deployed] == ["envs/prod/api", "envs/prod/web"]


def test_cluster_generators_give_unknown_environments() -> None:
    clusters = application_set(
        [{"clusters": {"selector": {"matchLabels": {"tier": "prod"}}}}],
        template("addons/dns", "dns-{{name}}", namespace="kube-system"), name="dns")
    labelled = application_set(
        [{"clusters": {"values": {"stage": "prod"}}, "selector": {"matchLabels": {"a": "b"}}}],
        template("addons/dns", "dns2-{{name}}", env="{{values.stage}}"), name="dns2")
    matrix = application_set([{"matrix": {"generators": [
        {"clusters": {}},
        {"git": {"repoURL": REPO, "revision": "main", "directories": [{"path": "envs/dev/*"}]}},
    ]}}], template("{{path}}", "{{path.basename}}-{{name}}", namespace="{{path.basename}}"),
        name="fleet")
    found = run({"apps/a.yaml": clusters, "apps/b.yaml": labelled, "apps/c.yaml": matrix,
                 "addons/dns/x.yaml": "kind: Pod", **SERVICES})
    assert [(d.application, d.path, d.environment) for d in found.deployed] == [
        ("dns-{{name}}", "addons/dns", "unknown"), ("dns2-{{name}}", "addons/dns", "prod"),
        ("api-{{name}}", "envs/dev/api", "unknown"), ("web-{{name}}", "envs/dev/web", "unknown")]
    assert has_note(found, "'clusters' parameters come from Argo CD cluster secrets")
    assert has_note(found, "selector is not applied")


@pytest.mark.parametrize(("generator", "message"), [
    ({"merge": {"generators": [], "mergeKeys": ["x"]}}, "the 'merge' generator is not expanded"),
    ({"scmProvider": {"github": {"organization": "acme"}}},
     "the 'scmProvider' generator is not expanded"),
    ({"plugin": {"configMapRef": {"name": "p"}}}, "the 'plugin' generator is not expanded"),
    ({"bogus": {}}, "unknown 'bogus' generator is not expanded"),
    ({"git": {"repoURL": REPO, "revision": "main"}}, "neither directories nor files"),
    ({"list": {}, "git": {}}, "needs exactly one type"),
    ({"matrix": {"generators": [{"list": {}}]}}, "needs exactly two generators"),
])
def test_generators_not_expanded_are_noted(generator: dict[str, Any], message: str) -> None:
    found = run({"apps/set.yaml": application_set([generator], template("x", "x"))})
    assert found.deployed == []
    assert has_note(found, message)


def test_generator_template_overrides_the_spec_template() -> None:
    generator = {"list": {"elements": [{"svc": "api"}],
                          "template": {"metadata": {"labels": {"gate.dev/environment": "qa"}},
                                       "spec": {"source": {"path": "envs/qa/{{svc}}"}}}}}
    found = run({"apps/set.yaml": application_set(
        [generator], template("envs/dev/{{svc}}", "{{svc}}", env="dev"),
        templatePatch="spec: {}")})
    assert rows(found) == [("api", "envs/qa/api", "directory", "qa")]
    assert has_note(found, "templatePatch is not applied")


# -- templates ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "params", "expected"), [
    ("{{path}}", {"path": "a/b"}, "a/b"),
    ("{{ path.basename }}-x", {"path.basename": "b"}, "b-x"),
    ("{{unknown}}/{{path}}", {"path": "a"}, "{{unknown}}/a"),
    ("{{}}", {}, "{{}}"),
    ("no template", {}, "no template"),
])
def test_legacy_templates(text: str, params: dict[str, Any], expected: str) -> None:
    assert render_string(text, params, go_template=False) == expected


GO_PARAMS: dict[str, Any] = {"path": {"path": "envs/prod/api", "basename": "api",
                                      "segments": ["envs", "prod", "api"]},
                             "n": 3, "flag": True, "empty": ""}


@pytest.mark.parametrize(("text", "expected"), [
    ("{{.path.path}}", "envs/prod/api"),
    ("{{ index .path.segments 1 }}", "prod"),
    ("{{ index .path \"basename\" }}", "api"),
    ("{{ (index .path.segments 2) | upper }}", "API"),
    ("a {{- .path.basename -}} b", "aapib"),
    ("{{ .missing | default \"x\" }}-{{ .empty | default `y` }}", "x-y"),
    ("{{ printf \"%s-%d-%v\" .path.basename .n .flag }}", "api-3-true"),
    ("{{ replace \"/\" \"-\" .path.path }}", "envs-prod-api"),
    ("{{ trimPrefix \"envs/\" .path.path | trimSuffix \"/api\" }}", "prod"),
    ("{{ .path.segments }}", "[envs prod api]"),
    ("{{/* a comment */}}x", "x"),
    ("{{ normalize \"My_App\" }}", "my-app"),
    ("{{ $.path.basename }}", "api"),
])
def test_go_templates(text: str, expected: str) -> None:
    assert render_string(text, GO_PARAMS, go_template=True) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("{{ .missing }}", "no value for"),
    ("{{ .missing.deeper }}", "no parameter .missing.deeper"),
    ("{{ index .path.segments 9 }}", "out of range"),
    ("{{ if .n }}x{{ end }}", "'if' is not supported"),
    ("{{ sha256sum .n }}", "function 'sha256sum' is not supported"),
    ("{{ upper .missing }}", "of a parameter that is not there"),
    ("{{ .path.basename .n }}", "cannot take arguments"),
    ("{{ $x := 1 }}", "cannot read"),
    ("{{ (upper .path.basename }}", "unclosed"),
])
def test_go_template_errors(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        render_string(text, GO_PARAMS, go_template=True)


@pytest.mark.parametrize(("value", "text"), [
    (1, "1"), (123456, "123456"), (1234567, "1.234567e+06"), (1e6, "1e+06"), (0.5, "0.5"),
    (0.00001, "1e-05"), (-2.25, "-2.25"), (True, "true"), (None, "<nil>"), (0, "0"),
    ({"b": 1, "a": "x"}, "map[a:x b:1]"), (["a", 2], "[a 2]"),
])
def test_go_string(value: Any, text: str) -> None:
    assert go_string(value) == text


# -- robustness -----------------------------------------------------------------------------


def test_malformed_manifests_give_notes_not_crashes() -> None:
    found = run({
        "apps/a-invalid.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
                               "metadata: {name: [\n",
        "apps/b-spec.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
                            "metadata: {name: b}\nspec: [1, 2]\n",
        "apps/c-nosource.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
                                "metadata: {name: c}\nspec: {project: default}\n",
        "apps/d-source.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
                              "metadata: {name: d}\nspec:\n  sources: [just-a-string]\n",
        "apps/e-nopath.yaml": application("e", None),
        "apps/f-noname.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
                              "spec: {source: {repoURL: x, path: f}}\n",
        "apps/g-template.yaml": application("g", "envs/{{env}}"),
        "apps/h-scalar.yaml": "--- argoproj.io\n--- [1]\n",
        "apps/i-pathtype.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
                                "metadata: {name: i}\nspec:\n  source:\n    repoURL: x\n"
                                "    path: [1]\n",
        "apps/j-binary.yaml": b"argoproj.io\x00\x01",
        "apps/k-set.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\n"
                           "metadata: {name: k}\nspec: {generators: []}\n",
        "apps/l-valuefile.yaml": application("l", helm={"valueFiles": [3]}),
        "apps/m-dupkey.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
                              "metadata: {name: m}\nmetadata: {name: m}\n",
    })
    assert [d.application for d in found.deployed] == ["(unnamed)", "l"]
    notes = {(note.file, note.line): note.message for note in found.notes}
    assert notes[("apps/a-invalid.yaml", 4)].startswith("skipped: invalid YAML")
    assert notes[("apps/b-spec.yaml", 4)] == "Application 'b': spec is not a mapping; skipped"
    assert notes[("apps/c-nosource.yaml", 4)] == "Application 'c': no spec.source or spec.sources"
    assert "spec.sources[0] is not a mapping" in notes[("apps/d-source.yaml", 5)]
    assert "spec.source has neither path nor chart" in notes[("apps/e-nopath.yaml", 9)]
    assert notes[("apps/f-noname.yaml", 1)] == "an Application has no metadata.name"
    assert "'envs/{{env}}' is an unrendered template" in notes[("apps/g-template.yaml", 9)]
    assert "path is not a string" in notes[("apps/i-pathtype.yaml", 7)]
    assert "binary content" in notes[("apps/j-binary.yaml", 1)]
    assert "no generators" in notes[("apps/k-set.yaml", 4)]
    assert "a values file is not a string" in notes[("apps/l-valuefile.yaml", 14)]
    assert "duplicate key" in notes[("apps/m-dupkey.yaml", 4)]


def test_only_argo_manifests_are_parsed() -> None:
    tree = MemoryTree({"apps/a.yaml": application(), "app/x.yaml": "kind: Pod\n",
                     "envs/broken.yaml": "a: [", "docs/readme.md": "argoproj.io"})
    found = discover(tree)
    assert [d.application for d in found.deployed] == ["app"]
    assert found.notes == []
    assert "envs/broken.yaml" in tree.reads  # read, but not parsed: no note about it


def test_helm_chart_templates_are_not_discovered() -> None:
    found = run({"charts/apps/Chart.yaml": "name: apps",
                 "charts/apps/templates/app.yaml": "apiVersion: argoproj.io/v1alpha1\n"
                                                   "kind: Application\n"
                                                   "metadata: {name: {{ .Values.name }}}\n",
                 "templates/app.yaml": application("not-in-a-chart")})
    assert [d.application for d in found.deployed] == ["not-in-a-chart"]
    assert has_note(found, "a Helm chart template")


def test_paths_setting_limits_where_applications_are_read() -> None:
    files: dict[str, str | bytes] = {"argocd/apps/a.yaml": application("a"),
                                     "argocd/b.yml": application("b"),
                                     "other/c.yaml": application("c"), "d.yaml": application("d")}
    assert [a.name for a in run(files, ArgoSettings(paths=("argocd/**",))).applications] == [
        "a", "b"]
    assert [a.name for a in run(files, ArgoSettings(paths=("argocd/apps",))).applications] == [
        "a"]
    assert [a.name for a in run(files, ArgoSettings(paths=("*.yaml",))).applications] == ["d"]
    assert [a.name for a in run(files, ArgoSettings(paths=("d.yaml",
                                                           "other/*"))).applications] == [
        "d", "c"]
    assert [a.name for a in run(files).applications] == ["a", "b", "d", "c"]


def test_deployed_path_is_hashable_and_frozen() -> None:
    deployed = DeployedPath("a", "prod", "app", "directory", "apps/a.yaml", 1)
    assert {deployed: 1}[deployed] == 1
    with pytest.raises(AttributeError):
        deployed.path = "b"  # type: ignore[misc]
