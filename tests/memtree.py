"""A file tree in memory, for tests of what reads trees (gate.loading.trees.FileTree): no
filesystem, no git, and every read recorded."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path


class MemoryTree:
    """Tree paths to contents (text is stored UTF-8 encoded), directories implied by the
    paths, as a git revision holds them; ``reads`` lists the paths read, in order."""

    def __init__(self, files: Mapping[str, str | bytes], label: str = "memory") -> None:
        self.label = label
        self.files = {path: content.encode() if isinstance(content, str) else content
                      for path, content in files.items()}
        self.directories = {""}
        for path in self.files:
            parts = path.split("/")
            self.directories.update("/".join(parts[:n]) for n in range(1, len(parts)))
        self.reads: list[str] = []

    @classmethod
    def copy_of(cls, directory: Path) -> MemoryTree:
        """The files under ``directory``, by their paths relative to it."""
        return cls({path.relative_to(directory).as_posix(): path.read_bytes()
                    for path in directory.rglob("*") if path.is_file()})

    def read_bytes(self, path: str) -> bytes:
        self.reads.append(path)
        try:
            return self.files[path]
        except KeyError:
            raise FileNotFoundError(path) from None

    def is_file(self, path: str) -> bool:
        return path in self.files

    def is_dir(self, path: str) -> bool:
        return path in self.directories

    def list_dir(self, path: str) -> list[str]:
        if path not in self.directories:
            return []
        prefix = f"{path}/" if path else ""
        return sorted({p[len(prefix):].split("/", 1)[0]
                       for p in (*self.files, *self.directories)
                       if p.startswith(prefix) and p != path})


class ListingTree(MemoryTree):
    """A tree that lists every path at once and reads in bulk, as a git revision does."""

    def paths(self) -> Iterator[str]:
        return iter(sorted(self.files))

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        return {path: self.files[path] for path in paths if path in self.files}
