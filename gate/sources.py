"""Sources: the files (or standard input) a run reads manifests from."""
from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

from yaml.nodes import Node

from gate.errors import ConfigError
from gate.yamlio import NodeIndex, YamlInputError, decode

YAML_SUFFIXES = (".yaml", ".yml")
STDIN = "-"
STDIN_NAME = "<stdin>"


@dataclass
class SourceFile:
    """One file's text, named as the user will read it in reports."""

    name: str
    text: str
    _index: NodeIndex | None = field(default=None, repr=False)

    def line(self, doc_index: int, path: tuple[str | int, ...]) -> int | None:
        if self._index is None:
            self._index = NodeIndex(self.text, self.name)
        return self._index.line(doc_index, path)

    def keep_nodes(self, nodes: list[Node]) -> None:
        """Use the node trees from loading for line lookups (no second parse)."""
        self._index = NodeIndex(self.text, self.name, nodes)

    def release_nodes(self) -> None:
        """Free the node trees once the file's findings have their lines."""
        if self._index is not None:
            self._index.release()


def display_name(path: str) -> str:
    """A path relative to the working directory when it lies beneath it."""
    relative = os.path.relpath(path)
    if relative.startswith(os.pardir + os.sep) or (os.path.isabs(path) and relative == path):
        return path.replace(os.sep, "/")
    return relative.replace(os.sep, "/")


def _walk_yaml(directory: str) -> list[str]:
    found: list[str] = []
    for root, dirs, files in os.walk(directory):
        # Hidden directories and files (.git/, .github/, .gitlab-ci.yml, .gate.yaml,
        # .pre-commit-config.yaml) configure tools; they hold no manifests to deploy.
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(
            os.path.join(root, f)
            for f in sorted(files)
            if f.endswith(YAML_SUFFIXES) and not f.startswith(".")
        )
    return found


def expand_paths(paths: Iterable[str]) -> list[str]:
    """Files named on the command line, with directories expanded, in a stable order."""
    files: list[str] = []
    seen: set[str] = set()
    for path in paths:
        if path == STDIN:
            candidates = [STDIN]
        elif os.path.isdir(path):
            candidates = _walk_yaml(path)
        elif os.path.exists(path):
            candidates = [path]
        else:
            raise ConfigError(f"no such file or directory: {path}")
        for candidate in candidates:
            key = candidate if candidate == STDIN else os.path.realpath(candidate)
            if key not in seen:
                seen.add(key)
                files.append(candidate)
    return files


def read_source(path: str) -> SourceFile:
    """Read and decode one file; raises YamlInputError naming the file."""
    if path == STDIN:
        raw = sys.stdin.buffer.read()
        name = STDIN_NAME
    else:
        name = display_name(path)
        try:
            with open(path, "rb") as handle:
                raw = handle.read()
        except OSError as exc:
            raise YamlInputError(f"cannot read: {exc.strerror}", name) from None
    return SourceFile(name, decode(raw, name))
