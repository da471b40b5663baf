"""Workload practices beside the Pod Security Standards: probes, read-only-root-fs and
no-default-namespace, run in-process as tests/test_builtin_policies.py runs them."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from gate.evaluation.evaluate import evaluate
from gate.evaluation.policy import Policy
from gate.evaluation.policy_loading import load_builtin
from gate.loading.resources import Resource, read_resources
from gate.loading.sources import SourceFile
from gate.results import FAIL, PASS, SKIP, WARN, Result

BUILTIN: dict[str, Policy] = {policy.id: policy for policy in load_builtin()}
PRACTICES = ["probes", "read-only-root-fs", "no-default-namespace"]
LIVE = {"httpGet": {"path": "/live", "port": 8080}}
READY = {"httpGet": {"path": "/ready", "port": 8080}}


def resources_of(*documents: dict[str, Any]) -> list[Resource]:
    text = yaml.safe_dump_all(documents, sort_keys=False)
    return [r for r in read_resources(SourceFile("r.yaml", text)) if isinstance(r, Resource)]


def run(
    policy_id: str, document: dict[str, Any], params: dict[str, Any] | None = None
) -> list[Result]:
    policy = BUILTIN[policy_id]
    if params is not None:
        policy = policy.configured(params=params)
    return evaluate([policy], resources_of(document), "info")


def statuses(results: list[Result]) -> list[str]:
    return [r.status for r in results]


def findings(results: list[Result]) -> list[Result]:
    return [r for r in results if r.status in (FAIL, WARN)]


def workload(
    kind: str, spec: dict[str, Any], api: str = "apps/v1", **metadata: Any
) -> dict[str, Any]:
    """``kind`` running the pod ``spec``, at the place its kind keeps its pods."""
    if kind == "Pod":
        body: dict[str, Any] = spec
        api = "v1"
    elif kind == "CronJob":
        body = {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": spec}}}}
    else:
        body = {"template": {"spec": spec}}
    return {"apiVersion": api, "kind": kind, "metadata": {"name": "w", **metadata}, "spec": body}


def container(name: str = "app", **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": f"registry.example.com/{name}:1.0", **fields}


@pytest.mark.parametrize("policy_id", PRACTICES)
def test_practices_warn_and_are_not_part_of_the_standard(policy_id: str) -> None:
    spec = BUILTIN[policy_id].spec
    assert spec.get("enforcement") == "warn"
    assert "profile" not in spec
    assert "Differences from peers" in spec["description"]


# -- probes ------------------------------------------------------------------------------

LONG_RUNNING = [
    ("Deployment", "apps/v1"),
    ("StatefulSet", "apps/v1"),
    ("DaemonSet", "apps/v1"),
    ("ReplicaSet", "apps/v1"),
    ("ReplicationController", "v1"),
    ("Pod", "v1"),
    ("Rollout", "argoproj.io/v1alpha1"),
]


@pytest.mark.parametrize(("kind", "api"), LONG_RUNNING)
@pytest.mark.parametrize(
    ("probes", "missing"),
    [
        ({"livenessProbe": LIVE, "readinessProbe": READY}, None),
        ({"readinessProbe": READY}, "livenessProbe"),
        ({"livenessProbe": LIVE}, "readinessProbe"),
        ({}, "livenessProbe or readinessProbe"),
        ({"livenessProbe": None, "readinessProbe": READY}, "livenessProbe"),
        ({"startupProbe": LIVE}, "livenessProbe or readinessProbe"),
    ],
)
def test_probes_on_long_running_workloads(
    kind: str, api: str, probes: dict[str, Any], missing: str | None
) -> None:
    results = run("probes", workload(kind, {"containers": [container(**probes)]}, api))
    if missing is None:
        assert statuses(results) == [PASS]
    else:
        [finding] = findings(results)
        assert finding.message == f"container 'app' has no {missing}"
        assert finding.field is not None and finding.field.endswith(
            "containers[0]." + missing.split(" ")[0]
        )


@pytest.mark.parametrize(
    ("kind", "api", "restart_policy"),
    [
        ("Job", "batch/v1", "Never"),
        ("Job", "batch/v1", "OnFailure"),
        ("CronJob", "batch/v1", "OnFailure"),
        ("Pod", "v1", "Never"),
        ("Pod", "v1", "OnFailure"),
    ],
)
def test_probes_leave_run_to_completion_workloads_out(
    kind: str, api: str, restart_policy: str
) -> None:
    spec = {"restartPolicy": restart_policy, "containers": [container()]}
    assert run("probes", workload(kind, spec, api)) == []


def test_probes_judge_a_pod_that_restarts_always() -> None:
    spec = {"restartPolicy": "Always", "containers": [container()]}
    assert findings(run("probes", workload("Pod", spec)))


def test_probes_judge_only_the_containers_list() -> None:
    spec = {
        "initContainers": [container("setup"), container("sidecar", restartPolicy="Always")],
        "containers": [container(livenessProbe=LIVE, readinessProbe=READY)],
        "ephemeralContainers": [container("debugger")],
    }
    assert statuses(run("probes", workload("Pod", spec))) == [PASS]


def test_probes_every_container_is_judged() -> None:
    spec = {
        "containers": [
            container("a"),
            container("b", livenessProbe=LIVE, readinessProbe=READY),
            container("c"),
        ]
    }
    assert [f.field for f in findings(run("probes", workload("Deployment", spec)))] == [
        "spec.template.spec.containers[0].livenessProbe",
        "spec.template.spec.containers[2].livenessProbe",
    ]


@pytest.mark.parametrize(
    ("require", "probes", "missing"),
    [
        (
            ["livenessProbe", "readinessProbe", "startupProbe"],
            {"livenessProbe": LIVE, "readinessProbe": READY},
            "startupProbe",
        ),
        (
            ["livenessProbe", "readinessProbe", "startupProbe"],
            {"startupProbe": LIVE},
            "livenessProbe or readinessProbe",
        ),
        (["readinessProbe"], {"readinessProbe": READY}, None),
        (["livenessProbe"], {"readinessProbe": READY}, "livenessProbe"),
        (["startupProbe"], {"startupProbe": LIVE}, None),
    ],
)
def test_probes_require_parameter(
    require: list[str], probes: dict[str, Any], missing: str | None
) -> None:
    results = run(
        "probes",
        workload("Deployment", {"containers": [container(**probes)]}),
        {"require": require},
    )
    if missing is None:
        assert statuses(results) == [PASS]
    else:
        assert [f.message for f in findings(results)] == [f"container 'app' has no {missing}"]


@pytest.mark.parametrize(
    "value", [[], ["livenessProbe", "livenessProbe"], ["lifecycle"], "livenessProbe"]
)
def test_probes_require_parameter_is_validated(value: Any) -> None:
    assert BUILTIN["probes"].parameters["require"].validate(value) is not None


# -- read-only-root-fs ------------------------------------------------------------------


@pytest.mark.parametrize("lst", ["containers", "initContainers", "ephemeralContainers"])
@pytest.mark.parametrize(
    ("security", "expected"),
    [
        ({"readOnlyRootFilesystem": True}, PASS),
        ({"readOnlyRootFilesystem": False}, WARN),
        ({"readOnlyRootFilesystem": None}, WARN),
        ({"readOnlyRootFilesystem": "true"}, WARN),
        ({}, WARN),
        (None, WARN),
    ],
)
def test_read_only_root_fs(lst: str, security: dict[str, Any] | None, expected: str) -> None:
    good = container("main", securityContext={"readOnlyRootFilesystem": True})
    tested = (
        container("tested") if security is None else container("tested", securityContext=security)
    )
    spec: dict[str, Any] = {"containers": [good]}
    spec.setdefault(lst, []).append(tested)
    results = run("read-only-root-fs", workload("Pod", spec))
    if expected == PASS:
        assert statuses(results) == [PASS]
    else:
        index = 1 if lst == "containers" else 0
        assert [f.field for f in findings(results)] == [
            f"spec.{lst}[{index}].securityContext.readOnlyRootFilesystem"
        ]


def test_read_only_root_fs_pod_level_does_not_count() -> None:
    spec = {"securityContext": {"readOnlyRootFilesystem": True}, "containers": [container()]}
    assert findings(run("read-only-root-fs", workload("Pod", spec)))


@pytest.mark.parametrize(
    ("os_name", "expected"), [("windows", PASS), ("linux", WARN), ("Windows", WARN)]
)
def test_read_only_root_fs_windows_pods_pass(os_name: str, expected: str) -> None:
    spec = {"os": {"name": os_name}, "containers": [container()]}
    got = statuses(run("read-only-root-fs", workload("Pod", spec)))
    assert got == [expected]


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"])
def test_read_only_root_fs_every_workload(kind: str) -> None:
    api = "batch/v1" if kind in ("Job", "CronJob") else "apps/v1"
    assert findings(run("read-only-root-fs", workload(kind, {"containers": [container()]}, api)))


# -- no-default-namespace -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "expected"),
    [
        ("default", WARN),
        ("shop", PASS),
        ("default-shop", PASS),
        ("kube-system", PASS),
        ("Default", PASS),
    ],
)
@pytest.mark.parametrize(
    ("api", "kind"),
    [
        ("apps/v1", "Deployment"),
        ("v1", "ConfigMap"),
        ("v1", "Service"),
        ("rbac.authorization.k8s.io/v1", "Role"),
        ("cert-manager.io/v1", "Certificate"),
    ],
)
def test_no_default_namespace(api: str, kind: str, namespace: str, expected: str) -> None:
    document = {"apiVersion": api, "kind": kind, "metadata": {"name": "r", "namespace": namespace}}
    results = run("no-default-namespace", document)
    assert statuses(results) == [expected]
    if expected == WARN:
        assert results[0].field == "metadata.namespace"
        assert results[0].message == f"{kind} 'r' is placed in the default namespace"


@pytest.mark.parametrize("metadata", [{"name": "r"}, {"name": "r", "namespace": None}])
def test_no_default_namespace_leaves_a_missing_namespace_to_the_deployer(
    metadata: dict[str, Any],
) -> None:
    document = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}
    assert statuses(run("no-default-namespace", document)) == [SKIP]


@pytest.mark.parametrize(
    "kind",
    [
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "PersistentVolume",
        "StorageClass",
        "PriorityClass",
        "IngressClass",
    ],
)
def test_no_default_namespace_skips_cluster_scoped_kinds(kind: str) -> None:
    document = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "r", "namespace": "default"}}
    assert run("no-default-namespace", document) == []


def test_no_default_namespace_cluster_scoped_kinds_parameter() -> None:
    document = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": {"name": "r", "namespace": "default"},
    }
    assert findings(run("no-default-namespace", document))
    assert run("no-default-namespace", document, {"cluster_scoped_kinds": ["ClusterIssuer"]}) == []
