"""Where the rules are read: the config, the policy directories and the waivers file.

A run reads its rules from the working tree (the files on disk) or, with
``gate diff --rules-from base``, from the base of the change, straight from git
objects (so a change cannot loosen the rules that judge it). Both are a
:class:`RuleSource`: a :class:`~gate.trees.FileTree` whose paths are spelled as
the user and the config wrote them, with the few path operations loading needs.
The loaders (:func:`gate.config.load_config`, :func:`gate.policy.load_directory`,
:func:`gate.waivers.load_waivers`, :func:`gate.governance.policy_inputs`) take
one, and name every file as a run on the working tree would.

- :class:`DiskRules`: paths are operating-system paths, relative to the working
  directory or absolute, exactly as today's messages show them; files are read
  through a :class:`~gate.trees.WorkTree` on the filesystem root, so a path
  outside the repository (``--config /elsewhere.yaml``) still works.
- :class:`RevisionRules`: paths are tree paths (relative to the repository
  root) of any FileTree, a git revision or an in-memory tree. An absolute path
  is outside the repository, so no revision has it: it is read from disk (only
  ``--policies`` given on the command line, or named absolutely by the config).
"""
from __future__ import annotations

import os
import posixpath
from collections.abc import Callable
from typing import Protocol

from gate.errors import ConfigError
from gate.sources import display_name
from gate.trees import FileTree, TreePathError, WorkTree, normalize

CONFIG_NAMES = (".gate.yaml", ".gate.yml")
WAIVERS_NAME = "waivers.yaml"


class RuleSource(Protocol):
    """A FileTree of rule files, with paths as written, and how to name them."""

    #: Where the rules come from, for messages: ``working tree``, or a revision's label.
    label: str

    def read_bytes(self, path: str) -> bytes:
        """The file's content; an OSError (FileNotFoundError) if it cannot be read."""
        ...

    def is_file(self, path: str) -> bool: ...

    def is_dir(self, path: str) -> bool: ...

    def list_dir(self, path: str) -> list[str]:
        """Names of a directory's entries, sorted; [] when it cannot be listed."""
        ...

    def is_link(self, path: str) -> bool:
        """A symbolic link (a policy walk does not descend into a linked directory)."""
        ...

    def join(self, directory: str, path: str) -> str:
        """``path`` (as a config writes it) relative to ``directory``."""
        ...

    def dirname(self, path: str) -> str: ...

    def name(self, path: str) -> str:
        """How messages and reports name the file: relative to the working directory
        when beneath it, else absolute."""
        ...

    def spell(self, path: str) -> str:
        """How a "not found" message names a path."""
        ...

    def given(self, path: str) -> str:
        """A ``--policies`` directory from the command line, as a path of this source."""
        ...

    def given_config(self, path: str) -> str:
        """A ``--config`` file from the command line; a ConfigError where it cannot be read."""
        ...

    def find_config(self) -> str | None:
        """The nearest config file from the working directory up to the repository root."""
        ...

    def home(self) -> str:
        """Where ``waivers.yaml`` is looked for when there is no config file."""
        ...


def nearest_config(tree: FileTree, start: str,
                   top: Callable[[str], bool] = lambda directory: False) -> str | None:
    """The nearest config file in tree directory ``start`` or its parents, as a tree
    path; the search ends at the tree's root, or after a directory ``top`` accepts."""
    directory = start
    while True:
        for name in CONFIG_NAMES:
            candidate = f"{directory}/{name}" if directory else name
            if tree.is_file(candidate):
                return candidate
        if not directory or top(directory):
            return None
        directory = posixpath.dirname(directory)


def repository_root(directory: str) -> str:
    """The nearest directory holding ``.git`` at or above ``directory`` (else itself)."""
    current = directory
    while not os.path.exists(os.path.join(current, ".git")):
        parent = os.path.dirname(current)
        if parent == current:
            return directory
        current = parent
    return current


class DiskRules:
    """The rules on disk: operating-system paths, as the user typed or the config wrote them."""

    label = "working tree"

    def __init__(self) -> None:
        self._trees: dict[str, WorkTree] = {}

    def _locate(self, path: str) -> tuple[WorkTree, str]:
        """The WorkTree on the path's filesystem root (one per drive), and the tree path."""
        absolute = os.path.abspath(path)
        drive, rest = os.path.splitdrive(absolute)
        anchor = drive + os.sep
        tree = self._trees.get(anchor)
        if tree is None:
            tree = self._trees[anchor] = WorkTree(anchor)
        return tree, rest.strip(os.sep).replace(os.sep, "/")

    def read_bytes(self, path: str) -> bytes:
        tree, key = self._locate(path)
        return tree.read_bytes(key)

    def is_file(self, path: str) -> bool:
        tree, key = self._locate(path)
        return tree.is_file(key)

    def is_dir(self, path: str) -> bool:
        tree, key = self._locate(path)
        return tree.is_dir(key)

    def list_dir(self, path: str) -> list[str]:
        tree, key = self._locate(path)
        try:
            return tree.list_dir(key)
        except OSError:
            return []  # unreadable: skipped, as os.walk skips it

    def is_link(self, path: str) -> bool:
        tree, key = self._locate(path)
        return tree.is_link(key)

    def join(self, directory: str, path: str) -> str:
        return os.path.join(directory, path)

    def dirname(self, path: str) -> str:
        return os.path.dirname(path)

    def name(self, path: str) -> str:
        return display_name(path)

    def spell(self, path: str) -> str:
        return path

    def given(self, path: str) -> str:
        return path

    def given_config(self, path: str) -> str:
        return path

    def find_config(self) -> str | None:
        tree, start = self._locate(".")

        def holds_git(directory: str) -> bool:
            marker = f"{directory}/.git"
            return tree.is_dir(marker) or tree.is_file(marker)

        found = nearest_config(tree, start, holds_git)
        if found is None:
            return None
        return os.path.join(tree.root, *found.split("/"))  # absolute, as always

    def home(self) -> str:
        return repository_root(os.path.abspath("."))


class RevisionRules:
    """The rules of one version of a repository, read from any FileTree.

    ``root`` is the repository's directory on disk and ``cwd`` the working directory
    as a tree path: command-line paths are relative to it, and files are named as
    a run on the working tree names the same files.
    """

    def __init__(self, tree: FileTree, root: str, cwd: str = "",
                 label: str | None = None) -> None:
        self.tree = tree
        self.root = os.path.abspath(root)
        self.cwd = normalize(cwd)
        self.label = label if label is not None else str(getattr(tree, "label", "the base"))
        self._disk = DiskRules()

    def _key(self, path: str) -> str | None:
        try:
            return normalize(path)
        except TreePathError:
            return None  # leaves the repository: not in this tree

    def read_bytes(self, path: str) -> bytes:
        if os.path.isabs(path):
            return self._disk.read_bytes(path)
        key = self._key(path)
        if key is None:
            raise FileNotFoundError(f"{path}: outside the repository")
        return self.tree.read_bytes(key)

    def is_file(self, path: str) -> bool:
        if os.path.isabs(path):
            return self._disk.is_file(path)
        key = self._key(path)
        return key is not None and self.tree.is_file(key)

    def is_dir(self, path: str) -> bool:
        if os.path.isabs(path):
            return self._disk.is_dir(path)
        key = self._key(path)
        return key is not None and self.tree.is_dir(key)

    def list_dir(self, path: str) -> list[str]:
        if os.path.isabs(path):
            return self._disk.list_dir(path)
        key = self._key(path)
        return [] if key is None else self.tree.list_dir(key)

    def is_link(self, path: str) -> bool:
        # A git tree lists no symbolic links (GitTree leaves them out).
        return os.path.isabs(path) and self._disk.is_link(path)

    def join(self, directory: str, path: str) -> str:
        if os.path.isabs(directory) or os.path.isabs(path):
            return os.path.join(directory, path)
        joined = posixpath.normpath(posixpath.join(directory, path))
        return "" if joined == "." else joined

    def dirname(self, path: str) -> str:
        return os.path.dirname(path) if os.path.isabs(path) else posixpath.dirname(path)

    def name(self, path: str) -> str:
        if os.path.isabs(path):
            return display_name(path)
        if not self.cwd:
            return path
        if path.startswith(self.cwd + "/"):
            return path[len(self.cwd) + 1:]
        if path == self.cwd:
            return "."
        return self.root.replace(os.sep, "/").rstrip("/") + "/" + path

    def spell(self, path: str) -> str:
        return self.name(path)

    def given(self, path: str) -> str:
        """A repository path, or an absolute one outside the repository (read from disk)."""
        here = os.path.join(self.root, *self.cwd.split("/")) if self.cwd else self.root
        absolute = os.path.normpath(path if os.path.isabs(path) else os.path.join(here, path))
        relative = _inside(absolute, self.root)
        if relative is None:
            # The same place reached through a symbolic link (a linked working directory).
            relative = _inside(os.path.realpath(absolute), os.path.realpath(self.root))
        return absolute if relative is None else relative

    def given_config(self, path: str) -> str:
        located = self.given(path)
        if os.path.isabs(located):
            raise ConfigError(f"config file outside the repository: {path} (the base of the "
                              "change has no version of it)")
        if not self.tree.is_file(located):
            raise ConfigError(f"config file not found at the base of the change: {located}")
        return located

    def find_config(self) -> str | None:
        return nearest_config(self.tree, self.cwd)

    def home(self) -> str:
        return ""


def _inside(path: str, root: str) -> str | None:
    """``path`` as a tree path of ``root``, or None when it is not beneath it."""
    if path == root:
        return ""
    prefix = root if root.endswith(os.sep) else root + os.sep
    if not path.startswith(prefix):
        return None
    return path[len(prefix):].replace(os.sep, "/")


def disk() -> DiskRules:
    """The working tree's rules: the files on disk."""
    return DiskRules()
