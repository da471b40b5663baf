"""Images: the kustomization's ``images:`` and Argo CD's ``kustomize.images`` overrides."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gate.loading.renderers import FieldPath, RenderedResource, RenderError
from gate.loading.renderers.kustomize.field_specs import IMAGE_FIELDS, FieldSpec, apply_specs
from gate.loading.renderers.kustomize.loading import Kustomization
from gate.loading.renderers.kustomize.provenance import Provenance, Where
from gate.loading.renderers.kustomize.resources import Resource, as_text, origin_text
from gate.loading.renderers.kustomize.schema import field_name


def _image_where(k: Kustomization, index: int, entry: dict[str, Any]) -> Where:
    for name in ("newTag", "digest", "tagSuffix", "newName"):
        if entry.get(name):
            return k.where("images", index, name)
    return k.where("images", index)


def split_image(image: str) -> tuple[str, str, str]:
    """(name, tag, digest) of an image reference, split as kustomize does."""
    slash = image.find("/")
    search, offset = (image[slash:], slash) if slash > 0 else (image, 0)
    at, colon = search.find("@"), search.find(":")
    if colon < 0 and at < 0:
        return image, "", ""
    if at >= 0 and (at < colon or colon < 0):
        return image[:at + offset], "", image[at + offset + 1:]
    if at >= 0:
        return (image[:colon + offset], image[colon + offset + 1:at + offset],
                image[at + offset + 1:])
    return image[:colon + offset], image[colon + offset + 1:], ""


@dataclass
class ImageRule:
    pattern: re.Pattern[str]
    entry: dict[str, Any]
    where: Where

    def update(self, value: str) -> str | None:
        if not self.pattern.match(value):
            return None
        name, tag, digest = split_image(value)
        new_tag, new_digest = as_text(self.entry.get("newTag")), as_text(self.entry.get("digest"))
        name = as_text(self.entry.get("newName")) or name
        if new_tag and new_digest:
            tag, digest = new_tag, new_digest
        elif new_tag:
            tag, digest = new_tag, ""
        elif new_digest:
            tag, digest = "", new_digest
        elif self.entry.get("tagSuffix"):
            tag, digest = tag + as_text(self.entry.get("tagSuffix")), ""
        return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def apply_images(k: Kustomization, resources: list[Resource]) -> None:
    for index, entry in k.items("images"):
        name = as_text(entry.get("name"))
        if not name:
            raise k.error(f"images[{index}]: name is required", "images", index)
        pattern = image_pattern(name, k.where("images", index, "name"), f"images[{index}].name")
        rule = ImageRule(pattern, entry, _image_where(k, index, entry))
        apply_image_rule(resources, rule, IMAGE_FIELDS, f"images[{index}]")


def set_images(resources: list[RenderedResource],
               overrides: tuple[tuple[str, str, int], ...]) -> None:
    """Argo CD's ``spec.source.kustomize.images`` on an overlay's rendered resources.

    Argo CD runs ``kustomize edit set image`` with each argument before it builds, so
    each is an ``images:`` entry applied last: ``name=newName:tag``, ``name=newName``,
    ``name:tag``, ``name@digest``. A changed image points at its override's line in
    the Application.
    """
    for index, (spec, file, line) in enumerate(overrides):
        name, sep, replacement = spec.partition("=")
        entry: dict[str, Any] = {}
        if sep:
            new_name, tag, digest = split_image(replacement)
            entry["newName"] = new_name
        else:
            name, tag, digest = split_image(spec)
        if tag:
            entry["newTag"] = tag
        if digest:
            entry["digest"] = digest
        what = f"kustomize.images[{index}]"
        if not name:
            raise RenderError(f"{what}: {spec!r} names no image", file, line)
        rule = ImageRule(image_pattern(name, (file, line), what), entry, (file, line))
        made = [Resource(r.obj, (r.origin_file, r.origin_doc, r.origin_prefix, r.origin_line),
                         Provenance(r.provenance)) for r in resources]
        apply_image_rule(made, rule, IMAGE_FIELDS, what)
        for rendered, res in zip(resources, made, strict=True):
            rendered.provenance = dict(res.provenance)


def image_pattern(name: str, blame: Where, what: str) -> re.Pattern[str]:
    """How kustomize matches an image name: the name, then an optional tag and digest."""
    try:
        return re.compile(f"^{name}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?\\Z")
    except re.error as exc:
        raise RenderError(f"{what}: {name!r} is not a valid pattern: {exc}", *blame) from None


def apply_image_rule(resources: list[Resource], rule: ImageRule, specs: tuple[FieldSpec, ...],
                     what: str) -> None:
    """kustomize's two image passes: containers anywhere, then the field specs."""
    for res in resources:
        if res.obj.get("kind") == "CustomResourceDefinition":
            continue
        _update_images_anywhere(res, rule, res.obj, ())

        def setter(parent: dict[str, Any], key: str, path: FieldPath,
                   res: Resource = res, rule: ImageRule = rule) -> None:
            _update_image(res, rule, parent, key, path)

        apply_specs(res, specs, setter, False, rule.where, what)


def _update_images_anywhere(res: Resource, rule: ImageRule, node: Any, path: FieldPath) -> None:
    """kustomize's legacy pass: every containers/initContainers list, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            _update_images_anywhere(res, rule, value, (*path, key))
            if key in ("containers", "initContainers") and isinstance(value, list):
                for position, container in enumerate(value):
                    if isinstance(container, dict) and container.get("image") is not None:
                        _update_image(res, rule, container, "image",
                                      (*path, key, position, "image"))
    elif isinstance(node, list):
        for position, item in enumerate(node):
            _update_images_anywhere(res, rule, item, (*path, position))


def _update_image(res: Resource, rule: ImageRule, parent: dict[str, Any], key: str,
                  path: FieldPath) -> None:
    value = parent.get(key)
    if value is None:
        return
    if not isinstance(value, str):
        raise RenderError(f"{res.id().text()} ({origin_text(res)}): {field_name(path)} "
                          "is not a string", *rule.where)
    updated = rule.update(value)
    if updated is not None:
        parent[key] = updated
        res.set(path, rule.where)
