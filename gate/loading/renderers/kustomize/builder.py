"""The built-in renderer: one build of a kustomization and all it includes.

The order of work follows kustomize: ``resources`` (then ``bases``), then
``components``, generators, and the transformers (patchesStrategicMerge,
patches, namespace, namePrefix, nameSuffix, labels and commonLabels,
commonAnnotations, patchesJson6902, replicas, images, then replacements and the
``transformers:`` plugin configs); at the top level only, content-hash
suffixes, name references and the output order (:mod:`.output`).
"""
from __future__ import annotations

from gate.limits import MAX_RENDER_WORK
from gate.loading.renderers import RenderError, Rendering
from gate.loading.renderers.kustomize import generators, patches, plugins, replacements
from gate.loading.renderers.kustomize.images import apply_images
from gate.loading.renderers.kustomize.loading import Kustomization, load_kustomization
from gate.loading.renderers.kustomize.output import finish
from gate.loading.renderers.kustomize.reading import Reader
from gate.loading.renderers.kustomize.resources import Resource, append_resources, id_key
from gate.loading.renderers.kustomize.schema import REMOTE_HOST
from gate.loading.renderers.kustomize.transformers import (
    apply_annotations,
    apply_labels,
    apply_name_affix,
    apply_namespace,
    apply_replicas,
)
from gate.loading.trees import FileTree


class Builder(Reader):
    """One built-in render: the accumulation of a kustomization and all it includes."""

    def __init__(self, tree: FileTree) -> None:
        super().__init__(tree)
        self.stack: list[str] = []
        self.accumulated = 0  # resources taken in from resources/bases, at every level

    def target(self, directory: str, blame: str | None = None,
               line: int | None = None) -> tuple[Kustomization, list[Resource]]:
        """A kustomization directory accumulated on its own (a Component only at the top)."""
        self.check_cycle(directory, blame, line)
        k = load_kustomization(self.files, directory, blame, line)
        if k.is_component and self.stack:
            raise RenderError(f"{directory} is a Component; list it under components, "
                              "not resources", blame, line)
        resources: list[Resource] = []
        self.stack.append(directory)
        try:
            self.run(k, resources)
        finally:
            self.stack.pop()
        return k, resources

    def check_cycle(self, directory: str, blame: str | None, line: int | None) -> None:
        """Like kustomize, refuse a directory at or above one being built."""
        for visited in self.stack:
            if not directory or visited == directory or visited.startswith(directory + "/"):
                chain = " -> ".join(p or "." for p in [*self.stack, directory])
                raise RenderError(f"kustomization cycle: {directory or '.'} contains "
                                  f"{visited or '.'}, which includes it ({chain})", blame, line)

    def run(self, k: Kustomization, resources: list[Resource]) -> None:
        self.include_resources(k, resources)
        self.include_components(k, resources)
        self.generate(k, resources)
        self.transform(k, resources)

    def include_resources(self, k: Kustomization, resources: list[Resource]) -> None:
        entries = [("resources", i, e) for i, e in k.items("resources")]
        entries += [("bases", i, e) for i, e in k.items("bases")]
        seen = {id_key(r.id()): r for r in resources}
        for name, index, entry in entries:
            path = self.path(k, entry, name, index)
            line = k.line(name, index)
            if self.tree.is_dir(path):
                new = self.target(path, k.file, line)[1]
            elif self.tree.is_file(path):
                new = self.read_resources(self.file(k, entry, name, index), k.file, line)
            elif REMOTE_HOST.match(entry):
                raise k.error(f"{name}[{index}]: {entry!r}: remote resources are not "
                              "supported (gate reads no network)", name, index)
            else:
                raise k.error(f"{name}[{index}]: {entry!r}: no such file or directory",
                              name, index)
            # A base included through two overlays is rendered twice, at every level:
            # the work of a whole render is bounded, not only the size of each list.
            self.accumulated += len(new)
            if self.accumulated > MAX_RENDER_WORK:
                raise k.error(f"{name}[{index}]: rendering takes in more than "
                              f"{MAX_RENDER_WORK:,} resources across its bases (gate's "
                              "limit; are bases included through many overlays?)", name, index)
            append_resources(resources, new, k.file, line, seen)

    def include_components(self, k: Kustomization, resources: list[Resource]) -> None:
        for index, entry in k.items("components"):
            path = self.path(k, entry, "components", index)
            line = k.line("components", index)
            if not self.tree.is_dir(path):
                raise k.error(f"components[{index}]: {entry!r} is not a directory",
                              "components", index)
            self.check_cycle(path, k.file, line)
            component = load_kustomization(self.files, path, k.file, line)
            if not component.is_component:
                raise k.error(f"components[{index}]: {entry!r} is a Kustomization, not a "
                              "Component (kind: Component)", "components", index)
            self.stack.append(path)
            try:
                self.run(component, resources)
            finally:
                self.stack.pop()

    def generate(self, k: Kustomization, resources: list[Resource]) -> None:
        generators.generate_resources(self, k, resources)
        plugins.run_generators(self, k, resources)

    def transform(self, k: Kustomization, resources: list[Resource]) -> None:
        patches.apply_patches_strategic_merge(self, k, resources)
        patches.apply_patches(self, k, resources)
        apply_namespace(k, resources)
        apply_name_affix(k, resources, "namePrefix")
        apply_name_affix(k, resources, "nameSuffix")
        apply_labels(k, resources)
        apply_annotations(k, resources)
        patches.apply_patches_json6902(self, k, resources)
        apply_replicas(k, resources)
        apply_images(k, resources)
        replacements.run(self, k, resources)
        plugins.run_transformers(self, k, resources)


def render_builtin(tree: FileTree, directory: str) -> Rendering:
    """Render with the built-in renderer; RenderError names what it cannot do."""
    builder = Builder(tree)
    k, resources = builder.target(directory)
    return Rendering(directory, finish(k, resources), builder.files.inputs)
