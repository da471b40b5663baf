"""Which Kustomize overlays a change reaches, found from the changed files upward.

Rendering every overlay's input list would read every kustomization file of
the repository and parse it several times; a change touches a few files. So
the search runs backwards: a kustomization can only include a file or
directory by naming it, so only kustomization files whose text contains the
target's name (or that sit below it, for ``..`` references) are parsed, and
each one that really includes the target becomes a target in turn. An
affected kustomization that nothing includes is an overlay to render.
"""
from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field

from gate.loading.renderers.kustomize import inputs as kustomize_inputs
from gate.loading.trees import FileTree, walk_files


@dataclass
class Reach:
    """What a set of changed paths reaches in one tree."""

    overlays: set[str] = field(default_factory=set)  # overlays (roots) to render
    consumed: set[str] = field(default_factory=set)  # changed files some kustomization reads
    # Every kustomization the change reaches, overlay or not (a base an Application deploys).
    affected: set[str] = field(default_factory=set, compare=False)


class KustomizationIndex:
    """The kustomization files of a tree, their text, and what each one includes."""

    def __init__(self, tree: FileTree) -> None:
        self.tree = tree
        # Hidden directories too: an overlay may include a base kept in one.
        self.files = [path for path in walk_files(tree, hidden=True)
                      if kustomize_inputs.is_kustomization(path)]
        self._texts: dict[str, str] | None = None
        self._references: dict[str, tuple[set[str], set[str], bool]] = {}

    def texts(self) -> dict[str, str]:
        if self._texts is None:
            read_many = getattr(self.tree, "read_many", None)
            if read_many is not None:
                raw = read_many(self.files)
            else:
                raw = {}
                for path in self.files:
                    try:
                        raw[path] = self.tree.read_bytes(path)
                    except OSError:
                        continue
            self._texts = {path: data.decode("utf-8", "replace") for path, data in raw.items()}
        return self._texts

    def references(self, directory: str) -> tuple[set[str], set[str], bool]:
        """(files, directories, broken) the kustomization of ``directory`` names directly."""
        found = self._references.get(directory)
        if found is None:
            named = kustomize_inputs.references(_TextTree(self.tree, self.texts()), directory)
            found = ((set(named.files), set(named.directories), named.broken) if named
                     else (set(), set(), False))
            self._references[directory] = found
        return found

    def candidates(self, target: str, is_directory: bool) -> list[str]:
        """Directories of kustomizations that may name ``target``.

        Any way of naming a path ends in its last segment, except a reference
        made only of ``..`` to a directory above the kustomization, or one a
        YAML escape spells otherwise (``"b\\x61se"``): text with a backslash is
        always a candidate, and parsing settles it.
        """
        name = posixpath.basename(target)
        found = []
        for path, text in self.texts().items():
            directory = posixpath.dirname(path)
            named = bool(name) and (name in text or "\\" in text)
            above = is_directory and ".." in text and (
                not target or directory.startswith(target + "/")
            )
            if named or above:
                found.append(directory)
        return sorted(set(found))

    def includers(self, target: str, is_directory: bool) -> list[str]:
        """Directories whose kustomization includes ``target`` directly.

        A kustomization in a hidden directory (``.ci/``, ``.github/``) counts only
        where a visible one includes it, transitively: gate check never renders a
        hidden one on its own, so one nothing visible reaches includes nothing. One
        that cannot be parsed may name the target: it counts, so that rendering
        reports its error rather than the target being judged as a plain file.
        """
        found = []
        for directory in self.candidates(target, is_directory):
            files, directories, broken = self.references(directory)
            included = (broken and directory != target) or ((target in directories) if is_directory
                                  else (target in files))
            if included and (not _hidden(directory) or self._anchored(directory, set())):
                found.append(directory)
        return found

    def _anchored(self, hidden: str, seen: set[str]) -> bool:
        """Whether a visible kustomization includes the hidden ``hidden``, transitively."""
        if hidden in seen:
            return False
        seen.add(hidden)
        for directory in self.candidates(hidden, True):
            if hidden not in self.references(directory)[1] or directory == hidden:
                continue
            if not _hidden(directory) or self._anchored(directory, seen):
                return True
        return False


def reach(tree: FileTree, changed: Iterable[str]) -> Reach:
    """The overlays whose inputs include a changed path, and which changed files they read."""
    index = KustomizationIndex(tree)
    result = Reach()
    if not index.files:
        return result
    affected: set[str] = set()
    pending: list[str] = []
    for path in sorted(set(changed)):
        directory = posixpath.dirname(path)
        if kustomize_inputs.is_kustomization(path):
            if path in index.texts():
                pending.append(directory)
            continue
        includers = index.includers(path, is_directory=False)
        if includers:
            result.consumed.add(path)
            pending.extend(includers)
    while pending:
        directory = pending.pop()
        if directory in affected:
            continue
        affected.add(directory)
        result.affected.add(directory)
        includers = index.includers(directory, is_directory=True)
        if includers:
            pending.extend(includers)
        elif not _hidden(directory) and not kustomize_inputs.is_component(tree, directory):
            # An overlay nothing includes; one in a hidden directory is never
            # rendered on its own (gate check does not look there either).
            result.overlays.add(directory)
    return result


class _TextTree:
    """A tree whose kustomization files are served from texts already read in bulk."""

    def __init__(self, tree: FileTree, texts: dict[str, str]) -> None:
        self.tree = tree
        self.texts = texts
        self.label = tree.label

    def read_bytes(self, path: str) -> bytes:
        text = self.texts.get(path)
        return text.encode("utf-8") if text is not None else self.tree.read_bytes(path)

    def is_file(self, path: str) -> bool:
        return path in self.texts or self.tree.is_file(path)

    def is_dir(self, path: str) -> bool:
        return self.tree.is_dir(path)

    def list_dir(self, path: str) -> list[str]:
        return self.tree.list_dir(path)


def _hidden(directory: str) -> bool:
    return any(part.startswith(".") for part in directory.split("/") if part)
