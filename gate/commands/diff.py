"""``gate diff``: judge what a change would deploy, not the whole repository.

Both sides of the change are read straight from git (no checkout): the
resources in changed files, and every Kustomize overlay whose inputs include a
changed file. A finding is *new* when the base side had no finding of the same
policy on the same resource and field; by default only new blocking findings
fail the gate (a ratchet: debt already merged does not block unrelated work).
"""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from gate.commands.check import (
    add_kustomize_option,
    add_output_options,
    parse_formats,
    write_reports,
)
from gate.commands.common import (
    add_fail_on,
    add_policy_options,
    add_time_options,
    load_rules,
)
from gate.errors import ConfigError, GateError
from gate.governance.judging import Rules
from gate.results import ChangedFile, ChangeSummary, Report

if TYPE_CHECKING:
    from gate.git.repository import Repository


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "diff", help="check what a change (a commit range, the index or the working tree) deploys",
        description="Check the resources a change adds or alters, in every overlay it reaches. "
                    "Exactly one of --base, --staged or --worktree is required.",
    )
    sides = parser.add_argument_group("what to compare (one of)")
    sides.add_argument("--base", metavar="REF",
                       help="compare the merge-base of REF and --head with --head")
    sides.add_argument("--staged", action="store_true",
                       help="compare the index with HEAD (for pre-commit)")
    sides.add_argument("--worktree", action="store_true",
                       help="compare the working tree, untracked files included, with HEAD")
    sides.add_argument("--head", metavar="REF",
                       help="the head side with --base (default: HEAD)")
    sides.add_argument("--head-commit", metavar="REF",
                       help="with --base: the change's own head commit (a pull request's "
                            "head) when the head is a merge CI made of it with the base; "
                            "change tickets and overrides are read from its commits. "
                            "Default: the head, or the change's side of a merge CI made "
                            "(see docs/change-policies.md)")
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="consider only changed files under these paths")
    parser.add_argument("--all", action="store_true",
                        help="block on every blocking finding, not only those the change adds")
    parser.add_argument("--show-existing", action="store_true",
                        help="list the existing findings the change did not add (by default "
                             "they are counted per policy)")
    parser.add_argument("--rules-from", choices=("working-tree", "base"), default="working-tree",
                        help="read the config, policies, waivers and release manifest from "
                             "the working tree (default), or with 'base' from the branch the "
                             "change merges into: the tip of --base REF (HEAD with --staged "
                             "or --worktree), so that a change cannot choose or loosen the "
                             "rules that judge it")
    add_policy_options(parser)
    add_fail_on(parser)
    add_kustomize_option(parser)
    add_time_options(parser, at=True)
    add_output_options(parser)
    parser.set_defaults(handler=run)


def _mode(args: argparse.Namespace) -> str:
    chosen = [name for name, on in (("commits", args.base is not None),
                                    ("staged", args.staged), ("worktree", args.worktree)) if on]
    if len(chosen) != 1:
        raise ConfigError("gate diff needs exactly one of --base REF, --staged or --worktree")
    if args.head is not None and chosen[0] != "commits":
        raise ConfigError("--head goes with --base")
    if args.head_commit is not None and chosen[0] != "commits":
        raise ConfigError("--head-commit goes with --base")
    return chosen[0]


def run(args: argparse.Namespace) -> int:
    from gate.clock import evaluation_time
    from gate.evaluation.changeset import Side, compare
    from gate.git.commits import Commit
    from gate.git.repository import open_repository
    from gate.governance import judging as governance
    from gate.governance.change_commits import change_commits
    from gate.governance.change_context import change_context
    from gate.governance.change_log import commit_log
    from gate.governance.localchange import held_for_merge
    from gate.governance.ratchet import classify, existing_counts, is_existing

    mode = _mode(args)
    formats = parse_formats(args.format)
    repository = open_repository(".")
    scope = [repository.relative_to_root(path) for path in args.paths]
    commits: list[Commit] = []
    commit_notes: list[str] = []
    # Where --rules-from base reads the rules: the target's tip, not the merge-base.
    target: tuple[str | None, str]

    if mode == "commits":
        base_sha = repository.resolve(args.base)
        head_ref = args.head or "HEAD"
        head_sha = repository.resolve(head_ref)
        merge_base = repository.merge_base(base_sha, head_sha)
        changes = repository.diff_commits(merge_base, head_sha)
        base = Side(repository.tree_at(merge_base))
        head = Side(repository.tree_at(head_sha))
        summary = ChangeSummary(mode, args.base, base_sha, head_ref, head_sha, merge_base, [])
        # The author's commits: never a merge CI made of the change with the base.
        given = None if args.head_commit is None else repository.resolve(args.head_commit)
        own = change_commits(repository, base_sha, merge_base, head_sha, given,
                             args.head_commit or "")
        commits, commit_notes = own.commits, own.notes
        target = (base_sha, f"target {args.base}")
    else:
        from gate.loading.trees import WorkTree

        head_commit = repository.head_sha()
        base = Side(repository.tree_at(head_commit) if head_commit else None)
        target = (head_commit, "HEAD")
        if mode == "staged":
            changes = repository.diff_index()
            head = Side(repository.index_tree())
            summary = ChangeSummary(mode, "HEAD", head_commit, "index", None, None, [])
        else:
            changes = repository.diff_worktree()
            head = Side(WorkTree(repository.root))
            summary = ChangeSummary(mode, "HEAD", head_commit, "working tree", None, None, [])

    rules = _load_rules(args, repository, *target)
    config, policies, waivers, inputs = rules.config, rules.policies, rules.waivers, rules.inputs
    fail_on = args.fail_on or config.fail_on
    head_time = None
    if args.at == "commit" and mode == "commits":
        # The head's time (a merge's: when it merged), not the author's last commit's.
        head_time = repository.commit_time(head_sha)
    time = evaluation_time(args.now, args.at, head_time)
    changes = [c for c in changes if _in_scope(c.new_path, scope) or _in_scope(c.old_path, scope)]
    summary.files = [ChangedFile(c.status, c.new_path or c.old_path or "",
                                 c.old_path if c.status == "R" else None) for c in changes]
    summary.blocking = "all" if args.all else "new"
    comparison = compare(policies, base, head, changes, fail_on, args.kustomize,
                         environments=config.environments, helm=args.helm,
                         exclude=config.exclude)
    results = classify(comparison.head.results, comparison.base.results, every=args.all)
    summary.deleted = comparison.deleted
    summary.notes = commit_notes + comparison.notes
    summary.environments = [e for e in comparison.environments if e]
    summary.commits = len(commits)
    summary.commit_log = commit_log(commits, policies)
    # The release manifest certifies images: read where the rules were read, so that
    # with --rules-from base a change cannot certify its own image.
    if rules.tree is None:
        context = change_context(summary, comparison, commits, time, config, head.tree, inputs)
    else:
        try:
            context = change_context(summary, comparison, commits, time, config, rules.tree,
                                     inputs, f"{target[1]}, with the rules")
        except GateError as exc:
            raise type(exc)(f"{exc.message} (rules read from {rules.source})", exc.file,
                            exc.line) from None
    if mode == "commits" and merge_base is not None:
        from gate.governance.releases.rollback import rollback_judge

        context.rollbacks = rollback_judge(repository, config, merge_base, base_sha,
                                           summary.files, comparison, args.kustomize)
    change_results, evidence = governance.judge_change(policies, context, fail_on)
    summary.rollbacks = context.rollback_records()
    # A freeze governs merging, not committing: on a local change the change policies
    # are listed as not judged, unless the config asks for them.
    change_results, evidence, held = held_for_merge(
        mode, config.judge_change_policies_locally, config.file, change_results, evidence)
    results, uses = governance.waive(results + change_results, waivers, time, complete=False)
    found, override_notes = governance.find_overrides(commits, config.overrides)
    results, used, ignored = governance.override(results, found, config.overrides)
    summary.notes += override_notes + ignored
    summary.existing = existing_counts(results)
    summary.existing_listed = args.show_existing
    if not args.show_existing:
        results = [result for result in results if not is_existing(result)]
    report = Report(
        results=results,
        errors=comparison.head.errors,
        notes=comparison.head.notes,
        policies=[policy.info for policy in policies],
        resource_count=len(comparison.head.resources),
        fail_on=fail_on,
        change=summary,
        unjudged=comparison.unjudged + held,
        audit=governance.audit(time, inputs, uses, used, evidence, rules.source),
    )
    write_reports(report, formats, args)
    if report.exit_code == 1 and args.exit_zero:
        return 0
    return report.exit_code


def _load_rules(args: argparse.Namespace, repository: Repository, sha: str | None,
                name: str) -> Rules:
    """The working tree's rules, or with ``--rules-from base`` those of commit ``sha``
    (the tip of the branch the change merges into; None: a repository without
    commits), read straight from its git tree (errors then say so)."""
    if args.rules_from != "base":
        return load_rules(args)
    from gate.evaluation.changeset import EmptyTree
    from gate.loading.trees import FileTree
    from gate.rulesource import RevisionRules

    tree: FileTree
    if sha is None:
        tree, label = EmptyTree(), f"{name} (no commits yet)"
    else:
        tree, label = repository.tree_at(sha, name), f"{name} ({sha[:7]})"
    # As ever, --policies given as an absolute path outside the repository is read from
    # disk (it has no version in any revision); inside the repository the tree is read.
    source = RevisionRules(tree, repository.root, repository.relative_to_root("."),
                           label=label, from_disk=args.policies)
    try:
        rules = load_rules(args, source)
    except GateError as exc:
        raise type(exc)(f"{exc.message} (rules read from {label})", exc.file,
                        exc.line) from None
    rules.tree = tree
    return rules


def _in_scope(path: str | None, scope: list[str]) -> bool:
    if path is None:
        return False
    if not scope:
        return True
    return any(not prefix or path == prefix or path.startswith(prefix + "/") for prefix in scope)
