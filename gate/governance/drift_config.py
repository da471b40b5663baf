"""The ``drift:`` key of ``.gate.yaml``: which fields may differ between environments,
and how resources of two environments are paired (docs/drift.md).

Field paths are globs over rendered resources: ``spec.replicas``,
``**.containers[*].resources``, ``metadata.labels."app.kubernetes.io/instance"``.
A segment is a key (``*`` in it matches any characters), ``[N]`` a list index, ``[*]``
any list item, ``[name=X]`` the item of a list of named objects (containers, env vars)
whose name is X, ``**`` any number of segments. A pattern that matches a field, or a
field above it, lets that field differ.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from gate.errors import ConfigError

#: ``line_of(*path)``: the line of a config field, as :meth:`gate.config.Config.line` takes it.
LineOf = Callable[..., "int | None"]

NAMESPACE_MODES = ("ignore", "compare")
KEYS = ("defaults", "ignore", "namespace", "names")
_TOKEN = re.compile(
    r'\.?(?:(?P<any>\*\*)(?![A-Za-z0-9_$*-])|(?P<key>[A-Za-z0-9_$*][A-Za-z0-9_$*-]*)'
    r'|"(?P<quoted>(?:[^"\\]|\\.)*)"'
    r"|\[(?:(?P<index>[0-9]+)|(?P<item>\*)|name=(?P<named>[^\]]+))\])")

#: JSON Schema of the ``drift`` key (draft 2020-12); :func:`parse_drift` checks the rest.
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "gate drift and the environment-drift policy: the fields allowed to "
                   "differ between environments and how resources pair (docs/drift.md).",
    "properties": {
        "defaults": {"type": "boolean", "default": True,
                     "description": "Keep the built-in fields allowed to differ (replicas, "
                                    "resources, hostnames, namespace, environment labels, "
                                    "HPA bounds); false: only those listed in ignore."},
        "ignore": {
            "type": "array",
            "description": "More fields allowed to differ: field path globs, for every kind "
                           "or for the kinds listed.",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["paths"],
                "properties": {
                    "kinds": {"type": "array", "minItems": 1,
                              "items": {"type": "string", "minLength": 1}},
                    "paths": {"type": "array", "minItems": 1,
                              "items": {"type": "string", "minLength": 1}},
                },
            },
        },
        "namespace": {"enum": list(NAMESPACE_MODES), "default": "ignore",
                      "description": "ignore: namespaces may differ (the default); compare: "
                                     "a resource's namespace is compared like any field."},
        "names": {
            "type": "object",
            "description": "Per environment: a name prefix and suffix removed before pairing "
                           "(besides the namePrefix/nameSuffix of the environment's own "
                           "Kustomize overlays, always removed).",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"prefix": {"type": "string"}, "suffix": {"type": "string"}},
            },
        },
    },
}


# -- field path globs ------------------------------------------------------------------------


@dataclass(frozen=True)
class Named:
    """A list item addressed by its ``name`` (a container, an env var)."""

    name: str


#: A displayed field path: keys, list indexes, and named list items.
FieldPath = tuple["str | int | Named", ...]


def display(path: FieldPath) -> str:
    """``spec.template.spec.containers[name=web].image``."""
    out: list[str] = []
    for part in path:
        if isinstance(part, Named):
            out.append(f"[name={part.name}]")
        elif isinstance(part, int):
            out.append(f"[{part}]")
        else:
            plain = re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$-]*", part)
            segment = part if plain else json.dumps(part)
            out.append(f".{segment}" if out else segment)
    return "".join(out)


@dataclass(frozen=True)
class Segment:
    """One segment of a pattern: ``any`` (``**``), ``key`` (a glob), ``index``, ``item``
    (``[*]``) or ``named``."""

    kind: str
    value: str = ""

    def matches(self, part: str | int | Named) -> bool:
        if self.kind == "key":
            return isinstance(part, str) and fnmatchcase(part, self.value)
        if self.kind == "index":
            return isinstance(part, int) and part == int(self.value)
        if self.kind == "named":
            return isinstance(part, Named) and fnmatchcase(part.name, self.value)
        return self.kind == "item" and isinstance(part, (int, Named))


class PatternError(ValueError):
    pass


def parse_pattern(text: str) -> tuple[Segment, ...]:
    """``spec.template.spec.containers[*].resources`` as segments."""
    segments: list[Segment] = []
    position = 0
    if not text.strip() or text != text.strip():
        raise PatternError(f"{text!r}: a field path has no leading or trailing spaces")
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or (position == 0 and text.startswith(".")):
            raise PatternError(f"invalid field path {text!r} at column {position + 1}")
        if match["any"]:
            segments.append(Segment("any"))
        elif match["key"] is not None:
            segments.append(Segment("key", match["key"]))
        elif match["quoted"] is not None:
            segments.append(Segment("key", json.loads(f'"{match["quoted"]}"')))
        elif match["index"] is not None:
            segments.append(Segment("index", match["index"]))
        elif match["item"]:
            segments.append(Segment("item"))
        else:
            segments.append(Segment("named", match["named"]))
        position = match.end()
    return tuple(segments)


def matches_prefix(pattern: tuple[Segment, ...], path: FieldPath) -> bool:
    """Whether ``pattern`` matches ``path`` or a field above it."""
    def match(i: int, j: int) -> bool:
        if i == len(pattern):
            return True  # the pattern names this field or one above it
        segment = pattern[i]
        if segment.kind == "any":
            return any(match(i + 1, k) for k in range(j, len(path) + 1))
        return j < len(path) and segment.matches(path[j]) and match(i + 1, j + 1)

    return match(0, 0)


@dataclass(frozen=True)
class IgnoreRule:
    """Fields allowed to differ: ``patterns`` for ``kinds`` (empty: every kind)."""

    patterns: tuple[str, ...]
    kinds: tuple[str, ...] = ()
    origin: str = "default"  # "default", or "FILE:LINE" of the config entry
    compiled: tuple[tuple[Segment, ...], ...] = field(default=(), compare=False)

    @classmethod
    def of(cls, patterns: Sequence[str], kinds: Sequence[str] = (),
           origin: str = "default") -> IgnoreRule:
        return cls(tuple(patterns), tuple(kinds), origin,
                   tuple(parse_pattern(pattern) for pattern in patterns))

    def allows(self, kind: str, path: FieldPath) -> bool:
        if self.kinds and kind not in self.kinds:
            return False
        return any(matches_prefix(pattern, path) for pattern in self.compiled)


ENVIRONMENT_KEYS = ("environment", "env")
#: What may differ between environments unless ``defaults: false``.
DEFAULT_RULES: tuple[IgnoreRule, ...] = (
    IgnoreRule.of(["spec.replicas"]),
    IgnoreRule.of(["spec.minReplicas", "spec.maxReplicas"], ["HorizontalPodAutoscaler"]),
    IgnoreRule.of(["**.containers[*].resources", "**.initContainers[*].resources"]),
    IgnoreRule.of(["spec.resources"], ["PersistentVolumeClaim"]),
    IgnoreRule.of(["spec.rules[*].host", "spec.tls[*].hosts"], ["Ingress"]),
    IgnoreRule.of(["spec.hostnames"], ["HTTPRoute", "GRPCRoute", "TLSRoute"]),
    IgnoreRule.of(["spec.listeners[*].hostname"], ["Gateway"]),
    IgnoreRule.of([f"**.{where}.{key}" for where in ("labels", "matchLabels", "annotations")
                   for key in ENVIRONMENT_KEYS]),
    IgnoreRule.of([f"spec.selector.{key}" for key in ENVIRONMENT_KEYS], ["Service"]),
)
#: Namespaces, allowed to differ unless ``namespace: compare``.
NAMESPACE_RULES: tuple[IgnoreRule, ...] = (
    IgnoreRule.of(["metadata.namespace"]),
    IgnoreRule.of(["subjects[*].namespace"], ["RoleBinding", "ClusterRoleBinding"]),
)


@dataclass(frozen=True)
class Affixes:
    prefix: str = ""
    suffix: str = ""


@dataclass(frozen=True)
class DriftConfig:
    """The ``drift`` key, validated."""

    defaults: bool = True
    rules: tuple[IgnoreRule, ...] = ()  # the config's own
    namespace: str = "ignore"
    names: dict[str, Affixes] = field(default_factory=dict)

    def allowed(self) -> tuple[IgnoreRule, ...]:
        """Every rule in effect: the defaults (unless turned off), the namespace's, the
        config's."""
        found: tuple[IgnoreRule, ...] = DEFAULT_RULES if self.defaults else ()
        if self.namespace == "ignore":
            found += NAMESPACE_RULES
        return found + self.rules

    def allows(self, kind: str, path: FieldPath) -> bool:
        return any(rule.allows(kind, path) for rule in self.allowed())


def parse_drift(data: Any, file: str | None, line_of: LineOf) -> DriftConfig:
    """Validate the ``drift`` key of a config file; ConfigError with the file and line."""
    if data is None:
        return DriftConfig()

    def problem(message: str, *where: str | int) -> ConfigError:
        text = "drift" + "".join(f"[{w}]" if isinstance(w, int) else f".{w}" for w in where)
        return ConfigError(f"{text}: {message}", file, line_of("drift", *where))

    if not isinstance(data, dict):
        raise problem("must be a mapping")
    for key in data:
        if key not in KEYS:
            raise problem(f"unknown key {key!r} (known: {', '.join(KEYS)})", key)
    defaults = data.get("defaults", True)
    if not isinstance(defaults, bool):
        raise problem("must be true or false", "defaults")
    namespace = data.get("namespace", "ignore")
    if namespace not in NAMESPACE_MODES:
        raise problem(f"must be one of {', '.join(NAMESPACE_MODES)}, not {namespace!r}",
                      "namespace")
    rules: list[IgnoreRule] = []
    entries = data.get("ignore", [])
    if not isinstance(entries, list):
        raise problem("must be a list of {paths, kinds}", "ignore")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or "paths" not in entry:
            raise problem("an entry is a mapping with 'paths' (and optional 'kinds')",
                          "ignore", index)
        for key in entry:
            if key not in ("paths", "kinds"):
                raise problem(f"unknown key {key!r} (known: paths, kinds)", "ignore", index, key)
        patterns = _strings(entry["paths"], problem, "ignore", index, "paths")
        kinds = _strings(entry.get("kinds", ["*"]), problem, "ignore", index, "kinds")
        for position, pattern in enumerate(patterns):
            try:
                parse_pattern(pattern)
            except PatternError as exc:
                raise problem(str(exc), "ignore", index, "paths", position) from None
        origin = f"{file}:{line_of('drift', 'ignore', index)}" if file else "config"
        rules.append(IgnoreRule.of(patterns, [] if kinds == ["*"] else kinds, origin))
    names: dict[str, Affixes] = {}
    given = data.get("names", {})
    if not isinstance(given, dict):
        raise problem("must map environment names to {prefix, suffix}", "names")
    for environment, affixes in given.items():
        if not isinstance(affixes, dict) or any(k not in ("prefix", "suffix") for k in affixes):
            raise problem("must be a mapping with 'prefix' and/or 'suffix'", "names",
                          str(environment))
        for key, value in affixes.items():
            if not isinstance(value, str):
                raise problem("must be a string", "names", str(environment), key)
        names[str(environment)] = Affixes(affixes.get("prefix", ""), affixes.get("suffix", ""))
    return DriftConfig(defaults, tuple(rules), namespace, names)


def _strings(value: Any, problem: Callable[..., ConfigError], *where: str | int) -> list[str]:
    if not isinstance(value, list) or not value:
        raise problem("must be a non-empty list of strings", *where)
    for position, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise problem("must be a non-empty string", *where, position)
    return list(value)
