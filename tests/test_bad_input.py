"""Bad input is normal input: every broken file, policy or config ends in a clean error.

Each case runs the real CLI and checks the exit status (2 for an error), a one-line
``file:line: error: message`` naming the culprit, and that no traceback escaped.
"""
from __future__ import annotations

import codecs
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import RunGate
from tests.manifests import CONFIGMAP, POD_LATEST
from tests.processes import TIMEOUT, run


def output_of(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout + proc.stderr


def assert_no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    out = output_of(proc)
    assert "Traceback" not in out, out
    assert "internal error" not in out, out


def error_lines(proc: subprocess.CompletedProcess[str], file: str) -> list[str]:
    pattern = re.compile(rf"^{re.escape(file)}(?::(\d+))?: error: ")
    return [line for line in output_of(proc).splitlines() if pattern.match(line)]


def assert_error(
    proc: subprocess.CompletedProcess[str],
    file: str,
    line: int | None = None,
    *fragments: str,
) -> str:
    """Exit 2 and exactly one error line naming ``file`` (and ``line``); returns it."""
    out = output_of(proc)
    assert proc.returncode == 2, out
    assert_no_traceback(proc)
    found = error_lines(proc, file)
    assert len(found) == 1, out
    message = found[0]
    if line is not None:
        assert message.startswith(f"{file}:{line}: error: "), out
    for fragment in fragments:
        assert fragment.lower() in message.lower(), out
    return message


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# -- manifests that cannot be read ---------------------------------------------------

# A ConfigMap, a Pod, then a third document broken at the file's last line.
THIRD_DOCUMENT_BROKEN = (CONFIGMAP + "---\n" + POD_LATEST + "---\napiVersion: v1\n"
                         "kind: ConfigMap\nmetadata: {name: [c}\n")

BROKEN = {
    "syntax-error": (
        CONFIGMAP.replace("  labels:\n", "  labels: app: web\n"),
        5,
        ("mapping values are not allowed",),
    ),
    "bad-indentation": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n namespace: b\ndata: {}\n",
        5,
        ("invalid YAML",),
    ),
    "unclosed-double-quote": (
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "settings\ndata:\n  a: b\n',
        # libyaml notices where the stream ends; the message names the opening line.
        7,
        ("quoted scalar", "started at line 4"),
    ),
    "unclosed-single-quote": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: 'settings\n",
        5,
        ("quoted scalar", "started at line 4"),
    ),
    "unclosed-bracket": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata: [1, 2\n",
        6,
        ("flow sequence", "started at line 5"),
    ),
    "unclosed-brace": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a\ndata:\n  b: c\n",
        4,
        ("flow mapping", "started at line 3"),
    ),
    "tab-indentation": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: a\n",
        4,
        ("cannot start any token",),
    ),
    "control-character": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\u00e9\u00e9\x07\n",
        4,
        ("unacceptable character",),
    ),
    "undefined-alias": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: *nowhere\n",
        4,
        ("undefined alias",),
    ),
    "python-tag": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: !!python/object:os.system {name: a}\n",
        3,
        ("could not determine a constructor",),
    ),
    "unhashable-key": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n? [a, b]\n: c\n",
        4,
        ("unhashable key",),
    ),
    "duplicate-key": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: x\n  name: b\n",
        6,
        ("duplicate key 'name'", "line 4"),
    ),
    "duplicate-key-in-flow-mapping": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, name: b}\n",
        3,
        ("duplicate key 'name'",),
    ),
    "duplicate-key-number-and-string": (
        # Kubernetes reads both keys as "8080": which value deploys is ambiguous.
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ports}\ndata:\n"
        '  8080: "web"\n  "8080": "api"\n',
        6,
        ("duplicate key '8080'", "line 5"),
    ),
    "list-items-not-a-list": (
        "apiVersion: v1\nkind: List\nitems:\n  name: a\n",
        1,
        ("items must be a list",),
    ),
    "recursive-alias": ("a: &a [*a]\n", 1, ("recursive",)),
    "third-document-broken": (THIRD_DOCUMENT_BROKEN, THIRD_DOCUMENT_BROKEN.count("\n"),
                              ("flow sequence",)),  # at its last line
    "unsupported-yaml-version": (
        "%YAML 2.0\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        1,
        ("incompatible",),
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_yaml_is_an_error_naming_file_and_line(
    case: str, tmp_path: Path, gate_cli: RunGate
) -> None:
    content, line, fragments = BROKEN[case]
    write(tmp_path / "bad.yaml", content)
    proc = gate_cli("check", "bad.yaml", cwd=tmp_path)
    assert_error(proc, "bad.yaml", line, *fragments)
    assert "input error" in proc.stdout  # the summary line says why the gate failed


BINARY = {
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01", 3, "binary"),
    "nul-bytes": (b"apiVersion: v1\nkind: ConfigMap\x00\nmetadata: {}\n", 2, "binary"),
    "latin-1": ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\u00e9\n".encode(
        "latin-1"), 4, "not valid UTF-8"),
    "utf-16-without-bom": ("apiVersion: v1\n".encode("utf-16-le"), 1, "binary"),
    "truncated-utf-16": (codecs.BOM_UTF16_LE + b"a\x00b", None, "not valid UTF-16"),
}


@pytest.mark.parametrize("case", sorted(BINARY))
def test_bytes_that_are_not_yaml_text(case: str, tmp_path: Path, gate_cli: RunGate) -> None:
    content, line, fragment = BINARY[case]
    write(tmp_path / "image.yaml", content)
    proc = gate_cli("check", "image.yaml", cwd=tmp_path)
    assert_error(proc, "image.yaml", line, fragment)


@pytest.mark.parametrize(
    "encoding", ["utf-16", "utf-16-be-bom", "utf-16-le-bom", "utf-32", "utf-8-sig"]
)
def test_unicode_with_a_bom_is_read(encoding: str, tmp_path: Path, gate_cli: RunGate) -> None:
    boms = {"utf-16-be-bom": ("utf-16-be", codecs.BOM_UTF16_BE),
            "utf-16-le-bom": ("utf-16-le", codecs.BOM_UTF16_LE)}
    codec, bom = boms.get(encoding, (encoding, b""))
    write(tmp_path / "cm.yaml", bom + CONFIGMAP.replace("settings", "r\u00e9glages").encode(codec))
    proc = gate_cli("check", "cm.yaml", "-f", "json", cwd=tmp_path)
    assert proc.returncode == 0, output_of(proc)
    report = json.loads(proc.stdout)
    assert report["errors"] == []
    assert {r["resource"]["name"] for r in report["results"]} == {"r\u00e9glages"}
    assert {r["resource"]["line"] for r in report["results"]} == {1}


# -- nothing to check is not an error ------------------------------------------------

@pytest.mark.parametrize(
    "content",
    ["", "\n\n   \n", "# only a comment\n", "# a\n---\n# b\n---\n", "---\n...\n", "~\n"],
    ids=["empty", "whitespace", "comment", "comments-and-separators", "markers", "null"],
)
def test_empty_files_are_not_errors(content: str, tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "empty.yaml", content)
    proc = gate_cli("check", "empty.yaml", "-v", cwd=tmp_path)
    assert proc.returncode == 0, output_of(proc)
    assert_no_traceback(proc)
    assert "error" not in output_of(proc)
    assert "0 resource(s)" in proc.stdout


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("name: web\nreplicas: 3\n", "no apiVersion or kind"),
        ("- a\n- b\n", "a YAML list"),
        ("just a string\n", "a YAML str"),
        ("42\n", "a YAML int"),
        ("apiVersion: v1\nkind: 3\n", "must be strings"),
        ("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n", "Kustomize"),
    ],
    ids=["mapping", "list", "string", "number", "kind-not-a-string", "kustomization"],
)
def test_non_kubernetes_yaml_is_skipped_with_a_note(
    content: str, reason: str, tmp_path: Path, gate_cli: RunGate
) -> None:
    write(tmp_path / "other.yaml", content)
    quiet = gate_cli("check", "other.yaml", cwd=tmp_path)
    assert quiet.returncode == 0, output_of(quiet)
    assert_no_traceback(quiet)
    assert "note:" not in quiet.stdout
    assert "1 document(s) skipped" in quiet.stdout
    verbose = gate_cli("check", "other.yaml", "-v", cwd=tmp_path)
    assert verbose.returncode == 0
    notes = [line for line in verbose.stdout.splitlines() if line.startswith("other.yaml:1: note:")]
    assert len(notes) == 1, verbose.stdout
    assert reason in notes[0]


# -- pathological sizes and shapes ---------------------------------------------------

def _deep_flow(depth: int) -> str:
    return "[" * depth


def _deep_mappings(depth: int) -> str:
    return "".join(" " * level + "k:\n" for level in range(depth))


def _deep_in_resource(depth: int) -> str:
    return CONFIGMAP + "binaryData:\n  nested: " + "{a: " * depth + "1" + "}" * depth + "\n"


@pytest.mark.parametrize(
    "content",
    [_deep_flow(100_000), _deep_flow(100_000) + "]" * 100_000, _deep_mappings(5_000),
     "- " * 5_000 + "x\n", _deep_in_resource(3_000)],
    ids=["100k-open-brackets", "100k-balanced-brackets", "5k-nested-mappings",
         "5k-compact-sequences", "3k-inside-a-resource"],
)
def test_very_deep_nesting_never_crashes(
    content: str, tmp_path: Path, gate_cli: RunGate
) -> None:
    write(tmp_path / "deep.yaml", content)
    proc = gate_cli("check", "deep.yaml", cwd=tmp_path)
    # A clean error or success, never a crash (libyaml used to overflow the C stack).
    assert proc.returncode in (0, 1, 2), output_of(proc)
    assert_no_traceback(proc)
    if proc.returncode == 2:
        message = assert_error(proc, "deep.yaml")
        # gate's bound on nesting, or PyYAML's own where it stops first (libyaml 0.2.6,
        # in PyYAML 6.0.4, stops at 1,000 levels in words of its own).
        assert "YAML nesting is deeper than" in message or "invalid YAML: " in message, (
            message)


def test_moderate_nesting_inside_a_resource_is_evaluated(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    write(tmp_path / "deep.yaml", _deep_in_resource(500))
    proc = gate_cli("check", "deep.yaml", cwd=tmp_path)
    assert proc.returncode == 0, output_of(proc)
    assert "1 resource(s)" in proc.stdout


SCHEMA_POLICY = """\
apiVersion: gate.dev/v1
kind: Policy
id: tree-shape
title: Values are trees of strings and numbers
description: d
rationale: r
remediation: fix
severity: low
rules:
  - name: shape
    schema:
      $ref: "#/$defs/node"
      $defs:
        node:
          anyOf:
            - {type: [string, integer]}
            - {type: array, items: {$ref: "#/$defs/node"}}
            - {type: object, additionalProperties: {$ref: "#/$defs/node"}}
"""


def test_deep_data_under_a_recursive_schema_rule_names_the_file(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    write(tmp_path / "policies" / "tree.yaml", SCHEMA_POLICY)
    write(tmp_path / "deep.yaml", _deep_in_resource(300))
    write(tmp_path / "ok.yaml", CONFIGMAP)
    proc = gate_cli("check", "--no-builtin", "--policies", "policies", "deep.yaml", "ok.yaml",
                    "-f", "json", cwd=tmp_path)
    assert_no_traceback(proc)
    assert proc.returncode in (1, 2)
    assert "deep.yaml" in output_of(proc)


@pytest.mark.e2e
def test_huge_file_of_small_resources(tmp_path: Path, run_gate: RunGate) -> None:
    documents = [CONFIGMAP.replace("name: settings", f"name: settings-{i}") for i in range(20_000)]
    write(tmp_path / "huge.yaml", "---\n".join(documents) + "---\n" + POD_LATEST)
    proc = run_gate("check", "huge.yaml", "-f", "json=report.json", cwd=tmp_path)
    assert proc.returncode == 1, output_of(proc)  # the one Pod uses :latest
    assert_no_traceback(proc)
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["resources"] == 20_001
    assert report["errors"] == []
    failing = [r for r in report["results"] if r["status"] == "fail"]
    assert [(r["policy"], r["resource"]["line"]) for r in failing] == [
        ("no-latest-tag", 20_000 * 9 + 1)
    ]
    assert failing[0]["line"] == 20_000 * 9 + 10


@pytest.mark.parametrize("cpu", ['"1e400"', "1" + "0" * 400], ids=["exponent", "huge-int"])
def test_absurd_quantities_do_not_crash_the_engine(
    cpu: str, tmp_path: Path, gate_cli: RunGate
) -> None:
    write(tmp_path / "pod.yaml", POD_LATEST.replace("cpu: 200m", f"cpu: {cpu}"))
    proc = gate_cli("check", "pod.yaml", cwd=tmp_path)
    assert_no_traceback(proc)
    assert proc.returncode in (1, 2)
    assert "pod.yaml" in output_of(proc)


def _alias_bomb(levels: int) -> str:
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: lol}", "data:",
             '  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        refs = ", ".join([f"*l{level - 1}"] * 10)
        lines.append(f"  l{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\n"


@pytest.mark.e2e
@pytest.mark.parametrize("levels", [9, 10])
def test_alias_bomb_is_refused_in_bounded_memory(
    levels: int, tmp_path: Path, run_gate: RunGate
) -> None:
    write(tmp_path / "lol.yaml", _alias_bomb(levels))
    if sys.platform.startswith("linux"):
        import resource

        def limit_memory() -> None:  # expanding 10**10 nodes would need far more
            resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

        proc = run([sys.executable, "-m", "gate", "check", "lol.yaml"], cwd=tmp_path,
                   timeout=TIMEOUT, before_exec=limit_memory)
    else:  # pragma: no cover
        proc = run_gate("check", "lol.yaml", cwd=tmp_path)
    message = assert_error(proc, "lol.yaml", None, "alias")
    assert "out of memory" not in output_of(proc)
    assert "refusing" in message


def test_aliases_that_do_not_explode_are_fine(tmp_path: Path, gate_cli: RunGate) -> None:
    env = "\n".join(f"    - {{name: VAR_{i}, value: v{i}}}" for i in range(50))
    document = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base\n  labels: &labels\n"
        "    app.kubernetes.io/name: web\ndata:\n  env: &env\n" + env + "\n"
        + "".join(f"  copy{i}: *env\n" for i in range(20))
        + "binaryData:\n  labels: *labels\n"
    )
    write(tmp_path / "aliases.yaml", document)
    proc = gate_cli("check", "aliases.yaml", cwd=tmp_path)
    assert proc.returncode == 0, output_of(proc)
    assert "1 resource(s)" in proc.stdout


def test_anchors_do_not_carry_across_documents(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "aliases.yaml", CONFIGMAP.replace("fast", "&mode fast")
          + "---\n" + CONFIGMAP.replace("fast", "*mode"))
    proc = gate_cli("check", "aliases.yaml", cwd=tmp_path)
    assert_error(proc, "aliases.yaml", 17, "undefined alias")


# -- files and streams ---------------------------------------------------------------

@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read a chmod 000 file"
)
def test_unreadable_file(tmp_path: Path, run_gate: RunGate) -> None:
    path = write(tmp_path / "secret.yaml", CONFIGMAP)
    path.chmod(0)
    try:
        proc = run_gate("check", "secret.yaml", cwd=tmp_path)
    finally:
        path.chmod(0o644)
    assert_error(proc, "secret.yaml", None, "cannot read", "permission denied")


def test_broken_symlink_in_a_directory_is_an_error(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "apps" / "ok.yaml", CONFIGMAP)
    (tmp_path / "apps" / "gone.yaml").symlink_to(tmp_path / "nowhere.yaml")
    proc = gate_cli("check", "apps", cwd=tmp_path)
    assert_error(proc, "apps/gone.yaml", None, "cannot read")


def test_missing_path_is_a_usage_error(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "ok.yaml", CONFIGMAP)
    proc = gate_cli("check", "ok.yaml", "missing.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert_no_traceback(proc)
    assert proc.stderr.strip().splitlines() == [
        "gate: error: no such file or directory: missing.yaml"
    ]
    assert proc.stdout == ""


def test_invalid_yaml_on_stdin_names_stdin(tmp_path: Path, gate_cli: RunGate) -> None:
    proc = gate_cli("check", "-", cwd=tmp_path, input="apiVersion: v1\nkind: [Pod\n")
    assert_error(proc, "<stdin>", 3, "flow sequence")


@pytest.mark.e2e
def test_binary_on_stdin_names_stdin(tmp_path: Path, run_gate: RunGate) -> None:
    write(tmp_path / "blob.bin", b"\x00\x01\x02\xff")
    with (tmp_path / "blob.bin").open("rb") as stdin:
        proc = subprocess.run(
            [sys.executable, "-m", "gate", "check", "-"], cwd=tmp_path, stdin=stdin,
            capture_output=True, text=True, timeout=TIMEOUT, check=False,
        )
    assert_error(proc, "<stdin>", 1, "binary")


def test_a_broken_document_spoils_its_whole_file(tmp_path: Path, gate_cli: RunGate) -> None:
    content, line, _ = BROKEN["third-document-broken"]
    write(tmp_path / "multi.yaml", content)
    proc = gate_cli("check", "multi.yaml", "-f", "json=report.json", cwd=tmp_path)
    assert_error(proc, "multi.yaml", line)
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    # The Pod in the second document uses :latest, but no document of the file is trusted.
    assert report["results"] == []
    assert report["summary"]["resources"] == 0
    assert [e["file"] for e in report["errors"]] == ["multi.yaml"]
    assert report["verdict"] == "fail"


def test_input_error_wins_over_a_blocking_finding(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "apps" / "a-broken.yaml", "apiVersion: v1\nkind: ConfigMap\n\tbad: tab\n")
    write(tmp_path / "apps" / "b-pod.yaml", POD_LATEST)
    proc = gate_cli("check", "apps", "-f", "text", "-f", "json=report.json", cwd=tmp_path)
    assert_error(proc, "apps/a-broken.yaml", 3)
    assert "apps/b-pod.yaml:10: [no-latest-tag]" in proc.stdout
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "fail"
    assert report["errors"] == [
        {"file": "apps/a-broken.yaml", "line": 3, "message": report["errors"][0]["message"]}
    ]
    assert report["errors"][0]["message"].startswith("invalid YAML")
    fails = [r for r in report["results"] if r["status"] == "fail"]
    assert [(r["policy"], r["resource"]["file"]) for r in fails] == [
        ("no-latest-tag", "apps/b-pod.yaml")
    ]
    # --exit-zero forgives findings, never input errors.
    proc = gate_cli("check", "apps", "--exit-zero", cwd=tmp_path)
    assert proc.returncode == 2


@pytest.mark.e2e
def test_every_broken_file_of_a_directory_is_reported(tmp_path: Path, run_gate: RunGate) -> None:
    for name, (content, _, _) in BROKEN.items():
        write(tmp_path / "repo" / f"{name}.yaml", content)
    write(tmp_path / "repo" / "good.yaml", CONFIGMAP)
    proc = run_gate("check", "repo", "-f", "json", cwd=tmp_path)
    assert proc.returncode == 2
    assert_no_traceback(proc)
    report = json.loads(proc.stdout)
    assert sorted(e["file"] for e in report["errors"]) == sorted(
        f"repo/{name}.yaml" for name in BROKEN
    )
    assert {r["resource"]["file"] for r in report["results"]} == {"repo/good.yaml"}


# -- policies ------------------------------------------------------------------------

POLICY = """\
apiVersion: gate.dev/v1
kind: Policy
id: test-policy
title: Names are not x
description: d
rationale: r
remediation: fix
severity: medium
rules:
  - name: not-x
    assert: "metadata.name != 'x'"
    message: "bad"
"""
ASSERT_LINE = 11
ASSERT = "    assert: \"metadata.name != 'x'\"\n"

BAD_POLICIES = {
    "jmespath-syntax": (POLICY.replace(ASSERT, '    assert: "metadata.name != "\n'),
                        ASSERT_LINE, ("invalid JMESPath",)),
    "unknown-function": (POLICY.replace(ASSERT, '    assert: "nope(metadata)"\n'),
                         ASSERT_LINE, ("unknown function nope()",)),
    "wrong-arity": (POLICY.replace(ASSERT, "    assert: \"length(metadata, 'a')\"\n"),
                    ASSERT_LINE, ("length() takes 1 argument",)),
    "bad-when": (POLICY.replace(ASSERT, '    when: "[["\n' + ASSERT), ASSERT_LINE,
                 ("invalid JMESPath",)),
    "bad-message-template": (POLICY.replace('    message: "bad"\n',
                                            '    message: "bad {{ nope() }}"\n'),
                             ASSERT_LINE + 1, ("unknown function nope()",)),
    "missing-title": (POLICY.replace("title: Names are not x\n", ""), 1, ("'title'",)),
    "bad-severity": (POLICY.replace("severity: medium", "severity: huge"), 8, ("huge",)),
    "bad-id": (POLICY.replace("id: test-policy", "id: Test Policy"), 3, ("id",)),
    "unknown-key": (POLICY + "colour: blue\n", 13, ("colour",)),
    "rule-without-assert": (POLICY.replace(ASSERT, ""), 10, ("needs 'assert'",)),
    "invalid-json-schema": (
        POLICY.replace(ASSERT + '    message: "bad"\n', "    schema: {type: 12}\n"),
        ASSERT_LINE, ("invalid JSON Schema",)),
    "invalid-parameter-schema": (
        POLICY + "parameters:\n  names:\n    description: d\n    default: []\n"
        "    schema: {type: wrong}\n", 17, ("invalid JSON Schema",)),
    "default-violates-parameter-schema": (
        POLICY + "parameters:\n  names:\n    description: d\n    default: 3\n"
        "    schema: {type: array}\n", 16, ("default",)),
    "not-a-policy": ("foo: bar\n", 1, ("not a gate policy",)),
    "a-list": ("- a\n- b\n", 1, ("mapping",)),
    "yaml-error": (POLICY.replace("severity: medium", "severity: [medium"), 9, ("flow",)),
    "duplicate-key": (POLICY.replace("severity: medium", "severity: medium\ntitle: Again"),
                      9, ("duplicate key 'title'", "line 4")),
    "binary": (b"\x00\x01", 1, ("binary",)),
}


@pytest.mark.parametrize("case", sorted(BAD_POLICIES))
def test_policy_errors_name_the_policy_file_and_line(
    case: str, tmp_path: Path, gate_cli: RunGate
) -> None:
    content, line, fragments = BAD_POLICIES[case]
    write(tmp_path / "policies" / "bad.yaml", content)
    write(tmp_path / "cm.yaml", CONFIGMAP)
    proc = gate_cli("check", "--no-builtin", "--policies", "policies", "cm.yaml", cwd=tmp_path)
    assert_error(proc, "policies/bad.yaml", line, *fragments)
    assert proc.stdout == ""  # nothing was evaluated


def test_undeclared_parameter_is_a_policy_error(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "policies" / "bad.yaml",
          POLICY.replace(ASSERT, "    assert: \"param('nope') == 'a'\"\n"))
    proc = gate_cli("check", "--no-builtin", "--policies", "policies", "-", cwd=tmp_path,
                    input=CONFIGMAP)
    assert_error(proc, "policies/bad.yaml", None, "unknown parameter 'nope'")


def test_undeclared_parameter_names_the_line_of_its_key(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    write(tmp_path / "policies" / "bad.yaml",
          POLICY.replace(ASSERT, "    assert: \"param('nope') == 'a'\"\n"))
    proc = gate_cli("check", "--no-builtin", "--policies", "policies", "-", cwd=tmp_path,
                    input=CONFIGMAP)
    assert_error(proc, "policies/bad.yaml", ASSERT_LINE, "unknown parameter 'nope'")


def test_duplicate_policy_ids_across_files(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "policies" / "a.yaml", POLICY)
    write(tmp_path / "policies" / "b.yaml", "# the same id again\n" + POLICY)
    proc = gate_cli("check", "--no-builtin", "--policies", "policies", "-", cwd=tmp_path,
                    input=CONFIGMAP)
    assert_error(proc, "policies/b.yaml", 2, "duplicate policy id 'test-policy'",
                 "policies/a.yaml:1")


def test_duplicate_of_a_builtin_policy_id(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "policies" / "mine.yaml", POLICY.replace("test-policy", "no-latest-tag"))
    proc = gate_cli("check", "--policies", "policies", "-", cwd=tmp_path, input=CONFIGMAP)
    assert_error(proc, "policies/mine.yaml", 1, "duplicate policy id 'no-latest-tag'",
                 "builtin:no-latest-tag.yaml")


def test_missing_policy_directory(tmp_path: Path, gate_cli: RunGate) -> None:
    proc = gate_cli("check", "--policies", "nowhere", "-", cwd=tmp_path, input=CONFIGMAP)
    assert proc.returncode == 2
    assert_no_traceback(proc)
    assert "gate: error: policy file or directory not found: nowhere" in proc.stderr


# -- configuration -------------------------------------------------------------------

BAD_CONFIGS = {
    "unknown-policy": ("policies:\n  no-such-policy:\n    enabled: false\n", 2,
                       ("unknown policy id 'no-such-policy'",)),
    "unknown-parameter": ("policies:\n  no-latest-tag:\n    parameters:\n      nope: 1\n", 4,
                          ("no parameter 'nope'",)),
    "parameter-violates-schema": (
        "fail_on: high\npolicies:\n  no-latest-tag:\n    parameters:\n"
        "      forbidden_tags: latest\n", 5, ("forbidden_tags", "not of type 'array'")),
    "parameter-item-violates-schema": (
        "policies:\n  resource-limits:\n    parameters:\n      require: [limits.gpu]\n", 4,
        ("require",)),
    "bad-fail-on": ("builtin: true\nfail_on: sometimes\n", 2, ("fail_on", "sometimes")),
    "bad-severity": ("policies:\n  no-latest-tag:\n    severity: urgent\n", 3, ("urgent",)),
    "bad-enabled": ("policies:\n  no-latest-tag:\n    enabled: maybe\n", 3, ("maybe",)),
    # An unknown key is blamed on its own line.
    "unknown-setting": ("policies:\n  no-latest-tag:\n    colour: red\n", 3, ("colour",)),
    "unknown-top-level-key": ("builtin: true\nfail-on: high\n", 2, ("fail-on",)),
    "a-list": ("- a\n- b\n", 1, ("mapping",)),
    "a-string": ("just a string\n", 1, ("mapping",)),
    "two-documents": ("builtin: true\n---\nbuiltin: false\n", 3, ("one YAML document",)),
    "yaml-error": ("policies: {no-latest-tag: {enabled: false}\n", 2, ("flow mapping",)),
    "duplicate-key": ("policies:\n  no-latest-tag:\n    enabled: false\n    enabled: true\n",
                      4, ("duplicate key 'enabled'", "line 3")),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_config_errors_name_the_config_file_and_line(
    case: str, tmp_path: Path, gate_cli: RunGate
) -> None:
    content, line, fragments = BAD_CONFIGS[case]
    write(tmp_path / "conf" / "gate.yaml", content)
    write(tmp_path / "cm.yaml", CONFIGMAP)
    proc = gate_cli("check", "--config", "conf/gate.yaml", "cm.yaml", cwd=tmp_path)
    assert_error(proc, "conf/gate.yaml", line, *fragments)
    assert proc.stdout == ""


@pytest.mark.parametrize("kind", ["policy", "config"])
def test_unknown_keys_are_blamed_on_their_own_line(
    kind: str, tmp_path: Path, gate_cli: RunGate
) -> None:
    write(tmp_path / "cm.yaml", CONFIGMAP)
    if kind == "policy":
        write(tmp_path / "policies" / "bad.yaml", POLICY + "colour: blue\n")
        proc = gate_cli("check", "--no-builtin", "--policies", "policies", "cm.yaml",
                        cwd=tmp_path)
        assert_error(proc, "policies/bad.yaml", 13, "colour")
    else:
        write(tmp_path / "gate.yaml", "policies:\n  no-latest-tag:\n    colour: red\n")
        proc = gate_cli("check", "--config", "gate.yaml", "cm.yaml", cwd=tmp_path)
        assert_error(proc, "gate.yaml", 3, "colour")


def test_discovered_config_errors_name_the_discovered_file(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    write(tmp_path / ".gate.yaml", BAD_CONFIGS["bad-fail-on"][0])
    write(tmp_path / "cm.yaml", CONFIGMAP)
    proc = gate_cli("check", "cm.yaml", cwd=tmp_path)
    assert_error(proc, ".gate.yaml", 2, "sometimes")


def test_missing_config_file(tmp_path: Path, gate_cli: RunGate) -> None:
    proc = gate_cli("check", "--config", "missing.yaml", "-", cwd=tmp_path, input=CONFIGMAP)
    assert_error(proc, "missing.yaml", None, "config file not found")


def test_empty_config_means_the_defaults(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "gate.yaml", "# nothing configured yet\n")
    proc = gate_cli("check", "--config", "gate.yaml", "-", cwd=tmp_path, input=CONFIGMAP)
    assert proc.returncode == 0, output_of(proc)


def test_unwritable_report_file(tmp_path: Path, gate_cli: RunGate) -> None:
    proc = gate_cli("check", "-", "-f", "json=no/such/dir/report.json", cwd=tmp_path,
                    input=CONFIGMAP)
    assert_error(proc, "no/such/dir/report.json", None, "cannot write report")
