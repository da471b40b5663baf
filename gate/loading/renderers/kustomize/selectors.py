"""Selecting resources: patch targets, by id patterns and label or annotation selectors."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from gate.loading.renderers import RenderError
from gate.loading.renderers.kustomize.provenance import Where
from gate.loading.renderers.kustomize.resources import Resource, as_text


def _anchored(pattern: str, blame: Where, what: str) -> re.Pattern[str] | None:
    if not pattern:
        return None
    try:
        return re.compile(f"(?:{pattern})\\Z")
    except re.error as exc:
        raise RenderError(f"{what}: invalid regular expression {pattern!r}: {exc}",
                          *blame) from None


@dataclass
class Selector:
    group: re.Pattern[str] | None
    version: re.Pattern[str] | None
    kind: re.Pattern[str] | None
    name: re.Pattern[str] | None
    namespace: re.Pattern[str] | None
    labels: list[Requirement]
    annotations: list[Requirement]

    @classmethod
    def parse(cls, target: dict[str, Any], blame: Where) -> Selector:
        def regex(key: str) -> re.Pattern[str] | None:
            return _anchored(as_text(target.get(key)), blame, f"target {key}")
        return cls(regex("group"), regex("version"), regex("kind"), regex("name"),
                   regex("namespace"),
                   parse_selector(as_text(target.get("labelSelector")), blame),
                   parse_selector(as_text(target.get("annotationSelector")), blame))

    def selects(self, res: Resource) -> bool:
        current, original = res.id(), res.original()
        if self.namespace is not None and not (
                self.namespace.match(original.effective_namespace())
                or self.namespace.match(current.effective_namespace())):
            return False
        if self.name is not None and not (
                self.name.match(original.name) or self.name.match(current.name)):
            return False
        for regex, value in ((self.group, current.group), (self.version, current.version),
                             (self.kind, current.kind)):
            if regex is not None and not regex.match(value):
                return False
        metadata = res.obj.get("metadata") or {}
        return (labels_match(self.labels, metadata.get("labels"))
                and labels_match(self.annotations, metadata.get("annotations")))


class Requirement(NamedTuple):
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...]


_REQUIREMENT = re.compile(
    r"\s*(?:(?P<not>!)\s*(?P<nkey>[^\s,=!()<>]+)"
    r"|(?P<key>[^\s,=!()<>]+)\s*(?:(?P<op>==|=|!=)\s*(?P<value>[^\s,()=!]*)"
    r"|\s(?P<set>in|notin)\s*\((?P<values>[^()]*)\))?)\s*(?:,|$)")


def parse_selector(text: str, blame: Where) -> list[Requirement]:
    requirements: list[Requirement] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _REQUIREMENT.match(text, position)
        if match is None or match.end() == position:
            raise RenderError(f"invalid selector {text!r}", *blame)
        position = match.end()
        if match["not"]:
            requirements.append(Requirement(match["nkey"], "!", ()))
        elif match["op"]:
            op = "!=" if match["op"] == "!=" else "="
            requirements.append(Requirement(match["key"], op, (match["value"],)))
        elif match["set"]:
            values = tuple(v.strip() for v in match["values"].split(",") if v.strip())
            requirements.append(Requirement(match["key"], match["set"], values))
        else:
            requirements.append(Requirement(match["key"], "exists", ()))
    return requirements


def labels_match(requirements: list[Requirement], labels: Any) -> bool:
    values = labels if isinstance(labels, dict) else {}
    for requirement in requirements:
        present = requirement.key in values
        value = as_text(values.get(requirement.key))
        op = requirement.op
        if (op == "exists" and not present) or (op == "!" and present):
            return False
        if op in ("=", "in") and (not present or value not in requirement.values):
            return False
        if op in ("!=", "notin") and present and value in requirement.values:
            return False
    return True
