"""Command line: ``gate check``, ``gate diff``, ``gate policies``, ``gate explain``,
``gate init``, ``gate test``, ``gate environments``, ``gate drift``, ``gate release``."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gate import __version__
from gate.error_handler import guarded

COMMANDS = ("check", "diff", "policies", "explain", "init", "test", "environments", "fetch",
            "drift", "release")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        from gate.reports._escape import one_line

        self.print_usage(sys.stderr)
        self.exit(2, f"gate: error: {one_line(message)}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gate",
        description="Policy-as-code compliance gate for GitOps manifest repositories.",
    )
    parser.add_argument("--version", action="version", version=f"gate {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    from gate.commands import (
        check,
        diff,
        drift,
        environments,
        explain,
        fetch,
        init,
        policies,
        release,
        test,
    )

    check.add_parser(commands)
    diff.add_parser(commands)
    policies.add_parser(commands)
    explain.add_parser(commands)
    init.add_parser(commands)
    test.add_parser(commands)
    environments.add_parser(commands)
    fetch.add_parser(commands)
    drift.add_parser(commands)
    release.add_parser(commands)
    return parser


def tune_garbage_collector() -> None:
    """Collect cycles less often. Parsed manifests are large trees without cycles, and
    with the default thresholds the collector walks them again and again as they are
    built: a third of the time of a big ``gate check`` went there. Memory stays bounded,
    since the few cycles made are still collected, later."""
    import gc

    gc.set_threshold(50_000, 20, 100)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list in (["--version"], ["-V"]):
        # Answer without importing anything heavy.
        print(f"gate {__version__}")
        return 0

    tune_garbage_collector()

    def run() -> int:
        args = build_parser().parse_args(args_list)
        code: int = args.handler(args)
        return code

    try:
        return guarded(run)
    except SystemExit as exc:  # argparse: --help exits 0, usage errors exit 2
        return exc.code if isinstance(exc.code, int) else 2
