"""Diffs: the paths a range of commits, the index or the working tree changes."""
from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from gate.git.refs import RefReader
from gate.git.runner import GitError, check_sha, split_paths
from gate.git.trees import REGULAR_MODES, TreeReader

_NULL_SHA = "0" * 40
_STATUSES = frozenset("ADMRT")


@dataclass(frozen=True)
class Change:
    """One changed path, as ``git diff --name-status -M`` reports it.

    ``status`` is ``A`` (``old_path`` None), ``D`` (``new_path`` None), ``M``,
    ``T`` (type change, e.g. file to symlink) or ``R`` (rename, both paths set).
    """

    status: str
    old_path: str | None
    new_path: str | None

    @property
    def path(self) -> str:
        """The path to sort and show by: the new one, or the old one of a deletion."""
        return self.new_path or self.old_path or ""


class _Raw(NamedTuple):
    """One record of ``git diff-* --raw -z``."""

    status: str
    old_mode: str
    new_mode: str
    old_sha: str
    new_sha: str
    old_path: str | None
    new_path: str | None


class DiffReader(RefReader, TreeReader):
    """What changed between two commits, or from ``HEAD`` to the index or working tree."""

    def diff_commits(self, base_sha: str, head_sha: str) -> list[Change]:
        """What ``head_sha`` changes from ``base_sha``, renames detected (``git diff -M``).

        For a pull request pass the merge-base as ``base_sha``, so this equals
        ``git diff BASE...HEAD``; for a merge commit, its first parent.
        """
        check_sha(base_sha, head_sha)
        output = self._git("diff-tree", "-r", "-z", "-M", "--raw", base_sha, head_sha, "--")
        return _changes(_parse_raw(output.stdout))

    def diff_index(self) -> list[Change]:
        """What the index changes from ``HEAD`` (``git diff --cached``); with no commits
        yet, everything staged is added."""
        head = self.head_sha()
        if head is None:
            return sorted((Change("A", None, path) for path in self._index_entries()),
                          key=_sort_key)
        output = self._git("diff-index", "--cached", "-z", "-M", "--raw", head, "--")
        return _changes(_parse_raw(output.stdout))

    def diff_worktree(self) -> list[Change]:
        """What the working tree changes from ``HEAD``: tracked files as ``git diff HEAD``
        sees them, plus untracked files that are not ignored, as added.

        Uses ``git diff-index`` (which never refreshes the index, unlike ``git diff``),
        so a file whose stat data is stale is confirmed by hashing its content.
        """
        base = self.head_sha() or self._empty_tree()
        output = self._git("diff-index", "-z", "-M", "--raw", base, "--")
        records = self._confirm_modified(_parse_raw(output.stdout))
        untracked = self._untracked()
        return _changes(self._reconcile_untracked(records, untracked))

    def _confirm_modified(self, records: list[_Raw]) -> list[_Raw]:
        """Drop the ``M`` records that are only stale stat data: same mode, same content."""
        suspects = [r for r in records if r.status == "M" and r.new_sha == _NULL_SHA
                    and r.old_mode == r.new_mode and r.new_mode in REGULAR_MODES]
        hashes = self._hash_files([str(r.new_path) for r in suspects])
        unchanged = {id(r) for r in suspects if hashes.get(str(r.new_path)) == r.old_sha}
        return [r for r in records if id(r) not in unchanged]

    def _reconcile_untracked(self, records: list[_Raw], untracked: list[str]) -> list[_Raw]:
        """Untracked files are added, unless ``HEAD`` has them (``git rm --cached``): then
        the index's deletion (or rename source) is really a modification, or nothing."""
        remaining = set(untracked)
        result: list[_Raw] = []
        revived: list[_Raw] = []
        for record in records:
            if record.status in ("D", "R") and record.old_path in remaining:
                remaining.discard(record.old_path)
                revived.append(record)
                if record.status == "R":
                    result.append(record._replace(status="A", old_path=None))
            else:
                result.append(record)
        hashes = self._hash_files([str(r.old_path) for r in revived])
        for record in revived:
            if hashes.get(str(record.old_path)) != record.old_sha:
                result.append(record._replace(status="M", new_path=record.old_path))
        result += [_Raw("A", "000000", "100644", _NULL_SHA, _NULL_SHA, None, path)
                   for path in remaining]
        return result

    def _hash_files(self, paths: list[str]) -> dict[str, str]:
        """Blob SHAs of working-tree files as ``git add`` would store them (filters
        applied), without writing any object; a file that cannot be read is left out."""
        hashes: dict[str, str] = {}
        # Regular files only, links not followed: git hash-object would read a link's
        # target, wherever it is (/dev/zero, without end).
        for chunk in _chunks([p for p in paths if _is_regular(self._os_path(p))], 500):
            output = self._git("hash-object", "--", *chunk, ok=(0, 128))
            shas = output.stdout.decode("ascii", "replace").split()
            if output.status == 0 and len(shas) == len(chunk):
                hashes.update(zip(chunk, shas, strict=True))
        return hashes

    def _untracked(self) -> list[str]:
        output = self._git("ls-files", "-z", "--others", "--exclude-standard", "--full-name")
        # An embedded repository (not a submodule) is listed as "dir/": not a file.
        return [p for p in split_paths(output.stdout) if not p.endswith("/")]

    def _empty_tree(self) -> str:
        output = self._git("hash-object", "-t", "tree", "--stdin")
        return output.stdout.decode("ascii").strip()


def _is_regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _parse_raw(output: bytes) -> list[_Raw]:
    """Parse ``--raw -z``: ``:MODE MODE SHA SHA STATUS\\0PATH\\0[PATH\\0]``."""
    parts = output.split(b"\0")
    records: list[_Raw] = []
    index = 0
    while index < len(parts) and parts[index].startswith(b":"):
        old_mode, new_mode, old_sha, new_sha, status = parts[index][1:].decode("ascii").split()
        letter = status[0]
        paths = [p.decode("utf-8", "surrogateescape")
                 for p in parts[index + 1:index + (3 if letter in "RC" else 2)]]
        index += 1 + len(paths)
        if letter == "U":
            raise GitError(f"{paths[0]} has an unresolved merge conflict; resolve it first")
        if letter == "C":  # never asked for (-M only), but a copy is an addition
            letter, paths = "A", paths[1:]
        old_path = None if letter == "A" else paths[0]
        new_path = None if letter == "D" else paths[-1]
        if letter not in _STATUSES:
            raise GitError(f"git reported an unexpected change {status!r} for {paths[-1]}")
        records.append(_Raw(letter, old_mode, new_mode, old_sha, new_sha, old_path, new_path))
    return records


def _changes(records: Iterable[_Raw]) -> list[Change]:
    return sorted((Change(r.status, r.old_path, r.new_path) for r in records), key=_sort_key)


def _sort_key(change: Change) -> tuple[str, str, str]:
    return (change.path, change.status, change.old_path or "")


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
