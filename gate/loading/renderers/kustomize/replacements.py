"""Kustomize ``replacements:`` (and the builtin ReplacementTransformer), as kustomize
v5.5 does them (``api/filters/replacement/replacement.go``).

Each replacement, in order, reads one value from the single resource its source
selects (by any of its ids, current or previous) and writes it into the fields
of every resource its targets select. Paths are dotted, with ``\\.`` escapes:

- a source path (kyaml's PathGetter) takes field names, list indices, ``-``
  (the last element) and ``[key=value]`` (the first element whose ``key`` is
  exactly ``value``; ``[=value]`` for a list of scalars); ``*`` is an error;
- a target path (kyaml's PathMatcher) takes field names, indices, ``*`` (every
  element) and ``[key=value]``, where ``value`` is an *unanchored* regular
  expression matching every such element, as in kustomize.

A scalar target keeps its type where the new text reads as that type (a string
stays a string, ``replicas: 1`` takes ``"3"`` as 3); a created field reads the
text as plain YAML would; a mapping or list target is replaced whole. Each field
written points at the replacement's ``fieldPaths`` entry (or its ``select``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from yaml.nodes import Node

from gate.loading.renderers import FieldPath, RenderError
from gate.loading.renderers.kustomize.loading import Kustomization, value_node
from gate.loading.renderers.kustomize.provenance import Where, clone
from gate.loading.renderers.kustomize.reading import Reader
from gate.loading.renderers.kustomize.resources import Resource, ResourceId, as_text, origin_text
from gate.loading.renderers.kustomize.schema import SELECTOR_SHAPE, field_name, shape_error
from gate.loading.renderers.kustomize.selectors import labels_match, parse_selector
from gate.loading.yamlio import line_of_path

_RESID: Any = {key: "str" for key in ("group", "version", "kind", "name", "namespace")}
_OPTIONS: Any = {"delimiter": "str", "index": "int", "encoding": "str", "create": "bool"}
_SELECT: Any = SELECTOR_SHAPE
_REPLACEMENT: Any = {
    "source": {**_RESID, "fieldPath": "str", "options": _OPTIONS},
    "targets": [{"select": _SELECT, "reject": [_SELECT], "fieldPaths": ["str"],
                 "options": _OPTIONS}],
}
_DEFAULT_PATH = "metadata.name"


@dataclass
class _Located:
    """One replacement and where it is written."""

    data: dict[str, Any]
    file: str
    node: Node | None
    label: str  # e.g. "replacements[0]"

    def where(self, *path: str | int) -> Where:
        if self.node is None:
            return self.file, 1
        return self.file, line_of_path(self.node, path)

    def error(self, message: str, *path: str | int) -> RenderError:
        return RenderError(f"{self.label}: {message}", *self.where(*path))


def _shape(located: _Located, shape: Any) -> None:
    problem = shape_error(located.data, shape, ())
    if problem is not None:
        message, path = problem
        shown = path[:-1] if message.startswith("unknown field") else path
        raise located.error(f"{field_name(shown) or 'the replacement'}: {message}", *path)


def _load(reader: Reader, k: Kustomization) -> list[_Located]:
    """The replacements of ``k``: inline entries, and those of ``path:`` files."""
    found: list[_Located] = []
    for index, entry in k.items("replacements"):
        key: FieldPath = ("replacements", index)
        label = f"replacements[{index}]"
        node = value_node(k.node, key)
        if not isinstance(entry, dict):
            raise k.error(f"{label}: must be a mapping", *key)
        located = _Located(entry, k.file, node, label)
        _shape(located, {"path": "str", **_REPLACEMENT})
        if not entry.get("path"):
            found.append(located)
            continue
        if entry.get("source") is not None or entry.get("targets"):
            raise k.error(f"{label}: set path or an inline replacement (source, targets), "
                          "not both", *key)
        file = reader.file(k, entry["path"], *key, "path")
        documents = [d for d in reader.files.documents(file, k.file, k.line(*key, "path"))
                     if d.data is not None]
        if len(documents) != 1 or not isinstance(documents[0].data, (list, dict)):
            raise RenderError("a replacements file must hold one replacement (a mapping) or "
                              "a list of them", file, documents[0].line if documents else 1)
        document = documents[0]
        items: list[tuple[Any, Node | None, str]]
        if isinstance(document.data, dict):
            items = [(document.data, document.node, f"{file}")]
        else:
            items = [(item, value_node(document.node, (position,)), f"{file}[{position}]")
                     for position, item in enumerate(document.data)]
        for item, item_node, item_label in items:
            if not isinstance(item, dict):
                raise RenderError("a replacement must be a mapping", file,
                                  line_of_path(document.node, ()))
            inner = _Located(item, file, item_node, item_label)
            _shape(inner, _REPLACEMENT)
            found.append(inner)
    return found


def run(reader: Reader, k: Kustomization, resources: list[Resource]) -> None:
    """Apply the ``replacements`` of ``k`` (a kustomization, or a plugin config's view)."""
    for located in _load(reader, k):
        data = located.data
        if data.get("source") is None or data.get("targets") is None:
            raise located.error("a replacement needs a source and at least one target")
        value = _source_value(located, resources)
        for index, target in enumerate(data["targets"] or []):
            _apply_target(located, index, target, value, resources)


# -- ids and selection ------------------------------------------------------------------

def _ids(res: Resource) -> list[ResourceId]:
    """kustomize's ids of a resource: the current one, then the previous ones (their
    kind, name and namespace, with the current group and version)."""
    current = res.id()
    return [current, *(ResourceId(current.group, current.version, p.kind, p.name, p.namespace)
                       for p in res.previous)]


def _selected_by(resource_id: ResourceId, selector: dict[str, Any]) -> bool:
    """resid.IsSelectedBy: exact matches of the fields the selector sets."""
    wanted = ResourceId(as_text(selector.get("group")), as_text(selector.get("version")),
                        as_text(selector.get("kind")), as_text(selector.get("name")),
                        as_text(selector.get("namespace")))
    return ((not wanted.name or wanted.name == resource_id.name)
            and (not wanted.namespace
                 or wanted.effective_namespace() == resource_id.effective_namespace())
            and (not wanted.group or wanted.group == resource_id.group)
            and (not wanted.version or wanted.version == resource_id.version)
            and (not wanted.kind or wanted.kind == resource_id.kind))


def _selector_text(selector: dict[str, Any]) -> str:
    parts = [f"{key}={selector[key]}" for key in ("group", "version", "kind", "name",
                                                    "namespace") if selector.get(key)]
    return "{" + ", ".join(parts) + "}"


def _source_value(located: _Located, resources: list[Resource]) -> Any:
    source = located.data["source"]
    matches = [res for res in resources if any(_selected_by(i, source) for i in _ids(res))]
    if not matches:
        raise located.error(f"source: nothing is selected by {_selector_text(source)}",
                            "source")
    if len(matches) > 1:
        names = ", ".join(f"{r.id().text()} ({origin_text(r)})" for r in matches)
        raise located.error(f"source: {_selector_text(source)} selects more than one "
                            f"resource: {names}", "source")
    res = matches[0]
    field_path = as_text(source.get("fieldPath")) or _DEFAULT_PATH
    try:
        value = _lookup(res.obj, _split(field_path))
    except _PathError as exc:
        raise located.error(f"source.fieldPath {field_path!r}: {exc}",
                            "source", "fieldPath") from None
    if value is _MISSING or value is None or value == {} or value == []:
        raise located.error(f"source.fieldPath {field_path!r} is missing in "
                            f"{res.id().text()} ({origin_text(res)})", "source")
    options = source.get("options") or {}
    delimiter = as_text(options.get("delimiter"))
    if not delimiter:
        return clone(value)
    if isinstance(value, (dict, list)):
        raise located.error("source.options.delimiter can only be used with a scalar",
                            "source", "options")
    parts = _text(value).split(delimiter)
    position = options.get("index") or 0
    if not 0 <= position < len(parts):
        raise located.error(f"source.options.index {position} is out of bounds for "
                            f"{_text(value)!r}", "source", "options", "index")
    return parts[position]


# -- paths ---------------------------------------------------------------------------------

class _PathError(Exception):
    pass


_MISSING: Any = object()
_CREATED: Any = object()  # a scalar field a target created, not yet written


def _split(path: str) -> list[str]:
    """kyaml's SmarterPathSplitter on ".": ``\\.`` escapes, ``[a.b=c]`` kept whole."""
    pieces = path.split(".")
    if len(pieces) > 1 and pieces[0] == "":
        pieces = pieces[1:]
    joined: list[str] = [pieces[0]]
    for piece in pieces[1:]:
        if joined[-1].endswith("\\"):
            joined[-1] = joined[-1][:-1] + "." + piece
        else:
            joined.append(piece)
    result: list[str] = []
    index = 0
    while index < len(joined):
        element = joined[index]
        if element.startswith("[") and not element.endswith("]"):
            bracketed = [element]
            while index < len(joined) - 1:
                index += 1
                bracketed.append(joined[index])
                if joined[index].endswith("]"):
                    break
            text = ".".join(bracketed)
            result.append(text if "=" in text else text.strip("[]"))
        else:
            result.append(element)
        index += 1
    return result


def _kind_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "a scalar"


def _index_value(part: str) -> tuple[str, str]:
    inner = part[1:-1]
    if "=" not in inner:
        raise _PathError(f"{part}: a list element must be given as [field=value]")
    name, _, value = inner.partition("=")
    return name, value


def _is_index(part: str) -> bool:
    return re.fullmatch(r"[+-]?\d+", part) is not None


def _lookup(node: Any, parts: list[str]) -> Any:
    """kyaml's PathGetter (no creation): the value at ``parts``, or _MISSING."""
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if node is None:
            return _MISSING
        if _is_index(part) or part == "-":
            position = -1 if part == "-" else int(part)
            if part != "-" and position < 0:
                raise _PathError(f"array index {position} cannot be negative")
            if not isinstance(node, list):
                raise _PathError(f"{part}: expected a list, found {_kind_name(node)}")
            if not node or position >= len(node):
                return _MISSING
            node = node[position]
        elif part == "*":
            raise _PathError("the wildcard * is not supported in a source fieldPath")
        elif part.startswith("[") and part.endswith("]"):
            name, wanted = _index_value(part)
            if not isinstance(node, list):
                raise _PathError(f"{part}: expected a list, found {_kind_name(node)}")
            found = _MISSING
            for element in node:
                if not name and not isinstance(element, (dict, list)) \
                        and _text(element) == wanted:
                    found = element
                    break
                if name and isinstance(element, dict) and name in element \
                        and not isinstance(element[name], (dict, list)) \
                        and _text(element[name]) == wanted:
                    found = element
                    break
            if found is _MISSING:
                return _MISSING
            node = found
        else:
            if not isinstance(node, dict):
                raise _PathError(f"{part}: expected a mapping, found {_kind_name(node)}")
            if part not in node:
                return _MISSING
            node = node[part]
    return node


Slot = tuple[Any, Any, FieldPath]  # (container, key or index, field path)


def _new_container(next_part: str, leaf: Any) -> Any:
    """What kyaml creates for a missing path part, from the part after it."""
    if next_part == "":
        return leaf
    if (next_part.startswith("[") and next_part.endswith("]")) \
            or re.fullmatch(r"\d+", next_part):
        return []
    return {}


def _match(parent: Any, key: Any, path: FieldPath, parts: list[str], create: Any,
           found: list[Slot]) -> None:
    """kyaml's PathMatcher from ``parent[key]``: every slot the path names, created
    where missing when ``create`` (the leaf to create) is not _MISSING."""
    if not parts:
        found.append((parent, key, path))
        return
    node, part, rest = parent[key], parts[0], parts[1:]
    following = rest[0] if rest else ""
    if re.fullmatch(r"\d+", part):
        position = int(part)
        if not isinstance(node, list):
            raise _PathError(f"{part}: expected a list, found {_kind_name(node)}")
        if len(node) == position and create is not _MISSING:
            node.append(_new_container(following, clone(create)))
        if len(node) < position + 1:
            raise _PathError(f"index {position} specified but only {len(node)} elements found")
        _match(node, position, (*path, position), rest, create, found)
    elif part.startswith("[") and part.endswith("]"):
        name, pattern = _index_value(part)
        if not isinstance(node, list):
            raise _PathError(f"{part}: expected a list, found {_kind_name(node)}")
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise _PathError(f"{part}: invalid regular expression: {exc}") from None
        before = len(found)
        for position, element in enumerate(list(node)):
            if name:
                if not isinstance(element, dict) or element.get(name) is None \
                        or isinstance(element[name], (dict, list)):
                    continue
                if regex.search(_text(element[name])):
                    _match(node, position, (*path, position), rest, create, found)
            elif not isinstance(element, (dict, list)) and regex.search(_text(element)):
                found.append((node, position, (*path, position)))
        if len(found) == before and create is not _MISSING:
            node.append({name: pattern} if name else pattern)
            _match(parent, key, path, parts, create, found)
    elif part == "*":
        if node is None:
            return
        if not isinstance(node, list):
            raise _PathError(f"*: expected a list, found {_kind_name(node)}")
        for position in range(len(node)):
            _match(node, position, (*path, position), rest, create, found)
    else:
        if node is None and create is _MISSING:
            return
        if not isinstance(node, dict):
            raise _PathError(f"{part}: expected a mapping, found {_kind_name(node)}")
        if part not in node:
            if create is _MISSING:
                return
            node[part] = _new_container(following, clone(create))
        _match(node, part, (*path, part), rest, create, found)


# -- writing values ---------------------------------------------------------------------------

def _text(value: Any) -> str:
    """A scalar as kyaml holds it (its text)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return ""
    return value if isinstance(value, str) else str(value)


_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*|0x[0-9a-fA-F]+|0o[0-7]+)")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")


def _plain(text: str) -> Any:
    """What a plain YAML scalar with this text reads as."""
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if _INT.fullmatch(text):
        return int(text, 0) if not text.lstrip("+-").startswith("0o") else int(
            text.replace("0o", ""), 8)
    if _FLOAT.fullmatch(text) and any(c.isdigit() for c in text):
        return float(text)
    return text


class _TypeError(Exception):
    pass


def _scalar(old: Any, text: str) -> Any:
    """kyaml copies only the text into a scalar, which keeps its type: a text that
    does not read as that type makes an object kustomize fails to decode."""
    if old is _CREATED:
        return _plain(text)
    if isinstance(old, str):
        return text
    resolved = _plain(text)
    if isinstance(old, bool) or isinstance(resolved, bool):
        if type(resolved) is type(old):
            return resolved
    elif isinstance(old, int) and isinstance(resolved, int):
        return resolved
    elif isinstance(old, float) and isinstance(resolved, (int, float)):
        return float(resolved)
    raise _TypeError(f"{text!r} is not {type(old).__name__}, the type of the target field "
                     "(kustomize keeps the type and then fails to decode it)")


def _apply_target(located: _Located, index: int, target: Any, value: Any,
                  resources: list[Resource]) -> None:
    key: tuple[str | int, ...] = ("targets", index)
    if not isinstance(target, dict) or target.get("select") is None:
        raise located.error(f"targets[{index}]: select is required", *key)
    select = target["select"]
    rejects = [r for r in target.get("reject") or [] if r]
    field_paths = target.get("fieldPaths") or [_DEFAULT_PATH]
    options = target.get("options") or {}
    blame = located.where(*key, "select")
    selector = (parse_selector(as_text(select.get("labelSelector")), blame),
                parse_selector(as_text(select.get("annotationSelector")), blame))
    reject_selectors = [
        (parse_selector(as_text(r.get("labelSelector")), blame),
         parse_selector(as_text(r.get("annotationSelector")), blame))
        for r in rejects if r.get("labelSelector") or r.get("annotationSelector")]
    reject_ids = [r for r in rejects if any(r.get(k) for k in ("group", "version", "kind",
                                                                 "name", "namespace"))]
    for res in resources:
        metadata = res.obj.get("metadata") or {}

        def labelled(pair: tuple[Any, Any], metadata: Any = metadata) -> bool:
            return (labels_match(pair[0], metadata.get("labels"))
                    and labels_match(pair[1], metadata.get("annotations")))

        if not labelled(selector) or any(labelled(pair) for pair in reject_selectors):
            continue
        ids = _ids(res)
        if not any(_selected_by(i, select) for i in ids):
            continue
        if any(_selected_by(i, r) for r in reject_ids for i in ids):
            continue
        _copy(located, key, res, value, field_paths, target.get("fieldPaths") is not None,
              options)


def _copy(located: _Located, key: tuple[str | int, ...], res: Resource, value: Any,
          field_paths: list[str], explicit: bool, options: dict[str, Any]) -> None:
    create = options.get("create")
    leaf = _MISSING
    if create:
        leaf = {} if isinstance(value, dict) else [] if isinstance(value, list) else _CREATED
    for position, field_path in enumerate(field_paths):
        where_path = (*key, "fieldPaths", position) if explicit else (*key, "select")
        verb = "find or create" if create else "find"
        found: list[Slot] = []
        holder = [res.obj]
        try:
            _match(holder, 0, (), _split(field_path), leaf, found)
        except _PathError as exc:
            raise located.error(f"unable to {verb} field {field_path!r} in "
                                f"{res.id().text()} ({origin_text(res)}): {exc}",
                                *where_path) from None
        if not found:
            raise located.error(f"unable to {verb} field {field_path!r} in "
                                f"{res.id().text()} ({origin_text(res)})", *where_path)
        for container, slot, path in found:
            _set(located, container, slot, value, options, where_path)
            res.set(path, located.where(*where_path))


def _set(located: _Located, container: Any, slot: Any, value: Any, options: dict[str, Any],
         where_path: tuple[str | int, ...]) -> None:
    old = container[slot]
    if old is None:
        # kyaml keeps the null tag and writes the text into it: an object kustomize
        # itself then fails to decode
        raise located.error("the target field is null: kustomize cannot write into it",
                            *where_path)
    delimiter = as_text(options.get("delimiter"))
    if delimiter:
        if isinstance(old, (dict, list)):
            raise located.error("options.delimiter can only be used with a scalar target",
                                *where_path)
        parts = ("" if old is _CREATED else _text(old)).split(delimiter)
        position = options.get("index") or 0
        text = _text(value)
        if position < 0:
            parts.insert(0, text)
        elif position >= len(parts):
            parts.append(text)
        else:
            parts[position] = text
        value = delimiter.join(parts)
    if old is _CREATED or not isinstance(old, (dict, list)):
        try:
            container[slot] = _scalar(old, _text(value))
        except _TypeError as exc:
            raise located.error(str(exc), *where_path) from None
    else:
        container[slot] = clone(value)
