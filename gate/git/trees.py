"""Trees read from git objects: a commit's (:class:`GitTree`) or the index's
(:class:`IndexTree`), bounded as every tree gate reads, and the blobs they hold."""
from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterable, Iterator

from gate import executables
from gate.git.runner import GitError, GitRunner, as_text, check_sha, split_paths, use_git
from gate.loading.trees import (
    DANGLING,
    LEAVES,
    LOOP,
    MAX_FILE_BYTES,
    SPECIAL,
    SUBMODULE,
    TOO_LARGE,
    RefusedPath,
    TreePathError,
    normalize,
)

REGULAR_MODES = ("100644", "100755", "100664")
_LINK_MODE = "120000"
_SUBMODULE_MODE = "160000"
_MAX_LINK_HOPS = 40  # as Linux's limit on links followed in one path


class TreeReader(GitRunner):
    """The trees of a repository's commits and index, and the blobs they hold."""

    def tree_at(self, sha: str, name: str | None = None) -> GitTree:
        """The files of commit ``sha``, read from git objects (no checkout). ``name``
        (default: the ref it was resolved from, if any) labels it in reports."""
        check_sha(sha)
        output = self._git("ls-tree", "-r", "-z", "--full-tree", sha)
        entries = []
        for record in split_paths(output.stdout):
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
        for record in split_paths(output.stdout):
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
        kind = as_text(raw_kind)
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
            [use_git(), "--no-optional-locks", "cat-file", "--batch"],
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


class GitTree:
    """The files of one commit, from git objects: listed once, read on demand.

    Resolved as a checkout would be, and bounded as :class:`~gate.loading.trees.WorkTree`
    is: a symbolic link (mode 120000) is followed when its target, read from its
    blob and resolved component by component, stays inside the tree, and
    refused (:class:`~gate.loading.trees.RefusedPath`) when it leaves it, dangles or
    loops; a submodule (mode 160000) is refused, its content being in another
    repository, and listed by :meth:`special_entries`; a blob over
    :data:`~gate.loading.trees.MAX_FILE_BYTES` is refused. Refused entries are listed
    and ``is_file``, so whoever needs one reports it by its path.
    """

    def __init__(self, repository: TreeReader, entries: Iterable[tuple[str, str, str]],
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
            if mode in REGULAR_MODES:
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

    def __init__(self, repository: TreeReader, entries: dict[str, tuple[str, str]],
                 label: str) -> None:
        super().__init__(repository, ((p, mode, sha) for p, (mode, sha) in entries.items()),
                         label)
