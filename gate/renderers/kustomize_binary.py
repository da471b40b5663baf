"""Kustomize by a real binary: ``kustomize build DIR`` or ``kubectl kustomize DIR``.

Used with ``--kustomize=binary`` (and by ``auto`` when one is on PATH). A
working tree is built in place; any other tree (a git revision) is first
written to a temporary directory: exactly the files the kustomization reads
(:func:`gate.renderers.kustomize.inputs`), in the same layout. No shell is
involved, and kustomize's load restrictor stays at its default.

The binary knows nothing of lines, so where the built-in renderer can render
the same directory, each resource's origin and provenance are taken from it
(matched by apiVersion, kind, namespace and name); otherwise a resource points
at the kustomization file.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from typing import Any

from gate.errors import GateError
from gate.renderers import RenderedResource, RenderError, Rendering
from gate.renderers import kustomize as builtin
from gate.trees import FileTree, WorkTree
from gate.yamlio import YamlInputError, load_documents

TIMEOUT = 120  # seconds for one build
_ERR = re.compile(r'err="((?:[^"\\]|\\.)*)"')


def find_binary() -> list[str] | None:
    """The command that builds a kustomization (the directory is appended), or None."""
    kustomize = shutil.which("kustomize")
    if kustomize is not None:
        return [kustomize, "build"]
    kubectl = shutil.which("kubectl")
    if kubectl is not None:
        return [kubectl, "kustomize"]
    return None


def _error_line(stderr: str) -> str:
    """What went wrong, on one line, from kustomize's or kubectl's stderr.

    kubectl logs a multi-line error as ``err=<`` ... `` >`` (or a quoted ``err="..."``
    with ``\n`` escapes); the whole of it is kept, since the cause (the missing
    file, say) usually comes last.
    """
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        match = _ERR.search(line)
        if match is not None:
            text = match.group(1).encode("utf-8").decode("unicode_escape", errors="replace")
            return " ".join(text.split()) or text
        if line.endswith("err=<") and index + 1 < len(lines):
            block = []
            for part in lines[index + 1:]:
                if part == ">":
                    break
                block.append(part)
            return " ".join(" ".join(block).split())
        if line.startswith("Error: "):
            return line[len("Error: "):]
    return lines[0] if lines else "failed without a message"


def _run(command: list[str], directory: str, blame: str) -> str:
    try:
        result = subprocess.run(
            [*command, directory], capture_output=True, text=True, timeout=TIMEOUT,
            check=False, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"{os.path.basename(command[0])} timed out after {TIMEOUT}s",
                          blame) from None
    except OSError as exc:
        raise RenderError(f"cannot run {command[0]}: {exc.strerror}", blame) from None
    if result.returncode != 0:
        name = " ".join([os.path.basename(command[0]), *command[1:]])
        raise RenderError(f"{name} failed: {_error_line(result.stderr)}", blame)
    return result.stdout


def _materialise(tree: FileTree, directory: str, root: str) -> str:
    """Write the kustomization's input files under ``root``; the directory to build."""
    for path in sorted(builtin.inputs(tree, directory)):
        if not tree.is_file(path):
            continue  # a missing input: let the binary report it
        target = os.path.join(root, *path.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(tree.read_bytes(path))
    build = os.path.join(root, *directory.split("/")) if directory else root
    os.makedirs(build, exist_ok=True)
    return build


def _identity(obj: Any) -> tuple[str, str, str, str]:
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    metadata = metadata if isinstance(metadata, dict) else {}
    return (str(obj.get("apiVersion") or ""), str(obj.get("kind") or ""),
            str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))


def _builtin_origins(tree: FileTree, directory: str) -> dict[tuple[str, str, str, str],
                                                              RenderedResource]:
    try:
        rendering = builtin.render_builtin(tree, directory)
    except GateError:
        return {}
    return {_identity(r.obj): r for r in rendering.resources}


def render_with_binary(tree: FileTree, directory: str, command: list[str]) -> Rendering:
    """Render ``directory`` with ``command`` (from :func:`find_binary`)."""
    blame = builtin.kustomization_file(tree, directory) or (directory or ".")
    if isinstance(tree, WorkTree):
        build = os.path.join(tree.root, *directory.split("/")) if directory else tree.root
        output = _run(command, build, blame)
    else:
        with tempfile.TemporaryDirectory(prefix="gate-kustomize-") as root:
            output = _run(command, _materialise(tree, directory, root), blame)
    try:
        documents = [d.data for d in load_documents(output, blame) if d.data is not None]
    except YamlInputError as exc:
        raise RenderError(f"cannot read the binary's output: {exc.message}", blame) from None
    origins = _builtin_origins(tree, directory)
    resources = []
    for data in documents:
        if not isinstance(data, dict):
            raise RenderError("the binary's output holds a document that is not a mapping",
                              blame)
        known = origins.get(_identity(data))
        if known is not None:
            resources.append(RenderedResource(data, known.origin_file, known.origin_doc,
                                              known.origin_prefix, known.origin_line,
                                              dict(known.provenance)))
        else:
            resources.append(RenderedResource(data, blame, 0, (), 1, {}))
    return Rendering(directory, resources, builtin.inputs(tree, directory))
