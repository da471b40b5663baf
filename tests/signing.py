"""Throwaway OpenPGP keys for tests that sign commits, with the real ``gpg``.

Each key lives in its own keyring (``GNUPGHOME``) in a short scratch directory (the
agent's socket path must stay under the kernel's limit), made for one test and removed
with its agent afterwards. Nothing touches the user's keyring.
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.gitrepo import ENV, GitRepo, run_git
from tests.processes import run, run_binary

TIMEOUT = 60


@dataclass(frozen=True)
class Keyring:
    """A GNUPGHOME holding one secret key."""

    home: Path
    name: str
    email: str
    fingerprint: str

    @property
    def key_id(self) -> str:
        """The long key id git reports (``%GK``): the fingerprint's last 16 digits."""
        return self.fingerprint[-16:]

    def env(self) -> dict[str, str]:
        return {"GNUPGHOME": str(self.home)}


def _gpg(home: Path, *args: str) -> str:
    done = run_binary(["gpg", "--batch", "--quiet", "--homedir", home, *args], timeout=TIMEOUT)
    assert done.returncode == 0, f"gpg {' '.join(args)}: {done.stderr.decode()}"
    return done.stdout.decode()


@contextmanager
def keyring(name: str, email: str) -> Iterator[Keyring]:
    """A fresh keyring with a passphrase-less ed25519 signing key for ``name <email>``."""
    if shutil.which("gpg") is None:
        import pytest

        pytest.skip("gpg is not installed (needed to sign commits for real)")
    home = Path(tempfile.mkdtemp(prefix="gk", dir="/tmp"))
    home.chmod(0o700)
    try:
        _gpg(home, "--passphrase", "", "--quick-gen-key", f"{name} <{email}>", "ed25519",
             "sign", "never")
        fingerprints = [line.split(":")[9] for line in
                        _gpg(home, "--with-colons", "--list-secret-keys").splitlines()
                        if line.startswith("fpr:")]
        yield Keyring(home, name, email, fingerprints[0])
    finally:
        run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], timeout=TIMEOUT)
        shutil.rmtree(home, ignore_errors=True)


def signed_commit(repo: GitRepo, message: str, signer: Keyring,
                  author: str | None = None) -> str:
    """Commit (everything, empty allowed) signed with ``signer``'s key; as ``author``
    (``Name <email>``) when given, else as the repository's fixed identity."""
    repo.clock += 60
    date = f"{repo.clock} +0000"
    env = {**ENV, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date, **signer.env()}
    run_git(repo.path, "add", "-A", env=env)
    extra = ["--author", author] if author else []
    run_git(repo.path, "-c", "gpg.program=gpg", "-c", f"user.signingkey={signer.fingerprint}",
            "commit", "-q", "--allow-empty", f"-S{signer.fingerprint}", *extra, "-m", message,
            env=env)
    return repo.sha("HEAD")


def commit_as(repo: GitRepo, message: str, author: str) -> str:
    """An unsigned commit (everything, empty allowed) by ``author`` (``Name <email>``)."""
    repo.git("add", "-A")
    repo.clock += 60
    repo.git("commit", "-q", "--allow-empty", "--author", author, "-m", message)
    return repo.sha("HEAD")
