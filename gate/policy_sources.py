"""Git policy sources: a repository at a pinned commit, named in ``.gate.yaml``.

A ``policy_dirs`` entry or ``extends`` may name ``{git: URL, rev: COMMIT, path: P}``
instead of a path: the rules one team keeps for many repositories. They are read
from a cache on this machine, never from the network while judging:

- ``rev`` is a full commit id (40 hexadecimal digits). A tag or branch is refused,
  not resolved: it moves, and the rules a verdict was reached by must be the same
  bytes when the run is repeated.
- :class:`SourceCache` keeps one git repository per URL under the cache directory
  (``--cache-dir``, else ``$GATE_CACHE_DIR``, else ``$XDG_CACHE_HOME/gate``, else
  ``~/.cache/gate``). A commit is fetched into it only when asked (``gate fetch``,
  or ``--fetch``); git checks every object it receives (``transfer.fsckObjects``) and
  gate then checks that the pinned commit is there and is a commit. A commit not in
  the cache is an error, never a fall-back to other rules.
- The files are read from git objects at the pinned commit (a
  :class:`~gate.git.trees.GitTree`, bounded as every tree gate reads), never from a
  checkout, and named ``URL@COMMIT:PATH`` in messages and in the audit record.
- :class:`MountedRules` makes each source's tree readable through the
  :class:`~gate.rulesource.RuleSource` of the config, at a path of its own, so the
  loaders of policies and waivers read it like any other directory.

git runs only as :mod:`gate.executables` resolves it, without a shell, with the
repository it works on named explicitly (no ``GIT_DIR`` of a hook applies) and with
only the transports in :data:`GIT_PROTOCOLS`.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gate import executables
from gate.errors import ConfigError
from gate.loading.trees import below

if TYPE_CHECKING:
    from gate.git.repository import Repository
    from gate.git.trees import GitTree
    from gate.loading.trees import FileTree
    from gate.rulesource import RuleSource

CACHE_VARIABLE = "GATE_CACHE_DIR"
#: The transports a source may use (git's ``GIT_ALLOW_PROTOCOL``); ``ext::`` and other
#: remote helpers run programs and are refused.
GIT_PROTOCOLS = ("file", "git", "http", "https", "ssh")
FETCH_TIMEOUT = 600  # seconds for one git fetch
_COMMIT = re.compile(r"[0-9a-f]{40}")
_HEXISH = re.compile(r"[0-9a-fA-F]{4,64}")
_SCP_LIKE = re.compile(r"(?:[^@/:\s]+@)?[A-Za-z0-9][A-Za-z0-9.-]*:(?!//).+")
# Variables that tell git which repository to use: a hook sets some of them, and they
# would turn a command on the cache into one on the repository being judged.
_LOCATION_VARIABLES = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_SHALLOW_FILE",
    "GIT_GRAFT_FILE", "GIT_REPLACE_REF_BASE", "GIT_NAMESPACE", "GIT_PREFIX",
    "GIT_IMPLICIT_WORK_TREE", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM",
)


class SourceSpecError(Exception):
    """A malformed ``{git, rev, path}`` entry; ``key`` is the field to blame."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.message = message
        self.key = key


@dataclass(frozen=True)
class GitSource:
    """A path in a git repository at one commit."""

    url: str
    commit: str
    path: str = ""  # a tree path in the repository; "" for its root

    @property
    def label(self) -> str:
        """``URL@COMMIT``: how reports name the repository and commit."""
        return f"{self.url}@{self.commit}"

    def name(self, path: str) -> str:
        """How messages and the audit record name a file of the repository."""
        return f"{self.label}:{path}" if path else self.label


def parse_git_source(spec: dict[str, Any], need_path: bool = False) -> GitSource:
    """``{git: URL, rev: COMMIT, path: P}`` (its shape already checked by the schema)
    as a GitSource; SourceSpecError naming the field otherwise."""
    url, rev, path = spec["git"], spec["rev"], spec.get("path", "")
    problem = url_problem(url)
    if problem is not None:
        raise SourceSpecError(f"git: {problem}", "git")
    if not _COMMIT.fullmatch(rev):
        if _HEXISH.fullmatch(rev) and len(rev) != 40:
            why = "an abbreviated or non-SHA-1 id"
        elif _HEXISH.fullmatch(rev):
            why = "write it in lower case"
        else:
            why = "a tag or branch moves, so gate does not resolve one"
        raise SourceSpecError(f"rev: {rev!r} is not a full commit id ({why}); pin the "
                              "40-hex commit, e.g. from: git ls-remote URL REF", "rev")
    if need_path and not path:
        raise SourceSpecError("path: name the config file in the repository", "path")
    parts = path.split("/") if path else []
    if path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in parts):
        raise SourceSpecError(f"path: {path!r} must be a relative path inside the repository, "
                              "without '.', '..' or empty parts", "path")
    return GitSource(url, rev, path)


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot name a source (None when it can)."""
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return f"{url!r}: a URL holds no spaces or control characters"
    if url.startswith("-"):
        return f"{url!r}: a URL cannot start with '-'"
    if "::" in url:
        return f"{url!r}: git remote helpers ('transport::address') are not allowed"
    if "://" in url:
        scheme = url.split("://", 1)[0].lower()
        if scheme not in GIT_PROTOCOLS:
            return f"{url!r}: the {scheme!r} transport is not allowed (allowed: " \
                   f"{', '.join(GIT_PROTOCOLS)})"
        try:
            parts = urlsplit(url)
        except ValueError as exc:
            return f"{url!r}: {exc}"
        if parts.password is not None:
            return (f"{url!r}: a password in the URL would be printed in every report; "
                    "use a git credential helper or an SSH key")
        if parts.hostname is not None and parts.hostname.startswith("-"):
            return f"{url!r}: a host name cannot start with '-'"
        return None
    if os.path.isabs(url) or _SCP_LIKE.fullmatch(url):
        return None
    return (f"{url!r}: a relative path is not a source (it would be relative to wherever "
            "gate runs): give an absolute path, a file:// URL or a remote URL")


def cache_directory(option: str | None = None) -> str:
    """Where git sources are kept: ``option`` (``--cache-dir``), ``$GATE_CACHE_DIR``,
    ``$XDG_CACHE_HOME/gate`` or ``~/.cache/gate``, as an absolute path."""
    if option:
        return os.path.abspath(option)
    named = os.environ.get(CACHE_VARIABLE, "")
    if named:
        if not os.path.isabs(named):
            raise ConfigError(f"{CACHE_VARIABLE}={named!r}: name the cache directory by its "
                              "absolute path")
        return os.path.normpath(named)
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):  # the XDG rule: a relative value is ignored
        return os.path.join(os.path.normpath(xdg), "gate")
    home = os.path.expanduser("~")
    if not os.path.isabs(home):
        raise ConfigError("no cache directory for git policy sources: set --cache-dir or "
                          f"{CACHE_VARIABLE}")
    return os.path.join(home, ".cache", "gate")


class SourceCache:
    """The git repositories sources are read from; fetches only when ``fetch`` is set."""

    def __init__(self, directory: str | None = None, fetch: bool = False) -> None:
        self._option = directory
        self.fetch = fetch
        self._root: str | None = None
        self._repositories: dict[str, Repository] = {}
        self._trees: dict[tuple[str, str], GitTree] = {}
        #: (label, "fetched" or "cached") of each source read, in first-use order.
        self.used: dict[str, str] = {}

    @property
    def root(self) -> str:
        """The cache directory, checked on first use (a run without git sources never
        looks at it): never inside the repository or tree being judged, where the
        change could plant a repository whose objects and config it chose."""
        if self._root is None:
            root = cache_directory(self._option)
            if any(os.path.realpath(root) == r or os.path.realpath(root).startswith(
                    r.rstrip(os.sep) + os.sep) for r in executables.untrusted_roots()):
                raise ConfigError(f"cache directory {root} lies inside the working directory "
                                  "or the repository being judged; choose one outside it "
                                  f"(--cache-dir or {CACHE_VARIABLE})")
            self._root = root
        return self._root

    def entry(self, url: str) -> str:
        """The repository holding ``url``'s commits."""
        digest = hashlib.sha256(url.encode("utf-8", "surrogateescape")).hexdigest()
        return os.path.join(self.root, "git", digest[:32])

    def mount_point(self, source: GitSource) -> str:
        """The path the source's tree is mounted at in a :class:`MountedRules`."""
        return os.path.join(self.entry(source.url), "@" + source.commit)

    def tree(self, source: GitSource) -> GitTree:
        """The files of ``source.commit``, from the cache (fetched first when allowed).
        ConfigError (without a location: the caller names the config line) otherwise."""
        key = (source.url, source.commit)
        found = self._trees.get(key)
        if found is not None:
            return found
        entry = self.entry(source.url)
        kind = _object_type(entry, source.commit)
        if kind is None:
            if not self.fetch:
                raise ConfigError(
                    f"{source.label} is not in the cache ({self.root}): run 'gate fetch' (or "
                    "pass --fetch) where the network may be used; gate fetches nothing "
                    "unless asked")
            self._fetch(entry, source)
            kind = _object_type(entry, source.commit)
            self.used[source.label] = "fetched"
        else:
            self.used.setdefault(source.label, "cached")
        if kind is None:
            raise ConfigError(f"{source.url} has no commit {source.commit} (on none of its "
                              "branches and tags, or not that repository's commit): pin a "
                              "commit of that repository")
        if kind != "commit":
            raise ConfigError(f"rev {source.commit} of {source.url} names a {kind}, not a "
                              "commit")
        tree = self._repository(entry).tree_at(source.commit, source.label)
        self._trees[key] = tree
        return tree

    def _repository(self, entry: str) -> Repository:
        repository = self._repositories.get(entry)
        if repository is None:
            from gate.git.repository import open_repository
            from gate.git.runner import GitError

            try:
                repository = open_repository(entry)
            except GitError as exc:
                raise ConfigError(f"cache entry {entry} is damaged ({exc.message}); "
                                  "remove it and fetch again") from None
            # Always this repository, whatever a hook's GIT_DIR says.
            repository.repo.git.update_environment(**_location(entry))
            self._repositories[entry] = repository
        return repository

    def _fetch(self, entry: str, source: GitSource) -> None:
        _create(entry)
        fetch = ("-c", "transfer.fsckObjects=true", "fetch", "--quiet", "--no-tags",
                 "--no-recurse-submodules", "--no-write-fetch-head")
        # The pinned commit alone; a server that refuses to serve a commit by id gets
        # asked for its branches and tags, among which the commit must then be.
        first = _git(entry, *fetch, "--depth=1", source.url, source.commit)
        if first.returncode != 0:
            second = _git(entry, *fetch, source.url, "+refs/heads/*:refs/gate/heads/*",
                          "+refs/tags/*:refs/gate/tags/*")
            if second.returncode != 0:
                raise ConfigError(f"cannot fetch {source.url}: {_last_line(first.stderr)}")
        if _object_type(entry, source.commit) == "commit":
            # A ref keeps the commit's objects from ever being pruned.
            _git(entry, "update-ref", f"refs/gate/pinned/{source.commit}", source.commit)


def _location(entry: str) -> dict[str, str]:
    """The variables that pin git to the cache repository ``entry``."""
    git_dir = os.path.join(entry, ".git")
    return {
        "GIT_DIR": git_dir, "GIT_WORK_TREE": entry,
        "GIT_INDEX_FILE": os.path.join(git_dir, "index"),
        "GIT_OBJECT_DIRECTORY": os.path.join(git_dir, "objects"),
        "GIT_ALTERNATE_OBJECT_DIRECTORIES": "",
        "GIT_COMMON_DIR": git_dir, "GIT_SHALLOW_FILE": os.path.join(git_dir, "shallow"),
        "GIT_GRAFT_FILE": os.path.join(git_dir, "info", "grafts"),
        "GIT_NO_REPLACE_OBJECTS": "1", "GIT_NAMESPACE": "",
    }


def _environment(entry: str | None) -> dict[str, str]:
    environment = {name: value for name, value in executables.child_environment().items()
                   if name not in _LOCATION_VARIABLES}
    environment.update(GIT_TERMINAL_PROMPT="0", GIT_ALLOW_PROTOCOL=":".join(GIT_PROTOCOLS))
    if entry is not None:
        environment.update(_location(entry))
    return environment


def _git(entry: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    """``git ARGS`` on the cache repository ``entry``, without a shell or hooks."""
    command = [executables.require("git", "it reads git policy sources"),
               f"--git-dir={os.path.join(entry, '.git')}", "-c", f"core.hooksPath={os.devnull}",
               *args]
    try:
        return subprocess.run(command, cwd=entry, env=_environment(entry), capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=FETCH_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise ConfigError(f"git {args[0]} in {entry} took more than {FETCH_TIMEOUT} "
                          "seconds") from None
    except OSError as exc:
        raise ConfigError(f"cannot run git: {exc.strerror or exc}") from None


def _object_type(entry: str, sha: str) -> str | None:
    """The type of object ``sha`` in the cache repository; None when it is not there."""
    if not os.path.isdir(os.path.join(entry, ".git")):
        return None
    done = _git(entry, "cat-file", "-t", sha)
    kind = done.stdout.decode("ascii", "replace").strip()
    return kind if done.returncode == 0 and kind else None


def _create(entry: str) -> None:
    """An empty repository at ``entry``; made aside and moved in place, so a run that
    fetches at the same time sees it whole or not at all."""
    if os.path.isdir(os.path.join(entry, ".git")):
        return
    if os.path.lexists(entry):
        raise ConfigError(f"cache entry {entry} is damaged (no .git in it); remove it")
    parent = os.path.dirname(entry)
    try:
        os.makedirs(parent, exist_ok=True)
        made = tempfile.mkdtemp(prefix=".new-", dir=parent)
    except OSError as exc:
        raise ConfigError(f"cannot create the cache directory {parent}: "
                          f"{exc.strerror or exc}") from None
    try:
        git = executables.require("git", "it reads git policy sources")
        done = subprocess.run([git, "init", "--quiet", "--template=", made], cwd=made,
                              env=_environment(None), capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=FETCH_TIMEOUT, check=False)
        if done.returncode != 0:
            raise ConfigError(f"cannot create a repository in {made}: "
                              f"{_last_line(done.stderr)}")
        try:
            os.rename(made, entry)
        except OSError:
            if not os.path.isdir(os.path.join(entry, ".git")):  # not another run's
                raise ConfigError(f"cannot create the cache entry {entry}") from None
    finally:
        if os.path.isdir(made):
            shutil.rmtree(made, ignore_errors=True)


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()
             if line.strip()]
    return lines[-1] if lines else "no message from git"


class MountedRules:
    """A :class:`~gate.rulesource.RuleSource` with git sources' trees mounted at paths
    of their own (:meth:`SourceCache.mount_point`); every other path is read from
    ``base`` as before."""

    def __init__(self, base: RuleSource) -> None:
        self.base = base
        self.label = base.label
        self._mounts: dict[str, tuple[GitSource, FileTree]] = {}

    @property
    def mounted(self) -> bool:
        return bool(self._mounts)

    def mount(self, source: GitSource, cache: SourceCache) -> str:
        """Mount the repository and commit of ``source``; its mount point."""
        root = cache.mount_point(source)
        if root not in self._mounts:
            self._mounts[root] = (GitSource(source.url, source.commit), cache.tree(source))
        return root

    def mount_of(self, path: str) -> str | None:
        """The mount point ``path`` lies in, if any."""
        if not os.path.isabs(path):
            return None
        normal = os.path.normpath(path)
        for root in self._mounts:
            if below(normal, root) is not None:
                return root
        return None

    def _place(self, path: str) -> tuple[GitSource, FileTree, str] | None:
        root = self.mount_of(path)
        if root is None:
            return None
        source, tree = self._mounts[root]
        return source, tree, below(os.path.normpath(path), root) or ""

    def read_bytes(self, path: str) -> bytes:
        place = self._place(path)
        return self.base.read_bytes(path) if place is None else place[1].read_bytes(place[2])

    def is_file(self, path: str) -> bool:
        place = self._place(path)
        return self.base.is_file(path) if place is None else place[1].is_file(place[2])

    def is_dir(self, path: str) -> bool:
        place = self._place(path)
        return self.base.is_dir(path) if place is None else place[1].is_dir(place[2])

    def list_dir(self, path: str) -> list[str]:
        place = self._place(path)
        if place is None:
            return self.base.list_dir(path)
        try:
            return place[1].list_dir(place[2])
        except OSError:
            return []

    def is_link(self, path: str) -> bool:
        place = self._place(path)
        if place is None:
            return self.base.is_link(path)
        is_link = getattr(place[1], "is_link", None)
        return bool(is_link(place[2])) if is_link is not None else False

    def name(self, path: str) -> str:
        place = self._place(path)
        return self.base.name(path) if place is None else place[0].name(place[2])

    def config_file(self, path: str) -> str:
        return self.base.config_file(path)

    def find_config(self) -> str | None:
        return self.base.find_config()

    def home(self) -> str:
        return self.base.home()
