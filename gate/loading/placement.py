"""Where each manifest of a repository deploys, and why: what ``gate environments`` shows.

A file reaches an environment in one of three ways, the ways a run judges it:

* **as written** (``via`` ``file``): the file is a unit of its own, in the environment of
  its own path (a config entry's glob, or the Argo CD Application covering it);
* **through a Kustomize overlay** (``kustomize``) that reads it (a base's manifest, a
  patch): its resources are judged in the overlay's environment, once per overlay;
* **through a Helm chart** (``helm``) it belongs to: in the environment of each release
  (an Application deploying the chart), else of the chart's directory.

Everything comes from the code the checks use: the plan of the whole repository
(gate/loading/planning.py, as ``gate check .`` makes it) and the environment map
(gate/loading/environments.py, with Argo CD discovery, gate/loading/argocd/). A chart is placed
whether or not this run could render it (``--helm``): where it deploys is the
repository's fact, not the run's.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from gate.loading.argocd.model import DeployedPath
from gate.loading.environments import EnvironmentMap, EnvironmentMatch, Note
from gate.loading.planning import Planner, is_manifest_path, outermost_charts
from gate.loading.renderers.base import RenderSettings, Unit
from gate.loading.renderers.helm import CHART_FILE
from gate.loading.renderers.registry import HELM
from gate.loading.trees import FileTree, walk_files
from gate.results import NOT_REFERENCED

AS_WRITTEN = "file"
NOTHING_MAPS = "no config entry or Argo CD Application covers it"
NO_ENVIRONMENTS = "no environments are configured (.gate.yaml 'environments')"
_VIA = {AS_WRITTEN: "as written", "kustomize": "through Kustomize overlay",
        "helm": "through Helm chart"}


@dataclass(frozen=True)
class Route:
    """One way a file reaches an environment (``environment`` None: none is known)."""

    environment: str | None
    via: str  # "file", "kustomize" or "helm"
    unit: str  # the overlay or chart directory (a tree path); the file itself for "file"
    release: str  # the Application rendering the overlay or chart, if one does
    source: str | None  # "config", "argocd", or None when nothing maps the unit
    reason: str  # e.g. "config entry 'prod' (envs/prod/**)", or why none is known
    file: str | None = None  # the config file or Application manifest that decided it
    line: int | None = None

    def describe(self) -> str:
        """``through Kustomize overlay envs/prod/orders: <reason>``."""
        how = _VIA[self.via] if self.via == AS_WRITTEN else f"{_VIA[self.via]} {self.unit or '.'}"
        if self.release:
            how += f" (release {self.release})" if self.via == "helm" else (
                f" (application {self.release})")
        reason = self.reason
        if self.source == "config" and self.file:
            reason += f" at {self.file}:{self.line}" if self.line else f" in {self.file}"
        return f"{how}: {reason}"


@dataclass(frozen=True)
class Placement:
    """A file of the repository and every way it reaches an environment."""

    path: str
    routes: tuple[Route, ...]

    @property
    def environments(self) -> list[str]:
        return sorted({route.environment for route in self.routes if route.environment})


@dataclass
class Placements:
    """Where a repository's manifests deploy: per file, and what Argo CD deploys."""

    environments: list[str]
    placements: list[Placement]
    applications: list[DeployedPath] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


def _route(via: str, unit: str, match: EnvironmentMatch | None, environment: str = "",
           release: str = "", configured: bool = True) -> Route:
    if match is None:
        if environment:  # an Application renders the unit, which no path rule maps
            return Route(environment, via, unit, release, "argocd",
                         f"Application {release!r} deploys it")
        return Route(None, via, unit, release, None,
                     NOTHING_MAPS if configured else NO_ENVIRONMENTS)
    source = "argocd" if match.deployed else "config"
    return Route(environment or match.environment, via, unit, release, source, match.reason,
                 match.file, match.line)


def place(tree: FileTree, environments: EnvironmentMap | None,
          settings: RenderSettings | None = None) -> Placements:
    """Every manifest file of ``tree`` with the environments it reaches and why."""
    planner = Planner(tree, settings or RenderSettings(), environments)
    configured = environments is not None

    def match(path: str) -> EnvironmentMatch | None:
        return None if environments is None else environments.match(path)

    routes: dict[str, set[Route]] = {}

    def add(paths: Iterable[str], route: Route) -> None:
        for path in paths:
            routes.setdefault(path, set()).add(route)

    plan = planner.directory("")
    for unit in plan.units:
        if unit.kind == AS_WRITTEN:
            add([unit.path], _route(AS_WRITTEN, unit.path, match(unit.path),
                                    configured=configured))
        elif unit.kind == "kustomize":
            add(planner.inputs(unit.path), _unit_route(unit, match(unit.path), configured))
    for item in plan.unjudged:
        if item.category == NOT_REFERENCED:  # a component no overlay uses: nowhere
            directory = "" if item.file == "." else item.file
            add(planner.inputs(directory), Route(None, "kustomize", directory, "", None,
                                                 f"not judged: {item.describe()}"))
    every = walk_files(tree, "")
    charts = outermost_charts({path.rpartition("/")[0] for path in every
                               if path.rpartition("/")[2] == CHART_FILE})
    for chart in charts:
        files = HELM.inputs(tree, chart)
        for release in planner.helm_releases(chart):
            add(files, _unit_route(release, match(chart), configured))
    listed = {path for path in every if is_manifest_path(path)} | set(routes)
    placements = [Placement(path, tuple(sorted(routes.get(path, ()), key=_order)) or (
        Route(None, AS_WRITTEN, path, "", None, "not judged: no unit of a run reads it"),))
                  for path in sorted(listed)]
    return Placements(
        environments=[] if environments is None else environments.environments(),
        placements=placements,
        applications=[] if environments is None else environments.deployed_paths(),
        notes=[] if environments is None else environments.notes,
    )


def _unit_route(unit: Unit, match: EnvironmentMatch | None, configured: bool) -> Route:
    # A release named after its chart (no Application renders it) is no Application.
    release = unit.release if (unit.kind != "helm" or unit.environment) else ""
    return _route(unit.kind, unit.path, match, unit.environment, release, configured)


def _order(route: Route) -> tuple[str, int, str, str]:
    return (route.environment or "\uffff", list(_VIA).index(route.via), route.unit,
            route.release)
