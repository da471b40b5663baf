"""``gate policies``: list the loaded policies and their settings."""
from __future__ import annotations

import argparse
from typing import Any

from gate.commands.common import add_policy_options, load_all


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("policies", help="list the loaded policies",
                                 description="List every loaded policy with its settings.")
    add_policy_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    _, loaded, enabled = load_all(args)
    enabled_by_id = {policy.id: policy for policy in enabled}
    rows = []
    for policy in sorted(loaded, key=lambda p: p.id):
        effective = enabled_by_id.get(policy.id)
        info = (effective or policy).info
        state = "on" if effective else "off"
        judges = "change" if info.target == "change" else "resource"
        rows.append((policy.id, info.severity, info.enforcement, state, judges, info.title))
    header = ("ID", "SEVERITY", "ENFORCEMENT", "ENABLED", "JUDGES", "TITLE")
    columns = len(header) - 1
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(columns)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:columns]))
              + "  " + row[columns])
    print(f"\n{len(enabled)} of {len(loaded)} policies enabled")
    return 0
