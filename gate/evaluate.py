"""Evaluation: every enabled policy against every resource it applies to.

Units are read and judged one at a time: the YAML node trees that give
findings their lines are kept only while their own unit is evaluated. When an
enabled policy reads the rendering context (gate/context.py), the plain files of
one context are all read before any of them is judged.
"""
from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from gate import kube
from gate.collect import Batch
from gate.context import Context
from gate.expressions import FUNCTIONS
from gate.policy import Policy
from gate.resources import InputError, Note, Resource
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
    return list(_evaluate(resource_policies(policies), resources, severity_rank(fail_on),
                          context))


def _evaluate(
    policies: list[Policy], resources: list[Resource], threshold: int,
    context: Context | None = None,
) -> Iterator[Result]:
    FUNCTIONS.scope.context = context
    for resource in resources:
        ref = resource_ref(resource)
        for policy in policies:
            if resource.is_resource or policy.target == "documents":
                yield from policy.for_environment(resource.environment).check(
                    resource, ref, threshold
                )


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
    observe: Callable[[list[Resource]], None] | None = None,
    contexts: ContextOf | None = None,
) -> Outcome:
    """Evaluate batch after batch; ``observe`` sees each batch's resources while their
    node trees (and so their lines) are still at hand.

    ``contexts`` gives each batch's context (gate diff, which loads the rest of a
    context lazily). Without it, a rendered batch is its own context, and, when a
    policy reads contexts, the plain-file batches of one context (``Batch.context``)
    are all read before any is judged, against their resources together.
    """
    threshold = severity_rank(fail_on)
    policies = resource_policies(policies)
    outcome = Outcome()
    if contexts is not None or not uses_context(policies):
        for batch in batches:
            judged = contexts(batch) if contexts is not None else None
            _judge_batch(policies, batch, threshold, outcome, observe, judged)
        return outcome
    # Policies that read no context judge each plain file as it is read, while its node
    # trees give findings their lines; those that do wait for the whole context.
    streamed = [policy for policy in policies if not policy.uses_context]
    deferred = [policy for policy in policies if policy.uses_context]
    grouped: dict[tuple[object, str], list[Resource]] = {}
    try:
        for batch in batches:
            if batch.context is None:
                _judge_batch(policies, batch, threshold, outcome, observe, None)
            else:
                held = grouped.setdefault(batch.context, [])
                held.extend(batch.resources)
                _judge_batch(streamed, batch, threshold, outcome, observe, None)
                # Held until the whole context is read: without node trees (a line
                # lookup composes the file again, for the few files with findings
                # of the deferred policies), and out of the cycle collector's way: the
                # resources held are many small objects without cycles, which every
                # full collection would walk again (gc.freeze: 30% of the time).
                gc.freeze()
        for held in grouped.values():
            context = context_of(held)
            for resource in held:
                results = list(_evaluate(deferred, [resource], threshold, context))
                outcome.results.extend(results)
    finally:
        gc.unfreeze()
    return outcome


def _judge_batch(policies: list[Policy], batch: Batch, threshold: int, outcome: Outcome,
                 observe: Callable[[list[Resource]], None] | None,
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
        results = list(_evaluate(policies, [resource], threshold, context))
        if not resource.is_resource and not results:
            outcome.notes.append(Note(resource.file, resource.line, resource.skip_reason))
        outcome.results.extend(results)
    if observe is not None:
        observe(batch.resources)
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
