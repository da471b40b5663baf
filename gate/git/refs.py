"""Refs: resolving what the user names to one commit, tags, ``HEAD``, merge-bases."""
from __future__ import annotations

import re
from typing import NamedTuple

from gate.git.runner import FULL_SHA, GitError, GitRunner, as_text, check_sha

_HEX = re.compile(r"[0-9a-fA-F]{4,40}")
_SHALLOW_HINT = (
    "this is a shallow clone; fetch the history "
    "(git fetch --unshallow, or actions/checkout with fetch-depth: 0)"
)


class Tag(NamedTuple):
    """A tag of the repository and the commit it names."""

    name: str  # without refs/tags/
    commit: str  # the commit it peels to
    created_at: int  # the tagger date of an annotated tag, else the commit's, Unix time


class RefReader(GitRunner):
    """The refs of a repository, resolved to full commit SHAs."""

    def resolve(self, ref: str) -> str:
        """The full SHA of the commit ``ref`` names: a branch, tag, remote-tracking ref,
        ``HEAD``, ``HEAD~2``, ``main^``, or an abbreviated or full SHA. Ranges, options
        and anything that is not one commit are refused."""
        _check_ref(ref)
        result = self._git("rev-parse", "--verify", "--end-of-options", ref,
                           config=["core.warnAmbiguousRefs=true"], ok=(0, 128, 129))
        if "is ambiguous" in result.stderr:
            raise GitError(f"ambiguous ref {ref!r}: {_ambiguity_hint(ref, result.stderr)}")
        if result.status != 0 and "Needed a single revision" not in result.stderr:
            raise self._failure("rev-parse", result.stderr)  # not about the ref: say why
        sha = result.stdout.decode("ascii", "replace").strip()
        if result.status != 0 or not FULL_SHA.fullmatch(sha):
            raise GitError(f"unknown ref {ref!r}: {self._unknown_hint(ref)}")
        commit = self._peel_to_commit(ref, sha)
        self._names[commit] = ref  # labels trees and messages: the latest name given
        return commit

    def _peel_to_commit(self, ref: str, sha: str) -> str:
        try:
            _, raw_kind, _ = self.repo.git.get_object_header(sha)
        except ValueError:  # "<sha> missing": a full SHA that is not in this clone
            raise GitError(f"unknown ref {ref!r}: {self._unknown_hint(ref)}") from None
        kind = as_text(raw_kind)  # GitPython gives the type as bytes
        if kind == "commit":
            return sha
        if kind == "tag":
            peeled = self._git("rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}", ok=(0, 1))
            commit = peeled.stdout.decode("ascii", "replace").strip()
            if peeled.status == 0 and FULL_SHA.fullmatch(commit):
                return commit
            raise GitError(f"ref {ref!r} is a tag of something that is not a commit")
        raise GitError(f"ref {ref!r} names a {kind}, not a commit")

    def _unknown_hint(self, ref: str) -> str:
        remotes = [remote.name for remote in self.repo.remotes] or ["origin"]
        remote = "origin" if "origin" in remotes else remotes[0]
        name = ref
        for candidate in remotes:
            for prefix in (f"{candidate}/", f"remotes/{candidate}/", f"refs/remotes/{candidate}/"):
                if ref.startswith(prefix):
                    remote, name = candidate, ref[len(prefix):]
        if ref in ("HEAD", "@") and self.head_sha() is None:
            return "the repository has no commits yet"
        if re.search(r"[~^@{]", ref):
            hint = "it names no commit here (not that many ancestors, or no such ref?)"
        else:
            what = "no such commit here" if _HEX.fullmatch(ref) else "no such branch, tag or commit"
            hint = f"{what}; fetch it first: git fetch {remote} {name}"
        if self.is_shallow():
            hint += f" ({_SHALLOW_HINT})"
        return hint

    def tags(self) -> list[Tag]:
        """Every tag that names a commit (directly or through annotated tags), by name;
        one git process."""
        output = self._git(
            "for-each-ref", "--format=%(refname)%00%(objecttype)%00%(objectname)%00"
            "%(*objecttype)%00%(*objectname)%00%(creatordate:unix)", "refs/tags/")
        found: list[Tag] = []
        for record in output.stdout.decode("utf-8", "replace").splitlines():
            fields = record.split("\0")
            if len(fields) != 6 or not fields[0].startswith("refs/tags/"):
                continue
            ref, kind, sha, peeled_kind, peeled, created = fields
            if kind == "commit":
                commit = sha
            elif kind == "tag" and peeled_kind == "commit":
                commit = peeled
            elif kind == "tag":
                # A tag of a tag: peel it as rev-parse does, if it ends at a commit.
                try:
                    commit = self._peel_to_commit(ref, sha)
                except GitError:
                    continue
            else:
                continue  # a tag of a tree or a blob names no release
            if FULL_SHA.fullmatch(commit) and created.lstrip("-").isdigit():
                found.append(Tag(ref[len("refs/tags/"):], commit, int(created)))
        found.sort(key=lambda tag: tag.name)
        return found

    def head_sha(self) -> str | None:
        """The commit ``HEAD`` names; None in a repository with no commits yet."""
        result = self._git("rev-parse", "--verify", "--quiet", "HEAD^{commit}", ok=(0, 1, 128))
        sha = result.stdout.decode("ascii", "replace").strip()
        return sha if result.status == 0 and FULL_SHA.fullmatch(sha) else None

    def is_shallow(self) -> bool:
        result = self._git("rev-parse", "--is-shallow-repository")
        return result.stdout.strip() == b"true"

    def merge_base(self, base_sha: str, head_sha: str) -> str:
        """The best common ancestor, as ``git merge-base`` picks it (the first of several
        in a criss-cross history); a GitError when there is none."""
        check_sha(base_sha, head_sha)
        result = self._git("merge-base", base_sha, head_sha, ok=(0, 1))
        lines = result.stdout.decode("ascii", "replace").split()
        if result.status == 0 and lines and FULL_SHA.fullmatch(lines[0]):
            base = lines[0]
            self._names.setdefault(
                base, f"merge-base of {self._name(base_sha)} and {self._name(head_sha)}")
            return base
        if self.is_shallow():
            raise GitError(f"no merge base of {self._name(base_sha)} and "
                           f"{self._name(head_sha)}: {_SHALLOW_HINT}")
        raise GitError(f"{self._name(base_sha)} and {self._name(head_sha)} have no common "
                       "history (unrelated histories: there is no base to compare with)")

    def _name(self, sha: str) -> str:
        name = self._names.get(sha)
        return f"{name} ({sha[:7]})" if name else sha[:7]


def _check_ref(ref: str) -> None:
    """Refuse what cannot be a single commit name, or could be read as an option."""
    problem = None
    if not ref:
        problem = "it is empty"
    elif ref.startswith("-"):
        problem = "a ref must not start with '-'"
    elif any(c.isspace() for c in ref):
        problem = "a ref must not contain whitespace"
    elif any(ord(c) < 32 or ord(c) == 127 for c in ref):
        problem = "a ref must not contain control characters"
    elif ".." in ref or ref.startswith("^") or re.search(r"\^[!@-]", ref):
        problem = "a range names several commits; give one ref (the base or the head)"
    elif ":" in ref:
        problem = "a path or search (':') does not name a commit"
    if problem:
        raise GitError(f"invalid ref {ref!r}: {problem}")


def _ambiguity_hint(ref: str, stderr: str) -> str:
    if "short object ID" in stderr:
        return "the abbreviated SHA matches several objects; give more of its digits"
    return (f"it names more than one ref (e.g. a branch and a tag); spell it out, "
            f"as refs/heads/{ref} or refs/tags/{ref}")
