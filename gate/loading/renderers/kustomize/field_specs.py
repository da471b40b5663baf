"""Field specs: where a transformer writes, for the kinds it selects.

kustomize's built-in field specs (v5.5) for labels, annotations, namespaces and
images, and the walk that calls a setter at each place a spec names.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

from gate.loading.renderers import FieldPath, RenderError
from gate.loading.renderers.kustomize.provenance import Where
from gate.loading.renderers.kustomize.resources import Resource, origin_text
from gate.loading.renderers.kustomize.schema import field_name


class FieldSpec(NamedTuple):
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


def field_spec(path: str, kind: str | None = None, group: str | None = None,
               version: str | None = None, create: bool = False) -> FieldSpec:
    return FieldSpec(_split_path(path), group, version, kind, create)


TEMPLATE_LABELS = (
    field_spec("metadata/labels", create=True),
    field_spec("spec/template/metadata/labels", "ReplicationController", version="v1", create=True),
    field_spec("spec/template/metadata/labels", "Deployment", create=True),
    field_spec("spec/template/metadata/labels", "ReplicaSet", create=True),
    field_spec("spec/template/metadata/labels", "DaemonSet", create=True),
    field_spec("spec/template/metadata/labels", "StatefulSet", "apps", create=True),
    field_spec("spec/volumeClaimTemplates[]/metadata/labels", "StatefulSet", "apps", create=True),
    field_spec("spec/template/metadata/labels", "Job", "batch", create=True),
    field_spec("spec/jobTemplate/metadata/labels", "CronJob", "batch", create=True),
    field_spec("spec/jobTemplate/spec/template/metadata/labels", "CronJob", "batch", create=True),
)
_AFFINITY_SELECTORS = (
    *(f"spec/template/spec/affinity/{kind}/{term}/labelSelector/matchLabels"
      for kind in ("podAffinity", "podAntiAffinity")
      for term in ("preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm",
                   "requiredDuringSchedulingIgnoredDuringExecution")),
    "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
)
COMMON_LABELS = (
    field_spec("spec/selector", "Service", version="v1", create=True),
    field_spec("spec/selector", "ReplicationController", version="v1", create=True),
    field_spec("spec/selector/matchLabels", "Deployment", create=True),
    *(field_spec(path, "Deployment", "apps") for path in _AFFINITY_SELECTORS),
    field_spec("spec/selector/matchLabels", "ReplicaSet", create=True),
    field_spec("spec/selector/matchLabels", "DaemonSet", create=True),
    field_spec("spec/selector/matchLabels", "StatefulSet", "apps", create=True),
    *(field_spec(path, "StatefulSet", "apps") for path in _AFFINITY_SELECTORS),
    field_spec("spec/selector/matchLabels", "Job", "batch"),
    field_spec("spec/jobTemplate/spec/selector/matchLabels", "CronJob", "batch"),
    field_spec("spec/selector/matchLabels", "PodDisruptionBudget", "policy"),
    field_spec("spec/podSelector/matchLabels", "NetworkPolicy", "networking.k8s.io"),
    field_spec("spec/ingress/from/podSelector/matchLabels", "NetworkPolicy", "networking.k8s.io"),
    field_spec("spec/egress/to/podSelector/matchLabels", "NetworkPolicy", "networking.k8s.io"),
    *TEMPLATE_LABELS,
)
METADATA_LABELS = (field_spec("metadata/labels", create=True),)
COMMON_ANNOTATIONS = (
    field_spec("metadata/annotations", create=True),
    field_spec("spec/template/metadata/annotations", "ReplicationController", version="v1",
               create=True),
    *(field_spec("spec/template/metadata/annotations", kind, create=True)
      for kind in ("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet")),
    field_spec("spec/template/metadata/annotations", "Job", "batch", create=True),
    field_spec("spec/jobTemplate/metadata/annotations", "CronJob", "batch", create=True),
    field_spec("spec/jobTemplate/spec/template/metadata/annotations", "CronJob", "batch",
               create=True),
)
NAMESPACE_FIELDS = (
    field_spec("spec/service/namespace", "APIService", "apiregistration.k8s.io", create=True),
    field_spec("spec/conversion/webhook/clientConfig/service/namespace", "CustomResourceDefinition",
               "apiextensions.k8s.io"),
)
IMAGE_FIELDS = tuple(
    field_spec(path) for path in ("spec/containers[]/image", "spec/initContainers[]/image",
                                  "spec/template/spec/containers[]/image",
                                  "spec/template/spec/initContainers[]/image")
)


class FieldError(Exception):
    def __init__(self, path: FieldPath) -> None:
        super().__init__(path)
        self.path = path


Setter = Callable[[dict[str, Any], str, FieldPath], None]


def apply_spec(obj: dict[str, Any], spec: FieldSpec, setter: Setter,
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
            raise FieldError(path)
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


def apply_specs(res: Resource, specs: tuple[FieldSpec, ...], setter: Setter, create_map: bool,
                blame: Where, what: str) -> None:
    resource_id = res.id()
    for spec in specs:
        if not spec.selects(resource_id.group, resource_id.version, resource_id.kind):
            continue
        try:
            apply_spec(res.obj, spec, setter, create_map)
        except FieldError as exc:
            raise RenderError(
                f"{what}: {resource_id.text()} ({origin_text(res)}) has a scalar at "
                f"{field_name(exc.path) or 'its root'} where a mapping or list is expected",
                *blame) from None
