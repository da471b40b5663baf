"""The kustomization's own transformers besides patches and images: namespace,
namePrefix and nameSuffix, labels and commonLabels, commonAnnotations, replicas."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gate.limits import MAX_REPLICAS
from gate.loading.renderers import FieldPath
from gate.loading.renderers.kustomize.field_specs import (
    COMMON_ANNOTATIONS,
    COMMON_LABELS,
    METADATA_LABELS,
    NAMESPACE_FIELDS,
    TEMPLATE_LABELS,
    FieldError,
    FieldSpec,
    Setter,
    apply_specs,
    field_spec,
)
from gate.loading.renderers.kustomize.loading import Kustomization
from gate.loading.renderers.kustomize.provenance import Where
from gate.loading.renderers.kustomize.resources import Resource, as_text, check_unique, metadata_of
from gate.loading.renderers.kustomize.schema import field_name

_REPLICA_KINDS = ("Deployment", "ReplicationController", "ReplicaSet", "StatefulSet")
# namePrefix/nameSuffix leave these alone (by kind, and group where given).
NO_AFFIX_KINDS = (("", "CustomResourceDefinition"), ("apiregistration.k8s.io", "APIService"),
              ("", "Namespace"))


def apply_namespace(k: Kustomization, resources: list[Resource]) -> None:
    namespace = k.get("namespace")
    if not namespace:
        return
    where = k.where("namespace")
    for res in resources:
        res.remember()
        resource_id = res.id()
        if not resource_id.cluster_scoped():
            metadata_of(res.obj)["namespace"] = namespace
            res.set(("metadata", "namespace"), where)
        if resource_id.kind == "Namespace" and res.obj.get("apiVersion") == "v1":
            metadata_of(res.obj)["name"] = namespace
            res.set(("metadata", "name"), where)

        def set_namespace(parent: dict[str, Any], key: str, path: FieldPath,
                          res: Resource = res) -> None:
            parent[key] = namespace
            res.set(path, where)

        apply_specs(res, NAMESPACE_FIELDS, set_namespace, False, where, "namespace")
        if resource_id.kind in ("RoleBinding", "ClusterRoleBinding"):
            _default_subjects(res, namespace, where)
    check_unique(resources, k.file, k.line("namespace"), "namespace")


def _default_subjects(res: Resource, namespace: str, where: Where) -> None:
    """kustomize moves subjects named "default" into the namespace too."""
    subjects = res.obj.get("subjects")
    if not isinstance(subjects, list):
        return
    for index, subject in enumerate(subjects):
        if isinstance(subject, dict) and subject.get("name") == "default":
            subject["namespace"] = namespace
            res.set(("subjects", index, "namespace"), where)


def apply_name_affix(k: Kustomization, resources: list[Resource], key: str) -> None:
    affix = k.get(key)
    if not affix:
        return
    where = k.where(key)
    for res in resources:
        original = res.original()
        if any(kind == original.kind and (not group or group == original.group)
               for group, kind in NO_AFFIX_KINDS):
            continue
        metadata = metadata_of(res.obj)
        name = as_text(metadata.get("name"))
        res.remember()
        if key == "namePrefix":
            metadata["name"] = affix + name
            res.prefixes.append(affix)
        else:
            metadata["name"] = name + affix
            res.suffixes.append(affix)
        res.set(("metadata", "name"), where)


def map_setter(values: dict[str, str], where: Callable[[str], Where], res: Resource) -> Setter:
    def setter(parent: dict[str, Any], key: str, path: FieldPath) -> None:
        target = parent.get(key)
        if target is None:
            target = parent[key] = {}
        if not isinstance(target, dict):
            raise FieldError(path)
        for name, value in values.items():
            target[name] = value
            res.set((*path, name), where(name))
    return setter


def apply_labels(k: Kustomization, resources: list[Resource]) -> None:
    plans: list[tuple[dict[str, str], tuple[FieldSpec, ...], FieldPath]] = []
    for index, entry in k.items("labels"):
        specs = tuple(
            field_spec(as_text(spec.get("path")), spec.get("kind"), spec.get("group"),
                       spec.get("version"), bool(spec.get("create")))
            for spec in entry.get("fields") or [] if spec
        )
        if entry.get("includeSelectors"):
            specs += COMMON_LABELS
        else:
            specs += TEMPLATE_LABELS if entry.get("includeTemplates") else METADATA_LABELS
        plans.append((entry.get("pairs") or {}, specs, ("labels", index, "pairs")))
    if k.get("commonLabels"):
        plans.append((k.get("commonLabels"), COMMON_LABELS, ("commonLabels",)))
    for values, specs, key in plans:
        if not values:
            continue
        unique = tuple(dict.fromkeys(specs))

        def where(name: str, key: FieldPath = key) -> Where:
            return k.where(*key, name)

        for res in resources:
            apply_specs(res, unique, map_setter(values, where, res), True, k.where(*key),
                        field_name(key))


def apply_annotations(k: Kustomization, resources: list[Resource]) -> None:
    values = k.get("commonAnnotations")
    if not values:
        return
    for res in resources:
        setter = map_setter(values, lambda name: k.where("commonAnnotations", name), res)
        apply_specs(res, COMMON_ANNOTATIONS, setter, True, k.where("commonAnnotations"),
                    "commonAnnotations")


def apply_replicas(k: Kustomization, resources: list[Resource]) -> None:
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
        for res in resources:
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
