"""Loading a kustomization: its file, read through the tree, parsed and validated.

Files are read through a :class:`~gate.loading.trees.FileTree` (so a git revision renders
without a checkout), each recorded as an input of the render; parsed files are
shared between the renders of one tree, validated by their bytes. :func:`value_node`
finds the YAML node of a field, for the lines of what it holds.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from yaml.nodes import Node, ScalarNode

from gate.loading.renderers import FieldPath, RenderError
from gate.loading.renderers.kustomize.provenance import Where
from gate.loading.renderers.kustomize.schema import (
    KUSTOMIZATION_SHAPE,
    UNSUPPORTED,
    field_name,
    shape_error,
)
from gate.loading.trees import LFS_POINTER, FileTree, is_lfs_pointer
from gate.loading.yamlio import ParsedDocument, YamlInputError, decode, line_of_path, load_documents

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass(frozen=True)
class _Parsed:
    raw: bytes
    documents: tuple[ParsedDocument, ...]


# Parsed files per tree, validated by their bytes: a base shared by many overlays
# is parsed once per run. The parsed data is never mutated (resources are cloned).
_CACHE: weakref.WeakKeyDictionary[Any, dict[str, _Parsed]] = weakref.WeakKeyDictionary()
_CACHE_LIMIT = 2048


class InputFiles:
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


@dataclass
class Kustomization:
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


def load_kustomization(files: InputFiles, directory: str, blame: str | None = None,
                       line: int | None = None) -> Kustomization:
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
    kustomization = Kustomization(path, directory, document.data, document.node)
    _validate(kustomization)
    return kustomization


def _validate(k: Kustomization) -> None:
    for key, value in k.data.items():
        if key in UNSUPPORTED:
            if value in (None, [], {}):
                continue
            raise k.error(f"{key}: {UNSUPPORTED[key]} is not supported by gate's built-in "
                          "Kustomize renderer (use --kustomize=binary)", key)
        if key not in KUSTOMIZATION_SHAPE:
            raise k.error(f"unknown kustomization field {key!r}", key)
        problem = shape_error(value, KUSTOMIZATION_SHAPE[key], (key,))
        if problem is not None:
            message, path = problem
            shown = path[:-1] if message.startswith("unknown field") else path
            raise k.error(f"{field_name(shown)}: {message}", *path)
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


def value_node(root: Node, path: FieldPath) -> Node | None:
    """The YAML node at ``path`` under ``root`` (for its lines), or None."""
    node: Any = root
    for part in path:
        if isinstance(part, int):
            values = getattr(node, "value", None)
            if not isinstance(values, list) or part >= len(values):
                return None
            node = values[part]
        else:
            found = None
            for key_node, item_node in getattr(node, "value", []) or []:
                if isinstance(key_node, ScalarNode) and key_node.value == part:
                    found = item_node
            if found is None:
                return None
            node = found
    return node if isinstance(node, Node) else None
