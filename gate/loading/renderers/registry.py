"""The renderers gate knows, behind :class:`gate.loading.renderers.base.Renderer`.

Kustomize first: a directory holding both a kustomization and a ``Chart.yaml``
is rendered by Kustomize, as Argo CD does.
"""
from __future__ import annotations

from collections.abc import Collection

from gate.loading.renderers import Rendering, helm
from gate.loading.renderers.base import Named, Renderer, RenderSettings, Unit
from gate.loading.renderers.kustomize import inputs as kustomize_inputs
from gate.loading.renderers.kustomize import renderer as kustomize_renderer
from gate.loading.renderers.kustomize.images import set_images
from gate.loading.renderers.kustomize.loading import KUSTOMIZATION_FILES, kustomization_file
from gate.loading.trees import FileTree, walk_files

HELM_HINT = "Helm charts are rendered only with --helm"


class KustomizeRenderer:
    """Kustomize overlays: the built-in renderer, or a kustomize/kubectl binary."""

    kind = "kustomize"
    what = "Kustomize overlay"

    def owns(self, names: Collection[str]) -> bool:
        return any(name in names for name in KUSTOMIZATION_FILES)

    def marker(self, tree: FileTree, directory: str) -> str | None:
        return kustomization_file(tree, directory)

    def named(self, tree: FileTree, directory: str) -> Named | None:
        refs = kustomize_inputs.references(tree, directory)
        return None if refs is None else Named(refs.files, refs.directories, refs.broken)

    def inputs(self, tree: FileTree, directory: str) -> set[str]:
        return kustomize_inputs.inputs(tree, directory)

    def unavailable(self, settings: RenderSettings) -> str | None:
        if settings.kustomize == "off":
            return "Kustomize rendering is off (--kustomize off); its files are judged as written"
        return None

    def render(self, tree: FileTree, unit: Unit, settings: RenderSettings) -> Rendering:
        rendering = kustomize_renderer.render(tree, unit.path, settings.kustomize)
        if unit.images:
            set_images(rendering.resources, unit.images)
        return rendering


class HelmRenderer:
    """Helm charts, rendered with ``helm template`` (needs a helm binary)."""

    kind = "helm"
    what = "Helm chart"

    def owns(self, names: Collection[str]) -> bool:
        return helm.CHART_FILE in names

    def marker(self, tree: FileTree, directory: str) -> str | None:
        path = f"{directory}/{helm.CHART_FILE}" if directory else helm.CHART_FILE
        return path if tree.is_file(path) else None

    def named(self, tree: FileTree, directory: str) -> Named | None:
        if self.marker(tree, directory) is None:
            return None
        return Named(walk_files(tree, directory, hidden=True), [])

    def inputs(self, tree: FileTree, directory: str) -> set[str]:
        named = self.named(tree, directory)
        return set() if named is None else set(named.files)

    def unavailable(self, settings: RenderSettings) -> str | None:
        if not settings.helm:
            return f"{HELM_HINT}; its values files are still checked"
        if not helm.available():
            return (f"no helm binary (set {helm.HELM_ENV} or PATH); "
                    "its values files are still checked")
        return None

    def render(self, tree: FileTree, unit: Unit, settings: RenderSettings) -> Rendering:
        return helm.render(tree, unit.path, list(unit.values), unit.release,
                           unit.namespace or None)


KUSTOMIZE = KustomizeRenderer()
HELM = HelmRenderer()
#: Every renderer, in the order a directory is offered to them.
RENDERERS: tuple[Renderer, ...] = (KUSTOMIZE, HELM)


def renderer(kind: str) -> Renderer:
    for found in RENDERERS:
        if found.kind == kind:
            return found
    raise KeyError(kind)
