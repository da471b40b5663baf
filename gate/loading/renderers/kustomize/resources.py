"""Resources being rendered: their ids, and the list a kustomization accumulates.

A :class:`Resource` is an object in the making, with what kustomize remembers of
it (its earlier ids, name prefixes and suffixes, whether it gets a content hash)
and the provenance of its fields.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from gate.limits import MAX_RENDERED_RESOURCES
from gate.loading.renderers import FieldPath, RenderError
from gate.loading.renderers.kustomize.provenance import Provenance, Where

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


class ResourceId(NamedTuple):
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

    def same(self, other: ResourceId) -> bool:
        return (self[:4] == other[:4]
                and self.effective_namespace() == other.effective_namespace())

    def text(self) -> str:
        namespace = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {namespace}{self.name}"


def as_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _split_api_version(api_version: Any) -> tuple[str, str]:
    text = as_text(api_version)
    group, slash, version = text.rpartition("/")
    return (group, version) if slash else ("", text)


def metadata_of(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        metadata = obj["metadata"] = {}
    return metadata


def id_of(obj: dict[str, Any]) -> ResourceId:
    group, version = _split_api_version(obj.get("apiVersion"))
    metadata = obj.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    return ResourceId(group, version, as_text(obj.get("kind")), as_text(metadata.get("name")),
                      as_text(metadata.get("namespace")))


@dataclass(eq=False)
class Resource:
    """A resource in the making, with what kustomize remembers about it."""

    obj: dict[str, Any]
    origin: tuple[str, int, FieldPath, int]  # file, document, path in document, line
    provenance: Provenance = field(default_factory=Provenance)
    previous: list[ResourceId] = field(default_factory=list)  # earlier ids, oldest first
    prefixes: list[str] = field(default_factory=list)
    suffixes: list[str] = field(default_factory=list)
    hashed: bool = False  # a generated ConfigMap/Secret that gets a content-hash suffix

    def id(self) -> ResourceId:
        return id_of(self.obj)

    def original(self) -> ResourceId:
        return self.previous[0] if self.previous else self.id()

    def ids(self) -> list[ResourceId]:
        return [*self.previous, self.id()]

    def remember(self) -> None:
        self.previous.append(self.id())

    def set(self, path: FieldPath, where: Where) -> None:
        self.provenance.set(path, where)


def append_resources(resources: list[Resource], new: list[Resource], blame: str, line: int | None,
                     seen: dict[tuple[str, str, str, str, str], Resource] | None = None) -> None:
    """Add resources; an id already present is an error (as in kustomize).

    ``seen``, the ids of ``resources`` kept by a caller that appends many times, saves building
    it anew each time (thousands of ``resources`` entries would cost quadratic time)."""
    if len(resources) + len(new) > MAX_RENDERED_RESOURCES:
        # Bases included through several overlays multiply: each level may double.
        raise RenderError(f"the kustomization renders more than {MAX_RENDERED_RESOURCES:,} "
                          "resources (gate's limit)", blame, line)
    if seen is None:
        seen = {id_key(r.id()): r for r in resources}
    for res in new:
        key = id_key(res.id())
        if key in seen:
            raise RenderError(
                f"{res.id().text()} ({origin_text(res)}) is already in the resources "
                f"(from {origin_text(seen[key])}); kustomize refuses duplicate ids",
                blame, line)
        seen[key] = res
        resources.append(res)


def id_key(resource_id: ResourceId) -> tuple[str, str, str, str, str]:
    return (*resource_id[:4], resource_id.effective_namespace())


def origin_text(res: Resource) -> str:
    return f"{res.origin[0]}:{res.origin[3]}"


def check_unique(resources: list[Resource], blame: str, line: int | None, what: str) -> None:
    seen: dict[tuple[str, str, str, str, str], Resource] = {}
    for res in resources:
        key = id_key(res.id())
        if key in seen:
            raise RenderError(f"{what} gives two resources the same id {res.id().text()} "
                              f"(from {origin_text(seen[key])} and {origin_text(res)})",
                              blame, line)
        seen[key] = res
