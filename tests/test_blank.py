"""Human-entered text that looks empty is empty: waiver reasons, approvers and
tickets, inline waiver reasons, override reasons and policy texts made only of
whitespace, zero-width, format or control characters are refused."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from gate.blank import blank
from gate.config import OverrideConfig
from gate.errors import ConfigError, PolicyError
from gate.evaluation.inline_waivers import inline_reason
from gate.evaluation.policy_loading import load_directory
from gate.git.commits import Commit
from gate.governance import judging as governance
from gate.governance.waivers import load_waivers
from tests.conftest import RunGate
from tests.gitrepo import GitRepo

# One or more of each class a human cannot see, by Unicode category.
INVISIBLE = {
    "ascii-whitespace": " \t ",
    "nbsp-Zs": "\u00a0",
    "em-space-Zs": "\u2003",
    "ideographic-space-Zs": "\u3000",
    "narrow-nbsp-Zs": "\u202f",
    "zero-width-space": "\u200b",
    "zero-width-non-joiner": "\u200c",
    "zero-width-joiner": "\u200d",
    "word-joiner": "\u2060",
    "byte-order-mark": "\ufeff",
    "soft-hyphen-Cf": "\u00ad",
    "bidi-marks-Cf": "\u200e\u200f\u202e",
    "tag-characters-Cf": "\U000e0041\U000e007f",
    "bell-Cc": "\x07",
    "next-line-Cc": "\x85",
    "line-separator-Zl": "\u2028",
    "paragraph-separator-Zp": "\u2029",
    "hangul-filler": "\u3164",
    "braille-blank": "\u2800",
    "variation-selector": "\ufe0f",
    "mixed": " \u200b\u2060\ufeff\u00a0\t",
}
VISIBLE = ["x", "é", "中", "\U0001f642", "\u200bok\u200b", "-", "\u00a0.\u00a0"]
CLASSES = pytest.mark.parametrize("text", list(INVISIBLE.values()), ids=list(INVISIBLE))


@CLASSES
def test_invisible_text_is_blank(text: str) -> None:
    assert blank(text)
    assert blank(text * 3)


@pytest.mark.parametrize("text", VISIBLE)
def test_visible_text_is_not_blank(text: str) -> None:
    assert not blank(text)


def test_nothing_is_blank() -> None:
    assert blank("")


# -- waivers files ---------------------------------------------------------------------

WAIVER = """\
waivers:
  - policy: no-latest-tag
    reason: {reason}
    ticket: {ticket}
    approved_by: {approved_by}
    expires: 2027-03-31
"""
FIELDS = {"reason": "vendor ships latest only", "ticket": "CHG-1",
          "approved_by": "jane@example.com"}
LINES = {"reason": 3, "ticket": 4, "approved_by": 5}


def quoted(text: str) -> str:
    """A YAML double-quoted scalar with every character escaped (raw controls are not YAML)."""
    return '"' + "".join(f"\\U{ord(char):08X}" for char in text) + '"'


def waivers_text(**values: str) -> str:
    return WAIVER.format(**{k: quoted(v) for k, v in {**FIELDS, **values}.items()})


@pytest.mark.parametrize("field", list(FIELDS))
@CLASSES
def test_a_blank_waiver_field_is_a_config_error_at_its_line(tmp_path: Path, field: str,
                                                            text: str) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(waivers_text(**{field: text}), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_waivers(str(path), "waivers.yaml")
    assert (caught.value.file, caught.value.line) == ("waivers.yaml", LINES[field])
    assert caught.value.message.startswith(f"waivers[0].{field} is blank: ")


def test_visible_waiver_fields_load(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(waivers_text(reason="\u200bvendor\u00a0image"), encoding="utf-8")
    [waiver] = load_waivers(str(path), "waivers.yaml")
    assert waiver.reason == "\u200bvendor\u00a0image"


@CLASSES
def test_a_blank_inline_waiver_reason_waives_nothing(text: str) -> None:
    annotations = {"gate.dev/waive.p": text}
    assert inline_reason({"metadata": {"annotations": annotations}}, "p") is None
    annotations["gate.dev/waive.p"] = text + "pinned by the vendor" + text
    assert inline_reason({"metadata": {"annotations": annotations}}, "p") is not None


# -- override trailers -----------------------------------------------------------------

MOMENT = datetime(2026, 12, 1, tzinfo=timezone.utc)
# Parsing the trailer does not depend on overrides being allowed (nor approved).
ALLOWED = OverrideConfig()


def override_commit(value: str) -> Commit:
    return Commit("a" * 40, "Ops", "ops@example.com", MOMENT, MOMENT, "fix\n",
                  {"Gate-Override": [value]})


@CLASSES
def test_a_blank_override_reason_is_ignored_with_a_note(text: str) -> None:
    found, notes = governance.find_overrides([override_commit(f"INC-1 {text}")], ALLOWED)
    assert found == []
    [note] = notes
    assert "Gate-Override trailer of commit aaaaaaaaaaaa ignored" in note
    # The same characters around a real reason do not hide it.
    found, notes = governance.find_overrides(
        [override_commit(f"INC-1 {text}checkout down{text}")], ALLOWED)
    assert [o.ticket for o in found] == ["INC-1"] and notes == []


def test_an_override_reason_after_unicode_spaces_counts() -> None:
    found, _ = governance.find_overrides([override_commit("INC-1\u3000checkout down")], ALLOWED)
    assert [(o.ticket, o.reason) for o in found] == [("INC-1", "checkout down")]


# -- policy texts ----------------------------------------------------------------------

POLICY = """\
apiVersion: gate.dev/v1
kind: Policy
id: no-settings
title: {title}
severity: high
description: A test policy.
rationale: Because.
remediation: Fix it.
match:
  kinds: [Deployment]
rules:
  - assert: "true"
    message: never
"""


@pytest.mark.parametrize("text", ["\u200b", "\u00a0\ufeff", "\u2060"])
def test_a_blank_policy_title_is_a_policy_error(tmp_path: Path, text: str) -> None:
    (tmp_path / "p.yaml").write_text(POLICY.format(title=quoted(text)), encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_directory(str(tmp_path))
    assert caught.value.line == 4 and "title is blank" in caught.value.message


# -- end to end ------------------------------------------------------------------------


def _repo(tmp_path: Path) -> GitRepo:
    from tests.test_governance_cli import make_repo

    return make_repo(tmp_path, "overrides:\n  allowed: true\n  approvers: [dana@example.com]\n")


@pytest.mark.e2e
def test_gate_diff_refuses_a_zero_width_waiver_reason(tmp_path: Path,
                                                      run_gate: RunGate) -> None:
    repo = _repo(tmp_path)
    repo.write("waivers.yaml", waivers_text(reason="\u200b\u2060"))
    repo.commit("an invisible reason")
    proc = run_gate("diff", "--base", "base", "--kustomize", "builtin", cwd=repo.path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("waivers.yaml:3: error: waivers[0].reason is blank"), proc.stderr


@pytest.mark.e2e
def test_gate_diff_ignores_an_override_with_an_invisible_reason(tmp_path: Path,
                                                                run_gate: RunGate) -> None:
    from tests.test_governance_cli import FREEZE, FROZEN, make_repo, set_tag

    repo = make_repo(tmp_path,
                     FREEZE + "overrides:\n  allowed: true\n  approvers: [dana@example.com]\n")
    set_tag(repo, "prod", "1.0.1")
    repo.commit("hotfix\n\nGate-Override: INC-1234 \u200b\ufeff")
    report_path = tmp_path / "report.json"
    proc = run_gate("diff", "--base", "base", "--kustomize", "builtin", "--now", FROZEN,
                    "-f", f"json={report_path}", cwd=repo.path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["audit"]["overrides"] == []
    assert any("reason is blank" in note for note in report["change"]["notes"])
