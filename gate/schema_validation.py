"""The JSON Schemas of gate/schemas/, and documents checked against them: policies,
policy parameters and tests, config, waivers and release files.

A document's first error is the one reported, as a path and a message, for the
loaders to place it by file and line; ``format: regex`` means a pattern gate runs
the way RE2 would (gate/evaluation/regexes.py).
"""
from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources as importlib_resources
from typing import Any

from gate import schemas
from gate.evaluation.regexes import regex_problem
from gate.loading import fieldpath


@cache
def load_schema(name: str) -> dict[str, Any]:
    text = importlib_resources.files(schemas).joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def schema_validator(name: str) -> Any:
    import jsonschema  # on demand: importing it costs every run's start-up

    return jsonschema.Draft202012Validator(load_schema(name))


def schema_error(validator: Any, document: Any) -> tuple[tuple[str | int, ...], str] | None:
    """The most relevant schema error as (path, message), or None if valid."""
    from jsonschema.exceptions import best_match  # on demand, as above

    error = best_match(validator.iter_errors(document))
    if error is None:
        return None
    path = tuple(error.absolute_path)
    message = error.message
    if error.validator == "format" and error.cause is not None:
        message = f"{message}: {error.cause}"  # why, e.g. a pattern that differs from RE2
    message = message if len(message) <= 320 else message[:317] + "..."
    where = fieldpath.display(path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        # Blame the unexpected key's own line, not the mapping's.
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extras = [key for key in error.instance if key not in known]
        if extras:
            path = (*path, extras[0])
    return path, f"{where}: {message}" if where else message


@cache
def format_checker() -> Any:
    """JSON Schema formats as gate checks them: ``format: regex`` is a pattern gate can
    run the way RE2 would (see gate/evaluation/regexes.py), not merely one Python compiles."""
    import jsonschema  # on demand: importing it costs every run's start-up

    checker = copy.deepcopy(jsonschema.Draft202012Validator.FORMAT_CHECKER)

    def is_regex(instance: object) -> bool:
        if not isinstance(instance, str):
            return True
        problem = regex_problem(instance)
        if problem is not None:
            raise ValueError(problem)
        return True

    checker.checks("regex", raises=ValueError)(is_regex)
    return checker
