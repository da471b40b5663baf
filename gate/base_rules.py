"""Rules from the base of a change: the config, policies and waivers as they were merged.

A pull request can edit ``.gate.yaml``, a policy or ``waivers.yaml`` together with the
manifests those rules judge. ``gate diff --rules-from base`` therefore reads the rules
from the base commit instead of the working tree: a change to the rules is itself
judged by the rules already merged, and takes effect once it is merged.

The base's rule files are written to a scratch directory laid out as the repository is,
and loaded from there with the working directory moved to the same place, so that every
message names them exactly as in the repository.
"""
from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from gate.config import CONFIG_NAMES, WAIVERS_NAME
from gate.errors import ConfigError
from gate.trees import FileTree, walk_files
from gate.yamlio import YamlInputError, load_located


@contextmanager
def base_rules(tree: FileTree, root: str, config: str | None,
               policy_dirs: list[str]) -> Iterator[str | None]:
    """Within the block the working directory mirrors the current one in a copy of the
    base's rule files; yields the config path to load there (None: find it as usual).

    ``root`` is the repository's root; ``config`` and ``policy_dirs`` are as given on the
    command line (relative to the working directory, or absolute).
    """
    here = os.path.abspath(".")
    below = os.path.relpath(here, root)
    scratch = tempfile.mkdtemp(prefix="gate-base-rules-")
    try:
        copy = _Copy(tree, scratch)
        os.makedirs(os.path.join(scratch, ".git"))  # where config discovery stops
        config_path = _repo_path(config, here, root) if config is not None else None
        for path in _config_candidates(below, config_path):
            if copy.file(path):
                _copy_referenced(copy, path)
        copy.file(WAIVERS_NAME)
        for directory in policy_dirs:
            copy.directory(_repo_path(directory, here, root))
        inside = os.path.normpath(os.path.join(scratch, below))
        os.makedirs(inside, exist_ok=True)
        os.chdir(inside)
        try:
            if config_path is not None and not tree.is_file(config_path):
                raise ConfigError(f"config file not found at the base of the change: "
                                  f"{config_path}")
            yield None if config_path is None else os.path.relpath(
                os.path.join(scratch, config_path), inside)
        finally:
            os.chdir(here)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class _Copy:
    """Writes files of a tree into the scratch directory, at the same paths."""

    def __init__(self, tree: FileTree, scratch: str) -> None:
        self.tree = tree
        self.scratch = scratch

    def file(self, path: str) -> bool:
        if not path or path.startswith("../") or not self.tree.is_file(path):
            return False
        target = os.path.join(self.scratch, *path.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(self.tree.read_bytes(path))
        return True

    def directory(self, path: str) -> None:
        if path.startswith("../") or not self.tree.is_dir(path):
            return
        for found in walk_files(self.tree, path if path != "." else ""):
            self.file(found)


def _repo_path(path: str, here: str, root: str) -> str:
    """A command-line path as a repository path (``..``-prefixed when outside it)."""
    absolute = path if os.path.isabs(path) else os.path.join(here, path)
    return os.path.relpath(os.path.normpath(absolute), root).replace(os.sep, "/")


def _config_candidates(below: str, given: str | None) -> list[str]:
    """Where config discovery looks, from the working directory up to the root."""
    if given is not None:
        return [given]
    parts = [] if below == "." else below.replace(os.sep, "/").split("/")
    found = []
    for depth in range(len(parts), -1, -1):
        directory = "/".join(parts[:depth])
        found += [posixpath.join(directory, name) if directory else name
                  for name in CONFIG_NAMES]
    return found


def _copy_referenced(copy: _Copy, config: str) -> None:
    """The policy directories and waivers file a config names, from the same tree."""
    try:
        located = load_located(copy.tree.read_bytes(config).decode("utf-8", "replace"),
                               config)
    except YamlInputError:
        return  # loading it reports the error, with its line
    data = next((d.data for d in located.documents if d.data is not None), None)
    if not isinstance(data, dict):
        return
    base = posixpath.dirname(config)
    for directory in data.get("policy_dirs") or []:
        if isinstance(directory, str):
            copy.directory(posixpath.normpath(posixpath.join(base, directory)))
    waivers = data.get("waivers")
    name = waivers if isinstance(waivers, str) else WAIVERS_NAME
    copy.file(posixpath.normpath(posixpath.join(base, name)))
