"""``gate policies``: list the loaded policies and their settings, or, with
``--framework``, which policies cover each control of a compliance framework."""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from gate.commands.common import add_policy_options, load_all
from gate.errors import ConfigError
from gate.evaluation.policy import Policy
from gate.governance.frameworks import (
    FRAMEWORKS,
    OTHER,
    OTHER_ALIAS,
    Framework,
    find,
    framework_of,
    sort_key,
)


def add_parser(commands: Any) -> None:
    known = ", ".join(framework.alias for framework in FRAMEWORKS)
    parser = commands.add_parser(
        "policies", help="list the loaded policies",
        description="List every loaded policy with its settings, or with --framework the "
                    "policies that cover each control of a compliance framework.")
    add_policy_options(parser)
    parser.add_argument(
        "--framework", metavar="NAME",
        help=f"list, per control of this framework, the loaded policies mapped to it "
             f"(enabled or not): {known}, {OTHER_ALIAS} (ids of frameworks gate does not "
             f"know), or a control-id prefix such as CIS-Kubernetes")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    framework: Framework | None = None
    if args.framework is not None:
        framework = _framework(args.framework)  # before loading: a typo fails fast
    _, loaded, enabled = load_all(args)
    if args.framework is not None:
        return _coverage(framework, loaded, {policy.id for policy in enabled})
    enabled_by_id = {policy.id: policy for policy in enabled}
    rows = []
    for policy in sorted(loaded, key=lambda p: p.id):
        effective = enabled_by_id.get(policy.id)
        info = (effective or policy).info
        state = "on" if effective else "off"
        judges = "change" if info.target == "change" else "resource"
        rows.append((policy.id, info.severity, info.enforcement, state, judges, info.title))
    _table(("ID", "SEVERITY", "ENFORCEMENT", "ENABLED", "JUDGES", "TITLE"), rows)
    print(f"\n{len(enabled)} of {len(loaded)} policies enabled")
    return 0


def _framework(name: str) -> Framework | None:
    """The framework ``--framework NAME`` names; None for ``other``. Unknown: exit 2."""
    if name.strip().casefold() == OTHER_ALIAS:
        return None
    framework = find(name)
    if framework is None:
        known = "; ".join(f"{f.alias} ({f.key}: {f.name})" for f in FRAMEWORKS)
        raise ConfigError(f"--framework: unknown framework {name!r}; known: {known}; "
                          f"{OTHER_ALIAS} (ids of frameworks gate does not know)")
    return framework


def _coverage(framework: Framework | None, loaded: list[Policy], enabled: set[str]) -> int:
    """Each control of ``framework`` (``Other`` when None) that a loaded policy names, with
    those policies (``(off)`` after one not enabled). Controls no policy names are not
    listed: gate does not catalogue frameworks."""
    covering: dict[str, list[str]] = {}
    for policy in sorted(loaded, key=lambda p: p.id):
        for control in dict.fromkeys(policy.info.controls):
            if framework_of(control) is framework:
                label = policy.id if policy.id in enabled else f"{policy.id} (off)"
                covering.setdefault(control, []).append(label)
    if framework is None:
        print(f"{OTHER}: control ids of frameworks gate does not know")
    else:
        print(f"{framework.name}: {framework.publisher}, {framework.url}")
    print()
    if not covering:
        print("No loaded policy is mapped to a control of this framework.")
        return 0
    rows = []
    for control in sorted(covering, key=sort_key):
        local = control.partition(":")[2] if framework is not None else control
        title = framework.controls.get(local) if framework is not None else None
        rows.append((local, ", ".join(covering[control]), title or "—"))
    _table(("CONTROL", "POLICIES", "TITLE"), rows)
    policies = {label.removesuffix(" (off)") for labels in covering.values() for label in labels}
    on = len(policies & enabled)
    print(f"\n{len(rows)} {'control' if len(rows) == 1 else 'controls'} covered by "
          f"{len(policies)} {'policy' if len(policies) == 1 else 'policies'} "
          f"({on} enabled)")
    return 0


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    """Columns padded to their widest cell, the last one left ragged; each cell on one line
    with controls escaped visibly (ids and titles of user policies are untrusted)."""
    from gate.reports._escape import one_line

    cleaned = [tuple(one_line(cell) for cell in row) for row in rows]
    columns = len(header) - 1
    widths = [max(len(row[i]) for row in [header, *cleaned]) for i in range(columns)]
    for row in [header, *cleaned]:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:columns]))
              + "  " + row[columns])
