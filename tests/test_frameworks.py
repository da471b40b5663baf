"""Compliance frameworks: the registry, the controls of the built-in pack, the per-control
tables grouped by framework (JSON and Markdown), and ``gate policies --framework``."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gate.evaluation.policy_loading import load_builtin
from gate.governance.frameworks import (
    CIS_KUBERNETES,
    FRAMEWORKS,
    ITIL,
    NIST_800_53,
    NSA_CISA,
    OTHER,
    PCI_DSS,
    SOC2,
    builtin_control_errors,
    control_title,
    find,
    framework_of,
    is_known,
    natural_key,
    sort_key,
    split,
)
from gate.reports import RenderOptions, markdown_comment
from gate.reports import json as json_report
from gate.reports import markdown as markdown_report
from gate.reports.audit import NO_CONTROL, controls, frameworks
from gate.results import BASELINED, FAIL, OVERRIDDEN, PASS, SKIP, WAIVED, WARN, Report
from tests.conftest import RunGate
from tests.report_factory import make_audit, make_policy, make_report, make_result
from tests.test_reports_markdown import assert_tables_intact

# -- the registry --------------------------------------------------------------------

#: The shape of a control id within each framework.
CONTROL_SHAPES = {
    CIS_KUBERNETES.key: r"5(\.\d+){2}",
    NIST_800_53.key: r"[A-Z]{2}-\d+",
    PCI_DSS.key: r"\d+(\.\d+){2}",
    NSA_CISA.key: r"[a-z]+(-[a-z]+)*",
    SOC2.key: r"(CC\d|A1)\.\d+",
    ITIL.key: r"[a-z]+(-[a-z]+)*",
}


def test_frameworks_have_unique_keys_and_aliases_and_say_where_they_are_published() -> None:
    assert len({f.key.casefold() for f in FRAMEWORKS}) == len(FRAMEWORKS)
    assert len({f.alias for f in FRAMEWORKS}) == len(FRAMEWORKS)
    assert [f.alias for f in FRAMEWORKS] == ["cis", "nist", "pci", "nsa", "soc2", "itil"]
    for framework in FRAMEWORKS:
        assert ":" not in framework.key and framework.key.strip() == framework.key
        assert framework.title and framework.version and framework.publisher
        assert framework.url.startswith("https://")
        assert framework.controls, framework.key


@pytest.mark.parametrize("framework", FRAMEWORKS, ids=lambda f: f.key)
def test_control_ids_and_titles_are_well_formed(framework: Any) -> None:
    for control, title in framework.controls.items():
        assert re.fullmatch(CONTROL_SHAPES[framework.key], control), control
        if title is not None:  # a title is the publisher's wording, on one line
            assert title.strip() == title and "\n" not in title and len(title) <= 300


def test_the_control_ids_the_issue_names_are_registered() -> None:
    expected = {
        CIS_KUBERNETES: "5.1.1 5.1.3 5.1.5 5.1.6 5.2.2 5.2.3 5.2.4 5.2.5 5.2.6 5.2.7 5.2.8 "
                        "5.2.9 5.2.10 5.2.11 5.2.12 5.2.13 5.4.1 5.5.1 5.7.2 5.7.3 5.7.4",
        NIST_800_53: "AC-2 AC-3 AC-4 AC-6 CM-2 CM-3 CM-4 CM-5 CM-6 CM-7 CM-8 CP-10 IA-5 SC-4 "
                     "SC-5 SC-6 SC-7 SC-28 SI-7 SI-17 SR-3",
        PCI_DSS: "1.2.5 1.3.1 2.2.6 6.3.2 6.5.1 7.2.2 8.3.2 12.5.1",
        NSA_CISA: "pod-security non-root-containers immutable-filesystems image-security "
                  "container-hardening service-account-tokens network-separation namespaces "
                  "secrets rbac resource-policies",
        SOC2: "A1.1 CC6.1 CC8.1",
    }
    for framework, ids in expected.items():
        assert set(framework.controls) >= set(ids.split()), framework.key
    # every CIS, NIST, PCI and NSA/CISA control has its title; ITIL numbers no controls
    for framework in (CIS_KUBERNETES, NIST_800_53, PCI_DSS, NSA_CISA, SOC2):
        assert all(framework.controls.values()), framework.key
    assert set(ITIL.controls.values()) == {None}


def test_some_titles_as_published() -> None:
    assert control_title("CIS-Kubernetes:5.2.10") == (
        "Minimize the admission of containers with capabilities assigned")
    assert control_title("NIST-800-53:AC-6") == "Least Privilege"
    assert control_title("NIST-800-53:SC-6") == "Resource Availability"
    assert control_title("PCI-DSS:2.2.6") == (
        "System security parameters are configured to prevent misuse.")
    assert control_title("NSA-CISA:service-account-tokens") == (
        "Protecting Pod service account tokens")
    assert control_title("ITIL:change-record") is None
    assert control_title("ISO27001:A.12.1.2") is None
    assert control_title("NIST-800-53:ZZ-99") is None


def test_framework_of_splits_on_the_first_colon_and_ignores_the_prefixs_case() -> None:
    assert framework_of("CIS-Kubernetes:5.2.2") is CIS_KUBERNETES
    assert framework_of("nist-800-53:AC-6") is NIST_800_53
    assert framework_of("SOC2:CC8.1") is SOC2
    assert framework_of("NSA-CISA:pod-security") is NSA_CISA
    assert framework_of("ISO27001:A.12.1.2") is None
    assert framework_of("NIST-AC-6") is None  # no colon: a free-form id
    assert framework_of(":AC-6") is None and framework_of("NIST-800-53:") is None
    assert split("PCI-DSS:6.5.1") == ("PCI-DSS", "6.5.1")
    assert split("a:b:c") == ("a", "b:c")
    assert split("nothing") is None


def test_is_known_wants_the_registered_spelling() -> None:
    assert is_known("CIS-Kubernetes:5.2.2")
    assert not is_known("cis-kubernetes:5.2.2")
    assert not is_known("CIS-Kubernetes:5.2.1")  # real, but no built-in policy maps to it
    assert not is_known("ISO27001:A.5.1")


@pytest.mark.parametrize(("name", "key"), [
    ("cis", "CIS-Kubernetes"), ("CIS", "CIS-Kubernetes"), ("cis-kubernetes", "CIS-Kubernetes"),
    ("nist", "NIST-800-53"), ("NIST-800-53", "NIST-800-53"), ("pci", "PCI-DSS"),
    ("pci-dss", "PCI-DSS"), ("nsa", "NSA-CISA"), ("NSA-cisa", "NSA-CISA"), ("soc2", "SOC2"),
    ("itil", "ITIL"), (" Soc2 ", "SOC2"),
])
def test_find_takes_an_alias_or_a_prefix_in_any_case(name: str, key: str) -> None:
    framework = find(name)
    assert framework is not None and framework.key == key


@pytest.mark.parametrize("name", ["", "iso27001", "cis-kubernetes:5.2.2", "other", "nist-800"])
def test_find_knows_nothing_else(name: str) -> None:
    assert find(name) is None


def test_docs_list_every_framework_and_nsa_section(repo_root: Path) -> None:
    text = (repo_root / "docs" / "frameworks.md").read_text(encoding="utf-8")
    for framework in FRAMEWORKS:
        assert f"| `{framework.key}` | `{framework.alias}` |" in text, framework.key
        assert framework.url in text
    for slug, heading in NSA_CISA.controls.items():
        assert f"| `{slug}` | {heading} |" in text, slug


# -- natural order -------------------------------------------------------------------


def test_natural_order_puts_numbers_in_numeric_order() -> None:
    ids = ["5.2.10", "5.2.9", "5.10.1", "5.2.1", "5.1.13", "5.7.4", "5.2.13"]
    assert sorted(ids, key=natural_key) == [
        "5.1.13", "5.2.1", "5.2.9", "5.2.10", "5.2.13", "5.7.4", "5.10.1"]
    assert sorted(["SC-28", "AC-6", "SC-4", "AC-10", "AC-2", "SI-17", "SI-7"],
                  key=natural_key) == ["AC-2", "AC-6", "AC-10", "SC-4", "SC-28", "SI-7",
                                       "SI-17"]
    assert sorted(["12.5.1", "6.5.1", "1.3.1", "1.2.5"], key=natural_key) == [
        "1.2.5", "1.3.1", "6.5.1", "12.5.1"]
    # a total order: case and text break ties deterministically
    assert sorted(["cc8.1", "CC8.1", "CC6.1"], key=natural_key) == ["CC6.1", "CC8.1", "cc8.1"]


def test_sort_key_orders_by_framework_then_control() -> None:
    ids = ["ISO27001:A.12.1.2", "SOC2:CC8.1", "NSA-CISA:rbac", "PCI-DSS:12.5.1",
           "NIST-800-53:AC-10", "CIS-Kubernetes:5.2.10", "NIST-800-53:AC-2",
           "CIS-Kubernetes:5.2.9", "PCI-DSS:2.2.6", "ITIL:change-record", "ACME:7"]
    assert sorted(ids, key=sort_key) == [
        "CIS-Kubernetes:5.2.9", "CIS-Kubernetes:5.2.10", "NIST-800-53:AC-2",
        "NIST-800-53:AC-10", "PCI-DSS:2.2.6", "PCI-DSS:12.5.1", "NSA-CISA:rbac",
        "SOC2:CC8.1", "ITIL:change-record", "ACME:7", "ISO27001:A.12.1.2"]


# -- built-in policies ---------------------------------------------------------------


def test_every_control_of_every_builtin_policy_is_registered() -> None:
    """A built-in policy may only name a registered framework and control (add the
    control, with its title as published, to gate/governance/frameworks.py)."""
    policies = [policy.info for policy in load_builtin()]
    assert policies
    assert builtin_control_errors(policies) == []


def test_every_builtin_policy_maps_to_a_control() -> None:
    for policy in load_builtin():
        assert policy.info.controls, policy.id


def test_every_registered_control_is_cited_by_a_builtin_policy() -> None:
    """The registry is not a catalogue: a control no built-in policy cites is dead
    weight (drop it, or map a policy to it)."""
    cited = {control for policy in load_builtin() for control in policy.info.controls}
    registered = {framework.control_id(control) for framework in FRAMEWORKS
                  for control in framework.controls}
    assert sorted(registered - cited, key=sort_key) == []


def test_the_existing_pack_is_mapped_beyond_soc2() -> None:
    by_id = {policy.id: set(policy.info.controls) for policy in load_builtin()}
    assert {"NIST-800-53:CM-3", "PCI-DSS:6.5.1"} <= by_id["change-ticket"]
    assert {"NIST-800-53:CM-3", "PCI-DSS:6.5.1"} <= by_id["release-window"]
    assert {"NIST-800-53:CM-3", "NIST-800-53:CM-4", "PCI-DSS:6.5.1"} <= by_id[
        "promotion-certified"]
    for image_policy in ("no-latest-tag", "image-digest", "helm-values-image-tag"):
        assert {"NIST-800-53:CM-2", "PCI-DSS:6.3.2"} <= by_id[image_policy]
    assert {"NIST-800-53:SC-6", "NSA-CISA:resource-policies"} <= by_id["resource-limits"]
    assert {"NIST-800-53:CM-8", "PCI-DSS:12.5.1"} <= by_id["required-labels"]


@dataclass
class _Policy:
    id: str
    controls: tuple[str, ...]


def test_builtin_control_errors_name_each_problem() -> None:
    errors = builtin_control_errors([
        _Policy("fine", ("CIS-Kubernetes:5.2.2", "SOC2:CC8.1")),
        _Policy("free-form", ("ISO27001:A.5.1", "no-prefix")),
        _Policy("misspelt", ("nist-800-53:AC-6",)),
        _Policy("unregistered", ("CIS-Kubernetes:5.2.1",)),
    ])
    assert errors == [
        "free-form: control 'ISO27001:A.5.1' names no known framework (known: CIS-Kubernetes, "
        "NIST-800-53, PCI-DSS, NSA-CISA, SOC2, ITIL)",
        "free-form: control 'no-prefix' names no known framework (known: CIS-Kubernetes, "
        "NIST-800-53, PCI-DSS, NSA-CISA, SOC2, ITIL)",
        "misspelt: control 'nist-800-53:AC-6': write the framework as 'NIST-800-53'",
        "unregistered: control 'CIS-Kubernetes:5.2.1' is not in the registry of CIS "
        "Kubernetes Benchmark v1.9.0 (gate/governance/frameworks.py)",
    ]


def test_user_policies_load_with_any_control_ids(tmp_path: Path, gate_cli: RunGate) -> None:
    write_user_policies(tmp_path)
    proc = gate_cli("policies", "--no-builtin", "--policies", "mine", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "user-free-form" in proc.stdout


# -- grouping in reports -------------------------------------------------------------

CIS_POLICY = make_policy("pss-privileged", controls=(
    "CIS-Kubernetes:5.2.2", "NIST-800-53:AC-6", "PCI-DSS:2.2.6", "NSA-CISA:pod-security"))
CAPS_POLICY = make_policy("pss-capabilities", controls=(
    "CIS-Kubernetes:5.2.10", "CIS-Kubernetes:5.2.9", "NIST-800-53:AC-6"))
USER_POLICY = make_policy("user-policy", controls=(
    "ISO27001:A.8.9", "nist-800-53:AC-10", "CIS-Kubernetes:5.1.8", "ISO27001:A.12.1.2"))
BARE_POLICY = make_policy("bare")


def grouped_report() -> Report:
    results = [
        make_result(CIS_POLICY, status=FAIL, name="a"),
        make_result(CIS_POLICY, status=PASS, name="b"),
        make_result(CAPS_POLICY, status=WARN, name="a"),
        make_result(CAPS_POLICY, status=WAIVED, name="b"),
        make_result(USER_POLICY, status=OVERRIDDEN, name="a"),
        make_result(BARE_POLICY, status=SKIP, name="a"),
    ]
    return make_report(results, audit=make_audit())


def test_frameworks_group_the_control_rows_in_order() -> None:
    groups = frameworks(grouped_report())
    assert [group.id for group in groups] == ["CIS-Kubernetes", "NIST-800-53", "PCI-DSS",
                                              "NSA-CISA", OTHER]
    table = {group.id: [(group.local_id(row), row.policies) for row in group.rows]
             for group in groups}
    assert table == {
        "CIS-Kubernetes": [("5.1.8", ["user-policy"]), ("5.2.2", ["pss-privileged"]),
                           ("5.2.9", ["pss-capabilities"]), ("5.2.10", ["pss-capabilities"])],
        "NIST-800-53": [("AC-6", ["pss-capabilities", "pss-privileged"]),
                        ("AC-10", ["user-policy"])],  # the prefix in any case
        "PCI-DSS": [("2.2.6", ["pss-privileged"])],
        "NSA-CISA": [("pod-security", ["pss-privileged"])],
        OTHER: [("ISO27001:A.8.9", ["user-policy"]), ("ISO27001:A.12.1.2", ["user-policy"]),
                (NO_CONTROL, ["bare"])],
    }
    cis = groups[0]
    assert cis.name == "CIS Kubernetes Benchmark v1.9.0"
    assert [cis.title_of(row) for row in cis.rows][:2] == [
        None,  # 5.1.8 is a real control no built-in policy cites: no title, still listed
        "Minimize the admission of privileged containers"]


def test_frameworks_count_like_the_flat_table() -> None:
    report = grouped_report()
    flat = {row.id: row.counts for row in controls(report)}
    for group in frameworks(report):
        for row in group.rows:
            assert row.counts == flat[row.id]
    nist = frameworks(report)[1]
    assert nist.rows[0].counts == {PASS: 1, FAIL: 1, WARN: 1, WAIVED: 1, OVERRIDDEN: 0,
                                   BASELINED: 0, SKIP: 0}


def test_frameworks_of_an_empty_report_and_of_one_without_controls() -> None:
    assert frameworks(make_report([])) == []
    [other] = frameworks(make_report([make_result(BARE_POLICY)]))
    assert other.id == OTHER and [row.id for row in other.rows] == [NO_CONTROL]


# -- JSON ----------------------------------------------------------------------------


def report_schema() -> dict[str, Any]:
    text = resources.files("gate.schemas").joinpath("report.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def rendered_json(report: Report) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json_report.render(report, RenderOptions()))
    return data


def test_json_frameworks_are_schema_valid_and_grouped() -> None:
    data = rendered_json(grouped_report())
    jsonschema.Draft202012Validator(report_schema()).validate(data)
    groups = data["audit"]["frameworks"]
    assert [(g["id"], g["title"], g["version"]) for g in groups] == [
        ("CIS-Kubernetes", "CIS Kubernetes Benchmark", "v1.9.0"),
        ("NIST-800-53", "NIST SP 800-53", "Rev. 5"),
        ("PCI-DSS", "PCI DSS", "v4.0"),
        ("NSA-CISA", "NSA/CISA Kubernetes Hardening Guide", "v1.2 (August 2022)"),
        ("Other", "Other", None),
    ]
    assert groups[0]["url"] == "https://www.cisecurity.org/benchmark/kubernetes"
    assert groups[-1]["url"] is None
    assert [c["id"] for c in groups[0]["controls"]] == [
        "CIS-Kubernetes:5.1.8", "CIS-Kubernetes:5.2.2", "CIS-Kubernetes:5.2.9",
        "CIS-Kubernetes:5.2.10"]
    assert groups[0]["controls"][1] == {
        "id": "CIS-Kubernetes:5.2.2", "title": "Minimize the admission of privileged containers",
        "policies": ["pss-privileged"], "pass": 1, "fail": 1, "warn": 0, "waived": 0,
        "overridden": 0, "baselined": 0, "skip": 0}
    assert [c["id"] for c in groups[-1]["controls"]] == [
        "ISO27001:A.8.9", "ISO27001:A.12.1.2", "(no control)"]
    assert all(c["title"] is None for c in groups[-1]["controls"])
    # the flat table is still there, as before
    assert [row["id"] for row in data["audit"]["controls"]][-1] == "(no control)"
    assert len(data["audit"]["controls"]) == sum(len(g["controls"]) for g in groups)


def test_json_schema_requires_and_closes_the_frameworks() -> None:
    data = rendered_json(grouped_report())
    validator = jsonschema.Draft202012Validator(report_schema())
    for breakage in (
        lambda d: d["audit"].pop("frameworks"),
        lambda d: d["audit"]["frameworks"][0].update(extra=1),
        lambda d: d["audit"]["frameworks"][0]["controls"][0].update(extra=1),
        lambda d: d["audit"]["frameworks"][0]["controls"][0].pop("title"),
        lambda d: d["audit"]["frameworks"][0].update(controls=[]),
    ):
        broken = json.loads(json.dumps(data))
        breakage(broken)
        assert not validator.is_valid(broken)


def test_json_is_deterministic_whatever_the_policy_order() -> None:
    report = grouped_report()
    shuffled = make_report(list(reversed(report.results)), audit=report.audit,
                           policies=list(reversed(report.policies)))
    assert (rendered_json(shuffled)["audit"]["frameworks"]
            == rendered_json(report)["audit"]["frameworks"])


# -- Markdown ------------------------------------------------------------------------


def markdown_tables(text: str, heading: str) -> list[str]:
    """The table under ``heading``: its first run of lines starting with ``|``."""
    lines = text[text.index(heading):].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next(i for i, line in enumerate(lines[start:], start) if not line.startswith("|"))
    return lines[start:end]


def test_markdown_shows_one_table_per_framework_in_order() -> None:
    text = markdown_report.render(grouped_report(), RenderOptions())
    headings = re.findall(r"^#### Controls: .*$", text, flags=re.M)
    assert headings == [
        "#### Controls: CIS Kubernetes Benchmark v1.9.0 (4)",
        "#### Controls: NIST SP 800-53 Rev. 5 (2)",
        "#### Controls: PCI DSS v4.0 (1)",
        "#### Controls: NSA/CISA Kubernetes Hardening Guide v1.2 (August 2022) (1)",
        "#### Controls: Other (3)",
    ]
    cis = markdown_tables(text, headings[0])
    assert cis[0] == ("| Control | Title | Policies | ✅ Pass | ❌ Fail | ⚠️ Warn | Waived "
                      "| 🚨 Overridden |")
    assert cis[2:] == [
        "| 5.1.8 | — | user-policy | 0 | 0 | 0 | 0 | 1 |",
        "| 5.2.2 | Minimize the admission of privileged containers | pss-privileged "
        "| 1 | 1 | 0 | 0 | 0 |",
        "| 5.2.9 | Minimize the admission of containers with added capabilities "
        "| pss-capabilities | 0 | 0 | 1 | 1 | 0 |",
        "| 5.2.10 | Minimize the admission of containers with capabilities assigned "
        "| pss-capabilities | 0 | 0 | 1 | 1 | 0 |",
    ]
    other = markdown_tables(text, headings[-1])
    assert other[2:] == [
        "| ISO27001:A.8.9 | — | user-policy | 0 | 0 | 0 | 0 | 1 |",
        "| ISO27001:A.12.1.2 | — | user-policy | 0 | 0 | 0 | 0 | 1 |",
        "| \\(no control\\) | — | bare | 0 | 0 | 0 | 0 | 0 |",
    ]
    # the intro is said once, under the first table's heading
    assert text.count("Results per compliance control") == 1
    assert text.index("Results per compliance control") > text.index(headings[0])


def test_markdown_escapes_hostile_control_ids() -> None:
    hostile = make_policy("hostile", controls=("ISO|27001:[x](http://evil)", "<b>:@team"))
    text = markdown_report.render(make_report([make_result(hostile)], audit=make_audit()),
                                  RenderOptions())
    rows = markdown_tables(text, "#### Controls: Other")[2:]
    assert rows == [
        "| &lt;b&gt;:&#64;team | — | hostile | 1 | 0 | 0 | 0 | 0 |",
        "| ISO\\|27001:\\[x\\]\\(http\\://evil\\) | — | hostile | 1 | 0 | 0 | 0 | 0 |",
    ]


def test_markdown_truncation_shortens_the_control_tables_together() -> None:
    """Thousands of control ids: the tables lose rows (Other first) and stay intact."""
    policies = [make_policy(f"p{n:04d}", controls=(f"ACME:{n}", f"NIST-800-53:XX-{n}"))
                for n in range(1500)]
    report = make_report([make_result(policy) for policy in policies], audit=make_audit())
    text = markdown_comment.render(report, RenderOptions())
    assert len(text.encode("utf-16-le")) // 2 < markdown_comment.MAX_CHARS
    assert "#### Controls: NIST SP 800-53 Rev. 5 (1,500)" in text
    assert "#### Controls: Other (1,500)" in text
    assert "controls of Other not shown" in text
    assert_tables_intact(text)


# -- gate policies --framework -------------------------------------------------------

USER_POLICIES = """\
apiVersion: gate.dev/v1
kind: Policy
id: user-free-form
title: A user's policy with free-form controls
description: Labels are set.
rationale: Because.
remediation: Set them.
severity: low
controls: ["ISO27001:A.8.9", "CIS-Kubernetes:5.1.8", "cis-kubernetes:5.2.2"]
rules:
  - assert: "metadata.labels != null"
    message: "no labels"
---
apiVersion: gate.dev/v1
kind: Policy
id: user-opt-in
title: An opt-in user policy
description: Annotations are set.
rationale: Because.
remediation: Set them.
severity: low
enabled: false
controls: ["CIS-Kubernetes:5.2.10", "ACME:42"]
rules:
  - assert: "metadata.annotations != null"
    message: "no annotations"
"""


def write_user_policies(root: Path) -> None:
    (root / "mine").mkdir()
    (root / "mine" / "user.yaml").write_text(USER_POLICIES, encoding="utf-8")


def rows_of(stdout: str) -> dict[str, list[str]]:
    """CONTROL -> [POLICIES, TITLE] of the table ``gate policies --framework`` prints."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("CONTROL"))
    header = lines[start]
    cuts = [header.index("POLICIES"), header.index("TITLE")]
    table = {}
    for line in lines[start + 1:]:
        if not line.strip():
            break
        table[line[:cuts[0]].strip()] = [line[cuts[0]:cuts[1]].strip(), line[cuts[1]:].strip()]
    return table


def test_policies_framework_lists_the_builtin_coverage(tmp_path: Path,
                                                       gate_cli: RunGate) -> None:
    proc = gate_cli("policies", "--framework", "nist", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("NIST SP 800-53 Rev. 5: National Institute of Standards "
                                  "and Technology, https://csrc.nist.gov/")
    table = rows_of(proc.stdout)
    assert table["CM-3"] == ["change-ticket (off), promotion-certified (off), release-tag-exists "
                             "(off), release-target-revision (off), release-window",
                             "Configuration Change Control"]
    assert table["SC-6"] == ["resource-limits", "Resource Availability"]
    assert list(table) == sorted(table, key=natural_key)  # natural order
    # only what is mapped: NIST has hundreds of controls, gate lists those it covers
    cited = {c for p in load_builtin() for c in p.info.controls if c.startswith("NIST-800-53:")}
    assert len(table) == len(cited)
    assert re.search(r"^\d+ controls covered by \d+ policies \(\d+ enabled\)$", proc.stdout,
                     flags=re.M)


@pytest.mark.parametrize("name", ["cis", "CIS", "CIS-Kubernetes", "cis-kubernetes"])
def test_policies_framework_accepts_alias_or_prefix_in_any_case(
        name: str, tmp_path: Path, gate_cli: RunGate) -> None:
    write_user_policies(tmp_path)
    proc = gate_cli("policies", "--no-builtin", "--policies", "mine", "--framework", name,
                    cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("CIS Kubernetes Benchmark v1.9.0: Center for Internet "
                                  "Security, https://www.cisecurity.org/benchmark/kubernetes")
    assert rows_of(proc.stdout) == {
        "5.1.8": ["user-free-form", "—"],  # mapped, not in the registry: listed untitled
        "5.2.2": ["user-free-form", "Minimize the admission of privileged containers"],
        "5.2.10": ["user-opt-in (off)",
                   "Minimize the admission of containers with capabilities assigned"],
    }
    assert "3 controls covered by 2 policies (1 enabled)" in proc.stdout


def test_policies_framework_other_lists_unknown_frameworks(tmp_path: Path,
                                                           gate_cli: RunGate) -> None:
    write_user_policies(tmp_path)
    proc = gate_cli("policies", "--no-builtin", "--policies", "mine", "--framework", "other",
                    cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert rows_of(proc.stdout) == {"ACME:42": ["user-opt-in (off)", "—"],
                                    "ISO27001:A.8.9": ["user-free-form", "—"]}


def test_policies_framework_with_nothing_mapped(tmp_path: Path, gate_cli: RunGate) -> None:
    proc = gate_cli("policies", "--no-builtin", "--framework", "pci", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "No loaded policy is mapped to a control of this framework." in proc.stdout


@pytest.mark.parametrize("name", ["iso27001", "", "CIS-Kubernetes:5.2.2"])
def test_policies_unknown_framework_exits_2_naming_the_known_ones(
        name: str, tmp_path: Path, gate_cli: RunGate) -> None:
    proc = gate_cli("policies", "--framework", name, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"gate: error: --framework: unknown framework {name!r}; "
                                  "known: cis (CIS-Kubernetes: CIS Kubernetes Benchmark v1.9.0)")
    for framework in FRAMEWORKS:
        assert f"{framework.alias} ({framework.key}: " in proc.stderr
    assert proc.stderr.rstrip().endswith("other (ids of frameworks gate does not know)")
    assert proc.stderr.count("\n") == 1
