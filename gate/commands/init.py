"""``gate init [DIR]``: a starter configuration, an example policy with its tests, and a
pre-commit snippet. It never overwrites: if any file it would write exists, it writes
nothing."""
from __future__ import annotations

import argparse
import os
from typing import Any

from gate import __version__, safewrite
from gate.errors import ConfigError

CONFIG = ".gate.yaml"
CONFIG_NAMES = (".gate.yaml", ".gate.yml")  # either one would be the repository's config
POLICY_ID = "require-team-label"
POLICY = f"policies/{POLICY_ID}.yaml"
# Hidden, so that `gate check .` and `gate diff` skip the failing example and the policy
# loader (which reads every YAML file under policies/) does not take it for a policy.
TESTS = f"policies/.tests/{POLICY_ID}"
PRE_COMMIT = ".pre-commit-config.yaml"

CONFIG_TEXT = f"""\
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
policy_dirs: [policies]

# Which paths deploy to which environment (first match wins). Policies can be configured
# per environment, and `gate diff` judges a change once for each environment it reaches.
environments:
  - name: prod
    paths: ["envs/prod/**", "overlays/prod/**"]
  - name: staging
    paths: ["envs/staging/**", "overlays/staging/**"]
  # - discover: argocd                 # also read the Argo CD Applications in this repository

# Settings per policy, by id: enabled, severity, enforcement (block or warn) and
# parameters, for every environment or (under environments:) for one.
policies:
  required-labels:
    parameters:
      labels: [app.kubernetes.io/name]
  image-digest:
    enforcement: warn                  # its default: findings are reported, never block
    # environments:
    #   prod: {{enforcement: block}}     # in prod, every image must be pinned by digest
  {POLICY_ID}:                  # your example policy (remove this entry with it)
    parameters:
      label: team
  # change-ticket: {{enabled: true}}       # gate diff: prod changes cite a Change-Request trailer
  # promotion-certified: {{enabled: true}} # gate diff: prod runs only images staging ran

# The release calendar `gate diff` holds changes to (docs/release-windows.md):
# calendar:
#   windows:
#     - {{name: office-hours, kind: allow, schedule: "0 9 * * 1-5", duration: 8h,
#        timeZone: Europe/Berlin, environments: [prod]}}
#   freezes:
#     - {{name: year-end, start: "2026-12-18T00:00:00+01:00",
#        end: "2027-01-04T00:00:00+01:00", reason: year-end freeze, environments: [prod]}}

# Approved, expiring exceptions (docs/waivers.md). Default: waivers.yaml beside this file,
# when it exists.
# waivers: waivers.yaml

# Emergency overrides of overridable policies by a commit trailer such as
# `Gate-Override: INC-1234 <reason>` (docs/change-policies.md):
# overrides:
#   allowed: true
#   trailer: Gate-Override
"""

POLICY_TEXT = """\
# An example of a policy of your own, in gate's policy language (docs/policy-language.md).
# `gate explain require-team-label` prints its documentation; the manifests under
# policies/.tests/require-team-label/ are its test cases.
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

PRE_COMMIT_TEXT = f"""\
# pre-commit (https://pre-commit.com): run gate before every commit (`pre-commit install`).
# These hooks run the gate installed here (gate {__version__}); they are the same as the
# hooks gate's own repository publishes in .pre-commit-hooks.yaml, which you can use
# instead with `repo: <where you host gate>` and `rev: v{__version__}`.
repos:
  - repo: local
    hooks:
      # Keep the hook that fits this repository.
      - id: gate          # plain manifests: gate check of each staged YAML file, as written
        name: gate check
        entry: gate check
        language: system
        types: [yaml]
        exclude: ^policies/\\.tests/   # the example policy's failing test cases
      - id: gate-diff     # Kustomize or Helm: gate diff --staged, what the commit deploys
        name: gate diff --staged
        entry: gate diff --staged
        language: system
        pass_filenames: false
        always_run: true
"""


def starter_files() -> dict[str, str]:
    """Relative path -> content of every file ``gate init`` writes (pre-commit aside)."""
    return {
        CONFIG: CONFIG_TEXT,
        POLICY: POLICY_TEXT,
        f"{TESTS}/pass.yaml": PASS_TEXT,
        f"{TESTS}/fail.yaml": FAIL_TEXT,
        f"{TESTS}/{POLICY_ID}.test.yaml": TEST_TEXT,
    }


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "init", help="write a starter .gate.yaml, an example policy and a pre-commit snippet",
        description=f"Write a starter {CONFIG}, an example policy ({POLICY}) with test "
                    f"cases, and {PRE_COMMIT} (printed instead when one exists). "
                    "Existing files are never overwritten: if any exists, nothing is written.",
    )
    parser.add_argument("directory", nargs="?", default=".", metavar="DIR",
                        help="where to write (default: the current directory)")
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
    files = starter_files()
    existing = conflicts(directory, files)
    if existing:
        names = ", ".join(_display(directory, name) for name in existing)
        raise ConfigError(f"refusing to overwrite existing files: {names} (nothing written)")
    write_hooks = not os.path.lexists(os.path.join(directory, PRE_COMMIT))
    if write_hooks:
        files[PRE_COMMIT] = PRE_COMMIT_TEXT
    for relative in files:  # every target checked first: all are written or none
        safewrite.check_target(_display(directory, relative))
    for relative, text in files.items():
        _write(directory, relative, text)
        print(f"wrote {_display(directory, relative)}")
    if not write_hooks:
        print(f"\n{_display(directory, PRE_COMMIT)} exists; add gate's hooks to its repos:\n")
        print(PRE_COMMIT_TEXT.split("repos:\n", 1)[1], end="")
    _next_steps(directory)
    return 0


def _next_steps(directory: str) -> None:
    steps = [f"cd {directory}"] if directory not in (".", "") else []
    commands = [
        ("gate check", "check this repository"),
        (f"gate explain {POLICY_ID}", "the example policy's documentation"),
        ("gate test policies", "run the example policy's tests"),
        ("pre-commit install", "run gate before every commit"),
    ]
    width = max(len(command) for command, _ in commands)
    steps += [f"{command.ljust(width)}  # {why}" for command, why in commands]
    print("\nNext steps:")
    for step in steps:
        print(f"  {step}")
