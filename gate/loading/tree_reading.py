"""Reading one whole tree (the working tree, or a commit read from git) as the config
says: its collector and planner, with the config's environments and exclusions.

``gate release`` and ``gate drift`` read trees this way; ``gate check`` (gate/loading/workspace.py)
and ``gate diff`` (gate/evaluation/changeset.py) add what only they need (display names, pinning
the environments of a change to its base).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from gate.loading.collect import Collector, use_environments
from gate.loading.planning import Planner
from gate.loading.renderers.base import RenderSettings

if TYPE_CHECKING:
    from gate.config import Config
    from gate.loading.trees import FileTree


def _same(path: str) -> str:
    return path


def tree_reader(tree: FileTree, config: Config, settings: RenderSettings,
                documents: bool = False) -> tuple[Collector, Planner]:
    """The collector and planner of ``tree``; paths are shown as tree paths."""
    collector = Collector(tree, _same, settings=settings, documents=documents)
    environment_map = None
    if config.environments.enabled:
        environment_map = config.environments.map(tree)
        use_environments(collector, environment_map)
    return collector, Planner(tree, settings, environment_map, exclude=config.exclude)
