"""``schema``: JSON Schema validation of each item.

The schema's own ``$schema`` picks the draft (2020-12 when absent).  Each
validation error is a violation at the error's path inside the item; a rule's
``message`` template can quote the validator's wording as ``var('error')``.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError

from gate.evaluation.rules.base import RuleError, Violation


def _validator_class(schema: dict[str, Any]) -> Any:
    """The validator for the schema's ``$schema`` dialect, 2020-12 when absent."""
    if "$schema" not in schema:
        return jsonschema.Draft202012Validator
    dialect = schema["$schema"]
    validator_for: Any = jsonschema.validators.validator_for
    known = validator_for(schema, default=_Unknown)
    if known is _Unknown:
        raise RuleError(
            f"unknown JSON Schema dialect {dialect!r} in $schema (omit it for draft 2020-12)",
            "schema",
        )
    return known


class _Unknown:
    """Marks a ``$schema`` that names no dialect jsonschema knows."""


class SchemaCheck:
    provided_vars: frozenset[str] = frozenset({"error"})

    def __init__(self, schema: dict[str, Any]) -> None:
        validator_class = _validator_class(schema)
        try:
            validator_class.check_schema(schema)
        except SchemaError as exc:
            where = ".".join(str(p) for p in exc.absolute_path)
            raise RuleError(
                f"invalid JSON Schema{f' at {where}' if where else ''}: {exc.message}", "schema"
            ) from None
        self.validator = validator_class(schema)

    def check(self, item: Any) -> Iterator[Violation]:
        errors = sorted(
            self.validator.iter_errors(item),
            key=lambda e: ([str(p) for p in e.absolute_path], e.message),
        )
        for error in errors:
            yield Violation(
                message=error.message,
                path=tuple(error.absolute_path),
                variables=(("error", error.message),),
            )


def compile_check(spec: dict[str, Any]) -> SchemaCheck:
    return SchemaCheck(spec["schema"])
