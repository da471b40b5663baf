"""Options and loading shared by the commands that need policies."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from gate.config import Config, apply_config, load_config
from gate.evaluation.policy import Policy
from gate.evaluation.policy_assembly import assemble
from gate.evaluation.policy_loading import load_builtin, load_directory
from gate.governance.judging import Rules, load_waivers
from gate.governance.judging import policy_inputs as judged_inputs
from gate.results import SEVERITIES
from gate.rulesource import RuleSource, disk

if TYPE_CHECKING:
    from gate.policy_sources import SourceCache


def add_policy_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("policies and configuration")
    group.add_argument("-c", "--config", metavar="FILE",
                       help="config file (default: the nearest .gate.yaml)")
    group.add_argument("--policies", metavar="PATH", action="append", default=[],
                       help="load policies from PATH as well, a file or a directory "
                            "(repeatable)")
    group.add_argument("--no-builtin", action="store_true",
                       help="do not load the built-in policy pack")
    add_source_options(group)


def add_source_options(group: argparse._ArgumentGroup) -> None:
    """Where git policy sources (``{git, rev, path}`` in the config) are read from."""
    group.add_argument("--fetch", action="store_true",
                       help="fetch git policy sources the cache does not hold yet (without "
                            "it, gate uses no network and such a source is an error)")
    add_cache_dir_option(group)


def add_cache_dir_option(group: argparse._ActionsContainer) -> None:
    group.add_argument("--cache-dir", metavar="DIR",
                       help="the cache of git policy sources (default: $GATE_CACHE_DIR, else "
                            "$XDG_CACHE_HOME/gate, else ~/.cache/gate)")


def source_cache(args: argparse.Namespace) -> SourceCache:
    """The cache of git policy sources the options name."""
    from gate.policy_sources import SourceCache

    return SourceCache(getattr(args, "cache_dir", None), fetch=getattr(args, "fetch", False))


def add_fail_on(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fail-on", metavar="SEVERITY", choices=SEVERITIES,
                        help="lowest severity of a blocking finding that fails the gate "
                             f"({', '.join(SEVERITIES)}; default: every severity)")


def add_time_options(parser: argparse.ArgumentParser, at: bool = False) -> None:
    group = parser.add_argument_group("evaluation time")
    group.add_argument("--now", metavar="ISO-8601",
                       help="judge release windows, freezes and waiver expiry at this instant, "
                            "e.g. 2026-12-24T18:00:00+01:00 (default: SOURCE_DATE_EPOCH if set, "
                            "else the clock)")
    if at:
        group.add_argument("--at", choices=("now", "commit"),
                           help="commit: judge at the head commit's committer time")


def policy_inputs(args: argparse.Namespace, config: Config) -> list[tuple[str, str]]:
    """(name, sha256) of the policy files, config and waivers this run was judged by,
    read where the config was read."""
    builtin = config.builtin and not args.no_builtin
    return judged_inputs(config, builtin, [*config.policy_dirs, *args.policies])


def load_all(args: argparse.Namespace, source: RuleSource | None = None,
             cache: SourceCache | None = None) -> tuple[Config, list[Policy], list[Policy]]:
    """(config, every loaded policy, the enabled and configured ones), read from
    ``source`` (the working tree by default), git sources from ``cache`` (as the
    options say by default); the built-in pack comes with gate."""
    files = source or disk()
    config = load_config(files.config_file(args.config) if args.config else files.find_config(),
                         files, cache or source_cache(args))
    policies: list[Policy] = []
    if config.builtin and not args.no_builtin:
        policies.extend(load_builtin())
    for directory in [*config.policy_dirs, *args.policies]:
        policies.extend(load_directory(directory, config.files))
    policies = assemble(policies)
    return config, policies, apply_config(config, policies)


def load_rules(args: argparse.Namespace, source: RuleSource | None = None) -> Rules:
    """Config, policies and waivers from ``source`` (the working tree by default)."""
    config, loaded, policies = load_all(args, source)
    waivers = load_waivers(config, loaded)
    return Rules(config, policies, waivers, policy_inputs(args, config), config.files.label)
