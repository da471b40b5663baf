"""Generators: configMapGenerator and secretGenerator (and their builtin plugins).

A generated ConfigMap or Secret is created, or merged into or replaces the one
it names (``behavior``); its keys come from env files, then literals, then
files, as in kustomize, each pointing at its entry.
"""
from __future__ import annotations

import base64
import posixpath
from collections.abc import Iterator
from typing import Any

from gate.limits import MAX_GENERATOR_BYTES, MAX_GENERATOR_KEYS, MAX_RENDERED_RESOURCES
from gate.loading.renderers import FieldPath, RenderError
from gate.loading.renderers.kustomize.loading import Kustomization
from gate.loading.renderers.kustomize.provenance import Provenance
from gate.loading.renderers.kustomize.reading import Reader
from gate.loading.renderers.kustomize.resources import (
    Resource,
    ResourceId,
    as_text,
    id_key,
    metadata_of,
    origin_text,
)
from gate.loading.renderers.kustomize.schema import field_name


def generate_resources(reader: Reader, k: Kustomization, resources: list[Resource]) -> None:
    ids = _IdIndex(resources)  # one lookup per generator, not a scan of every resource
    for kind, name in (("ConfigMap", "configMapGenerator"), ("Secret", "secretGenerator")):
        for index, entry in k.items(name):
            res, behavior = generated_resource(reader, k, kind, name, index, entry)
            absorb(resources, res, behavior, k, (name, index), ids)


def generated_resource(reader: Reader, k: Kustomization, kind: str, name: str, index: int,
                       entry: dict[str, Any]) -> tuple[Resource, str]:
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
    for metadata_field in ("labels", "annotations"):
        if options[metadata_field]:
            metadata[metadata_field] = dict(options[metadata_field])
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": metadata}
    res = Resource(obj, (k.file, 0, key, k.line(*key)))
    pairs = _generator_data(reader, k, name, index, entry, res)
    if kind == "Secret":
        obj["type"] = entry.get("type") or "Opaque"
        obj["data"] = {n: _base64(v if isinstance(v, bytes) else v.encode("utf-8"))
                       for n, v in pairs.items()}
    else:
        data = {n: v for n, v in pairs.items() if isinstance(v, str)}
        binary = {n: _base64(v) for n, v in pairs.items() if isinstance(v, bytes)}
        if data:
            obj["data"] = data
        if binary:
            obj["binaryData"] = binary
    if options["immutable"]:
        obj["immutable"] = True
    res.hashed = not options["disableNameSuffixHash"]
    return res, behavior


def _generator_data(reader: Reader, k: Kustomization, name: str, index: int, entry: dict[str, Any],
                    res: Resource) -> dict[str, str | bytes]:
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
        path = reader.file(k, as_text(_get_path(entry, where[2:])), *where)
        raw = reader.files.read(path, k.file, k.line(*where))
        for key_name, value in _env_pairs(raw, path, k.file, k.line(*where)):
            add(key_name, value, where)
    for position, literal in enumerate(entry.get("literals") or []):
        where = (name, index, "literals", position)
        add(*_literal(literal, k, where), where)
    for position, source in enumerate(entry.get("files") or []):
        where = (name, index, "files", position)
        key_name, file_path = _file_source(source, k, where)
        path = reader.file(k, file_path, *where)
        raw = reader.files.read(path, k.file, k.line(*where))
        try:
            add(key_name, raw.decode("utf-8"), where)
        except UnicodeDecodeError:
            add(key_name, raw, where)
    for key_name, content in pairs.items():
        binary = isinstance(content, bytes) and res.obj["kind"] == "ConfigMap"
        res.set(("binaryData" if binary else "data", key_name), k.where(*sources[key_name]))
    return pairs


def _get_path(data: Any, path: FieldPath) -> Any:
    for part in path:
        data = data[part]
    return data


def _base64(raw: bytes) -> str:
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


def _literal(text: str, k: Kustomization, where: FieldPath) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise k.error(f"{field_name(where)}: {text!r} is not KEY=VALUE", *where)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return key, value


def _file_source(text: str, k: Kustomization, where: FieldPath) -> tuple[str, str]:
    count = text.count("=")
    if count == 0:
        return posixpath.basename(text), text
    key, _, path = text.partition("=")
    if count > 1 or not key or not path:
        raise k.error(f"{field_name(where)}: {text!r} must be PATH or KEY=PATH", *where)
    return key, path


class _IdIndex:
    """The resources of a list by each of their ids (as ``ResourceId.same`` compares them), kept
    in step by ``absorb``: thousands of generators must not each scan every resource."""

    def __init__(self, resources: list[Resource]) -> None:
        self.by_key: dict[tuple[str, str, str, str, str], list[Resource]] = {}
        for res in resources:
            self.add(res)

    def add(self, res: Resource) -> None:
        for resource_id in res.ids():
            self.by_key.setdefault(id_key(resource_id), []).append(res)

    def matches(self, resource_id: ResourceId) -> list[Resource]:
        return list(dict.fromkeys(self.by_key.get(id_key(resource_id), [])))

    def replace(self, old: Resource, new: Resource) -> None:
        for resource_id in old.ids():
            found = self.by_key.get(id_key(resource_id), [])
            found[:] = [new if res is old else res for res in found]


def absorb(resources: list[Resource], res: Resource, behavior: str, k: Kustomization,
           key: FieldPath, ids: _IdIndex | None = None) -> None:
    """Add a generated resource, or merge it into / let it replace the one it names."""
    resource_id = res.id()
    if ids is not None:
        matches = ids.matches(resource_id)
    else:
        matches = [r for r in resources if any(i.same(resource_id) for i in r.ids())]
    name = field_name(key)
    if not matches:
        if behavior != "create":
            raise k.error(f"{name}: behavior {behavior}: there is no {resource_id.text()} to "
                          f"{behavior}", *key)
        if len(resources) >= MAX_RENDERED_RESOURCES:
            raise k.error(f"{name}: the kustomization renders more than "
                          f"{MAX_RENDERED_RESOURCES:,} resources (gate's limit)", *key)
        resources.append(res)
        if ids is not None:
            ids.add(res)
        return
    if len(matches) > 1:
        raise k.error(f"{name}: {resource_id.text()} matches more than one resource", *key)
    old = matches[0]
    if behavior == "create":
        raise k.error(f"{name}: {resource_id.text()} already exists ({origin_text(old)}); set "
                      "behavior: merge or replace", *key)
    old_meta, new_meta = metadata_of(old.obj), metadata_of(res.obj)
    for metadata_field in ("labels", "annotations"):
        merged = {**_as_map(old_meta.get(metadata_field)),
                  **_as_map(new_meta.get(metadata_field))}
        if merged:
            new_meta[metadata_field] = merged
    for metadata_field in ("name", "namespace"):
        if metadata_field in old_meta:
            new_meta[metadata_field] = old_meta[metadata_field]
        else:
            new_meta.pop(metadata_field, None)
    provenance = Provenance(old.provenance)
    if behavior == "merge":
        for data_field in ("data", "binaryData"):
            merged = {**_as_map(old.obj.get(data_field)), **_as_map(res.obj.get(data_field))}
            if merged:
                res.obj[data_field] = merged
    else:
        provenance.drop(("data",))
        provenance.drop(("binaryData",))
    provenance.update(res.provenance)
    merged_res = Resource(res.obj, old.origin, provenance, list(old.previous),
                          list(old.prefixes), list(old.suffixes), res.hashed and old.hashed)
    resources[resources.index(old)] = merged_res
    if ids is not None:
        ids.replace(old, merged_res)


def _as_map(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}
