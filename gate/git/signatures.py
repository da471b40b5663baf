"""Commit signatures: what verifying one may run and read, pinned outside the
repository being judged."""
from __future__ import annotations

import os

from gate import executables
from gate.git.runner import GitError, GitRunner


class SignatureVerifier(GitRunner):
    """The ``-c`` settings under which git verifies commit signatures."""

    def _verification_config(self) -> list[str]:
        """``-c`` settings that pin what verifying a signature may run and read.

        git runs ``gpg.program`` (OpenPGP), ``gpg.ssh.program`` (SSH) or
        ``gpg.x509.program`` (X.509) to verify a signed commit. Each is pinned here to
        an absolute path outside the repository: the configured one when it is such a
        path, else the program found on the trusted part of ``PATH``
        (:mod:`gate.executables`), else a path that does not exist (the signature then
        cannot be checked: ``E``). The SSH allowed-signers and revocation files must
        not be the change's: a relative path (git reads it from the repository root)
        or one inside the repository stops the run.
        """
        if self._verify_settings is not None:
            return self._verify_settings
        configured = self._gpg_config()
        settings: list[str] = []
        for key, default in (("gpg.program", "gpg"), ("gpg.ssh.program", "ssh-keygen"),
                             ("gpg.x509.program", "gpgsm")):
            program = self._verifier(key, configured.get(key.lower(), ""), default)
            settings.append(f"{key}={program}")
        for key in ("gpg.ssh.allowedSignersFile", "gpg.ssh.revocationFile"):
            value = configured.get(key.lower(), "")
            if value:
                self._check_trust_file(key, value)
        home = os.environ.get("GNUPGHOME")
        if home and (not os.path.isabs(home) or executables.inside_untrusted(home)):
            raise GitError(f"GNUPGHOME={home!r}: the keyring that verifies commit signatures "
                           "must be an absolute path outside the repository being judged")
        self._verify_settings = settings
        return settings

    def _gpg_config(self) -> dict[str, str]:
        """The ``gpg.*`` settings as git sees them here (system, global, repository; the
        last one wins), keys lower-cased as git reports them; one git process."""
        result = self._git("config", "-z", "--get-regexp", r"^gpg\.", ok=(0, 1))
        found: dict[str, str] = {}
        for entry in result.stdout.split(b"\0"):
            key, _, value = entry.decode("utf-8", "surrogateescape").partition("\n")
            if key:
                found[key.lower()] = value
        return found

    def _verifier(self, key: str, configured: str, default: str) -> str:
        if configured:
            expanded = os.path.expanduser(configured)
            if os.path.isabs(expanded):
                if executables.inside_untrusted(expanded):
                    raise GitError(f"git config {key}={configured!r}: the program that "
                                   "verifies signatures lies inside the repository being "
                                   "judged; it must not come from the change")
                return expanded
            found = executables.find(configured) if "/" not in configured else None
        else:
            found = executables.find(default)
        # Nothing trusted to run: a path that cannot exist, so git reports "E".
        return found or os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     "no-verifier-runs", default)

    def _check_trust_file(self, key: str, configured: str) -> None:
        expanded = os.path.expanduser(configured)
        if not os.path.isabs(expanded) or executables.inside_untrusted(
                os.path.join(self.root, expanded)):
            raise GitError(f"git config {key}={configured!r}: it names a file of the "
                           "repository being judged (a relative path is read from its "
                           "root), so the change could choose whom to trust; give an "
                           "absolute path outside it")
