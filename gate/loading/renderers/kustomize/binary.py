"""Kustomize by a real binary: ``kustomize build DIR`` or ``kubectl kustomize DIR``.

Used with ``--kustomize=binary`` (and by ``auto`` when one is on PATH). The
binary never sees the repository itself: before it runs, every kustomization
the overlay includes is checked (:func:`.inputs.check_local`), so a
remote reference or a path outside the tree is an input error at its line, as
with the built-in renderer; then the directories the overlay includes are
written out of the :class:`~gate.loading.trees.FileTree` into a temporary checkout
(once per tree and run, each directory once), links resolved as the tree
resolves them and refused entries left out, and the binary builds there. It
runs without a shell, with a timeout, and with an environment of its own
(:func:`_environment`): nothing of the caller's (no proxy, no ``GIT_*``), an
empty ``HOME``, and a ``PATH`` holding no program, so it can start no ``git``
(no remote clone) nor any plugin. kustomize's load restrictor stays at its
default.

The binary knows nothing of lines, so where the built-in renderer can render
the same directory, each resource's origin and provenance are taken from it
(matched by apiVersion, kind, namespace and name). Where it cannot (a field it
does not implement), each resource is traced to the document it started from
among the files the overlay lists as resources (by kind and name, allowing for
a name prefix or suffix); only a resource found nowhere points at the
kustomization file.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import weakref
from typing import Any

from gate import executables
from gate.errors import GateError
from gate.loading.renderers import RenderedResource, RenderError, Rendering
from gate.loading.renderers.kustomize import inputs as kustomize_inputs
from gate.loading.renderers.kustomize.builder import render_builtin
from gate.loading.renderers.kustomize.loading import kustomization_file
from gate.loading.trees import FileTree, checkout_files, normalize
from gate.loading.yamlio import YamlInputError, decode, line_of_path, load_documents

TIMEOUT = 120  # seconds for one build
_ERR = re.compile(r'err="((?:[^"\\]|\\.)*)"')


def find_binary() -> list[str] | None:
    """The command that builds a kustomization (the directory is appended), or None."""
    # Absolute paths from trusted PATH entries only: never a binary the change commits.
    kustomize = executables.find("kustomize")
    if kustomize is not None:
        return [kustomize, "build"]
    kubectl = executables.find("kubectl")
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


# An address nothing listens on: whatever the binary would send through a proxy fails
# at once. (Go sends requests to loopback addresses directly, whatever the proxy: the
# refusal of remote references before the binary runs is the guarantee; this is a net.)
_DEAD_PROXY = "http://127.0.0.1:9"
# The caller's variables the binary may see: locale and time zone only.
_KEPT = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT")


def _environment(scratch: str) -> dict[str, str]:
    """The binary's whole environment, every home and config in ``scratch``.

    What it guarantees: the binary inherits no proxy, credential, kubeconfig,
    ``GIT_*`` or ``KUSTOMIZE_*`` setting; its ``PATH`` is an empty directory, so
    it cannot start ``git`` (kustomize clones remote bases with it), ``helm``
    or an exec plugin; and a ``git`` started anyway by absolute path allows no
    transport and reads no configuration. What it does not: stop the binary's
    own HTTP client from connecting to an address (kustomize fetches ``https://``
    resources itself): only the refusal of every remote reference before the
    binary runs (:func:`.inputs.check_local`) does that.
    """
    home = os.path.join(scratch, "home")
    empty = os.path.join(scratch, "bin")
    for directory in (home, empty):
        os.makedirs(directory, exist_ok=True)
    environment = {key: os.environ[key] for key in _KEPT if key in os.environ}
    environment.update({
        "HOME": home, "PATH": empty, "TMPDIR": scratch,
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "KUBECONFIG": os.path.join(home, "kubeconfig"),  # does not exist: no cluster
        "KUSTOMIZE_PLUGIN_HOME": os.path.join(home, "plugins"),
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0", "GIT_ALLOW_PROTOCOL": "none",
        "GIT_SSH_COMMAND": "false",
        "NO_PROXY": "", "no_proxy": "",
    })
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        environment[name] = environment[name.lower()] = _DEAD_PROXY
    return environment


def _run(command: list[str], directory: str, blame: str, scratch: str) -> str:
    try:
        result = subprocess.run(
            [*command, directory], capture_output=True, text=True, timeout=TIMEOUT,
            check=False, stdin=subprocess.DEVNULL, cwd=scratch,
            env=_environment(scratch),
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"{os.path.basename(command[0])} timed out after {TIMEOUT}s",
                          blame) from None
    except OSError as exc:
        raise RenderError(f"cannot run {command[0]}: {exc.strerror}", blame) from None
    if result.returncode != 0:
        name = " ".join([os.path.basename(command[0]), *command[1:]])
        # Paths in the temporary checkout, as tree paths.
        message = _error_line(result.stderr).replace(os.path.join(scratch, "tree") + os.sep, "")
        raise RenderError(f"{name} failed: {message}", blame)
    return result.stdout


class _Checkouts:
    """One temporary checkout per tree, removed with the tree; each directory written
    (with everything below it) on first use."""

    def __init__(self) -> None:
        self._scratch: weakref.WeakKeyDictionary[Any, tuple[str, set[str]]] = (
            weakref.WeakKeyDictionary())

    def scratch(self, tree: FileTree, directories: list[str]) -> str:
        """The scratch directory of ``tree``; its checkout (``tree/``) holds ``directories``."""
        found = self._scratch.get(tree)
        if found is None:
            scratch = tempfile.mkdtemp(prefix="gate-kustomize-")
            weakref.finalize(tree, shutil.rmtree, scratch, True)
            os.makedirs(os.path.join(scratch, "tree"))
            found = self._scratch[tree] = (scratch, set())
        scratch, written = found
        missing = [d for d in sorted(set(directories))
                   if not any(d == w or not w or d.startswith(w + "/") for w in written)]
        if missing:
            _write_tree(tree, os.path.join(scratch, "tree"), missing)
            written.update(missing)
        return scratch


def _write_tree(tree: FileTree, root: str, directories: list[str]) -> None:
    """Every file under ``directories`` of ``tree``, under ``root``, in the same layout.

    Only what the tree reads: a link is written as a copy of its target in the
    tree; what the tree refuses (a link out, a special file) is left out, and a
    kustomization that names it was refused before (check_local).
    """
    paths = checkout_files(tree, directories)
    read_many = getattr(tree, "read_many", None)
    contents: dict[str, bytes]
    if read_many is not None:
        contents = read_many(paths)
    else:
        contents = {}
        for path in paths:
            try:
                contents[path] = tree.read_bytes(path)
            except OSError:
                continue
    made: set[str] = set()
    for path, data in contents.items():
        target = os.path.join(root, *normalize(path).split("/"))
        parent = os.path.dirname(target)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        if os.path.lexists(target):
            continue  # written with an earlier directory
        with open(target, "xb") as handle:
            handle.write(data)


_CHECKOUTS = _Checkouts()


def _identity(obj: Any) -> tuple[str, str, str, str]:
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    metadata = metadata if isinstance(metadata, dict) else {}
    return (str(obj.get("apiVersion") or ""), str(obj.get("kind") or ""),
            str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))


def _builtin_origins(tree: FileTree, directory: str) -> dict[tuple[str, str, str, str],
                                                             RenderedResource]:
    try:
        rendering = render_builtin(tree, directory)
    except GateError:
        return {}
    return {_identity(r.obj): r for r in rendering.resources}


class _SourceDocuments:
    """The objects an overlay's resource files hold, to trace the binary's output to.

    A rendered object starts from a document of the same kind whose name its own
    name contains (``namePrefix`` and ``nameSuffix`` only add to it); of several,
    the longest name wins, and a tie between different documents traces nothing.
    """

    def __init__(self, tree: FileTree, directory: str) -> None:
        self._by_kind: dict[str, list[tuple[str, RenderedResource]]] = {}
        manifests, kustomizations = _closure(tree, directory)
        for path in kustomizations:
            self._add_generated(tree, path)
        for path in manifests:
            try:
                parsed = load_documents(decode(tree.read_bytes(path), path), path)
                for document in parsed:
                    self._add(path, document.index, document.line, (), document.data)
                    items = document.data.get("items") if isinstance(document.data,
                                                                     dict) else None
                    for position, item in enumerate(items if isinstance(items, list) else []):
                        self._add(path, document.index, document.line, ("items", position),
                                  item)
            except (OSError, GateError):
                continue  # the binary read it; a file gate cannot is traced to nothing

    def _add_generated(self, tree: FileTree, path: str) -> None:
        """ConfigMaps and Secrets a kustomization generates start at their entry."""
        try:
            [document] = [d for d in load_documents(decode(tree.read_bytes(path), path), path)
                          if d.data is not None]
        except (OSError, GateError, ValueError):
            return
        if not isinstance(document.data, dict):
            return
        for key, kind in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
            entries = document.data.get(key)
            for position, entry in enumerate(entries if isinstance(entries, list) else []):
                if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                    prefix = (key, position)
                    self._add(path, document.index, line_of_path(document.node, prefix), prefix,
                              {"kind": kind, "metadata": {"name": entry["name"]}})

    def _add(self, path: str, index: int, line: int, prefix: tuple[str | int, ...],
             data: Any) -> None:
        if not isinstance(data, dict):
            return
        kind, name = data.get("kind"), _identity(data)[3]
        if isinstance(kind, str) and name:
            self._by_kind.setdefault(kind, []).append(
                (name, RenderedResource({}, path, index, prefix, line, {})))

    def trace(self, data: dict[str, Any]) -> RenderedResource | None:
        kind, name = data.get("kind"), _identity(data)[3]
        candidates = [(len(source), found) for source, found in
                      self._by_kind.get(kind if isinstance(kind, str) else "", [])
                      if source in name]
        if not candidates:
            return None
        longest = max(length for length, _ in candidates)
        best = {(f.origin_file, f.origin_doc, f.origin_prefix): f
                for length, f in candidates if length == longest}
        if len(best) != 1:
            return None
        [found] = best.values()
        return RenderedResource(data, found.origin_file, found.origin_doc,
                                found.origin_prefix, found.origin_line, {})


def _closure(tree: FileTree, directory: str) -> tuple[list[str], list[str]]:
    """(files listed as resources, kustomization files) of the overlay and all it includes."""
    found = kustomize_inputs.closure(tree, directory)
    manifests = {path for refs in found for path in refs.manifests}
    return sorted(manifests), sorted(refs.files[0] for refs in found)


def render_with_binary(tree: FileTree, directory: str, command: list[str]) -> Rendering:
    """Render ``directory`` with ``command`` (from :func:`find_binary`)."""
    blame = kustomization_file(tree, directory) or (directory or ".")
    kustomize_inputs.check_local(tree, directory)  # nothing remote, nothing outside
    directories = [directory] + [d for refs in kustomize_inputs.closure(tree, directory)
                                 for d in refs.directories]
    scratch = _CHECKOUTS.scratch(tree, directories)
    root = os.path.join(scratch, "tree")
    build = os.path.join(root, *directory.split("/")) if directory else root
    output = _run(command, build, blame, scratch)
    try:
        documents = [d.data for d in load_documents(output, blame) if d.data is not None]
    except YamlInputError as exc:
        raise RenderError(f"cannot read the binary's output: {exc.message}", blame) from None
    origins = _builtin_origins(tree, directory)
    sources = None
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
            continue
        if sources is None:
            sources = _SourceDocuments(tree, directory)
        traced = sources.trace(data)
        if traced is not None:
            resources.append(traced)
        else:
            resources.append(RenderedResource(data, blame, 0, (), 1, {}))
    return Rendering(directory, resources, kustomize_inputs.inputs(tree, directory))
