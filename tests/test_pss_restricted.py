"""The Restricted level of the Pod Security Standards, control by control.

Each table walks every value the published standard names for a control (kubernetes.io,
"Pod Security Standards", last modified 2025-08-06), at every level it lists: the allowed
values pass, the forbidden ones fail, and so does "undefined" where the standard forbids
absence. Then the kubelet's inheritance: a container that leaves a field unset inherits the
pod's value, and a container's own value overrides it. Then the standard's OS-specific
controls: Privilege Escalation, Seccomp and Capabilities do not apply to Windows pods.

The policies run in-process, as tests/test_builtin_policies.py runs them.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.config import Config, apply_config
from gate.evaluation.evaluate import evaluate
from gate.evaluation.policy import Policy
from gate.evaluation.policy_loading import load_builtin
from gate.loading.resources import Resource, read_resources
from gate.loading.sources import SourceFile
from gate.results import FAIL, PASS, SKIP, WARN, Result
from tests.conftest import RunGate

BUILTIN: dict[str, Policy] = {policy.id: policy for policy in load_builtin()}
RESTRICTED = [
    "pss-volume-types",
    "pss-privilege-escalation",
    "pss-run-as-non-root",
    "pss-run-as-non-root-user",
    "pss-seccomp-restricted",
    "pss-capabilities-restricted",
]
LINUX_ONLY = ["pss-privilege-escalation", "pss-seccomp-restricted", "pss-capabilities-restricted"]
LISTS = ["containers", "initContainers", "ephemeralContainers"]
POD = "pod"
UNSET = object()  # the field is absent ("Undefined" in the standard)
OK, BAD = "pass", "fail"


# -- running a policy on one pod -------------------------------------------------------


def resource_of(document: dict[str, Any]) -> Resource:
    text = yaml.safe_dump(document, sort_keys=False)
    [resource] = [
        r for r in read_resources(SourceFile("pod.yaml", text)) if isinstance(r, Resource)
    ]
    return resource


def run(policy_id: str, spec: dict[str, Any], params: dict[str, Any] | None = None) -> list[Result]:
    policy = BUILTIN[policy_id]
    if params:
        policy = policy.configured(params=params)
    document = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}
    return evaluate([policy], [resource_of(document)], "info")


def verdict(results: list[Result]) -> str:
    assert results, "the policy did not apply"
    statuses = {r.status for r in results}
    assert not statuses & {FAIL}, "Restricted policies warn, never block, by default"
    if WARN in statuses:
        return BAD
    assert statuses <= {PASS, SKIP} and PASS in statuses, statuses
    return OK


def finding_fields(results: list[Result]) -> list[str | None]:
    return [r.field for r in results if r.status in (FAIL, WARN)]


def put(target: dict[str, Any], path: list[str], value: Any) -> None:
    """Set ``path`` in ``target`` to ``value``; UNSET removes the last key."""
    for key in path[:-1]:
        target = target.setdefault(key, {})
    if value is UNSET:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value


def container(name: str, security: dict[str, Any] | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "image": f"registry.example.com/{name}:1.0"}
    if security is not None:
        entry["securityContext"] = copy.deepcopy(security)
    return entry


def pod_spec(
    security: dict[str, Any] | None, pod_security: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A pod with one container in each list, each with the securityContext ``security``."""
    spec: dict[str, Any] = {lst: [container(f"{lst.lower()}-0", security)] for lst in LISTS}
    if pod_security is not None:
        spec["securityContext"] = copy.deepcopy(pod_security)
    return spec


def set_at(spec: dict[str, Any], level: str, path: list[str], value: Any) -> str:
    """Set the field at ``level`` (the pod, or the first container of a list); its field path."""
    if level == POD:
        put(spec.setdefault("securityContext", {}), path, value)
        return "spec.securityContext." + ".".join(path)
    put(spec[level][0].setdefault("securityContext", {}), path, value)
    return f"spec.{level}[0].securityContext." + ".".join(path)


# -- the tables --------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One value of one control at one level, and what the standard says of it."""

    level: str
    value: Any
    expected: str

    def __str__(self) -> str:
        shown = "undefined" if self.value is UNSET else repr(self.value)
        return f"{self.level}={shown}->{self.expected}"


def rows(levels: list[str], values: list[tuple[Any, str]]) -> list[Row]:
    return [Row(level, value, expected) for level in levels for value, expected in values]


# Privilege Escalation: container fields only; allowed value `false`, nothing else.
PRIVILEGE_ESCALATION = rows(LISTS, [(False, OK), (True, BAD), (UNSET, BAD), (None, BAD)])


@pytest.mark.parametrize("row", PRIVILEGE_ESCALATION, ids=str)
def test_privilege_escalation(row: Row) -> None:
    spec = pod_spec({"allowPrivilegeEscalation": False})
    field = set_at(spec, row.level, ["allowPrivilegeEscalation"], row.value)
    results = run("pss-privilege-escalation", spec)
    assert verdict(results) == row.expected
    if row.expected == BAD:
        assert finding_fields(results) == [field]


# Running as Non-root: allowed value `true`, at the pod and in every container; a container
# may leave it undefined only if the pod sets `true` (tested under inheritance below).
RUN_AS_NON_ROOT = rows([POD, *LISTS], [(True, OK), (False, BAD), (UNSET, BAD), (None, BAD)])


@pytest.mark.parametrize("row", RUN_AS_NON_ROOT, ids=str)
def test_run_as_non_root(row: Row) -> None:
    # At the pod level, the containers leave it undefined (they inherit the pod's value);
    # at a container level, the pod leaves it undefined.
    spec = pod_spec(None) if row.level == POD else pod_spec({"runAsNonRoot": True})
    field = set_at(spec, row.level, ["runAsNonRoot"], row.value)
    results = run("pss-run-as-non-root", spec)
    assert verdict(results) == row.expected
    if row.expected == BAD:
        # A pod-level value that is set but not true is reported at the pod; an undefined
        # one at each container, whose own field is where the value is missing.
        expected = (
            [f"spec.{lst}[0].securityContext.runAsNonRoot" for lst in LISTS]
            if row.level == POD and row.value in (UNSET, None)
            else [field]
        )
        assert finding_fields(results) == expected


# Running as Non-root user: any non-zero value or undefined/null, at the pod and in every
# container; `0` is forbidden.
RUN_AS_USER = rows(
    [POD, *LISTS],
    [(1000, OK), (1, OK), (65534, OK), (2147483647, OK), (UNSET, OK), (None, OK), (0, BAD)],
)


@pytest.mark.parametrize("row", RUN_AS_USER, ids=str)
def test_run_as_non_root_user(row: Row) -> None:
    spec = pod_spec(None)
    field = set_at(spec, row.level, ["runAsUser"], row.value)
    results = run("pss-run-as-non-root-user", spec)
    assert verdict(results) == row.expected
    if row.expected == BAD:
        assert finding_fields(results) == [field]


# Seccomp: `RuntimeDefault` or `Localhost`, at the pod and in every container; `Unconfined`
# and the absence of a profile are prohibited.
SECCOMP = rows(
    [POD, *LISTS],
    [("RuntimeDefault", OK), ("Localhost", OK), ("Unconfined", BAD), (UNSET, BAD), (None, BAD)],
)


@pytest.mark.parametrize("row", SECCOMP, ids=str)
def test_seccomp_restricted(row: Row) -> None:
    if row.level == POD:
        spec = pod_spec(None)  # containers inherit the pod's profile
    else:
        spec = pod_spec({"seccompProfile": {"type": "RuntimeDefault"}})  # no pod profile
    if row.value is UNSET:  # no profile at all at this level
        field = set_at(spec, row.level, ["seccompProfile", "type"], "x")
        set_at(spec, row.level, ["seccompProfile"], UNSET)
    else:
        field = set_at(spec, row.level, ["seccompProfile", "type"], row.value)
    results = run("pss-seccomp-restricted", spec)
    assert verdict(results) == row.expected
    if row.expected == BAD:
        expected = (
            [f"spec.{lst}[0].securityContext.seccompProfile.type" for lst in LISTS]
            if row.level == POD and row.value is UNSET
            else [field]
        )
        assert finding_fields(results) == expected


def test_seccomp_profile_without_type_at_pod_level_fails() -> None:
    spec = pod_spec(None, {"seccompProfile": {}})
    assert finding_fields(run("pss-seccomp-restricted", spec)) == [
        "spec.securityContext.seccompProfile.type"
    ]


# Capabilities: `drop` is any list that includes `ALL`; `add` is undefined or
# `NET_BIND_SERVICE`. Every other capability the Baseline level allows to be added is
# refused here, and so are the ones it refuses.
BASELINE_ADDABLE = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
]
DROP = rows(
    LISTS,
    [
        (["ALL"], OK),
        (["NET_RAW", "ALL"], OK),
        (["ALL", "ALL"], OK),
        (UNSET, BAD),
        (None, BAD),
        ([], BAD),
        (["NET_RAW"], BAD),
        (["all"], BAD),
        ("ALL", BAD),
    ],
)
ADD = rows(
    LISTS,
    [
        (UNSET, OK),
        (None, OK),
        ([], OK),
        (["NET_BIND_SERVICE"], OK),
        *(([cap], BAD) for cap in BASELINE_ADDABLE if cap != "NET_BIND_SERVICE"),
        (["SYS_ADMIN"], BAD),
        (["NET_RAW"], BAD),
        (["ALL"], BAD),
        (["NET_BIND_SERVICE", "NET_ADMIN"], BAD),
        (["CAP_NET_BIND_SERVICE"], BAD),
    ],
)


@pytest.mark.parametrize("row", DROP, ids=str)
def test_capabilities_drop(row: Row) -> None:
    spec = pod_spec({"capabilities": {"drop": ["ALL"]}})
    field = set_at(spec, row.level, ["capabilities", "drop"], row.value)
    results = run("pss-capabilities-restricted", spec)
    assert verdict(results) == row.expected
    if row.expected == BAD:
        assert finding_fields(results) == [field]


@pytest.mark.parametrize("row", ADD, ids=str)
def test_capabilities_add(row: Row) -> None:
    spec = pod_spec({"capabilities": {"drop": ["ALL"]}})
    field = set_at(spec, row.level, ["capabilities", "add"], row.value)
    results = run("pss-capabilities-restricted", spec)
    assert verdict(results) == row.expected
    if row.expected == BAD:
        assert finding_fields(results) == [field]


def test_capabilities_without_security_context() -> None:
    """No securityContext at all: ALL is not dropped, in every list."""
    results = run("pss-capabilities-restricted", pod_spec(None))
    assert finding_fields(results) == [
        f"spec.{lst}[0].securityContext.capabilities.drop" for lst in LISTS
    ]


# Volume Types: every volume sets one of the eight listed fields to a non-null value.
ALLOWED_VOLUMES: dict[str, Any] = {
    "configMap": {"name": "c"},
    "csi": {"driver": "secrets-store.csi.k8s.io"},
    "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]},
    "emptyDir": {},
    "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"]}}},
    "persistentVolumeClaim": {"claimName": "data"},
    "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]},
    "secret": {"secretName": "s"},
}
FORBIDDEN_VOLUMES: dict[str, Any] = {
    "hostPath": {"path": "/var/log"},
    "nfs": {"server": "nfs.example.com", "path": "/"},
    "gitRepo": {"repository": "https://git.example.com/r.git"},
    "iscsi": {"targetPortal": "10.0.0.1:3260", "iqn": "iqn.2001-04.com.example:s", "lun": 0},
    "cephfs": {"monitors": ["10.0.0.1:6789"]},
    "rbd": {"monitors": ["10.0.0.1:6789"], "image": "i"},
    "glusterfs": {"endpoints": "e", "path": "p"},
    "fc": {"wwids": ["w"]},
    "flexVolume": {"driver": "example.com/driver"},
    "awsElasticBlockStore": {"volumeID": "vol-1"},
    "gcePersistentDisk": {"pdName": "disk"},
    "azureDisk": {"diskName": "d", "diskURI": "u"},
    "azureFile": {"secretName": "s", "shareName": "share"},
    "cinder": {"volumeID": "v"},
    "vsphereVolume": {"volumePath": "[ds] v.vmdk"},
    "portworxVolume": {"volumeID": "v"},
    "image": {"reference": "registry.example.com/models/m:1.0"},
}


def volume_pod(volumes: list[dict[str, Any]] | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [container("app")]}
    if volumes is not None:
        spec["volumes"] = volumes
    return spec


@pytest.mark.parametrize("kind", sorted(ALLOWED_VOLUMES))
def test_volume_types_allowed(kind: str) -> None:
    spec = volume_pod([{"name": "v", kind: ALLOWED_VOLUMES[kind]}])
    assert verdict(run("pss-volume-types", spec)) == OK


@pytest.mark.parametrize("kind", sorted(FORBIDDEN_VOLUMES))
def test_volume_types_forbidden(kind: str) -> None:
    spec = volume_pod(
        [{"name": "ok", "emptyDir": {}}, {"name": "v", kind: FORBIDDEN_VOLUMES[kind]}]
    )
    results = run("pss-volume-types", spec)
    assert verdict(results) == BAD
    assert finding_fields(results) == [f"spec.volumes[1].{kind}"]
    [finding] = [r for r in results if r.status == WARN]
    assert finding.message == f"volume 'v' uses {kind}, which the Restricted level does not allow"


@pytest.mark.parametrize("kind", sorted(ALLOWED_VOLUMES))
def test_volume_types_null_is_not_set(kind: str) -> None:
    """The standard asks for a non-null value: `emptyDir:` with nothing after it is null."""
    results = run("pss-volume-types", volume_pod([{"name": "v", kind: None}]))
    assert verdict(results) == BAD
    assert [r.message for r in results if r.status == WARN] == ["volume 'v' sets no volume type"]


@pytest.mark.parametrize("volumes", [None, []], ids=["absent", "empty"])
def test_volume_types_pod_without_volumes_passes(volumes: list[Any] | None) -> None:
    results = run("pss-volume-types", volume_pod(volumes))
    assert [r.status for r in results] == [PASS]  # complies: pass, not "nothing to check"


def test_volume_types_image_allowed_by_parameter() -> None:
    spec = volume_pod([{"name": "v", "image": FORBIDDEN_VOLUMES["image"]}])
    allowed = [*ALLOWED_VOLUMES, "image"]
    assert verdict(run("pss-volume-types", spec, {"allowed_types": allowed})) == OK


def test_volume_types_every_bad_volume_is_reported() -> None:
    spec = volume_pod(
        [
            {"name": "a", "hostPath": {"path": "/"}},
            {"name": "b", "nfs": {"server": "s", "path": "/"}},
        ]
    )
    assert finding_fields(run("pss-volume-types", spec)) == [
        "spec.volumes[0].hostPath",
        "spec.volumes[1].nfs",
    ]


# -- kubelet inheritance ---------------------------------------------------------------


@dataclass(frozen=True)
class Inheritance:
    """A pod-level value, a container-level value (or UNSET), and what results."""

    policy_id: str
    path: tuple[str, ...]
    pod: Any
    own: Any
    expected: str
    reported_at: str | None = None  # POD or "container" for a failure

    def __str__(self) -> str:
        shown = ["undefined" if v is UNSET else repr(v) for v in (self.pod, self.own)]
        return f"{self.policy_id}:pod={shown[0]},container={shown[1]}->{self.expected}"


INHERITANCE = [
    # runAsNonRoot: an unset container inherits the pod's value; its own value overrides it.
    Inheritance("pss-run-as-non-root", ("runAsNonRoot",), True, UNSET, OK),
    Inheritance("pss-run-as-non-root", ("runAsNonRoot",), True, None, OK),
    Inheritance("pss-run-as-non-root", ("runAsNonRoot",), False, UNSET, BAD, POD),
    Inheritance("pss-run-as-non-root", ("runAsNonRoot",), True, False, BAD, "container"),
    Inheritance("pss-run-as-non-root", ("runAsNonRoot",), True, True, OK),
    # ... but the pod-level field is restricted itself: false fails though overridden.
    Inheritance("pss-run-as-non-root", ("runAsNonRoot",), False, True, BAD, POD),
    # runAsUser
    Inheritance("pss-run-as-non-root-user", ("runAsUser",), 1000, UNSET, OK),
    Inheritance("pss-run-as-non-root-user", ("runAsUser",), 0, UNSET, BAD, POD),
    Inheritance("pss-run-as-non-root-user", ("runAsUser",), 1000, 0, BAD, "container"),
    Inheritance("pss-run-as-non-root-user", ("runAsUser",), 1000, 2000, OK),
    Inheritance("pss-run-as-non-root-user", ("runAsUser",), 0, 1000, BAD, POD),
    # seccompProfile: the container's profile replaces the pod's as a whole.
    Inheritance("pss-seccomp-restricted", ("seccompProfile", "type"), "RuntimeDefault", UNSET, OK),
    Inheritance("pss-seccomp-restricted", ("seccompProfile", "type"), "Localhost", UNSET, OK),
    Inheritance(
        "pss-seccomp-restricted", ("seccompProfile", "type"), "Unconfined", UNSET, BAD, POD
    ),
    Inheritance(
        "pss-seccomp-restricted",
        ("seccompProfile", "type"),
        "RuntimeDefault",
        "Unconfined",
        BAD,
        "container",
    ),
    Inheritance(
        "pss-seccomp-restricted", ("seccompProfile", "type"), "Localhost", "RuntimeDefault", OK
    ),
    Inheritance(
        "pss-seccomp-restricted",
        ("seccompProfile", "type"),
        "Unconfined",
        "RuntimeDefault",
        BAD,
        POD,
    ),
]


@pytest.mark.parametrize("lst", LISTS)
@pytest.mark.parametrize("case", INHERITANCE, ids=str)
def test_kubelet_inheritance(case: Inheritance, lst: str) -> None:
    path = list(case.path)
    spec = pod_spec(None)
    pod_field = set_at(spec, POD, path, case.pod)
    # The container under test sets its own value (or not); the others inherit the pod's.
    own_field = set_at(spec, lst, path, "placeholder")
    if case.own is UNSET:  # no seccompProfile at all, not a profile without a type
        set_at(spec, lst, path[:1], UNSET)
    else:
        set_at(spec, lst, path, case.own)
    results = run(case.policy_id, spec)
    assert verdict(results) == case.expected
    if case.expected == BAD:
        assert finding_fields(results) == [pod_field if case.reported_at == POD else own_field]


# -- OS-specific controls ----------------------------------------------------------------

# A pod that breaks every control in every list, at the pod level too.
EVERYTHING_WRONG_SECURITY = {
    "allowPrivilegeEscalation": True,
    "runAsNonRoot": False,
    "runAsUser": 0,
    "seccompProfile": {"type": "Unconfined"},
    "capabilities": {"add": ["SYS_ADMIN"]},
}


def everything_wrong(os_name: str | None) -> dict[str, Any]:
    spec = pod_spec(
        EVERYTHING_WRONG_SECURITY,
        {"runAsNonRoot": False, "runAsUser": 0, "seccompProfile": {"type": "Unconfined"}},
    )
    spec["volumes"] = [{"name": "v", "hostPath": {"path": "/"}}]
    if os_name is not None:
        spec["os"] = {"name": os_name}
    return spec


@pytest.mark.parametrize("policy_id", RESTRICTED)
def test_windows_pods_are_exempt_from_linux_only_controls(policy_id: str) -> None:
    expected = OK if policy_id in LINUX_ONLY else BAD
    assert verdict(run(policy_id, everything_wrong("windows"))) == expected


@pytest.mark.parametrize("policy_id", RESTRICTED)
@pytest.mark.parametrize("os_name", [None, "linux", "Windows", "windows "])
def test_other_pods_meet_every_control(policy_id: str, os_name: str | None) -> None:
    """Only `windows`, exactly, is Windows: the other OS-specific checks still apply."""
    assert verdict(run(policy_id, everything_wrong(os_name))) == BAD


@pytest.mark.parametrize("policy_id", RESTRICTED)
def test_a_compliant_pod_passes_every_control(policy_id: str) -> None:
    security = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
    }
    spec = pod_spec(
        security,
        {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
    )
    spec["volumes"] = [{"name": f"v{n}", k: v} for n, (k, v) in enumerate(ALLOWED_VOLUMES.items())]
    assert verdict(run(policy_id, spec)) == OK


# -- the pack as a whole -------------------------------------------------------------------


@pytest.mark.parametrize("policy_id", RESTRICTED)
def test_restricted_policies_are_marked_and_warn(policy_id: str) -> None:
    policy = BUILTIN[policy_id]
    assert policy.spec.get("profile") == "restricted"
    assert policy.spec.get("enforcement") == "warn"
    assert policy.spec.get("match") == {"where": "pod_spec(@) != null"}


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"])
@pytest.mark.parametrize("policy_id", RESTRICTED)
def test_pod_templates_of_every_workload_are_judged(policy_id: str, kind: str) -> None:
    spec = everything_wrong(None)
    template = {"spec": spec}
    versions = {"Job": "batch/v1", "CronJob": "batch/v1"}
    body: dict[str, Any] = (
        {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template}}}
        if kind == "CronJob"
        else {"template": template}
    )
    document = {
        "apiVersion": versions.get(kind, "apps/v1"),
        "kind": kind,
        "metadata": {"name": "w"},
        "spec": body,
    }
    results = evaluate([BUILTIN[policy_id]], [resource_of(document)], "info")
    assert verdict(results) == BAD
    prefix = "spec.jobTemplate.spec.template.spec." if kind == "CronJob" else "spec.template.spec."
    assert all(f and f.startswith(prefix) for f in finding_fields(results))


# -- profiles: what .gate.yaml's `profile:` does to the restricted pack ------------------


def restricted_state(config: Config) -> dict[str, str]:
    """Enforcement of each restricted policy the configuration leaves enabled."""
    configured = apply_config(config, list(BUILTIN.values()))
    return {p.id: p.info.enforcement for p in configured if p.id in RESTRICTED}


def test_profiles_turn_the_restricted_pack_on_and_off() -> None:
    assert restricted_state(Config()) == dict.fromkeys(RESTRICTED, "warn")  # default: warns
    assert restricted_state(Config(profile="baseline")) == {}  # off
    assert restricted_state(Config(profile="restricted")) == dict.fromkeys(RESTRICTED, "block")
    one_warns = Config(profile="restricted", policies={"pss-volume-types": {"enforcement": "warn"}})
    assert restricted_state(one_warns)["pss-volume-types"] == "warn"


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("config", "status"),
    [("", 0), ("profile: baseline\n", 0), ("profile: restricted\n", 1)],
    ids=["default", "baseline", "restricted"],
)
def test_gate_check_with_each_profile(
    config: str, status: int, tmp_path: Path, run_gate: RunGate
) -> None:
    """A pod that meets Baseline but not Restricted: warned by default, blocked by
    `profile: restricted`, not judged by the restricted pack under `profile: baseline`.
    The other built-in policies are switched off."""
    (tmp_path / ".git").mkdir()
    others = {i: {"enabled": False} for i in BUILTIN if i not in RESTRICTED}
    (tmp_path / ".gate.yaml").write_text(
        config + yaml.safe_dump({"policies": others}), encoding="utf-8"
    )
    document = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "shop"},
        "spec": {"containers": [container("app")]},
    }
    (tmp_path / "pod.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    completed = run_gate("check", "-f", "json", "pod.yaml", cwd=tmp_path)
    assert completed.returncode == status, completed.stderr
    results = json.loads(completed.stdout)["results"]
    by_policy = {r["policy"]: r["status"] for r in results if r["policy"] in RESTRICTED}
    expected = {"": WARN, "profile: baseline\n": None, "profile: restricted\n": FAIL}[config]
    if expected is None:
        assert by_policy == {}
    else:
        # pss-volume-types passes: the pod has no volumes.
        assert by_policy == {
            i: (PASS if i in ("pss-volume-types", "pss-run-as-non-root-user") else expected)
            for i in RESTRICTED
        }
