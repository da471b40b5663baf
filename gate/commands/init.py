"""``gate init [DIR]``: a starter configuration fitted to the repository, an example
policy with its tests, and a pre-commit config.

It reads the repository first (gate.initlayout): environments from the folders and
Argo CD Applications it finds, and a policies folder where nothing exists. It never
overwrites: if any file it would write exists, it writes nothing."""
from __future__ import annotations

import argparse
import json
import os
import re
from typing import Any

from gate import hooksource, safewrite
from gate.errors import ConfigError
from gate.initlayout import Layout, read_layout

CONFIG = ".gate.yaml"
CONFIG_NAMES = (".gate.yaml", ".gate.yml")  # either one would be the repository's config
POLICY_ID = "require-team-label"
PRE_COMMIT = ".pre-commit-config.yaml"
HOOK_ID = "gate-diff"  # the ratchet hook: gate diff --staged, only new findings block


def policy_path(folder: str) -> str:
    return f"{folder}/{POLICY_ID}.yaml"


def tests_path(folder: str) -> str:
    # Hidden, so that `gate check .` and `gate diff` skip the failing example and the
    # policy loader (which reads every YAML file under the folder) does not take it for a
    # policy.
    return f"{folder}/.tests/{POLICY_ID}"


def config_text(layout: Layout) -> str:
    """The starter .gate.yaml, with what gate init found in the repository."""
    prod = layout.production() or "prod"  # the examples name production as found
    return f"""\
# The configuration of gate, the policy-as-code compliance gate, for this repository.
# Reference: docs/configuration.md in gate's documentation. `gate policies` lists the
# policies with the settings below applied; `gate explain ID` documents one of them.

# The lowest severity at which a blocking finding fails the gate: critical, high, medium,
# low or info. info (the default) means every blocking finding fails it.
fail_on: info

# The Kubernetes Pod Security Standards (the pss-* policies). Unset: baseline controls block
# and restricted ones warn. baseline: only the baseline blocks; restricted: both block.
# profile: restricted

# Your own policies, relative to this file, loaded beside the built-in pack.
policy_dirs: [{layout.policy_folder}]

# Which paths deploy to which environment (first match wins). Policies can be configured
# per environment, and `gate diff` judges a change once for each environment it reaches.
{_environments_text(layout)}
# Settings per policy, by id: enabled, severity, enforcement (block or warn) and
# parameters, for every environment or (under environments:) for one.
policies:
  required-labels:
    parameters:
      labels: [app.kubernetes.io/name]
  image-digest:
    enforcement: warn                  # its default: findings are reported, never block
    # environments:
    #   {prod}: {{enforcement: block}}     # in {prod}, every image must be pinned by digest
  {POLICY_ID}:                  # your example policy (remove this entry with it)
    parameters:
      label: team
  # change-ticket: {{enabled: true}}       # gate diff: prod changes cite a Change-Request trailer
  # promotion-certified: {{enabled: true}} # gate diff: prod runs only images staging ran

# The release calendar `gate diff` holds changes to (docs/release-windows.md):
# calendar:
#   windows:
#     - {{name: office-hours, kind: allow, schedule: "0 9 * * 1-5", duration: 8h,
#        timeZone: Europe/Berlin, environments: [{prod}]}}
#   freezes:
#     - {{name: year-end, start: "2026-12-18T00:00:00+01:00",
#        end: "2027-01-04T00:00:00+01:00", reason: year-end freeze, environments: [{prod}]}}

# Change policies (the calendar, change tickets) judge a change when it merges (gate diff
# --base), not a local commit (gate diff --staged, the pre-commit hook), unless:
# judge_change_policies_locally: true

# Approved, expiring exceptions (docs/waivers.md). Default: waivers.yaml beside this file,
# when it exists.
# waivers: waivers.yaml

# Emergency overrides of overridable policies by a commit trailer such as
# `Gate-Override: INC-1234 <reason>`, each approved by a second person listed here with a
# commit of their own carrying `Gate-Approve: INC-1234` (docs/change-policies.md):
# overrides:
#   allowed: true
#   approvers: [lead@example.com]
#   trailer: Gate-Override
"""


POLICY_TEXT = """\
# An example of a policy of your own, in gate's policy language (docs/policy-language.md).
# `gate explain require-team-label` prints its documentation; the manifests under
# .tests/require-team-label/ beside this file are its test cases.
apiVersion: gate.dev/v1
kind: Policy
id: require-team-label
title: Workloads name the team that owns them
description: |
  Every workload (any resource that runs pods: Deployment, StatefulSet, DaemonSet, Job,
  CronJob, Pod, Argo Rollout, ...) carries the label `label` (default `team`) in
  `metadata.labels`, with a value that matches `pattern`.
rationale: |
  In an incident the first question is who owns the failing workload. A team label answers
  it from the manifest, routes alerts and cost reports, and gives every running asset the
  owner an asset inventory (and its auditor) asks for.
remediation: |
  Add the label to the workload's `metadata.labels`, e.g. `team: payments`. With Kustomize,
  `labels:` in the kustomization sets it on every resource of the overlay.
severity: medium
enforcement: block
controls: ["NIST-800-53:CM-8"]
# The annotation gate.dev/waive.require-team-label: "<reason>" waives it on one resource.
inline_waivers: true
match:
  where: "pod_spec(@) != null"
parameters:
  label:
    description: The label key that names the owning team.
    default: team
    schema: {type: string, minLength: 1}
  pattern:
    description: A regular expression the team name matches (searched; anchor it).
    default: "^[a-z][a-z0-9-]*$"
    schema: {type: string, minLength: 1, format: regex}
rules:
  - name: team-label-set
    let:
      team: "get(metadata.labels, param('label'))"
    assert: "type(var('team')) == 'string' && var('team') != ''"
    message: >-
      {{ kind }} '{{ metadata.name }}' has no '{{ param('label') }}' label naming its
      owning team
    field: "metadata.labels.\\"{{ param('label') }}\\""
  - name: team-label-pattern
    let:
      team: "get(metadata.labels, param('label'))"
    assert: >-
      type(var('team')) != 'string' || var('team') == ''
      || regex_match(param('pattern'), var('team'))
    message: >-
      {{ kind }} '{{ metadata.name }}' label '{{ param('label') }}' value
      '{{ var('team') }}' does not match {{ param('pattern') }}
    field: "metadata.labels.\\"{{ param('label') }}\\""
examples:
  fail: |
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: checkout
      labels: {app.kubernetes.io/name: checkout}   # no team label
    spec:
      template:
        spec:
          containers: [{name: checkout, image: "registry.example.com/shop/checkout:1.4.2"}]
  pass: |
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: checkout
      labels: {app.kubernetes.io/name: checkout, team: payments}
    spec:
      template:
        spec:
          containers: [{name: checkout, image: "registry.example.com/shop/checkout:1.4.2"}]
"""

# A pod template every built-in policy passes (image-digest and the Restricted Pod Security
# Standard included), so the test cases differ from a model workload by their team label
# only: non-root, RuntimeDefault seccomp, no privilege escalation, no capabilities, a
# read-only root file system (an emptyDir for /tmp), probes, no service account token.
DIGEST = "sha256:" + "0123456789abcdef" * 4
_CONTAINERS = """\
  selector:
    matchLabels: {{app.kubernetes.io/name: {name}}}
  template:
    metadata:
      labels: {{app.kubernetes.io/name: {name}}}
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        seccompProfile: {{type: RuntimeDefault}}
      containers:
        - name: {name}
          image: registry.example.com/shop/{name}:1.4.2@{digest}
          ports: [{{name: http, containerPort: 8080}}]
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
            limits: {{cpu: 500m, memory: 256Mi}}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {{drop: [ALL]}}
          livenessProbe:
            httpGet: {{path: /healthz/live, port: http}}
          readinessProbe:
            httpGet: {{path: /healthz/ready, port: http}}
          volumeMounts: [{{name: tmp, mountPath: /tmp}}]
      volumes: [{{name: tmp, emptyDir: {{}}}}]
"""

PASS_TEXT = f"""\
# Test cases of {POLICY_ID}: every resource in this file must PASS it.
# One case per document, each introduced by a `# Case:` comment. The other policies of
# the starter configuration pass them too: `gate check` of this file exits 0.
# Case: the team label is set and matches the pattern
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  labels: {{app.kubernetes.io/name: checkout, team: payments}}
spec:
{_CONTAINERS.format(name="checkout", digest=DIGEST)}---
# Case: a resource that runs no pods is not judged
apiVersion: v1
kind: Service
metadata:
  name: checkout
  labels: {{app.kubernetes.io/name: checkout}}
spec:
  selector: {{app.kubernetes.io/name: checkout}}
  ports: [{{port: 80, targetPort: http}}]
"""

FAIL_TEXT = f"""\
# Test cases of {POLICY_ID}: every resource in this file must FAIL it (and no other
# policy of the starter configuration: `gate check` of this file exits 1, with findings of
# {POLICY_ID} only). One case per document, each introduced by a `# Case:` comment,
# saying which field the finding names.
# Case: no team label (finding at metadata.labels.team)
apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders
  labels: {{app.kubernetes.io/name: orders}}
spec:
{_CONTAINERS.format(name="orders", digest=DIGEST)}---
# Case: a team name the pattern rejects (finding at metadata.labels.team)
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: ledger
  labels: {{app.kubernetes.io/name: ledger, team: Payments_EU}}
spec:
{_CONTAINERS.format(name="ledger", digest=DIGEST)}"""

TEST_TEXT = f"""\
# The tests of {POLICY_ID}: `gate test policies` runs them (docs/policy-testing.md).
apiVersion: gate.dev/v1
kind: PolicyTest
name: {POLICY_ID} on its passing and failing cases
policies: [../../{POLICY_ID}.yaml]
resources: [pass.yaml, fail.yaml]
expect:
  - policy: {POLICY_ID}
    resource: Deployment/checkout
    status: pass
  - policy: {POLICY_ID}
    resource: Service/checkout
    status: not-applicable
  - policy: {POLICY_ID}
    resource: Deployment/orders
    status: fail
    field: metadata.labels.team
  - policy: {POLICY_ID}
    resource: StatefulSet/ledger
    status: fail
    field: metadata.labels.team
    message: {{regex: "does not match"}}
"""

def pre_commit_text(repository: str) -> str:
    """The pre-commit config: the ratchet hook of gate's own repository, at the release
    tag of this gate (never `language: system`, which needs gate on the PATH)."""
    return f"""\
# pre-commit (https://pre-commit.com): `pre-commit install` runs gate before every commit.
# The {HOOK_ID} hook of gate's repository (its .pre-commit-hooks.yaml) runs
# `gate diff --staged`: it judges what the staged change deploys, in every overlay it
# reaches, and only findings the change adds block, so findings already merged never
# block an unrelated commit. Change policies (release windows, change tickets) judge a
# change when it merges, not when it is committed. pre-commit installs gate in an
# environment of its own, at `rev`: keep it on a release tag of gate (docs/ci.md).
repos:
  - repo: {_yaml_scalar(repository)}
    rev: {hooksource.release_tag()}
    hooks:
      - id: {HOOK_ID}
"""


def _yaml_scalar(text: str) -> str:
    """``text`` as a YAML scalar: plain when that is safe, else double-quoted."""
    if re.fullmatch(r"[A-Za-z0-9/][A-Za-z0-9@:/._~+-]*", text):
        return text
    return json.dumps(text)


def _environments_text(layout: Layout) -> str:
    """The ``environments:`` block: what the repository shows, or a commented example."""
    if not layout.environments and not layout.applications:
        return """\
# gate init found no environment folders (such as overlays/prod, envs/staging or
# clusters/production) and no Argo CD Applications here: name yours, for example
# environments:
#   - name: prod
#     paths: ["overlays/prod/**"]
#   - discover: argocd                 # read the Argo CD Applications in this repository
"""
    found = []
    if layout.environments:
        found.append("folders named for environments")
    if layout.applications:
        found.append("Argo CD Applications")
    lines = [f"# Proposed by gate init from the {' and '.join(found)} in this repository.",
             "environments:"]
    for environment in layout.environments:
        lines.append(f"  - name: {environment.name}")
        globs = ", ".join(json.dumps(glob) for glob in environment.paths)
        lines.append(f"    paths: [{globs}]")
    if layout.applications:
        lines.append("  - discover: argocd                 # the Argo CD Applications here")
    else:
        lines.append("  # - discover: argocd               # also read Argo CD Applications")
    return "\n".join(lines) + "\n"


def starter_files(layout: Layout) -> dict[str, str]:
    """Relative path -> content of every file ``gate init`` writes (pre-commit aside)."""
    tests = tests_path(layout.policy_folder)
    return {
        CONFIG: config_text(layout),
        policy_path(layout.policy_folder): POLICY_TEXT,
        f"{tests}/pass.yaml": PASS_TEXT,
        f"{tests}/fail.yaml": FAIL_TEXT,
        f"{tests}/{POLICY_ID}.test.yaml": TEST_TEXT,
    }


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "init", help="write a starter .gate.yaml fitted to the repository, an example "
                     "policy and a pre-commit config",
        description=f"Read the repository, then write a starter {CONFIG} (environments "
                    "from the folders and Argo CD Applications found), an example policy "
                    "with test cases (in policies/, or .gate/policies where policies/ "
                    f"exists), and {PRE_COMMIT} with gate's {HOOK_ID} hook (printed "
                    "instead when one exists). Existing files are never overwritten: if "
                    "any exists, nothing is written.",
    )
    parser.add_argument("directory", nargs="?", default=".", metavar="DIR",
                        help="where to write (default: the current directory)")
    parser.add_argument("--hooks-repo", metavar="URL",
                        help="the git repository pre-commit takes gate's hooks from "
                             "(default: the one this gate was installed from, when known)")
    parser.set_defaults(handler=run)


def _display(directory: str, relative: str) -> str:
    return relative if directory in (".", "") else os.path.join(directory, relative)


def _blocked(directory: str, relative: str) -> str | None:
    """The existing path that stops ``relative`` from being written, if any."""
    parts = relative.split("/")
    for end in range(1, len(parts) + 1):
        partial = "/".join(parts[:end])
        path = os.path.join(directory, partial)
        if end == len(parts) and os.path.lexists(path):
            return partial
        if end < len(parts) and os.path.lexists(path) and not os.path.isdir(path):
            return partial
    return None


def conflicts(directory: str, files: dict[str, str]) -> list[str]:
    """The existing files (or non-directories in the way) among the targets."""
    found = {_blocked(directory, relative) for relative in [*files, *CONFIG_NAMES]}
    return sorted(name for name in found if name is not None)


def _write(directory: str, relative: str, text: str) -> None:
    # A new file only, its directories made without following a link inside the
    # repository, never inside .git.
    safewrite.write_file(_display(directory, relative), text, exclusive=True,
                         create_directories=True)


def run(args: argparse.Namespace) -> int:
    directory: str = args.directory
    if os.path.lexists(directory) and not os.path.isdir(directory):
        raise ConfigError("not a directory", directory)
    hooks_repo = (hooksource.check_given(args.hooks_repo) if args.hooks_repo is not None
                  else hooksource.installed_from())
    layout = read_layout(directory)
    files = starter_files(layout)
    existing = conflicts(directory, files)
    if existing:
        names = ", ".join(_display(directory, name) for name in existing)
        raise ConfigError(f"refusing to overwrite existing files: {names} (nothing written)")
    pre_commit_exists = os.path.lexists(os.path.join(directory, PRE_COMMIT))
    if hooks_repo is not None and not pre_commit_exists:
        files[PRE_COMMIT] = pre_commit_text(hooks_repo)
    for relative in files:  # every target checked first: all are written or none
        safewrite.check_target(_display(directory, relative))
    for relative, text in files.items():
        _write(directory, relative, text)
        print(f"wrote {_display(directory, relative)}")
    _found(directory, layout)
    # Where gate's repository is unknown, the address is left for the reader to fill in,
    # never guessed (pre-commit would run whatever a guessed address serves).
    unknown = ("" if hooks_repo is not None else
               ", with the address of gate's repository for URL (this gate was not "
               "installed from a git repository and names none; gate init --hooks-repo "
               "URL names it)")
    if pre_commit_exists:
        print(f"\n{_display(directory, PRE_COMMIT)} exists; add gate's hook to its "
              f"repos{unknown}:\n")
        print(pre_commit_text(hooks_repo or "URL").split("repos:\n", 1)[1], end="")
    elif hooks_repo is None:
        print(f"\nwrote no {PRE_COMMIT}; add this to it by hand{unknown}:\n")
        print(pre_commit_text("URL").split("repos:\n", 1)[1], end="")
    _next_steps(directory, layout, PRE_COMMIT in files or pre_commit_exists)
    return 0


def _found(directory: str, layout: Layout) -> None:
    """What gate init read in the repository, and what it made of it."""
    lines = []
    for environment in layout.environments:
        folders = ", ".join(glob.removesuffix("/**") for glob in environment.paths)
        lines.append(f"environment {environment.name}: {folders}")
    if layout.applications:
        lines.append(f"{layout.applications} Argo CD Application(s): discover: argocd maps "
                     "the paths each deploys to its environment (its gate.dev/environment, "
                     "environment or env label; unlabelled: unknown, treated as prod)")
    if layout.templated:
        lines.append("Argo CD Applications only in Helm chart templates, which discovery "
                     "does not render: " + ", ".join(layout.templated) + " (name the "
                     "environments of what they deploy in .gate.yaml)")
    if not layout.environments and not layout.applications:
        lines.append("no environment folders (overlays/prod, envs/staging, "
                     "clusters/production, ...) and no Argo CD Applications: name your "
                     f"environments in {_display(directory, CONFIG)}")
    if layout.taken is not None:
        lines.append(f"{layout.taken}/ exists and is left untouched: gate's policies go "
                     f"to {layout.policy_folder}/")
    lines.extend(layout.notes)
    print("\nFound in this repository:")
    for line in lines:
        print(f"  {line}")


def _next_steps(directory: str, layout: Layout, hooks: bool) -> None:
    steps = [f"cd {directory}"] if directory not in (".", "") else []
    commands = [
        ("gate check", "check this repository"),
        (f"gate explain {POLICY_ID}", "the example policy's documentation"),
        (f"gate test {layout.policy_folder}", "run the example policy's tests"),
    ]
    if hooks:
        commands.append(("pre-commit install", "run gate before every commit"))
    width = max(len(command) for command, _ in commands)
    steps += [f"{command.ljust(width)}  # {why}" for command, why in commands]
    print("\nNext steps:")
    for step in steps:
        print(f"  {step}")
