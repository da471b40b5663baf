"""Commits: ``git log`` read with git's own trailer parser, signatures verified."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from gate.git.runner import check_sha
from gate.git.signatures import SignatureVerifier
from gate.results import CommitSignature


@dataclass(frozen=True)
class Commit:
    """One commit of a change, for change governance."""

    sha: str
    author_name: str
    author_email: str
    authored_at: datetime
    committed_at: datetime
    message: str
    #: As git's own trailer parser gives them (``%(trailers:only,unfold)`` of ``git log``,
    #: which is ``git interpret-trailers --parse --no-divider``): keys as written, in
    #: order, values unfolded and trimmed; the repository's ``trailer.separators`` apply.
    trailers: dict[str, list[str]] = field(default_factory=dict, hash=False)
    committer_name: str = ""
    committer_email: str = ""
    #: The signature as git reports it (``%G?``, ``%GS``, ``%GK``, ``%GF``); ``N`` when
    #: the commit is unsigned or was read without verifying signatures.
    signature: CommitSignature = field(default_factory=CommitSignature)

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]


class CommitReader(SignatureVerifier):
    """The commits of a repository, their parents and ancestry."""

    def commits(self, base_sha: str, head_sha: str) -> list[Commit]:
        """The commits reachable from ``head_sha`` and not from ``base_sha``
        (``git log BASE..HEAD``), merges included, newest first, signatures verified
        (see :meth:`_verification_config`); one git process."""
        check_sha(base_sha, head_sha)
        return self._log(f"{base_sha}..{head_sha}", signatures=True)

    def first_parent_line(self, head_sha: str, base_sha: str,
                          limit: int) -> list[tuple[str, list[str]]]:
        """``(commit, parents)`` along the first-parent line from ``head_sha`` down to
        the base's history, ``base_sha`` and its ancestors excluded (``git rev-list
        --first-parent --parents HEAD ^BASE``), newest first; at most ``limit``."""
        check_sha(head_sha, base_sha)
        output = self._git("rev-list", "--first-parent", "--parents", f"--max-count={limit}",
                           head_sha, f"^{base_sha}", "--")
        line: list[tuple[str, list[str]]] = []
        for record in output.stdout.decode("ascii", "replace").splitlines():
            sha, *parents = record.split()
            line.append((sha, parents))
        return line

    def parents(self, sha: str) -> list[str]:
        """The parents of one commit, in order (the first parent first)."""
        check_sha(sha)
        output = self._git("rev-list", "--parents", "--max-count=1", sha, "--")
        return output.stdout.decode("ascii", "replace").split()[1:]

    def is_ancestor(self, ancestor_sha: str, sha: str) -> bool:
        """Whether ``ancestor_sha`` is ``sha`` or one of its ancestors."""
        check_sha(ancestor_sha, sha)
        result = self._git("merge-base", "--is-ancestor", ancestor_sha, sha, ok=(0, 1))
        return result.status == 0

    def commit(self, sha: str) -> Commit:
        """One commit, trailers parsed and signature verified as :meth:`commits` does."""
        check_sha(sha)
        return self._log("-1", sha, signatures=True)[0]

    def commit_time(self, sha: str) -> datetime:
        """The committer time of one commit."""
        check_sha(sha)
        return self._log("-1", sha)[0].committed_at

    def _log(self, *revisions: str, signatures: bool = False) -> list[Commit]:
        """``git log`` of ``revisions``, trailers parsed by git itself (not by us: what
        counts as a trailer block, separators, continuation lines are git's rules).
        With ``signatures`` git verifies each signed commit's signature (it runs the
        verifying program only for a commit that carries one)."""
        marks = _Marks.new()
        config = self._verification_config() if signatures else []
        output = self._git(
            "log", "--date=raw", "--no-show-signature", "--no-mailmap", "--no-color",
            f"--format={marks.format(signatures)}", *revisions, "--", config=config,
        )
        text = output.stdout.decode("utf-8", "replace")
        # Each record ends with the record mark; git puts a newline between records.
        commits = [_parse_commit(record.lstrip("\n"), marks)
                   for record in text.split(marks.record)[:-1]]
        return [self._unverified(c) if c.signature.status == "N" else c for c in commits] \
            if signatures else commits

    def _unverified(self, commit: Commit) -> Commit:
        """A commit git calls unsigned (``N``) that carries a signature all the same: git
        says ``N`` when the verifying program cannot run or prints nothing it
        understands. That is no proof of "no signature": it is ``E`` (cannot be checked)."""
        _, _, _, data = self.repo.git.get_object_data(commit.sha)
        header = bytes(data).split(b"\n\n", 1)[0]
        if any(line.startswith((b"gpgsig ", b"gpgsig-sha256 "))
               for line in header.split(b"\n")):
            return replace(commit, signature=CommitSignature("E"))
        return commit


class _Marks(NamedTuple):
    """Separators of ``git log`` output: fields, records, trailers, a key from its value.

    Fresh and unguessable for each run, so that no text in a commit (whoever wrote
    it) can contain one: a message cannot forge a trailer, a field or a commit.
    """

    field: str
    record: str
    trailer: str
    key_value: str

    @classmethod
    def new(cls) -> _Marks:
        token = secrets.token_hex(16)  # hex: safe inside %(trailers:...) option values
        return cls(*(f"<{kind}{token}>" for kind in ("field", "record", "trailer", "kv")))

    def format(self, signatures: bool = False) -> str:
        f = self.field
        trailers = (f"%(trailers:only,unfold,separator={self.trailer},"
                    f"key_value_separator={self.key_value})")
        # %G? and friends make git verify the signature: only when asked for.
        signature = f"%G?{f}%GS{f}%GK{f}%GF" if signatures else f"N{f}{f}{f}"
        return (f"%H{f}%an{f}%ae{f}%ad{f}%cd{f}%cn{f}%ce{f}{signature}{f}{trailers}{f}"
                f"%B{self.record}")


def _parse_commit(record: str, marks: _Marks) -> Commit:
    (sha, name, email, authored, committed, committer_name, committer_email, status, signer,
     key, fingerprint, trailers, message) = record.split(marks.field, 12)
    return Commit(
        sha=sha.strip(),
        author_name=name,
        author_email=email,
        authored_at=_raw_date(authored),
        committed_at=_raw_date(committed),
        message=message,
        committer_name=committer_name,
        committer_email=committer_email,
        signature=CommitSignature(status.strip() or "N", signer, key, fingerprint),
        trailers=_split_trailers(trailers, marks),
    )


def _split_trailers(text: str, marks: _Marks) -> dict[str, list[str]]:
    """Git's parsed trailers (``key<kv>value``, joined by the trailer mark) by key.

    No parsing here: git found the trailer block, split keys from values at the
    configured separators, unfolded and trimmed them.
    """
    trailers: dict[str, list[str]] = {}
    for item in text.split(marks.trailer):
        key, separator, value = item.partition(marks.key_value)
        if separator:
            trailers.setdefault(key, []).append(value)
    return trailers


def _raw_date(text: str) -> datetime:
    """``git --date=raw``: seconds since the epoch and the ``+hhmm`` offset."""
    seconds, offset = text.split()
    sign = -1 if offset.startswith("-") else 1
    delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
    return datetime.fromtimestamp(int(seconds), timezone(sign * delta))
