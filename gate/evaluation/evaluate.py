"""Evaluation: every enabled policy against every resource it applies to.

Units are read and judged one at a time: the YAML node trees that give
findings their lines are kept only while their own unit is evaluated. When an
enabled policy reads the rendering context (gate/evaluation/context.py), the plain files of
one context are all read before that policy judges any of them. A check reads and
judges its units on every core it may use (gate/evaluation/parallel.py).
"""
from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from gate.evaluation.context import Context
from gate.evaluation.functions import EvaluationScope
from gate.evaluation.parallel import fork_map
from gate.evaluation.policy import Policy
from gate.loading import kube
from gate.loading.collect import Batch
from gate.loading.resources import InputError, Note, Resource
from gate.results import Report, ResourceRef, Result, Unjudged, severity_rank


def resource_ref(resource: Resource) -> ResourceRef:
    return ResourceRef(
        api_version=resource.api_version,
        kind=resource.kind,
        name=resource.name,
        namespace=resource.namespace,
        file=resource.file,
        line=resource.line,
        environment=resource.environment,
        rendered_by=resource.rendered_by,
    )


def wants_documents(policies: list[Policy]) -> bool:
    """Whether any policy looks at YAML documents that are not resources."""
    return any(policy.target == "documents" for policy in policies)


def resource_policies(policies: list[Policy]) -> list[Policy]:
    """The policies judged per resource or document (change policies judge changes)."""
    return [policy for policy in policies if policy.target != "change"]


def uses_context(policies: list[Policy]) -> bool:
    """Whether a policy enabled anywhere reads the context of the resource it judges."""
    return any(policy.uses_context and (policy.enabled or any(
        variant.enabled for variant in policy.variants.values())) for policy in policies)


def context_of(resources: Iterable[Resource]) -> Context:
    """A context of these resources (documents that are not resources left out)."""
    return Context([resource.obj for resource in resources if resource.is_resource])


def evaluate(policies: list[Policy], resources: list[Resource], fail_on: str,
             context: Context | None = None) -> list[Result]:
    """Results of ``policies`` on ``resources``, whose context is ``context`` (by
    default, the resources themselves)."""
    if context is None:
        context = context_of(resources)
    return _evaluate(resource_policies(policies), resources, severity_rank(fail_on), context)


def _evaluate(
    policies: list[Policy], resources: list[Resource], threshold: int,
    context: Context | None = None,
) -> list[Result]:
    results: list[Result] = []
    with EvaluationScope(context=context) as scope:
        for resource in resources:
            ref = resource_ref(resource)
            for policy in policies:
                if resource.is_resource or policy.target == "documents":
                    results.extend(policy.for_environment(resource.environment).check(
                        resource, ref, threshold, scope
                    ))
    return results


def malformed_workload(resource: Resource) -> InputError | None:
    """An input error for a workload whose pods gate cannot see, so none passes unjudged.

    A Deployment whose template says ``container:`` would otherwise be skipped by
    every pod policy and pass; other policies still judge it, but the run fails closed.
    """
    if not resource.is_resource:
        return None  # a values file or other document is no workload
    problem = kube.pod_problem(resource.obj)
    if problem is None:
        return None
    file, line = resource.locate(problem.path)
    name = f"{resource.name!r}" if resource.name else "(no name)"
    return InputError(file or resource.file, line, f"{resource.kind} {name}: {problem.message}")


@dataclass
class Outcome:
    """Everything evaluating some batches gave."""

    results: list[Result] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    resources: list[ResourceRef] = field(default_factory=list)


#: Gives the context of a batch's resources.
ContextOf = Callable[[Batch], Context]


def evaluate_batches(
    policies: list[Policy],
    batches: Iterable[Batch],
    fail_on: str,
    contexts: ContextOf | None = None,
) -> Outcome:
    """Evaluate batch after batch.

    ``contexts`` gives each batch's context (gate diff, which loads the rest of a
    context lazily); without it, a batch is its own context.
    """
    threshold = severity_rank(fail_on)
    policies = resource_policies(policies)
    outcome = Outcome()
    for batch in batches:
        judged = contexts(batch) if contexts is not None else None
        _judge_batch(policies, batch, threshold, outcome, judged)
    return outcome


#: Reads one unit of a run into a batch.
Reader = Callable[[], Batch]


def evaluate_units(policies: list[Policy], readers: Sequence[Reader], fail_on: str,
                   jobs: int = 1) -> Outcome:
    """Read and judge every unit, on up to ``jobs`` processes (gate/evaluation/parallel.py); the
    outcome is the same whatever ``jobs`` is.

    A rendered unit is a context of its own. When a policy reads contexts, the plain
    files of one context (``Batch.context``) are all read before such a policy judges
    any of them, against their resources together; the other policies judge each plain
    file as it is read, while its node trees give findings their lines.
    """
    threshold = severity_rank(fail_on)
    policies = resource_policies(policies)
    deferring = uses_context(policies)
    streamed = [policy for policy in policies if not policy.uses_context]
    deferred = [policy for policy in policies if policy.uses_context]
    shared = [info for policy in policies for info in policy.infos()]

    def judge(read: Reader) -> tuple[Outcome, tuple[int, str] | None, list[Resource]]:
        batch = read()
        piece = Outcome()
        if batch.context is None or not deferring:
            _judge_batch(policies, batch, threshold, piece, None)
            return piece, None, []
        _judge_batch(streamed, batch, threshold, piece, None)
        # Held until the whole context is read: without node trees (a line lookup
        # composes the file again, for the few files with findings of the deferred
        # policies), and out of the cycle collector's way: the resources held are many
        # small objects without cycles, which every full collection would walk again
        # (gc.freeze: 30% of the time). A context is named by its collector's identity,
        # the same in a worker process as here.
        gc.freeze()
        collector, environment = batch.context
        return piece, (id(collector), environment), batch.resources

    outcome = Outcome()
    grouped: dict[tuple[int, str], list[Resource]] = {}
    try:
        for piece, context, held in fork_map(judge, readers, jobs, shared):
            outcome.results.extend(piece.results)
            outcome.notes.extend(piece.notes)
            outcome.errors.extend(piece.errors)
            outcome.resources.extend(piece.resources)
            if context is not None:
                grouped.setdefault(context, []).extend(held)
        if grouped:
            gc.freeze()  # what the workers sent: held to the end, never garbage
            contexts = [context_of(held) for held in grouped.values()]
            work = [(context, resource) for context, held in
                    zip(contexts, grouped.values(), strict=True) for resource in held]

            def judge_deferred(item: tuple[Context, Resource]) -> list[Result]:
                context, resource = item
                return _evaluate(deferred, [resource], threshold, context)

            for results in fork_map(judge_deferred, work, jobs, shared):
                outcome.results.extend(results)
    finally:
        gc.unfreeze()
    return outcome


def _judge_batch(policies: list[Policy], batch: Batch, threshold: int, outcome: Outcome,
                 context: Context | None) -> None:
    """Judge one batch against ``context`` (by default, its own resources)."""
    if context is None:
        context = context_of(batch.resources)
    outcome.notes.extend(batch.notes)
    outcome.errors.extend(batch.errors)
    # Every resource, read or rendered, in check and diff alike, passes here.
    outcome.errors.extend(filter(None, map(malformed_workload, batch.resources)))
    outcome.resources.extend(
        resource_ref(resource) for resource in batch.resources if resource.is_resource
    )
    for resource in batch.resources:
        results = _evaluate(policies, [resource], threshold, context)
        if not resource.is_resource and not results:
            outcome.notes.append(Note(resource.file, resource.line, resource.skip_reason))
        outcome.results.extend(results)
    batch.release()


def report(policies: list[Policy], outcome: Outcome, fail_on: str,
           unjudged: list[Unjudged] | None = None) -> Report:
    return Report(
        results=outcome.results,
        errors=outcome.errors,
        notes=outcome.notes,
        policies=[policy.info for policy in policies],
        resource_count=len(outcome.resources),
        fail_on=fail_on,
        unjudged=list(unjudged or []),
    )
