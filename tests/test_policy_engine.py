"""The policy engine, through small policies written in the tests.

Covers assert and schema rules, messages, ``let``/``var``, ``when``, ``for_each`` and
``field``; match/exclude selectors; statuses, enforcement and ``fail_on``; runtime
errors (fail closed); load-time errors with their lines; the example custom policies
of ``fixtures/policies/custom``.
"""
from __future__ import annotations

import json
import re
import shlex
import textwrap
from pathlib import Path
from typing import Any

import pytest
from jmespath import functions

from gate.config import apply_config, load_config
from gate.errors import PolicyError
from gate.evaluation.evaluate import evaluate
from gate.evaluation.functions import GateFunctions
from gate.evaluation.policy import Policy
from gate.evaluation.policy_assembly import check_unique
from gate.evaluation.policy_compile import load_policy_text
from gate.evaluation.policy_loading import load_builtin, load_directory
from gate.loading.globs import match_path
from gate.loading.resources import Resource, read_resources
from gate.loading.sources import SourceFile
from gate.results import FAIL, PASS, SKIP, WARN, Result
from tests.conftest import RunGate

ROOT = Path(__file__).resolve().parents[1]
CUSTOM = ROOT / "fixtures" / "policies" / "custom"
DOC = ROOT / "docs" / "policy-language.md"
POLICY_FILE = "policies/test.yaml"


def head(policy_id: str = "test", severity: str = "high") -> str:
    return textwrap.dedent(f"""\
        apiVersion: gate.dev/v1
        kind: Policy
        id: {policy_id}
        title: A test policy
        description: What it checks.
        rationale: Why it matters.
        remediation: How to fix it.
        severity: {severity}
        """)


def policy(body: str, *, policy_id: str = "test", severity: str = "high") -> Policy:
    [compiled] = load_policy_text(head(policy_id, severity) + textwrap.dedent(body), POLICY_FILE)
    return compiled


def resources(text: str, name: str = "apps/web.yaml") -> list[Resource]:
    source = SourceFile(name, textwrap.dedent(text))
    return [r for r in read_resources(source) if isinstance(r, Resource)]


def check(subject: Policy, text: str, *, fail_on: str = "info",
          name: str = "apps/web.yaml") -> list[Result]:
    return evaluate([subject], resources(text, name), fail_on)


def found(results: list[Result]) -> list[tuple[str, str | None, int | None]]:
    """(message, field, line) of each finding."""
    return [(r.message, r.field, r.line) for r in results if r.status in (FAIL, WARN)]


DEPLOYMENT = """\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      namespace: prod
      labels: {app: web, tier: frontend}
    spec:
      replicas: 1
      template:
        spec:
          containers:
            - name: web
              image: web:1.0
              ports:
                - containerPort: "8080"
            - name: proxy
              image: envoy:1.31
              securityContext:
                privileged: true
    """
# line numbers in DEPLOYMENT
L_METADATA, L_LABELS, L_REPLICAS = 3, 6, 8
L_WEB, L_PORT, L_PROXY, L_PRIVILEGED = 12, 15, 16, 19


# -- assert rules, messages and fields ---------------------------------------------------


def test_assert_pass_and_fail() -> None:
    passing = policy("""
        rules:
          - assert: "spec.replicas >= `1`"
            message: never shown
        """)
    assert [r.status for r in check(passing, DEPLOYMENT)] == [PASS]
    failing = policy("""
        rules:
          - assert: "spec.replicas >= `2`"
            message: too few replicas
            field: spec.replicas
        """)
    assert found(check(failing, DEPLOYMENT)) == [("too few replicas", "spec.replicas", L_REPLICAS)]


@pytest.mark.parametrize(
    ("template", "rendered"),
    [
        ("{{ metadata.name }}", "web"),  # strings bare
        ("{{ spec.replicas }}", "1"),  # everything else as JSON
        ("{{ metadata.labels }}", '{"app": "web", "tier": "frontend"}'),  # keys sorted
        ("{{ [metadata.name, spec.replicas] }}", '["web", 1]'),
        ("{{ spec.nothing }}", "null"),
        ("{{ `true` }}", "true"),
        ("{{ `1.5` }}", "1.5"),
        ("'{{ metadata.name }}' has {{ length(spec.template.spec.containers) }} containers",
         "'web' has 2 containers"),
        ("no template at all", "no template at all"),
        ("{{metadata.name}}{{metadata.namespace}}", "webprod"),
    ],
)
def test_message_templates(template: str, rendered: str) -> None:
    quoted = template.replace('"', '\\"')
    subject = policy(f"""
        rules:
          - assert: "`false`"
            message: "{quoted}"
        """)
    [(message, _, _)] = found(check(subject, DEPLOYMENT))
    assert message == rendered


def test_message_part_that_cannot_be_evaluated_is_shown_inline() -> None:
    subject = policy("""
        rules:
          - assert: "`false`"
            message: "name {{ abs(metadata.name) }} end"
        """)
    [(message, _, _)] = found(check(subject, DEPLOYMENT))
    assert message.startswith("name <") and message.endswith("> end")
    assert "abs()" in message


def test_rule_without_message_uses_its_name_or_number() -> None:
    # assert rules require a message; schema rules fall back to the validator's words
    subject = policy("""
        rules:
          - name: replicas-integer
            schema: {properties: {spec: {properties: {replicas: {type: string}}}}}
        """)
    [(message, field, _)] = found(check(subject, DEPLOYMENT))
    assert message == "1 is not of type 'string'"
    assert field == "spec.replicas"


def test_let_and_var() -> None:
    subject = policy("""
        rules:
          - let:
              count: "length(spec.template.spec.containers)"
              names: "join(', ', spec.template.spec.containers[].name)"
              both: "[var('count'), var('names')]"
            assert: "var('count') < `2`"
            message: "{{ var('count') }} containers ({{ var('names') }}) {{ var('both') }}"
        """)
    [(message, _, _)] = found(check(subject, DEPLOYMENT))
    assert message == '2 containers (web, proxy) [2, "web, proxy"]'


def test_let_is_evaluated_per_item() -> None:
    subject = policy("""
        rules:
          - for_each: "spec.template.spec.containers"
            let:
              ref: "image_ref(image)"
            assert: "var('ref').tag != '1.0'"
            message: "{{ name }}: {{ var('ref').repository }} {{ var('ref').tag }}"
        """)
    assert [m for m, _, _ in found(check(subject, DEPLOYMENT))] == ["web: web 1.0"]


def test_when() -> None:
    body = """
        rules:
          - when: "metadata.namespace == '{namespace}'"
            assert: "spec.replicas > `1`"
            message: too few
        """
    in_prod = policy(body.format(namespace="prod"))
    assert found(check(in_prod, DEPLOYMENT)) == [("too few", None, 1)]
    elsewhere = policy(body.format(namespace="dev"))
    assert [r.status for r in check(elsewhere, DEPLOYMENT)] == [SKIP]


def test_for_each_over_objects_in_the_resource() -> None:
    subject = policy("""
        rules:
          - for_each: "containers(@)"
            assert: "securityContext.privileged != `true`"
            message: "container '{{ name }}' runs privileged"
            field: securityContext.privileged
        """)
    assert found(check(subject, DEPLOYMENT)) == [(
        "container 'proxy' runs privileged",
        "spec.template.spec.containers[1].securityContext.privileged",
        L_PRIVILEGED,
    )]


def test_for_each_without_field_reports_the_item() -> None:
    subject = policy("""
        rules:
          - for_each: "spec.template.spec.containers"
            assert: "ports != null"
            message: "container '{{ name }}' has no ports"
        """)
    assert found(check(subject, DEPLOYMENT)) == [
        ("container 'proxy' has no ports", "spec.template.spec.containers[1]", L_PROXY),
    ]


def test_field_of_a_missing_key_points_at_its_deepest_existing_part() -> None:
    subject = policy("""
        rules:
          - for_each: "spec.template.spec.containers"
            assert: "resources != null"
            message: "no resources"
            field: resources.limits
        """)
    assert found(check(subject, DEPLOYMENT)) == [
        ("no resources", "spec.template.spec.containers[0].resources.limits", L_WEB),
        ("no resources", "spec.template.spec.containers[1].resources.limits", L_PROXY),
    ]


def test_nested_for_each_item_path() -> None:
    subject = policy("""
        rules:
          - for_each: "spec.template.spec.containers[].ports[]"
            assert: "type(containerPort) == 'number'"
            message: "port {{ containerPort }} is not a number"
            field: containerPort
        """)
    assert found(check(subject, DEPLOYMENT)) == [(
        "port 8080 is not a number",
        "spec.template.spec.containers[0].ports[0].containerPort",
        L_PORT,
    )]


def test_for_each_over_parameters_with_absolute_field() -> None:
    subject = policy("""
        parameters:
          required:
            description: Label keys that must be set.
            default: [app, team, app.kubernetes.io/part-of]
        rules:
          - for_each: "param('required')"
            assert: "get(resource().metadata.labels, @) != null"
            message: "label {{ @ }} is missing"
            field: '$.metadata.labels."{{ @ }}"'
        """)
    assert found(check(subject, DEPLOYMENT)) == [
        ("label team is missing", "metadata.labels.team", L_LABELS),
        ("label app.kubernetes.io/part-of is missing",
         'metadata.labels."app.kubernetes.io/part-of"', L_LABELS),
    ]


def test_absolute_field_root_is_the_resource() -> None:
    subject = policy("""
        rules:
          - for_each: "spec.template.spec.containers"
            assert: "`false`"
            message: "{{ name }}"
            field: "$"
        """)
    assert found(check(subject, DEPLOYMENT)) == [("web", None, 1), ("proxy", None, 1)]


def test_item_and_resource_functions() -> None:
    subject = policy("""
        rules:
          - for_each: "spec.template.spec.containers"
            assert: "item().name != 'proxy'"
            message: "{{ resource().metadata.name }}/{{ item().name }} at {{ path(item()) }}"
        """)
    [(message, _, _)] = found(check(subject, DEPLOYMENT))
    assert message == "web/proxy at $.spec.template.spec.containers[1]"


def test_field_template_that_is_not_a_path_falls_back_to_the_item() -> None:
    subject = policy("""
        rules:
          - for_each: "spec.template.spec.containers"
            assert: "name != 'web'"
            message: "x"
            field: "{{ 'not a [path' }}"
        """)
    assert found(check(subject, DEPLOYMENT)) == [("x", "spec.template.spec.containers[0]", L_WEB)]


def test_relative_field_of_a_scalar_item_is_not_placed_at_the_root() -> None:
    subject = policy("""
        rules:
          - for_each: "spec.containers[].args[]"
            assert: "!starts_with(@, '--insecure')"
            message: "insecure flag {{ @ }}"
            field: args
        """)
    text = """\
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          containers:
            - name: a
              args: ["--insecure"]
        """
    [(_, field, _)] = found(check(subject, text))
    assert field != "args"


def test_aliased_items_are_reported_at_each_location() -> None:
    subject = policy("""
        rules:
          - for_each: "containers(@)"
            assert: "image != 'bad'"
            message: "{{ name }}"
            field: image
        """)
    text = """\
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          initContainers:
            - &shared
              name: a
              image: bad
          containers:
            - *shared
        """
    fields = sorted(field or "" for _, field, _ in found(check(subject, text)))
    assert fields == ["spec.containers[0].image", "spec.initContainers[0].image"]


# -- schema rules ------------------------------------------------------------------------

REPLICAS_SCHEMA = """
        rules:
          - schema:
              type: object
              properties:
                spec:
                  type: object
                  properties:
                    replicas: {type: integer, minimum: 2}
        """


def test_schema_rule_over_the_resource() -> None:
    subject = policy(REPLICAS_SCHEMA)
    assert found(check(subject, DEPLOYMENT)) == [
        ("1 is less than the minimum of 2", "spec.replicas", L_REPLICAS),
    ]
    passing = DEPLOYMENT.replace("replicas: 1", "replicas: 3")
    assert [r.status for r in check(subject, passing)] == [PASS]


def test_schema_rule_message_quotes_the_error() -> None:
    with_message = textwrap.dedent(REPLICAS_SCHEMA).rstrip() + "\n" + (
        "    message: \"{{ metadata.name }}: {{ var('error') }}\"\n"
    )
    subject = policy(with_message)
    assert found(check(subject, DEPLOYMENT)) == [
        ("web: 1 is less than the minimum of 2", "spec.replicas", L_REPLICAS),
    ]


def test_schema_rule_required_property_points_at_the_parent() -> None:
    subject = policy("""
        rules:
          - schema:
              properties:
                spec: {required: [strategy]}
        """)
    assert found(check(subject, DEPLOYMENT)) == [
        ("'strategy' is a required property", "spec", 7),
    ]


def test_schema_rule_reports_every_error_in_path_order() -> None:
    subject = policy("""
        rules:
          - schema:
              properties:
                metadata:
                  properties:
                    name: {minLength: 5}
                spec:
                  properties:
                    replicas: {minimum: 2}
        """)
    assert [(f, line) for _, f, line in found(check(subject, DEPLOYMENT))] == [
        ("metadata.name", 4), ("spec.replicas", L_REPLICAS),
    ]


def test_schema_rule_over_each_item() -> None:
    subject = policy("""
        rules:
          - for_each: "containers(@)"
            schema:
              type: object
              required: [resources]
              properties:
                ports:
                  items:
                    properties:
                      containerPort: {type: integer}
            message: "container {{ name }}: {{ var('error') }}"
        """)
    # per item, in the order of the errors' paths
    assert found(check(subject, DEPLOYMENT)) == [
        ("container web: 'resources' is a required property",
         "spec.template.spec.containers[0]", L_WEB),
        ("container web: '8080' is not of type 'integer'",
         "spec.template.spec.containers[0].ports[0].containerPort", L_PORT),
        ("container proxy: 'resources' is a required property",
         "spec.template.spec.containers[1]", L_PROXY),
    ]


def test_schema_rule_defaults_to_draft_2020_12() -> None:
    subject = policy("""
        rules:
          - schema:
              properties:
                args: {prefixItems: [{const: "--serve"}]}
        """)
    text = """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c}
        args: ["--debug", "--serve"]
        """
    assert found(check(subject, text)) == [("'--serve' was expected", "args[0]", 4)]


def test_schema_rule_honours_draft_07() -> None:
    tuple_items = """
        rules:
          - schema:
              {draft}
              properties:
                args: {{items: [{{const: "--serve"}}]}}
        """
    with pytest.raises(PolicyError, match=r"invalid JSON Schema at properties\.args\.items"):
        policy(tuple_items.format(draft=""))  # 2020-12: items must be one schema
    subject = policy(tuple_items.format(draft='$schema: "http://json-schema.org/draft-07/schema#"'))
    text = """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c}
        args: ["--debug"]
        """
    assert found(check(subject, text)) == [("'--serve' was expected", "args[0]", 4)]


def test_var_error_is_only_known_to_schema_rules() -> None:
    with pytest.raises(PolicyError, match=r"var\('error'\) is not defined"):
        policy("""
            rules:
              - assert: "`false`"
                message: "{{ var('error') }}"
            """)


# -- match and exclude -------------------------------------------------------------------

SELECTABLE = """\
    apiVersion: {api_version}
    kind: {kind}
    metadata:
      name: {name}
      {namespace}
      labels: {labels}
    spec:
      replicas: {replicas}
    """


def selectable(
    *,
    api_version: str = "apps/v1",
    kind: str = "Deployment",
    name: str = "web",
    namespace: str | None = "prod",
    labels: str = "{app: web, tier: frontend}",
    replicas: int = 3,
    file: str = "apps/prod/web.yaml",
) -> Resource:
    text = SELECTABLE.format(
        api_version=api_version, kind=kind, name=name, labels=labels, replicas=replicas,
        namespace=f"namespace: {namespace}" if namespace is not None else "",
    )
    [resource] = resources(text, file)
    return resource


def selector_policy(selector: str, key: str = "match") -> Policy:
    indented = textwrap.indent(textwrap.dedent(selector).strip("\n"), "  ")
    return policy(f"{key}:\n{indented}\nrules:\n  - assert: \"`true`\"\n    message: x\n")


MATCH_CASES: list[tuple[str, dict[str, Any], bool]] = [
    # kinds: Kind, or apiVersion/Kind, as globs
    ("kinds: [Deployment]", {}, True),
    ("kinds: [Deployment]", {"kind": "StatefulSet"}, False),
    ("kinds: [deployment]", {}, False),  # case matters
    ("kinds: [StatefulSet, Deployment]", {}, True),  # any entry
    ("kinds: [apps/v1/Deployment]", {}, True),
    ("kinds: [apps/v1/Deployment]", {"api_version": "extensions/v1beta1"}, False),
    ("kinds: [apps/*/Deployment]", {"api_version": "apps/v1beta2"}, True),
    ("kinds: [v1/Pod]", {"api_version": "v1", "kind": "Pod"}, True),
    ("kinds: [v1/Pod]", {"api_version": "example.com/v1", "kind": "Pod"}, False),
    ("kinds: ['Deploy*']", {}, True),
    ("kinds: ['*Set']", {"kind": "DaemonSet"}, True),
    ("kinds: ['*Set']", {}, False),
    ("kinds: ['argoproj.io/*/Rollout']",
     {"api_version": "argoproj.io/v1alpha1", "kind": "Rollout"}, True),
    # namespaces: "" when unset
    ("namespaces: [prod]", {}, True),
    ("namespaces: [prod]", {"namespace": "dev"}, False),
    ("namespaces: [prod]", {"namespace": None}, False),
    ("namespaces: ['prod-*']", {"namespace": "prod-eu"}, True),
    ("namespaces: ['prod-*']", {}, False),
    ("namespaces: ['*']", {"namespace": None}, True),
    # names
    ("names: [web]", {}, True),
    ("names: ['web-*', api]", {"name": "web-canary"}, True),
    ("names: ['web-*']", {}, False),
    # paths, relative to the reported file path; ** spans directories
    ("paths: ['apps/**']", {}, True),
    ("paths: ['apps/*.yaml']", {}, False),  # * stays within one directory
    ("paths: ['apps/*/web.yaml']", {}, True),
    ("paths: ['**/prod/*.yaml']", {}, True),
    ("paths: ['**/prod/*.yaml']", {"file": "prod/web.yaml"}, True),
    ("paths: ['**/dev/**']", {}, False),
    ("paths: ['./apps/**']", {"file": "./apps/x.yaml"}, True),
    # labels: matchLabels and matchExpressions, all must hold
    ("labels: {matchLabels: {app: web}}", {}, True),
    ("labels: {matchLabels: {app: web, tier: backend}}", {}, False),
    ("labels: {matchLabels: {app: web}}", {"labels": "null"}, False),
    ("labels: {matchExpressions: [{key: tier, operator: In, values: [frontend, edge]}]}",
     {}, True),
    ("labels: {matchExpressions: [{key: tier, operator: In, values: [backend]}]}", {}, False),
    ("labels: {matchExpressions: [{key: team, operator: In, values: [a]}]}", {}, False),
    ("labels: {matchExpressions: [{key: tier, operator: NotIn, values: [backend]}]}", {}, True),
    ("labels: {matchExpressions: [{key: tier, operator: NotIn, values: [frontend]}]}",
     {}, False),
    ("labels: {matchExpressions: [{key: team, operator: NotIn, values: [a]}]}", {}, True),
    ("labels: {matchExpressions: [{key: app, operator: Exists}]}", {}, True),
    ("labels: {matchExpressions: [{key: team, operator: Exists}]}", {}, False),
    ("labels: {matchExpressions: [{key: team, operator: DoesNotExist}]}", {}, True),
    ("labels: {matchExpressions: [{key: app, operator: DoesNotExist}]}", {}, False),
    ("labels: {matchLabels: {app: web}, matchExpressions: [{key: x, operator: Exists}]}",
     {}, False),
    # where: JMESPath over the resource
    ("where: \"spec.replicas > `2`\"", {}, True),
    ("where: \"spec.replicas > `2`\"", {"replicas": 1}, False),
    ("where: \"contains(keys(metadata.labels), 'tier')\"", {}, True),
    # every criterion given must hold
    ("kinds: [Deployment]\nnamespaces: [prod]", {}, True),
    ("kinds: [Deployment]\nnamespaces: [prod]", {"namespace": "dev"}, False),
    ("kinds: [Deployment]\nnamespaces: [prod]", {"kind": "StatefulSet"}, False),
    ("names: [web]\nwhere: \"spec.replicas > `5`\"", {}, False),
]


@pytest.mark.parametrize(("selector", "changes", "matches"), MATCH_CASES,
                         ids=[f"{s}|{c}" for s, c, _ in MATCH_CASES])
def test_match(selector: str, changes: dict[str, Any], matches: bool) -> None:
    resource = selectable(**changes)
    assert selector_policy(selector).applies_to(resource) is matches
    # exclude is the same selector, inverted
    assert selector_policy(selector, "exclude").applies_to(resource) is not matches


def test_match_and_exclude_together() -> None:
    subject = policy("""
        match:
          kinds: [Deployment, StatefulSet]
        exclude:
          namespaces: [kube-system]
          names: ['*-debug']
        rules:
          - assert: "`true`"
            message: x
        """)
    assert subject.applies_to(selectable())
    assert subject.applies_to(selectable(namespace="kube-system"))  # name does not match
    assert not subject.applies_to(selectable(namespace="kube-system", name="x-debug"))
    assert not subject.applies_to(selectable(kind="Service"))


def test_a_policy_that_does_not_apply_reports_nothing() -> None:
    subject = selector_policy("kinds: [Service]")
    assert evaluate([subject], [selectable()], "info") == []


def test_empty_selector_matches_everything() -> None:
    subject = policy("""
        match: {}
        rules:
          - assert: "`true`"
            message: x
        """)
    assert subject.applies_to(selectable(kind="ConfigMap", namespace=None))


def test_where_reads_the_policys_own_parameters() -> None:
    subject = policy("""
        parameters:
          environment: {description: Namespace checked., default: prod}
        match:
          where: "metadata.namespace == param('environment')"
        rules:
          - assert: "`false`"
            message: hit
        """)
    other = policy("""
        parameters:
          environment: {description: Another policy's value., default: dev}
        rules:
          - assert: "`true`"
            message: x
        """, policy_id="other")
    prod, dev = selectable(), selectable(name="api", namespace="dev")
    results = evaluate([other, subject], [prod, dev], "info")
    hits = [(r.resource.name, r.policy.id) for r in results if r.status == FAIL]
    assert hits == [("web", "test")]


def test_where_can_call_resource() -> None:
    subject = selector_policy("where: \"resource().metadata.name == 'web'\"")
    assert subject.applies_to(selectable())
    assert not subject.applies_to(selectable(name="api"))


def test_where_runtime_error_is_a_finding() -> None:
    subject = selector_policy("where: \"abs(metadata.name) > `1`\"")
    results = evaluate([subject], [selectable()], "info")
    assert [r.status for r in results] == [FAIL]
    assert "could not be evaluated" in results[0].message


# -- statuses, severity, enforcement, fail_on ---------------------------------------------

FAILING_RULE = """
    rules:
      - name: always
        assert: "`false`"
        message: finding
    """


def test_enforcement_warn_makes_findings_warnings() -> None:
    subject = policy("enforcement: warn\n" + textwrap.dedent(FAILING_RULE))
    assert [r.status for r in check(subject, DEPLOYMENT)] == [WARN]
    blocking = policy(FAILING_RULE)
    assert blocking.info.enforcement == "block"  # the default
    assert [r.status for r in check(blocking, DEPLOYMENT)] == [FAIL]
    assert [r.status for r in check(blocking.configured(enforcement="warn"), DEPLOYMENT)] == [WARN]


@pytest.mark.parametrize(
    ("severity", "fail_on", "status"),
    [
        ("medium", "info", FAIL),
        ("medium", "low", FAIL),
        ("medium", "medium", FAIL),  # at the threshold
        ("medium", "high", WARN),  # below it
        ("medium", "critical", WARN),
        ("critical", "critical", FAIL),
        ("info", "info", FAIL),
        ("info", "low", WARN),
    ],
)
def test_fail_on_threshold(severity: str, fail_on: str, status: str) -> None:
    subject = policy(FAILING_RULE, severity=severity)
    assert [r.status for r in check(subject, DEPLOYMENT, fail_on=fail_on)] == [status]


def test_configured_severity_counts_for_the_threshold() -> None:
    subject = policy(FAILING_RULE, severity="low").configured(severity="critical")
    assert [r.status for r in check(subject, DEPLOYMENT, fail_on="high")] == [FAIL]


def test_configured_returns_a_new_policy() -> None:
    subject = policy("""
        parameters:
          n: {description: A number., default: 1}
        rules:
          - assert: "param('n') == `1`"
            message: "n is {{ param('n') }}"
        """)
    changed = subject.configured(params={"n": 2}, severity="low")
    assert subject.params == {"n": 1} and subject.info.severity == "high"
    assert [r.status for r in check(subject, DEPLOYMENT)] == [PASS]
    assert found(check(changed, DEPLOYMENT)) == [("n is 2", None, 1)]


def test_skip_when_for_each_selects_nothing() -> None:
    subject = policy("""
        rules:
          - for_each: "spec.template.spec.volumes"
            assert: "`false`"
            message: x
        """)
    [result] = check(subject, DEPLOYMENT)
    assert (result.status, result.message) == (SKIP, "nothing to check")


def test_pass_when_one_rule_applies_and_another_skips() -> None:
    subject = policy("""
        rules:
          - when: "kind == 'Pod'"
            assert: "`false`"
            message: x
          - assert: "`true`"
            message: y
        """)
    assert [r.status for r in check(subject, DEPLOYMENT)] == [PASS]


def test_every_finding_is_its_own_result() -> None:
    subject = policy("""
        rules:
          - for_each: "containers(@)"
            assert: "`false`"
            message: "{{ name }}"
          - assert: "`false`"
            message: whole
        """)
    assert [m for m, _, _ in found(check(subject, DEPLOYMENT))] == ["web", "proxy", "whole"]


def test_jmespath_truthiness() -> None:
    subject = policy("""
        parameters:
          values:
            description: Values to test.
            default: [0, 1, "", "x", [], [0], {}, {"a": 1}, null, false, true]
        rules:
          - for_each: "param('values')"
            let: {v: "@"}
            assert: "var('v')"
            message: "{{ var('v') }}"
        """)
    falsy = sorted(m for m, _, _ in found(check(subject, DEPLOYMENT)))
    # false, null and empty strings, arrays and objects are false; 0 is true
    assert falsy == ["", "[]", "false", "null", "{}"]


# -- runtime errors fail closed ---------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    ["abs(metadata.name) > `0`", "length(`1`) > `0`", "sort_by(spec.template.spec.containers, &x)"],
)
def test_runtime_error_is_a_finding(expression: str) -> None:
    subject = policy(f"""
        rules:
          - name: risky
            assert: "{expression}"
            message: never shown
          - name: fine
            assert: "`false`"
            message: still evaluated
        """)
    results = check(subject, DEPLOYMENT)
    assert [r.status for r in results] == [FAIL, FAIL]
    assert results[0].message.startswith("risky could not be evaluated: ")
    assert (results[0].field, results[0].line) == (None, 1)
    assert results[1].message == "still evaluated"


@pytest.mark.parametrize("key", ["when", "for_each", "let"])
def test_runtime_error_in_any_part_of_a_rule(key: str) -> None:
    expression = "abs(metadata.name)"
    rule = {
        "when": f'when: "{expression}"',
        "for_each": f'for_each: "{expression}"',
        "let": f'let: {{x: "{expression}"}}',
    }[key]
    subject = policy(f"""
        rules:
          - {rule}
            assert: "`true`"
            message: x
        """)
    [result] = check(subject, DEPLOYMENT)
    assert result.status == FAIL and "could not be evaluated" in result.message


def test_invalid_regex_from_data_is_a_finding() -> None:
    subject = policy("""
        rules:
          - assert: "regex_match(metadata.labels.app, 'web')"
            message: x
        """)
    text = DEPLOYMENT.replace("{app: web,", "{app: '([',")
    [result] = check(subject, text)
    assert result.status == FAIL and "invalid regular expression" in result.message


@pytest.mark.parametrize("key", ["when", "for_each"])
def test_var_outside_let_scope_is_a_load_error(key: str) -> None:
    with pytest.raises(PolicyError):
        policy(f"""
            rules:
              - let: {{v: "metadata.name"}}
                {key}: "var('v')"
                assert: "`false`"
                message: x
            """)


# -- load-time errors, with file and line --------------------------------------------------
# Each body marks the line the error must point at with "# <-".

LOAD_ERRORS: list[tuple[str, str, str]] = [
    ("bad JMESPath syntax", """
        rules:
          - name: r
            assert: "metadata.[name"  # <-
            message: x
        """, "invalid JMESPath 'metadata.[name' at column"),
    ("unknown function", """
        rules:
          - name: r
            assert: "`true`"
            when: "nope(@)"  # <-
            message: x
        """, "unknown function nope()"),
    ("wrong arity of a gate function", """
        rules:
          - name: r
            assert: "`true`"
            message: "{{ regex_match('a') }}"  # <-
        """, "regex_match() takes 2 argument(s), 1 given"),
    ("wrong arity of a JMESPath function", """
        rules:
          - name: r
            for_each: "length(a, b)"  # <-
            assert: "`true`"
            message: x
        """, "length() takes 1 argument(s), 2 given"),
    ("too many arguments to an optional-argument function", """
        rules:
          - name: r
            assert: "length(containers(@, `[]`, `1`)) > `0`"  # <-
            message: x
        """, "containers() takes 1 to 2 argument(s), 3 given"),
    ("param() of an undeclared parameter", """
        rules:
          - name: r
            assert: "param('nope')"  # <-
            message: x
        """, "rules[0]: unknown parameter 'nope'"),
    ("param() of an undeclared parameter in where", """
        match:
          where: "param('nope')"  # <-
        rules:
          - assert: "`true`"
            message: x
        """, "match.where: unknown parameter 'nope'"),
    ("var() of an undefined let", """
        rules:
          - name: r  # <-
            assert: "var('v')"
            message: x
        """, "var('v') is not defined by this rule's let"),
    ("var() before its let", """
        rules:
          - name: r
            let:  # <-
              a: "var('b')"
              b: "`1`"
            assert: "var('a')"
            message: x
        """, "var('b') is used before it is defined"),
    ("non-literal parameter name", """
        rules:
          - name: r
            assert: "param(metadata.name)"  # <-
            message: x
        """, "param() needs a quoted name"),
    ("non-literal var name", """
        rules:
          - name: r
            let: {a: "`1`"}
            assert: "`true`"
            message: "{{ var(`1`) }}"  # <-
        """, "var() needs a quoted name"),
    ("invalid regex literal", """
        rules:
          - name: r
            assert: "regex_match('([', metadata.name)"  # <-
            message: x
        """, "invalid regular expression"),
    ("invalid JSON Schema", """
        rules:
          - name: r
            schema:  # <-
              properties:
                replicas: {minimum: two}
        """, "invalid JSON Schema at properties.replicas.minimum"),
    ("invalid JSON Schema type", """
        rules:
          - schema:  # <-
              type: objec
        """, "invalid JSON Schema at type"),
    ("invalid parameter default", """
        parameters:
          n:
            description: A number.
            default: "3"  # <-
            schema: {type: integer}
        rules:
          - assert: "param('n')"
            message: x
        """, "default of parameter 'n': '3' is not of type 'integer'"),
    ("invalid parameter schema", """
        parameters:
          n:
            description: A number.
            default: 3
            schema: {type: number, minimum: low}  # <-
        rules:
          - assert: "param('n')"
            message: x
        """, "parameter 'n': invalid JSON Schema"),
    ("invalid field path", """
        rules:
          - name: r
            assert: "`true`"
            message: x
            field: "spec..replicas"  # <-
        """, "invalid field path"),
    ("bad template expression", """
        rules:
          - name: r
            assert: "`true`"
            message: "{{ a.[ }}"  # <-
        """, "invalid JMESPath 'a.['"),
    ("assert without message", """
        rules:
          - assert: "`true`"  # <-
        """, "an 'assert' rule needs a 'message'"),
    ("both assert and schema", """
        rules:
          - assert: "`true`"
            message: x
            schema: {}  # <-
        """, "either 'assert' or 'schema', not both"),
    ("unknown rule key", """
        rules:
          - assert: "`true`"
            message: x
            feild: spec  # <-
        """, "'feild' was unexpected"),
    ("selector of the wrong type", """
        match:
          kinds: Deployment  # <-
        rules:
          - assert: "`true`"
            message: x
        """, "match.kinds: 'Deployment' is not of type 'array'"),
    ("bad where", """
        exclude:
          where: "a.["  # <-
        rules:
          - assert: "`true`"
            message: x
        """, "exclude.where: invalid JMESPath"),
    ("no rules", """
        rules: []  # <-
        """, "rules: [] should be non-empty"),
]


def marked_line(text: str) -> int:
    [line] = [n for n, content in enumerate(text.splitlines(), 1) if "# <-" in content]
    return line


@pytest.mark.parametrize(("case", "body", "message"), LOAD_ERRORS,
                         ids=[case for case, _, _ in LOAD_ERRORS])
def test_load_errors(case: str, body: str, message: str) -> None:
    text = head() + textwrap.dedent(body)
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, POLICY_FILE)
    error = caught.value
    assert message in error.message
    assert (error.file, error.line) == (POLICY_FILE, marked_line(text))
    assert str(error).startswith(f"{POLICY_FILE}:{error.line}: ")


def test_load_error_in_a_later_document_has_the_file_line() -> None:
    good = head("first") + textwrap.dedent(FAILING_RULE)
    bad = head("second") + 'rules:\n  - assert: "nope()"  # <-\n    message: x\n'
    text = good + "---\n" + bad
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, POLICY_FILE)
    assert caught.value.line == marked_line(text)


def test_not_a_policy() -> None:
    with pytest.raises(PolicyError, match="not a gate policy") as caught:
        load_policy_text("# a comment\napiVersion: v1\nkind: ConfigMap\n", POLICY_FILE)
    assert caught.value.line == 2


def test_several_policies_in_one_file() -> None:
    rule = textwrap.dedent(FAILING_RULE)
    text = head("first") + rule + "---\n" + head("second") + rule
    assert [p.id for p in load_policy_text(text, POLICY_FILE)] == ["first", "second"]


def test_duplicate_ids_are_an_error() -> None:
    first = policy(FAILING_RULE)
    second = policy(FAILING_RULE)
    with pytest.raises(PolicyError, match="duplicate policy id 'test'"):
        check_unique([first, second])


# -- the example custom policies (fixtures/policies/custom, shown in the docs) -------------


def custom_policies() -> dict[str, Policy]:
    return {p.id: p for p in load_directory(str(CUSTOM))}


def test_custom_policies_load() -> None:
    assert sorted(custom_policies()) == ["no-privileged-containers", "prod-replicas"]


@pytest.mark.parametrize("policy_id", ["no-privileged-containers", "prod-replicas"])
def test_custom_policy_examples(policy_id: str) -> None:
    subject = custom_policies()[policy_id]
    examples = subject.spec["examples"]
    assert found(evaluate([subject], resources(examples["fail"]), "info"))
    passing = evaluate([subject], resources(examples["pass"]), "info")
    assert [r.status for r in passing] == [PASS]


def test_no_privileged_containers() -> None:
    subject = custom_policies()["no-privileged-containers"]
    assert found(check(subject, DEPLOYMENT)) == [(
        "container 'proxy' runs privileged",
        "spec.template.spec.containers[1].securityContext.privileged",
        L_PRIVILEGED,
    )]
    init = """\
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          initContainers:
            - name: setup
              securityContext: {privileged: true}
          containers:
            - name: app
              securityContext: {privileged: false}
        """
    assert [f for _, f, _ in found(check(subject, init))] == [
        "spec.initContainers[0].securityContext.privileged"
    ]
    assert evaluate([subject], resources("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n"),
                    "info") == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"replicas": "1"}, [("replicas: 1 is less than the minimum of 2", "spec.replicas", 8)]),
        ({"replicas": "11"},
         [("replicas: 11 is greater than the maximum of 10", "spec.replicas", 8)]),
        ({"replicas": "'3'"}, [("replicas: '3' is not of type 'integer'", "spec.replicas", 8)]),
        ({"replicas": "2"}, []),
        ({"replicas": "10"}, []),
        ({"replicas": None}, [("replicas: 'replicas' is a required property", "spec", 7)]),
    ],
)
def test_prod_replicas(changes: dict[str, str | None], expected: list[Any]) -> None:
    subject = custom_policies()["prod-replicas"]
    text = DEPLOYMENT.replace("replicas: 1", f"replicas: {changes['replicas']}")
    if changes["replicas"] is None:
        text = DEPLOYMENT.replace("      replicas: 1\n", "")
    results = check(subject, text)
    assert results, "the policy applies to Deployments in prod"
    assert found(results) == expected


@pytest.mark.parametrize(
    ("kind", "namespace", "applies"),
    [
        ("Deployment", "prod", True),
        ("StatefulSet", "prod-eu", True),
        ("Deployment", "production", False),
        ("Deployment", "staging", False),
        ("DaemonSet", "prod", False),
        ("Deployment", None, False),
    ],
)
def test_prod_replicas_selects(kind: str, namespace: str | None, applies: bool) -> None:
    subject = custom_policies()["prod-replicas"]
    assert subject.applies_to(selectable(kind=kind, namespace=namespace)) is applies


# -- every example in docs/policy-language.md works ---------------------------------------
# Fenced blocks are tagged after the language: ```yaml policy (a policy file), ```yaml
# rules (top-level fields after the header), ```yaml config (a .gate.yaml),
# ```yaml function-examples (the subject of the function table), ```yaml file=NAME
# (written for the ```console sessions, which are run).

_FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_LOCATION = re.compile(r"^[^\s:]+:\d+: ")


def doc_blocks(language: str, tag: str | None = None) -> list[tuple[str, str]]:
    """(info, body) of the doc's fenced blocks in ``language``, with ``tag`` if given."""
    blocks = []
    for match in _FENCE.finditer(DOC.read_text(encoding="utf-8")):
        words = match["info"].split()
        if words and words[0] == language and (tag is None or tag in words[1:]):
            blocks.append((match["info"], match["body"]))
    return blocks


def doc_table(header: str) -> list[list[str]]:
    """Cells of the rows of the doc's table with this header row."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = lines.index(header) + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def code(cell: str) -> str:
    """The text of a Markdown code span."""
    for fence in ("``", "`"):
        if cell.startswith(fence) and cell.endswith(fence) and len(cell) > 2 * len(fence):
            inner = cell[len(fence):-len(fence)]
            return inner[1:-1] if fence == "``" and inner.startswith(" ") else inner
    raise AssertionError(f"not a code span: {cell!r}")


def test_doc_blocks_are_all_tagged() -> None:
    known = {"policy", "rules", "config", "function-examples"}
    for info, _ in doc_blocks("yaml"):
        tags = info.split()[1:]
        assert tags and (tags[0] in known or tags[0].startswith("file=")), info


def test_doc_policies_load() -> None:
    blocks = doc_blocks("yaml", "policy")
    assert len(blocks) >= 4
    for _, body in blocks:
        assert load_policy_text(body, "doc.yaml")


def test_doc_rule_fragments_load() -> None:
    blocks = doc_blocks("yaml", "rules")
    assert blocks
    for _, body in blocks:
        assert load_policy_text(head() + body, "doc.yaml")


def test_doc_config_example(tmp_path: Path) -> None:
    [(_, body)] = doc_blocks("yaml", "config")
    config_file = tmp_path / ".gate.yaml"
    config_file.write_text(body, encoding="utf-8")
    documented = [p for _, b in doc_blocks("yaml", "policy") for p in load_policy_text(b, "d")]
    policies = [*load_builtin(), *[p for p in documented if p.id == "max-containers"]]
    configured = {p.id: p for p in apply_config(load_config(str(config_file)), policies)}
    assert configured["max-containers"].params == {"max": 2}
    assert configured["required-labels"].info.severity == "medium"


def test_doc_shows_the_custom_policies_verbatim() -> None:
    bodies = [body for _, body in doc_blocks("yaml", "policy")]
    for path in sorted(CUSTOM.glob("*.yaml")):
        assert path.read_text(encoding="utf-8") in bodies, f"{path.name} differs from the doc"


def test_doc_examples_of_behaviour() -> None:
    by_id = {p.id: p for _, b in doc_blocks("yaml", "policy") for p in load_policy_text(b, "d")}
    pod = textwrap.dedent("""\
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          hostNetwork: true
          containers: [{name: a}, {name: b}, {name: c}, {name: d}]
        """)
    assert found(check(by_id["no-host-network"], pod)) == [
        ("Pod 'p' uses the host network", "spec.hostNetwork", 5)
    ]
    assert found(check(by_id["max-containers"], pod)) == [("4 containers (at most 3)", None, 1)]
    fragments = [load_policy_text(head() + b, "d")[0] for _, b in doc_blocks("yaml", "rules")]
    probes = fragments[1]
    assert [m for m, _, _ in found(check(probes, DEPLOYMENT))] == [
        "container 'web' has no readinessProbe or livenessProbe",
        "container 'proxy' has no readinessProbe or livenessProbe",
    ]


FUNCTION_RULE = """
    parameters:
      forbidden_tags: {{description: Tags., default: [latest]}}
    rules:
      - let:
          ref: "image_ref('registry:5000/shop/web:1.4')"
          result: {expression}
        assert: "`false`"
        message: "{{{{ var('result') }}}}"
    """


def test_doc_function_table() -> None:
    [(_, subject)] = doc_blocks("yaml", "function-examples")
    rows = doc_table("| function | gives | example | result |")
    assert len(rows) >= 20
    documented = set()
    for function, _, example, result in rows:
        if function:
            documented.update(re.findall(r"`(\w+)\(", function))
        expression = code(example)
        subject_policy = policy(FUNCTION_RULE.format(expression=json.dumps(expression)))
        [(message, _, _)] = found(check(subject_policy, subject))
        expected = json.loads(code(result))
        actual = message if isinstance(expected, str) else json.loads(message)
        assert actual == expected, expression
    # gate's own functions; JMESPath's that gate reimplements for speed stay JMESPath's.
    standard_names = {name.removeprefix("_func_") for name in vars(functions.Functions)
                      if name.startswith("_func_")}
    gate_functions = {name.removeprefix("_func_") for name in vars(GateFunctions)
                      if name.startswith("_func_")} - standard_names
    assert documented == gate_functions
    text = DOC.read_text(encoding="utf-8")
    listed = text[text.index("JMESPath's own functions are available:"):]
    listed = listed[:listed.index("gate adds")]
    standard = set(GateFunctions.FUNCTION_TABLE) - gate_functions
    assert set(re.findall(r"`(\w+)`", listed)) == standard


def test_doc_glob_table() -> None:
    rows = doc_table("| pattern | matches | does not match |")
    assert rows
    for pattern, matches, misses in rows:
        for path in re.findall(r"`([^`]+)`", matches):
            assert match_path(code(pattern), path), (pattern, path)
        for path in re.findall(r"`([^`]+)`", misses):
            assert not match_path(code(pattern), path), (pattern, path)


@pytest.mark.e2e
def test_doc_console_sessions(tmp_path: Path, run_gate: RunGate) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "fixtures").symlink_to(ROOT / "fixtures", target_is_directory=True)
    for info, body in doc_blocks("yaml"):
        name = next((w[5:] for w in info.split() if w.startswith("file=")), None)
        if name:
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(body, encoding="utf-8")
    sessions = doc_blocks("console")
    assert sessions
    for _, body in sessions:
        commands: list[tuple[str, list[str]]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                commands.append((line[2:], []))
            else:
                commands[-1][1].append(line)
        returncode = None
        for command, expected in commands:
            if command == "echo $?":
                assert [str(returncode)] == expected
                continue
            words = shlex.split(command)
            assert words[0] == "gate"
            completed = run_gate(*words[1:], cwd=tmp_path)
            returncode = completed.returncode
            output = (completed.stdout + completed.stderr).splitlines()
            assert [line for line in output if _LOCATION.match(line)] == [
                line for line in expected if _LOCATION.match(line)
            ], command
            summary = [line for line in expected if line.startswith("gate: ")]
            assert summary == [line for line in output if line.startswith("gate: ")], command
