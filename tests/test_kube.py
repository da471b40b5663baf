"""``gate.loading.kube``: pod templates found by kind and shape, malformed workloads, container
lists, resource quantities."""
from __future__ import annotations

import math
from typing import Any

import pytest

from gate.loading.kube import (
    PodProblem,
    containers,
    pod_problem,
    pod_spec,
    pod_template,
    quantity,
    template_path,
)


def spec(name: str = "c") -> dict[str, Any]:
    return {
        "containers": [{"name": name, "image": f"{name}:1"}],
        "initContainers": [{"name": f"{name}-init"}],
        "ephemeralContainers": [{"name": f"{name}-debug"}],
    }


def template() -> dict[str, Any]:
    return {"metadata": {"labels": {"app": "x"}}, "spec": spec()}


def workload(api_version: str, kind: str) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"},
            "spec": {"template": template()}}


def cronjob() -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "x"},
            "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": template()}}}}


def pod() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": spec()}


def podtemplate() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "x"},
            "template": template()}


# resource, path of its pod template (the Pod is its own)
SHAPES: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    ("Deployment", workload("apps/v1", "Deployment"), ("spec", "template")),
    ("StatefulSet", workload("apps/v1", "StatefulSet"), ("spec", "template")),
    ("DaemonSet", workload("apps/v1", "DaemonSet"), ("spec", "template")),
    ("ReplicaSet", workload("apps/v1", "ReplicaSet"), ("spec", "template")),
    ("Job", workload("batch/v1", "Job"), ("spec", "template")),
    ("ReplicationController", workload("v1", "ReplicationController"), ("spec", "template")),
    ("Rollout", workload("argoproj.io/v1alpha1", "Rollout"), ("spec", "template")),
    ("DeploymentConfig", workload("apps.openshift.io/v1", "DeploymentConfig"),
     ("spec", "template")),
    ("CronJob", cronjob(), ("spec", "jobTemplate", "spec", "template")),
    ("PodTemplate", podtemplate(), ("template",)),
    ("Pod", pod(), ()),
]


def dig(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        obj = obj[key]
    return obj


@pytest.mark.parametrize(("kind", "resource", "path"), SHAPES, ids=[s[0] for s in SHAPES])
def test_pod_template_and_spec_by_shape(
    kind: str, resource: dict[str, Any], path: tuple[str, ...]
) -> None:
    expected = dig(resource, path)
    assert pod_template(resource) is expected  # the object itself, never a copy
    assert pod_spec(resource) is expected["spec"]


@pytest.mark.parametrize(
    "resource",
    [
        None,
        "Deployment",
        [],
        {},
        {"apiVersion": "v1", "kind": "ConfigMap", "data": {"containers": "x"}},
        {"apiVersion": "v1", "kind": "Service", "spec": {"ports": [{"port": 80}]}},
        # a template without any container list is not a pod template
        {"kind": "Deployment", "spec": {"template": {"spec": {"volumes": []}}}},
        {"kind": "Deployment", "spec": {"template": {"spec": {"containers": None}}}},
        {"kind": "Deployment", "spec": {"template": "x"}},
        {"kind": "Pod", "spec": {"containers": {"name": "not-a-list"}}},
        # Argo Rollouts' workloadRef names a template elsewhere: nothing here to check
        {"kind": "Rollout", "spec": {"workloadRef": {"kind": "Deployment", "name": "x"}}},
    ],
)
def test_not_pod_bearing(resource: Any) -> None:
    assert pod_template(resource) is None
    assert pod_spec(resource) is None
    assert containers(resource) == []


def test_any_container_list_makes_a_pod_spec() -> None:
    only_init = {"kind": "Pod", "spec": {"initContainers": [{"name": "i"}]}}
    assert pod_spec(only_init) is only_init["spec"]


def names(items: list[Any]) -> list[str]:
    return [item["name"] for item in items]


@pytest.mark.parametrize(("kind", "resource", "path"), SHAPES, ids=[s[0] for s in SHAPES])
def test_containers_in_list_order(
    kind: str, resource: dict[str, Any], path: tuple[str, ...]
) -> None:
    assert names(containers(resource)) == ["c", "c-init", "c-debug"]
    first = containers(resource)[0]
    assert first is dig(resource, path)["spec"]["containers"][0]


@pytest.mark.parametrize(
    ("lists", "expected"),
    [
        (None, ["c", "c-init", "c-debug"]),
        (["containers"], ["c"]),
        (["initContainers"], ["c-init"]),
        (["ephemeralContainers", "containers"], ["c-debug", "c"]),  # in the order asked
        (["containers", "initContainers"], ["c", "c-init"]),
        ([], []),
        (["sidecars"], []),  # unknown list names find nothing
    ],
)
def test_containers_filtered_by_list(lists: list[str] | None, expected: list[str]) -> None:
    assert names(containers(pod(), lists)) == expected


def test_containers_skip_lists_that_are_not_lists() -> None:
    resource = {"kind": "Pod", "spec": {"containers": [{"name": "a"}], "initContainers": "x"}}
    assert names(containers(resource)) == ["a"]


QUANTITIES: list[tuple[Any, float | None]] = [
    # decimal and binary suffixes
    ("100m", 0.1),
    ("1", 1.0),
    ("1.5", 1.5),
    ("0.5", 0.5),
    (".5", 0.5),
    ("250u", 250e-6),
    ("5n", 5e-9),
    ("2k", 2e3),
    ("3M", 3e6),
    ("1G", 1e9),
    ("1T", 1e12),
    ("1P", 1e15),
    ("1E", 1e18),  # E alone is exa, not an exponent
    ("1Ki", 1024.0),
    ("128Mi", 128 * 2.0**20),
    ("1Gi", 2.0**30),
    ("1.5Gi", 1.5 * 2.0**30),
    ("1Ti", 2.0**40),
    ("1Pi", 2.0**50),
    ("1Ei", 2.0**60),
    # exponents
    ("1e3", 1e3),
    ("1E3", 1e3),
    ("1e-3", 1e-3),
    ("2.5e+2", 250.0),
    # signs, zeros and surrounding space
    ("+2", 2.0),
    ("-1", -1.0),
    ("0", 0.0),
    ("0m", 0.0),
    (" 1Gi ", 2.0**30),
    # YAML numbers
    (1, 1.0),
    (0, 0.0),
    (2.5, 2.5),
    (268435456, 268435456.0),
    # not quantities
    ("", None),
    ("abc", None),
    ("1e", None),
    ("1ki", None),  # binary suffixes are case-sensitive
    ("1 Gi", None),
    ("64 MB", None),
    ("1.2.3", None),
    ("0x10", None),
    ("Infinity", None),
    ("nan", None),
    ("1_000", None),
    ("1Gi1", None),
    (True, None),
    (False, None),
    (None, None),
    ([], None),
    ({}, None),
]


@pytest.mark.parametrize(("value", "expected"), QUANTITIES, ids=[repr(q) for q, _ in QUANTITIES])
def test_quantity(value: Any, expected: float | None) -> None:
    result = quantity(value)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected, rel=1e-12)


def test_quantity_of_a_float_nan_is_not_positive() -> None:
    # resource-limits asks `quantity(x) > 0`: a NaN must not count as set
    result = quantity(float("nan"))
    assert result is None or not result > 0
    assert result is None or math.isnan(result)


# -- pod-bearing by kind: a malformed workload is a problem, never a skip -------------

def test_kinds_with_their_template_paths() -> None:
    for _, resource, path in SHAPES:
        assert template_path(resource) == path


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("apps/v1beta1", "Deployment"), ("apps/v1beta2", "Deployment"),
        ("extensions/v1beta1", "Deployment"), ("apps/v1beta1", "StatefulSet"),
        ("apps/v1beta2", "DaemonSet"), ("extensions/v1beta1", "DaemonSet"),
        ("extensions/v1beta1", "ReplicaSet"), ("batch/v1beta1", "CronJob"),
        ("apps.openshift.io/v1", "DeploymentConfig"), ("argoproj.io/v1alpha1", "Rollout"),
    ],
)
def test_older_and_extension_api_versions_are_pod_bearing(api_version: str, kind: str) -> None:
    resource = {"apiVersion": api_version, "kind": kind, "spec": {"template": {"spec": {}}}}
    assert template_path(resource) is not None
    assert pod_problem(resource) is not None


@pytest.mark.parametrize(
    "resource",
    [
        # a CRD that happens to share a core kind's name is judged by shape only
        {"apiVersion": "example.com/v1", "kind": "Deployment", "spec": {"replicas": 1}},
        {"apiVersion": "v1", "kind": "Deployment", "spec": {}},  # no such core kind
        {"apiVersion": "apps/v1", "kind": "Pod"},  # a Pod lives in the core group
        {"apiVersion": "batch/v1", "kind": "Deployment"},
        {"kind": "Deployment", "spec": {}},  # no apiVersion: not a resource of that kind
        {"apiVersion": "v1", "kind": "ConfigMap", "data": {}},
        {"apiVersion": "apps/v1", "kind": "deployment", "spec": {}},  # kinds are case-sensitive
        {"apiVersion": 1, "kind": "Pod"},
        # a Rollout with a workloadRef runs the pods of the Deployment it names
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
         "spec": {"workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "x"}}},
        "Pod",
        None,
    ],
)
def test_not_pod_bearing_by_kind(resource: Any) -> None:
    assert template_path(resource) is None
    assert pod_problem(resource) is None


@pytest.mark.parametrize(("kind", "resource", "path"), SHAPES, ids=[s[0] for s in SHAPES])
def test_a_well_formed_workload_has_no_problem(
    kind: str, resource: dict[str, Any], path: tuple[str, ...]
) -> None:
    assert pod_problem(resource) is None


def deployment(template: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 2, "template": template}}


NEEDS = "a pod needs at least one container"
PROBLEMS: list[tuple[str, dict[str, Any], str, tuple[str, ...]]] = [
    ("typo", deployment({"spec": {"container": [{"name": "web"}]}}),
     f"spec.template.spec has no 'containers' list (found 'container'; {NEEDS})",
     ("spec", "template", "spec")),
    ("case", deployment({"spec": {"Containers": [{"name": "web"}]}}),
     f"spec.template.spec has no 'containers' list (found 'Containers'; {NEEDS})",
     ("spec", "template", "spec")),
    ("no list", deployment({"spec": {"volumes": []}}),
     f"spec.template.spec has no 'containers' list ({NEEDS})", ("spec", "template", "spec")),
    # init containers alone run no pod; initContainers is no typo of containers
    ("init only", deployment({"spec": {"initContainers": [{"name": "i"}]}}),
     f"spec.template.spec has no 'containers' list ({NEEDS})", ("spec", "template", "spec")),
    ("empty list", deployment({"spec": {"containers": []}}),
     f"spec.template.spec.containers is empty ({NEEDS})",
     ("spec", "template", "spec", "containers")),
    ("null list", deployment({"spec": {"containers": None}}),
     f"spec.template.spec.containers is empty ({NEEDS})",
     ("spec", "template", "spec", "containers")),
    ("mapping", deployment({"spec": {"containers": {}}}),
     f"spec.template.spec.containers is a mapping, not a list ({NEEDS})",
     ("spec", "template", "spec", "containers")),
    ("string", deployment({"spec": {"containers": "web"}}),
     f"spec.template.spec.containers is a string, not a list ({NEEDS})",
     ("spec", "template", "spec", "containers")),
    ("spec a list", deployment({"spec": [{"name": "web"}]}),
     f"spec.template.spec is a list, not a mapping ({NEEDS})", ("spec", "template", "spec")),
    ("no pod spec", deployment({"metadata": {}}),
     f"spec.template.spec is missing (spec.template has no 'spec'; {NEEDS})",
     ("spec", "template")),
    ("template null", deployment(None),
     "spec.template is empty, not a mapping (spec.template.spec must hold the pod spec; "
     f"{NEEDS})", ("spec", "template")),
    ("template typo", {"apiVersion": "apps/v1", "kind": "Deployment",
                       "spec": {"templates": {"spec": {"containers": [{"name": "w"}]}}}},
     f"spec.template.spec is missing (spec has no 'template'; found 'templates'; {NEEDS})",
     ("spec",)),
    ("no spec", {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"}},
     f"spec.template.spec is missing (the resource has no 'spec'; {NEEDS})", ()),
    ("pod typo", {"apiVersion": "v1", "kind": "Pod", "spec": {"container": [{"name": "w"}]}},
     f"spec has no 'containers' list (found 'container'; {NEEDS})", ("spec",)),
    ("cronjob", {"apiVersion": "batch/v1", "kind": "CronJob",
                 "spec": {"jobTemplate": {"spec": {"template": {"spec": {}}}}}},
     f"spec.jobTemplate.spec.template.spec has no 'containers' list ({NEEDS})",
     ("spec", "jobTemplate", "spec", "template", "spec")),
    ("podtemplate", {"apiVersion": "v1", "kind": "PodTemplate", "template": {}},
     f"template.spec is missing (template has no 'spec'; {NEEDS})", ("template",)),
    # a Rollout with a template judges it, workloadRef or not
    ("rollout", {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                 "spec": {"workloadRef": {"name": "x"}, "template": {"spec": {}}}},
     f"spec.template.spec has no 'containers' list ({NEEDS})", ("spec", "template", "spec")),
]


@pytest.mark.parametrize(("case", "resource", "message", "path"), PROBLEMS,
                         ids=[p[0] for p in PROBLEMS])
def test_pod_problem_says_what_is_wrong_and_where(
    case: str, resource: dict[str, Any], message: str, path: tuple[str, ...]
) -> None:
    problem = pod_problem(resource)
    assert problem == PodProblem(message, path)


@pytest.mark.parametrize(("case", "resource", "message", "path"), PROBLEMS,
                         ids=[p[0] for p in PROBLEMS])
def test_a_malformed_workload_is_no_pod_template(
    case: str, resource: dict[str, Any], message: str, path: tuple[str, ...]
) -> None:
    # Pod policies see no half-formed pod spec (a list of init containers alone, or an
    # empty one, is a pod spec by shape); the input error fails the run instead.
    if case not in ("init only", "empty list"):
        assert pod_template(resource) is None
        assert containers(resource) == []


def test_a_workload_is_looked_at_only_where_its_kind_keeps_the_template() -> None:
    # A Deployment is never its own template, however Pod-like its spec.
    resource = {"apiVersion": "apps/v1", "kind": "Deployment",
                "spec": {"containers": [{"name": "web"}]}}
    assert pod_template(resource) is None
    problem = pod_problem(resource)
    assert problem is not None and problem.path == ("spec",)


def test_shape_still_finds_pod_templates_of_other_kinds() -> None:
    crd = {"apiVersion": "example.com/v1", "kind": "Deployment",
           "spec": {"template": template()}}
    assert pod_template(crd) is crd["spec"]["template"]
    worker = {"apiVersion": "acme.io/v1", "kind": "Worker", "spec": spec()}
    assert pod_spec(worker) is worker["spec"]
    # ...and a CRD without one is simply not pod-bearing.
    assert pod_problem({"apiVersion": "acme.io/v1", "kind": "Worker", "spec": {}}) is None
