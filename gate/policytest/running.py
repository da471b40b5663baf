"""Policy tests run (``gate test``): each test's policies judge its resources and change
documents, and each expectation is checked against what they found.

The tests come from gate/policytest/loading.py; see docs/policy-testing.md.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gate.errors import ConfigError, GateError, PolicyError
from gate.evaluation.context import Context
from gate.evaluation.evaluate import context_of, evaluate
from gate.evaluation.policy import Policy
from gate.evaluation.policy_assembly import assemble
from gate.evaluation.policy_compile import API_VERSION, load_policy_text
from gate.evaluation.policy_loading import load_builtin, load_directory
from gate.governance.change import subject as change_subject
from gate.loading.resources import Resource, read_resources
from gate.loading.sources import SourceFile, display_name
from gate.loading.yamlio import YamlInputError, load_located
from gate.policytest.loading import (
    NOT_APPLICABLE,
    VCS_DIRS,
    YAML_SUFFIXES,
    Entry,
    Expectation,
    PolicyTest,
    TestFile,
    is_test_file,
    quoted,
    read_text,
)
from gate.results import FAIL, PASS, SKIP, WAIVED, WARN, Result, severity_rank

# The status of a policy on one subject: the first of these among its results.
PRECEDENCE = (FAIL, WARN, WAIVED, PASS, SKIP)
EVERYTHING = severity_rank("info")  # every blocking finding fails, as with no --fail-on
_DOCUMENT = re.compile(r"(?P<file>.+?)(?:#(?P<number>[1-9][0-9]*))?\Z")


# -- what a test judges ----------------------------------------------------------------


@dataclass
class Subject:
    """A resource, a YAML document or a change document, with every policy's results."""

    where: str  # fail.yaml:12 (the file as the test lists it), or change-pass.yaml#2
    identity: str | None = None  # resources only
    environment: str | None = None  # change documents only
    document: tuple[str, int] | None = None  # (file as listed, number from 1); not inline
    results: dict[str, list[Result]] = field(default_factory=dict)


def _normalize(path: str) -> str:
    return os.path.normpath(path).replace(os.sep, "/")


def _files(test: PolicyTest, entry: Entry, key: str) -> list[tuple[str, str]]:
    """(name relative to the test file, path to open) of a path entry."""
    assert isinstance(entry.value, str)
    path = os.path.join(test.directory, entry.value)
    if os.path.isfile(path):
        return [(_normalize(entry.value), path)]
    if not os.path.isdir(path):
        raise test.error(f"{key}[{entry.index}]: no such file or directory: {entry.value}",
                         key, entry.index)
    found: list[tuple[str, str]] = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in VCS_DIRS)
        for name in sorted(files):
            if name.endswith(YAML_SUFFIXES) and not is_test_file(name):
                full = os.path.join(root, name)
                found.append((_normalize(os.path.join(entry.value, os.path.relpath(full, path))),
                              full))
    return found


def _file_resources(name: str, path: str) -> list[Resource]:
    """A manifest file's resources and other documents, named ``name`` as policies see it
    (so ``match.paths`` selects by the path relative to the test file)."""
    source = SourceFile(name, read_text(path))
    try:
        return [entry for entry in read_resources(source, documents=True)
                if isinstance(entry, Resource)]
    except YamlInputError as exc:
        raise YamlInputError(exc.message, display_name(path), exc.line) from None


def _inline_resource(test: PolicyTest, entry: Entry) -> Resource:
    source = SourceFile(os.path.basename(test.path), test.text)
    source.keep_nodes(test.located.nodes)
    return Resource(entry.value, source, test.doc, entry.line, ("resources", entry.index))


def resource_subjects(test: PolicyTest, policies: list[Policy]) -> list[Subject]:
    """Each resource of the test judged; their context (gate/evaluation/context.py) is every
    resource of the test document."""
    found: list[tuple[Resource, str, tuple[str, int] | None]] = []
    for entry in test.resources:
        if isinstance(entry.value, dict):
            resource = _inline_resource(test, entry)
            found.append((resource, f"{resource.file}:{entry.line}", None))
            continue
        for name, path in _files(test, entry, "resources"):
            for resource in _file_resources(name, path):
                found.append((resource, f"{name}:{resource.line}",
                              (name, resource.doc_index + 1)))
    context = context_of(resource for resource, _, _ in found)
    return [_judged(policies, resource, where, document, context)
            for resource, where, document in found]


def _judged(policies: list[Policy], resource: Resource, where: str,
            document: tuple[str, int] | None, context: Context | None = None) -> Subject:
    subject = Subject(where, resource.identity() if resource.is_resource else None,
                      document=document)
    for result in evaluate(policies, [resource], "info", context):
        subject.results.setdefault(result.policy.id, []).append(result)
    return subject


def change_subjects(test: PolicyTest, policies: list[Policy]) -> list[Subject]:
    judges = [policy for policy in policies if policy.target == "change"]
    subjects: list[Subject] = []
    for entry in test.changes:
        if isinstance(entry.value, dict):
            where = f"{os.path.basename(test.path)}:{entry.line}"
            subjects.append(_judged_change(judges, entry.value, where, None))
            continue
        for name, path in _files(test, entry, "changes"):
            for number, document in _change_documents(path):
                subjects.append(_judged_change(judges, document, f"{name}#{number}",
                                               (name, number)))
    return subjects


def _change_documents(path: str) -> list[tuple[int, dict[str, Any]]]:
    name = display_name(path)
    located = load_located(read_text(path), name)
    found: list[tuple[int, dict[str, Any]]] = []
    for document in located.documents:
        data = document.data
        if data is None:
            continue
        if not isinstance(data, dict) or not isinstance(data.get("environment"), str):
            raise ConfigError("a change document is a mapping with an 'environment' (a string)",
                              name, document.line)
        found.append((document.index + 1, data))
    return found


def _judged_change(policies: list[Policy], document: dict[str, Any], where: str,
                   number: tuple[str, int] | None) -> Subject:
    environment = document["environment"]
    change = change_subject(document, environment)
    subject = Subject(where, environment=environment, document=number)
    for policy in policies:
        results = policy.check_change(change, EVERYTHING)
        if results:
            subject.results[policy.id] = results
    return subject


# -- the policies under test -----------------------------------------------------------


class PolicyCache:
    """Policies loaded once per run, by where they come from."""

    def __init__(self) -> None:
        self._loaded: dict[tuple[str, ...], list[Policy]] = {}

    def get(self, key: tuple[str, ...], load: Callable[[], list[Policy]]) -> list[Policy]:
        if key not in self._loaded:
            self._loaded[key] = load()
        return self._loaded[key]


def load_policies(test: PolicyTest, cache: PolicyCache) -> list[Policy]:
    """The policies under test, each enabled and configured with the test's parameters."""
    policies: list[Policy] = []
    if test.builtin:
        policies.extend(cache.get(("builtin",), load_builtin))
    if test.policies is not None:
        for entry in test.policies:
            policies.extend(_policies_at(test, entry, cache))
    elif not test.builtin:
        directory = test.directory
        policies.extend(cache.get(("beside", os.path.abspath(directory)),
                                  lambda: _policies_beside(directory)))
        if not policies:
            raise test.error("no policies to test: no policy file beside this test file; "
                             "name them with 'policies:' or 'builtin: true'")
    policies = assemble(policies)
    return [policy.configured(enabled=True, params=_parameters(test, policies, policy))
            for policy in policies]


def _policies_at(test: PolicyTest, entry: Entry, cache: PolicyCache) -> list[Policy]:
    assert isinstance(entry.value, str)
    path = os.path.join(test.directory, entry.value)
    key = ("path", os.path.abspath(path))
    if os.path.isdir(path):
        return cache.get(key, lambda: load_directory(path))
    if os.path.isfile(path):
        return cache.get(key, lambda: load_policy_text(_policy_text(path), display_name(path)))
    raise test.error(f"policies[{entry.index}]: no such file or directory: {entry.value}",
                     "policies", entry.index)


def _policy_text(path: str) -> str:
    try:
        return read_text(path)
    except GateError as exc:
        raise PolicyError(exc.message, exc.file, exc.line) from None


def _policies_beside(directory: str) -> list[Policy]:
    """The policies of the YAML files in ``directory`` whose documents are policies."""
    policies: list[Policy] = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if not name.endswith(YAML_SUFFIXES) or is_test_file(name) or not os.path.isfile(path):
            continue
        text = _policy_text(path)
        try:
            documents = load_located(text, display_name(path)).documents
        except YamlInputError:
            continue  # not a policy we could read: a resource file, reported when judged
        if any(isinstance(d.data, dict) and d.data.get("kind") == "Policy"
               and d.data.get("apiVersion") == API_VERSION for d in documents):
            policies.extend(load_policy_text(text, display_name(path)))
    return policies


def _parameters(test: PolicyTest, policies: list[Policy], policy: Policy) -> dict[str, Any]:
    known = {p.id for p in policies}
    for policy_id in test.parameters:
        if policy_id not in known:
            raise test.error(f"parameters: no policy {policy_id!r} under test "
                             f"(loaded: {', '.join(sorted(known))})", "parameters", policy_id)
    params = test.parameters.get(policy.id, {})
    for name, value in params.items():
        at = ("parameters", policy.id, name)
        parameter = policy.parameters.get(name)
        if parameter is None:
            names = ", ".join(sorted(policy.parameters)) or "none"
            raise test.error(f"policy {policy.id!r} has no parameter {name!r} (known: {names})",
                             *at)
        problem = parameter.validate(value)
        if problem is not None:
            raise test.error(f"policy {policy.id!r}: {problem}", *at)
    return params


# -- judging expectations --------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One expectation, checked."""

    test: PolicyTest = field(repr=False)
    expectation: Expectation
    passed: bool
    detail: str  # "expected fail, got pass (messages: ...)"


@dataclass
class FileOutcome:
    file: str
    outcomes: list[Outcome]

    @property
    def passed(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.passed)

    @property
    def failed(self) -> int:
        return len(self.outcomes) - self.passed


def status_of(results: list[Result]) -> str:
    """One policy's status on one subject: not-applicable when it gave no result."""
    if not results:
        return NOT_APPLICABLE
    statuses = {result.status for result in results}
    return next((status for status in PRECEDENCE if status in statuses), results[0].status)


def _result_text(result: Result) -> str:
    where = [part for part in (result.field, f"line {result.location_line}"
                               if result.location_line else None) if part]
    return quoted(result.message) + (f" [{', '.join(where)}]" if where else "")


def got_text(expectation: Expectation, results: list[Result]) -> str:
    status = status_of(results)
    parts = []
    if expectation.count is not None:
        parts.append(f"count {sum(1 for r in results if r.status == status)}")
    messages = [_result_text(r) for r in results if r.message]
    if messages:
        parts.append(f"messages: {'; '.join(messages)}")
    return f"{status} ({', '.join(parts)})" if parts else status


def holds(expectation: Expectation, results: list[Result]) -> bool:
    if status_of(results) != expectation.status:
        return False
    if expectation.status == NOT_APPLICABLE:
        return True
    candidates = [result for result in results if result.status == expectation.status]
    if expectation.count is not None and len(candidates) != expectation.count:
        return False
    return any(expectation.matches(result) for result in candidates)


def _selected(expectation: Expectation, subjects: list[Subject]) -> list[Subject]:
    if expectation.target == "resource":
        return [s for s in subjects if s.identity == expectation.name]
    if expectation.target == "change":
        return [s for s in subjects if s.environment == expectation.name]
    match = _DOCUMENT.match(expectation.name)
    assert match is not None  # the pattern matches any non-empty text
    file, number = _normalize(match["file"]), match["number"]
    return [s for s in subjects if s.document is not None and s.document[0] == file
            and (number is None or s.document[1] == int(number))]


def _missing(expectation: Expectation, subjects: list[Subject]) -> str:
    if expectation.target == "resource":
        known = [s.identity for s in subjects if s.identity is not None]
        kind, *_, name = expectation.name.split("/")
        near = [i for i in known if i.startswith(f"{kind}/") and i.endswith(f"/{name}")]
        hint = f"; did you mean {near[0]}?" if near else ""
        return f"no such resource (resources: {_listed(known)}{hint})"
    if expectation.target == "change":
        known = [repr(s.environment) for s in subjects if s.environment is not None]
        return f"no change document for this environment (environments: {_listed(known)})"
    known = [f"{s.document[0]}#{s.document[1]}" for s in subjects if s.document]
    return f"no such document (documents: {_listed(known)})"


def _listed(names: list[Any], limit: int = 10) -> str:
    unique = list(dict.fromkeys(str(name) for name in names))
    if not unique:
        return "none"
    more = f", ... ({len(unique) - limit} more)" if len(unique) > limit else ""
    return ", ".join(unique[:limit]) + more


def judge(test: PolicyTest, expectation: Expectation, subjects: list[Subject],
          policy_ids: list[str]) -> Outcome:
    if expectation.policy not in policy_ids:
        return Outcome(test, expectation, False,
                       f"no such policy (loaded: {_listed(sorted(policy_ids), 20)})")
    selected = _selected(expectation, subjects)
    if not selected:
        return Outcome(test, expectation, False, _missing(expectation, subjects))
    for subject in selected:
        results = subject.results.get(expectation.policy, [])
        if not holds(expectation, results):
            where = f" in {subject.where}" if len(selected) > 1 else ""
            detail = (f"expected {expectation.describe()}, got "
                      f"{got_text(expectation, results)}{where}")
            return Outcome(test, expectation, False, detail)
    got = status_of(selected[0].results.get(expectation.policy, []))
    return Outcome(test, expectation, True, f"expected {expectation.describe()}, got {got}")


def run_test(test: PolicyTest, cache: PolicyCache) -> list[Outcome]:
    policies = load_policies(test, cache)
    subjects = resource_subjects(test, policies) + change_subjects(test, policies)
    ids = [policy.id for policy in policies]
    return [judge(test, expectation, subjects, ids) for expectation in test.expectations]


def run_file(test_file: TestFile, cache: PolicyCache) -> FileOutcome:
    outcomes: list[Outcome] = []
    for test in test_file.tests:
        outcomes.extend(run_test(test, cache))
    return FileOutcome(test_file.file, outcomes)
