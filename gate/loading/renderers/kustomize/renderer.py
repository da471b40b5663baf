"""The Kustomize renderer's entry point: built in, with a binary, or either."""
from __future__ import annotations

from gate.loading.renderers import RenderError, Rendering
from gate.loading.renderers.kustomize import binary
from gate.loading.renderers.kustomize.builder import render_builtin
from gate.loading.renderers.kustomize.loading import kustomization_file
from gate.loading.trees import FileTree

MODES = ("builtin", "binary", "auto")


def render(tree: FileTree, directory: str, mode: str = "auto") -> Rendering:
    """Render the kustomization in ``directory``: built in, with a binary, or either."""
    if mode not in MODES:
        raise RenderError(f"unknown Kustomize mode {mode!r} (expected one of "
                          f"{', '.join(MODES)})")
    if mode == "builtin":
        return render_builtin(tree, directory)
    command = binary.find_binary()
    if command is None:
        if mode == "binary":
            raise RenderError("--kustomize=binary: neither kustomize nor kubectl is on PATH",
                              kustomization_file(tree, directory) or directory or ".")
        return render_builtin(tree, directory)
    return binary.render_with_binary(tree, directory, command)
