"""Evaluation: every enabled policy against every resource it applies to."""
from __future__ import annotations

from collections.abc import Iterable

from gate.policy import Policy
from gate.resources import InputError, Note, Resource, read_resources
from gate.results import Report, ResourceRef, Result, severity_rank
from gate.sources import SourceFile, read_source
from gate.yamlio import YamlInputError


def load_inputs(paths: Iterable[str]) -> tuple[list[Resource], list[Note], list[InputError]]:
    """Read every file; a file that cannot be read becomes an error, not a pass."""
    resources: list[Resource] = []
    notes: list[Note] = []
    errors: list[InputError] = []
    for path in paths:
        try:
            source: SourceFile = read_source(path)
            for entry in read_resources(source):
                if isinstance(entry, Note):
                    notes.append(entry)
                else:
                    resources.append(entry)
        except YamlInputError as exc:
            errors.append(InputError(exc.file or path, exc.line, exc.message))
    return resources, notes, errors


def resource_ref(resource: Resource) -> ResourceRef:
    return ResourceRef(
        api_version=resource.api_version,
        kind=resource.kind,
        name=resource.name,
        namespace=resource.namespace,
        file=resource.file,
        line=resource.line,
    )


def evaluate(policies: list[Policy], resources: list[Resource], fail_on: str) -> list[Result]:
    threshold = severity_rank(fail_on)
    results: list[Result] = []
    for resource in resources:
        ref = None
        for policy in policies:
            if policy.applies_to(resource):
                ref = ref or resource_ref(resource)
                results.extend(policy.evaluate(resource, ref, threshold))
    return results


def run(policies: list[Policy], paths: Iterable[str], fail_on: str) -> Report:
    resources, notes, errors = load_inputs(paths)
    results = evaluate(policies, resources, fail_on)
    return Report(
        results=results,
        errors=errors,
        notes=notes,
        policies=[policy.info for policy in policies],
        resource_count=len(resources),
        fail_on=fail_on,
    )
