"""ApplicationSet templates: legacy ``{{key}}`` and ``goTemplate`` strings rendered with
generator parameters, and values printed as Go prints them."""
from __future__ import annotations

import decimal
import json
import re
from collections.abc import Callable
from typing import Any

from gate.limits import MAX_TEMPLATE_OUTPUT, LimitError

#: One parameter set of a generator: what a template is rendered with.
Params = dict[str, Any]


def sanitize_name(name: str) -> str:
    """Argo CD's ``SanitizeName``: the ``...Normalized`` parameters."""
    name = re.sub(r"[^-a-z0-9.]", "-", name.lower())[:253]
    return name.strip("-.")


def go_string(value: Any) -> str:
    """A value as Go's ``fmt`` prints it (``%v``): what template parameters become."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, (int, float)):
        return _go_float(float(value))
    if isinstance(value, list):
        return "[" + " ".join(go_string(item) for item in value) + "]"
    if isinstance(value, dict):
        items = sorted((go_string(k), go_string(v)) for k, v in value.items())
        return "map[" + " ".join(f"{k}:{v}" for k, v in items) + "]"
    return str(value)


def _go_float(number: float) -> str:
    """Go's shortest ``%g`` (JSON numbers reach templates as float64): 123456, 1e+06."""
    if number != number:
        return "NaN"
    if number in (float("inf"), float("-inf")):
        return "+Inf" if number > 0 else "-Inf"
    if number == 0:
        return "0"
    minus = "-" if number < 0 else ""
    _, digit_tuple, exponent = decimal.Decimal(repr(abs(number))).normalize().as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + exponent  # where the decimal point goes among the digits
    if not -4 <= point - 1 < 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{minus}{mantissa}e{point - 1:+03d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return minus + digits + "0" * (point - len(digits))
    return f"{minus}{digits[:point]}.{digits[point:]}"


class _TooLong(LimitError):
    """A template string that renders too long; the caller adds the file and line."""


class TemplateError(Exception):
    """A template this module cannot render (or that Argo CD would refuse)."""


_LEGACY_TAG = re.compile(r"\{\{(.*?)\}\}", re.S)
_GO_ACTION = re.compile(r"\{\{(.*?)\}\}", re.S)
_GO_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<raw>`[^`]*`)
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<field>\$?(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.|\$)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<pipe>\|)
    | (?P<open>\()
    | (?P<close>\))
    )""",
    re.X,
)
_GO_KEYWORDS = {"if", "else", "end", "range", "with", "define", "template", "block", "break",
                "continue"}


def render_string(text: str, params: Params, go_template: bool) -> str:
    """One template string rendered with generator parameters, as an ApplicationSet does.

    Legacy templates replace ``{{key}}`` by the string parameter ``key`` and leave unknown
    tags as written; Go templates support field access, ``index`` and a few functions
    (see docs/environments.md) and raise TemplateError on anything else or a missing key.
    """
    if "{{" not in text:
        return text
    if not go_template:
        grown = [len(text)]
        return _LEGACY_TAG.sub(lambda m: _legacy_tag(m, params, grown), text)
    return _render_go(text, params)


def _legacy_tag(match: re.Match[str], params: Params, grown: list[int]) -> str:
    value = params.get(match.group(1).strip())
    if not (isinstance(value, str) and match.group(1).strip()):
        return match.group(0)
    grown[0] += len(value)
    _check_output(grown[0])
    return value


def _check_output(length: int) -> None:
    """A rendered string may not outgrow MAX_TEMPLATE_OUTPUT (tags substituting a long
    parameter many times multiply): checked before the text is built."""
    if length > MAX_TEMPLATE_OUTPUT:
        raise _TooLong(f"a template renders a string of more than {MAX_TEMPLATE_OUTPUT:,} "
                       "characters")


def _replace(old: Any, new: Any, s: Any) -> str:
    text, old_text, new_text = go_string(s), go_string(old), go_string(new)
    count = len(text) + 1 if not old_text else text.count(old_text)
    _check_output(len(text) + count * (len(new_text) - len(old_text)))
    return text.replace(old_text, new_text)


def _render_go(text: str, params: Params) -> str:
    out: list[str] = []
    position = 0
    grown = 0
    trim_next = False
    for match in _GO_ACTION.finditer(text):
        literal = text[position:match.start()]
        body = match.group(1)
        if trim_next:
            literal = literal.lstrip()
        if len(body) > 1 and body[0] == "-" and body[1].isspace():
            literal = literal.rstrip()
            body = body[1:]
        trim_next = len(body) > 1 and body[-1] == "-" and body[-2].isspace()
        if trim_next:
            body = body[:-1]
        out.append(literal)
        out.append(_go_action(body.strip(), params))
        grown += len(literal) + len(out[-1])
        _check_output(grown)
        position = match.end()
    rest = text[position:]
    out.append(rest.lstrip() if trim_next else rest)
    return "".join(out)


def _go_action(body: str, params: Params) -> str:
    if body.startswith("/*") and body.endswith("*/"):
        return ""
    tokens = _go_tokens(body)
    value, position = _go_pipeline(tokens, 0, params)
    if position != len(tokens):
        raise TemplateError(f"unexpected {tokens[position][1]!r} in {{{{{body}}}}}")
    if value is _MISSING:
        raise TemplateError(f"no value for {{{{{body}}}}}")
    return go_string(value)


def _go_tokens(body: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(body):
        if body[position:].strip() == "":
            break
        match = _GO_TOKEN.match(body, position)
        if match is None or match.end() == position:
            raise TemplateError(f"cannot read {body[position:].strip()!r} in {{{{{body}}}}}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "ident" and value in _GO_KEYWORDS:
            raise TemplateError(f"'{value}' is not supported in {{{{{body}}}}}")
        tokens.append((kind, value))
        position = match.end()
    return tokens


def _go_pipeline(tokens: list[tuple[str, str]], position: int, params: Params) -> tuple[Any, int]:
    value: Any = None
    piped = False
    while True:
        value, position = _go_command(tokens, position, params, value if piped else _NOTHING)
        if position < len(tokens) and tokens[position][0] == "pipe":
            position += 1
            piped = True
            continue
        return value, position


_NOTHING = object()  # no piped value
_MISSING = object()  # a map key that is not there: Go's "<no value>"


def _go_command(
    tokens: list[tuple[str, str]], position: int, params: Params, piped: Any
) -> tuple[Any, int]:
    args: list[Any] = []
    function: str | None = None
    while position < len(tokens) and tokens[position][0] not in ("pipe", "close"):
        kind, text = tokens[position]
        if kind == "ident" and not args and function is None and text not in _GO_CONSTANTS:
            function = text
            position += 1
            continue
        value, position = _go_operand(tokens, position, params)
        args.append(value)
    if piped is not _NOTHING:
        args.append(piped)
    if function is not None:
        return _go_call(function, args), position
    if len(args) != 1:
        raise TemplateError("a value cannot take arguments" if args else "empty command")
    return args[0], position


_GO_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "nil": None}


def _go_operand(tokens: list[tuple[str, str]], position: int, params: Params) -> tuple[Any, int]:
    kind, text = tokens[position]
    if kind == "open":
        value, position = _go_pipeline(tokens, position + 1, params)
        if position >= len(tokens) or tokens[position][0] != "close":
            raise TemplateError("unclosed '('")
        return value, position + 1
    if kind == "str":
        try:
            return json.loads(text), position + 1
        except ValueError:
            raise TemplateError(f"cannot read the string {text}") from None
    if kind == "raw":
        return text[1:-1], position + 1
    if kind == "num":
        return (float(text) if "." in text else int(text)), position + 1
    if kind == "ident" and text in _GO_CONSTANTS:
        return _GO_CONSTANTS[text], position + 1
    if kind == "field":
        return _go_field(text, params), position + 1
    raise TemplateError(f"unexpected {text!r}")


def _go_field(text: str, params: Params) -> Any:
    value: Any = params
    for name in text.lstrip("$").split(".")[1:]:
        if not isinstance(value, dict):
            raise TemplateError(f"no parameter {text}")
        value = value.get(name, _MISSING)
    return value


def _go_index(value: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(value, list) and isinstance(key, int) and not isinstance(key, bool):
            if not 0 <= key < len(value):
                raise TemplateError(f"index {key} out of range (length {len(value)})")
            value = value[key]
        elif isinstance(value, dict) and isinstance(key, str):
            value = value.get(key, _MISSING)
        else:
            raise TemplateError(f"cannot index {go_string(value)!r} with {go_string(key)!r}")
    return value


def _go_printf(form: Any, *args: Any) -> str:
    values = iter(args)

    def verb(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        try:
            value = next(values)
        except StopIteration:
            return f"%!{match.group(1)}(MISSING)"
        return f'"{go_string(value)}"' if match.group(1) == "q" else go_string(value)

    return re.sub(r"%%|%([svdq])", verb, str(form))


def _go_default(fallback: Any, value: Any = _MISSING) -> Any:
    empty = value is _MISSING or value is None or value in ("", [], {}, 0, False)
    return fallback if empty else value


_GO_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "index": _go_index,
    "lower": lambda s: go_string(s).lower(),
    "upper": lambda s: go_string(s).upper(),
    "trim": lambda s: go_string(s).strip(),
    "trimPrefix": lambda prefix, s: go_string(s).removeprefix(go_string(prefix)),
    "trimSuffix": lambda suffix, s: go_string(s).removesuffix(go_string(suffix)),
    "replace": _replace,
    "default": _go_default,
    "printf": _go_printf,
    "print": lambda *args: "".join(go_string(a) for a in args),
    "toString": go_string,
    "normalize": lambda s: sanitize_name(go_string(s)),
}


def _go_call(name: str, args: list[Any]) -> Any:
    function = _GO_FUNCTIONS.get(name)
    if function is None:
        raise TemplateError(f"function {name!r} is not supported")
    if name != "default" and any(arg is _MISSING for arg in args):
        raise TemplateError(f"{name} of a parameter that is not there")
    try:
        return function(*args)
    except TypeError:
        raise TemplateError(f"wrong number of arguments for {name!r}") from None


def render_object(value: Any, params: Params, go_template: bool) -> tuple[Any, list[str]]:
    """Every string in ``value`` rendered; a string that fails stays as written.

    Returns the rendered copy and the problems, each ``field: reason``.
    """
    problems: list[str] = []

    def walk(item: Any, where: str) -> Any:
        if isinstance(item, dict):
            return {key: walk(child, f"{where}.{key}" if where else str(key))
                    for key, child in item.items()}
        if isinstance(item, list):
            return [walk(child, f"{where}[{i}]") for i, child in enumerate(item)]
        if isinstance(item, str):
            try:
                return render_string(item, params, go_template)
            except TemplateError as exc:
                problems.append(f"{where}: {exc}")
        return item

    return walk(value, ""), problems
