"""The YAML loader: semantics Kubernetes shares, guards a gate needs, and line lookups."""
from __future__ import annotations

import codecs
import textwrap
from typing import Any

import pytest
import yaml

from gate.loading import yamlio
from gate.loading.yamlio import (
    ALIAS_EXPANSION_FACTOR,
    ALIAS_EXPANSION_FLOOR,
    MAX_DEPTH,
    NodeIndex,
    YamlInputError,
    check_alias_expansion,
    compose_documents,
    decode,
    load_documents,
    load_located,
)


def load(text: str) -> list[Any]:
    return [document.data for document in load_documents(textwrap.dedent(text), "f.yaml")]


def load_one(text: str) -> Any:
    [data] = load(text)
    return data


def error_of(text: str) -> YamlInputError:
    with pytest.raises(YamlInputError) as caught:
        load(text)
    assert caught.value.file == "f.yaml"
    return caught.value


def depth_of(text: str) -> int:
    """The deepest nesting of collections in ``text``, from parser events."""
    depth = deepest = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            deepest = max(deepest, depth)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
    return deepest


# -- documents -----------------------------------------------------------------------

def test_documents_have_their_lines_and_indices() -> None:
    text = "# leading comment\n---\na: 1\n---\n---\n# x\n\nb: 2\n...\n---\n- c\n"
    documents = list(load_documents(text, "f.yaml"))
    assert [(d.data, d.line, d.index) for d in documents] == [
        ({"a": 1}, 3, 0), (None, 5, 1), ({"b": 2}, 8, 2), (["c"], 11, 3),
    ]


def test_empty_streams_have_no_documents() -> None:
    for text in ("", "\n\n", "# only a comment\n", "   \n# a\n  # b\n"):
        assert list(load_documents(text, "f.yaml")) == []


def test_documents_are_yielded_lazily_up_to_the_error() -> None:
    documents = load_documents("a: 1\n---\nb: [\n", "f.yaml")
    assert next(documents).data == {"a": 1}
    with pytest.raises(YamlInputError) as caught:
        next(documents)
    assert caught.value.line == 4


# -- YAML 1.1 semantics, as Kubernetes reads manifests -------------------------------

def test_yaml_1_1_scalars_are_kept() -> None:
    data = load_one("""\
        octal: 0755
        octal_1_2_style: 0o755
        hex: 0x1F
        underscores: 1_000
        sexagesimal: 1:30
        yes_: yes
        no_: NO
        on: off
        y: y
        null_: ~
        inf: -.inf
        forced: !!str 0755
        """)
    assert data == {
        "octal": 493, "octal_1_2_style": "0o755", "hex": 31, "underscores": 1000,
        "sexagesimal": 90, "yes_": True, "no_": False, True: False, "y": "y", "null_": None,
        "inf": float("-inf"), "forced": "0755",
    }


def test_timestamps_stay_strings() -> None:
    data = load_one("""\
        date: 2024-01-01
        datetime: 2001-12-14t21:59:43.10-05:00
        spaced: 2001-12-14 21:59:43.10 -5
        """)
    assert data == {
        "date": "2024-01-01",
        "datetime": "2001-12-14t21:59:43.10-05:00",
        "spaced": "2001-12-14 21:59:43.10 -5",
    }


def test_a_bare_equals_sign_is_a_string() -> None:
    assert load_one("eq: =\nlist: [=, '=']\n=: key\n") == {
        "eq": "=", "list": ["=", "="], "=": "key"
    }


def test_unsafe_tags_are_refused() -> None:
    error = error_of("a: !!python/object/apply:os.system [echo hi]\n")
    assert "could not determine a constructor" in error.message
    assert error.line == 1


# -- merge keys ----------------------------------------------------------------------

def test_merge_keys_work_and_explicit_keys_win() -> None:
    data = load_one("""\
        base: &base {x: 1, y: 2}
        after:
          <<: *base
          y: 3
        before:
          y: 4
          <<: *base
        """)
    assert data["after"] == {"x": 1, "y": 3}
    assert data["before"] == {"x": 1, "y": 4}


def test_merge_of_several_mappings_prefers_the_first() -> None:
    data = load_one("""\
        a: &a {x: a, y: a}
        b: &b {x: b, z: b}
        m:
          <<: [*a, *b]
          w: m
        """)
    assert data["m"] == {"x": "a", "y": "a", "z": "b", "w": "m"}


def test_merged_keys_overlapping_each_other_are_not_duplicates() -> None:
    data = load_one("a: &a {x: 1}\nb: &b {x: 2}\nm: {<<: [*a, *b], x: 3}\n")
    assert data["m"] == {"x": 3}


def test_explicit_duplicates_beside_a_merge_are_still_duplicates() -> None:
    error = error_of("""\
        base: &base {x: 1}
        m:
          <<: *base
          y: 1
          y: 2
        """)
    assert error.line == 5
    assert "duplicate key 'y' (first defined at line 4)" in error.message


# -- duplicate keys ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a' (first defined at line 1)"),
        ("m:\n  n:\n    k: 1\n    j: 0\n    k: 2\n", 5,
         "duplicate key 'k' (first defined at line 3)"),
        ("m: {k: 1, k: 2}\n", 1, "duplicate key 'k' (first defined at line 1)"),
        ("- a: 1\n- b: 1\n  b: 2\n", 3, "duplicate key 'b' (first defined at line 2)"),
        ("8080: a\n'8080': b\n", 2, "duplicate key '8080' (first defined at line 1)"),
        ("true: a\n'true': b\n", 2, "duplicate key 'true' (first defined at line 1)"),
        ("yes: a\non: b\n", 2, "duplicate key True (first defined at line 1)"),
        ("0755: a\n'493': b\n", 2, "duplicate key '493' (first defined at line 1)"),
        ("1: a\n1.0: b\n", 2, "duplicate key 1.0 (first defined at line 1)"),
        ("~: a\nnull: b\n", 2, "duplicate key None (first defined at line 1)"),
        ("a: 1\n---\nb: 1\nc: 1\nb: 2\n", 5, "duplicate key 'b' (first defined at line 3)"),
    ],
    ids=["top-level", "nested", "flow", "in-a-list-item", "number-and-string", "bool-and-string",
         "yes-and-on", "octal-and-string", "int-and-float", "nulls", "second-document"],
)
def test_duplicate_keys_are_errors(text: str, line: int, expected: str) -> None:
    error = error_of(text)
    assert error.line == line
    assert error.message == f"invalid YAML: {expected}"


def test_keys_that_differ_are_not_duplicates() -> None:
    assert load_one("a: 1\nA: 2\n'1': 3\n2: 4\n1.5: 5\nfalse: 6\n") == {
        "a": 1, "A": 2, "1": 3, 2: 4, 1.5: 5, False: 6
    }


def test_the_same_key_in_different_mappings_is_fine() -> None:
    assert load_one("a: {name: x}\nb: {name: y}\n") == {"a": {"name": "x"}, "b": {"name": "y"}}


def test_unhashable_keys_are_errors() -> None:
    error = error_of("? [a, b]\n: c\n")
    assert "unhashable key" in error.message
    assert error.line == 1


# -- alias expansion guard -----------------------------------------------------------

def _fanout(levels: int, width: int = 10) -> str:
    lines = ["l0: &l0 [" + ", ".join(["x"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _node(text: str) -> yaml.Node:
    [node] = compose_documents(text, "f.yaml")
    return node


def test_alias_guard_thresholds_are_sane() -> None:
    assert ALIAS_EXPANSION_FLOOR >= 10_000
    assert ALIAS_EXPANSION_FACTOR >= 2


def test_expansion_below_the_floor_is_allowed_at_any_ratio() -> None:
    # 4 levels of 10 aliases: about 12,000 nodes from about 50.
    check_alias_expansion(_node(_fanout(4)), "f.yaml")
    assert len(load_one(_fanout(4))["l3"]) == 10


def test_expansion_above_the_floor_at_a_high_ratio_is_refused() -> None:
    with pytest.raises(YamlInputError) as caught:
        check_alias_expansion(_node(_fanout(5)), "f.yaml")
    assert "alias" in caught.value.message
    assert caught.value.line == 5  # the anchor whose expansion crossed the line
    error = error_of(_fanout(9))
    assert "alias bomb" in error.message


def _reused(size: int, uses: int) -> str:
    items = "\n".join(f"  - item-{i}" for i in range(size))
    refs = "\n".join(f"  copy{i}: *big" for i in range(uses))
    return f"big: &big\n{items}\ncopies:\n{refs}\n"


def test_large_documents_with_modest_reuse_are_allowed() -> None:
    size = ALIAS_EXPANSION_FLOOR // 5
    uses = ALIAS_EXPANSION_FACTOR // 2  # expands to about (uses + 1) times its real size
    check_alias_expansion(_node(_reused(size, uses)), "f.yaml")


def test_large_documents_with_heavy_reuse_are_refused() -> None:
    size = ALIAS_EXPANSION_FLOOR // 5
    uses = ALIAS_EXPANSION_FACTOR * 2
    with pytest.raises(YamlInputError, match="alias"):
        check_alias_expansion(_node(_reused(size, uses)), "f.yaml")


def test_large_documents_without_aliases_are_allowed() -> None:
    text = "items:\n" + "".join(f"  - {i}\n" for i in range(ALIAS_EXPANSION_FLOOR + 10))
    check_alias_expansion(_node(text), "f.yaml")
    assert len(load_one(text)["items"]) == ALIAS_EXPANSION_FLOOR + 10


def test_the_guard_follows_the_module_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _reused(100, 3)  # about 400 nodes from about 110
    check_alias_expansion(_node(text), "f.yaml")
    monkeypatch.setattr(yamlio, "ALIAS_EXPANSION_FLOOR", 200)
    monkeypatch.setattr(yamlio, "ALIAS_EXPANSION_FACTOR", 2)
    with pytest.raises(YamlInputError, match="alias"):
        check_alias_expansion(_node(text), "f.yaml")


@pytest.mark.parametrize(
    "text",
    ["a: &a [*a]\n", "a: &a {b: *a}\n", "a: &a [x, [y, {z: *a}]]\n", "&a [*a]\n"],
)
def test_recursive_aliases_are_refused(text: str) -> None:
    error = error_of(text)
    assert "recursive" in error.message


def test_shared_but_not_recursive_aliases_are_fine() -> None:
    data = load_one("a: &a [1]\nb: [*a, *a, {c: *a}]\n")
    assert data == {"a": [1], "b": [[1], [1], {"c": [1]}]}


# -- nesting depth guard -------------------------------------------------------------

GATE_DEPTH_ERROR = f"YAML nesting is deeper than {MAX_DEPTH:,} levels; refusing to read it"


def pyyaml_refusal(text: str) -> str | None:
    """gate's message for PyYAML's own refusal to compose ``text``, or None when PyYAML
    composes it. Whether and where PyYAML stops deep nesting is its own affair: libyaml
    0.2.6 (PyYAML 6.0.4's wheels) stops at 1,000 levels with its own message, 0.2.5
    (6.0.3) never does; gate passes PyYAML's errors on as ``invalid YAML: ...``."""
    try:
        for _ in yaml.compose_all(text, Loader=yamlio._BaseLoader):
            pass
    except yaml.YAMLError as exc:
        return yamlio._error_from_yaml(exc, "f.yaml", text).message
    return None

@pytest.mark.parametrize(
    "make",
    [
        lambda n: "[" * n + "]" * n + "\n",
        lambda n: "".join(" " * i + "k:\n" for i in range(n - 1)) + " " * (n - 1) + "k: v\n",
        lambda n: "- " * n + "x\n",
        lambda n: "a:\n" + "".join("  " * (i + 1) + "- a:\n" for i in range(n // 2)),
    ],
    ids=["flow", "block-mappings", "compact-sequences", "mixed"],
)
def test_nesting_is_bounded(make: Any) -> None:
    deepest = make(MAX_DEPTH)
    assert depth_of(deepest) in (MAX_DEPTH, MAX_DEPTH + 1)  # mixed ends in a null value
    if depth_of(deepest) == MAX_DEPTH:
        refusal = pyyaml_refusal(deepest)
        if refusal is None:
            load(deepest)  # within gate's limit and PyYAML's: it loads
        else:  # a PyYAML whose own limit is lower than gate's: its error, passed on
            assert error_of(deepest).message == refusal
    too_deep = make(MAX_DEPTH + 2)
    error = error_of(too_deep)
    assert error.line is not None
    if pyyaml_refusal(too_deep) is None:
        assert error.message == GATE_DEPTH_ERROR
    else:  # whichever stops first: gate's count of levels, or PyYAML's own limit
        assert error.message in (GATE_DEPTH_ERROR, pyyaml_refusal(too_deep))


def test_deep_nesting_error_names_the_line() -> None:
    text = "a: 1\nb:\n  " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    assert error_of(text).line == 3


@pytest.mark.parametrize(
    "text",
    [
        "---\n".join(["a: {b: [1, 2], c: {d: [3]}}\n"] * 2_000),
        "- " * 120 + "[" * 400 + "]" * 400 + "\n",
        " " * 240 + "a: " + "{b: " * 450 + "1" + "}" * 450 + "\n",
        "\r".join(" " * i + "k:" for i in range(300)),
    ],
    ids=["many-small-flow-collections", "sequences-then-brackets", "indent-then-braces", "cr"],
)
def test_cheap_depth_bound_is_sound(text: str) -> None:
    # When the cheap bound says "not deep", the real depth must be below the limit.
    if not yamlio._may_nest_deeply(text):
        assert depth_of(text) < MAX_DEPTH
    load(text)


def test_a_document_marker_ends_flow_collections_for_the_bound() -> None:
    many = "---\n".join(["a: [[[[1]]]]\n"] * 1_000)
    assert not yamlio._may_nest_deeply(many)  # no second parse for ordinary big files
    assert len(load(many)) == 1_000


# -- decoding ------------------------------------------------------------------------

TEXT = "name: caf\u00e9 \u2603\n"


@pytest.mark.parametrize(
    "raw",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        TEXT.encode("utf-16"),
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
        TEXT.encode("utf-32"),
        codecs.BOM_UTF32_BE + TEXT.encode("utf-32-be"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16", "utf-16-be", "utf-16-le", "utf-32", "utf-32-be"],
)
def test_decode_unicode(raw: bytes) -> None:
    assert decode(raw, "f.yaml") == TEXT


@pytest.mark.parametrize(
    ("raw", "line", "fragment"),
    [
        (b"a: 1\nb: \x00\n", 2, "binary content"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", 3, "binary content"),
        (b"a: 1\nb: 2\nc: caf\xe9\n", 3, "not valid UTF-8 (byte 0xe9 at offset 16)"),
        (b"a: \xff\xfe", 1, "not valid UTF-8"),
        (codecs.BOM_UTF16_LE + b"a\x00b", None, "not valid UTF-16"),
    ],
    ids=["nul", "png", "latin-1", "stray-bom-bytes", "odd-utf-16"],
)
def test_decode_errors(raw: bytes, line: int | None, fragment: str) -> None:
    with pytest.raises(YamlInputError) as caught:
        decode(raw, "f.yaml")
    assert caught.value.file == "f.yaml"
    assert caught.value.line == line
    assert fragment in caught.value.message


def test_decode_refuses_huge_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlio, "MAX_FILE_BYTES", 16)
    decode(b"a" * 16, "f.yaml")
    with pytest.raises(YamlInputError, match="larger than"):
        decode(b"a" * 17, "f.yaml")


# -- error lines ---------------------------------------------------------------------

def test_reader_errors_have_a_line_despite_multibyte_text() -> None:
    text = "a: \u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\nb: \u2603\u2603\nc: x\x07\n"
    error = error_of(text)
    assert error.line == 3
    assert "unacceptable character #x0007" in error.message


def test_unclosed_constructs_name_where_they_started() -> None:
    error = error_of('a: 1\nb: "open\nc: 2\n')
    assert error.line == 4
    assert "started at line 2" in error.message
    error = error_of("a: [1,\n  2,\n  3\n")
    assert "flow sequence started at line 1" in error.message


def test_errors_found_where_they_start_do_not_repeat_the_line() -> None:
    error = error_of("a: b: c\n")
    assert error.line == 1
    assert error.message.startswith("invalid YAML: mapping values are not allowed")
    assert "line" not in error.message


# -- line lookups --------------------------------------------------------------------

MANIFEST = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      labels:
        app.kubernetes.io/name: web
        "quoted.key/x": q
      annotations: {a.b/c: d}
    spec:
      template:
        spec:
          containers:
            - name: web
              image: nginx:1
            - name: sidecar
              image: envoy:1
              ports:
                - containerPort: 80
                - {containerPort: 81}
          "on": true
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: cm
    data:
      yes: 1
    """)

LOOKUPS = [
    (0, (), 1),
    (0, ("metadata", "name"), 4),
    (0, ("metadata", "labels", "app.kubernetes.io/name"), 6),
    (0, ("metadata", "labels", "quoted.key/x"), 7),
    (0, ("metadata", "annotations", "a.b/c"), 8),
    (0, ("spec", "template", "spec", "containers", 0), 13),
    (0, ("spec", "template", "spec", "containers", 1, "image"), 16),
    (0, ("spec", "template", "spec", "containers", 1, "ports", 1, "containerPort"), 19),
    (0, ("spec", "template", "spec", "containers", 1, "ports", 0), 18),
    (0, ("spec", "template", "spec", "on"), 20),
    # the deepest part that exists
    (0, ("metadata", "labels", "team"), 5),
    (0, ("spec", "template", "spec", "containers", 7, "image"), 12),
    (0, ("spec", "template", "spec", "containers", "name"), 12),
    (0, ("metadata", "name", "deeper"), 4),
    (0, ("nowhere",), 1),
    (1, (), 22),
    (1, ("metadata", "name"), 25),
    (1, ("data", True), 27),
]


@pytest.mark.parametrize(("doc", "path", "line"), LOOKUPS)
def test_node_index_lines(doc: int, path: tuple[str | int, ...], line: int) -> None:
    index = NodeIndex(MANIFEST, "f.yaml")
    assert index.line(doc, path) == line


@pytest.mark.parametrize(("doc", "path", "line"), LOOKUPS)
def test_node_index_lines_from_the_loaded_trees(
    doc: int, path: tuple[str | int, ...], line: int
) -> None:
    documents = list(load_documents(MANIFEST, "f.yaml"))
    index = NodeIndex(MANIFEST, "f.yaml", [d.node for d in documents])
    assert index.line(doc, path) == line


def test_node_index_unknown_document() -> None:
    index = NodeIndex(MANIFEST, "f.yaml")
    assert index.line(2, ()) is None
    assert index.line(-1, ()) is None


def test_node_index_recomposes_after_release() -> None:
    documents = list(load_documents(MANIFEST, "f.yaml"))
    index = NodeIndex(MANIFEST, "f.yaml", [d.node for d in documents])
    index.release()
    assert index.line(0, ("metadata", "name")) == 4


MERGED = textwrap.dedent("""\
    defaults: &defaults
      cpu: 100m
      memory: 64Mi
    extra: &extra
      gpu: 1
    limits:
      <<: [*defaults, *extra]
      memory: 128Mi
    """)


@pytest.mark.parametrize("loaded", [False, True], ids=["composed", "loaded"])
def test_node_index_follows_merge_keys(loaded: bool) -> None:
    nodes = [d.node for d in load_documents(MERGED, "f.yaml")] if loaded else None
    index = NodeIndex(MERGED, "f.yaml", nodes)
    assert index.line(0, ("limits", "memory")) == 8  # explicit beats merged
    assert index.line(0, ("limits", "cpu")) == 2  # from the anchor
    assert index.line(0, ("limits", "gpu")) == 5
    assert index.line(0, ("limits", "disk")) == 6


def test_located_yaml_lines() -> None:
    located = load_located(MANIFEST, "f.yaml")
    assert [d.data["kind"] for d in located.documents] == ["Deployment", "ConfigMap"]
    assert located.line(0, ("spec", "template")) == 10
    assert located.line(1) == 22
    assert located.line(5) is None
