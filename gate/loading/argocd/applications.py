"""Applications: their manifests read, and what each source deploys resolved as Argo CD
does (tool detection, Helm values files, ``$ref`` sources, manifest-generate-paths)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from yaml.nodes import Node

from gate.limits import MAX_APPLICATIONS, LimitError
from gate.loading.argocd.model import (
    CONVENTIONAL_LABELS,
    UNKNOWN,
    Application,
    AppSource,
    ArgoSettings,
    DeployedPath,
    Discovery,
    Note,
    application_label,
)
from gate.loading.argocd.paths import expand_glob, has_glob
from gate.loading.renderers.registry import RENDERERS
from gate.loading.trees import FileTree, TreePathError, normalize
from gate.loading.yamlio import line_of_path

MANIFEST_GENERATE_PATHS = "argocd.argoproj.io/manifest-generate-paths"
TOOLS = ("directory", "kustomize", "helm", "plugin")
# Source overrides that change what is deployed and that gate does not apply (it applies
# kustomize.images and helm.valueFiles): what such a source deploys cannot be judged.
_UNAPPLIED: dict[str, Callable[[str], bool]] = {
    "kustomize": lambda key: key not in ("images", "version"),
    "helm": lambda key: key in ("parameters", "values", "valuesObject", "fileParameters"),
}


@dataclass(frozen=True)
class ManifestDoc:
    """Where an (possibly generated) Application is written, for lines."""

    file: str
    line: int
    node: Node | None = None
    prefix: tuple[str | int, ...] = ()

    def line_at(self, *path: str | int) -> int:
        if self.node is None:
            return self.line
        return line_of_path(self.node, (*self.prefix, *path))


def as_mapping(value: Any) -> dict[str, Any]:
    """A manifest field that should be a mapping; an empty one when it is not."""
    return value if isinstance(value, dict) else {}


def as_text(value: Any) -> str:
    """A manifest field that should be a string, trimmed; ``""`` when it is not."""
    return value.strip() if isinstance(value, str) else ""


def _usable(mapping: Any, key: str) -> str:
    """A label or annotation value that names something: non-empty and fully rendered."""
    value = as_text(as_mapping(mapping).get(key))
    return value if value and "{{" not in value else ""


class ApplicationReader:
    """Applications read into the :class:`Discovery` of one tree, with what they deploy."""

    def __init__(self, tree: FileTree, settings: ArgoSettings) -> None:
        self.tree = tree
        self.settings = settings
        self.result = Discovery()

    def note(self, file: str, line: int | None, message: str) -> None:
        self.result.notes.append(Note(file, line, message))

    # -- Applications ------------------------------------------------------------------
    def add_application(
        self, obj: dict[str, Any], doc: ManifestDoc, owner: dict[str, Any] | None = None,
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
        self, obj: dict[str, Any], doc: ManifestDoc, owner: dict[str, Any] | None = None,
        partial: bool = False,
    ) -> Application | None:
        meta = as_mapping(obj.get("metadata"))
        name = as_text(meta.get("name"))
        owner_name = as_text(as_mapping(as_mapping(owner).get("metadata")).get("name")) or None
        if not name:
            self.note(doc.file, doc.line_at("metadata"), "an Application has no metadata.name")
            name = "(unnamed)"
        label = application_label(name, owner_name)
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            self.note(doc.file, doc.line_at("spec"), f"{label}: spec is not a mapping; skipped")
            return None
        sources = self.read_sources(spec, doc, label)
        if not sources:
            return None
        environment, origin = environment_of_application(
            meta, spec, as_mapping(as_mapping(owner).get("metadata")), self.settings.label, partial)
        destination = as_mapping(spec.get("destination"))
        annotations = as_mapping(meta.get("annotations"))
        generate = as_text(annotations.get(MANIFEST_GENERATE_PATHS))
        return Application(
            name=name, file=doc.file, line=doc.line, environment=environment,
            environment_from=origin, sources=tuple(sources),
            generate_paths=tuple(p.strip() for p in generate.split(";") if p.strip()),
            project=as_text(spec.get("project")), namespace=as_text(destination.get("namespace")),
            destination=as_text(destination.get("server")) or as_text(destination.get("name")),
            application_set=owner_name,
        )

    def read_sources(self, spec: dict[str, Any], doc: ManifestDoc, label: str) -> list[AppSource]:
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
        self, raw: dict[str, Any], index: int | None, doc: ManifestDoc,
        where: tuple[str | int, ...], label: str,
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
        directory = as_mapping(raw.get("directory"))
        helm = as_mapping(raw.get("helm"))
        value_files = helm.get("valueFiles")
        files: list[str] = []
        for i, item in enumerate(value_files if isinstance(value_files, list) else []):
            if isinstance(item, str) and item.strip():
                files.append(item.strip())
            else:
                self.note(doc.file, doc.line_at(*where, "helm", "valueFiles", i),
                          f"{label}: a values file is not a string; ignored")
        overrides: list[tuple[str, int]] = []
        images = as_mapping(raw.get("kustomize")).get("images")
        for i, item in enumerate(images if isinstance(images, list) else []):
            if isinstance(item, str) and item.strip():
                overrides.append((item.strip(), doc.line_at(*where, "kustomize", "images", i)))
            else:
                self.note(doc.file, doc.line_at(*where, "kustomize", "images", i),
                          f"{label}: a kustomize image override is not a string; ignored")
        unapplied = [f"{tool}.{key}" for tool, keys in _UNAPPLIED.items()
                     for key in sorted(as_mapping(raw.get(tool))) if keys(key)]
        first = unapplied[0].split(".", 1) if unapplied else None
        return AppSource(
            index=index, line=line, repo_url=as_text(raw.get("repoURL")),
            target_revision=as_text(raw.get("targetRevision")) or "HEAD",
            path=path.strip() if isinstance(path, str) else None,
            chart=as_text(raw.get("chart")) or None, ref=as_text(raw.get("ref")) or None,
            tool=tools[0] if len(tools) == 1 else None,
            recurse=directory.get("recurse") is True,
            include=as_text(directory.get("include")), exclude=as_text(directory.get("exclude")),
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
