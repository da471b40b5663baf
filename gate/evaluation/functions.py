"""JMESPath functions that policies may call, beyond the JMESPath standard ones.

All of them accept arguments of any type and answer null where a value does
not fit, as JMESPath's own field access does; only a broken regular
expression is an error.

Scope functions (``param``, ``resource``, ``item``, ``var``) read the
evaluation in progress: JMESPath has no variables, so an expression over one
container can still reach the whole resource or the policy's parameters. What
they read is set by an ``EvaluationScope`` block, and by nothing else.
"""
from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

from jmespath import functions
from jmespath.exceptions import JMESPathError, JMESPathTypeError

from gate.evaluation.context import Context, label_selector
from gate.evaluation.regexes import RegexError, compile_regex
from gate.loading import fieldpath, kube
from gate.loading.imageref import parse_image

# An argument of EvaluationScope not given: the enclosing scope's value stays.
_KEEP: Any = object()


class EvaluationScope:
    """What the scope functions (``param``, ``resource``, ``item``, ``var``, ``path``) and
    the context functions answer while a block evaluates expressions; the one writer of
    what they read.

    ``with EvaluationScope(resource=..., params=...) as scope:`` gives the values named,
    keeps the enclosing scope's others, and brings the enclosing scope back on exit,
    error or not. Within the block, ``scope.judge(...)`` moves it to one policy on one
    resource and ``scope.focus(...)`` to one item of a rule: the engine enters a scope
    once per batch of resources and moves it for each policy and item (millions of
    times in a large run), a couple of attribute writes each.
    """

    __slots__ = ("_outer", "context", "item", "params", "resource", "vars")

    def __init__(self, *, resource: Any = _KEEP, params: Any = _KEEP, item: Any = _KEEP,
                 vars: Any = _KEEP, context: Any = _KEEP) -> None:
        outer = _current
        self.resource: Any = outer.resource if resource is _KEEP else resource
        self.params: dict[str, Any] = outer.params if params is _KEEP else params
        self.item: Any = outer.item if item is _KEEP else item
        self.vars: dict[str, Any] = outer.vars if vars is _KEEP else vars
        # The other resources of the resource's rendering context (gate/evaluation/context.py);
        # None: the context functions find nothing.
        self.context: Context | None = outer.context if context is _KEEP else context
        self._outer = outer

    def __enter__(self) -> EvaluationScope:
        global _current
        self._outer = _current
        _current = self
        return self

    def __exit__(self, *exc_info: object) -> None:
        global _current
        _current = self._outer

    def judge(self, resource: Any, params: dict[str, Any], vars: dict[str, Any]) -> None:
        """Evaluate what follows for a policy with ``params`` on ``resource`` (which is
        also the item), with these ``var()`` values."""
        self.resource = self.item = resource
        self.params = params
        self.vars = vars

    def focus(self, item: Any, vars: dict[str, Any]) -> None:
        """Evaluate what follows on ``item``, with these ``var()`` values."""
        self.item = item
        self.vars = vars


def _outermost() -> EvaluationScope:
    """The scope outside every block: nothing evaluated yet, no context."""
    scope = object.__new__(EvaluationScope)
    scope.resource, scope.params, scope.item, scope.vars, scope.context = None, {}, None, {}, None
    scope._outer = scope
    return scope


_current = _outermost()


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([0-9]+)\}")


def _same(left: Any, right: Any) -> bool:
    """JMESPath equality: ``true`` is not ``1``, whatever Python thinks."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    return bool(left == right)


_TYPE_NAMES = {str: "string", bool: "boolean", int: "number", float: "number", list: "array",
               dict: "object", type(None): "null"}


def _type_name(value: Any) -> str:
    """JMESPath's name of a value's type."""
    return _TYPE_NAMES.get(type(value), "object")


def _invalid(function: str, value: Any, expected: list[str]) -> JMESPathError:
    return JMESPathTypeError(function, value, _type_name(value), expected)


def render_value(value: Any) -> str:
    """How a value reads inside text: strings bare, everything else as JSON."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return str(value)


class GateFunctions(functions.Functions):
    """The function table: JMESPath's own plus gate's (``_func_<name>``)."""

    def __init__(self) -> None:
        super().__init__()
        # The last object asked for its pod template, and the answer: every pod policy
        # asks for the same resource's pods in turn, and policies never change the data.
        self._template_of: tuple[Any, Any] = (None, None)
        self._containers_of: tuple[Any, Any, list[Any]] = (None, None, [])

    def call_function(self, function_name: str, resolved_args: list[Any]) -> Any:
        # gate's own functions accept any argument types (returning null where a
        # value does not fit) and their arity is checked when a policy loads, so
        # they skip JMESPath's per-call signature validation, a hot path.
        method = self._gate_functions.get(function_name)
        if method is not None:
            return method(self, *resolved_args)
        return super().call_function(function_name, resolved_args)

    def _validate_arguments(self, args: list[Any], signature: Any, function_name: str) -> Any:
        # JMESPath has no optional arguments; gate's functions mark them "optional".
        optional = sum(1 for arg in signature if arg.get("optional"))
        if optional and len(signature) - optional <= len(args) <= len(signature):
            return self._type_check(args, signature[: len(args)], function_name)
        return super()._validate_arguments(args, signature, function_name)

    # -- JMESPath's own functions on the hot path ---------------------------
    # The same results and errors as jmespath's, without its per-call signature
    # machinery: policies call these for every container of every resource.
    @functions.signature({"types": ["string", "array", "object"]})
    def _func_length(self, value: Any) -> int:
        if type(value) not in (str, list, dict):
            raise _invalid("length", value, ["string", "array", "object"])
        return len(value)

    @functions.signature({"types": []})
    def _func_type(self, value: Any) -> str:
        return _type_name(value)

    @functions.signature({"types": ["array", "string"]}, {"types": []})
    def _func_contains(self, subject: Any, search: Any) -> bool:
        if type(subject) not in (list, str):
            raise _invalid("contains", subject, ["array", "string"])
        return search in subject

    @functions.signature({"types": [], "variadic": True})
    def _func_not_null(self, *values: Any) -> Any:
        return next((value for value in values if value is not None), None)

    @functions.signature({"types": []})
    def _func_to_array(self, value: Any) -> list[Any]:
        return value if type(value) is list else [value]

    @functions.signature({"types": ["string"]}, {"types": ["string"]})
    def _func_starts_with(self, subject: Any, prefix: Any) -> bool:
        for value in (subject, prefix):
            if type(value) is not str:
                raise _invalid("starts_with", value, ["string"])
        return bool(subject.startswith(prefix))

    @functions.signature({"types": ["string"]}, {"types": ["string"]})
    def _func_ends_with(self, subject: Any, suffix: Any) -> bool:
        for value in (subject, suffix):
            if type(value) is not str:
                raise _invalid("ends_with", value, ["string"])
        return bool(subject.endswith(suffix))

    # -- scope ------------------------------------------------------------
    @functions.signature({"types": ["string"]})
    def _func_param(self, name: str) -> Any:
        return _current.params.get(name) if isinstance(name, str) else None

    @functions.signature()
    def _func_resource(self) -> Any:
        return _current.resource

    @functions.signature()
    def _func_item(self) -> Any:
        return _current.item

    @functions.signature({"types": ["string"]})
    def _func_var(self, name: str) -> Any:
        return _current.vars.get(name) if isinstance(name, str) else None

    @functions.signature({"types": []})
    def _func_path(self, obj: Any) -> Any:
        found = fieldpath.find(_current.resource, obj)
        if found is None:
            return None
        return "$." + fieldpath.display(found) if found else "$"

    # -- Kubernetes shapes --------------------------------------------------
    def _pod_template(self, obj: Any) -> Any:
        if obj is not self._template_of[0] or obj is None:
            self._template_of = (obj, kube.pod_template(obj))
        return self._template_of[1]

    @functions.signature({"types": []})
    def _func_pod_template(self, obj: Any) -> Any:
        return self._pod_template(obj)

    @functions.signature({"types": []})
    def _func_pod_spec(self, obj: Any) -> Any:
        template = self._pod_template(obj)
        return None if template is None else template["spec"]

    @functions.signature({"types": []}, {"types": ["array", "null"], "optional": True})
    def _func_containers(self, obj: Any, lists: list[str] | None = None) -> list[Any]:
        if lists is not None and not isinstance(lists, list):
            return []
        cached_obj, cached_lists, found = self._containers_of
        if obj is not cached_obj or lists != cached_lists or obj is None:
            found = kube.containers(obj, lists)
            self._containers_of = (obj, None if lists is None else list(lists), found)
        return list(found)  # a copy: a caller's list is its own

    @functions.signature({"types": []})
    def _func_image_ref(self, reference: Any) -> Any:
        if not isinstance(reference, str):
            return None
        return parse_image(reference)

    @functions.signature({"types": []})
    def _func_quantity(self, value: Any) -> Any:
        return kube.quantity(value)

    # -- general helpers ----------------------------------------------------
    @functions.signature({"types": []})
    def _func_objects(self, value: Any) -> list[Any]:
        """Every object (mapping) in ``value``, itself included, in document order."""
        found: list[Any] = []
        stack = [value]
        while stack:
            current = stack.pop()
            if isinstance(current, dict):
                found.append(current)
                stack.extend(reversed(list(current.values())))
            elif isinstance(current, list):
                stack.extend(reversed(current))
        return found

    @functions.signature({"types": ["string"]}, {"types": []})
    def _func_regex_match(self, pattern: str, value: Any) -> bool:
        if not isinstance(pattern, str):
            raise JMESPathError(f"regex_match() pattern must be a string, not {pattern!r}")
        try:
            regex = compile_regex(pattern)
        except RegexError as exc:
            raise JMESPathError(
                f"regex_match(): invalid regular expression {pattern!r}: {exc}"
            ) from None
        return isinstance(value, str) and regex.search(value) is not None

    @functions.signature({"types": ["string"]}, {"types": []})
    def _func_glob_match(self, pattern: str, value: Any) -> bool:
        return isinstance(pattern, str) and isinstance(value, str) and fnmatch.fnmatchcase(
            value, pattern
        )

    @functions.signature({"types": []}, {"types": ["string", "array"]})
    def _func_get(self, obj: Any, key: str | list[Any]) -> Any:
        for part in key if isinstance(key, list) else [key]:
            if isinstance(obj, dict) and isinstance(part, (str, int, float, bool)):
                obj = obj.get(part)
            elif isinstance(obj, list) and isinstance(part, int) and -len(obj) <= part < len(obj):
                obj = obj[part]
            else:
                return None
        return obj

    @functions.signature({"types": ["string"]}, {"types": ["string"]})
    def _func_split(self, value: str, separator: str) -> list[str] | None:
        if not isinstance(value, str) or not isinstance(separator, str):
            return None
        return value.split(separator) if separator else list(value)

    @functions.signature({"types": ["string"]})
    def _func_lower(self, value: str) -> str | None:
        return value.lower() if isinstance(value, str) else None

    @functions.signature({"types": ["string"]})
    def _func_upper(self, value: str) -> str | None:
        return value.upper() if isinstance(value, str) else None

    @functions.signature({"types": []})
    def _func_unique(self, values: Any) -> list[Any] | None:
        """The distinct values of an array, in first-seen order."""
        if not isinstance(values, list):
            return None
        distinct: list[Any] = []
        for value in values:
            if value not in distinct:
                distinct.append(value)
        return distinct

    @functions.signature({"types": []}, {"types": ["string"]})
    def _func_trailers(self, commit: Any, name: str) -> list[str]:
        """A commit's values of one trailer (change documents), the key matched as git
        does: case-insensitively."""
        trailers = commit.get("trailers") if isinstance(commit, dict) else None
        if not isinstance(trailers, dict) or not isinstance(name, str):
            return []
        wanted = name.lower()
        return [value for key, values in trailers.items()
                if isinstance(key, str) and key.lower() == wanted and isinstance(values, list)
                for value in values if isinstance(value, str)]

    # -- presence, defaults and text ------------------------------------------
    @functions.signature({"types": []}, {"types": ["string", "array"]})
    def _func_has(self, obj: Any, key: str | list[Any]) -> bool:
        """Whether ``key`` (or each key of a path in turn) is present, even with a null
        value: ``get`` and field access cannot tell an absent key from ``key: null``."""
        for part in key if isinstance(key, list) else [key]:
            in_object = isinstance(obj, dict) and isinstance(part, str) and part in obj
            in_list = (isinstance(obj, list) and isinstance(part, int)
                       and not isinstance(part, bool) and -len(obj) <= part < len(obj))
            if not (in_object or in_list):
                return False
            obj = obj[part]
        return True

    @functions.signature({"types": []}, {"types": []}, {"types": [], "variadic": True})
    def _func_unset_or(self, value: Any, *allowed: Any) -> bool:
        """Whether ``value`` is unset (absent or null) or equal to one of ``allowed``:
        the "undefined/nil or X" of the Pod Security Standards, written once."""
        return value is None or any(_same(value, candidate) for candidate in allowed)

    @functions.signature({"types": []}, {"types": [], "variadic": True})
    def _func_concat(self, *values: Any) -> Any:
        """Arrays concatenated, or strings joined; null arguments are skipped. Mixing
        arrays and strings (or any other type) gives null."""
        present = [value for value in values if value is not None]
        if all(isinstance(value, list) for value in present):
            return [item for value in present for item in value]
        if all(isinstance(value, str) for value in present):
            return "".join(present)
        return None

    @functions.signature({"types": ["string"]}, {"types": [], "variadic": True, "optional": True})
    def _func_format(self, template: Any, *values: Any) -> str | None:
        """``{0}``, ``{1}``, ... of ``template`` replaced by the values (strings bare,
        others as JSON); ``{{`` and ``}}`` stand for braces. A placeholder past the last
        value is an error, so a typo cannot hide in a message."""
        if not isinstance(template, str):
            return None

        def replace(match: re.Match[str]) -> str:
            if match.group(0) in ("{{", "}}"):
                return match.group(0)[0]
            index = int(match.group(1))
            if index >= len(values):
                raise JMESPathError(
                    f"format(): {{{index}}} has no value ({len(values)} given) in {template!r}"
                )
            return render_value(values[index])

        return _PLACEHOLDER.sub(replace, template)

    @functions.signature({"types": ["object", "array", "null"]})
    def _func_entries(self, obj: Any) -> list[dict[str, Any]] | None:
        """An object as ``{key, value}`` pairs; an array as ``{key: position, value}``,
        so an expression can name the position of a list entry (``verbs[2]``)."""
        if isinstance(obj, dict):
            return [{"key": k, "value": v} for k, v in obj.items()]
        if isinstance(obj, list):
            return [{"key": i, "value": v} for i, v in enumerate(obj)]
        return None

    # -- cross-resource: the rendering context (gate/evaluation/context.py) -----------------------
    @functions.signature({"types": []}, {"types": []})
    def _func_label_selector(self, selector: Any, labels: Any) -> bool:
        return label_selector(selector, labels)

    @functions.signature({"types": []}, {"types": []}, {"types": []})
    def _func_lookup(self, kind: Any, namespace: Any, name: Any) -> Any:
        context = _current.context
        return None if context is None else context.lookup(kind, namespace, name)

    @functions.signature({"types": []}, {"types": []}, {"types": []}, {"types": []})
    def _func_lookup_by(self, kind: Any, namespace: Any, path: Any, value: Any) -> list[Any]:
        context = _current.context
        return [] if context is None else context.lookup_by(kind, namespace, path, value)

    @functions.signature({"types": []}, {"types": []})
    def _func_pods_selected(self, namespace: Any, selector: Any) -> list[Any]:
        context = _current.context
        return [] if context is None else context.pods_selected(namespace, selector)

    @functions.signature({"types": []}, {"types": []}, {"types": []})
    def _func_selecting(self, kind: Any, namespace: Any, labels: Any) -> list[Any]:
        context = _current.context
        return [] if context is None else context.selecting(kind, namespace, labels)


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


GateFunctions._gate_functions = {
    name.removeprefix("_func_"): function
    for name, function in vars(GateFunctions).items()
    if name.startswith("_func_")
}
