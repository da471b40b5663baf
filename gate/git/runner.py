"""Running git safely: GitPython imported without running anything, one way to run a
git command (``--no-optional-locks``, failures as :class:`GitError`), and the check
that a command is given full SHAs, never user input (that is :mod:`gate.git.refs`).
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

from gate import executables
from gate.errors import GateError
from gate.loading.trees import below


@contextmanager
def _nothing_runs_at_import() -> Iterator[None]:
    """Import GitPython without letting it run anything.

    On import GitPython runs ``git version``, looking ``git`` up on ``PATH`` (so a
    committed ``./git`` would run with ``PATH=/usr/bin:``). It is pointed at a path
    that does not exist for that, quietly;
    :func:`~gate.git.repository.open_repository` then sets the git
    that :mod:`gate.executables` resolved, before any git command runs.
    """
    names = ("GIT_PYTHON_GIT_EXECUTABLE", "GIT_PYTHON_REFRESH")
    saved = {name: os.environ.get(name) for name in names}
    os.environ["GIT_PYTHON_GIT_EXECUTABLE"] = os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "no-git-runs-at-import")
    os.environ["GIT_PYTHON_REFRESH"] = "quiet"
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


with _nothing_runs_at_import():
    import git as gitpython

FULL_SHA = re.compile(r"[0-9a-f]{40}")


class GitError(GateError):
    """A repository, ref or git failure that stops ``gate diff``."""


class _Output(NamedTuple):
    status: int
    stdout: bytes
    stderr: str


def use_git() -> str:
    """The absolute path of the git to run, set as GitPython's; a GitError without one."""
    found = executables.find("git")
    if found is None:
        raise GitError("git is not installed or not on PATH (gate diff needs it; only "
                       "absolute PATH entries outside the repository are searched)")
    if found != gitpython.Git.GIT_PYTHON_GIT_EXECUTABLE:
        try:
            gitpython.refresh(found)
        except Exception:  # GitPython's multi-line text is not for the user
            raise GitError(f"cannot run {found} (gate diff needs git)") from None
    return found


class GitRunner:
    """Runs git in one repository's working tree; what every reader of it builds on.

    Holds a single ``git.Repo`` (and so at most two persistent ``cat-file`` processes).
    """

    def __init__(self, repo: gitpython.Repo) -> None:
        self.repo = repo
        self.root = os.path.abspath(str(repo.working_tree_dir))
        self._names: dict[str, str] = {}  # commit -> the ref it was resolved from
        self._verify_settings: list[str] | None = None  # see SignatureVerifier
        self._check_object_format()

    # -- running git ---------------------------------------------------------------

    def _git(self, *args: str, config: Iterable[str] = (), ok: Iterable[int] = (0,)) -> _Output:
        """``git ARGS`` in the root; a GitError unless the exit status is in ``ok``."""
        command = [gitpython.Git.GIT_PYTHON_GIT_EXECUTABLE, "--no-optional-locks"]
        for setting in config:
            command += ["-c", setting]
        command += args
        try:
            status, stdout, stderr = self.repo.git.execute(
                command, with_extended_output=True, with_exceptions=False,
                stdout_as_string=False, strip_newline_in_stdout=False,
            )
        except gitpython.GitCommandNotFound:
            raise GitError("git is not installed or not on PATH (gate diff needs it)") from None
        result = _Output(status, stdout or b"", stderr or "")
        if result.status not in tuple(ok):
            raise self._failure(args[0], result.stderr)
        return result

    def _failure(self, command: str, stderr: str) -> GitError:
        if "dubious ownership" in stderr:
            return GitError(
                f"git refuses to read {self.root}: it is owned by another user; trust it with "
                f"git config --global --add safe.directory {self.root}"
            )
        lines = [line for line in stderr.splitlines() if line.strip()]
        detail = lines[-1] if lines else "no message"
        return GitError(f"git {command} failed: {detail}")

    def _check_object_format(self) -> None:
        reader = self.repo.config_reader("repository")
        object_format = str(reader.get_value("extensions", "objectformat", "sha1"))
        if object_format.lower() != "sha1":
            raise GitError(f"{self.root}: {object_format} repositories are not supported "
                           "(gate diff reads SHA-1 repositories only)")

    # -- paths -----------------------------------------------------------------------

    def relative_to_root(self, path: str) -> str:
        """A user's path (relative to the working directory, or absolute) as a
        repository path (``""`` for the root itself); it need not exist."""
        absolute = os.path.abspath(path)
        relative = below(absolute, self.root)
        if relative is None:
            # The same place reached through a symbolic link (a linked cwd or root).
            directory, base = os.path.split(absolute)
            relative = below(os.path.join(os.path.realpath(directory), base),
                               os.path.realpath(self.root))
        if relative is None:
            raise GitError(f"path outside the repository: {path} (the repository is {self.root})")
        return relative

    def _os_path(self, path: str) -> str:
        return os.path.join(self.root, *path.split("/"))


def check_sha(*shas: str) -> None:
    for sha in shas:
        if not isinstance(sha, str) or not FULL_SHA.fullmatch(sha):
            raise GitError(f"not a full commit SHA: {sha!r} (resolve the ref first)")


def as_text(value: str | bytes) -> str:
    """An object type as GitPython gives it (bytes or str), as text."""
    return value.decode("ascii", "replace") if isinstance(value, bytes) else value


def split_paths(output: bytes) -> list[str]:
    """The NUL-separated paths of a ``-z`` listing."""
    return [part.decode("utf-8", "surrogateescape") for part in output.split(b"\0") if part]
