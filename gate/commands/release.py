"""``gate release show|diff|verify``: releases are tags of the manifest repository.

- ``show [--ref REF]``: microservice x environment -> version at a ref, marking what
  production runs that the certifying environment never ran, and what differs from the
  last release tag;
- ``diff TAG_A TAG_B``: release notes between two release tags (changes, commits, authors,
  change tickets);
- ``verify TAG``: the tagged tree passes the gate and production runs only certified
  versions: an evidence report in the report formats of ``gate check``.

Everything is read from git (no checkout), with the config of the working tree (the
rules are never the tag's own unless ``verify --rules-from tag`` asks for them).
docs/releases.md has the rules.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from gate import safewrite
from gate.commands.check import (
    KUSTOMIZE_MODES,
    add_kustomize_option,
    add_output_options,
    parse_formats,
    write_reports,
)
from gate.commands.common import (
    add_fail_on,
    add_policy_options,
    add_time_options,
    load_all,
    load_rules,
)
from gate.errors import ConfigError
from gate.governance.judging import Rules

VIEW_FORMATS = ("text", "markdown", "json", "html")


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "release", help="releases: what each environment runs, release notes, verification",
        description="Releases are tags of this repository (releases.tag_pattern) that align "
                    "the certified versions of every microservice (docs/releases.md).")
    actions = parser.add_subparsers(dest="release_command", metavar="ACTION",
                                    parser_class=type(parser))
    actions.required = True

    show = actions.add_parser(
        "show", help="the versions every environment deploys at a ref",
        description="The matrix of microservice x environment -> version at a ref; marks "
                    "versions production runs that the certifying environment never ran, and "
                    "environments that differ from the last release tag.")
    show.add_argument("--ref", default="HEAD", help="branch, tag or commit (default: HEAD)")
    _add_view_options(show)
    show.set_defaults(handler=run_show)

    diff = actions.add_parser(
        "diff", help="release notes between two release tags",
        description="Per microservice and environment what changed between two release "
                    "tags, with the commits, authors and change tickets in between.")
    diff.add_argument("old", metavar="TAG_A", help="the earlier release tag")
    diff.add_argument("new", metavar="TAG_B", help="the later release tag")
    _add_view_options(diff)
    diff.add_argument("--policies", metavar="PATH", action="append", default=[],
                      help="load policies from PATH as well (the change-ticket rule)")
    diff.add_argument("--no-builtin", action="store_true",
                      help="do not load the built-in policy pack")
    diff.set_defaults(handler=run_diff)

    verify = actions.add_parser(
        "verify", help="evidence that a release tag passes the gate and is certified",
        description="Judge the tree at a release tag as gate check judges a repository "
                    "(read from git, no checkout) and check that every production version "
                    "was certified; exit 0 (pass), 1 (blocking findings) or 2 (input error).")
    verify.add_argument("tag", metavar="TAG", help="the release tag")
    verify.add_argument("--rules-from", choices=("working-tree", "tag"), default="working-tree",
                        help="read the config, policies and waivers from the working tree "
                             "(default) or from the tagged tree itself")
    add_policy_options(verify)
    add_fail_on(verify)
    add_kustomize_option(verify)
    add_time_options(verify)
    add_output_options(verify)
    verify.set_defaults(handler=run_verify)


def _add_view_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", metavar="FILE",
                        help="config file (default: the nearest .gate.yaml)")
    parser.add_argument("--kustomize", choices=KUSTOMIZE_MODES, default="auto",
                        help="as for gate check")
    parser.add_argument("-f", "--format", metavar="FMT[=FILE]", action="append", default=[],
                        help=f"output format ({', '.join(VIEW_FORMATS)}), optionally written "
                             "to FILE; repeatable (default: text)")


def _write(formats: list[tuple[str, str | None]], renderers: dict[str, Callable[[], str]]) -> None:
    for name, path in formats:
        output = renderers[name]()
        if path is None:
            sys.stdout.write(output)
        else:
            # Never through a link, never into .git.
            safewrite.write_file(path, output, what="cannot write output")


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _history(args: argparse.Namespace, config: Any) -> Any:
    from gate.git.repository import open_repository
    from gate.governance.releases.history import ReleaseHistory

    return ReleaseHistory(open_repository("."), config, args.kustomize)


def _config(args: argparse.Namespace) -> Any:
    from gate.config import load_config
    from gate.rulesource import disk

    files = disk()
    return load_config(files.config_file(args.config) if args.config else files.find_config(),
                       files)


def run_show(args: argparse.Namespace) -> int:
    from gate.governance.releases.show import release_view
    from gate.reports import release_show

    formats = parse_formats(args.format, VIEW_FORMATS, "output")
    history = _history(args, _config(args))
    try:
        view = release_view(history, args.ref)
    finally:
        history.repository.close()
    _write(formats, {"text": lambda: release_show.text(view),
                     "markdown": lambda: release_show.markdown(view),
                     "json": lambda: _json(release_show.to_json(view)),
                     "html": lambda: release_show.html(view)})
    return 0


def _release_tag(history: Any, name: str) -> Any:
    """The release tag ``name``; a ConfigError for any other ref."""
    tag = history.tag(name)
    if tag is None:
        pattern = history.settings.tag_pattern
        if not history.settings.is_release_tag(name):
            raise ConfigError(f"{name!r} is not a release tag: its name does not match "
                              f"releases.tag_pattern {pattern!r}")
        raise ConfigError(f"no release tag {name!r} in this repository "
                          f"(release tags: {', '.join(t.name for t in history.tags) or 'none'})")
    return tag


def run_diff(args: argparse.Namespace) -> int:
    from gate.governance.releases.notes import TicketReader, release_notes, ticket_policy
    from gate.reports import release_notes as notes_report

    formats = parse_formats(args.format, VIEW_FORMATS, "output")
    args.fetch, args.cache_dir = False, None
    config, loaded, configured = load_all(args)
    history = _history(args, config)
    try:
        old, new = _release_tag(history, args.old), _release_tag(history, args.new)
        notes = release_notes(history, old, new, TicketReader(ticket_policy(loaded, configured)))
    finally:
        history.repository.close()
    _write(formats, {"text": lambda: notes_report.text(notes),
                     "markdown": lambda: notes_report.markdown(notes),
                     "json": lambda: _json(notes_report.to_json(notes)),
                     "html": lambda: notes_report.html(notes)})
    return 0


def _verify_rules(args: argparse.Namespace, history: Any, tag: Any) -> Rules:
    if args.rules_from != "tag":
        return load_rules(args)
    from gate.errors import GateError
    from gate.rulesource import RevisionRules

    repository = history.repository
    label = f"release tag {tag.name} ({tag.commit[:7]})"
    source = RevisionRules(repository.tree_at(tag.commit, tag.name), repository.root,
                           repository.relative_to_root("."), label=label,
                           from_disk=args.policies)
    try:
        return load_rules(args, source)
    except GateError as exc:
        raise type(exc)(f"{exc.message} (rules read from {label})", exc.file,
                        exc.line) from None


def run_verify(args: argparse.Namespace) -> int:
    from gate.clock import evaluation_time
    from gate.governance.releases.verify import verify

    formats = parse_formats(args.format)
    time = evaluation_time(args.now)
    working = load_rules(args)
    history = _history(args, working.config)
    try:
        tag = _release_tag(history, args.tag)
        rules = _verify_rules(args, history, tag)
        if rules is not working:
            history.config = rules.config
            history.settings = rules.config.releases
        report = verify(history, tag, rules, time, args.fail_on or rules.config.fail_on,
                        args.kustomize, args.helm)
    finally:
        history.repository.close()
    args.verbose = getattr(args, "verbose", False)
    write_reports(report, formats, args)
    if report.exit_code == 1 and args.exit_zero:
        return 0
    return report.exit_code
