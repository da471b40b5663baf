"""Evaluation: every enabled policy against every resource it applies to.

Files are read and judged one at a time: the YAML node trees that give
findings their lines are kept only while their own file is evaluated.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from gate.policy import Policy
from gate.resources import InputError, Note, Resource, read_resources
from gate.results import Report, ResourceRef, Result, severity_rank
from gate.sources import SourceFile, read_source
from gate.yamlio import YamlInputError


def read_file(path: str) -> tuple[SourceFile | None, list[Resource], list[Note], list[InputError]]:
    """One file's resources and notes; a file that cannot be read is an error, not a pass."""
    resources: list[Resource] = []
    notes: list[Note] = []
    try:
        source = read_source(path)
        for entry in read_resources(source):
            if isinstance(entry, Note):
                notes.append(entry)
            else:
                resources.append(entry)
    except YamlInputError as exc:
        return None, [], [], [InputError(exc.file or path, exc.line, exc.message)]
    return source, resources, notes, []


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
    return list(_evaluate(policies, resources, severity_rank(fail_on)))


def _evaluate(
    policies: list[Policy], resources: list[Resource], threshold: int
) -> Iterator[Result]:
    for resource in resources:
        ref = resource_ref(resource)
        for policy in policies:
            yield from policy.check(resource, ref, threshold)


def run(policies: list[Policy], paths: Iterable[str], fail_on: str) -> Report:
    threshold = severity_rank(fail_on)
    results: list[Result] = []
    notes: list[Note] = []
    errors: list[InputError] = []
    resource_count = 0
    for path in paths:
        source, resources, file_notes, file_errors = read_file(path)
        notes.extend(file_notes)
        errors.extend(file_errors)
        resource_count += len(resources)
        results.extend(_evaluate(policies, resources, threshold))
        if source is not None:
            source.release_nodes()
    return Report(
        results=results,
        errors=errors,
        notes=notes,
        policies=[policy.info for policy in policies],
        resource_count=resource_count,
        fail_on=fail_on,
    )
