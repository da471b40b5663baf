"""Provenance of rendered fields, and what the two patchers share.

A :class:`Provenance` maps a field path of a rendered object to the (file, line)
of what last set it; the strategic merge and JSON 6902 patchers
(:mod:`.strategic_merge`, :mod:`.json6902`) and every transformer tell it which
paths they set. :class:`PatchError` is the patchers' error, located inside the
patch; :func:`clone` copies parsed data before it is changed.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

FieldPath = tuple[str | int, ...]
Where = tuple[str, int]  # (tree path, 1-based line)
#: Maps a path inside a patch document to where it is written.
Locate = Callable[[FieldPath], Where]


class PatchError(Exception):
    """A patch that cannot be applied; ``path`` locates the culprit inside the patch."""

    def __init__(self, message: str, path: FieldPath = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


# -- provenance ----------------------------------------------------------------

class Provenance(dict[FieldPath, Where]):
    """Field path of a rendered object -> (file, line) of what last set it."""

    def set(self, path: FieldPath, where: Where) -> None:
        """``path`` (and all below it) now comes from ``where``."""
        self.drop(path, keep_root=True)
        self[path] = where

    def drop(self, path: FieldPath, keep_root: bool = False) -> None:
        """Forget ``path`` and everything below it."""
        size = len(path)
        for key in [k for k in self if len(k) >= size and k[:size] == path]:
            if keep_root and len(key) == size:
                continue
            del self[key]

    def remap(self, list_path: FieldPath, moves: dict[int, int | None]) -> None:
        """Elements of the list at ``list_path`` moved (old index -> new, None: gone)."""
        size = len(list_path)
        moved: dict[FieldPath, Where] = {}
        for key in [k for k in self if len(k) > size and k[:size] == list_path]:
            index = key[size]
            if not isinstance(index, int) or index not in moves:
                continue
            where = self.pop(key)
            target = moves[index]
            if target is not None:
                new_key: FieldPath = (*list_path, target, *key[size + 1:])
                moved[new_key] = where
        self.update(moved)

    def shift(self, list_path: FieldPath, start: int, delta: int) -> None:
        """Elements from ``start`` on moved by ``delta`` (an insert or a removal)."""
        size = len(list_path)
        indices = {
            k[size] for k in self
            if len(k) > size and k[:size] == list_path and isinstance(k[size], int)
        }
        moves: dict[int, int | None] = {
            i: i + delta for i in indices if isinstance(i, int) and i >= start
        }
        self.remap(list_path, moves)


def clone(value: Any) -> Any:
    """A deep copy of JSON-like data (much faster than copy.deepcopy)."""
    if isinstance(value, dict):
        return {key: clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clone(item) for item in value]
    return value


