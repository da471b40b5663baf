"""``gate release show|diff|verify`` on the release fixture repository (tests/releaserepo.py),
through the real CLI: text by lines, JSON by fields and against its schema."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gate.schema_validation import load_schema
from tests.conftest import RunGate
from tests.gitrepo import run_git
from tests.releaserepo import DIGEST_MS3_140, build_release_repo, step_sha

SHOW = jsonschema.Draft202012Validator(load_schema("release-show.schema.json"))
DIFF = jsonschema.Draft202012Validator(load_schema("release-diff.schema.json"))
REPORT = jsonschema.Draft202012Validator(load_schema("report.schema.json"))
MS1, MS2, MS3 = (f"registry.example.com/shop/{name}" for name in ("ms1", "ms2", "ms3"))
D = DIGEST_MS3_140


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture repository, read only by the tests that share it."""
    return build_release_repo(tmp_path_factory.mktemp("release") / "shop")


@pytest.fixture
def own_shop(shop: Path, tmp_path: Path) -> Path:
    """A copy a test may change."""
    return Path(shutil.copytree(shop, tmp_path / "shop", symlinks=True))


def _json(out: str, validator: jsonschema.Draft202012Validator) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(out)
    validator.validate(document)
    return document


def _cell(document: dict[str, Any], microservice: str, environment: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in document["matrix"]
                                 if c["microservice"] == microservice
                                 and c["environment"] == environment)
    return found


# -- show ----------------------------------------------------------------------------------


@pytest.mark.e2e
def test_show_at_head_after_the_rollback(gate_cli: RunGate, shop: Path) -> None:
    done = gate_cli("release", "show", cwd=shop)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    head = step_sha(shop, "c10")
    hotfix = step_sha(shop, "c9")
    assert lines[:5] == [
        f"Release view at HEAD ({head[:12]})",
        "Microservice identity: the image repository",
        "Environments in promotion order: dev, staging, prod",
        "Certification: prod runs only versions staging ran at HEAD or at a release tag "
        "reachable from it (same image repository, tag and digest)",
        f"Last release tag at or before the ref: v1.1.1 ({hotfix[:12]})",
    ]
    assert lines[6].split() == ["MICROSERVICE", "DEV", "STAGING", "PROD"]
    assert lines[7].split() == [MS1, "1.2.0", "1.2.0", "1.1.0", "(differs", "from", "v1.1.1)"]
    assert lines[8].split() == [MS2, "1.3.0", "1.3.0", "1.3.0", "(differs", "from", "v1.1.1)"]
    assert lines[9].split() == [MS3, "1.4.0@sha256:444444444444", "1.4.0@sha256:444444444444",
                                "1.3.0", "(differs", "from", "v1.1.1)"]
    assert (f"  {MS1} in prod: 1.1.0 at ms1/overlays/prod/kustomization.yaml:5 (Deployment/ms1)"
            in lines)
    assert (f"  {MS3} in staging: 1.4.0@{D} at charts/ms3/values-staging.yaml:2 "
            "(chart charts/ms3 (release ms3-staging))" in lines)
    # Prod's versions are v1.0.0's: staging ran them there, not at HEAD.
    tail = lines[lines.index("Not certified in staging (0):"):]
    assert tail == [
        "Not certified in staging (0):",
        "  none",
        "  release tags consulted: v1.1.1, v1.1.0, v1.0.0",
        "",
        "Differs from v1.1.1: prod",
        f"  prod: {MS1} 1.2.0 -> 1.1.0",
        f"  prod: {MS2} 1.3.1 -> 1.3.0",
        f"  prod: {MS3} 1.4.0@{D} -> 1.3.0",
        "",
        "Unread (0):",
        "  none",
        "",
        "The view is complete: every deployment was read.",
    ]


@pytest.mark.e2e
def test_show_marks_the_uncertified_hotfix(gate_cli: RunGate, shop: Path) -> None:
    done = gate_cli("release", "show", "--ref", "v1.1.1", "-f", "json", cwd=shop)
    assert done.returncode == 0, done.stderr
    document = _json(done.stdout, SHOW)
    assert document["ref"] == "v1.1.1"
    assert document["commit"] == step_sha(shop, "c9")
    assert document["environments"] == ["dev", "staging", "prod"]
    assert document["microservices"] == [MS1, MS2, MS3]
    assert document["last_release"] == {"name": "v1.1.1", "commit": step_sha(shop, "c9")}
    assert document["uncertified"] == [{
        "microservice": MS2, "environment": "prod", "repository": MS2, "tag": "1.3.1",
        "digest": None, "version": "1.3.1", "file": "ms2/overlays/prod/kustomization.yaml",
        "line": 5, "resource": "Deployment/ms2"}]
    assert document["release_tags_consulted"] == ["v1.1.0", "v1.0.0"]
    prod_ms2 = _cell(document, MS2, "prod")["versions"]
    assert [(v["version"], v["certified"], v["certified_at"]) for v in prod_ms2] == [
        ("1.3.1", False, None)]
    prod_ms1 = _cell(document, MS1, "prod")["versions"]
    assert [(v["certified"], v["certified_at"]) for v in prod_ms1] == [(True, "v1.1.1")]
    # Certification is judged for production only.
    assert _cell(document, MS1, "dev")["versions"][0]["certified"] is None
    assert document["differences"] == []
    assert document["complete"] is True and document["unread"] == []

    text = gate_cli("release", "show", "--ref", "v1.1.1", cwd=shop).stdout.splitlines()
    assert text[8].split()[-3:] == ["1.3.1", "(not", "certified)"]
    assert (f"  prod runs {MS2} 1.3.1 (ms2/overlays/prod/kustomization.yaml:5), which staging "
            "never ran") in text


@pytest.mark.e2e
def test_show_differences_from_the_last_release(gate_cli: RunGate, shop: Path) -> None:
    # c7: staging promoted past v1.0.0, prod not yet: staging differs, nothing uncertified.
    done = gate_cli("release", "show", "--ref", step_sha(shop, "c7"), "-f", "json", cwd=shop)
    document = _json(done.stdout, SHOW)
    assert document["last_release"]["name"] == "v1.0.0"
    assert [(c["environment"], c["microservice"], c["change"], c["from"], c["to"])
            for c in document["differences"]] == [
        ("dev", MS1, "changed", ["1.1.0"], ["1.2.0"]),
        ("dev", MS3, "changed", ["1.3.0"], [f"1.4.0@{D}"]),
        ("staging", MS1, "changed", ["1.1.0"], ["1.2.0"]),
        ("staging", MS3, "changed", ["1.3.0"], [f"1.4.0@{D}"]),
    ]
    assert _cell(document, MS1, "staging")["differs_from_last_release"] is True
    assert _cell(document, MS1, "prod")["differs_from_last_release"] is False
    assert document["uncertified"] == []
    # Before the first release: no tag to differ from.
    early = _json(gate_cli("release", "show", "--ref", step_sha(shop, "c2"), "-f", "json",
                           cwd=shop).stdout, SHOW)
    assert early["last_release"] is None and early["differences"] == []


@pytest.mark.e2e
def test_show_formats_say_the_same_in_words(gate_cli: RunGate, shop: Path,
                                            tmp_path: Path) -> None:
    page, notes = tmp_path / "show.html", tmp_path / "show.md"
    done = gate_cli("release", "show", "--ref", "v1.1.1", "-f", f"html={page}",
                    "-f", f"markdown={notes}", cwd=shop)
    assert done.returncode == 0 and done.stdout == ""
    html = page.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "<script" not in html
    assert '<span class="state state-not-certified">not certified</span>' in html
    assert "<code>registry.example.com/shop/ms2</code>" in html
    assert "The view is complete" in html
    markdown = notes.read_text(encoding="utf-8")
    assert ("| registry.example.com/shop/ms2 | 1.3.0 | 1.3.0 | 1.3.1 \\(not certified\\) |"
            in markdown)
    assert "## Not certified in staging (1)" in markdown
    # Deterministic: the same inputs, the same bytes.
    again = gate_cli("release", "show", "--ref", "v1.1.1", "-f", "html", cwd=shop)
    assert again.stdout == html


@pytest.mark.e2e
def test_show_states_what_it_cannot_read(gate_cli: RunGate, own_shop: Path) -> None:
    (own_shop / "ms1/overlays/prod/kustomization.yaml").write_text(
        "resources:\n  - ../../missing\n", encoding="utf-8")
    run_git(own_shop, "commit", "-q", "-am", "Break the prod overlay")
    done = gate_cli("release", "show", "-f", "json", cwd=own_shop)
    assert done.returncode == 0, done.stderr
    document = _json(done.stdout, SHOW)
    assert document["complete"] is False
    assert [(u["at"], u["file"], u["environment"]) for u in document["unread"]] == [
        ("HEAD", "ms1/overlays/prod/kustomization.yaml", None)]
    assert _cell(document, MS1, "prod")["versions"] == []
    text = gate_cli("release", "show", cwd=own_shop).stdout
    assert "Unread (1):\n  at HEAD: ms1/overlays/prod/kustomization.yaml" in text
    assert "The view is INCOMPLETE: 1 part(s) could not be read" in text


@pytest.mark.e2e
def test_show_refuses_an_unknown_ref(gate_cli: RunGate, shop: Path) -> None:
    done = gate_cli("release", "show", "--ref", "no-such-branch", cwd=shop)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and "no-such-branch" in done.stderr


@pytest.mark.e2e
def test_show_with_a_microservice_label(gate_cli: RunGate, own_shop: Path) -> None:
    config = own_shop / ".gate.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "  production: [prod]\n",
        "  production: [prod]\n  microservice: {label: app.kubernetes.io/name}\n"),
        encoding="utf-8")
    document = _json(gate_cli("release", "show", "-f", "json", cwd=own_shop).stdout, SHOW)
    # Kustomize workloads are named by their label; a chart read from its values by
    # its image repository (no rendered pod template to read a label from).
    assert document["microservices"] == ["ms1", "ms2", MS3]
    assert document["microservice_rule"].startswith("the 'app.kubernetes.io/name' label")


# -- diff ----------------------------------------------------------------------------------


@pytest.mark.e2e
def test_diff_release_notes(gate_cli: RunGate, shop: Path) -> None:
    done = gate_cli("release", "diff", "v1.0.0", "v1.1.0", cwd=shop)
    assert done.returncode == 0, done.stderr
    sha = {name: step_sha(shop, name)[:12] for name in ("c4", "c5", "c6", "c7", "c8")}
    assert done.stdout.splitlines() == [
        "Release notes v1.0.0 -> v1.1.0",
        f"From v1.0.0 ({sha['c4']}) to v1.1.0 ({sha['c8']})",
        "Microservice identity: the image repository",
        "Change tickets: the commit's 'Change-Request' trailer matching '^CHG-[0-9]+$' "
        "(policy change-ticket, as configured)",
        "",
        "Changes (6):",
        f"  dev: {MS1} 1.1.0 -> 1.2.0",
        f"  dev: {MS3} 1.3.0 -> 1.4.0@{D}",
        f"  staging: {MS1} 1.1.0 -> 1.2.0",
        f"  staging: {MS3} 1.3.0 -> 1.4.0@{D}",
        f"  prod: {MS1} 1.1.0 -> 1.2.0",
        f"  prod: {MS3} 1.3.0 -> 1.4.0@{D}",
        "",
        "Commits (4, newest first):",
        f"  {sha['c8']} 2026-01-12T09:00:00+00:00 Alice Release <alice@example.com>: "
        "Release v1.1.0 [CHG-106]",
        f"  {sha['c7']} 2026-01-11T09:00:00+00:00 Carol Tester <carol@example.com>: "
        "Promote ms1 1.2.0 and ms3 1.4.0 to staging [CHG-105]",
        f"  {sha['c6']} 2026-01-10T09:00:00+00:00 Bob Developer <bob@example.com>: "
        "Bump ms1 to 1.2.0 in dev [no change ticket]",
        f"  {sha['c5']} 2026-01-09T09:00:00+00:00 Bob Developer <bob@example.com>: "
        "Bump ms3 to 1.4.0 in dev [CHG-104]",
        "",
        "Authors (3):",
        "  Alice Release <alice@example.com>",
        "  Bob Developer <bob@example.com>",
        "  Carol Tester <carol@example.com>",
        "",
        "Change tickets (3): CHG-104, CHG-105, CHG-106",
        f"Commits without a change ticket (1): {sha['c6']}",
        "",
        "Unread (0):",
        "  none",
        "",
        "The notes are complete: every deployment of both tags was read.",
    ]


@pytest.mark.e2e
def test_diff_json_and_other_formats(gate_cli: RunGate, shop: Path, tmp_path: Path) -> None:
    page = tmp_path / "notes.html"
    done = gate_cli("release", "diff", "v1.1.0", "v1.1.1", "-f", "json", "-f", f"html={page}",
                    cwd=shop)
    assert done.returncode == 0, done.stderr
    document = _json(done.stdout, DIFF)
    assert document["from"] == {"name": "v1.1.0", "commit": step_sha(shop, "c8")}
    assert document["linear"] is True
    assert document["changes"] == [{"microservice": MS2, "environment": "prod",
                                    "change": "changed", "from": ["1.3.0"], "to": ["1.3.1"]}]
    assert document["commits"] == [{
        "sha": step_sha(shop, "c9"), "author": {"name": "Dave Oncall",
                                                "email": "dave@example.com"},
        "authored_at": "2026-01-13T09:00:00+00:00",
        "subject": "Hotfix ms2 1.3.1 straight to prod", "tickets": ["CHG-107"]}]
    assert document["tickets"] == ["CHG-107"] and document["commits_without_ticket"] == []
    html = page.read_text(encoding="utf-8")
    assert "<td>Hotfix ms2 1.3.1 straight to prod</td><td>CHG-107</td>" in html
    markdown = gate_cli("release", "diff", "v1.0.0", "v1.1.0", "-f", "markdown", cwd=shop).stdout
    assert "| prod | registry.example.com/shop/ms1 | changed | 1.1.0 | 1.2.0 |" in markdown
    assert "| Bump ms1 to 1.2.0 in dev | no change ticket |" in markdown


@pytest.mark.e2e
def test_diff_refuses_what_is_not_a_release_tag(gate_cli: RunGate, shop: Path) -> None:
    done = gate_cli("release", "diff", "v1.0.0", "main", cwd=shop)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == ("gate: error: 'main' is not a release tag: its name does not match "
                           "releases.tag_pattern 'v[0-9]+\\\\.[0-9]+\\\\.[0-9]+'\n")
    done = gate_cli("release", "diff", "v1.0.0", "v2.0.0", cwd=shop)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == ("gate: error: no release tag 'v2.0.0' in this repository "
                           "(release tags: v1.0.0, v1.1.0, v1.1.1)\n")


# -- verify --------------------------------------------------------------------------------


@pytest.mark.e2e
def test_verify_a_certified_release(gate_cli: RunGate, shop: Path) -> None:
    done = gate_cli("release", "verify", "v1.1.0", "--now", "2026-02-01T00:00:00Z",
                    "-f", "json", cwd=shop)
    assert done.returncode == 0, done.stdout + done.stderr
    report = _json(done.stdout, REPORT)
    assert report["verdict"] == "pass"
    release = report["release"]
    assert (release["tag"], release["commit"]) == ("v1.1.0", step_sha(shop, "c8"))
    assert [(row["microservice"], row["version"], row["certified_at"])
            for row in release["certification"]] == [
        (MS1, "1.2.0", "v1.1.0"), (MS2, "1.3.0", "v1.1.0"), (MS3, f"1.4.0@{D}", "v1.1.0")]
    # The tree was judged as gate check judges it: rendered overlays, the chart not judged.
    assert report["summary"]["resources"] == 15
    assert [u["file"] for u in report["unjudged"]] == ["charts/ms3"]
    assert report["audit"]["rules_from"] == "working tree"


@pytest.mark.e2e
def test_verify_fails_the_uncertified_hotfix(gate_cli: RunGate, shop: Path,
                                             tmp_path: Path) -> None:
    notes = tmp_path / "verify.md"
    page = tmp_path / "verify.html"
    done = gate_cli("release", "verify", "v1.1.1", "--now", "2026-02-01T00:00:00Z",
                    "-f", "text", "-f", f"markdown={notes}", "-f", f"html={page}", cwd=shop)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert ("ms2/overlays/prod/kustomization.yaml:5: [release-certified] prod runs "
            f"{MS2} 1.3.1, which staging never ran at v1.1.1 or at an earlier release tag "
            "(prod)") in lines
    assert (f"  {MS2} in prod: 1.3.1 (ms2/overlays/prod/kustomization.yaml:5): NOT certified "
            "(staging never ran it)") in lines
    assert (f"  {MS1} in prod: 1.2.0 (ms1/overlays/prod/kustomization.yaml:5): certified "
            "(staging at v1.1.1)") in lines
    markdown = notes.read_text(encoding="utf-8")
    assert "### Release v1.1.1: certification" in markdown
    assert ("| registry.example.com/shop/ms2 | prod | 1.3.1 | "
            "ms2/overlays/prod/kustomization.yaml:5 | **NOT certified** (staging never ran it) |"
            in markdown)
    html = page.read_text(encoding="utf-8")
    assert "<h2>Release v1.1.1: certification (3)</h2>" in html
    assert ("<td>registry.example.com/shop/ms2</td><td>prod</td><td><span class=\"mono\">"
            "1.3.1</span></td><td>ms2/overlays/prod/kustomization.yaml:5</td><td><span "
            "class=\"state state-not-certified\">not certified</span> (staging never ran it)"
            "</td>") in html


@pytest.mark.e2e
def test_verify_after_a_rollback_certified_at_an_earlier_tag(gate_cli: RunGate,
                                                             own_shop: Path) -> None:
    # Tag the rollback: prod runs v1.0.0's versions, which staging ran at v1.0.0 only.
    run_git(own_shop, "tag", "v1.1.2")
    done = gate_cli("release", "verify", "v1.1.2", "--now", "2026-02-01T00:00:00Z",
                    "-f", "json", cwd=own_shop)
    assert done.returncode == 0, done.stdout
    rows = _json(done.stdout, REPORT)["release"]["certification"]
    assert [(row["microservice"], row["version"], row["certified_at"]) for row in rows] == [
        (MS1, "1.1.0", "v1.0.0"), (MS2, "1.3.0", "v1.1.2"), (MS3, "1.3.0", "v1.0.0")]


@pytest.mark.e2e
def test_verify_in_a_subprocess_exit_codes(run_gate: RunGate, shop: Path) -> None:
    done = run_gate("release", "verify", "v1.1.1", "--now", "2026-02-01T00:00:00Z",
                    "-f", "sarif", cwd=shop)
    assert done.returncode == 1
    sarif = json.loads(done.stdout)
    rules = {rule["id"] for run in sarif["runs"] for rule in run["tool"]["driver"]["rules"]}
    assert "release-certified" in rules
    refused = run_gate("release", "verify", "HEAD", cwd=shop)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith("gate: error: 'HEAD' is not a release tag")


def test_the_schemas_are_valid() -> None:
    for name in ("release-show.schema.json", "release-diff.schema.json", "report.schema.json"):
        jsonschema.Draft202012Validator.check_schema(load_schema(name))
