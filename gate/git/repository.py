"""The repository gate reads: every reader of :mod:`gate.git` in one object."""
from __future__ import annotations

import os

from gate import executables
from gate.git.commits import CommitReader
from gate.git.diffs import DiffReader
from gate.git.runner import GitError, gitpython, use_git


def open_repository(path: str = ".") -> Repository:
    """The repository containing ``path`` (it or a parent holds the git directory)."""
    executables.distrust(path)  # its files are the change's: no program runs from there
    use_git()
    try:
        # expand_vars=False: GitPython would otherwise expand "$VAR" in the path.
        repo = gitpython.Repo(path, search_parent_directories=True, expand_vars=False)
    except (gitpython.InvalidGitRepositoryError, gitpython.NoSuchPathError):
        where = os.path.abspath(path)
        raise GitError(f"not a git repository: {where} (gate diff needs one)") from None
    if repo.bare or repo.working_tree_dir is None:
        repo.close()
        raise GitError(f"{os.path.abspath(path)} is a bare repository "
                       "(gate diff needs a working tree)")
    executables.distrust(str(repo.working_tree_dir))
    repo.git.update_environment(PATH=executables.child_environment()["PATH"])
    return Repository(repo)


class Repository(DiffReader, CommitReader):
    """One git repository with a working tree, read but never changed.

    Holds a single ``git.Repo`` (and so at most two persistent ``cat-file``
    processes); call :meth:`close`, or use it as a context manager, to end them.
    Not thread-safe.
    """

    def close(self) -> None:
        self.repo.close()

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
