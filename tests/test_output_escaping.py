"""Hostile strings through every output: no raw terminal or bidirectional control, and
no byte sequence of a file name, makes a report fail or reach a reader unescaped.

The promise (gate/reports/_escape.py): C0 (but the line breaks a format writes itself),
C1 and bidirectional controls are shown as visible ``\\uXXXX``, a file-name byte that
is not UTF-8 as ``\\xNN`` (percent-encoded in SARIF URIs); JSON escapes controls as
JSON escapes; the same input gives the same output every time.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gate import github
from gate.error_handler import error_line
from gate.errors import ConfigError
from gate.reports._escape import one_line, visible
from tests.gitrepo import GitRepo
from tests.processes import gate_process

# Hostile strings: each must never reach an output raw.
HOSTILE = {
    "esc-sgr": "\x1b[31m",
    "esc-clear": "\x1b[2J",
    "osc-hyperlink": "\x1b]8;;http://evil\x07",
    "csi-8-bit": "\x9b31m",
    "nel": "\x85",
    "bell": "\x07",
    "backspace": "\x08",
    "delete": "\x7f",
    "rlo": "\u202e",
    "lre": "\u202a",
    "pdf": "\u202c",
    "lri": "\u2066",
    "pdi": "\u2069",
    "lrm": "\u200e",
    "rlm": "\u200f",
    "alm": "\u061c",
    "line-separator": "\u2028",
    "carriage-return": "\r",
}
# Characters that may appear in no output at all (a format's own \n and \t aside).
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                       "\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
OWN_COLOURS = re.compile(r"\x1b\[[0-9;]*m")
FORMATS = ("text", "json", "junit", "markdown", "markdown-comment", "html", "sarif",
           "codequality", "csv")
NOW = ("--now", "2026-06-01T10:00:00Z")  # the same report twice


def _manifest(value: str) -> str:
    quoted = json.dumps(value)  # a JSON string is a YAML double-quoted scalar
    return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {quoted}\n"
            f"  namespace: {quoted}\nspec:\n  template:\n    spec:\n      containers:\n"
            f"      - name: {quoted}\n        image: {json.dumps('nginx:latest' + value)}\n")


def _raw(text: str, colour: bool = False) -> list[str]:
    if colour:
        text = OWN_COLOURS.sub("", text)
    return sorted({f"U+{ord(c):04X}" for c in FORBIDDEN.findall(text)})


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_the_shared_function_escapes_visibly(name: str) -> None:
    value = HOSTILE[name]
    shown = one_line(f"a{value}b")
    assert _raw(shown) == []
    assert shown.startswith("a") and shown.endswith("b")
    if value not in ("\r", "\u2028", "\x85"):  # line breaks become a space on one line
        assert f"\\u{ord(value[0]):04x}" in shown


def test_undecodable_bytes_show_as_hex_and_are_deterministic() -> None:
    name = os.fsdecode(b"bad-\xff\xfe.yaml") if os.name == "posix" else "bad-\udcff\udcfe.yaml"
    assert visible(name) == "bad-\\xff\\xfe.yaml"
    assert visible(name) == visible(name)
    assert visible("\ud800") == "\\ud800"  # a lone surrogate that is no byte


def test_errors_on_stderr_stay_on_one_line_without_controls() -> None:
    error = ConfigError("unknown key 'x\x1b[2J\u202e'\nfake.yaml:1: error: forged",
                        "conf\x9bx.yaml", 3)
    line = error_line(error)
    assert "\n" not in line and _raw(line) == []
    assert line.startswith("conf\\u009bx.yaml:3: error: unknown key 'x\\u001b[2J\\u202e'")


def test_annotations_escape_controls_and_bidi() -> None:
    line = github.command("error", "m\x1b[31m\u202e%\nnext", file="a\u2066.yaml", title="t\x9b")
    assert _raw(line) == [] and "\n" not in line
    assert "m\\u001b[31m\\u202e%25%0Anext" in line and "file=a\\u2066.yaml" in line


@pytest.mark.e2e
def test_hostile_values_through_every_format(tmp_path: Path) -> None:
    manifests = {f"{name}.yaml": _manifest(f"x{value}y") for name, value in HOSTILE.items()}
    for name, text in manifests.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    for fmt in FORMATS:
        first = gate_process("check", ".", "-f", fmt, "-v", *NOW, cwd=tmp_path)
        output = first.stdout + first.stderr
        assert first.returncode == 1, output
        assert "internal error" not in output and "Traceback" not in output
        if fmt == "csv":  # RFC 4180 ends rows with CRLF; no other CR may be there
            output = output.replace("\r\n", "\n")
        assert _raw(output) == [], (fmt, _raw(output))
        again = gate_process("check", ".", "-f", fmt, "-v", *NOW, cwd=tmp_path)
        assert again.stdout == first.stdout  # deterministic
        if fmt == "json":
            names = {r["resource"]["name"] for r in json.loads(first.stdout)["results"]}
            # JSON escapes are lossless: the value read back is the manifest's own.
            assert {f"x{value}y" for value in HOSTILE.values()} <= names
        elif fmt == "text":
            assert "x\\u202ey" in first.stdout and "x\\u001b[31my" in first.stdout
        elif fmt == "junit":
            ET.fromstring(first.stdout.encode("utf-8"))
        elif fmt in ("markdown", "markdown-comment"):
            assert "\\u202e" in first.stdout
        elif fmt == "html":
            assert "x\\u202ey" in first.stdout and "x\\u001b[31my" in first.stdout
        elif fmt in ("sarif", "codequality"):
            text = json.dumps(json.loads(first.stdout))
            assert "\\\\u202e" in text  # the value itself shows the escape
        elif fmt == "csv":
            resources = {row[9] for row in csv.reader(io.StringIO(first.stdout, newline=""))}
            assert "Deployment/x\\u202ey/x\\u202ey" in resources
    coloured = gate_process("check", ".", "--color", "always", cwd=tmp_path)
    assert OWN_COLOURS.search(coloured.stdout)  # colours were on...
    assert _raw(coloured.stdout, colour=True) == []  # ...and nothing else got through


@pytest.mark.e2e
def test_a_config_error_quoting_hostile_text_is_one_clean_line(tmp_path: Path) -> None:
    (tmp_path / ".gate.yaml").write_text('fail_on: "high\\e[2J\\u202e\\nforged"\n',
                                         encoding="utf-8")
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                                      "  name: a\n", encoding="utf-8")
    proc = gate_process("check", "cm.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert _raw(proc.stderr) == [] and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith(".gate.yaml:1: error: ")


NON_UTF8 = b"bad-\xff\xfe-\x1b[31m-\xe2\x80\xae.yaml"


@pytest.mark.e2e
@pytest.mark.skipif(os.name != "posix", reason="file names as bytes need a POSIX file system")
def test_a_file_name_that_is_not_utf8_is_reported_in_every_format(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write("base.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    repo.git("add", "-A")
    repo.git("commit", "-qm", "base")
    with open(os.path.join(os.fsencode(repo.path), NON_UTF8), "wb") as handle:
        handle.write(_manifest("web").encode("utf-8"))
    repo.git("-c", "core.quotepath=off", "add", "-A")
    repo.git("commit", "-qm", "add a file whose name is not UTF-8")
    shown = "bad-\\xff\\xfe-\\u001b[31m-\\u202e.yaml"
    reports = tmp_path / "reports"
    reports.mkdir()
    args = ["diff", "--base", "HEAD~1", "-v"]
    for fmt in FORMATS:
        args += ["-f", f"{fmt}={reports / fmt}"]
    proc = gate_process(*args, cwd=repo.path)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output  # a verdict: the Deployment uses :latest
    assert "internal error" not in output and _raw(output) == []
    texts = {fmt: (reports / fmt).read_text(encoding="utf-8") for fmt in FORMATS}
    for fmt, text in texts.items():
        assert _raw(text) == [], (fmt, _raw(text))
    assert f"{shown}:" in texts["text"]
    report = json.loads(texts["json"])
    # JSON: code points are JSON escapes (lossless), the bytes that are not UTF-8 \xNN.
    in_json = "bad-\\xff\\xfe-\x1b[31m-\u202e.yaml"
    assert {f["path"] for f in report["change"]["files"]} == {in_json}
    assert {r["file"] for r in report["results"]} == {in_json}
    sarif = json.loads(texts["sarif"])
    uris = {result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for result in sarif["runs"][0]["results"]}
    assert uris == {"bad-%FF%FE-%1B%5B31m-%E2%80%AE.yaml"}  # the name's own bytes, exact
    assert shown in ET.fromstring(texts["junit"].encode("utf-8")).iter("testcase").__next__(
        ).get("file", "")
    assert shown.replace("\\", "\\\\").replace("[", "\\[") in texts["markdown"]
    assert f"<td>{shown}:" in texts["html"]
    assert {issue["location"]["path"] for issue in json.loads(texts["codequality"])} == {shown}
