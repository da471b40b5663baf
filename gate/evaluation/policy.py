"""Policies as the engine runs them: the compiled policy with the configuration in force,
judging one resource (selection, ``let``, rules, findings and inline waivers) and a
change policy's evidence.

Loading: gate/evaluation/policy_compile.py (one document),
gate/evaluation/policy_loading.py (files and the built-in pack),
gate/evaluation/policy_assembly.py (unique ids, ``extends``).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from jmespath import exceptions as jexc

from gate.evaluation.expressions import Expression
from gate.evaluation.functions import EvaluationScope
from gate.evaluation.inline_waivers import INLINE_PREFIX, inline_reason
from gate.evaluation.match import Selector
from gate.evaluation.policy_parameters import Parameter
from gate.evaluation.rules.base import Rule
from gate.loading import fieldpath
from gate.loading.resources import Resource
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

# What evaluating an expression or schema on hostile data may raise; each becomes
# a finding on that resource instead of ending the run.
EVALUATION_ERRORS = (jexc.JMESPathError, TypeError, ValueError, RecursionError)


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
    # evaluation must then see the resource's whole context (gate/evaluation/context.py).
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


@dataclass(frozen=True)
class Extension:
    """What an ``extends:`` document says, until the policy it names is loaded."""

    base: str
    parameters: dict[str, Any]
    document: dict[str, Any]
    selectors: dict[str, Selector | None]
    line_of: Any  # (path) -> line in the extending file


def _describe(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "the resource is nested too deeply to evaluate"
    return " ".join(str(exc).split()) or type(exc).__name__
