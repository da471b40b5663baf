"""Policy test files (``gate test``): found, read and validated into tests.

A test file is any ``*.test.yaml`` (or ``*.test.yml``); each YAML document in it is one
test (``kind: PolicyTest``): the policies under test, the resources and change documents
they judge, and a list of expectations, each naming a policy, a subject and a status.
See docs/policy-testing.md; gate/policytest/running.py runs them.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gate.errors import ConfigError
from gate.evaluation.policy_compile import API_VERSION
from gate.evaluation.regexes import RegexError, compile_regex
from gate.loading import fieldpath
from gate.loading.sources import display_name
from gate.loading.yamlio import LocatedYaml, decode, load_located
from gate.results import Result
from gate.schema_validation import schema_error, schema_validator

TEST_SUFFIXES = (".test.yaml", ".test.yml")
YAML_SUFFIXES = (".yaml", ".yml")
TEST_KIND = "PolicyTest"
SCHEMA = "policytest.schema.json"
NOT_APPLICABLE = "not-applicable"
TARGETS = ("resource", "change", "document")
DETAILS = ("message", "field", "line", "count")
VCS_DIRS = frozenset({".git", ".hg", ".svn"})
_RESOURCE = re.compile(r"[^/\s]+/(?:[^/\s]+/)?[^/\s]+\Z")


# -- finding test files --------------------------------------------------------------


def is_test_file(name: str) -> bool:
    return os.path.basename(name).endswith(TEST_SUFFIXES)


def discover(paths: list[str]) -> list[str]:
    """Test files: the files given, and every ``*.test.yaml`` under the directories given."""
    found: list[str] = []
    for path in paths:
        if os.path.isfile(path):
            found.append(path)
        elif os.path.isdir(path):
            found.extend(_walk(path))
        else:
            raise ConfigError("no such file or directory", path)
    unique = dict.fromkeys(os.path.normpath(path) for path in found)
    return list(unique)


def _walk(directory: str) -> Iterator[str]:
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in VCS_DIRS)
        yield from (os.path.join(root, name) for name in sorted(files) if is_test_file(name))


# -- the test file model -------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """An item of ``policies``, ``resources`` or ``changes``: a path or an inline mapping."""

    value: str | dict[str, Any]
    index: int
    line: int


@dataclass(frozen=True)
class Expectation:
    line: int
    policy: str
    target: str  # "resource", "change" or "document"
    name: str  # Kind/name, an environment, or FILE[#N]
    status: str
    message: str | None = None
    pattern: re.Pattern[str] | None = None
    field: str | None = None
    at_line: int | None = None
    count: int | None = None

    @property
    def subject(self) -> str:
        """The subject as the output names it."""
        if self.target == "change":
            return f"change to {self.name}" if self.name else "change"
        return self.name

    def describe(self) -> str:
        """``fail`` or ``fail (message 'x', field spec.a, count 2)``."""
        details = []
        if self.message is not None:
            details.append(f"message {quoted(self.message)}")
        if self.pattern is not None:
            details.append(f"message matching /{self.pattern.pattern}/")
        if self.field is not None:
            details.append(f"field {self.field}")
        if self.at_line is not None:
            details.append(f"line {self.at_line}")
        if self.count is not None:
            details.append(f"count {self.count}")
        return f"{self.status} ({', '.join(details)})" if details else self.status

    def matches(self, result: Result) -> bool:
        """Whether one result has the message, field and line this expects."""
        if self.message is not None and result.message != self.message:
            return False
        if self.pattern is not None and not self.pattern.search(result.message):
            return False
        if self.field is not None and result.field != self.field:
            return False
        return self.at_line is None or result.location_line == self.at_line


@dataclass
class PolicyTest:
    """One YAML document of a test file."""

    file: str  # display name of the test file
    path: str  # the test file as opened
    text: str
    located: LocatedYaml = field(repr=False)
    doc: int
    name: str = ""
    builtin: bool = False
    policies: list[Entry] | None = None  # None: the policy files beside the test file
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: list[Entry] = field(default_factory=list)
    changes: list[Entry] = field(default_factory=list)
    expectations: list[Expectation] = field(default_factory=list)

    @property
    def directory(self) -> str:
        return os.path.dirname(self.path) or "."

    @property
    def line(self) -> int:
        return self.line_of()

    def line_of(self, *path: str | int) -> int:
        return self.located.line(self.doc, path) or 1

    def error(self, message: str, *path: str | int) -> ConfigError:
        return ConfigError(message, self.file, self.line_of(*path))


@dataclass
class TestFile:
    file: str
    tests: list[PolicyTest]


# -- loading -------------------------------------------------------------------------


def load_test_file(path: str) -> TestFile:
    """Read and validate a test file; ConfigError (or YamlInputError) names file and line."""
    name = display_name(path)
    text = read_text(path)
    located = load_located(text, name)
    tests = [
        _parse_test(document.data, PolicyTest(name, path, text, located, document.index))
        for document in located.documents
        if document.data is not None
    ]
    if not tests:
        raise ConfigError("a test file holds at least one test (kind: PolicyTest)", name)
    return TestFile(name, tests)


def _parse_test(data: Any, test: PolicyTest) -> PolicyTest:
    if not isinstance(data, dict):
        raise test.error(f"a test must be a mapping, not a {type(data).__name__}")
    if data.get("apiVersion") != API_VERSION or data.get("kind") != TEST_KIND:
        raise test.error(f"not a policy test: expected 'apiVersion: {API_VERSION}' and "
                         f"'kind: {TEST_KIND}'")
    for index, item in enumerate(data.get("expect") or []):
        _check_target_keys(test, item, index)
    found = schema_error(schema_validator(SCHEMA), data)
    if found is not None:
        raise test.error(found[1], *found[0])
    if not data.get("resources") and not data.get("changes"):
        raise test.error("a test names resources or changes (change documents) to judge")
    test.name = data.get("name", "")
    test.builtin = data.get("builtin", False)
    test.parameters = data.get("parameters", {})
    if "policies" in data:
        test.policies = _entries(test, data, "policies")
    test.resources = _entries(test, data, "resources")
    test.changes = _entries(test, data, "changes")
    test.expectations = [_expectation(test, item, index)
                         for index, item in enumerate(data["expect"])]
    return test


def _entries(test: PolicyTest, data: dict[str, Any], key: str) -> list[Entry]:
    return [Entry(value, index, test.line_of(key, index))
            for index, value in enumerate(data.get(key, []))]


def _check_target_keys(test: PolicyTest, item: Any, index: int) -> None:
    """Exactly one of resource, change and document: clearer than the schema would say."""
    if not isinstance(item, dict):
        return
    given = [key for key in TARGETS if key in item]
    if len(given) != 1:
        problem = "names none" if not given else f"names {' and '.join(given)}"
        raise test.error(f"expect[{index}]: an expectation names exactly one of "
                         f"resource, change or document; this one {problem}",
                         "expect", index, *given[1:2])


def _expectation(test: PolicyTest, item: dict[str, Any], index: int) -> Expectation:
    at = ("expect", index)
    target = next(key for key in TARGETS if key in item)
    name = item[target]
    if target == "resource" and not _RESOURCE.match(name):
        raise test.error(f"expect[{index}].resource: {name!r} is not Kind/name or "
                         "Kind/namespace/name", *at, target)
    if item["status"] == NOT_APPLICABLE and any(key in item for key in DETAILS):
        raise test.error(f"expect[{index}]: status not-applicable means no result, so it "
                         "takes no message, field, line or count", *at, "status")
    message = item.get("message")
    pattern = None
    if isinstance(message, dict):
        try:
            pattern = compile_regex(message["regex"])
        except RegexError as exc:
            raise test.error(f"expect[{index}].message.regex: invalid regular expression: "
                             f"{exc}", *at, "message", "regex") from None
        message = None
    field_path = item.get("field")
    if field_path is not None:
        try:
            field_path = fieldpath.display(fieldpath.parse(field_path))
        except fieldpath.FieldPathError as exc:
            raise test.error(f"expect[{index}].field: {exc}", *at, "field") from None
    return Expectation(test.line_of(*at), item["policy"], target, name, item["status"],
                       message, pattern, field_path, item.get("line"), item.get("count"))


def read_text(path: str) -> str:
    name = display_name(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", name) from None
    return decode(raw, name)


def quoted(text: str) -> str:
    """Quoted as Python would: single quotes unless the text holds some."""
    if "'" in text and '"' not in text:
        return f'"{text}"'
    return "'" + text.replace("'", "\\'") + "'"
