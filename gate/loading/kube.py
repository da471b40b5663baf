"""Kubernetes shapes and values the JMESPath functions expose to policies."""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Any

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")

# Pod templates of other resources are found by shape, not kind, so CRDs with
# pod templates are covered too.
_TEMPLATE_PATHS: tuple[tuple[str, ...], ...] = (
    ("spec", "template"),  # Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, ...
    ("spec", "jobTemplate", "spec", "template"),  # CronJob
    ("template",),  # PodTemplate
)

# The kinds that run pods whatever their shape, by apiVersion, with the path of
# their pod template (() for a Pod, its own). Only real workload apiVersions:
# a CRD that happens to be called Deployment in its own group is judged by shape.
_SPEC_TEMPLATE = ("spec", "template")
_POD_KINDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("v1", "Pod"): (),
    ("v1", "ReplicationController"): _SPEC_TEMPLATE,
    ("v1", "PodTemplate"): ("template",),
    **{(version, "Deployment"): _SPEC_TEMPLATE for version in (
        "apps/v1", "apps/v1beta1", "apps/v1beta2", "extensions/v1beta1")},
    **{(version, "StatefulSet"): _SPEC_TEMPLATE for version in (
        "apps/v1", "apps/v1beta1", "apps/v1beta2")},
    **{(version, kind): _SPEC_TEMPLATE for kind in ("DaemonSet", "ReplicaSet")
       for version in ("apps/v1", "apps/v1beta2", "extensions/v1beta1")},
    ("batch/v1", "Job"): _SPEC_TEMPLATE,
    **{(version, "CronJob"): ("spec", "jobTemplate", "spec", "template") for version in (
        "batch/v1", "batch/v1beta1", "batch/v2alpha1")},
    # OpenShift 3 wrote DeploymentConfig in the legacy core group too.
    ("v1", "DeploymentConfig"): _SPEC_TEMPLATE,
}
# Groups whose every version runs pods of a kind from the spec.template.
_POD_GROUP_KINDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("apps.openshift.io", "DeploymentConfig"): _SPEC_TEMPLATE,
    ("argoproj.io", "Rollout"): _SPEC_TEMPLATE,
}


def template_path(resource: Any) -> tuple[str, ...] | None:
    """Path of the pod template of a resource of a pod-bearing kind; None for other kinds.

    A Pod is its own template (the empty path).
    """
    if not isinstance(resource, dict):
        return None
    api_version, kind = resource.get("apiVersion"), resource.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return None
    found = _POD_KINDS.get((api_version, kind))
    if found is None and "/" in api_version:
        found = _POD_GROUP_KINDS.get((api_version.partition("/")[0], kind))
    if found is None:
        return None
    if kind == "Rollout" and _workload_ref_only(resource):
        return None
    return found


def _workload_ref_only(resource: dict[str, Any]) -> bool:
    # A Rollout with a workloadRef runs the pods of the Deployment it names.
    spec = resource.get("spec")
    return isinstance(spec, dict) and "workloadRef" in spec and spec.get("template") is None


def _dig(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _is_pod_spec(spec: Any) -> bool:
    return isinstance(spec, dict) and any(
        isinstance(spec.get(name), list) for name in CONTAINER_LISTS
    )


def pod_template(resource: Any) -> dict[str, Any] | None:
    """The object holding ``metadata`` and ``spec`` of the pods a resource runs.

    A Pod is its own template. A resource of a pod-bearing kind is looked at
    only where its kind keeps the template; a malformed one has none (see
    ``pod_problem``, which makes it an input error).
    """
    if not isinstance(resource, dict):
        return None
    by_kind = template_path(resource)
    if by_kind is not None:
        template = _dig(resource, by_kind)
        return template if isinstance(template, dict) and _is_pod_spec(
            template.get("spec")) else None
    if _is_pod_spec(resource.get("spec")):
        return resource
    for path in _TEMPLATE_PATHS:
        template = _dig(resource, path)
        if isinstance(template, dict) and _is_pod_spec(template.get("spec")):
            return template
    return None


@dataclass(frozen=True, slots=True)
class PodProblem:
    """Why a resource of a pod-bearing kind has no pod spec gate can judge.

    ``path`` is the deepest part of the pod spec's path that exists: where to
    point the developer.
    """

    message: str
    path: tuple[str, ...]


_NEEDS = "a pod needs at least one container"


def pod_problem(resource: Any) -> PodProblem | None:
    """What is wrong with the pod spec of a resource of a pod-bearing kind, if anything.

    Such a resource must hold a mapping at its kind's pod spec path with a
    non-empty ``containers`` list; otherwise every pod policy would skip it
    and a typo would pass unjudged. Resources of other kinds never have one.
    """
    template = template_path(resource)
    if template is None:
        return None
    path = (*template, "spec")
    node: Any = resource
    for depth, key in enumerate(path):
        where = path[:depth]
        if not isinstance(node, dict):
            return PodProblem(f"{_dotted(where)} is {_describe(node)}, not a mapping "
                              f"({_dotted(path)} must hold the pod spec; {_NEEDS})", where)
        if key not in node:
            parent = _dotted(where) if where else "the resource"
            return PodProblem(f"{_dotted(path)} is missing ({parent} has no {key!r}"
                              f"{_found(node, key)}; {_NEEDS})", where)
        node = node[key]
    if not isinstance(node, dict):
        return PodProblem(f"{_dotted(path)} is {_describe(node)}, not a mapping ({_NEEDS})",
                          path)
    if "containers" not in node:
        return PodProblem(f"{_dotted(path)} has no 'containers' list "
                          f"({_found(node, 'containers', lead='')}{_NEEDS})", path)
    listed = node["containers"]
    where = (*path, "containers")
    if listed is None or listed == []:
        return PodProblem(f"{_dotted(where)} is empty ({_NEEDS})", where)
    if not isinstance(listed, list):
        return PodProblem(f"{_dotted(where)} is {_describe(listed)}, not a list ({_NEEDS})",
                          where)
    return None


def _found(mapping: dict[Any, Any], key: str, lead: str = "; ") -> str:
    """``; found 'container'`` for a key of ``mapping`` that looks like a typo of ``key``.

    Empty if none does; with ``lead=""`` the text is ``found 'container'; `` instead.
    """
    # A real field (initContainers beside containers) is no typo, however alike.
    keys = [k for k in mapping if isinstance(k, str) and k != key and k not in CONTAINER_LISTS]
    lowered = {k.lower(): k for k in reversed(keys)}  # the first spelling of each wins
    close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.75)
    if not close:
        return ""
    found = f"found {lowered[close[0]]!r}"
    return f"{lead}{found}" if lead else f"{found}; "


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path)


_YAML_TYPES = {dict: "a mapping", list: "a list", str: "a string", int: "a number",
               float: "a number", bool: "a boolean"}


def _describe(value: Any) -> str:
    if value is None:
        return "empty"
    return _YAML_TYPES.get(type(value), f"a {type(value).__name__}")


def pod_spec(resource: Any) -> dict[str, Any] | None:
    template = pod_template(resource)
    return None if template is None else template["spec"]


def containers(resource: Any, lists: list[str] | None = None) -> list[Any]:
    """Every container of a pod-bearing resource, from the named lists."""
    spec = pod_spec(resource)
    if spec is None:
        return []
    found: list[Any] = []
    for name in lists if lists is not None else CONTAINER_LISTS:
        items = spec.get(name)
        if isinstance(items, list):
            found.extend(items)
    return found


_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<exponent>[eE][+-]?[0-9]+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?\Z"
)
_SUFFIX_SCALE = {
    None: 1.0, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
    "P": 1e15, "E": 1e18, "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40,
    "Pi": 2.0**50, "Ei": 2.0**60,
}


def quantity(value: Any) -> float | None:
    """A Kubernetes resource quantity ("500m", "1Gi", 2) in base units.

    None for anything Kubernetes would not accept as one, including infinities and
    numbers too large for a float.
    """
    if isinstance(value, bool) or value is None:
        return None
    try:
        if isinstance(value, (int, float)):
            number = float(value)
        elif isinstance(value, str):
            match = _QUANTITY.match(value.strip())
            if match is None:
                return None
            number = float(match["number"])
            if match["exponent"]:
                number *= 10.0 ** int(match["exponent"][1:])
            else:
                number *= _SUFFIX_SCALE[match["suffix"]]
        else:
            return None
    except OverflowError:
        return None  # beyond any real quantity: Kubernetes rejects it too
    return number if math.isfinite(number) else None
