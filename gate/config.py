"""Configuration: ``.gate.yaml`` (or ``--config FILE``), validated by schema.

Read through a :class:`~gate.rulesource.RuleSource`: the working tree by default,
or the base of a change (``gate diff --rules-from base``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gate.environments import EnvironmentConfig, parse_environments
from gate.errors import ConfigError
from gate.exclude import Exclusions, parse_exclude
from gate.policy import Policy, schema_error, schema_validator
from gate.results import SEVERITIES
from gate.rulesource import (
    CONFIG_NAMES,
    WAIVERS_NAME,
    RuleSource,
    disk,
    repository_root,
)
from gate.yamlio import LocatedYaml, YamlInputError, decode, load_located

if TYPE_CHECKING:
    from gate.calendar import Calendar

__all__ = ["CONFIG_NAMES", "WAIVERS_NAME", "Config", "apply_config", "find_config",
           "load_config", "read_settings", "repository_root"]


@dataclass(frozen=True)
class OverrideConfig:
    """Emergency overrides: off unless the config allows them."""

    allowed: bool = False
    trailer: str = "Gate-Override"
    ticket_pattern: str = "[A-Z][A-Z0-9]*-[0-9]+"
    commits: str = "head"  # or "any"


@dataclass
class Config:
    file: str | None = None
    builtin: bool = True
    policy_dirs: list[str] = field(default_factory=list)
    fail_on: str = SEVERITIES[-1]
    profile: str | None = None  # Pod Security Standards level: baseline or restricted
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    environments: EnvironmentConfig = field(default_factory=EnvironmentConfig)
    calendar: Calendar | None = None
    waivers: str | None = None  # path of the waivers file, if any
    overrides: OverrideConfig = field(default_factory=OverrideConfig)
    release_manifest: str | None = None  # repository path
    exclude: Exclusions = field(default_factory=Exclusions)  # paths no run reads
    located: LocatedYaml | None = field(default=None, repr=False)
    path: str | None = None  # the file as opened (``file`` is its display name)
    # Where the config was read, and so its policy directories and waivers (paths of it).
    source: RuleSource | None = field(default=None, repr=False, compare=False)

    @property
    def files(self) -> RuleSource:
        """The source this config's paths belong to (the working tree by default)."""
        return self.source if self.source is not None else disk()

    def line(self, *path: str | int) -> int | None:
        return self.located.line(0, path) if self.located else None

    def error(self, message: str, *path: str | int) -> ConfigError:
        return ConfigError(message, self.file, self.line(*path))


def find_config(source: RuleSource | None = None) -> str | None:
    """The nearest config file from the working directory up to the repository root."""
    return (source or disk()).find_config()


def read_settings(path: str, name: str, what: str,
                  source: RuleSource | None = None) -> LocatedYaml:
    """A settings file (config, waivers) parsed with lines; ConfigError if missing or bad."""
    files = source or disk()
    if not files.is_file(path):
        raise ConfigError(f"{what} not found", name)
    try:
        try:
            raw = files.read_bytes(path)
        except OSError as exc:
            raise YamlInputError(f"cannot read: {exc.strerror or exc}", name) from None
        return load_located(decode(raw, name), name)
    except YamlInputError as exc:
        raise ConfigError(exc.message, exc.file, exc.line) from None


def load_config(path: str | None, source: RuleSource | None = None) -> Config:
    """Load and validate a config file (a path of ``source``, by default the working
    tree); no path means the defaults."""
    files = source or disk()
    if path is None:
        return Config(waivers=_default_waivers(files, None), source=files)
    name = files.name(path)
    located = read_settings(path, name, "config file", files)
    documents = [d for d in located.documents if d.data is not None]
    if len(documents) > 1:
        raise ConfigError("a config file holds one YAML document", name, documents[1].line)
    data = documents[0].data if documents else {}
    config = Config(file=name, located=located, path=path, source=files)
    if not isinstance(data, dict):
        raise config.error(f"config must be a mapping, not a {type(data).__name__}")
    found = schema_error(schema_validator("config.schema.json"), data)
    if found is not None:
        raise config.error(found[1], *found[0])
    base = os.path.dirname(path)
    config.builtin = data.get("builtin", True)
    config.policy_dirs = [os.path.join(base, d) for d in data.get("policy_dirs", [])]
    config.fail_on = data.get("fail_on", SEVERITIES[-1])
    config.profile = data.get("profile")
    config.policies = data.get("policies", {})
    config.environments = parse_environments(data.get("environments"), name, config.line)
    if "calendar" in data:
        from gate.calendar import parse_calendar

        config.calendar = parse_calendar(data["calendar"], name, config.line,
                                         prefix=("calendar",))
    waivers = data.get("waivers")
    if isinstance(waivers, str):
        config.waivers = os.path.join(base, waivers)
        if not files.is_file(config.waivers):
            raise config.error(f"waivers file not found: {waivers}", "waivers")
    elif waivers is None:
        config.waivers = _default_waivers(files, base)
    config.overrides = _overrides(config, data.get("overrides", {}))
    config.release_manifest = data.get("release_manifest")
    config.exclude = parse_exclude(data.get("exclude"), name, config.line)
    return config


def _default_waivers(files: RuleSource, directory: str | None) -> str | None:
    """``waivers.yaml`` beside the config (or in the repository root), when present."""
    if directory is None:
        directory = files.home()
    candidate = os.path.join(directory, WAIVERS_NAME)
    return candidate if files.is_file(candidate) else None


def _overrides(config: Config, data: dict[str, Any]) -> OverrideConfig:
    from gate.regexes import RegexError, compile_regex

    settings = OverrideConfig(**{key.replace("-", "_"): value for key, value in data.items()})
    try:
        compile_regex(settings.ticket_pattern)
    except RegexError as exc:
        raise config.error(f"overrides.ticket_pattern: invalid regular expression: {exc}",
                           "overrides", "ticket_pattern") from None
    return settings


def apply_config(config: Config, policies: list[Policy]) -> list[Policy]:
    """The enabled policies, each with its configured settings and parameters."""
    by_id = {policy.id: policy for policy in policies}
    for policy_id in config.policies:
        if policy_id not in by_id:
            known = ", ".join(sorted(by_id)) or "none loaded"
            raise config.error(
                f"policies: unknown policy id {policy_id!r} (known: {known})", "policies", policy_id
            )
    configured: list[Policy] = []
    for policy in policies:
        settings = {**profile_settings(config.profile, policy.profile),
                    **config.policies.get(policy.id, {})}
        base = _configure(config, policy, settings, ("policies", policy.id))
        variants = {
            environment: _configure(
                config, base, overrides, ("policies", policy.id, "environments", environment)
            )
            for environment, overrides in sorted(settings.get("environments", {}).items())
        }
        if base.enabled or any(variant.enabled for variant in variants.values()):
            base.variants = variants
            configured.append(base)
    return configured


PROFILE_LEVELS = ("baseline", "restricted")  # each level includes the ones before it


def profile_settings(profile: str | None, level: str | None) -> dict[str, Any]:
    """What ``profile:`` in the config does to a policy of one Pod Security Standards
    level: within the profile, it blocks; above it, it is off. Without a profile each
    policy keeps its own enforcement (baseline blocks, restricted warns). Settings under
    ``policies.<id>`` still override."""
    if profile is None or level is None:
        return {}
    if PROFILE_LEVELS.index(level) <= PROFILE_LEVELS.index(profile):
        return {"enabled": True, "enforcement": "block"}
    return {"enabled": False}


def _configure(
    config: Config, policy: Policy, settings: dict[str, Any], where: tuple[str, ...]
) -> Policy:
    """``policy`` with one block of settings (the policy's own, or one environment's)."""
    params = settings.get("parameters", {})
    for name, value in params.items():
        parameter = policy.parameters.get(name)
        at = (*where, "parameters", name)
        if parameter is None:
            known = ", ".join(sorted(policy.parameters)) or "none"
            raise config.error(
                f"policy {policy.id!r} has no parameter {name!r} (known: {known})", *at
            )
        problem = parameter.validate(value)
        if problem is not None:
            raise config.error(f"policy {policy.id!r}: {problem}", *at)
    return policy.configured(
        enabled=settings.get("enabled"),
        severity=settings.get("severity"),
        enforcement=settings.get("enforcement"),
        params=params,
        overridable=settings.get("overridable"),
        inline_waivers=settings.get("inline_waivers"),
    )
