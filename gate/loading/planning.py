"""Planning: from a file tree to the units a run reads, and what it leaves unjudged.

One planner serves every command, so they cannot disagree about what is
judged: ``gate check`` plans a directory, each side of ``gate diff`` plans what
its changed paths reach, and the change policies plan what an environment
deploys. The rules, in one place:

- A directory that a renderer owns (a kustomization, a ``Chart.yaml``) is a
  unit of that renderer when nothing else of its kind includes it, or when an
  Argo CD Application deploys it (then it is judged as itself, in the
  Application's environment, besides through whatever includes it).
- A file some kustomization reads (a base's manifest, a patch, a transformer's
  config) is *consumed*: judged through the overlays that render it, never on
  its own. A chart's ``templates/`` and ``charts/`` are Go templates.
- Every other ``*.yaml``/``*.yml`` file is a unit of its own.
- What cannot be rendered on this run (no ``--helm``, ``--kustomize off``), a
  Kustomize component nothing uses, and a file, overlay or chart an ``exclude:``
  glob of the config names (gate/loading/exclude.py) are :class:`~gate.results.Unjudged`,
  with the reason, never silently dropped.
"""
from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from gate.loading.affected import Reach, reach
from gate.loading.argocd.model import DeployedPath
from gate.loading.argocd.paths import covers, glob_match_any, self_and_parents
from gate.loading.environments import EnvironmentMap
from gate.loading.exclude import Exclusions
from gate.loading.renderers.base import RenderSettings, Unit
from gate.loading.renderers.helm import CHART_FILE
from gate.loading.renderers.kustomize import inputs as kustomize_inputs
from gate.loading.renderers.kustomize.loading import kustomization_file
from gate.loading.renderers.registry import HELM, KUSTOMIZE
from gate.loading.resources import InputError
from gate.loading.sources import YAML_SUFFIXES
from gate.loading.trees import FileTree, walk_files
from gate.results import EXCLUDED, NOT_REFERENCED, NOT_RENDERED, Unjudged

#: Maps a tree path to the name reports use for it.
DisplayName = Callable[[str], str]
#: What an Argo CD directory source reads as manifests (Jsonnet is not rendered).
ARGOCD_SUFFIXES = (".yaml", ".yml", ".json")


def _same(path: str) -> str:
    return path


@dataclass
class Plan:
    """The units to read, in order, and what was seen and is not judged."""

    units: list[Unit] = field(default_factory=list)
    unjudged: list[Unjudged] = field(default_factory=list)
    # What an environment deploys and cannot be judged: the run fails closed.
    errors: list[InputError] = field(default_factory=list)


def in_chart_templates(path: str, charts: Iterable[str]) -> bool:
    """Whether ``path`` is a Go template (or subchart file) of one of the charts."""
    for chart in charts:
        prefix = f"{chart}/" if chart else ""
        if path.startswith((prefix + "templates/", prefix + "charts/")):
            return True
    return False


def outermost_charts(directories: Iterable[str]) -> list[str]:
    """Chart directories, leaving out subcharts (inside another chart's ``charts/``)."""
    charts = sorted(directories)
    return [chart for chart in charts if not in_chart_templates(
        f"{chart}/{CHART_FILE}", [other for other in charts if other != chart])]


def chart_of(tree: FileTree, path: str) -> str | None:
    """The chart directory that ``path`` lies in, if any (the outermost one)."""
    found = None
    directory = posixpath.dirname(path)
    while True:
        if HELM.marker(tree, directory) is not None:
            found = directory
        if not directory:
            return found
        directory = posixpath.dirname(directory)


def is_manifest_path(path: str) -> bool:
    """A ``*.yaml``/``*.yml`` file outside hidden directories."""
    return path.endswith(YAML_SUFFIXES) and not any(
        part.startswith(".") for part in path.split("/"))


class Planner:
    """Plans the units of one tree, with one environment map and one display rule."""

    def __init__(self, tree: FileTree, settings: RenderSettings,
                 environments: EnvironmentMap | None = None,
                 display: DisplayName = _same,
                 environment_of: Callable[[str], str | None] | None = None,
                 exclude: Exclusions | None = None) -> None:
        self.tree = tree
        self.settings = settings
        self.environments = environments
        self.display = display
        self.exclude = exclude or Exclusions()
        # Overrides the map's answer (gate diff: an Application relabelled by the change
        # keeps its environment as of the base).
        self._environment_of = environment_of
        self._named: dict[str, kustomize_inputs.References | None] = {}

    # -- shared rules --------------------------------------------------------------------
    @property
    def kustomize_on(self) -> bool:
        return KUSTOMIZE.unavailable(self.settings) is None

    def excluded(self, path: str) -> str | None:
        """The ``exclude`` glob that names a tree path, if any."""
        return self.exclude.pattern_for(path) if self.exclude else None

    def _keep(self, paths: Iterable[str], what: str, excluded: list[_Excluded]) -> list[str]:
        """``paths`` an exclusion does not name; the others go to ``excluded``."""
        kept = []
        for path in paths:
            pattern = self.excluded(path)
            if pattern is None:
                kept.append(path)
            else:
                excluded.append(_Excluded(path, what, pattern))
        return kept

    def _not_judged(self, excluded: list[_Excluded], plan: Plan, within: str | None) -> None:
        """Excluded items as not judged. ``within`` (gate check's directory) lets the items
        of a directory that a glob names whole be listed as that directory, once."""
        groups: dict[tuple[str, str], list[_Excluded]] = {}
        for item in excluded:
            where = item.path
            if within is not None:
                where = _named_whole(item.path, item.pattern, within)
            groups.setdefault((where, item.pattern), []).append(item)
        for (where, pattern), items in sorted(groups.items()):
            reason = self.exclude.reason(pattern)
            if len(items) == 1 and items[0].path == where:
                plan.unjudged.append(Unjudged(self.display(where) or ".", items[0].what,
                                              EXCLUDED, reason))
                continue
            counts: dict[str, int] = {}
            for item in items:
                counts[item.what] = counts.get(item.what, 0) + 1
            held = ", ".join(f"{count} {what}(s)" for what, count in sorted(counts.items()))
            plan.unjudged.append(Unjudged(self.display(where) or ".", "directory", EXCLUDED,
                                          f"{reason}; {held} in it not judged"))

    def named_file(self, path: str) -> Plan:
        """The plan of a file named on the command line: the file, unless excluded."""
        plan = Plan()
        excluded: list[_Excluded] = []
        plan.units.extend(Unit("file", kept) for kept in self._keep([path], "file", excluded))
        self._not_judged(excluded, plan, None)
        return plan

    def references(self, directory: str) -> kustomize_inputs.References | None:
        if directory not in self._named:
            self._named[directory] = kustomize_inputs.references(self.tree, directory)
        return self._named[directory]

    def inputs(self, directory: str) -> set[str]:
        return kustomize_inputs.inputs(self.tree, directory, self.references)

    def environment_of(self, path: str) -> str | None:
        if self._environment_of is not None:
            return self._environment_of(path)
        return None if self.environments is None else self.environments.environment_of(path)

    def deployed(self) -> list[DeployedPath]:
        """What the tree's Argo CD Applications deploy (none without discovery)."""
        return [] if self.environments is None else self.environments.deployed_paths()

    def deployed_kustomizations(self) -> set[str]:
        """Kustomization directories an Argo CD Application deploys."""
        return {deployed.path for deployed in self.deployed()
                if deployed.kind == "kustomize" and deployed.path is not None
                and KUSTOMIZE.marker(self.tree, deployed.path) is not None}

    def kustomize_units(self, overlay: str) -> list[Unit]:
        """How an overlay is rendered: as written, and once per Application that
        deploys it with image overrides (``spec.source.kustomize.images``)."""
        deployers = [d for d in self.deployed() if d.kind == "kustomize" and d.path == overlay]
        overridden = sorted({Unit("kustomize", overlay, release=d.application,
                                  environment=self.environment_of(overlay) or d.environment,
                                  images=d.kustomize_images)
                             for d in deployers if d.kustomize_images})
        plain = not deployers or any(not d.kustomize_images for d in deployers)
        return [Unit("kustomize", overlay)] * plain + overridden

    def directory_files(self, deployed: DeployedPath) -> list[str]:
        """The manifests of an Argo CD directory source: ``*.yaml``, ``*.yml`` and
        ``*.json`` in its path (recursively with ``recurse``), filtered by its
        ``include`` and ``exclude`` globs, as Argo CD reads them."""
        if deployed.path is None or not self.tree.is_dir(deployed.path):
            return []
        prefix = f"{deployed.path}/" if deployed.path else ""
        found = []
        for path in walk_files(self.tree, deployed.path):
            relative = path[len(prefix):]
            if not path.endswith(ARGOCD_SUFFIXES) or (not deployed.recurse and "/" in relative):
                continue
            if deployed.include and not glob_match_any(deployed.include, relative):
                continue
            if deployed.exclude and glob_match_any(deployed.exclude, relative):
                continue
            found.append(path)
        return found

    def changed_applications(self, changed: set[str]) -> list[DeployedPath]:
        """What the Applications whose manifests the change touches deploy."""
        return [d for d in self.deployed() if d.file in changed and d.path is not None]

    def helm_releases(self, chart: str) -> list[Unit]:
        """The releases to render a chart as: one per Application, else one of its own."""
        releases: set[Unit] = set()
        if self.environments is not None:
            for deployed in self.environments.deployed_paths():
                if deployed.kind == "helm" and deployed.path == chart:
                    releases.add(Unit(
                        "helm", chart, values=tuple(deployed.value_files),
                        release=deployed.application, namespace=deployed.namespace,
                        environment=self.environment_of(chart) or deployed.environment))
        if not releases:
            releases.add(Unit("helm", chart, release=chart.rsplit("/", 1)[-1] or "release"))
        return sorted(releases)

    def chart_units(self, charts: list[str], plan: Plan) -> None:
        """Units for the charts, or an unjudged entry each when Helm cannot render."""
        reason = HELM.unavailable(self.settings)
        deployed = {d.path for d in self.deployed() if d.kind == "helm"}
        for chart in charts:
            environment = self.environment_of(chart)
            if reason is None:
                plan.units.extend(self.helm_releases(chart))
            elif environment or chart in deployed:
                # A chart an environment deploys, unjudged, would pass a required check
                # with its workloads unseen.
                where = f" to {environment}" if environment else ""
                plan.errors.append(InputError(
                    self.display(HELM.marker(self.tree, chart) or chart), None,
                    f"Helm chart deployed{where} cannot be judged: {reason.split(';')[0]}"))
            else:
                plan.unjudged.append(Unjudged(self.display(chart) or ".", HELM.what,
                                              NOT_RENDERED, reason))

    def special_entries(self, paths: Callable[[str], bool], plan: Plan) -> None:
        """Submodules and other entries of a revision whose content is not in it: an
        input error where an environment deploys them, else not judged, with why."""
        listed = getattr(self.tree, "special_entries", None)
        for path, reason in (listed() if listed is not None else []):
            if not paths(path):
                continue
            environment = self.environment_of(path)
            if environment:
                plan.errors.append(InputError(
                    self.display(path), None,
                    f"{reason}; it is deployed to {environment} and gate cannot judge it"))
            else:
                plan.unjudged.append(Unjudged(self.display(path), "git entry", NOT_RENDERED,
                                              reason))

    def unapplied_overrides(self, planned: Callable[[DeployedPath], bool], plan: Plan) -> None:
        """An Application whose source overrides gate does not apply (``kustomize.namePrefix``,
        ``helm.values``, ...) deploys something gate cannot judge: an input error."""
        for deployed in self.deployed():
            if deployed.unapplied and deployed.path is not None and planned(deployed):
                plan.errors.append(InputError(
                    self.display(deployed.file), deployed.unapplied_line or deployed.line,
                    f"Application {deployed.application} sets "
                    f"{', '.join(deployed.unapplied)}, which gate does not apply: what it "
                    f"deploys to {deployed.environment} from {deployed.path or '.'} cannot "
                    "be judged"))

    def _not_rendered(self, overlays: Iterable[str], plan: Plan) -> None:
        reason = KUSTOMIZE.unavailable(self.settings)
        if reason is not None:
            plan.unjudged.extend(Unjudged(self.display(overlay) or ".", KUSTOMIZE.what,
                                          NOT_RENDERED, reason) for overlay in overlays)

    # -- gate check: a directory -----------------------------------------------------------
    def directory(self, directory: str) -> Plan:
        """Units for a directory: overlays, charts, and the YAML files they do not read.

        One walk of the directory finds all three.
        """
        plan = Plan()
        every = walk_files(self.tree, directory)
        by_dir: dict[str, set[str]] = {}
        for path in every:
            parent, _, name = path.rpartition("/")
            by_dir.setdefault(parent, set()).add(name)
        kustomizations = sorted(d for d, names in by_dir.items() if KUSTOMIZE.owns(names))
        roots = kustomize_inputs.roots_among(self.tree, kustomizations, self.references)
        consumed: set[str] = set()
        # What an exclusion names: consumed files stay consumed (an excluded overlay's
        # patches are no manifests of their own either), and nothing of it is read.
        excluded: list[_Excluded] = []
        if self.kustomize_on:
            below = f"{directory}/" if directory else ""
            deployed = {d for d in self.deployed_kustomizations()
                        if not directory or d == directory or d.startswith(below)}
            roots = sorted(set(roots) | deployed)
            plan.units.extend(unit for root in self._keep(roots, KUSTOMIZE.what, excluded)
                              for unit in self.kustomize_units(root))
            for root in roots:
                consumed |= self.inputs(root)
            # A component no overlay uses: its files are no manifests of their own either.
            for unused in (d for d in kustomizations if d not in roots
                           and kustomization_file(self.tree, d) not in consumed):
                inputs = self.inputs(unused)
                consumed |= inputs
                if self._keep([unused], "Kustomize component", excluded):
                    plan.unjudged.append(Unjudged(
                        self.display(unused) or ".", "Kustomize component", NOT_REFERENCED,
                        f"no overlay uses it; its {len(inputs)} file(s) are not judged on "
                        "their own"))
        else:
            self._not_rendered(self._keep(roots, KUSTOMIZE.what, excluded), plan)
        charts = outermost_charts(d for d, names in by_dir.items() if HELM.owns(names))
        self.chart_units(self._keep(charts, HELM.what, excluded), plan)
        plan.units.extend(Unit("file", path) for path in self._keep(
            (path for path in every if path.endswith(YAML_SUFFIXES) and path not in consumed
             and not in_chart_templates(path, charts)), "file", excluded))
        # JSON manifests are deployed by directory Applications too.
        below = f"{directory}/" if directory else ""
        self.special_entries(lambda path: (not directory or path.startswith(below))
                             and bool(self._keep([path], "git entry", excluded)), plan)
        self.unapplied_overrides(
            lambda d: (not directory or d.path == directory
                       or (d.path or "").startswith(below))
            and self.excluded(d.path or "") is None, plan)
        plan.units.extend(Unit("file", path) for path in self._keep(sorted({
            path for d in self.deployed() if d.kind == "directory"
            for path in self.directory_files(d)
            if path.endswith(".json") and (not directory or path.startswith(below))}),
            "file", excluded))
        self._not_judged(excluded, plan, directory)
        return plan

    # -- gate diff: what changed paths reach -------------------------------------------------
    def reach(self, changed: set[str]) -> Reached:
        """What a side's changed paths reach: overlays, charts, and plain manifest files."""
        found = reach(self.tree, changed)
        unrendered: set[str] = set()
        if not self.kustomize_on:
            # Named as gate check names them (the overlays), then judged as written.
            unrendered, found = found.overlays, Reach()
        overlays = set(found.overlays)
        overlays |= found.affected & self.deployed_kustomizations()
        charts = {chart for chart in (chart_of(self.tree, path) for path in changed)
                  if chart is not None}
        deployed_files: set[str] = set()
        # A change to an Application is a deployment change: what it deploys after the
        # change (its path, its overrides) is judged, even where no file there changed.
        for application in self.changed_applications(changed):
            assert application.path is not None
            if application.kind == "kustomize" and self.kustomize_on:
                overlays.add(application.path)
            elif application.kind == "helm":
                charts.add(application.path)
            elif application.kind == "directory":
                deployed_files.update(self.directory_files(application))
        json_files = {path for d in self.deployed() if d.kind == "directory"
                      for path in self.directory_files(d) if path.endswith(".json")}
        files = sorted(
            {path for path in changed
             if (is_manifest_path(path) or path in json_files) and path not in found.consumed
             and not (self.kustomize_on and kustomize_inputs.is_kustomization(path))
             and not in_chart_templates(path, charts) and self.tree.is_file(path)}
            | {path for path in deployed_files if path not in found.consumed
               and not in_chart_templates(path, charts)})
        return Reached(overlays, charts, files, unrendered)

    def side(self, overlays: Iterable[str], charts: Iterable[str], files: list[str],
             unrendered: Iterable[str] = (), changed: Iterable[str] = ()) -> Plan:
        """The plan of one side of a change: what either side reaches, where it exists
        (and the side's ``changed`` paths that it cannot read, such as a submodule)."""
        changed = set(changed)
        plan = Plan()
        excluded: list[_Excluded] = []
        self.special_entries(lambda path: path in changed
                             and bool(self._keep([path], "git entry", excluded)), plan)
        reached = set(overlays) | set(charts)
        self.unapplied_overrides(lambda d: (d.path in reached or d.file in changed)
                                 and self.excluded(d.path or "") is None, plan)
        overlays = self._keep(sorted(o for o in overlays
                                     if KUSTOMIZE.marker(self.tree, o) is not None),
                              KUSTOMIZE.what, excluded)
        charts = self._keep(sorted(c for c in charts if HELM.marker(self.tree, c) is not None),
                            HELM.what, excluded)
        plan.units.extend(unit for overlay in overlays for unit in self.kustomize_units(overlay))
        self._not_rendered(self._keep(sorted(unrendered), KUSTOMIZE.what, excluded), plan)
        self.chart_units(charts, plan)
        plan.units.extend(Unit("file", path) for path in self._keep(files, "file", excluded))
        self._not_judged(excluded, plan, None)
        return plan

    # -- change policies: what an environment deploys ------------------------------------------
    def environment(self, environment: str, paths: list[str]) -> list[tuple[Unit, list[str]]]:
        """The units of ``environment``, each with the files it reads ([] for a chart,
        whose templates can build any string: it cannot be ruled out by its text).

        Every kustomization of the environment counts, overlay or not: what a base
        deploys there is deployed.
        """
        def ours(path: str) -> bool:
            return (self.environment_of(path) or "") == environment

        found: list[tuple[Unit, list[str]]] = []
        if self.kustomize_on:
            directories = sorted({path.rpartition("/")[0] for path in paths
                                  if kustomize_inputs.is_kustomization(path)})
            found += [(Unit("kustomize", d), sorted(self.inputs(d)))
                      for d in directories if ours(d)]
        found += [(Unit("file", path), [path]) for path in paths
                  if path.endswith(YAML_SUFFIXES) and ours(path)
                  and not (self.kustomize_on and kustomize_inputs.is_kustomization(path))]
        if HELM.unavailable(self.settings) is None:
            charts = outermost_charts(path.rpartition("/")[0] for path in paths
                                      if path.rpartition("/")[2] == CHART_FILE)
            found += [(unit, []) for chart in charts for unit in self.helm_releases(chart)
                      if ours(unit.path)]
        return found


@dataclass(frozen=True)
class _Excluded:
    """A file, overlay or chart an ``exclude`` glob names, and that glob."""

    path: str
    what: str
    pattern: str


def _named_whole(path: str, pattern: str, within: str) -> str:
    """The outermost directory holding ``path``, at or below ``within``, that ``pattern``
    names whole (so everything in it is excluded), else ``path`` itself."""
    found = path
    below = f"{within}/" if within else ""
    for parent in self_and_parents(posixpath.dirname(path)):
        if within and parent != within and not parent.startswith(below):
            break
        if covers(pattern, parent):
            found = parent
    return found


@dataclass
class Reached:
    """What one side's changed paths reach."""

    overlays: set[str]
    charts: set[str]
    files: list[str]
    unrendered: set[str] = field(default_factory=set)  # overlays with --kustomize off
