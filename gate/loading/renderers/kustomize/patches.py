"""Patches: patchesStrategicMerge, patches and patchesJson6902.

A patch comes from a file or inline; its target is the resource whose id it
names (a strategic merge patch) or those a selector picks. Lines inside an
inline patch are mapped to lines of the kustomization file where they can be.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from yaml.nodes import ScalarNode

from gate.loading.renderers import FieldPath, RenderError
from gate.loading.renderers.kustomize.json6902 import apply_json6902, json_patch_ops
from gate.loading.renderers.kustomize.loading import Kustomization, value_node
from gate.loading.renderers.kustomize.provenance import PatchError, Where, clone
from gate.loading.renderers.kustomize.reading import Reader
from gate.loading.renderers.kustomize.resources import (
    Resource,
    ResourceId,
    id_of,
    metadata_of,
    origin_text,
)
from gate.loading.renderers.kustomize.schema import field_name
from gate.loading.renderers.kustomize.selectors import Selector
from gate.loading.renderers.kustomize.strategic_merge import strategic_merge
from gate.loading.yamlio import ParsedDocument, YamlInputError, line_of_path, load_documents


def _patch_source(reader: Reader, k: Kustomization, entry: dict[str, Any], *key: str | int,
                 ) -> _PatchSource:
    path, inline = entry.get("path"), entry.get("patch")
    if path and inline:
        raise k.error(f"{field_name(key)}: set path or patch, not both", *key)
    if inline is not None:
        return _inline_source(k, inline, (*key, "patch"))
    if not path:
        raise k.error(f"{field_name(key)}: path or patch is required", *key)
    file = reader.file(k, path, *key, "path")
    documents = reader.files.documents(file, k.file, k.line(*key, "path"))
    return _PatchSource(file, list(documents), None, 0)


def apply_patches_strategic_merge(reader: Reader, k: Kustomization,
                                  resources: list[Resource]) -> None:
    for index, entry in k.items("patchesStrategicMerge"):
        key: FieldPath = ("patchesStrategicMerge", index)
        if is_inline_patch(entry):
            source = _inline_source(k, entry, key)
        else:
            file = reader.file(k, entry, *key)
            documents = reader.files.documents(file, k.file, k.line(*key))
            source = _PatchSource(file, list(documents), None, 0)
        for document in source.patches(k, key):
            target = _unique_target(resources, id_of(document.data), source, document, k, key)
            _apply_strategic_merge(resources, target, document, source, allow=(False, False))


def apply_patches(reader: Reader, k: Kustomization, resources: list[Resource]) -> None:
    for index, entry in k.items("patches"):
        key: FieldPath = ("patches", index)
        source = _patch_source(reader, k, entry, *key)
        target = entry.get("target")
        options = entry.get("options") or {}
        allow = (bool(options.get("allowNameChange")), bool(options.get("allowKindChange")))
        selector = None
        if target is not None:
            selector = Selector.parse(target, k.where(*key, "target"))
        if source.is_json_patch():
            if selector is None:
                raise k.error(f"patches[{index}]: a JSON 6902 patch needs a target", *key)
            _apply_json_patch(resources, selector, source, k, key)
            continue
        documents = source.patches(k, key)
        if selector is None:
            for document in documents:
                target_res = _unique_target(resources, id_of(document.data), source,
                                            document, k, key)
                _apply_strategic_merge(resources, target_res, document, source, allow)
            continue
        if len(documents) > 1:
            raise k.error(f"patches[{index}]: a patch with a target must hold a single "
                          "strategic merge patch", *key)
        for res in [r for r in resources if selector.selects(r)]:
            _apply_strategic_merge(resources, res, documents[0], source, allow)


def apply_patches_json6902(reader: Reader, k: Kustomization, resources: list[Resource]) -> None:
    for index, entry in k.items("patchesJson6902"):
        key: FieldPath = ("patchesJson6902", index)
        target = entry.get("target")
        if not target:
            raise k.error(f"patchesJson6902[{index}]: target is required", *key)
        if not target.get("name"):
            raise k.error(f"patchesJson6902[{index}]: target.name is required",
                          *key, "target")
        source = _patch_source(reader, k, entry, *key)
        selector = Selector.parse(target, k.where(*key, "target"))
        _apply_json_patch(resources, selector, source, k, key)


def is_inline_patch(entry: str) -> bool:
    """Whether a patchesStrategicMerge entry is a patch itself rather than a file name."""
    try:
        documents = [d.data for d in load_documents(entry, "patch") if d.data is not None]
    except YamlInputError:
        return False
    return bool(documents) and all(isinstance(d, dict) for d in documents)


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

    def patches(self, k: Kustomization, key: FieldPath) -> list[ParsedDocument]:
        documents = self.data()
        if not documents:
            raise k.error(f"{field_name(key)}: the patch is empty", *key)
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


def _inline_source(k: Kustomization, text: str, key: FieldPath) -> _PatchSource:
    line = k.line(*key)
    try:
        documents = list(load_documents(text, k.file))
    except YamlInputError as exc:
        raise RenderError(f"{field_name(key)}: invalid patch: {exc.message}", k.file,
                          line) from None
    node = value_node(k.node, key)
    offset = None
    if isinstance(node, ScalarNode) and node.style == "|":
        offset = node.start_mark.line + 1
    elif isinstance(node, ScalarNode) and node.style in (None, "", "'", '"') \
            and "\n" not in text:
        offset = node.start_mark.line
    return _PatchSource(k.file, documents, line, offset)


def _unique_target(resources: list[Resource], patch_id: ResourceId, source: _PatchSource,
                   document: ParsedDocument, k: Kustomization, key: FieldPath) -> Resource:
    matches = [r for r in resources if any(i.same(patch_id) for i in r.ids())]
    if len(matches) == 1:
        return matches[0]
    api_version = patch_id.api_version or "(no apiVersion)"
    what = f"{api_version} {patch_id.text()}"
    if not matches:
        message = f"no resource matches this strategic merge patch ({what})"
    else:
        message = f"more than one resource matches this strategic merge patch ({what})"
    raise RenderError(message, *source.where(document))


def _apply_strategic_merge(resources: list[Resource], res: Resource, document: ParsedDocument,
                           source: _PatchSource, allow: tuple[bool, bool]) -> None:
    """Apply one strategic merge patch to ``res``: its name, namespace and type stay
    (unless the patch's options allow a name or kind change)."""
    patch = clone(document.data)
    metadata = metadata_of(res.obj)
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
        raise RenderError(f"cannot apply patch to {res.id().text()} ({origin_text(res)}): "
                          f"{exc.message}", *source.where(document, exc.path)) from None
    if result is None:
        resources.remove(res)
        return
    res.obj = result
    metadata = metadata_of(result)
    if not allow[1]:
        result["kind"] = kind
    if not allow[0]:
        metadata["name"] = name
    if namespace is None:
        metadata.pop("namespace", None)
    else:
        metadata["namespace"] = namespace


def _apply_json_patch(resources: list[Resource], selector: Selector, source: _PatchSource,
                      k: Kustomization, key: FieldPath) -> None:
    documents = source.data()
    if len(documents) != 1:
        raise k.error(f"{field_name(key)}: a JSON 6902 patch must be one YAML or JSON "
                      "document", *key)
    document = documents[0]
    try:
        ops = json_patch_ops(document.data)
    except PatchError as exc:
        raise RenderError(exc.message, *source.where(document, exc.path)) from None
    if not ops:
        raise RenderError("the JSON 6902 patch is empty", *source.where(document))
    for res in [r for r in resources if selector.selects(r)]:
        res.remember()
        try:
            result = apply_json6902(res.obj, ops, res.provenance,
                                    lambda i: source.where(document, (i,)))
        except PatchError as exc:
            raise RenderError(f"cannot apply patch to {res.id().text()} ({origin_text(res)}): "
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
