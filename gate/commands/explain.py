"""``gate explain ID``: what a policy checks, why it matters and how to fix it."""
from __future__ import annotations

import argparse
import json
import textwrap
from typing import Any

from gate.commands.common import add_policy_options, load_all
from gate.errors import ConfigError
from gate.evaluation.policy import Policy
from gate.results import PolicyInfo


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("explain", help="explain one policy",
                                 description="Print a policy's documentation.")
    parser.add_argument("policy_id", metavar="ID", help="policy id (see `gate policies`)")
    add_policy_options(parser)
    parser.set_defaults(handler=run)


def _section(title: str, body: str) -> list[str]:
    return [f"## {title}", "", body.strip(), ""]


def _value(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def describe(policy: Policy, enabled: bool) -> str:
    lines = _head(policy.info, "yes" if enabled else "no")
    if policy.parameters:
        lines += ["## Parameters", ""]
        for name, parameter in policy.parameters.items():
            lines.append(f"- {name}: {textwrap.shorten(parameter.description, 200)}")
            lines.append(f"  default: {_value(parameter.default)}")
            if policy.params.get(name) != parameter.default:
                lines.append(f"  configured: {_value(policy.params.get(name))}")
        lines.append("")
    examples = policy.spec.get("examples", {})
    for key, title in (("fail", "Example: fails"), ("pass", "Example: passes")):
        if key in examples:
            lines += [f"## {title}", "", textwrap.indent(examples[key].rstrip(), "    "), ""]
    return "\n".join(lines).rstrip() + "\n"


def describe_check(info: PolicyInfo, enabled: str, judges: str) -> str:
    """A check defined in code rather than a policy file (``release-certified``)."""
    return "\n".join(_head(info, enabled, judges)).rstrip() + "\n"


def _head(info: PolicyInfo, enabled: str, judges: str | None = None) -> list[str]:
    lines = [f"# {info.id}: {info.title}", ""]
    lines.append(f"Severity: {info.severity}    Enforcement: {info.enforcement}    "
                 f"Enabled: {enabled}")
    if info.controls:
        lines.append(f"Controls: {', '.join(info.controls)}")
    if judges is None:
        judges = ("each change, once per environment it reaches (gate diff)"
                  if info.target == "change" else f"{info.target}")
    traits = [f"Judges: {judges}"]
    if info.overridable:
        traits.append("Overridable: yes")
    if info.inline_waivers:
        traits.append("Inline waivers: yes")
    lines.append("    ".join(traits))
    lines.append(f"Defined in: {info.file}")
    lines.append("")
    lines += _section("What it checks", info.description)
    lines += _section("Why it matters", info.rationale)
    lines += _section("How to fix it", info.remediation)
    return lines


def run(args: argparse.Namespace) -> int:
    _, loaded, enabled = load_all(args)
    effective = {policy.id: policy for policy in enabled}
    for policy in loaded:
        if policy.id == args.policy_id:
            print(describe(effective.get(policy.id, policy), policy.id in effective), end="")
            return 0
    from gate.governance.releases.verify import CERTIFIED

    if args.policy_id == CERTIFIED.id:
        print(describe_check(CERTIFIED, "in gate release verify",
                             "every production version of the release tag verified"), end="")
        return 0
    known = ", ".join(sorted([*(policy.id for policy in loaded), CERTIFIED.id]))
    raise ConfigError(f"no policy with id {args.policy_id!r} (known: {known})")
