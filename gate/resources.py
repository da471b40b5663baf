"""Resources: Kubernetes objects read from sources, each with its file and line."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gate.sources import SourceFile
from gate.yamlio import YamlInputError, load_documents

Path = tuple[str | int, ...]

# API groups of files that configure tools rather than describe cluster objects.
CONFIG_GROUPS = {
    "kustomize.config.k8s.io": "Kustomize configuration",
    "gate.dev": "gate configuration",
}


@dataclass(frozen=True, slots=True)
class Note:
    """A document that was read but is not a resource, and why."""

    file: str
    line: int | None
    message: str


@dataclass(frozen=True, slots=True)
class InputError:
    """Input that could not be read; it fails the run closed."""

    file: str
    line: int | None
    message: str


@dataclass(eq=False, slots=True)
class Resource:
    """One Kubernetes object as written in a file.

    ``obj`` is the parsed document itself, never a copy; ``prefix`` is the path
    of the object inside its document (non-empty for items of a ``kind: List``).
    """

    obj: dict[str, Any]
    source: SourceFile
    doc_index: int
    line: int
    prefix: Path = ()

    @property
    def file(self) -> str:
        return self.source.name

    @property
    def api_version(self) -> str:
        return _text(self.obj.get("apiVersion"))

    @property
    def kind(self) -> str:
        return _text(self.obj.get("kind"))

    @property
    def metadata(self) -> dict[str, Any]:
        metadata = self.obj.get("metadata")
        return metadata if isinstance(metadata, dict) else {}

    @property
    def name(self) -> str:
        metadata = self.metadata
        name = metadata.get("name")
        if name is None and metadata.get("generateName"):
            return _text(metadata.get("generateName")) + "*"
        return _text(name)

    @property
    def namespace(self) -> str:
        return _text(self.metadata.get("namespace"))

    @property
    def labels(self) -> dict[str, Any]:
        labels = self.metadata.get("labels")
        return labels if isinstance(labels, dict) else {}

    def line_of(self, path: Path) -> int:
        """Line of ``path`` (or of its deepest existing part) in the file."""
        line = self.source.line(self.doc_index, self.prefix + tuple(path))
        return line if line is not None else self.line

    def identity(self) -> str:
        namespace = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{namespace}{self.name}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _not_a_resource(data: Any) -> str | None:
    if data is None:
        return "empty document"
    if not isinstance(data, dict):
        return f"not a Kubernetes object (a YAML {type(data).__name__}, not a mapping)"
    missing = [key for key in ("apiVersion", "kind") if not data.get(key)]
    if missing:
        return f"not a Kubernetes object (no {' or '.join(missing)})"
    if not isinstance(data["kind"], str) or not isinstance(data["apiVersion"], str):
        return "not a Kubernetes object (apiVersion and kind must be strings)"
    group = data["apiVersion"].partition("/")[0]
    if group in CONFIG_GROUPS:
        return f"{data['kind']} is {CONFIG_GROUPS[group]}, not a resource to deploy"
    return None


def _is_list(data: dict[str, Any]) -> bool:
    return data["kind"] == "List" or (
        data["kind"].endswith("List") and isinstance(data.get("items"), list)
    )


def read_resources(source: SourceFile) -> Iterator[Resource | Note]:
    """Resources of one file, and notes for the documents that are not resources.

    Raises YamlInputError for a file that is not valid YAML: no document of a
    broken file is trusted.
    """
    documents = list(load_documents(source.text, source.name))
    source.keep_nodes([document.node for document in documents])
    for document in documents:
        reason = _not_a_resource(document.data)
        if reason is not None:
            if reason != "empty document":
                yield Note(source.name, document.line, f"skipped: {reason}")
            continue
        data = document.data
        if not _is_list(data):
            yield Resource(data, source, document.index, document.line)
            continue
        yield from _list_items(source, document.index, document.line, data)


def _list_items(
    source: SourceFile, doc_index: int, doc_line: int, data: dict[str, Any]
) -> Iterator[Resource | Note]:
    items = data.get("items")
    if items is None:
        return
    if not isinstance(items, list):
        raise YamlInputError(f"{data['kind']}: items must be a list", source.name, doc_line)
    for position, item in enumerate(items):
        prefix: Path = ("items", position)
        line = source.line(doc_index, prefix) or doc_line
        reason = _not_a_resource(item)
        if reason is not None:
            yield Note(source.name, line, f"skipped list item {position}: {reason}")
        else:
            yield Resource(item, source, doc_index, line, prefix)
