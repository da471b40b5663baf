"""The ``releases:`` settings of ``.gate.yaml``: which tags are releases, the
environments of a release in promotion order, and how a microservice is named."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gate.errors import ConfigError
from gate.evaluation.regexes import RegexError, compile_regex

DEFAULT_TAG_PATTERN = r"v[0-9]+\.[0-9]+\.[0-9]+"
IMAGE = "image"


@dataclass(frozen=True)
class ReleaseSettings:
    tag_pattern: str = DEFAULT_TAG_PATTERN
    # Promotion order of the environments a release shows; empty: the configured ones.
    environments: tuple[str, ...] = ()
    certified_in: str = "staging"
    production: tuple[str, ...] = ("prod", "production")
    # "image": a microservice is its image repository; else the value of this label.
    microservice_label: str | None = None
    _pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def is_release_tag(self, name: str) -> bool:
        pattern = self._pattern or compile_regex(self.tag_pattern)
        return pattern.fullmatch(name) is not None

    @property
    def microservice_rule(self) -> str:
        """The rule in words, as reports state it."""
        if self.microservice_label is None:
            return "the image repository"
        return (f"the {self.microservice_label!r} label of the pod template (else of the "
                "workload; the image repository where neither has it)")


def parse_releases(data: dict[str, Any] | None, file: str | None,
                   line_of: Callable[..., int | None]) -> ReleaseSettings:
    """The settings from the (schema-checked) ``releases`` mapping; ConfigError if bad."""
    if not data:
        return ReleaseSettings()
    pattern_text = data.get("tag_pattern", DEFAULT_TAG_PATTERN)
    try:
        pattern = compile_regex(pattern_text)
    except RegexError as exc:
        raise ConfigError(f"releases.tag_pattern: invalid regular expression: {exc}", file,
                          line_of("releases", "tag_pattern")) from None
    rule = data.get("microservice", IMAGE)
    label = rule["label"] if isinstance(rule, dict) else None
    certified_in = data.get("certified_in", "staging")
    production = tuple(data.get("production", ("prod", "production")))
    if certified_in in production:
        raise ConfigError(f"releases.certified_in: {certified_in!r} is a production "
                          "environment; certification happens before production", file,
                          line_of("releases", "certified_in"))
    return ReleaseSettings(
        tag_pattern=pattern_text, environments=tuple(data.get("environments", ())),
        certified_in=certified_in, production=production, microservice_label=label,
        _pattern=pattern)
