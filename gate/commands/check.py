"""``gate check``: evaluate manifests in files, directories or standard input."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from gate.color import CHOICES, use_color
from gate.commands.common import add_fail_on, add_policy_options, load_all
from gate.errors import ConfigError
from gate.reports import FORMATS, RenderOptions, renderer


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "check", help="check manifests against the policies",
        description="Check Kubernetes manifests (files, directories, or - for stdin).",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", default=["."],
                        help="files or directories (*.yaml, *.yml), or - for standard input")
    add_policy_options(parser)
    add_fail_on(parser)
    output = parser.add_argument_group("output")
    output.add_argument("-f", "--format", metavar="FMT[=FILE]", action="append", default=[],
                        help=f"report format ({', '.join(FORMATS)}), optionally written to FILE; "
                             "repeatable (default: text)")
    output.add_argument("--color", choices=CHOICES, default="auto",
                        help="colour the text report (default: auto)")
    output.add_argument("-v", "--verbose", action="store_true",
                        help="also list skipped documents and waived findings")
    output.add_argument("--exit-zero", action="store_true",
                        help="exit 0 even when findings block (input errors still exit 2)")
    parser.set_defaults(handler=run)


def parse_formats(specs: list[str]) -> list[tuple[str, str | None]]:
    formats: list[tuple[str, str | None]] = []
    for spec in specs or ["text"]:
        name, sep, path = spec.partition("=")
        if name not in FORMATS:
            raise ConfigError(f"unknown report format {name!r} (known: {', '.join(FORMATS)})")
        if sep and not path:
            raise ConfigError(f"-f {spec}: no file name after '='")
        formats.append((name, path or None))
    to_stdout = [name for name, path in formats if path is None]
    if len(to_stdout) > 1:
        raise ConfigError(
            f"formats {', '.join(to_stdout)} would all write to standard output; "
            "give all but one a file (FMT=FILE)"
        )
    return formats


def run(args: argparse.Namespace) -> int:
    from gate.evaluate import run as evaluate_run
    from gate.sources import expand_paths

    formats = parse_formats(args.format)
    config, _, policies = load_all(args)
    fail_on = args.fail_on or config.fail_on
    report = evaluate_run(policies, expand_paths(args.paths), fail_on)
    for name, path in formats:
        stream = sys.stdout if path is None else None
        options = RenderOptions(
            color=stream is not None and name == "text" and use_color(args.color, stream),
            verbose=args.verbose,
        )
        text = renderer(name)(report, options)
        if path is None:
            sys.stdout.write(text)
        else:
            try:
                with open(path, "w", encoding="utf-8", newline="\n") as handle:
                    handle.write(text)
            except OSError as exc:
                raise ConfigError(f"cannot write report: {exc.strerror}", path) from None
    if all(path is not None for _, path in formats):
        # Every report went to a file: still say on the terminal what happened.
        from gate.reports.text import summary_lines

        sys.stderr.write("\n".join(summary_lines(report, use_color(args.color, sys.stderr))) + "\n")
    if report.exit_code == 1 and args.exit_zero:
        return 0
    return report.exit_code
