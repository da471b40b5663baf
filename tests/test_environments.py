"""Environments (gate.loading.environments): the config entries, and the map from paths to them."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from gate.errors import ConfigError
from gate.loading.argocd.discovery import discover
from gate.loading.argocd.model import ArgoSettings
from gate.loading.environments import (
    SCHEMA,
    UNKNOWN,
    EnvironmentConfig,
    EnvironmentRule,
    parse_environments,
)
from gate.loading.trees import WorkTree
from gate.loading.yamlio import load_located
from tests.memtree import MemoryTree
from tests.test_argocd import FIXTURE, REPO, application

CONFIG = ".gate.yaml"


def parse(text: str) -> EnvironmentConfig:
    """The ``environments`` of a config file's text, with real lines for errors."""
    located = load_located(text, CONFIG)
    data = located.documents[0].data or {}
    return parse_environments(data.get("environments"), CONFIG,
                              lambda *path: located.line(0, path))


def config(entries: list[dict[str, Any]]) -> EnvironmentConfig:
    return parse(yaml.safe_dump({"environments": entries}))


def tree_of(*apps: str, **files: str) -> MemoryTree:
    """A tree with Applications in apps/ and other files (``__`` for ``/`` in names)."""
    content: dict[str, str | bytes] = {f"apps/{i}.yaml": text for i, text in enumerate(apps)}
    content.update({name.replace("__", "/"): text for name, text in files.items()})
    return MemoryTree(content)


DISCOVER = {"discover": "argocd"}


# -- configuration ---------------------------------------------------------------------------


def test_full_configuration() -> None:
    parsed = parse("""\
fail_on: high
environments:
  - name: prod
    paths: ["overlays/prod/**", "./envs/prod/"]
  - name: staging
    paths: [overlays/staging/**]
  - discover: argocd
    label: acme.io/env
    paths: [argocd/**]
    repo_url: https://github.com/acme/gitops
    target_revisions: [main, "release-*"]
    new_git_file_globbing: true
  - name: prod
    paths: [legacy/**]
""")
    assert parsed.rules == (
        EnvironmentRule("prod", ("overlays/prod/**", "envs/prod"), CONFIG, 3),
        EnvironmentRule("staging", ("overlays/staging/**",), CONFIG, 5),
        EnvironmentRule("prod", ("legacy/**",), CONFIG, 13),
    )
    assert parsed.argocd == ArgoSettings(
        label="acme.io/env", paths=("argocd/**",), repo_urls=("https://github.com/acme/gitops",),
        target_revisions=("main", "release-*"), new_git_file_globbing=True)
    assert parsed.argocd_line == 7
    assert parsed.names() == ["prod", "staging"]
    assert parsed.enabled


def test_defaults() -> None:
    assert parse("fail_on: high\n") == EnvironmentConfig(file=CONFIG)
    assert not parse("fail_on: high\n").enabled
    assert parse("environments: []\n").rules == ()
    assert config([DISCOVER]).argocd == ArgoSettings()


ERRORS = [
    ("environments: {prod: x}", 1, "environments: must be a list of entries, not a mapping"),
    ("environments:\n  - prod", 2, "environments[0]: an entry is a mapping: {name, paths} or "
                                   "{discover: argocd, ...}, not a string"),
    ("environments:\n  - name: prod\n    pahts: [x]", 3,
     "environments[0]: unknown key 'pahts' (known: name, paths)"),
    ("environments:\n  - paths: [x]", 2,
     "environments[0]: an entry needs 'name' and 'paths' (or 'discover: argocd')"),
    ("environments:\n  - name: ''\n    paths: [x]", 2,
     "environments[0].name: must be a non-empty string"),
    ("environments:\n  - name: 5\n    paths: [x]", 2,
     "environments[0].name: must be a non-empty string"),
    ("environments:\n  - {name: prod, paths: [x]}\n  - name: prod eu\n    paths: [x]", 3,
     "environments[1].name: 'prod eu' is not a valid environment name: up to 63 letters, "
     "digits, '.', '_' and '-', starting and ending with a letter or digit"),
    ("environments:\n  - name: prod", 2,
     "environments[0]: environment 'prod' needs 'paths', a list of path globs"),
    ("environments:\n  - name: prod\n    paths: overlays/prod/**", 3,
     "environments[0].paths: must be a list of path globs, not a string"),
    ("environments:\n  - name: prod\n    paths: []", 3,
     "environments[0].paths: must name at least one path glob"),
    ("environments:\n  - name: prod\n    paths:\n      - ok/**\n      - /abs/**", 5,
     "environments[0].paths[1]: '/abs/**': paths are relative to the repository root; drop "
     "the leading '/'"),
    ("environments:\n  - name: prod\n    paths: ['../x/**']", 3,
     "environments[0].paths[0]: '../x/**' leaves the repository ('..')"),
    ("environments:\n  - name: prod\n    paths: ['{a,b}/**']", 3,
     "environments[0].paths[0]: '{a,b}/**': braces are not supported; list each pattern on its "
     "own"),
    ("environments:\n  - name: prod\n    paths: ['a/[bc']", 3,
     "environments[0].paths[0]: 'a/[bc' has an unclosed '['"),
    ("environments:\n  - name: prod\n    paths: ['']", 3,
     "environments[0].paths[0]: a path glob is a non-empty string"),
    ("environments:\n  - name: prod\n    paths: [3]", 3,
     "environments[0].paths[0]: a path glob is a non-empty string"),
    ("environments:\n  - name: prod\n    paths: ['a\\b']", 3,
     "environments[0].paths[0]: 'a\\\\b': separate directories with '/'"),
    ("environments:\n  - name: prod\n    paths: [' x/**']", 3,
     "environments[0].paths[0]: ' x/**' has leading or trailing spaces"),
    ("environments:\n  - discover: flux", 2,
     "environments[0].discover: unknown discovery source 'flux' (known: argocd)"),
    ("environments:\n  - discover: argocd\n  - name: a\n    paths: [a]\n  - discover: argocd", 5,
     "environments[2].discover: only one 'discover' entry is allowed"),
    ("environments:\n  - discover: argocd\n    labels: x", 3,
     "environments[0]: unknown key 'labels' (known: discover, label, paths, repo_url, "
     "target_revisions, new_git_file_globbing)"),
    ("environments:\n  - discover: argocd\n    name: prod", 3,
     "environments[0]: unknown key 'name' (known: discover, label, paths, repo_url, "
     "target_revisions, new_git_file_globbing)"),
    ("environments:\n  - discover: argocd\n    label: 'not a key!'", 3,
     "environments[0].label: 'not a key!' is not a label or annotation key"),
    ("environments:\n  - discover: argocd\n    paths: [/argocd]", 3,
     "environments[0].paths[0]: '/argocd': paths are relative to the repository root; drop "
     "the leading '/'"),
    ("environments:\n  - discover: argocd\n    repo_url: 5", 3,
     "environments[0].repo_url: must be a string or a non-empty list of strings, not a number"),
    ("environments:\n  - discover: argocd\n    repo_url: ' '", 3,
     "environments[0].repo_url: must be a non-empty string"),
    ("environments:\n  - discover: argocd\n    target_revisions: []", 3,
     "environments[0].target_revisions: must be a string or a non-empty list of strings, "
     "not a list"),
    ("environments:\n  - discover: argocd\n    target_revisions:\n      - main\n      - ''", 5,
     "environments[0].target_revisions[1]: must be a non-empty string"),
    ("environments:\n  - discover: argocd\n    new_git_file_globbing: 'yes'", 3,
     "environments[0].new_git_file_globbing: must be true or false, not a string"),
]


@pytest.mark.parametrize(("text", "line", "message"), ERRORS)
def test_configuration_errors_name_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    assert (caught.value.message, caught.value.file, caught.value.line) == (message, CONFIG, line)
    assert str(caught.value) == f"{CONFIG}:{line}: {message}"


# Errors the schema fragment catches too (the others need parse_environments: globs, and
# at most one discover entry).
SCHEMA_CATCHES = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 14, 15, 18, 20, 21, 22, 24, 25, 26, 27, 28}


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_schema_fragment_agrees_with_the_parser(case: int) -> None:
    data = yaml.safe_load(ERRORS[case][0])["environments"]
    valid = jsonschema.Draft202012Validator(SCHEMA).is_valid(data)
    assert valid is (case not in SCHEMA_CATCHES)


def test_schema_fragment_accepts_valid_configurations() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    data = yaml.safe_load("""
- {name: prod, paths: ["overlays/prod/**"]}
- {name: my_env.2, paths: ["./x/"]}
- {discover: argocd}
- {discover: argocd, label: env, paths: [argocd], repo_url: [a, b], target_revisions: main,
   new_git_file_globbing: false}
""")
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    for entry in data:
        parse_environments([entry], CONFIG, lambda *path: None)


# -- explicit entries --------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "expected"), [
    ("overlays/prod", "prod"),  # the rendered overlay directory itself
    ("overlays/prod/deployment.yaml", "prod"),
    ("./overlays/prod/", "prod"),
    ("overlays/prod-eu/x.yaml", "staging"),  # 'overlays/*' names the directory holding it
    ("overlays/staging/a/b/c.yaml", "staging"),
    ("overlays", None),
    ("root.yaml", "dev"),
    ("sub/root.yaml", None),
    ("base/deployment.yaml", None),
    ("../outside.yaml", None),
    ("envs/prod/orders", "prod"),  # a bare directory covers what it holds
    ("envs/prod/orders/x.yaml", "prod"),
    ("envs/production/x.yaml", None),
])
def test_explicit_entries(path: str, expected: str | None) -> None:
    environments = config([
        {"name": "prod", "paths": ["overlays/prod/**", "envs/prod"]},
        {"name": "staging", "paths": ["overlays/*"]},
        {"name": "dev", "paths": ["*.yaml"]},
    ]).map()
    assert environments.environment_of(path) == expected


def test_first_matching_entry_wins_and_names_may_repeat() -> None:
    environments = config([
        {"name": "prod", "paths": ["apps/**"]},
        {"name": "staging", "paths": ["apps/checkout/**", "staging/**"]},
        {"name": "prod", "paths": ["staging/hotfix/**"]},
    ]).map()
    assert environments.environment_of("apps/checkout/x.yaml") == "prod"
    assert environments.environment_of("staging/hotfix/x.yaml") == "staging"
    assert environments.environments() == ["prod", "staging"]
    found = environments.match("apps/checkout/x.yaml")
    assert found is not None
    assert (found.reason, found.file, found.line) == ("config entry 'prod' (apps/**)", CONFIG, 2)


class ExplodingTree(MemoryTree):
    def list_dir(self, path: str) -> list[str]:
        raise AssertionError("discovery ran")


def test_explicit_entries_come_first_and_discovery_waits_until_needed() -> None:
    tree = ExplodingTree({"apps/a.yaml": application("a", "envs/prod", labels={"env": "dev"})})
    environments = config([DISCOVER, {"name": "prod", "paths": ["envs/prod/**"]}]).map(tree)
    assert environments.environment_of("envs/prod/x.yaml") == "prod"
    assert tree.reads == []
    with pytest.raises(AssertionError, match="discovery ran"):
        environments.environment_of("elsewhere.yaml")


def test_explicit_entry_wins_over_an_application() -> None:
    tree = tree_of(application("a", "envs/prod", labels={"env": "dev"}),
                   envs__prod__x="kind: Pod")
    environments = config([DISCOVER, {"name": "prod", "paths": ["envs/prod/**"]}]).map(tree)
    assert environments.environment_of("envs/prod/x.yaml") == "prod"
    assert config([DISCOVER]).map(tree).environment_of("envs/prod/x.yaml") == "dev"


# -- discovered Applications -----------------------------------------------------------------

WEB = {"web__a.yaml": "kind: Pod", "web__a.json": "{}", "web__skip.yaml": "kind: Pod",
       "web__README.md": "docs", "web__sub__b.yaml": "kind: Pod",
       "web__old__c.yaml": "kind: Pod"}


@pytest.mark.parametrize(("source", "covered"), [
    ({}, {"web", "web/a.yaml", "web/a.json", "web/skip.yaml", "web/README.md"}),
    ({"directory": {"recurse": False}}, {"web", "web/a.yaml", "web/a.json", "web/skip.yaml",
                                         "web/README.md"}),
    ({"directory": {"recurse": True}}, {"web", "web/a.yaml", "web/a.json", "web/skip.yaml",
                                        "web/README.md", "web/sub", "web/sub/b.yaml", "web/old",
                                        "web/old/c.yaml"}),
    ({"directory": {"recurse": True, "include": "*.yaml", "exclude": "{skip.yaml,old/*}"}},
     {"web", "web/a.yaml", "web/README.md", "web/sub", "web/sub/b.yaml", "web/old"}),
    ({"directory": {"include": "a.*"}}, {"web", "web/a.yaml", "web/a.json", "web/README.md"}),
    ({"kustomize": {}}, {"web", "web/a.yaml", "web/a.json", "web/skip.yaml", "web/README.md",
                         "web/sub", "web/sub/b.yaml", "web/old", "web/old/c.yaml"}),
    ({"helm": {}}, {"web", "web/a.yaml", "web/a.json", "web/skip.yaml", "web/README.md",
                    "web/sub", "web/sub/b.yaml", "web/old", "web/old/c.yaml"}),
])
def test_what_a_source_covers(source: dict[str, Any], covered: set[str]) -> None:
    tree = tree_of(application("web", "web", labels={"env": "prod"}, **source), **WEB)
    environments = config([DISCOVER]).map(tree)
    paths = ["web", "web/a.yaml", "web/a.json", "web/skip.yaml", "web/README.md", "web/sub",
             "web/sub/b.yaml", "web/old", "web/old/c.yaml", "webapp/x.yaml", ""]
    assert {p for p in paths if environments.environment_of(p) == "prod"} == covered
    assert {p for p in paths if environments.environment_of(p) is None} == set(paths) - covered


def test_kustomization_in_the_tree_makes_the_source_cover_everything() -> None:
    tree = tree_of(application("web", "web", labels={"env": "prod"}),
                   web__kustomization="{}", web__sub__b="kind: Pod")
    tree.files["web/kustomization.yaml"] = tree.files.pop("web/kustomization")
    assert config([DISCOVER]).map(tree).environment_of("web/sub/b") == "prod"


def test_deepest_source_wins() -> None:
    tree = tree_of(
        application("platform", "", labels={"env": "platform"}, directory={"recurse": True}),
        application("prod", "envs/prod", labels={"env": "prod"}, kustomize={}),
        application("prod-web", "envs/prod/web", labels={"env": "prod-web"}),
        envs__prod__web__x="kind: Pod", envs__prod__y="kind: Pod", z="kind: Pod")
    environments = config([DISCOVER]).map(tree)
    assert environments.environment_of("z") == "platform"
    assert environments.environment_of("envs/prod/y") == "prod"
    assert environments.environment_of("envs/prod/web/x") == "prod-web"
    assert environments.environment_of("envs/prod/web/deeper/x") == "prod"  # no recurse
    assert environments.environments_of("envs/prod/web/x") == ["platform", "prod", "prod-web"]


def test_applications_of_different_environments_on_one_path_give_unknown() -> None:
    tree = tree_of(application("a", "shared", labels={"env": "dev"}),
                   application("b", "shared", labels={"env": "prod"}),
                   application("c", "shared", labels={"env": "prod"}),
                   application("d", "other", labels={"env": "dev"}),
                   shared__x="kind: Pod", other__y="kind: Pod")
    environments = config([DISCOVER]).map(tree)
    found = environments.match("shared/x")
    assert found is not None and found.environment == UNKNOWN
    assert [d.application for d in found.deployed] == ["a", "b", "c"]
    assert found.reason.startswith("deployed by Applications of dev, prod: Application 'a'")
    assert environments.environment_of("other/y") == "dev"
    assert environments.environments() == ["dev", "prod", "unknown"]
    [note] = environments.notes
    assert note.file == "apps/0.yaml"
    assert note.message.startswith("shared is deployed by Applications of different "
                                   "environments: 'a' (dev, apps/0.yaml:1), 'b' (prod,")
    resolved = config([{"name": "prod", "paths": ["shared"]}, DISCOVER]).map(tree)
    assert resolved.environment_of("shared/x") == "prod"


def test_same_environment_on_one_path_is_no_conflict() -> None:
    tree = tree_of(application("a", "shared", labels={"env": "prod"}),
                   application("b", "shared", namespace="prod"), shared__x="kind: Pod")
    environments = config([DISCOVER]).map(tree)
    assert environments.environment_of("shared/x") == "prod"
    assert environments.notes == []


def test_helm_values_files_belong_to_the_application_naming_them() -> None:
    chart = {"chart__Chart.yaml": "name: c", "chart__values.yaml": "{}",
             "chart__values-prod.yaml": "{}", "chart__templates__d.yaml": "x",
             "envs__dev__values.yaml": "{}"}
    tree = tree_of(
        application("dev", "chart", labels={"env": "dev"},
                    helm={"valueFiles": ["../envs/dev/values.yaml"]}),
        application("prod", "chart", labels={"env": "prod"},
                    helm={"valueFiles": ["values-prod.yaml"]}), **chart)
    environments = config([DISCOVER]).map(tree)
    assert environments.environment_of("chart/values-prod.yaml") == "prod"
    assert environments.environment_of("envs/dev/values.yaml") == "dev"
    # Shared by both: the chart's own values.yaml (Helm always reads it) and its templates.
    assert environments.environment_of("chart/values.yaml") == UNKNOWN
    assert environments.environment_of("chart/templates/d.yaml") == UNKNOWN
    assert len(environments.notes) == 1  # one note for the chart, not one per file in it


def test_manifest_generate_paths_extend_an_application() -> None:
    annotation = {"argocd.argoproj.io/manifest-generate-paths": ".;../shared;/global/*.yaml"}
    tree = tree_of(application("a", "envs/prod", labels={"env": "prod"},
                               annotations=annotation),
                   envs__prod__x="kind: Pod", envs__shared__y="kind: Pod",
                   global__z="kind: Pod")
    environments = config([DISCOVER]).map(tree)
    assert environments.environment_of("envs/shared/y") == "prod"
    assert environments.environment_of("envs/shared") == "prod"
    assert environments.environment_of("global/z.yaml") == "prod"
    assert environments.environment_of("global/z.json") is None


def test_repo_url_and_target_revision_filters() -> None:
    tree = tree_of(
        application("a", "a", labels={"env": "prod"}, repo="git@github.com:acme/gitops.git"),
        application("b", "b", labels={"env": "prod"}, repo="https://github.com/acme/other"),
        application("c", "c", labels={"env": "prod"}, revision="refs/heads/main"),
        application("d", "d", labels={"env": "prod"}, revision="feature/x"),
        a__x="x", b__x="x", c__x="x", d__x="x")
    unfiltered = config([DISCOVER]).map(tree)
    assert [unfiltered.environment_of(f"{p}/x") for p in "abcd"] == ["prod"] * 4
    filtered = config([{**DISCOVER, "repo_url": [REPO, "ssh://git@github.com/acme/gitops"],
                        "target_revisions": ["main", "HEAD"]}]).map(tree)
    assert [filtered.environment_of(f"{p}/x") for p in "abcd"] == ["prod", None, "prod", None]
    assert len(filtered.notes) == 2


def test_discover_without_a_tree_is_noted_not_fatal() -> None:
    environments = config([{"name": "prod", "paths": ["p/**"]}, DISCOVER]).map()
    assert environments.environment_of("p/x") == "prod"
    assert environments.environment_of("q/x") is None
    assert environments.deployed_paths() == []
    [note] = environments.notes
    assert (note.file, note.line) == (CONFIG, 5)
    assert "needs the repository's files" in note.message


def test_no_discovery_means_no_deployed_paths() -> None:
    tree = tree_of(application("a", "a", labels={"env": "prod"}), a__x="x")
    environments = config([{"name": "dev", "paths": ["a/**"]}]).map(tree)
    assert environments.deployed_paths() == []
    assert environments.environments() == ["dev"]
    assert tree.reads == []


# -- the fixture repository -------------------------------------------------------------------

FIXTURE_ENVIRONMENTS = {
    "apps/orders-dev.yaml": "argocd",  # deployed by the app of apps
    "envs/dev/orders": "dev",
    "envs/dev/orders/kustomization.yaml": "dev",
    "envs/staging/orders": "staging",
    "envs/prod/orders": "prod",
    "shared/orders/configmap.yaml": "prod",  # manifest-generate-paths
    "base/orders/deployment.yaml": None,  # reached only through the overlays
    "charts/payments/Chart.yaml": UNKNOWN,  # dev and prod share the chart
    "charts/payments/values.yaml": UNKNOWN,
    "envs/prod/payments/values.yaml": "prod",  # $values/...
    "envs/dev/payments/values.yaml": "dev",  # ../../envs/dev/...
    "envs/dev/catalog/deployment.yaml": "dev",
    "envs/prod/catalog/deployment.yaml": "prod",
    "envs/prod/catalog/extra/debug-pod.yaml": None,  # no recurse
    "envs/prod/search": "prod",
    "envs/.archive/orders-v1/deployment.yaml": None,  # dot-directories are skipped
    "legacy/billing.yaml": "billing",
    "legacy/old/billing-v4.yaml": None,
    "addons/ingress-nginx/crds/ingressclass.yaml": "platform",
    "monitoring/prod-eu": "prod",
    "monitoring/staging-us": "staging",
    "clusters/prod-eu/config.yaml": None,
    "preview/checkout.yaml": None,  # tracks a feature branch
}
FILTERS = {"discover": "argocd", "repo_url": [REPO, "git@github.com:acme/gitops"],
           "target_revisions": ["main", "HEAD"]}


def test_fixture_repository() -> None:
    environments = config([FILTERS]).map(WorkTree(str(FIXTURE)))
    assert {path: environments.environment_of(path) for path in FIXTURE_ENVIRONMENTS} == (
        FIXTURE_ENVIRONMENTS)
    assert environments.environments() == ["argocd", "billing", "dev", "platform", "prod",
                                           "staging", "unknown"]
    assert environments.deployed_paths() == discover(
        WorkTree(str(FIXTURE)), config([FILTERS]).argocd).deployed
    assert [note.message.split(":")[0] for note in environments.notes] == [
        "Application 'preview-checkout'", "ApplicationSet 'pr-previews'",
        "Application 'vendor-agent'", "charts/payments is deployed by Applications of "
                                      "different environments"]


def test_fixture_map_is_deterministic() -> None:
    def snapshot() -> tuple[object, ...]:
        environments = config([FILTERS]).map(WorkTree(str(FIXTURE)))
        return (
            [environments.match(path) for path in sorted(FIXTURE_ENVIRONMENTS)],
            environments.deployed_paths(), environments.notes, environments.environments(),
        )

    assert snapshot() == snapshot()


def test_fixture_from_memory_and_from_disk_agree(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        path.relative_to(FIXTURE).as_posix(): path.read_bytes()
        for path in sorted(FIXTURE.rglob("*")) if path.is_file()
    }
    memory = config([FILTERS]).map(MemoryTree(files))
    disk = config([FILTERS]).map(WorkTree(str(FIXTURE)))
    assert [memory.environment_of(p) for p in FIXTURE_ENVIRONMENTS] == [
        disk.environment_of(p) for p in FIXTURE_ENVIRONMENTS]
    assert memory.notes == disk.notes
