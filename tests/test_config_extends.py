"""``extends:`` in ``.gate.yaml``: a config merged over a shared one, key by key, with
locks, cycles, missing and malformed files named by file and line."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from gate.config import apply_config, load_config
from gate.errors import ConfigError
from gate.evaluation.policy_assembly import assemble
from gate.evaluation.policy_loading import load_builtin
from tests.conftest import RunGate
from tests.gitrepo import GitRepo

SHARED = """\
fail_on: high
profile: baseline
policy_dirs: [policies]
policies:
  required-labels:
    enforcement: block
    parameters:
      labels: [team, app.kubernetes.io/name]
      from: both
    environments:
      prod: {severity: critical, enforcement: block}
      dev: {enabled: false}
  image-digest:
    severity: high
overrides:
  allowed: true
  approvers: [change-board@example.com]
  trailer: Bank-Override
environments:
  - discover: argocd
calendar:
  freezes:
    - {name: year-end, start: "2026-12-18T00:00:00+01:00", end: "2027-01-04T00:00:00+01:00",
       reason: year-end trading freeze, environments: [prod]}
"""

LOCAL = """\
extends: ../shared/gate.yaml
fail_on: medium
policy_dirs: [local-policies]
policies:
  required-labels:
    parameters:
      labels: [owner]
    environments:
      prod: {severity: high}
  no-latest-tag:
    enforcement: warn
overrides:
  commits: any
environments:
  - name: prod
    paths: ["envs/prod/**"]
"""


def policy(policy_id: str) -> str:
    return f"""\
apiVersion: gate.dev/v1
kind: Policy
id: {policy_id}
title: Nothing is called {policy_id}
description: d
rationale: r
remediation: rename it
severity: high
rules:
  - assert: "metadata.name != '{policy_id}'"
    message: "forbidden name"
    field: metadata.name
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def line_of(text: str, fragment: str) -> int:
    found = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(found) == 1, (fragment, found)
    return found[0]


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository holding a shared config beside the team's (the working directory)."""
    write(tmp_path, {
        "shared/gate.yaml": SHARED,
        "shared/policies/shared.yaml": policy("org-shared"),
        "team/.gate.yaml": LOCAL,
        "team/local-policies/local.yaml": policy("team-local"),
    })
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path / "team")
    return tmp_path


def test_maps_merge_key_by_key_lists_append_or_replace_and_scalars_replace(
        layout: Path) -> None:
    config = load_config(".gate.yaml")
    assert config.fail_on == "medium"  # the extending file's scalar
    assert config.profile == "baseline"  # kept from the shared file
    # Each directory relative to the file that names it, the shared ones first.
    assert config.policy_dirs == ["../shared/policies", "local-policies"]
    assert config.policies == {
        "required-labels": {
            "enforcement": "block",
            # a parameter's value is replaced whole, the others kept
            "parameters": {"labels": ["owner"], "from": "both"},
            "environments": {"prod": {"severity": "high", "enforcement": "block"},
                             "dev": {"enabled": False}},
        },
        "image-digest": {"severity": "high"},
        "no-latest-tag": {"enforcement": "warn"},
    }
    assert (config.overrides.allowed, config.overrides.trailer,
            config.overrides.commits) == (True, "Bank-Override", "any")
    # environments is replaced whole: the shared discover entry is gone.
    assert [rule.name for rule in config.environments.rules] == ["prod"]
    assert config.environments.argocd is None
    # The calendar only the shared file sets is kept, and names that file.
    assert config.calendar is not None
    assert [freeze.name for freeze in config.calendar.freezes] == ["year-end"]
    assert config.calendar.file == "../shared/gate.yaml"
    assert config.extended == ["../shared/gate.yaml"]


def test_the_merged_settings_configure_the_policies(layout: Path) -> None:
    config = load_config(".gate.yaml")
    policies = {p.id: p for p in apply_config(config, assemble(load_builtin()))}
    labels = policies["required-labels"]
    assert labels.info.enforcement == "block"
    assert labels.for_environment("prod").info.severity == "high"
    assert not labels.for_environment("dev").enabled
    assert labels.for_environment("staging").enabled
    assert policies["no-latest-tag"].info.enforcement == "warn"


def test_a_chain_of_three_files_each_over_the_one_it_extends(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {
        "org.yaml": "fail_on: low\nprofile: restricted\nbuiltin: false\n",
        "unit/unit.yaml": "extends: ../org.yaml\nfail_on: high\n",
        "repo/.gate.yaml": "extends: ../unit/unit.yaml\nprofile: baseline\n",
    })
    monkeypatch.chdir(tmp_path / "repo")
    config = load_config(".gate.yaml")
    assert (config.fail_on, config.profile, config.builtin) == ("high", "baseline", False)
    assert config.extended == ["../org.yaml", "../unit/unit.yaml"]


def test_a_mistake_in_a_merged_value_names_the_file_and_line_that_set_it(
        layout: Path) -> None:
    shared = SHARED.replace("  image-digest:\n", "  no-such-policy:\n")
    write(layout, {"shared/gate.yaml": shared})
    config = load_config(".gate.yaml")
    with pytest.raises(ConfigError) as caught:
        apply_config(config, assemble(load_builtin()))
    assert (caught.value.file, caught.value.line) == (
        "../shared/gate.yaml", line_of(shared, "no-such-policy:"))
    # A bad parameter the extending file sets is blamed on it.
    local = LOCAL.replace("labels: [owner]", "labels: 42")
    write(layout, {"team/.gate.yaml": local, "shared/gate.yaml": SHARED})
    with pytest.raises(ConfigError) as caught:
        apply_config(load_config(".gate.yaml"), assemble(load_builtin()))
    assert (caught.value.file, caught.value.line) == (".gate.yaml", line_of(local, "labels: 42"))
    # A calendar mistake in the shared file: that file and line.
    broken = SHARED.replace('start: "2026-12-18T00:00:00+01:00"', "start: tomorrow")
    write(layout, {"shared/gate.yaml": broken, "team/.gate.yaml": LOCAL})
    with pytest.raises(ConfigError) as caught:
        load_config(".gate.yaml")
    assert caught.value.file == "../shared/gate.yaml"
    assert caught.value.line == line_of(broken, "- {name: year-end")


def test_a_missing_file_is_one_line_naming_the_extends_line(
        layout: Path, gate_cli: RunGate) -> None:
    write(layout, {"team/.gate.yaml": "# the team's rules\nextends: ../shared/nope.yaml\n"})
    done = gate_cli("check", ".", cwd=layout / "team")
    assert done.returncode == 2
    # Outside the working directory a file is named by its absolute path, as ever.
    assert done.stderr == (".gate.yaml:2: error: extends: config file not found: "
                           f"{layout}/shared/nope.yaml\n")
    assert done.stdout == ""


@pytest.mark.parametrize("loop", ["self", "two", "three"])
def test_a_cycle_is_one_line_naming_every_file(
        layout: Path, gate_cli: RunGate, loop: str) -> None:
    shared = f"{layout}/shared"
    if loop == "self":
        write(layout, {"team/.gate.yaml": "extends: .gate.yaml\n"})
        expected = ".gate.yaml:1: error: extends: a cycle of config files: .gate.yaml -> .gate.yaml"
    elif loop == "two":
        write(layout, {"shared/gate.yaml": "builtin: true\nextends: ../team/.gate.yaml\n"})
        expected = (f"{shared}/gate.yaml:2: error: extends: a cycle of config files: "
                    f".gate.yaml -> {shared}/gate.yaml -> .gate.yaml")
    else:
        write(layout, {"shared/gate.yaml": "extends: middle.yaml\n",
                       "shared/middle.yaml": "extends: gate.yaml\n"})
        expected = (f"{shared}/middle.yaml:1: error: extends: a cycle of config files: "
                    f".gate.yaml -> {shared}/gate.yaml -> {shared}/middle.yaml -> "
                    f"{shared}/gate.yaml")
    done = gate_cli("check", ".", cwd=layout / "team")
    assert (done.returncode, done.stderr) == (2, expected + "\n")


@pytest.mark.parametrize(("text", "line", "message"), [
    ("fail_on: high\npolicies: [oops\nprofile: baseline\n", 3, "invalid YAML"),
    ("fail_on: high\nfail_on: low\n", 2, "duplicate key 'fail_on'"),
    ("builtin: true\nfail_on: sometimes\n", 2, "fail_on: 'sometimes' is not one of"),
    ("- a list\n", 1, "config must be a mapping, not a list"),
    ("builtin: true\nlocked: [fail_on, colour]\n", 2, "locked[1]: 'colour' is not one of"),
    ("extends: {git: /srv/x.git, rev: " + "a" * 40 + "}\n", 1,
     "extends: 'path' is a required property"),
])
def test_a_malformed_shared_file_is_named_with_its_own_line(
        layout: Path, gate_cli: RunGate, text: str, line: int, message: str) -> None:
    write(layout, {"shared/gate.yaml": text})
    done = gate_cli("check", ".", cwd=layout / "team")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    prefix = f"{layout}/shared/gate.yaml:{line}: error: "
    assert done.stderr.startswith(prefix), done.stderr
    assert message in done.stderr


def test_a_locked_key_cannot_be_set_by_a_file_that_extends_it(
        layout: Path, gate_cli: RunGate) -> None:
    shared = SHARED + "locked: [fail_on, calendar, policies.required-labels]\n"
    write(layout, {"shared/gate.yaml": shared})
    lock = f"{layout}/shared/gate.yaml:{line_of(shared, 'locked:')}"
    done = gate_cli("check", ".", cwd=layout / "team")
    assert done.stderr == (f".gate.yaml:{line_of(LOCAL, 'fail_on: medium')}: error: fail_on: "
                           f"locked by {lock}; a config that extends it may not set it\n")
    local = LOCAL.replace("fail_on: medium\n", "")
    write(layout, {"team/.gate.yaml": local})
    done = gate_cli("check", ".", cwd=layout / "team")
    assert done.stderr == (f".gate.yaml:{line_of(local, '  required-labels:')}: error: "
                           f"policies.required-labels: locked by {lock}; a config that "
                           "extends it may not set it\n")
    # What is not locked may still be set.
    unlocked = local.replace("  required-labels:\n    parameters:\n      labels: [owner]\n"
                             "    environments:\n      prod: {severity: high}\n", "")
    write(layout, {"team/.gate.yaml": unlocked})
    config = load_config(".gate.yaml")
    assert config.fail_on == "high"
    assert config.policies["required-labels"]["parameters"]["labels"] == [
        "team", "app.kubernetes.io/name"]
    assert config.policies["no-latest-tag"] == {"enforcement": "warn"}


def test_a_lock_binds_every_file_down_the_chain(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {
        "org.yaml": "waivers: false\nlocked: [waivers, policies]\n",
        "unit.yaml": "extends: org.yaml\nfail_on: high\n",
        "repo/.gate.yaml": "extends: ../unit.yaml\npolicies:\n  image-digest: {enabled: false}\n",
        "repo/waivers.yaml": "waivers: []\n",
    })
    monkeypatch.chdir(tmp_path / "repo")
    with pytest.raises(ConfigError) as caught:
        load_config(".gate.yaml")
    assert (caught.value.file, caught.value.line) == (".gate.yaml", 2)
    assert caught.value.message.startswith("policies: locked by ../org.yaml:2;")
    # waivers: false in the shared file holds: the waivers.yaml beside the config is unused.
    write(tmp_path, {"repo/.gate.yaml": "extends: ../unit.yaml\n"})
    config = load_config(".gate.yaml")
    assert config.waivers is None
    write(tmp_path, {"repo/.gate.yaml": "extends: ../unit.yaml\nwaivers: waivers.yaml\n"})
    with pytest.raises(ConfigError) as caught:
        load_config(".gate.yaml")
    assert (caught.value.file, caught.value.line) == (".gate.yaml", 2)
    assert caught.value.message.startswith("waivers: locked by ../org.yaml:2;")


def test_a_lock_on_an_unknown_policy_is_an_error(layout: Path) -> None:
    shared = SHARED + "locked: [policies.image-digets]\n"
    write(layout, {"shared/gate.yaml": shared})
    config = load_config(".gate.yaml")
    with pytest.raises(ConfigError) as caught:
        apply_config(config, assemble(load_builtin()))
    assert (caught.value.file, caught.value.line) == (
        "../shared/gate.yaml", line_of(shared, "locked:"))
    assert "unknown policy id 'image-digets'" in caught.value.message


def test_the_waivers_file_is_relative_to_the_file_that_names_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {
        "shared/gate.yaml": "waivers: exceptions/waivers.yaml\n",
        "shared/exceptions/waivers.yaml": "waivers: []\n",
        "repo/.gate.yaml": "extends: ../shared/gate.yaml\n",
    })
    monkeypatch.chdir(tmp_path / "repo")
    assert load_config(".gate.yaml").waivers == "../shared/exceptions/waivers.yaml"
    os.remove(tmp_path / "shared/exceptions/waivers.yaml")
    with pytest.raises(ConfigError) as caught:
        load_config(".gate.yaml")
    assert (caught.value.file, caught.value.line, caught.value.message) == (
        "../shared/gate.yaml", 1, "waivers file not found: exceptions/waivers.yaml")


def test_the_audit_lists_every_file_of_the_chain(
        layout: Path, gate_cli: RunGate) -> None:
    write(layout, {"team/deployment.yaml": "apiVersion: v1\nkind: ConfigMap\n"
                                           "metadata: {name: settings}\n"})
    done = gate_cli("check", "deployment.yaml", "-f", "json", cwd=layout / "team")
    assert done.returncode == 0, done.stderr
    audit = json.loads(done.stdout)["audit"]
    inputs = {entry["name"]: entry["sha256"] for entry in audit["inputs"]}
    for name, path in ((".gate.yaml", "team/.gate.yaml"),
                       (f"{layout}/shared/gate.yaml", "shared/gate.yaml"),
                       (f"{layout}/shared/policies/shared.yaml",
                        "shared/policies/shared.yaml"),
                       ("local-policies/local.yaml", "team/local-policies/local.yaml")):
        assert inputs[name] == hashlib.sha256((layout / path).read_bytes()).hexdigest()
    # A change to the shared file alone changes the fingerprint.
    write(layout, {"shared/gate.yaml": SHARED.replace("severity: high", "severity: medium")})
    again = json.loads(gate_cli("check", "deployment.yaml", "-f", "json",
                                cwd=layout / "team").stdout)["audit"]
    assert again["fingerprint"] != audit["fingerprint"]


@pytest.mark.e2e
def test_the_base_reads_the_whole_chain_from_the_base_commit(
        tmp_path: Path, run_gate: RunGate) -> None:
    """With --rules-from base a change that loosens the shared file it extends (here:
    in the same repository) is still judged by the base's version."""
    repo = GitRepo.init(tmp_path / "repo")
    repo.write_all({
        "ci/shared.yaml": "builtin: false\npolicy_dirs: [policies]\n",
        "ci/policies/names.yaml": policy("web"),
        ".gate.yaml": "extends: ci/shared.yaml\n",
        "apps/web.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n",
    })
    repo.commit("rules")
    repo.git("checkout", "-q", "-b", "change")
    repo.write("apps/web.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n")
    repo.write("ci/shared.yaml", "builtin: false\n")  # drops the policy directory
    repo.commit("rename, and loosen the shared rules")
    loose = run_gate("diff", "--base", "main", cwd=repo.path)
    assert loose.returncode == 0, loose.stdout + loose.stderr
    strict = run_gate("diff", "--base", "main", "--rules-from", "base", cwd=repo.path)
    assert strict.returncode == 1, strict.stdout + strict.stderr
    assert "forbidden name" in strict.stdout
