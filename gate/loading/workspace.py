"""What ``gate check`` reads: the paths a user names, as units of one or more trees.

Each path belongs to the tree rooted at its repository (the nearest directory
holding ``.git``), so Kustomize overlays may reach their bases anywhere inside
it and nowhere outside. Names in reports are relative to the working directory.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from gate import executables
from gate.errors import ConfigError
from gate.loading.collect import Batch, Collector, use_environments
from gate.loading.environments import EnvironmentConfig
from gate.loading.exclude import Exclusions
from gate.loading.planning import Planner
from gate.loading.renderers.base import RenderSettings, Unit
from gate.loading.resources import InputError, Note, read_resources
from gate.loading.sources import STDIN, display_name, read_source
from gate.loading.trees import WorkTree
from gate.loading.yamlio import YamlInputError
from gate.results import Unjudged


def repository_root(path: str) -> str | None:
    """The nearest directory at or above ``path`` that holds ``.git``."""
    directory = os.path.abspath(path if os.path.isdir(path) else os.path.dirname(path) or ".")
    while True:
        if os.path.exists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def tree_root(path: str) -> str:
    """The root of the tree ``path`` is read in: its repository, else the working
    directory when the path lies under it, else the path's own directory."""
    root = repository_root(path)
    if root is not None:
        return root
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    if absolute == cwd or absolute.startswith(cwd + os.sep):
        return cwd
    return absolute if os.path.isdir(absolute) else os.path.dirname(absolute)


@dataclass
class _Group:
    collector: Collector
    planner: Planner
    units: list[Unit]
    unjudged: list[Unjudged]
    errors: list[InputError]


class Workspace:
    """The units named by command-line paths, grouped by tree."""

    def __init__(self, kustomize_mode: str = "auto",
                 environments: EnvironmentConfig | None = None, documents: bool = False,
                 helm: bool = False, exclude: Exclusions | None = None) -> None:
        self.settings = RenderSettings(kustomize_mode, helm)
        self.environments = environments
        self.exclude = exclude  # the config's exclude globs, on repository paths
        self.documents = documents
        self._groups: dict[str, _Group] = {}
        self._stdin = False
        self._order: list[tuple[str, Unit]] = []  # (tree root, unit), as named
        self._seen: set[tuple[str, str]] = set()  # (kind, real path) already planned

    def _group(self, root: str) -> _Group:
        group = self._groups.get(root)
        if group is None:
            executables.distrust(root)  # the tree judged: no program runs from there
            tree = WorkTree(root)

            relative_root = os.path.relpath(root).replace(os.sep, "/")
            outside = relative_root == ".." or relative_root.startswith("../")
            prefix = root.replace(os.sep, "/") if outside else relative_root

            def display(path: str, prefix: str = prefix, root: str = root) -> str:
                if outside:
                    # The root is above the working directory (gate check run in a
                    # subdirectory): name what lies below the working directory
                    # relative to it, as the user typed it, the rest absolutely.
                    return display_name(os.path.join(root, *path.split("/")))
                if prefix == ".":
                    return path or "."
                return f"{prefix}/{path}" if path else prefix

            collector = Collector(tree, display, settings=self.settings,
                                  documents=self.documents)
            environment_map = None
            if self.environments is not None and self.environments.enabled:
                environment_map = self.environments.map(tree)
                use_environments(collector, environment_map)
            planner = Planner(tree, self.settings, environment_map, display,
                              exclude=self.exclude)
            group = self._groups[root] = _Group(collector, planner, [], [], [])
        return group

    def add(self, path: str) -> None:
        if path == STDIN:
            self._stdin = True
            return
        if not os.path.exists(path):
            raise ConfigError(f"no such file or directory: {path}")
        root = tree_root(path)
        group = self._group(root)
        relative = os.path.relpath(os.path.abspath(path), root).replace(os.sep, "/")
        tree_path = "" if relative == "." else relative
        if os.path.isdir(path):
            plan = group.planner.directory(tree_path)
        else:
            # A file named through a symbolic link is the file it points to.
            real = os.path.realpath(path)
            real_root = os.path.realpath(root)
            if real.startswith(real_root + os.sep):
                tree_path = os.path.relpath(real, real_root).replace(os.sep, "/")
            # Named or not (pre-commit names each staged file), an excluded file is not read.
            plan = group.planner.named_file(tree_path)
        units = plan.units
        group.unjudged.extend(plan.unjudged)
        group.errors.extend(plan.errors)
        for unit in units:
            # The same file named twice is read once.
            key = (unit.kind, f"{root}\0{unit.path}\0{unit.release}")
            if key not in self._seen:
                self._seen.add(key)
                group.units.append(unit)
                self._order.append((root, unit))

    def planned(self) -> list[str]:
        """Display names of what will be read, in order (``-`` for standard input)."""
        names = [STDIN] if self._stdin else []
        return names + [self._groups[root].collector.display(unit.path)
                        for root, unit in self._order]

    def notes(self) -> list[Note]:
        """What environment discovery passed over, and why."""
        return [note for group in self._groups.values() for note in group.collector.notes]

    def errors(self) -> list[InputError]:
        """What the named paths deploy and this run cannot judge (fails closed)."""
        return [error for group in self._groups.values() for error in group.errors]

    def unjudged(self) -> list[Unjudged]:
        """What the named paths hold and this run does not judge, and why."""
        return [item for group in self._groups.values() for item in group.unjudged]

    def readers(self) -> list[Callable[[], Batch]]:
        """One reader per unit, in order; standard input's first (it is read by the
        process that starts the run: gate/evaluation/parallel.py gives it the first items)."""
        readers: list[Callable[[], Batch]] = []
        if self._stdin:
            readers.append(partial(_stdin_batch, self.documents))
        readers.extend(partial(self._groups[root].collector.read, unit)
                       for root, unit in self._order)
        return readers


def _stdin_batch(documents: bool) -> Batch:
    batch = Batch(Unit("file", STDIN))
    try:
        source = read_source(STDIN)
        batch.sources.append(source)
        for entry in read_resources(source, documents):
            if isinstance(entry, Note):
                batch.notes.append(entry)
            else:
                batch.resources.append(entry)
    except YamlInputError as exc:
        batch.errors.append(InputError(exc.file or STDIN, exc.line, exc.message))
    return batch
