"""Sources: the files (or standard input) a run reads manifests from."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from yaml.nodes import Node

from gate.loading.yamlio import NodeIndex, YamlInputError, decode

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
