"""Environments: which environment (dev, staging, prod, ...) each repository path deploys to.

Two sources, in this order of precedence:

1. explicit entries of ``environments:`` in ``.gate.yaml``, each a name and path globs,
   tried in order (the first entry with a matching glob wins);
2. Argo CD Applications found in the repository (``discover: argocd``): the Application
   whose source covers the path, the deepest source path winning (gate.loading.argocd).

A path nothing maps has no environment (None). docs/environments.md has the rules.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gate.errors import ConfigError
from gate.loading.argocd.discovery import discover
from gate.loading.argocd.model import (
    DEFAULT_LABEL,
    UNKNOWN,
    ArgoSettings,
    DeployedPath,
    Discovery,
    Note,
)
from gate.loading.argocd.paths import (
    covers,
    glob_match_any,
    has_glob,
    is_manifest_file,
    self_and_parents,
)
from gate.loading.trees import FileTree, TreePathError, normalize

__all__ = [
    "SCHEMA", "UNKNOWN", "DeployedPath", "EnvironmentConfig", "EnvironmentMap",
    "EnvironmentMatch", "EnvironmentRule", "Note", "parse_environments",
]

#: ``line_of(*path)``: the line of a config field, path from the document root
#: (``("environments", 0, "paths", 1)``), as :meth:`gate.config.Config.line` takes it.
LineOf = Callable[..., "int | None"]

NAME_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")
# A Kubernetes label or annotation key: optional DNS-subdomain prefix and a name.
LABEL_KEY = re.compile(
    r"^(?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
_NON_BLANK = {"type": "string", "minLength": 1, "pattern": r"\S"}
_STRINGS = {"oneOf": [_NON_BLANK, {"type": "array", "minItems": 1, "items": _NON_BLANK}]}
_GLOBS = {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1},
          "description": "Path globs relative to the repository root ('**' spans directories)."}
#: JSON Schema of the ``environments`` key of ``.gate.yaml`` (draft 2020-12). It checks the
#: shape; :func:`parse_environments` checks the rest (globs, one discover entry) with lines.
SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "Which environment each repository path deploys to: explicit entries, "
                   "first match wins, then Argo CD Applications found in the repository.",
    "items": {
        "type": "object",
        "if": {"required": ["discover"]},
        "then": {
            "additionalProperties": False,
            "properties": {
                "discover": {"const": "argocd"},
                "label": {"type": "string", "pattern": LABEL_KEY.pattern},
                "paths": _GLOBS,
                "repo_url": _STRINGS,
                "target_revisions": _STRINGS,
                "new_git_file_globbing": {"type": "boolean"},
            },
        },
        "else": {
            "additionalProperties": False,
            "required": ["name", "paths"],
            "properties": {
                "name": {"type": "string", "pattern": NAME_PATTERN.pattern},
                "paths": _GLOBS,
            },
        },
    },
}
RULE_KEYS = ("name", "paths")
DISCOVER_KEYS = ("discover", "label", "paths", "repo_url", "target_revisions",
                 "new_git_file_globbing")
DISCOVERY_SOURCES = ("argocd",)


# -- configuration -------------------------------------------------------------------------


@dataclass(frozen=True)
class EnvironmentRule:
    """An explicit entry: paths matching one of ``patterns`` belong to ``name``."""

    name: str
    patterns: tuple[str, ...]
    file: str | None = None
    line: int | None = None

    def pattern_for(self, path: str) -> str | None:
        """The first pattern covering ``path`` (the path or a directory holding it)."""
        return next((pattern for pattern in self.patterns if covers(pattern, path)), None)


@dataclass(frozen=True)
class EnvironmentConfig:
    """The ``environments`` key of ``.gate.yaml``, validated."""

    rules: tuple[EnvironmentRule, ...] = ()
    argocd: ArgoSettings | None = None
    file: str | None = None
    argocd_line: int | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.rules) or self.argocd is not None

    def names(self) -> list[str]:
        """The environment names the explicit entries give, sorted."""
        return sorted({rule.name for rule in self.rules})

    def map(self, tree: FileTree | None = None) -> EnvironmentMap:
        """The environment map of one tree (a working tree or a git revision)."""
        return EnvironmentMap(self, tree)


class _Problem(Exception):
    """A config mistake at a path under ``environments`` (``key``: blame that key's line)."""

    def __init__(self, message: str, *where: str | int, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.line_at = (*where, key) if key is not None else where


def parse_environments(
    data: Any, file: str | None, line_of: LineOf, key: str = "environments"
) -> EnvironmentConfig:
    """Validate the ``environments`` list of a config file.

    Raises ConfigError naming ``file`` and the line of the offending field.
    """
    try:
        return _parse(data, file, line_of, key)
    except _Problem as problem:
        where = _describe((key, *problem.where))
        raise ConfigError(f"{where}: {problem.message}", file,
                          line_of(key, *problem.line_at)) from None


def _describe(where: Sequence[str | int]) -> str:
    text = ""
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _parse(data: Any, file: str | None, line_of: LineOf, key: str) -> EnvironmentConfig:
    if data is None:
        return EnvironmentConfig(file=file)
    if not isinstance(data, list):
        raise _Problem(f"must be a list of entries, not {_kind(data)}")
    rules: list[EnvironmentRule] = []
    argocd: ArgoSettings | None = None
    argocd_line: int | None = None
    for index, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise _Problem("an entry is a mapping: {name, paths} or {discover: argocd, ...}, "
                           f"not {_kind(entry)}", index)
        if "discover" in entry:
            if argocd is not None:
                raise _Problem("only one 'discover' entry is allowed", index, "discover")
            argocd = _parse_discover(entry, index)
            argocd_line = line_of(key, index)
        else:
            rules.append(_parse_rule(entry, index, file, line_of(key, index)))
    return EnvironmentConfig(tuple(rules), argocd, file, argocd_line)


def _kind(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "empty"}
    return names.get(type(value), type(value).__name__)


def _check_keys(entry: dict[str, Any], known: Sequence[str], index: int) -> None:
    for name in entry:
        if name not in known:
            raise _Problem(f"unknown key {name!r} (known: {', '.join(known)})", index, key=name)


def _parse_rule(entry: dict[str, Any], index: int, file: str | None,
                line: int | None) -> EnvironmentRule:
    _check_keys(entry, RULE_KEYS, index)
    if "name" not in entry:
        raise _Problem("an entry needs 'name' and 'paths' (or 'discover: argocd')", index)
    name = entry["name"]
    if not isinstance(name, str) or not name.strip():
        raise _Problem("must be a non-empty string", index, "name")
    if not NAME_PATTERN.match(name):
        raise _Problem(f"{name!r} is not a valid environment name: up to 63 letters, digits, "
                       "'.', '_' and '-', starting and ending with a letter or digit",
                       index, "name")
    if "paths" not in entry:
        raise _Problem(f"environment {name!r} needs 'paths', a list of path globs", index)
    return EnvironmentRule(name, _parse_globs(entry["paths"], index), file, line)


def _parse_globs(value: Any, index: int) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _Problem(f"must be a list of path globs, not {_kind(value)}", index, "paths")
    if not value:
        raise _Problem("must name at least one path glob", index, "paths")
    patterns: list[str] = []
    for position, pattern in enumerate(value):
        problem = glob_problem(pattern)
        if problem is not None:
            raise _Problem(problem, index, "paths", position)
        patterns.append(pattern.removeprefix("./").rstrip("/") or "**")
    return tuple(patterns)


def glob_problem(pattern: Any) -> str | None:
    """Why a path glob of the config is unusable, or None."""
    if not isinstance(pattern, str) or not pattern.strip():
        return "a path glob is a non-empty string"
    if pattern != pattern.strip():
        return f"{pattern!r} has leading or trailing spaces"
    if pattern.startswith("/"):
        return f"{pattern!r}: paths are relative to the repository root; drop the leading '/'"
    if "\\" in pattern:
        return f"{pattern!r}: separate directories with '/'"
    if ".." in pattern.split("/"):
        return f"{pattern!r} leaves the repository ('..')"
    if "{" in pattern or "}" in pattern:
        return f"{pattern!r}: braces are not supported; list each pattern on its own"
    position = pattern.find("[")
    while position != -1:
        end = pattern.find("]", position + 2)
        if end == -1:
            return f"{pattern!r} has an unclosed '['"
        position = pattern.find("[", end + 1)
    return None


def _parse_discover(entry: dict[str, Any], index: int) -> ArgoSettings:
    _check_keys(entry, DISCOVER_KEYS, index)
    source = entry["discover"]
    if source not in DISCOVERY_SOURCES:
        raise _Problem(f"unknown discovery source {source!r} (known: "
                       f"{', '.join(DISCOVERY_SOURCES)})", index, "discover")
    label = entry.get("label", DEFAULT_LABEL)
    if not isinstance(label, str) or not LABEL_KEY.match(label):
        raise _Problem(f"{label!r} is not a label or annotation key", index, "label")
    globbing = entry.get("new_git_file_globbing", False)
    if not isinstance(globbing, bool):
        raise _Problem(f"must be true or false, not {_kind(globbing)}", index,
                       "new_git_file_globbing")
    return ArgoSettings(
        label=label,
        paths=_parse_globs(entry["paths"], index) if "paths" in entry else (),
        repo_urls=_strings(entry.get("repo_url"), index, "repo_url"),
        target_revisions=_strings(entry.get("target_revisions"), index, "target_revisions"),
        new_git_file_globbing=globbing,
    )


def _strings(value: Any, index: int, name: str) -> tuple[str, ...]:
    """A string or a non-empty list of non-empty strings; absent is ()."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise _Problem(f"must be a string or a non-empty list of strings, not {_kind(value)}",
                       index, name)
    for position, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            where = (index, name) if isinstance(value, str) else (index, name, position)
            raise _Problem("must be a non-empty string", *where)
    return tuple(item.strip() for item in items)


# -- the map -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnvironmentMatch:
    """The environment of a path and what decided it."""

    environment: str
    reason: str  # e.g. "config entry 'prod' (overlays/prod/**)"
    file: str | None = None  # config file or Application manifest that decided it
    line: int | None = None
    deployed: tuple[DeployedPath, ...] = ()  # the Applications' paths that cover it


@dataclass(frozen=True)
class _Coverage:
    """One way a deployed path covers repository paths."""

    deployed: DeployedPath
    key: str  # a tree path, or a glob for mode "glob"
    mode: str  # "tree": key and all under it; "dir": key and its files; "file"; "glob"
    depth: int
    include: str = ""
    exclude: str = ""

    def covers(self, path: str, is_dir: Callable[[str], bool]) -> bool:
        if self.mode == "glob":
            return covers(self.key, path)
        if self.mode == "file":
            return path == self.key
        if self.mode == "dir" and path != self.key and (
            posixpath.dirname(path) != self.key or is_dir(path)
        ):
            return False  # without recurse, only the files directly in the directory
        return self._filtered_in(path)

    def _filtered_in(self, path: str) -> bool:
        """A directory source's include/exclude globs, on its manifest files."""
        if not (self.include or self.exclude) or path == self.key or not is_manifest_file(path):
            return True
        relative = path[len(self.key) + 1:] if self.key else path
        if self.exclude and glob_match_any(self.exclude, relative):
            return False
        return not self.include or glob_match_any(self.include, relative)


def _depth(path: str) -> int:
    return len(path.split("/")) if path else 0


def _coverages(deployed: DeployedPath) -> list[_Coverage]:
    found: list[_Coverage] = []
    if deployed.path is not None:
        mode = "tree" if deployed.kind != "directory" or deployed.recurse else "dir"
        found.append(_Coverage(deployed, deployed.path, mode, _depth(deployed.path),
                               deployed.include, deployed.exclude))
    files = list(deployed.value_files)
    if deployed.kind == "helm" and deployed.path is not None:  # Helm always reads it
        files.append(f"{deployed.path}/values.yaml" if deployed.path else "values.yaml")
    found += [_Coverage(deployed, file, "file", _depth(file)) for file in dict.fromkeys(files)]
    found += [
        _Coverage(deployed, extra, "glob" if has_glob(extra) else "tree", _depth(extra))
        for extra in deployed.extra_paths
    ]
    return found


@dataclass
class _Index:
    """Deployed paths by the tree path they cover, for lookups by ancestor."""

    by_key: dict[str, list[_Coverage]] = field(default_factory=dict)
    globs: list[_Coverage] = field(default_factory=list)

    def add(self, coverage: _Coverage) -> None:
        if coverage.mode == "glob":
            self.globs.append(coverage)
        else:
            self.by_key.setdefault(coverage.key, []).append(coverage)

    def covering(self, path: str, is_dir: Callable[[str], bool]) -> list[_Coverage]:
        found = [
            coverage for ancestor in self_and_parents(path)
            for coverage in self.by_key.get(ancestor, ()) if coverage.covers(path, is_dir)
        ]
        return found + [coverage for coverage in self.globs if coverage.covers(path, is_dir)]


class EnvironmentMap:
    """Environments of one tree's paths: explicit entries first, then Argo CD.

    Discovery reads the tree on first need, once; lookups are cached.
    """

    def __init__(self, config: EnvironmentConfig, tree: FileTree | None = None) -> None:
        self.config = config
        self.tree = tree
        self._discovery: Discovery | None = None
        self._index: _Index | None = None
        self._extra_notes: list[Note] = []
        self._conflicts: dict[str, frozenset[str]] = {}
        self._cache: dict[str, EnvironmentMatch | None] = {}

    # -- queries ---------------------------------------------------------------------------
    def environment_of(self, path: str) -> str | None:
        """The environment of a tree path (a file, or a rendered overlay directory)."""
        found = self.match(path)
        return found.environment if found else None

    def match(self, path: str) -> EnvironmentMatch | None:
        """The environment of a tree path and why; None when nothing maps it."""
        try:
            path = normalize(path.removeprefix("./").rstrip("/"))
        except TreePathError:
            return None
        if path not in self._cache:
            self._cache[path] = self._rule_match(path) or self._argocd_match(path)
        return self._cache[path]

    def environments_of(self, path: str) -> list[str]:
        """Every environment a path reaches: its explicit entry's, or those of every
        Application covering it (at any depth), sorted."""
        try:
            path = normalize(path.removeprefix("./").rstrip("/"))
        except TreePathError:
            return []
        explicit = self._rule_match(path)
        if explicit is not None:
            return [explicit.environment]
        index = self._discovered_index()
        return sorted({coverage.deployed.environment
                       for coverage in index.covering(path, self._is_dir)})

    def deployed_paths(self) -> list[DeployedPath]:
        """What the repository's Argo CD Applications deploy (empty without discovery)."""
        return list(self._discover().deployed)

    def environments(self) -> list[str]:
        """Every known environment name: configured and discovered, sorted."""
        names = {rule.name for rule in self.config.rules}
        names.update(deployed.environment for deployed in self._discover().deployed)
        if self._conflicts or self._has_conflicts():
            names.add(UNKNOWN)
        return sorted(names)

    @property
    def notes(self) -> list[Note]:
        """What discovery passed over, and why (runs discovery if it has not run)."""
        self._discovered_index()
        return [*self._discover().notes, *self._extra_notes]

    # -- explicit entries ------------------------------------------------------------------
    def _rule_match(self, path: str) -> EnvironmentMatch | None:
        for rule in self.config.rules:
            pattern = rule.pattern_for(path)
            if pattern is not None:
                return EnvironmentMatch(rule.name, f"config entry {rule.name!r} ({pattern})",
                                        rule.file, rule.line)
        return None

    # -- discovery -------------------------------------------------------------------------
    def _discover(self) -> Discovery:
        if self._discovery is None:
            settings = self.config.argocd
            if settings is None:
                self._discovery = Discovery()
            elif self.tree is None:
                file = self.config.file or "environments"
                self._discovery = Discovery(notes=[Note(
                    file, self.config.argocd_line,
                    "Argo CD discovery needs the repository's files; not run")])
            else:
                self._discovery = discover(self.tree, settings)
        return self._discovery

    def _discovered_index(self) -> _Index:
        if self._index is None:
            index = _Index()
            for deployed in self._discover().deployed:
                for coverage in _coverages(deployed):
                    index.add(coverage)
            self._index = index
            self._note_conflicts(index)
        return self._index

    def _argocd_match(self, path: str) -> EnvironmentMatch | None:
        found = self._discovered_index().covering(path, self._is_dir)
        if not found:
            return None
        depth = max(coverage.depth for coverage in found)
        best = _unique([c.deployed for c in found if c.depth == depth])
        names = sorted({deployed.environment for deployed in best})
        first = best[0]
        if len(names) == 1:
            return EnvironmentMatch(names[0], _describe_app(first), first.file, first.line,
                                    tuple(best))
        self._conflict(path, best)
        reason = f"deployed by Applications of {', '.join(names)}: " + "; ".join(
            _describe_app(d) for d in best)
        return EnvironmentMatch(UNKNOWN, reason, first.file, first.line, tuple(best))

    def _is_dir(self, path: str) -> bool:
        return self.tree is not None and self.tree.is_dir(path)

    def _has_conflicts(self) -> bool:
        self._discovered_index()
        return bool(self._conflicts)

    def _note_conflicts(self, index: _Index) -> None:
        for key in sorted(index.by_key):
            deployed = _unique([coverage.deployed for coverage in index.by_key[key]])
            if len({d.environment for d in deployed}) > 1:
                self._conflict(key, deployed)

    def _conflict(self, path: str, deployed: list[DeployedPath]) -> None:
        """Note once that Applications of several environments share ``path``."""
        names = frozenset(d.environment for d in deployed)
        # Inside a directory already noted for the same environments: nothing new to say.
        if any(self._conflicts.get(parent) == names for parent in self_and_parents(path)):
            return
        self._conflicts[path] = names
        apps = ", ".join(f"{d.application!r} ({d.environment}, {d.file}:{d.line})"
                         for d in deployed)
        self._extra_notes.append(Note(
            deployed[0].file, deployed[0].line,
            f"{path or '.'} is deployed by Applications of different environments: {apps}; "
            f"it counts as {UNKNOWN!r} (an explicit 'environments' entry can name it)"))


def _unique(deployed: list[DeployedPath]) -> list[DeployedPath]:
    return list(dict.fromkeys(deployed))


def _describe_app(deployed: DeployedPath) -> str:
    owner = f", from ApplicationSet {deployed.application_set!r}" if deployed.application_set \
        else ""
    return (f"Application {deployed.application!r} ({deployed.file}:{deployed.line}{owner}; "
            f"{deployed.environment_from})")


def relabelled(head: EnvironmentMap, base: EnvironmentMap) -> dict[str, tuple[str, str]]:
    """Applications whose environment the change alters: name -> (at the base, at the head).

    A change may relabel the prod Application as dev to dodge prod's rules: until it is
    merged, the Application is still prod, so the change is judged as of the base.
    """
    before: dict[str, set[str]] = {}
    for deployed in base.deployed_paths():
        before.setdefault(deployed.application, set()).add(deployed.environment)
    found: dict[str, tuple[str, str]] = {}
    for deployed in head.deployed_paths():
        old = before.get(deployed.application)
        if old and deployed.environment not in old:
            found[deployed.application] = (
                next(iter(old)) if len(old) == 1 else UNKNOWN, deployed.environment)
    return found


def as_of_base(head: EnvironmentMap, base: EnvironmentMap) -> Callable[[str], str | None]:
    """The head's environments, except where the change relabels an Application: paths
    those Applications deploy keep their environment at the base."""
    changed = relabelled(head, base)
    if not changed:
        return head.environment_of

    def environment_of(path: str) -> str | None:
        found = head.match(path)
        if found is None:
            return None
        olds = {changed[d.application][0] for d in found.deployed if d.application in changed}
        if not olds:
            return found.environment
        return next(iter(olds)) if len(olds) == 1 else UNKNOWN

    return environment_of
