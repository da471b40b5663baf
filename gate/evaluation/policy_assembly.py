"""The policies of a run made one set: ids unique, and every ``extends:`` policy
instantiated from the one it names (built-in or loaded alongside).
"""
from __future__ import annotations

import copy
from dataclasses import replace

from gate.errors import PolicyError
from gate.evaluation.context import CONTEXT_FUNCTIONS
from gate.evaluation.policy import Policy
from gate.evaluation.policy_compile import called_functions
from gate.evaluation.policy_loading import builtin_by_id

# -- extends: a policy instantiated under a new id ----------------------------------------

# Keys an extending policy may set; each replaces the extended policy's value.
EXTENSION_KEYS = ("title", "description", "rationale", "remediation", "severity",
                  "enforcement", "controls", "enabled", "overridable", "inline_waivers",
                  "profile", "match", "exclude", "examples")


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
        base = by_id.get(extension.base) or builtin_by_id().get(extension.base)
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
            called_functions([], [], extension.selectors) & CONTEXT_FUNCTIONS),
    )


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
