"""One policy document compiled: validated against the policy schema and gate's own
rules (a broken policy is refused when it loads, with its file and line), its
expressions compiled once.
"""
from __future__ import annotations

import copy
from typing import Any

from gate.blank import blank
from gate.errors import PolicyError
from gate.evaluation.context import CONTEXT_FUNCTIONS
from gate.evaluation.expressions import Expression, ExpressionError
from gate.evaluation.match import Selector
from gate.evaluation.policy import Extension, Policy
from gate.evaluation.policy_parameters import check_param_references, compile_parameters
from gate.evaluation.rules.base import Rule, RuleError
from gate.loading.yamlio import LocatedYaml, YamlInputError, load_located
from gate.results import PolicyInfo
from gate.schema_validation import schema_error, schema_validator

API_VERSION = "gate.dev/v1"


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

    parameters = compile_parameters(document, fail, trusted)
    lets = _compile_lets(document, fail)
    shared = frozenset(name for name, _ in lets)
    rules: list[Rule] = []
    for index, spec in enumerate(document["rules"]):
        try:
            rules.append(Rule(spec, index, shared))
        except RuleError as exc:
            key_path: tuple[str | int, ...] = ("rules", index) + ((exc.key,) if exc.key else ())
            raise fail(f"rules[{index}]: {exc}", key_path) from None
    check_param_references(document, rules, selectors, parameters, fail)
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

    called = called_functions(rules, lets, selectors)
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


def called_functions(rules: list[Rule], lets: list[tuple[str, Expression]],
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


CHANGE_SELECTOR_KEYS = ("environments", "where")


def _check_change_selectors(document: dict[str, Any], fail: Any) -> None:
    """A change has no kind, name, namespace, labels or file of its own to select by."""
    for key in ("match", "exclude"):
        for name in document.get(key) or {}:
            if name not in CHANGE_SELECTOR_KEYS:
                raise fail(f"{key}.{name}: a change policy selects by "
                           f"{' and '.join(CHANGE_SELECTOR_KEYS)} only", (key, name))


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
