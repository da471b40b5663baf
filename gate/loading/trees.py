"""File trees: where a run reads files from, the working tree or a git revision.

Every path is relative to the tree's root, with ``/`` separators and no ``..``
(``""`` is the root itself). Renderers and discovery read through this
interface only, so the same code judges a working tree, the index, or a commit
read straight from git objects without a checkout.

A pull request's author may be an adversary, so what a tree reads is bounded
(docs/security.md, "What gate reads"): a symbolic link is followed only when its
target, resolved, stays inside the tree's root; a link that leaves it, a
dangling link, a link loop, a special file (FIFO, device, socket), a git
submodule and a file over :data:`MAX_FILE_BYTES` are *refused*: they are listed
and ``is_file`` (so whoever needs one reports it, naming its path, rather than
finding it silently absent), and reading one raises :class:`RefusedPath`.
"""
from __future__ import annotations

import errno
import os
import posixpath
import stat
from collections.abc import Iterable
from typing import Protocol

from gate.errors import GateError

#: The largest file gate reads; a larger one is refused (an input error naming it).
MAX_FILE_BYTES = 16 * 1024 * 1024
#: The most files one walk or one copy of a tree lists: links to directories can make
#: a small repository look exponentially large without any loop.
MAX_WALK_FILES = 200_000

# Why a path is refused: the texts reports show, after the path.
LEAVES = "symbolic link leaves the repository"
DANGLING = "dangling symbolic link (its target does not exist)"
LOOP = "symbolic link loop"
SPECIAL = "not a regular file"
TOO_LARGE = f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB"
SUBMODULE = "a git submodule: its content is not in the repository"
LFS_POINTER = "a Git LFS pointer: its content is not in the repository"
_LFS_PREFIX = b"version https://git-lfs.github.com/spec/v1"


class TreePathError(GateError):
    """A path that leaves the tree (``..`` past its root, or absolute)."""


class TreeLimitError(GateError):
    """A walk or a copy of a tree that lists more than :data:`MAX_WALK_FILES` files."""


class RefusedPath(OSError):
    """A path gate does not read (see the module's docstring); ``strerror`` says why.

    An OSError, so every reader that reports ``cannot read: <strerror>`` reports
    this too, naming the path; but never a FileNotFoundError: it is no missing file.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(errno.EPERM, reason, path)
        self.path = path
        self.reason = reason


class FileTree(Protocol):
    """Read-only access to the files of one version of a repository."""

    #: How reports name the tree, e.g. the working directory, or ``HEAD`` (``abc1234``).
    label: str

    def read_bytes(self, path: str) -> bytes:
        """The file's content; raises FileNotFoundError if there is no such file,
        RefusedPath if it is one gate does not read."""
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


def is_lfs_pointer(raw: bytes) -> bool:
    """Whether a file is a Git LFS pointer (the content lives on an LFS server, not here)."""
    return raw.startswith(_LFS_PREFIX)


def check_not_lfs(raw: bytes, path: str) -> bytes:
    """``raw``, or RefusedPath when it is a Git LFS pointer: where gate reads a manifest,
    a pointer is an input error naming it, not "not a Kubernetes object"."""
    if is_lfs_pointer(raw):
        raise RefusedPath(path, LFS_POINTER)
    return raw


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name


def _hidden(path: str) -> bool:
    return any(part.startswith(".") for part in path.split("/"))


def walk_files(tree: FileTree, directory: str = "", hidden: bool = False) -> list[str]:
    """Every file under a directory, hidden entries skipped unless ``hidden``.

    A directory's own files come first, by name, then its subdirectories, by
    name. A tree that can list all its paths at once (a git revision without
    links) gives them sorted instead, without a walk.

    In a tree with symbolic links, each file is listed once: a link to a
    directory is walked (after the real directories) only when its target is
    not walked otherwise, so a loop ends; a link to a file only when its target
    is not listed otherwise. A refused entry (a link out, a special file) is
    listed, and reading it says why.
    """
    listed = getattr(tree, "paths", None)
    if listed is not None and not getattr(tree, "has_links", False):
        prefix = f"{directory}/" if directory else ""
        return [
            path for path in listed()
            if path.startswith(prefix) and (hidden or not _hidden(path[len(prefix):]))
        ]
    if getattr(tree, "resolve", None) is not None:
        return _walk_once(tree, directory, hidden)
    found: list[str] = []
    stack = [directory]
    while stack:
        current = stack.pop()
        subdirs: list[str] = []
        for name in tree.list_dir(current):
            if name.startswith(".") and not hidden:
                continue
            path = _join(current, name)
            if tree.is_dir(path):
                subdirs.append(path)
            else:
                found.append(path)
        stack.extend(reversed(subdirs))
    return found


def _walk_once(tree: FileTree, directory: str, hidden: bool) -> list[str]:
    """:func:`walk_files` for a tree with links (``resolve``/``is_link``)."""
    resolve = tree.resolve  # type: ignore[attr-defined]
    is_link = tree.is_link  # type: ignore[attr-defined]
    found: list[str] = []
    listed: set[str] = set()  # canonical paths of the files found
    visited: set[str] = set()  # canonical paths of the directories walked
    dir_links: list[tuple[str, str]] = []
    file_links: list[tuple[str, str]] = []

    def walk(start: str, canonical: str) -> None:
        visited.add(canonical)
        stack = [(start, canonical)]
        while stack:
            current, real = stack.pop()
            subdirs: list[tuple[str, str]] = []
            for name in tree.list_dir(current):
                if name.startswith(".") and not hidden:
                    continue
                path, real_path = _join(current, name), _join(real, name)
                if is_link(path):
                    try:
                        target = resolve(path)
                    except OSError:  # refused or dangling: listed, reading it says why
                        found.append(path)
                        continue
                    (dir_links if tree.is_dir(target) else file_links).append((path, target))
                elif tree.is_dir(path):
                    if real_path not in visited:
                        visited.add(real_path)
                        subdirs.append((path, real_path))
                else:
                    found.append(path)
                    listed.add(real_path)
                if len(found) > MAX_WALK_FILES:
                    raise TreeLimitError(f"{directory or '.'}: more than {MAX_WALK_FILES} files "
                                         "(symbolic links to directories?)")
            stack.extend(reversed(subdirs))

    try:
        start = resolve(directory) if directory else ""
    except OSError:
        return []
    if not tree.is_dir(start):
        return []
    walk(directory, start)
    while dir_links:  # a link's walk may find more links
        path, target = dir_links.pop(0)
        if target not in visited:
            walk(path, target)
    for path, target in file_links:
        if target not in listed:
            listed.add(target)
            found.append(path)
    return found


def checkout_files(tree: FileTree, directories: Iterable[str] = ("",)) -> list[str]:
    """Every file a checkout would show under the directories, to copy for a binary.

    Unlike :func:`walk_files`, a path is listed under every name a checkout
    gives it (a renderer reads files by those names): links to directories are
    followed, except into a directory they lie in (a loop); ``.git`` is left
    out; hidden files are in. Refused entries are listed (copying one fails).
    At most :data:`MAX_WALK_FILES` files, else TreeLimitError.
    """
    resolve = getattr(tree, "resolve", None)
    found: list[str] = []
    seen: set[str] = set()
    for directory in directories:
        stack: list[tuple[str, tuple[str, ...]]] = []
        try:
            root = resolve(directory) if resolve is not None and directory else directory
        except OSError:
            continue
        stack.append((directory, (root,)))
        while stack:
            current, chain = stack.pop()
            for name in tree.list_dir(current):
                if name == ".git":
                    continue
                path = _join(current, name)
                if tree.is_dir(path):
                    real = resolve(path) if resolve is not None else path
                    # A directory that holds the link: following it again never ends.
                    if any(real == up or up.startswith(real + "/") or not real
                           for up in chain):
                        continue
                    stack.append((path, (*chain, real)))
                elif path not in seen:
                    seen.add(path)
                    found.append(path)
                    if len(found) > MAX_WALK_FILES:
                        raise TreeLimitError(f"more than {MAX_WALK_FILES} files to copy "
                                             "(symbolic links to directories?)")
    return found


def walk_yaml(tree: FileTree, directory: str = "") -> list[str]:
    """Every ``*.yaml``/``*.yml`` file under a directory, hidden entries skipped."""
    return [path for path in walk_files(tree, directory) if path.endswith((".yaml", ".yml"))]


class WorkTree:
    """The files on disk under a root directory, read only inside it.

    Every read, listing and walk resolves the path one component at a time from
    the root (whose own real path is the boundary): a symbolic link is followed
    when its target, ``os.path.realpath``, lies inside the root, and refused
    otherwise; only regular files are read, opened with ``O_NOFOLLOW`` and
    ``O_NONBLOCK`` (a FIFO cannot block) and at most :data:`MAX_FILE_BYTES`.
    """

    def __init__(self, root: str, label: str = "working tree") -> None:
        self.root = os.path.abspath(root)
        self.label = label
        self._real_root = os.path.realpath(self.root)
        # Directories resolved so far: tree path -> real OS path (inside the root).
        self._dirs: dict[str, str] = {"": self._real_root}

    def _os_path(self, path: str) -> str:
        """The OS path as written, links unresolved (for messages, never for reading)."""
        return os.path.join(self.root, *normalize(path).split("/")) if path else self.root

    def _entry(self, key: str) -> str:
        """The OS path of ``key`` in its resolved parent (its last component unresolved)."""
        parent, _, name = key.rpartition("/")
        return os.path.join(self._real(parent), name)

    def _real(self, path: str) -> str:
        """The real OS path ``path`` names, every link on the way resolved and checked.

        RefusedPath for a link that leaves the root, dangles or loops;
        FileNotFoundError (or NotADirectoryError) for nothing there.
        """
        key = normalize(path)
        found = self._dirs.get(key)
        if found is not None:
            return found
        entry = self._entry(key)
        mode = os.lstat(entry).st_mode
        if stat.S_ISLNK(mode):
            target = os.path.realpath(entry)
            if below(target, self._real_root) is None:
                raise RefusedPath(key, LEAVES)
            try:
                mode = os.stat(target).st_mode
            except OSError as exc:
                raise RefusedPath(key, LOOP if exc.errno == errno.ELOOP else DANGLING) from None
            entry = target
        if stat.S_ISDIR(mode):
            self._dirs[key] = entry
        return entry

    def resolve(self, path: str) -> str:
        """The tree path ``path`` names with every link resolved (RefusedPath: see _real)."""
        return below(self._real(path), self._real_root) or ""

    def read_bytes(self, path: str) -> bytes:
        key = normalize(path)
        real = self._real(key)
        mode = os.lstat(real).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", key)
        if not stat.S_ISREG(mode):  # refused before it is opened: a device may act on open
            raise RefusedPath(key, SPECIAL)
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        descriptor = os.open(real, flags | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(descriptor, "rb", buffering=0) as handle:
            status = os.fstat(descriptor)  # what was opened, should it have changed
            if not stat.S_ISREG(status.st_mode):
                raise RefusedPath(key, SPECIAL)
            if status.st_size > MAX_FILE_BYTES:
                raise RefusedPath(key, TOO_LARGE)
            data = handle.read(MAX_FILE_BYTES + 1)  # bounded, should it grow meanwhile
        if len(data) > MAX_FILE_BYTES:
            raise RefusedPath(key, TOO_LARGE)
        return data

    def is_file(self, path: str) -> bool:
        """A regular file, or an entry gate refuses to read (reading it says why)."""
        try:
            return not stat.S_ISDIR(os.stat(self._real(path)).st_mode)
        except RefusedPath:
            return True
        except (OSError, TreePathError):
            return False

    def is_dir(self, path: str) -> bool:
        try:
            return stat.S_ISDIR(os.stat(self._real(path)).st_mode)
        except (OSError, TreePathError):
            return False

    def is_link(self, path: str) -> bool:
        try:
            return stat.S_ISLNK(os.lstat(self._entry(normalize(path))).st_mode)
        except (OSError, TreePathError):
            return False

    def list_dir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(self._real(path)))
        except (FileNotFoundError, NotADirectoryError, RefusedPath):
            return []
