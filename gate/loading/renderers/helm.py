"""Helm charts: found in a file tree, rendered by a ``helm`` binary when there is one.

gate does not implement Helm's template language. When a ``helm`` binary is on
``PATH`` (or named by ``GATE_HELM``), :func:`render` copies a chart and its
values files out of the :class:`~gate.loading.trees.FileTree` into a temporary
directory and runs ``helm template`` there, without a shell, with a timeout,
and with every Helm setting (cache, configuration, plugins, repositories,
registry credentials, kubeconfig) pointed into that directory: nothing outside
it is read or written, no plugin runs, no dependency is fetched and no cluster
is contacted. Without a binary, callers check :func:`available` and say which
charts were not rendered; values files are still checked as written by the
``helm-values-image-tag`` policy.

``helm template`` prints ``# Source: <chart>/templates/x.yaml`` before each
document; rendered resources point back at that template (line 1: a template
is not YAML whose fields could be located).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
from typing import Any

from gate import executables
from gate.loading.renderers import FieldPath, RenderedResource, RenderError, Rendering
from gate.loading.trees import (
    FileTree,
    TreeLimitError,
    TreePathError,
    checkout_files,
    normalize,
    walk_files,
)
from gate.loading.yamlio import YamlInputError, decode, load_documents

HELM_ENV = "GATE_HELM"  # names the helm binary to use: an absolute path outside the repository
CHART_FILE = "Chart.yaml"
DEFAULT_TIMEOUT = 120.0  # seconds for one ``helm template``
_PROXIES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
_DEAD_PROXY = "http://127.0.0.1:9"  # nothing listens there

# Helm's own rules (a release name is at most 53 characters); checking them here
# also keeps either from ever reading as a command-line option.
_RELEASE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_SOURCE = re.compile(r"# Source: (?P<path>\S.*?)\s*\Z")
_LINE_BREAK = re.compile(r"\r\n|[\n\r\x85\u2028\u2029]")  # what YAML counts as one
# ``Error: template: web/templates/deployment.yaml:12:20: executing ...``
_TEMPLATE_ERROR = re.compile(r"template: (?P<path>[^\s:]+):(?P<line>\d+)(?::\d+)?:")


# -- the binary ------------------------------------------------------------------


def helm_binary() -> str | None:
    """The helm executable to run: ``$GATE_HELM`` if set, else ``helm`` on PATH; or None.

    Both through :mod:`gate.executables`: an absolute path, never inside the change.
    """
    if os.environ.get(HELM_ENV):
        return executables.named(HELM_ENV, "helm")
    return executables.find("helm")


def available() -> bool:
    """Whether charts can be rendered on this machine."""
    return helm_binary() is not None


# -- charts in a tree ------------------------------------------------------------


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name


def find_charts(tree: FileTree, directory: str = "") -> list[str]:
    """Tree paths of the chart directories (holding ``Chart.yaml``) under ``directory``, sorted.

    Hidden directories are skipped, and so are a chart's ``charts/``: its
    subcharts are rendered as part of it, not on their own. One walk of the
    tree (:func:`~gate.loading.trees.walk_files`), so a loop of directory links ends.
    """
    found = sorted({path.rpartition("/")[0] for path in walk_files(tree, directory)
                    if path.rpartition("/")[2] == CHART_FILE and tree.is_file(path)})
    return [chart for chart in found
            if not any(chart.startswith(_join(other, "charts") + "/") for other in found)]


def default_value_files(tree: FileTree, chart_dir: str) -> list[str]:
    """Values files to pass besides the chart's own ``values.yaml``: none.

    ``helm template`` always applies a chart's ``values.yaml``; which other
    files apply is for the caller to say (an Argo CD Application's
    ``helm.valueFiles``, say).
    """
    return []


def value_file_path(chart_dir: str, name: str) -> str:
    """The tree path of a values file named relative to its chart (``../values/prod.yaml``).

    Raises RenderError for a name that leaves the tree or is absolute.
    """
    try:
        return normalize(name, chart_dir)
    except TreePathError as exc:
        raise RenderError(f"values file {name!r}: {exc.message}",
                          _join(chart_dir, CHART_FILE)) from None


# -- rendering -------------------------------------------------------------------


def render(
    tree: FileTree,
    chart_dir: str,
    value_files: list[str],
    release: str,
    namespace: str | None = None,
    *,
    ignore_missing_value_files: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
) -> Rendering:
    """Render a chart with ``helm template``; RenderError if that fails.

    ``chart_dir`` and ``value_files`` are tree paths (see :func:`value_file_path`
    for names relative to the chart); the values files apply in order, after the
    chart's own ``values.yaml``. A values file that does not exist is an error,
    or (``ignore_missing_value_files``, as Argo CD's ``ignoreMissingValueFiles``)
    left out. Check :func:`available` first: without a helm binary this raises
    RenderError.
    """
    try:
        chart_dir = normalize(chart_dir)
    except TreePathError as exc:
        raise RenderError(exc.message) from None
    chart_file = _join(chart_dir, CHART_FILE)
    if not tree.is_file(chart_file):
        raise RenderError(f"{chart_dir or '.'} is not a Helm chart: it has no {CHART_FILE}",
                          chart_dir or None)
    if len(release) > 53 or not _RELEASE.match(release):
        raise RenderError(f"invalid Helm release name {release!r} (lower-case letters, digits, "
                          "'-' and '.', at most 53 characters)", chart_file)
    if namespace is not None and (len(namespace) > 63 or not _NAMESPACE.match(namespace)):
        raise RenderError(f"invalid namespace {namespace!r}", chart_file)
    values = [_tree_path(path, chart_dir) for path in value_files]
    if ignore_missing_value_files:
        values = [path for path in values if tree.is_file(path)]
    binary = helm_binary()
    if binary is None:
        raise RenderError(f"cannot render the chart: no helm binary (set {HELM_ENV} or PATH)",
                          chart_file)

    with tempfile.TemporaryDirectory(prefix="gate-helm-", ignore_cleanup_errors=True) as scratch:
        root = os.path.join(scratch, "tree")
        inputs = _materialise_chart(tree, chart_dir, root)
        for path in values:
            if path not in inputs:
                _copy(tree, path, root, missing=f"values file {path} does not exist",
                      blame=chart_file)
                inputs.add(path)
        args = [binary, "template", release, _relative(chart_dir)]
        for path in values:
            args += ["-f", _relative(path)]
        if namespace is not None:
            args += ["--namespace", namespace]
        args += ["--include-crds", "--skip-tests"]
        stdout, stderr, status = _run(args, root, _environment(scratch), timeout, chart_file)

    if status != 0:
        raise _helm_error(tree, chart_dir, stderr, status)
    resources = _parse(tree, chart_dir, stdout)
    return Rendering(directory=chart_dir, resources=resources, inputs=inputs)


def _tree_path(path: str, chart_dir: str) -> str:
    try:
        return normalize(path)
    except TreePathError as exc:
        raise RenderError(exc.message, _join(chart_dir, CHART_FILE)) from None


def _relative(path: str) -> str:
    """A tree path as an argument: ``./``-relative, so it never reads as an option."""
    return f"./{path}" if path else "."


def _os_path(root: str, path: str) -> str:
    return os.path.join(root, *path.split("/")) if path else root


def _copy(tree: FileTree, path: str, root: str, missing: str, blame: str) -> None:
    try:
        content = tree.read_bytes(path)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise RenderError(missing, blame) from None
    except OSError as exc:
        raise RenderError(f"cannot read {path}: {exc.strerror}", blame) from None
    target = _os_path(root, path)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as handle:
        handle.write(content)


def _materialise_chart(tree: FileTree, chart_dir: str, root: str) -> set[str]:
    """Copy every file of the chart (hidden ones too: ``.helmignore``) under ``root``.

    Through the tree only: a link inside the repository is copied as its target's
    content, a loop of directory links is not followed twice, and an entry the tree
    refuses (a link out of the repository, a special file, a submodule) fails the
    render, naming it; nothing is read from outside the repository.
    """
    chart_file = _join(chart_dir, CHART_FILE)
    os.makedirs(_os_path(root, chart_dir), exist_ok=True)
    try:
        paths = checkout_files(tree, [chart_dir])
    except TreeLimitError as exc:
        raise RenderError(exc.message, chart_file) from None
    for path in paths:
        _copy(tree, path, root, missing=f"{path} vanished while copying", blame=chart_file)
    return set(paths)


def _environment(scratch: str) -> dict[str, str]:
    """The caller's environment without its Helm settings, every Helm path in ``scratch``."""
    # No Helm, git or proxy setting of the caller's: helm template fetches nothing (it
    # is never given --dependency-update, and has no repository configured), and
    # whatever it might send through a proxy fails at once. PATH holds only trusted,
    # absolute entries (gate.executables).
    environment = {k: v for k, v in executables.child_environment().items()
                   if not k.startswith(("HELM_", "GIT_")) and k.lower() not in _PROXIES}
    home = os.path.join(scratch, "home")
    os.makedirs(home)
    environment.update({
        "HOME": home,
        "HELM_CACHE_HOME": os.path.join(home, "cache"),
        "HELM_CONFIG_HOME": os.path.join(home, "config"),
        "HELM_DATA_HOME": os.path.join(home, "data"),
        "HELM_PLUGINS": os.path.join(home, "plugins"),
        "HELM_REPOSITORY_CACHE": os.path.join(home, "cache", "repository"),
        "HELM_REPOSITORY_CONFIG": os.path.join(home, "config", "repositories.yaml"),
        "HELM_REGISTRY_CONFIG": os.path.join(home, "config", "registry", "config.json"),
        "HELM_NO_PLUGINS": "1",
        "KUBECONFIG": os.path.join(home, "kubeconfig"),  # does not exist: no cluster
        "HTTP_PROXY": _DEAD_PROXY, "HTTPS_PROXY": _DEAD_PROXY,
        "http_proxy": _DEAD_PROXY, "https_proxy": _DEAD_PROXY,
    })
    return environment


def _run(
    args: list[str], cwd: str, environment: dict[str, str], timeout: float, blame: str
) -> tuple[bytes, str, int]:
    """Run helm; kill it (and anything it started) when it overruns ``timeout``."""
    try:
        process = subprocess.Popen(
            args, cwd=cwd, env=environment, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )
    except OSError as exc:
        raise RenderError(f"cannot run {args[0]}: {exc.strerror}", blame) from None
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        try:
            process.communicate(timeout=5)
        except subprocess.TimeoutExpired:  # a process that left the session holds the pipes
            for pipe in (process.stdout, process.stderr):
                if pipe is not None:
                    pipe.close()
            process.wait()
        raise RenderError(f"helm template did not finish within {timeout:g} seconds",
                          blame) from None
    except BaseException:  # KeyboardInterrupt: leave no helm behind
        _kill(process)
        process.wait()
        raise
    return stdout, stderr.decode("utf-8", "replace"), process.returncode


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)  # its own session: helm and its children
        else:  # pragma: no cover - Windows
            process.kill()
    except ProcessLookupError:  # pragma: no cover - it finished meanwhile
        pass


def _helm_error(tree: FileTree, chart_dir: str, stderr: str, status: int) -> RenderError:
    """The first error line helm printed, blamed on the template it names if it can be found."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    first = next((line for line in lines if line.startswith("Error:")), None)
    if first is None:
        first = lines[0] if lines else f"helm template exited with status {status}"
    message = first.removeprefix("Error:").strip() or first
    file, line = _join(chart_dir, CHART_FILE), None
    named = _TEMPLATE_ERROR.search(message)
    if named is not None:
        template = _template_path(tree, chart_dir, named["path"])
        if template is not None:
            file, line = template, int(named["line"])
    return RenderError(f"helm template: {message}", file, line)


# -- output back to the tree -----------------------------------------------------


def _parse(tree: FileTree, chart_dir: str, stdout: bytes) -> list[RenderedResource]:
    chart_file = _join(chart_dir, CHART_FILE)
    try:
        text = decode(stdout, "helm template output")
        documents = list(load_documents(text, "helm template output"))
    except YamlInputError as exc:
        where = f" (line {exc.line} of its output)" if exc.line else ""
        raise RenderError(f"helm template printed what is not YAML{where}: {exc.message}",
                          chart_file) from None
    sources = [
        (number, found["path"])
        for number, line in enumerate(_LINE_BREAK.split(text), 1)
        if (found := _SOURCE.match(line))
    ]
    resolved: dict[str, str] = {}
    seen: dict[str, int] = {}
    resources: list[RenderedResource] = []
    position = 0
    source = ""
    for document in documents:
        # The last "# Source:" line before the document is its template.
        while position < len(sources) and sources[position][0] < document.line:
            source = sources[position][1]
            position += 1
        if document.data is None:
            continue
        if source not in resolved:
            resolved[source] = _template_path(tree, chart_dir, source) or _chart_file_of(
                tree, chart_dir, source)
        origin = resolved[source]
        index = seen.get(source, 0)
        seen[source] = index + 1
        data = document.data
        if not isinstance(data, dict):
            raise RenderError(
                f"helm template rendered a YAML {type(data).__name__}, not an object, from "
                f"{source or 'the chart'}", origin)
        items: list[tuple[FieldPath, Any]] = [((), data)]
        if _is_list(data):
            items = [(("items", n), item) for n, item in enumerate(data["items"])]
        for prefix, item in items:
            if not isinstance(item, dict):
                raise RenderError(f"helm template rendered a list item that is not an object, "
                                  f"from {source or 'the chart'}", origin)
            resources.append(RenderedResource(
                obj=item, origin_file=origin, origin_doc=index, origin_prefix=prefix,
                origin_line=1,
                # Every field comes from the template: line lookups never parse it as YAML.
                provenance={(): (origin, 1)},
            ))
    return resources


def _is_list(data: dict[str, Any]) -> bool:
    kind = data.get("kind")
    return isinstance(kind, str) and kind.endswith("List") and isinstance(data.get("items"), list)


def _chart_file_of(tree: FileTree, chart_dir: str, source: str) -> str:
    """Chart.yaml of the (sub)chart a Source path names, as far as it can be found."""
    directory = chart_dir
    parts = source.split("/")[1:]
    while len(parts) >= 3 and parts[0] == "charts":
        found = _subchart(tree, directory, parts[1])
        if found is None:
            break
        directory, parts = found, parts[2:]
    return _join(directory, CHART_FILE)


def _template_path(tree: FileTree, chart_dir: str, source: str) -> str | None:
    """The tree file of ``<chart>/templates/x.yaml`` (or ``<chart>/charts/<sub>/...``)."""
    parts = source.split("/")[1:]  # the first part is the chart's name, not its directory
    if not parts:
        return None
    directory = chart_dir
    while len(parts) >= 3 and parts[0] == "charts":
        found = _subchart(tree, directory, parts[1])
        if found is None:  # a packaged subchart (.tgz): no file of ours to point at
            return None
        directory, parts = found, parts[2:]
    try:
        path = normalize("/".join(parts), directory)
    except TreePathError:
        return None
    inside = not directory or path.startswith(directory + "/")
    return path if inside and tree.is_file(path) else None


def _subchart(tree: FileTree, chart_dir: str, name: str) -> str | None:
    """The directory under ``chart_dir/charts`` of the subchart Helm calls ``name``."""
    charts = _join(chart_dir, "charts")
    direct = _join(charts, name)
    if tree.is_file(_join(direct, CHART_FILE)):
        return direct
    # A directory may be named otherwise than its chart, and an aliased dependency is
    # rendered under its alias.
    wanted = {name}
    dependencies = _chart_metadata(tree, chart_dir).get("dependencies")
    for dependency in dependencies if isinstance(dependencies, list) else []:
        if isinstance(dependency, dict) and dependency.get("alias") == name:
            wanted.add(str(dependency.get("name")))
    for entry in tree.list_dir(charts):
        directory = _join(charts, entry)
        if tree.is_dir(directory) and _chart_metadata(tree, directory).get("name") in wanted:
            return directory
    return None


def _chart_metadata(tree: FileTree, chart_dir: str) -> dict[str, Any]:
    """A chart's Chart.yaml, or {} when it cannot be read (helm will say why, if it matters)."""
    path = _join(chart_dir, CHART_FILE)
    try:
        documents = list(load_documents(decode(tree.read_bytes(path), path), path))
    except (OSError, YamlInputError):
        return {}
    data = documents[0].data if documents else None
    return data if isinstance(data, dict) else {}

