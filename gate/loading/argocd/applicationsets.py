"""ApplicationSets: their generators (``git`` directories and files, ``list``,
``matrix``, ``clusters`` in part) expanded into parameter sets, and the Applications
their templates render."""
from __future__ import annotations

import copy
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gate.limits import MAX_GENERATOR_PARAMS, LimitError
from gate.loading.argocd.applications import ApplicationReader, ManifestDoc, as_mapping, as_text
from gate.loading.argocd.model import UNKNOWN, ArgoSettings
from gate.loading.argocd.paths import doublestar_match, git_pathspec_match, go_path_match
from gate.loading.argocd.templates import Params, go_string, render_object, sanitize_name
from gate.loading.trees import FileTree
from gate.loading.yamlio import YamlInputError, decode, load_documents

GENERATORS = ("git", "list", "matrix", "merge", "clusters", "clusterDecisionResource",
              "scmProvider", "pullRequest", "plugin")
# Generators whose parameters come from Argo CD cluster secrets: expanded with none.
_CLUSTER_GENERATORS = ("clusters", "clusterDecisionResource")


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


class ApplicationSetReader(ApplicationReader):
    """Applications read as :class:`ApplicationReader` does, and those ApplicationSets
    generate."""

    def __init__(self, tree: FileTree, settings: ArgoSettings) -> None:
        super().__init__(tree, settings)
        self.index = _TreeIndex(tree)

    def expand_application_set(self, obj: dict[str, Any], doc: ManifestDoc) -> None:
        name = as_text(as_mapping(obj.get("metadata")).get("name")) or "(unnamed)"
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
                template = _merge(as_mapping(spec.get("template")), _generator_template(generator))
                generated = ManifestDoc(doc.file, doc.line, doc.node, ("spec", "template"))
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
        partial: bool, doc: ManifestDoc, label: str,
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

    def __init__(self, reader: ApplicationSetReader, go_template: bool, file: str,
                 label: str) -> None:
        self.tree = reader.tree
        self.index = reader.index
        self.settings = reader.settings
        self.notify: Notify = reader.note
        self.go_template = go_template
        self.file = file
        self.label = label
        self.parameter_files: dict[tuple[str, int], list[dict[str, Any]]] = {}

    def note(self, line: int, message: str) -> None:
        self.notify(self.file, line, f"{self.label}: {message}")

    def expand(self, generator: Any, line: int) -> _Expansion | None:
        kinds = [key for key in as_mapping(generator) if key != "selector"]
        if len(kinds) != 1:
            self.note(line, "a generator needs exactly one type; skipped")
            return None
        spec = as_mapping(as_mapping(generator)[kinds[0]])
        if as_mapping(generator).get("selector"):
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
        reason = self.settings.rejects(as_text(spec.get("repoURL")),
                                       as_text(spec.get("revision")) or "HEAD")
        if reason is not None:
            self.note(line, f"git generator not expanded: {reason}")
            return None
        prefix = as_text(spec.get("pathParamPrefix"))
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
            path = as_text(as_mapping(item).get("path"))
            if not path:
                self.note(line, "a git generator entry has no path; ignored")
                continue
            found.append((path, as_mapping(item).get("exclude") is True))
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
        match = doublestar_match if self.settings.new_git_file_globbing else git_pathspec_match
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
    for key, spec in as_mapping(generator).items():
        if key != "selector":
            return as_mapping(as_mapping(spec).get("template"))
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
