"""``extends:`` in ``.gate.yaml``: a config built on a shared one, and how they merge.

A config file may name one file it extends: a path (relative to the file, read
where the file is read: the working tree, or the base with ``--rules-from base``)
or ``{git: URL, rev: COMMIT, path: FILE}`` (see :mod:`gate.policy_sources`). That
file may extend another: a chain, the most shared file first. Each file is
checked against the schema on its own (its errors name it and its line); then the
chain is merged, each file over the one it extends:

- ``policies`` and ``overrides`` merge key by key: a policy's settings one by one,
  its ``parameters`` by parameter name (a parameter's value is replaced whole), its
  ``environments`` by environment name, each like the policy's own settings;
- ``policy_dirs`` append: the extended file's directories first, each once;
- every other key (``builtin``, ``fail_on``, ``profile``, ``environments``,
  ``calendar``, ``waivers``, ``release_manifest``) set in a file replaces the
  extended file's value whole.

Paths (``policy_dirs``, ``waivers``, ``extends``) are relative to the file that
names them; in a file from a git source they stay inside that source.

``locked: [KEY, ...]`` in a file: no file that extends it, directly or not, may
set those keys (``fail_on``, ``calendar``, ...; ``policies`` for every policy's
settings, or ``policies.<id>`` for one policy's). A lock binds config files only:
the command line (``--fail-on``, ``--no-builtin``, ``--policies``) still applies.
"""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from typing import Any

from gate.errors import ConfigError
from gate.loading.fieldpath import display
from gate.loading.trees import below
from gate.loading.yamlio import LocatedYaml
from gate.policy_sources import (
    MountedRules,
    SourceCache,
    SourceSpecError,
    parse_git_source,
)
from gate.rulesource import RuleSource, read_settings
from gate.schema_validation import schema_error, schema_validator

Path = tuple[str | int, ...]
MERGED_MAPS = ("policies", "overrides")
APPENDED_LISTS = ("policy_dirs",)
NOT_MERGED = ("extends", "locked")
LOCK_PREFIX = "policies."


@dataclass
class ConfigFile:
    """One file of the chain, as read and checked against the schema."""

    path: str  # as the rule source reads it
    name: str  # as messages name it
    located: LocatedYaml
    document: int  # the index of its one YAML document
    data: dict[str, Any]
    mount: str | None = None  # the git source's mount point, when read from one

    def line(self, *path: str | int) -> int | None:
        return self.located.line(self.document, path)

    def error(self, message: str, *path: str | int) -> ConfigError:
        return ConfigError(message, self.name, self.line(*path))

    def resolve(self, relative: str, at: Path) -> str:
        """A path this file names, relative to it; inside a git source it must stay
        there (an absolute path would name a file of the machine gate runs on)."""
        if self.mount is None:
            return os.path.join(os.path.dirname(self.path), relative)  # as it always was
        if os.path.isabs(relative) or relative.startswith(("/", "\\")):
            raise self.error(f"{display(at)}: {relative!r}: a config from a git source names "
                             "files of its own repository, by relative path", *at)
        joined = os.path.normpath(os.path.join(os.path.dirname(self.path), relative))
        if below(joined, self.mount) is None:
            raise self.error(f"{display(at)}: {relative!r} leaves the git source it is in",
                             *at)
        return joined


@dataclass
class LayeredConfig:
    """A config file merged over the files it extends."""

    files: RuleSource  # reads every path below, git sources included
    chain: list[ConfigFile]  # the most shared file first, the config file itself last
    data: dict[str, Any] = field(default_factory=dict)  # merged (paths as written)
    policy_dirs: list[str] = field(default_factory=list)  # paths of ``files``
    waivers: str | bool | None = None  # a path of ``files``, False (none), None (unset)
    #: ``policies.<id>`` locks: id -> (file, line) of the lock, to check the id exists.
    locked_policies: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    # Merged path -> (the file that set it, the path there).
    origins: dict[Path, tuple[ConfigFile, Path]] = field(default_factory=dict)

    @property
    def top(self) -> ConfigFile:
        return self.chain[-1]

    @property
    def extended(self) -> list[ConfigFile]:
        return self.chain[:-1]

    def where(self, path: Path) -> tuple[str, int | None]:
        """(file, line) of a merged field: in the file whose value it is."""
        for cut in range(len(path), 0, -1):  # the longest recorded prefix
            origin = self.origins.get(path[:cut])
            if origin is not None:
                owner, original = origin
                return owner.name, owner.line(*original, *path[cut:])
        return self.top.name, self.top.line(*path)


def read_config_file(path: str, files: RuleSource, mount: str | None = None) -> ConfigFile:
    """One config file: one YAML mapping, valid against the config schema."""
    name = files.name(path)
    located = read_settings(path, name, "config file", files)
    documents = [(i, d) for i, d in enumerate(located.documents) if d.data is not None]
    if len(documents) > 1:
        raise ConfigError("a config file holds one YAML document", name, documents[1][1].line)
    index, data = (documents[0][0], documents[0][1].data) if documents else (0, {})
    found = ConfigFile(path, name, located, index, {}, mount)
    if not isinstance(data, dict):
        raise found.error(f"config must be a mapping, not a {type(data).__name__}")
    problem = schema_error(schema_validator("config.schema.json"), data)
    if problem is not None:
        raise found.error(problem[1], *problem[0])
    found.data = data
    return found


def read_layered(path: str, files: RuleSource, cache: SourceCache | None = None
                 ) -> LayeredConfig:
    """The config file at ``path`` merged over the chain of files it extends."""
    cache = cache or SourceCache()
    mounted = MountedRules(files)
    current = read_config_file(path, mounted)
    chain = [current]
    seen = {_identity(path)}
    while "extends" in current.data:
        target, mount = _extends_target(current, mounted, cache)
        if _identity(target) in seen:
            cycle = " -> ".join([*(f.name for f in chain), mounted.name(target)])
            raise current.error(f"extends: a cycle of config files: {cycle}", "extends")
        if not mounted.is_file(target):
            raise current.error(f"extends: config file not found: {mounted.name(target)}",
                                "extends")
        seen.add(_identity(target))
        current = read_config_file(target, mounted, mount)
        chain.append(current)
    chain.reverse()
    layered = LayeredConfig(mounted, chain)
    _merge(layered, mounted, cache)
    # Without git sources, the rules are read exactly as before.
    layered.files = mounted if mounted.mounted else files
    return layered


def _identity(path: str) -> str:
    return os.path.normpath(os.path.abspath(path))


def _extends_target(layer: ConfigFile, mounted: MountedRules, cache: SourceCache
                    ) -> tuple[str, str | None]:
    """The path of the file ``layer`` extends, and the git source's mount point it is in."""
    spec = layer.data["extends"]
    if isinstance(spec, str):
        return os.path.normpath(layer.resolve(spec, ("extends",))), layer.mount
    root, target = _git_path(layer, spec, ("extends",), mounted, cache, need_path=True)
    return target, root


def _git_path(layer: ConfigFile, spec: dict[str, Any], at: Path, mounted: MountedRules,
              cache: SourceCache, need_path: bool = False) -> tuple[str, str]:
    """(mount point, path) of a ``{git, rev, path}`` entry of ``layer`` at ``at``."""
    try:
        source = parse_git_source(spec, need_path)
    except SourceSpecError as problem:
        raise layer.error(f"{display(at)}.{problem.message}", *at, problem.key) from None
    try:
        root = mounted.mount(source, cache)
    except ConfigError as exc:
        raise layer.error(f"{display(at)}: {exc.message}", *at) from None
    target = os.path.join(root, *source.path.split("/")) if source.path else root
    if source.path and not (mounted.is_file(target) or mounted.is_dir(target)):
        raise layer.error(f"{display(at)}.path: {source.path!r} is not in {source.label}",
                          *at, "path")
    return root, target


def _merge(layered: LayeredConfig, mounted: MountedRules, cache: SourceCache) -> None:
    """Merge ``layered.chain`` into ``layered`` by the rules in this module's doc."""
    locks: dict[str, tuple[ConfigFile, int]] = {}
    merged, origins = layered.data, layered.origins
    seen_dirs: set[str] = set()
    for layer in layered.chain:
        _check_locks(layer, locks)
        for key, value in layer.data.items():
            if key in NOT_MERGED:
                continue
            if key in APPENDED_LISTS:
                for index, entry in enumerate(value):
                    at = (key, index)
                    path = (layer.resolve(entry, at) if isinstance(entry, str)
                            else _git_path(layer, entry, at, mounted, cache)[1])
                    if _identity(path) in seen_dirs:
                        continue
                    seen_dirs.add(_identity(path))
                    origins[(key, len(layered.policy_dirs))] = (layer, at)
                    layered.policy_dirs.append(path)
                    merged.setdefault(key, []).append(entry)
                origins.setdefault((key,), (layer, (key,)))
            elif key in MERGED_MAPS:
                if key not in merged:
                    merged[key] = {}
                    origins[(key,)] = (layer, (key,))
                _merge_map(merged[key], value, (key,), layer, origins)
            else:
                merged[key] = copy.deepcopy(value)
                _replace(origins, (key,), layer)
                if key == "waivers":
                    layered.waivers = (layer.resolve(value, (key,)) if isinstance(value, str)
                                       else False)
        for index, key in enumerate(layer.data.get("locked", [])):
            locks.setdefault(key, (layer, index))
    layered.locked_policies = {
        key[len(LOCK_PREFIX):]: (owner.name, owner.line("locked", index))
        for key, (owner, index) in locks.items() if key.startswith(LOCK_PREFIX)}


def _check_locks(layer: ConfigFile, locks: dict[str, tuple[ConfigFile, int]]) -> None:
    """A file may not set what a file it extends has locked."""
    def refuse(key: str, lock: tuple[ConfigFile, int], *at: str) -> ConfigError:
        owner, index = lock
        where = f"{owner.name}:{owner.line('locked', index)}"
        return layer.error(f"{key}: locked by {where}; a config that extends it may not "
                           "set it", *at)

    for key in layer.data:
        lock = locks.get(key)
        if lock is not None and key not in NOT_MERGED:
            raise refuse(key, lock, key)
    for policy_id in layer.data.get("policies", {}):
        lock = locks.get(LOCK_PREFIX + policy_id)
        if lock is not None:
            raise refuse(LOCK_PREFIX + policy_id, lock, "policies", policy_id)


def _whole(path: Path) -> bool:
    """A parameter's value: replaced whole, never merged (its schema is the policy's)."""
    return (len(path) == 4 and path[2] == "parameters") or (
        len(path) == 6 and path[2] == "environments" and path[4] == "parameters")


def _merge_map(target: dict[str, Any], value: dict[str, Any], path: Path,
               layer: ConfigFile, origins: dict[Path, tuple[ConfigFile, Path]]) -> None:
    for key, item in value.items():
        here = (*path, key)
        if isinstance(item, dict) and isinstance(target.get(key), dict) and not _whole(here):
            _merge_map(target[key], item, here, layer, origins)
        else:
            target[key] = copy.deepcopy(item)
            _replace(origins, here, layer)


def _replace(origins: dict[Path, tuple[ConfigFile, Path]], path: Path,
             layer: ConfigFile) -> None:
    """``path`` is now ``layer``'s value, whole: forget where its parts came from."""
    for recorded in [p for p in origins if len(p) > len(path) and p[:len(path)] == path]:
        del origins[recorded]
    origins[path] = (layer, path)
