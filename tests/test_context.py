"""The rendering context (gate/evaluation/context.py): label selectors, the indexes, their cost."""
from __future__ import annotations

from typing import Any

import pytest

from gate.evaluation import context as context_module
from gate.evaluation.context import Context, label_selector
from gate.evaluation.evaluate import evaluate
from gate.evaluation.policy_compile import load_policy_text
from gate.evaluation.policy_loading import load_builtin
from gate.loading.resources import Resource, read_resources
from gate.loading.sources import SourceFile

LABELS = {"app": "web", "tier": "frontend", "track": "stable"}


def expression(key: str, operator: str, *values: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"key": key, "operator": operator}
    if values:
        found["values"] = list(values)
    return found


def expressions(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"matchExpressions": list(entries)}


# -- label_selector: the truth table --------------------------------------------------------

@pytest.mark.parametrize(("selector", "labels", "selected"), [
    # A plain map (a Service's spec.selector): every pair equal.
    ({"app": "web"}, LABELS, True),
    ({"app": "web", "tier": "frontend"}, LABELS, True),
    ({"app": "web", "tier": "backend"}, LABELS, False),
    ({"app": "api"}, LABELS, False),
    ({"missing": "x"}, LABELS, False),
    ({}, LABELS, True),
    ({}, {}, True),
    ({"app": "web"}, None, False),
    # matchLabels
    ({"matchLabels": {"app": "web"}}, LABELS, True),
    ({"matchLabels": {"app": "web", "track": "canary"}}, LABELS, False),
    ({"matchLabels": {}}, LABELS, True),
    ({"matchLabels": None}, LABELS, True),
    # In
    (expressions(expression("tier", "In", "frontend", "edge")), LABELS, True),
    (expressions(expression("tier", "In", "backend")), LABELS, False),
    (expressions(expression("absent", "In", "x")), LABELS, False),
    # NotIn: holds when the label is absent, or has none of the values.
    (expressions(expression("track", "NotIn", "canary")), LABELS, True),
    (expressions(expression("track", "NotIn", "stable", "canary")), LABELS, False),
    (expressions(expression("absent", "NotIn", "x")), LABELS, True),
    # Exists / DoesNotExist: presence only.
    (expressions(expression("tier", "Exists")), LABELS, True),
    (expressions(expression("absent", "Exists")), LABELS, False),
    (expressions(expression("absent", "DoesNotExist")), LABELS, True),
    (expressions(expression("tier", "DoesNotExist")), LABELS, False),
    (expressions(expression("tier", "Exists", )), {"tier": ""}, True),
    # Every part must hold.
    ({"matchLabels": {"app": "web"}, **expressions(expression("tier", "In", "frontend"),
                                                   expression("track", "NotIn", "canary"))},
     LABELS, True),
    ({"matchLabels": {"app": "web"}, **expressions(expression("tier", "In", "backend"))},
     LABELS, False),
    ({"matchLabels": {"app": "api"}, **expressions(expression("tier", "In", "frontend"))},
     LABELS, False),
    # An empty LabelSelector selects everything; null selects nothing.
    ({"matchExpressions": []}, LABELS, True),
    (None, LABELS, False),
    (None, {}, False),
])
def test_label_selector_truth_table(selector: Any, labels: Any, selected: bool) -> None:
    assert label_selector(selector, labels) is selected


@pytest.mark.parametrize("selector", [
    "app=web",                                               # not a map
    ["app", "web"],
    {"app": {"nested": "map"}},                              # a value that is no scalar
    {"matchLabels": ["app"]},
    {"matchLabels": {"app": "web"}, "extra": "key"},         # a LabelSelector with other keys
    {"matchExpressions": {"key": "app"}},                    # not a list
    expressions(expression("app", "Equals", "web")),         # unknown operator
    expressions({"operator": "In", "values": ["web"]}),      # no key
    expressions(expression("app", "In")),                    # In without values
    expressions({"key": "app", "operator": "In", "values": []}),
    expressions({"key": "app", "operator": "NotIn", "values": "web"}),
    expressions(expression("app", "Exists", "web")),         # Exists with values
    expressions({"key": "app", "operator": "DoesNotExist", "values": ["x"]}),
    expressions("app In (web)"),
])
def test_malformed_selectors_select_nothing(selector: Any) -> None:
    assert label_selector(selector, LABELS) is False
    assert label_selector(selector, {}) is False


def test_labels_that_are_not_a_map_are_selected_by_nothing() -> None:
    assert label_selector({}, ["app"]) is False
    assert label_selector({"app": "web"}, "app=web") is False


# -- the index ----------------------------------------------------------------------------

def deployment(name: str, namespace: str | None, labels: dict[str, str],
               api_version: str = "apps/v1") -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": "Deployment", "metadata": metadata,
            "spec": {"selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "i:1"}]}}}}


def service(name: str, namespace: str | None, selector: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata,
            "spec": {"selector": selector}}


def budget(name: str, namespace: str | None, selector: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    spec = {} if selector is None else {"selector": selector}
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": metadata,
            "spec": spec}


def names(found: list[dict[str, Any]]) -> list[str]:
    return [f"{obj['kind']}/{obj['metadata']['name']}" for obj in found]


WEB = deployment("web", "shop", {"app": "web", "tier": "frontend"})
API = deployment("api", "shop", {"app": "api", "tier": "backend"})
OLD = deployment("old", "shop", {"app": "web", "tier": "frontend"}, "extensions/v1beta1")
BARE = deployment("bare", None, {"app": "web"})
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop",
                                                       "labels": {"app": "web"}},
       "spec": {"containers": [{"name": "c", "image": "i:1"}]}}
CRON = {"apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "job", "namespace": "shop"},
        "spec": {"jobTemplate": {"spec": {"template": {
            "metadata": {"labels": {"app": "job"}},
            "spec": {"containers": [{"name": "c", "image": "i:1"}]}}}}}}
POLICY = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
          "metadata": {"name": "deny-web", "namespace": "shop"},
          "spec": {"podSelector": {"matchLabels": {"app": "web"}}}}
ALL_PODS = budget("all", "shop", {})
WEB_BUDGET = budget("web", "shop", {"matchLabels": {"app": "web"}})
BACKEND_BUDGET = budget("backend", "shop", expressions(expression("tier", "In", "backend")))
NO_SELECTOR = budget("none", "shop", None)
WEB_SERVICE = service("web", "shop", {"app": "web"})
EMPTY_SERVICE = service("empty", "shop", {})

EVERYTHING = [WEB, API, OLD, BARE, POD, CRON, POLICY, ALL_PODS, WEB_BUDGET, BACKEND_BUDGET,
              NO_SELECTOR, WEB_SERVICE, EMPTY_SERVICE, "not a mapping"]


def test_lookup_by_kind_namespace_and_name() -> None:
    context = Context(EVERYTHING)
    assert context.lookup("Deployment", "shop", "web") is WEB
    assert context.lookup("apps/v1/Deployment", "shop", "web") is WEB
    assert context.lookup("extensions/v1beta1/Deployment", "shop", "web") is None
    assert context.lookup("extensions/v1beta1/Deployment", "shop", "old") is OLD
    assert context.lookup("Deployment", "other", "web") is None
    assert context.lookup("StatefulSet", "shop", "web") is None
    # A missing namespace is "", and so is a null argument; nothing else matches it.
    assert context.lookup("Deployment", "", "bare") is BARE
    assert context.lookup("Deployment", None, "bare") is BARE
    assert context.lookup("Deployment", "default", "bare") is None
    for kind, namespace, name in ((None, "shop", "web"), ("", "shop", "web"),
                                  ("Deployment", 3, "web"), ("Deployment", "shop", None)):
        assert context.lookup(kind, namespace, name) is None


def test_lookup_by_a_field() -> None:
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": "h", "namespace": "shop"},
           "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}}}
    context = Context([*EVERYTHING, hpa])
    path = ["spec", "scaleTargetRef", "name"]
    assert context.lookup_by("HorizontalPodAutoscaler", "shop", path, "web") == [hpa]
    assert context.lookup_by("HorizontalPodAutoscaler", "other", path, "web") == []
    assert context.lookup_by("HorizontalPodAutoscaler", "shop", path, "api") == []
    assert context.lookup_by("Deployment", "shop", ["metadata", "name"], "api") == [API]
    assert context.lookup_by("Deployment", "shop", "metadata.name", "api") == []
    assert context.lookup_by("Deployment", "shop", [], "api") == []
    assert context.lookup_by("Deployment", "shop", ["metadata"], {"name": "api"}) == []


def test_pods_selected() -> None:
    context = Context(EVERYTHING)
    assert names(context.pods_selected("shop", {"app": "web"})) == [
        "Deployment/web", "Deployment/old", "Pod/p"]
    assert names(context.pods_selected("shop", {"matchLabels": {"app": "web",
                                                                "tier": "frontend"}})) == [
        "Deployment/web", "Deployment/old"]
    assert names(context.pods_selected("shop", expressions(
        expression("tier", "In", "backend", "frontend")))) == [
        "Deployment/web", "Deployment/api", "Deployment/old"]
    assert names(context.pods_selected("shop", expressions(
        expression("tier", "DoesNotExist")))) == ["Pod/p", "CronJob/job"]
    assert names(context.pods_selected("shop", {"app": "job"})) == ["CronJob/job"]
    assert names(context.pods_selected("", {"app": "web"})) == ["Deployment/bare"]
    assert names(context.pods_selected(None, {"matchLabels": {"app": "web"}})) == [
        "Deployment/bare"]
    assert len(context.pods_selected("shop", {"matchLabels": {}})) == 5
    assert context.pods_selected("shop", None) == []
    assert context.pods_selected("shop", ["app"]) == []
    assert context.pods_selected("elsewhere", {}) == []


def test_selecting() -> None:
    context = Context(EVERYTHING)
    web = {"app": "web", "tier": "frontend"}
    assert names(context.selecting("PodDisruptionBudget", "shop", web)) == [
        "PodDisruptionBudget/all", "PodDisruptionBudget/web"]
    assert names(context.selecting("PodDisruptionBudget", "shop",
                                   {"app": "api", "tier": "backend"})) == [
        "PodDisruptionBudget/all", "PodDisruptionBudget/backend"]
    # A null label map is no labels: only the empty selector selects it.
    assert names(context.selecting("PodDisruptionBudget", "shop", None)) == [
        "PodDisruptionBudget/all"]
    assert context.selecting("PodDisruptionBudget", "other", web) == []
    assert names(context.selecting("policy/v1/PodDisruptionBudget", "shop", web)) == [
        "PodDisruptionBudget/all", "PodDisruptionBudget/web"]
    assert context.selecting("policy/v1beta1/PodDisruptionBudget", "shop", web) == []
    # A NetworkPolicy selects by spec.podSelector; a Service's empty selector selects nothing.
    assert names(context.selecting("NetworkPolicy", "shop", web)) == [
        "NetworkPolicy/deny-web"]
    assert names(context.selecting("Service", "shop", web)) == ["Service/web"]
    assert context.selecting("Service", "shop", {"other": "x"}) == []
    assert context.selecting("Deployment", "shop", {"app": "api", "tier": "backend"}) == [API]
    assert context.selecting("Deployment", "shop", {"app": "api"}) == []
    assert context.selecting("Deployment", "shop", "app=api") == []


def test_a_context_is_loaded_and_indexed_once_on_first_use() -> None:
    loads: list[int] = []

    def load() -> list[Any]:
        loads.append(1)
        return [WEB]

    context = Context(load=load)
    assert loads == []
    assert context.lookup("Deployment", "shop", "web") is WEB
    assert context.pods_selected("shop", {"app": "web"}) == [WEB]
    assert loads == [1]


def test_context_functions_without_a_context_find_nothing() -> None:
    from gate.evaluation.expressions import Expression
    from gate.evaluation.functions import EvaluationScope

    with EvaluationScope(context=None):
        assert Expression("lookup('Pod', 'a', 'b')").search({}) is None
        assert Expression("pods_selected('a', `{}`)").search({}) == []
        assert Expression("selecting('Service', 'a', `{}`)").search({}) == []
        assert Expression("lookup_by('Pod', 'a', ['x'], 'y')").search({}) == []


def test_policies_calling_context_functions_are_known_when_loaded() -> None:
    uses = {policy.id for policy in load_builtin() if policy.uses_context}
    assert uses == {"service-selects-pods", "service-account-exists", "hpa-target-exists",
                    "pdb-for-replicated-workloads"}
    [in_message] = load_policy_text("""
apiVersion: gate.dev/v1
kind: Policy
id: in-message
title: t
description: d
rationale: r
remediation: r
severity: low
rules:
  - assert: "`true`"
    message: "{{ length(selecting('Service', metadata.namespace, metadata.labels)) }}"
""", "p.yaml")
    assert in_message.uses_context


# -- linear cost ------------------------------------------------------------------------------

def workloads(count: int) -> list[str]:
    """``count`` resources in namespaces of 50 apps each: per app a Deployment (3 replicas),
    a Service, a ServiceAccount and, for every other app, a PodDisruptionBudget and an
    autoscaler."""
    documents: list[str] = []
    app = 0
    while len(documents) < count:
        namespace = f"ns-{app // 50}"
        name = f"app-{app}"
        documents.append(f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}, tier: web}}}}
    spec:
      serviceAccountName: {name}
      containers: [{{name: c, image: "acme/{name}:1.0"}}]
""")
        documents.append(f"""apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {namespace}}}
spec: {{selector: {{app: {name}}}}}
""")
        documents.append(f"""apiVersion: v1
kind: ServiceAccount
metadata: {{name: {name}, namespace: {namespace}}}
""")
        if app % 2 == 0:
            documents.append(f"""apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {{name: {name}, namespace: {namespace}}}
spec: {{maxUnavailable: 1, selector: {{matchLabels: {{app: {name}}}}}}}
""")
            documents.append(f"""apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  scaleTargetRef: {{kind: Deployment, name: {name}}}
  maxReplicas: 5
""")
        app += 1
    return documents[:count]


def work(count: int) -> tuple[int, int]:
    """(selector evaluations, index operations) judging ``count`` resources with every
    cross-resource policy against one context."""
    resources: list[Resource] = []
    for number, text in enumerate(workloads(count)):
        source = SourceFile(f"{number}.yaml", text)
        resources.extend(entry for entry in read_resources(source) if isinstance(entry, Resource))
        source.release_nodes()  # as gate check does, while a context is read
    policies = [policy for policy in load_builtin() if policy.uses_context]
    before = dict(context_module.COUNTS)
    results = evaluate(policies, resources, "info")
    assert results
    return (context_module.COUNTS["selector"] - before["selector"],
            context_module.COUNTS["index"] - before["index"])


def test_judging_a_context_is_linear() -> None:
    # Operations counted, not seconds: a cost that grows faster than the count shows at
    # any size, so the sizes are those of a fast test (bench/run.py times 10,000 and more).
    small, large = 2_500, 5_000
    selectors_small, index_small = work(small)
    selectors_large, index_large = work(large)
    assert selectors_small > 0 and index_small > 0
    assert selectors_large / selectors_small <= 2.2, (selectors_small, selectors_large)
    assert index_large / index_small <= 2.2, (index_small, index_large)
    # Each Service and Deployment costs a few selector evaluations, not one per resource.
    assert selectors_large < large
