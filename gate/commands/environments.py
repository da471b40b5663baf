"""``gate environments``: which path deploys to which environment, and why.

For every manifest file of the repository (or of the PATHs given): each environment it
reaches, how (as written, through a Kustomize overlay, through a Helm chart) and what
decided it (a config entry's glob at its line, an Argo CD Application at its file and
line). The answer is gate.loading.placement's, from the planning and environment map the checks
use, so it is how ``gate check`` and ``gate diff`` judge those files. Paths are relative
to the repository root, as config globs and Applications name them.
"""
from __future__ import annotations

import argparse
import json
import os
from typing import Any

from gate.commands.check import KUSTOMIZE_MODES
from gate.config import load_config
from gate.errors import ConfigError
from gate.loading.argocd.model import DeployedPath
from gate.loading.placement import Placement, Placements, Route, place
from gate.loading.renderers.base import RenderSettings
from gate.loading.sources import display_name
from gate.loading.trees import WorkTree
from gate.loading.workspace import tree_root
from gate.reports._escape import clean_tree, one_line
from gate.rulesource import disk

FORMATS = ("text", "json")
#: Version of the JSON output (gate/schemas/environments.schema.json).
VERSION = 1


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "environments", help="show which path deploys to which environment, and why",
        description="Show, for every manifest file, the environments it deploys to and "
                    "why: a config entry's glob, an Argo CD Application, or the Kustomize "
                    "overlay or Helm chart that renders it.")
    parser.add_argument("paths", nargs="*", metavar="PATH", default=["."],
                        help="list only files under these paths (default: the whole "
                             "repository)")
    parser.add_argument("-c", "--config", metavar="FILE",
                        help="config file (default: the nearest .gate.yaml)")
    parser.add_argument("--kustomize", choices=KUSTOMIZE_MODES, default="auto",
                        help="as for gate check: 'off' judges every file as written")
    parser.add_argument("-f", "--format", choices=FORMATS, default="text",
                        help="text (default) or json")
    parser.set_defaults(handler=run)


def _tree_paths(paths: list[str]) -> tuple[str, list[str]]:
    """The repository root of the paths, and each path relative to it."""
    roots = set()
    relative = []
    for path in paths:
        if not os.path.exists(path):
            raise ConfigError(f"no such file or directory: {path}")
        root = tree_root(path)
        roots.add(root)
        inside = os.path.relpath(os.path.abspath(path), root).replace(os.sep, "/")
        relative.append("" if inside == "." else inside)
    if len(roots) > 1:
        raise ConfigError("the paths lie in different repositories: "
                          + ", ".join(sorted(map(display_name, roots))))
    return roots.pop(), relative


def _under(path: str, prefixes: list[str]) -> bool:
    return any(not prefix or path == prefix or path.startswith(prefix + "/")
               for prefix in prefixes)


def run(args: argparse.Namespace) -> int:
    root, prefixes = _tree_paths(args.paths)
    files = disk()
    config = load_config(files.config_file(args.config) if args.config else files.find_config(),
                         files)
    tree = WorkTree(root)
    environments = config.environments.map(tree) if config.environments.enabled else None
    placements = place(tree, environments, RenderSettings(args.kustomize))
    shown = [placement for placement in placements.placements
             if _under(placement.path, prefixes)]
    if args.format == "json":
        document = to_json(placements, shown, display_name(root), config.file)
        print(json.dumps(clean_tree(document), indent=2, ensure_ascii=False))
    else:
        print("\n".join(text_lines(placements, shown, config.file)))
    return 0


# -- text --------------------------------------------------------------------------------


def text_lines(placements: Placements, shown: list[Placement],
               config_file: str | None) -> list[str]:
    """One line per way a file reaches an environment: ``path: env: how: why``."""
    names = ", ".join(placements.environments) or "none"
    lines = [one_line(f"environments: {names} (config: {config_file or 'none'})")]
    if placements.applications:
        lines += ["", f"Argo CD Applications ({len(placements.applications)}):"]
        lines += [one_line(f"{_application(deployed)}")
                  for deployed in sorted(placements.applications, key=_application_order)]
    lines += ["", f"Files ({len(shown)}):"]
    for placement in shown:
        lines += [one_line(f"{placement.path}: {route.environment or '(none)'}: "
                           f"{route.describe()}") for route in placement.routes]
    if placements.notes:
        lines += ["", "Notes:"]
        lines += [one_line(f"{note.file}:{note.line}: note: {note.message}"
                           if note.line else f"{note.file}: note: {note.message}")
                  for note in placements.notes]
    return lines


def _application(deployed: DeployedPath) -> str:
    """``apps/x.yaml:1: Application 'x' deploys envs/prod (kustomize) to prod (label ...)``."""
    if deployed.path is None:
        what = f"chart {deployed.chart or '?'} from {deployed.repo_url or 'a Helm repository'}"
    else:
        what = f"{deployed.path or '.'} ({deployed.kind})"
    owner = f" (from ApplicationSet {deployed.application_set!r})" if deployed.application_set \
        else ""
    return (f"{deployed.file}:{deployed.line}: Application {deployed.application!r}{owner} "
            f"deploys {what} to {deployed.environment} ({deployed.environment_from})")


def _application_order(deployed: DeployedPath) -> tuple[str, int, str, str, int]:
    return (deployed.file, deployed.line, deployed.application, deployed.path or "",
            deployed.source_index or 0)


# -- json --------------------------------------------------------------------------------


def _route(route: Route) -> dict[str, Any]:
    return {"environment": route.environment, "via": route.via, "unit": route.unit,
            "release": route.release or None, "source": route.source, "reason": route.reason,
            "file": route.file, "line": route.line}


def _deployed(deployed: DeployedPath) -> dict[str, Any]:
    return {"application": deployed.application, "application_set": deployed.application_set,
            "environment": deployed.environment, "environment_from": deployed.environment_from,
            "kind": deployed.kind, "path": deployed.path, "chart": deployed.chart,
            "file": deployed.file, "line": deployed.line}


def to_json(placements: Placements, shown: list[Placement], repository: str,
            config_file: str | None) -> dict[str, Any]:
    return {
        "version": VERSION,
        "repository": repository,
        "config": config_file,
        "environments": placements.environments,
        "applications": [_deployed(deployed) for deployed in
                         sorted(placements.applications, key=_application_order)],
        "files": [{"path": placement.path, "environments": placement.environments,
                   "routes": [_route(route) for route in placement.routes]}
                  for placement in shown],
        "notes": [{"file": note.file, "line": note.line, "message": note.message}
                  for note in placements.notes],
    }
