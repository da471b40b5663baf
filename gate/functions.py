"""JMESPath functions that policies may call, beyond the JMESPath standard ones.

Scope functions (``param``, ``resource``, ``item``, ``var``) read the
evaluation in progress: JMESPath has no variables, so an expression over one
container can still reach the whole resource or the policy's parameters.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jmespath import functions

from gate import fieldpath, kube
from gate.imageref import parse_image


@dataclass
class Scope:
    """What the scope functions answer while one policy checks one resource."""

    resource: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    item: Any = None
    vars: dict[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


class GateFunctions(functions.Functions):
    """The function table: JMESPath's own plus gate's (``_func_<name>``)."""

    def __init__(self) -> None:
        super().__init__()
        self.scope = Scope()

    def _validate_arguments(self, args: list[Any], signature: Any, function_name: str) -> Any:
        # JMESPath has no optional arguments; gate's functions mark them "optional".
        optional = sum(1 for arg in signature if arg.get("optional"))
        if optional and len(signature) - optional <= len(args) <= len(signature):
            return self._type_check(args, signature[: len(args)], function_name)
        return super()._validate_arguments(args, signature, function_name)

    # -- scope ------------------------------------------------------------
    @functions.signature({"types": ["string"]})
    def _func_param(self, name: str) -> Any:
        return self.scope.params.get(name)

    @functions.signature()
    def _func_resource(self) -> Any:
        return self.scope.resource

    @functions.signature()
    def _func_item(self) -> Any:
        return self.scope.item

    @functions.signature({"types": ["string"]})
    def _func_var(self, name: str) -> Any:
        return self.scope.vars.get(name)

    @functions.signature({"types": []})
    def _func_path(self, obj: Any) -> Any:
        found = fieldpath.find(self.scope.resource, obj)
        if found is None:
            return None
        return "$." + fieldpath.display(found) if found else "$"

    # -- Kubernetes shapes --------------------------------------------------
    @functions.signature({"types": []})
    def _func_pod_template(self, obj: Any) -> Any:
        return kube.pod_template(obj)

    @functions.signature({"types": []})
    def _func_pod_spec(self, obj: Any) -> Any:
        return kube.pod_spec(obj)

    @functions.signature({"types": []}, {"types": ["array", "null"], "optional": True})
    def _func_containers(self, obj: Any, lists: list[str] | None = None) -> list[Any]:
        return kube.containers(obj, lists)

    @functions.signature({"types": []})
    def _func_image_ref(self, reference: Any) -> Any:
        if not isinstance(reference, str):
            return None
        return parse_image(reference)

    @functions.signature({"types": []})
    def _func_quantity(self, value: Any) -> Any:
        return kube.quantity(value)

    # -- general helpers ----------------------------------------------------
    @functions.signature({"types": ["string"]}, {"types": []})
    def _func_regex_match(self, pattern: str, value: Any) -> bool:
        return isinstance(value, str) and _regex(pattern).search(value) is not None

    @functions.signature({"types": ["string"]}, {"types": []})
    def _func_glob_match(self, pattern: str, value: Any) -> bool:
        return isinstance(value, str) and fnmatch.fnmatchcase(value, pattern)

    @functions.signature({"types": []}, {"types": ["string", "array"]})
    def _func_get(self, obj: Any, key: str | list[Any]) -> Any:
        for part in key if isinstance(key, list) else [key]:
            if isinstance(obj, dict):
                obj = obj.get(part)
            elif isinstance(obj, list) and isinstance(part, int) and -len(obj) <= part < len(obj):
                obj = obj[part]
            else:
                return None
        return obj

    @functions.signature({"types": ["string"]}, {"types": ["string"]})
    def _func_split(self, value: str, separator: str) -> list[str]:
        return value.split(separator) if separator else list(value)

    @functions.signature({"types": ["string"]})
    def _func_lower(self, value: str) -> str:
        return value.lower()

    @functions.signature({"types": ["string"]})
    def _func_upper(self, value: str) -> str:
        return value.upper()

    @functions.signature({"types": ["object", "null"]})
    def _func_entries(self, obj: dict[str, Any] | None) -> list[dict[str, Any]]:
        return [{"key": k, "value": v} for k, v in (obj or {}).items()]


def function_arity() -> dict[str, tuple[int, int | None]]:
    """(minimum, maximum) argument counts of every callable function; None = variadic."""
    table: dict[str, tuple[int, int | None]] = {}
    for name, entry in GateFunctions.FUNCTION_TABLE.items():
        signature = entry["signature"]
        required = sum(
            1 for arg in signature if not arg.get("optional") and not arg.get("variadic")
        )
        variadic = any(arg.get("variadic") for arg in signature)
        table[name] = (required, None if variadic else len(signature))
    return table
