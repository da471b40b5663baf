"""What every step of a build reads with: the paths a kustomization names, the
files and resources there, and (in :class:`~.builder.Builder`) the build of
another kustomization directory, which plugin configs may name."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from gate.loading.renderers import FieldPath, RenderError
from gate.loading.renderers.kustomize.loading import InputFiles, Kustomization
from gate.loading.renderers.kustomize.provenance import clone
from gate.loading.renderers.kustomize.resources import Resource
from gate.loading.renderers.kustomize.schema import field_name, is_remote
from gate.loading.trees import FileTree, TreePathError, normalize
from gate.loading.yamlio import ParsedDocument, line_of_path


class Reader(ABC):
    """The tree of one build and the files it read (its inputs)."""

    def __init__(self, tree: FileTree) -> None:
        self.tree = tree
        self.files = InputFiles(tree)

    @abstractmethod
    def target(self, directory: str, blame: str | None = None,
               line: int | None = None) -> tuple[Kustomization, list[Resource]]:
        """The kustomization of ``directory`` and the resources it builds (Builder.target)."""

    def path(self, k: Kustomization, entry: str, *key: str | int) -> str:
        """A path a kustomization names, as a tree path."""
        line = k.line(*key)
        if is_remote(entry):
            raise RenderError(f"{field_name(key)}: {entry!r}: remote resources are not "
                              "supported (gate reads no network)", k.file, line)
        try:
            return normalize(entry, k.directory)
        except TreePathError as exc:
            raise RenderError(f"{field_name(key)}: {exc.message}", k.file, line) from None

    def file(self, k: Kustomization, entry: str, *key: str | int) -> str:
        """A file a kustomization reads: it must lie in or below its directory."""
        path = self.path(k, entry, *key)
        inside = not k.directory or path.startswith(k.directory + "/")
        if not inside:
            raise k.error(f"{field_name(key)}: {entry!r} is not in or below the "
                          "kustomization's directory (kustomize's load restrictor)", *key)
        if self.tree.is_dir(path):
            raise k.error(f"{field_name(key)}: {entry!r} is a directory, not a file", *key)
        return path

    def read_resources(self, path: str, blame: str, line: int) -> list[Resource]:
        found: list[Resource] = []
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
                     line: int) -> Resource:
        if not isinstance(data, dict):
            raise RenderError("a list item is not a mapping (a Kubernetes object)", path, line)
        if not data.get("kind") or not isinstance(data.get("kind"), str):
            raise RenderError("missing kind", path, line)
        metadata = data.get("metadata")
        if not isinstance(metadata, dict) or metadata.get("name") in (None, ""):
            raise RenderError("missing metadata.name", path, line)
        return Resource(clone(data), (path, document.index, prefix, line))


def _is_list(data: dict[str, Any]) -> bool:
    kind = data.get("kind")
    return isinstance(kind, str) and kind.endswith("List") and (
        kind == "List" or isinstance(data.get("items"), list))
