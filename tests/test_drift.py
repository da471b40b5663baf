"""Environment drift: field path globs, the ``drift:`` config, pairing and field diffs
(gate/governance/drift_config.py, gate/governance/drift.py), on resources read from YAML text."""
from __future__ import annotations

from typing import Any

import pytest

from gate.errors import ConfigError
from gate.governance.drift import Rendered, Side, compare, pair, pairing_name
from gate.governance.drift_config import (
    Affixes,
    DriftConfig,
    IgnoreRule,
    Named,
    PatternError,
    display,
    matches_prefix,
    parse_drift,
    parse_pattern,
)
from gate.loading.resources import Resource, read_resources
from gate.loading.sources import SourceFile
from gate.loading.yamlio import load_located


def resources(text: str, name: str = "env.yaml") -> list[Resource]:
    found = [r for r in read_resources(SourceFile(name, text)) if isinstance(r, Resource)]
    assert found
    return found


def rendered(environment: str, text: str, affixes: list[Affixes] | None = None) -> Rendered:
    found = Rendered(environment, resources(text, f"{environment}.yaml"))
    for resource in found.resources:
        found.affixes[id(resource)] = list(affixes or [])
    return found


def deployment(image: str = "ghcr.io/acme/web:1.0.0", name: str = "web",
               namespace: str = "shop", replicas: int = 1, extra_env: str = "",
               cpu: str = "100m", env_label: str = "staging") -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {namespace}
  labels: {{app: web, environment: {env_label}}}
spec:
  replicas: {replicas}
  template:
    spec:
      containers:
        - name: web
          image: {image}
          env:
            - {{name: LOG, value: info}}{extra_env}
          resources:
            limits: {{cpu: {cpu}}}
        - name: proxy
          image: envoy:1.0
"""


# -- field path globs -------------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "path", "expected"), [
    ("spec.replicas", ("spec", "replicas"), True),
    ("spec.replicas", ("spec", "template"), False),
    ("spec", ("spec", "replicas"), True),  # a field above it
    ("**.containers[*].resources", ("spec", "template", "spec", "containers", Named("web"),
                                    "resources", "limits", "cpu"), True),
    ("**.containers[*].resources", ("spec", "containers", 0, "resources"), True),
    ("**.containers[*].resources", ("spec", "containers", Named("web"), "image"), False),
    ("spec.containers[name=web].image", ("spec", "containers", Named("web"), "image"), True),
    ("spec.containers[name=web].image", ("spec", "containers", Named("db"), "image"), False),
    ("spec.ports[1]", ("spec", "ports", 1, "port"), True),
    ("spec.ports[1]", ("spec", "ports", 0, "port"), False),
    ('metadata.annotations."checksum/*"', ("metadata", "annotations", "checksum/config"), True),
    ("metadata.labels.env*", ("metadata", "labels", "environment"), True),
    ("**", ("anything",), True),
])
def test_patterns_match_a_field_or_one_above_it(pattern: str, path: tuple[Any, ...],
                                                expected: bool) -> None:
    assert matches_prefix(parse_pattern(pattern), path) is expected


@pytest.mark.parametrize("pattern", ["", " spec", ".spec", "spec..replicas", "spec[x]",
                                     'spec."open'])
def test_malformed_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(PatternError):
        parse_pattern(pattern)


def test_paths_display_named_items_by_name() -> None:
    path = ("spec", "containers", Named("web"), "env", 0, "app.kubernetes.io/name")
    assert display(path) == 'spec.containers[name=web].env[0]."app.kubernetes.io/name"'


def test_an_ignore_rule_applies_to_its_kinds_only() -> None:
    rule = IgnoreRule.of(["data.LOG"], ["ConfigMap"])
    assert rule.allows("ConfigMap", ("data", "LOG"))
    assert not rule.allows("Secret", ("data", "LOG"))


# -- the drift: key --------------------------------------------------------------------


def parse(text: str) -> DriftConfig:
    located = load_located(text, ".gate.yaml")
    data = located.documents[0].data

    def line_of(*path: str | int) -> int | None:
        return located.line(0, path)

    return parse_drift(data.get("drift"), ".gate.yaml", line_of)


def test_the_config_adds_fields_and_affixes() -> None:
    config = parse("""\
drift:
  ignore:
    - kinds: [ConfigMap]
      paths: [data.LOG]
  names:
    prod: {prefix: prod-}
""")
    assert config.allows("ConfigMap", ("data", "LOG"))
    assert config.allows("Deployment", ("spec", "replicas"))  # the defaults stay
    assert config.names == {"prod": Affixes("prod-", "")}
    assert config.rules[0].origin == ".gate.yaml:3"


def test_defaults_false_and_namespace_compare_keep_only_what_the_config_lists() -> None:
    config = parse("drift: {defaults: false, namespace: compare}\n")
    assert not config.allows("Deployment", ("spec", "replicas"))
    assert not config.allows("Deployment", ("metadata", "namespace"))
    assert DriftConfig().allows("Deployment", ("metadata", "namespace"))


@pytest.mark.parametrize(("text", "line", "message"), [
    ("drift: [a]\n", 1, "drift: must be a mapping"),
    ("drift:\n  colour: red\n", 2, "drift.colour: unknown key 'colour'"),
    ("drift:\n  namespace: maybe\n", 2, "drift.namespace: must be one of ignore, compare"),
    ("drift:\n  ignore:\n    - paths: [spec.replicas]\n    - paths: ['spec..x']\n", 4,
     "drift.ignore[1].paths[0]: invalid field path 'spec..x'"),
    ("drift:\n  ignore:\n    - kinds: [Pod]\n", 3, "drift.ignore[0]: an entry is a mapping"),
    ("drift:\n  names:\n    prod: {prefix: 1}\n", 3, "drift.names.prod.prefix: must be a string"),
])
def test_config_mistakes_name_the_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    assert (caught.value.file, caught.value.line) == (".gate.yaml", line)
    assert caught.value.message.startswith(message), caught.value.message


# -- pairing ---------------------------------------------------------------------------


def test_pairing_names_drop_affixes_and_the_generator_hash() -> None:
    [config_map] = resources("apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                             "  name: prod-web-config-tf52cdckgk\n")
    assert pairing_name(config_map, [Affixes("prod-", "")]) == "web-config"
    [deployment_] = resources("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
                              "  name: web-tf52cdckgk\n")
    assert pairing_name(deployment_, []) == "web-tf52cdckgk"  # only generated kinds


def test_resources_pair_by_kind_and_name_across_namespaces_and_prefixes() -> None:
    staging = rendered("staging", deployment(namespace="shop-staging") + "---\n"
                       "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: debug}\n")
    prod = rendered("prod", deployment(name="prod-web", namespace="shop-prod") + "---\n"
                    "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\n",
                    [Affixes("prod-", "")])
    config = DriftConfig()
    pairs, only_a, only_b = pair(Side.of(staging, config), Side.of(prod, config))
    assert [(a.identity(), b.identity()) for a, b in pairs] == [
        ("Deployment/shop-staging/web", "Deployment/shop-prod/prod-web")]
    assert [r.identity() for r in only_a] == ["ConfigMap/debug"]
    assert [r.identity() for r in only_b] == ["PodDisruptionBudget/web"]


def test_same_names_in_several_namespaces_pair_by_namespace() -> None:
    text = "".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, namespace: {ns}}}"
                   f"\ndata: {{v: '{ns}'}}\n" for ns in ("a", "b"))
    drift = compare(DriftConfig(), rendered("x", text), rendered("y", text))
    assert not drift.found and drift.paired == 2


# -- comparing -------------------------------------------------------------------------


def fields(drift: Any) -> list[tuple[str, str, str]]:
    return [(f.display, f.a.shown(), f.b.shown()) for p in drift.differing for f in p.fields]


def test_allowed_fields_do_not_count() -> None:
    staging = rendered("staging", deployment(namespace="shop-staging", replicas=1, cpu="100m"))
    prod = rendered("prod", deployment(namespace="shop-prod", replicas=5, cpu="2",
                                       env_label="prod"))
    drift = compare(DriftConfig(), staging, prod)
    assert not drift.found
    assert drift.paired == 1


def test_each_sides_own_environment_name_may_differ_anywhere() -> None:
    # podinfo's overlays label everything app.kubernetes.io/environment: <environment>
    # and name the namespace after it.
    text = """\
apiVersion: v1
kind: Namespace
metadata:
  name: {env}
  labels: {{app.kubernetes.io/environment: {env}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings, labels: {{app.kubernetes.io/environment: {env}}}}}
data: {{ENVIRONMENT: {env}, REGION: {region}}}
"""
    staging = rendered("staging", text.format(env="staging", region="eu"))
    prod = rendered("production", text.format(env="production", region="us"))
    drift = compare(DriftConfig(defaults=False), staging, prod)
    assert drift.paired == 2
    # Only the value that is not an environment's own name is drift.
    assert fields(drift) == [("data.REGION", '"eu"', '"us"')]
    # Another value is drift, though it names the environment too.
    other = rendered("production", text.format(env="production", region="eu").replace(
        "ENVIRONMENT: production", "ENVIRONMENT: prod-eu"))
    assert fields(compare(DriftConfig(), staging, other)) == [
        ("data.ENVIRONMENT", '"staging"', '"prod-eu"')]


def test_image_and_env_differences_are_drift_with_both_values_and_lines() -> None:
    staging = rendered("staging", deployment())
    prod = rendered("prod", deployment(image="ghcr.io/acme/web:1.1.0",
                                       extra_env="\n            - {name: DEBUG, value: 'on'}"))
    drift = compare(DriftConfig(), staging, prod)
    assert drift.found
    assert fields(drift) == [
        ("spec.template.spec.containers[name=web].env[name=DEBUG]", "(absent)",
         '{"name": "DEBUG", "value": "on"}'),
        ("spec.template.spec.containers[name=web].image", '"ghcr.io/acme/web:1.0.0"',
         '"ghcr.io/acme/web:1.1.0"'),
    ]
    env, image = drift.differing[0].fields
    assert (image.a.file, image.a.line) == ("staging.yaml", 13)
    assert (image.b.file, image.b.line) == ("prod.yaml", 13)
    assert (env.b.line, env.a.line) == (16, 14)  # absent in staging: its env list's line


def test_config_ignores_and_defaults_off() -> None:
    staging = rendered("staging", deployment())
    prod = rendered("prod", deployment(image="ghcr.io/acme/web:1.1.0", replicas=3))
    lenient = DriftConfig(rules=(IgnoreRule.of(["**.image"]),))
    assert not compare(lenient, staging, prod).found
    strict = DriftConfig(defaults=False)
    assert [path for path, _, _ in fields(compare(strict, staging, prod))] == [
        "spec.replicas", "spec.template.spec.containers[name=web].image"]


def test_references_to_renamed_resources_compare_as_paired() -> None:
    template = """\
apiVersion: v1
kind: ConfigMap
metadata: {{name: {cm}}}
data: {{LOG: info}}
---
apiVersion: v1
kind: Pod
metadata: {{name: {pod}}}
spec:
  containers:
    - name: app
      image: app:1
      envFrom: [{{configMapRef: {{name: {cm}}}}}]
"""
    staging = rendered("staging", template.format(cm="cfg-2ghkmt4567", pod="app"))
    prod = rendered("prod", template.format(cm="prod-cfg-5bcdf2ghkm", pod="prod-app"),
                    [Affixes("prod-", "")])
    drift = compare(DriftConfig(), staging, prod)
    assert not drift.found, fields(drift)
    assert drift.paired == 2


def test_lists_without_names_compare_by_position() -> None:
    base = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [%s]\n"
    drift = compare(DriftConfig(), rendered("a", base % "80, 443"), rendered("b", base % "80"))
    assert fields(drift) == [("spec.ports[1]", "443", "(absent)")]


def test_output_is_deterministic() -> None:
    def run() -> list[tuple[str, str, str]]:
        return fields(compare(DriftConfig(), rendered("staging", deployment()),
                              rendered("prod", deployment(image="x:2"))))

    assert run() == run()


def test_the_config_schema_holds_the_drift_fragment() -> None:
    import json
    from pathlib import Path

    import jsonschema

    from gate.governance.drift_config import SCHEMA

    path = Path(__file__).resolve().parents[1] / "gate" / "schemas" / "config.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["properties"]["drift"] == SCHEMA
    assert "drift" in schema["properties"]["locked"]["items"]["else"]["enum"]
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"drift": {"ignore": [{"paths": ["spec.replicas"]}]}})
    assert not validator.is_valid({"drift": {"namespace": "maybe"}})


def test_the_change_document_renders_drift_only_when_read() -> None:
    from gate.governance.change import lazy_drift

    calls: list[tuple[str, str]] = []

    def lister(environment: str, source: str) -> dict[str, Any]:
        calls.append((environment, source))
        return {"from": source, "environment": environment}

    drift = lazy_drift("prod", ["prod", "staging"], lister)
    assert calls == []
    assert drift.get("staging") == {"from": "staging", "environment": "prod"}
    assert drift.get("staging") is drift.get("staging")
    assert calls == [("prod", "staging")]
