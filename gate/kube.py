"""Kubernetes shapes and values the JMESPath functions expose to policies."""
from __future__ import annotations

import math
import re
from typing import Any

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")

# Pod templates are found by shape, not kind, so CRDs with pod templates
# (Argo Rollouts' Rollout, OpenShift's DeploymentConfig, ...) are covered.
_TEMPLATE_PATHS: tuple[tuple[str, ...], ...] = (
    ("spec", "template"),  # Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, ...
    ("spec", "jobTemplate", "spec", "template"),  # CronJob
    ("template",),  # PodTemplate
)


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

    A Pod is its own template.
    """
    if not isinstance(resource, dict):
        return None
    if _is_pod_spec(resource.get("spec")):
        return resource
    for path in _TEMPLATE_PATHS:
        template = _dig(resource, path)
        if isinstance(template, dict) and _is_pod_spec(template.get("spec")):
            return template
    return None


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
