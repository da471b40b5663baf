"""File trees: where a run reads files from, the working tree or a git revision.

Every path is relative to the tree's root, with ``/`` separators and no ``..``
(``""`` is the root itself). Renderers and discovery read through this
interface only, so the same code judges a working tree, the index, or a commit
read straight from git objects without a checkout.
"""
from __future__ import annotations

import os
import posixpath
from typing import Protocol

from gate.errors import GateError


class TreePathError(GateError):
    """A path that leaves the tree (``..`` past its root, or absolute)."""


class FileTree(Protocol):
    """Read-only access to the files of one version of a repository."""

    #: How reports name the tree, e.g. the working directory, or ``HEAD`` (``abc1234``).
    label: str

    def read_bytes(self, path: str) -> bytes:
        """The file's content; raises FileNotFoundError if there is no such file."""
        ...

    def is_file(self, path: str) -> bool: ...

    def is_dir(self, path: str) -> bool: ...

    def list_dir(self, path: str) -> list[str]:
        """Names of the entries of a directory, sorted; [] when it does not exist."""
        ...


def normalize(path: str, base: str = "") -> str:
    """``base``-relative ``path`` as a tree path; refuses to leave the tree."""
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise TreePathError(f"absolute path {path!r} is not allowed here")
    joined = posixpath.normpath(posixpath.join(base, path)) if path or base else ""
    if joined in (".", ""):
        return ""
    if joined == ".." or joined.startswith("../"):
        raise TreePathError(f"path {path!r} leaves the repository")
    return joined


def below(path: str, root: str) -> str | None:
    """An OS path as a tree path of the directory ``root``, or None when not beneath it."""
    if path == root:
        return ""
    prefix = root if root.endswith(os.sep) else root + os.sep
    if not path.startswith(prefix):
        return None
    return path[len(prefix):].replace(os.sep, "/")


def walk_files(tree: FileTree, directory: str = "", hidden: bool = False) -> list[str]:
    """Every file under a directory, hidden entries skipped unless ``hidden``.

    A directory's own files come first, by name, then its subdirectories, by
    name. A tree that can list all its paths at once (a git revision) gives them
    sorted instead, without a walk.
    """
    listed = getattr(tree, "paths", None)
    if listed is not None:
        prefix = f"{directory}/" if directory else ""
        return [
            path for path in listed()
            if path.startswith(prefix)
            and (hidden or not any(part.startswith(".") for part in path[len(prefix):].split("/")))
        ]
    found: list[str] = []
    stack = [directory]
    while stack:
        current = stack.pop()
        subdirs: list[str] = []
        for name in tree.list_dir(current):
            if name.startswith(".") and not hidden:
                continue
            path = f"{current}/{name}" if current else name
            if tree.is_dir(path):
                subdirs.append(path)
            else:
                found.append(path)
        stack.extend(reversed(subdirs))
    return found


def walk_yaml(tree: FileTree, directory: str = "") -> list[str]:
    """Every ``*.yaml``/``*.yml`` file under a directory, hidden entries skipped."""
    return [path for path in walk_files(tree, directory) if path.endswith((".yaml", ".yml"))]


class WorkTree:
    """The files on disk under a root directory."""

    def __init__(self, root: str, label: str = "working tree") -> None:
        self.root = os.path.abspath(root)
        self.label = label

    def _os_path(self, path: str) -> str:
        return os.path.join(self.root, *normalize(path).split("/")) if path else self.root

    def read_bytes(self, path: str) -> bytes:
        with open(self._os_path(path), "rb") as handle:
            return handle.read()

    def is_file(self, path: str) -> bool:
        return os.path.isfile(self._os_path(path))

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(self._os_path(path))

    def is_link(self, path: str) -> bool:
        return os.path.islink(self._os_path(path))

    def list_dir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(self._os_path(path)))
        except (FileNotFoundError, NotADirectoryError):
            return []
