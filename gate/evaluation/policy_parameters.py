"""Policy parameters: their declarations compiled and checked, and the values a
configuration, a test or an ``extends:`` gives them validated against their schemas.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gate.evaluation.match import Selector
from gate.evaluation.rules.base import Rule
from gate.schema_validation import format_checker, schema_error


@dataclass(frozen=True)
class Parameter:
    name: str
    description: str
    default: Any
    schema: dict[str, Any] | None

    def validate(self, value: Any) -> str | None:
        """Why ``value`` is not acceptable, or None."""
        if self.schema is None:
            return None
        import jsonschema  # on demand: importing it costs every run's start-up

        validator = jsonschema.Draft202012Validator(self.schema, format_checker=format_checker())
        found = schema_error(validator, value)
        return None if found is None else f"parameter {self.name!r}: {found[1]}"


def compile_parameters(document: dict[str, Any], fail: Any,
                        trusted: bool = False) -> dict[str, Parameter]:
    parameters: dict[str, Parameter] = {}
    for name, spec in document.get("parameters", {}).items():
        schema = spec.get("schema")
        if trusted:
            parameters[name] = Parameter(name, spec["description"], spec["default"], schema)
            continue
        if schema is not None:
            import jsonschema  # on demand: importing it costs every run's start-up
            from jsonschema.exceptions import SchemaError

            try:
                jsonschema.Draft202012Validator.check_schema(schema)
            except SchemaError as exc:
                raise fail(
                    f"parameter {name!r}: invalid JSON Schema: {exc.message}",
                    ("parameters", name, "schema"),
                ) from None
        parameter = Parameter(name, spec["description"], spec["default"], schema)
        problem = parameter.validate(parameter.default)
        if problem is not None:
            raise fail(f"default of {problem}", ("parameters", name, "default"))
        parameters[name] = parameter
    return parameters


def check_param_references(
    document: dict[str, Any],
    rules: list[Rule],
    selectors: dict[str, Selector | None],
    parameters: dict[str, Parameter],
    fail: Any,
) -> None:
    for index, rule in enumerate(rules):
        for name, key in sorted(rule.param_references().items()):
            if name not in parameters:
                raise fail(f"rules[{index}]: unknown parameter {name!r}", ("rules", index, key))
    for key, selector in selectors.items():
        if selector is not None and selector.where is not None:
            for name in sorted(selector.where.references.params):
                if name not in parameters:
                    raise fail(f"{key}.where: unknown parameter {name!r}", (key, "where"))
