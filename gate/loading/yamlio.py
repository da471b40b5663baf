"""YAML reading with the guards a gate needs, and lazy line lookup.

Documents are parsed once with PyYAML's C loader where present (YAML 1.1, as
Kubernetes reads manifests).  Three changes to PyYAML's safe loader:

- duplicate mapping keys are an error: which of two values would be deployed
  is not something a gate may guess;
- timestamps stay strings (Kubernetes' YAML-to-JSON path does the same) and a
  bare ``=`` is a string rather than a constructor error;
- alias expansion is bounded, so a "billion laughs" document is rejected
  quickly instead of exhausting memory later, and recursive aliases are refused;
- documents per file, nodes per file, nesting depth and the length of an integer
  are bounded (gate/limits.py), each checked before the cost is paid.

Line numbers of fields are not kept while loading (that would cost on every
document); :class:`NodeIndex` re-composes a file only when a finding needs one.
"""
from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gate.errors import GateError
from gate.limits import (
    ALIAS_EXPANSION_FACTOR,
    ALIAS_EXPANSION_FLOOR,
    MAX_DEPTH,
    MAX_DOCUMENTS_PER_FILE,
    MAX_EXPANDED_NODES,
    MAX_FILE_BYTES,
    MAX_INT_CHARS,
    MAX_NODES_PER_FILE,
)

try:  # libyaml is an order of magnitude faster; fall back to pure Python.
    from yaml import CSafeLoader as _BaseLoader

    _BYTE_POSITIONS = True  # libyaml's reader errors count UTF-8 bytes
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

    _BYTE_POSITIONS = False

MERGE_TAG = "tag:yaml.org,2002:merge"
INT_TAG = "tag:yaml.org,2002:int"
# Block collections nest by indentation and indicators ("- - x"): a line whose prefix
# of spaces and indicators is short lies few levels deep.
_DEEP_BLOCK = re.compile(
    rf"(?:^|[\r\x85\u2028\u2029])[ \t?:-]{{{MAX_DEPTH // 4}}}", re.MULTILINE
)
# Flow collections need a [ or { each, and a "---" line ends them (it is an error inside).
_DOCUMENT_START = re.compile(r"^---(?=[ \t\r\n]|\Z)", re.MULTILINE)


class YamlInputError(GateError):
    """A file that cannot be read as YAML."""


def _resolvers_without(tags: set[str]) -> dict[str, list[tuple[str, Any]]]:
    return {
        first: [(tag, regexp) for tag, regexp in entries if tag not in tags]
        for first, entries in _BaseLoader.yaml_implicit_resolvers.items()
    }


class GateLoader(_BaseLoader):
    """Safe loader: YAML 1.1 scalars, strings for timestamps, no duplicate keys."""

    yaml_implicit_resolvers = _resolvers_without(
        {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"}
    )

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode):
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping node, but found {type(node).__name__}",
                node.start_mark,
            )
        pairs = node.value
        merged = 0
        if any(key.tag == MERGE_TAG for key, _ in pairs):
            explicit = sum(1 for key, _ in pairs if key.tag != MERGE_TAG)
            self.flatten_mapping(node)
            pairs = node.value
            merged = len(pairs) - explicit  # merged pairs come first, explicit ones win
        mapping: dict[Any, Any] = {}
        # By the key itself (Python would merge 1 and True) and by the JSON key
        # Kubernetes reads (1 and "1" are both "1" there).
        explicit_lines: dict[Any, int] = {}
        for index, (key_node, value_node) in enumerate(pairs):
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError as exc:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    "found unhashable key", key_node.start_mark,
                ) from exc
            if index >= merged:
                json_key = _json_key(key)
                first = explicit_lines.get(key) or explicit_lines.get(json_key)
                if first is not None:
                    raise yaml.constructor.ConstructorError(
                        None, None,
                        f"duplicate key {key!r} (first defined at line {first})",
                        key_node.start_mark,
                    )
                explicit_lines[key] = explicit_lines[json_key] = key_node.start_mark.line + 1
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_yaml_int(self, node: ScalarNode) -> int:
        # int() of thousands of digits is refused by Python (and base 60 is quadratic).
        if len(node.value) > MAX_INT_CHARS:
            raise yaml.constructor.ConstructorError(
                None, None, f"an integer of more than {MAX_INT_CHARS} characters",
                node.start_mark,
            )
        value: int = super().construct_yaml_int(node)
        return value


GateLoader.add_constructor(INT_TAG, GateLoader.construct_yaml_int)


def _json_key(key: Any) -> Any:
    """The object key Kubernetes' YAML-to-JSON conversion makes of a mapping key."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float) and key.is_integer() and abs(key) < 1e21:
        return str(int(key))
    if isinstance(key, float):
        return repr(key)
    return key


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    data: Any
    line: int  # 1-based line of the document's root node
    index: int  # position of the document in its file
    node: Node  # the composed node tree, which knows the line of every field


def decode(raw: bytes, file: str) -> str:
    """Decode file bytes as YAML allows (UTF-8, or UTF-16/32 with a BOM)."""
    if len(raw) > MAX_FILE_BYTES:
        raise YamlInputError(
            f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; refusing to read it", file
        )
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if raw.startswith(bom):
            try:
                return raw.decode(codec)
            except UnicodeDecodeError as exc:
                raise YamlInputError(f"not valid {codec.upper()}: {exc.reason}", file) from exc
    if b"\x00" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\x00")) + 1
        raise YamlInputError("binary content (NUL byte); not a YAML file", file, line)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise YamlInputError(
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})", file, line
        ) from exc


def _error_from_yaml(exc: yaml.YAMLError, file: str, text: str) -> YamlInputError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    if problem:
        if context and "duplicate" not in problem:
            context_mark = getattr(exc, "context_mark", None)
            if context_mark is not None and context_mark.line + 1 != line:
                # An unclosed quote or bracket is found where the stream ends.
                context = f"{context} started at line {context_mark.line + 1}"
            message = f"{context}, {problem}"
        else:
            message = problem
    else:
        message = str(exc).splitlines()[0]
    if line is None and isinstance(exc, yaml.reader.ReaderError):
        line = _line_at(text, exc.position)
    return YamlInputError(f"invalid YAML: {message}", file, line)


def _line_at(text: str, position: int) -> int:
    """1-based line of a reader error's position (bytes of UTF-8 for libyaml)."""
    if _BYTE_POSITIONS:
        return text.encode("utf-8", "surrogatepass").count(b"\n", 0, position) + 1
    return text.count("\n", 0, position) + 1


def _may_nest_deeply(text: str) -> bool:
    """False when ``text`` surely nests less than MAX_DEPTH levels deep (a cheap bound)."""
    if _DEEP_BLOCK.search(text):
        return True
    limit = MAX_DEPTH // 2
    if text.count("[") + text.count("{") < limit:
        return False
    start = 0
    for end in [*(m.start() for m in _DOCUMENT_START.finditer(text)), len(text)]:
        if text.count("[", start, end) + text.count("{", start, end) >= limit:
            return True
        start = end
    return False


def _node_bound(text: str) -> int:
    """An upper bound of the nodes ``text`` composes to, from a few character counts.

    Every node but a document's root is an item of a block sequence (one ``-`` each),
    a key or value of a block mapping (two per ``:`` or ``?``) or an entry of a flow
    collection (at most two per ``,`` and per opening bracket); a root needs a ``---``
    after the first.
    """
    pairs = text.count(":") + text.count("?")
    flow = text.count(",") + text.count("[") + text.count("{")
    return 1 + text.count("-") + 2 * (pairs + flow)


def check_depth(text: str, file: str) -> None:
    """Refuse collections nested more than MAX_DEPTH levels deep, or more than
    MAX_NODES_PER_FILE nodes, before composing (events cost no tree in memory)."""
    deep = _may_nest_deeply(text)
    large = _node_bound(text) > MAX_NODES_PER_FILE
    if not deep and not large:
        return
    parser = _BaseLoader(text)
    depth = nodes = documents = 0
    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > MAX_DOCUMENTS_PER_FILE:
                    raise _at_event(_too_many_documents(), file, event)
                continue
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _at_event(f"YAML nesting is deeper than {MAX_DEPTH:,} levels; "
                                    "refusing to read it", file, event)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
                continue
            elif not isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
                continue
            nodes += 1
            if nodes > MAX_NODES_PER_FILE:
                raise _at_event(f"more than {MAX_NODES_PER_FILE:,} YAML nodes in one file; "
                                "refusing to read it", file, event)
    finally:
        parser.dispose()


def _too_many_documents() -> str:
    return f"more than {MAX_DOCUMENTS_PER_FILE:,} YAML documents in one file; refusing to read it"


def _at_event(message: str, file: str, event: yaml.Event) -> YamlInputError:
    mark = event.start_mark
    return YamlInputError(message, file, mark.line + 1 if mark is not None else None)


def check_alias_expansion(root: Node, file: str) -> None:
    """Refuse recursive aliases and documents whose aliases expand explosively."""
    expanded: dict[int, int] = {}
    unique = 0
    # Iterative post-order walk: deep nesting must not exhaust Python's stack.
    stack: list[tuple[Node, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            size = 1
            for child in _children(node):
                size += expanded[id(child)]
            expanded[key] = size
            unique += 1
            if size > MAX_EXPANDED_NODES or (
                size > ALIAS_EXPANSION_FLOOR and size > ALIAS_EXPANSION_FACTOR * unique
            ):
                raise YamlInputError(
                    f"YAML aliases expand to more than {size:,} nodes from {unique:,} "
                    "(an alias bomb?); refusing to read it",
                    file, node.start_mark.line + 1,
                )
            continue
        if key in expanded:
            continue
        if key in on_path:
            raise YamlInputError("recursive YAML alias; refusing to read it", file,
                                 node.start_mark.line + 1)
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) not in expanded:
                stack.append((child, False))


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def load_documents(text: str, file: str) -> Iterator[ParsedDocument]:
    """Yield every document of a YAML stream with its line; raise on bad YAML."""
    may_alias = "&" in text
    loader = GateLoader(text)
    index = 0
    try:
        check_depth(text, file)
        while loader.check_node():
            node = loader.get_node()
            assert node is not None  # check_node() said a document follows
            if index >= MAX_DOCUMENTS_PER_FILE:
                raise YamlInputError(_too_many_documents(), file, node.start_mark.line + 1)
            if may_alias:
                check_alias_expansion(node, file)
            data = loader.construct_document(node)
            yield ParsedDocument(data, node.start_mark.line + 1, index, node)
            index += 1
    except yaml.YAMLError as exc:
        raise _error_from_yaml(exc, file, text) from None
    except RecursionError:
        raise YamlInputError("YAML nesting is too deep to read", file) from None
    finally:
        loader.dispose()


def compose_documents(text: str, file: str) -> list[Node]:
    """The node trees of a stream, for line lookups; assumes it loaded before."""
    loader = GateLoader(text)
    nodes: list[Node] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            assert node is not None  # check_node() said a document follows
            nodes.append(node)
    except (yaml.YAMLError, RecursionError) as exc:  # pragma: no cover - loaded before
        raise YamlInputError(f"cannot re-read YAML: {exc}", file) from None
    finally:
        loader.dispose()
    return nodes


PathPart = str | int
Path = Sequence[PathPart]


def _scalar_matches(node: Node, key: PathPart) -> bool:
    if not isinstance(node, ScalarNode):
        return False
    return node.value == str(key) or (isinstance(key, bool) and node.value.lower() in (
        ("true", "yes", "on") if key else ("false", "no", "off")))


def _mapping_entry(node: MappingNode, key: PathPart) -> tuple[Node, Node] | None:
    # Later explicit keys win, as when loading; merged mappings are searched last.
    for key_node, value_node in reversed(node.value):
        if key_node.tag != MERGE_TAG and _scalar_matches(key_node, key):
            return key_node, value_node
    for key_node, value_node in node.value:
        if key_node.tag == MERGE_TAG:
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in sources:
                if isinstance(source, MappingNode):
                    found = _mapping_entry(source, key)
                    if found is not None:
                        return found
    return None


def line_of_path(root: Node, path: Path) -> int:
    """1-based line of the deepest node of ``path`` that exists under ``root``."""
    node = root
    line = root.start_mark.line + 1
    for part in path:
        if isinstance(node, MappingNode):
            entry = _mapping_entry(node, part)
            if entry is None:
                break
            key_node, node = entry
            line = key_node.start_mark.line + 1
        elif isinstance(node, SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


class NodeIndex:
    """Line lookups for one file's documents.

    Holds the node trees from loading while the file's resources are evaluated;
    once they are released, a later lookup composes the file again.
    """

    def __init__(self, text: str, file: str, nodes: list[Node] | None = None) -> None:
        self._text = text
        self._file = file
        self._nodes = nodes

    def release(self) -> None:
        self._nodes = None

    def line(self, doc_index: int, path: Path) -> int | None:
        if self._nodes is None:
            self._nodes = compose_documents(self._text, self._file)
        if not 0 <= doc_index < len(self._nodes):
            return None
        return line_of_path(self._nodes[doc_index], path)


@dataclass
class LocatedYaml:
    """A small YAML file (config, policy) loaded with its node trees for error lines."""

    file: str
    documents: list[ParsedDocument]
    nodes: list[Node]

    def line(self, doc_index: int, path: Path = ()) -> int | None:
        if not 0 <= doc_index < len(self.nodes):
            return None
        return line_of_path(self.nodes[doc_index], path)


def load_located(text: str, file: str) -> LocatedYaml:
    documents = list(load_documents(text, file))
    return LocatedYaml(file, documents, [document.node for document in documents])
