"""What the change documents of ``gate diff`` are built from: the compared sides,
the commits, the evaluation time, the config and the release manifest."""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gate.clock import EvaluationTime
    from gate.config import Config
    from gate.evaluation.changeset import Comparison
    from gate.git.commits import Commit
    from gate.governance.change import ChangeContext
    from gate.loading.trees import FileTree
    from gate.results import ChangeSummary


def change_context(
    summary: ChangeSummary,
    comparison: Comparison,
    commits: list[Commit],
    time: EvaluationTime,
    config: Config,
    rules: FileTree | None,
    inputs: list[tuple[str, str]],
    where: str = "the head",
) -> ChangeContext:
    """What the change documents are built from.

    A release manifest the config names is read from ``rules``, the tree the rules
    came from (the head when they came from the working tree), and added to
    ``inputs`` (the audit's fingerprinted files), saying ``where`` it was read.
    """
    from gate.governance.change import ChangeContext
    from gate.governance.drift_change import drift_lister
    from gate.loading.deployed import lister

    release = None
    if config.release_manifest is not None and rules is not None:
        from gate.governance.release_manifest import load_release

        release = load_release(rules, config.release_manifest)
        digest = hashlib.sha256(rules.read_bytes(config.release_manifest)).hexdigest()
        inputs.append((f"release manifest {config.release_manifest} (read from {where})",
                       digest))
    collectors, planners = comparison.collectors, comparison.planners
    # Other environments' images matter only for the repositories this change deploys.
    wanted = {entry["name"] for by_side in comparison.images.values()
              for entry in by_side["head"]}
    if release is not None:
        wanted.update(service["image_name"] for service in release["services"])
    return ChangeContext(
        summary=summary, time=time, file_environments=comparison.file_environments,
        environments=comparison.environments, commits=commits, calendar=config.calendar,
        known_environments=config.environments.names(),
        images=lister(lambda side: collectors[side], lambda side: planners[side], wanted),
        release=release,
        changed_images=comparison.images,
        drift=drift_lister(lambda side: collectors[side], lambda side: planners[side],
                           config.drift),
    )
