"""Kustomize ``transformers:`` and ``generators:`` holding builtin plugin configs.

kustomize (v5.5, ``api/internal/target/kusttarget.go``) reads each entry of these
fields as an inline YAML config or a path (a file, or a directory whose
kustomization builds the configs), collects the configs as resources (inline
ones first, then the paths, in order; ids must be unique), and runs each one
after the kustomization's own generators or transformers. Only configs with
``apiVersion: builtin`` load without ``--enable-alpha-plugins``; gate refuses the
others, naming the field and the kind.

Each builtin plugin runs through the code the equivalent kustomization field
uses (patches, generators, field-spec walking, image rules), but with the
plugin's own ``fieldSpecs`` (a plugin config gets no default field specs), and
the lines that set a field are the lines of the config.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gate.loading.renderers import FieldPath, RenderError
from gate.loading.renderers.kustomize import replacements
from gate.loading.renderers.kustomize.field_specs import (
    FieldError,
    FieldSpec,
    apply_spec,
    apply_specs,
    field_spec,
)
from gate.loading.renderers.kustomize.generators import absorb, generated_resource
from gate.loading.renderers.kustomize.images import ImageRule, apply_image_rule, image_pattern
from gate.loading.renderers.kustomize.loading import Kustomization, value_node
from gate.loading.renderers.kustomize.patches import (
    apply_patches,
    apply_patches_json6902,
    apply_patches_strategic_merge,
)
from gate.loading.renderers.kustomize.provenance import Where, clone
from gate.loading.renderers.kustomize.reading import Reader
from gate.loading.renderers.kustomize.resources import (
    Resource,
    append_resources,
    as_text,
    check_unique,
    metadata_of,
)
from gate.loading.renderers.kustomize.schema import (
    FIELD_SPEC_SHAPE,
    GENERATOR_SHAPE,
    SELECTOR_SHAPE,
    field_name,
    shape_error,
)
from gate.loading.renderers.kustomize.transformers import NO_AFFIX_KINDS, map_setter
from gate.loading.yamlio import YamlInputError, line_of_path, load_documents

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"

_FIELD_SPECS: Any = [FIELD_SPEC_SHAPE]
_IMAGE: Any = {key: "str" for key in ("name", "newName", "newTag", "digest", "tagSuffix")}
# What each builtin plugin's config may hold besides apiVersion, kind and metadata.
_SHAPES: dict[str, dict[str, Any]] = {
    "LabelTransformer": {"labels": "str map", "fieldSpecs": _FIELD_SPECS},
    "AnnotationsTransformer": {"annotations": "str map", "fieldSpecs": _FIELD_SPECS},
    "NamespaceTransformer": {"fieldSpecs": _FIELD_SPECS, "unsetOnly": "bool",
                             "setRoleBindingSubjects": "str"},
    "PrefixSuffixTransformer": {"prefix": "str", "suffix": "str", "fieldSpecs": _FIELD_SPECS},
    "PrefixTransformer": {"prefix": "str", "fieldSpecs": _FIELD_SPECS},
    "SuffixTransformer": {"suffix": "str", "fieldSpecs": _FIELD_SPECS},
    "ImageTagTransformer": {"imageTag": _IMAGE, "fieldSpecs": _FIELD_SPECS},
    "ReplicaCountTransformer": {"replica": {"name": "str", "count": "int"},
                                "fieldSpecs": _FIELD_SPECS},
    "PatchTransformer": {"path": "str", "patch": "str", "target": SELECTOR_SHAPE,
                         "options": {"allowNameChange": "bool", "allowKindChange": "bool"}},
    "PatchStrategicMergeTransformer": {"paths": ["str"], "patches": "str"},
    "PatchJson6902Transformer": {"target": SELECTOR_SHAPE, "path": "str", "jsonOp": "str"},
    "ReplacementTransformer": {"replacements": "any"},
    "ConfigMapGenerator": dict(GENERATOR_SHAPE),
    "SecretGenerator": {**GENERATOR_SHAPE, "type": "str"},
}
_GENERATORS = ("ConfigMapGenerator", "SecretGenerator")
# Builtin plugins kustomize has that gate does not implement.
_UNIMPLEMENTED = ("HelmChartInflationGenerator", "IAMPolicyGenerator", "HashTransformer",
                  "ValueAddTransformer")
_UNSUPPORTED = "is not supported by gate's built-in Kustomize renderer"


@dataclass
class PluginConfig:
    """One plugin config: its data, and where its fields are written."""

    obj: dict[str, Any]
    file: str
    node: Node  # the config's mapping node, its marks on the file's lines
    label: str  # how to name it in errors: "transformers[0] (LabelTransformer x)"

    def line(self, *path: str | int) -> int:
        return line_of_path(self.node, path)

    def where(self, *path: str | int) -> Where:
        return self.file, self.line(*path)

    def error(self, message: str, *path: str | int) -> RenderError:
        return RenderError(f"{self.label}: {message}", self.file, self.line(*path))

    def view(self, name: str, entries: list[Any], nodes: list[Node]) -> Kustomization:
        """A kustomization holding ``name: entries`` whose lines are this config's, so
        the code of that kustomization field applies the plugin."""
        mark = self.node.start_mark
        root = MappingNode(_MAP, [(ScalarNode(_STR, name, mark, mark),
                                   SequenceNode(_SEQ, nodes, mark, mark))], mark, mark)
        return Kustomization(self.file, self.directory, {name: entries}, root)

    directory: str = ""


# -- reading the configs ----------------------------------------------------------------

def _relocated(node: Node, line: Callable[[int], int]) -> Node:
    """A copy of ``node`` whose marks sit on the lines ``line`` maps them to."""
    copied = copy.copy(node)
    old = node.start_mark
    copied.start_mark = Mark(old.name, old.index, line(old.line), old.column, None, 0)
    if isinstance(node, MappingNode):
        copied.value = [(_relocated(k, line), _relocated(v, line)) for k, v in node.value]
    elif isinstance(node, SequenceNode):
        copied.value = [_relocated(item, line) for item in node.value]
    return copied


def _inline_configs(k: Kustomization, name: str, index: int, text: str,
                    ) -> list[PluginConfig] | None:
    """The configs of an inline entry, or None when the entry is a path (kustomize
    treats whatever does not parse as resources as a path)."""
    try:
        documents = [d for d in load_documents(text, k.file) if d.data is not None]
    except YamlInputError:
        return None
    if not documents or not all(isinstance(d.data, dict) for d in documents):
        return None
    node = value_node(k.node, (name, index))
    entry_line = k.line(name, index) - 1
    if isinstance(node, ScalarNode) and node.style == "|":
        offset = node.start_mark.line + 1

        def shift(line: int) -> int:
            return line + offset
    elif isinstance(node, ScalarNode) and node.style in (None, "", "'", '"') \
            and "\n" not in text:
        offset = node.start_mark.line

        def shift(line: int) -> int:
            return line + offset
    else:  # a folded or multi-line quoted string: lines inside it are not known
        def shift(line: int) -> int:
            return entry_line
    configs = []
    for document in documents:
        data = document.data
        metadata = data.get("metadata")
        if not isinstance(metadata, dict) or metadata.get("name") in (None, ""):
            raise k.error(f"{name}[{index}]: an inline plugin config needs metadata.name",
                          name, index)
        configs.append(PluginConfig(clone(data), k.file, _relocated(document.node, shift),
                                    f"{name}[{index}]", k.directory))
    return configs


def _document_node(reader: Reader, res: Resource) -> Node:
    file, doc, prefix, line = res.origin
    documents = reader.files.documents(file, file, line)
    node = value_node(documents[doc].node, prefix) if prefix else documents[doc].node
    return node if node is not None else documents[doc].node


def load_configs(reader: Reader, k: Kustomization, name: str) -> list[PluginConfig]:
    """The plugin configs ``name`` (transformers or generators) lists, in kustomize's
    order: inline ones first, then those read from paths."""
    inline: list[PluginConfig] = []
    paths: list[tuple[int, str]] = []
    collected: list[Resource] = []  # for kustomize's check that config ids are unique
    for index, entry in k.items(name):
        configs = _inline_configs(k, name, index, entry)
        if configs is None:
            paths.append((index, entry))
            continue
        new = [Resource(c.obj, (k.file, 0, (), c.line())) for c in configs]
        append_resources(collected, new, k.file, k.line(name, index))
        inline.extend(configs)
    from_paths: list[tuple[Resource, str]] = []
    for index, entry in paths:
        path = reader.path(k, entry, name, index)
        line = k.line(name, index)
        if reader.tree.is_dir(path):
            new = reader.target(path, k.file, line)[1]
        elif reader.tree.is_file(path):
            new = reader.read_resources(reader.file(k, entry, name, index), k.file, line)
        else:
            raise k.error(f"{name}[{index}]: {entry!r}: no such file or directory",
                          name, index)
        append_resources(collected, new, k.file, line)
        from_paths.extend((res, f"{name}[{index}]") for res in new)
    configs = list(inline)
    for res, label in from_paths:
        configs.append(PluginConfig(res.obj, res.origin[0], _document_node(reader, res),
                                    label, k.directory))
    for config in configs:
        _check(config, name)
    return configs


def _check(config: PluginConfig, name: str) -> None:
    obj = config.obj
    kind, api_version = as_text(obj.get("kind")), as_text(obj.get("apiVersion"))
    config.label = f"{config.label} ({kind} {as_text(metadata_of(obj).get('name'))})"
    if api_version != "builtin":
        raise config.error(
            f"{kind} ({api_version or 'no apiVersion'}) is an exec, container or Go plugin: "
            f"{name}: non-builtin plugins {_UNSUPPORTED} (kustomize runs them only with "
            "--enable-alpha-plugins)", "apiVersion")
    if kind in _UNIMPLEMENTED:
        raise config.error(f"{name}: the builtin {kind} {_UNSUPPORTED} (use "
                           "--kustomize=binary)", "kind")
    if kind not in _SHAPES:
        raise config.error(f"{name}: kustomize has no builtin plugin {kind!r}", "kind")
    if (kind in _GENERATORS) != (name == "generators"):
        role = "generator" if name == "generators" else "transformer"
        raise config.error(f"{name}: {kind} is not a {role}", "kind")
    shape = {"apiVersion": "str", "kind": "str", "metadata": "any", **_SHAPES[kind]}
    problem = shape_error(obj, shape, ())
    if problem is not None:
        message, path = problem
        shown = path[:-1] if message.startswith("unknown field") else path
        raise config.error(f"{field_name(shown) or 'the config'}: {message}", *path)


# -- generators -----------------------------------------------------------------------------

def run_generators(reader: Reader, k: Kustomization, resources: list[Resource]) -> None:
    """The ``generators:`` of ``k``, after its own configMapGenerator/secretGenerator."""
    for config in load_configs(reader, k, "generators"):
        kind = as_text(config.obj.get("kind"))
        entry = {key: value for key, value in config.obj.items()
                 if key not in ("apiVersion", "kind", "metadata")}
        metadata = metadata_of(config.obj)
        # kustomize: the generator's own name/namespace, else the config's metadata.
        for key in ("name", "namespace"):
            if not entry.get(key) and metadata.get(key):
                entry[key] = metadata[key]
        generator_field = ("configMapGenerator" if kind == "ConfigMapGenerator"
                           else "secretGenerator")
        view = config.view(generator_field, [entry], [config.node])
        res, behavior = generated_resource(reader, view, kind[:-len("Generator")],
                                           generator_field, 0, entry)
        absorb(resources, res, behavior, view, (generator_field, 0))


# -- transformers ---------------------------------------------------------------------------

def run_transformers(reader: Reader, k: Kustomization, resources: list[Resource]) -> None:
    """The ``transformers:`` of ``k``, after all of its own transformers."""
    for config in load_configs(reader, k, "transformers"):
        _TRANSFORMERS[as_text(config.obj.get("kind"))](reader, config, resources)


def _field_specs(config: PluginConfig) -> tuple[FieldSpec, ...]:
    return tuple(
        field_spec(as_text(spec.get("path")), spec.get("kind"), spec.get("group"),
                   spec.get("version"), bool(spec.get("create")))
        for spec in config.obj.get("fieldSpecs") or [] if spec
    )


def _map_values(config: PluginConfig, name: str, resources: list[Resource]) -> None:
    """LabelTransformer and AnnotationsTransformer: set each pair at every field spec."""
    values = config.obj.get(name) or {}
    if not values:
        return
    specs = _field_specs(config)
    for res in resources:
        setter = map_setter(values, lambda key: config.where(name, key), res)
        apply_specs(res, specs, setter, True, config.where(name), config.label)


def _labels(reader: Reader, config: PluginConfig, resources: list[Resource]) -> None:
    _map_values(config, "labels", resources)


def _annotations(reader: Reader, config: PluginConfig, resources: list[Resource]) -> None:
    _map_values(config, "annotations", resources)


_SUBJECT_MODES = ("defaultOnly", "allServiceAccounts", "none")


def _namespace(reader: Reader, config: PluginConfig, resources: list[Resource]) -> None:
    """NamespaceTransformer (kustomize's namespace filter): metadata.namespace of
    namespaced kinds always; the field specs, except metadata/namespace, and
    metadata/name only on apiVersion v1; RoleBinding subjects by mode."""
    namespace = as_text(metadata_of(config.obj).get("namespace"))
    mode = config.obj.get("setRoleBindingSubjects") or "defaultOnly"
    if mode not in _SUBJECT_MODES:
        raise config.error(f"setRoleBindingSubjects: must be one of {', '.join(_SUBJECT_MODES)}",
                           "setRoleBindingSubjects")
    if not namespace:
        return
    unset_only = bool(config.obj.get("unsetOnly"))
    where = config.where("metadata", "namespace")
    specs = _field_specs(config)
    for res in resources:
        res.remember()
        resource_id = res.id()

        def put(parent: dict[str, Any], key: str, path: FieldPath, res: Resource = res) -> None:
            if unset_only and parent.get(key) not in (None, ""):
                return
            if isinstance(parent.get(key), (dict, list)):
                raise config.error(f"{res.id().text()}: {field_name(path)} is not a "
                                   "scalar (namespace field specs must target scalars)")
            parent[key] = namespace
            res.set(path, where)

        if not resource_id.cluster_scoped():
            put(metadata_of(res.obj), "namespace", ("metadata", "namespace"))
        rolebinding = resource_id.kind in ("RoleBinding", "ClusterRoleBinding")
        kept = tuple(
            spec for spec in specs
            if spec.path != (("metadata", False), ("namespace", False))
            and (res.obj.get("apiVersion") == "v1"
                 or spec.path != (("metadata", False), ("name", False)))
            and not (rolebinding and spec.kind in ("RoleBinding", "ClusterRoleBinding")
                     and spec.path == (("subjects", False), ("namespace", False))))
        apply_specs(res, kept, put, False, where, config.label)
        if rolebinding and mode != "none":
            for index, subject in enumerate(res.obj.get("subjects") or []):
                if not isinstance(subject, dict):
                    continue
                if (mode == "defaultOnly" and subject.get("name") == "default") or (
                        mode == "allServiceAccounts" and subject.get("kind") == "ServiceAccount"):
                    put(subject, "namespace", ("subjects", index, "namespace"))
    check_unique(resources, config.file, config.line("metadata", "namespace"), config.label)


def _affix(config: PluginConfig, resources: list[Resource], key: str) -> None:
    """PrefixTransformer or SuffixTransformer: the name (tracked for name references)
    at a metadata/name field spec, the affix on any other field spec."""
    if config.obj.get("fieldSpecs") is None:
        raise config.error("fieldSpecs is required (kustomize: fieldSpecs is not expected "
                           "to be nil)")
    affix = as_text(config.obj.get(key))
    if not affix:
        return
    where = config.where(key)
    specs = _field_specs(config)
    for res in resources:
        original = res.original()
        if any(kind == original.kind and (not group or group == original.group)
               for group, kind in NO_AFFIX_KINDS):
            continue
        for spec in specs:
            if not spec.selects(original.group, original.version, original.kind):
                continue
            if spec.path == (("metadata", False), ("name", False)):
                res.remember()
                (res.prefixes if key == "prefix" else res.suffixes).append(affix)

            def put(parent: dict[str, Any], name: str, path: FieldPath,
                    res: Resource = res) -> None:
                value = parent.get(name)
                if isinstance(value, (dict, list)):
                    raise config.error(f"{res.id().text()}: {field_name(path)} is not a "
                                       f"scalar, so it cannot take a {key}")
                text = as_text(value)
                parent[name] = affix + text if key == "prefix" else text + affix
                res.set(path, where)

            try:
                apply_spec(res.obj, spec, put, False)
            except FieldError as exc:
                raise config.error(f"{res.id().text()} has a scalar at "
                                   f"{field_name(exc.path)} where a mapping is expected",
                                   key) from None


def _prefix_suffix(reader: Reader, config: PluginConfig, resources: list[Resource]) -> None:
    kind = config.obj.get("kind")
    if kind != "SuffixTransformer":
        _affix(config, resources, "prefix")
    if kind != "PrefixTransformer":
        _affix(config, resources, "suffix")


def _image_tag(reader: Reader, config: PluginConfig, resources: list[Resource]) -> None:
    """ImageTagTransformer: kustomize's two image passes, the second on the field specs."""
    image = config.obj.get("imageTag") or {}
    name = as_text(image.get("name"))
    if not name:
        raise config.error("imageTag.name is required", "imageTag")
    pattern = image_pattern(name, config.where("imageTag", "name"), config.label)
    where = config.where("imageTag", next(
        (key for key in ("newTag", "digest", "tagSuffix", "newName") if image.get(key)), "name"))
    apply_image_rule(resources, ImageRule(pattern, image, where), _field_specs(config),
                     config.label)


def _replica_count(reader: Reader, config: PluginConfig, resources: list[Resource]) -> None:
    """ReplicaCountTransformer: the count at each field spec of resources of that
    name (any of their names) and kind; naming nothing is an error, as in kustomize."""
    replica = config.obj.get("replica") or {}
    name, count = replica.get("name"), replica.get("count")
    if not name or count is None:
        raise config.error("replica.name and replica.count are required", "replica")
    where = config.where("replica", "count")
    found = False
    for spec in _field_specs(config):
        for res in resources:
            if not any(i.name == name and spec.selects(i.group, i.version, i.kind)
                       for i in res.ids()):
                continue
            found = True

            def put(parent: dict[str, Any], key: str, path: FieldPath, res: Resource = res) -> None:
                parent[key] = count
                res.set(path, where)

            apply_specs(res, (spec,), put, False, where, config.label)
    if not found:
        raise config.error(f"no resource named {name!r} has a kind its field specs select",
                           "replica", "name")


def _patch(reader: Reader, config: PluginConfig, resources: list[Resource]) -> None:
    entry = {key: value for key, value in config.obj.items()
             if key in ("path", "patch", "target", "options")}
    apply_patches(reader, config.view("patches", [entry], [config.node]), resources)


def _patch_strategic_merge(reader: Reader, config: PluginConfig, resources: list[Resource]) -> None:
    paths = list(config.obj.get("paths") or [])
    nodes = [value_node(config.node, ("paths", i)) or config.node for i in range(len(paths))]
    if config.obj.get("patches"):
        paths.append(config.obj["patches"])
        nodes.append(value_node(config.node, ("patches",)) or config.node)
    if not paths:
        raise config.error("paths or patches is required (kustomize: empty file path and "
                           "empty patch content)")
    apply_patches_strategic_merge(reader, config.view("patchesStrategicMerge", paths, nodes),
                                  resources)


def _patch_json6902(reader: Reader, config: PluginConfig, resources: list[Resource]) -> None:
    entry: dict[str, Any] = {"target": config.obj.get("target")}
    node = config.node
    if config.obj.get("path"):
        entry["path"] = config.obj["path"]
    if config.obj.get("jsonOp"):
        entry["patch"] = config.obj["jsonOp"]
        # the field is called jsonOp here: present it as patch, on the same lines
        assert isinstance(node, MappingNode)
        node = MappingNode(node.tag, [
            (ScalarNode(_STR, "patch", key.start_mark, key.end_mark)
             if isinstance(key, ScalarNode) and key.value == "jsonOp" else key, value)
            for key, value in node.value], node.start_mark, node.end_mark)
    apply_patches_json6902(reader, config.view("patchesJson6902", [entry], [node]), resources)


def _replacement(reader: Reader, config: PluginConfig, resources: list[Resource]) -> None:
    view = config.view("replacements", config.obj.get("replacements") or [],
                       list(getattr(value_node(config.node, ("replacements",)), "value", [])))
    replacements.run(reader, view, resources)


_TRANSFORMERS: dict[str, Callable[[Reader, PluginConfig, list[Resource]], None]] = {
    "LabelTransformer": _labels,
    "AnnotationsTransformer": _annotations,
    "NamespaceTransformer": _namespace,
    "PrefixSuffixTransformer": _prefix_suffix,
    "PrefixTransformer": _prefix_suffix,
    "SuffixTransformer": _prefix_suffix,
    "ImageTagTransformer": _image_tag,
    "ReplicaCountTransformer": _replica_count,
    "PatchTransformer": _patch,
    "PatchStrategicMergeTransformer": _patch_strategic_merge,
    "PatchJson6902Transformer": _patch_json6902,
    "ReplacementTransformer": _replacement,
}
