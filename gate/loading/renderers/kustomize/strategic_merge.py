"""Patching for the Kustomize renderer: strategic merge, JSON 6902, and provenance.

Both patchers change a resource in place and tell a :class:`Provenance` which
field paths they set, so a finding on a patched field points at the patch line
that set it. Strategic merge follows what ``kubectl kustomize`` (kustomize
v5.5, kyaml) does, checked against the binary:

- maps merge key by key; ``key: null`` deletes the key;
- a list merges by its merge key only where the Kubernetes schema gives it one
  (``containers`` by ``name``, container ``ports`` by ``containerPort``...), and
  only for built-in kinds; every other list is replaced, as are all lists of
  custom resources (kustomize does not infer merge keys);
- a merged list holds the patch's elements first, in patch order, then the
  elements only the target had, in their order;
- ``$patch: delete`` and ``$patch: replace`` work on maps and list elements
  (``- $patch: replace`` as a list element replaces the whole list).

The other directives (``$setElementOrder/...``, ``$retainKeys``,
``$deleteFromPrimitiveList/...``) are an error: kustomize copies them into the
output verbatim, which no API server accepts.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gate.loading.renderers.kustomize.provenance import (
    FieldPath,
    Locate,
    PatchError,
    Provenance,
    clone,
)

DIRECTIVE = "$patch"
_DELETE = object()  # a merge result meaning "remove this field/element"


# -- which lists merge, and by what key (Kubernetes 1.21 schema, as kustomize) --

@dataclass(frozen=True)
class _ListField:
    key: str | None  # merge key; None for a list of scalars merged as a set
    element: Schema | None = None


Schema = dict[str, "_ListField | Schema"]

_OBJECT_META: Schema = {
    "finalizers": _ListField(None),
    "ownerReferences": _ListField("uid"),
}
_CONTAINER: Schema = {
    "ports": _ListField("containerPort"),
    "env": _ListField("name"),
    "volumeMounts": _ListField("mountPath"),
    "volumeDevices": _ListField("devicePath"),
}
_POD_SPEC: Schema = {
    "containers": _ListField("name", _CONTAINER),
    "initContainers": _ListField("name", _CONTAINER),
    "ephemeralContainers": _ListField("name", _CONTAINER),
    "volumes": _ListField("name"),
    "imagePullSecrets": _ListField("name"),
    "hostAliases": _ListField("ip"),
    "topologySpreadConstraints": _ListField("topologyKey"),
}
_POD_TEMPLATE: Schema = {"metadata": _OBJECT_META, "spec": _POD_SPEC}
_WORKLOAD: Schema = {"metadata": _OBJECT_META, "spec": {"template": _POD_TEMPLATE}}
_STATUS_CONDITIONS: Schema = {"conditions": _ListField("type")}
_SCHEMAS: dict[tuple[str, str], Schema] = {
    ("v1", "Pod"): {"metadata": _OBJECT_META, "spec": _POD_SPEC},
    ("v1", "PodTemplate"): {"metadata": _OBJECT_META, "template": _POD_TEMPLATE},
    ("v1", "ReplicationController"): _WORKLOAD,
    ("v1", "Service"): {"metadata": _OBJECT_META, "spec": {"ports": _ListField("port")}},
    ("apps/v1", "Deployment"): {**_WORKLOAD, "status": _STATUS_CONDITIONS},
    ("apps/v1", "StatefulSet"): _WORKLOAD,
    ("apps/v1", "DaemonSet"): _WORKLOAD,
    ("apps/v1", "ReplicaSet"): _WORKLOAD,
    ("batch/v1", "Job"): _WORKLOAD,
    **{
        (version, "CronJob"): {
            "metadata": _OBJECT_META,
            "spec": {"jobTemplate": {"metadata": _OBJECT_META,
                                     "spec": {"template": _POD_TEMPLATE}}},
        }
        for version in ("batch/v1", "batch/v1beta1")
    },
    **{
        (f"admissionregistration.k8s.io/{version}", kind): {
            "metadata": _OBJECT_META, "webhooks": _ListField("name"),
        }
        for version in ("v1", "v1beta1")
        for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
    },
}
# Built-in API groups: their kinds at least merge ObjectMeta's lists.
_BUILTIN_GROUPS = {
    "", "apps", "batch", "policy", "autoscaling", "networking.k8s.io",
    "rbac.authorization.k8s.io", "storage.k8s.io", "scheduling.k8s.io", "node.k8s.io",
    "coordination.k8s.io", "discovery.k8s.io", "certificates.k8s.io", "events.k8s.io",
    "apiextensions.k8s.io", "apiregistration.k8s.io", "admissionregistration.k8s.io",
    "flowcontrol.apiserver.k8s.io",
}


def schema_for(api_version: Any, kind: Any) -> Schema | None:
    """The merge schema kustomize knows for a kind (None: a custom resource)."""
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return None
    found = _SCHEMAS.get((api_version, kind))
    if found is not None:
        return found
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    return {"metadata": _OBJECT_META} if group in _BUILTIN_GROUPS else None


def _child(schema: Schema | None, key: Any) -> _ListField | Schema | None:
    if schema is None or not isinstance(key, str):
        return None
    return schema.get(key)


# -- strategic merge -------------------------------------------------------------

@dataclass
class _Merge:
    provenance: Provenance | None
    locate: Locate

    def record(self, path: FieldPath, patch_path: FieldPath) -> None:
        if self.provenance is not None:
            self.provenance.set(path, self.locate(patch_path))

    def forget(self, path: FieldPath) -> None:
        if self.provenance is not None:
            self.provenance.drop(path)


def strategic_merge(
    target: dict[str, Any], patch: dict[str, Any],
    provenance: Provenance | None = None, locate: Locate | None = None,
) -> dict[str, Any] | None:
    """Merge ``patch`` into ``target`` (in place); None when the patch deletes it."""
    merge = _Merge(provenance, locate or (lambda path: ("", 1)))
    schema = schema_for(target.get("apiVersion"), target.get("kind"))
    result = _merge_value(merge, target, patch, schema, (), ())
    if result is _DELETE:
        return None
    assert isinstance(result, dict)
    return result


def _kind_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list):
        return "a list"
    return "a scalar"


def _merge_value(merge: _Merge, dest: Any, patch: Any, schema: Any,
                 path: FieldPath, ppath: FieldPath) -> Any:
    if isinstance(patch, dict):
        return _merge_map(merge, dest, patch, schema if isinstance(schema, dict) else None,
                          path, ppath)
    if isinstance(patch, list):
        field = schema if isinstance(schema, _ListField) else None
        return _merge_list(merge, dest, patch, field, path, ppath)
    if isinstance(dest, (dict, list)):
        raise PatchError(f"cannot merge a scalar into {_kind_name(dest)}", ppath)
    merge.record(path, ppath)
    return patch


def _directive(patch: dict[str, Any], ppath: FieldPath) -> str:
    for key in patch:
        if isinstance(key, str) and key.startswith("$") and key != DIRECTIVE:
            raise PatchError(
                f"strategic merge directive {key!r} is not supported (kustomize copies it "
                "into the output verbatim)", (*ppath, key),
            )
    value = patch.get(DIRECTIVE, "merge")
    if value not in ("merge", "replace", "delete"):
        raise PatchError(f"unknown strategic merge directive $patch: {value!r}",
                         (*ppath, DIRECTIVE))
    return str(value)


def _merge_map(merge: _Merge, dest: Any, patch: dict[str, Any], schema: Schema | None,
               path: FieldPath, ppath: FieldPath) -> Any:
    if dest is not None and not isinstance(dest, dict):
        raise PatchError(f"cannot merge a map into {_kind_name(dest)}", ppath)
    directive = _directive(patch, ppath)
    if directive == "delete":
        return _DELETE
    if directive == "replace" or dest is None:
        merge.record(path, ppath)
        return _clean(patch, schema, ppath)
    for key, value in patch.items():
        if key == DIRECTIVE:
            continue
        child_path, child_ppath = (*path, key), (*ppath, key)
        if value is None:
            if key in dest:
                del dest[key]
                merge.forget(child_path)
            continue
        if dest.get(key) is None:
            cleaned = _clean(value, _child(schema, key), child_ppath)
            if cleaned is not _DELETE:
                dest[key] = cleaned
                merge.record(child_path, child_ppath)
            continue
        merged = _merge_value(merge, dest[key], value, _child(schema, key), child_path,
                              child_ppath)
        if merged is _DELETE:
            del dest[key]
            merge.forget(child_path)
        else:
            dest[key] = merged
    return dest


def _list_directive(patch: list[Any], ppath: FieldPath) -> tuple[str, list[tuple[int, Any]]]:
    """A ``- $patch: replace|delete|merge`` element of a list, and the other elements
    (with their indices in the patch)."""
    directive = "merge"
    elements: list[tuple[int, Any]] = []
    for index, element in enumerate(patch):
        if isinstance(element, dict) and set(element) == {DIRECTIVE}:
            directive = _directive(element, (*ppath, index))
        else:
            elements.append((index, element))
    return directive, elements


def _merge_list(merge: _Merge, dest: Any, patch: list[Any], field: _ListField | None,
                path: FieldPath, ppath: FieldPath) -> Any:
    if dest is not None and not isinstance(dest, list):
        raise PatchError(f"cannot merge a list into {_kind_name(dest)}", ppath)
    if field is None:  # a list without a merge strategy: the patch's, verbatim
        merge.record(path, ppath)
        return clone(patch)
    directive, elements = _list_directive(patch, ppath)
    if directive == "delete":
        return _DELETE
    if directive == "replace":  # kustomize also drops the elements that carry a directive
        elements = [(i, e) for i, e in elements if not (isinstance(e, dict) and DIRECTIVE in e)]
    if dest is None or directive == "replace":
        merge.record(path, ppath)
        return _clean_elements(elements, field, ppath)
    if field.key is None:
        return _merge_set(merge, dest, [element for _, element in elements], path, ppath)
    return _merge_keyed(merge, dest, elements, field, path, ppath)


def _merge_set(merge: _Merge, dest: list[Any], elements: list[Any],
               path: FieldPath, ppath: FieldPath) -> list[Any]:
    result: list[Any] = []
    for element in elements:
        if element not in result:
            result.append(element)
    result += [element for element in dest if element not in result]
    merge.record(path, ppath)
    return result


def _merge_keyed(merge: _Merge, dest: list[Any], elements: list[tuple[int, Any]],
                 field: _ListField, path: FieldPath, ppath: FieldPath) -> list[Any]:
    """Merge by key: the patch's elements first (merged into the target's of the same
    key), then the target's other elements, as kustomize orders them."""
    key = field.key
    assert key is not None
    patch_index: dict[Any, int] = {}
    for index, element in elements:
        if not isinstance(element, dict) or key not in element:
            raise PatchError(f"a list element of this patch has no merge key {key!r}",
                             (*ppath, index))
        patch_index.setdefault(_hashable(element[key]), index)
    matched: dict[int, int] = {}  # patch index -> target index
    for position, existing in enumerate(dest):
        if isinstance(existing, dict) and key in existing:
            found = patch_index.get(_hashable(existing[key]))
            if found is not None and found not in matched:
                matched[found] = position
    moves: dict[int, int | None] = {i: None for i in matched.values()}
    plan: list[tuple[int, Any]] = []
    for index, element in elements:
        if element.get(DIRECTIVE) == "delete":
            continue
        old = matched.get(index)
        if old is not None:
            moves[old] = len(plan)
        plan.append((index, dest[old] if old is not None else None))
    rest = [position for position in range(len(dest)) if position not in matched.values()]
    for offset, position in enumerate(rest):
        moves[position] = len(plan) + offset
    if merge.provenance is not None:
        merge.provenance.remap(path, moves)
    by_index = dict(elements)
    merged: list[Any] = []
    for new_index, (index, existing) in enumerate(plan):
        element = by_index[index]
        if existing is not None and element.get(DIRECTIVE) == "replace":
            merged.append(existing)  # kustomize leaves a matched "replace" element as it was
            continue
        if existing is not None:  # the merge key names the element; it sets nothing
            element = {k: v for k, v in element.items() if k != key}
        merged.append(_merge_value(merge, existing, element, field.element,
                                   (*path, new_index), (*ppath, index)))
    return merged + [dest[position] for position in rest]


def _hashable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


def _clean(value: Any, schema: Any, ppath: FieldPath) -> Any:
    """A patch value added where the target had nothing, as kustomize adds it: maps
    lose their null fields and directives, lists that merge lose deleted elements,
    other lists are taken verbatim."""
    if isinstance(value, dict):
        if _directive(value, ppath) == "delete":
            return _DELETE
        fields = schema if isinstance(schema, dict) else None
        cleaned: dict[Any, Any] = {}
        for key, item in value.items():
            if key == DIRECTIVE or item is None:
                continue
            result = _clean(item, _child(fields, key), (*ppath, key))
            if result is not _DELETE:
                cleaned[key] = result
        return cleaned
    if isinstance(value, list):
        if not isinstance(schema, _ListField):
            return clone(value)
        directive, elements = _list_directive(value, ppath)
        if directive == "delete":
            return _DELETE
        return _clean_elements(elements, schema, ppath)
    return value


def _clean_elements(elements: list[tuple[int, Any]], field: _ListField,
                    ppath: FieldPath) -> list[Any]:
    items = [_clean(item, field.element, (*ppath, index)) for index, item in elements]
    return [item for item in items if item is not _DELETE]

