"""What every rule kind shares: conditions, iteration, named values, messages, fields."""
from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from jmespath import exceptions as jexc

from gate.evaluation.expressions import Expression, ExpressionError, Template
from gate.evaluation.functions import EvaluationScope
from gate.evaluation.rules import RULE_KINDS
from gate.loading import fieldpath


@dataclass(frozen=True, slots=True)
class Violation:
    """One way an item breaks a rule, from the rule kind's check."""

    message: str | None = None  # the kind's own wording, used when the rule has no message
    path: fieldpath.PathParts = ()  # relative to the item
    variables: tuple[tuple[str, Any], ...] = ()  # extra var() values for the message


@dataclass(frozen=True, slots=True)
class Finding:
    """A violation placed in its resource: message and absolute field path."""

    message: str
    path: fieldpath.PathParts | None


class Check(Protocol):
    """The kind-specific part of a rule: judge one item."""

    provided_vars: frozenset[str]

    def check(self, item: Any) -> Iterator[Violation]: ...


class RuleError(ValueError):
    """A rule that cannot be compiled; ``key`` names the offending field."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def truthy(value: Any) -> bool:
    """JMESPath truthiness: false, null and empty strings, arrays and objects are false."""
    if value is None or value is False:
        return False
    if isinstance(value, (str, list, dict)):
        return len(value) > 0
    return True


def _compile(key: str, source: str) -> Expression:
    try:
        return Expression(source)
    except ExpressionError as exc:
        raise RuleError(str(exc), key) from None


def _template(key: str, source: str) -> Template:
    try:
        return Template(source)
    except ExpressionError as exc:
        raise RuleError(str(exc), key) from None


class Rule:
    """One compiled rule of a policy."""

    def __init__(self, spec: dict[str, Any], index: int,
                 shared: frozenset[str] = frozenset()) -> None:
        self.name = spec.get("name") or f"rule {index + 1}"
        self.shared = shared  # names of the policy's own let, computed per resource
        # on_empty: pass -- a for_each that selects nothing means compliance (a pod with
        # no volumes complies with a volume rule), not "nothing to check".
        self.pass_when_empty = spec.get("on_empty", "skip") == "pass"
        self.kind = next(key for key in RULE_KINDS if key in spec)
        module = importlib.import_module(RULE_KINDS[self.kind])
        try:
            self.check: Check = module.compile_check(spec)
        except ExpressionError as exc:
            raise RuleError(str(exc), self.kind) from None
        self.when = _compile("when", spec["when"]) if "when" in spec else None
        self.for_each = _compile("for_each", spec["for_each"]) if "for_each" in spec else None
        if "on_empty" in spec and self.for_each is None:
            raise RuleError("'on_empty' needs 'for_each': it says what a rule whose for_each "
                            "selects nothing gives", "on_empty")
        self.lets = [
            (name, _compile("let", source)) for name, source in spec.get("let", {}).items()
        ]
        self.message = _template("message", spec["message"]) if "message" in spec else None
        self.field = _template("field", spec["field"]) if spec.get("field") else None
        if self.field is not None and "{{" not in self.field.source:
            try:
                _parse_field(self.field.source)
            except fieldpath.FieldPathError as exc:
                raise RuleError(str(exc), "field") from None
        self._check_references()

    def expressions(self) -> Iterator[Expression | Template]:
        yield from (e for e in (self.when, self.for_each, self.message, self.field) if e)
        yield from (expression for _, expression in self.lets)
        yield from getattr(self.check, "expressions", ())

    def _check_references(self) -> None:
        for key, condition in (("when", self.when), ("for_each", self.for_each)):
            unknown = condition.references.vars - self.shared if condition is not None else set()
            if unknown:
                raise RuleError(
                    f"var({sorted(unknown)[0]!r}) cannot be used in '{key}': a rule's 'let' "
                    "values are computed for each item, after 'when' and 'for_each' (the "
                    "policy's own 'let' can be used there)", key,
                )
        for name, _ in self.lets:
            if name in self.shared:
                raise RuleError(f"let {name!r} is already defined by the policy's 'let'", "let")
        known = {name for name, _ in self.lets} | set(self.check.provided_vars) | self.shared
        defined: set[str] = set(self.shared)
        for name, let_expression in self.lets:
            unknown = let_expression.references.vars - defined
            if unknown:
                raise RuleError(f"var({sorted(unknown)[0]!r}) is used before it is defined", "let")
            defined.add(name)
        for expression in self.expressions():
            unknown = expression.references.vars - known
            if unknown:
                raise RuleError(
                    f"var({sorted(unknown)[0]!r}) is not defined by this rule's let", "let"
                )

    def param_references(self) -> dict[str, str]:
        """Each parameter name the rule uses, with the first key that uses it."""
        names: dict[str, str] = {}
        keyed: list[tuple[str, Expression | Template | None]] = [
            ("when", self.when), ("for_each", self.for_each),
            *(("let", expression) for _, expression in self.lets),
            *((self.kind, expression) for expression in getattr(self.check, "expressions", ())),
            ("message", self.message), ("field", self.field),
        ]
        for key, expression in keyed:
            if expression is not None:
                for name in sorted(expression.references.params):
                    names.setdefault(name, key)
        return names

    def evaluate(self, resource: Any, scope: EvaluationScope,
                 shared: dict[str, Any] | None = None) -> tuple[bool, list[Finding]]:
        """(whether the rule found anything to check, its findings) for one resource, in
        the policy's ``scope`` on it; ``shared`` holds the values of the policy's own
        ``let``.

        Raises jmespath errors (e.g. a function given the wrong type); the
        caller reports them as findings, since an unjudged resource must not pass.
        """
        shared = shared or {}
        scope.focus(resource, dict(shared))
        if self.when is not None and not truthy(self.when.search(resource)):
            return False, []
        items = [resource] if self.for_each is None else _as_items(self.for_each.search(resource))
        if not items:
            return self.pass_when_empty, []
        findings: list[Finding] = []
        occurrences: dict[int, int] = {}
        for item in items:
            variables = dict(shared)
            scope.focus(item, variables)
            for name, expression in self.lets:
                variables[name] = expression.search(item)
            # The n-th time an aliased object comes up, it is at its n-th place.
            occurrence = occurrences[id(item)] = occurrences.get(id(item), -1) + 1
            for violation in self.check.check(item):
                findings.append(self._finding(resource, item, violation, variables, occurrence))
        return True, findings

    def _finding(self, resource: Any, item: Any, violation: Violation,
                 variables: dict[str, Any], occurrence: int = 0) -> Finding:
        """The finding of one violation; ``variables`` are the item's ``var()`` values, to
        which the violation's own add (e.g. a schema rule's ``error``)."""
        if not violation.variables:
            return self._worded(resource, item, violation, occurrence)
        with EvaluationScope(vars={**variables, **dict(violation.variables)}):
            return self._worded(resource, item, violation, occurrence)

    def _worded(self, resource: Any, item: Any, violation: Violation,
                occurrence: int) -> Finding:
        if self.message is not None:
            message = self.message.render(item)
        else:
            message = violation.message or f"{self.name} failed"
        return Finding(message, self._path(resource, item, violation, occurrence))

    def _path(
        self, resource: Any, item: Any, violation: Violation, occurrence: int
    ) -> fieldpath.PathParts | None:
        base = fieldpath.find(resource, item, occurrence)
        relative = violation.path
        if self.field is not None:
            try:
                text = self.field.render(item)
                parts = _parse_field(text)
            except (fieldpath.FieldPathError, jexc.JMESPathError):
                parts = None
            if parts is not None:
                if text.strip().startswith("$"):  # absolute: from the resource root
                    return parts
                relative = parts + relative
        if base is None:
            # The item is not an object inside the resource (a parameter, a
            # string): a field relative to it has no place in the file.
            return None
        return base + relative


def _parse_field(text: str) -> fieldpath.PathParts:
    text = text.strip()
    if text == "$":
        return ()
    return fieldpath.parse(text.removeprefix("$").removeprefix("."))


def _as_items(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
