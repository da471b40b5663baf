"""``gate check``: evaluate manifests in files, directories or standard input."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from gate import safewrite
from gate.color import CHOICES, use_color
from gate.commands.common import (
    add_fail_on,
    add_policy_options,
    add_time_options,
    load_all,
    policy_inputs,
)
from gate.config import Config
from gate.errors import ConfigError
from gate.reports import FORMATS, RenderOptions, chunk_renderer
from gate.results import Report, Result

if TYPE_CHECKING:
    from datetime import date


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "check", help="check manifests against the policies",
        description="Check Kubernetes manifests (files, directories, or - for stdin).",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", default=["."],
                        help="files or directories (*.yaml, *.yml), or - for standard input")
    add_policy_options(parser)
    add_fail_on(parser)
    add_kustomize_option(parser)
    add_time_options(parser)
    add_output_options(parser)
    add_jobs_option(parser)
    add_baseline_options(parser)
    parser.set_defaults(handler=run)


def add_baseline_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("baseline (existing debt; see docs/baseline.md)")
    which = group.add_mutually_exclusive_group()
    which.add_argument("--baseline", metavar="FILE",
                       help="findings that FILE records do not block: they are reported as "
                            "baselined until their entry expires; new findings still block")
    which.add_argument("--create-baseline", metavar="FILE",
                       help="record every blocking finding and warning of this run in FILE, "
                            "then report them as baselined, as --baseline FILE would")
    group.add_argument("--baseline-expires", metavar="YYYY-MM-DD",
                       help="the last day the entries --create-baseline writes apply "
                            "(default: 90 days after the evaluation date)")


def add_jobs_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-j", "--jobs", type=_jobs, default=0, metavar="N",
        help="processes that read and judge files side by side (default: 0, one per CPU "
             "this process may use); the report is the same whatever N is",
    )


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (one per CPU) or more: {value}")
    return value


KUSTOMIZE_MODES = ("auto", "builtin", "binary", "off")


def add_kustomize_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--helm", action="store_true",
        help="render Helm charts with `helm template` (needs a helm binary; without one, "
             "a note says which charts were not rendered)",
    )
    parser.add_argument(
        "--kustomize", choices=KUSTOMIZE_MODES, default="auto",
        help="render Kustomize overlays with the built-in renderer, a kustomize (or kubectl) "
             "binary, whichever is available (auto, the default), or not at all (off)",
    )


def add_output_options(parser: argparse.ArgumentParser) -> None:
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


def parse_formats(specs: list[str], known: Iterable[str] = FORMATS,
                  noun: str = "report") -> list[tuple[str, str | None]]:
    """``-f FMT[=FILE]`` options as (format, file or None for standard output)."""
    names = list(known)
    formats: list[tuple[str, str | None]] = []
    for spec in specs or ["text"]:
        name, sep, path = spec.partition("=")
        if name not in names:
            raise ConfigError(f"unknown {noun} format {name!r} (known: {', '.join(names)})")
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
    from gate.clock import evaluation_time
    from gate.evaluation.evaluate import evaluate_units, resource_policies, wants_documents
    from gate.evaluation.evaluate import report as build_report
    from gate.evaluation.parallel import available_cpus
    from gate.governance import judging as governance
    from gate.loading.workspace import Workspace

    formats = parse_formats(args.format)
    time = evaluation_time(args.now)
    expires = _baseline_expiry(args, time.instant.date())
    config, loaded, policies = load_all(args)
    waivers = governance.load_waivers(config, loaded)
    # Change policies judge a change (gate diff); a check has none.
    policies = resource_policies(policies)
    fail_on = args.fail_on or config.fail_on
    workspace = Workspace(kustomize_mode=args.kustomize, environments=config.environments,
                          documents=wants_documents(policies), helm=args.helm,
                          exclude=config.exclude)
    for path in args.paths:
        workspace.add(path)
    jobs = args.jobs or available_cpus()
    outcome = evaluate_units(policies, workspace.readers(), fail_on, jobs)
    outcome.notes.extend(workspace.notes())
    outcome.errors.extend(workspace.errors())
    complete = _whole_repository(args.paths, config)
    outcome.results, uses = governance.waive(outcome.results, waivers, time, complete=complete)
    inputs = policy_inputs(args, config)
    baseline = _baseline(args, outcome.results, time.instant.date(), expires)
    record = None
    if baseline is not None:
        from gate.governance.baseline import use_baseline

        outcome.results, record, digest = use_baseline(
            baseline, outcome.results, time.instant.date(), {p.id for p in loaded},
            complete=complete)
        inputs.append(digest)
    report = build_report(policies, outcome, fail_on, workspace.unjudged())
    report.audit = governance.audit(time, inputs, uses, [], [])
    report.audit.baseline = record
    report.audit.sort()
    write_reports(report, formats, args)
    if report.exit_code == 1 and args.exit_zero:
        return 0
    return report.exit_code


def _baseline_expiry(args: argparse.Namespace, today: date) -> date | None:
    """The last day the entries ``--create-baseline`` writes apply (checked before the
    run: a mistake costs no evaluation)."""
    if args.create_baseline is None:
        if args.baseline_expires is not None:
            raise ConfigError("--baseline-expires goes with --create-baseline")
        return None
    from gate.governance.baseline import expiry

    return expiry(args.baseline_expires, today)


def _baseline(args: argparse.Namespace, results: list[Result], today: date,
              expires: date | None) -> str | None:
    """The baseline file this check applies: ``--baseline FILE``, or the one
    ``--create-baseline FILE`` writes now from ``results``."""
    if args.create_baseline is None or expires is None:
        return str(args.baseline) if args.baseline is not None else None
    from gate.governance.baseline import write_baseline

    count = write_baseline(args.create_baseline, results, today, expires)
    sys.stderr.write(f"gate: wrote {count} finding(s) to {args.create_baseline}; its entries "
                     f"apply until {expires.isoformat()}\n")
    return str(args.create_baseline)


def _whole_repository(paths: list[str], config: Config) -> bool:
    """Whether the check covers everything the waivers can name, so an unmatched
    waiver is stale: one of the paths is the config's (or repository's) directory."""
    import os

    from gate.config import repository_root

    home = os.path.dirname(os.path.abspath(config.path)) if config.path else repository_root(
        os.path.abspath("."))
    return any(path != "-" and os.path.abspath(path) == home for path in paths)


def write_reports(report: Report, formats: list[tuple[str, str | None]],
                  args: argparse.Namespace) -> None:
    """Render every requested format to its file or to standard output."""
    for name, path in formats:
        stream = sys.stdout if path is None else None
        options = RenderOptions(
            color=stream is not None and name == "text" and use_color(args.color, stream),
            verbose=args.verbose,
        )
        pieces = chunk_renderer(name)(report, options)
        if path is None:
            sys.stdout.writelines(pieces)
        else:
            # Never through a link, never into .git: the change may have put either here.
            safewrite.write_file(path, pieces, what="cannot write report")
    if all(path is not None for _, path in formats):
        # Every report went to a file: still say on the terminal what happened.
        from gate.reports.text import summary_lines

        sys.stderr.write("\n".join(summary_lines(report, use_color(args.color, sys.stderr))) + "\n")
