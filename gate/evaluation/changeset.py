"""A change as two sides: which units it affects, and how each side evaluates.

The affected units of a side are its changed manifest files and the Kustomize
overlays whose inputs (bases, components, patches, generator files, all
transitively) include a changed file. An overlay affected on either side is
evaluated on both sides where it exists, so a finding can be told new or
existing and a resource the change removes can be listed.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from gate.evaluation.context import Context
from gate.evaluation.evaluate import (
    ContextOf,
    Outcome,
    context_of,
    evaluate_batches,
    wants_documents,
)
from gate.evaluation.policy import Policy
from gate.loading.collect import Batch, Collector, use_environments
from gate.loading.deployed import image_entries, image_order
from gate.loading.environments import EnvironmentConfig, EnvironmentMap, as_of_base, relabelled
from gate.loading.exclude import Exclusions
from gate.loading.planning import Planner
from gate.loading.renderers.base import RenderSettings
from gate.loading.trees import FileTree
from gate.results import EXCLUDED, ResourceRef, Unjudged


class EmptyTree:
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
    # Environments the change reaches ("" for resources in none), and each changed
    # path's environments (all of the change's, when it cannot be told).
    environments: list[str] = field(default_factory=list)
    file_environments: dict[str, list[str]] = field(default_factory=dict)
    collectors: dict[str, Collector] = field(default_factory=dict, repr=False)
    planners: dict[str, Planner] = field(default_factory=dict, repr=False)
    # What the head side saw and does not judge (charts without --helm, ...).
    unjudged: list[Unjudged] = field(default_factory=list)
    # The container images of the resources judged, by environment and side.
    images: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict,
                                                               repr=False)


def _identity(path: str) -> str:
    return path


def compare(
    policies: list[Policy],
    base: Side,
    head: Side,
    changes: Iterable[object],
    fail_on: str,
    kustomize_mode: str = "auto",
    environments: EnvironmentConfig | None = None,
    helm: bool = False,
    exclude: Exclusions | None = None,
) -> Comparison:
    settings = RenderSettings(kustomize_mode, helm)
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

    def prepare(side: Side, base_map: EnvironmentMap | None = None,
                ) -> tuple[Collector, Planner, EnvironmentMap | None]:
        tree: FileTree = side.tree if side.tree is not None else EmptyTree()
        made = Collector(tree, _identity, settings=settings,
                         documents=wants_documents(policies))
        environment_map = None
        pinned = None
        if environments is not None and environments.enabled:
            environment_map = environments.map(tree)
            use_environments(made, environment_map)
            if base_map is not None:
                pinned = as_of_base(environment_map, base_map)
                made.environment_of = pinned
        planner = Planner(tree, settings, environment_map, environment_of=pinned,
                          exclude=exclude)
        return made, planner, environment_map

    base_collector, base_planner, base_map = prepare(base)
    head_collector, head_planner, head_map = prepare(head, base_map)
    head_found = head_planner.reach(changed_new)
    base_found = base_planner.reach(changed_old)
    # An overlay or chart either side reaches is judged on both sides where it exists.
    overlays = head_found.overlays | base_found.overlays
    charts = head_found.charts | base_found.charts
    head_plan = head_planner.side(overlays, charts, head_found.files, head_found.unrendered,
                                  changed_new)
    base_plan = base_planner.side(overlays, charts, base_found.files, base_found.unrendered)

    images: dict[str, dict[str, list[dict[str, Any]]]] = {}

    def noting_images(batches: Iterable[Batch], side: str) -> Iterator[Batch]:
        """The batches, each one's container images noted as it is read (while its node
        trees, and so the images' lines, are at hand: evaluation releases them)."""
        for batch in batches:
            for entry_resource in batch.resources:
                found = image_entries([entry_resource])
                if found:
                    by_side = images.setdefault(entry_resource.environment,
                                                {"base": [], "head": []})
                    by_side[side].extend(found)
            yield batch

    # Units the head cannot read: their resources are unknown there, not deleted.
    unreadable: set[str] = set()

    def head_batches() -> Iterator[Batch]:
        for batch in head_collector.read_all(head_plan.units):
            if batch.errors:
                unreadable.add(batch.unit.path or ".")
            yield batch

    head_outcome = evaluate_batches(policies, noting_images(head_batches(), "head"), fail_on,
                                    _contexts(head_collector, head_planner))
    head_outcome.errors.extend(head_plan.errors)
    base_outcome = evaluate_batches(policies,
                                    noting_images(base_collector.read_all(base_plan.units),
                                                  "base"),
                                    fail_on, _contexts(base_collector, base_planner))
    notes: list[str] = []
    if head_map is not None and base_map is not None:
        notes += [f"Application {name} is relabelled from {old} to {new} by this change: "
                  f"what it deploys is judged as {old}, its environment at the base"
                  for name, (old, new) in sorted(relabelled(head_map, base_map).items())]
    notes += [
        f"the base side could not be read at {error.file}"
        f"{f':{error.line}' if error.line else ''}: {error.message}; its findings count as new"
        for error in base_outcome.errors
    ]
    _follow_renames(base_outcome, renamed)
    head_keys = {resource.key() for resource in head_outcome.resources}
    deleted = [r for r in base_outcome.resources if r.key() not in head_keys
               and (r.rendered_by or r.file).split(" (release ")[0] not in unreadable]
    for by_side in images.values():
        for found in by_side.values():
            found.sort(key=image_order)
    comparison = Comparison(head_outcome, base_outcome, deleted, notes,
                            collectors={"head": head_collector, "base": base_collector},
                            planners={"head": head_planner, "base": base_planner},
                            images=images, unjudged=[*head_plan.unjudged, *(
                                # What the base side leaves out, the change deletes, say.
                                item for item in base_plan.unjudged
                                if item.category == EXCLUDED)])
    _reached_environments(comparison, changed_new | changed_old)
    return comparison


def _contexts(collector: Collector, planner: Planner) -> ContextOf:
    """The context of each batch of one side: a rendered unit is whole; a plain file's
    context is every plain file of the side's tree in its environment, changed or not,
    read (data only) when a context function first asks, once per environment."""
    contexts: dict[str, Context] = {}
    by_environment: dict[str, list[str]] = {}
    planned: list[bool] = []

    def files(environment: str) -> list[str]:
        if not planned:
            planned.append(True)
            for unit in planner.directory("").units:
                if unit.kind == "file":
                    found = collector.environment_of(unit.path) or ""
                    by_environment.setdefault(found, []).append(unit.path)
        return by_environment.get(environment, [])

    def context(batch: Batch) -> Context:
        if batch.context is None:
            return context_of(batch.resources)
        environment = batch.context[1]
        found = contexts.get(environment)
        if found is None:
            found = contexts[environment] = Context(
                load=lambda: collector.objects(files(environment)))
        return found

    return context


def _reached_environments(comparison: Comparison, changed: set[str]) -> None:
    """Which environments the change reaches, in all and through each changed path."""
    resources = [*comparison.head.resources, *comparison.base.resources]
    environments = {resource.environment for resource in resources}
    by_path: dict[str, set[str]] = {}
    for resource in resources:
        by_path.setdefault(resource.file, set()).add(resource.environment)
    own: dict[str, str] = {}
    for path in changed:
        for made in comparison.collectors.values():
            environment = made.environment_of(path)
            if environment:
                own[path] = environment
                environments.add(environment)
                break
    if not environments:
        environments = {""}
    every = sorted(environments)
    comparison.environments = every
    comparison.file_environments = {
        path: sorted({own[path]} if path in own else by_path.get(path) or set(every))
        for path in sorted(changed)
    }


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
