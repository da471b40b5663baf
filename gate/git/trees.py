"""The git layer of ``gate diff``: refs, merge-bases, changes, commits and trees.

Everything is read from git objects, the index and the working tree; nothing here
changes the repository (no checkout, no stash, no index write, not even the stat
refresh ``git diff`` and ``git status`` write back). So only plumbing commands
run (``rev-parse``, ``merge-base``, ``diff-tree``, ``diff-index``, ``ls-tree``,
``ls-files``, ``hash-object`` without ``-w``, ``log``, ``rev-list``), with
``--no-optional-locks``, and file contents come from one persistent
``git cat-file --batch`` process.

User input reaches git in exactly one place, :meth:`Repository.resolve`, after
validation and behind ``--end-of-options``; every later command gets full SHAs,
and paths only ever follow ``--``.
"""
from __future__ import annotations

import errno
import os
import re
import secrets
import stat
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from gate import executables
from gate.errors import GateError
from gate.results import CommitSignature
from gate.trees import (
    DANGLING,
    LEAVES,
    LOOP,
    MAX_FILE_BYTES,
    SPECIAL,
    SUBMODULE,
    TOO_LARGE,
    RefusedPath,
    TreePathError,
    below,
    normalize,
)


@contextmanager
def _nothing_runs_at_import() -> Iterator[None]:
    """Import GitPython without letting it run anything.

    On import GitPython runs ``git version``, looking ``git`` up on ``PATH`` (so a
    committed ``./git`` would run with ``PATH=/usr/bin:``). It is pointed at a path
    that does not exist for that, quietly; :func:`open_repository` then sets the git
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

_SHA = re.compile(r"[0-9a-f]{40}")
_HEX = re.compile(r"[0-9a-fA-F]{4,40}")
_NULL_SHA = "0" * 40
_REGULAR_MODES = ("100644", "100755", "100664")
_LINK_MODE = "120000"
_SUBMODULE_MODE = "160000"
_MAX_LINK_HOPS = 40  # as Linux's limit on links followed in one path
_STATUSES = frozenset("ADMRT")
_SHALLOW_HINT = (
    "this is a shallow clone; fetch the history "
    "(git fetch --unshallow, or actions/checkout with fetch-depth: 0)"
)


class GitError(GateError):
    """A repository, ref or git failure that stops ``gate diff``."""


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


class Tag(NamedTuple):
    """A tag of the repository and the commit it names."""

    name: str  # without refs/tags/
    commit: str  # the commit it peels to
    created_at: int  # the tagger date of an annotated tag, else the commit's, Unix time


class _Output(NamedTuple):
    status: int
    stdout: bytes
    stderr: str


class _Raw(NamedTuple):
    """One record of ``git diff-* --raw -z``."""

    status: str
    old_mode: str
    new_mode: str
    old_sha: str
    new_sha: str
    old_path: str | None
    new_path: str | None


def open_repository(path: str = ".") -> Repository:
    """The repository containing ``path`` (it or a parent holds the git directory)."""
    executables.distrust(path)  # its files are the change's: no program runs from there
    _use_git()
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


def _use_git() -> str:
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


class Repository:
    """One git repository with a working tree, read but never changed.

    Holds a single ``git.Repo`` (and so at most two persistent ``cat-file``
    processes); call :meth:`close`, or use it as a context manager, to end them.
    Not thread-safe.
    """

    def __init__(self, repo: gitpython.Repo) -> None:
        self.repo = repo
        self.root = os.path.abspath(str(repo.working_tree_dir))
        self._names: dict[str, str] = {}
        self._verify_settings: list[str] | None = None
        self._check_object_format()

    def close(self) -> None:
        self.repo.close()

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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

    # -- refs ------------------------------------------------------------------------

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
        if result.status != 0 or not _SHA.fullmatch(sha):
            raise GitError(f"unknown ref {ref!r}: {self._unknown_hint(ref)}")
        commit = self._peel_to_commit(ref, sha)
        self._names[commit] = ref  # labels trees and messages: the latest name given
        return commit

    def _peel_to_commit(self, ref: str, sha: str) -> str:
        try:
            _, raw_kind, _ = self.repo.git.get_object_header(sha)
        except ValueError:  # "<sha> missing": a full SHA that is not in this clone
            raise GitError(f"unknown ref {ref!r}: {self._unknown_hint(ref)}") from None
        kind = _text(raw_kind)  # GitPython gives the type as bytes
        if kind == "commit":
            return sha
        if kind == "tag":
            peeled = self._git("rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}", ok=(0, 1))
            commit = peeled.stdout.decode("ascii", "replace").strip()
            if peeled.status == 0 and _SHA.fullmatch(commit):
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
            if _SHA.fullmatch(commit) and created.lstrip("-").isdigit():
                found.append(Tag(ref[len("refs/tags/"):], commit, int(created)))
        found.sort(key=lambda tag: tag.name)
        return found

    def head_sha(self) -> str | None:
        """The commit ``HEAD`` names; None in a repository with no commits yet."""
        result = self._git("rev-parse", "--verify", "--quiet", "HEAD^{commit}", ok=(0, 1, 128))
        sha = result.stdout.decode("ascii", "replace").strip()
        return sha if result.status == 0 and _SHA.fullmatch(sha) else None

    def is_shallow(self) -> bool:
        result = self._git("rev-parse", "--is-shallow-repository")
        return result.stdout.strip() == b"true"

    def merge_base(self, base_sha: str, head_sha: str) -> str:
        """The best common ancestor, as ``git merge-base`` picks it (the first of several
        in a criss-cross history); a GitError when there is none."""
        _check_sha(base_sha, head_sha)
        result = self._git("merge-base", base_sha, head_sha, ok=(0, 1))
        lines = result.stdout.decode("ascii", "replace").split()
        if result.status == 0 and lines and _SHA.fullmatch(lines[0]):
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

    # -- changes ---------------------------------------------------------------------

    def diff_commits(self, base_sha: str, head_sha: str) -> list[Change]:
        """What ``head_sha`` changes from ``base_sha``, renames detected (``git diff -M``).

        For a pull request pass the merge-base as ``base_sha``, so this equals
        ``git diff BASE...HEAD``; for a merge commit, its first parent.
        """
        _check_sha(base_sha, head_sha)
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
                    and r.old_mode == r.new_mode and r.new_mode in _REGULAR_MODES]
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
        return [p for p in _split_paths(output.stdout) if not p.endswith("/")]

    def _empty_tree(self) -> str:
        output = self._git("hash-object", "-t", "tree", "--stdin")
        return output.stdout.decode("ascii").strip()

    # -- trees -----------------------------------------------------------------------

    def tree_at(self, sha: str, name: str | None = None) -> GitTree:
        """The files of commit ``sha``, read from git objects (no checkout). ``name``
        (default: the ref it was resolved from, if any) labels it in reports."""
        _check_sha(sha)
        output = self._git("ls-tree", "-r", "-z", "--full-tree", sha)
        entries = []
        for record in _split_paths(output.stdout):
            meta, _, path = record.partition("\t")
            mode, _, rest = meta.partition(" ")
            entries.append((path, mode, rest.rpartition(" ")[2]))
        name = name or self._names.get(sha)
        label = f"{name} ({sha[:7]})" if name else sha[:7]
        return GitTree(self, entries, label)

    def index_tree(self) -> IndexTree:
        """The staged content: what the next commit would hold."""
        return IndexTree(self, self._index_entries(), "index")

    def _index_entries(self) -> dict[str, tuple[str, str]]:
        output = self._git("ls-files", "-z", "--stage", "--full-name")
        entries: dict[str, tuple[str, str]] = {}
        unmerged: list[str] = []
        for record in _split_paths(output.stdout):
            meta, _, path = record.partition("\t")
            mode, sha, stage = meta.split(" ")
            if stage != "0":
                unmerged.append(path)
            entries[path] = (mode, sha)
        if unmerged:
            paths = sorted(set(unmerged))
            shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
            raise GitError(f"the index has unmerged paths ({shown}): "
                           "resolve the merge conflict first")
        return entries

    def read_blob(self, sha: str, path: str = "") -> bytes:
        """A blob's content, through the persistent ``git cat-file --batch`` process."""
        try:
            _, raw_kind, _, data = self.repo.git.get_object_data(sha)
        except ValueError:
            raise GitError(f"cannot read {path or sha}: object {sha} is missing from this "
                           "clone (a partial or shallow clone? fetch it first)") from None
        kind = _text(raw_kind)
        if kind != "blob":
            raise GitError(f"cannot read {path or sha}: object {sha} is a {kind}, not a file")
        return bytes(data)

    def read_blobs(self, shas: Iterable[str]) -> dict[str, bytes]:
        """Many blobs' contents at once, through one ``git cat-file --batch`` run.

        The persistent reader answers one object per round trip; reading every
        kustomization file of a large repository that way costs seconds.
        """
        wanted = sorted(set(shas))
        if not wanted:
            return {}
        proc = subprocess.run(
            [_use_git(), "--no-optional-locks", "cat-file", "--batch"],
            input=("\n".join(wanted) + "\n").encode("ascii"),
            cwd=self.root, capture_output=True, check=False,
            env=executables.child_environment(),
        )
        if proc.returncode != 0:
            raise GitError("cannot read objects: " + proc.stderr.decode("utf-8", "replace"))
        blobs: dict[str, bytes] = {}
        out = proc.stdout
        position = 0
        for sha in wanted:
            end = out.index(b"\n", position)
            header = out[position:end].split()
            position = end + 1
            if len(header) < 3 or header[1] != b"blob":
                raise GitError(f"cannot read object {sha}: it is missing or not a file "
                               "(a partial or shallow clone? fetch it first)")
            size = int(header[2])
            blobs[sha] = out[position:position + size]
            position += size + 1  # the content is followed by a newline
        return blobs

    # -- commits ---------------------------------------------------------------------

    def commits(self, base_sha: str, head_sha: str) -> list[Commit]:
        """The commits reachable from ``head_sha`` and not from ``base_sha``
        (``git log BASE..HEAD``), merges included, newest first, signatures verified
        (see :meth:`_verification_config`); one git process."""
        _check_sha(base_sha, head_sha)
        return self._log(f"{base_sha}..{head_sha}", signatures=True)

    def first_parent_line(self, head_sha: str, base_sha: str,
                          limit: int) -> list[tuple[str, list[str]]]:
        """``(commit, parents)`` along the first-parent line from ``head_sha`` down to
        the base's history, ``base_sha`` and its ancestors excluded (``git rev-list
        --first-parent --parents HEAD ^BASE``), newest first; at most ``limit``."""
        _check_sha(head_sha, base_sha)
        output = self._git("rev-list", "--first-parent", "--parents", f"--max-count={limit}",
                           head_sha, f"^{base_sha}", "--")
        line: list[tuple[str, list[str]]] = []
        for record in output.stdout.decode("ascii", "replace").splitlines():
            sha, *parents = record.split()
            line.append((sha, parents))
        return line

    def parents(self, sha: str) -> list[str]:
        """The parents of one commit, in order (the first parent first)."""
        _check_sha(sha)
        output = self._git("rev-list", "--parents", "--max-count=1", sha, "--")
        return output.stdout.decode("ascii", "replace").split()[1:]

    def is_ancestor(self, ancestor_sha: str, sha: str) -> bool:
        """Whether ``ancestor_sha`` is ``sha`` or one of its ancestors."""
        _check_sha(ancestor_sha, sha)
        result = self._git("merge-base", "--is-ancestor", ancestor_sha, sha, ok=(0, 1))
        return result.status == 0

    def commit(self, sha: str) -> Commit:
        """One commit, trailers parsed and signature verified as :meth:`commits` does."""
        _check_sha(sha)
        return self._log("-1", sha, signatures=True)[0]

    def commit_time(self, sha: str) -> datetime:
        """The committer time of one commit."""
        _check_sha(sha)
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


class GitTree:
    """The files of one commit, from git objects: listed once, read on demand.

    Resolved as a checkout would be, and bounded as :class:`~gate.trees.WorkTree`
    is: a symbolic link (mode 120000) is followed when its target, read from its
    blob and resolved component by component, stays inside the tree, and
    refused (:class:`~gate.trees.RefusedPath`) when it leaves it, dangles or
    loops; a submodule (mode 160000) is refused, its content being in another
    repository, and listed by :meth:`special_entries`; a blob over
    :data:`~gate.trees.MAX_FILE_BYTES` is refused. Refused entries are listed
    and ``is_file``, so whoever needs one reports it by its path.
    """

    def __init__(self, repository: Repository, entries: Iterable[tuple[str, str, str]],
                 label: str) -> None:
        self.repository = repository
        self.label = label
        self._files: dict[str, str] = {}
        self._links: dict[str, str] = {}  # path -> blob of the link's target
        self._targets: dict[str, str] = {}  # path -> the link's target, once read
        self._special: dict[str, str] = {}  # path -> why it is not read
        self._children: dict[str, set[str]] = {"": set()}
        self._sorted: dict[str, list[str]] = {}
        for path, mode, sha in entries:
            parent, _, name = path.rpartition("/")
            self._add_dir(parent)
            if mode in _REGULAR_MODES:
                self._files[path] = sha
            elif mode == _LINK_MODE:
                self._links[path] = sha
            elif mode == _SUBMODULE_MODE:
                self._special[path] = SUBMODULE
            else:
                self._special[path] = SPECIAL
            self._children[parent].add(name)
        #: Whether a walk must resolve entries (else every listed path is a file).
        self.has_links = bool(self._links or self._special)

    def _add_dir(self, path: str) -> None:
        """Make ``path`` and its parents directories, each listed in its parent."""
        name: str | None = None
        while True:
            children = self._children.get(path)
            known = children is not None
            if children is None:
                children = self._children[path] = set()
            if name is not None:
                children.add(name)
            if known:  # the root always is
                return
            path, _, name = path.rpartition("/")

    def _target(self, path: str) -> str:
        target = self._targets.get(path)
        if target is None:
            raw = self.repository.read_blob(self._links[path], path)
            target = self._targets[path] = raw.decode("utf-8", "surrogateescape")
        return target

    def resolve(self, path: str) -> str:
        """The tree path ``path`` names with every link resolved, as a checkout would
        (``..`` after a link is taken from the link's target); RefusedPath for a link
        that leaves the tree, dangles or loops, or a path through a submodule."""
        key = normalize(path)
        if not self.has_links or key in self._files:
            return key
        pending = key.split("/") if key else []
        pending.reverse()  # a stack: the next component last
        resolved: list[str] = []
        hops = 0
        while pending:
            part = pending.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if not resolved:
                    raise RefusedPath(key, LEAVES)
                resolved.pop()
                continue
            current = "/".join([*resolved, part])
            reason = self._special.get(current)
            if reason is not None:
                raise RefusedPath(key if current == key else current, reason)
            if current not in self._links:
                resolved.append(part)
                continue
            hops += 1
            if hops > _MAX_LINK_HOPS:
                raise RefusedPath(key, LOOP)
            target = self._target(current)
            if target.startswith("/") or not target:
                raise RefusedPath(key, LEAVES)
            pending.extend(reversed(target.split("/")))
        found = "/".join(resolved)
        if hops and found not in self._files and found not in self._children:
            raise RefusedPath(key, DANGLING)
        return found

    def _lookup(self, path: str) -> str:
        """The resolved path, or FileNotFoundError; RefusedPath as :meth:`resolve`."""
        found = self.resolve(path)
        if found not in self._files and found not in self._children:
            raise FileNotFoundError(errno.ENOENT, f"no such file in {self.label}", path)
        return found

    def read_bytes(self, path: str) -> bytes:
        found = self._lookup(path)
        sha = self._files.get(found)
        if sha is None:
            raise FileNotFoundError(errno.ENOENT, f"{path}: a directory, not a file", path)
        data = self.repository.read_blob(sha, found)
        if len(data) > MAX_FILE_BYTES:
            raise RefusedPath(normalize(path), TOO_LARGE)
        return data

    def is_file(self, path: str) -> bool:
        """A file, or an entry gate refuses to read (reading it says why)."""
        try:
            return self._lookup(path) in self._files
        except RefusedPath:
            return True
        except (FileNotFoundError, TreePathError):
            return False

    def is_dir(self, path: str) -> bool:
        try:
            return self.resolve(path) in self._children
        except (RefusedPath, TreePathError):
            return False

    def is_link(self, path: str) -> bool:
        return normalize(path) in self._links

    def list_dir(self, path: str) -> list[str]:
        try:
            key = self.resolve(path)
        except RefusedPath:
            return []
        listing = self._sorted.get(key)
        if listing is None:
            listing = self._sorted[key] = sorted(self._children.get(key, ()))
        return list(listing)

    def paths(self) -> Iterator[str]:
        """Every regular file path, sorted (links and submodules are not among them)."""
        return iter(sorted(self._files))

    def special_entries(self) -> list[tuple[str, str]]:
        """(path, why gate does not read it) of each submodule and other special entry,
        sorted: for the planner to report them rather than leave them silently unjudged."""
        return sorted(self._special.items())

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        """The contents of many files at once (missing and refused ones left out)."""
        shas: dict[str, str] = {}
        for path in paths:
            try:
                found = self.resolve(path)
            except (RefusedPath, TreePathError):
                continue
            if found in self._files:
                shas[path] = self._files[found]
        blobs = self.repository.read_blobs(shas.values())
        return {path: blobs[sha] for path, sha in shas.items()
                if len(blobs[sha]) <= MAX_FILE_BYTES}


class IndexTree(GitTree):
    """The staged files (stage 0 of the index), read from git objects."""

    def __init__(self, repository: Repository, entries: dict[str, tuple[str, str]],
                 label: str) -> None:
        super().__init__(repository, ((p, mode, sha) for p, (mode, sha) in entries.items()),
                         label)


# -- helpers ---------------------------------------------------------------------------


def _is_regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


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


def _check_sha(*shas: str) -> None:
    for sha in shas:
        if not isinstance(sha, str) or not _SHA.fullmatch(sha):
            raise GitError(f"not a full commit SHA: {sha!r} (resolve the ref first)")


def _ambiguity_hint(ref: str, stderr: str) -> str:
    if "short object ID" in stderr:
        return "the abbreviated SHA matches several objects; give more of its digits"
    return (f"it names more than one ref (e.g. a branch and a tag); spell it out, "
            f"as refs/heads/{ref} or refs/tags/{ref}")


def _text(value: str | bytes) -> str:
    return value.decode("ascii", "replace") if isinstance(value, bytes) else value


def _split_paths(output: bytes) -> list[str]:
    return [part.decode("utf-8", "surrogateescape") for part in output.split(b"\0") if part]


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
