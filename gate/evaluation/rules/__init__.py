"""Rule kinds: one module each, chosen by the key a rule uses (``assert``, ``schema``).

A rule kind module defines ``compile_check(rule: dict) -> Check``.  What all
kinds share (``when``, ``for_each``, ``let``, ``message``, ``field``) lives in
:mod:`gate.evaluation.rules.base`.
"""
from __future__ import annotations

RULE_KINDS: dict[str, str] = {
    "assert": "gate.evaluation.rules.assertion",
    "schema": "gate.evaluation.rules.schema",
}
