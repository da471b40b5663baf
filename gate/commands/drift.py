"""``gate drift ENV_A ENV_B``: what two environments deploy differently.

Both environments are rendered from one tree (the working tree, or ``--ref REF`` read
from git), as ``gate check`` renders them; their resources are paired and compared
field by field, leaving out the fields allowed to differ (``drift:`` in ``.gate.yaml``,
gate/governance/drift_config.py). Exit 0: no drift; 1: drift; 2: an input error, or a unit of
either environment that could not be rendered (listed as not compared).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from gate import safewrite
from gate.commands.check import KUSTOMIZE_MODES, parse_formats
from gate.config import Config, load_config
from gate.errors import ConfigError
from gate.governance.drift import (
    Drift,
    EnvironmentReader,
    FieldDifference,
    Lone,
    NotCompared,
    compare,
)
from gate.loading.sources import display_name
from gate.loading.trees import FileTree
from gate.reports._escape import clean_tree, one_line
from gate.rulesource import disk

FORMATS = ("text", "json")
#: Version of the JSON output (its shape: docs/drift.md).
VERSION = 1
NO_DRIFT, DRIFT, INPUT_ERROR = 0, 1, 2


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "drift", help="list what two environments deploy differently",
        description="Render two environments and list the resources only one deploys and "
                    "the fields of the others that differ, beyond the fields allowed to "
                    "differ (replicas, resources, hostnames, namespaces, environment labels, "
                    "HPA bounds, and drift.ignore in .gate.yaml). Exit 0: no drift; 1: "
                    "drift; 2: an input error or a unit that could not be rendered.")
    parser.add_argument("environment_a", metavar="ENV_A", help="an environment, e.g. staging")
    parser.add_argument("environment_b", metavar="ENV_B", help="another, e.g. prod")
    parser.add_argument("path", nargs="?", metavar="PATH", default=".",
                        help="compare only overlays, charts and files under PATH (default: "
                             "the whole repository)")
    parser.add_argument("--ref", metavar="REF",
                        help="read the manifests at this git revision (a tag, branch or "
                             "commit) instead of the working tree")
    parser.add_argument("-c", "--config", metavar="FILE",
                        help="config file (default: the nearest .gate.yaml; always read from "
                             "the working tree)")
    parser.add_argument("--helm", action="store_true",
                        help="render Helm charts with `helm template` (without it, a chart an "
                             "environment deploys is not compared)")
    parser.add_argument("--kustomize", choices=KUSTOMIZE_MODES, default="auto",
                        help="as for gate check")
    parser.add_argument("-f", "--format", metavar="FMT[=FILE]", action="append", default=[],
                        help=f"output format ({', '.join(FORMATS)}), optionally written to "
                             "FILE; repeatable (default: text)")
    parser.set_defaults(handler=run)


def _tree(args: argparse.Namespace) -> tuple[FileTree, str, str, dict[str, str] | None]:
    """(the tree, its root on disk, PATH relative to it, the ref read or None)."""
    from gate.loading.workspace import tree_root

    if args.ref is None:
        from gate.loading.trees import WorkTree

        if not os.path.exists(args.path):
            raise ConfigError(f"no such file or directory: {args.path}")
        root = tree_root(args.path)
        inside = os.path.relpath(os.path.abspath(args.path), root).replace(os.sep, "/")
        return WorkTree(root), root, "" if inside == "." else inside, None
    from gate.git.repository import open_repository

    repository = open_repository(".")
    sha = repository.resolve(args.ref)
    inside = repository.relative_to_root(args.path)
    return (repository.tree_at(sha, args.ref), repository.root, inside,
            {"ref": args.ref, "sha": sha})


def environments_of(config: Config, known: list[str], names: list[str]) -> None:
    """Fail closed on an environment that does not exist."""
    if not config.environments.enabled:
        raise ConfigError("no environments are configured (.gate.yaml 'environments'); "
                          "gate drift compares two of them")
    for name in names:
        if name not in known:
            raise ConfigError(f"unknown environment {name!r} (known: "
                              f"{', '.join(known) or 'none'})")


def run(args: argparse.Namespace) -> int:
    from gate.loading.renderers.base import RenderSettings
    from gate.loading.tree_reading import tree_reader

    formats = parse_formats(args.format, FORMATS, "output")
    files = disk()
    config = load_config(files.config_file(args.config) if args.config else files.find_config(),
                         files)
    tree, root, inside, ref = _tree(args)
    settings = RenderSettings(args.kustomize, args.helm)
    collector, planner = tree_reader(tree, config, settings)
    reader = EnvironmentReader(collector, planner, [inside])
    environments_of(config, reader.environments(), [args.environment_a, args.environment_b])
    drift = compare(config.drift, reader.render(args.environment_a),
                    reader.render(args.environment_b))
    source = f"{ref['ref']} ({ref['sha'][:7]})" if ref else "working tree"
    for name, path in formats:
        if name == "json":
            text = json.dumps(clean_tree(to_json(drift, display_name(root), source, ref,
                                                 config.file)),
                              indent=2, ensure_ascii=False) + "\n"
        else:
            text = "\n".join(text_lines(drift, source, config.file)) + "\n"
        if path is None:
            sys.stdout.write(text)
        else:
            safewrite.write_file(path, text)  # never through a link, never into .git
    if all(path is not None for _, path in formats):
        sys.stderr.write(one_line(verdict(drift)) + "\n")
    return exit_code(drift)


def exit_code(drift: Drift) -> int:
    if not drift.complete:
        return INPUT_ERROR
    return DRIFT if drift.found else NO_DRIFT


def verdict(drift: Drift) -> str:
    if not drift.complete:
        count = sum(item.blocking for item in drift.not_compared)
        return f"incomplete: {count} unit(s) could not be compared (exit 2)"
    if not drift.found:
        return f"no drift between {drift.a} and {drift.b} ({drift.paired} resource(s) compared)"
    return (f"drift between {drift.a} and {drift.b}: {len(drift.only_a)} only in {drift.a}, "
            f"{len(drift.only_b)} only in {drift.b}, {drift.field_count} field(s) differ in "
            f"{len(drift.differing)} of {drift.paired} paired resource(s)")


# -- text -------------------------------------------------------------------------------------


def _where(file: str, line: int | None) -> str:
    return f"{file}:{line}" if line else file


def _lone(item: Lone) -> str:
    placed = item.placed
    via = f" via {placed.rendered_by}" if placed.rendered_by else ""
    return f"  {item.name}: {placed.identity}{via} ({_where(placed.file, placed.line)})"


def _field(drift: Drift, difference: FieldDifference) -> list[str]:
    width = max(len(drift.a), len(drift.b))
    return [f"    {difference.display}"] + [
        f"      {name.ljust(width)}  {value.shown()} ({_where(value.file, value.line)})"
        for name, value in ((drift.a, difference.a), (drift.b, difference.b))]


def text_lines(drift: Drift, source: str, config_file: str | None) -> list[str]:
    lines = [f"drift: {drift.a} -> {drift.b} ({source}; config: {config_file or 'none'})"]
    for name, lone in ((drift.a, drift.only_a), (drift.b, drift.only_b)):
        if lone:
            lines += ["", f"Only in {name} ({len(lone)}):"] + [_lone(item) for item in lone]
    if drift.differing:
        lines += ["", f"Differences ({drift.field_count} field(s) in {len(drift.differing)} "
                      "resource(s)):"]
        for pair in drift.differing:
            lines.append(f"  {pair.name} ({drift.a}: {pair.a.identity}, {drift.b}: "
                         f"{pair.b.identity})")
            for difference in pair.fields:
                lines += _field(drift, difference)
    if drift.not_compared:
        lines += ["", f"Not compared ({len(drift.not_compared)}):"]
        lines += [f"  {item.environment}: {item.describe()}"
                  + ("" if item.blocking else " (excluded by the config)")
                  for item in drift.not_compared]
    lines += ["", f"Result: {verdict(drift)}"]
    return [one_line(line) for line in lines]


# -- json -------------------------------------------------------------------------------------


def _lone_json(item: Lone) -> dict[str, Any]:
    return {"group": item.key[0], "kind": item.key[1], "name": item.key[2],
            **item.placed.to_json()}


def _not_compared_json(item: NotCompared) -> dict[str, Any]:
    return {"environment": item.environment, "unit": item.unit, "reason": item.reason,
            "file": item.file, "line": item.line, "blocking": item.blocking}


def to_json(drift: Drift, repository: str, source: str, ref: dict[str, str] | None,
            config_file: str | None) -> dict[str, Any]:
    return {
        "version": VERSION,
        "repository": repository,
        "source": source,
        "ref": ref,
        "config": config_file,
        "environments": {"a": drift.a, "b": drift.b},
        "drift": drift.found,
        "complete": drift.complete,
        "paired": drift.paired,
        "only_in_a": [_lone_json(item) for item in drift.only_a],
        "only_in_b": [_lone_json(item) for item in drift.only_b],
        "differences": [
            {"group": pair.key[0], "kind": pair.key[1], "name": pair.key[2],
             "a": pair.a.to_json(), "b": pair.b.to_json(),
             "fields": [{"path": difference.display, "a": difference.a.to_json(),
                         "b": difference.b.to_json()} for difference in pair.fields]}
            for pair in drift.differing],
        "not_compared": [_not_compared_json(item) for item in drift.not_compared],
        "summary": verdict(drift),
    }
