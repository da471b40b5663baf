"""``match`` and ``exclude`` selectors: which resources a policy applies to.

Every criterion a selector gives must hold; within one list, any entry may.
"""
from __future__ import annotations

from typing import Any

from gate.evaluation.expressions import Expression
from gate.evaluation.rules.base import truthy
from gate.loading.globs import match_name, match_path
from gate.loading.resources import Resource


def _kind_matches(patterns: list[str], resource: Resource) -> bool:
    kind = resource.kind
    full = f"{resource.api_version}/{kind}"
    return any(match_name(p, full if "/" in p else kind) for p in patterns)


def _labels_match(selector: dict[str, Any], labels: dict[str, Any]) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values", [])
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


class _SharedCondition:
    """A ``where`` condition many policies write alike (``pod_spec(@) != null``): its
    answer for the resource at hand is computed once, whichever policy asks first.
    Only for conditions reading nothing but the resource (no parameters)."""

    _answers: dict[str, tuple[Any, bool]] = {}  # source -> (resource, answer)

    def __init__(self, expression: Expression) -> None:
        self.expression = expression
        self.source = expression.source

    def holds(self, obj: Any) -> bool:
        cached = self._answers.get(self.source)
        if cached is not None and cached[0] is obj:
            return cached[1]
        answer = truthy(self.expression.search(obj))
        self._answers[self.source] = (obj, answer)
        return answer


class Selector:
    """A compiled ``match`` or ``exclude`` block. Its ``where`` is evaluated in the scope
    of the policy on the resource (``Policy.applies_to``): ``item()`` is the resource."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.kinds: list[str] = spec.get("kinds", [])
        self.namespaces: list[str] = spec.get("namespaces", [])
        self.names: list[str] = spec.get("names", [])
        self.paths: list[str] = spec.get("paths", [])
        self.environments: list[str] = spec.get("environments", [])
        self.labels: dict[str, Any] | None = spec.get("labels")
        self.where = Expression(spec["where"]) if spec.get("where") else None
        self._shared = (_SharedCondition(self.where) if self.where is not None
                        and not self.where.references.params
                        and not self.where.references.vars else None)

    def matches(self, resource: Resource) -> bool:
        return self.admits(resource) and self.where_holds(resource)

    def admits(self, resource: Resource) -> bool:
        """Whether every criterion but ``where`` holds: no expression is evaluated."""
        if self.kinds and not _kind_matches(self.kinds, resource):
            return False
        if self.namespaces and not any(match_name(p, resource.namespace) for p in self.namespaces):
            return False
        if self.names and not any(match_name(p, resource.name) for p in self.names):
            return False
        if self.paths and not any(match_path(p, resource.file) for p in self.paths):
            return False
        if self.environments and not any(
            match_name(p, resource.environment) for p in self.environments
        ):
            return False
        return self.labels is None or _labels_match(self.labels, resource.labels)

    def where_holds(self, resource: Resource) -> bool:
        """Whether ``where`` (if any) holds, in the scope of the policy on the resource."""
        if self._shared is not None:
            return self._shared.holds(resource.obj)
        if self.where is not None:
            return truthy(self.where.search(resource.obj))
        return True
