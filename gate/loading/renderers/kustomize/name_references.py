"""Name references: a renamed resource's new name in the fields of others that name it.

kustomize's nameref transformer (v5.5) at the end of a top-level build: after
prefixes, suffixes and content hashes changed names, each field that names a
ConfigMap, Secret, Service, ServiceAccount... follows the resource it meant.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gate.loading.renderers import FieldPath, RenderError
from gate.loading.renderers.kustomize.field_specs import (
    FieldError,
    FieldSpec,
    apply_spec,
    field_spec,
)
from gate.loading.renderers.kustomize.resources import (
    Resource,
    ResourceId,
    as_text,
    metadata_of,
    origin_text,
)
from gate.loading.renderers.kustomize.schema import field_name

# Name references: (kind, group, version) of the referred resource, and the
# fields of other resources that name it.
_POD_HOLDERS = (("Pod", "spec", "v1"), ("PodTemplate", "template/spec", None),
                ("Deployment", "spec/template/spec", None),
                ("ReplicaSet", "spec/template/spec", None),
                ("DaemonSet", "spec/template/spec", None),
                ("StatefulSet", "spec/template/spec", None),
                ("Job", "spec/template/spec", None),
                ("CronJob", "spec/jobTemplate/spec/template/spec", None))
_CONFIGMAP_PATHS = ("volumes/configMap/name", "containers/env/valueFrom/configMapKeyRef/name",
                    "initContainers/env/valueFrom/configMapKeyRef/name",
                    "containers/envFrom/configMapRef/name",
                    "initContainers/envFrom/configMapRef/name",
                    "volumes/projected/sources/configMap/name")
_SECRET_PATHS = ("volumes/secret/secretName", "containers/env/valueFrom/secretKeyRef/name",
                 "initContainers/env/valueFrom/secretKeyRef/name",
                 "containers/envFrom/secretRef/name", "initContainers/envFrom/secretRef/name",
                 "imagePullSecrets/name", "volumes/projected/sources/secret/name")
_SA_HOLDERS = (("Pod", "spec", None), ("StatefulSet", "spec/template/spec", None),
               ("Deployment", "spec/template/spec", None),
               ("ReplicationController", "spec/template/spec", None),
               ("CronJob", "spec/jobTemplate/spec/template/spec", None),
               ("Job", "spec/template/spec", None), ("DaemonSet", "spec/template/spec", None))


def _pod_refs(holders: tuple[tuple[str, str, str | None], ...],
              paths: tuple[str, ...]) -> tuple[FieldSpec, ...]:
    return tuple(field_spec(f"{prefix}/{path}", kind, version=version)
                 for kind, prefix, version in holders for path in paths)


_INGRESS_ANNOTATION = "metadata/annotations/{}"
_NAME_REFERENCES: tuple[tuple[tuple[str, str | None, str | None], tuple[FieldSpec, ...]], ...] = (
    *(((kind, None, None), (field_spec("spec/scaleTargetRef/name", "HorizontalPodAutoscaler"),))
      for kind in ("Deployment", "ReplicationController", "ReplicaSet", "StatefulSet")),
    (("ConfigMap", None, "v1"), (
        *_pod_refs(_POD_HOLDERS, _CONFIGMAP_PATHS),
        field_spec("spec/configSource/configMap", "Node"),
        field_spec("rules/resourceNames", "Role"), field_spec("rules/resourceNames", "ClusterRole"),
        field_spec(_INGRESS_ANNOTATION.format(r"nginx.ingress.kubernetes.io\/fastcgi-params-configmap"),
                   "Ingress"),
    )),
    (("Secret", None, "v1"), (
        *_pod_refs(_POD_HOLDERS, _SECRET_PATHS),
        field_spec("spec/tls/secretName", "Ingress"),
        *(field_spec(_INGRESS_ANNOTATION.format(name), "Ingress") for name in (
            r"ingress.kubernetes.io\/auth-secret", r"nginx.ingress.kubernetes.io\/auth-secret",
            r"nginx.ingress.kubernetes.io\/auth-tls-secret")),
        field_spec("imagePullSecrets/name", "ServiceAccount"),
        *(field_spec(f"parameters/{name}", "StorageClass")
          for name in ("secretName", "adminSecretName", "userSecretName", "secretRef")),
        field_spec("rules/resourceNames", "Role"), field_spec("rules/resourceNames", "ClusterRole"),
        field_spec("spec/template/spec/containers/env/valueFrom/secretKeyRef/name", "Service",
                   "serving.knative.dev", "v1"),
        field_spec("spec/azureFile/secretName", "PersistentVolume"),
    )),
    (("Service", None, "v1"), (
        field_spec("spec/serviceName", "StatefulSet", "apps"),
        field_spec("spec/rules/http/paths/backend/serviceName", "Ingress"),
        field_spec("spec/backend/serviceName", "Ingress"),
        field_spec("spec/rules/http/paths/backend/service/name", "Ingress"),
        field_spec("spec/defaultBackend/service/name", "Ingress"),
        field_spec("spec/service/name", "APIService", "apiregistration.k8s.io"),
        field_spec("webhooks/clientConfig/service", "ValidatingWebhookConfiguration",
                   "admissionregistration.k8s.io"),
        field_spec("webhooks/clientConfig/service", "MutatingWebhookConfiguration",
                   "admissionregistration.k8s.io"),
    )),
    (("Role", "rbac.authorization.k8s.io", None),
     (field_spec("roleRef/name", "RoleBinding", "rbac.authorization.k8s.io"),)),
    (("ClusterRole", "rbac.authorization.k8s.io", None),
     (field_spec("roleRef/name", "RoleBinding", "rbac.authorization.k8s.io"),
      field_spec("roleRef/name", "ClusterRoleBinding", "rbac.authorization.k8s.io"))),
    (("ServiceAccount", None, "v1"), (
        field_spec("subjects", "RoleBinding", "rbac.authorization.k8s.io"),
        field_spec("subjects", "ClusterRoleBinding", "rbac.authorization.k8s.io"),
        *_pod_refs(_SA_HOLDERS, ("serviceAccountName",)),
    )),
    (("PersistentVolumeClaim", None, "v1"),
     _pod_refs(_SA_HOLDERS, ("volumes/persistentVolumeClaim/claimName",))),
    (("PersistentVolume", None, "v1"),
     (field_spec("spec/volumeName", "PersistentVolumeClaim"),
      field_spec("rules/resourceNames", "ClusterRole"))),
    (("StorageClass", "storage.k8s.io", "v1"),
     (field_spec("spec/storageClassName", "PersistentVolume"),
      field_spec("spec/storageClassName", "PersistentVolumeClaim"),
      field_spec("spec/volumeClaimTemplates/spec/storageClassName", "StatefulSet"))),
    (("PriorityClass", "scheduling.k8s.io", "v1"),
     _pod_refs(_SA_HOLDERS, ("priorityClassName",))),
    # kustomize's configuration spells this group "networking.k8s.io/v1", so it
    # never matches: ingressClassName is never updated. Kept as kustomize has it.
    (("IngressClass", "networking.k8s.io/v1", "v1"),
     (field_spec("spec/ingressClassName", "Ingress"),)),
    (("ValidatingAdmissionPolicy", "admissionregistration.k8s.io", None),
     (field_spec("spec/policyName", "ValidatingAdmissionPolicyBinding",
                 "admissionregistration.k8s.io"),)),
)


def _ref_index() -> dict[str, list[tuple[tuple[str, str | None, str | None], FieldSpec]]]:
    index: dict[str, list[tuple[tuple[str, str | None, str | None], FieldSpec]]] = {}
    for target, specs in _NAME_REFERENCES:
        for spec in specs:
            index.setdefault(spec.kind or "", []).append((target, spec))
    return index


_REFERENCES_BY_KIND = _ref_index()


@dataclass
class _Referrer:
    """Fixes the names one resource uses to refer to others (kustomize's nameref)."""

    res: Resource
    all: list[Resource]
    target: tuple[str, str | None, str | None] = ("", None, None)
    spec: FieldSpec | None = None
    _candidates: list[Resource] | None = None

    def candidates(self) -> list[Resource]:
        if self._candidates is None:
            self._candidates = self._subset()
        return self._candidates

    def _subset(self) -> list[Resource]:
        resource_id = self.res.id()
        if resource_id.cluster_scoped():
            return list(self.all)
        bound: set[str] = set()
        if resource_id.kind == "RoleBinding":
            for subject in self.res.obj.get("subjects") or []:
                if (isinstance(subject, dict) and subject.get("kind") == "ServiceAccount"
                        and isinstance(subject.get("namespace"), str)):
                    bound.add(subject["namespace"])
        found = []
        for other in self.all:
            other_id = other.id()
            if (other_id.cluster_scoped()
                    or other_id.effective_namespace() == resource_id.effective_namespace()
                    or other_id.namespace in bound):
                found.append(other)
        return found

    def selected(self, resource_id: ResourceId, gvk: tuple[str, str | None, str | None]) -> bool:
        kind, group, version = gvk
        return (resource_id.kind == kind and (group is None or resource_id.group == group)
                and (version is None or resource_id.version == version))

    def select(self, old: str, candidates: list[Resource]) -> Resource | None:
        found = [c for c in candidates if any(i.name == old for i in c.ids())]
        found = [c for c in found if any(self.selected(i, self.target) for i in c.ids())]
        assert self.spec is not None
        if self.spec.path[-2:] == (("roleRef", False), ("name", False)):
            role_ref = self.res.obj.get("roleRef")
            if isinstance(role_ref, dict) and role_ref.get("kind"):
                gvk = (as_text(role_ref.get("kind")), as_text(role_ref.get("apiGroup")) or None,
                       None)
                found = [c for c in found if any(self.selected(i, gvk) for i in c.ids())]
        resource_id = self.res.id()
        if not resource_id.cluster_scoped():
            found = [c for c in found if c.id().cluster_scoped()
                     or c.obj.get("kind") == "ServiceAccount"
                     or c.id().effective_namespace() == resource_id.effective_namespace()]
        if len(found) == 1:
            return found[0]
        found = [c for c in found if _same_ending(c.prefixes, self.res.prefixes)
                 and _same_ending(c.suffixes, self.res.suffixes)]
        if len(found) == 1:
            return found[0]
        if not found:
            return None
        if len({as_text(metadata_of(c.obj).get("name")) for c in found}) == 1:
            return found[0]
        names = ", ".join(f"{c.id().text()} ({origin_text(c)})" for c in found)
        raise RenderError(f"{resource_id.text()} refers to {old!r}, which could be any of: {names}",
                          self.res.origin[0], self.res.origin[3])

    def new_name(self, old: Any) -> str | None:
        """The name a scalar reference should now use, or None to leave it."""
        if not isinstance(old, str):
            return None
        referral = self.select(old, self.candidates())
        return None if referral is None else as_text(metadata_of(referral.obj).get("name"))

    def set_mapping(self, node: dict[str, Any]) -> None:
        name = node.get("name")
        if not isinstance(name, str):
            return
        candidates = self.candidates()
        namespace = node.get("namespace")
        if namespace is not None:
            wanted = as_text(namespace) if namespace not in ("", "default") else "default"

            def effective(ns: str) -> str:
                return ns if ns not in ("", "default") else "default"

            by_original = [c for c in candidates
                           if effective(c.original().namespace) == wanted]
            candidates = by_original or [c for c in candidates
                                         if effective(c.id().namespace) == wanted]
            if not candidates:
                return
        referral = self.select(name, candidates)
        if referral is None:
            return
        metadata = metadata_of(referral.obj)
        node["name"] = as_text(metadata.get("name"))
        if metadata.get("namespace"):
            node["namespace"] = metadata["namespace"]

    def visit(self, parent: dict[str, Any], key: str, path: FieldPath) -> None:
        value = parent.get(key)
        if isinstance(value, dict):
            self.set_mapping(value)
        elif isinstance(value, list):
            for position, item in enumerate(value):
                if isinstance(item, dict):
                    self.set_mapping(item)
                elif (name := self.new_name(item)) is not None:
                    value[position] = name
        elif (name := self.new_name(value)) is not None:
            parent[key] = name


def _same_ending(left: list[str], right: list[str]) -> bool:
    shorter, longer = sorted((left, right), key=len)
    if not shorter:
        return not longer
    return longer[len(longer) - len(shorter):] == shorter


def fix_name_references(resources: list[Resource]) -> None:
    for res in resources:
        original = res.original()
        referrer = _Referrer(res, resources)
        for target, spec in _REFERENCES_BY_KIND.get(original.kind, []):
            if not spec.selects(original.group, original.version, original.kind):
                continue
            referrer.target, referrer.spec = target, spec
            try:
                apply_spec(res.obj, spec, referrer.visit, False)
            except FieldError as exc:
                raise RenderError(
                    f"{res.id().text()}: {field_name(exc.path)} is a scalar where kustomize "
                    f"looks for {'/'.join(name for name, _ in spec.path)} (a name reference)",
                    res.origin[0], res.origin[3]) from None
