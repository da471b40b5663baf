"""Field paths inside a resource: parsing, display, and finding an object's path.

Paths display as ``spec.template.spec.containers[1].image``; a key that is not
a plain identifier is quoted, as in ``metadata.labels."app.kubernetes.io/name"``.
"""
from __future__ import annotations

import json
import re
from typing import Any

PathParts = tuple[str | int, ...]
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*\Z")
_TOKEN = re.compile(r'\.?(?:(?P<ident>[A-Za-z_$][A-Za-z0-9_$-]*)|"(?P<quoted>(?:[^"\\]|\\.)*)"|'
                    r"\[(?P<index>-?[0-9]+)\])")


class FieldPathError(ValueError):
    pass


def parse(text: str) -> PathParts:
    """Parse ``a.b[0]."c.d"`` into ``("a", "b", 0, "c.d")``."""
    parts: list[str | int] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or (position == 0 and text.startswith(".")):
            raise FieldPathError(f"invalid field path {text!r} at column {position + 1}")
        if match["ident"] is not None:
            parts.append(match["ident"])
        elif match["quoted"] is not None:
            parts.append(json.loads(f'"{match["quoted"]}"'))
        else:
            parts.append(int(match["index"]))
        position = match.end()
    return tuple(parts)


def display(parts: PathParts) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
            continue
        key = part if isinstance(part, str) else str(part)
        segment = key if _IDENTIFIER.match(key) else json.dumps(key)
        out.append(f".{segment}" if out else segment)
    return "".join(out)


def find(root: Any, target: Any, occurrence: int = 0) -> PathParts | None:
    """Path of ``target`` (by identity) inside ``root``, or None if it is not there.

    Only containers (dicts and lists) have an identity worth searching for;
    evaluation never copies documents, so what an expression selected from a
    resource is the very object inside it. An object a YAML alias repeats sits
    at several places: ``occurrence`` picks one, in document order.
    """
    if root is target:
        return ()
    if not isinstance(target, (dict, list)):
        return None
    # Pre-order walk in document order (children pushed in reverse).
    stack: list[tuple[Any, PathParts]] = [(root, ())]
    seen = 0
    while stack:
        node, path = stack.pop()
        if node is target:
            if seen == occurrence:
                return path
            seen += 1
            continue
        # dict.items, not node.items: a lazy mapping (the change document's images)
        # shows only what was computed, which is all an expression can have selected.
        children = list(dict.items(node) if isinstance(node, dict) else enumerate(node))
        for key, child in reversed(children):
            if isinstance(child, (dict, list)):
                stack.append((child, (*path, key)))
    return None
