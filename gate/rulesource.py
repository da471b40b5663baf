"""Where the rules are read: the config, the policy directories and the waivers file.

A run reads its rules from the working tree (the files on disk) or, with
``gate diff --rules-from base``, from one commit, the tip of the branch the change
merges into, straight from git objects (so a change cannot choose or loosen the
rules that judge it). Both are a
:class:`RuleSource`: a :class:`~gate.loading.trees.FileTree` addressed by paths spelled
as the user and the config wrote them (relative to the working directory, or
absolute), so the loaders (:func:`gate.config.load_config`,
:func:`gate.evaluation.policy_loading.load_directory`, :func:`gate.governance.waivers.load_waivers`,
:func:`gate.governance.judging.policy_inputs`) name every file as they always did.

- :class:`DiskRules`: the files on disk, read through a
  :class:`~gate.loading.trees.WorkTree` on the filesystem root, so that a path outside
  the repository (``--config /elsewhere.yaml``, ``--policies ../x``) works.
- :class:`RevisionRules`: any FileTree (a git revision, an in-memory tree)
  mounted at the repository's directory: a path inside it is read from the
  tree, and named relative to the working directory as on disk. A path outside
  the repository has no version in any revision: there is nothing there,
  except in the directories named in ``from_disk`` (``--policies`` given as an
  absolute path, read from disk as they always were).
"""
from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable
from typing import Protocol

from gate.errors import ConfigError
from gate.loading.sources import display_name
from gate.loading.trees import FileTree, WorkTree, below
from gate.loading.yamlio import LocatedYaml, YamlInputError, decode, load_located

CONFIG_NAMES = (".gate.yaml", ".gate.yml")
WAIVERS_NAME = "waivers.yaml"


class RuleSource(Protocol):
    """A FileTree of rule files addressed by operating-system paths, as written."""

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

    def name(self, path: str) -> str:
        """How messages and reports name a file: relative to the working directory when
        beneath it, else as written (see :func:`gate.loading.sources.display_name`)."""
        ...

    def config_file(self, path: str) -> str:
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


class _Mounted:
    """Reads a path from the file tree that holds it (see ``_place``)."""

    label: str

    def _place(self, path: str) -> tuple[FileTree, str]:
        """The tree holding ``path``, and the path in that tree."""
        raise NotImplementedError

    def read_bytes(self, path: str) -> bytes:
        tree, key = self._place(path)
        return tree.read_bytes(key)

    def is_file(self, path: str) -> bool:
        tree, key = self._place(path)
        return tree.is_file(key)

    def is_dir(self, path: str) -> bool:
        tree, key = self._place(path)
        return tree.is_dir(key)

    def list_dir(self, path: str) -> list[str]:
        tree, key = self._place(path)
        try:
            return tree.list_dir(key)
        except OSError:
            return []  # unreadable: skipped, as os.walk skips it

    def is_link(self, path: str) -> bool:
        tree, key = self._place(path)
        is_link = getattr(tree, "is_link", None)  # a git tree lists no symbolic links
        return bool(is_link(key)) if is_link is not None else False


class DiskRules(_Mounted):
    """The rules on disk: the working tree, and anything a path outside it names."""

    label = "working tree"

    def __init__(self) -> None:
        self._trees: dict[str, WorkTree] = {}

    def _place(self, path: str) -> tuple[FileTree, str]:
        # One WorkTree per filesystem root (per drive on Windows).
        drive, rest = os.path.splitdrive(os.path.abspath(path))
        anchor = drive + os.sep
        tree = self._trees.get(anchor)
        if tree is None:
            tree = self._trees[anchor] = WorkTree(anchor)
        return tree, rest.strip(os.sep).replace(os.sep, "/")

    def name(self, path: str) -> str:
        return display_name(path)

    def config_file(self, path: str) -> str:
        return path

    def find_config(self) -> str | None:
        tree, start = self._place(".")

        def holds_git(directory: str) -> bool:
            marker = f"{directory}/.git"
            return tree.is_dir(marker) or tree.is_file(marker)

        found = nearest_config(tree, start, holds_git)
        if found is None:
            return None
        return os.path.join(os.path.abspath(os.sep), *found.split("/"))  # absolute, as ever

    def home(self) -> str:
        return repository_root(os.path.abspath("."))


class RevisionRules(_Mounted):
    """The rules of one version of a repository: a FileTree mounted at ``root``.

    ``root`` is the repository's directory and ``cwd`` the working directory as a
    tree path: relative paths start there, and files are named from there, as a
    run on the working tree names the same files. Reading never leaves the
    tree for a path inside the repository, whatever is on disk.
    """

    def __init__(self, tree: FileTree, root: str, cwd: str = "",
                 label: str | None = None, from_disk: Iterable[str] = ()) -> None:
        self.tree = tree
        self.root = os.path.abspath(root)
        self.here = os.path.join(self.root, *cwd.split("/")) if cwd else self.root
        self.label = label if label is not None else str(getattr(tree, "label", "the base"))
        # Directories outside the repository that are read from disk.
        self.disk = [os.path.normpath(directory) for directory in from_disk
                     if os.path.isabs(directory)]
        self._disk = DiskRules()

    def repository_path(self, path: str) -> str | None:
        """``path`` (relative to the working directory, or absolute) as a tree path;
        None when it is outside the repository."""
        absolute = os.path.normpath(os.path.join(self.here, path))
        relative = below(absolute, self.root)
        if relative is None and os.path.isabs(path):
            # The same place reached through a symbolic link (a linked working directory).
            relative = below(os.path.realpath(absolute), os.path.realpath(self.root))
        return relative

    def _place(self, path: str) -> tuple[FileTree, str]:
        relative = self.repository_path(path)
        if relative is not None:
            return self.tree, relative
        absolute = os.path.normpath(os.path.join(self.here, path))
        if any(absolute == d or absolute.startswith(d.rstrip(os.sep) + os.sep)
               for d in self.disk):
            return self._disk._place(absolute)
        return _NOTHING, ""

    def name(self, path: str) -> str:
        # display_name, but from the working directory of this tree, not the process's.
        relative = os.path.relpath(os.path.join(self.here, path), self.here)
        if relative.startswith(os.pardir + os.sep):
            return path.replace(os.sep, "/")
        return relative.replace(os.sep, "/")

    def config_file(self, path: str) -> str:
        relative = self.repository_path(path)
        if relative is None:
            raise ConfigError(f"config file outside the repository: {path} (the commit the "
                              "rules are read from has no version of it)")
        if not self.tree.is_file(relative):
            raise ConfigError(f"config file not found in the commit the rules are read "
                              f"from: {relative}")
        return path

    def find_config(self) -> str | None:
        found = nearest_config(self.tree, self.repository_path(".") or "")
        return None if found is None else os.path.join(self.root, *found.split("/"))

    def home(self) -> str:
        return self.root


class _Nothing:
    """Where a revision has no files: outside the repository."""

    label = "outside the repository"

    def read_bytes(self, path: str) -> bytes:
        raise FileNotFoundError(f"{path}: outside the repository")

    def is_file(self, path: str) -> bool:
        return False

    def is_dir(self, path: str) -> bool:
        return False

    def list_dir(self, path: str) -> list[str]:
        return []


_NOTHING = _Nothing()


def disk() -> DiskRules:
    """The working tree's rules: the files on disk."""
    return DiskRules()


def read_settings(path: str, name: str, what: str,
                  source: RuleSource | None = None) -> LocatedYaml:
    """A settings file (config, waivers) parsed with lines; ConfigError if missing or bad."""
    files = source or disk()
    if not files.is_file(path):
        raise ConfigError(f"{what} not found", name)
    try:
        try:
            raw = files.read_bytes(path)
        except OSError as exc:
            raise YamlInputError(f"cannot read: {exc.strerror or exc}", name) from None
        return load_located(decode(raw, name), name)
    except YamlInputError as exc:
        raise ConfigError(exc.message, exc.file, exc.line) from None
