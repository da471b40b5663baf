"""Resources: Kubernetes objects read from sources, each with its file and line."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gate.loading.sources import SourceFile
from gate.loading.yamlio import YamlInputError, load_documents

Path = tuple[str | int, ...]

# API groups of files that configure tools rather than describe cluster objects.
CONFIG_GROUPS = {
    "kustomize.config.k8s.io": "Kustomize configuration",
    "gate.dev": "gate configuration",
    # apiVersion: builtin: a Kustomize plugin's config (LabelTransformer, ...).
    "builtin": "a Kustomize plugin configuration",
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

    obj: Any  # a mapping for resources; any YAML value for other documents
    source: SourceFile
    doc_index: int
    line: int
    prefix: Path = ()
    # Set for rendered resources (see gate.loading.renderers): who rendered it, for which
    # environment, and which file and line set each overridden field.
    rendered_by: str = ""
    environment: str = ""
    provenance: dict[Path, tuple[str, int]] | None = None
    # False for a YAML document that is not a Kubernetes object (a Helm values
    # file, say): only policies with ``target: documents`` look at those.
    is_resource: bool = True
    skip_reason: str = ""  # for a document: the note to give if no policy looks at it

    @property
    def file(self) -> str:
        return self.source.name

    @property
    def api_version(self) -> str:
        return _text(self._get("apiVersion")) if self.is_resource else ""

    @property
    def kind(self) -> str:
        return _text(self._get("kind")) if self.is_resource else ""

    def _get(self, key: str) -> Any:
        # A document that is not a resource may be any YAML value, not a mapping.
        return self.obj.get(key) if isinstance(self.obj, dict) else None

    @property
    def metadata(self) -> dict[str, Any]:
        metadata = self._get("metadata")
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

    def locate(self, path: Path) -> tuple[str | None, int]:
        """(file, line) of what set the field at ``path``; file None means this resource's.

        A rendered field that an overlay or patch set is located there (the
        longest recorded prefix of ``path`` wins); anything else in the file
        the resource came from.
        """
        if self.provenance:
            for length in range(len(path), -1, -1):
                found = self.provenance.get(tuple(path[:length]))
                if found is not None:
                    return found
        return None, self.line_of(path)

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


def read_resources(source: SourceFile, documents: bool = False) -> Iterator[Resource | Note]:
    """Resources of one file, and notes for the documents that are not resources.

    With ``documents``, each non-empty document that is not a resource comes as
    a Resource with ``is_resource=False`` (and its note in ``skip_reason``)
    instead of a note.
    Raises YamlInputError for a file that is not valid YAML: no document of a
    broken file is trusted.
    """
    parsed = list(load_documents(source.text, source.name))
    source.keep_nodes([document.node for document in parsed])
    for document in parsed:
        reason = _not_a_resource(document.data)
        if reason is not None:
            if reason == "empty document":
                continue
            if documents:
                # A note only if no document policy ends up looking at it.
                yield Resource(document.data, source, document.index, document.line,
                               is_resource=False, skip_reason=f"skipped: {reason}")
            else:
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
