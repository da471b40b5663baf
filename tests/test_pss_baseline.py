"""The Pod Security Standards, Baseline level: a table test per control.

Each table walks every value the standard (kubernetes.io, "Pod Security Standards", the
Baseline table) names for a control: every allowed value passes at every level the standard
lists (pod, containers, initContainers, ephemeralContainers), and forbidden values fail there,
with the finding at the offending field. Inheritance cases show how a pod-level setting is
reported for the containers that inherit it, and that the standard restricts the pod-level
field itself even where every container overrides it (as the Pod Security Admission
controller does). Everything runs in-process, through ``load_builtin`` and ``evaluate``.
"""
from __future__ import annotations

from typing import Any

import pytest
import yaml

from gate.evaluation.evaluate import evaluate
from gate.evaluation.policy import Policy
from gate.evaluation.policy_loading import load_builtin
from gate.loading.resources import Resource, read_resources
from gate.loading.sources import SourceFile
from gate.results import FAIL, PASS, WARN, Result

BUILTIN: dict[str, Policy] = {policy.id: policy for policy in load_builtin()}
BASELINE = [
    "pss-host-process", "pss-host-namespaces", "pss-privileged", "pss-capabilities-baseline",
    "pss-host-path", "pss-host-ports", "pss-host-probes", "pss-apparmor", "pss-selinux",
    "pss-proc-mount", "pss-seccomp-baseline", "pss-sysctls",
]
CONTAINER_LISTS = ["containers", "initContainers", "ephemeralContainers"]
POD_LEVEL = "pod"
LEVELS = [POD_LEVEL, *CONTAINER_LISTS]  # where a securityContext field can be set
ABSENT: Any = object()  # "Undefined": the key is not written at all (None is an explicit null)


# -- building pods ------------------------------------------------------------------


def nested(path: str, value: Any) -> dict[str, Any]:
    """``{'a': {'b': value}}`` for ``'a.b'``; ``{}`` when the value is ABSENT."""
    if value is ABSENT:
        return {}
    result: Any = value
    for key in reversed(path.split(".")):
        result = {key: result}
    return result


def container(name: str = "app", **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": "registry.example.com/shop/app:1.0", **fields}


def pod_spec(level: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A pod spec with ``fields`` at ``level``: in the pod spec itself, or in one container
    of that list (beside the container every pod needs)."""
    if level == POD_LEVEL:
        return {**fields, "containers": [container()]}
    if level == "containers":
        return {"containers": [container(**fields)]}
    return {"containers": [container()], level: [container("extra", **fields)]}


def workload(spec: dict[str, Any], kind: str = "Pod",
             annotations: dict[str, str] | None = None) -> list[Resource]:
    """A resource of ``kind`` running ``spec``, with pod-template ``annotations``."""
    metadata: dict[str, Any] = {"name": "subject"}
    template: dict[str, Any] = {"spec": spec}
    if annotations is not None:
        template["metadata"] = {"annotations": annotations}
    if kind == "Pod":
        document: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod",
                                    "metadata": {**metadata, **template.get("metadata", {})},
                                    "spec": spec}
    elif kind == "CronJob":
        document = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": metadata,
                    "spec": {"schedule": "0 3 * * *",
                             "jobTemplate": {"spec": {"template": template}}}}
    else:
        document = {"apiVersion": "apps/v1", "kind": kind, "metadata": metadata,
                    "spec": {"template": template}}
    text = yaml.safe_dump(document, sort_keys=False)
    return [r for r in read_resources(SourceFile("pod.yaml", text)) if isinstance(r, Resource)]


def prefix(level: str) -> str:
    """Field path of ``level``'s settings in a Pod built by ``pod_spec``."""
    return "spec." if level == POD_LEVEL else f"spec.{level}[0]."


# -- judging ------------------------------------------------------------------------


def judge(policy_id: str, resources: list[Resource],
          params: dict[str, Any] | None = None) -> list[Result]:
    policy = BUILTIN[policy_id]
    if params is not None:
        policy = policy.configured(params=params)
    results = evaluate([policy], resources, "info")
    assert results, f"{policy_id} did not apply"
    return results


def findings(policy_id: str, resources: list[Resource],
             params: dict[str, Any] | None = None) -> list[Result]:
    return [r for r in judge(policy_id, resources, params) if r.status in (FAIL, WARN)]


def assert_passes(policy_id: str, resources: list[Resource],
                  params: dict[str, Any] | None = None) -> None:
    results = judge(policy_id, resources, params)
    assert all(r.status == PASS for r in results), [(r.status, r.message) for r in results]


def assert_fails_at(policy_id: str, resources: list[Resource], field: str,
                    params: dict[str, Any] | None = None) -> Result:
    found = findings(policy_id, resources, params)
    assert found, f"{policy_id}: no finding"
    assert all(r.status == FAIL for r in found), "Baseline policies block"
    assert found[0].field == field, [(r.field, r.message) for r in found]
    return found[0]


# -- the pack as a whole ------------------------------------------------------------


def test_every_baseline_control_is_a_blocking_baseline_policy() -> None:
    for policy_id in BASELINE:
        policy = BUILTIN[policy_id]
        assert policy.spec.get("profile") == "baseline", policy_id
        assert policy.info.enforcement == "block", policy_id
        assert policy.spec["match"] == {"where": "pod_spec(@) != null"}, policy_id


@pytest.mark.parametrize("kind", ["Pod", "Deployment", "StatefulSet", "DaemonSet", "CronJob"])
def test_every_pod_bearing_kind_is_judged(kind: str) -> None:
    spec = {"hostPID": True, "containers": [container(securityContext={"privileged": True})]}
    assert findings("pss-host-namespaces", workload(spec, kind))
    assert findings("pss-privileged", workload(spec, kind))


def test_a_minimal_pod_passes_every_baseline_control() -> None:
    """The Baseline level "allows the default (minimally specified) Pod configuration"."""
    for policy_id in BASELINE:
        assert_passes(policy_id, workload({"containers": [container()]}))


# -- HostProcess ----------------------------------------------------------------------

HOST_PROCESS = "securityContext.windowsOptions.hostProcess"


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("value", [ABSENT, None, False], ids=["undefined", "nil", "false"])
def test_host_process_allowed(level: str, value: Any) -> None:
    assert_passes("pss-host-process", workload(pod_spec(level, nested(HOST_PROCESS, value))))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("value", [True, "true"])
def test_host_process_forbidden(level: str, value: Any) -> None:
    resources = workload(pod_spec(level, nested(HOST_PROCESS, value)))
    assert_fails_at("pss-host-process", resources, prefix(level) + HOST_PROCESS)


def test_host_process_is_inherited_field_by_field() -> None:
    """The kubelet merges windowsOptions field by field: a container that sets only
    runAsUserName still runs as a HostProcess container."""
    spec = {"securityContext": {"windowsOptions": {"hostProcess": True}},
            "containers": [container("web", securityContext={
                "windowsOptions": {"runAsUserName": "ContainerUser"}})]}
    finding = assert_fails_at("pss-host-process", workload(spec), "spec." + HOST_PROCESS)
    assert finding.message == (
        "pod-level securityContext.windowsOptions.hostProcess is true, inherited by container 'web'"
    )


def test_host_process_pod_level_is_restricted_even_when_overridden() -> None:
    spec = {"securityContext": {"windowsOptions": {"hostProcess": True}},
            "containers": [container("web", securityContext={
                "windowsOptions": {"hostProcess": False}})]}
    [finding] = findings("pss-host-process", workload(spec))
    assert finding.field == "spec." + HOST_PROCESS
    assert "every container sets its own" in finding.message


# -- Host Namespaces ------------------------------------------------------------------


@pytest.mark.parametrize("field", ["hostNetwork", "hostPID", "hostIPC"])
@pytest.mark.parametrize("value", [ABSENT, None, False], ids=["undefined", "nil", "false"])
def test_host_namespaces_allowed(field: str, value: Any) -> None:
    assert_passes("pss-host-namespaces", workload(pod_spec(POD_LEVEL, nested(field, value))))


@pytest.mark.parametrize("field", ["hostNetwork", "hostPID", "hostIPC"])
@pytest.mark.parametrize("value", [True, "true"])
def test_host_namespaces_forbidden(field: str, value: Any) -> None:
    resources = workload(pod_spec(POD_LEVEL, nested(field, value)))
    assert_fails_at("pss-host-namespaces", resources, f"spec.{field}")


def test_host_namespaces_one_finding_per_field() -> None:
    spec = {"hostNetwork": True, "hostPID": True, "hostIPC": True, "containers": [container()]}
    found = findings("pss-host-namespaces", workload(spec, "Deployment"))
    assert [r.field for r in found] == [
        "spec.template.spec.hostNetwork", "spec.template.spec.hostPID",
        "spec.template.spec.hostIPC",
    ]


# -- Privileged Containers ------------------------------------------------------------

PRIVILEGED = "securityContext.privileged"


@pytest.mark.parametrize("level", CONTAINER_LISTS)
@pytest.mark.parametrize("value", [ABSENT, None, False], ids=["undefined", "nil", "false"])
def test_privileged_allowed(level: str, value: Any) -> None:
    assert_passes("pss-privileged", workload(pod_spec(level, nested(PRIVILEGED, value))))


@pytest.mark.parametrize("level", CONTAINER_LISTS)
@pytest.mark.parametrize("value", [True, "true"])
def test_privileged_forbidden(level: str, value: Any) -> None:
    resources = workload(pod_spec(level, nested(PRIVILEGED, value)))
    assert_fails_at("pss-privileged", resources, prefix(level) + PRIVILEGED)


# -- Capabilities ---------------------------------------------------------------------

CAPABILITIES = "securityContext.capabilities.add"
BASELINE_CAPABILITIES = [
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
]


def test_capabilities_default_is_the_standards_thirteen() -> None:
    parameter = BUILTIN["pss-capabilities-baseline"].parameters["allowed_capabilities"]
    assert parameter.default == BASELINE_CAPABILITIES


@pytest.mark.parametrize("level", CONTAINER_LISTS)
@pytest.mark.parametrize("value", [ABSENT, None, []], ids=["undefined", "nil", "empty"])
def test_capabilities_unset(level: str, value: Any) -> None:
    assert_passes("pss-capabilities-baseline",
                  workload(pod_spec(level, nested(CAPABILITIES, value))))


@pytest.mark.parametrize("level", CONTAINER_LISTS)
@pytest.mark.parametrize("capability", BASELINE_CAPABILITIES)
def test_capabilities_allowed(level: str, capability: str) -> None:
    assert_passes("pss-capabilities-baseline",
                  workload(pod_spec(level, nested(CAPABILITIES, [capability]))))


@pytest.mark.parametrize("level", CONTAINER_LISTS)
@pytest.mark.parametrize("capability", [
    "SYS_ADMIN", "NET_RAW", "ALL", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "BPF",
    "CAP_CHOWN", "chown",
])
def test_capabilities_forbidden(level: str, capability: str) -> None:
    resources = workload(pod_spec(level, nested(CAPABILITIES, ["CHOWN", capability])))
    finding = assert_fails_at("pss-capabilities-baseline", resources, prefix(level) + CAPABILITIES)
    assert finding.message.endswith(f"adds capabilities outside the Baseline set: {capability}")


def test_capabilities_drop_is_not_restricted_at_baseline() -> None:
    resources = workload(pod_spec("containers", nested("securityContext.capabilities.drop",
                                                       ["SYS_ADMIN"])))
    assert_passes("pss-capabilities-baseline", resources)


def test_capabilities_widened_by_parameter() -> None:
    resources = workload(pod_spec("containers", nested(CAPABILITIES, ["NET_ADMIN"])))
    assert_passes("pss-capabilities-baseline", resources,
                  {"allowed_capabilities": [*BASELINE_CAPABILITIES, "NET_ADMIN"]})
    assert BUILTIN["pss-capabilities-baseline"].parameters["allowed_capabilities"].validate(
        ["net_admin"]) is not None


# -- HostPath Volumes -----------------------------------------------------------------


@pytest.mark.parametrize("volumes", [
    ABSENT, [], [{"name": "v", "emptyDir": {}}], [{"name": "v", "hostPath": None, "emptyDir": {}}],
], ids=["no-volumes", "empty-list", "emptyDir", "hostPath-nil"])
def test_host_path_allowed(volumes: Any) -> None:
    assert_passes("pss-host-path", workload(pod_spec(POD_LEVEL, nested("volumes", volumes))))


@pytest.mark.parametrize(
    "host_path", [{"path": "/"}, {"path": "/var/log", "type": "Directory"}, {}])
def test_host_path_forbidden(host_path: dict[str, Any]) -> None:
    volumes = [{"name": "cache", "emptyDir": {}}, {"name": "host", "hostPath": host_path}]
    resources = workload(pod_spec(POD_LEVEL, {"volumes": volumes}))
    assert_fails_at("pss-host-path", resources, "spec.volumes[1].hostPath")


# -- Host Ports -----------------------------------------------------------------------


def ports(*host_ports: Any) -> dict[str, Any]:
    return {"ports": [{"containerPort": 8000 + i, **nested("hostPort", port)}
                      for i, port in enumerate(host_ports)]}


@pytest.mark.parametrize("level", CONTAINER_LISTS)
@pytest.mark.parametrize("value", [ABSENT, None, 0], ids=["undefined", "nil", "zero"])
def test_host_ports_allowed(level: str, value: Any) -> None:
    assert_passes("pss-host-ports", workload(pod_spec(level, ports(value))))


@pytest.mark.parametrize("level", CONTAINER_LISTS)
@pytest.mark.parametrize("value", [1, 80, 8080, 65535])
def test_host_ports_forbidden(level: str, value: int) -> None:
    resources = workload(pod_spec(level, ports(0, value)))
    finding = assert_fails_at("pss-host-ports", resources, prefix(level) + "ports[1].hostPort")
    assert f"binds host port {value} (no host port is allowed)" in finding.message


@pytest.mark.parametrize("level", CONTAINER_LISTS)
def test_host_ports_known_list(level: str) -> None:
    params = {"allowed_ports": [80, 443]}
    assert_passes("pss-host-ports", workload(pod_spec(level, ports(80, 443))), params)
    resources = workload(pod_spec(level, ports(80, 8443)))
    finding = assert_fails_at("pss-host-ports", resources, prefix(level) + "ports[1].hostPort",
                              params)
    assert finding.message.endswith("binds host port 8443 (allowed: 80, 443)")


# -- Host Probes / Lifecycle Hooks ----------------------------------------------------

HANDLERS = [
    f"{probe}.{handler}"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe",
                  "lifecycle.postStart", "lifecycle.preStop")
    for handler in ("httpGet", "tcpSocket")
]
PROBE_LISTS = ["containers", "initContainers"]  # the lists the standard names for this control


def probe(handler: str, host: Any) -> dict[str, Any]:
    return nested(handler, {"port": 8080, **nested("host", host)})


@pytest.mark.parametrize("level", PROBE_LISTS)
@pytest.mark.parametrize("handler", HANDLERS)
@pytest.mark.parametrize("host", [ABSENT, None, ""], ids=["undefined", "nil", "empty"])
def test_host_probes_allowed(level: str, handler: str, host: Any) -> None:
    assert_passes("pss-host-probes", workload(pod_spec(level, probe(handler, host))))


@pytest.mark.parametrize("level", PROBE_LISTS)
@pytest.mark.parametrize("handler", HANDLERS)
@pytest.mark.parametrize("host", ["169.254.169.254", "localhost", "db.example.com"])
def test_host_probes_forbidden(level: str, handler: str, host: str) -> None:
    resources = workload(pod_spec(level, probe(handler, host)))
    finding = assert_fails_at("pss-host-probes", resources, f"{prefix(level)}{handler}.host")
    assert f"sends {handler} to '{host}'" in finding.message


def test_host_probes_twenty_restricted_fields() -> None:
    assert len(HANDLERS) * len(PROBE_LISTS) == 20


# -- AppArmor -------------------------------------------------------------------------

APPARMOR = "securityContext.appArmorProfile.type"
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("value", [ABSENT, None, "RuntimeDefault", "Localhost"])
def test_apparmor_allowed(level: str, value: Any) -> None:
    assert_passes("pss-apparmor", workload(pod_spec(level, nested(APPARMOR, value))))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("value", ["Unconfined", "runtime/default"])
def test_apparmor_forbidden(level: str, value: str) -> None:
    resources = workload(pod_spec(level, nested(APPARMOR, value)))
    assert_fails_at("pss-apparmor", resources, prefix(level) + APPARMOR)


@pytest.mark.parametrize("kind", ["Pod", "Deployment"])
@pytest.mark.parametrize("value", ["runtime/default", "localhost/k8s-app", ""])
def test_apparmor_annotation_allowed(kind: str, value: str) -> None:
    resources = workload(pod_spec(POD_LEVEL, {}), kind, {APPARMOR_ANNOTATION + "app": value})
    assert_passes("pss-apparmor", resources)


@pytest.mark.parametrize("kind", ["Pod", "Deployment"])
@pytest.mark.parametrize("value", ["unconfined", "docker-default", "RuntimeDefault", "localhost"])
def test_apparmor_annotation_forbidden(kind: str, value: str) -> None:
    resources = workload(pod_spec(POD_LEVEL, {}), kind, {APPARMOR_ANNOTATION + "app": value})
    where = "metadata" if kind == "Pod" else "spec.template.metadata"
    finding = assert_fails_at(
        "pss-apparmor", resources, f'{where}.annotations."{APPARMOR_ANNOTATION}app"')
    assert f"sets the AppArmor profile '{value}' for container 'app'" in finding.message


# -- SELinux --------------------------------------------------------------------------

SELINUX = "securityContext.seLinuxOptions"
SELINUX_TYPES = ["container_t", "container_init_t", "container_kvm_t", "container_engine_t"]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("value", [ABSENT, "", *SELINUX_TYPES])
def test_selinux_type_allowed(level: str, value: Any) -> None:
    assert_passes("pss-selinux", workload(pod_spec(level, nested(SELINUX + ".type", value))))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("value", ["spc_t", "unconfined_t", "CONTAINER_T"])
def test_selinux_type_forbidden(level: str, value: str) -> None:
    resources = workload(pod_spec(level, nested(SELINUX + ".type", value)))
    finding = assert_fails_at("pss-selinux", resources, f"{prefix(level)}{SELINUX}.type")
    assert f"type '{value}'" in finding.message


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("field", ["user", "role"])
@pytest.mark.parametrize("value", [ABSENT, ""], ids=["undefined", "empty"])
def test_selinux_user_role_allowed(level: str, field: str, value: Any) -> None:
    assert_passes("pss-selinux", workload(pod_spec(level, nested(f"{SELINUX}.{field}", value))))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(("field", "value"), [("user", "system_u"), ("role", "system_r"),
                                              ("user", "unconfined_u"), ("role", "sysadm_r")])
def test_selinux_user_role_forbidden(level: str, field: str, value: str) -> None:
    resources = workload(pod_spec(level, nested(f"{SELINUX}.{field}", value)))
    assert_fails_at("pss-selinux", resources, f"{prefix(level)}{SELINUX}.{field}")


def test_selinux_level_is_not_restricted() -> None:
    resources = workload(pod_spec(POD_LEVEL, nested(SELINUX + ".level", "s0:c123,c456")))
    assert_passes("pss-selinux", resources)


def test_selinux_types_can_be_narrowed() -> None:
    resources = workload(pod_spec("containers", nested(SELINUX + ".type", "container_engine_t")))
    params = {"allowed_types": SELINUX_TYPES[:3]}
    assert_fails_at("pss-selinux", resources, f"spec.containers[0].{SELINUX}.type", params)


def test_selinux_options_are_inherited_as_a_whole() -> None:
    """A container's seLinuxOptions replace the pod's entirely (the kubelet copies the
    container's object), so a container that sets only level does not inherit the pod's
    type; one without seLinuxOptions does."""
    pod_level = {"seLinuxOptions": {"type": "spc_t"}}
    own = container("own", securityContext={"seLinuxOptions": {"level": "s0:c1,c2"}})
    inherits = container("inherits", securityContext={"runAsUser": 1000})
    spec = {"securityContext": pod_level, "containers": [own, inherits]}
    [finding] = findings("pss-selinux", workload(spec))
    assert finding.field == f"spec.{SELINUX}.type"
    assert finding.message == (
        "pod-level securityContext.seLinuxOptions sets type 'spc_t', inherited by container "
        "'inherits'"
    )


# -- /proc Mount Type -----------------------------------------------------------------

PROC_MOUNT = "securityContext.procMount"


@pytest.mark.parametrize("level", CONTAINER_LISTS)
@pytest.mark.parametrize("value", [ABSENT, None, "Default"])
def test_proc_mount_allowed(level: str, value: Any) -> None:
    assert_passes("pss-proc-mount", workload(pod_spec(level, nested(PROC_MOUNT, value))))


@pytest.mark.parametrize("level", CONTAINER_LISTS)
@pytest.mark.parametrize("value", ["Unmasked", "default"])
def test_proc_mount_forbidden(level: str, value: str) -> None:
    resources = workload(pod_spec(level, nested(PROC_MOUNT, value)))
    assert_fails_at("pss-proc-mount", resources, prefix(level) + PROC_MOUNT)


# -- Seccomp --------------------------------------------------------------------------

SECCOMP = "securityContext.seccompProfile.type"


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("value", [ABSENT, None, "RuntimeDefault", "Localhost"])
def test_seccomp_allowed(level: str, value: Any) -> None:
    assert_passes("pss-seccomp-baseline", workload(pod_spec(level, nested(SECCOMP, value))))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("value", ["Unconfined", "unconfined", "runtime/default"])
def test_seccomp_forbidden(level: str, value: str) -> None:
    resources = workload(pod_spec(level, nested(SECCOMP, value)))
    assert_fails_at("pss-seccomp-baseline", resources, prefix(level) + SECCOMP)


def test_seccomp_inherited_from_the_pod() -> None:
    spec = {"securityContext": {"seccompProfile": {"type": "Unconfined"}},
            "initContainers": [container("setup")],
            "containers": [container("web"), container("own", securityContext={
                "seccompProfile": {"type": "RuntimeDefault"}})]}
    [finding] = findings("pss-seccomp-baseline", workload(spec))
    assert finding.field == "spec." + SECCOMP  # the inherited setting's own line
    assert finding.message == (
        "pod-level securityContext.seccompProfile.type is 'Unconfined', inherited by containers "
        "'web', 'setup'"
    )


def test_seccomp_container_overrides_the_pod() -> None:
    spec = {"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [container("web", securityContext={
                "seccompProfile": {"type": "Unconfined"}})]}
    [finding] = findings("pss-seccomp-baseline", workload(spec))
    assert finding.field == "spec.containers[0]." + SECCOMP
    # ... and an allowed container value overriding an allowed pod value passes.
    spec = {"securityContext": {"seccompProfile": {"type": "Localhost",
                                                   "localhostProfile": "app.json"}},
            "containers": [container("web", securityContext={
                "seccompProfile": {"type": "RuntimeDefault"}})]}
    assert_passes("pss-seccomp-baseline", workload(spec))


def test_seccomp_pod_level_is_restricted_even_when_overridden() -> None:
    """The kubelet would run every container with its own profile, but the standard lists
    the pod-level field as restricted, and the Pod Security Admission controller rejects it."""
    spec = {"securityContext": {"seccompProfile": {"type": "Unconfined"}},
            "containers": [container("web", securityContext={
                "seccompProfile": {"type": "RuntimeDefault"}})]}
    [finding] = findings("pss-seccomp-baseline", workload(spec))
    assert finding.field == "spec." + SECCOMP
    assert finding.message.endswith(
        "; every container sets its own, but the standard restricts the pod-level field too")


def test_apparmor_inherited_and_overridden() -> None:
    pod_level = {"appArmorProfile": {"type": "Unconfined"}}
    spec = {"securityContext": pod_level, "containers": [container("web")]}
    finding = assert_fails_at("pss-apparmor", workload(spec), "spec." + APPARMOR)
    assert finding.message.endswith("inherited by container 'web'")
    spec = {"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}},
            "containers": [container("web", securityContext={
                "appArmorProfile": {"type": "Unconfined"}})]}
    assert_fails_at("pss-apparmor", workload(spec), "spec.containers[0]." + APPARMOR)


# -- Sysctls --------------------------------------------------------------------------

SAFE_SYSCTLS = [
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
]


def sysctls(*names: str) -> dict[str, Any]:
    return {"securityContext": {"sysctls": [{"name": name, "value": "1"} for name in names]}}


def test_sysctls_default_is_the_standards_ten() -> None:
    assert BUILTIN["pss-sysctls"].parameters["allowed_sysctls"].default == SAFE_SYSCTLS


@pytest.mark.parametrize("name", SAFE_SYSCTLS)
def test_sysctls_allowed(name: str) -> None:
    assert_passes("pss-sysctls", workload(pod_spec(POD_LEVEL, sysctls(name))))


@pytest.mark.parametrize("spec", [{}, {"securityContext": {}}, sysctls()],
                         ids=["undefined", "no-sysctls", "empty-list"])
def test_sysctls_unset(spec: dict[str, Any]) -> None:
    assert_passes("pss-sysctls", workload(pod_spec(POD_LEVEL, spec)))


@pytest.mark.parametrize("name", [
    "kernel.msgmax", "kernel.sem", "net.core.somaxconn", "vm.swappiness",
    "net.ipv4.ip_forward", "net/ipv4/tcp_syncookies",
])
def test_sysctls_forbidden(name: str) -> None:
    resources = workload(pod_spec(POD_LEVEL, sysctls(SAFE_SYSCTLS[0], name)))
    finding = assert_fails_at("pss-sysctls", resources, "spec.securityContext.sysctls[1].name")
    assert finding.message == f"sysctl '{name}' is not in the Baseline safe set"
