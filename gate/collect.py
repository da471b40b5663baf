"""From a file tree to resources: plain manifest files, and rendered Kustomize overlays.

A *unit* is what gets read and judged as one: a manifest file read as written,
or a Kustomize directory rendered. Files that a kustomization consumes (its
bases, resources, patches) are judged through the overlays that render them,
not on their own: a patch is not a resource, and a base is deployed only as
its overlays change it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from gate.environments import EnvironmentMap
from gate.renderers import Rendering
from gate.resources import InputError, Note, Resource, read_resources
from gate.sources import YAML_SUFFIXES, SourceFile
from gate.trees import FileTree, walk_files
from gate.yamlio import YamlInputError, decode

#: Maps a tree path to the environment it deploys to (None: no known environment).
EnvironmentOf = Callable[[str], "str | None"]
#: Maps a tree path to the name reports use for it.
DisplayName = Callable[[str], str]
#: The releases (units of kind "helm") to render a chart directory as.
HelmReleases = Callable[[str], "list[Unit]"]


def _outermost_charts(directories: Iterable[str]) -> list[str]:
    """Chart directories, leaving out subcharts (inside another chart's ``charts/``)."""
    charts = sorted(directories)
    return [chart for chart in charts if not in_chart_templates(chart + "/Chart.yaml", [
        other for other in charts if other != chart
    ])]


def in_chart_templates(path: str, charts: Iterable[str]) -> bool:
    """Whether ``path`` is a Go template (or subchart file) of one of the charts."""
    for chart in charts:
        prefix = f"{chart}/" if chart else ""
        if path.startswith((prefix + "templates/", prefix + "charts/")):
            return True
    return False


def _no_environment(path: str) -> str | None:
    return None


@dataclass(frozen=True, order=True)
class Unit:
    """What is read and judged as one.

    ``kind`` is ``file`` (a manifest read as written), ``kustomize`` (an overlay
    directory, rendered) or ``helm`` (a chart directory, rendered with
    ``values``, as ``release`` into ``namespace``, for ``environment``).
    """

    kind: str
    path: str
    values: tuple[str, ...] = ()
    release: str = ""
    namespace: str = ""
    environment: str = ""


@dataclass
class Batch:
    """The resources of one unit, ready to evaluate, and what went wrong reading it."""

    unit: Unit
    resources: list[Resource] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    sources: list[SourceFile] = field(default_factory=list)

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
        kustomize_mode: str = "auto",
        documents: bool = False,
        helm: bool = False,
        helm_releases: HelmReleases | None = None,
    ) -> None:
        self.tree = tree
        self.display = display
        self.environment_of = environment_of
        self.kustomize_mode = kustomize_mode
        self.documents = documents  # also read documents that are not resources
        self.helm = helm  # render charts (needs a helm binary)
        self.helm_releases = helm_releases
        self.notes: list[Note] = []  # about what could not be rendered or discovered
        self.warnings: list[str] = []  # what the user must hear about even without -v
        self._sources: dict[str, SourceFile] = {}

    # -- which units ---------------------------------------------------------
    def units_under(self, directory: str) -> list[Unit]:
        """Units for a directory: overlays, charts, and the YAML files they do not read.

        One walk of the directory finds all three. A chart's ``templates/`` and
        ``charts/`` hold Go templates, never read as YAML; its values files are
        read as documents, for policies on them.
        """
        from gate.renderers import kustomize

        every = walk_files(self.tree, directory)
        files = [path for path in every if path.endswith(YAML_SUFFIXES)]
        by_dir: dict[str, set[str]] = {}
        for path in every:
            parent, _, name = path.rpartition("/")
            by_dir.setdefault(parent, set()).add(name)
        kustomizations = sorted(
            d for d, names in by_dir.items() if names & set(kustomize.KUSTOMIZATION_FILES)
        )
        roots: list[str] = []
        root_inputs: dict[str, set[str]] = {}
        if self.kustomize_mode != "off" and kustomizations:
            roots = kustomize.roots_among(self.tree, kustomizations)
            root_inputs = {root: kustomize.inputs(self.tree, root) for root in roots}
        consumed = set().union(*root_inputs.values()) if root_inputs else set()
        if self.kustomize_mode != "off":
            # A file only an unused component reads (a patch, say) is no manifest of its
            # own either, as gate diff sees it: what any kustomization reads is consumed.
            for unread in (d for d in kustomizations if d not in roots
                           and kustomize.kustomization_file(self.tree, d) not in consumed):
                inputs = kustomize.inputs(self.tree, unread)
                consumed |= inputs
                file = kustomize.kustomization_file(self.tree, unread) or unread
                self.notes.append(Note(self.display(file), None, (
                    f"skipped: a Kustomize component no overlay uses; its {len(inputs)} "
                    "file(s) are not judged on their own")))
        charts = _outermost_charts(d for d, names in by_dir.items() if "Chart.yaml" in names)
        units = [Unit("kustomize", root) for root in roots]
        units += self.chart_units(charts)
        units += [Unit("file", path) for path in files
                  if path not in consumed and not in_chart_templates(path, charts)]
        return units

    def chart_units(self, charts: list[str]) -> list[Unit]:
        """A unit per chart and release to render; none (with a note) without helm."""
        if not self.helm or not charts:
            return []
        from gate.renderers import helm

        if not helm.available():
            listed = ", ".join(self.display(chart) for chart in charts)
            message = (f"helm not found: {len(charts)} chart(s) not rendered: {listed} "
                       "(their values files are still checked)")
            self.notes.append(Note(self.display(charts[0]), None, message))
            self.warnings.append(message)
            return []
        units: list[Unit] = []
        for chart in charts:
            releases = self.helm_releases(chart) if self.helm_releases is not None else []
            if not releases:
                name = chart.rsplit("/", 1)[-1] or "release"
                releases = [Unit("helm", chart, release=name)]
            units.extend(releases)
        return units

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
            cached = SourceFile(name, decode(raw, name))
            self._sources[path] = cached
        return cached

    def read(self, unit: Unit) -> Batch:
        if unit.kind == "kustomize":
            return self._read_overlay(unit)
        if unit.kind == "helm":
            return self._read_chart(unit)
        return self._read_file(unit)

    def read_all(self, units: Iterable[Unit]) -> Iterator[Batch]:
        for unit in units:
            yield self.read(unit)

    def _read_file(self, unit: Unit) -> Batch:
        batch = Batch(unit)
        environment = self.environment_of(unit.path) or ""
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

    def _read_overlay(self, unit: Unit) -> Batch:
        from gate.renderers import kustomize

        return self._rendered(unit, lambda: kustomize.render(self.tree, unit.path,
                                                              self.kustomize_mode))

    def _read_chart(self, unit: Unit) -> Batch:
        from gate.renderers import helm

        return self._rendered(unit, lambda: helm.render(
            self.tree, unit.path, list(unit.values), unit.release, unit.namespace or None))

    def _rendered(self, unit: Unit, render: Callable[[], Rendering]) -> Batch:
        from gate.errors import GateError

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
    """Give a collector the environments (and Argo CD Helm releases) of its tree."""
    collector.environment_of = environment_map.environment_of
    releases: dict[str, list[Unit]] = {}
    for deployed in environment_map.deployed_paths():
        if deployed.kind == "helm" and deployed.path is not None:
            releases.setdefault(deployed.path, []).append(Unit(
                "helm", deployed.path, values=tuple(deployed.value_files),
                release=deployed.application, namespace=deployed.namespace,
                environment=environment_map.environment_of(deployed.path) or deployed.environment,
            ))
    collector.helm_releases = lambda chart: sorted(set(releases.get(chart, [])))
    collector.notes.extend(
        Note(collector.display(note.file), note.line, note.message)
        for note in environment_map.notes
    )
