"""Change governance end to end: ``gate diff`` on real git repositories with trailers,
release calendars, certified promotion, waivers and emergency overrides."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gate.schema_validation import load_schema
from tests.conftest import RunGate
from tests.gitrepo import GitRepo
from tests.manifests import WEB_DEPLOYMENT
from tests.signing import commit_as

pytestmark = pytest.mark.e2e  # every test here starts git or the CLI

DEPLOYMENT = WEB_DEPLOYMENT

OVERLAY = """\
namespace: shop-{env}
resources:
  - ../../base
images:
  - name: ghcr.io/acme/web
    newTag: {tag}
"""

ENVIRONMENTS = """\
environments:
  - name: dev
    paths: ["overlays/dev/**"]
  - name: staging
    paths: ["overlays/staging/**"]
  - name: prod
    paths: ["overlays/prod/**"]
"""

FREEZE = """\
calendar:
  freezes:
    - name: year-end
      start: "2026-12-18T00:00:00+01:00"
      end: "2027-01-04T00:00:00+01:00"
      reason: year-end trading freeze
      environments: [prod]
"""

OFFICE_HOURS = """\
calendar:
  windows:
    - name: office-hours
      kind: allow
      schedule: "0 9 * * 1-5"
      duration: 8h
      timeZone: Europe/Rome
      environments: [prod]
    - name: friday-evening
      kind: deny
      schedule: "0 15 * * 5"
      duration: 2h
      timeZone: Europe/Rome
      environments: [prod]
"""

FROZEN = "2026-12-24T10:00:00+01:00"
THAWED = "2027-01-04T00:00:00+01:00"
REPORT_SCHEMA = load_schema("report.schema.json")


def make_repo(tmp_path: Path, config: str = "", tags: dict[str, str] | None = None) -> GitRepo:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write("base/deployment.yaml", DEPLOYMENT)
    repo.write("base/kustomization.yaml", "resources:\n  - deployment.yaml\n")
    for env, tag in (tags or {"dev": "1.0.0", "staging": "1.0.0", "prod": "1.0.0"}).items():
        repo.write(f"overlays/{env}/kustomization.yaml", OVERLAY.format(env=env, tag=tag))
    repo.write(".gate.yaml", ENVIRONMENTS + config)
    repo.commit("initial")
    repo.git("branch", "base")
    return repo


def set_tag(repo: GitRepo, env: str, tag: str) -> None:
    text = repo.read(f"overlays/{env}/kustomization.yaml")
    head, _, _ = text.rpartition("newTag: ")
    repo.write(f"overlays/{env}/kustomization.yaml", f"{head}newTag: {tag}\n")


def diff(run_gate: RunGate, repo: GitRepo, *args: str,
         env: dict[str, str] | None = None) -> tuple[Any, dict[str, Any]]:
    report_path = repo.path.parent / "report.json"
    proc = run_gate("diff", "--base", "base", "--kustomize", "builtin", *args,
                    "-f", "text", "-f", f"json={report_path}", cwd=repo.path,
                    env={"NO_COLOR": "1", **(env or {})})
    assert "Traceback" not in proc.stderr, proc.stderr
    report: dict[str, Any] = {}
    if report_path.exists():
        report = json.loads(report_path.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(report)
        report_path.unlink()
    return proc, report


def results_of(report: dict[str, Any], policy: str, status: str | None = None
               ) -> list[dict[str, Any]]:
    return [r for r in report["results"] if r["policy"] == policy
            and (status is None or r["status"] == status)]


# -- release windows and freezes -------------------------------------------------------


def test_a_freeze_blocks_prod_and_names_its_end(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path, FREEZE)
    set_tag(repo, "prod", "1.0.1")
    repo.commit("bump prod")
    proc, report = diff(gate_cli, repo, "--now", FROZEN)
    assert proc.returncode == 1, proc.stdout
    [failure] = results_of(report, "release-window", "fail")
    assert failure["resource"]["kind"] == "Change"
    assert failure["resource"]["environment"] == "prod"
    assert "freeze 'year-end' is in effect until 2027-01-04T00:00:00+01:00" in failure["message"]
    assert "year-end trading freeze" in failure["message"]
    assert "release-window" in proc.stdout
    # The end is exclusive: at the end instant the change may merge.
    proc, report = diff(gate_cli, repo, "--now", THAWED)
    assert proc.returncode == 0, proc.stdout
    assert {r["status"] for r in results_of(report, "release-window")} == {"pass"}


def test_a_prod_freeze_does_not_block_dev(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path, FREEZE)
    set_tag(repo, "dev", "1.0.1")
    repo.commit("bump dev")
    proc, report = diff(gate_cli, repo, "--now", FROZEN)
    assert proc.returncode == 0, proc.stdout
    assert report["change"]["environments"] == ["dev"]
    assert results_of(report, "release-window") == []  # no freeze names dev


def test_a_base_change_is_gated_in_every_environment_it_reaches(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    repo = make_repo(tmp_path, FREEZE)
    repo.replace("base/deployment.yaml", "memory: 128Mi", "memory: 256Mi")
    repo.commit("more memory")
    proc, report = diff(gate_cli, repo, "--now", FROZEN)
    assert proc.returncode == 1
    assert report["change"]["environments"] == ["dev", "prod", "staging"]
    by_env = {r["resource"]["environment"]: r["status"]
              for r in results_of(report, "release-window")}
    assert by_env == {"prod": "fail"}


@pytest.mark.parametrize(("now", "allowed", "says"), [
    ("2026-11-30T09:00:00+01:00", True, "office-hours"),  # Monday, start inclusive
    ("2026-11-30T16:59:59+01:00", True, "office-hours"),
    ("2026-11-30T17:00:00+01:00", False, "opens at 2026-12-01T09:00:00+01:00"),  # end excl.
    ("2026-11-28T12:00:00+01:00", False, "opens at 2026-11-30T09:00:00+01:00"),  # Saturday
    ("2026-12-04T15:30:00+01:00", False, "deny window 'friday-evening' is active until "
                                         "2026-12-04T17:00:00+01:00"),  # deny wins
])
def test_allow_and_deny_windows(tmp_path: Path, gate_cli: RunGate, now: str, allowed: bool,
                                says: str) -> None:
    repo = make_repo(tmp_path, OFFICE_HOURS)
    set_tag(repo, "prod", "1.0.1")
    repo.commit("bump prod")
    proc, report = diff(gate_cli, repo, "--now", now)
    assert proc.returncode == (0 if allowed else 1), proc.stdout
    [result] = results_of(report, "release-window")
    assert result["status"] == ("pass" if allowed else "fail")
    if not allowed:
        assert says in result["message"]


def test_evaluation_time_sources(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path, FREEZE)
    set_tag(repo, "prod", "1.0.1")
    repo.commit("bump prod")
    frozen_epoch = "1798102800"  # 2026-12-24T09:00:00Z
    proc, report = diff(gate_cli, repo, env={"SOURCE_DATE_EPOCH": frozen_epoch})
    assert proc.returncode == 1
    assert report["audit"]["evaluated_at"] == "2026-12-24T09:00:00Z"
    assert report["audit"]["time_source"] == "SOURCE_DATE_EPOCH"
    # --now wins over SOURCE_DATE_EPOCH
    proc, report = diff(gate_cli, repo, "--now", THAWED, env={"SOURCE_DATE_EPOCH": frozen_epoch})
    assert proc.returncode == 0
    assert report["audit"]["time_source"] == "--now"
    # --at commit: the head commit's committer time (2023, long before the freeze)
    proc, report = diff(gate_cli, repo, "--at", "commit")
    assert proc.returncode == 0
    assert report["audit"]["time_source"] == "head commit"
    assert report["audit"]["evaluated_at"].startswith("2023-11-14T22:")


@pytest.mark.parametrize(("args", "says"), [
    (("--now", "2026-12-24T10:00:00"), "no UTC offset"),
    (("--now", "yesterday"), "not an ISO-8601 date-time"),
    (("--now", FROZEN, "--at", "commit"), "alternatives"),
])
def test_bad_evaluation_times_are_usage_errors(tmp_path: Path, gate_cli: RunGate,
                                               args: tuple[str, ...], says: str) -> None:
    repo = make_repo(tmp_path, FREEZE)
    proc, _ = diff(gate_cli, repo, *args)
    assert proc.returncode == 2
    assert says in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("calendar", "line", "says"), [
    ("calendar:\n  windows:\n    - {name: w, kind: deny, schedule: '0 18 * * 5', "
     "duration: 2h, timeZone: Mars/Olympus}\n", 10, "Mars/Olympus"),
    ("calendar:\n  windows:\n    - name: w\n      kind: deny\n      schedule: '61 * * * *'\n"
     "      duration: 2h\n", 12, "schedule"),
    ("calendar:\n  windows:\n    - name: w\n      kind: deny\n      schedule: '0 1 * * *'\n"
     "      duration: two hours\n", 13, "duration"),
])
def test_invalid_calendars_are_config_errors(tmp_path: Path, gate_cli: RunGate, calendar: str,
                                             line: int, says: str) -> None:
    repo = make_repo(tmp_path, calendar)
    proc, _ = diff(gate_cli, repo, "--now", FROZEN)
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.startswith(f".gate.yaml:{line}:"), proc.stderr
    assert says in proc.stderr


# -- change tickets --------------------------------------------------------------------

TICKETS = """\
policies:
  change-ticket:
    enabled: true
"""


def test_change_ticket_on_the_head_commit(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path, TICKETS)
    set_tag(repo, "prod", "1.0.1")
    repo.commit("bump prod")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 1
    [failure] = results_of(report, "change-ticket", "fail")
    assert "has no 'Change-Request' trailer" in failure["message"]
    assert "bump prod" in failure["message"]
    repo.commit("bump prod, with its ticket\n\nChange-Request: CHG104233")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 0, proc.stdout
    evidence = report["audit"]["evidence"]
    assert [(e["label"], e["environment"], e["values"]) for e in evidence] == [
        ("Change tickets", "prod", ["CHG104233"])]


def test_change_ticket_on_every_commit(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path, TICKETS + "    parameters: {commits: all}\n")
    set_tag(repo, "prod", "1.0.1")
    repo.commit("first\n\nChange-Request: CHG1")
    set_tag(repo, "prod", "1.0.2")
    repo.commit("second")
    repo.commit("third\n\nchange-request: CHG3")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 1
    [failure] = results_of(report, "change-ticket", "fail")
    assert "('second')" in failure["message"]
    assert report["audit"]["evidence"][0]["values"] == ["CHG1", "CHG3"]


def test_change_ticket_is_not_needed_outside_its_environments(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    repo = make_repo(tmp_path, TICKETS)
    set_tag(repo, "dev", "1.0.1")
    repo.commit("bump dev")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 0
    assert results_of(report, "change-ticket") == []


# -- certified promotion ---------------------------------------------------------------

PROMOTION = """\
policies:
  promotion-certified:
    enabled: true
"""


def test_promotion_of_an_image_staging_ran(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path, PROMOTION,
                     tags={"dev": "1.1.0", "staging": "1.1.0", "prod": "1.0.0"})
    set_tag(repo, "prod", "1.1.0")
    repo.commit("promote 1.1.0")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 0, proc.stdout
    assert {r["status"] for r in results_of(report, "promotion-certified")} == {"pass"}


def test_promotion_of_an_uncertified_image_is_blocked(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path, PROMOTION,
                     tags={"dev": "1.2.0", "staging": "1.1.0", "prod": "1.0.0"})
    # Staging and prod move together: staging at the base never ran 1.2.0.
    set_tag(repo, "staging", "1.2.0")
    set_tag(repo, "prod", "1.2.0")
    repo.commit("ship 1.2.0 everywhere")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 1
    [failure] = results_of(report, "promotion-certified", "fail")
    assert failure["message"] == (
        "image 'ghcr.io/acme/web:1.2.0' (Deployment/shop-prod/web) is new in prod but staging "
        "did not run it at the base of the change (staging runs ghcr.io/acme/web:1.1.0)")
    line = repo.line_of("overlays/prod/kustomization.yaml", "newTag")
    assert (failure["file"], failure["line"]) == ("overlays/prod/kustomization.yaml", line)
    assert f"overlays/prod/kustomization.yaml:{line}:" in proc.stdout


RELEASE = """\
apiVersion: gate.dev/v1
kind: Release
release: "2026.11.2"
services:
  - name: web
    image: ghcr.io/acme/web
    version: {version}
"""


def test_a_release_manifest_is_the_source_of_truth(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path, PROMOTION + "release_manifest: releases/current.yaml\n")
    repo.write("releases/current.yaml", RELEASE.format(version="1.3.0"))
    set_tag(repo, "prod", "1.3.0")
    repo.commit("release 2026.11.2")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 0, proc.stdout
    assert any(name.startswith("release manifest") for name in
               (i["name"] for i in report["audit"]["inputs"]))
    set_tag(repo, "prod", "1.3.1")
    repo.commit("hotfix outside the release")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 1
    [failure] = results_of(report, "promotion-certified", "fail")
    assert "does not match release 2026.11.2 (web is certified at 1.3.0)" in failure["message"]


def test_a_broken_release_manifest_is_a_config_error(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path, PROMOTION + "release_manifest: releases/current.yaml\n")
    repo.write("releases/current.yaml", RELEASE.format(version="1.3.0") + "    extra: 1\n")
    set_tag(repo, "prod", "1.3.0")
    repo.commit("release")
    proc, _ = diff(gate_cli, repo)
    assert proc.returncode == 2
    assert proc.stderr.startswith("releases/current.yaml:8:"), proc.stderr


# -- emergency overrides ---------------------------------------------------------------

OVERRIDE = "Gate-Override: INC-1234 checkout is down, hotfix"
APPROVER = "Dana Lead <dana@example.com>"
ALLOW_OVERRIDES = "overrides:\n  allowed: true\n  approvers: [Dana Lead <dana@example.com>]\n"


def approve(repo: GitRepo, ticket: str = "INC-1234", author: str = APPROVER) -> str:
    """A second person's approval: an empty commit on top with ``Gate-Approve``."""
    return commit_as(repo, f"Approve the emergency change\n\nGate-Approve: {ticket}", author)


def test_an_allowed_override_lets_an_overridable_policy_pass(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    repo = make_repo(tmp_path, FREEZE + ALLOW_OVERRIDES)
    set_tag(repo, "prod", "1.0.1")
    repo.commit(f"hotfix\n\n{OVERRIDE}")
    approval = approve(repo)
    proc, report = diff(gate_cli, repo, "--now", FROZEN)
    assert proc.returncode == 0, proc.stdout
    [overridden] = results_of(report, "release-window", "overridden")
    assert overridden["override"]["ticket"] == "INC-1234"
    assert overridden["override"]["author"] == "Test User <test@example.com>"
    assert overridden["override"]["approved_by"] == APPROVER
    assert overridden["override"]["approval_commit"] == approval
    [used] = report["audit"]["overrides"]
    assert used["reason"] == "checkout is down, hotfix"
    assert (used["approved_by"], used["approval_commit"]) == (APPROVER, approval)
    assert "overridden" in proc.stdout and "INC-1234" in proc.stdout
    assert f"approved by {APPROVER}, commit {approval[:12]}" in proc.stdout


def test_an_override_is_ignored_where_the_config_forbids_it(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    repo = make_repo(tmp_path, FREEZE)
    set_tag(repo, "prod", "1.0.1")
    repo.commit(f"hotfix\n\n{OVERRIDE}")
    proc, report = diff(gate_cli, repo, "--now", FROZEN)
    assert proc.returncode == 1
    assert results_of(report, "release-window", "fail")
    assert any("overrides are not allowed" in note for note in report["change"]["notes"])
    assert report["audit"]["overrides"] == []


def test_an_override_does_not_cover_a_policy_that_is_not_overridable(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    repo = make_repo(tmp_path, FREEZE + TICKETS + ALLOW_OVERRIDES)
    set_tag(repo, "prod", "1.0.1")
    repo.commit(f"hotfix\n\n{OVERRIDE}")
    approve(repo)
    proc, report = diff(gate_cli, repo, "--now", FROZEN)
    assert proc.returncode == 1
    assert results_of(report, "release-window", "overridden")
    [failure] = results_of(report, "change-ticket", "fail")
    assert "not overridable" in failure["message"]


def test_a_malformed_override_is_ignored_with_a_note(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path, FREEZE + ALLOW_OVERRIDES)
    set_tag(repo, "prod", "1.0.1")
    repo.commit("hotfix\n\nGate-Override: please")
    proc, report = diff(gate_cli, repo, "--now", FROZEN)
    assert proc.returncode == 1
    assert any("Gate-Override trailer" in n and "ignored" in n for n in report["change"]["notes"])


# -- four eyes ------------------------------------------------------------------------


def test_overrides_allowed_without_approvers_is_a_config_error(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    repo = make_repo(tmp_path, FREEZE + "overrides:\n  allowed: true\n")
    line = repo.line_of(".gate.yaml", "allowed: true")
    set_tag(repo, "prod", "1.0.1")
    repo.commit(f"hotfix\n\n{OVERRIDE}")
    proc, report = diff(gate_cli, repo, "--now", FROZEN)
    assert proc.returncode == 2 and report == {}
    assert proc.stderr.startswith(f".gate.yaml:{line}: error: overrides.allowed: "), proc.stderr
    assert "overrides.approvers" in proc.stderr


def test_an_approver_that_is_no_address_is_a_config_error(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    repo = make_repo(tmp_path, "overrides:\n  allowed: true\n  approvers:\n    - Dana Lead\n")
    proc, _ = diff(gate_cli, repo)
    line = repo.line_of(".gate.yaml", "- Dana Lead")
    assert proc.returncode == 2
    assert proc.stderr.startswith(f".gate.yaml:{line}: error: overrides.approvers[0]: "
                                  "'Dana Lead' is not an e-mail address"), proc.stderr


@pytest.mark.parametrize(("approval", "why"), [
    (None, "no commit of the change carries 'Gate-Approve: INC-1234'"),
    ("Test User <test@example.com>", "is by the override's own author test@example.com"),
    ("Eve Else <eve@example.com>", "is by eve@example.com, who is not in overrides.approvers"),
    ("Dana Lead <dana@example.com>:INC-9", "no commit of the change carries"),
], ids=["none", "own-author", "not-listed", "other-ticket"])
def test_an_override_without_a_second_persons_approval_keeps_blocking(
    tmp_path: Path, gate_cli: RunGate, approval: str | None, why: str
) -> None:
    repo = make_repo(tmp_path, FREEZE + ALLOW_OVERRIDES)
    set_tag(repo, "prod", "1.0.1")
    override = repo.commit(f"hotfix\n\n{OVERRIDE}")
    if approval is not None:
        author, _, ticket = approval.partition(":")
        approve(repo, ticket or "INC-1234", author)
    proc, report = diff(gate_cli, repo, "--now", FROZEN)
    assert proc.returncode == 1, proc.stdout
    assert results_of(report, "release-window", "fail")
    assert report["audit"]["overrides"] == []
    [note] = [n for n in report["change"]["notes"] if "Gate-Override" in n]
    assert note.startswith(f"Gate-Override: INC-1234 checkout is down, hotfix (commit "
                           f"{override[:12]}) ignored: it has no approval (four eyes: ")
    assert why in note and note.endswith("its findings keep blocking")


def test_a_signed_approval_counts_only_with_a_good_signature_of_an_approver(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    from tests.signing import keyring, signed_commit

    config = FREEZE + ALLOW_OVERRIDES + "  require_signed_approval: true\n"
    with keyring("Dana Lead", "dana@example.com") as dana, \
            keyring("Eve Else", "eve@example.com") as eve:
        # Unsigned: not enough.
        repo = make_repo(tmp_path / "unsigned", config)
        set_tag(repo, "prod", "1.0.1")
        repo.commit(f"hotfix\n\n{OVERRIDE}")
        approve(repo)
        proc, report = diff(gate_cli, repo, "--now", FROZEN, env=dana.env())
        assert proc.returncode == 1
        [note] = [n for n in report["change"]["notes"] if "Gate-Override" in n]
        assert "has no good signature by a listed approver" in note and "(git says N)" in note
        # Signed by someone else's key, though authored as Dana: not enough either.
        repo = make_repo(tmp_path / "other-key", config)
        set_tag(repo, "prod", "1.0.1")
        repo.commit(f"hotfix\n\n{OVERRIDE}")
        signed_commit(repo, "Approve\n\nGate-Approve: INC-1234", eve, author=APPROVER)
        eve_trusted = eve.env()
        proc, report = diff(gate_cli, repo, "--now", FROZEN, env=eve_trusted)
        assert proc.returncode == 1
        [note] = [n for n in report["change"]["notes"] if "Gate-Override" in n]
        assert "(git says G by 'Eve Else <eve@example.com>')" in note
        # Signed by Dana, whose key the keyring trusts: approved.
        repo = make_repo(tmp_path / "signed", config)
        set_tag(repo, "prod", "1.0.1")
        repo.commit(f"hotfix\n\n{OVERRIDE}")
        approval = signed_commit(repo, "Approve\n\nGate-Approve: INC-1234", dana,
                                 author=APPROVER)
        proc, report = diff(gate_cli, repo, "--now", FROZEN, env=dana.env())
        assert proc.returncode == 0, proc.stdout + proc.stderr
        [used] = report["audit"]["overrides"]
        assert (used["approved_by"], used["approval_commit"]) == (APPROVER, approval)
        [entry] = [c for c in report["change"]["commit_log"] if c["sha"] == approval]
        assert entry["signature"] == {"status": "G", "signer": "Dana Lead <dana@example.com>",
                                      "key": dana.key_id, "fingerprint": dana.fingerprint}


# -- waivers ---------------------------------------------------------------------------

WAIVERS = """\
waivers:
  - policy: no-latest-tag
    match: {{environments: [prod], kinds: [Deployment]}}
    reason: vendor ships latest only until Q1
    ticket: CHG-77
    approved_by: jane.doe@example.com
    expires: {expires}
"""


def test_waivers_expire_and_the_report_says_so(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path)
    repo.write("waivers.yaml", WAIVERS.format(expires="2026-12-31"))
    set_tag(repo, "prod", "latest")
    repo.commit("prod on latest")
    proc, report = diff(gate_cli, repo, "--now", "2026-12-31T23:00:00Z")
    assert proc.returncode == 0, proc.stdout
    [waived] = results_of(report, "no-latest-tag", "waived")
    assert waived["waiver"]["approved_by"] == "jane.doe@example.com"
    assert waived["waiver"]["expires"] == "2026-12-31"
    [use] = report["audit"]["waivers"]
    assert (use["state"], use["matched"]) == ("active", 1)
    proc, report = diff(gate_cli, repo, "--now", "2027-01-01T00:00:00Z")
    assert proc.returncode == 1
    [failure] = results_of(report, "no-latest-tag", "fail")
    assert "expired on 2026-12-31" in failure["message"]
    assert report["audit"]["waivers"][0]["state"] == "expired"


def test_a_waiver_without_approver_is_rejected(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path)
    repo.write("waivers.yaml", WAIVERS.format(expires="2026-12-31").replace(
        "    approved_by: jane.doe@example.com\n", ""))
    repo.commit("waiver")
    proc, _ = diff(gate_cli, repo, "--now", FROZEN)
    assert proc.returncode == 2
    assert proc.stderr.startswith("waivers.yaml:2:"), proc.stderr
    assert "approved_by" in proc.stderr


def test_stale_waivers_are_reported_by_a_whole_repository_check(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    repo = make_repo(tmp_path)
    repo.write("waivers.yaml", WAIVERS.format(expires="2027-03-31"))
    report_path = tmp_path / "check.json"
    proc = gate_cli("check", ".", "--now", FROZEN, "-f", f"json={report_path}", cwd=repo.path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(report_path.read_text(encoding="utf-8"))
    [use] = report["audit"]["waivers"]
    assert (use["state"], use["matched"]) == ("stale", 0)


INLINE = """\
  annotations:
    gate.dev/waive.no-latest-tag: "sidecar pinned by the vendor operator"
"""


@pytest.mark.parametrize("allowed", [True, False])
def test_inline_waivers_only_where_the_policy_allows(tmp_path: Path, gate_cli: RunGate,
                                                     allowed: bool) -> None:
    config = ("policies:\n  no-latest-tag:\n    inline_waivers: true\n" if allowed else "")
    repo = make_repo(tmp_path, config)
    repo.replace("base/deployment.yaml", "  labels: {app.kubernetes.io/name: web}\nspec",
                 "  labels: {app.kubernetes.io/name: web}\n" + INLINE + "spec")
    set_tag(repo, "prod", "latest")
    repo.commit("latest, waived inline")
    proc, report = diff(gate_cli, repo, "--now", FROZEN)
    [result] = [r for r in results_of(report, "no-latest-tag")
                if r["resource"]["environment"] == "prod"]
    if allowed:
        assert proc.returncode == 0
        assert result["status"] == "waived"
        assert result["waiver"]["reason"] == "sidecar pinned by the vendor operator"
    else:
        assert proc.returncode == 1
        assert result["status"] == "fail"
        assert "does not allow inline waivers" in result["message"]


# -- the audit record ------------------------------------------------------------------


def test_reports_are_byte_identical_and_fingerprinted(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path, FREEZE + TICKETS)
    set_tag(repo, "prod", "latest")
    repo.commit("bump\n\nChange-Request: CHG5")
    outputs = []
    for _ in range(2):
        md, js = tmp_path / "r.md", tmp_path / "r.json"
        proc = gate_cli("diff", "--base", "base", "--now", FROZEN, "-f", f"markdown={md}",
                       "-f", f"json={js}", cwd=repo.path)
        assert proc.returncode == 1, proc.stderr
        outputs.append((md.read_bytes(), js.read_bytes()))
    assert outputs[0] == outputs[1]
    report = json.loads(outputs[0][1])
    audit = report["audit"]
    assert audit["evaluated_at"] == "2026-12-24T09:00:00Z"
    assert len(audit["fingerprint"]) == 64
    names = [i["name"] for i in audit["inputs"]]
    assert ".gate.yaml" in names and "builtin:release-window.yaml" in names
    markdown = outputs[0][0].decode()
    assert audit["fingerprint"] in markdown and "CHG5" in markdown
    # Another config gives another fingerprint.
    repo.write(".gate.yaml", repo.read(".gate.yaml") + "fail_on: info\n")
    proc, changed = diff(gate_cli, repo, "--now", FROZEN)
    assert changed["audit"]["fingerprint"] != audit["fingerprint"]


# -- rules from the base of the change ------------------------------------------------


def test_a_change_cannot_switch_off_the_rule_that_judges_it(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    repo = make_repo(tmp_path)
    set_tag(repo, "prod", "latest")
    repo.write(".gate.yaml", repo.read(".gate.yaml")
               + "policies:\n  no-latest-tag: {enabled: false}\n")
    repo.commit("prod on latest, and the rule against it off")
    proc, report = diff(gate_cli, repo)
    assert proc.returncode == 0  # judged by the rules it brings
    assert report["audit"]["rules_from"] == "working tree"
    proc, report = diff(gate_cli, repo, "--rules-from", "base")
    assert proc.returncode == 1, proc.stdout
    assert results_of(report, "no-latest-tag", "fail")
    assert report["audit"]["rules_from"] == f"target base ({repo.sha('base')[:7]})"
    # The fingerprint is the base's: the rules that judged, not the ones proposed.
    names = {i["name"]: i["sha256"] for i in report["audit"]["inputs"]}
    base_config = repo.git("show", "base:.gate.yaml").encode()
    assert names[".gate.yaml"] == hashlib.sha256(base_config).hexdigest()


def test_a_change_cannot_waive_its_own_finding(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path)
    set_tag(repo, "prod", "latest")
    repo.write("waivers.yaml", WAIVERS.format(expires="2027-12-31"))
    repo.commit("prod on latest, waived by the same change")
    proc, _ = diff(gate_cli, repo, "--now", FROZEN)
    assert proc.returncode == 0
    proc, report = diff(gate_cli, repo, "--now", FROZEN, "--rules-from", "base")
    assert proc.returncode == 1
    assert report["audit"]["waivers"] == []


def test_rules_from_base_read_policy_directories_and_waivers_there(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    policy = (Path(__file__).resolve().parents[1] / "fixtures" / "policies" / "custom")
    custom = next(p for p in sorted(policy.glob("*.yaml")))
    repo = make_repo(tmp_path, "policy_dirs: [compliance/policies]\n")
    repo.write(f"compliance/policies/{custom.name}", custom.read_text(encoding="utf-8"))
    repo.write("waivers.yaml", WAIVERS.format(expires="2027-12-31"))
    repo.commit("a custom policy and a waiver")
    repo.git("branch", "-f", "base")
    set_tag(repo, "prod", "latest")
    repo.remove(f"compliance/policies/{custom.name}")
    repo.commit("prod on latest; the custom policy removed")
    proc, report = diff(gate_cli, repo, "--now", FROZEN, "--rules-from", "base")
    assert "Traceback" not in proc.stderr
    policies = {p["id"] for p in report["policies"]}
    loaded = {i["name"] for i in report["audit"]["inputs"]}
    assert f"compliance/policies/{custom.name}" in loaded and "waivers.yaml" in loaded
    assert len(policies) > 5
    [waived] = results_of(report, "no-latest-tag", "waived")
    assert waived["waiver"]["source"] == "waivers.yaml:2"


def test_a_broken_base_config_is_named_as_the_base(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path, "fail_on: sometimes\n")
    repo.write(".gate.yaml", ENVIRONMENTS)
    repo.commit("mend the config")
    proc, _ = diff(gate_cli, repo)
    assert proc.returncode == 0
    proc, _ = diff(gate_cli, repo, "--rules-from", "base")
    assert proc.returncode == 2
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith(".gate.yaml:8:") and "rules read from target base (" in line


def test_the_text_report_lists_the_change_tickets(tmp_path: Path, gate_cli: RunGate) -> None:
    repo = make_repo(tmp_path, TICKETS)
    set_tag(repo, "prod", "1.0.1")
    repo.commit("bump prod\n\nChange-Request: CHG104233")
    proc, _ = diff(gate_cli, repo)
    assert proc.returncode == 0
    assert "Change tickets (prod): CHG104233 [change-ticket]" in proc.stdout.splitlines()
