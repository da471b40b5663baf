"""``gate fetch``: bring the git policy sources a config names into the cache.

The runs that judge (``gate check``, ``gate diff``) use no network: a git source
they do not find in the cache is an error. This command fetches the sources ahead
of them, with the network, where and when the team allows it (a CI step before the
check, a runner image, a developer's machine). With ``--rules-from base`` it reads
the config where ``gate diff --rules-from base`` will: from the branch the change
merges into, so a change cannot make it fetch another repository.
"""
from __future__ import annotations

import argparse
from typing import Any

from gate.commands.common import add_cache_dir_option
from gate.errors import ConfigError, GateError
from gate.rulesource import RuleSource, disk


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "fetch", help="fetch the git policy sources the config names into the cache",
        description="Fetch every git policy source ({git, rev, path} under policy_dirs or "
                    "extends) the config and the files it extends name, at its pinned "
                    "commit, into the cache that gate check and gate diff read without "
                    "network.")
    parser.add_argument("-c", "--config", metavar="FILE",
                        help="config file (default: the nearest .gate.yaml)")
    add_cache_dir_option(parser)
    parser.add_argument("--rules-from", choices=("working-tree", "base"),
                        default="working-tree",
                        help="read the config from the working tree (default), or with "
                             "'base' from the commit gate diff --rules-from base reads it "
                             "from: the tip of --base REF, else HEAD")
    parser.add_argument("--base", metavar="REF",
                        help="with --rules-from base: the branch the change merges into")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from gate.config import load_config
    from gate.policy_sources import SourceCache

    source = _rule_source(args)
    files = source or disk()
    path = files.config_file(args.config) if args.config else files.find_config()
    if path is None:
        print(f"no config file ({files.label}): no git policy sources to fetch")
        return 0
    cache = SourceCache(args.cache_dir, fetch=True)
    try:
        config = load_config(path, files, cache)
    except GateError as exc:
        if source is None:
            raise
        raise type(exc)(f"{exc.message} (rules read from {files.label})", exc.file,
                        exc.line) from None
    if not cache.used:
        print(f"{config.file}: no git policy sources to fetch")
        return 0
    for label, state in cache.used.items():
        print(f"{state:<8} {label}")
    count = len(cache.used)
    print(f"\n{count} git {'source' if count == 1 else 'sources'} at their pinned commits "
          f"in {cache.root}")
    return 0


def _rule_source(args: argparse.Namespace) -> RuleSource | None:
    """Where the config is read: the working tree (None), or a commit."""
    if args.rules_from != "base":
        if args.base is not None:
            raise ConfigError("--base goes with --rules-from base")
        return None
    from gate.evaluation.changeset import EmptyTree
    from gate.git.repository import open_repository
    from gate.loading.trees import FileTree
    from gate.rulesource import RevisionRules

    repository = open_repository(".")
    if args.base is not None:
        sha: str | None = repository.resolve(args.base)
        name = f"target {args.base}"
    else:
        sha, name = repository.head_sha(), "HEAD"
    tree: FileTree
    if sha is None:
        tree, label = EmptyTree(), f"{name} (no commits yet)"
    else:
        tree, label = repository.tree_at(sha, name), f"{name} ({sha[:7]})"
    return RevisionRules(tree, repository.root, repository.relative_to_root("."), label=label)
