"""Argo CD discovery: the Applications a repository declares, and the paths each deploys.

Reads ``argoproj.io`` ``Application`` and ``ApplicationSet`` manifests through a
:class:`~gate.trees.FileTree` (a working tree or a git commit) and resolves, as Argo CD
does:

- each source's ``path`` and the tool that renders it: an explicit ``helm``,
  ``kustomize``, ``directory`` or ``plugin`` block, else a kustomization file, else
  ``Chart.yaml``, else a plain directory (``directory.recurse`` defaults to false);
- Helm ``valueFiles``, relative to ``source.path``, or ``$ref/...`` from the root of the
  repository of the ``ref:`` source of a multi-source Application;
- the ``argocd.argoproj.io/manifest-generate-paths`` annotation;
- ApplicationSets: ``git`` (directories and files), ``list`` and ``matrix`` generators
  evaluated against the tree, ``clusters`` ones in part, with legacy ``{{path}}`` or
  ``goTemplate`` templates.

Nothing here raises on a malformed manifest: whatever cannot be used becomes a
:class:`Note` ``(file, line, message)``; reporting manifest errors is the manifest
check's job. docs/environments.md states the exact rules.
"""
from __future__ import annotations

import codecs
import copy
import decimal
import json
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from yaml.nodes import Node

from gate.globs import match_name, match_path
from gate.limits import MAX_APPLICATIONS, MAX_GENERATOR_PARAMS, MAX_TEMPLATE_OUTPUT, LimitError
from gate.renderers.registry import HELM, RENDERERS
from gate.trees import FileTree, TreePathError, normalize, walk_yaml
from gate.yamlio import YamlInputError, decode, line_of_path, load_documents

#: The label (or annotation) on an Application that names its environment, by default.
DEFAULT_LABEL = "gate.dev/environment"
#: Labels read when the configured one is absent, in this order.
CONVENTIONAL_LABELS = ("environment", "env")
#: The environment of an Application that nothing names; policies treat it as prod.
UNKNOWN = "unknown"
MANIFEST_GENERATE_PATHS = "argocd.argoproj.io/manifest-generate-paths"
TOOLS = ("directory", "kustomize", "helm", "plugin")
# Source overrides that change what is deployed and that gate does not apply (it applies
# kustomize.images and helm.valueFiles): what such a source deploys cannot be judged.
_UNAPPLIED: dict[str, Callable[[str], bool]] = {
    "kustomize": lambda key: key not in ("images", "version"),
    "helm": lambda key: key in ("parameters", "values", "valuesObject", "fileParameters"),
}
GENERATORS = ("git", "list", "matrix", "merge", "clusters", "clusterDecisionResource",
              "scmProvider", "pullRequest", "plugin")
# Generators whose parameters come from Argo CD cluster secrets: expanded with none.
_CLUSTER_GENERATORS = ("clusters", "clusterDecisionResource")
_MANIFEST_SUFFIXES = (".yaml", ".yml", ".json", ".jsonnet")
_GLOB_CHARS = frozenset("*?[")
_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)

Params = dict[str, Any]


class Note(NamedTuple):
    """Something discovery passed over, and why: shown with ``-v``, never a failure."""

    file: str
    line: int | None
    message: str


# -- settings and results --------------------------------------------------------------


@dataclass(frozen=True)
class ArgoSettings:
    """How to discover: the ``discover: argocd`` entry of ``environments``."""

    label: str = DEFAULT_LABEL
    paths: tuple[str, ...] = ()  # where Application manifests are; () is the whole tree
    repo_urls: tuple[str, ...] = ()  # this repository's URLs; () accepts any
    target_revisions: tuple[str, ...] = ()  # globs of accepted revisions; () accepts any
    new_git_file_globbing: bool = False  # the ApplicationSet controller's flag

    def rejects(self, repo_url: str, revision: str) -> str | None:
        """Why a source at ``repo_url``/``revision`` is not read from this tree, or None."""
        if self.repo_urls:
            wanted = {normalize_repo_url(url) for url in self.repo_urls}
            if normalize_repo_url(repo_url) not in wanted:
                return f"repoURL {repo_url!r} is not this repository"
        if self.target_revisions and not any(
            match_name(pattern, _revision(revision)) for pattern in self.target_revisions
        ):
            accepted = ", ".join(self.target_revisions)
            return f"it tracks {revision or 'HEAD'!r}, not {accepted}"
        return None


@dataclass(frozen=True)
class AppSource:
    """One entry of ``spec.source``/``spec.sources`` as written."""

    index: int | None  # position in spec.sources; None for spec.source
    line: int
    repo_url: str = ""
    target_revision: str = "HEAD"
    path: str | None = None
    chart: str | None = None
    ref: str | None = None
    tool: str | None = None  # explicitly chosen tool
    recurse: bool = False
    include: str = ""
    exclude: str = ""
    value_files: tuple[str, ...] = ()
    ignore_missing_value_files: bool = False
    # spec.source.kustomize.images: (``kustomize edit set image`` argument, its line)
    kustomize_images: tuple[tuple[str, int], ...] = ()
    # Overrides gate does not apply (``kustomize.namePrefix``, ``helm.values``...): their
    # field names and the line of the first.
    unapplied: tuple[str, ...] = ()
    unapplied_line: int = 0

    @property
    def label(self) -> str:
        return "spec.source" if self.index is None else f"spec.sources[{self.index}]"


@dataclass(frozen=True)
class Application:
    """An Application manifest, or one an ApplicationSet generates."""

    name: str
    file: str
    line: int
    environment: str
    environment_from: str  # what named the environment, e.g. "label gate.dev/environment"
    sources: tuple[AppSource, ...]
    generate_paths: tuple[str, ...] = ()
    project: str = ""
    namespace: str = ""  # destination namespace
    destination: str = ""  # destination server, or name
    application_set: str | None = None

    @property
    def label(self) -> str:
        return _application_label(self.name, self.application_set)


def _application_label(name: str, application_set: str | None) -> str:
    owner = f" (from ApplicationSet {application_set!r})" if application_set else ""
    return f"Application {name!r}{owner}"


@dataclass(frozen=True)
class DeployedPath:
    """A repository path an Application deploys, with what renders it and where to."""

    path: str | None  # tree path of source.path ("" the root); None: a Helm repository chart
    environment: str
    application: str
    kind: str  # directory | kustomize | helm | plugin
    file: str  # the manifest of the Application (or of its ApplicationSet)
    line: int
    environment_from: str = ""
    recurse: bool = False  # subdirectories deployed too (always, but for directory sources)
    include: str = ""  # directory sources: glob of files to read
    exclude: str = ""  # directory sources: glob of files to leave out
    value_files: tuple[str, ...] = ()  # Helm values files, as tree paths
    extra_paths: tuple[str, ...] = ()  # manifest-generate-paths: tree paths or globs
    # Argo CD's image overrides of a kustomize source: (argument, Application file, line)
    kustomize_images: tuple[tuple[str, str, int], ...] = ()
    # Overrides of the source gate does not apply, and the line of the first.
    unapplied: tuple[str, ...] = ()
    unapplied_line: int = 0
    chart: str | None = None  # chart name, for a chart from a Helm repository
    repo_url: str = ""
    target_revision: str = ""
    namespace: str = ""
    destination: str = ""
    project: str = ""
    application_set: str | None = None
    source_index: int | None = None


@dataclass
class Discovery:
    applications: list[Application] = field(default_factory=list)
    deployed: list[DeployedPath] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


# -- small helpers -------------------------------------------------------------------------


def normalize_repo_url(url: str) -> str:
    """A repository URL in one spelling per repository, for comparison (as Argo CD does).

    Lowercase; scp-style ``git@host:org/repo`` becomes ``ssh://git@host/org/repo``;
    trailing ``/`` and ``.git`` go. ``https://`` and ``ssh://`` URLs of one repository
    stay different, as they are to Argo CD.
    """
    url = url.strip().lower()
    if re.match(r"^(ssh://)?[^/:]*?@[^@]+$", url) and not url.startswith("ssh://"):
        url = "ssh://" + url.replace(":", "/", 1)
    url = url.rstrip("/").removesuffix(".git").rstrip("/")
    return url


def _revision(revision: str) -> str:
    revision = revision.strip() or "HEAD"
    for prefix in ("refs/heads/", "refs/tags/"):
        revision = revision.removeprefix(prefix)
    return revision


def covers(pattern: str, path: str) -> bool:
    """Whether a path glob names ``path`` or a directory holding it.

    ``**`` spans directories (:func:`gate.globs.match_path`); ``dir/**`` also names
    ``dir`` itself, so a rendered overlay directory is covered like its files.
    """
    pattern = pattern.removeprefix("./").rstrip("/") or "**"
    if pattern.endswith("/**") and match_path(pattern[:-3], path):
        return True
    candidate = path
    while True:
        if match_path(pattern, candidate):
            return True
        if not candidate:
            return False
        candidate = posixpath.dirname(candidate)
        if not candidate:
            return False


def has_glob(text: str) -> bool:
    return any(char in _GLOB_CHARS for char in text)


def self_and_parents(path: str) -> Iterator[str]:
    """``a/b/c``, ``a/b``, ``a``, ``""``."""
    while True:
        yield path
        if not path:
            return
        path = posixpath.dirname(path)


@lru_cache(maxsize=512)
def _glob_regex(pattern: str, any_char: str, braces: bool) -> re.Pattern[str] | None:
    """A glob as a regex; ``any_char`` is what ``*``/``?`` may match; None if malformed."""
    out: list[str] = []
    depth = 0
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append(f"{any_char}*")
        elif char == "?":
            out.append(any_char)
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                return None
            body = pattern[i + 1:end]
            if body[0] in "!^":
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        elif braces and char == "{":
            depth += 1
            out.append("(?:")
        elif braces and char == "}" and depth:
            depth -= 1
            out.append(")")
        elif braces and char == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(char))
        i += 1
    if depth:
        return None
    return re.compile("".join(out) + r"\Z", re.S)


def go_path_match(pattern: str, name: str) -> bool:
    """Go's ``path.Match``: ``*`` and ``?`` stay within one directory."""
    regex = _glob_regex(pattern, "[^/]", False)
    return regex is not None and regex.match(name) is not None


def glob_match_any(pattern: str, text: str) -> bool:
    """Argo CD's ``glob.Match`` without separators: ``*`` spans directories, ``{a,b}``."""
    regex = _glob_regex(pattern, ".", True)
    return regex is not None and regex.match(text) is not None


def _git_pathspec_match(pattern: str, path: str) -> bool:
    """``git ls-files -- PATTERN`` (Argo CD's default file globbing): ``*`` spans ``/``."""
    pattern = pattern.lstrip("/")
    if not has_glob(pattern):
        return path == pattern or path.startswith(pattern.rstrip("/") + "/")
    regex = _glob_regex(pattern, ".", False)
    return regex is not None and regex.match(path) is not None


def _doublestar_match(pattern: str, path: str) -> bool:
    """``--enable-new-git-file-globbing``: ``*`` within a directory, ``**`` across."""
    return match_path(pattern.lstrip("/"), path)


def sanitize_name(name: str) -> str:
    """Argo CD's ``SanitizeName``: the ``...Normalized`` parameters."""
    name = re.sub(r"[^-a-z0-9.]", "-", name.lower())[:253]
    return name.strip("-.")


def go_string(value: Any) -> str:
    """A value as Go's ``fmt`` prints it (``%v``): what template parameters become."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, (int, float)):
        return _go_float(float(value))
    if isinstance(value, list):
        return "[" + " ".join(go_string(item) for item in value) + "]"
    if isinstance(value, dict):
        items = sorted((go_string(k), go_string(v)) for k, v in value.items())
        return "map[" + " ".join(f"{k}:{v}" for k, v in items) + "]"
    return str(value)


def _go_float(number: float) -> str:
    """Go's shortest ``%g`` (JSON numbers reach templates as float64): 123456, 1e+06."""
    if number != number:
        return "NaN"
    if number in (float("inf"), float("-inf")):
        return "+Inf" if number > 0 else "-Inf"
    if number == 0:
        return "0"
    minus = "-" if number < 0 else ""
    _, digit_tuple, exponent = decimal.Decimal(repr(abs(number))).normalize().as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + exponent  # where the decimal point goes among the digits
    if not -4 <= point - 1 < 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{minus}{mantissa}e{point - 1:+03d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return minus + digits + "0" * (point - len(digits))
    return f"{minus}{digits[:point]}.{digits[point:]}"


# -- templates -----------------------------------------------------------------------------


class _TooLong(LimitError):
    """A template string that renders too long; the caller adds the file and line."""


class TemplateError(Exception):
    """A template this module cannot render (or that Argo CD would refuse)."""


_LEGACY_TAG = re.compile(r"\{\{(.*?)\}\}", re.S)
_GO_ACTION = re.compile(r"\{\{(.*?)\}\}", re.S)
_GO_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<raw>`[^`]*`)
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<field>\$?(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.|\$)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<pipe>\|)
    | (?P<open>\()
    | (?P<close>\))
    )""",
    re.X,
)
_GO_KEYWORDS = {"if", "else", "end", "range", "with", "define", "template", "block", "break",
                "continue"}


def render_string(text: str, params: Params, go_template: bool) -> str:
    """One template string rendered with generator parameters, as an ApplicationSet does.

    Legacy templates replace ``{{key}}`` by the string parameter ``key`` and leave unknown
    tags as written; Go templates support field access, ``index`` and a few functions
    (see docs/environments.md) and raise TemplateError on anything else or a missing key.
    """
    if "{{" not in text:
        return text
    if not go_template:
        grown = [len(text)]
        return _LEGACY_TAG.sub(lambda m: _legacy_tag(m, params, grown), text)
    return _render_go(text, params)


def _legacy_tag(match: re.Match[str], params: Params, grown: list[int]) -> str:
    value = params.get(match.group(1).strip())
    if not (isinstance(value, str) and match.group(1).strip()):
        return match.group(0)
    grown[0] += len(value)
    _check_output(grown[0])
    return value


def _check_output(length: int) -> None:
    """A rendered string may not outgrow MAX_TEMPLATE_OUTPUT (tags substituting a long
    parameter many times multiply): checked before the text is built."""
    if length > MAX_TEMPLATE_OUTPUT:
        raise _TooLong(f"a template renders a string of more than {MAX_TEMPLATE_OUTPUT:,} "
                       "characters")


def _replace(old: Any, new: Any, s: Any) -> str:
    text, old_text, new_text = go_string(s), go_string(old), go_string(new)
    count = len(text) + 1 if not old_text else text.count(old_text)
    _check_output(len(text) + count * (len(new_text) - len(old_text)))
    return text.replace(old_text, new_text)


def _render_go(text: str, params: Params) -> str:
    out: list[str] = []
    position = 0
    grown = 0
    trim_next = False
    for match in _GO_ACTION.finditer(text):
        literal = text[position:match.start()]
        body = match.group(1)
        if trim_next:
            literal = literal.lstrip()
        if len(body) > 1 and body[0] == "-" and body[1].isspace():
            literal = literal.rstrip()
            body = body[1:]
        trim_next = len(body) > 1 and body[-1] == "-" and body[-2].isspace()
        if trim_next:
            body = body[:-1]
        out.append(literal)
        out.append(_go_action(body.strip(), params))
        grown += len(literal) + len(out[-1])
        _check_output(grown)
        position = match.end()
    rest = text[position:]
    out.append(rest.lstrip() if trim_next else rest)
    return "".join(out)


def _go_action(body: str, params: Params) -> str:
    if body.startswith("/*") and body.endswith("*/"):
        return ""
    tokens = _go_tokens(body)
    value, position = _go_pipeline(tokens, 0, params)
    if position != len(tokens):
        raise TemplateError(f"unexpected {tokens[position][1]!r} in {{{{{body}}}}}")
    if value is _MISSING:
        raise TemplateError(f"no value for {{{{{body}}}}}")
    return go_string(value)


def _go_tokens(body: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(body):
        if body[position:].strip() == "":
            break
        match = _GO_TOKEN.match(body, position)
        if match is None or match.end() == position:
            raise TemplateError(f"cannot read {body[position:].strip()!r} in {{{{{body}}}}}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "ident" and value in _GO_KEYWORDS:
            raise TemplateError(f"'{value}' is not supported in {{{{{body}}}}}")
        tokens.append((kind, value))
        position = match.end()
    return tokens


def _go_pipeline(tokens: list[tuple[str, str]], position: int, params: Params) -> tuple[Any, int]:
    value: Any = None
    piped = False
    while True:
        value, position = _go_command(tokens, position, params, value if piped else _NOTHING)
        if position < len(tokens) and tokens[position][0] == "pipe":
            position += 1
            piped = True
            continue
        return value, position


_NOTHING = object()  # no piped value
_MISSING = object()  # a map key that is not there: Go's "<no value>"


def _go_command(
    tokens: list[tuple[str, str]], position: int, params: Params, piped: Any
) -> tuple[Any, int]:
    args: list[Any] = []
    function: str | None = None
    while position < len(tokens) and tokens[position][0] not in ("pipe", "close"):
        kind, text = tokens[position]
        if kind == "ident" and not args and function is None and text not in _GO_CONSTANTS:
            function = text
            position += 1
            continue
        value, position = _go_operand(tokens, position, params)
        args.append(value)
    if piped is not _NOTHING:
        args.append(piped)
    if function is not None:
        return _go_call(function, args), position
    if len(args) != 1:
        raise TemplateError("a value cannot take arguments" if args else "empty command")
    return args[0], position


_GO_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "nil": None}


def _go_operand(tokens: list[tuple[str, str]], position: int, params: Params) -> tuple[Any, int]:
    kind, text = tokens[position]
    if kind == "open":
        value, position = _go_pipeline(tokens, position + 1, params)
        if position >= len(tokens) or tokens[position][0] != "close":
            raise TemplateError("unclosed '('")
        return value, position + 1
    if kind == "str":
        try:
            return json.loads(text), position + 1
        except ValueError:
            raise TemplateError(f"cannot read the string {text}") from None
    if kind == "raw":
        return text[1:-1], position + 1
    if kind == "num":
        return (float(text) if "." in text else int(text)), position + 1
    if kind == "ident" and text in _GO_CONSTANTS:
        return _GO_CONSTANTS[text], position + 1
    if kind == "field":
        return _go_field(text, params), position + 1
    raise TemplateError(f"unexpected {text!r}")


def _go_field(text: str, params: Params) -> Any:
    value: Any = params
    for name in text.lstrip("$").split(".")[1:]:
        if not isinstance(value, dict):
            raise TemplateError(f"no parameter {text}")
        value = value.get(name, _MISSING)
    return value


def _go_index(value: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(value, list) and isinstance(key, int) and not isinstance(key, bool):
            if not 0 <= key < len(value):
                raise TemplateError(f"index {key} out of range (length {len(value)})")
            value = value[key]
        elif isinstance(value, dict) and isinstance(key, str):
            value = value.get(key, _MISSING)
        else:
            raise TemplateError(f"cannot index {go_string(value)!r} with {go_string(key)!r}")
    return value


def _go_printf(form: Any, *args: Any) -> str:
    values = iter(args)

    def verb(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        try:
            value = next(values)
        except StopIteration:
            return f"%!{match.group(1)}(MISSING)"
        return f'"{go_string(value)}"' if match.group(1) == "q" else go_string(value)

    return re.sub(r"%%|%([svdq])", verb, str(form))


def _go_default(fallback: Any, value: Any = _MISSING) -> Any:
    empty = value is _MISSING or value is None or value in ("", [], {}, 0, False)
    return fallback if empty else value


_GO_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "index": _go_index,
    "lower": lambda s: go_string(s).lower(),
    "upper": lambda s: go_string(s).upper(),
    "trim": lambda s: go_string(s).strip(),
    "trimPrefix": lambda prefix, s: go_string(s).removeprefix(go_string(prefix)),
    "trimSuffix": lambda suffix, s: go_string(s).removesuffix(go_string(suffix)),
    "replace": _replace,
    "default": _go_default,
    "printf": _go_printf,
    "print": lambda *args: "".join(go_string(a) for a in args),
    "toString": go_string,
    "normalize": lambda s: sanitize_name(go_string(s)),
}


def _go_call(name: str, args: list[Any]) -> Any:
    function = _GO_FUNCTIONS.get(name)
    if function is None:
        raise TemplateError(f"function {name!r} is not supported")
    if name != "default" and any(arg is _MISSING for arg in args):
        raise TemplateError(f"{name} of a parameter that is not there")
    try:
        return function(*args)
    except TypeError:
        raise TemplateError(f"wrong number of arguments for {name!r}") from None


def render_object(value: Any, params: Params, go_template: bool) -> tuple[Any, list[str]]:
    """Every string in ``value`` rendered; a string that fails stays as written.

    Returns the rendered copy and the problems, each ``field: reason``.
    """
    problems: list[str] = []

    def walk(item: Any, where: str) -> Any:
        if isinstance(item, dict):
            return {key: walk(child, f"{where}.{key}" if where else str(key))
                    for key, child in item.items()}
        if isinstance(item, list):
            return [walk(child, f"{where}[{i}]") for i, child in enumerate(item)]
        if isinstance(item, str):
            try:
                return render_string(item, params, go_template)
            except TemplateError as exc:
                problems.append(f"{where}: {exc}")
        return item

    return walk(value, ""), problems


# -- reading manifests ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Doc:
    """Where an (possibly generated) Application is written, for lines."""

    file: str
    line: int
    node: Node | None = None
    prefix: tuple[str | int, ...] = ()

    def line_at(self, *path: str | int) -> int:
        if self.node is None:
            return self.line
        return line_of_path(self.node, (*self.prefix, *path))


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _usable(mapping: Any, key: str) -> str:
    """A label or annotation value that names something: non-empty and fully rendered."""
    value = _text(_mapping(mapping).get(key))
    return value if value and "{{" not in value else ""


def manifest_files(tree: FileTree, patterns: Iterable[str] = ()) -> list[str]:
    """The YAML files to read Applications from: those ``patterns`` cover, or all."""
    patterns = list(patterns)
    if not patterns:
        return sorted(walk_yaml(tree, ""))
    found: set[str] = set()
    for pattern in patterns:
        base = _static_prefix(pattern)
        candidates = [base] if tree.is_file(base) else walk_yaml(tree, base)
        found.update(path for path in candidates if covers(pattern, path))
    return sorted(found)


def _static_prefix(pattern: str) -> str:
    parts: list[str] = []
    for part in pattern.removeprefix("./").strip("/").split("/"):
        if has_glob(part) or part == "":
            break
        parts.append(part)
    return "/".join(parts)


class _TreeIndex:
    """Every directory and file of the tree (hidden ones skipped), listed once."""

    def __init__(self, tree: FileTree) -> None:
        self.tree = tree
        self._dirs: list[str] | None = None
        self._files: list[str] = []

    def _walk(self) -> None:
        dirs: list[str] = []
        files: list[str] = []
        stack = [""]
        while stack:
            current = stack.pop()
            for name in self.tree.list_dir(current):
                if name.startswith("."):
                    continue
                path = f"{current}/{name}" if current else name
                if self.tree.is_dir(path):
                    dirs.append(path)
                    stack.append(path)
                else:
                    files.append(path)
        self._dirs, self._files = sorted(dirs), sorted(files)

    @property
    def dirs(self) -> list[str]:
        if self._dirs is None:
            self._walk()
        assert self._dirs is not None
        return self._dirs

    @property
    def files(self) -> list[str]:
        if self._dirs is None:
            self._walk()
        return self._files


@dataclass
class _Expansion:
    """The parameter sets of a generator; ``partial`` when some come from the cluster."""

    params: list[Params]
    partial: bool = False


class _Discoverer:
    """One discovery run over one tree."""

    def __init__(self, tree: FileTree, settings: ArgoSettings) -> None:
        self.tree = tree
        self.settings = settings
        self.index = _TreeIndex(tree)
        self.result = Discovery()
        self._chart_dirs: dict[str, bool] = {}

    def note(self, file: str, line: int | None, message: str) -> None:
        self.result.notes.append(Note(file, line, message))

    def run(self) -> Discovery:
        for file in manifest_files(self.tree, self.settings.paths):
            self.read_file(file)
        self.result.notes = list(dict.fromkeys(self.result.notes))
        return self.result

    # -- files -------------------------------------------------------------------------
    def read_file(self, file: str) -> None:
        try:
            raw = self.tree.read_bytes(file)
        except OSError as exc:
            self.note(file, None, f"cannot read: {exc.strerror or exc}; skipped")
            return
        if b"argoproj.io" not in raw and not raw.startswith(_BOMS):
            return
        if self._in_chart_templates(file):
            self.note(file, None, "a Helm chart template: Applications in it are not "
                                  "discovered (they exist only once the chart is rendered)")
            return
        try:
            documents = list(load_documents(decode(raw, file), file))
        except YamlInputError as exc:
            self.note(file, exc.line, f"skipped: {exc.message}")
            return
        for document in documents:
            data = document.data
            if not isinstance(data, dict) or not _text(data.get("apiVersion")).startswith(
                "argoproj.io/"
            ):
                continue
            doc = _Doc(file, document.line, document.node)
            if data.get("kind") == "Application":
                self.add_application(data, doc)
            elif data.get("kind") == "ApplicationSet":
                self.expand_application_set(data, doc)

    def _in_chart_templates(self, file: str) -> bool:
        parts = file.split("/")
        for i, part in enumerate(parts[:-1]):
            if part == "templates":
                chart = "/".join(parts[:i])
                if chart not in self._chart_dirs:
                    self._chart_dirs[chart] = HELM.marker(self.tree, chart) is not None
                if self._chart_dirs[chart]:
                    return True
        return False

    # -- Applications ------------------------------------------------------------------
    def add_application(
        self, obj: dict[str, Any], doc: _Doc, owner: dict[str, Any] | None = None,
        partial: bool = False,
    ) -> None:
        app = self.read_application(obj, doc, owner, partial)
        if app is None:
            return
        if len(self.result.applications) >= MAX_APPLICATIONS:
            raise LimitError(f"more than {MAX_APPLICATIONS:,} Argo CD Applications in the "
                             "repository (gate's limit)", doc.file, doc.line)
        self.result.applications.append(app)
        self.result.deployed.extend(self.deploy(app))

    def read_application(
        self, obj: dict[str, Any], doc: _Doc, owner: dict[str, Any] | None = None,
        partial: bool = False,
    ) -> Application | None:
        meta = _mapping(obj.get("metadata"))
        name = _text(meta.get("name"))
        owner_name = _text(_mapping(_mapping(owner).get("metadata")).get("name")) or None
        if not name:
            self.note(doc.file, doc.line_at("metadata"), "an Application has no metadata.name")
            name = "(unnamed)"
        label = _application_label(name, owner_name)
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            self.note(doc.file, doc.line_at("spec"), f"{label}: spec is not a mapping; skipped")
            return None
        sources = self.read_sources(spec, doc, label)
        if not sources:
            return None
        environment, origin = environment_of_application(
            meta, spec, _mapping(_mapping(owner).get("metadata")), self.settings.label, partial)
        destination = _mapping(spec.get("destination"))
        annotations = _mapping(meta.get("annotations"))
        generate = _text(annotations.get(MANIFEST_GENERATE_PATHS))
        return Application(
            name=name, file=doc.file, line=doc.line, environment=environment,
            environment_from=origin, sources=tuple(sources),
            generate_paths=tuple(p.strip() for p in generate.split(";") if p.strip()),
            project=_text(spec.get("project")), namespace=_text(destination.get("namespace")),
            destination=_text(destination.get("server")) or _text(destination.get("name")),
            application_set=owner_name,
        )

    def read_sources(self, spec: dict[str, Any], doc: _Doc, label: str) -> list[AppSource]:
        raw_sources = spec.get("sources")
        entries: list[tuple[int | None, Any]]
        if isinstance(raw_sources, list) and raw_sources:
            entries = list(enumerate(raw_sources))
        elif "source" in spec:
            entries = [(None, spec["source"])]
        else:
            self.note(doc.file, doc.line_at("spec"), f"{label}: no spec.source or spec.sources")
            return []
        sources: list[AppSource] = []
        for index, raw in entries:
            where: tuple[str | int, ...] = ("spec", "source") if index is None else (
                "spec", "sources", index)
            if not isinstance(raw, dict):
                name = AppSource(index, 0).label
                self.note(doc.file, doc.line_at(*where), f"{label}: {name} is not a mapping; "
                                                         "skipped")
                continue
            sources.append(self.read_source(raw, index, doc, where, label))
        return sources

    def read_source(
        self, raw: dict[str, Any], index: int | None, doc: _Doc, where: tuple[str | int, ...],
        label: str,
    ) -> AppSource:
        line = doc.line_at(*where)
        path = raw.get("path")
        if path is not None and not isinstance(path, str):
            self.note(doc.file, doc.line_at(*where, "path"), f"{label}: path is not a string")
            path = None
        tools = [tool for tool in TOOLS if raw.get(tool) is not None]
        if len(tools) > 1:
            self.note(doc.file, line, f"{label}: more than one tool ({', '.join(tools)}); "
                                      "Argo CD refuses this source, gate detects the tool")
        directory = _mapping(raw.get("directory"))
        helm = _mapping(raw.get("helm"))
        value_files = helm.get("valueFiles")
        files: list[str] = []
        for i, item in enumerate(value_files if isinstance(value_files, list) else []):
            if isinstance(item, str) and item.strip():
                files.append(item.strip())
            else:
                self.note(doc.file, doc.line_at(*where, "helm", "valueFiles", i),
                          f"{label}: a values file is not a string; ignored")
        overrides: list[tuple[str, int]] = []
        images = _mapping(raw.get("kustomize")).get("images")
        for i, item in enumerate(images if isinstance(images, list) else []):
            if isinstance(item, str) and item.strip():
                overrides.append((item.strip(), doc.line_at(*where, "kustomize", "images", i)))
            else:
                self.note(doc.file, doc.line_at(*where, "kustomize", "images", i),
                          f"{label}: a kustomize image override is not a string; ignored")
        unapplied = [f"{tool}.{key}" for tool, keys in _UNAPPLIED.items()
                     for key in sorted(_mapping(raw.get(tool))) if keys(key)]
        first = unapplied[0].split(".", 1) if unapplied else None
        return AppSource(
            index=index, line=line, repo_url=_text(raw.get("repoURL")),
            target_revision=_text(raw.get("targetRevision")) or "HEAD",
            path=path.strip() if isinstance(path, str) else None,
            chart=_text(raw.get("chart")) or None, ref=_text(raw.get("ref")) or None,
            tool=tools[0] if len(tools) == 1 else None,
            recurse=directory.get("recurse") is True,
            include=_text(directory.get("include")), exclude=_text(directory.get("exclude")),
            value_files=tuple(files),
            ignore_missing_value_files=helm.get("ignoreMissingValueFiles") is True,
            kustomize_images=tuple(overrides),
            unapplied=tuple(unapplied),
            unapplied_line=doc.line_at(*where, *first) if first else 0,
        )

    # -- what an Application deploys ---------------------------------------------------
    def deploy(self, app: Application) -> list[DeployedPath]:
        refs = {source.ref: source for source in app.sources if source.ref}
        deployed: list[DeployedPath] = []
        for source in app.sources:
            if source.chart:
                found = self.deploy_chart(app, source, refs)
            elif source.path is None:
                if not source.ref:
                    self.note(app.file, source.line,
                              f"{app.label}: {source.label} has neither path nor chart")
                continue
            else:
                found = self.deploy_path(app, source, refs)
            if found is not None:
                deployed.append(found)
        return deployed

    def deploy_path(
        self, app: Application, source: AppSource, refs: dict[str, AppSource]
    ) -> DeployedPath | None:
        assert source.path is not None
        reason = self.settings.rejects(source.repo_url, source.target_revision)
        if reason is not None:
            self.note(app.file, source.line,
                      f"{app.label}: {source.label} is not deployed from here: {reason}")
            return None
        if "{{" in source.path:
            self.note(app.file, source.line,
                      f"{app.label}: path {source.path!r} is an unrendered template; skipped")
            return None
        try:
            path = normalize(source.path.lstrip("/"))
        except TreePathError:
            self.note(app.file, source.line,
                      f"{app.label}: path {source.path!r} leaves the repository; ignored")
            return None
        kind = source.tool or self.detect_tool(path)
        if not self.tree.is_dir(path):
            self.note(app.file, source.line,
                      f"{app.label}: path {path or '.'!r} is not a directory of the repository")
        return self.deployed_path(app, source, path, kind, refs)

    def deploy_chart(
        self, app: Application, source: AppSource, refs: dict[str, AppSource]
    ) -> DeployedPath | None:
        """A chart from a Helm repository: only its ``$ref`` values files are ours."""
        found = self.deployed_path(app, source, None, "helm", refs)
        return found if found.value_files or found.extra_paths else None

    def deployed_path(
        self, app: Application, source: AppSource, path: str | None, kind: str,
        refs: dict[str, AppSource],
    ) -> DeployedPath:
        return DeployedPath(
            path=path, environment=app.environment, application=app.name, kind=kind,
            file=app.file, line=app.line, environment_from=app.environment_from,
            recurse=source.recurse if kind == "directory" else True,
            include=source.include if kind == "directory" else "",
            exclude=source.exclude if kind == "directory" else "",
            value_files=self.value_files(app, source, path, refs),
            extra_paths=self.extra_paths(app, source, path),
            chart=source.chart, repo_url=source.repo_url,
            target_revision=source.target_revision, namespace=app.namespace,
            destination=app.destination, project=app.project,
            application_set=app.application_set, source_index=source.index,
            kustomize_images=tuple((spec, app.file, line) for spec, line in
                                   source.kustomize_images) if kind == "kustomize" else (),
            unapplied=tuple(name for name in source.unapplied
                            if name.startswith(f"{kind}.")),
            unapplied_line=source.unapplied_line,
        )

    def detect_tool(self, path: str) -> str:
        """As Argo CD: a kustomization file, else ``Chart.yaml``, else a plain directory
        (the registry offers a directory to Kustomize first, then Helm, as Argo CD does)."""
        for renderer in RENDERERS:
            if renderer.marker(self.tree, path) is not None:
                return renderer.kind
        return "directory"

    def value_files(
        self, app: Application, source: AppSource, path: str | None, refs: dict[str, AppSource]
    ) -> tuple[str, ...]:
        resolved: list[str] = []
        for raw in source.value_files:
            where = self.value_file_base(app, source, raw, path, refs)
            if where is None:
                continue
            base, relative = where
            try:
                file = normalize(relative, base)
            except TreePathError:
                self.note(app.file, source.line,
                          f"{app.label}: values file {raw!r} leaves the repository; ignored")
                continue
            resolved.extend(self.existing_value_files(app, source, raw, file))
        return tuple(dict.fromkeys(resolved))

    def value_file_base(
        self, app: Application, source: AppSource, raw: str, path: str | None,
        refs: dict[str, AppSource],
    ) -> tuple[str, str] | None:
        """(base, relative path) of a values file in this tree, or None (with a note)."""
        if raw.startswith("$"):
            name, _, rest = raw[1:].partition("/")
            ref = refs.get(name)
            if ref is None:
                self.note(app.file, source.line,
                          f"{app.label}: values file {raw!r} names no source with ref: {name}")
                return None
            reason = self.settings.rejects(ref.repo_url, ref.target_revision)
            if reason is not None:
                self.note(app.file, source.line, f"{app.label}: values file {raw!r} is not "
                                                 f"read from here: {reason}")
                return None
            return "", rest
        if "://" in raw:
            self.note(app.file, source.line,
                      f"{app.label}: values file {raw!r} is remote, not in the repository")
            return None
        if path is None:  # relative to a chart from a Helm repository: not in this tree
            return None
        return ("", raw.lstrip("/")) if raw.startswith("/") else (path, raw)

    def existing_value_files(
        self, app: Application, source: AppSource, raw: str, file: str
    ) -> list[str]:
        if has_glob(file):
            found = expand_glob(self.tree, file)
            if not found and not source.ignore_missing_value_files:
                self.note(app.file, source.line,
                          f"{app.label}: values file pattern {raw!r} matches no file")
            return found
        if not self.tree.is_file(file) and not source.ignore_missing_value_files:
            self.note(app.file, source.line,
                      f"{app.label}: values file {raw!r} ({file}) does not exist")
        return [file]

    def extra_paths(self, app: Application, source: AppSource, path: str | None) -> tuple[str, ...]:
        """``manifest-generate-paths``: relative to the source's path, or absolute with ``/``."""
        found: list[str] = []
        for raw in app.generate_paths:
            if not raw.startswith("/") and path is None:
                continue
            base, relative = ("", raw.lstrip("/")) if raw.startswith("/") else (path or "", raw)
            try:
                found.append(normalize(relative, base))
            except TreePathError:
                self.note(app.file, app.line, f"{app.label}: {MANIFEST_GENERATE_PATHS} path "
                                              f"{raw!r} leaves the repository; ignored")
        return tuple(dict.fromkeys(found))

    # -- ApplicationSets ---------------------------------------------------------------
    def expand_application_set(self, obj: dict[str, Any], doc: _Doc) -> None:
        name = _text(_mapping(obj.get("metadata")).get("name")) or "(unnamed)"
        label = f"ApplicationSet {name!r}"
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            self.note(doc.file, doc.line_at("spec"), f"{label}: spec is not a mapping; skipped")
            return
        generators = spec.get("generators")
        if not isinstance(generators, list) or not generators:
            self.note(doc.file, doc.line_at("spec"), f"{label}: no generators; nothing generated")
            return
        if spec.get("templatePatch"):
            self.note(doc.file, doc.line_at("spec", "templatePatch"),
                      f"{label}: templatePatch is not applied")
        go_template = spec.get("goTemplate") is True
        expander = _Expander(self, go_template, doc.file, label)
        for i, generator in enumerate(generators):
            line = doc.line_at("spec", "generators", i)
            try:
                expansion = expander.expand(generator, line)
                if expansion is None:
                    continue
                template = _merge(_mapping(spec.get("template")), _generator_template(generator))
                generated = _Doc(doc.file, doc.line, doc.node, ("spec", "template"))
                for params in expansion.params:
                    self.add_generated(obj, template, params, go_template, expansion.partial,
                                       generated, label)
            except LimitError as exc:
                if exc.file is not None:
                    raise
                # A bound of gate/limits.py: blame the generator that exceeded it.
                raise LimitError(f"{label}: {exc.message}", doc.file, line) from None

    def add_generated(
        self, owner: dict[str, Any], template: dict[str, Any], params: Params, go_template: bool,
        partial: bool, doc: _Doc, label: str,
    ) -> None:
        rendered, problems = render_object(template, params, go_template)
        if problems and not partial:
            self.note(doc.file, doc.line_at(), f"{label}: cannot render "
                                               f"{'; '.join(problems)}")
        self.add_application(rendered, doc, owner, partial)


Notify = Callable[[str, "int | None", str], None]


def _check_params(count: int, what: str) -> None:
    if count > MAX_GENERATOR_PARAMS:
        raise LimitError(f"a generator yields more than {MAX_GENERATOR_PARAMS:,} {what} "
                         "(gate's limit)")


class _Expander:
    """The generators of one ApplicationSet, expanded into parameter sets.

    Notes name the ApplicationSet's file and the line of the generator at hand.
    """

    def __init__(self, discoverer: _Discoverer, go_template: bool, file: str,
                 label: str) -> None:
        self.tree = discoverer.tree
        self.index = discoverer.index
        self.settings = discoverer.settings
        self.notify: Notify = discoverer.note
        self.go_template = go_template
        self.file = file
        self.label = label
        self.parameter_files: dict[tuple[str, int], list[dict[str, Any]]] = {}

    def note(self, line: int, message: str) -> None:
        self.notify(self.file, line, f"{self.label}: {message}")

    def expand(self, generator: Any, line: int) -> _Expansion | None:
        kinds = [key for key in _mapping(generator) if key != "selector"]
        if len(kinds) != 1:
            self.note(line, "a generator needs exactly one type; skipped")
            return None
        spec = _mapping(_mapping(generator)[kinds[0]])
        if _mapping(generator).get("selector"):
            self.note(line, "the generator's selector is not applied; every Application it "
                            "could generate is counted")
        expansion = self.expand_kind(kinds[0], spec, line)
        if expansion is not None:
            expansion.params = _with_values(expansion.params, spec.get("values"),
                                            self.go_template)
        return expansion

    def expand_kind(self, kind: str, spec: dict[str, Any], line: int) -> _Expansion | None:
        if kind == "git":
            params = self.git(spec, line)
            return None if params is None else _Expansion(params)
        if kind == "list":
            return _Expansion(self.list_elements(spec, line))
        if kind == "matrix":
            return self.matrix(spec, line)
        if kind in _CLUSTER_GENERATORS:
            self.note(line, f"'{kind}' parameters come from Argo CD cluster secrets; its "
                            f"Applications are counted with environment '{UNKNOWN}' unless "
                            "the template names one")
            return _Expansion([{}], partial=True)
        known = "the" if kind in GENERATORS else "unknown"
        self.note(line, f"{known} '{kind}' generator is not expanded; the Applications it "
                        "generates are not known")
        return None

    # -- git -------------------------------------------------------------------------------
    def git(self, spec: dict[str, Any], line: int) -> list[Params] | None:
        reason = self.settings.rejects(_text(spec.get("repoURL")),
                                       _text(spec.get("revision")) or "HEAD")
        if reason is not None:
            self.note(line, f"git generator not expanded: {reason}")
            return None
        prefix = _text(spec.get("pathParamPrefix"))
        directories = spec.get("directories")
        if isinstance(directories, list) and directories:
            dirs = self.directories(self.path_items(directories, line), line)
            return directory_params(dirs, self.go_template, prefix)
        files = spec.get("files")
        if isinstance(files, list) and files:
            return self.file_params(self.path_items(files, line), prefix, line)
        self.note(line, "git generator has neither directories nor files")
        return None

    def path_items(self, items: list[Any], line: int) -> list[tuple[str, bool]]:
        """(path, exclude) of each entry of ``directories``/``files``."""
        found: list[tuple[str, bool]] = []
        for item in items:
            path = _text(_mapping(item).get("path"))
            if not path:
                self.note(line, "a git generator entry has no path; ignored")
                continue
            found.append((path, _mapping(item).get("exclude") is True))
        return found

    def directories(self, items: list[tuple[str, bool]], line: int) -> list[str]:
        """Directories of the tree matching an include and no exclude (excludes win)."""
        for pattern, _ in items:
            if pattern.startswith("/"):
                self.note(line, f"directory pattern {pattern!r} starts with '/'; Argo CD "
                                "matches paths without one, so it matches nothing")
        includes = [p for p, exclude in items if not exclude]
        excludes = [p for p, exclude in items if exclude]
        return [
            d for d in self.index.dirs
            if any(go_path_match(p, d) for p in includes)
            and not any(go_path_match(p, d) for p in excludes)
        ]

    def file_params(
        self, items: list[tuple[str, bool]], prefix: str, line: int
    ) -> list[Params]:
        match = _doublestar_match if self.settings.new_git_file_globbing else _git_pathspec_match
        includes = [p for p, exclude in items if not exclude]
        excludes = [p for p, exclude in items if exclude]
        params: list[Params] = []
        for path in self.index.files:
            if any(match(p, path) for p in includes) and not any(match(p, path) for p in excludes):
                objects = self.parameter_file(path, line)
                _check_params(len(params) + len(objects), "git files entries")
                params += [file_param_set(obj, path, self.go_template, prefix)
                           for obj in objects]
        return params

    def parameter_file(self, path: str, line: int) -> list[dict[str, Any]]:
        """The objects of a files-generator file: one mapping, or a list of them.

        Read once per ApplicationSet: a matrix expands its second generator once for
        every parameter set of its first, and must not parse the same file each time."""
        key = (path, line)
        if key not in self.parameter_files:
            self.parameter_files[key] = self.read_parameter_file(path, line)
        return self.parameter_files[key]

    def read_parameter_file(self, path: str, line: int) -> list[dict[str, Any]]:
        where = f"{self.label} (at {self.file}:{line})"
        try:
            documents = list(load_documents(decode(self.tree.read_bytes(path), path), path))
        except YamlInputError as exc:
            self.notify(path, exc.line, f"{where}: parameter file skipped: {exc.message}")
            return []
        except OSError as exc:
            self.notify(path, None, f"{where}: parameter file skipped: {exc}")
            return []
        data = documents[0].data if documents else None
        if data is None:
            return [{}]
        if isinstance(data, dict):
            return [data]
        if isinstance(data, list) and all(isinstance(item, dict) for item in data):
            return data
        self.notify(path, None, f"{where}: parameter file is neither a mapping nor a list of "
                                "mappings; skipped")
        return []

    # -- list and matrix -------------------------------------------------------------------
    def list_elements(self, spec: dict[str, Any], line: int) -> list[Params]:
        if isinstance(spec.get("elementsYaml"), str):
            self.note(line, "list elementsYaml is not expanded")
        elements = spec.get("elements")
        if isinstance(elements, list):
            _check_params(len(elements), "list elements")
        params: list[Params] = []
        for i, element in enumerate(elements if isinstance(elements, list) else []):
            if not isinstance(element, dict):
                self.note(line, f"list element {i} is not a mapping; skipped")
            elif self.go_template:
                params.append(copy.deepcopy(element))
            elif (flat := legacy_list_params(element)) is not None:
                params.append(flat)
            else:
                self.note(line, f"list element {i} has a value that is not a string, which "
                                "Argo CD refuses without goTemplate; skipped")
        return params

    def matrix(self, spec: dict[str, Any], line: int) -> _Expansion | None:
        """Every pair of parameter sets; the second generator may use the first's."""
        children = spec.get("generators")
        if not isinstance(children, list) or len(children) != 2:
            self.note(line, "a matrix needs exactly two generators; skipped")
            return None
        first = self.expand(children[0], line)
        if first is None:
            return None
        combined = _Expansion([], first.partial)
        for params in first.params:
            child, _ = render_object(children[1], params, self.go_template)
            second = self.expand(child, line)
            if second is None:
                return None
            combined.partial = combined.partial or second.partial
            # The product is checked before it is built: two lists of 10,000 are 10^8.
            _check_params(len(combined.params) + len(second.params), "matrix combinations")
            combined.params += [_merge(params, extra, keep_empty=True)
                                for extra in second.params]
        return combined


def environment_of_application(
    meta: dict[str, Any], spec: dict[str, Any], owner_meta: dict[str, Any], key: str,
    partial: bool = False,
) -> tuple[str, str]:
    """(environment, what named it) of an Application; see docs/environments.md."""
    for where, mapping in (("label", meta.get("labels")), ("annotation", meta.get("annotations")),
                           ("ApplicationSet label", owner_meta.get("labels")),
                           ("ApplicationSet annotation", owner_meta.get("annotations"))):
        value = _usable(mapping, key)
        if value:
            return value, f"{where} {key}"
    if partial:
        return UNKNOWN, "destination from an Argo CD cluster secret"
    for conventional in CONVENTIONAL_LABELS:
        value = _usable(meta.get("labels"), conventional)
        if value:
            return value, f"label {conventional}"
    namespace = _usable(spec.get("destination"), "namespace")
    if namespace:
        return namespace, "destination namespace"
    return UNKNOWN, "nothing names it"


def expand_glob(tree: FileTree, pattern: str) -> list[str]:
    """Files matching a glob whose ``*``, ``?`` and ``[...]`` stay within one directory."""
    current = [""]
    for part in pattern.split("/"):
        following: list[str] = []
        for directory in current:
            prefix = f"{directory}/" if directory else ""
            if not has_glob(part):
                following.append(prefix + part)
                continue
            following += [prefix + name for name in tree.list_dir(directory)
                          if go_path_match(part, name)]
        current = following
    return sorted(path for path in current if tree.is_file(path))


def directory_params(dirs: list[str], go_template: bool, prefix: str = "") -> list[Params]:
    """Parameters of the git directories generator, one set per directory."""
    params: list[Params] = []
    for directory in dirs:
        basename = posixpath.basename(directory)
        if go_template:
            value = {"path": directory, "basename": basename,
                     "basenameNormalized": sanitize_name(basename),
                     "segments": directory.split("/")}
            params.append({prefix: {"path": value}} if prefix else {"path": value})
            continue
        name = f"{prefix}.path" if prefix else "path"
        flat = {name: directory, f"{name}.basename": basename,
                f"{name}.basenameNormalized": sanitize_name(basename)}
        flat.update({f"{name}[{i}]": part for i, part in enumerate(directory.split("/")) if part})
        params.append(flat)
    return params


def file_param_set(obj: dict[str, Any], path: str, go_template: bool, prefix: str = "") -> Params:
    """Parameters of the git files generator for one object of one file."""
    directory = posixpath.dirname(path) or "."
    filename = posixpath.basename(path)
    basename = posixpath.basename(directory)
    if go_template:
        params = copy.deepcopy(obj)
        value = {"path": directory, "basename": basename, "filename": filename,
                 "basenameNormalized": sanitize_name(basename),
                 "filenameNormalized": sanitize_name(filename),
                 "segments": directory.split("/")}
        params.update({prefix: {"path": value}} if prefix else {"path": value})
        return params
    flat: Params = {}
    _flatten(obj, "", flat)
    name = f"{prefix}.path" if prefix else "path"
    flat.update({name: directory, f"{name}.basename": basename, f"{name}.filename": filename,
                 f"{name}.basenameNormalized": sanitize_name(basename),
                 f"{name}.filenameNormalized": sanitize_name(filename)})
    flat.update({f"{name}[{i}]": part for i, part in enumerate(directory.split("/")) if part})
    return flat


def _flatten(value: Any, prefix: str, out: Params) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _flatten(child, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            _flatten(child, f"{prefix}.{i}" if prefix else str(i), out)
    elif prefix:
        out[prefix] = go_string(value)


def legacy_list_params(element: dict[str, Any]) -> Params | None:
    """A list element's parameters without goTemplate: strings only, ``values.*`` flat."""
    params: Params = {}
    for key, value in element.items():
        if key == "values" and isinstance(value, dict):
            for name, item in value.items():
                if not isinstance(item, str):
                    return None
                params[f"values.{name}"] = item
        elif isinstance(value, str):
            params[str(key)] = value
        else:
            return None
    return params


def _with_values(params: list[Params], values: Any, go_template: bool) -> list[Params]:
    """Add a generator's ``values`` (rendered with each parameter set) to each set."""
    if not isinstance(values, dict) or not values:
        return params
    out: list[Params] = []
    for item in params:
        rendered = {str(k): render_object(go_string(v), item, go_template)[0]
                    for k, v in values.items()}
        extended = dict(item)
        if go_template:
            extended["values"] = rendered
        else:
            extended.update({f"values.{k}": v for k, v in rendered.items()})
        out.append(extended)
    return out


def _generator_template(generator: Any) -> dict[str, Any]:
    for key, spec in _mapping(generator).items():
        if key != "selector":
            return _mapping(_mapping(spec).get("template"))
    return {}


def _merge(
    base: dict[str, Any], override: dict[str, Any], keep_empty: bool = False
) -> dict[str, Any]:
    """``base`` deep-merged with ``override``, whose (non-empty) values win."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value, keep_empty)
        elif keep_empty or value not in (None, "", [], {}):
            merged[key] = copy.deepcopy(value)
    return merged


def discover(tree: FileTree, settings: ArgoSettings | None = None) -> Discovery:
    """Every Application (written, or generated by an ApplicationSet) in ``tree``."""
    return _Discoverer(tree, settings or ArgoSettings()).run()


def is_manifest_file(path: str) -> bool:
    """Files a directory-type Application reads (``.yaml``, ``.yml``, ``.json``, ``.jsonnet``)."""
    return path.endswith(_MANIFEST_SUFFIXES)
