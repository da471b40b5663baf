"""The end of a top-level build: content-hash suffixes, name references, output order."""
from __future__ import annotations

import functools
import hashlib
from typing import Any

from gate.loading.renderers import RenderedResource
from gate.loading.renderers.kustomize.loading import Kustomization
from gate.loading.renderers.kustomize.name_references import fix_name_references
from gate.loading.renderers.kustomize.resources import Resource, ResourceId, as_text, metadata_of

# kustomize's "legacy" output order: these kinds first (in this order), these last.
_ORDER_FIRST = (
    "Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount",
    "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding",
    "ConfigMap", "Secret", "Endpoints", "Service", "LimitRange", "PriorityClass",
    "PersistentVolume", "PersistentVolumeClaim", "Deployment", "StatefulSet", "CronJob",
    "PodDisruptionBudget",
)
_ORDER_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")


def _go_json(value: Any) -> str:
    """Go's encoding/json for the hash: sorted keys, HTML-safe escapes."""
    if isinstance(value, dict):
        items = sorted((as_text(key), item) for key, item in value.items())
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


def _add_hashes(resources: list[Resource]) -> None:
    for res in resources:
        if res.hashed:
            metadata = metadata_of(res.obj)
            res.remember()
            metadata["name"] = f"{as_text(metadata.get('name'))}-{content_hash(res.obj)}"


def _sort(resources: list[Resource], options: dict[str, Any]) -> list[Resource]:
    if options.get("order") == "fifo":
        return resources
    legacy = options.get("legacySortOptions") or {}
    first = legacy.get("orderFirst") or _ORDER_FIRST
    last = legacy.get("orderLast") or _ORDER_LAST
    rank = {kind: index - len(first) for index, kind in enumerate(first)}
    rank.update({kind: index + 1 for index, kind in enumerate(last)})

    def gvk_text(resource_id: ResourceId) -> str:
        return "_".join((resource_id.group or "~G", resource_id.version or "~V",
                         resource_id.kind or "~K"))

    def id_text(resource_id: ResourceId) -> str:
        return "|".join((resource_id.group, resource_id.version, resource_id.kind,
                         resource_id.namespace or "~X", resource_id.name or "~N"))

    def less(a: ResourceId, b: ResourceId) -> bool:
        if a[:3] != b[:3]:
            if rank.get(a.kind, 0) != rank.get(b.kind, 0):
                return rank.get(a.kind, 0) < rank.get(b.kind, 0)
            if a.kind == b.kind == "Namespace" and (not a.group or not b.group):
                return gvk_text(a) > gvk_text(b)
            return gvk_text(a) < gvk_text(b)
        return id_text(a) < id_text(b)

    def compare(a: Resource, b: Resource) -> int:
        a_id, b_id = a.id(), b.id()
        return -1 if less(a_id, b_id) else (1 if less(b_id, a_id) else 0)

    return sorted(resources, key=functools.cmp_to_key(compare))


def finish(k: Kustomization, resources: list[Resource]) -> list[RenderedResource]:
    _add_hashes(resources)
    fix_name_references(resources)
    rendered = []
    for res in _sort(resources, k.get("sortOptions") or {}):
        metadata = res.obj.get("metadata")
        if isinstance(metadata, dict) and not metadata.get("annotations") \
                and "annotations" in metadata:
            del metadata["annotations"]
        file, doc, prefix, line = res.origin
        rendered.append(RenderedResource(res.obj, file, doc, prefix, line,
                                         dict(res.provenance)))
    return rendered
