"""Every external program gate runs, resolved to an absolute path it trusts.

gate judges changes whose author may be hostile, so nothing the change contains may
run. ``shutil.which`` (and ``execvp``, and GitPython's ``git``) would run a committed
``./kustomize`` as soon as ``PATH`` holds an empty entry (``PATH=/usr/bin:``), ``.``
or any relative directory, since those mean the working directory. So every program
is looked up here, and only here:

* only absolute ``PATH`` entries are walked; empty, ``.`` and relative ones are skipped;
* a candidate must be a regular, executable file;
* a candidate (or the ``PATH`` entry holding it), after resolving symbolic links, must
  not lie inside an *untrusted* directory: the working directory, the repository
  around it, and every repository or tree gate was asked to judge (:func:`distrust`);
* a program named explicitly (``$GATE_HELM``) must be an absolute path outside those
  directories, else the run stops with an error naming the variable.

The programs then run with :func:`child_environment`, whose ``PATH`` holds only the
entries that passed the same test, so whatever they start in turn is not looked up
in the change either.
"""
from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable, Mapping

from gate.errors import GateError

_distrusted: set[str] = set()


class ExecutableError(GateError):
    """A program gate needs is missing or named unsafely: exit status 2."""


def _real(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _repository_root(path: str) -> str | None:
    """The nearest directory at or above ``path`` holding ``.git`` (a file or directory)."""
    directory = os.path.abspath(path)
    while True:
        if os.path.lexists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def distrust(path: str | os.PathLike[str]) -> None:
    """Never run a program from ``path`` or below it (a tree being judged), nor from
    the repository around it."""
    path = os.fspath(path)
    _distrusted.add(_real(path))
    root = _repository_root(path)
    if root is not None:
        _distrusted.add(_real(root))


def untrusted_roots() -> set[str]:
    """The directories no program may come from: those :func:`distrust` was given, the
    working directory and the repository around it (real paths)."""
    roots = set(_distrusted)
    try:
        cwd = os.getcwd()
    except OSError:  # the working directory was removed: nothing there can run either
        return roots
    roots.add(_real(cwd))
    root = _repository_root(cwd)
    if root is not None:
        roots.add(_real(root))
    return roots


def _inside(path: str, roots: Iterable[str]) -> bool:
    real = _real(path)
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep)
               for root in roots)


def inside_untrusted(path: str) -> bool:
    """Whether ``path`` (after resolving links) lies inside an untrusted directory: the
    repository or working directory being judged."""
    return _inside(path, untrusted_roots())


def trusted_path_entries(path: str | None = None) -> list[str]:
    """The entries of ``PATH`` (or ``path``) a program may be run from: absolute, and
    outside every untrusted directory; in order, without repeats."""
    value = os.environ.get("PATH", os.defpath) if path is None else path
    roots = untrusted_roots()
    entries: list[str] = []
    for entry in value.split(os.pathsep):
        # Empty, "." and relative entries name the working directory: never searched.
        if not entry or not os.path.isabs(entry) or entry in entries:
            continue
        if _inside(entry, roots):
            continue
        entries.append(entry)
    return entries


def _names(name: str) -> list[str]:
    if sys.platform != "win32" or os.path.splitext(name)[1]:
        return [name]
    extensions = os.environ.get("PATHEXT", ".COM;.EXE;.BAT;.CMD").split(os.pathsep)
    return [name + extension.lower() for extension in extensions if extension]


def _acceptable(candidate: str, roots: Iterable[str]) -> bool:
    """A regular file we may execute, not (really) inside an untrusted directory."""
    try:
        info = os.stat(candidate)  # follows a link: what would run is its target
    except (OSError, ValueError):
        return False
    return (stat.S_ISREG(info.st_mode) and os.access(candidate, os.X_OK)
            and not _inside(candidate, roots))


def find(name: str) -> str | None:
    """The absolute path of program ``name`` on the trusted part of ``PATH``, or None."""
    roots = untrusted_roots()
    for entry in trusted_path_entries():
        for file_name in _names(name):
            candidate = os.path.join(os.path.normpath(entry), file_name)
            if _acceptable(candidate, roots):
                return candidate
    return None


def named(variable: str, what: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The program an environment variable names (None when unset or empty).

    It must be an absolute path outside every untrusted directory, or the run stops:
    a relative name would be looked up in (or relative to) the change. An absolute
    path to nothing is taken as "no such program", like a program missing from PATH.
    """
    value = (os.environ if environ is None else environ).get(variable, "")
    if not value:
        return None
    if not os.path.isabs(value):
        raise ExecutableError(f"{variable}={value!r}: name the {what} binary by its absolute "
                              "path (a relative name could run a file of the change)")
    if _inside(value, untrusted_roots()):
        raise ExecutableError(f"{variable}={value!r}: the {what} binary lies inside the "
                              "repository or working directory being judged; it must not "
                              "come from the change")
    if not os.path.lexists(value):
        return None
    if not _acceptable(value, untrusted_roots()):
        raise ExecutableError(f"{variable}={value!r}: not an executable regular file")
    return os.path.normpath(value)


def require(name: str, purpose: str) -> str:
    """Like :func:`find`, but a missing program stops the run with a one-line error."""
    found = find(name)
    if found is None:
        raise ExecutableError(f"{name} is not installed or not on PATH ({purpose}); only "
                              "absolute PATH entries outside the repository are searched")
    return found


def child_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a program gate starts: ``base`` (the process environment by
    default) with ``PATH`` cut down to :func:`trusted_path_entries`."""
    environment = dict(os.environ if base is None else base)
    environment["PATH"] = os.pathsep.join(
        trusted_path_entries(environment.get("PATH", os.defpath)))
    return environment
