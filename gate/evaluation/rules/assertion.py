"""``assert``: a JMESPath expression that must be true for each item."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gate.evaluation.expressions import Expression
from gate.evaluation.rules.base import Violation, truthy


class AssertCheck:
    provided_vars: frozenset[str] = frozenset()

    def __init__(self, source: str) -> None:
        self.expression = Expression(source)
        self.expressions = (self.expression,)

    def check(self, item: Any) -> Iterator[Violation]:
        if not truthy(self.expression.search(item)):
            yield Violation()


def compile_check(spec: dict[str, Any]) -> AssertCheck:
    return AssertCheck(spec["assert"])
