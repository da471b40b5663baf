"""``gate.kube``: pod templates found by shape, container lists, resource quantities."""
from __future__ import annotations

import math
from typing import Any

import pytest

from gate.kube import containers, pod_spec, pod_template, quantity


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
