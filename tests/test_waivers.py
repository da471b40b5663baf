"""The waivers file: loading and its errors, matching, expiry, and what each waiver did."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from textwrap import dedent
from typing import Any

import jsonschema
import pytest

from gate.errors import ConfigError
from gate.evaluation.inline_waivers import INLINE_PREFIX, inline_reason
from gate.governance.waivers import Waiver, apply_waivers, check_policies, load_waivers
from gate.results import (
    ACTIVE,
    CHANGE_API_VERSION,
    CHANGE_KIND,
    EXPIRED,
    FAIL,
    OVERRIDDEN,
    PASS,
    SKIP,
    STALE,
    WAIVED,
    WARN,
    ResourceRef,
    Result,
    WaiverRef,
    WaiverUse,
    change_ref,
)
from tests.report_factory import make_policy

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "gate" / "schemas" / "waivers.schema.json"
DOC = ROOT / "docs" / "waivers.md"
NAME = "waivers.yaml"
TODAY = date(2026, 6, 15)

VALID = """\
# approved exceptions
waivers:
  - policy: no-latest-tag
    match:
      kinds: [Deployment]
      namespaces: [payments]
      names: [legacy-*]
      paths: [apps/legacy/**]
      environments: [prod]
    reason: "  Vendor image has no versioned tags until Q1 "
    ticket: CHG-1234
    approved_by: jane.doe@example.com
    expires: 2027-03-31
  - reason: no limits for the batch job
    policy: resource-limits
    approved_by: ops@example.com
    expires: 2026-06-15
"""


def write(tmp_path: Path, text: str, name: str = NAME) -> str:
    path = tmp_path / name
    path.write_text(dedent(text), encoding="utf-8")
    return str(path)


def load(tmp_path: Path, text: str) -> list[Waiver]:
    return load_waivers(write(tmp_path, text), NAME)


def waiver(policy: str = "p", *, expires: date = date(2026, 12, 31), line: int = 2,
           **selectors: tuple[str, ...]) -> Waiver:
    return Waiver(
        policy=policy,
        kinds=selectors.get("kinds"),
        namespaces=selectors.get("namespaces"),
        names=selectors.get("names"),
        paths=selectors.get("paths"),
        environments=selectors.get("environments"),
        reason=f"reason of line {line}",
        ticket=None,
        approved_by="jane.doe@example.com",
        expires=expires,
        file=NAME,
        line=line,
    )


def result(policy: str = "p", *, status: str = FAIL, kind: str = "Deployment",
           name: str = "web", namespace: str = "prod", file: str = "apps/web.yaml",
           environment: str = "prod", rendered_by: str = "", finding_file: str | None = None,
           api_version: str = "apps/v1", message: str = "bad") -> Result:
    resource = ResourceRef(api_version, kind, name, namespace, file, 3,
                           environment=environment, rendered_by=rendered_by)
    return Result(make_policy(policy), resource, status, message, file=finding_file)


def change_result(policy: str = "p", environment: str = "prod",
                  finding_file: str | None = None) -> Result:
    return Result(make_policy(policy), change_ref(environment), FAIL, "frozen",
                  file=finding_file, line=7 if finding_file else None)


# -- loading ---------------------------------------------------------------------------


def test_a_valid_file_loads_every_key(tmp_path: Path) -> None:
    first, second = load(tmp_path, VALID)
    assert first == Waiver(
        policy="no-latest-tag", kinds=("Deployment",), namespaces=("payments",),
        names=("legacy-*",), paths=("apps/legacy/**",), environments=("prod",),
        reason="Vendor image has no versioned tags until Q1", ticket="CHG-1234",
        approved_by="jane.doe@example.com", expires=date(2027, 3, 31), file=NAME, line=3,
    )
    assert first.source == "waivers.yaml:3"
    assert first.policy_line == 3
    assert (second.policy, second.ticket, second.line, second.policy_line) == (
        "resource-limits", None, 14, 15)
    assert (second.kinds, second.namespaces, second.names, second.paths,
            second.environments) == (None, None, None, None, None)
    assert first.ref() == WaiverRef("waivers.yaml:3", first.reason, "CHG-1234",
                                    "jane.doe@example.com", "2027-03-31")


def test_the_display_name_defaults_to_the_path_as_given(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, VALID, "exceptions.yaml")
    monkeypatch.chdir(tmp_path)
    assert load_waivers("exceptions.yaml")[0].source == "exceptions.yaml:3"
    assert load_waivers(str(tmp_path / "exceptions.yaml"), "x/w.yaml")[0].source == "x/w.yaml:3"


def test_the_documented_example_loads(tmp_path: Path) -> None:
    doc = DOC.read_text(encoding="utf-8")
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    [documented] = load(tmp_path, example)
    [first, _] = load(tmp_path, VALID)
    assert replace(documented, line=first.line) == first


@pytest.mark.parametrize("text", [
    "",
    "# nothing waived yet\n",
    "---\n",
    "waivers: []\n",
    "waivers:\n",
    "{}\n",
], ids=["empty", "comment", "empty-document", "empty-list", "null", "empty-mapping"])
def test_no_waivers(tmp_path: Path, text: str) -> None:
    assert load(tmp_path, text) == []


ENTRY = """\
waivers:
  - policy: no-latest-tag
    reason: vendor image
    approved_by: jane.doe@example.com
    expires: 2027-03-31
"""


def edit(old: str, new: str) -> str:
    assert old in ENTRY
    return ENTRY.replace(old, new)


BAD_FILES = [
    # (id, text, line, words in the message)
    ("missing-expires", edit("    expires: 2027-03-31\n", ""), 2, ["'expires'", "required"]),
    ("missing-approved-by", edit("    approved_by: jane.doe@example.com\n", ""), 2,
     ["'approved_by'", "required"]),
    ("missing-reason", edit("    reason: vendor image\n", ""), 2, ["'reason'", "required"]),
    ("missing-policy", edit("  - policy: no-latest-tag\n    reason", "  - reason"), 2,
     ["'policy'", "required"]),
    ("empty-reason", edit("reason: vendor image", 'reason: ""'), 3, ["waivers[0].reason"]),
    ("blank-reason", edit("reason: vendor image", 'reason: "   "'), 3, ["waivers[0].reason"]),
    ("empty-approver", edit("approved_by: jane.doe@example.com", "approved_by: ''"), 4,
     ["waivers[0].approved_by"]),
    ("blank-ticket", ENTRY + "    ticket: ' '\n", 6, ["waivers[0].ticket"]),
    ("unknown-key", edit("    reason:", "    approver: bob\n    reason:"), 3,
     ["approver", "not allowed"]),
    ("unknown-selector", ENTRY + "    match:\n      kinds: [Pod]\n      labels: [a]\n", 8,
     ["labels", "not allowed"]),
    ("unknown-top-level-key", ENTRY + "version: 2\n", 6, ["version", "not allowed"]),
    ("selector-not-a-list", ENTRY + "    match:\n      names: legacy-*\n", 7,
     ["waivers[0].match.names", "not of type 'array'"]),
    ("selector-empty-list", ENTRY + "    match:\n      names: []\n", 7,
     ["waivers[0].match.names"]),
    ("match-not-a-mapping", ENTRY + "    match: [prod]\n", 6, ["waivers[0].match"]),
    ("date-format", edit("2027-03-31", "31/03/2027"), 5, ["waivers[0].expires", "31/03/2027"]),
    ("date-short", edit("2027-03-31", "2027-3-31"), 5, ["waivers[0].expires"]),
    ("date-with-time", edit("2027-03-31", "2027-03-31T00:00:00Z"), 5, ["waivers[0].expires"]),
    ("date-number", edit("2027-03-31", "20270331"), 5, ["waivers[0].expires", "'string'"]),
    ("impossible-date", edit("2027-03-31", "2027-02-30"), 5,
     ["waivers[0].expires", "'2027-02-30' is not a calendar date"]),
    ("month-13", edit("2027-03-31", "2027-13-01"), 5, ["not a calendar date"]),
    ("policy-not-a-string", edit("policy: no-latest-tag", "policy: 42"), 2,
     ["waivers[0].policy", "'string'"]),
    ("waivers-not-a-list", "waivers:\n  policy: no-latest-tag\n", 1,
     ["waivers", "not of type 'array', 'null'"]),
    ("entry-not-a-mapping", "waivers:\n  - no-latest-tag\n", 2,
     ["waivers[0]", "not of type 'object'"]),
    ("file-is-a-list", "- policy: no-latest-tag\n", 1, ["mapping", "not a list"]),
    ("file-is-a-string", "no-latest-tag\n", 1, ["mapping", "not a str"]),
    ("two-documents", ENTRY + "---\nwaivers: []\n", 7, ["one YAML document"]),
    ("yaml-syntax", edit("reason: vendor image", "reason: [vendor image"), 4,
     ["invalid YAML"]),
    ("duplicate-key", edit("    expires: 2027-03-31\n",
                           "    expires: 2027-03-31\n    reason: again\n"), 6,
     ["duplicate key 'reason'", "line 3"]),
    ("second-entry", ENTRY + "  - policy: image-digest\n    reason: r\n    approved_by: a\n",
     6, ["waivers[1]", "'expires'"]),
    ("after-an-empty-document", "---\n---\n" + edit("2027-03-31", "2027-02-30"), 7,
     ["not a calendar date"]),
]


@pytest.mark.parametrize(("text", "line", "words"), [case[1:] for case in BAD_FILES],
                         ids=[case[0] for case in BAD_FILES])
def test_a_bad_file_is_a_config_error_at_its_line(tmp_path: Path, text: str, line: int,
                                                  words: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    error = caught.value
    assert (error.file, error.line) == (NAME, line), str(error)
    for word in words:
        assert word in error.message, error.message
    assert str(error).startswith(f"{NAME}:{line}: ")


@pytest.mark.parametrize(("raw", "line", "words"), [
    (b"waivers:\n  - policy: \x00\n", 2, ["binary content"]),
    (b"waivers: []\n# caf\xe9\n", 2, ["not valid UTF-8"]),
], ids=["binary", "not-utf8"])
def test_an_unreadable_file_is_a_config_error(tmp_path: Path, raw: bytes, line: int,
                                              words: list[str]) -> None:
    path = tmp_path / NAME
    path.write_bytes(raw)
    with pytest.raises(ConfigError) as caught:
        load_waivers(str(path), NAME)
    assert (caught.value.file, caught.value.line) == (NAME, line)
    for word in words:
        assert word in caught.value.message


@pytest.mark.parametrize("make", [lambda p: p / "missing.yaml", lambda p: p],
                         ids=["missing", "directory"])
def test_a_missing_file_is_a_config_error(tmp_path: Path, make: Any) -> None:
    with pytest.raises(ConfigError, match="not found") as caught:
        load_waivers(str(make(tmp_path)), NAME)
    assert (caught.value.file, caught.value.line) == (NAME, None)


def test_check_policies_blames_the_policy_line_and_lists_known_ids(tmp_path: Path) -> None:
    waivers = load(tmp_path, VALID)
    check_policies(waivers, {"no-latest-tag", "resource-limits"})
    with pytest.raises(ConfigError) as caught:
        check_policies(waivers, {"no-latest-tag", "image-digest"})
    error = caught.value
    assert (error.file, error.line) == (NAME, 15)  # the `policy:` line, not the entry's (14)
    assert "'resource-limits'" in error.message
    assert "image-digest, no-latest-tag" in error.message
    with pytest.raises(ConfigError, match="none loaded"):
        check_policies(waivers, set())


def test_check_policies_is_exact(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'no-latest-tag'"):
        check_policies(load(tmp_path, ENTRY), {"no-latest-tag-v2", "No-Latest-Tag"})


# -- the schema ------------------------------------------------------------------------


def _properties(schema: Any, where: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every (path, subschema) declared under a ``properties`` keyword."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(schema, dict):
        for name, sub in schema.get("properties", {}).items():
            found.append((f"{where}.{name}", sub))
        for key, sub in schema.items():
            found.extend(_properties(sub, f"{where}/{key}"))
    elif isinstance(schema, list):
        for sub in schema:
            found.extend(_properties(sub, where))
    return found


def test_the_schema_is_valid_draft_2020_12_and_documented() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    properties = _properties(schema)
    assert len(properties) >= 11
    for where, sub in properties:
        assert sub.get("description"), f"{where} has no description"
    objects = [schema, schema["$defs"]["waiver"],
               schema["$defs"]["waiver"]["properties"]["match"]]
    assert all(sub["additionalProperties"] is False for sub in objects)


# -- matching --------------------------------------------------------------------------

SELECTOR_CASES = [
    # (selectors, result keyword arguments, matches)
    ({}, {}, True),
    ({"kinds": ("Deployment",)}, {}, True),
    ({"kinds": ("StatefulSet", "Deploy*")}, {}, True),
    ({"kinds": ("StatefulSet",)}, {}, False),
    ({"kinds": ("deployment",)}, {}, False),  # globs are case-sensitive
    ({"kinds": ("apps/v1/Deployment",)}, {}, True),
    ({"kinds": ("apps/*/Deployment",)}, {}, True),
    ({"kinds": ("batch/v1/Deployment",)}, {}, False),
    ({"namespaces": ("prod",)}, {}, True),
    ({"namespaces": ("pay*",)}, {"namespace": "payments"}, True),
    ({"namespaces": ("payments",)}, {}, False),
    ({"namespaces": ("*",)}, {"namespace": ""}, True),
    ({"names": ("legacy-*",)}, {"name": "legacy-billing"}, True),
    ({"names": ("legacy-*",)}, {"name": "billing"}, False),
    ({"names": ("web", "api")}, {"name": "api"}, True),
    ({"environments": ("prod",)}, {}, True),
    ({"environments": ("prod",)}, {"environment": "staging"}, False),
    ({"environments": ("prod",)}, {"environment": ""}, False),
    ({"environments": ("prod-*",)}, {"environment": "prod-eu"}, True),
    ({"kinds": ("Deployment",), "names": ("web",), "namespaces": ("prod",),
      "environments": ("prod",), "paths": ("apps/**",)}, {}, True),
    ({"kinds": ("Deployment",), "names": ("api",)}, {}, False),  # every selector must match
]


@pytest.mark.parametrize(("selectors", "fields", "expected"), SELECTOR_CASES)
def test_each_selector(selectors: dict[str, tuple[str, ...]], fields: dict[str, str],
                       expected: bool) -> None:
    assert waiver(**selectors).matches(result(**fields)) is expected  # type: ignore[arg-type]


def test_the_policy_id_must_be_equal() -> None:
    assert waiver("no-latest-tag").matches(result("no-latest-tag"))
    assert not waiver("no-latest-tag").matches(result("image-digest"))
    assert not waiver("no-latest-*").matches(result("no-latest-tag"))  # an id, not a glob


PATH_CASES = [
    # (pattern, result keyword arguments, matches)
    ("apps/legacy/**", {"file": "apps/legacy/deploy.yaml"}, True),
    ("apps/legacy/**", {"file": "apps/legacy/billing/v1/deploy.yaml"}, True),
    ("apps/legacy/**", {"file": "apps/legacyx/deploy.yaml"}, False),
    ("apps/legacy/*", {"file": "apps/legacy/billing/deploy.yaml"}, False),  # * stays in one
    ("apps/legacy/*.yaml", {"file": "apps/legacy/deploy.yaml"}, True),
    ("**/deploy.yaml", {"file": "deploy.yaml"}, True),
    ("**/deploy.yaml", {"file": "a/b/deploy.yaml"}, True),
    ("./apps/web.yaml", {"file": "apps/web.yaml"}, True),
    ("apps/web.yaml", {"file": "./apps/web.yaml"}, True),
    ("apps/web.y?ml", {"file": "apps/web.yaml"}, True),
    ("apps/web.yaml", {"file": "apps/web.yaml.bak"}, False),
    # a base rendered by an overlay: the overlay directory names it too
    ("overlays/prod", {"file": "base/deploy.yaml", "rendered_by": "overlays/prod"}, True),
    ("overlays/prod/**", {"file": "base/deploy.yaml", "rendered_by": "overlays/prod"}, True),
    ("overlays/*", {"file": "base/deploy.yaml", "rendered_by": "overlays/prod"}, True),
    ("**/prod/**", {"file": "base/deploy.yaml", "rendered_by": "clusters/eu/prod"}, True),
    ("base/**", {"file": "base/deploy.yaml", "rendered_by": "overlays/prod"}, True),
    ("overlays/prod/**", {"file": "base/deploy.yaml"}, False),
    ("overlays/staging/**", {"file": "base/deploy.yaml", "rendered_by": "overlays/prod"}, False),
    # where the offending value was set (an overlay's patch, a values file)
    ("overlays/prod/patch.yaml", {"file": "base/deploy.yaml", "rendered_by": "overlays/prod",
                                  "finding_file": "overlays/prod/patch.yaml"}, True),
    ("charts/**/values-prod.yaml", {"file": "charts/web/values-prod.yaml",
                                    "finding_file": "charts/web/values-prod.yaml"}, True),
]


@pytest.mark.parametrize(("pattern", "fields", "expected"), PATH_CASES)
def test_path_globs(pattern: str, fields: dict[str, str], expected: bool) -> None:
    assert waiver(paths=(pattern,)).matches(result(**fields)) is expected


CHANGE_CASES = [
    ({}, {}, True),
    ({"environments": ("prod",)}, {}, True),
    ({"environments": ("staging",)}, {}, False),
    ({"environments": ("*",)}, {"environment": ""}, True),
    ({"kinds": ("Change",)}, {}, False),
    ({"kinds": ("*",)}, {}, False),
    ({"names": ("*",)}, {}, False),
    ({"namespaces": ("*",)}, {}, False),
    ({"paths": ("overlays/prod/**",)}, {"finding_file": "overlays/prod/kustomization.yaml"},
     True),
    ({"paths": ("overlays/prod/**",)}, {"finding_file": "overlays/dev/kustomization.yaml"},
     False),
    ({"paths": ("**",)}, {}, False),  # a change finding without a file has no path
]


@pytest.mark.parametrize(("selectors", "fields", "expected"), CHANGE_CASES)
def test_change_results(selectors: dict[str, tuple[str, ...]], fields: dict[str, str],
                        expected: bool) -> None:
    subject = change_result(**fields)
    assert subject.resource.is_change
    assert (subject.resource.kind, subject.resource.api_version) == (CHANGE_KIND,
                                                                     CHANGE_API_VERSION)
    assert waiver(**selectors).matches(subject) is expected  # type: ignore[arg-type]


# -- applying --------------------------------------------------------------------------


def test_expiry_is_inclusive_of_the_last_day() -> None:
    last_day = waiver(expires=TODAY)
    assert not last_day.expired(TODAY)
    assert last_day.expired(date(2026, 6, 16))
    [waived], [use] = apply_waivers([result()], [last_day], TODAY, complete=True)
    assert waived.status == WAIVED
    assert waived.waiver == last_day.ref()
    assert (use.state, use.matched) == (ACTIVE, 1)
    [kept], [use] = apply_waivers([result()], [last_day], date(2026, 6, 16), complete=True)
    assert kept.status == FAIL
    assert kept.waiver is None
    assert kept.message == "bad (waiver waivers.yaml:2 expired on 2026-06-15)"
    assert (use.state, use.matched) == (EXPIRED, 1)


def test_a_waived_result_is_otherwise_unchanged() -> None:
    original = result(status=WARN, finding_file="apps/patch.yaml")
    cover = waiver()
    [waived], _ = apply_waivers([original], [cover], TODAY, complete=False)
    assert waived == replace(original, status=WAIVED, waiver=cover.ref())


@pytest.mark.parametrize("status", [PASS, SKIP, WAIVED, OVERRIDDEN])
def test_only_failures_and_warnings_are_waived(status: str) -> None:
    unchanged = result(status=status)
    out, uses = apply_waivers([unchanged], [waiver()], TODAY, complete=True)
    assert out == [unchanged]
    assert [(u.state, u.matched) for u in uses] == [(STALE, 0)]
    out, uses = apply_waivers([unchanged], [waiver(expires=date(2020, 1, 1))], TODAY,
                              complete=True)
    assert out == [unchanged]
    assert [(u.state, u.matched) for u in uses] == [(EXPIRED, 0)]


def test_first_active_match_wins_and_order_is_kept() -> None:
    old = waiver(expires=date(2026, 1, 1), line=2)
    broad = waiver(line=8)
    narrow = waiver(names=("api",), line=14)
    results = [result(name="web"), result("other", name="web"), result(name="api"),
               result(name="db", status=PASS)]
    out, uses = apply_waivers(results, [old, broad, narrow], TODAY, complete=True)
    assert [r.resource.name for r in out] == ["web", "web", "api", "db"]
    assert [r.status for r in out] == [WAIVED, FAIL, WAIVED, PASS]
    assert [r.waiver.source if r.waiver else None for r in out] == [
        "waivers.yaml:8", None, "waivers.yaml:8", None]
    assert "expired" not in out[0].message  # an active waiver covers it: no expiry note
    assert [(u.source, u.state, u.matched) for u in uses] == [
        ("waivers.yaml:2", EXPIRED, 0),
        ("waivers.yaml:8", ACTIVE, 2),
        ("waivers.yaml:14", STALE, 0),
    ]


def test_the_first_expired_match_is_named() -> None:
    first = waiver(expires=date(2026, 1, 1), line=2)
    second = waiver(expires=date(2026, 2, 1), line=8)
    out, uses = apply_waivers([result(), result()], [first, second], TODAY, complete=False)
    assert [r.message for r in out] == ["bad (waiver waivers.yaml:2 expired on 2026-01-01)"] * 2
    assert [(u.source, u.state, u.matched) for u in uses] == [
        ("waivers.yaml:2", EXPIRED, 2), ("waivers.yaml:8", EXPIRED, 0)]


@pytest.mark.parametrize(("complete", "states"), [
    (True, [(EXPIRED, 1), (ACTIVE, 1), (STALE, 0)]),
    (False, [(EXPIRED, 1), (ACTIVE, 1)]),
])
def test_stale_only_when_the_check_is_complete(complete: bool,
                                               states: list[tuple[str, int]]) -> None:
    waivers = [waiver("expired", expires=date(2025, 12, 31), line=2),
               waiver("used", line=8), waiver("unused", line=14)]
    results = [result("expired"), result("used", status=WARN)]
    _, uses = apply_waivers(results, waivers, TODAY, complete=complete)
    assert [(u.state, u.matched) for u in uses] == states


def test_a_use_records_the_waiver() -> None:
    cover = replace(waiver("no-latest-tag", line=5), ticket="CHG-1")
    _, [use] = apply_waivers([result("no-latest-tag")], [cover], TODAY, complete=True)
    assert use == WaiverUse("waivers.yaml:5", "no-latest-tag", "reason of line 5", "CHG-1",
                            "jane.doe@example.com", "2026-12-31", ACTIVE, 1)


def test_waivers_from_a_file_apply(tmp_path: Path) -> None:
    waivers = load(tmp_path, VALID)
    covered = result("no-latest-tag", namespace="payments", name="legacy-billing",
                     file="apps/legacy/billing.yaml")
    other = result("no-latest-tag", namespace="payments", name="billing",
                   file="apps/legacy/billing.yaml")
    out, uses = apply_waivers([covered, other, result("resource-limits")], waivers,
                              date(2026, 6, 16), complete=True)
    assert [r.status for r in out] == [WAIVED, FAIL, FAIL]
    assert out[0].waiver == WaiverRef("waivers.yaml:3", "Vendor image has no versioned tags "
                                      "until Q1", "CHG-1234", "jane.doe@example.com",
                                      "2027-03-31")
    assert out[2].message == "bad (waiver waivers.yaml:14 expired on 2026-06-15)"
    assert [(u.source, u.state, u.matched) for u in uses] == [
        ("waivers.yaml:14", EXPIRED, 1), ("waivers.yaml:3", ACTIVE, 1)]


def test_no_waivers_change_nothing() -> None:
    results = [result(), result(status=WARN)]
    assert apply_waivers(results, [], TODAY, complete=True) == (results, [])


# -- inline waivers --------------------------------------------------------------------

KEY = f"{INLINE_PREFIX}no-latest-tag"


@pytest.mark.parametrize(("obj", "expected"), [
    ({"metadata": {"annotations": {KEY: "vendor operator pins it"}}}, "vendor operator pins it"),
    ({"metadata": {"annotations": {KEY: "  padded\n"}}}, "padded"),
    ({"metadata": {"annotations": {KEY: ""}}}, None),
    ({"metadata": {"annotations": {KEY: "   "}}}, None),
    ({"metadata": {"annotations": {KEY: True}}}, None),
    ({"metadata": {"annotations": {KEY: 3}}}, None),
    ({"metadata": {"annotations": {KEY: ["a"]}}}, None),
    ({"metadata": {"annotations": {KEY: None}}}, None),
    ({"metadata": {"annotations": {f"{INLINE_PREFIX}image-digest": "other policy"}}}, None),
    ({"metadata": {"annotations": {"gate.dev/waive": "no policy"}}}, None),
    ({"metadata": {"annotations": {1: "x", None: "y"}}}, None),
    ({"metadata": {"annotations": None}}, None),
    ({"metadata": {"annotations": [KEY]}}, None),
    ({"metadata": {"annotations": f"{KEY}: x"}}, None),
    ({"metadata": {"labels": {KEY: "a label is no waiver"}}}, None),
    ({"metadata": None}, None),
    ({"metadata": "x"}, None),
    ({"metadata": [{"annotations": {KEY: "x"}}]}, None),
    ({"annotations": {KEY: "not under metadata"}}, None),
    ({}, None),
    (None, None),
    ("metadata", None),
    (["metadata"], None),
    (42, None),
])
def test_inline_reason(obj: Any, expected: str | None) -> None:
    assert inline_reason(obj, "no-latest-tag") == expected
