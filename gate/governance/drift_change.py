"""``drift`` in the change document: how an environment at the head of a change differs
from what another environment (staging) runs at its base.

``get(drift, 'staging')`` in prod's document renders staging at the base, prod at the
head and prod at the base (each once, on first read) and compares them as ``gate drift``
does (gate/governance/drift.py). A difference is *new* when prod at the base did not already differ
from staging in the same way: the change brought it. Each difference carries the file and
line that set its value, so a finding points at the overlay that set it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gate.governance.drift import Drift, EnvironmentReader, NotCompared, compare
from gate.governance.drift_config import DriftConfig
from gate.loading.collect import Collector
from gate.loading.planning import Planner

#: (environment, from environment) -> the drift document of that environment.
DriftLister = Callable[[str, str], dict[str, Any]]


def drift_lister(collectors: Callable[[str], Collector], planners: Callable[[str], Planner],
                 config: DriftConfig) -> DriftLister:
    """The drift documents of a change whose sides ``collectors(side)`` and
    ``planners(side)`` read (side: ``base`` or ``head``)."""
    readers: dict[str, EnvironmentReader] = {}

    def reader(side: str) -> EnvironmentReader:
        if side not in readers:
            readers[side] = EnvironmentReader(collectors(side), planners(side))
        return readers[side]

    def document(environment: str, source: str) -> dict[str, Any]:
        base, head = reader("base"), reader("head")
        from_base = base.render(source)
        at_head = compare(config, from_base, head.render(environment))
        at_base = compare(config, from_base, base.render(environment))
        unknown = [] if source in base.environments() else [NotCompared(
            source, ".", f"{source} is not an environment at the base of the change")]
        not_compared = [_not_compared(item, "base") for item in unknown]
        not_compared += [_not_compared(item, "base") for item in from_base.not_compared
                         if item.blocking]
        not_compared += [_not_compared(item, "head") for item in at_head.not_compared
                         if item.blocking and item.environment == environment]
        before = {_key(entry) for entry in _differences(at_base, environment, source)}
        differences = _differences(at_head, environment, source)
        for entry in differences:
            entry["new"] = _key(entry) not in before
        return {
            "from": source,
            "environment": environment,
            "compared": not not_compared,
            "not_compared": not_compared,
            "differences": differences,
            "new": [entry for entry in differences if entry["new"]],
        }

    return document


def _not_compared(item: NotCompared, side: str) -> dict[str, Any]:
    return {"environment": item.environment, "side": side, "unit": item.unit,
            "reason": item.reason, "file": item.file, "line": item.line,
            "text": f"{item.environment} at the {side}: {item.describe()}"}


def _key(entry: dict[str, Any]) -> tuple[str, str, str, str]:
    """What makes two differences the same: the resource, the field and this
    environment's value (the other environment's is the same at both sides)."""
    return (entry["type"], entry["resource"], entry["path"] or "", entry["shown"])


def _differences(drift: Drift, environment: str, source: str) -> list[dict[str, Any]]:
    """Every difference of ``environment`` (drift's b) from ``source`` (its a)."""
    found: list[dict[str, Any]] = []
    for lone in drift.only_b:
        placed = lone.placed
        found.append({
            "type": "only-here", "resource": lone.name, "identity": placed.identity,
            "path": None, "value": None, "from_value": None,
            "shown": placed.identity, "from_shown": "(absent)",
            "file": placed.file, "line": placed.line, "from_file": None, "from_line": None,
            "summary": f"{environment} deploys {placed.identity}, which {source} does not "
                       "deploy at the base",
        })
    for lone in drift.only_a:
        placed = lone.placed
        found.append({
            "type": "only-from", "resource": lone.name, "identity": placed.identity,
            "path": None, "value": None, "from_value": None,
            "shown": "(absent)", "from_shown": placed.identity,
            "file": placed.file, "line": placed.line, "from_file": placed.file,
            "from_line": placed.line,
            "summary": f"{source} deploys {placed.identity} at the base, which "
                       f"{environment} does not deploy",
        })
    for pair in drift.differing:
        for difference in pair.fields:
            here, there = difference.b, difference.a
            found.append({
                "type": "field", "resource": pair.name, "identity": pair.b.identity,
                "path": difference.display,
                "value": here.value, "from_value": there.value,
                "shown": here.shown(), "from_shown": there.shown(),
                "file": here.file, "line": here.line,
                "from_file": there.file, "from_line": there.line,
                "summary": f"{difference.display} is {here.shown()} in {environment} but "
                           f"{there.shown()} in {source} at the base "
                           f"({there.file}:{there.line})",
            })
    found.sort(key=lambda entry: (entry["resource"], entry["type"], entry["path"] or "",
                                  entry["file"], entry["line"]))
    return found
