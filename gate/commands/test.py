"""``gate test [PATH ...]``: run policy tests (``*.test.yaml``), as ``kyverno test`` does."""
from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from gate import safewrite
from gate.commands.check import parse_formats
from gate.errors import ConfigError

if TYPE_CHECKING:
    from gate.policytest.running import FileOutcome, Outcome

FORMATS = ("text", "json")


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "test", help="run policy tests (*.test.yaml files)",
        description="Run the policy tests in the files given and in every *.test.yaml "
                    "(or *.test.yml) under the directories given: each states what "
                    "policies must find on resources and change documents "
                    "(docs/policy-testing.md). Exit 0 when every expectation holds, 1 when "
                    "one fails, 2 for a malformed test file, policy or resource.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", default=["."],
                        help="test files, or directories searched recursively "
                             "(default: the current directory)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="list the expectations that hold too")
    parser.add_argument("-f", "--format", metavar="FMT[=FILE]", action="append", default=[],
                        help=f"output format ({', '.join(FORMATS)}), optionally written to "
                             "FILE; repeatable (default: text)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # On demand: every command module is imported at start-up; the test runner is not.
    from gate.policytest.loading import discover, load_test_file
    from gate.policytest.running import PolicyCache, run_file

    formats = parse_formats(args.format, FORMATS, "output")
    paths = discover(args.paths)
    if not paths:
        raise ConfigError(f"no test files (*.test.yaml) under {', '.join(args.paths)}")
    test_files = [load_test_file(path) for path in paths]  # every file is valid before any runs
    cache = PolicyCache()
    outcomes = [run_file(test_file, cache) for test_file in test_files]
    for name, path in formats:
        text = render_json(outcomes) if name == "json" else render_text(outcomes, args.verbose)
        if path is None:
            sys.stdout.write(text)
        else:
            _write(path, text)
    if all(path is not None for _, path in formats):
        sys.stderr.write(summary(outcomes) + "\n")
    return 1 if any(outcome.failed for outcome in outcomes) else 0


def _write(path: str, text: str) -> None:
    safewrite.write_file(path, text)  # never through a link, never into .git


def outcome_line(outcome: Outcome) -> str:
    """``file:line: FAIL policy on subject: expected fail, got pass (messages: ...)``."""
    expectation = outcome.expectation
    verdict = "PASS" if outcome.passed else "FAIL"
    return (f"{outcome.test.file}:{expectation.line}: {verdict} {expectation.policy} on "
            f"{expectation.subject}: {outcome.detail}")


def summary(outcomes: list[FileOutcome]) -> str:
    passed = sum(outcome.passed for outcome in outcomes)
    failed = sum(outcome.failed for outcome in outcomes)
    files = f"{len(outcomes)} test file{'s' if len(outcomes) != 1 else ''}"
    total = passed + failed
    return (f"{files}, {total} expectation{'s' if total != 1 else ''}: "
            f"{passed} passed, {failed} failed")


def render_text(outcomes: list[FileOutcome], verbose: bool) -> str:
    lines: list[str] = []
    for file_outcome in outcomes:
        lines.append(f"{file_outcome.file}: {file_outcome.passed} passed, "
                     f"{file_outcome.failed} failed")
        lines.extend(outcome_line(outcome) for outcome in file_outcome.outcomes
                     if verbose or not outcome.passed)
    lines.append(summary(outcomes))
    return "\n".join(lines) + "\n"


def render_json(outcomes: list[FileOutcome]) -> str:
    passed = sum(outcome.passed for outcome in outcomes)
    failed = sum(outcome.failed for outcome in outcomes)
    document = {
        "summary": {"files": len(outcomes), "expectations": passed + failed,
                    "passed": passed, "failed": failed},
        "files": [_file_json(outcome) for outcome in outcomes],
    }
    return json.dumps(document, indent=2) + "\n"


def _file_json(file_outcome: FileOutcome) -> dict[str, Any]:
    return {
        "file": file_outcome.file,
        "passed": file_outcome.passed,
        "failed": file_outcome.failed,
        "expectations": [
            {
                "line": outcome.expectation.line,
                "test": outcome.test.name,
                "policy": outcome.expectation.policy,
                outcome.expectation.target: outcome.expectation.name,
                "status": outcome.expectation.status,
                "passed": outcome.passed,
                "detail": outcome.detail,
            }
            for outcome in file_outcome.outcomes
        ],
    }
