"""Reading: from the units a plan names to resources ready to judge.

A *unit* is what gets read and judged as one: a manifest file read as written,
or a directory a renderer (gate/loading/renderers/registry.py) renders. Which units a
run reads is planning's business (gate/loading/planning.py); this module reads them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from gate.errors import GateError
from gate.loading.environments import EnvironmentMap
from gate.loading.renderers import Rendering
from gate.loading.renderers.base import RenderSettings, Unit
from gate.loading.renderers.registry import renderer
from gate.loading.resources import InputError, Note, Resource, read_resources
from gate.loading.sources import SourceFile
from gate.loading.trees import LFS_POINTER, FileTree, is_lfs_pointer
from gate.loading.yamlio import YamlInputError, decode

__all__ = ["Batch", "Collector", "Unit", "use_environments"]

#: Maps a tree path to the environment it deploys to (None: no known environment).
EnvironmentOf = Callable[[str], "str | None"]
#: Maps a tree path to the name reports use for it.
DisplayName = Callable[[str], str]


def _no_environment(path: str) -> str | None:
    return None


@dataclass
class Batch:
    """The resources of one unit, ready to evaluate, and what went wrong reading it."""

    unit: Unit
    resources: list[Resource] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    sources: list[SourceFile] = field(default_factory=list)
    # The rendering context of a plain file: (its collector, its environment); the
    # plain files of one tree and environment are one context. None for a rendered
    # unit, which is a context of its own (gate/evaluation/context.py).
    context: tuple[object, str] | None = None

    def release(self) -> None:
        """Free the node trees kept for line lookups once results have their lines."""
        for source in self.sources:
            source.release_nodes()


class Collector:
    """Reads units from one tree, with one display-name and environment rule."""

    def __init__(
        self,
        tree: FileTree,
        display: DisplayName,
        environment_of: EnvironmentOf = _no_environment,
        settings: RenderSettings | None = None,
        documents: bool = False,
    ) -> None:
        self.tree = tree
        self.display = display
        self.environment_of = environment_of
        self.settings = settings if settings is not None else RenderSettings()
        self.documents = documents  # also read documents that are not resources
        self.notes: list[Note] = []  # about what could not be discovered
        self._sources: dict[str, SourceFile] = {}

    # -- reading -------------------------------------------------------------
    def source(self, path: str) -> SourceFile:
        """A tree file as a SourceFile, read once per collector."""
        cached = self._sources.get(path)
        if cached is None:
            name = self.display(path)
            try:
                raw = self.tree.read_bytes(path)
            except (FileNotFoundError, IsADirectoryError):
                raise YamlInputError("cannot read: no such file", name) from None
            except OSError as exc:
                raise YamlInputError(f"cannot read: {exc.strerror}", name) from None
            if is_lfs_pointer(raw):  # else "not a Kubernetes object", which hides why
                raise YamlInputError(LFS_POINTER, name)
            cached = SourceFile(name, decode(raw, name))
            self._sources[path] = cached
        return cached

    def objects(self, paths: Iterable[str]) -> Iterator[Any]:
        """The resources of plain manifest files as data only (no node trees kept), for
        a context; a file that cannot be read gives none (judging it reports why)."""
        for path in paths:
            name = self.display(path)
            try:
                raw = self.tree.read_bytes(path)
                if is_lfs_pointer(raw):
                    continue
                source = SourceFile(name, decode(raw, name))
                entries = list(read_resources(source))
            except (OSError, GateError):
                continue
            source.release_nodes()
            yield from (entry.obj for entry in entries if isinstance(entry, Resource))

    def read(self, unit: Unit) -> Batch:
        if unit.kind == "file":
            return self._read_file(unit)
        chosen = renderer(unit.kind)
        return self._rendered(unit, lambda: chosen.render(self.tree, unit, self.settings))

    def read_all(self, units: Iterable[Unit]) -> Iterator[Batch]:
        for unit in units:
            yield self.read(unit)

    def _read_file(self, unit: Unit) -> Batch:
        environment = self.environment_of(unit.path) or ""
        batch = Batch(unit, context=(self, environment))
        try:
            source = self.source(unit.path)
            batch.sources.append(source)
            for entry in read_resources(source, self.documents):
                if isinstance(entry, Note):
                    batch.notes.append(entry)
                else:
                    entry.environment = environment
                    batch.resources.append(entry)
        except YamlInputError as exc:
            batch.errors.append(InputError(exc.file or self.display(unit.path), exc.line,
                                           exc.message))
        # Plain files are read once: their node trees can go as soon as they are judged.
        self._sources.pop(unit.path, None)
        return batch

    def _rendered(self, unit: Unit, render: Callable[[], Rendering]) -> Batch:
        batch = Batch(unit)
        try:
            rendering = render()
        except GateError as exc:
            file = self.display(exc.file) if exc.file else self.display(unit.path)
            batch.errors.append(InputError(file, exc.line, f"cannot render: {exc.message}"))
            return batch
        environment = unit.environment or self.environment_of(unit.path) or ""
        overlay = self.display(unit.path) if unit.path else "."
        if unit.kind == "helm" and unit.release:
            overlay = f"{overlay} (release {unit.release})"
        elif unit.images and unit.release:
            overlay = f"{overlay} (application {unit.release})"
        for rendered in rendering.resources:
            try:
                source = self.source(rendered.origin_file)
            except YamlInputError as exc:
                batch.errors.append(InputError(exc.file or overlay, exc.line, exc.message))
                continue
            provenance = {
                path: (self.display(file), line) for path, (file, line) in
                rendered.provenance.items()
            }
            batch.resources.append(Resource(
                rendered.obj, source, rendered.origin_doc, rendered.origin_line,
                rendered.origin_prefix, rendered_by=overlay, environment=environment,
                provenance=provenance,
            ))
        return batch


def use_environments(collector: Collector, environment_map: EnvironmentMap) -> None:
    """Give a collector the environments of its tree, and discovery's notes."""
    collector.environment_of = environment_map.environment_of
    collector.notes.extend(
        Note(collector.display(note.file), note.line, note.message)
        for note in environment_map.notes
    )
