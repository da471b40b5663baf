"""Scratch git repositories for tests, built with the real ``git`` binary.

Every git command runs with a fixed identity, fixed dates (one minute per
commit), no signing, ``main`` as the first branch, and none of the caller's
git configuration or ``GIT_*`` variables (a test run from a git hook must not
touch the outer repository).
"""
from __future__ import annotations

import os
from pathlib import Path

from tests.processes import run_binary

TIMEOUT = 30  # seconds for one git command

_CONFIG = (
    "-c", "user.name=Test User", "-c", "user.email=test@example.com",
    "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false",
    "-c", "init.defaultBranch=main", "-c", "core.autocrlf=false",
    "-c", "protocol.file.allow=always",
)


def git_environment() -> dict[str, str]:
    """The caller's environment without its git settings, plus a fixed identity."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_AUTHOR_NAME="Test User", GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test User", GIT_COMMITTER_EMAIL="test@example.com",
        GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0",
    )
    return env


ENV = git_environment()


def run_git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """``git ARGS`` in ``cwd``; fails the test with git's stderr if it fails."""
    done = run_binary(["git", *_CONFIG, *args], cwd=cwd, env=env or ENV, timeout=TIMEOUT)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr.decode()}"
    return done.stdout.decode("utf-8", "surrogateescape")


class GitRepo:
    """A repository in a scratch directory, with deterministic commit dates."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.clock = 1_700_000_000

    @classmethod
    def init(cls, path: Path) -> GitRepo:
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path)
        repo.git("init", "-q")
        return repo

    def git(self, *args: str) -> str:
        date = f"{self.clock} +0000"
        return run_git(self.path, *args,
                       env={**ENV, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})

    # -- the working tree ----------------------------------------------------------------

    def write(self, path: str, content: str) -> None:
        target = self.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")

    def write_all(self, files: dict[str, str]) -> None:
        for path, content in files.items():
            self.write(path, content)

    def read(self, path: str) -> str:
        return (self.path / path).read_text(encoding="utf-8")

    def replace(self, path: str, old: str, new: str) -> None:
        """Replace the one occurrence of ``old`` in ``path``."""
        text = self.read(path)
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
        self.write(path, text.replace(old, new))

    def remove(self, path: str) -> None:
        self.git("rm", "-r", "-q", "--", path)

    # -- history -------------------------------------------------------------------------

    def commit(self, message: str = "change", *, add: bool = True) -> str:
        if add:
            self.git("add", "-A")
        self.clock += 60
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.sha("HEAD")

    def sha(self, ref: str) -> str:
        return self.git("rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}").strip()

    def checkout(self, *args: str) -> None:
        self.git("checkout", "-q", *args)

    def merge(self, ref: str, message: str = "merge") -> str:
        self.clock += 60
        self.git("merge", "-q", "--no-ff", "-m", message, ref)
        return self.sha("HEAD")

    def line_of(self, path: str, text: str) -> int:
        """The 1-based line of the one line of ``path`` containing ``text``."""
        found = [n for n, line in enumerate(self.read(path).splitlines(), 1) if text in line]
        assert len(found) == 1, f"{text!r} is on lines {found} of {path}"
        return found[0]
