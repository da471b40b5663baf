"""Renderers: turn a directory of templates or overlays into the resources it deploys.

One module per renderer (Kustomize now; Helm later), each behind the same
small result type, :class:`Rendering`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gate.errors import GateError

FieldPath = tuple[str | int, ...]


class RenderError(GateError):
    """A directory that cannot be rendered; names the file (and line) to blame."""


@dataclass
class RenderedResource:
    """One resource a renderer produced, and where its parts came from.

    ``origin_file``/``origin_doc``/``origin_prefix`` locate the document the
    resource started from (a tree path, the document's index in that file, and
    the path inside the document, non-empty for items of a ``kind: List``);
    a generated resource (``configMapGenerator``) starts at its generator's
    entry in the kustomization file. ``provenance`` maps a field path of the
    rendered object to the (tree path, 1-based line) of whatever last set it:
    an ``images:`` entry, a patch, ``namespace:``... so a finding on that field
    points at the line that caused it.
    """

    obj: dict[str, Any]
    origin_file: str
    origin_doc: int
    origin_prefix: FieldPath = ()
    origin_line: int = 1
    provenance: dict[FieldPath, tuple[str, int]] = field(default_factory=dict)


@dataclass
class Rendering:
    """What rendering one directory gave."""

    directory: str  # tree path of the rendered directory (the overlay)
    resources: list[RenderedResource]
    inputs: set[str]  # every tree file the rendering read, transitively

