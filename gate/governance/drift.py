"""Environment drift: what two rendered environments deploy differently, beyond the
fields allowed to differ (gate/governance/drift_config.py; docs/drift.md).

An environment is rendered as ``gate check .`` renders it: the plan of the whole tree
(gate/loading/planning.py), its units whose environment it is. Resources of the two environments
pair by API group, kind and name, the name without the environment's name prefix and
suffix (its Kustomize overlays' ``namePrefix``/``nameSuffix``, the config's ``names``)
and, for a generated ConfigMap or Secret, without Kustomize's content-hash suffix; the
namespace only tells apart resources that would pair with several. A unit that cannot be
rendered is listed as not compared, never dropped.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from gate.governance.drift_config import Affixes, DriftConfig, FieldPath, Named, display
from gate.loading.collect import Collector
from gate.loading.planning import Plan, Planner
from gate.loading.renderers.base import Unit
from gate.loading.renderers.kustomize import inputs as kustomize_inputs
from gate.loading.renderers.kustomize.loading import kustomization_file
from gate.loading.resources import Resource
from gate.results import EXCLUDED, NOT_REFERENCED

#: The content-hash suffix Kustomize gives a generated ConfigMap or Secret
#: (gate/loading/renderers/kustomize/output.py content_hash: hex digits with 0, 1, 3,
#: a, e remapped).
HASH_SUFFIX = re.compile(r"-[245-9bcdfghkmt]{10}\Z")
HASHED_KINDS = ("ConfigMap", "Secret")
ABSENT = "(absent)"
_MISSING = object()


# -- one environment, rendered ----------------------------------------------------------------


@dataclass(frozen=True)
class NotCompared:
    """A unit of an environment whose resources are unknown, and why."""

    environment: str
    unit: str  # the overlay, chart or file (a tree path, "." for the root)
    reason: str
    file: str | None = None
    line: int | None = None
    blocking: bool = True  # False: left out by the config's ``exclude`` (its owner's choice)

    def describe(self) -> str:
        where = self.file or self.unit
        if self.line:
            where += f":{self.line}"
        return f"{where}: {self.reason}"


@dataclass
class Rendered:
    """What one environment of one tree deploys."""

    environment: str
    resources: list[Resource] = field(default_factory=list)
    not_compared: list[NotCompared] = field(default_factory=list)
    # Resource -> the name prefixes and suffixes its unit gives names.
    affixes: dict[int, list[Affixes]] = field(default_factory=dict)


def _under(path: str, prefixes: Iterable[str]) -> bool:
    return any(not p or path == p or path.startswith(p + "/") for p in prefixes)


class EnvironmentReader:
    """Renders environments of one tree, each once, with one collector and planner."""

    def __init__(self, collector: Collector, planner: Planner,
                 under: Iterable[str] = ("",)) -> None:
        self.collector = collector
        self.planner = planner
        self.under = list(under)
        self._plan: Plan | None = None
        self._rendered: dict[str, Rendered] = {}

    def environments(self) -> list[str]:
        mapped = self.planner.environments
        return [] if mapped is None else mapped.environments()

    def plan(self) -> Plan:
        if self._plan is None:
            self._plan = self.planner.directory("")
        return self._plan

    def _environment_of(self, unit: Unit) -> str:
        return unit.environment or self.planner.environment_of(unit.path) or ""

    def render(self, environment: str) -> Rendered:
        found = self._rendered.get(environment)
        if found is None:
            found = self._rendered[environment] = self._render(environment)
        return found

    def _render(self, environment: str) -> Rendered:
        rendered = Rendered(environment)
        plan = self.plan()
        for unit in plan.units:
            if self._environment_of(unit) != environment or not _under(unit.path, self.under):
                continue
            batch = self.collector.read(unit)
            if batch.errors:
                first = batch.errors[0]
                rendered.not_compared.append(NotCompared(
                    environment, unit.path or ".", first.message, first.file, first.line))
                continue
            affixes = self._affixes(unit)
            for resource in batch.resources:
                if resource.is_resource:
                    rendered.resources.append(resource)
                    rendered.affixes[id(resource)] = affixes
        for error in plan.errors:
            path = error.file
            if self.planner.environment_of(path) == environment and _under(path, self.under):
                rendered.not_compared.append(NotCompared(environment, path, error.message,
                                                         error.file, error.line))
        for deployed in self.planner.deployed():
            if deployed.unapplied and deployed.environment == environment and (
                    deployed.path is not None and _under(deployed.path, self.under)):
                rendered.not_compared.append(NotCompared(
                    environment, deployed.path or ".",
                    f"Application {deployed.application} sets {', '.join(deployed.unapplied)}, "
                    "which gate does not apply", deployed.file,
                    deployed.unapplied_line or deployed.line))
        for item in plan.unjudged:
            path = "" if item.file == "." else item.file
            if item.category == NOT_REFERENCED or not _under(path, self.under):
                continue
            if (self.planner.environment_of(path) or "") == environment:
                rendered.not_compared.append(NotCompared(
                    environment, item.file, f"{item.what} not rendered: {item.reason}",
                    blocking=item.category != EXCLUDED))
        rendered.not_compared = sorted(set(rendered.not_compared), key=_not_compared_order)
        return rendered

    def _affixes(self, unit: Unit) -> list[Affixes]:
        """The name prefix and suffix an overlay's own kustomization gives."""
        found: list[Affixes] = []
        if unit.kind == "kustomize":
            path = kustomization_file(self.collector.tree, unit.path)
            data = kustomize_inputs.parse(self.collector.tree, path) if path else None
            if data is not None:
                prefix, suffix = data.get("namePrefix"), data.get("nameSuffix")
                found.append(Affixes(prefix if isinstance(prefix, str) else "",
                                     suffix if isinstance(suffix, str) else ""))
        return found


def _not_compared_order(item: NotCompared) -> tuple[str, str, str, int, str]:
    return (item.environment, item.unit, item.file or "", item.line or 0, item.reason)


# -- pairing ----------------------------------------------------------------------------------


def group_of(resource: Resource) -> str:
    api_version = resource.api_version
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def pairing_name(resource: Resource, affixes: Iterable[Affixes]) -> str:
    """The name a resource pairs by: without its environment's prefix and suffix and,
    for a generated ConfigMap or Secret, without the content-hash suffix."""
    name = resource.name
    if resource.kind in HASHED_KINDS:
        name = HASH_SUFFIX.sub("", name)
    for affix in affixes:
        if affix.prefix and name.startswith(affix.prefix) and len(name) > len(affix.prefix):
            name = name[len(affix.prefix):]
        if affix.suffix and name.endswith(affix.suffix) and len(name) > len(affix.suffix):
            name = name[:-len(affix.suffix)]
    return name


PairKey = tuple[str, str, str]  # (group, kind, pairing name)


@dataclass
class Side:
    """One environment's resources, by pairing key."""

    rendered: Rendered
    keys: dict[int, PairKey] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)  # actual name -> pairing name

    @classmethod
    def of(cls, rendered: Rendered, config: DriftConfig) -> Side:
        side = cls(rendered)
        configured = config.names.get(rendered.environment)
        for resource in rendered.resources:
            affixes = list(rendered.affixes.get(id(resource), []))
            if configured is not None:
                affixes.insert(0, configured)
            name = pairing_name(resource, affixes)
            side.keys[id(resource)] = (group_of(resource), resource.kind, name)
            if name != resource.name:
                side.renamed[resource.name] = name
        return side

    def key(self, resource: Resource) -> PairKey:
        return self.keys[id(resource)]

    def canonical(self, value: Any) -> Any:
        """A value with the names of this environment's resources as they pair, so a
        reference to ``prod-web`` equals one to ``web`` where those resources pair."""
        if isinstance(value, str):
            return self.renamed.get(value, value)
        return value

    def own_name(self, value: Any) -> bool:
        """Whether ``value`` is this side's environment name: where each side holds its
        own (an environment label, a namespace named after it), they differ by design."""
        return isinstance(value, str) and value == self.rendered.environment


def _resource_order(resource: Resource) -> tuple[str, str, str, int]:
    return (resource.namespace, resource.rendered_by or resource.file, resource.file,
            resource.line)


def pair(a: Side, b: Side) -> tuple[list[tuple[Resource, Resource]], list[Resource],
                                    list[Resource]]:
    """(pairs, only in a, only in b), each sorted."""
    by_key_a: dict[PairKey, list[Resource]] = {}
    by_key_b: dict[PairKey, list[Resource]] = {}
    for resource in a.rendered.resources:
        by_key_a.setdefault(a.key(resource), []).append(resource)
    for resource in b.rendered.resources:
        by_key_b.setdefault(b.key(resource), []).append(resource)
    pairs: list[tuple[Resource, Resource]] = []
    only_a: list[Resource] = []
    only_b: list[Resource] = []
    for key in sorted(set(by_key_a) | set(by_key_b)):
        left = sorted(by_key_a.get(key, []), key=_resource_order)
        right = sorted(by_key_b.get(key, []), key=_resource_order)
        if len(left) > 1 or len(right) > 1:
            # Several of one kind and name: those in the same namespace pair first.
            for resource in list(left):
                match = next((r for r in right if r.namespace == resource.namespace), None)
                if match is not None:
                    pairs.append((resource, match))
                    left.remove(resource)
                    right.remove(match)
        pairs.extend(zip(left, right, strict=False))
        only_a.extend(left[len(right):])
        only_b.extend(right[len(left):])
    # Namespaces differ per environment: one Namespace left on each side is the same one.
    lone_a = [r for r in only_a if r.kind == "Namespace" and group_of(r) == ""]
    lone_b = [r for r in only_b if r.kind == "Namespace" and group_of(r) == ""]
    if len(lone_a) == 1 and len(lone_b) == 1:
        pairs.append((lone_a[0], lone_b[0]))
        only_a.remove(lone_a[0])
        only_b.remove(lone_b[0])
    pairs.sort(key=lambda p: (a.key(p[0]), _resource_order(p[0]), _resource_order(p[1])))
    return pairs, only_a, only_b


# -- comparing two resources ------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """One side of a differing field: its value (None and ``present`` False when the
    field is absent) and the file and line that set it."""

    present: bool
    value: Any
    file: str
    line: int

    def shown(self) -> str:
        return shown(self.value) if self.present else ABSENT

    def to_json(self) -> dict[str, Any]:
        return {"present": self.present, "value": self.value if self.present else None,
                "file": self.file, "line": self.line}


def shown(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class FieldDifference:
    path: FieldPath
    a: Value
    b: Value

    @property
    def display(self) -> str:
        return display(self.path)


def _named_items(items: list[Any]) -> dict[str, int] | None:
    """name -> index when every item is a mapping with a distinct string ``name``."""
    found: dict[str, int] = {}
    for index, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or name in found:
            return None
        found[name] = index
    return found


class _Walk:
    """The differing fields of two paired resources, allowed fields left out."""

    def __init__(self, config: DriftConfig, a: Side, b: Side,
                 left: Resource, right: Resource) -> None:
        self.config = config
        self.sides = (a, b)
        self.resources = (left, right)
        self.kind = right.kind or left.kind
        self.found: list[FieldDifference] = []

    def value(self, side: int, value: Any, real: tuple[str | int, ...]) -> Value:
        resource = self.resources[side]
        file, line = resource.locate(real)
        present = value is not _MISSING
        return Value(present, value if present else None, file or resource.file, line)

    def record(self, path: FieldPath, a: Any, b: Any, real_a: tuple[str | int, ...],
               real_b: tuple[str | int, ...]) -> None:
        self.found.append(FieldDifference(path, self.value(0, a, real_a),
                                          self.value(1, b, real_b)))

    def walk(self, a: Any, b: Any, path: FieldPath, real_a: tuple[str | int, ...],
             real_b: tuple[str | int, ...]) -> None:
        if path and self.config.allows(self.kind, path):
            return
        if a is _MISSING and b is _MISSING:
            return
        maps = (isinstance(a, dict) or a is _MISSING) and (isinstance(b, dict) or b is _MISSING)
        if maps:
            left = a if isinstance(a, dict) else {}
            right = b if isinstance(b, dict) else {}
            for key in sorted(set(left) | set(right), key=str):
                self.walk(left.get(key, _MISSING), right.get(key, _MISSING), (*path, str(key)),
                          (*real_a, key) if key in left else real_a,
                          (*real_b, key) if key in right else real_b)
            return
        if isinstance(a, list) and isinstance(b, list):
            self.lists(a, b, path, real_a, real_b)
            return
        side_a, side_b = self.sides
        if a is _MISSING or b is _MISSING or (
                shown(side_a.canonical(a)) != shown(side_b.canonical(b))
                and not (side_a.own_name(a) and side_b.own_name(b))):
            self.record(path, a, b, real_a, real_b)

    def lists(self, a: list[Any], b: list[Any], path: FieldPath,
              real_a: tuple[str | int, ...], real_b: tuple[str | int, ...]) -> None:
        named_a, named_b = _named_items(a), _named_items(b)
        if named_a is not None and named_b is not None and (a or b):
            names = list(named_a) + [name for name in named_b if name not in named_a]
            for name in names:
                self.item(a[named_a[name]] if name in named_a else _MISSING,
                          b[named_b[name]] if name in named_b else _MISSING,
                          (*path, Named(name)),
                          (*real_a, named_a[name]) if name in named_a else real_a,
                          (*real_b, named_b[name]) if name in named_b else real_b)
            return
        for index in range(max(len(a), len(b))):
            self.item(a[index] if index < len(a) else _MISSING,
                      b[index] if index < len(b) else _MISSING, (*path, index),
                      (*real_a, index) if index < len(a) else real_a,
                      (*real_b, index) if index < len(b) else real_b)

    def item(self, a: Any, b: Any, path: FieldPath, real_a: tuple[str | int, ...],
             real_b: tuple[str | int, ...]) -> None:
        if a is _MISSING or b is _MISSING:
            # A list item only one side has is one difference, whole.
            if not self.config.allows(self.kind, path):
                self.record(path, a, b, real_a, real_b)
            return
        self.walk(a, b, path, real_a, real_b)


def compare_resources(config: DriftConfig, a: Side, b: Side, left: Resource,
                      right: Resource) -> list[FieldDifference]:
    walk = _Walk(config, a, b, left, right)
    walk.walk(left.obj, right.obj, (), (), ())
    return walk.found


# -- two environments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    """A resource as a drift report names it."""

    environment: str
    identity: str  # Kind/namespace/name as rendered
    rendered_by: str
    file: str
    line: int

    @classmethod
    def of(cls, environment: str, resource: Resource) -> Placed:
        return cls(environment, resource.identity(), resource.rendered_by or "",
                   resource.file, resource.line)

    def to_json(self) -> dict[str, Any]:
        return {"environment": self.environment, "identity": self.identity,
                "rendered_by": self.rendered_by or None, "file": self.file, "line": self.line}


@dataclass(frozen=True)
class Lone:
    """A resource only one environment deploys."""

    key: PairKey
    placed: Placed

    @property
    def name(self) -> str:
        return f"{self.key[1]}/{self.key[2]}"


@dataclass(frozen=True)
class PairDrift:
    """A resource both environments deploy, and its fields that differ."""

    key: PairKey
    a: Placed
    b: Placed
    fields: tuple[FieldDifference, ...]

    @property
    def name(self) -> str:
        return f"{self.key[1]}/{self.key[2]}"


@dataclass
class Drift:
    """What two environments deploy differently."""

    a: str
    b: str
    only_a: list[Lone] = field(default_factory=list)
    only_b: list[Lone] = field(default_factory=list)
    differing: list[PairDrift] = field(default_factory=list)
    paired: int = 0
    not_compared: list[NotCompared] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.only_a or self.only_b or self.differing)

    @property
    def complete(self) -> bool:
        return not any(item.blocking for item in self.not_compared)

    @property
    def field_count(self) -> int:
        return sum(len(p.fields) for p in self.differing)


def compare(config: DriftConfig, a: Rendered, b: Rendered) -> Drift:
    """What ``b`` deploys differently from ``a``."""
    side_a, side_b = Side.of(a, config), Side.of(b, config)
    pairs, only_a, only_b = pair(side_a, side_b)
    drift = Drift(a.environment, b.environment, paired=len(pairs),
                  not_compared=[*a.not_compared, *b.not_compared])
    drift.only_a = [Lone(side_a.key(r), Placed.of(a.environment, r)) for r in only_a]
    drift.only_b = [Lone(side_b.key(r), Placed.of(b.environment, r)) for r in only_b]
    for left, right in pairs:
        fields = compare_resources(config, side_a, side_b, left, right)
        if fields:
            drift.differing.append(PairDrift(side_a.key(left), Placed.of(a.environment, left),
                                             Placed.of(b.environment, right), tuple(fields)))
    return drift
