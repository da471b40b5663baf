"""JSON 6902 patches for the Kustomize renderer, as kustomize applies them.

kustomize (v5.5) applies them with evanphx/json-patch: operations in order,
negative list indices counted from the end, ``-`` appending; a ``test`` that
fails is an error. Each operation tells a :class:`Provenance` the field paths it
set, so a finding on a patched field points at the operation's line.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gate.limits import MAX_JSON_PATCH_GROWTH, MAX_JSON_PATCH_OPS
from gate.loading.renderers.kustomize.provenance import (
    FieldPath,
    PatchError,
    Provenance,
    Where,
    clone,
)

_OPS = ("add", "remove", "replace", "move", "copy", "test")


def json_patch_ops(data: Any) -> list[dict[str, Any]]:
    """Validate a parsed JSON 6902 patch: a list of operations."""
    if not isinstance(data, list):
        raise PatchError("a JSON 6902 patch must be a list of operations")
    if len(data) > MAX_JSON_PATCH_OPS:
        raise PatchError(f"a JSON 6902 patch of more than {MAX_JSON_PATCH_OPS:,} operations "
                         "(gate's limit)", (MAX_JSON_PATCH_OPS,))
    for index, op in enumerate(data):
        if not isinstance(op, dict):
            raise PatchError("a JSON 6902 operation must be a mapping", (index,))
        name = op.get("op")
        if name not in _OPS:
            raise PatchError(f"unknown JSON 6902 operation {name!r} (expected one of "
                             f"{', '.join(_OPS)})", (index, "op"))
        if not isinstance(op.get("path"), str):
            raise PatchError(f"JSON 6902 {name}: 'path' must be a string", (index,))
        if name in ("move", "copy") and not isinstance(op.get("from"), str):
            raise PatchError(f"JSON 6902 {name}: 'from' must be a string", (index,))
        if name in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"JSON 6902 {name}: 'value' is missing", (index,))
    return data


def _pointer(text: str, index: int, key: str) -> list[str]:
    if text == "":
        return []
    if not text.startswith("/"):
        raise PatchError(f"JSON pointer {text!r} must start with '/'", (index, key))
    return [part.replace("~1", "/").replace("~0", "~") for part in text[1:].split("/")]


_INDEX = re.compile(r"[+-]?[0-9]+\Z")


def _list_index(container: list[Any], token: str, for_add: bool) -> int:
    """A list index as evanphx/json-patch (kustomize's) reads it: negative ones count
    from the end, ``-`` appends."""
    if for_add and token == "-":
        return len(container)
    if not _INDEX.match(token):
        raise KeyError(token)
    position = int(token)
    size = len(container) + 1 if for_add else len(container)
    if not -size <= position < size:
        raise KeyError(token)
    return position + size if position < 0 else position


def _resolve(doc: Any, tokens: list[str]) -> tuple[Any, FieldPath]:
    """The node at ``tokens`` and its field path; KeyError when missing."""
    node = doc
    path: FieldPath = ()
    for token in tokens:
        if isinstance(node, dict):
            if token not in node:
                raise KeyError(token)
            node, path = node[token], (*path, token)
        elif isinstance(node, list):
            position = _list_index(node, token, for_add=False)
            node, path = node[position], (*path, position)
        else:
            raise KeyError(token)
    return node, path


def _json_equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_json_equal, left, right))
    if isinstance(left, (dict, list)) or isinstance(right, (dict, list)):
        return False
    return bool(left == right)


@dataclass
class _JsonPatch:
    doc: Any
    provenance: Provenance | None
    where: Where
    index: int

    def fail(self, op: str, path: str) -> PatchError:
        return PatchError(f"JSON 6902 {op} operation does not apply: doc is missing path "
                          f"{path!r}", (self.index,))

    def get(self, op: str, pointer: str, key: str = "path") -> Any:
        """The value at ``pointer``; like kustomize's json-patch, null for a missing key
        of an existing map."""
        tokens = _pointer(pointer, self.index, key)
        try:
            parent, _ = _resolve(self.doc, tokens[:-1])
            if tokens and isinstance(parent, dict):
                return parent.get(tokens[-1])
            return _resolve(self.doc, tokens)[0]
        except KeyError:
            raise self.fail(op, pointer) from None

    def add(self, op: str, pointer: str, value: Any) -> None:
        tokens = _pointer(pointer, self.index, "path")
        if not tokens:
            self.doc = value
            self._record((), shift=None)
            return
        try:
            parent, parent_path = _resolve(self.doc, tokens[:-1])
            if isinstance(parent, dict):
                parent[tokens[-1]] = value
                self._record((*parent_path, tokens[-1]), shift=None)
            elif isinstance(parent, list):
                position = _list_index(parent, tokens[-1], for_add=True)
                parent.insert(position, value)
                self._record((*parent_path, position), shift=(parent_path, position))
            else:
                raise KeyError(tokens[-1])
        except KeyError:
            raise self.fail(op, pointer) from None

    def replace(self, op: str, pointer: str, value: Any) -> None:
        """Replace a value; like kustomize's json-patch, a missing map key is added."""
        tokens = _pointer(pointer, self.index, "path")
        if not tokens:
            self.doc = value
            self._record((), shift=None)
            return
        try:
            parent, parent_path = _resolve(self.doc, tokens[:-1])
            if isinstance(parent, dict):
                parent[tokens[-1]] = value
                self._record((*parent_path, tokens[-1]), shift=None)
            elif isinstance(parent, list):
                position = _list_index(parent, tokens[-1], for_add=False)
                parent[position] = value
                self._record((*parent_path, position), shift=None)
            else:
                raise KeyError(tokens[-1])
        except KeyError:
            raise self.fail(op, pointer) from None

    def remove(self, op: str, pointer: str, key: str = "path") -> Any:
        tokens = _pointer(pointer, self.index, key)
        if not tokens:
            raise PatchError(f"JSON 6902 {op}: cannot remove the whole document", (self.index,))
        try:
            parent, parent_path = _resolve(self.doc, tokens[:-1])
            if isinstance(parent, dict):
                if tokens[-1] not in parent:
                    raise KeyError(tokens[-1])
                self._forget((*parent_path, tokens[-1]))
                return parent.pop(tokens[-1])
            if isinstance(parent, list):
                position = _list_index(parent, tokens[-1], for_add=False)
                self._forget((*parent_path, position))
                if self.provenance is not None:
                    self.provenance.shift(parent_path, position + 1, -1)
                return parent.pop(position)
            raise KeyError(tokens[-1])
        except KeyError:
            raise self.fail(op, pointer) from None

    def _record(self, path: FieldPath, shift: tuple[FieldPath, int] | None) -> None:
        if self.provenance is None:
            return
        if shift is not None:
            self.provenance.shift(shift[0], shift[1], 1)
        self.provenance.set(path, self.where)

    def _forget(self, path: FieldPath) -> None:
        if self.provenance is not None:
            self.provenance.drop(path)


def _counted(value: Any, budget: list[int], index: int) -> Any:
    """``value``, after taking its nodes from ``budget``; PatchError once it runs out
    (the walk stops there, so counting costs no more than the bound)."""
    stack = [value]
    while stack:
        budget[0] -= 1
        if budget[0] < 0:
            raise PatchError(f"the JSON 6902 patch adds more than {MAX_JSON_PATCH_GROWTH:,} "
                             "nodes to one resource (gate's limit)", (index,))
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


def apply_json6902(doc: dict[str, Any], ops: list[dict[str, Any]],
                   provenance: Provenance | None = None,
                   where: Callable[[int], Where] | None = None) -> Any:
    """Apply JSON 6902 operations to ``doc`` (in place where possible); the result."""
    state = _JsonPatch(doc, provenance, ("", 1), 0)
    growth = [MAX_JSON_PATCH_GROWTH]  # nodes the patch may still add
    for index, op in enumerate(ops):
        state.index = index
        state.where = where(index) if where is not None else ("", 1)
        name, pointer = op["op"], op["path"]
        if name == "add":
            state.add(name, pointer, clone(_counted(op["value"], growth, index)))
        elif name == "remove":
            state.remove(name, pointer)
        elif name == "replace":
            state.replace(name, pointer, clone(_counted(op["value"], growth, index)))
        elif name == "move":
            value = state.remove(name, op["from"], "from")
            state.add(name, pointer, value)
        elif name == "copy":
            # Copying a parent into its child doubles the document each time: counted.
            value = _counted(state.get(name, op["from"], "from"), growth, index)
            state.add(name, pointer, clone(value))
        elif not _json_equal(state.get(name, pointer), op["value"]):
            raise PatchError(f"JSON 6902 test failed: {pointer!r} does not hold the tested "
                             "value", (index,))
    return state.doc
