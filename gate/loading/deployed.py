"""What an environment deploys at one side of a change: its container images.

Certified promotion compares them: an image new in prod must already run in
staging at the base of the change. Each image keeps the file and line that set
it (an overlay's ``images:`` entry, say), so a finding points there.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gate.loading import fieldpath, kube
from gate.loading.collect import Collector
from gate.loading.imageref import parse_image
from gate.loading.planning import Planner
from gate.loading.renderers.base import Unit
from gate.loading.resources import Resource
from gate.loading.trees import FileTree, walk_files


def image_entries(resources: Iterable[Resource]) -> list[dict[str, Any]]:
    """One entry per container image of the pod-bearing resources, sorted."""
    entries: list[dict[str, Any]] = []
    for resource in resources:
        if not resource.is_resource:
            continue
        for container in kube.containers(resource.obj):
            image = container.get("image") if isinstance(container, dict) else None
            if not isinstance(image, str) or not image.strip():
                continue
            entries.append(_entry(resource, container, image))
    entries.sort(key=image_order)
    return entries


def image_order(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (entry["name"], entry["tag"] or "", entry["digest"] or "", entry["file"],
            entry["line"], entry["resource"], entry["container"])


def _entry(resource: Resource, container: dict[str, Any], image: str) -> dict[str, Any]:
    parsed = parse_image(image)
    path = fieldpath.find(resource.obj, container)
    file, line = (None, resource.line) if path is None else resource.locate((*path, "image"))
    return {
        "image": image,
        # What makes two images the same release: repository, tag and digest.
        "key": f"{parsed['name']}:{parsed['tag'] or ''}@{parsed['digest'] or ''}",
        "name": parsed["name"],  # registry/repository, Docker Hub names spelled out
        "tag": parsed["tag"],
        "digest": parsed["digest"],
        "container": str(container.get("name", "")),
        "resource": resource.identity(),
        "rendered_by": resource.rendered_by or None,
        "file": file or resource.file,
        "line": line,
    }


def lister(
    collectors: Callable[[str], Collector], planners: Callable[[str], Planner],
    wanted: set[str],
) -> Callable[[str, str], list[dict[str, Any]]]:
    """``(environment, side) -> images`` of the repositories named in ``wanted``.

    ``collectors(side)`` and ``planners(side)`` give the side's reader and planner. Only
    what can deploy a wanted image is rendered: an image name is written in some file
    a unit reads (a manifest's ``image:``, an overlay's ``newName``), so a kustomization
    or manifest none of whose files mentions a wanted repository's last path component
    is skipped; charts, whose templates can build any string, are always rendered.
    Every kustomization of the environment counts, overlay or not (an image found twice
    is listed twice); one that cannot be rendered, or read, leaves its images out.
    """
    needles = sorted({name.rsplit("/", 1)[-1].encode() for name in wanted})
    listings: dict[str, list[str]] = {}

    def images(environment: str, side: str) -> list[dict[str, Any]]:
        if not wanted:
            return []
        collector = collectors(side)
        if side not in listings:
            listings[side] = walk_files(collector.tree, "")
        units = _candidates(planners(side), listings[side], environment, needles)
        found: list[dict[str, Any]] = []
        for batch in collector.read_all(units):
            found.extend(entry for entry in image_entries(
                r for r in batch.resources if r.environment == environment)
                if entry["name"] in wanted)
            batch.release()
        found.sort(key=image_order)
        return found

    return images


def _candidates(planner: Planner, paths: list[str], environment: str,
                needles: list[bytes]) -> list[Unit]:
    """The units of ``environment`` whose files mention a wanted image name."""
    found = planner.environment(environment, paths)
    texts = _read_all(planner.tree, sorted({p for _, inputs in found for p in inputs}))
    return [unit for unit, inputs in found
            if not inputs or any(_may_name(texts.get(path), needles) for path in inputs)]


def _may_name(text: bytes | None, needles: list[bytes]) -> bool:
    """Whether a file may name one of the images: unreadable text may (rendering reports
    it), and so may text with a backslash, since a YAML escape can spell a name otherwise."""
    if text is None or b"\\" in text:
        return True
    return any(needle in text for needle in needles)


def _read_all(tree: FileTree, paths: list[str]) -> dict[str, bytes | None]:
    """Many files' bytes at once where the tree can (one git process), else one by one."""
    read_many = getattr(tree, "read_many", None)
    if read_many is not None:
        found: dict[str, bytes] = read_many(paths)
        return {path: found.get(path) for path in paths}
    texts: dict[str, bytes | None] = {}
    for path in paths:
        try:
            texts[path] = tree.read_bytes(path)
        except OSError:
            texts[path] = None
    return texts
