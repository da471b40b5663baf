"""Kustomize: render an overlay the way ``kubectl kustomize`` (kustomize v5.5) does.

The built-in renderer reads every file through a :class:`~gate.trees.FileTree`
(so a git revision renders without a checkout) and records, for each rendered
resource, the document it started from and which kustomization or patch line
last set each field it changed (provenance). What it does not implement is an
error naming the field, never a silently different rendering; docs/kustomize.md
lists what is supported. ``render(..., mode="binary")`` runs a real kustomize
(see :mod:`gate.renderers.kustomize_binary`).

The order of work follows kustomize: ``resources`` (then ``bases``), then
``components``, generators, and the transformers (patchesStrategicMerge,
patches, namespace, namePrefix, nameSuffix, labels and commonLabels,
commonAnnotations, patchesJson6902, replicas, images, then replacements and the
transformers: plugin configs; see kustomize_transformers); at the top level only,
content-hash suffixes, name references and the output order.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import json
import posixpath
import re
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from yaml.nodes import Node, ScalarNode

from gate.limits import (
    MAX_GENERATOR_BYTES,
    MAX_GENERATOR_KEYS,
    MAX_RENDER_WORK,
    MAX_RENDERED_RESOURCES,
    MAX_REPLICAS,
)
from gate.renderers import FieldPath, RenderedResource, RenderError, Rendering
from gate.renderers.kustomize_patch import (
    PatchError,
    Provenance,
    Where,
    apply_json6902,
    clone,
    json_patch_ops,
    strategic_merge,
)
from gate.trees import LFS_POINTER, FileTree, TreePathError, is_lfs_pointer, normalize
from gate.yamlio import ParsedDocument, YamlInputError, decode, line_of_path, load_documents

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
MODES = ("builtin", "binary", "auto")

# =============================================================================
# What kustomize knows about Kubernetes (its built-in configuration, v5.5)
# =============================================================================

# Kinds that are cluster-scoped in the Kubernetes 1.21 OpenAPI data kustomize
# embeds, by apiVersion (other versions of these kinds count as namespaced).
_CLUSTER_SCOPED = frozenset(
    [("v1", kind) for kind in ("Namespace", "Node", "PersistentVolume", "ComponentStatus")]
    + [
        (f"{group}/{version}", kind)
        for group, versions, kinds in (
            ("admissionregistration.k8s.io", ("v1", "v1beta1"),
             ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")),
            ("apiextensions.k8s.io", ("v1", "v1beta1"), ("CustomResourceDefinition",)),
            ("apiregistration.k8s.io", ("v1", "v1beta1"), ("APIService",)),
            ("certificates.k8s.io", ("v1", "v1beta1"), ("CertificateSigningRequest",)),
            ("flowcontrol.apiserver.k8s.io", ("v1beta1",),
             ("FlowSchema", "PriorityLevelConfiguration")),
            ("networking.k8s.io", ("v1", "v1beta1"), ("IngressClass",)),
            ("node.k8s.io", ("v1", "v1beta1"), ("RuntimeClass",)),
            ("policy", ("v1beta1",), ("PodSecurityPolicy",)),
            ("rbac.authorization.k8s.io", ("v1", "v1beta1"),
             ("ClusterRole", "ClusterRoleBinding")),
            ("scheduling.k8s.io", ("v1", "v1beta1"), ("PriorityClass",)),
            ("storage.k8s.io", ("v1", "v1beta1"),
             ("StorageClass", "VolumeAttachment", "CSIDriver", "CSINode")),
        )
        for version in versions
        for kind in kinds
    ]
)


class _FieldSpec(NamedTuple):
    """Where a transformer writes: a path, for the kinds it selects."""

    path: tuple[tuple[str, bool], ...]  # (field name, marked "[]" as a list)
    group: str | None = None
    version: str | None = None
    kind: str | None = None
    create: bool = False

    def selects(self, group: str, version: str, kind: str) -> bool:
        return ((self.group is None or self.group == group)
                and (self.version is None or self.version == version)
                and (self.kind is None or self.kind == kind))


def _split_path(text: str) -> tuple[tuple[str, bool], ...]:
    parts = re.split(r"(?<!\\)/", text)
    return tuple(
        (part[:-2] if part.endswith("[]") else part, part.endswith("[]"))
        for part in (p.replace("\\/", "/") for p in parts)
    )


def _fs(path: str, kind: str | None = None, group: str | None = None,
        version: str | None = None, create: bool = False) -> _FieldSpec:
    return _FieldSpec(_split_path(path), group, version, kind, create)


_TEMPLATE_LABELS = (
    _fs("metadata/labels", create=True),
    _fs("spec/template/metadata/labels", "ReplicationController", version="v1", create=True),
    _fs("spec/template/metadata/labels", "Deployment", create=True),
    _fs("spec/template/metadata/labels", "ReplicaSet", create=True),
    _fs("spec/template/metadata/labels", "DaemonSet", create=True),
    _fs("spec/template/metadata/labels", "StatefulSet", "apps", create=True),
    _fs("spec/volumeClaimTemplates[]/metadata/labels", "StatefulSet", "apps", create=True),
    _fs("spec/template/metadata/labels", "Job", "batch", create=True),
    _fs("spec/jobTemplate/metadata/labels", "CronJob", "batch", create=True),
    _fs("spec/jobTemplate/spec/template/metadata/labels", "CronJob", "batch", create=True),
)
_AFFINITY_SELECTORS = (
    *(f"spec/template/spec/affinity/{kind}/{term}/labelSelector/matchLabels"
      for kind in ("podAffinity", "podAntiAffinity")
      for term in ("preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm",
                   "requiredDuringSchedulingIgnoredDuringExecution")),
    "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
)
_COMMON_LABELS = (
    _fs("spec/selector", "Service", version="v1", create=True),
    _fs("spec/selector", "ReplicationController", version="v1", create=True),
    _fs("spec/selector/matchLabels", "Deployment", create=True),
    *(_fs(path, "Deployment", "apps") for path in _AFFINITY_SELECTORS),
    _fs("spec/selector/matchLabels", "ReplicaSet", create=True),
    _fs("spec/selector/matchLabels", "DaemonSet", create=True),
    _fs("spec/selector/matchLabels", "StatefulSet", "apps", create=True),
    *(_fs(path, "StatefulSet", "apps") for path in _AFFINITY_SELECTORS),
    _fs("spec/selector/matchLabels", "Job", "batch"),
    _fs("spec/jobTemplate/spec/selector/matchLabels", "CronJob", "batch"),
    _fs("spec/selector/matchLabels", "PodDisruptionBudget", "policy"),
    _fs("spec/podSelector/matchLabels", "NetworkPolicy", "networking.k8s.io"),
    _fs("spec/ingress/from/podSelector/matchLabels", "NetworkPolicy", "networking.k8s.io"),
    _fs("spec/egress/to/podSelector/matchLabels", "NetworkPolicy", "networking.k8s.io"),
    *_TEMPLATE_LABELS,
)
_METADATA_LABELS = (_fs("metadata/labels", create=True),)
_COMMON_ANNOTATIONS = (
    _fs("metadata/annotations", create=True),
    _fs("spec/template/metadata/annotations", "ReplicationController", version="v1",
        create=True),
    *(_fs("spec/template/metadata/annotations", kind, create=True)
      for kind in ("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet")),
    _fs("spec/template/metadata/annotations", "Job", "batch", create=True),
    _fs("spec/jobTemplate/metadata/annotations", "CronJob", "batch", create=True),
    _fs("spec/jobTemplate/spec/template/metadata/annotations", "CronJob", "batch", create=True),
)
_NAMESPACE_FIELDS = (
    _fs("spec/service/namespace", "APIService", "apiregistration.k8s.io", create=True),
    _fs("spec/conversion/webhook/clientConfig/service/namespace", "CustomResourceDefinition",
        "apiextensions.k8s.io"),
)
_IMAGE_FIELDS = tuple(
    _fs(path) for path in ("spec/containers[]/image", "spec/initContainers[]/image",
                           "spec/template/spec/containers[]/image",
                           "spec/template/spec/initContainers[]/image")
)
_REPLICA_KINDS = ("Deployment", "ReplicationController", "ReplicaSet", "StatefulSet")
# namePrefix/nameSuffix leave these alone (by kind, and group where given).
_NO_PREFIX = (("", "CustomResourceDefinition"), ("apiregistration.k8s.io", "APIService"),
              ("", "Namespace"))

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
              paths: tuple[str, ...]) -> tuple[_FieldSpec, ...]:
    return tuple(_fs(f"{prefix}/{path}", kind, version=version)
                 for kind, prefix, version in holders for path in paths)


_INGRESS_ANNOTATION = "metadata/annotations/{}"
_NAME_REFERENCES: tuple[tuple[tuple[str, str | None, str | None], tuple[_FieldSpec, ...]], ...] = (
    *(((kind, None, None), (_fs("spec/scaleTargetRef/name", "HorizontalPodAutoscaler"),))
      for kind in ("Deployment", "ReplicationController", "ReplicaSet", "StatefulSet")),
    (("ConfigMap", None, "v1"), (
        *_pod_refs(_POD_HOLDERS, _CONFIGMAP_PATHS),
        _fs("spec/configSource/configMap", "Node"),
        _fs("rules/resourceNames", "Role"), _fs("rules/resourceNames", "ClusterRole"),
        _fs(_INGRESS_ANNOTATION.format(r"nginx.ingress.kubernetes.io\/fastcgi-params-configmap"),
            "Ingress"),
    )),
    (("Secret", None, "v1"), (
        *_pod_refs(_POD_HOLDERS, _SECRET_PATHS),
        _fs("spec/tls/secretName", "Ingress"),
        *(_fs(_INGRESS_ANNOTATION.format(name), "Ingress") for name in (
            r"ingress.kubernetes.io\/auth-secret", r"nginx.ingress.kubernetes.io\/auth-secret",
            r"nginx.ingress.kubernetes.io\/auth-tls-secret")),
        _fs("imagePullSecrets/name", "ServiceAccount"),
        *(_fs(f"parameters/{name}", "StorageClass")
          for name in ("secretName", "adminSecretName", "userSecretName", "secretRef")),
        _fs("rules/resourceNames", "Role"), _fs("rules/resourceNames", "ClusterRole"),
        _fs("spec/template/spec/containers/env/valueFrom/secretKeyRef/name", "Service",
            "serving.knative.dev", "v1"),
        _fs("spec/azureFile/secretName", "PersistentVolume"),
    )),
    (("Service", None, "v1"), (
        _fs("spec/serviceName", "StatefulSet", "apps"),
        _fs("spec/rules/http/paths/backend/serviceName", "Ingress"),
        _fs("spec/backend/serviceName", "Ingress"),
        _fs("spec/rules/http/paths/backend/service/name", "Ingress"),
        _fs("spec/defaultBackend/service/name", "Ingress"),
        _fs("spec/service/name", "APIService", "apiregistration.k8s.io"),
        _fs("webhooks/clientConfig/service", "ValidatingWebhookConfiguration",
            "admissionregistration.k8s.io"),
        _fs("webhooks/clientConfig/service", "MutatingWebhookConfiguration",
            "admissionregistration.k8s.io"),
    )),
    (("Role", "rbac.authorization.k8s.io", None),
     (_fs("roleRef/name", "RoleBinding", "rbac.authorization.k8s.io"),)),
    (("ClusterRole", "rbac.authorization.k8s.io", None),
     (_fs("roleRef/name", "RoleBinding", "rbac.authorization.k8s.io"),
      _fs("roleRef/name", "ClusterRoleBinding", "rbac.authorization.k8s.io"))),
    (("ServiceAccount", None, "v1"), (
        _fs("subjects", "RoleBinding", "rbac.authorization.k8s.io"),
        _fs("subjects", "ClusterRoleBinding", "rbac.authorization.k8s.io"),
        *_pod_refs(_SA_HOLDERS, ("serviceAccountName",)),
    )),
    (("PersistentVolumeClaim", None, "v1"),
     _pod_refs(_SA_HOLDERS, ("volumes/persistentVolumeClaim/claimName",))),
    (("PersistentVolume", None, "v1"),
     (_fs("spec/volumeName", "PersistentVolumeClaim"),
      _fs("rules/resourceNames", "ClusterRole"))),
    (("StorageClass", "storage.k8s.io", "v1"),
     (_fs("spec/storageClassName", "PersistentVolume"),
      _fs("spec/storageClassName", "PersistentVolumeClaim"),
      _fs("spec/volumeClaimTemplates/spec/storageClassName", "StatefulSet"))),
    (("PriorityClass", "scheduling.k8s.io", "v1"),
     _pod_refs(_SA_HOLDERS, ("priorityClassName",))),
    # kustomize's configuration spells this group "networking.k8s.io/v1", so it
    # never matches: ingressClassName is never updated. Kept as kustomize has it.
    (("IngressClass", "networking.k8s.io/v1", "v1"),
     (_fs("spec/ingressClassName", "Ingress"),)),
    (("ValidatingAdmissionPolicy", "admissionregistration.k8s.io", None),
     (_fs("spec/policyName", "ValidatingAdmissionPolicyBinding",
          "admissionregistration.k8s.io"),)),
)

# kustomize's "legacy" output order: these kinds first (in this order), these last.
_ORDER_FIRST = (
    "Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount",
    "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding",
    "ConfigMap", "Secret", "Endpoints", "Service", "LimitRange", "PriorityClass",
    "PersistentVolume", "PersistentVolumeClaim", "Deployment", "StatefulSet", "CronJob",
    "PodDisruptionBudget",
)
_ORDER_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")

# =============================================================================
# Kustomization files: which fields, of what shape
# =============================================================================

# A field's expected shape: "str", "bool", "int", "str map", "any", [shape] for a
# list of that shape, or a dict of the keys a mapping may have.
Shape = Any
_SELECTOR: Shape = {key: "str" for key in (
    "group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector")}
_PATCH_TARGET: Shape = {key: "str" for key in ("group", "version", "kind", "name", "namespace")}
_GEN_OPTIONS: Shape = {"labels": "str map", "annotations": "str map",
                       "disableNameSuffixHash": "bool", "immutable": "bool"}
_GENERATOR: Shape = {"name": "str", "namespace": "str", "behavior": "str", "files": ["str"],
                     "literals": ["str"], "envs": ["str"], "env": "str",
                     "options": _GEN_OPTIONS}
_FIELD_SPEC_SHAPE: Shape = {"path": "str", "group": "str", "version": "str", "kind": "str",
                            "create": "bool"}
_KUSTOMIZATION: dict[str, Shape] = {
    "apiVersion": "str", "kind": "str", "metadata": "any",
    "resources": ["str"], "bases": ["str"], "components": ["str"],
    "namespace": "str", "namePrefix": "str", "nameSuffix": "str",
    "commonLabels": "str map", "commonAnnotations": "str map",
    "labels": [{"pairs": "str map", "includeSelectors": "bool", "includeTemplates": "bool",
                "fields": [_FIELD_SPEC_SHAPE]}],
    "images": [{key: "str" for key in ("name", "newName", "newTag", "digest", "tagSuffix")}],
    "replicas": [{"name": "str", "count": "int"}],
    "patches": [{"path": "str", "patch": "str", "target": _SELECTOR,
                 "options": {"allowNameChange": "bool", "allowKindChange": "bool"}}],
    "patchesStrategicMerge": ["str"],
    "patchesJson6902": [{"path": "str", "patch": "str", "target": _PATCH_TARGET}],
    "configMapGenerator": [_GENERATOR],
    "secretGenerator": [{**_GENERATOR, "type": "str"}],
    "generatorOptions": _GEN_OPTIONS,
    "sortOptions": {"order": "str",
                    "legacySortOptions": {"orderFirst": ["str"], "orderLast": ["str"]}},
    "buildMetadata": ["str"],
    # builtin plugin configs (kustomize_transformers) and replacements (kustomize_replacements)
    "transformers": ["str"], "generators": ["str"], "replacements": ["any"],
}
# Fields kustomize has that the built-in renderer does not implement.
_UNSUPPORTED = {
    "helmCharts": "Helm chart inflation", "helmGlobals": "Helm chart inflation",
    "helmChartInflationGenerator": "Helm chart inflation",
    "vars": "vars", "validators": "validator plugins",
    "openapi": "custom OpenAPI schemas", "crds": "CRD field specs",
    "configurations": "custom transformer configurations",
    "imageTags": "the deprecated imageTags field (use images)",
}
_SHAPE_NAMES = {"str": "a string", "bool": "true or false", "int": "an integer",
                "str map": "a map of strings"}
_REMOTE = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://|git@|git::|(?:github\.com|gitlab\.com|bitbucket\.org)/)"
    r"|[?&]ref=|\.git(?:/|$|\?)", re.IGNORECASE)
_HOST = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?/", re.IGNORECASE)


def is_remote(entry: str) -> bool:
    """Whether a reference names something outside the tree (a URL, a git repository)."""
    return _REMOTE.search(entry) is not None


def _describe(shape: Shape) -> str:
    if isinstance(shape, list):
        return "a list of strings" if shape == ["str"] else "a list of mappings"
    if isinstance(shape, dict):
        return "a mapping"
    return _SHAPE_NAMES.get(shape, "a value")


def _shape_error(value: Any, shape: Shape, path: FieldPath) -> tuple[str, FieldPath] | None:
    """Why ``value`` does not have ``shape`` (null is always fine), and where."""
    if value is None or shape == "any":
        return None
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"must be {_describe(shape)}", path
        for index, item in enumerate(value):
            if item is None and shape == ["str"]:
                return f"must be {_describe(shape)}", (*path, index)
            problem = _shape_error(item, shape[0], (*path, index))
            if problem is not None:
                return problem
        return None
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return "must be a mapping", path
        for key, item in value.items():
            if key not in shape:
                return f"unknown field {key!r}", (*path, key)
            problem = _shape_error(item, shape[key], (*path, key))
            if problem is not None:
                return problem
        return None
    if shape == "str map":
        if not isinstance(value, dict):
            return "must be a map of strings", path
        for key, item in value.items():
            if not isinstance(key, str) or not isinstance(item, str):
                return "must be a map of strings (quote numbers and booleans)", (*path, key)
        return None
    expected = {"str": str, "bool": bool, "int": int}[shape]
    if not isinstance(value, expected) or (shape == "int" and isinstance(value, bool)):
        return f"must be {_SHAPE_NAMES[shape]}", path
    return None


def _get_path(data: Any, path: FieldPath) -> Any:
    for part in path:
        data = data[part]
    return data


def field_name(path: FieldPath) -> str:
    """``resources[2]``, ``helmCharts[0].repo``: a field path as messages name it."""
    return _field_name(path)


def _field_name(path: FieldPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# =============================================================================
# Reading files (through the tree, parsed once, shared between renders)
# =============================================================================

@dataclass(frozen=True)
class _Parsed:
    raw: bytes
    documents: tuple[ParsedDocument, ...]


# Parsed files per tree, validated by their bytes: a base shared by many overlays
# is parsed once per run. The parsed data is never mutated (resources are cloned).
_CACHE: weakref.WeakKeyDictionary[Any, dict[str, _Parsed]] = weakref.WeakKeyDictionary()
_CACHE_LIMIT = 2048


class _Files:
    """Reads tree files for one render, recording each as an input."""

    def __init__(self, tree: FileTree) -> None:
        self.tree = tree
        self.inputs: set[str] = set()
        try:
            self._shared = _CACHE.setdefault(tree, {})
        except TypeError:  # a tree that cannot be weakly referenced: no sharing
            self._shared = {}

    def read(self, path: str, blame: str, line: int | None) -> bytes:
        self.inputs.add(path)
        try:
            return self.tree.read_bytes(path)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise RenderError(f"{path}: no such file", blame, line) from None
        except OSError as exc:
            raise RenderError(f"{path}: cannot read: {exc.strerror}", blame, line) from None

    def documents(self, path: str, blame: str, line: int | None) -> tuple[ParsedDocument, ...]:
        raw = self.read(path, blame, line)
        if is_lfs_pointer(raw):  # YAML it is, and no Kubernetes object: say what it is
            raise RenderError(f"{path}: {LFS_POINTER}", blame, line)
        cached = self._shared.get(path)
        if cached is not None and cached.raw == raw:
            return cached.documents
        documents = tuple(_parse(raw, path))
        if len(self._shared) >= _CACHE_LIMIT:
            self._shared.clear()
        self._shared[path] = _Parsed(raw, documents)
        return documents


def _parse(raw: bytes, name: str) -> list[ParsedDocument]:
    try:
        return list(load_documents(decode(raw, name), name))
    except YamlInputError as exc:
        raise RenderError(exc.message, exc.file or name, exc.line) from None


# =============================================================================
# Kustomizations
# =============================================================================

@dataclass
class _Kustomization:
    file: str  # tree path of the kustomization file
    directory: str
    data: dict[str, Any]
    node: Node

    @property
    def is_component(self) -> bool:
        return self.data.get("kind") == "Component"

    def line(self, *path: str | int) -> int:
        return line_of_path(self.node, path)

    def error(self, message: str, *path: str | int) -> RenderError:
        return RenderError(message, self.file, self.line(*path))

    def get(self, name: str) -> Any:
        return self.data.get(name)

    def items(self, name: str) -> list[tuple[int, Any]]:
        """The entries of a list field (validated), with their indices."""
        value = self.data.get(name) or []
        return [(index, item) for index, item in enumerate(value) if item is not None]

    def where(self, *path: str | int) -> Where:
        return self.file, self.line(*path)


def kustomization_file(tree: FileTree, directory: str) -> str | None:
    """Tree path of the kustomization file of ``directory``, or None."""
    for name in KUSTOMIZATION_FILES:
        path = f"{directory}/{name}" if directory else name
        if tree.is_file(path):
            return path
    return None


def _load_kustomization(files: _Files, directory: str, blame: str | None = None,
                        line: int | None = None) -> _Kustomization:
    found = [
        path for name in KUSTOMIZATION_FILES
        if files.tree.is_file(path := f"{directory}/{name}" if directory else name)
    ]
    if not found:
        raise RenderError(
            f"no kustomization ({', '.join(KUSTOMIZATION_FILES)}) in "
            f"{directory or 'the repository root'}", blame or directory or ".", line)
    if len(found) > 1:
        raise RenderError(f"more than one kustomization file: {', '.join(found)}", found[0])
    path = found[0]
    documents = [d for d in files.documents(path, blame or path, line) if d.data is not None]
    if not documents:
        raise RenderError("the kustomization is empty", path)
    if len(documents) > 1:
        raise RenderError("a kustomization must be a single YAML document", path,
                          documents[1].line)
    document = documents[0]
    if not isinstance(document.data, dict):
        raise RenderError(
            f"a kustomization must be a mapping, not a {type(document.data).__name__}",
            path, document.line)
    kustomization = _Kustomization(path, directory, document.data, document.node)
    _validate(kustomization)
    return kustomization


def _validate(k: _Kustomization) -> None:
    for key, value in k.data.items():
        if key in _UNSUPPORTED:
            if value in (None, [], {}):
                continue
            raise k.error(f"{key}: {_UNSUPPORTED[key]} is not supported by gate's built-in "
                          "Kustomize renderer (use --kustomize=binary)", key)
        if key not in _KUSTOMIZATION:
            raise k.error(f"unknown kustomization field {key!r}", key)
        problem = _shape_error(value, _KUSTOMIZATION[key], (key,))
        if problem is not None:
            message, path = problem
            shown = path[:-1] if message.startswith("unknown field") else path
            raise k.error(f"{_field_name(shown)}: {message}", *path)
    kind = k.get("kind")
    if kind not in (None, "Kustomization", "Component"):
        raise k.error("kind: must be Kustomization or Component", "kind")
    expected = ("kustomize.config.k8s.io/v1alpha1" if kind == "Component"
                else "kustomize.config.k8s.io/v1beta1")
    if k.get("apiVersion") not in (None, expected):
        raise k.error(f"apiVersion: must be {expected} for a {kind or 'Kustomization'}",
                      "apiVersion")
    if k.get("buildMetadata"):
        raise k.error("buildMetadata: origin and transformer annotations are not supported "
                      "by gate's built-in Kustomize renderer", "buildMetadata")
    order = (k.get("sortOptions") or {}).get("order")
    if order not in (None, "legacy", "fifo"):
        raise k.error("sortOptions.order: must be legacy or fifo", "sortOptions", "order")


# =============================================================================
# Resources being rendered
# =============================================================================

class _Id(NamedTuple):
    group: str
    version: str
    kind: str
    name: str
    namespace: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def cluster_scoped(self) -> bool:
        return (self.api_version, self.kind) in _CLUSTER_SCOPED

    def effective_namespace(self) -> str:
        if self.cluster_scoped():
            return "_non_namespaceable_"
        return self.namespace if self.namespace not in ("", "default") else "default"

    def same(self, other: _Id) -> bool:
        return (self[:4] == other[:4]
                and self.effective_namespace() == other.effective_namespace())

    def text(self) -> str:
        namespace = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {namespace}{self.name}"


def _str(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _split_api_version(api_version: Any) -> tuple[str, str]:
    text = _str(api_version)
    group, slash, version = text.rpartition("/")
    return (group, version) if slash else ("", text)


def _metadata(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        metadata = obj["metadata"] = {}
    return metadata


def _id_of(obj: dict[str, Any]) -> _Id:
    group, version = _split_api_version(obj.get("apiVersion"))
    metadata = obj.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    return _Id(group, version, _str(obj.get("kind")), _str(metadata.get("name")),
               _str(metadata.get("namespace")))


@dataclass(eq=False)
class _Res:
    """A resource in the making, with what kustomize remembers about it."""

    obj: dict[str, Any]
    origin: tuple[str, int, FieldPath, int]  # file, document, path in document, line
    provenance: Provenance = field(default_factory=Provenance)
    previous: list[_Id] = field(default_factory=list)  # earlier ids, oldest first
    prefixes: list[str] = field(default_factory=list)
    suffixes: list[str] = field(default_factory=list)
    hashed: bool = False  # a generated ConfigMap/Secret that gets a content-hash suffix

    def id(self) -> _Id:
        return _id_of(self.obj)

    def original(self) -> _Id:
        return self.previous[0] if self.previous else self.id()

    def ids(self) -> list[_Id]:
        return [*self.previous, self.id()]

    def remember(self) -> None:
        self.previous.append(self.id())

    def set(self, path: FieldPath, where: Where) -> None:
        self.provenance.set(path, where)


def _append(ra: list[_Res], new: list[_Res], blame: str, line: int | None,
            seen: dict[tuple[str, str, str, str, str], _Res] | None = None) -> None:
    """Add resources; an id already present is an error (as in kustomize).

    ``seen``, the ids of ``ra`` kept by a caller that appends many times, saves building
    it anew each time (thousands of ``resources`` entries would cost quadratic time)."""
    if len(ra) + len(new) > MAX_RENDERED_RESOURCES:
        # Bases included through several overlays multiply: each level may double.
        raise RenderError(f"the kustomization renders more than {MAX_RENDERED_RESOURCES:,} "
                          "resources (gate's limit)", blame, line)
    if seen is None:
        seen = {_key(r.id()): r for r in ra}
    for res in new:
        key = _key(res.id())
        if key in seen:
            raise RenderError(
                f"{res.id().text()} ({_origin_text(res)}) is already in the resources "
                f"(from {_origin_text(seen[key])}); kustomize refuses duplicate ids",
                blame, line)
        seen[key] = res
        ra.append(res)


def _key(rid: _Id) -> tuple[str, str, str, str, str]:
    return (*rid[:4], rid.effective_namespace())


def _origin_text(res: _Res) -> str:
    return f"{res.origin[0]}:{res.origin[3]}"


def _check_unique(ra: list[_Res], blame: str, line: int | None, what: str) -> None:
    seen: dict[tuple[str, str, str, str, str], _Res] = {}
    for res in ra:
        key = _key(res.id())
        if key in seen:
            raise RenderError(f"{what} gives two resources the same id {res.id().text()} "
                              f"(from {_origin_text(seen[key])} and {_origin_text(res)})",
                              blame, line)
        seen[key] = res


# =============================================================================
# Selecting resources (patch targets)
# =============================================================================

def _anchored(pattern: str, blame: Where, what: str) -> re.Pattern[str] | None:
    if not pattern:
        return None
    try:
        return re.compile(f"(?:{pattern})\\Z")
    except re.error as exc:
        raise RenderError(f"{what}: invalid regular expression {pattern!r}: {exc}",
                          *blame) from None


@dataclass
class _Selector:
    group: re.Pattern[str] | None
    version: re.Pattern[str] | None
    kind: re.Pattern[str] | None
    name: re.Pattern[str] | None
    namespace: re.Pattern[str] | None
    labels: list[_Requirement]
    annotations: list[_Requirement]

    @classmethod
    def parse(cls, target: dict[str, Any], blame: Where) -> _Selector:
        def regex(key: str) -> re.Pattern[str] | None:
            return _anchored(_str(target.get(key)), blame, f"target {key}")
        return cls(regex("group"), regex("version"), regex("kind"), regex("name"),
                   regex("namespace"),
                   _parse_selector(_str(target.get("labelSelector")), blame),
                   _parse_selector(_str(target.get("annotationSelector")), blame))

    def selects(self, res: _Res) -> bool:
        current, original = res.id(), res.original()
        if self.namespace is not None and not (
                self.namespace.match(original.effective_namespace())
                or self.namespace.match(current.effective_namespace())):
            return False
        if self.name is not None and not (
                self.name.match(original.name) or self.name.match(current.name)):
            return False
        for regex, value in ((self.group, current.group), (self.version, current.version),
                             (self.kind, current.kind)):
            if regex is not None and not regex.match(value):
                return False
        metadata = res.obj.get("metadata") or {}
        return (_matches(self.labels, metadata.get("labels"))
                and _matches(self.annotations, metadata.get("annotations")))


class _Requirement(NamedTuple):
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...]


_REQUIREMENT = re.compile(
    r"\s*(?:(?P<not>!)\s*(?P<nkey>[^\s,=!()<>]+)"
    r"|(?P<key>[^\s,=!()<>]+)\s*(?:(?P<op>==|=|!=)\s*(?P<value>[^\s,()=!]*)"
    r"|\s(?P<set>in|notin)\s*\((?P<values>[^()]*)\))?)\s*(?:,|$)")


def _parse_selector(text: str, blame: Where) -> list[_Requirement]:
    requirements: list[_Requirement] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _REQUIREMENT.match(text, position)
        if match is None or match.end() == position:
            raise RenderError(f"invalid selector {text!r}", *blame)
        position = match.end()
        if match["not"]:
            requirements.append(_Requirement(match["nkey"], "!", ()))
        elif match["op"]:
            op = "!=" if match["op"] == "!=" else "="
            requirements.append(_Requirement(match["key"], op, (match["value"],)))
        elif match["set"]:
            values = tuple(v.strip() for v in match["values"].split(",") if v.strip())
            requirements.append(_Requirement(match["key"], match["set"], values))
        else:
            requirements.append(_Requirement(match["key"], "exists", ()))
    return requirements


def _matches(requirements: list[_Requirement], labels: Any) -> bool:
    values = labels if isinstance(labels, dict) else {}
    for requirement in requirements:
        present = requirement.key in values
        value = _str(values.get(requirement.key))
        op = requirement.op
        if (op == "exists" and not present) or (op == "!" and present):
            return False
        if op in ("=", "in") and (not present or value not in requirement.values):
            return False
        if op in ("!=", "notin") and present and value in requirement.values:
            return False
    return True


# =============================================================================
# Walking field specs
# =============================================================================

class _FieldError(Exception):
    def __init__(self, path: FieldPath) -> None:
        super().__init__(path)
        self.path = path


Setter = Callable[[dict[str, Any], str, FieldPath], None]


def _apply_spec(obj: dict[str, Any], spec: _FieldSpec, setter: Setter,
                create_map: bool) -> None:
    """Call ``setter(parent, key, path)`` at each place ``spec`` names in ``obj``."""
    segments = spec.path

    def visit(node: Any, index: int, path: FieldPath) -> None:
        if node is None:
            return
        if isinstance(node, list):
            for position, element in enumerate(node):
                visit(element, index, (*path, position))
            return
        if not isinstance(node, dict):
            raise _FieldError(path)
        name, is_list = segments[index]
        last = index + 1 == len(segments)
        creating = spec.create and not is_list
        if node.get(name) is None:
            if not creating:
                return
            if not last or create_map:
                node[name] = {}
        if last:
            setter(node, name, (*path, name))
        else:
            visit(node[name], index + 1, (*path, name))

    visit(obj, 0, ())


def _apply_specs(res: _Res, specs: tuple[_FieldSpec, ...], setter: Setter, create_map: bool,
                 blame: Where, what: str) -> None:
    rid = res.id()
    for spec in specs:
        if not spec.selects(rid.group, rid.version, rid.kind):
            continue
        try:
            _apply_spec(res.obj, spec, setter, create_map)
        except _FieldError as exc:
            raise RenderError(
                f"{what}: {rid.text()} ({_origin_text(res)}) has a scalar at "
                f"{_field_name(exc.path) or 'its root'} where a mapping or list is expected",
                *blame) from None


# =============================================================================
# The renderer
# =============================================================================

class _Builder:
    """One built-in render: the accumulation of a kustomization and all it includes."""

    def __init__(self, tree: FileTree) -> None:
        self.tree = tree
        self.files = _Files(tree)
        self.stack: list[str] = []
        self.accumulated = 0  # resources taken in from resources/bases, at every level

    # -- kustomizations and resources ------------------------------------------
    def target(self, directory: str, blame: str | None = None,
               line: int | None = None) -> tuple[_Kustomization, list[_Res]]:
        """A kustomization directory accumulated on its own (a Component only at the top)."""
        self.check_cycle(directory, blame, line)
        k = _load_kustomization(self.files, directory, blame, line)
        if k.is_component and self.stack:
            raise RenderError(f"{directory} is a Component; list it under components, "
                              "not resources", blame, line)
        ra: list[_Res] = []
        self.stack.append(directory)
        try:
            self.run(k, ra)
        finally:
            self.stack.pop()
        return k, ra

    def check_cycle(self, directory: str, blame: str | None, line: int | None) -> None:
        """Like kustomize, refuse a directory at or above one being built."""
        for visited in self.stack:
            if not directory or visited == directory or visited.startswith(directory + "/"):
                chain = " -> ".join(p or "." for p in [*self.stack, directory])
                raise RenderError(f"kustomization cycle: {directory or '.'} contains "
                                  f"{visited or '.'}, which includes it ({chain})", blame, line)

    def run(self, k: _Kustomization, ra: list[_Res]) -> None:
        self.resources(k, ra)
        self.components(k, ra)
        self.generate(k, ra)
        self.transform(k, ra)

    def path(self, k: _Kustomization, entry: str, *key: str | int) -> str:
        """A path a kustomization names, as a tree path."""
        line = k.line(*key)
        if _REMOTE.search(entry):
            raise RenderError(f"{_field_name(key)}: {entry!r}: remote resources are not "
                              "supported (gate reads no network)", k.file, line)
        try:
            return normalize(entry, k.directory)
        except TreePathError as exc:
            raise RenderError(f"{_field_name(key)}: {exc.message}", k.file, line) from None

    def file(self, k: _Kustomization, entry: str, *key: str | int) -> str:
        """A file a kustomization reads: it must lie in or below its directory."""
        path = self.path(k, entry, *key)
        inside = not k.directory or path.startswith(k.directory + "/")
        if not inside:
            raise k.error(f"{_field_name(key)}: {entry!r} is not in or below the "
                          "kustomization's directory (kustomize's load restrictor)", *key)
        if self.tree.is_dir(path):
            raise k.error(f"{_field_name(key)}: {entry!r} is a directory, not a file", *key)
        return path

    def resources(self, k: _Kustomization, ra: list[_Res]) -> None:
        entries = [("resources", i, e) for i, e in k.items("resources")]
        entries += [("bases", i, e) for i, e in k.items("bases")]
        seen = {_key(r.id()): r for r in ra}
        for name, index, entry in entries:
            path = self.path(k, entry, name, index)
            line = k.line(name, index)
            if self.tree.is_dir(path):
                new = self.target(path, k.file, line)[1]
            elif self.tree.is_file(path):
                new = self.read_resources(self.file(k, entry, name, index), k.file, line)
            elif _HOST.match(entry):
                raise k.error(f"{name}[{index}]: {entry!r}: remote resources are not "
                              "supported (gate reads no network)", name, index)
            else:
                raise k.error(f"{name}[{index}]: {entry!r}: no such file or directory",
                              name, index)
            # A base included through two overlays is rendered twice, at every level:
            # the work of a whole render is bounded, not only the size of each list.
            self.accumulated += len(new)
            if self.accumulated > MAX_RENDER_WORK:
                raise k.error(f"{name}[{index}]: rendering takes in more than "
                              f"{MAX_RENDER_WORK:,} resources across its bases (gate's "
                              "limit; are bases included through many overlays?)", name, index)
            _append(ra, new, k.file, line, seen)

    def components(self, k: _Kustomization, ra: list[_Res]) -> None:
        for index, entry in k.items("components"):
            path = self.path(k, entry, "components", index)
            line = k.line("components", index)
            if not self.tree.is_dir(path):
                raise k.error(f"components[{index}]: {entry!r} is not a directory",
                              "components", index)
            self.check_cycle(path, k.file, line)
            component = _load_kustomization(self.files, path, k.file, line)
            if not component.is_component:
                raise k.error(f"components[{index}]: {entry!r} is a Kustomization, not a "
                              "Component (kind: Component)", "components", index)
            self.stack.append(path)
            try:
                self.run(component, ra)
            finally:
                self.stack.pop()

    def read_resources(self, path: str, blame: str, line: int) -> list[_Res]:
        found: list[_Res] = []
        for document in self.files.documents(path, blame, line):
            data = document.data
            if data is None or data == {}:
                continue
            if not isinstance(data, dict):
                raise RenderError(f"document {document.index + 1} is not a mapping "
                                  "(a Kubernetes object)", path, document.line)
            if _is_list(data):
                for position, item in enumerate(data.get("items") or []):
                    if item is None or item == {}:
                        continue
                    prefix: FieldPath = ("items", position)
                    item_line = line_of_path(document.node, prefix)
                    found.append(self.new_resource(item, path, document, prefix, item_line))
            else:
                found.append(self.new_resource(data, path, document, (), document.line))
        return found

    def new_resource(self, data: Any, path: str, document: ParsedDocument, prefix: FieldPath,
                     line: int) -> _Res:
        if not isinstance(data, dict):
            raise RenderError("a list item is not a mapping (a Kubernetes object)", path, line)
        if not data.get("kind") or not isinstance(data.get("kind"), str):
            raise RenderError("missing kind", path, line)
        metadata = data.get("metadata")
        if not isinstance(metadata, dict) or metadata.get("name") in (None, ""):
            raise RenderError("missing metadata.name", path, line)
        return _Res(clone(data), (path, document.index, prefix, line))

    # -- generators --------------------------------------------------------------
    def generate(self, k: _Kustomization, ra: list[_Res]) -> None:
        ids = _IdIndex(ra)  # one lookup per generator, not a scan of every resource
        for kind, name in (("ConfigMap", "configMapGenerator"), ("Secret", "secretGenerator")):
            for index, entry in k.items(name):
                res, behavior = self.generated(k, kind, name, index, entry)
                _absorb(ra, res, behavior, k, (name, index), ids)
        from gate.renderers import kustomize_transformers  # uses this module

        kustomize_transformers.run_generators(self, k, ra)

    def generated(self, k: _Kustomization, kind: str, name: str, index: int,
                  entry: dict[str, Any]) -> tuple[_Res, str]:
        key: FieldPath = (name, index)
        behavior = entry.get("behavior") or "create"
        if behavior not in ("create", "merge", "replace"):
            raise k.error(f"{name}[{index}].behavior: must be create, merge or replace",
                          *key, "behavior")
        if not entry.get("name"):
            raise k.error(f"{name}[{index}]: name is required", *key)
        options = _generator_options(entry.get("options") or {},
                                     k.get("generatorOptions") or {})
        metadata: dict[str, Any] = {"name": entry["name"]}
        if entry.get("namespace"):
            metadata["namespace"] = entry["namespace"]
        for field_name in ("labels", "annotations"):
            if options[field_name]:
                metadata[field_name] = dict(options[field_name])
        obj: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": metadata}
        res = _Res(obj, (k.file, 0, key, k.line(*key)))
        pairs = self.generator_data(k, name, index, entry, res)
        if kind == "Secret":
            obj["type"] = entry.get("type") or "Opaque"
            obj["data"] = {n: _b64(v if isinstance(v, bytes) else v.encode("utf-8"))
                           for n, v in pairs.items()}
        else:
            data = {n: v for n, v in pairs.items() if isinstance(v, str)}
            binary = {n: _b64(v) for n, v in pairs.items() if isinstance(v, bytes)}
            if data:
                obj["data"] = data
            if binary:
                obj["binaryData"] = binary
        if options["immutable"]:
            obj["immutable"] = True
        res.hashed = not options["disableNameSuffixHash"]
        return res, behavior

    def generator_data(self, k: _Kustomization, name: str, index: int, entry: dict[str, Any],
                       res: _Res) -> dict[str, str | bytes]:
        """The generator's keys: env files, then literals, then files (kustomize's order).

        Values are text, or bytes for a file that is not UTF-8.
        """
        pairs: dict[str, str | bytes] = {}
        sources: dict[str, FieldPath] = {}
        size = [0]  # bytes of the values so far (characters of text)

        def add(key_name: str, value: str | bytes, where: FieldPath) -> None:
            if key_name in pairs:
                raise k.error(f"{name}[{index}]: key {key_name!r} is defined twice (first "
                              f"at line {k.line(*sources[key_name])})", *where)
            # Bounds of gate/limits.py: hashing and encoding a generated object cost
            # its size, and the same file may be named any number of times.
            if len(pairs) >= MAX_GENERATOR_KEYS:
                raise k.error(f"{name}[{index}]: more than {MAX_GENERATOR_KEYS:,} keys "
                              "(gate's limit)", *where)
            size[0] += len(key_name) + len(value)
            if size[0] > MAX_GENERATOR_BYTES:
                raise k.error(f"{name}[{index}]: more than {MAX_GENERATOR_BYTES:,} bytes of "
                              "data (gate's limit; Kubernetes stores at most 1 MiB)", *where)
            pairs[key_name] = value
            sources[key_name] = where

        envs: list[FieldPath] = [
            (name, index, "envs", position) for position, _ in enumerate(entry.get("envs") or [])
        ]
        if entry.get("env"):
            envs.append((name, index, "env"))
        for where in envs:
            path = self.file(k, _str(_get_path(entry, where[2:])), *where)
            raw = self.files.read(path, k.file, k.line(*where))
            for key_name, value in _env_pairs(raw, path, k.file, k.line(*where)):
                add(key_name, value, where)
        for position, literal in enumerate(entry.get("literals") or []):
            where = (name, index, "literals", position)
            add(*_literal(literal, k, where), where)
        for position, source in enumerate(entry.get("files") or []):
            where = (name, index, "files", position)
            key_name, file_path = _file_source(source, k, where)
            path = self.file(k, file_path, *where)
            raw = self.files.read(path, k.file, k.line(*where))
            try:
                add(key_name, raw.decode("utf-8"), where)
            except UnicodeDecodeError:
                add(key_name, raw, where)
        for key_name, content in pairs.items():
            binary = isinstance(content, bytes) and res.obj["kind"] == "ConfigMap"
            res.set(("binaryData" if binary else "data", key_name), k.where(*sources[key_name]))
        return pairs

    # -- transformers --------------------------------------------------------------
    def transform(self, k: _Kustomization, ra: list[_Res]) -> None:
        self.patches_strategic_merge(k, ra)
        self.patches(k, ra)
        _namespace(k, ra)
        _name_affix(k, ra, "namePrefix")
        _name_affix(k, ra, "nameSuffix")
        _labels(k, ra)
        _annotations(k, ra)
        self.patches_json6902(k, ra)
        _replicas(k, ra)
        _images(k, ra)
        # replacements, then transformers: (modules of their own, which use this one)
        from gate.renderers import kustomize_replacements, kustomize_transformers

        kustomize_replacements.run(self, k, ra)
        kustomize_transformers.run_transformers(self, k, ra)

    def patch_source(self, k: _Kustomization, entry: dict[str, Any], *key: str | int,
                     ) -> _PatchSource:
        path, inline = entry.get("path"), entry.get("patch")
        if path and inline:
            raise k.error(f"{_field_name(key)}: set path or patch, not both", *key)
        if inline is not None:
            return _inline_source(k, inline, (*key, "patch"))
        if not path:
            raise k.error(f"{_field_name(key)}: path or patch is required", *key)
        file = self.file(k, path, *key, "path")
        documents = self.files.documents(file, k.file, k.line(*key, "path"))
        return _PatchSource(file, list(documents), None, 0)

    def patches_strategic_merge(self, k: _Kustomization, ra: list[_Res]) -> None:
        for index, entry in k.items("patchesStrategicMerge"):
            key: FieldPath = ("patchesStrategicMerge", index)
            if is_inline_patch(entry):
                source = _inline_source(k, entry, key)
            else:
                file = self.file(k, entry, *key)
                documents = self.files.documents(file, k.file, k.line(*key))
                source = _PatchSource(file, list(documents), None, 0)
            for document in source.patches(k, key):
                target = _unique_target(ra, _id_of(document.data), source, document, k, key)
                _apply_sm(ra, target, document, source, allow=(False, False))

    def patches(self, k: _Kustomization, ra: list[_Res]) -> None:
        for index, entry in k.items("patches"):
            key: FieldPath = ("patches", index)
            source = self.patch_source(k, entry, *key)
            target = entry.get("target")
            options = entry.get("options") or {}
            allow = (bool(options.get("allowNameChange")), bool(options.get("allowKindChange")))
            selector = None
            if target is not None:
                selector = _Selector.parse(target, k.where(*key, "target"))
            if source.is_json_patch():
                if selector is None:
                    raise k.error(f"patches[{index}]: a JSON 6902 patch needs a target", *key)
                _apply_json_patch(ra, selector, source, k, key)
                continue
            documents = source.patches(k, key)
            if selector is None:
                for document in documents:
                    target_res = _unique_target(ra, _id_of(document.data), source,
                                                document, k, key)
                    _apply_sm(ra, target_res, document, source, allow)
                continue
            if len(documents) > 1:
                raise k.error(f"patches[{index}]: a patch with a target must hold a single "
                              "strategic merge patch", *key)
            for res in [r for r in ra if selector.selects(r)]:
                _apply_sm(ra, res, documents[0], source, allow)

    def patches_json6902(self, k: _Kustomization, ra: list[_Res]) -> None:
        for index, entry in k.items("patchesJson6902"):
            key: FieldPath = ("patchesJson6902", index)
            target = entry.get("target")
            if not target:
                raise k.error(f"patchesJson6902[{index}]: target is required", *key)
            if not target.get("name"):
                raise k.error(f"patchesJson6902[{index}]: target.name is required",
                              *key, "target")
            source = self.patch_source(k, entry, *key)
            selector = _Selector.parse(target, k.where(*key, "target"))
            _apply_json_patch(ra, selector, source, k, key)


def is_inline_patch(entry: str) -> bool:
    """Whether a patchesStrategicMerge entry is a patch itself rather than a file name."""
    try:
        documents = [d.data for d in load_documents(entry, "patch") if d.data is not None]
    except YamlInputError:
        return False
    return bool(documents) and all(isinstance(d, dict) for d in documents)


def _is_list(data: dict[str, Any]) -> bool:
    kind = data.get("kind")
    return isinstance(kind, str) and kind.endswith("List") and (
        kind == "List" or isinstance(data.get("items"), list))


def _b64(raw: bytes) -> str:
    """Base64 as kustomize writes it: lines of 70, each ending in a newline, when long."""
    text = base64.b64encode(raw).decode("ascii")
    if len(text) < 70:
        return text
    return "".join(f"{text[i:i + 70]}\n" for i in range(0, len(text), 70))


def _generator_options(local: dict[str, Any], global_: dict[str, Any]) -> dict[str, Any]:
    """An entry's options over generatorOptions: local maps win, true booleans win."""
    return {
        "labels": {**(global_.get("labels") or {}), **(local.get("labels") or {})},
        "annotations": {**(global_.get("annotations") or {}),
                        **(local.get("annotations") or {})},
        "disableNameSuffixHash": bool(local.get("disableNameSuffixHash")
                                      or global_.get("disableNameSuffixHash")),
        "immutable": bool(local.get("immutable") or global_.get("immutable")),
    }


def _env_pairs(raw: bytes, path: str, blame: str, line: int) -> Iterator[tuple[str, str]]:
    """KEY=VALUE lines of an env file, as kustomize reads them."""
    for number, chunk in enumerate(raw.split(b"\n")):
        if chunk.endswith(b"\r"):
            chunk = chunk[:-1]
        if number == 0 and chunk.startswith(b"\xef\xbb\xbf"):
            chunk = chunk[3:]
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            raise RenderError(f"{path}: line {number + 1} is not valid UTF-8", blame,
                              line) from None
        text = text.lstrip()
        if not text or text.startswith("#"):
            continue
        key, _, value = text.partition("=")
        if not key:
            raise RenderError(f"{path}: line {number + 1}: a variable needs a name", blame, line)
        yield key, value


def _literal(text: str, k: _Kustomization, where: FieldPath) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise k.error(f"{_field_name(where)}: {text!r} is not KEY=VALUE", *where)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return key, value


def _file_source(text: str, k: _Kustomization, where: FieldPath) -> tuple[str, str]:
    count = text.count("=")
    if count == 0:
        return posixpath.basename(text), text
    key, _, path = text.partition("=")
    if count > 1 or not key or not path:
        raise k.error(f"{_field_name(where)}: {text!r} must be PATH or KEY=PATH", *where)
    return key, path


class _IdIndex:
    """The resources of a list by each of their ids (as ``_Id.same`` compares them), kept
    in step by ``_absorb``: thousands of generators must not each scan every resource."""

    def __init__(self, ra: list[_Res]) -> None:
        self.by_key: dict[tuple[str, str, str, str, str], list[_Res]] = {}
        for res in ra:
            self.add(res)

    def add(self, res: _Res) -> None:
        for rid in res.ids():
            self.by_key.setdefault(_key(rid), []).append(res)

    def matches(self, rid: _Id) -> list[_Res]:
        return list(dict.fromkeys(self.by_key.get(_key(rid), [])))

    def replace(self, old: _Res, new: _Res) -> None:
        for rid in old.ids():
            found = self.by_key.get(_key(rid), [])
            found[:] = [new if res is old else res for res in found]


def _absorb(ra: list[_Res], res: _Res, behavior: str, k: _Kustomization,
            key: FieldPath, ids: _IdIndex | None = None) -> None:
    """Add a generated resource, or merge it into / let it replace the one it names."""
    rid = res.id()
    if ids is not None:
        matches = ids.matches(rid)
    else:
        matches = [r for r in ra if any(i.same(rid) for i in r.ids())]
    name = _field_name(key)
    if not matches:
        if behavior != "create":
            raise k.error(f"{name}: behavior {behavior}: there is no {rid.text()} to "
                          f"{behavior}", *key)
        if len(ra) >= MAX_RENDERED_RESOURCES:
            raise k.error(f"{name}: the kustomization renders more than "
                          f"{MAX_RENDERED_RESOURCES:,} resources (gate's limit)", *key)
        ra.append(res)
        if ids is not None:
            ids.add(res)
        return
    if len(matches) > 1:
        raise k.error(f"{name}: {rid.text()} matches more than one resource", *key)
    old = matches[0]
    if behavior == "create":
        raise k.error(f"{name}: {rid.text()} already exists ({_origin_text(old)}); set "
                      "behavior: merge or replace", *key)
    old_meta, new_meta = _metadata(old.obj), _metadata(res.obj)
    for field_name in ("labels", "annotations"):
        merged = {**_as_map(old_meta.get(field_name)), **_as_map(new_meta.get(field_name))}
        if merged:
            new_meta[field_name] = merged
    for field_name in ("name", "namespace"):
        if field_name in old_meta:
            new_meta[field_name] = old_meta[field_name]
        else:
            new_meta.pop(field_name, None)
    provenance = Provenance(old.provenance)
    if behavior == "merge":
        for field_name in ("data", "binaryData"):
            merged = {**_as_map(old.obj.get(field_name)), **_as_map(res.obj.get(field_name))}
            if merged:
                res.obj[field_name] = merged
    else:
        provenance.drop(("data",))
        provenance.drop(("binaryData",))
    provenance.update(res.provenance)
    merged_res = _Res(res.obj, old.origin, provenance, list(old.previous),
                      list(old.prefixes), list(old.suffixes), res.hashed and old.hashed)
    ra[ra.index(old)] = merged_res
    if ids is not None:
        ids.replace(old, merged_res)


def _as_map(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


# -- patches -----------------------------------------------------------------------

@dataclass
class _PatchSource:
    """A patch's documents, and how to turn a place in them into a file line."""

    file: str
    documents: list[ParsedDocument]
    inline_line: int | None  # kustomization line of an inline patch's key, or None
    offset: int | None  # file line of an inline patch's first line, minus one

    def line(self, document: ParsedDocument, path: FieldPath) -> int:
        inner = line_of_path(document.node, path)
        if self.inline_line is None:
            return inner
        return self.offset + inner if self.offset is not None else self.inline_line

    def where(self, document: ParsedDocument, path: FieldPath = ()) -> Where:
        return self.file, self.line(document, path)

    def data(self) -> list[ParsedDocument]:
        return [d for d in self.documents if d.data is not None]

    def is_json_patch(self) -> bool:
        documents = self.data()
        return len(documents) == 1 and isinstance(documents[0].data, list)

    def patches(self, k: _Kustomization, key: FieldPath) -> list[ParsedDocument]:
        documents = self.data()
        if not documents:
            raise k.error(f"{_field_name(key)}: the patch is empty", *key)
        for document in documents:
            where = self.where(document)
            if not isinstance(document.data, dict):
                raise RenderError("a patch must be a strategic merge patch (a mapping) or a "
                                  "JSON 6902 patch (a list of operations)", *where)
            metadata = document.data.get("metadata")
            if (not isinstance(document.data.get("kind"), str) or not isinstance(metadata, dict)
                    or metadata.get("name") in (None, "")):
                raise RenderError("a strategic merge patch needs kind and metadata.name",
                                  *where)
        return documents


def _inline_source(k: _Kustomization, text: str, key: FieldPath) -> _PatchSource:
    line = k.line(*key)
    try:
        documents = list(load_documents(text, k.file))
    except YamlInputError as exc:
        raise RenderError(f"{_field_name(key)}: invalid patch: {exc.message}", k.file,
                          line) from None
    node = _value_node(k.node, key)
    offset = None
    if isinstance(node, ScalarNode) and node.style == "|":
        offset = node.start_mark.line + 1
    elif isinstance(node, ScalarNode) and node.style in (None, "", "'", '"') \
            and "\n" not in text:
        offset = node.start_mark.line
    return _PatchSource(k.file, documents, line, offset)


def _value_node(root: Node, path: FieldPath) -> Node | None:
    node: Any = root
    for part in path:
        if isinstance(part, int):
            values = getattr(node, "value", None)
            if not isinstance(values, list) or part >= len(values):
                return None
            node = values[part]
        else:
            found = None
            for key_node, value_node in getattr(node, "value", []) or []:
                if isinstance(key_node, ScalarNode) and key_node.value == part:
                    found = value_node
            if found is None:
                return None
            node = found
    return node if isinstance(node, Node) else None


def _unique_target(ra: list[_Res], pid: _Id, source: _PatchSource, document: ParsedDocument,
                   k: _Kustomization, key: FieldPath) -> _Res:
    matches = [r for r in ra if any(i.same(pid) for i in r.ids())]
    if len(matches) == 1:
        return matches[0]
    api_version = pid.api_version or "(no apiVersion)"
    what = f"{api_version} {pid.text()}"
    if not matches:
        message = f"no resource matches this strategic merge patch ({what})"
    else:
        message = f"more than one resource matches this strategic merge patch ({what})"
    raise RenderError(message, *source.where(document))


def _apply_sm(ra: list[_Res], res: _Res, document: ParsedDocument, source: _PatchSource,
              allow: tuple[bool, bool]) -> None:
    """Apply one strategic merge patch to ``res``: its name, namespace and type stay
    (unless the patch's options allow a name or kind change)."""
    patch = clone(document.data)
    metadata = _metadata(res.obj)
    name, namespace, kind = metadata.get("name"), metadata.get("namespace"), res.obj.get("kind")
    patch.pop("apiVersion", None)
    patch_meta = patch.get("metadata")
    if isinstance(patch_meta, dict):
        patch_meta.pop("namespace", None)
        if not allow[0]:
            patch_meta.pop("name", None)
    if not allow[1]:
        patch.pop("kind", None)
    if allow[0] or allow[1]:
        res.remember()
    try:
        result = strategic_merge(res.obj, patch, res.provenance,
                                 lambda path: source.where(document, path))
    except PatchError as exc:
        raise RenderError(f"cannot apply patch to {res.id().text()} ({_origin_text(res)}): "
                          f"{exc.message}", *source.where(document, exc.path)) from None
    if result is None:
        ra.remove(res)
        return
    res.obj = result
    metadata = _metadata(result)
    if not allow[1]:
        result["kind"] = kind
    if not allow[0]:
        metadata["name"] = name
    if namespace is None:
        metadata.pop("namespace", None)
    else:
        metadata["namespace"] = namespace


def _apply_json_patch(ra: list[_Res], selector: _Selector, source: _PatchSource,
                      k: _Kustomization, key: FieldPath) -> None:
    documents = source.data()
    if len(documents) != 1:
        raise k.error(f"{_field_name(key)}: a JSON 6902 patch must be one YAML or JSON "
                      "document", *key)
    document = documents[0]
    try:
        ops = json_patch_ops(document.data)
    except PatchError as exc:
        raise RenderError(exc.message, *source.where(document, exc.path)) from None
    if not ops:
        raise RenderError("the JSON 6902 patch is empty", *source.where(document))
    for res in [r for r in ra if selector.selects(r)]:
        res.remember()
        try:
            result = apply_json6902(res.obj, ops, res.provenance,
                                    lambda i: source.where(document, (i,)))
        except PatchError as exc:
            raise RenderError(f"cannot apply patch to {res.id().text()} ({_origin_text(res)}): "
                              f"{exc.message}", *source.where(document, exc.path)) from None
        if not isinstance(result, dict):
            raise RenderError("the JSON 6902 patch turns the resource into a non-mapping",
                              *source.where(document))
        res.obj = result
        _annotations_as_strings(result)


def _annotations_as_strings(obj: dict[str, Any]) -> None:
    """After a JSON 6902 patch kustomize rewrites annotations as strings (a map or
    list becomes an empty string)."""
    metadata = obj.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if not isinstance(annotations, dict):
        return
    for key, value in annotations.items():
        if isinstance(value, (dict, list)):
            annotations[key] = ""
        elif not isinstance(value, str):
            annotations[key] = json.dumps(value)


# -- the other transformers ----------------------------------------------------------

def _namespace(k: _Kustomization, ra: list[_Res]) -> None:
    namespace = k.get("namespace")
    if not namespace:
        return
    where = k.where("namespace")
    for res in ra:
        res.remember()
        rid = res.id()
        if not rid.cluster_scoped():
            _metadata(res.obj)["namespace"] = namespace
            res.set(("metadata", "namespace"), where)
        if rid.kind == "Namespace" and res.obj.get("apiVersion") == "v1":
            _metadata(res.obj)["name"] = namespace
            res.set(("metadata", "name"), where)

        def set_namespace(parent: dict[str, Any], key: str, path: FieldPath,
                          res: _Res = res) -> None:
            parent[key] = namespace
            res.set(path, where)

        _apply_specs(res, _NAMESPACE_FIELDS, set_namespace, False, where, "namespace")
        if rid.kind in ("RoleBinding", "ClusterRoleBinding"):
            _default_subjects(res, namespace, where)
    _check_unique(ra, k.file, k.line("namespace"), "namespace")


def _default_subjects(res: _Res, namespace: str, where: Where) -> None:
    """kustomize moves subjects named "default" into the namespace too."""
    subjects = res.obj.get("subjects")
    if not isinstance(subjects, list):
        return
    for index, subject in enumerate(subjects):
        if isinstance(subject, dict) and subject.get("name") == "default":
            subject["namespace"] = namespace
            res.set(("subjects", index, "namespace"), where)


def _name_affix(k: _Kustomization, ra: list[_Res], key: str) -> None:
    affix = k.get(key)
    if not affix:
        return
    where = k.where(key)
    for res in ra:
        original = res.original()
        if any(kind == original.kind and (not group or group == original.group)
               for group, kind in _NO_PREFIX):
            continue
        metadata = _metadata(res.obj)
        name = _str(metadata.get("name"))
        res.remember()
        if key == "namePrefix":
            metadata["name"] = affix + name
            res.prefixes.append(affix)
        else:
            metadata["name"] = name + affix
            res.suffixes.append(affix)
        res.set(("metadata", "name"), where)


def _map_setter(values: dict[str, str], where: Callable[[str], Where], res: _Res) -> Setter:
    def setter(parent: dict[str, Any], key: str, path: FieldPath) -> None:
        target = parent.get(key)
        if target is None:
            target = parent[key] = {}
        if not isinstance(target, dict):
            raise _FieldError(path)
        for name, value in values.items():
            target[name] = value
            res.set((*path, name), where(name))
    return setter


def _labels(k: _Kustomization, ra: list[_Res]) -> None:
    plans: list[tuple[dict[str, str], tuple[_FieldSpec, ...], FieldPath]] = []
    for index, entry in k.items("labels"):
        specs = tuple(
            _fs(_str(spec.get("path")), spec.get("kind"), spec.get("group"),
                spec.get("version"), bool(spec.get("create")))
            for spec in entry.get("fields") or [] if spec
        )
        if entry.get("includeSelectors"):
            specs += _COMMON_LABELS
        else:
            specs += _TEMPLATE_LABELS if entry.get("includeTemplates") else _METADATA_LABELS
        plans.append((entry.get("pairs") or {}, specs, ("labels", index, "pairs")))
    if k.get("commonLabels"):
        plans.append((k.get("commonLabels"), _COMMON_LABELS, ("commonLabels",)))
    for values, specs, key in plans:
        if not values:
            continue
        unique = tuple(dict.fromkeys(specs))

        def where(name: str, key: FieldPath = key) -> Where:
            return k.where(*key, name)

        for res in ra:
            _apply_specs(res, unique, _map_setter(values, where, res), True, k.where(*key),
                         _field_name(key))


def _annotations(k: _Kustomization, ra: list[_Res]) -> None:
    values = k.get("commonAnnotations")
    if not values:
        return
    for res in ra:
        setter = _map_setter(values, lambda name: k.where("commonAnnotations", name), res)
        _apply_specs(res, _COMMON_ANNOTATIONS, setter, True, k.where("commonAnnotations"),
                     "commonAnnotations")


def _replicas(k: _Kustomization, ra: list[_Res]) -> None:
    for index, entry in k.items("replicas"):
        key: FieldPath = ("replicas", index)
        name, count = entry.get("name"), entry.get("count")
        if not name or count is None:
            raise k.error(f"replicas[{index}]: name and count are required", *key)
        if isinstance(count, bool) or not isinstance(count, int) or not (
            0 <= count <= MAX_REPLICAS
        ):
            raise k.error(f"replicas[{index}].count: must be a whole number from 0 to "
                          f"{MAX_REPLICAS:,}, not {str(count)[:40]!r}", *key, "count")
        where = k.where(*key, "count")
        found = False
        for res in ra:
            if not any(i.name == name and i.kind in _REPLICA_KINDS for i in res.ids()):
                continue
            found = True
            spec = res.obj.get("spec")
            if spec is None:
                spec = res.obj["spec"] = {}
            if not isinstance(spec, dict):
                raise k.error(f"replicas[{index}]: {res.id().text()} has a spec that is not "
                              "a mapping", *key)
            spec["replicas"] = count
            res.set(("spec", "replicas"), where)
        if not found:
            raise k.error(f"replicas[{index}]: no Deployment, ReplicationController, "
                          f"ReplicaSet or StatefulSet is named {name!r}", *key, "name")


def _image_where(k: _Kustomization, index: int, entry: dict[str, Any]) -> Where:
    for name in ("newTag", "digest", "tagSuffix", "newName"):
        if entry.get(name):
            return k.where("images", index, name)
    return k.where("images", index)


def split_image(image: str) -> tuple[str, str, str]:
    """(name, tag, digest) of an image reference, split as kustomize does."""
    slash = image.find("/")
    search, offset = (image[slash:], slash) if slash > 0 else (image, 0)
    at, colon = search.find("@"), search.find(":")
    if colon < 0 and at < 0:
        return image, "", ""
    if at >= 0 and (at < colon or colon < 0):
        return image[:at + offset], "", image[at + offset + 1:]
    if at >= 0:
        return (image[:colon + offset], image[colon + offset + 1:at + offset],
                image[at + offset + 1:])
    return image[:colon + offset], image[colon + offset + 1:], ""


@dataclass
class _ImageRule:
    pattern: re.Pattern[str]
    entry: dict[str, Any]
    where: Where

    def update(self, value: str) -> str | None:
        if not self.pattern.match(value):
            return None
        name, tag, digest = split_image(value)
        new_tag, new_digest = _str(self.entry.get("newTag")), _str(self.entry.get("digest"))
        name = _str(self.entry.get("newName")) or name
        if new_tag and new_digest:
            tag, digest = new_tag, new_digest
        elif new_tag:
            tag, digest = new_tag, ""
        elif new_digest:
            tag, digest = "", new_digest
        elif self.entry.get("tagSuffix"):
            tag, digest = tag + _str(self.entry.get("tagSuffix")), ""
        return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def _images(k: _Kustomization, ra: list[_Res]) -> None:
    for index, entry in k.items("images"):
        name = _str(entry.get("name"))
        if not name:
            raise k.error(f"images[{index}]: name is required", "images", index)
        pattern = _image_pattern(name, k.where("images", index, "name"), f"images[{index}].name")
        rule = _ImageRule(pattern, entry, _image_where(k, index, entry))
        _apply_image_rule(ra, rule, _IMAGE_FIELDS, f"images[{index}]")


def set_images(resources: list[RenderedResource],
               overrides: tuple[tuple[str, str, int], ...]) -> None:
    """Argo CD's ``spec.source.kustomize.images`` on an overlay's rendered resources.

    Argo CD runs ``kustomize edit set image`` with each argument before it builds, so
    each is an ``images:`` entry applied last: ``name=newName:tag``, ``name=newName``,
    ``name:tag``, ``name@digest``. A changed image points at its override's line in
    the Application.
    """
    for index, (spec, file, line) in enumerate(overrides):
        name, sep, replacement = spec.partition("=")
        entry: dict[str, Any] = {}
        if sep:
            new_name, tag, digest = split_image(replacement)
            entry["newName"] = new_name
        else:
            name, tag, digest = split_image(spec)
        if tag:
            entry["newTag"] = tag
        if digest:
            entry["digest"] = digest
        what = f"kustomize.images[{index}]"
        if not name:
            raise RenderError(f"{what}: {spec!r} names no image", file, line)
        rule = _ImageRule(_image_pattern(name, (file, line), what), entry, (file, line))
        made = [_Res(r.obj, (r.origin_file, r.origin_doc, r.origin_prefix, r.origin_line),
                     Provenance(r.provenance)) for r in resources]
        _apply_image_rule(made, rule, _IMAGE_FIELDS, what)
        for rendered, res in zip(resources, made, strict=True):
            rendered.provenance = dict(res.provenance)


def _image_pattern(name: str, blame: Where, what: str) -> re.Pattern[str]:
    """How kustomize matches an image name: the name, then an optional tag and digest."""
    try:
        return re.compile(f"^{name}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?\\Z")
    except re.error as exc:
        raise RenderError(f"{what}: {name!r} is not a valid pattern: {exc}", *blame) from None


def _apply_image_rule(ra: list[_Res], rule: _ImageRule, specs: tuple[_FieldSpec, ...],
                      what: str) -> None:
    """kustomize's two image passes: containers anywhere, then the field specs."""
    for res in ra:
        if res.obj.get("kind") == "CustomResourceDefinition":
            continue
        _update_images_anywhere(res, rule, res.obj, ())

        def setter(parent: dict[str, Any], key: str, path: FieldPath,
                   res: _Res = res, rule: _ImageRule = rule) -> None:
            _update_image(res, rule, parent, key, path)

        _apply_specs(res, specs, setter, False, rule.where, what)


def _update_images_anywhere(res: _Res, rule: _ImageRule, node: Any, path: FieldPath) -> None:
    """kustomize's legacy pass: every containers/initContainers list, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            _update_images_anywhere(res, rule, value, (*path, key))
            if key in ("containers", "initContainers") and isinstance(value, list):
                for position, container in enumerate(value):
                    if isinstance(container, dict) and container.get("image") is not None:
                        _update_image(res, rule, container, "image",
                                      (*path, key, position, "image"))
    elif isinstance(node, list):
        for position, item in enumerate(node):
            _update_images_anywhere(res, rule, item, (*path, position))


def _update_image(res: _Res, rule: _ImageRule, parent: dict[str, Any], key: str,
                  path: FieldPath) -> None:
    value = parent.get(key)
    if value is None:
        return
    if not isinstance(value, str):
        raise RenderError(f"{res.id().text()} ({_origin_text(res)}): {_field_name(path)} "
                          "is not a string", *rule.where)
    updated = rule.update(value)
    if updated is not None:
        parent[key] = updated
        res.set(path, rule.where)


# =============================================================================
# The end of a top-level build: hashes, name references, order
# =============================================================================

def _go_json(value: Any) -> str:
    """Go's encoding/json for the hash: sorted keys, HTML-safe escapes."""
    if isinstance(value, dict):
        items = sorted((_str(key), item) for key, item in value.items())
        return "{" + ",".join(f"{_go_string(key)}:{_go_json(item)}" for key, item in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_go_json(item) for item in value) + "]"
    if isinstance(value, str):
        return _go_string(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_GO_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _go_string(text: str) -> str:
    out = []
    for char in text:
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif ord(char) < 0x20 or char in "<>&\u2028\u2029":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def content_hash(obj: dict[str, Any]) -> str:
    """kustomize's name suffix for a generated ConfigMap or Secret."""
    def value(name: str) -> Any:
        found = obj.get(name)
        return "" if found is None else found

    if obj.get("kind") == "Secret":
        encoded: dict[str, Any] = {"kind": "Secret", "type": value("type"), "name": "",
                                   "data": value("data")}
        if isinstance(obj.get("stringData"), dict):
            encoded["stringData"] = obj["stringData"]
    else:
        encoded = {"kind": "ConfigMap", "name": "", "data": value("data")}
        if isinstance(obj.get("binaryData"), dict):
            encoded["binaryData"] = obj["binaryData"]
    digest = hashlib.sha256(_go_json(encoded).encode("utf-8")).hexdigest()[:10]
    return digest.translate(str.maketrans("013ae", "ghkmt"))


def _add_hashes(ra: list[_Res]) -> None:
    for res in ra:
        if res.hashed:
            metadata = _metadata(res.obj)
            res.remember()
            metadata["name"] = f"{_str(metadata.get('name'))}-{content_hash(res.obj)}"


def _ref_index() -> dict[str, list[tuple[tuple[str, str | None, str | None], _FieldSpec]]]:
    index: dict[str, list[tuple[tuple[str, str | None, str | None], _FieldSpec]]] = {}
    for target, specs in _NAME_REFERENCES:
        for spec in specs:
            index.setdefault(spec.kind or "", []).append((target, spec))
    return index


_REFS = _ref_index()


@dataclass
class _Referrer:
    """Fixes the names one resource uses to refer to others (kustomize's nameref)."""

    res: _Res
    all: list[_Res]
    target: tuple[str, str | None, str | None] = ("", None, None)
    spec: _FieldSpec | None = None
    _candidates: list[_Res] | None = None

    def candidates(self) -> list[_Res]:
        if self._candidates is None:
            self._candidates = self._subset()
        return self._candidates

    def _subset(self) -> list[_Res]:
        rid = self.res.id()
        if rid.cluster_scoped():
            return list(self.all)
        bound: set[str] = set()
        if rid.kind == "RoleBinding":
            for subject in self.res.obj.get("subjects") or []:
                if (isinstance(subject, dict) and subject.get("kind") == "ServiceAccount"
                        and isinstance(subject.get("namespace"), str)):
                    bound.add(subject["namespace"])
        found = []
        for other in self.all:
            oid = other.id()
            if (oid.cluster_scoped() or oid.effective_namespace() == rid.effective_namespace()
                    or oid.namespace in bound):
                found.append(other)
        return found

    def selected(self, rid: _Id, gvk: tuple[str, str | None, str | None]) -> bool:
        kind, group, version = gvk
        return (rid.kind == kind and (group is None or rid.group == group)
                and (version is None or rid.version == version))

    def select(self, old: str, candidates: list[_Res]) -> _Res | None:
        found = [c for c in candidates if any(i.name == old for i in c.ids())]
        found = [c for c in found if any(self.selected(i, self.target) for i in c.ids())]
        assert self.spec is not None
        if self.spec.path[-2:] == (("roleRef", False), ("name", False)):
            role_ref = self.res.obj.get("roleRef")
            if isinstance(role_ref, dict) and role_ref.get("kind"):
                gvk = (_str(role_ref.get("kind")), _str(role_ref.get("apiGroup")) or None, None)
                found = [c for c in found if any(self.selected(i, gvk) for i in c.ids())]
        rid = self.res.id()
        if not rid.cluster_scoped():
            found = [c for c in found if c.id().cluster_scoped()
                     or c.obj.get("kind") == "ServiceAccount"
                     or c.id().effective_namespace() == rid.effective_namespace()]
        if len(found) == 1:
            return found[0]
        found = [c for c in found if _same_ending(c.prefixes, self.res.prefixes)
                 and _same_ending(c.suffixes, self.res.suffixes)]
        if len(found) == 1:
            return found[0]
        if not found:
            return None
        if len({_str(_metadata(c.obj).get("name")) for c in found}) == 1:
            return found[0]
        names = ", ".join(f"{c.id().text()} ({_origin_text(c)})" for c in found)
        raise RenderError(f"{rid.text()} refers to {old!r}, which could be any of: {names}",
                          self.res.origin[0], self.res.origin[3])

    def new_name(self, old: Any) -> str | None:
        """The name a scalar reference should now use, or None to leave it."""
        if not isinstance(old, str):
            return None
        referral = self.select(old, self.candidates())
        return None if referral is None else _str(_metadata(referral.obj).get("name"))

    def set_mapping(self, node: dict[str, Any]) -> None:
        name = node.get("name")
        if not isinstance(name, str):
            return
        candidates = self.candidates()
        namespace = node.get("namespace")
        if namespace is not None:
            wanted = _str(namespace) if namespace not in ("", "default") else "default"

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
        metadata = _metadata(referral.obj)
        node["name"] = _str(metadata.get("name"))
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


def _fix_name_references(ra: list[_Res]) -> None:
    for res in ra:
        original = res.original()
        referrer = _Referrer(res, ra)
        for target, spec in _REFS.get(original.kind, []):
            if not spec.selects(original.group, original.version, original.kind):
                continue
            referrer.target, referrer.spec = target, spec
            try:
                _apply_spec(res.obj, spec, referrer.visit, False)
            except _FieldError as exc:
                raise RenderError(
                    f"{res.id().text()}: {_field_name(exc.path)} is a scalar where kustomize "
                    f"looks for {'/'.join(name for name, _ in spec.path)} (a name reference)",
                    res.origin[0], res.origin[3]) from None


def _sort(ra: list[_Res], options: dict[str, Any]) -> list[_Res]:
    if options.get("order") == "fifo":
        return ra
    legacy = options.get("legacySortOptions") or {}
    first = legacy.get("orderFirst") or _ORDER_FIRST
    last = legacy.get("orderLast") or _ORDER_LAST
    rank = {kind: index - len(first) for index, kind in enumerate(first)}
    rank.update({kind: index + 1 for index, kind in enumerate(last)})

    def gvk_text(rid: _Id) -> str:
        return "_".join((rid.group or "~G", rid.version or "~V", rid.kind or "~K"))

    def id_text(rid: _Id) -> str:
        return "|".join((rid.group, rid.version, rid.kind, rid.namespace or "~X",
                         rid.name or "~N"))

    def less(a: _Id, b: _Id) -> bool:
        if a[:3] != b[:3]:
            if rank.get(a.kind, 0) != rank.get(b.kind, 0):
                return rank.get(a.kind, 0) < rank.get(b.kind, 0)
            if a.kind == b.kind == "Namespace" and (not a.group or not b.group):
                return gvk_text(a) > gvk_text(b)
            return gvk_text(a) < gvk_text(b)
        return id_text(a) < id_text(b)

    def compare(a: _Res, b: _Res) -> int:
        ida, idb = a.id(), b.id()
        return -1 if less(ida, idb) else (1 if less(idb, ida) else 0)

    return sorted(ra, key=functools.cmp_to_key(compare))


def _finish(k: _Kustomization, ra: list[_Res]) -> list[RenderedResource]:
    _add_hashes(ra)
    _fix_name_references(ra)
    rendered = []
    for res in _sort(ra, k.get("sortOptions") or {}):
        metadata = res.obj.get("metadata")
        if isinstance(metadata, dict) and not metadata.get("annotations") \
                and "annotations" in metadata:
            del metadata["annotations"]
        file, doc, prefix, line = res.origin
        rendered.append(RenderedResource(res.obj, file, doc, prefix, line,
                                         dict(res.provenance)))
    return rendered


# =============================================================================
# Public API
# =============================================================================

def render_builtin(tree: FileTree, directory: str) -> Rendering:
    """Render with the built-in renderer; RenderError names what it cannot do."""
    builder = _Builder(tree)
    k, ra = builder.target(directory)
    return Rendering(directory, _finish(k, ra), builder.files.inputs)


def render(tree: FileTree, directory: str, mode: str = "auto") -> Rendering:
    """Render the kustomization in ``directory``: built in, with a binary, or either."""
    if mode not in MODES:
        raise RenderError(f"unknown Kustomize mode {mode!r} (expected one of "
                          f"{', '.join(MODES)})")
    if mode == "builtin":
        return render_builtin(tree, directory)
    from gate.renderers import kustomize_binary

    command = kustomize_binary.find_binary()
    if command is None:
        if mode == "binary":
            raise RenderError("--kustomize=binary: neither kustomize nor kubectl is on PATH",
                              kustomization_file(tree, directory) or directory or ".")
        return render_builtin(tree, directory)
    return kustomize_binary.render_with_binary(tree, directory, command)
