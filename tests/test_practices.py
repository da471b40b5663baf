"""Supply-chain, network, secrets and RBAC practices of the built-in pack (issue 11).

allowed-registries, no-service-external-ips, secrets-not-in-env,
automount-service-account-token, rbac-no-wildcards and no-cluster-admin-binding:
their parameters and the odd inputs their descriptions decide, run in-process through
``load_builtin()`` and ``evaluate()``. The cases under ``gate/policies/<id>/`` are
tested by ``tests/test_builtin_policies.py`` and ``gate test``.
"""
from __future__ import annotations

from typing import Any

import pytest
import yaml

from gate.evaluation.evaluate import evaluate
from gate.evaluation.expressions import Expression
from gate.evaluation.policy import Policy
from gate.evaluation.policy_loading import load_builtin
from gate.loading.resources import Resource, read_resources
from gate.loading.sources import SourceFile
from gate.results import FAIL, PASS, SKIP, WARN, Result

BUILTIN: dict[str, Policy] = {policy.id: policy for policy in load_builtin()}
PRACTICES = [
    "allowed-registries", "no-service-external-ips", "secrets-not-in-env",
    "automount-service-account-token", "rbac-no-wildcards", "no-cluster-admin-binding",
]
DIGEST = "sha256:" + "a172cedcae47474b615c54d510a5d84a8dea3032e958587430b413538be3f333"


def resources_of(text: str) -> list[Resource]:
    entries = read_resources(SourceFile("example.yaml", text), False)
    return [entry for entry in entries if isinstance(entry, Resource)]


def run(policy_id: str, documents: Any, **params: Any) -> list[Result]:
    """Results of one built-in policy, enabled and configured with ``params``."""
    policy = BUILTIN[policy_id].configured(enabled=True, params=params or None)
    if not isinstance(documents, str):
        documents = yaml.safe_dump_all(
            documents if isinstance(documents, list) else [documents], sort_keys=False
        )
    return evaluate([policy], resources_of(documents), "info")


def findings(results: list[Result]) -> list[Result]:
    return [r for r in results if r.status in (FAIL, WARN)]


def statuses(results: list[Result]) -> list[str]:
    return [r.status for r in results]


def pod(*containers: dict[str, Any], lists: str = "containers", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {**spec, lists: list(containers)},
    }


# -- the six policies as the table of issue 11 states them -------------------------------

EXPECTED = {
    "allowed-registries": ("high", "block", False, [
        "CIS-Kubernetes:5.5.1", "NIST-800-53:CM-7", "NIST-800-53:SI-7", "NIST-800-53:SR-3",
        "PCI-DSS:6.3.2", "NSA-CISA:image-security"]),
    "no-service-external-ips": ("high", "block", True, [
        "NIST-800-53:SC-7", "PCI-DSS:1.3.1", "NSA-CISA:network-separation"]),
    "secrets-not-in-env": ("medium", "warn", True, [
        "CIS-Kubernetes:5.4.1", "NIST-800-53:SC-28", "NIST-800-53:IA-5", "PCI-DSS:8.3.2",
        "NSA-CISA:secrets"]),
    "automount-service-account-token": ("medium", "warn", True, [
        "CIS-Kubernetes:5.1.5", "CIS-Kubernetes:5.1.6", "NIST-800-53:AC-6",
        "NIST-800-53:IA-5", "PCI-DSS:7.2.2", "NSA-CISA:service-account-tokens"]),
    "rbac-no-wildcards": ("high", "block", True, [
        "CIS-Kubernetes:5.1.3", "NIST-800-53:AC-6", "NIST-800-53:AC-3", "PCI-DSS:7.2.2",
        "NSA-CISA:rbac"]),
    "no-cluster-admin-binding": ("critical", "block", True, [
        "CIS-Kubernetes:5.1.1", "NIST-800-53:AC-6", "NIST-800-53:AC-2", "PCI-DSS:7.2.2",
        "NSA-CISA:rbac"]),
}


@pytest.mark.parametrize("policy_id", PRACTICES)
def test_severity_enforcement_default_and_controls(policy_id: str) -> None:
    severity, enforcement, enabled, controls = EXPECTED[policy_id]
    policy = BUILTIN[policy_id]
    assert (policy.info.severity, policy.info.enforcement) == (severity, enforcement)
    assert policy.enabled is enabled
    assert list(policy.info.controls) == controls
    assert policy.spec.get("profile") is None  # practices, not Pod Security Standards
    assert "Differences from peers" in policy.info.description


# -- allowed-registries ------------------------------------------------------------------

APPROVED = ["registry.example.com/*", "ghcr.io/acme/*", "docker.io/library/*", "*.corp.example/*"]


@pytest.mark.parametrize(
    ("image", "allowed"),
    [
        ("registry.example.com/shop/web:1.4.2", True),
        ("registry.example.com/shop/web", True),  # no tag: the tag plays no part
        (f"registry.example.com/shop/web@{DIGEST}", True),
        ("REGISTRY.EXAMPLE.COM/shop/web:1", True),  # host names are case-insensitive
        ("ghcr.io/acme/team/nested/app:1", True),  # '*' crosses '/' in the repository
        ("nginx:1.27", True),  # docker.io/library/nginx
        ("docker.io/nginx:1.27", True),
        ("docker.io/library/nginx:1.27", True),
        ("eu.corp.example/app:1", True),
        ("registry.example.com.evil.io/shop/web:1", False),  # a look-alike host
        ("registry.example.com:5000/shop/web:1", False),  # another port, another registry
        ("evil.io/x.corp.example/app:1", False),  # the host glob does not reach the path
        ("ghcr.io/acme-evil/app:1", False),
        ("ghcr.io/acme:1", False),  # the owner itself is no repository under it
        ("bitnami/redis:7", False),  # docker.io/bitnami/redis
        ("index.docker.io/library/nginx:1.27", False),  # not rewritten to docker.io
        ("quay.io/acme/app:1", False),
    ],
)
def test_allowed_registries_globs(image: str, allowed: bool) -> None:
    results = run("allowed-registries", pod({"name": "c", "image": image}), registries=APPROVED)
    assert statuses(results) == ([PASS] if allowed else [FAIL])


def test_allowed_registries_is_opt_in_with_a_placeholder_default() -> None:
    policy = BUILTIN["allowed-registries"]
    assert policy.params["registries"] == ["registry.example.com/*"]
    resources = resources_of(yaml.safe_dump(pod({"name": "c", "image": "nginx:1.27"})))
    assert evaluate([policy], resources, "info") == []  # off until enabled
    [finding] = findings(run("allowed-registries", pod({"name": "c", "image": "nginx:1.27"})))
    assert finding.message == (
        "container 'c' image 'nginx:1.27' resolves to docker.io/library/nginx, which matches "
        "none of the approved registries (registry.example.com/*)"
    )


def test_allowed_registries_empty_list_fails_everything() -> None:
    [finding] = findings(run(
        "allowed-registries", pod({"name": "c", "image": "registry.example.com/a:1"}),
        registries=[],
    ))
    assert finding.message.endswith("(none configured)")


def test_allowed_registries_every_list_and_every_container() -> None:
    document = pod({"name": "app", "image": "quay.io/a/app:1"},
                   {"name": "ok", "image": "ghcr.io/acme/ok:1"},
                   initContainers=[{"name": "init", "image": "busybox:1.36"}],
                   ephemeralContainers=[{"name": "dbg", "image": "nicolaka/netshoot:v0.13"}])
    found = findings(run("allowed-registries", document, registries=["ghcr.io/acme/*"]))
    assert sorted(f.field or "" for f in found) == [
        "spec.containers[0].image", "spec.ephemeralContainers[0].image",
        "spec.initContainers[0].image",
    ]


def test_allowed_registries_ipv6_registry_needs_its_bracket_escaped() -> None:
    images = [{"name": "one", "image": "[::1]:5000/app:1"},
              {"name": "two", "image": "[::2]:5000/app:1"}]
    found = findings(run("allowed-registries", pod(*images), registries=["[[]::1]:5000/*"]))
    assert [f.field for f in found] == ["spec.containers[1].image"]


@pytest.mark.parametrize("image", ["$(IMAGE)", "UPPER/case:1", "", None, 42])
def test_allowed_registries_invalid_reference_fails(image: Any) -> None:
    container = {"name": "c"} if image is None else {"name": "c", "image": image}
    [finding] = findings(run("allowed-registries", pod(container), registries=["*/*"]))
    assert "has no valid image reference" in finding.message
    assert finding.field == "spec.containers[0].image"


@pytest.mark.parametrize(
    "value",
    [
        ["registry.example.com"],  # no '/': would match nothing
        ["Registry.example.com/*"],  # upper case never matches the lower-cased host
        ["/app"],  # no registry part
        ["registry.example.com/"],  # no repository part
        "registry.example.com/*",  # not a list
        ["a/*", "a/*"],
    ],
)
def test_allowed_registries_rejects_malformed_globs(value: Any) -> None:
    assert BUILTIN["allowed-registries"].parameters["registries"].validate(value) is not None


# -- no-service-external-ips --------------------------------------------------------------

def service(name: str = "s", api_version: str = "v1", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": "Service", "metadata": {"name": name},
            "spec": {"ports": [{"port": 80}], **spec}}


@pytest.mark.parametrize(
    ("spec", "status"),
    [
        ({}, PASS),
        ({"externalIPs": []}, PASS),
        ({"externalIPs": None}, PASS),
        ({"externalIPs": ["203.0.113.10"]}, FAIL),
        ({"type": "LoadBalancer", "externalIPs": ["203.0.113.10"]}, FAIL),
        ({"type": "NodePort", "externalIPs": ["2001:db8::1"]}, FAIL),
        ({"type": "ExternalName", "externalName": "db.example.com",
          "externalIPs": ["203.0.113.10"]}, FAIL),
        ({"type": "ExternalName", "externalName": "db.example.com"}, PASS),
        ({"externalIPs": "203.0.113.10"}, FAIL),  # malformed scalar
        ({"externalIPs": [""]}, FAIL),  # an entry, however odd, is set
    ],
)
def test_service_external_ips(spec: dict[str, Any], status: str) -> None:
    results = run("no-service-external-ips", service(**spec))
    assert statuses(results) == [status]
    if status == FAIL:
        assert results[0].field == "spec.externalIPs"


def test_service_external_ips_status_and_other_groups_are_not_judged() -> None:
    # status.loadBalancer.ingress is written by a controller, not applied from git.
    document = service(type="LoadBalancer")
    document["status"] = {"loadBalancer": {"ingress": [{"ip": "8.8.8.8"}]}}
    assert statuses(run("no-service-external-ips", document)) == [PASS]
    knative = service(api_version="serving.knative.dev/v1", externalIPs=["1.2.3.4"])
    assert run("no-service-external-ips", knative) == []


# -- secrets-not-in-env ---------------------------------------------------------------------

def secret_env(
    name: str, secret: str = "db", key: str = "password", **extra: Any
) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key, **extra}}}


@pytest.mark.parametrize("lists", ["containers", "initContainers", "ephemeralContainers"])
def test_secrets_in_env_every_container_list(lists: str) -> None:
    document = pod({"name": "c", "image": "a:1", "env": [secret_env("P")]}, lists=lists)
    if lists != "containers":
        document["spec"]["containers"] = [{"name": "main", "image": "a:1"}]
    [finding] = findings(run("secrets-not-in-env", document))
    assert finding.status == WARN
    assert finding.field == f"spec.{lists}[0].env[0].valueFrom.secretKeyRef"
    assert finding.message == (
        "container 'c' reads Secret keys into environment variables: P (Secret db, key password)"
    )


def test_secrets_in_env_optional_counts_null_does_not() -> None:
    optional = pod({"name": "c", "image": "a:1", "env": [secret_env("P", optional=True)]})
    assert statuses(run("secrets-not-in-env", optional)) == [WARN]
    nulls = pod({"name": "c", "image": "a:1",
                 "env": [{"name": "P", "valueFrom": {"secretKeyRef": None}}],
                 "envFrom": [{"secretRef": None, "configMapRef": {"name": "cfg"}}]})
    assert statuses(run("secrets-not-in-env", nulls)) == [PASS]


def test_secrets_env_from_points_at_the_first_secret_ref() -> None:
    document = pod({"name": "c", "image": "a:1", "envFrom": [
        {"configMapRef": {"name": "cfg"}}, {"secretRef": {"name": "one"}},
        {"prefix": "X_", "secretRef": {"name": "two"}},
    ]})
    [finding] = findings(run("secrets-not-in-env", document))
    assert finding.field == "spec.containers[0].envFrom[1].secretRef"
    assert finding.message == (
        "container 'c' imports every key of Secrets into its environment (envFrom): one, two"
    )


def test_secrets_env_shared_through_a_yaml_alias_is_found_in_each_container() -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata: {name: aliased}
spec:
  containers:
    - name: first
      image: a:1
      env: &shared
        - {name: X, value: "1"}
        - name: P
          valueFrom: {secretKeyRef: {name: db, key: password}}
    - name: second
      image: a:1
      env: *shared
"""
    found = findings(run("secrets-not-in-env", text))
    assert [(f.field, f.line) for f in found] == [
        ("spec.containers[0].env[1].valueFrom.secretKeyRef", 11),
        ("spec.containers[1].env[1].valueFrom.secretKeyRef", 11),  # the alias's target line
    ]
    assert [f.message.split("'")[1] for f in found] == ["first", "second"]


def test_secrets_env_malformed_env_does_not_pass_silently() -> None:
    # env as a mapping is malformed (the API server refuses it); a secret in it is still seen.
    document = pod({"name": "c", "image": "a:1",
                    "env": {"P": {"valueFrom": {"secretKeyRef": {"name": "db", "key": "k"}}}}})
    assert statuses(run("secrets-not-in-env", document)) == [WARN]


# -- automount-service-account-token --------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "status"),
    [(False, PASS), (True, WARN), (None, WARN), ("false", WARN), (0, WARN)],
)
def test_automount_pod_level_value(value: Any, status: str) -> None:
    spec = {} if value is None else {"automountServiceAccountToken": value}
    results = run("automount-service-account-token", pod({"name": "c", "image": "a:1"}, **spec))
    assert statuses(results) == [status]
    if status == WARN:
        assert results[0].field == "spec.automountServiceAccountToken"


def test_automount_names_the_service_account() -> None:
    named = pod({"name": "c", "image": "a:1"}, serviceAccountName="api")
    [finding] = findings(run("automount-service-account-token", named))
    assert "ServiceAccount 'api'" in finding.message
    legacy = pod({"name": "c", "image": "a:1"}, serviceAccount="old")  # deprecated field
    [finding] = findings(run("automount-service-account-token", legacy))
    assert "ServiceAccount 'old'" in finding.message


def test_automount_service_account_setting_alone_is_not_enough() -> None:
    """Only the pod's own setting is judged: the ServiceAccount is another resource."""
    documents = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "api"},
         "automountServiceAccountToken": False},
        pod({"name": "c", "image": "a:1"}, serviceAccountName="api"),
    ]
    results = run("automount-service-account-token", documents)
    assert [(r.resource.kind, r.status) for r in results] == [("Pod", WARN)]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("default", False, [PASS]),
        ("default", None, [WARN]),
        ("default", True, [WARN]),
        ("api", None, []),  # only the default ServiceAccount is judged
    ],
)
def test_automount_default_service_account(name: str, value: Any, expected: list[str]) -> None:
    account: dict[str, Any] = {"apiVersion": "v1", "kind": "ServiceAccount",
                               "metadata": {"name": name, "namespace": "shop"}}
    if value is not None:
        account["automountServiceAccountToken"] = value
    results = run("automount-service-account-token", account)
    assert statuses(results) == expected
    if expected == [WARN]:
        assert results[0].field == "automountServiceAccountToken"


def test_automount_rollout_without_a_template_is_not_judged() -> None:
    reference = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "w"}
    rollout = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "r"},
               "spec": {"workloadRef": reference}}
    assert run("automount-service-account-token", rollout) == []


# -- rbac-no-wildcards ---------------------------------------------------------------------

def role(*rules: Any, kind: str = "ClusterRole", **extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
                                "metadata": {"name": "r"}, **extra}
    if rules != (None,):
        document["rules"] = list(rules)
    return document


@pytest.mark.parametrize(
    ("rule", "fields"),
    [
        ({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}, []),
        ({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "*"]}, ["rules[0].verbs[1]"]),
        ({"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"]},
         ["rules[0].apiGroups[0]"]),
        ({"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}, ["rules[0].resources[0]"]),
        ({"apiGroups": ["apps"], "resources": ["deployments", "*/scale"], "verbs": ["get"]},
         ["rules[0].resources[1]"]),
        ({"apiGroups": [""], "resources": ["*/*"], "verbs": ["get"]}, ["rules[0].resources[0]"]),
        # Literals the authorizer compares exactly: no wildcard.
        ({"apiGroups": ["*.example.com"], "resources": ["pods/*"], "verbs": ["get*"]}, []),
        ({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["*"],
          "verbs": ["get"]}, []),
        ({"nonResourceURLs": ["*"], "verbs": ["get"]}, ["rules[0].nonResourceURLs[0]"]),
        ({"nonResourceURLs": ["/healthz", "/*"], "verbs": ["get"]},
         ["rules[0].nonResourceURLs[1]"]),
        ({"nonResourceURLs": ["/**"], "verbs": ["get"]}, ["rules[0].nonResourceURLs[0]"]),
        ({"nonResourceURLs": ["/healthz/*", "/apis/*"], "verbs": ["get"]}, []),
        ({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
         ["rules[0].apiGroups[0]", "rules[0].resources[0]", "rules[0].verbs[0]"]),
        ({"apiGroups": [""], "resources": ["pods"], "verbs": "*"}, ["rules[0].verbs[0]"]),
        ({"apiGroups": [""], "resources": [1, None, "*"], "verbs": ["get"]},
         ["rules[0].resources[2]"]),
    ],
)
def test_rbac_wildcards(rule: dict[str, Any], fields: list[str]) -> None:
    results = run("rbac-no-wildcards", role(rule))
    assert [r.field for r in findings(results)] == fields
    assert all("could not be evaluated" not in r.message for r in results)
    assert statuses(results) == ([FAIL] * len(fields) or [PASS])


def test_rbac_one_finding_per_list_of_each_rule() -> None:
    results = run("rbac-no-wildcards", role(
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["*", "*"]},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["*"]},
        kind="Role", metadata={"name": "r", "namespace": "shop"},
    ))
    assert [(r.field, r.message) for r in findings(results)] == [
        ("rules[0].verbs[0]",
         "Role 'r' grants every verb ('*') on pods in rules[0], including verbs added later"),
        ("rules[1].verbs[0]",
         "Role 'r' grants every verb ('*') on secrets in rules[1], including verbs added later"),
    ]


@pytest.mark.parametrize(
    "document",
    [
        role(None),
        role(),
        role(None, aggregationRule={"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]}),
        role(aggregationRule={"clusterRoleSelectors": []}),
    ],
    ids=["no-rules", "empty-rules", "aggregated", "aggregated-empty-rules"],
)
def test_rbac_roles_without_rules_pass(document: dict[str, Any]) -> None:
    assert statuses(run("rbac-no-wildcards", document)) == [PASS]


def test_rbac_aggregated_role_with_written_rules_is_judged() -> None:
    document = role({"apiGroups": [""], "resources": ["secrets"], "verbs": ["*"]},
                    aggregationRule={"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]})
    assert statuses(run("rbac-no-wildcards", document)) == [FAIL]


def test_rbac_only_rbac_roles() -> None:
    other = role({"verbs": ["*"]})
    other["apiVersion"] = "iam.example.com/v1"
    assert run("rbac-no-wildcards", other) == []
    beta = role({"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"]})
    beta["apiVersion"] = "rbac.authorization.k8s.io/v1beta1"
    assert statuses(run("rbac-no-wildcards", beta)) == [FAIL]


# -- no-cluster-admin-binding --------------------------------------------------------------

def binding(kind: str = "ClusterRoleBinding", role_kind: str = "ClusterRole",
            role_name: str = "cluster-admin", subjects: Any = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
        "metadata": {"name": "b", "namespace": "shop"} if kind == "RoleBinding" else {"name": "b"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
    }
    if subjects is not None:
        document["subjects"] = subjects
    return document


@pytest.mark.parametrize(
    ("document", "params", "status"),
    [
        (binding(), {}, FAIL),
        (binding("RoleBinding"), {}, FAIL),
        (binding("RoleBinding", role_kind="Role"), {}, PASS),  # a namespaced Role so named
        (binding(role_name="admin"), {}, PASS),
        (binding(role_name="admin"), {"roles": ["cluster-admin", "admin"]}, FAIL),
        (binding(role_name="platform-admin"), {"roles": ["*-admin"]}, FAIL),
        (binding(), {"roles": ["*-admin"]}, FAIL),  # the glob matches cluster-admin too
        (binding(), {"roles": ["tenant-admin"]}, PASS),  # the list replaces the default
    ],
)
def test_cluster_admin_binding(
    document: dict[str, Any], params: dict[str, Any], status: str
) -> None:
    results = run("no-cluster-admin-binding", document, **params)
    assert statuses(results) == [status]
    if status == FAIL:
        assert results[0].field == "roleRef.name"


def test_cluster_admin_binding_names_its_subjects() -> None:
    subjects = [{"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"},
                {"kind": "Group", "name": "ops", "apiGroup": "rbac.authorization.k8s.io"},
                {"kind": "User", "name": "alice"}]
    [finding] = findings(run("no-cluster-admin-binding", binding(subjects=subjects)))
    assert finding.message == (
        "ClusterRoleBinding 'b' grants the ClusterRole 'cluster-admin' to "
        "ServiceAccount ci/deployer, Group ops, User alice"
    )
    [finding] = findings(run("no-cluster-admin-binding", binding(subjects=[])))
    assert finding.message.endswith("to no subject yet")


def test_cluster_admin_binding_system_names_are_not_exempt() -> None:
    document = binding(subjects=[{"kind": "Group", "name": "system:masters"}])
    document["metadata"]["name"] = "system:anything"
    assert statuses(run("no-cluster-admin-binding", document)) == [FAIL]


@pytest.mark.parametrize("value", [[], [""], "cluster-admin", ["a", "a"]])
def test_cluster_admin_binding_rejects_malformed_roles(value: Any) -> None:
    assert BUILTIN["no-cluster-admin-binding"].parameters["roles"].validate(value) is not None


# -- entries() over arrays, which the RBAC and Secret policies use for positions ---------------

@pytest.mark.parametrize(
    ("expression", "value", "expected"),
    [
        ("entries(@)", ["a", "*"], [{"key": 0, "value": "a"}, {"key": 1, "value": "*"}]),
        ("entries(@)[?value == '*'].key", ["get", "*", "*"], [1, 2]),
        ("entries(@)", [], []),
        ("entries(@)", {"k": 1}, [{"key": "k", "value": 1}]),
        ("entries(@)", "text", None),
        ("entries(@)", None, None),
    ],
)
def test_entries_of_arrays_give_positions(expression: str, value: Any, expected: Any) -> None:
    assert Expression(expression).search(value) == expected


def test_every_practice_policy_has_its_gate_test_file() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "gate" / "policies"
    for policy_id in PRACTICES:
        assert (root / policy_id / f"{policy_id}.test.yaml").is_file()


def test_skip_is_never_the_verdict_of_a_pod_policy_here() -> None:
    """A pod with nothing to report passes (it is not 'nothing to check')."""
    plain = pod({"name": "c", "image": "registry.example.com/a:1"},
                automountServiceAccountToken=False)
    pod_policies = ("allowed-registries", "secrets-not-in-env", "automount-service-account-token")
    for policy_id in pod_policies:
        assert statuses(run(policy_id, plain)) == [PASS], policy_id
    assert SKIP not in statuses(run("rbac-no-wildcards", role()))
