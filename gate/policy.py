"""Policies: loaded from YAML, validated against the policy schema, compiled once."""
from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources as importlib_resources
from typing import Any

from jmespath import exceptions as jexc

from gate import fieldpath, schemas
from gate.blank import blank
from gate.context import CONTEXT_FUNCTIONS
from gate.errors import PolicyError
from gate.expressions import Expression, ExpressionError
from gate.functions import EvaluationScope
from gate.match import Selector
from gate.resources import Resource
from gate.results import (
    FAIL,
    PASS,
    SKIP,
    WAIVED,
    WARN,
    Evidence,
    PolicyInfo,
    ResourceRef,
    Result,
    WaiverRef,
    change_ref,
    severity_rank,
)
from gate.rules.base import Rule, RuleError
from gate.rulesource import RuleSource, disk
from gate.yamlio import LocatedYaml, YamlInputError, load_located

API_VERSION = "gate.dev/v1"
# What evaluating an expression or schema on hostile data may raise; each becomes
# a finding on that resource instead of ending the run.
EVALUATION_ERRORS = (jexc.JMESPathError, TypeError, ValueError, RecursionError)
BUILTIN_PREFIX = "builtin:"


@cache
def load_schema(name: str) -> dict[str, Any]:
    text = importlib_resources.files(schemas).joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def schema_validator(name: str) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema(name))


def schema_error(validator: Any, document: Any) -> tuple[tuple[str | int, ...], str] | None:
    """The most relevant schema error as (path, message), or None if valid."""
    from jsonschema.exceptions import best_match

    error = best_match(validator.iter_errors(document))
    if error is None:
        return None
    path = tuple(error.absolute_path)
    message = error.message
    if error.validator == "format" and error.cause is not None:
        message = f"{message}: {error.cause}"  # why, e.g. a pattern that differs from RE2
    message = message if len(message) <= 320 else message[:317] + "..."
    where = fieldpath.display(path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        # Blame the unexpected key's own line, not the mapping's.
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extras = [key for key in error.instance if key not in known]
        if extras:
            path = (*path, extras[0])
    return path, f"{where}: {message}" if where else message


@cache
def format_checker() -> Any:
    """JSON Schema formats as gate checks them: ``format: regex`` is a pattern gate can
    run the way RE2 would (see gate/regexes.py), not merely one Python compiles."""
    import jsonschema

    from gate.regexes import regex_problem

    checker = copy.deepcopy(jsonschema.Draft202012Validator.FORMAT_CHECKER)

    def is_regex(instance: object) -> bool:
        if not isinstance(instance, str):
            return True
        problem = regex_problem(instance)
        if problem is not None:
            raise ValueError(problem)
        return True

    checker.checks("regex", raises=ValueError)(is_regex)
    return checker


@dataclass(frozen=True)
class Parameter:
    name: str
    description: str
    default: Any
    schema: dict[str, Any] | None

    def validate(self, value: Any) -> str | None:
        """Why ``value`` is not acceptable, or None."""
        if self.schema is None:
            return None
        import jsonschema

        validator = jsonschema.Draft202012Validator(self.schema, format_checker=format_checker())
        found = schema_error(validator, value)
        return None if found is None else f"parameter {self.name!r}: {found[1]}"


@dataclass
class Policy:
    """A compiled policy, with the configuration in force applied."""

    info: PolicyInfo
    line: int
    spec: dict[str, Any] = field(repr=False)
    rules: list[Rule] = field(repr=False)
    parameters: dict[str, Parameter]
    params: dict[str, Any]
    match: Selector | None = field(default=None, repr=False)
    exclude: Selector | None = field(default=None, repr=False)
    enabled: bool = True
    target: str = "resources"  # or "documents" (every YAML document) or "change"
    # Change policies: (label, expression) of values recorded for the audit trail.
    evidence: list[tuple[str, Expression]] = field(default_factory=list, repr=False)
    # Settings configured for one environment, by environment name.
    variants: dict[str, Policy] = field(default_factory=dict, repr=False)
    # The policy's own let: (name, expression) computed once per resource for every rule.
    lets: list[tuple[str, Expression]] = field(default_factory=list, repr=False)
    # The level of the Pod Security Standards this policy belongs to, if any.
    profile: str | None = None
    # Set while the policy only names the one it extends (resolved by ``assemble``).
    extension: Extension | None = field(default=None, repr=False)
    # Whether an expression calls a context function (lookup, pods_selected, ...):
    # evaluation must then see the resource's whole context (gate/context.py).
    uses_context: bool = False

    @property
    def id(self) -> str:
        return self.info.id

    def configured(
        self,
        *,
        enabled: bool | None = None,
        severity: str | None = None,
        enforcement: str | None = None,
        params: dict[str, Any] | None = None,
        overridable: bool | None = None,
        inline_waivers: bool | None = None,
    ) -> Policy:
        info = replace(
            self.info,
            severity=severity or self.info.severity,
            enforcement=enforcement or self.info.enforcement,
            overridable=self.info.overridable if overridable is None else overridable,
            inline_waivers=self.info.inline_waivers if inline_waivers is None else inline_waivers,
        )
        return replace(
            self,
            info=info,
            enabled=self.enabled if enabled is None else enabled,
            params={**self.params, **(params or {})},
            variants={},
        )

    def infos(self) -> list[PolicyInfo]:
        """What reports say about this policy, in each environment's settings."""
        return [self.info, *(variant.info for variant in self.variants.values())]

    def for_environment(self, environment: str) -> Policy:
        """This policy with the settings configured for ``environment``."""
        return self.variants.get(environment, self) if self.variants else self

    def applies_to(self, resource: Resource) -> bool:
        """Whether the resource is selected; ``where`` errors propagate (see check)."""
        with EvaluationScope() as scope:
            scope.judge(resource.obj, self.params, {})
            return self._admits(resource) and self._selects(resource)

    def _admits(self, resource: Resource) -> bool:
        """Whether ``match`` selects the resource but for its ``where``: most resources a
        policy is not about stop here, before any expression is evaluated."""
        return self.match is None or self.match.admits(resource)

    def _selects(self, resource: Resource) -> bool:
        """Whether a resource ``match`` admits is selected, in the scope of this policy
        on it."""
        if self.match is not None and not self.match.where_holds(resource):
            return False
        return self.exclude is None or not self.exclude.matches(resource)

    def check(self, resource: Resource, ref: ResourceRef, fail_on_rank: int,
              scope: EvaluationScope | None = None) -> list[Result]:
        """Results of this policy on one resource; none when it does not apply.
        ``scope``: the evaluation scope entered for the resources judged, if any."""
        if not self.enabled:
            return []
        if scope is None:
            with EvaluationScope() as entered:
                return self._check(resource, ref, fail_on_rank, entered)
        return self._check(resource, ref, fail_on_rank, scope)

    def _check(self, resource: Resource, ref: ResourceRef, fail_on_rank: int,
               scope: EvaluationScope) -> list[Result]:
        try:
            if not self._admits(resource):
                return []
            shared: dict[str, Any] = {}
            scope.judge(resource.obj, self.params, shared)
            applies = self._selects(resource)
        except EVALUATION_ERRORS as exc:
            return self._unselectable(resource, ref, fail_on_rank, exc)
        if not applies:
            return []
        return self._evaluate(resource, ref, fail_on_rank, scope, shared)

    def _unselectable(self, resource: Resource, ref: ResourceRef, fail_on_rank: int,
                      exc: BaseException) -> list[Result]:
        # Fail closed: a resource the selector cannot judge is treated as selected.
        message = f"match/exclude 'where' could not be evaluated: {_describe(exc)}"
        return self._findings(resource, ref, fail_on_rank, [(message, None)])

    def _evaluate(self, resource: Resource, ref: ResourceRef, fail_on_rank: int,
                  scope: EvaluationScope, shared: dict[str, Any]) -> list[Result]:
        """Results on one resource it applies to, in ``scope``, whose ``var()`` values are
        ``shared``, empty until the policy's own ``let`` fills it here."""
        for name, expression in self.lets:
            try:
                shared[name] = expression.search(resource.obj)
            except EVALUATION_ERRORS as exc:
                # Fail closed: every rule reads these values, so none can judge.
                message = f"let {name!r} could not be evaluated: {_describe(exc)}"
                return self._findings(resource, ref, fail_on_rank, [(message, None)])
        checked = False
        findings: list[tuple[str, fieldpath.PathParts | None]] = []
        for rule in self.rules:
            try:
                applied, rule_findings = rule.evaluate(resource.obj, scope, shared)
            except EVALUATION_ERRORS as exc:
                # Fail closed: a resource a rule cannot judge does not pass.
                applied = True
                rule_findings = []
                findings.append((f"{rule.name} could not be evaluated: {_describe(exc)}", None))
            checked = checked or applied
            findings.extend((f.message, f.path) for f in rule_findings)
        if not findings:
            if not checked:
                return [Result(self.info, ref, SKIP, "nothing to check")]
            return [Result(self.info, ref, PASS)]
        return self._findings(resource, ref, fail_on_rank, findings)

    def _findings(
        self,
        resource: Resource,
        ref: ResourceRef,
        fail_on_rank: int,
        findings: list[tuple[str, fieldpath.PathParts | None]],
    ) -> list[Result]:
        blocking = (
            self.info.enforcement == "block"
            and severity_rank(self.info.severity) <= fail_on_rank
        )
        status = FAIL if blocking else WARN
        waiver, ignored = self._inline_waiver(resource)
        results = []
        for message, path in findings:
            file, line = resource.locate(path) if path is not None else (None, resource.line)
            results.append(
                Result(self.info, ref, WAIVED if waiver else status, message + ignored,
                       fieldpath.display(path) if path else None, line, waiver=waiver,
                       file=file)
            )
        return results

    def _inline_waiver(self, resource: Resource) -> tuple[WaiverRef | None, str]:
        """(the waiver a resource annotation gives, or a note that it was ignored)."""
        if not resource.is_resource:
            return None, ""
        from gate.waivers import INLINE_PREFIX, inline_reason

        reason = inline_reason(resource.obj, self.id)
        if reason is None:
            return None, ""
        key = f"{INLINE_PREFIX}{self.id}"
        if not self.info.inline_waivers:
            return None, f" (annotation {key} ignored: this policy does not allow inline waivers)"
        return WaiverRef(f"annotation {key}", reason), ""

    def check_change(self, subject: Resource, fail_on_rank: int) -> list[Result]:
        """Results of a change policy on one environment's change document.

        A path inside the change document means nothing to a reader: a finding is
        placed by the file and line of what it is about, where it has one.
        """
        return [replace(result, field=None)
                for result in self.check(subject, change_ref(subject.environment), fail_on_rank)]

    def record(self, subject: Resource) -> list[Evidence]:
        """The evidence values this change policy records, where it applies."""
        if not self.evidence or not self.enabled:
            return []
        try:
            if not self.applies_to(subject):
                return []
        except EVALUATION_ERRORS:
            return []
        return [Evidence(self.id, label, subject.environment, texts)
                for label, texts in self.evidence_values(subject.obj).items()]

    def evidence_values(self, document: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        """Each evidence value of this policy on a change document (its strings, sorted
        and unique), by label; a label whose expression fails or finds nothing is left
        out. The policy's parameters apply; where it applies is not asked."""
        found: dict[str, tuple[str, ...]] = {}
        with EvaluationScope(resource=document, params=self.params, item=document, vars={}):
            for label, expression in self.evidence:
                try:
                    value = expression.search(document)
                except EVALUATION_ERRORS:
                    continue
                values = value if isinstance(value, list) else [value]
                texts = tuple(sorted({v for v in values if isinstance(v, str) and v}))
                if texts:
                    found[label] = texts
        return found


def _describe(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "the resource is nested too deeply to evaluate"
    return " ".join(str(exc).split()) or type(exc).__name__


def _rule_problem(rule: Any) -> tuple[str | None, str] | None:
    """A clearer message than the schema's for a rule of no (or two) kinds."""
    if not isinstance(rule, dict):
        return None
    kinds = [key for key in ("assert", "schema") if key in rule]
    if not kinds:
        return None, "a rule needs 'assert' (a JMESPath expression) or 'schema' (a JSON Schema)"
    if len(kinds) > 1:
        return "schema", "a rule has either 'assert' or 'schema', not both"
    if "assert" in rule and "message" not in rule:
        return "assert", "an 'assert' rule needs a 'message'"
    return None


def compile_policy(document: dict[str, Any], located: LocatedYaml, doc_index: int,
                   trusted: bool = False) -> Policy:
    """A policy document compiled. ``trusted`` (the built-in pack, whose every policy the
    test suite validates) skips the JSON Schema checks of the document and of its
    parameters, which would cost every run a third of a second."""
    file = located.file

    def fail(message: str, path: tuple[str | int, ...] = ()) -> PolicyError:
        return PolicyError(message, file, located.line(doc_index, path))

    if not isinstance(document, dict):
        raise fail(f"a policy must be a mapping, not a {type(document).__name__}")
    if document.get("apiVersion") != API_VERSION or document.get("kind") != "Policy":
        raise fail(f"not a gate policy: expected 'apiVersion: {API_VERSION}' and 'kind: Policy'")
    for index, rule in enumerate(document.get("rules") or []):
        problem = _rule_problem(rule)
        if problem is not None:
            key, message = problem
            path: tuple[str | int, ...] = ("rules", index) + ((key,) if key else ())
            raise fail(f"rules[{index}]: {message}", path)
    if "extends" in document:
        for key in ("rules", "parameters", "let", "target", "evidence"):
            if key in document:
                raise fail(f"{key}: a policy that extends another has no {key} of its own "
                           "(it reuses those of the policy it extends)", (key,))
    found = None if trusted else schema_error(schema_validator("policy.schema.json"), document)
    if found is not None:
        raise fail(found[1], found[0])
    _check_blank_text(document, fail)
    selectors = _compile_selectors(document, fail)
    if "extends" in document:
        return _extension(document, selectors, file, located.line(doc_index) or 1,
                          lambda path: located.line(doc_index, path))

    parameters = _compile_parameters(document, fail, trusted)
    lets = _compile_lets(document, fail)
    shared = frozenset(name for name, _ in lets)
    rules: list[Rule] = []
    for index, spec in enumerate(document["rules"]):
        try:
            rules.append(Rule(spec, index, shared))
        except RuleError as exc:
            key_path: tuple[str | int, ...] = ("rules", index) + ((exc.key,) if exc.key else ())
            raise fail(f"rules[{index}]: {exc}", key_path) from None
    _check_param_references(document, rules, selectors, parameters, fail)
    for name, expression in lets:
        unknown = sorted(expression.references.params - set(parameters))
        if unknown:
            raise fail(f"let {name!r}: unknown parameter {unknown[0]!r}", ("let", name))
    target = document.get("target", "resources")
    if target == "change":
        _check_change_selectors(document, fail)
    elif "evidence" in document:
        raise fail("evidence: only change policies (target: change) record evidence",
                   ("evidence",))
    evidence: list[tuple[str, Expression]] = []
    for index, entry in enumerate(document.get("evidence", [])):
        try:
            evidence.append((entry["label"], Expression(entry["value"])))
        except ExpressionError as exc:
            raise fail(f"evidence[{index}].value: {exc}", ("evidence", index, "value")) from None

    called = _called(rules, lets, selectors)
    info = PolicyInfo(
        id=document["id"],
        title=document["title"].strip(),
        description=document["description"].strip(),
        rationale=document["rationale"].strip(),
        remediation=document["remediation"].strip(),
        severity=document["severity"],
        enforcement=document.get("enforcement", "block"),
        controls=tuple(document.get("controls", ())),
        file=file,
        target=target,
        overridable=document.get("overridable", False),
        inline_waivers=document.get("inline_waivers", False),
    )
    return Policy(
        info=info,
        line=located.line(doc_index) or 1,
        spec=document,
        rules=rules,
        parameters=parameters,
        params={name: copy.deepcopy(p.default) for name, p in parameters.items()},
        match=selectors["match"],
        exclude=selectors["exclude"],
        enabled=document.get("enabled", True),
        target=target,
        evidence=evidence,
        lets=lets,
        profile=document.get("profile"),
        uses_context=bool(called & CONTEXT_FUNCTIONS),
    )


def _called(rules: list[Rule], lets: list[tuple[str, Expression]],
            selectors: dict[str, Selector | None]) -> set[str]:
    """Every function a policy's expressions call."""
    called = {name for rule in rules for expression in rule.expressions()
              for name in expression.references.functions}
    called |= {name for _, expression in lets for name in expression.references.functions}
    called |= {name for selector in selectors.values() if selector is not None
               and selector.where is not None for name in selector.where.references.functions}
    return called


def _check_blank_text(document: dict[str, Any], fail: Any) -> None:
    for key in ("title", "description", "rationale", "remediation"):
        # Text people read in reports: the schema's minLength lets invisible text through.
        if isinstance(document.get(key), str) and blank(document[key]):
            raise fail(f"{key} is blank: it holds only whitespace or invisible characters",
                       (key,))


def _compile_selectors(document: dict[str, Any], fail: Any) -> dict[str, Selector | None]:
    selectors: dict[str, Selector | None] = {}
    for key in ("match", "exclude"):
        try:
            selectors[key] = Selector(document[key]) if key in document else None
        except ExpressionError as exc:
            raise fail(f"{key}.where: {exc}", (key, "where")) from None
        selector = selectors[key]
        if selector is not None and selector.where is not None and selector.where.references.vars:
            raise fail(f"{key}.where: var() cannot be used here: 'let' values are computed "
                       "after the policy has selected the resource", (key, "where"))
    return selectors


def _compile_lets(document: dict[str, Any], fail: Any) -> list[tuple[str, Expression]]:
    """The policy's own ``let``: each may use the ones before it."""
    lets: list[tuple[str, Expression]] = []
    for name, source in (document.get("let") or {}).items():
        try:
            expression = Expression(source)
        except ExpressionError as exc:
            raise fail(f"let {name!r}: {exc}", ("let", name)) from None
        unknown = expression.references.vars - {known for known, _ in lets}
        if unknown:
            raise fail(f"let {name!r}: var({sorted(unknown)[0]!r}) is used before it is defined",
                       ("let", name))
        lets.append((name, expression))
    return lets


# -- extends: a policy instantiated under a new id ----------------------------------------

# Keys an extending policy may set; each replaces the extended policy's value.
EXTENSION_KEYS = ("title", "description", "rationale", "remediation", "severity",
                  "enforcement", "controls", "enabled", "overridable", "inline_waivers",
                  "profile", "match", "exclude", "examples")


@dataclass(frozen=True)
class Extension:
    """What an ``extends:`` document says, until the policy it names is loaded."""

    base: str
    parameters: dict[str, Any]
    document: dict[str, Any]
    selectors: dict[str, Selector | None]
    line_of: Any  # (path) -> line in the extending file


def _extension(document: dict[str, Any], selectors: dict[str, Selector | None], file: str,
               line: int, line_of: Any) -> Policy:
    extends = document["extends"]
    placeholder = PolicyInfo(id=document["id"], title=document.get("title", ""),
                             description="", rationale="", remediation="",
                             severity=document.get("severity", "info"),
                             enforcement=document.get("enforcement", "block"),
                             controls=tuple(document.get("controls", ())), file=file)
    return Policy(info=placeholder, line=line, spec=document, rules=[], parameters={},
                  params={}, extension=Extension(extends["policy"],
                                                 dict(extends.get("parameters") or {}),
                                                 document, selectors, line_of))


def assemble(policies: list[Policy]) -> list[Policy]:
    """Check that ids are unique, and instantiate every ``extends:`` policy from the one
    it names (built-in or loaded alongside), in load order."""
    check_unique(policies)
    by_id = {policy.id: policy for policy in policies}
    resolved: dict[str, Policy] = {}

    def resolve(policy: Policy, chain: tuple[str, ...]) -> Policy:
        extension = policy.extension
        if extension is None:
            return policy
        if policy.id in resolved:
            return resolved[policy.id]
        where = extension.line_of(("extends", "policy"))
        if extension.base in chain:
            cycle = " -> ".join((*chain, extension.base))
            raise PolicyError(f"extends: a cycle of policies: {cycle}", policy.info.file, where)
        base = by_id.get(extension.base) or _builtin_by_id().get(extension.base)
        if base is None:
            raise PolicyError(f"extends: no policy with id {extension.base!r} is loaded",
                              policy.info.file, where)
        if base.target == "change":
            raise PolicyError("extends: change policies cannot be extended",
                              policy.info.file, where)
        made = resolved[policy.id] = _instantiate(policy, resolve(base, (*chain, policy.id)))
        return made

    return [resolve(policy, ()) for policy in policies]


def _instantiate(policy: Policy, base: Policy) -> Policy:
    extension = policy.extension
    assert extension is not None
    document = extension.document
    parameters = dict(base.parameters)
    for name, value in extension.parameters.items():
        where = extension.line_of(("extends", "parameters", name))
        parameter = base.parameters.get(name)
        if parameter is None:
            known = ", ".join(sorted(base.parameters)) or "none"
            raise PolicyError(f"extends: policy {base.id!r} has no parameter {name!r} "
                              f"(known: {known})", policy.info.file, where)
        problem = parameter.validate(value)
        if problem is not None:
            raise PolicyError(f"extends: {problem}", policy.info.file, where)
        parameters[name] = replace(parameter, default=copy.deepcopy(value))
    spec = {**base.spec, **{key: document[key] for key in EXTENSION_KEYS if key in document},
            "id": policy.id, "extends": document["extends"]}
    spec.pop("parameters", None)
    info = replace(
        base.info,
        id=policy.id,
        title=document.get("title", base.info.title).strip(),
        description=document.get("description", base.info.description).strip(),
        rationale=document.get("rationale", base.info.rationale).strip(),
        remediation=document.get("remediation", base.info.remediation).strip(),
        severity=document.get("severity", base.info.severity),
        enforcement=document.get("enforcement", base.info.enforcement),
        controls=tuple(document.get("controls", base.info.controls)),
        file=policy.info.file,
        overridable=document.get("overridable", base.info.overridable),
        inline_waivers=document.get("inline_waivers", base.info.inline_waivers),
    )
    return replace(
        base,
        info=info,
        line=policy.line,
        spec=spec,
        parameters=parameters,
        params={name: copy.deepcopy(p.default) for name, p in parameters.items()},
        match=extension.selectors["match"] if "match" in document else base.match,
        exclude=extension.selectors["exclude"] if "exclude" in document else base.exclude,
        enabled=document.get("enabled", base.enabled),
        profile=document.get("profile", base.profile),
        variants={},
        extension=None,
        uses_context=base.uses_context or bool(
            _called([], [], extension.selectors) & CONTEXT_FUNCTIONS),
    )


CHANGE_SELECTOR_KEYS = ("environments", "where")


def _check_change_selectors(document: dict[str, Any], fail: Any) -> None:
    """A change has no kind, name, namespace, labels or file of its own to select by."""
    for key in ("match", "exclude"):
        for name in document.get(key) or {}:
            if name not in CHANGE_SELECTOR_KEYS:
                raise fail(f"{key}.{name}: a change policy selects by "
                           f"{' and '.join(CHANGE_SELECTOR_KEYS)} only", (key, name))


def _compile_parameters(document: dict[str, Any], fail: Any,
                        trusted: bool = False) -> dict[str, Parameter]:
    parameters: dict[str, Parameter] = {}
    for name, spec in document.get("parameters", {}).items():
        schema = spec.get("schema")
        if trusted:
            parameters[name] = Parameter(name, spec["description"], spec["default"], schema)
            continue
        if schema is not None:
            import jsonschema
            from jsonschema.exceptions import SchemaError

            try:
                jsonschema.Draft202012Validator.check_schema(schema)
            except SchemaError as exc:
                raise fail(
                    f"parameter {name!r}: invalid JSON Schema: {exc.message}",
                    ("parameters", name, "schema"),
                ) from None
        parameter = Parameter(name, spec["description"], spec["default"], schema)
        problem = parameter.validate(parameter.default)
        if problem is not None:
            raise fail(f"default of {problem}", ("parameters", name, "default"))
        parameters[name] = parameter
    return parameters


def _check_param_references(
    document: dict[str, Any],
    rules: list[Rule],
    selectors: dict[str, Selector | None],
    parameters: dict[str, Parameter],
    fail: Any,
) -> None:
    for index, rule in enumerate(rules):
        for name, key in sorted(rule.param_references().items()):
            if name not in parameters:
                raise fail(f"rules[{index}]: unknown parameter {name!r}", ("rules", index, key))
    for key, selector in selectors.items():
        if selector is not None and selector.where is not None:
            for name in sorted(selector.where.references.params):
                if name not in parameters:
                    raise fail(f"{key}.where: unknown parameter {name!r}", (key, "where"))


def load_policy_text(text: str, file: str, trusted: bool = False) -> list[Policy]:
    try:
        located = load_located(text, file)
    except YamlInputError as exc:
        raise PolicyError(exc.message, exc.file, exc.line) from None
    return [
        compile_policy(document.data, located, document.index, trusted)
        for document in located.documents
        if document.data is not None
    ]


def policy_files(directory: str, source: RuleSource | None = None) -> list[str]:
    """The ``*.yaml``/``*.yml`` files under a directory of ``source`` (the working tree by
    default), or the file itself when ``directory`` is a file, in ``os.walk`` order: a
    directory's files by name, then its subdirectories by name; hidden and linked
    subdirectories are not entered."""
    files = source or disk()
    if files.is_file(directory):
        return [directory]  # --policies FILE: that file alone, whatever its suffix
    found: list[str] = []

    def walk(current: str) -> None:
        subdirs: list[str] = []
        for name in files.list_dir(current):
            path = os.path.join(current, name)
            if files.is_dir(path):
                if not name.startswith(".") and not files.is_link(path):
                    subdirs.append(path)
            elif name.endswith((".yaml", ".yml")):
                found.append(path)
        for subdir in subdirs:
            walk(subdir)

    walk(directory)
    return found


def load_directory(directory: str, source: RuleSource | None = None) -> list[Policy]:
    """Every policy under a directory of ``source`` (the working tree by default), or in
    one file."""
    from gate.yamlio import decode

    files = source or disk()
    if not files.is_dir(directory) and not files.is_file(directory):
        raise PolicyError(f"policy file or directory not found: {directory}")
    policies: list[Policy] = []
    for path in policy_files(directory, files):
        name = files.name(path)
        try:
            raw = files.read_bytes(path)
        except OSError as exc:
            raise PolicyError(f"cannot read: {exc.strerror or exc}", name) from None
        try:
            text = decode(raw, name)
        except YamlInputError as exc:
            raise PolicyError(exc.message, exc.file, exc.line) from None
        policies.extend(load_policy_text(text, name))
    return policies


def builtin_files() -> Iterator[tuple[str, str]]:
    """(display name, text) of each built-in policy file, in name order."""
    package = importlib_resources.files("gate.policies")
    entries = sorted(
        (entry for entry in package.iterdir() if entry.name.endswith((".yaml", ".yml"))),
        key=lambda entry: entry.name,
    )
    for entry in entries:
        yield BUILTIN_PREFIX + entry.name, entry.read_text(encoding="utf-8")


def load_builtin() -> list[Policy]:
    policies: list[Policy] = []
    for name, text in builtin_files():
        policies.extend(load_policy_text(text, name, trusted=True))
    return policies


@cache
def _builtin_by_id() -> dict[str, Policy]:
    """The built-in pack, for ``extends:`` of a built-in policy the run does not load."""
    return {policy.id: policy for policy in load_builtin()}


def check_unique(policies: list[Policy]) -> None:
    seen: dict[str, Policy] = {}
    for policy in policies:
        first = seen.get(policy.id)
        if first is not None:
            raise PolicyError(
                f"duplicate policy id {policy.id!r} "
                f"(first defined at {first.info.file}:{first.line})",
                policy.info.file, policy.line,
            )
        seen[policy.id] = policy
