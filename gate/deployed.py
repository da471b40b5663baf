"""What an environment deploys at one side of a change: its container images.

Certified promotion compares them: an image new in prod must already run in
staging at the base of the change. Each image keeps the file and line that set
it (an overlay's ``images:`` entry, say), so a finding points there.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gate import fieldpath, kube
from gate.collect import Collector, Unit
from gate.imageref import parse_image
from gate.resources import Resource


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
    entries.sort(key=_order)
    return entries


def _order(entry: dict[str, Any]) -> tuple[Any, ...]:
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


def lister(collectors: Callable[[str], Collector]) -> Callable[[str, str], list[dict[str, Any]]]:
    """``(environment, side) -> images``, reading each side's tree once per environment.

    ``collectors(side)`` gives the side's collector (with its environment map).
    A unit that cannot be read leaves its images out; the side's own evaluation
    reports the error (and fails closed) where it matters.
    """
    units: dict[str, list[Unit]] = {}

    def images(environment: str, side: str) -> list[dict[str, Any]]:
        collector = collectors(side)
        if side not in units:
            units[side] = collector.units_under("")
        chosen = [unit for unit in units[side]
                  if (unit.environment or collector.environment_of(unit.path) or "")
                  == environment]
        found: list[dict[str, Any]] = []
        for batch in collector.read_all(chosen):
            found.extend(image_entries(r for r in batch.resources
                                       if r.environment == environment))
            batch.release()
        found.sort(key=_order)
        return found

    return images
