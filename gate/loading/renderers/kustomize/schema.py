"""Kustomization files: which fields they may hold, and of what shape.

The shapes are checked before anything is rendered, so a field of the wrong type
is an error at its line. Plugin configs (:mod:`.plugins`) and replacements
(:mod:`.replacements`) reuse the shapes of the fields they stand for.
"""
from __future__ import annotations

import re
from typing import Any

from gate.loading.renderers import FieldPath

# A field's expected shape: "str", "bool", "int", "str map", "any", [shape] for a
# list of that shape, or a dict of the keys a mapping may have.
Shape = Any
SELECTOR_SHAPE: Shape = {key: "str" for key in (
    "group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector")}
_PATCH_TARGET: Shape = {key: "str" for key in ("group", "version", "kind", "name", "namespace")}
_GENERATOR_OPTIONS: Shape = {"labels": "str map", "annotations": "str map",
                             "disableNameSuffixHash": "bool", "immutable": "bool"}
GENERATOR_SHAPE: Shape = {"name": "str", "namespace": "str", "behavior": "str", "files": ["str"],
                          "literals": ["str"], "envs": ["str"], "env": "str",
                          "options": _GENERATOR_OPTIONS}
FIELD_SPEC_SHAPE: Shape = {"path": "str", "group": "str", "version": "str", "kind": "str",
                           "create": "bool"}
KUSTOMIZATION_SHAPE: dict[str, Shape] = {
    "apiVersion": "str", "kind": "str", "metadata": "any",
    "resources": ["str"], "bases": ["str"], "components": ["str"],
    "namespace": "str", "namePrefix": "str", "nameSuffix": "str",
    "commonLabels": "str map", "commonAnnotations": "str map",
    "labels": [{"pairs": "str map", "includeSelectors": "bool", "includeTemplates": "bool",
                "fields": [FIELD_SPEC_SHAPE]}],
    "images": [{key: "str" for key in ("name", "newName", "newTag", "digest", "tagSuffix")}],
    "replicas": [{"name": "str", "count": "int"}],
    "patches": [{"path": "str", "patch": "str", "target": SELECTOR_SHAPE,
                 "options": {"allowNameChange": "bool", "allowKindChange": "bool"}}],
    "patchesStrategicMerge": ["str"],
    "patchesJson6902": [{"path": "str", "patch": "str", "target": _PATCH_TARGET}],
    "configMapGenerator": [GENERATOR_SHAPE],
    "secretGenerator": [{**GENERATOR_SHAPE, "type": "str"}],
    "generatorOptions": _GENERATOR_OPTIONS,
    "sortOptions": {"order": "str",
                    "legacySortOptions": {"orderFirst": ["str"], "orderLast": ["str"]}},
    "buildMetadata": ["str"],
    # builtin plugin configs (plugins.py) and replacements (replacements.py)
    "transformers": ["str"], "generators": ["str"], "replacements": ["any"],
}
# Fields kustomize has that the built-in renderer does not implement.
UNSUPPORTED = {
    "helmCharts": "Helm chart inflation", "helmGlobals": "Helm chart inflation",
    "helmChartInflationGenerator": "Helm chart inflation",
    "vars": "vars", "validators": "validator plugins",
    "openapi": "custom OpenAPI schemas", "crds": "CRD field specs",
    "configurations": "custom transformer configurations",
    "imageTags": "the deprecated imageTags field (use images)",
}
_SHAPE_NAMES = {"str": "a string", "bool": "true or false", "int": "an integer",
                "str map": "a map of strings"}
_REMOTE = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://|git@|git::|(?:github\.com|gitlab\.com|bitbucket\.org)/)"
    r"|[?&]ref=|\.git(?:/|$|\?)", re.IGNORECASE)
REMOTE_HOST = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?/", re.IGNORECASE)


def is_remote(entry: str) -> bool:
    """Whether a reference names something outside the tree (a URL, a git repository)."""
    return _REMOTE.search(entry) is not None


def _describe(shape: Shape) -> str:
    if isinstance(shape, list):
        return "a list of strings" if shape == ["str"] else "a list of mappings"
    if isinstance(shape, dict):
        return "a mapping"
    return _SHAPE_NAMES.get(shape, "a value")


def shape_error(value: Any, shape: Shape, path: FieldPath) -> tuple[str, FieldPath] | None:
    """Why ``value`` does not have ``shape`` (null is always fine), and where."""
    if value is None or shape == "any":
        return None
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"must be {_describe(shape)}", path
        for index, item in enumerate(value):
            if item is None and shape == ["str"]:
                return f"must be {_describe(shape)}", (*path, index)
            problem = shape_error(item, shape[0], (*path, index))
            if problem is not None:
                return problem
        return None
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return "must be a mapping", path
        for key, item in value.items():
            if key not in shape:
                return f"unknown field {key!r}", (*path, key)
            problem = shape_error(item, shape[key], (*path, key))
            if problem is not None:
                return problem
        return None
    if shape == "str map":
        if not isinstance(value, dict):
            return "must be a map of strings", path
        for key, item in value.items():
            if not isinstance(key, str) or not isinstance(item, str):
                return "must be a map of strings (quote numbers and booleans)", (*path, key)
        return None
    expected = {"str": str, "bool": bool, "int": int}[shape]
    if not isinstance(value, expected) or (shape == "int" and isinstance(value, bool)):
        return f"must be {_SHAPE_NAMES[shape]}", path
    return None


def field_name(path: FieldPath) -> str:
    """``resources[2]``, ``helmCharts[0].repo``: a field path as messages name it."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
