"""What a kustomization reads: every file and directory its fields name.

Planning (which overlays a change reaches, which files are consumed rather than
judged on their own) and materialising a git revision for the Kustomize binary
both rest on this list, so it models every field of a kustomization that can
name a file, whether or not the built-in renderer implements the field:
``resources``, ``bases``, ``components``, ``patches``, ``patchesStrategicMerge``,
``patchesJson6902``, the generators' ``files``/``envs``/``env``, ``transformers``,
``generators``, ``validators``, ``replacements``, ``configurations``,
``openapi``, ``crds``, and ``helmCharts``/``helmGlobals`` (values files and the
local chart home, read whole).

Reading is lenient: nothing here raises. A kustomization that cannot be parsed
is marked ``broken``; rendering it reports the error at its line.
"""
from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any, NamedTuple

from gate.errors import GateError
from gate.loading.renderers import RenderError
from gate.loading.renderers.kustomize.loading import KUSTOMIZATION_FILES, kustomization_file
from gate.loading.renderers.kustomize.patches import is_inline_patch
from gate.loading.renderers.kustomize.schema import field_name, is_remote
from gate.loading.trees import (
    LFS_POINTER,
    FileTree,
    RefusedPath,
    TreePathError,
    is_lfs_pointer,
    normalize,
    walk_files,
)
from gate.loading.yamlio import Node, YamlInputError, decode, line_of_path, load_documents

#: Fields whose entries are each a file of plugin configs, a directory holding a
#: kustomization that yields them, or the configs themselves as an inline string.
PLUGIN_FIELDS = ("transformers", "generators", "validators")
#: Fields that are lists of file names.
FILE_LIST_FIELDS = ("configurations", "crds")


class References(NamedTuple):
    """What one kustomization names directly."""

    files: list[str]  # files the kustomization reads itself (its own file first)
    directories: list[str]  # directories it includes (resources, bases, components, plugins)
    manifests: list[str]  # of ``files``, those listed as resources: where objects start
    broken: bool = False  # the kustomization could not be parsed


def _strings(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def parse(tree: FileTree, path: str) -> dict[str, Any] | None:
    """The kustomization at ``path`` as a mapping, or None when it cannot be read as one."""
    try:
        documents = [d for d in load_documents(decode(tree.read_bytes(path), path), path)
                     if d.data is not None]
    except (OSError, GateError):
        return None
    data = documents[0].data if len(documents) == 1 else None
    return data if isinstance(data, dict) else None


def references(tree: FileTree, directory: str) -> References | None:
    """What the kustomization of ``directory`` names directly (None: there is none)."""
    path = kustomization_file(tree, directory)
    if path is None:
        return None
    data = parse(tree, path)
    if data is None:
        return References([path], [], [], broken=True)
    return _Reader(tree, directory, path).read(data)


class _Reader:
    """Collects one kustomization's references, field by field."""

    def __init__(self, tree: FileTree, directory: str, path: str) -> None:
        self.tree = tree
        self.directory = directory
        self.files: list[str] = [path]
        self.directories: list[str] = []
        self.manifests: list[str] = []

    def local(self, entry: Any) -> str | None:
        """A local path an entry names, or None (not a string, remote, or outside)."""
        if not isinstance(entry, str) or not entry or is_remote(entry):
            return None
        try:
            return normalize(entry, self.directory)
        except TreePathError:
            return None

    def file(self, entry: Any) -> None:
        target = self.local(entry)
        if target:
            self.files.append(target)

    def file_or_directory(self, entry: Any, manifest: bool = False) -> None:
        target = self.local(entry)
        if target is None:
            return
        if self.tree.is_dir(target):
            self.directories.append(target)
        else:
            self.files.append(target)
            if manifest:
                self.manifests.append(target)

    def whole_directory(self, entry: Any) -> None:
        """Every file under a directory (a chart home), when it exists."""
        target = self.local(entry)
        if target is not None and self.tree.is_dir(target):
            self.files.extend(walk_files(self.tree, target, hidden=True))

    def read(self, data: dict[str, Any]) -> References:
        for name in ("resources", "bases", "components"):
            for entry in _strings(data.get(name)):
                self.file_or_directory(entry, manifest=True)
        for entry in _strings(data.get("patchesStrategicMerge")):
            if isinstance(entry, str) and not is_inline_patch(entry):
                self.file(entry)
        for name in ("patches", "patchesJson6902", "replacements"):
            for entry in _strings(data.get(name)):
                if isinstance(entry, dict):
                    self.file(entry.get("path"))
        for name in ("configMapGenerator", "secretGenerator"):
            for entry in _strings(data.get(name)):
                if not isinstance(entry, dict):
                    continue
                for source in _strings(entry.get("files")):
                    if isinstance(source, str):
                        self.file(source.rpartition("=")[2])
                for source in [*_strings(entry.get("envs")), entry.get("env")]:
                    self.file(source)
        for name in PLUGIN_FIELDS:
            for entry in _strings(data.get(name)):
                if isinstance(entry, str) and "\n" not in entry:
                    self.file_or_directory(entry)
        for name in FILE_LIST_FIELDS:
            for entry in _strings(data.get(name)):
                self.file(entry)
        openapi = data.get("openapi")
        if isinstance(openapi, dict):
            self.file(openapi.get("path"))
        self._helm(data)
        return References([f for f in self.files if f], self.directories, self.manifests)

    def _helm(self, data: dict[str, Any]) -> None:
        charts = [e for e in _strings(data.get("helmCharts")) if isinstance(e, dict)]
        inflators = [e for e in _strings(data.get("helmChartInflationGenerator"))
                     if isinstance(e, dict)]
        glob = data.get("helmGlobals")
        glob = glob if isinstance(glob, dict) else {}
        if not (charts or inflators or glob):
            return
        home = glob.get("chartHome") if isinstance(glob.get("chartHome"), str) else "charts"
        self.whole_directory(home)
        config_home = glob.get("configHome")
        if isinstance(config_home, str):
            self.whole_directory(config_home)
        for chart in charts:
            self.file(chart.get("valuesFile"))
            for extra in _strings(chart.get("additionalValuesFiles")):
                self.file(extra)
        for inflator in inflators:
            self.whole_directory(inflator.get("chartHome"))
            self.file(inflator.get("valuesLocal") if isinstance(
                inflator.get("valuesLocal"), str) else None)


def closure(tree: FileTree, directory: str,
            named: Callable[[str], References | None] | None = None) -> list[References]:
    """What the kustomization in ``directory`` and every one it includes name directly.

    ``named`` looks references up (a cache); by default they are read afresh.
    """
    lookup = named if named is not None else (lambda d: references(tree, d))
    found: list[References] = []
    seen: set[str] = set()
    pending = [directory]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        refs = lookup(current)
        if refs is not None:
            found.append(refs)
            pending.extend(refs.directories)
    return found


def inputs(tree: FileTree, directory: str,
           named: Callable[[str], References | None] | None = None) -> set[str]:
    """Every tree file the kustomization in ``directory`` reads, transitively.

    Cheap: kustomizations are read, nothing is rendered, and nothing raises
    (a broken kustomization lists what it can; rendering reports the error).
    """
    return {path for refs in closure(tree, directory, named) for path in refs.files}


def find_roots(tree: FileTree, directory: str = "") -> list[str]:
    """Kustomization directories under ``directory`` that none of the others includes.

    These are the overlays to render. Components (``kind: Component``) are never
    roots: they mean nothing on their own. Hidden directories are skipped.
    """
    kustomizations: list[str] = []
    stack = [directory]
    while stack:
        current = stack.pop()
        if kustomization_file(tree, current) is not None:
            kustomizations.append(current)
        for name in reversed(tree.list_dir(current)):
            path = f"{current}/{name}" if current else name
            if not name.startswith(".") and tree.is_dir(path):
                stack.append(path)
    return roots_among(tree, kustomizations)


def roots_among(tree: FileTree, kustomizations: list[str],
                named: Callable[[str], References | None] | None = None) -> list[str]:
    """Those of the kustomization directories that none of the others includes."""
    lookup = named if named is not None else (lambda d: references(tree, d))
    included: set[str] = set()
    for path in kustomizations:
        refs = lookup(path)
        if refs is not None:
            # Only the *others*: one that names itself (a cycle, which rendering
            # reports) is still a root, or nothing would ever judge it.
            included.update(d for d in refs.directories if d != path)
    return sorted(p for p in kustomizations if p not in included and not is_component(tree, p))


def is_component(tree: FileTree, directory: str) -> bool:
    """Whether the kustomization of ``directory`` is a ``kind: Component``."""
    path = kustomization_file(tree, directory)
    if path is None:
        return False
    data = parse(tree, path)
    return data is not None and data.get("kind") == "Component"


def is_kustomization(path: str) -> bool:
    """Whether a tree path names a kustomization file."""
    return posixpath.basename(path) in KUSTOMIZATION_FILES


# -- what may reach a Kustomize binary -----------------------------------------------

#: Fields whose string entries name a file (or, for plugins, a directory) to read.
_PATH_FIELDS = ("patchesStrategicMerge", "configurations", "crds", *PLUGIN_FIELDS)
#: Fields whose mapping entries name a file under ``path``.
_PATH_KEY_FIELDS = ("patches", "patchesJson6902", "replacements")


class _Checker:
    """Refuses, at its line, what a binary would fetch or read outside the tree."""

    def __init__(self, tree: FileTree, directory: str, path: str, node: Node) -> None:
        self.tree = tree
        self.directory = directory
        self.path = path
        self.node = node

    def refuse(self, message: str, *where: str | int) -> RenderError:
        field = field_name(where)
        return RenderError(f"{field}: {message}", self.path, line_of_path(self.node, where))

    def entry(self, entry: Any, *where: str | int, must_exist: bool = False) -> None:
        """A path a field names: never remote, never outside the tree."""
        if not isinstance(entry, str) or not entry:
            return
        if is_remote(entry):
            raise self.refuse(f"remote resource {entry!r} is not rendered: gate reads no network",
                              *where)
        try:
            target = normalize(entry, self.directory)
        except TreePathError:
            raise self.refuse(f"{entry!r} leaves the repository: gate reads nothing outside it",
                              *where) from None
        if must_exist and not (self.tree.is_dir(target) or self.tree.is_file(target)):
            # The binary would take a name it cannot find for a remote one, and fetch it.
            raise self.refuse(f"{entry!r}: no such file or directory in the repository", *where)

    def check(self, data: dict[str, Any]) -> None:
        for name in ("resources", "bases", "components"):
            for index, entry in enumerate(_strings(data.get(name))):
                self.entry(entry, name, index, must_exist=True)
        for name in _PATH_FIELDS:
            for index, entry in enumerate(_strings(data.get(name))):
                inline = isinstance(entry, str) and ("\n" in entry
                                                     or is_inline_patch(entry))
                if not inline:
                    self.entry(entry, name, index)
        for name in _PATH_KEY_FIELDS:
            for index, entry in enumerate(_strings(data.get(name))):
                if isinstance(entry, dict):
                    self.entry(entry.get("path"), name, index, "path")
        for name in ("configMapGenerator", "secretGenerator"):
            for index, entry in enumerate(_strings(data.get(name))):
                if not isinstance(entry, dict):
                    continue
                for position, source in enumerate(_strings(entry.get("files"))):
                    if isinstance(source, str):
                        self.entry(source.rpartition("=")[2], name, index, "files", position)
                for position, source in enumerate(_strings(entry.get("envs"))):
                    self.entry(source, name, index, "envs", position)
                self.entry(entry.get("env"), name, index, "env")
        openapi = data.get("openapi")
        if isinstance(openapi, dict):
            self.entry(openapi.get("path"), "openapi", "path")
        self.helm(data)

    def helm(self, data: dict[str, Any]) -> None:
        for index, chart in enumerate(_strings(data.get("helmCharts"))):
            if not isinstance(chart, dict):
                continue
            repo = chart.get("repo")
            if isinstance(repo, str) and repo.strip():
                raise self.refuse(f"remote chart {repo!r} is not rendered: gate reads no network",
                                  "helmCharts", index, "repo")
            self.entry(chart.get("name"), "helmCharts", index, "name")
            self.entry(chart.get("valuesFile"), "helmCharts", index, "valuesFile")
            for position, extra in enumerate(_strings(chart.get("additionalValuesFiles"))):
                self.entry(extra, "helmCharts", index, "additionalValuesFiles", position)
        for index, inflator in enumerate(_strings(data.get("helmChartInflationGenerator"))):
            if not isinstance(inflator, dict):
                continue
            url = inflator.get("chartRepoUrl")
            if isinstance(url, str) and url.strip():
                raise self.refuse(f"remote chart {url!r} is not rendered: gate reads no network",
                                  "helmChartInflationGenerator", index, "chartRepoUrl")
            for key in ("chartHome", "valuesLocal"):
                self.entry(inflator.get(key), "helmChartInflationGenerator", index, key)
        glob = data.get("helmGlobals")
        if isinstance(glob, dict):
            for key in ("chartHome", "configHome"):
                self.entry(glob.get(key), "helmGlobals", key)


def check_local(tree: FileTree, directory: str) -> None:
    """Refuse what a Kustomize binary must not be given, before it runs.

    Every kustomization of the closure: a remote reference in any field (a URL,
    ``git::``, ``github.com/org/repo//path?ref=``, ``git@``, ``file://``, a remote
    chart) and a path outside the tree are a RenderError at the file and line
    naming it, as the built-in renderer's are. Every file the closure reads is
    read through the tree, so a link out of the repository, a special file, a
    file over the size bound and a Git LFS pointer (kustomizations and
    resources) are refused by name before the binary could read them.
    """
    for refs in closure(tree, directory):
        path = refs.files[0]
        # What gate cannot parse is never handed over: the binary's parser might read
        # a reference (a duplicate key, say) that gate's did not check.
        try:
            documents = [d for d in load_documents(decode(tree.read_bytes(path), path), path)
                         if d.data is not None]
        except YamlInputError as exc:
            raise RenderError(exc.message, exc.file or path, exc.line) from None
        except RefusedPath as exc:
            raise RenderError(f"cannot read: {exc.reason}", path) from None
        except OSError as exc:
            raise RenderError(f"cannot read: {exc.strerror}", path) from None
        if len(documents) != 1 or not isinstance(documents[0].data, dict):
            raise RenderError("a kustomization must be a single YAML mapping", path)
        _Checker(tree, path.rpartition("/")[0], path, documents[0].node).check(documents[0].data)
        for file in refs.files:
            try:
                raw = tree.read_bytes(file)
            except RefusedPath as exc:
                raise RenderError(f"{file}: cannot read: {exc.reason}", path) from None
            except OSError:
                continue  # missing: the binary says so
            if (file == path or file in refs.manifests) and is_lfs_pointer(raw):
                raise RenderError(f"{file}: {LFS_POINTER}", path)
