"""A change as two sides: which units it affects, and how each side evaluates.

The affected units of a side are its changed manifest files and the Kustomize
overlays whose inputs (bases, components, patches, generator files, all
transitively) include a changed file. An overlay affected on either side is
evaluated on both sides where it exists, so a finding can be told new or
existing and a resource the change removes can be listed.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from gate.collect import Collector, Unit, in_chart_templates, use_environments
from gate.environments import EnvironmentConfig
from gate.evaluate import Outcome, evaluate_batches, wants_documents
from gate.policy import Policy
from gate.results import ResourceRef
from gate.trees import FileTree

YAML_SUFFIXES = (".yaml", ".yml")


class _EmptyTree:
    """The side of a change before the first commit: no files at all."""

    label = "(nothing)"

    def read_bytes(self, path: str) -> bytes:
        raise FileNotFoundError(path)

    def is_file(self, path: str) -> bool:
        return False

    def is_dir(self, path: str) -> bool:
        return path == ""

    def list_dir(self, path: str) -> list[str]:
        return []


@dataclass
class Side:
    tree: FileTree | None


@dataclass
class Comparison:
    head: Outcome
    base: Outcome
    deleted: list[ResourceRef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _identity(path: str) -> str:
    return path


def _is_manifest(path: str) -> bool:
    return path.endswith(YAML_SUFFIXES) and not any(
        part.startswith(".") for part in path.split("/")
    )


@dataclass
class _SideUnits:
    collector: Collector
    roots: set[str]
    root_inputs: dict[str, set[str]]
    consumed: set[str]
    charts: list[str]


def _side_units(collector: Collector) -> _SideUnits:
    roots, root_inputs = collector.kustomize_roots("")
    consumed = set().union(*root_inputs.values()) if root_inputs else set()
    return _SideUnits(collector, set(roots), root_inputs, consumed, collector.charts(""))


def _affected(side: _SideUnits, changed: set[str]) -> tuple[set[str], set[str], list[str]]:
    """(affected overlays, affected charts, changed plain manifest files) of one side."""
    overlays = {root for root, inputs in side.root_inputs.items() if inputs & changed}
    charts = {
        chart for chart in side.charts
        if any(not chart or path.startswith(chart + "/") for path in changed)
    }
    tree = side.collector.tree
    files = sorted(
        path for path in changed
        if _is_manifest(path) and path not in side.consumed
        and not in_chart_templates(path, side.charts) and tree.is_file(path)
    )
    return overlays, charts, files


def compare(
    policies: list[Policy],
    base: Side,
    head: Side,
    changes: Iterable[object],
    fail_on: str,
    kustomize_mode: str = "auto",
    environments: EnvironmentConfig | None = None,
    helm: bool = False,
) -> Comparison:
    changed_new: set[str] = set()
    changed_old: set[str] = set()
    renamed: dict[str, str] = {}
    for change in changes:
        new_path = getattr(change, "new_path", None)
        old_path = getattr(change, "old_path", None)
        if new_path:
            changed_new.add(new_path)
        if old_path:
            changed_old.add(old_path)
        if getattr(change, "status", "") == "R" and old_path and new_path:
            renamed[old_path] = new_path

    def collector(side: Side) -> Collector:
        tree: FileTree = side.tree if side.tree is not None else _EmptyTree()
        made = Collector(tree, _identity, kustomize_mode=kustomize_mode,
                         documents=wants_documents(policies), helm=helm)
        if environments is not None and environments.enabled:
            use_environments(made, environments.map(tree))
        return made

    head_units = _side_units(collector(head))
    base_units = _side_units(collector(base))
    head_overlays, head_charts, head_files = _affected(head_units, changed_new)
    base_overlays, base_charts, base_files = _affected(base_units, changed_old)
    # An overlay or chart either side reaches is judged on both sides where it exists.
    overlays = head_overlays | base_overlays
    charts = head_charts | base_charts
    head_plan = [Unit("kustomize", r) for r in sorted(overlays & head_units.roots)]
    head_plan += head_units.collector.chart_units(sorted(charts & set(head_units.charts)))
    head_plan += [Unit("file", path) for path in head_files]
    base_plan = [Unit("kustomize", r) for r in sorted(overlays & base_units.roots)]
    base_plan += base_units.collector.chart_units(sorted(charts & set(base_units.charts)))
    base_plan += [Unit("file", path) for path in base_files]

    head_outcome = evaluate_batches(policies, head_units.collector.read_all(head_plan), fail_on)
    base_outcome = evaluate_batches(policies, base_units.collector.read_all(base_plan), fail_on)
    notes = [*head_units.collector.warnings]
    notes += [
        f"the base side could not be read at {error.file}"
        f"{f':{error.line}' if error.line else ''}: {error.message}; its findings count as new"
        for error in base_outcome.errors
    ]
    _follow_renames(base_outcome, renamed)
    head_keys = {resource.key() for resource in head_outcome.resources}
    deleted = [r for r in base_outcome.resources if r.key() not in head_keys]
    return Comparison(head_outcome, base_outcome, deleted, notes)


def _follow_renames(outcome: Outcome, renamed: dict[str, str]) -> None:
    """Name base resources of renamed files by their new path: a move is not a new resource."""
    if not renamed:
        return

    def moved(resource: ResourceRef) -> ResourceRef:
        if resource.rendered_by or resource.file not in renamed:
            return resource
        return replace(resource, file=renamed[resource.file])

    outcome.resources = [moved(resource) for resource in outcome.resources]
    outcome.results = [replace(r, resource=moved(r.resource)) for r in outcome.results]
