"""The renderer protocol: what the planner asks of Kustomize, Helm and any later renderer.

A renderer owns some directories (those holding its marker file), says which files
a unit reads and which other directories it includes, whether it can render on
this run, and renders a unit from a file tree. The planner (gate/loading/planning.py)
knows renderers only through this protocol and the registry
(gate/loading/renderers/registry.py), as the reports know formats through theirs.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from gate.loading.renderers import Rendering
from gate.loading.trees import FileTree


@dataclass(frozen=True, order=True)
class Unit:
    """What is read and judged as one.

    ``kind`` is ``file`` (a manifest read as written) or the kind of a renderer
    (``kustomize``: an overlay directory; ``helm``: a chart directory, rendered with
    ``values``, as ``release`` into ``namespace``, for ``environment``). An overlay an
    Argo CD Application deploys with image overrides is rendered with ``images`` set, as
    ``release`` (the Application) for ``environment``.
    """

    kind: str
    path: str
    values: tuple[str, ...] = ()
    release: str = ""
    namespace: str = ""
    environment: str = ""
    # Argo CD's ``kustomize.images`` overrides: (argument, Application file, line).
    images: tuple[tuple[str, str, int], ...] = ()


@dataclass(frozen=True)
class RenderSettings:
    """How this run renders: the command line's ``--kustomize`` and ``--helm``."""

    kustomize: str = "auto"  # auto | builtin | binary | off
    helm: bool = False


class Named(NamedTuple):
    """What one unit directory names directly."""

    files: list[str]  # files it reads itself
    directories: list[str]  # other directories of the same renderer it includes
    broken: bool = False  # its own file could not be parsed: rendering will say why


class Renderer(Protocol):
    """One way of turning a directory into the resources it deploys."""

    #: The ``Unit.kind`` it renders.
    kind: str
    #: How reports name one of its units ("Kustomize overlay", "Helm chart").
    what: str

    def owns(self, names: Collection[str]) -> bool:
        """Whether a directory with these entry names is one of its units."""
        ...

    def marker(self, tree: FileTree, directory: str) -> str | None:
        """The file that makes ``directory`` one of its units, or None."""
        ...

    def named(self, tree: FileTree, directory: str) -> Named | None:
        """What the unit in ``directory`` names directly (None: not a unit)."""
        ...

    def inputs(self, tree: FileTree, directory: str) -> set[str]:
        """Every tree file rendering ``directory`` reads, transitively."""
        ...

    def unavailable(self, settings: RenderSettings) -> str | None:
        """Why it cannot render on this run (None: it can)."""
        ...

    def render(self, tree: FileTree, unit: Unit, settings: RenderSettings) -> Rendering:
        """The resources ``unit`` deploys; RenderError names the file to blame."""
        ...
