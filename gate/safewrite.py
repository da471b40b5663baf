"""Every file gate writes: never through a symbolic link, never inside a git directory.

gate runs in the checkout of a change whose author may be hostile, and the change may
commit symbolic links where gate writes (``gate-reports/gate.md -> ../.git/config``,
``gate-reports -> /etc``). So each file is written by :func:`write_file` (or appended
to by :func:`append_file`), which:

* walks the target's directories from the working directory (or ``/``) down with
  ``lstat``; a symbolic link met inside a git working tree stops the write (outside
  one, e.g. ``/tmp -> /private/tmp``, it is followed, since the change cannot put it
  there); so does anything that is not a directory;
* refuses a target whose real directory is, or is inside, a git directory (``.git``,
  a worktree's or submodule's git directory under it, or any directory laid out as one);
* refuses a last component that is a symbolic link (even a dangling one) or not a
  regular file, and never opens it: the text goes to a new file in the same directory
  (``O_EXCL|O_NOFOLLOW``), which then replaces the target with ``os.replace``, so no
  other file (a link's target, another hard link) is ever truncated or written.

Each refusal is a :class:`~gate.errors.ConfigError` naming the file: one line, exit 2.
"""
from __future__ import annotations

import collections
import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterable

from gate.errors import ConfigError

_GIT_DIR_MARKERS = ("HEAD", "objects", "refs")


def _refuse(what: str, path: str, reason: str) -> ConfigError:
    return ConfigError(f"{what}: {reason}", path)


def _in_working_tree(directory: str) -> bool:
    """Whether ``directory`` (a real path) is in a git working tree: it or a parent
    holds ``.git`` (a directory, or a worktree's ``.git`` file)."""
    current = directory
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return True
        parent = os.path.dirname(current)
        if parent == current:
            return False
        current = parent


def _is_git_dir(directory: str) -> bool:
    return (os.path.basename(directory) == ".git"
            or all(os.path.lexists(os.path.join(directory, name)) for name in _GIT_DIR_MARKERS))


def _git_dir_around(directory: str) -> str | None:
    """``directory`` or the parent of it that is a git directory, if any."""
    current = directory
    while True:
        if _is_git_dir(current):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _split(path: str) -> tuple[str, list[str], str]:
    """(where the walk starts, the directory names, the file name) of ``path``."""
    drive, rest = os.path.splitdrive(path)
    separators = "/\\" if os.sep == "\\" else "/"
    parts = [rest]
    for separator in separators:
        parts = [piece for part in parts for piece in part.split(separator)]
    if os.path.isabs(path):
        start = (drive + os.sep) if drive or os.sep == "/" else os.sep
    else:
        start = os.getcwd()  # a physical path: no link to resolve there
    return start, parts[:-1], parts[-1]


def real_parent(path: str, what: str, *, create: bool = False,
                missing_ok: bool = False) -> tuple[str, str]:
    """(the real directory, the file name) that ``path`` names, checked as described
    in the module's documentation; with ``create``, missing directories are made.
    With ``missing_ok`` (to check a target before writing anything) the walk stops,
    and the last existing directory is returned, at the first missing one."""
    start, directories, name = _split(path)
    if name in ("", ".", ".."):
        raise _refuse(what, path, "not a file name")
    if name == ".git":
        raise _refuse(what, path, "gate never writes a repository's .git")
    current = start
    for part in directories:
        if part in ("", "."):
            continue
        if part == "..":
            current = os.path.dirname(current)  # current is real: its parent is too
            continue
        candidate = os.path.join(current, part)
        try:
            info = os.lstat(candidate)
        except FileNotFoundError:
            if missing_ok and not create:
                break  # all below it will be new, real directories
            if not create:
                raise _refuse(what, path, f"no such directory: {candidate}") from None
            git_dir = _git_dir_around(current)
            if git_dir is not None:
                raise _refuse(what, path, f"{git_dir} is a git directory; gate never "
                                          "writes there") from None
            try:
                os.mkdir(candidate)
            except OSError as exc:
                raise _refuse(what, path, exc.strerror or str(exc)) from None
            info = os.lstat(candidate)
        except OSError as exc:
            raise _refuse(what, path, exc.strerror or str(exc)) from None
        if stat.S_ISLNK(info.st_mode):
            if _in_working_tree(current):
                raise _refuse(what, path, f"{candidate} is a symbolic link inside a git "
                                          "working tree; gate does not write through links")
            candidate = os.path.realpath(candidate)
            if not os.path.isdir(candidate):
                raise _refuse(what, path, f"{candidate} is not a directory")
        elif not stat.S_ISDIR(info.st_mode):
            raise _refuse(what, path, f"{candidate} is not a directory")
        current = candidate
    git_dir = _git_dir_around(current)
    if git_dir is not None:
        raise _refuse(what, path, f"{git_dir} is a git directory; gate never writes there")
    return current, name


def _check_existing(what: str, path: str, directory: str, name: str,
                    may_exist: bool) -> None:
    try:
        info = os.lstat(os.path.join(directory, name))
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise _refuse(what, path, "it is a symbolic link; gate does not write through links")
    if not may_exist:
        raise _refuse(what, path, "it exists")
    if not stat.S_ISREG(info.st_mode):
        raise _refuse(what, path, "it exists and is not a regular file")


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) \
    | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _is_null_device(path: str) -> bool:
    """Whether ``path`` is the null device itself (not a link to it)."""
    try:
        info, null = os.lstat(path), os.stat(os.devnull)
    except OSError:
        return False
    return stat.S_ISCHR(info.st_mode) and info.st_rdev == null.st_rdev


def check_target(path: str | os.PathLike[str], what: str = "cannot write") -> None:
    """Raise the error :func:`write_file` would for ``path``'s directories, without
    creating any: so a command writing several files can refuse before writing one."""
    real_parent(os.fspath(path), what, missing_ok=True)


def write_file(path: str | os.PathLike[str], text: str | Iterable[str], *,
               what: str = "cannot write", exclusive: bool = False,
               create_directories: bool = False) -> None:
    """Write ``text`` (UTF-8, as given; a string or its pieces) to ``path`` safely;
    ``exclusive``: only a new file, never replacing one."""
    path = os.fspath(path)
    directory, name = real_parent(path, what, create=create_directories)
    pieces: Iterable[str] = (text,) if isinstance(text, str) else text
    if not exclusive and _is_null_device(os.path.join(directory, name)):
        # -f json=/dev/null: a report nobody keeps, still made (a benchmark measures it).
        collections.deque(pieces, maxlen=0)
        return
    _check_existing(what, path, directory, name, may_exist=not exclusive)
    target = os.path.join(directory, name)
    temporary = target if exclusive else os.path.join(
        directory, f".{name}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(temporary, _CREATE, 0o666)  # the umask applies, as for open()
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EEXIST) and exclusive:
            raise _refuse(what, path, "it exists") from None
        raise _refuse(what, path, exc.strerror or str(exc)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            for piece in pieces:
                handle.write(piece.encode("utf-8"))
        if not exclusive:
            os.replace(temporary, target)  # replaces the entry, never writes through it
    except BaseException as exc:
        # Nothing half-written stays: the temporary file, or the new file itself.
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise _refuse(what, path, exc.strerror or str(exc)) from None
        raise


def append_file(path: str | os.PathLike[str], text: str, *,
                what: str = "cannot write") -> None:
    """Append ``text`` to ``path`` (created if missing), never through a link at its
    last component and never to anything but a regular file: for files the CI runner
    names (``$GITHUB_STEP_SUMMARY``, ``$GITHUB_OUTPUT``)."""
    path = os.fspath(path)
    flags = (os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
             | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
             | getattr(os, "O_BINARY", 0))
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _refuse(what, path, "it is a symbolic link; gate does not write through "
                                      "links") from None
        raise _refuse(what, path, exc.strerror or str(exc)) from None
    with os.fdopen(fd, "ab") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise _refuse(what, path, "not a regular file")
        handle.write(text.encode("utf-8"))
